/* berth exec: one more process in a running container. It enters every namespace of the
 * container's pid 1 and its cgroups, and takes the container's user (or exec's -u),
 * capabilities and no_new_privs in the order init.c starts pid 1 with.
 *
 * Three processes, so that the one the container can see never holds anything of the host:
 *   berth    finds the container and takes a pidfd of its pid 1 (checked against the state
 *            store again, so a recycled pid is never joined), works out the command's
 *            environment, user and capabilities from config.json, opens the container's
 *            cgroups (cgroup/), makes the pipes for the command's 0-2 (relay.c), forks the
 *            joiner and waits for the command itself, copying its output and input: the
 *            command is its child, so its status needs no relay.
 *   joiner   outside the container's pid namespace, so invisible to it: joins the container's
 *            cgroups first (cgroup_join_self: no grace period to wait out, as berth writing
 *            its pid would), closes every fd it does not need, joins
 *            MNT|PID|UTS|IPC|NET in one setns on the pidfd (Linux 5.8), then clones the
 *            command's process (which inherits the cgroups) as berth's child (CLONE_PARENT),
 *            tells berth its pid and exits.
 *   command  born inside the container's pid and mount namespaces, its root and cwd the
 *            container's root, no host fd but 0-2 (berth's pipes, or /dev/null for stdin):
 *            a session of its own, user from the container's /etc files, cwd, fds,
 *            capabilities, no_new_privs, the container's seccomp filter, execve.
 * Both children report failures on one SOCK_SEQPACKET|SOCK_CLOEXEC socket and never print;
 * EOF, once the joiner has exited and the command's execve closed its end, means the command
 * runs, so 126/127 come back before berth starts waiting.
 *
 * The joiner makes itself non-dumpable first thing, and the command inherits it until its
 * execve: until then /proc/<pid>/exe, mem, fd, root and cwd need CAP_SYS_PTRACE over it. And
 * all three run from the read-only clone of berth's binary that runtime_reexec_readonly made
 * (selfexe.c), which is also what a command resolving to /proc/self/exe executes. */
#include "internal.h"

#include "cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

/* pid 1's namespaces; the container has no user or cgroup namespace of its own. Joining its net
 * namespace is also right for --net=host: that one is the host's, and the setns a no-op. */
#define EXEC_NAMESPACES (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

static int not_running(const char *id, struct berr *err)
{
    return berr_set(err, BERR_NOT_RUNNING, "Container %s is not running", id);
}

/* ---- the container ------------------------------------------------------------------------ */

/* What the command gets, worked out by berth from config.json and exec's flags. */
struct exec_plan {
    struct strv argv;
    struct strv env;    /* all but a HOME from the user's passwd entry */
    char *user;         /* exec's -u, resolved in the container; NULL: creds */
    struct creds creds; /* the container's user, as create resolved it */
    struct strv group_add;
    char *workdir;
    struct cap_set caps;
    bool no_new_privs;
    bool interactive;
    struct seccomp_filter seccomp; /* the one pid 1 runs under; len 0 for none */
};

static void plan_free(struct exec_plan *p)
{
    strv_free(&p->argv);
    strv_free(&p->env);
    strv_free(&p->group_add);
    free(p->user);
    creds_free(&p->creds);
    free(p->workdir);
    seccomp_filter_free(&p->seccomp);
    *p = (struct exec_plan){0};
}

/* The filter create wrote into the container's directory: the same BPF as pid 1's, whatever
 * became of the profile file or the cache since. Missing or damaged is an error, never an
 * unconfined process. */
static int plan_seccomp(int dir, const char *id, const struct oci_config *cfg, struct exec_plan *p,
                        struct berr *err)
{
    if (!cfg->seccomp_file)
        return 0;
    if (seccomp_filter_read_at(dir, cfg->seccomp_file, &p->seccomp, err) < 0)
        return berr_wrap(err, "container %.12s", id);
    return 0;
}

/* docker's exec environment: PATH and HOSTNAME, replaced or extended by the container's
 * environment, then by exec's -e (daemon/exec.go, CreateDaemonEnvironment); pid 1's HOME
 * only when the image or -e gave it, else the user's (the command's, with -u). */
static int plan_env(const struct oci_config *cfg, const struct strv *extra, struct strv *env,
                    struct berr *err)
{
    for (size_t i = 0; i < cfg->env.n; i++) {
        if (cfg->home_from_passwd && str_has_prefix(cfg->env.v[i], "HOME="))
            continue;
        strv_set_env(env, cfg->env.v[i]);
    }
    for (size_t i = 0; i < extra->n; i++) {
        const char *eq = strchr(extra->v[i], '=');
        if (!eq || eq == extra->v[i])
            return berr_set(err, BERR_USAGE, "invalid environment variable: %s", extra->v[i]);
        strv_set_env(env, extra->v[i]);
    }
    return 0;
}

static void creds_copy(const struct creds *from, struct creds *to)
{
    *to = (struct creds){.uid = from->uid, .gid = from->gid, .home = xstrdup(from->home)};
    to->groups = xcalloc(from->ngroups + 1, sizeof(gid_t));
    memcpy(to->groups, from->groups, from->ngroups * sizeof(gid_t));
    to->ngroups = from->ngroups;
}

static int plan_build(const struct oci_config *cfg, const struct exec_spec *spec,
                      struct exec_plan *p, struct berr *err)
{
    for (size_t i = 0; i < spec->cmd.n; i++)
        strv_push(&p->argv, spec->cmd.v[i]);
    if (plan_env(cfg, &spec->env, &p->env, err) < 0)
        return -1;
    if (spec->user && *spec->user) {
        p->user = xstrdup(spec->user);
        for (size_t i = 0; i < cfg->group_add.n; i++)
            strv_push(&p->group_add, cfg->group_add.v[i]);
    } else {
        creds_copy(&cfg->creds, &p->creds);
    }
    if (spec->workdir && *spec->workdir) {
        if (spec->workdir[0] != '/')
            return berr_set(err, BERR_CMD_NOT_EXEC,
                            "the working directory %s is invalid, it needs to be an absolute path",
                            spec->workdir);
        p->workdir = xstrdup(spec->workdir);
    } else {
        p->workdir = xstrdup(cfg->cwd);
    }
    p->caps = cfg->caps;
    p->no_new_privs = cfg->no_new_privs;
    p->interactive = spec->interactive;
    return 0;
}

/* config.json, the container's description, and the plan from it. */
static int plan_from_config(const struct runtime_paths *paths, const char *id,
                            const struct exec_spec *spec, struct exec_plan *p, char **cg_parent,
                            char **cg_name, struct berr *err)
{
    _cleanup_close_ int root = state_root_open(paths, err);
    if (root < 0)
        return -1;
    _cleanup_close_ int dir = container_dir_open(root, id, err);
    if (dir < 0)
        return -1;
    _cleanup_free_ char *dir_path = xasprintf("%s/containers/%s", paths->runroot, id);
    struct oci_config cfg;
    if (oci_config_read_at(dir, dir_path, &cfg, err) < 0)
        return berr_wrap(err, "container %.12s", id);
    int rc = plan_build(&cfg, spec, p, err);
    if (rc == 0)
        rc = plan_seccomp(dir, id, &cfg, p, err);
    *cg_parent = steal_ptr(&cfg.cgroup_parent);
    *cg_name = steal_ptr(&cfg.cgroup_name);
    oci_config_free(&cfg);
    return rc;
}

/* Host /dev/null for stdin without -i, opened here: the container's /dev/null is the
 * container's to replace (a FIFO would hang the start, a symlink lead elsewhere). */
static int open_devnull(int *out, struct berr *err)
{
    _cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return berr_errno(err, "open /dev/null");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return berr_set(err, BERR_FAILED, "/dev/null is not the null device");
    *out = steal_fd(&fd);
    return 0;
}

/* ---- the command's process (in the container) --------------------------------------------- */

/* The joiner's report of the process it started, told from a struct sync_msg by its size. */
struct exec_started {
    int32_t pid;
};

static __attribute__((noreturn)) void report_and_exit(int sync_fd, const struct berr *err)
{
    /* whatever stopped the start is docker's "OCI runtime exec failed": 126, 127 when missing */
    struct berr e = *err;
    if (e.kind != BERR_CMD_NOT_FOUND && e.kind != BERR_NOT_RUNNING)
        e.kind = BERR_CMD_NOT_EXEC;
    sync_report_and_exit(sync_fd, &e);
}
/* Resolved inside the container's root without magic links, so `-w /proc/self/fd/N` cannot
 * name a host directory (CVE-2024-21626; no such fd is open here anyway). Unlike run, a
 * missing directory is an error. */
static int enter_workdir(int rootfd, const char *wd, struct berr *err)
{
    _cleanup_close_ int fd = open_in_root(rootfd, wd, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return berr_errno(err, "chdir to working directory %s", wd);
    return enter_workdir_fd(fd, wd, err);
}

/* init.c's order from the user on. A session of its own, as runc gives every process: the
 * caller's terminal is no controlling terminal of the command's, which never gets its fds
 * either (relay.c). */
static int command_start(const struct exec_plan *p, struct berr *err)
{
    umask(022);
    if (setsid() < 0)
        return berr_errno(err, "setsid");
    _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return berr_errno(err, "open the container's root");
    struct creds resolved = {0};
    const struct creds *c = &p->creds;
    _cleanup_strv_ struct strv env = {0};
    _cleanup_free_ char *exe = NULL;
    int rc = -1;
    if (p->user) {
        if (creds_resolve(rootfd, p->user, &p->group_add, &resolved, err) < 0)
            goto out;
        c = &resolved;
    }
    for (size_t i = 0; i < p->env.n; i++)
        strv_push(&env, p->env.v[i]);
    if (strv_find_env(&env, "HOME") < 0)
        strv_push_owned(&env, xasprintf("HOME=%s", c->home));
    if (enter_workdir(rootfd, p->workdir, err) < 0)
        goto out;
    /* only 0-2 may cross into the command; the sync socket closes itself at execve */
    if (mark_cloexec_from(3, err) < 0)
        goto out;
    if (drop_privileges(&p->caps, c, &p->seccomp, p->no_new_privs, err) < 0 ||
        look_path(p->argv.v[0], &env, &exe, err) < 0)
        goto out;
    reset_signals();
    /* last, after no_new_privs and the capability drop: nothing above has to pass the profile */
    if (p->no_new_privs && seccomp_filter_load(&p->seccomp, err) < 0)
        goto out;
    execve(exe, p->argv.v, env.v);
    exec_error(err, errno, p->argv.v[0]);
out:
    creds_free(&resolved);
    return rc;
}

static __attribute__((noreturn)) void command_main(const struct exec_plan *p, int sync_fd)
{
    struct berr err = {0};
    command_start(p, &err);
    report_and_exit(sync_fd, &err);
}

/* ---- the joiner (on the host side) -------------------------------------------------------- */

struct joiner_args {
    const char *id;
    const struct exec_plan *plan;
    const struct cgroup_set *cgroups;
    pid_t pid1;
    struct relay *stdio;
    int pidfd, sync_fd;
    pid_t *detached_pid;
};

static int joiner_run(const struct joiner_args *a, struct berr *err)
{
    /* before anything else, and so is the command it clones */
    if (cgroup_join_self(a->cgroups, err) < 0 || cgroup_join_v2_of(a->cgroups, a->pid1, err) < 0)
        return berr_wrap(err, "exec in container %.12s", a->id);
    const int keep[] = {a->sync_fd, a->pidfd, a->stdio->child[0], a->stdio->child[1],
                        a->stdio->child[2]};
    /* whatever berth's caller left open must not reach the container, its 0-2 included */
    close_fds_except(keep, ARRAY_SIZE(keep));
    if (relay_install_child_side(a->stdio) < 0)
        return berr_errno(err, "stdio of the exec");
    relay_close_child_side(a->stdio);
    if (setns(a->pidfd, EXEC_NAMESPACES) < 0)
        return errno == ESRCH ? not_running(a->id, err)
                              : berr_errno(err, "join the namespaces of container %.12s", a->id);
    close(a->pidfd);
    /* fork-like clone: the child is born in the container's pid namespace as berth's child */
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0)
        command_main(a->plan, a->sync_fd);
    if (pid < 0)
        return berr_errno(err, "start a process in container %.12s", a->id);
    struct exec_started m = {.pid = pid};
    if (send(a->sync_fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m)) {
        kill(pid, SIGKILL);
        return berr_errno(err, "report the exec's pid");
    }
    return 0;
}

static __attribute__((noreturn)) void joiner_main(const struct joiner_args *a)
{
    /* first: the command's process inherits it, and is visible to the container from birth */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct berr err = {0};
    if (joiner_run(a, &err) < 0)
        report_and_exit(a->sync_fd, &err);
    _exit(0);
}

/* ---- berth's side ------------------------------------------------------------------------- */

static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Read until EOF: the joiner's pid report and, if the start failed, one error, in any order
 * (the command may fail before the joiner has told its pid). */
static int read_outcome(int sync_fd, pid_t *cmd, struct berr *err)
{
    bool failed = false;
    for (;;) {
        union {
            struct sync_msg fail;
            struct exec_started started;
        } m;
        ssize_t n = recv(sync_fd, &m, sizeof(m), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (!failed)
                berr_errno(err, "read the exec's start");
            return -1;
        }
        if (n == 0)
            break;
        if (n == (ssize_t)sizeof(m.started)) {
            *cmd = m.started.pid;
        } else if (n == (ssize_t)sizeof(m.fail) && !failed) {
            sync_msg_to_berr(&m.fail, err);
            failed = true;
        }
    }
    if (failed)
        return -1;
    if (*cmd <= 0)
        return berr_set(err, BERR_FAILED, "the exec's process died before starting the command");
    return 0;
}

static int start_and_wait(struct joiner_args *a, int *status, struct berr *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return berr_errno(err, "socketpair");
    pid_t joiner = fork();
    if (joiner == 0) {
        close(sv[0]);
        a->sync_fd = sv[1];
        joiner_main(a);
    }
    int saved = errno;
    close(sv[1]);
    relay_close_child_side(a->stdio);
    _cleanup_close_ int sync_fd = sv[0];
    if (joiner < 0)
        return berr_errnum(err, saved, "fork");
    pid_t cmd = 0;
    int rc = read_outcome(sync_fd, &cmd, err);
    reap(joiner);
    if (rc < 0) {
        if (cmd > 0)
            reap(cmd);
        return -1;
    }
    if (a->detached_pid) {
        *a->detached_pid = cmd;
        return 0;
    }
    siginfo_t si;
    if (relay_wait(a->stdio, cmd, &si, err) < 0)
        return -1;
    *status = siginfo_exit_status(&si);
    return 0;
}

int runtime_exec(const struct runtime_paths *paths, const char *id, const struct exec_spec *spec,
                 int *status, struct berr *err)
{
    if (spec->cmd.n == 0)
        return berr_set(err, BERR_USAGE, "no command specified");
    struct container_info info = {0};
    struct exec_plan plan = {0};
    struct cgroup_set *cgroups = NULL;
    _cleanup_free_ char *cg_parent = NULL, *cg_name = NULL;
    _cleanup_close_ int pidfd = -1, devnull = -1;
    struct relay stdio = {.child = {-1, -1, -1}, .in_w = -1, .out_r = -1, .err_r = -1};
    int rc = -1;
    if (!self_is_readonly_clone())
        return berr_set(err, BERR_FAILED,
                        "berth runs from a writable binary, not from a read-only clone of it "
                        "(runtime_reexec_readonly)");
    if ((pidfd = container_open_pid1(paths, id, &info, err)) < 0 ||
        plan_from_config(paths, info.id, spec, &plan, &cg_parent, &cg_name, err) < 0)
        goto out;
    if (cgroup_open(cg_parent, cg_name, &cgroups, err) < 0) {
        berr_wrap(err, "cgroups of container %.12s", id);
        goto out;
    }
    if (spec->detached_pid) {
        /* the command's stdio is the caller's own: nobody stays to relay it */
        for (int i = 0; i < 3; i++) {
            stdio.child[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
            if (stdio.child[i] < 0) {
                berr_errno(err, "stdio of the exec");
                goto out;
            }
        }
    } else if ((!spec->interactive && open_devnull(&devnull, err) < 0) ||
               relay_open(&stdio, devnull, err) < 0)
        goto out;
    struct joiner_args a = {.id = id,
                            .plan = &plan,
                            .cgroups = cgroups,
                            .pid1 = info.pid,
                            .stdio = &stdio,
                            .pidfd = pidfd,
                            .detached_pid = spec->detached_pid};
    rc = start_and_wait(&a, status, err);
out:
    relay_close(&stdio);
    if (cgroups)
        cgroup_set_free(cgroups);
    plan_free(&plan);
    container_info_free(&info);
    return rc;
}
