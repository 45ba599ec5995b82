/* berth join and berth as nsenter: the container's view from inside, compared with exec's and
 * util-linux nsenter's on the same container; the profiler's ptrace that exec's confinement
 * stops; nsenter's exit statuses. */
#include "harness.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

H_SUITE(join);

static const char *storm_profile(void)
{
    static char *path;
    if (!path) {
        const char *dir = getenv("BERTH_IT_FIXTURES");
        char *rel = xasprintf("%s/storm-seccomp.json.example", dir ? dir : "tests/fixtures");
        path = realpath(rel, NULL);
        cr_assert(path, "fixture %s", rel);
        free(rel);
    }
    return path;
}

static char *start(const char *name, const char *const *extra)
{
    struct strv args = {0};
    strv_push(&args, "run");
    strv_push(&args, "-d");
    strv_push(&args, "--name");
    strv_push(&args, name);
    strv_push(&args, "-h");
    strv_push(&args, "joinhost");
    for (; extra && *extra; extra++)
        strv_push(&args, *extra);
    strv_push(&args, H_IMAGE);
    strv_push(&args, "/probe");
    strv_push(&args, "sleep");
    strv_push(&args, "120");
    struct h_result r;
    h_berthv(&r, NULL, (const char *const *)args.v);
    strv_free(&args);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    return r.out;
}

static char *pid_of(const char *name)
{
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", "{{.State.Pid}}", name, NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    return r.out;
}

/* The facts that must agree between two ways in: namespaces, hostname, pid 1's binary, the
 * mount table. */
static void assert_same_view(const struct h_result *a, const struct h_result *b, const char *what)
{
    const char *keys[] = {
        "ns:mnt", "ns:pid", "ns:uts", "ns:ipc", "ns:net", "hostname", "readlink:/proc/1/exe"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        cr_assert_str_eq(h_val(a, keys[i]), h_val(b, keys[i]), "%s: %s differs", what, keys[i]);
    char **ma, **mb;
    size_t na = h_get_all(a, "mountinfo", &ma), nb = h_get_all(b, "mountinfo", &mb);
    cr_assert_eq(na, nb, "%s: %zu mounts against %zu", what, na, nb);
    for (size_t i = 0; i < na; i++)
        cr_assert_str_eq(ma[i], mb[i], "%s: mount %zu differs", what, i);
}

#define VIEW "/probe", "ns", "hostname", "readlink", "/proc/1/exe", "mountinfo", "id"

Test(join, join_by_name_or_pid_sees_what_exec_and_nsenter_see)
{
    free(start("jn", NULL));
    char *pid = pid_of("jn");
    struct h_result join_name, join_pid, exec, nsenter;
    h_berth(&join_name, NULL, "join", "jn", VIEW, NULL);
    h_assert_status(&join_name, 0);
    h_berth(&join_pid, NULL, "join", "--target", pid, VIEW, NULL);
    h_assert_status(&join_pid, 0);
    h_berth(&exec, NULL, "exec", "jn", VIEW, NULL);
    h_assert_status(&exec, 0);
    const char *argv[] = {"nsenter", "--target", pid, "--all", VIEW, NULL};
    h_execv(&nsenter, NULL, argv);
    h_assert_status(&nsenter, 0);
    h_assert_val(&join_name, "hostname", "joinhost");
    h_assert_val(&join_name, "uid", "0");
    assert_same_view(&join_name, &join_pid, "join by pid");
    assert_same_view(&join_name, &exec, "exec");
    assert_same_view(&join_name, &nsenter, "util-linux nsenter --all");
}

Test(join, setuid_and_setgid_drop_groups_and_capabilities_as_nsenter)
{
    free(start("jn", NULL));
    struct h_result r;
    h_berth(&r, NULL, "join", "--setuid", "1000", "--setgid", "1000", "jn", "/probe", "id",
            "status", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "gid", "1000");
    h_assert_val(&r, "groups", "");
    h_assert_val(&r, "CapEff", H_NO_CAPS);
    h_assert_val(&r, "Seccomp", "0");
    h_berth(&r, NULL, "join", "--user", "alice", "jn", "/probe", "id", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1001");
    h_assert_val(&r, "gid", "1001");
    /* without the mount namespace, "/etc/passwd" would be the host's */
    h_berth(&r, NULL, "join", "--net", "--user", "alice", "jn", "/probe", "id", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "needs the mount namespace");
}

/* The seed's profiling recipe: jstack attaches to the worker as its own uid, which Storm's
 * profile (no ptrace) forbids inside the container; join keeps no filter. */
Test(join, a_profilers_ptrace_works_through_join_and_not_through_exec)
{
    char *seccomp = xasprintf("seccomp=%s", storm_profile());
    const char *flags[] = {"--user=1000:1000",
                           "--cap-drop=ALL",
                           "--security-opt",
                           "no-new-privileges",
                           "--security-opt",
                           seccomp,
                           NULL};
    free(start("jn", flags));
    struct h_result r;
    h_berth(&r, NULL, "join", "--mount", "--pid", "--setuid", "1000", "--setgid", "1000", "jn",
            "/probe", "ptrace", "1", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "ptrace:1", "ok");
    h_berth(&r, NULL, "exec", "jn", "/probe", "ptrace", "1", NULL);
    h_assert_status(&r, 0);
    char *v = h_get(&r, "ptrace:1");
    cr_assert(v && strcmp(v, "ok") != 0, "exec under Storm's profile could ptrace: %s", r.out);
    free(seccomp);
}

Test(join, exit_statuses_are_nsenters)
{
    free(start("jn", NULL));
    struct h_result r;
    h_berth(&r, NULL, "join", "jn", "/probe", "exit", "3", NULL);
    h_assert_status(&r, 3);
    h_berth(&r, NULL, "join", "jn", "/no/such/program", NULL);
    h_assert_status(&r, 127);
    h_assert_err_mentions(&r, "/no/such/program");
    h_berth(&r, NULL, "join", "jn", "/etc", NULL);
    h_assert_status(&r, 126);
    h_berth(&r, NULL, "join", "jn", "/probe", "kill", "9", NULL);
    h_assert_status(&r, 137);
}

Test(join, a_dead_target_is_a_clear_error)
{
    free(start("jn", NULL));
    char *pid = pid_of("jn");
    struct h_result r;
    h_berth(&r, NULL, "stop", "-t", "0", "jn", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "join", "jn", "/probe", "id", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "is not running");
    h_berth(&r, NULL, "join", "--target", pid, "/probe", "id", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "does not exist");
    h_berth(&r, NULL, "join", "nosuchcontainer", "/probe", "id", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "No such container: nosuchcontainer");
}

/* Storm's worker-launcher runs `<nsenter.binary> --target PID --mount --pid --setuid U
 * --setgid G` and writes the profiler's line to the shell on its stdin. */
Test(join, as_nsenter_it_takes_util_linux_argv_and_runs_the_shell_on_stdin)
{
    free(start("jn", NULL));
    char *pid = pid_of("jn");
    char *nsenter = h_beside_berth("berth-nsenter");
    cr_assert(h_exists(nsenter), "%s: make builds it beside berth", nsenter);
    const char *env[] = {"SHELL=/bin/sh", NULL};
    struct h_opts o = {.input = "umask 0027; /probe id hostname\nexit\n", .env = env};
    const char *argv[] = {nsenter,    "--target", pid,        "--mount", "--pid",
                          "--setuid", "1000",     "--setgid", "1000",    NULL};
    struct h_result r;
    h_execv(&r, &o, argv);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "gid", "1000");
    /* --mount --pid only, as Storm asks: the host's uts namespace */
    char host[256];
    gethostname(host, sizeof(host));
    h_assert_val(&r, "hostname", host);
    free(nsenter);
}
