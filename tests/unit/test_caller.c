/* Who berth acts for (launcher/caller.c) and the files that may steer it (conf/). */
#include "conf/conf.h"
#include "launcher/launcher.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static struct ident worker = {.uid = 4242, .gid = 4242};

Test(caller, store_flags_from_a_handed_over_caller_are_refused, .init = cr_redirect_stderr)
{
    struct cli cli = {.caller = &worker, .command = "ps", .needs_root = true};
    cli.global.runroot = "/tmp/elsewhere";
    int code = -1;
    cr_assert_not(cli_admit(&cli, &code));
    cr_assert_eq(code, 125);
    fflush(stderr);
    cr_assert_stderr_eq_str("berth: --root and --runroot are root's: a caller handed over by a "
                            "setuid launcher uses the stores of berth.conf\n");
}

Test(caller, environment_does_not_move_a_handed_over_callers_stores)
{
    setenv("BERTH_RUNROOT", "/tmp/elsewhere", 1);
    setenv("BERTH_ROOT", "/tmp/elsewhere-data", 1);
    struct cli cli = {.caller = &worker, .command = "ps", .needs_root = true};
    int code = -1;
    cr_assert(cli_admit(&cli, &code));
    cr_assert_str_eq(cli_runroot(&cli), "/run/berth");
    cr_assert_str_eq(cli_root(&cli), "/var/lib/berth");
    free(cli.root), free(cli.runroot);
    cli.root = cli.runroot = NULL;
    /* root keeps them */
    struct cli rootcli = {.root_caller = true, .command = "ps", .needs_root = true};
    cr_assert(cli_admit(&rootcli, &code));
    cr_assert_str_eq(cli_runroot(&rootcli), "/tmp/elsewhere");
    caller_free(&rootcli);
    unsetenv("BERTH_RUNROOT");
    unsetenv("BERTH_ROOT");
}

Test(caller, a_non_root_caller_is_told_once_with_dockers_codes, .init = cr_redirect_stderr)
{
    struct cli run = {.command = "run", .needs_root = true};
    int code = -1;
    cr_assert_not(cli_admit(&run, &code));
    cr_assert_eq(code, 125, "run exits 125 when the daemon cannot be reached");
    caller_free(&run);
    struct cli ps = {.command = "ps", .needs_root = true};
    cr_assert_not(cli_admit(&ps, &code));
    cr_assert_eq(code, 1);
    caller_free(&ps);
    struct cli version = {.command = "version"};
    cr_assert(cli_admit(&version, &code), "version needs no root");
    caller_free(&version);
    fflush(stderr);
    char buf[1024] = {0};
    FILE *f = cr_get_redirected_stderr();
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    cr_assert(n > 0);
    cr_assert(strstr(buf, "berth: permission denied while trying to reach berth's stores "
                          "/run/berth and /var/lib/berth: berth run runs as root"),
              "%s", buf);
    size_t lines = 0;
    for (char *p = buf; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, 2, "one line per refusal: %s", buf);
    cr_assert(strstr(buf, "berth ps runs as root"), "%s", buf);
}

Test(caller, caller_env_answers_dash_e_name_from_the_callers_environment)
{
    struct cli cli = {.caller = &worker};
    strv_push(&cli.caller_env, "JAVA_HOME=/opt/jdk");
    strv_push(&cli.caller_env, "JAVA=x");
    cr_assert_str_eq(cli_getenv(&cli, "JAVA_HOME"), "/opt/jdk");
    cr_assert_str_eq(cli_getenv(&cli, "JAVA"), "x");
    cr_assert_null(cli_getenv(&cli, "JAV"));
    struct strv env = {0};
    cli_env_add(&cli, &env, "JAVA_HOME");
    cli_env_add(&cli, &env, "MISSING");
    cr_assert_eq(env.n, 1);
    cr_assert_str_eq(env.v[0], "JAVA_HOME=/opt/jdk");
    strv_free(&env);
    strv_free(&cli.caller_env);
}

/* ---- conf ---- */

Test(conf, parse_takes_key_value_lines_comments_and_spaces)
{
    struct conf c;
    struct berr err = {0};
    cr_assert_eq(conf_parse("# berth\n\nroot = /srv/berth \nrunroot=/run/b\nroot=/x\n", &c, &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(conf_get(&c, "root"), "/x", "the last one wins");
    cr_assert_str_eq(conf_get(&c, "runroot"), "/run/b");
    cr_assert_null(conf_get(&c, "other"));
    conf_free(&c);
    cr_assert_eq(conf_parse("root=/a\njunk\n", &c, &err), -1);
    cr_assert_str_eq(err.msg, "line 2: not key=value: junk");
}

Test(conf, berth_conf_sits_in_etc_of_the_binarys_prefix)
{
    char *p = conf_berth_path("/usr/bin/berth");
    cr_assert_str_eq(p, "/etc/berth/berth.conf");
    free(p);
    p = conf_berth_path("/usr/local/bin/berth");
    cr_assert_str_eq(p, "/usr/local/etc/berth/berth.conf");
    free(p);
    p = conf_berth_path("/opt/berth/bin/berth");
    cr_assert_str_eq(p, "/opt/berth/etc/berth/berth.conf");
    free(p);
}

/* An installed berth reads the berth.conf of the SYSCONFDIR it was built for, whatever its
 * prefix; a berth elsewhere (its build tree, a copied tree) the one under its own prefix. */
Test(conf, installed_berth_reads_the_compiled_in_sysconfdir)
{
    char *p = conf_berth_path_at("/opt/b/bin/berth", "/opt/b/bin", "/etc");
    cr_assert_str_eq(p, "/etc/berth/berth.conf");
    free(p);
    p = conf_berth_path_at("/opt/b/bin/worker-launcher", "/opt/b/bin", "/srv/etc");
    cr_assert_str_eq(p, "/srv/etc/berth/berth.conf");
    free(p);
    p = conf_berth_path_at("/home/me/berth/build/berth", "/opt/b/bin", "/etc");
    cr_assert_str_eq(p, "/home/me/berth/etc/berth/berth.conf", "outside BINDIR: its own prefix");
    free(p);
    p = conf_berth_path(BERTH_BINDIR "/berth");
    cr_assert_str_eq(p, BERTH_SYSCONFDIR "/berth/berth.conf");
    free(p);
}

static char *make_prefix(mode_t dirmode)
{
    char tmpl[] = "/run/berth-conf-test.XXXXXX";
    cr_assert(mkdtemp(tmpl), "%s", strerror(errno));
    chmod(tmpl, 0755);
    char *etc = xasprintf("%s/etc", tmpl);
    char *berth = xasprintf("%s/etc/berth", tmpl);
    cr_assert_eq(mkdir(etc, 0755), 0);
    cr_assert_eq(mkdir(berth, dirmode), 0);
    chmod(berth, dirmode);
    free(etc);
    free(berth);
    return xstrdup(tmpl);
}

static void write_conf(const char *prefix, const char *text, mode_t mode)
{
    char *path = xasprintf("%s/etc/berth/berth.conf", prefix);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
    free(path);
}

/* berth.conf holding text is refused, with msg in the error. */
static void assert_conf_refused(const char *prefix, const char *exe, const char *text,
                                const char *msg)
{
    struct berth_conf c;
    struct berr err = {0};
    write_conf(prefix, text, 0644);
    cr_assert_eq(conf_berth_read(exe, &c, &err), -1, "taken: %s", text);
    cr_assert(strstr(err.msg, msg), "%s", err.msg);
}

static void remove_prefix(char *prefix)
{
    struct berr err;
    remove_tree_at(AT_FDCWD, prefix, &err);
    free(prefix);
}

Test(conf, a_root_owned_berth_conf_sets_the_stores)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to make a root-owned directory chain");
    char *prefix = make_prefix(0755);
    write_conf(prefix, "root=/srv/data\nrunroot=/run/state\n", 0644);
    char *exe = xasprintf("%s/bin/berth", prefix);
    struct berth_conf c;
    struct berr err = {0};
    cr_assert_eq(conf_berth_read(exe, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.root, "/srv/data");
    cr_assert_str_eq(c.runroot, "/run/state");
    berth_conf_free(&c);
    free(exe);
    remove_prefix(prefix);
}

Test(conf, a_berth_conf_others_can_write_is_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to make a root-owned directory chain");
    char *prefix = make_prefix(0777);
    write_conf(prefix, "root=/srv/data\n", 0644);
    char *exe = xasprintf("%s/bin/berth", prefix);
    struct berth_conf c;
    struct berr err = {0};
    cr_assert_eq(conf_berth_read(exe, &c, &err), -1);
    cr_assert(strstr(err.msg, "etc/berth must not be group or world writable, but is 777"), "%s",
              err.msg);
    remove_prefix(prefix);
    free(exe);
    prefix = make_prefix(0755);
    write_conf(prefix, "root=/srv/data\n", 0664);
    cr_assert_eq(conf_berth_read(exe = xasprintf("%s/bin/berth", prefix), &c, &err), -1);
    cr_assert(strstr(err.msg, "berth.conf must not be group or world writable, but is 664"), "%s",
              err.msg);
    free(exe);
    remove_prefix(prefix);
}

Test(conf, unknown_keys_and_relative_paths_are_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to make a root-owned directory chain");
    char *prefix = make_prefix(0755);
    char *exe = xasprintf("%s/bin/berth", prefix);
    assert_conf_refused(prefix, exe, "rootdir=/srv\n", "unknown key rootdir");
    assert_conf_refused(prefix, exe, "runroot=run/x\n", "runroot must be an absolute path: run/x");
    free(exe);
    remove_prefix(prefix);
}

Test(conf, run_defaults_are_read_and_checked)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to make a root-owned directory chain");
    char *prefix = make_prefix(0755);
    char *exe = xasprintf("%s/bin/berth", prefix);
    struct berth_conf c;
    struct berr err = {0};
    write_conf(prefix, "cgroup-parent=/storm\nseccomp-profile=/etc/berth/seccomp.json\n", 0644);
    cr_assert_eq(conf_berth_read(exe, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.cgroup_parent, "/storm");
    cr_assert_str_eq(c.seccomp_profile, "/etc/berth/seccomp.json");
    cr_assert_null(c.root);
    berth_conf_free(&c);
    write_conf(prefix, "seccomp-profile=unconfined\n", 0644);
    cr_assert_eq(conf_berth_read(exe, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.seccomp_profile, "unconfined");
    cr_assert_null(c.cgroup_parent);
    berth_conf_free(&c);
    assert_conf_refused(prefix, exe, "seccomp-profile=profile.json\n",
                        "seccomp-profile must be an absolute path, \"builtin\" or "
                        "\"unconfined\": profile.json");
    assert_conf_refused(prefix, exe, "cgroup-parent=storm\n",
                        "cgroup-parent must be an absolute path: storm");
    free(exe);
    remove_prefix(prefix);
}

Test(conf, registry_keys_are_lists_and_a_bounded_count)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to make a root-owned directory chain");
    char *prefix = make_prefix(0755);
    char *exe = xasprintf("%s/bin/berth", prefix);
    struct berth_conf c;
    struct berr err = {0};
    write_conf(prefix,
               "insecure-registries=reg.lan:5000, 127.0.0.1:5001\n"
               "registry-mirrors=https://mirror.lan\nmax-concurrent-downloads=7\n"
               "certs-dirs=/a/certs.d,/b\n",
               0644);
    cr_assert_eq(conf_berth_read(exe, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.insecure_registries.n, 2);
    cr_assert_str_eq(c.insecure_registries.v[0], "reg.lan:5000");
    cr_assert_str_eq(c.insecure_registries.v[1], "127.0.0.1:5001");
    cr_assert_eq(c.registry_mirrors.n, 1);
    cr_assert_eq(c.max_downloads, 7);
    cr_assert_eq(c.certs_dirs.n, 2);
    cr_assert_str_eq(c.certs_dirs.v[1], "/b");
    berth_conf_free(&c);
    assert_conf_refused(prefix, exe, "max-concurrent-downloads=0\n",
                        "max-concurrent-downloads must be 1 to 64: 0");
    assert_conf_refused(prefix, exe, "certs-dirs=certs.d\n",
                        "certs-dirs must be absolute paths: certs.d");
    /* absent: docker's and berth's certs.d, 3 downloads */
    write_conf(prefix, "root=/srv\n", 0644);
    cr_assert_eq(conf_berth_read(exe, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.certs_dirs.n, 2);
    cr_assert_str_eq(c.certs_dirs.v[0], "/etc/docker/certs.d");
    cr_assert_str_eq(c.certs_dirs.v[1], "/etc/berth/certs.d");
    cr_assert_eq(c.max_downloads, 3);
    cr_assert_eq(c.insecure_registries.n, 0);
    berth_conf_free(&c);
    free(exe);
    remove_prefix(prefix);
}

Test(conf, run_default_values_from_the_environment_are_checked_as_the_files)
{
    struct berr err = {0};
    cr_assert_eq(conf_check_seccomp_profile("X", "builtin", &err), 0);
    cr_assert_eq(conf_check_seccomp_profile("X", "/p.json", &err), 0);
    cr_assert_eq(conf_check_seccomp_profile("X", "p.json", &err), -1);
    cr_assert_eq(err.kind, BERR_USAGE);
    cr_assert_eq(conf_check_cgroup_parent("X", "/a", &err), 0);
    cr_assert_eq(conf_check_cgroup_parent("X", "a", &err), -1);
    cr_assert_str_eq(err.msg, "X must be an absolute path: a");
}

Test(conf, a_missing_berth_conf_means_the_defaults)
{
    struct berth_conf c;
    struct berr err = {0};
    cr_assert_eq(conf_berth_read("/nonexistent-prefix/bin/berth", &c, &err), 0, "%s", err.msg);
    cr_assert_null(c.root);
    cr_assert_null(c.runroot);
    berth_conf_free(&c);
}

/* ---- acting for the caller (util/ident.c) ---- */

Test(ident, files_are_opened_with_the_callers_rights_and_berths_come_back)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to switch file-system ids");
    char dir[] = "/tmp/berth-ident.XXXXXX";
    cr_assert(mkdtemp(dir));
    chmod(dir, 01777);
    char *secret = xasprintf("%s/secret", dir);
    close(open(secret, O_WRONLY | O_CREAT, 0600));
    struct berr err = {0};
    gid_t groups[] = {4242, 5548};
    struct ident who = {.uid = 4242, .gid = 4242, .groups = groups, .ngroups = 2};
    cr_assert_eq(ident_open(&who, secret, O_RDONLY, 0, &err), -1);
    cr_assert_eq(err.errnum, EACCES, "%s", err.msg);
    int fd = ident_open(NULL, secret, O_RDONLY, 0, &err);
    cr_assert(fd >= 0, "berth's own rights are back: %s", err.msg);
    close(fd);
    /* a file the caller makes is the caller's, as the docker client leaves a cidfile */
    char *made = xasprintf("%s/container.cid", dir);
    fd = ident_open(&who, made, O_WRONLY | O_CREAT | O_EXCL, 0644, &err);
    cr_assert(fd >= 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    cr_assert_eq(st.st_uid, 4242);
    cr_assert_eq(st.st_gid, 4242);
    close(fd);
    /* a group the caller holds opens what its group may read */
    chown(secret, 0, 5548);
    chmod(secret, 0640);
    fd = ident_open(&who, secret, O_RDONLY, 0, &err);
    cr_assert(fd >= 0, "supplementary group 5548: %s", err.msg);
    close(fd);
    gid_t now[4];
    cr_assert_eq(getgroups(4, now), 0, "berth holds no groups afterwards");
    cr_assert_eq(remove_tree_at(AT_FDCWD, dir, &err), 0);
    free(secret);
    free(made);
}
