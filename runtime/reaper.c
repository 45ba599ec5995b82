/* The monitor's part after the start: copy the container's output into its log, record the
 * exit, clean up. Kept apart from creation so the monitor can run as the small berth-monitor
 * program (see monitor.c), which links this file and little else. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

void container_destroy(struct container *c)
{
    struct berr rm_err = {0};
    /* best effort: the caller is already reporting the error that brought us here */
    if (c->dirfd >= 0 && container_dir_remove(c->runrootfd, c->st.id, c->name, &rm_err) < 0)
        debugf("remove container %.12s: %s", c->st.id, rm_err.msg);
    else if (c->dirfd < 0 && c->name)
        name_release(c->runrootfd, c->name, c->st.id);
}

/* Once the command runs, a record that cannot be written must not cost the caller the exit
 * status it waits for: readers keep seeing the previous record. */
void container_record(struct container *c, enum container_status status)
{
    c->st.status = status;
    clock_gettime(CLOCK_REALTIME, status == STATUS_RUNNING ? &c->st.started : &c->st.finished);
    struct berr werr = {0};
    int rc = c->record_ahead.fd >= 0 ? state_write_ahead(&c->record_ahead, &c->st, &werr)
                                     : state_write(c->dirfd, &c->st, &werr);
    if (rc < 0)
        debugf("container %.12s: %s", c->st.id, werr.msg);
}

void container_drop_cgroups(struct container *c)
{
    struct berr cerr = {0};
    if (c->cgroups && cgroup_destroy(c->cgroups, &cerr) < 0)
        debugf("container %.12s: %s", c->st.id, cerr.msg);
    c->cgroups = NULL;
}

/* Record the exit before reaping pid 1: while its zombie exists the pid cannot be reused, so
 * whoever reads "running" with this pid may still signal it safely. */
int container_record_exit(struct container *c, pid_t pid, struct berr *err)
{
    siginfo_t si = {0};
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) {
        if (errno != EINTR)
            return berr_errno(err, "wait for container");
    }
    c->st.exit_code = siginfo_exit_status(&si);
    c->st.pid = 0;
    container_record(c, STATUS_EXITED);
    trace_phase("exit-recorded");
    runtime_test_stall("recorded");
    return 0;
}

void container_collect(struct container *c, pid_t pid)
{
    waitpid(pid, NULL, 0);
    trace_phase("reaped");
    /* berth-monitor finds the container's cgroups only now: a running container's keeper
     * holds none of their directories */
    struct berr cerr = {0};
    if (!c->cgroups && c->cgroup_name &&
        cgroup_open(c->cgroup_parent, c->cgroup_name, &c->cgroups, &cerr) < 0)
        debugf("container %.12s: %s", c->st.id, cerr.msg);
    /* an exited container keeps its state until rm, but not its cgroups (docker) */
    container_drop_cgroups(c);
    trace_phase("cgroups-removed");
}

void container_release_waiters(struct container *c)
{
    flock(c->lockfd, LOCK_UN);
}

void held_ns_close(struct container *c)
{
    for (size_t i = 0; i < HELD_NS; i++) {
        if (c->held_ns[i] >= 0)
            close(steal_fd(&c->held_ns[i]));
    }
}

void container_release_mounts(struct container *c)
{
    held_ns_close(c);
    mounts_lock_release(c->lockfd);
}

/* Once pid 1 has exited, every other process of the container is gone too (the end of a pid
 * namespace kills them all before its init can be reaped), so what is left of the output is
 * already in the pipes. A writer that still holds a pipe is outside the container (an fd
 * passed over a socket) and must not keep the exit from being recorded: the rest is read
 * until the pipes are quiet for DRAIN_QUIET_MS, DRAIN_MAX_MS at most. */
#define DRAIN_QUIET_MS 200
#define DRAIN_MAX_MS 1000
/* without a pidfd, how often to look whether pid 1 has exited */
#define EXIT_POLL_MS 100

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool has_exited(pid_t pid)
{
    siginfo_t si = {0};
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

static void copy_chunk(int fd, enum log_stream stream, struct log_writer *log, int *slot)
{
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
        struct berr lerr = {0};
        if (log && log_writer_append(log, stream, buf, (size_t)n, &lerr) < 0)
            debugf("log: %s", lerr.msg);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        *slot = -1;
    }
}

/* Copy the container's stdout and stderr into the log until both pipes are closed, or until
 * they have been drained after pid 1's exit. */
static void pump_output(pid_t pid, int pidfd, int out, int err_fd, struct log_writer *log)
{
    struct pollfd p[3] = {{.fd = out, .events = POLLIN},
                          {.fd = err_fd, .events = POLLIN},
                          {.fd = pidfd, .events = POLLIN}};
    long long drain_end = -1; /* set when pid 1 has exited */
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        int timeout = -1;
        if (drain_end >= 0) {
            long long left = drain_end - now_ms();
            if (left <= 0)
                break;
            timeout = left < DRAIN_QUIET_MS ? (int)left : DRAIN_QUIET_MS;
        } else if (p[2].fd < 0) {
            timeout = EXIT_POLL_MS;
        }
        int ready = poll(p, 3, timeout);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0 || (ready == 0 && drain_end >= 0))
            break;
        if (drain_end < 0 && (p[2].revents || (p[2].fd < 0 && has_exited(pid)))) {
            drain_end = now_ms() + DRAIN_MAX_MS;
            p[2].fd = -1;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd >= 0 && p[i].revents)
                copy_chunk(p[i].fd, i == 0 ? LOG_STDOUT : LOG_STDERR, log, &p[i].fd);
        }
    }
}

void monitor_after_start(struct container *c, bool remove_on_exit, int out, int err_fd)
{
    struct berr err = {0};
    struct log_writer *log = NULL;
    if (log_writer_open(c->dirfd, LOG_MAX_BYTES, &log, &err) < 0)
        debugf("log: %s", err.msg);
    pid_t pid = c->st.pid;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    pump_output(pid, pidfd, out, err_fd, log);
    trace_phase("exit-seen");
    runtime_test_stall("exit");
    if (container_record_exit(c, pid, &err) < 0)
        debugf("container %.12s: %s", c->st.id, err.msg);
    if (log)
        log_writer_close(log);
    if (remove_on_exit) {
        /* before the record goes: no one could find the cgroups after it */
        container_collect(c, pid);
        runtime_test_stall("reaped");
        container_destroy(c);
    }
    /* the last line a woken `wait` can find */
    trace_phase(remove_on_exit ? "removed" : "log-closed");
    trace_end();
    container_release_waiters(c);
    /* a waiter woken on this CPU goes first, not after the cleanup below */
    sched_yield();
    runtime_test_stall("mounts-held");
    /* `wait` has its answer: the rest is off its way (rm and start wait for the mounts lock,
     * let go of after it). A writer outside the container now gets EPIPE instead of filling a
     * pipe no one reads. */
    close(out);
    close(err_fd);
    if (pidfd >= 0)
        close(pidfd);
    if (!remove_on_exit)
        container_collect(c, pid);
    atomic_file_discard(&c->record_ahead); /* an exit never recorded */
    container_release_mounts(c);
}

static int arg_fd(const char *s)
{
    long long v;
    return parse_long(s, 0, 1 << 20, &v) == 0 ? (int)v : -1;
}

void held_ns_format(const int held[HELD_NS], char out[HELD_NS_ARG_MAX])
{
    size_t n = 0;
    for (size_t i = 0; i < HELD_NS; i++)
        n += (size_t)snprintf(out + n, HELD_NS_ARG_MAX - n, "%s%d", i ? "," : "", held[i]);
}

bool held_ns_parse(const char *s, int held[HELD_NS])
{
    for (size_t i = 0; i < HELD_NS; i++) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < -1 || v > INT32_MAX || *end != (i + 1 < HELD_NS ? ',' : '\0'))
            return false;
        held[i] = (int)v;
        s = end + 1;
    }
    return true;
}

/* The caller's stderr is let go; a traced start goes on in the state directory, where a
 * traced `wait` finds the exit's phases (an earlier start's lines are dropped by runtime_start,
 * the one start that can find them). */
static void trace_to_state_dir(int dirfd)
{
    if (trace_enabled())
        trace_move(openat(dirfd, EXIT_TRACE_FILE,
                          O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
}

/* berth-monitor RUNROOTFD DIRFD LOCKFD OUTFD ERRFD HELDNS PID ID NAME STARTED RM CGROUP_PARENT
 * CGROUP_NAME (config.json's cgroupsPath, as the start read it): the fds are inherited from the
 * monitor that exec'd it (pid 1 is its child already); HELDNS is held_ns_format's. */
int runtime_monitor_main(int argc, char **argv)
{
    if (argc != 14)
        return 2;
    const char *tfd = getenv("BERTH_TRACE_FD");
    long long n_tfd = -1;
    if (tfd && parse_long(tfd, 3, INT32_MAX, &n_tfd) == 0)
        trace_begin_fd("berth-monitor", (int)n_tfd);
    trace_phase("exec");
    struct container c = {CONTAINER_NO_FDS};
    c.runrootfd = arg_fd(argv[1]);
    c.dirfd = arg_fd(argv[2]);
    c.lockfd = arg_fd(argv[3]);
    int out = arg_fd(argv[4]), err_fd = arg_fd(argv[5]);
    long long pid;
    if (c.runrootfd < 0 || c.dirfd < 0 || c.lockfd < 0 || out < 0 || err_fd < 0 ||
        !held_ns_parse(argv[6], c.held_ns) || parse_long(argv[7], 1, INT32_MAX, &pid) < 0 ||
        strlen(argv[8]) != 64)
        return 2;
    memcpy(c.st.id, argv[8], 65);
    c.name = argv[9];
    c.st.name = c.name;
    c.st.pid = (pid_t)pid;
    c.st.status = STATUS_RUNNING;
    parse_rfc3339(argv[10], &c.st.started);
    c.cgroup_parent = argv[12];
    c.cgroup_name = argv[13];
    const int keep[] = {c.runrootfd,  c.dirfd,      c.lockfd,     out,       err_fd,
                        c.held_ns[0], c.held_ns[1], c.held_ns[2], trace_fd()};
    close_fds_except(keep, ARRAY_SIZE(keep));
    struct berr err = {0};
    if (atomic_file_open(c.dirfd, STATE_FILE, 0600, &c.record_ahead, &err) < 0)
        debugf("container %.12s: %s", c.st.id, err.msg); /* written the usual way then */
    trace_phase("ready");
    trace_to_state_dir(c.dirfd);
    monitor_after_start(&c, !strcmp(argv[11], "1"), out, err_fd);
    return 0;
}
