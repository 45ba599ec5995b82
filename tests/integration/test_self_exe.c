/* berth's own binary against a container (CVE-2019-5736): a process of the container that gets
 * hold of /proc/<pid>/exe of a berth process it can see — a command resolving to
 * /proc/self/exe runs berth itself inside the container — must not be able to write berth.
 *
 * Each test runs a private copy of berth and berth-monitor (so a failure damages only the
 * copy) and plays both halves of the attack with the probe: `send-exe` in the attacked
 * container opens the berth process's exe with O_PATH and passes the fd over a unix socket on a
 * shared volume to `reopen-exe`, pid 1 of a second container, which outlives the berth process
 * and then reopens the fd for writing. The copy's bytes are compared with build/berth's after.
 * berth is linked dynamically: the attacked container gets the host's /lib and /lib64, as an
 * image would ship them, so that berth runs in it (and blocks reading its stdin).
 *
 * The last tests stop a container's init before its command and look at the binary it runs:
 * berth-runtime's on the host's network, berth's otherwise, each a read-only clone. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

H_SUITE(self_exe);

static char *orig_berth;

static void copy_file(const char *from, const char *to)
{
    struct berr err = {0};
    _cleanup_free_ char *bin = NULL;
    size_t len = 0;
    cr_assert(read_file_at(AT_FDCWD, from, 64 << 20, &bin, &len, &err) == 0, "%s", err.msg);
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    cr_assert(fd >= 0 && write_all(fd, bin, len) == 0, "write %s: %s", to, strerror(errno));
    close(fd);
}

/* <tmp>/bin/berth and berth-monitor beside it (else the monitor would stay in berth, and
 * keep the copy busy); from here on the harness runs the copy. Also <tmp>/x, the volume. */
static void use_berth_copy(void)
{
    orig_berth = xstrdup(getenv("BERTH_IT_BERTH"));
    _cleanup_free_ char *dir = h_path("bin");
    _cleanup_free_ char *x = h_path("x");
    h_mkdirs(dir, 0755);
    h_mkdirs(x, 0755);
    _cleanup_free_ char *copy = h_path("bin/berth");
    _cleanup_free_ char *mon_copy = h_path("bin/berth-monitor");
    _cleanup_free_ char *mon = h_beside_berth("berth-monitor");
    copy_file(orig_berth, copy);
    copy_file(mon, mon_copy);
    setenv("BERTH_IT_BERTH", copy, 1);
}

/* The copy's bytes still build/berth's. */
static void assert_copy_intact(const char *outcome)
{
    _cleanup_free_ char *copy = h_path("bin/berth");
    struct berr err = {0};
    _cleanup_free_ char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    cr_assert(read_file_at(AT_FDCWD, orig_berth, 64 << 20, &a, &alen, &err) == 0, "%s", err.msg);
    cr_assert(read_file_at(AT_FDCWD, copy, 64 << 20, &b, &blen, &err) == 0, "%s", err.msg);
    char ha[65], hb[65];
    sha256_hex(a, alen, ha);
    sha256_hex(b, blen, hb);
    cr_assert_str_eq(hb, ha, "the berth binary was changed from inside a container (%s)", outcome);
}

static const char *volume(void)
{
    static char *v;
    free(v);
    v = xasprintf("%s/x:/x", h_tmp());
    return v;
}

/* The second half, as pid 1 of container "keeper", listening on /x/s once this returns. */
static void start_keeper(void)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "keeper", "-v", volume(), H_IMAGE, "/probe",
            "reopen-exe", "/x/s", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *sock = h_path("x/s");
    for (int i = 0; i < 500 && !h_exists(sock); i++)
        usleep(10000);
    cr_assert(h_exists(sock), "the keeper never listened on %s", sock);
}

/* What the keeper's reopen for writing ended in: "<open> <write>". Asked with build/berth
 * again: a berth running the copy (this wait) would keep it busy, and the reopen waits. */
static char *keeper_outcome(void)
{
    setenv("BERTH_IT_BERTH", orig_berth, 1);
    struct h_result r;
    h_berth(&r, NULL, "wait", "keeper", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "logs", "keeper", NULL);
    h_assert_status(&r, 0);
    char *v = h_get(&r, "reopen-exe:/x/s");
    cr_assert(v, "no outcome from the keeper:\n%s\n%s", r.out, r.err);
    return v;
}

static void assert_not_reopened_for_writing(const char *outcome)
{
    cr_assert(strncmp(outcome, "ok ", 3) != 0,
              "a container process reopened berth's binary for writing: %s", outcome);
}

/* The fifo stays open for writing in the test until close_input: the berth process reading
 * it as stdin blocks until then. */
static int open_input(const char **path)
{
    char *p = h_path("in");
    cr_assert(mkfifo(p, 0600) == 0, "mkfifo: %s", strerror(errno));
    int fd = open(p, O_RDWR | O_CLOEXEC);
    cr_assert(fd >= 0, "open %s: %s", p, strerror(errno));
    *path = p;
    return fd;
}

static void start_sleeper(const char *name)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", name, "-v", volume(), "-v", "/lib:/lib:ro", "-v",
            "/lib64:/lib64:ro", H_IMAGE, "/probe", "sleep", "120", NULL);
    h_assert_status(&r, 0);
}

/* exec -i NAME CMD seccomp check /dev/stdin: when CMD is berth, it blocks reading the fifo. */
static void exec_as_berth(const char *name, const char *cmd, const char *marker)
{
    const char *in = NULL;
    int keep = open_input(&in);
    struct h_opts o = {.input_file = in};
    struct h_proc victim;
    h_berth_start(
        &victim, &o,
        (const char *const[]){"exec", "-i", name, cmd, "seccomp", "check", "/dev/stdin", NULL});
    _cleanup_free_ char *what = xasprintf("/x/s:%s", marker);
    struct h_result sent;
    h_berth(&sent, NULL, "exec", name, "/probe", "send-exe", what, NULL);
    close(keep);
    struct h_result r;
    h_berth_finish(&victim, &r);
    h_assert_status(&sent, 0);
    _cleanup_free_ char *key = xasprintf("send-exe:%s", what);
    h_assert_val(&sent, key, "ok");
}

Test(self_exe, exec_of_a_symlink_to_proc_self_exe_cannot_write_berth)
{
    use_berth_copy();
    start_keeper();
    start_sleeper("victim");
    struct h_result r;
    h_berth(&r, NULL, "exec", "victim", "/bin/ln", "-s", "/proc/self/exe", "/tmp/jstack", NULL);
    h_assert_status(&r, 0);
    exec_as_berth("victim", "/tmp/jstack", "/tmp/jstack");
    _cleanup_free_ char *outcome = keeper_outcome();
    assert_copy_intact(outcome);
    assert_not_reopened_for_writing(outcome);
    h_berth(&r, NULL, "rm", "-f", "victim", "keeper", NULL);
}

Test(self_exe, exec_of_a_script_run_by_proc_self_exe_cannot_write_berth)
{
    use_berth_copy();
    start_keeper();
    start_sleeper("victim");
    struct h_result r;
    /* the kernel runs it as: /proc/self/exe --root /tmp/jstack.sh seccomp check /dev/stdin */
    h_berth(&r, NULL, "exec", "victim", "/bin/sh", "-c",
            "printf '#!/proc/self/exe --root\\n' >/tmp/jstack.sh && chmod 755 /tmp/jstack.sh",
            NULL);
    h_assert_status(&r, 0);
    exec_as_berth("victim", "/tmp/jstack.sh", "/tmp/jstack.sh");
    _cleanup_free_ char *outcome = keeper_outcome();
    assert_copy_intact(outcome);
    assert_not_reopened_for_writing(outcome);
    h_berth(&r, NULL, "rm", "-f", "victim", "keeper", NULL);
}

Test(self_exe, run_of_proc_self_exe_cannot_write_berth)
{
    use_berth_copy();
    start_keeper();
    const char *in = NULL;
    int keep = open_input(&in);
    struct h_opts o = {.input_file = in};
    struct h_proc run;
    h_berth_start(&run, &o,
                  (const char *const[]){"run", "-i", "--rm", "--name", "victim", "-v", volume(),
                                        "-v", "/lib:/lib:ro", "-v", "/lib64:/lib64:ro", H_IMAGE,
                                        "/proc/self/exe", "seccomp", "check", "/dev/stdin", NULL});
    /* exec finds the container once it runs */
    struct h_result sent;
    for (int i = 0; i < 100; i++) {
        h_berth(&sent, NULL, "exec", "victim", "/probe", "send-exe", "/x/s:/proc/self/exe", NULL);
        if (sent.status != 1)
            break;
        usleep(50000);
    }
    close(keep);
    struct h_result r;
    h_berth_finish(&run, &r);
    h_assert_status(&sent, 0);
    h_assert_val(&sent, "send-exe:/x/s:/proc/self/exe", "ok");
    _cleanup_free_ char *outcome = keeper_outcome();
    assert_copy_intact(outcome);
    assert_not_reopened_for_writing(outcome);
    h_berth(&r, NULL, "rm", "-f", "keeper", NULL);
}

/* The init of a run on net, stopped before its command: what its binary is (the bytes of
 * program, beside the berth the tests run) and where it runs from. */
static void assert_init_runs_from_a_readonly_clone_of(const char *net, const char *program)
{
    const char *env[] = {"BERTH_TEST_STALL=init", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    _cleanup_free_ char *name = xasprintf("stalled-%s", net + strlen("--net="));
    struct h_proc p;
    h_berth_start(&p, &o,
                  (const char *const[]){"run", "-d", "--name", name, net, H_IMAGE, "/probe",
                                        "sleep", "60", NULL});
    pid_t init = h_find_stalled("init", p.pid, NULL);
    char exe[64];
    snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)init);
    int fd = open(exe, O_RDONLY | O_CLOEXEC);
    cr_assert(fd >= 0, "open %s: %s", exe, strerror(errno));
    struct statvfs sv;
    cr_assert(fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY), "%s: not on a read-only mount",
              exe);
    char link[8] = "";
    cr_assert_eq(readlink(exe, link, sizeof(link) - 1), 1, "%s is attached: %s...", exe, link);
    struct berr err = {0};
    _cleanup_free_ char *bytes = NULL, *want = NULL;
    size_t len = 0, want_len = 0;
    close(fd);
    cr_assert(read_file_at(AT_FDCWD, exe, 64 << 20, &bytes, &len, &err) == 0, "%s", err.msg);
    _cleanup_free_ char *path = h_beside_berth(program);
    cr_assert(read_file_at(AT_FDCWD, path, 64 << 20, &want, &want_len, &err) == 0, "%s", err.msg);
    cr_assert(len == want_len && !memcmp(bytes, want, len), "the init of a %s run is not %s", net,
              path);
    cr_assert_eq(kill(init, SIGKILL), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    h_berth(&r, NULL, "rm", "-f", name, NULL);
}

Test(self_exe, a_container_on_the_host_network_starts_from_a_read_only_clone_of_berth_runtime)
{
    assert_init_runs_from_a_readonly_clone_of("--net=host", "berth-runtime");
}

Test(self_exe, a_container_with_a_network_of_its_own_starts_from_a_read_only_clone_of_berth)
{
    assert_init_runs_from_a_readonly_clone_of("--net=none", "berth");
}

/* run's command /proc/self/exe runs the init's binary again, in the container: on the host's
 * network berth-runtime, static, which is only a monitor and says so */
Test(self_exe, proc_self_exe_on_the_host_network_is_berth_runtime)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--net=host", H_IMAGE, "/proc/self/exe", NULL);
    h_assert_status(&r, 125);
    cr_assert(strstr(r.err, "berth-runtime: berth's own, started by berth run: not a command"),
              "not berth-runtime's answer:\n%s%s", r.out, r.err);
}
