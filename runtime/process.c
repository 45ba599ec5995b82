/* What starting a process inside a container needs on both paths, the container's pid 1
 * (init.c) and exec (exec.c): the PATH lookup, docker's 126/127 texts, clean signal state,
 * the failure report over the sync socket, and waiting while forwarding signals. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

void sync_report_and_exit(int sync_fd, const struct berr *err)
{
    struct sync_msg m = {.errnum = err->errnum, .kind = (int32_t)err->kind};
    snprintf(m.msg, sizeof(m.msg), "%s", err->msg);
    /* nothing is left to tell if the parent is gone: _exit either way */
    (void)!send(sync_fd, &m, sizeof(m), MSG_NOSIGNAL);
    _exit(127);
}

const char *env_value(const struct strv *env, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i < env->n; i++) {
        if (!strncmp(env->v[i], key, k) && env->v[i][k] == '=')
            return env->v[i] + k + 1;
    }
    return NULL;
}

int exec_error(struct berr *err, int errnum, const char *cmd)
{
    if (errnum == EACCES || errnum == EISDIR || errnum == ENOEXEC)
        return berr_set(err, BERR_CMD_NOT_EXEC, "exec: \"%s\": %s", cmd,
                        errnum == EISDIR   ? "is a directory"
                        : errnum == EACCES ? "permission denied"
                                           : "exec format error");
    return berr_set(err, BERR_CMD_NOT_FOUND, "exec: \"%s\": %s", cmd,
                    errnum == ENOENT ? "no such file or directory" : strerror(errnum));
}

/* Go's exec.LookPath, as runc does it before starting: a name with a slash is used as is. */
int look_path(const char *name, const struct strv *env, char **out, struct berr *err)
{
    if (strchr(name, '/')) {
        *out = xstrdup(name);
        return 0;
    }
    const char *path = env_value(env, "PATH");
    _cleanup_free_ char *dirs = xstrdup(path ? path : "");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *cand = xasprintf("%s/%s", *d ? d : ".", name);
        struct stat st;
        if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) {
            *out = steal_ptr(&cand);
            return 0;
        }
    }
    return berr_set(err, BERR_CMD_NOT_FOUND, "exec: \"%s\": executable file not found in $PATH",
                    name);
}

void reset_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

int siginfo_exit_status(const siginfo_t *si)
{
    return si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
}

/* docker's sig-proxy: the signals a user sends berth go on to the container's process. */
int wait_forwarding_signals(pid_t pid, bool reap, siginfo_t *si, struct berr *err)
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
        *si = (siginfo_t){0};
        if (waitid(P_PID, (id_t)pid, si, WEXITED | WNOHANG | (reap ? 0 : WNOWAIT)) < 0) {
            if (errno == EINTR)
                continue;
            rc = berr_errno(err, "wait for pid %d", (int)pid);
            break;
        }
        if (si->si_pid == pid)
            break;
        struct signalfd_siginfo ssi;
        if (read(sfd, &ssi, sizeof(ssi)) == (ssize_t)sizeof(ssi) && ssi.ssi_signo != SIGCHLD)
            kill(pid, (int)ssi.ssi_signo);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}
