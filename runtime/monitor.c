/* run -d: the caller creates the container, then forks a small monitor that leaves the
 * caller's session and file descriptors behind, starts the container, tells the caller how
 * the start went, copies the container's output into its capped log, records the exit and
 * cleans up. The monitor holds the container's lock for all of that: a free lock means no
 * monitor, whatever state.json says. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct start_report {
    int32_t ok;
    int32_t pid;
    struct sync_msg err;
};

static void send_report(int fd, const struct start_report *r)
{
    /* the caller may be gone (killed mid-run): nothing to do about it but go on */
    (void)!write(fd, r, sizeof(*r));
}

/* The monitor's program after the start: berth-monitor beside the berth binary (a build
 * tree, a copied tree), else in the LIBEXECDIR berth was built for (an installed berth), if
 * only root can change it. Its fresh, small address space is what each running container
 * costs for as long as it runs; staying in berth keeps every page that berth's start-up
 * dirtied. */
static int open_monitor_program(void)
{
    int fd = self_open_sibling("berth-monitor");
    if (fd < 0)
        fd = open(BERTH_LIBEXECDIR "/berth-monitor", O_PATH | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 &&
        (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void exec_monitor_program(struct container *c, bool remove, int out, int err_fd)
{
    int prog = open_monitor_program();
    if (prog < 0) {
        debugf("no usable berth-monitor beside berth or in " BERTH_LIBEXECDIR
               ": monitoring in place");
        return;
    }
    int fds[] = {c->runrootfd, c->dirfd, c->lockfd, out, err_fd};
    char nums[ARRAY_SIZE(fds)][16];
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        fcntl(fds[i], F_SETFD, 0); /* these, and only these, cross the exec */
        snprintf(nums[i], sizeof(nums[i]), "%d", fds[i]);
    }
    char pid[16], started[40];
    snprintf(pid, sizeof(pid), "%d", (int)c->st.pid);
    format_rfc3339(&c->st.started, started);
    char *argv[] = {"berth-monitor",
                    nums[0],
                    nums[1],
                    nums[2],
                    nums[3],
                    nums[4],
                    pid,
                    c->st.id,
                    c->name,
                    started,
                    remove ? "1" : "0",
                    (char *)c->cgroup_parent,
                    (char *)c->cgroup_name,
                    NULL};
    const char *debug = getenv("BERTH_DEBUG");
    char debug_env[32];
    snprintf(debug_env, sizeof(debug_env), "BERTH_DEBUG=%s", debug ? debug : "");
    /* berth-monitor's stall points (runtime_test_stall) */
    const char *stall = getenv("BERTH_TEST_STALL");
    char stall_env[64];
    snprintf(stall_env, sizeof(stall_env), "BERTH_TEST_STALL=%s", stall ? stall : "");
    /* the trace fd crosses the exec like the five above, named in the environment: berth-monitor
     * traces up to its loop and closes it, so that it does not hold the caller's stderr */
    char trace_env[32] = "BERTH_TRACE=", trace_fd_env[32] = "BERTH_TRACE_FD=";
    if (trace_enabled()) {
        fcntl(trace_fd(), F_SETFD, 0);
        snprintf(trace_env, sizeof(trace_env), "BERTH_TRACE=1");
        snprintf(trace_fd_env, sizeof(trace_fd_env), "BERTH_TRACE_FD=%d", trace_fd());
    }
    char *envp[] = {debug_env, stall_env, trace_env, trace_fd_env, NULL};
    trace_phase("exec-berth-monitor");
    fexecve(prog, argv, envp);
    debugf("exec berth-monitor: %s: monitoring in place", strerror(errno));
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    if (trace_enabled())
        fcntl(trace_fd(), F_SETFD, FD_CLOEXEC);
    close(prog);
}

static void record_start_failure(struct container *c, const struct berr *start_err)
{
    c->st.exit_code = runtime_start_exit_code(start_err->kind);
    c->st.error = start_err->msg;
    container_record(c, STATUS_CREATED);
}

/* Out of the caller's cgroup where a service manager would kill it with the caller (see
 * cgroup/home.c); a monitor that cannot move on runs on where it is. */
static void leave_callers_cgroups(const struct cgroup_home *home, bool in_v2)
{
    struct berr err = {0};
    if (home && cgroup_home_join(home, in_v2, &err) < 0)
        debugf("monitor: stays in the caller's cgroups: %s", err.msg);
}

static __attribute__((noreturn)) void monitor_main(struct container *c, bool remove_on_exit,
                                                   struct init_args *a, int report_fd,
                                                   const struct cgroup_home *home, bool in_v2)
{
    trace_child("monitor");
    leave_callers_cgroups(home, in_v2);
    trace_phase("leave-cgroups");
    setsid();
    signal(SIGPIPE, SIG_IGN);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int out[2], errp[2];
    if (devnull < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        _exit(1);
    /* none of the caller's descriptors may stay open here: a pipe held by a monitor would keep
     * whoever reads the caller's output to EOF waiting for as long as the container runs */
    for (int i = 0; i < 3; i++)
        dup2(devnull, i);
    const int keep[] = {c->runrootfd, c->dirfd, c->lockfd, report_fd, devnull,
                        out[0],       out[1],   errp[0],   errp[1],   trace_fd()};
    close_fds_except(keep, ARRAY_SIZE(keep));
    (void)!chdir("/");
    trace_phase("detach");

    a->stdio[0] = devnull;
    a->stdio[1] = out[1];
    a->stdio[2] = errp[1];
    struct berr err = {0};
    struct start_report r = {0};
    if (container_start(c, a, &err) < 0) {
        record_start_failure(c, &err);
        r.err.errnum = err.errnum;
        r.err.kind = (int32_t)err.kind;
        snprintf(r.err.msg, sizeof(r.err.msg), "%s", err.msg);
        send_report(report_fd, &r);
        if (remove_on_exit)
            container_destroy(c);
        _exit(0);
    }
    close(out[1]);
    close(errp[1]);
    close(devnull);
    r.ok = 1;
    r.pid = c->st.pid;
    send_report(report_fd, &r);
    close(report_fd);
    trace_phase("report");
    exec_monitor_program(c, remove_on_exit, out[0], errp[0]);
    trace_end(); /* monitoring in place: the caller's stderr is not the monitor's to keep */
    monitor_after_start(c, remove_on_exit, out[0], errp[0]);
    _exit(0);
}

static int read_report(int fd, struct start_report *r, bool *died, struct berr *err)
{
    ssize_t n;
    do {
        n = read(fd, r, sizeof(*r));
    } while (n < 0 && errno == EINTR);
    *died = n != (ssize_t)sizeof(*r);
    if (*died)
        return berr_set(err, BERR_FAILED, "the container's monitor died before the start");
    if (r->ok)
        return 0;
    r->err.msg[sizeof(r->err.msg) - 1] = '\0';
    memcpy(err->msg, r->err.msg, sizeof(err->msg));
    err->errnum = r->err.errnum;
    err->kind = (enum berr_kind)r->err.kind;
    return -1;
}

static struct cgroup_home *monitor_home(void)
{
    struct cgroup_home *home = NULL;
    struct berr err = {0};
    if (cgroup_monitor_home(&home, &err) < 0)
        debugf("monitor: stays in the caller's cgroups: %s", err.msg);
    return home;
}

static int start_monitor(struct container *c, bool remove_on_exit, struct init_args *a, bool *died,
                         struct berr *err)
{
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0)
        return berr_errno(err, "pipe");
    struct cgroup_home *home = monitor_home();
    trace_phase("monitor-home");
    /* born in its cgroup2 home when there is one: moving there later would cost a grace period */
    pid_t pid = clone_into_cgroup(0, home ? cgroup_home_clone_fd(home) : -1);
    bool in_v2 = pid >= 0;
    if (pid < 0)
        pid = fork();
    if (pid == 0) {
        close(rp[0]);
        monitor_main(c, remove_on_exit, a, rp[1], home, in_v2);
    }
    trace_phase("monitor-clone");
    cgroup_home_free(home);
    close(rp[1]);
    _cleanup_close_ int report = rp[0];
    if (pid < 0)
        return berr_errno(err, "start the container's monitor");
    struct start_report r;
    int rc = read_report(report, &r, died, err);
    trace_phase("monitor-report");
    return rc;
}

/* A monitor that died before its report may have recorded nothing of the start: the caller
 * still holds the container's lock (the monitor shared it) and writes down why the start
 * failed. A monitor that got as far as "running" is left to readers, who see it dead. */
static void record_monitor_death(struct container *c, const struct berr *start_err)
{
    struct container_state now = {0};
    _cleanup_free_ char *error = NULL;
    struct berr rerr = {0};
    if (state_read(c->dirfd, &now, &error, &rerr) < 0 || now.status != STATUS_CREATED)
        return;
    record_start_failure(c, start_err);
}

int runtime_run_detached(const struct runtime_paths *paths, struct container_spec *spec,
                         char id_out[65], struct berr *err)
{
    struct init_args a;
    struct container c;
    if (container_create(paths, spec, &c, &a, err) < 0) {
        container_close(&c);
        return -1;
    }
    /* a failed start leaves the container "created" with its error, as docker does */
    bool died = false;
    int rc = start_monitor(&c, spec->remove_on_exit, &a, &died, err);
    if (rc < 0 && died)
        record_monitor_death(&c, err);
    memcpy(id_out, c.st.id, 65);
    container_close(&c);
    return rc;
}
