/* run -d: the caller creates the container, then forks a small monitor that leaves the
 * caller's session and file descriptors behind, starts the container, tells the caller how
 * the start went, copies the container's output into its capped log, records the exit and
 * cleans up. The monitor holds the container's lock for all of that: a free lock means no
 * monitor, whatever state.json says. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct start_report {
    int32_t ok;
    int32_t pid;
    int32_t exit_code; /* a foreground run's: the container's exit status */
    struct sync_msg err;
};

static void report_failure(struct start_report *r, const struct berr *err)
{
    r->ok = 0;
    sync_msg_from_berr(&r->err, err);
}

static void send_report(int fd, const struct start_report *r)
{
    /* the caller may be gone (killed mid-run): nothing to do about it but go on */
    (void)!write(fd, r, sizeof(*r));
}

static void record_start_failure(struct container *c, const struct berr *start_err)
{
    c->st.exit_code = runtime_start_exit_code(start_err->kind);
    c->st.error = start_err->msg;
    container_record(c, STATUS_CREATED);
}

/* Away from the caller: its session, its descriptors (a pipe held by a monitor would keep
 * whoever reads the caller's output to EOF waiting for as long as the container runs), its
 * cwd. keep: the descriptors that stay. */
static void detach_from_caller(const int *keep, size_t n)
{
    setsid();
    signal(SIGPIPE, SIG_IGN);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        _exit(1);
    for (int i = 0; i < 3; i++)
        dup2(devnull, i);
    close_fds_except(keep, n);
    (void)!chdir("/");
    trace_phase("detach");
}

/* Start the container, tell the caller how it went on report_fd, then keep it: as
 * berth-monitor when there is one, else in place. */
static __attribute__((noreturn)) void start_and_keep(struct container *c, bool remove_on_exit,
                                                     struct init_args *a, int report_fd)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int out[2], errp[2];
    if (devnull < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        _exit(1);
    a->stdio[0] = devnull;
    a->stdio[1] = out[1];
    a->stdio[2] = errp[1];
    struct berr err = {0};
    struct start_report r = {0};
    if (container_start(c, a, &err) < 0) {
        if (a->caller_gave_up)
            _exit(0); /* it removes the container itself (container_create_finish) */
        /* before the caller, told, removes the container */
        container_release_mounts(c);
        record_start_failure(c, &err);
        report_failure(&r, &err);
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
    /* the caller, woken by the report, is often put on this CPU (cpu_apart): let it hand back
     * before berth-monitor's exec takes the CPU for half a millisecond */
    sched_yield();
    trace_phase("report");
    exec_monitor_program(c, remove_on_exit, out[0], errp[0]);
    trace_end(); /* monitoring in place: the caller's stderr is not the monitor's to keep */
    monitor_after_start(c, remove_on_exit, out[0], errp[0]);
    _exit(0);
}

static __attribute__((noreturn)) void monitor_main(struct container *c, bool remove_on_exit,
                                                   struct init_args *a, int report_fd,
                                                   const struct cgroup_home *home, bool in_v2)
{
    trace_child("monitor");
    a->leave_callers_cgroups = true;
    a->leave_home = home;
    a->leave_home_in_v2 = in_v2;
    const int keep[] = {c->runrootfd, c->dirfd, c->lockfd, report_fd, trace_fd()};
    detach_from_caller(keep, ARRAY_SIZE(keep));
    start_and_keep(c, remove_on_exit, a, report_fd);
}

/* A monitor that fails before it reads the caller's second go (its cidfile written) leaves
 * that go unread: its end closing then makes this socket report a reset ahead of the report
 * it queued, which is still there to read. */
static int read_report(int fd, struct start_report *r, bool *died, struct berr *err)
{
    ssize_t n;
    do {
        n = read(fd, r, sizeof(*r));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ECONNRESET)
        n = recv(fd, r, sizeof(*r), MSG_DONTWAIT);
    *died = n != (ssize_t)sizeof(*r);
    if (*died)
        return berr_set(err, BERR_FAILED, "the container's monitor died before the start");
    if (r->ok)
        return 0;
    sync_msg_to_berr(&r->err, err);
    return -1;
}

/* with_v1 false: the cgroup2 part alone, for a monitor spawned from the clone, which finds
 * and joins the v1 parts itself once its container is cloned (leave_callers_cgroups). */
static struct cgroup_home *monitor_home(bool with_v1)
{
    struct cgroup_home *home = NULL;
    struct berr err = {0};
    if ((with_v1 ? cgroup_monitor_home : cgroup_monitor_home_v2)(&home, &err) < 0)
        debugf("monitor: stays in the caller's cgroups: %s", err.msg);
    return home;
}

static int start_monitor(struct container *c, bool remove_on_exit, struct init_args *a, bool *died,
                         struct berr *err)
{
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0)
        return berr_errno(err, "pipe");
    struct cgroup_home *home = monitor_home(true);
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

/* ---- run -d from berth's own binary: the monitor first --------------------------------------
 * What enters a container must run from a read-only clone of berth's binary (selfexe.c).
 * Rather than re-execute all of run -d from one first, the caller starts the monitor at
 * once, which re-executes itself from a clone (`berth __monitor FD`) while the caller creates
 * the container; the container then goes to it over a socket. The exec (~0.6 ms here) runs
 * beside the create, on the other CPU, instead of before it. */

struct handoff {
    int32_t remove_on_exit;
    int32_t interactive;    /* a foreground run's -i */
    struct cpu_apart apart; /* the caller's CPUs, which the monitor takes back */
    int64_t created_sec, created_nsec;
    char id[65];
    char name[256]; /* a name longer than a file name was refused at its reservation */
    char runroot[PATH_MAX];
};
#define HANDOFF_FDS 3 /* the state root, the container's directory, its lock */

/* What a monitor's child reads until its exec, in memory it shares with the caller: kept
 * by the caller until then (monitor_link_close). */
struct monitor_spawn {
    struct spawn_beside child;
    int clone;
    bool in_v2; /* set by spawn_beside before the child runs */
    char *argv0;
    char fd[16], clone_fd[16];
    char *argv[7];
    struct monitor_env env;
};

/* The caller's end of a monitor it spawned. */
struct monitor_link {
    int sock;
    pid_t pid;
    struct cpu_apart apart; /* the caller's CPUs: the monitor takes them back with the handoff */
    struct monitor_spawn *spawn;
};

SPAWN_BESIDE_CHILD static int exec_monitor(void *arg)
{
    struct monitor_spawn *m = arg;
    /* whether it was born in its cgroup2 home: moving there later would cost a grace period */
    m->argv[3] = m->in_v2 ? "1" : "0";
    /* The monitor closes the clone's fd, not the caller, and only once the container runs
     * (runtime_monitor_serve): the last close of a detached mount unmounts it and waits for an
     * RCU grace period (0.2-0.4 ms here). */
    raw_syscall(SYS_fcntl, m->clone, F_SETFD, 0, 0, 0);
    /* on failure, the caller sees the socket close: "the container's monitor died" */
    return spawn_beside_exec(&m->child, m->clone, m->argv, m->env.envp);
}

static void monitor_spawn_free(struct monitor_spawn *m)
{
    if (!m)
        return;
    spawn_beside_wait(&m->child);
    free(m->argv0);
    free(m);
}

/* The socket closed (an unused monitor sees it and leaves), and the spawn's memory let go once
 * the monitor has exec'd, which it has long done by then. */
static void monitor_link_close(struct monitor_link *l)
{
    if (l->sock >= 0)
        close(l->sock);
    l->sock = -1;
    monitor_spawn_free(l->spawn);
    l->spawn = NULL;
}

/* The program a monitor runs, from a read-only clone of it (selfexe.c): berth-runtime when
 * there is one and the container stays in the host's network namespace, else berth itself.
 * berth-runtime is static and small: no dynamic loader, and of the image store's libraries
 * only libcrypto (the filter's digest), without nettle's and liblzma's start-up CPU probes (~4 us
 * a cpuid in a VM). Its exec is on the start's path, and it made a Storm worker's start ~0.3 ms
 * shorter here. It cannot bring up a lo: that takes
 * libmnl, which Debian ships only as a shared library, and a static program loads none. */
static int monitor_program(enum net_mode net, char **argv0, struct berr *err)
{
    int clone = net == NET_HOST ? program_readonly_clone(RUNTIME_PROGRAM, argv0) : -1;
    return clone >= 0 ? clone : self_readonly_clone(argv0, err);
}

/* The monitor shares the caller's memory until its exec (spawn_beside): a forked copy that
 * lived on while the caller creates the container would make each page either of them
 * writes a copy (0.5 ms and more of faults here), and even a copy that execs at once costs
 * the caller the copy of its page tables (0.1 ms) and a fault on each page it writes next.
 * It detaches from the caller after its exec, or stays attached (runtime_monitor_serve). */
static int spawn_monitor(struct monitor_link *l, bool attached, enum net_mode net, struct berr *err)
{
    *l = (struct monitor_link){.sock = -1};
    struct monitor_spawn *m = xcalloc(1, sizeof(*m));
    /* the child reads m->clone until its exec: the caller closes its own copy through this */
    _cleanup_close_ int clone = m->clone = monitor_program(net, &m->argv0, err);
    int sv[2];
    if (clone < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        monitor_spawn_free(m);
        return clone < 0 ? -1 : berr_errno(err, "socketpair");
    }
    snprintf(m->fd, sizeof(m->fd), "%d", sv[1]);
    snprintf(m->clone_fd, sizeof(m->clone_fd), "%d", clone);
    char *argv[] = {m->argv0,
                    RUNTIME_MONITOR_COMMAND,
                    m->fd,
                    NULL,
                    attached ? "attached" : "detached",
                    m->clone_fd,
                    NULL};
    memcpy(m->argv, argv, sizeof(argv));
    monitor_env_make(&m->env);
    fcntl(sv[1], F_SETFD, 0);
    struct cgroup_home *home = monitor_home(false);
    cpu_apart_plan(&l->apart);
    pid_t pid = spawn_beside(&m->child, exec_monitor, m, home ? cgroup_home_clone_fd(home) : -1,
                             &m->in_v2, &l->apart);
    int saved = errno;
    /* the child has the fd table as it was at the clone: these are the caller's alone */
    if (trace_enabled())
        fcntl(trace_fd(), F_SETFD, FD_CLOEXEC);
    cgroup_home_free(home);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        monitor_spawn_free(m);
        return berr_errnum(err, saved, "start the container's monitor");
    }
    l->sock = sv[0];
    l->pid = pid;
    l->spawn = m;
    return 0;
}

static int send_handoff(int sock, const struct container *c, bool remove_on_exit, bool interactive,
                        const struct cpu_apart *apart, const char *runroot, struct berr *err)
{
    struct handoff h = {.remove_on_exit = remove_on_exit,
                        .interactive = interactive,
                        .apart = *apart,
                        .created_sec = c->st.created.tv_sec,
                        .created_nsec = c->st.created.tv_nsec};
    memcpy(h.id, c->st.id, sizeof(h.id));
    if ((size_t)snprintf(h.name, sizeof(h.name), "%s", c->name) >= sizeof(h.name) ||
        (size_t)snprintf(h.runroot, sizeof(h.runroot), "%s", runroot) >= sizeof(h.runroot))
        return berr_set(err, BERR_FAILED, "container %.12s: name or state root too long", c->st.id);
    const int fds[HANDOFF_FDS] = {c->runrootfd, c->dirfd, c->lockfd};
    if (send_with_fds(sock, &h, sizeof(h), fds, HANDOFF_FDS) != (ssize_t)sizeof(h))
        return berr_errno(err, "hand container %.12s to its monitor", c->st.id);
    return 0;
}

/* A start given up after the go, before the second: the monitor, told no more, lets go of the
 * child and its cgroups and leaves, and then the container is removed as any create that
 * failed. */
static void abandon_start(const struct monitor_link *l, struct container *c)
{
    shutdown(l->sock, SHUT_WR);
    char drain[64];
    ssize_t n;
    do {
        n = recv(l->sock, drain, sizeof(drain), 0);
    } while (n > 0 || (n < 0 && errno == EINTR));
    container_destroy(c);
}

/* The container c to the monitor once its description is written, then the rest of its files
 * (container_create_finish: the monitor reads the description back meanwhile), then the go;
 * then the caller's own cidfile, written while the monitor builds the container, and the
 * second go, which lets the container run. *gone: the container was removed (a file failed). */
static int send_container(const struct monitor_link *l, struct container *c, bool remove_on_exit,
                          const char *runroot, const struct container_spec *spec, bool *gone,
                          struct berr *err)
{
    *gone = false;
    if (send_handoff(l->sock, c, remove_on_exit, spec && spec->interactive, &l->apart, runroot,
                     err) < 0)
        return -1;
    trace_phase("handoff");
    runtime_test_stall("handed");
    /* no go, no start: the monitor leaves the container to us */
    if (spec && container_create_finish(c, spec, err) < 0) {
        *gone = true;
        return -1;
    }
    if (send(l->sock, (char[]){GO_BYTE}, 1, MSG_NOSIGNAL) != 1)
        return berr_errno(err, "start container %.12s", c->st.id);
    runtime_test_stall("go");
    if (spec && container_write_cidfile(c, spec, err) < 0) {
        abandon_start(l, c);
        *gone = true;
        return -1;
    }
    /* a monitor that cannot take it has failed the start already: its report says why */
    (void)send(l->sock, (char[]){GO_BYTE}, 1, MSG_NOSIGNAL);
    return 0;
}

/* The container c (made, its lock held) to the monitor at the other end of sock, which starts
 * and keeps it; how the start went. A failed start leaves the container "created" with its
 * error, as docker does. */
static int hand_over(const struct monitor_link *l, struct container *c, bool remove_on_exit,
                     const char *runroot, const struct container_spec *spec, struct berr *err)
{
    bool died = true, gone = false;
    struct start_report r;
    int rc = send_container(l, c, remove_on_exit, runroot, spec, &gone, err);
    if (gone)
        return -1;
    if (rc == 0)
        rc = read_report(l->sock, &r, &died, err);
    trace_phase("monitor-report");
    if (rc < 0 && died)
        record_monitor_death(c, err);
    return rc;
}

/* The same from a berth that runs from a read-only clone already: its fork is the monitor. */
static int fork_monitor(struct container *c, bool remove_on_exit, struct init_args *a,
                        struct berr *err)
{
    bool died = false;
    int rc = start_monitor(c, remove_on_exit, a, &died, err);
    if (rc < 0 && died)
        record_monitor_death(c, err);
    return rc;
}

struct runtime_monitor {
    struct monitor_link link;
    /* attached: where the signals it takes over wait, blocked (signals_forward_fd), and the
     * mask they were blocked from; -1 for a detached monitor */
    int sfd;
    sigset_t old;
};

int runtime_monitor_ahead(struct runtime_monitor **out, bool attached, enum net_mode net,
                          struct berr *err)
{
    *out = NULL;
    if (self_is_readonly_clone())
        return 0; /* its own fork will be the monitor (fork_monitor) */
    struct runtime_monitor *m = xcalloc(1, sizeof(*m));
    m->link = (struct monitor_link){.sock = -1};
    m->sfd = -1;
    /* blocked before the spawn: the monitor inherits them blocked, and its own signalfd passes
     * on to pid 1 whatever came before the container ran */
    if ((attached && (m->sfd = signals_forward_fd(&m->old, err)) < 0) ||
        spawn_monitor(&m->link, attached, net, err) < 0) {
        runtime_monitor_free(m);
        return -1;
    }
    trace_phase("monitor-spawn");
    *out = m;
    return 0;
}

void runtime_monitor_free(struct runtime_monitor *m)
{
    if (!m)
        return;
    monitor_link_close(&m->link);
    if (m->sfd >= 0) {
        close(m->sfd);
        sigprocmask(SIG_SETMASK, &m->old, NULL);
    }
    free(m);
}

static int run_detached_monitor_first(const struct runtime_paths *paths,
                                      struct container_spec *spec, struct runtime_monitor *ahead,
                                      char id_out[65], struct berr *err)
{
    if (!ahead && runtime_monitor_ahead(&ahead, false, spec->net, err) < 0)
        return -1;
    struct monitor_link l = ahead->link;
    free(ahead);
    struct init_args a;
    struct container c;
    /* a failed create: the monitor sees the socket close and leaves */
    int rc = container_create_state(paths, spec, &c, &a, err);
    if (rc == 0) {
        rc = hand_over(&l, &c, spec->remove_on_exit, paths->runroot, spec, err);
        memcpy(id_out, c.st.id, 65);
    }
    container_close(&c);
    monitor_link_close(&l);
    return rc;
}

int runtime_run_detached(const struct runtime_paths *paths, struct container_spec *spec,
                         struct runtime_monitor *ahead, char id_out[65], struct berr *err)
{
    if (!self_is_readonly_clone())
        return run_detached_monitor_first(paths, spec, ahead, id_out, err);
    runtime_monitor_free(ahead);
    struct init_args a;
    struct container c;
    if (container_create(paths, spec, &c, &a, err) < 0) {
        container_close(&c);
        return -1;
    }
    int rc = fork_monitor(&c, spec->remove_on_exit, &a, err);
    memcpy(id_out, c.st.id, 65);
    container_close(&c);
    return rc;
}

/* ---- run without -d from berth's own binary: a monitor that stays attached ----------------
 * The foreground run goes run -d's way (above), but its monitor stays attached to the caller:
 * the caller's stdio is the container's, it stays in the caller's cgroups, dies with the caller
 * (PDEATHSIG, as pid 1 dies with it), and its last report is the exit status the caller exits
 * with. The caller passes the signals it gets on to the monitor, which passes them on to pid 1
 * (docker's sig-proxy); the monitor has a process group of its own, so that a terminal's ^C
 * reaches the container once. */

/* The caller's end: signals passed on to the monitor until its report. */
static int await_final_report(const struct monitor_link *l, int sfd, struct start_report *r,
                              bool *died, struct berr *err)
{
    struct pollfd p[2] = {{.fd = l->sock, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return berr_errno(err, "wait for the container");
        }
        if (p[1].revents)
            signal_forward_pending(sfd, l->pid);
        if (p[0].revents)
            return read_report(l->sock, r, died, err);
    }
}

static int run_attached_with(const struct monitor_link *l, const struct runtime_paths *paths,
                             struct container_spec *spec, int sfd, int *status, struct berr *err)
{
    struct init_args a;
    struct container c;
    int rc = container_create_state(paths, spec, &c, &a, err);
    if (rc == 0) {
        bool gone = false, died = true;
        struct start_report r;
        rc = send_container(l, &c, spec->remove_on_exit, paths->runroot, spec, &gone, err);
        if (rc == 0)
            rc = await_final_report(l, sfd, &r, &died, err);
        trace_phase("monitor-report");
        if (rc == 0)
            *status = r.exit_code;
        else if (died && !gone)
            record_monitor_death(&c, err);
    }
    container_close(&c);
    return rc;
}

int runtime_run(const struct runtime_paths *paths, struct container_spec *spec,
                struct runtime_monitor *ahead, int *status, struct berr *err)
{
    if (self_is_readonly_clone()) {
        runtime_monitor_free(ahead);
        return container_run_in_place(paths, spec, status, err);
    }
    if (!ahead && runtime_monitor_ahead(&ahead, true, spec->net, err) < 0)
        return -1;
    int rc = run_attached_with(&ahead->link, paths, spec, ahead->sfd, status, err);
    runtime_monitor_free(ahead);
    return rc;
}

/* The monitor's end: start, wait, remove with --rm (or after a failed start, as runtime_run),
 * report the outcome. */
static __attribute__((noreturn)) void run_attached(struct container *c, bool remove_on_exit,
                                                   bool interactive, int sock)
{
    struct init_args a = {.stdio = {-1, -1, -1}, .interactive = interactive, .go_fd = sock};
    struct berr err = {0};
    struct start_report r = {0};
    int rc = container_start(c, &a, &err);
    if (rc < 0 && a.caller_gave_up)
        _exit(0); /* it removes the container itself (container_create_finish) */
    if (rc == 0)
        rc = container_wait_exit(c, &err);
    if (rc < 0 || remove_on_exit) {
        container_destroy(c);
        trace_phase("destroy");
    }
    container_release_waiters(c);
    r.ok = 1;
    r.exit_code = c->st.exit_code;
    if (rc < 0)
        report_failure(&r, &err);
    /* traced before the send: the caller, woken by it, may exit first, and its death kills
     * this monitor (PDEATHSIG) before a line written after the send */
    trace_phase("report");
    send_report(sock, &r);
    /* after the report: the mounts' teardown is not the caller's to wait for. Killed by the
     * caller's exit in the middle, the close still completes before the kill is taken. */
    container_release_mounts(c);
    _exit(0);
}

/* Attached to the caller (the socket's other end, our parent): its stdio kept, the rest of
 * its descriptors closed, dying with it. */
static void stay_attached(int sock, const int *keep, size_t n)
{
    struct ucred peer;
    socklen_t len = sizeof(peer);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* a caller gone before the PDEATHSIG was set would never be noticed */
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || getppid() != peer.pid)
        _exit(0);
    setpgid(0, 0);
    signal(SIGPIPE, SIG_IGN);
    close_fds_except(keep, n);
    (void)!chdir("/");
    trace_phase("attach");
}

/* ---- berth start: a container that berth create made, or one that exited, goes to a monitor
 * as run -d's new one does ---- */

/* The container id opened as a monitor takes it over: its lock taken (*busy when another holds
 * it: a monitor keeps it running, or a create or start is under way), and what the monitor
 * would have been told by the create, from berth.json: the name, the creation time, --rm. */
static int open_for_start(const struct runtime_paths *paths, const char *id, struct container *c,
                          bool *remove_on_exit, bool *busy, struct berr *err)
{
    *c = (struct container){CONTAINER_NO_FDS};
    struct container_handle h;
    if (container_handle_open(paths, id, &h, err) < 0)
        return -1;
    c->runrootfd = h.root;
    c->dirfd = h.dir;
    close(h.lock);
    c->lockfd = lock_open(c->dirfd, O_RDWR, err);
    if (c->lockfd < 0)
        return -1;
    memcpy(c->st.id, id, 65);
    /* berth-oci's created containers wait in their init, which holds no lock */
    *busy = oci_init_alive(c->dirfd, NULL);
    if (!*busy && flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK)
            return berr_errno(err, "lock container %.12s", id);
        *busy = true;
    }
    if (*busy)
        return 0;
    if (mounts_lock_take(c->lockfd, err) < 0)
        return -1;
    /* the exit lines of a traced start before: not this start's */
    unlinkat(c->dirfd, EXIT_TRACE_FILE, 0);
    yajl_val rec = NULL;
    if (record_read(c->dirfd, &rec, err) < 0)
        return berr_wrap(err, "container %.12s", id);
    const char *name = json_get_str(rec, "Name");
    const char *created = json_get_str(rec, "Created");
    yajl_val auto_remove = json_get(json_get(rec, "HostConfig"), "AutoRemove");
    c->name = xstrdup(name ? name : "");
    c->st.name = c->name;
    if (created)
        parse_rfc3339(created, &c->st.created);
    *remove_on_exit = auto_remove && YAJL_IS_TRUE(auto_remove);
    yajl_tree_free(rec);
    c->st.status = STATUS_CREATED;
    c->dir_path = xasprintf("%s/containers/%s", paths->runroot, id);
    return 0;
}

int runtime_start(const struct runtime_paths *paths, const char *id, struct berr *err)
{
    struct container c;
    bool remove_on_exit = false, busy = false;
    int rc = open_for_start(paths, id, &c, &remove_on_exit, &busy, err);
    if (rc == 0 && !busy && self_is_readonly_clone()) {
        struct init_args a = {.stdio = {-1, -1, -1}};
        rc = fork_monitor(&c, remove_on_exit, &a, err);
    } else if (rc == 0 && !busy) {
        struct monitor_link l;
        /* its network namespace is in its description, which only the monitor reads */
        rc = spawn_monitor(&l, false, NET_NONE, err);
        if (rc == 0) {
            rc = hand_over(&l, &c, remove_on_exit, paths->runroot, NULL, err);
            monitor_link_close(&l);
        }
    }
    container_close(&c);
    return rc;
}

/* The handoff, with its fds, into c; -1 when the caller gave up before it (its create failed). */
static int receive_handoff(int sock, struct container *c, bool *remove_on_exit, bool *interactive)
{
    struct handoff h;
    int fds[HANDOFF_FDS];
    size_t n = 0;
    if (recv_with_fds(sock, &h, sizeof(h), fds, HANDOFF_FDS, &n) != (ssize_t)sizeof(h) ||
        n != HANDOFF_FDS) {
        for (size_t i = 0; i < n; i++)
            close(fds[i]);
        return -1;
    }
    h.id[sizeof(h.id) - 1] = h.name[sizeof(h.name) - 1] = h.runroot[sizeof(h.runroot) - 1] = '\0';
    *c = (struct container){CONTAINER_NO_FDS};
    c->runrootfd = fds[0];
    c->dirfd = fds[1];
    c->lockfd = fds[2];
    memcpy(c->st.id, h.id, sizeof(h.id));
    c->name = xstrdup(h.name);
    c->st.name = c->name;
    c->st.status = STATUS_CREATED;
    c->st.created = (struct timespec){.tv_sec = h.created_sec, .tv_nsec = h.created_nsec};
    c->dir_path = xasprintf("%s/containers/%s", h.runroot, h.id);
    *remove_on_exit = h.remove_on_exit != 0;
    *interactive = h.interactive != 0;
    /* Kept off the caller's CPU until here: released before the handoff, a monitor asleep in
     * the recv was woken on the caller's CPU, busy with the cidfile, and waited there for it.
     * Now the container it starts inherits all of them. */
    cpu_apart_release(&h.apart);
    return 0;
}

/* The read-only clone of berth's binary that the monitor was executed from (spawn_monitor), kept
 * open past the start: its last close waits for a grace period, which the exec of berth-monitor
 * (or the monitor's exit) then pays, after the report. -1 when arg names none. */
static int keep_binary_clone(const char *arg)
{
    long long fd;
    struct stat st;
    if (parse_long(arg, 3, INT32_MAX, &fd) < 0 || fstat((int)fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    return (int)fd;
}

int runtime_monitor_serve(int argc, char **argv)
{
    long long sock;
    struct stat st;
    /* root's alone (a setuid launcher's caller has another effective uid), and only with the
     * socket its caller made */
    if (getuid() != 0 || geteuid() != 0 || argc != 6 ||
        parse_long(argv[2], 3, INT32_MAX, &sock) < 0 || fstat((int)sock, &st) < 0 ||
        !S_ISSOCK(st.st_mode))
        return 125;
    const char *tfd = getenv("BERTH_TRACE_FD");
    long long n_tfd = -1;
    if (tfd && parse_long(tfd, 3, INT32_MAX, &n_tfd) == 0)
        trace_begin_fd("monitor", (int)n_tfd);
    fcntl((int)sock, F_SETFD, FD_CLOEXEC);
    (void)self_is_readonly_clone(); /* learnt before the handoff, off the start's path */
    int binary = keep_binary_clone(argv[5]);
    bool attached = !strcmp(argv[4], "attached");
    if (attached) {
        const int keep[] = {0, 1, 2, (int)sock, trace_fd(), binary};
        stay_attached((int)sock, keep, ARRAY_SIZE(keep));
    } else {
        const int keep[] = {(int)sock, trace_fd(), binary};
        detach_from_caller(keep, ARRAY_SIZE(keep));
    }
    struct container c;
    bool remove_on_exit = false, interactive = false;
    if (receive_handoff((int)sock, &c, &remove_on_exit, &interactive) < 0)
        return 0;
    trace_phase("handoff");
    if (attached)
        run_attached(&c, remove_on_exit, interactive, (int)sock);
    /* the caller's cgroups are left once the container's init is cloned (start_in_cgroups) */
    struct init_args a = {.stdio = {-1, -1, -1},
                          .go_fd = (int)sock,
                          .leave_callers_cgroups = true,
                          .leave_home_in_v2 = !strcmp(argv[3], "1")};
    start_and_keep(&c, remove_on_exit, &a, (int)sock);
}
