/* berth.conf's run defaults: cgroup-parent and seccomp-profile apply to run when its flags do
 * not say, and BERTH_CGROUP_PARENT / BERTH_SECCOMP_PROFILE and the flags come first. berth
 * reads the berth.conf of its installation prefix, which must be root's all the way up, so
 * berth and berth-monitor are copied into a prefix under /run (not /tmp, which anyone may
 * write) for the test and removed after it. */
#include "harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *prefix;
static bool cgroups_used;
static void uninstall(void);

/* also after a failed test: the installation and the cgroups go */
static void fini(void)
{
    uninstall();
    if (cgroups_used)
        h_cgroup_parent_fini();
    cgroups_used = false;
    h_suite_fini();
}

TestSuite(berth_conf, .init = h_suite_init, .fini = fini, .timeout = 180);

/* A mkdir filter: the container's mkdir fails with EPERM under it, and works under the
 * builtin profile. */
static const char deny_mkdir[] =
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
    "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}\n";

static void copy_exec(const char *from, const char *to)
{
    size_t len;
    _cleanup_free_ char *bytes = h_slurp(from, &len);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    cr_assert_geq(fd, 0, "%s", to);
    cr_assert_eq(write_all(fd, bytes, len), 0);
    close(fd);
}

/* An installation of berth under /run with this berth.conf (its text). */
static void install(const char *conf_text)
{
    char tmpl[] = "/run/berth-it-conf.XXXXXX";
    cr_assert(mkdtemp(tmpl), "mkdtemp");
    prefix = xstrdup(tmpl);
    cr_assert_eq(chmod(prefix, 0755), 0);
    _cleanup_free_ char *bin = xasprintf("%s/bin", prefix);
    _cleanup_free_ char *etc = xasprintf("%s/etc/berth", prefix);
    h_mkdirs(bin, 0755);
    h_mkdirs(etc, 0755);
    const char *berth = getenv("BERTH_IT_BERTH");
    _cleanup_free_ char *berth_copy = xasprintf("%s/berth", bin);
    copy_exec(berth, berth_copy);
    _cleanup_free_ char *monitor = xasprintf("%s-monitor", berth);
    _cleanup_free_ char *monitor_copy = xasprintf("%s/berth-monitor", bin);
    copy_exec(monitor, monitor_copy);
    _cleanup_free_ char *profile = xasprintf("%s/deny-mkdir.json", etc);
    h_write_file(profile, deny_mkdir, 0644);
    _cleanup_free_ char *conf = xasprintf("%s/berth.conf", etc);
    h_write_file(conf, conf_text, 0644);
}

static void uninstall(void)
{
    if (prefix)
        h_remove_tree(prefix);
    free(prefix);
    prefix = NULL;
}

/* The installed berth with the test's stores, env (NULL-terminated, may be NULL), then args. */
static void run_installed(struct h_result *r, const char *const *env, const char *const *args)
{
    const char *argv[40];
    _cleanup_free_ char *exe = xasprintf("%s/bin/berth", prefix);
    size_t n = 0;
    argv[n++] = exe;
    argv[n++] = "--root";
    argv[n++] = h_data_root();
    argv[n++] = "--runroot";
    argv[n++] = h_runroot();
    for (size_t i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct h_opts o = {.env = env};
    h_execv(r, &o, argv);
}

/* The container's cgroup path in its memory (v1) or unified (v2) hierarchy. */
static char *cgroup_of(const struct h_result *r)
{
    const char *v = h_val(r, "cat:/proc/self/cgroup");
    const char *m = strstr(v, ":memory:");
    const char *p = m ? m + strlen(":memory:") : strstr(v, "0::");
    cr_assert(p, "%s", v);
    if (!m)
        p += 3;
    return strndup(p, strcspn(p, "\\"));
}

Test(berth_conf, cgroup_parent_is_runs_default_and_env_and_flag_come_first)
{
    h_cgroup_parent_init("berth-it-conf");
    cgroups_used = true;
    _cleanup_free_ char *conf_parent = xasprintf("%s/conf", h_cgroup_parent());
    _cleanup_free_ char *text = xasprintf("# run's default\ncgroup-parent = %s\n", conf_parent);
    install(text);
    const char *const probe[] = {"run", "--rm", H_IMAGE, "/probe", "cat", "/proc/self/cgroup",
                                 NULL};
    struct h_result r;
    run_installed(&r, NULL, probe);
    h_assert_status(&r, 0);
    _cleanup_free_ char *got = cgroup_of(&r);
    cr_assert(str_has_prefix(got, conf_parent) && got[strlen(conf_parent)] == '/',
              "cgroup %s, not under %s", got, conf_parent);

    _cleanup_free_ char *env_parent = xasprintf("%s/env", h_cgroup_parent());
    _cleanup_free_ char *env_var = xasprintf("BERTH_CGROUP_PARENT=%s", env_parent);
    const char *const env[] = {env_var, NULL};
    run_installed(&r, env, probe);
    h_assert_status(&r, 0);
    free(got);
    got = cgroup_of(&r);
    cr_assert(str_has_prefix(got, env_parent), "cgroup %s, not under %s", got, env_parent);

    _cleanup_free_ char *flag_parent = xasprintf("%s/flag", h_cgroup_parent());
    _cleanup_free_ char *flag = xasprintf("--cgroup-parent=%s", flag_parent);
    const char *const with_flag[] = {
        "run", "--rm", flag, H_IMAGE, "/probe", "cat", "/proc/self/cgroup", NULL};
    run_installed(&r, env, with_flag);
    h_assert_status(&r, 0);
    free(got);
    got = cgroup_of(&r);
    cr_assert(str_has_prefix(got, flag_parent), "cgroup %s, not under %s", got, flag_parent);
}

Test(berth_conf, seccomp_profile_is_runs_default_and_env_and_flag_come_first)
{
    install("");
    _cleanup_free_ char *profile = xasprintf("%s/etc/berth/deny-mkdir.json", prefix);
    _cleanup_free_ char *conf = xasprintf("%s/etc/berth/berth.conf", prefix);
    _cleanup_free_ char *text = xasprintf("seccomp-profile=%s\n", profile);
    h_write_file(conf, text, 0644);
    const char *const probe[] = {"run", "--rm", H_IMAGE, "/probe", "mkdir", "/tmp/d", NULL};
    struct h_result r;
    run_installed(&r, NULL, probe);
    h_assert_status(&r, 0);
    h_assert_val(&r, "mkdir:/tmp/d", "EPERM");

    const char *const env[] = {"BERTH_SECCOMP_PROFILE=builtin", NULL};
    run_installed(&r, env, probe);
    h_assert_status(&r, 0);
    h_assert_val(&r, "mkdir:/tmp/d", "ok");

    const char *const with_flag[] = {"run",   "--rm",   "--security-opt", "seccomp=builtin",
                                     H_IMAGE, "/probe", "mkdir",          "/tmp/d",
                                     NULL};
    run_installed(&r, NULL, with_flag);
    h_assert_status(&r, 0);
    h_assert_val(&r, "mkdir:/tmp/d", "ok");
}

Test(berth_conf, bad_values_are_refused_naming_the_key)
{
    install("cgroup-parent=relative/parent\n");
    const char *const args[] = {"run", "--rm", H_IMAGE, "/probe", "id", NULL};
    struct h_result r;
    run_installed(&r, NULL, args);
    h_assert_status(&r, 125);
    cr_assert(strstr(r.err, "cgroup-parent must be an absolute path: relative/parent"), "%s",
              r.err);
    uninstall();
    install("");
    const char *const env[] = {"BERTH_SECCOMP_PROFILE=relative.json", NULL};
    run_installed(&r, env, args);
    h_assert_status(&r, 125);
    cr_assert(strstr(r.err, "BERTH_SECCOMP_PROFILE must be an absolute path, \"builtin\" or "
                            "\"unconfined\": relative.json"),
              "%s", r.err);
}
