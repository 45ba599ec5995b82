/* A container's life from the caller's side, in the order of architecture.md: reserve the
 * name, write the state directory, clone into new namespaces, release the child, learn
 * whether its command started, wait for it, record the exit, clean up. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

struct container {
    struct container_state st;
    char *name;
    int runrootfd;
    int dirfd; /* containers/<id> */
    char *dir_path;
    char hostname[256];
};

static void container_close(struct container *c)
{
    free(c->name);
    free(c->dir_path);
    if (c->dirfd >= 0)
        close(c->dirfd);
    if (c->runrootfd >= 0)
        close(c->runrootfd);
}

static int open_runroot(const char *runroot, struct berr *err)
{
    static const struct store_dir layout[] = {{"containers", 0700}, {"names", 0700}, {NULL, 0}};
    int fd = open_store_root(runroot, 0700, layout, err);
    return fd < 0 ? berr_wrap(err, "state root") : fd;
}

static int reserve_name(struct container *c, const char *wanted, struct berr *err)
{
    if (wanted) {
        c->name = xstrdup(wanted[0] == '/' ? wanted + 1 : wanted);
        return name_reserve(c->runrootfd, c->name, c->st.id, err);
    }
    /* a random name may collide: draw again, as docker does */
    for (int tries = 0; tries < 16; tries++) {
        c->name = name_random();
        if (name_reserve(c->runrootfd, c->name, c->st.id, err) == 0)
            return 0;
        free(c->name);
        c->name = NULL;
        if (err->kind != BERR_CONFLICT)
            return -1;
    }
    c->name = xasprintf("berth_%.12s", c->st.id);
    return name_reserve(c->runrootfd, c->name, c->st.id, err);
}

static void pick_hostname(struct container *c, const struct container_spec *spec)
{
    if (spec->hostname)
        snprintf(c->hostname, sizeof(c->hostname), "%s", spec->hostname);
    else if (spec->net == NET_HOST && gethostname(c->hostname, sizeof(c->hostname) - 1) == 0)
        c->hostname[sizeof(c->hostname) - 1] = '\0';
    else
        snprintf(c->hostname, sizeof(c->hostname), "%.12s", c->st.id);
}

static int make_state_dir(struct container *c, const struct runtime_paths *paths,
                          const struct container_spec *spec, struct berr *err)
{
    _cleanup_free_ char *rel = xasprintf("containers/%s", c->st.id);
    if (mkdirat(c->runrootfd, rel, 0700) < 0)
        return berr_errno(err, "create container directory");
    c->dir_path = xasprintf("%s/%s", paths->runroot, rel);
    c->dirfd = openat(c->runrootfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->dirfd < 0)
        return berr_errno(err, "open container directory");
    if (mkdirat(c->dirfd, "scaffold", 0700) < 0)
        return berr_errno(err, "create scaffold");
    _cleanup_close_ int scaffold = openat(c->dirfd, "scaffold", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (scaffold < 0)
        return berr_errno(err, "open scaffold");
    if (mounts_make_scaffold(scaffold, err) < 0)
        return -1;
    c->st.name = c->name;
    clock_gettime(CLOCK_REALTIME, &c->st.created);
    c->st.status = STATUS_CREATED;
    if (state_write(c->dirfd, spec, &c->st, err) < 0)
        return -1;
    pick_hostname(c, spec);
    return etc_files_write(c->dirfd, c->hostname, spec->net, err);
}

static void destroy_state(struct container *c)
{
    if (c->dirfd >= 0) {
        struct berr rm_err = {0};
        _cleanup_free_ char *rel = xasprintf("containers/%s", c->st.id);
        /* best effort: the caller is already reporting the error that brought us here */
        if (remove_tree_at(c->runrootfd, rel, &rm_err) < 0)
            debugf("remove %s: %s", rel, rm_err.msg);
    }
    if (c->name)
        name_release(c->runrootfd, c->name);
}

static pid_t clone_container(const struct init_args *a, int child_end)
{
    unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
    if (a->spec->net == NET_NONE)
        flags |= CLONE_NEWNET;
    /* a fork-like clone (no new stack): the child continues here with a copy of our memory */
    pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
    if (pid == 0) {
        struct init_args child = *a;
        child.sync_fd = child_end;
        init_container(&child);
    }
    return pid;
}

/* Release the child and learn how its start went: EOF means execve succeeded. */
static int start_child(int sync_fd, struct berr *err)
{
    /* MSG_NOSIGNAL: a child that died already must be an error here, not a SIGPIPE */
    if (send(sync_fd, "g", 1, MSG_NOSIGNAL) != 1)
        return berr_errno(err, "release container");
    struct sync_msg m;
    ssize_t n;
    do {
        n = recv(sync_fd, &m, sizeof(m), 0);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof(m))
        return berr_set(err, BERR_FAILED, "container init died before starting the command");
    m.msg[sizeof(m.msg) - 1] = '\0';
    memcpy(err->msg, m.msg, sizeof(err->msg));
    err->errnum = m.errnum;
    err->kind = (enum berr_kind)m.kind;
    return -1;
}

static int exit_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return 255;
}

/* Wait for pid 1, passing the signals a user sends `berth run` on to it (docker's sig-proxy). */
static int wait_forwarding_signals(pid_t pid, int *wstatus, struct berr *err)
{
    static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    sigset_t set, old;
    sigemptyset(&set);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return berr_errno(err, "signalfd");
    }
    int rc = 0;
    for (;;) {
        pid_t w = waitpid(pid, wstatus, WNOHANG);
        if (w == pid)
            break;
        if (w < 0) {
            rc = berr_errno(err, "wait for container");
            break;
        }
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGCHLD)
            kill(pid, (int)si.ssi_signo);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Once the command runs, a record that cannot be written must not cost the caller the exit
 * status it waits for: readers keep seeing the previous record. */
static void record_state(struct container *c, const struct container_spec *spec,
                         enum container_status status)
{
    c->st.status = status;
    clock_gettime(CLOCK_REALTIME, status == STATUS_RUNNING ? &c->st.started : &c->st.finished);
    struct berr werr = {0};
    if (state_write(c->dirfd, spec, &c->st, &werr) < 0)
        debugf("container %.12s: %s", c->st.id, werr.msg);
}

static int run_child(struct container *c, struct container_spec *spec, struct init_args *a,
                     int *status, struct berr *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return berr_errno(err, "socketpair");
    pid_t pid = clone_container(a, sv[1]);
    int saved = errno;
    close(sv[1]);
    _cleanup_close_ int sync_fd = sv[0];
    if (pid < 0)
        return berr_errnum(err, saved, "clone container");
    if (start_child(sync_fd, err) < 0) {
        waitpid(pid, NULL, 0);
        return -1;
    }
    c->st.pid = pid;
    record_state(c, spec, STATUS_RUNNING);
    int wstatus = 0;
    if (wait_forwarding_signals(pid, &wstatus, err) < 0)
        return -1;
    *status = exit_status(wstatus);
    c->st.exit_code = *status;
    c->st.pid = 0;
    record_state(c, spec, STATUS_EXITED);
    return 0;
}

static int create_and_run(struct container *c, const struct runtime_paths *paths,
                          struct container_spec *spec, struct init_args *a, int *status,
                          struct berr *err)
{
    if (make_state_dir(c, paths, spec, err) < 0)
        return -1;
    /* Only now, with the name ours: docker creates a missing -v source at start, so a name
     * conflict must not leave a new host directory behind. */
    if (mounts_prepare_sources(spec->binds, spec->nbinds, err) < 0)
        return -1;
    _cleanup_free_ char *scaffold_path = xasprintf("%s/scaffold", c->dir_path);
    a->hostname = c->hostname;
    a->mounts = (struct mounts_spec){
        .layers = &spec->layers,
        .scaffold_path = scaffold_path,
        .readonly_root = spec->readonly_root,
        .binds = spec->binds,
        .nbinds = spec->nbinds,
        .etc_path = c->dir_path,
    };
    return run_child(c, spec, a, status, err);
}

int runtime_run(const struct runtime_paths *paths, struct container_spec *spec, int *status,
                struct berr *err)
{
    if (runtime_spec_validate(spec, err) < 0)
        return -1;
    struct init_args a = {.spec = spec};
    if (caps_effective_set(&spec->cap_add, &spec->cap_drop, &a.caps, err) < 0)
        return -1;
    struct container c = {.runrootfd = -1, .dirfd = -1};
    int rc = -1;
    c.runrootfd = open_runroot(paths->runroot, err);
    if (c.runrootfd < 0 || random_id(c.st.id, err) < 0)
        goto out;
    if (reserve_name(&c, spec->name, err) < 0) {
        free(c.name);
        c.name = NULL; /* held by another container: not ours to release */
        goto out;
    }
    rc = create_and_run(&c, paths, spec, &a, status, err);
    if (rc < 0 || spec->remove_on_exit)
        destroy_state(&c);
out:
    container_close(&c);
    return rc;
}
