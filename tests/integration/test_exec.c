/* berth exec: a command in a running container — its namespaces and cgroups, its user,
 * capabilities and no_new_privs, cwd, environment, fds, stdin and exit status, and docker's
 * errors. Each test starts `run -d` containers of test/probe:latest sleeping, reads the facts
 * from inside with the probe run by exec, and compares them with pid 1's from the host. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

H_SUITE(exec);

/* run -d --name NAME [flags...] test/probe:latest /probe sleep 120; the id printed. */
static char *start(const char *name, const char *const *flags)
{
    const char *args[32] = {"run", "-d", "--name", name};
    size_t n = 4;
    for (; flags && *flags; flags++)
        args[n++] = *flags;
    args[n++] = H_IMAGE;
    args[n++] = "/probe";
    args[n++] = "sleep";
    args[n++] = "120";
    args[n] = NULL;
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);
    cr_assert_eq(r.out_len, 65, "run -d printed: %s", r.out);
    r.out[64] = '\0';
    return r.out;
}

static pid_t pid1_of(const char *name)
{
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", "{{.State.Pid}}", name, NULL);
    h_assert_status(&r, 0);
    pid_t pid = (pid_t)atoi(r.out);
    cr_assert(pid > 0, "no pid for %s: %s", name, r.out);
    return pid;
}

static void remove_container(const char *name)
{
    struct h_result r;
    h_berth(&r, NULL, "rm", "-f", name, NULL);
    h_assert_status(&r, 0);
}

/* berth exec [flags...] NAME /probe probe_args...; o may be NULL. */
static void exec_probe(struct h_result *r, const struct h_opts *o, const char *name,
                       const char *const *flags, const char *const *probe_args)
{
    const char *args[32] = {"exec"};
    size_t n = 1;
    for (; flags && *flags; flags++)
        args[n++] = *flags;
    args[n++] = name;
    args[n++] = "/probe";
    for (; *probe_args; probe_args++)
        args[n++] = *probe_args;
    args[n] = NULL;
    h_berthv(r, o, args);
}

static char *pid_ns(pid_t pid, const char *ns)
{
    char path[64], buf[128];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    cr_assert(n > 0, "readlink %s: %s", path, strerror(errno));
    buf[n] = '\0';
    return xstrdup(buf);
}

static const char *const STATUS_ID[] = {"status", "id", NULL};
static const char *const LOCKED[] = {"--user=1000:1000", "--cap-drop=ALL", "--security-opt",
                                     "no-new-privileges", NULL};

/* ---- namespaces and cgroups -------------------------------------------------------------- */

Test(exec, joins_the_mnt_pid_uts_ipc_net_namespaces_of_pid_1)
{
    start("ns", NULL);
    pid_t pid = pid1_of("ns");
    struct h_result r;
    exec_probe(&r, NULL, "ns", NULL, (const char *const[]){"ns", "pid", NULL});
    h_assert_status(&r, 0);
    static const char *const names[] = {"mnt", "pid", "uts", "ipc", "net"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        _cleanup_free_ char *key = xasprintf("ns:%s", names[i]);
        _cleanup_free_ char *want = pid_ns(pid, names[i]);
        h_assert_val(&r, key, want);
        _cleanup_free_ char *host = h_host_ns(names[i]);
        cr_assert_str_neq(want, host, "pid 1 shares the host's %s namespace", names[i]);
    }
    /* a member of the container's pid namespace, its parent outside it */
    cr_assert_str_neq(h_val(&r, "pid"), "1");
    h_assert_val(&r, "ppid", "0");
    remove_container("ns");
}

Test(exec, joins_the_hosts_network_of_a_net_host_container)
{
    start("hostnet", (const char *const[]){"--net=host", NULL});
    struct h_result r;
    exec_probe(&r, NULL, "hostnet", NULL, (const char *const[]){"ns", NULL});
    h_assert_status(&r, 0);
    _cleanup_free_ char *host_net = h_host_ns("net");
    h_assert_val(&r, "ns:net", host_net);
    _cleanup_free_ char *pid_ns_1 = pid_ns(pid1_of("hostnet"), "pid");
    h_assert_val(&r, "ns:pid", pid_ns_1);
    remove_container("hostnet");
}

Test(exec, cgroups_are_those_of_pid_1)
{
    start("cg", NULL);
    pid_t pid = pid1_of("cg");
    _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
    _cleanup_free_ char *want = h_read_file(path);
    /* pid 1 sits in the container's own cgroups, <parent>/<id>, not where berth runs */
    cr_assert(want && strstr(want, "/berth/"), "pid 1's cgroups: %s", want);
    struct h_result r;
    exec_probe(&r, NULL, "cg", NULL, (const char *const[]){"cat", "/proc/self/cgroup", NULL});
    /* the probe prints the file on one line, newlines as "\n" */
    struct strv esc = {0};
    for (char *save = NULL, *l = strtok_r(want, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        strv_push_owned(&esc, xasprintf("%s\\n", l));
    size_t len = 1;
    for (size_t i = 0; i < esc.n; i++)
        len += strlen(esc.v[i]);
    _cleanup_free_ char *joined = xcalloc(1, len);
    for (size_t i = 0; i < esc.n; i++)
        strcat(joined, esc.v[i]);
    strv_free(&esc);
    remove_container("cg");
    h_assert_status(&r, 0);
    h_assert_val(&r, "cat:/proc/self/cgroup", joined);
}

/* ---- user, capabilities, no_new_privs ---------------------------------------------------- */

Test(exec, runs_as_the_containers_user_with_its_capabilities)
{
    start("plain", NULL);
    struct h_result r;
    exec_probe(&r, NULL, "plain", NULL, STATUS_ID);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "0");
    h_assert_val(&r, "CapEff", H_DEFAULT_CAPS);
    h_assert_val(&r, "CapBnd", H_DEFAULT_CAPS);
    h_assert_val(&r, "CapInh", H_NO_CAPS);
    h_assert_val(&r, "CapAmb", H_NO_CAPS);
    h_assert_val(&r, "NoNewPrivs", "0");
    remove_container("plain");
}

Test(exec, cap_drop_all_and_no_new_privs_of_the_container_apply)
{
    start("locked", LOCKED);
    struct h_result r;
    exec_probe(&r, NULL, "locked", NULL, STATUS_ID);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "gid", "1000");
    h_assert_val(&r, "CapEff", H_NO_CAPS);
    h_assert_val(&r, "CapPrm", H_NO_CAPS);
    h_assert_val(&r, "CapBnd", H_NO_CAPS);
    h_assert_val(&r, "NoNewPrivs", "1");
    remove_container("locked");
}

Test(exec, user_0_is_root_inside_the_containers_bounding_set)
{
    start("locked0", LOCKED);
    struct h_result r;
    exec_probe(&r, NULL, "locked0", (const char *const[]){"-u", "0", NULL}, STATUS_ID);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "0");
    h_assert_val(&r, "euid", "0");
    h_assert_val(&r, "CapBnd", H_NO_CAPS);
    h_assert_val(&r, "CapEff", H_NO_CAPS);
    h_assert_val(&r, "NoNewPrivs", "1");
    remove_container("locked0");
}

Test(exec, user_name_resolves_in_the_containers_passwd_with_group_add)
{
    start("named", (const char *const[]){"--group-add", "extra", NULL});
    struct h_result r;
    exec_probe(&r, NULL, "named", (const char *const[]){"--user", "worker", NULL},
               (const char *const[]){"id", "env", NULL});
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "gid", "1000");
    char *groups = h_get(&r, "groups");
    cr_assert(h_same_set(groups, "1000 3000 2000"), "groups %s", groups);
    char *home = h_env(&r, "HOME");
    cr_assert(home && !strcmp(home, "/home/worker"), "HOME=%s", home);
    remove_container("named");
}

Test(exec, unknown_user_exits_126)
{
    start("nouser", NULL);
    struct h_result r;
    exec_probe(&r, NULL, "nouser", (const char *const[]){"-u", "nosuchuser", NULL}, STATUS_ID);
    h_assert_status(&r, 126);
    h_assert_err_mentions(&r, "nosuchuser");
    remove_container("nouser");
}

Test(exec, user_lookup_in_a_passwd_turned_fifo_fails_fast)
{
    start("fifo", NULL);
    struct h_result r;
    h_berth(&r, NULL, "exec", "fifo", "/bin/sh", "-c", "rm /etc/passwd && mkfifo /etc/passwd",
            NULL);
    h_assert_status(&r, 0);
    struct h_opts o = {.timeout_s = 20};
    double t0 = h_now_s();
    exec_probe(&r, &o, "fifo", (const char *const[]){"-u", "worker", NULL}, STATUS_ID);
    h_assert_status(&r, 126);
    cr_assert(h_now_s() - t0 < 10, "exec took %.1f s", h_now_s() - t0);
    h_assert_err_mentions(&r, "/etc/passwd");
    remove_container("fifo");
}

/* ---- cwd, environment, fds, stdin --------------------------------------------------------- */

Test(exec, cwd_is_the_containers_workdir_or_the_w_flag)
{
    start("wd", (const char *const[]){"-w", "/home/worker", NULL});
    struct h_result r;
    exec_probe(&r, NULL, "wd", NULL, (const char *const[]){"cwd", NULL});
    h_assert_status(&r, 0);
    h_assert_val(&r, "cwd", "/home/worker");
    exec_probe(&r, NULL, "wd", (const char *const[]){"-w", "/tmp", NULL},
               (const char *const[]){"cwd", NULL});
    h_assert_status(&r, 0);
    h_assert_val(&r, "cwd", "/tmp");
    remove_container("wd");
}

Test(exec, missing_workdir_exits_126_and_is_not_created)
{
    start("wdmiss", NULL);
    struct h_result r;
    exec_probe(&r, NULL, "wdmiss", (const char *const[]){"-w", "/no/such/dir", NULL},
               (const char *const[]){"cwd", NULL});
    h_assert_status(&r, 126);
    h_assert_err_mentions(&r, "/no/such/dir");
    exec_probe(&r, NULL, "wdmiss", NULL, (const char *const[]){"stat", "/no", NULL});
    h_assert_val(&r, "stat:/no", "ENOENT");
    remove_container("wdmiss");
}

/* CVE-2024-21626: an fd berth was handed must not become the command's cwd on the host. */
Test(exec, workdir_through_an_inherited_fd_is_refused)
{
    start("wdfd", NULL);
    int leak = open(h_tmp(), O_RDONLY | O_DIRECTORY);
    cr_assert(leak >= 0);
    struct h_opts o = {.inherit_fd = leak};
    struct h_result r;
    exec_probe(&r, &o, "wdfd", (const char *const[]){"-w", "/proc/self/fd/3", NULL},
               (const char *const[]){"cwd", NULL});
    close(leak);
    h_assert_status(&r, 126);
    cr_assert_null(h_get(&r, "cwd"), "the command ran in %s", h_val(&r, "cwd"));
    remove_container("wdfd");
}

Test(exec, env_is_the_containers_plus_e_flags)
{
    start("env", (const char *const[]){"-e", "FROM_RUN=1", "-e", "OVERRIDDEN=run", NULL});
    _cleanup_free_ char *env_file = h_path("exec.env");
    h_write_file(env_file, "# comment\nFROM_FILE=yes\n", 0644);
    struct h_result r;
    exec_probe(
        &r, NULL, "env",
        (const char *const[]){"-e", "K=V", "-e", "OVERRIDDEN=exec", "--env-file", env_file, NULL},
        (const char *const[]){"env", NULL});
    h_assert_status(&r, 0);
    static const char *const want[][2] = {
        {"PATH", H_DOCKER_PATH}, {"FROM_RUN", "1"}, {"OVERRIDDEN", "exec"}, {"K", "V"},
        {"FROM_FILE", "yes"},    {"HOME", "/root"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        char *v = h_env(&r, want[i][0]);
        cr_assert(v && !strcmp(v, want[i][1]), "%s=%s, want %s\n%s", want[i][0], v, want[i][1],
                  r.out);
    }
    char *hostname = h_env(&r, "HOSTNAME");
    cr_assert(hostname && strlen(hostname) == 12, "HOSTNAME=%s", hostname);
    remove_container("env");
}

Test(exec, only_fds_0_1_2_reach_the_command)
{
    start("fds", NULL);
    int leak = open("/dev/null", O_RDONLY);
    struct h_opts o = {.inherit_fd = leak};
    struct h_result r;
    exec_probe(&r, &o, "fds", NULL, (const char *const[]){"fds", NULL});
    close(leak);
    h_assert_status(&r, 0);
    h_assert_val(&r, "fds", "0 1 2");
    remove_container("fds");
}

Test(exec, stdin_is_null_unless_i)
{
    start("stdin", NULL);
    struct h_opts o = {.input = "hello\n"};
    struct h_result r;
    h_berth(&r, &o, "exec", "stdin", "/bin/cat", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_empty(r.out);
    h_berth(&r, &o, "exec", "-i", "stdin", "/bin/cat", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "hello\n");
    remove_container("stdin");
}

/* berth exec ARGS... started as a shell's job would be: its session's leader, its stdout and
 * stderr the session's controlling terminal (a pty, raw, so that a byte pushed into its input
 * reads back at once). What the pty showed goes to *out; *injected gets what its input queue
 * holds afterwards. */
static int exec_on_a_terminal(const char *const *args, char **out, char **injected)
{
    int master, slave;
    cr_assert(openpty(&master, &slave, NULL, NULL, NULL) == 0, "openpty: %s", strerror(errno));
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t);
    tcsetattr(slave, TCSANOW, &t);
    const char *argv[32] = {getenv("BERTH_IT_BERTH"), "--root", h_data_root(), "--runroot",
                            h_runroot()};
    size_t n = 5;
    for (; *args; args++)
        argv[n++] = *args;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(null, 0) < 0 ||
            dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
            _exit(99);
        closefrom(3);
        execv(argv[0], (char *const *)argv);
        _exit(98);
    }
    struct h_buf got = {0};
    char buf[4096];
    int status = -1;
    for (double end = h_now_s() + 30; h_now_s() < end;) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            ssize_t k = read(master, buf, sizeof(buf));
            if (k > 0)
                h_buf_write(NULL, &got, buf, (size_t)k);
            continue;
        }
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
    }
    h_buf_write(NULL, &got, "", 1);
    *out = got.p;
    fcntl(slave, F_SETFL, O_NONBLOCK);
    ssize_t k = read(slave, buf, sizeof(buf) - 1);
    buf[k > 0 ? k : 0] = '\0';
    *injected = xstrdup(buf);
    close(slave);
    close(master);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(exec, command_never_gets_the_callers_session_or_terminal)
{
    start("tty", NULL);
    struct h_result r = {.err = ""};
    char *injected = NULL;
    int status =
        exec_on_a_terminal((const char *const[]){"exec", "tty", "/probe", "tiocsti", "0", "tiocsti",
                                                 "1", "tiocsti", "2", "session", "pid", NULL},
                           &r.out, &injected);
    cr_assert_eq(status, 0, "berth exec exited %d:\n%s", status, r.out);
    /* the output still arrives, through berth */
    h_assert_val(&r, "pid", h_val(&r, "sid"));
    for (int fd = 0; fd < 3; fd++) {
        _cleanup_free_ char *key = xasprintf("tiocsti:%d", fd);
        const char *v = h_val(&r, key);
        cr_assert(strcmp(v, "ok") != 0 && strcmp(v, "(missing)") != 0, "%s=%s\n%s", key, v, r.out);
    }
    cr_assert_str_empty(injected, "pushed into the caller's terminal: \"%s\"", injected);
    remove_container("tty");
}

/* ---- exit status and errors --------------------------------------------------------------- */

Test(exec, exit_status_is_passed_through)
{
    start("status", NULL);
    struct h_result r;
    exec_probe(&r, NULL, "status", NULL, (const char *const[]){"exit", "3", NULL});
    h_assert_status(&r, 3);
    exec_probe(&r, NULL, "status", NULL, (const char *const[]){"exit", "0", NULL});
    h_assert_status(&r, 0);
    exec_probe(&r, NULL, "status", NULL, (const char *const[]){"kill", "9", NULL});
    h_assert_status(&r, 128 + SIGKILL);
    remove_container("status");
}

Test(exec, missing_command_exits_127_and_a_directory_126)
{
    start("cmd", NULL);
    struct h_result r;
    h_berth(&r, NULL, "exec", "cmd", "no-such-command", NULL);
    h_assert_status(&r, 127);
    h_assert_err_mentions(&r, "executable file not found");
    h_berth(&r, NULL, "exec", "cmd", "/no/such/binary", NULL);
    h_assert_status(&r, 127);
    h_berth(&r, NULL, "exec", "cmd", "/etc", NULL);
    h_assert_status(&r, 126);
    remove_container("cmd");
}

Test(exec, stopped_container_exits_1_with_dockers_message)
{
    char *id = start("stopped", NULL);
    struct h_result r;
    h_berth(&r, NULL, "kill", "stopped", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", "stopped", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "exec", "stopped", "/probe", "id", NULL);
    h_assert_status(&r, 1);
    _cleanup_free_ char *want =
        xasprintf("Error response from daemon: Container %s is not running\n", id);
    cr_assert_str_eq(r.err, want);
    cr_assert_str_empty(r.out);
    remove_container("stopped");
}

Test(exec, unknown_container_exits_1)
{
    struct h_result r;
    h_berth(&r, NULL, "exec", "nosuch", "/probe", "id", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "Error: No such container: nosuch\n");
}

Test(exec, flags_stop_at_the_container_name)
{
    start("argv", NULL);
    struct h_result r;
    h_berth(&r, NULL, "exec", "argv", "/probe", "args", "-u", "0", "--workdir", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "argv", "/probe args -u 0 --workdir");
    h_berth(&r, NULL, "exec", "argv", NULL);
    h_assert_status(&r, 1);
    h_berth(&r, NULL, "exec", "--no-such-flag", "argv", "/probe", NULL);
    h_assert_status(&r, 125);
    remove_container("argv");
}

/* ---- berth's binary (CVE-2019-5736) ------------------------------------------------------- */

static bool exe_on_readonly_mount(pid_t pid, int timeout_s)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/exe", (int)pid);
    for (int i = 0; i < timeout_s * 20; i++) {
        struct statvfs sv;
        if (statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY))
            return true;
        usleep(50 * 1000);
    }
    return false;
}

/* A copy of berth that nothing else runs, so a write to it can only meet the mount's flags. */
static char *private_berth_copy(void)
{
    char *copy = h_path("berth-copy");
    struct berr err = {0};
    _cleanup_free_ char *bin = NULL;
    size_t len = 0;
    cr_assert(read_file_at(AT_FDCWD, getenv("BERTH_IT_BERTH"), 64 << 20, &bin, &len, &err) == 0,
              "%s", err.msg);
    int fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    cr_assert(fd >= 0 && write_all(fd, bin, len) == 0, "write %s: %s", copy, strerror(errno));
    close(fd);
    return copy;
}

Test(exec, ptrace_capable_container_is_joined_from_a_read_only_berth)
{
    start("ptrace", (const char *const[]){"--cap-add", "SYS_PTRACE", NULL});
    _cleanup_free_ char *orig = xstrdup(getenv("BERTH_IT_BERTH"));
    _cleanup_free_ char *copy = private_berth_copy();
    setenv("BERTH_IT_BERTH", copy, 1);
    struct h_proc p;
    h_berth_start(&p, NULL, (const char *const[]){"exec", "ptrace", "/probe", "sleep", "2", NULL});
    setenv("BERTH_IT_BERTH", orig, 1);
    bool ro = exe_on_readonly_mount(p.pid, 3);
    /* what a container process could hold (CVE-2019-5736): an O_PATH of the joiner's exe */
    _cleanup_free_ char *exe = xasprintf("/proc/%d/exe", (int)p.pid);
    int held = open(exe, O_PATH | O_CLOEXEC);
    struct h_result r;
    h_berth_finish(&p, &r);
    h_assert_status(&r, 0);
    cr_assert(ro, "berth exec runs from a writable binary");
    cr_assert(held >= 0, "open %s: %s", exe, strerror(errno));
    /* berth has exited: reopened for writing, it must still refuse */
    _cleanup_free_ char *via = xasprintf("/proc/self/fd/%d", held);
    int fd = open(via, O_WRONLY);
    int open_errno = errno;
    if (fd >= 0)
        close(fd);
    close(held);
    cr_assert(fd < 0 && open_errno == EROFS, "reopen for writing: %s",
              fd < 0 ? strerror(open_errno) : "succeeded");
    remove_container("ptrace");
}
