/* The container's side: from the clone to execve, berth-oci's wait at the exec fifo last before
 * it. Runs as the new pid namespace's pid 1, never prints and never returns: a failure travels to
 * the parent over the sync socket, then _exit. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
int start_gate_wait(const struct start_gate *gate, struct berr *err)
{
    if (!gate)
        return 0;
    if (write_all(gate->ready_fd, (char[]){READY_BYTE}, 1) < 0)
        return berr_errno(err, "report the created state");
    close(gate->ready_fd);
    /* the fifo's own fd is O_PATH: opened again for writing, which blocks until `start`
     * opens it for reading */
    char path[PROC_FD_PATH_MAX];
    proc_fd_path(gate->fifo_fd, path);
    int fd;
    do {
        fd = open(path, O_WRONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return berr_errno(err, "open the exec fifo");
    int rc = write_all(fd, "0", 1);
    close(fd);
    close(gate->fifo_fd);
    return rc < 0 ? berr_errno(err, "write the exec fifo") : 0;
}

int start_gate_hooks(const struct start_gate *gate, struct berr *err)
{
    if (!gate || gate->hooks_fd < 0)
        return 0;
    if (write_all(gate->ready_fd, (char[]){HOOKS_BYTE}, 1) < 0)
        return berr_errno(err, "ask for the create hooks");
    bool go = go_received(gate->hooks_fd);
    close(gate->hooks_fd);
    return go ? 0 : berr_set(err, BERR_FAILED, "the create hooks failed");
}

/* The parent's release: one byte, with the "tasks" files of the cgroups to join when they
 * were made after the clone (cgroup_join_open). */
static int wait_for_release(int sync_fd, int *fds, size_t *nfds, struct berr *err)
{
    char go;
    ssize_t n = recv_with_fds(sync_fd, &go, 1, fds, CGROUP_MAX_JOIN, nfds);
    if (n < 0 && errno == EMSGSIZE)
        return berr_set(err, BERR_FAILED, "too many cgroups to join");
    if (n != 1)
        return berr_set(err, BERR_FAILED, "parent went away before the start");
    return 0;
}

/* Released, and in the container's cgroups, before anything of the container's own runs. */
static int join_cgroups(int sync_fd, const struct cpu_apart *apart, struct berr *err)
{
    int fds[CGROUP_MAX_JOIN];
    size_t n = 0;
    int rc = wait_for_release(sync_fd, fds, &n, err);
    trace_phase("released");
    /* before the join: a v1 cpuset sets the mask its own way when it takes us */
    if (apart)
        cpu_apart_release(apart);
    if (rc == 0)
        rc = cgroup_join_self_fds(fds, n, err);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    trace_phase("cgroup-join");
    return rc;
}

static bool parent_gone(int sync_fd)
{
    struct pollfd p = {.fd = sync_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

static int prepare_stdio(bool interactive, struct berr *err)
{
    if (interactive)
        return 0;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "open /dev/null");
    if (dup2(fd, 0) < 0) {
        close(fd);
        return berr_errno(err, "stdin");
    }
    close(fd);
    return 0;
}

/* The root built and entered, and *wdfd the working directory, made if missing, resolved
 * inside the root. */
static int setup_filesystem(const struct init_args *a, const char *workdir, int *wdfd,
                            struct berr *err)
{
    _cleanup_close_ int rootfd = -1;
    if (mounts_build_rootfs(&a->mounts, &rootfd, err) < 0)
        return -1;
    /* the runtime spec's createRuntime and createContainer: mounts made, no pivot_root yet */
    if (start_gate_hooks(a->gate, err) < 0)
        return -1;
    if (mounts_enter_root(rootfd, err) < 0)
        return -1;
    trace_phase("pivot_root");
    _cleanup_close_ int newroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (newroot < 0)
        return berr_errno(err, "open /");
    /* docker creates a missing working directory (root-owned, 0755), where the image's
     * links point, inside the root */
    _cleanup_close_ int wd = open_in_root(newroot, workdir, O_PATH | O_DIRECTORY, 0);
    if (wd < 0) {
        _cleanup_free_ char *where = follow_in_root(newroot, workdir, err);
        wd = where ? mkdir_p_in_root(newroot, where, err) : -1;
    }
    if (wd < 0)
        return berr_wrap(err, "working directory %s", workdir);
    trace_phase("workdir");
    if (mounts_finalize(&a->mounts, err) < 0)
        return -1;
    trace_phase("readonly-root");
    *wdfd = steal_fd(&wd);
    return 0;
}

const struct net_backend *net_backend;

static int loopback_up(struct berr *err)
{
    if (!net_backend)
        return berr_set(err, BERR_FAILED,
                        "bring up lo: " RUNTIME_PROGRAM " cannot load libmnl: its containers "
                        "use the host's network");
    return net_backend->loopback_up(err);
}

static int start(const struct init_args *a, struct berr *err)
{
    const struct oci_config *cfg = a->config;
    /* cgroups made before the clone (a cgroup2 host) where clone3 could not create us in them */
    if (a->cgroups && !a->in_cgroups && cgroup_join_self(a->cgroups, err) < 0)
        return -1;
    umask(022);
    if ((cfg->namespaces & CLONE_NEWNET) && loopback_up(err) < 0)
        return -1;
    trace_phase("loopback");
    _cleanup_free_ char *exe = NULL;
    _cleanup_close_ int wd = -1;
    if (setup_filesystem(a, cfg->cwd, &wd, err) < 0)
        return -1;
    if (cfg->args.n == 0)
        return berr_set(err, BERR_USAGE, "no command specified");
    if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
        return berr_errno(err, "sethostname");
    if (prepare_stdio(a->interactive, err) < 0 || enter_workdir_fd(wd, cfg->cwd, err) < 0)
        return -1;
    /* only 0-2 may cross into the container; the sync socket closes itself at execve */
    if (mark_cloexec_from(3, err) < 0)
        return -1;
    if (setsid() < 0)
        return berr_errno(err, "setsid");
    if (a->gate && a->gate->console_fd >= 0 && console_setup(a->gate->console_fd, err) < 0)
        return -1;
    trace_phase("hostname-stdio-fds");
    if (join_cgroups(a->sync_fd, a->apart, err) < 0)
        return -1;
    runtime_test_stall("init");
    if (drop_privileges(&cfg->caps, &cfg->creds, a->seccomp, cfg->no_new_privs, err) < 0)
        return -1;
    trace_phase("creds-caps");
    if (look_path(cfg->args.v[0], &cfg->env, &exe, err) < 0)
        return -1;
    trace_phase("look-path");
    /* The container dies with its parent (berth run, or run -d's monitor): a container that
     * nobody waits for would leave state that no longer tells the truth. setresuid clears
     * the setting, hence here; a parent that died before it is seen as the sync socket's
     * hang-up. */
    if (!a->gate) /* berth-oci's outlives its starter, as runc's does (bundle.c) */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (parent_gone(a->sync_fd))
        return berr_set(err, BERR_FAILED, "parent went away before the start");
    reset_signals();
    trace_phase("pdeathsig-signals");
    if (start_gate_wait(a->gate, err) < 0)
        return -1;
    if (cfg->no_new_privs && seccomp_filter_load(a->seccomp, err) < 0)
        return -1;
    /* the last line before execve; the parent's child-execve says when it succeeded */
    trace_phase("seccomp-load");
    execve(exe, cfg->args.v, cfg->env.v);
    return exec_error(err, errno, cfg->args.v[0]);
}

/* The trees the parent made (send_trees), its first message: /dev last when the second byte
 * says so. */
static int receive_trees(void *ctx, struct mounts_trees *t, struct berr *err)
{
    char msg[2];
    ssize_t n = recv_with_fds(*(const int *)ctx, msg, sizeof(msg), t->fd, ARRAY_SIZE(t->fd), &t->n);
    if (n == 2 && msg[0] == TREES_BYTE && (!msg[1] || t->n > 0)) {
        if (msg[1])
            t->dev = t->fd[--t->n];
        return 0;
    }
    mounts_trees_close(t);
    return berr_set(err, BERR_FAILED, "parent went away before the start");
}

void init_container(const struct init_args *a)
{
    struct berr err = {0};
    struct init_args self = *a;
    self.mounts.take_trees = receive_trees;
    self.mounts.trees_ctx = &self.sync_fd;
    start(&self, &err);
    sync_report_and_exit(a->sync_fd, &err);
}
