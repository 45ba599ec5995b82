/* berth join: nsenter's way into a running container, for profiling. It enters the namespaces
 * asked for (all of the target's by default) with one setns on a pidfd, forks the command into
 * the target's pid namespace, and takes only the ids asked for: no seccomp filter, no
 * capability drop beyond what setuid implies, no cgroup, so that jstack, jmap and strace work
 * where `exec` (the container's own confinement) would stop them.
 *
 * The process that is born in the container runs berth's code until its execve, so it is made
 * non-dumpable first: its /proc/<pid>/exe, /mem and /fd then need CAP_SYS_PTRACE, which no
 * process of a container that dropped it can hold. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
    const char *name;
    int flag;
} ns_kinds[] = {
    {"user", CLONE_NEWUSER},     {"mnt", CLONE_NEWNS},    {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC},       {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

int runtime_join_namespace_flag(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(ns_kinds); i++) {
        if (!strcmp(ns_kinds[i].name, name))
            return ns_kinds[i].flag;
    }
    return 0;
}

static bool same_namespace(pid_t pid, const char *name)
{
    struct stat mine, theirs;
    _cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", name);
    _cleanup_free_ char *other = xasprintf("/proc/%d/ns/%s", (int)pid, name);
    if (stat(self, &mine) < 0 || stat(other, &theirs) < 0)
        return true; /* a kind this kernel lacks */
    return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

/* nsenter's --all: every namespace of the target that is not already ours (setns refuses to
 * enter the user namespace one is in). */
static int target_namespaces(pid_t pid)
{
    int flags = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ns_kinds); i++) {
        if (!same_namespace(pid, ns_kinds[i].name))
            flags |= ns_kinds[i].flag;
    }
    return flags;
}

static int pidfd_of(pid_t pid, struct berr *err)
{
    if (pid <= 0)
        return berr_set(err, BERR_USAGE, "target pid %d is not a process id", (int)pid);
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno == ESRCH)
        return berr_set(err, BERR_NOT_FOUND, "target process %d does not exist", (int)pid);
    return fd < 0 ? berr_errno(err, "open target process %d", (int)pid) : fd;
}

/* The container's pid 1, checked against its record, or the pid given. */
static int open_target(const struct runtime_paths *paths, const struct join_spec *s, pid_t *pid,
                       struct berr *err)
{
    if (!s->container) {
        *pid = s->target_pid;
        return pidfd_of(s->target_pid, err);
    }
    struct container_info info = {0};
    int fd = container_open_pid1(paths, s->container, &info, err);
    *pid = info.pid;
    container_info_free(&info);
    return fd;
}

static int resolve_user(const struct join_spec *s, int flags, struct creds *c, struct berr *err)
{
    *c = (struct creds){.uid = s->uid, .gid = s->gid};
    if (!s->user)
        return 0;
    /* without the container's mount namespace "/" is the host's, and so would be /etc */
    if (!(flags & CLONE_NEWNS))
        return berr_set(err, BERR_USAGE, "--user needs the mount namespace: give --mount");
    /* after the mount namespace: its root is the container's, and so are its /etc files */
    _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return berr_errno(err, "open the container's root");
    struct creds found;
    if (creds_resolve(root, s->user, NULL, &found, err) < 0)
        return -1;
    c->uid = found.uid;
    c->gid = s->set_gid ? s->gid : found.gid;
    creds_free(&found);
    return 0;
}

/* nsenter's order: groups dropped (unless kept), gid, then uid; the capabilities go with the
 * uid as the kernel takes them from any process that leaves uid 0. */
static int take_ids(const struct join_spec *s, const struct creds *c, struct berr *err)
{
    bool set_uid = s->set_uid || s->user, set_gid = s->set_gid || s->user;
    if ((set_uid || set_gid) && !s->preserve_credentials && setgroups(0, NULL) < 0)
        return berr_errno(err, "drop supplementary groups");
    if (set_gid && setresgid(c->gid, c->gid, c->gid) < 0)
        return berr_errno(err, "setgid %u", (unsigned)c->gid);
    if (set_uid && setresuid(c->uid, c->uid, c->uid) < 0)
        return berr_errno(err, "setuid %u", (unsigned)c->uid);
    return 0;
}

/* The child's failures travel as errno + message over a CLOEXEC pipe: nothing means execve
 * ran. */
static void child_fail(int fd, const struct berr *e, int code)
{
    struct {
        int code;
        char msg[sizeof(e->msg)];
    } rep = {.code = code};
    snprintf(rep.msg, sizeof(rep.msg), "%s", e->msg);
    (void)!write(fd, &rep, sizeof(rep.code) + strlen(rep.msg) + 1);
    _exit(code);
}

static void child_main(const struct join_spec *s, const struct creds *c, int report_fd)
{
    struct berr e = {0};
    signal(SIGPIPE, SIG_DFL);
    int keep[] = {report_fd};
    close_fds_except(keep, ARRAY_SIZE(keep));
    if (take_ids(s, c, &e) < 0)
        child_fail(report_fd, &e, 1);
    if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        berr_errno(&e, "set no_new_privs");
        child_fail(report_fd, &e, 1);
    }
    if (s->workdir && chdir(s->workdir) < 0) {
        berr_errno(&e, "cannot change directory to %s", s->workdir);
        child_fail(report_fd, &e, 1);
    }
    const char *program = s->program ? s->program : s->argv.v[0];
    execvp(program, s->argv.v);
    int saved = errno;
    berr_errnum(&e, saved, "failed to execute %s", program);
    child_fail(report_fd, &e, saved == ENOENT ? 127 : 126);
}

/* nsenter's status: the command's, or its death by the same signal. */
static int status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    return 128 + WTERMSIG(wstatus);
}

static int wait_child(pid_t child, int report_fd, int *status, struct berr *err)
{
    struct {
        int code;
        char msg[sizeof(err->msg)];
    } rep = {0};
    ssize_t n;
    while ((n = read(report_fd, &rep, sizeof(rep))) < 0 && errno == EINTR)
        ;
    int wstatus = 0;
    while (waitpid(child, &wstatus, 0) < 0) {
        if (errno != EINTR)
            return berr_errno(err, "wait for the joined command");
    }
    if (n > (ssize_t)sizeof(rep.code)) {
        rep.msg[sizeof(rep.msg) - 1] = '\0';
        berr_set(err,
                 rep.code == 127   ? BERR_CMD_NOT_FOUND
                 : rep.code == 126 ? BERR_CMD_NOT_EXEC
                                   : BERR_FAILED,
                 "%s", rep.msg);
        return -1;
    }
    *status = status_of(wstatus);
    return 0;
}

int runtime_join(const struct runtime_paths *paths, const struct join_spec *s, int *status,
                 struct berr *err)
{
    if (!self_is_readonly_clone())
        return berr_set(err, BERR_FAILED,
                        "berth enters containers only from a read-only clone "
                        "of its binary (runtime_reexec_readonly)");
    pid_t target = 0;
    _cleanup_close_ int pidfd = open_target(paths, s, &target, err);
    if (pidfd < 0)
        return -1;
    int flags = s->namespaces ? s->namespaces : target_namespaces(target);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return berr_errno(err, "make berth non-dumpable");
    if (flags && setns(pidfd, flags) < 0) {
        if (errno == ESRCH)
            return berr_set(err, BERR_NOT_RUNNING, "target process %d has exited", (int)target);
        return berr_errno(err, "enter the namespaces of process %d", (int)target);
    }
    struct creds c;
    if (resolve_user(s, flags, &c, err) < 0)
        return -1;
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0)
        return berr_errno(err, "pipe");
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        close(report[0]), close(report[1]);
        return berr_errno(err, "fork into the target's pid namespace");
    }
    if (child == 0) {
        close(report[0]);
        child_main(s, &c, report[1]);
    }
    close(report[1]);
    int rc = wait_child(child, report[0], status, err);
    close(report[0]);
    return rc;
}
