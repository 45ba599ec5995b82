/* What starting a process inside a container needs on both paths, the container's pid 1
 * (init.c) and exec (exec.c): the PATH lookup, docker's 126/127 texts, clean signal state,
 * the failure report over the sync socket, and waiting while forwarding signals. */
#include "internal.h"

#include <errno.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP */
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

pid_t clone_into_cgroup(unsigned long flags, int cgfd)
{
    if (cgfd < 0) {
        errno = EBADF;
        return -1;
    }
    struct clone_args ca = {
        .flags = flags | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgfd};
    return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

/* clone3 with a stack of its own, which glibc 2.36 has no wrapper for (its clone() uses the
 * older call, without CLONE_INTO_CGROUP): the child calls fn(arg) on stack and exits with
 * what fn returns; the caller gets the pid, or -1 (errno). */
#if defined(__x86_64__)
static pid_t clone3_on_stack(struct clone_args *ca, int (*fn)(void *), void *arg)
{
    register int (*call)(void *) __asm__("r12") = fn;
    register void *call_arg __asm__("r13") = arg;
    long ret;
    /* the child starts after the syscall on the new stack: nothing of this frame is its */
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov %[sys_exit], %%eax\n\t"
                     "syscall\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(ret)
                     : "0"((long)SYS_clone3), "D"(ca), "S"(sizeof(*ca)), "r"(call),
                       "r"(call_arg), [sys_exit] "i"(SYS_exit)
                     : "rcx", "r11", "memory");
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return (pid_t)ret;
}
#else
static pid_t clone3_on_stack(struct clone_args *ca, int (*fn)(void *), void *arg)
{
    (void)ca, (void)fn, (void)arg;
    errno = ENOSYS;
    return -1;
}
#endif

void cpu_apart_plan(struct cpu_apart *a)
{
    a->on = false;
    if (sched_getaffinity(0, sizeof(a->all), &a->all) < 0 || CPU_COUNT(&a->all) < 2)
        return;
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &a->all))
        return;
    a->here = cpu;
    a->away = a->all;
    CPU_CLR(cpu, &a->away);
    a->on = true;
}

void cpu_apart_send_away(const struct cpu_apart *a, pid_t pid)
{
    if (a->on)
        sched_setaffinity(pid, sizeof(a->away), &a->away);
}

void cpu_apart_release(const struct cpu_apart *a)
{
    if (a->on)
        sched_setaffinity(0, sizeof(a->all), &a->all);
}

#if defined(__x86_64__)
/* Without errno: the child beside its caller shares the caller's thread-local errno. */
SPAWN_BESIDE_CHILD long raw_syscall(long nr, long a, long b, long c, long d, long e)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}
#define BESIDE_FLAGS CLONE_VM
#else
long raw_syscall(long nr, long a, long b, long c, long d, long e)
{
    long ret = syscall(nr, a, b, c, d, e);
    return ret < 0 ? -errno : ret;
}
/* syscall() sets the errno the child shares: the caller waits for the exec, as posix_spawn */
#define BESIDE_FLAGS (CLONE_VM | CLONE_VFORK)
#endif

SPAWN_BESIDE_CHILD static int beside_main(void *p)
{
    struct spawn_beside *s = p;
    /* Woken on its caller's CPU, the child may take that CPU from its caller until its exec is
     * done (0.6-0.8 ms here, 9 starts in 20): it moves away first. When the caller runs first,
     * the caller moves it (spawn_beside) and this finds it there already. */
    if (s->go_away)
        raw_syscall(SYS_sched_setaffinity, 0, sizeof(s->away), (long)&s->away, 0, 0);
    return s->fn(s->arg);
}

pid_t spawn_beside(struct spawn_beside *s, int (*fn)(void *), void *arg, int cgfd, bool *in_cgroup,
                   const struct cpu_apart *apart)
{
    s->fn = fn;
    s->arg = arg;
    s->go_away = apart && apart->on;
    if (s->go_away)
        s->away = apart->away;
    /* nonzero until the kernel clears it at the child's exec or exit: never written once the
     * child runs, or that clear could be lost */
    s->tid = -1;
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &s->mask);
    pid_t pid = -1;
    *in_cgroup = cgfd >= 0;
    if (cgfd >= 0) {
        struct clone_args ca = {.flags = BESIDE_FLAGS | CLONE_CHILD_CLEARTID | CLONE_INTO_CGROUP,
                                .child_tid = (uint64_t)(uintptr_t)&s->tid,
                                .exit_signal = SIGCHLD,
                                .stack = (uint64_t)(uintptr_t)s->stack,
                                .stack_size = sizeof(s->stack),
                                .cgroup = (uint64_t)cgfd};
        pid = clone3_on_stack(&ca, beside_main, s);
        if (pid < 0)
            *in_cgroup = false; /* no child reads it */
    }
    if (pid < 0)
        pid = clone(beside_main, s->stack + sizeof(s->stack),
                    BESIDE_FLAGS | CLONE_CHILD_CLEARTID | SIGCHLD, s, NULL, NULL, &s->tid);
    int saved = errno;
    if (pid < 0)
        s->tid = 0; /* no child: nothing to wait for */
    sigprocmask(SIG_SETMASK, &s->mask, NULL);
    /* sent from here: left to place itself, the child waited behind its caller for the CPU
     * they were both put on (1.7 ms from clone to main here, against 1.0 ms) */
    if (pid > 0 && apart)
        cpu_apart_send_away(apart, pid);
    errno = saved;
    return pid;
}

SPAWN_BESIDE_CHILD int spawn_beside_exec(const struct spawn_beside *s, int dirfd,
                                         char *const argv[], char *const envp[])
{
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&s->mask, 0, _NSIG / 8, 0);
    raw_syscall(SYS_execveat, dirfd, (long)"", (long)argv, (long)envp, AT_EMPTY_PATH);
    return 127;
}

void spawn_beside_wait(struct spawn_beside *s)
{
    pid_t tid;
    /* not FUTEX_PRIVATE: the kernel's wake at the child's exec or exit is a shared one */
    while ((tid = __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE)) != 0)
        syscall(SYS_futex, &s->tid, FUTEX_WAIT, tid, NULL, NULL, 0);
}

bool go_received(int fd)
{
    char go = 0;
    ssize_t n;
    do {
        n = read(fd, &go, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1 && go == GO_BYTE;
}

int enter_workdir_fd(int fd, const char *wd, struct berr *err)
{
    if (fchdir(fd) < 0)
        return berr_errno(err, "chdir to working directory %s", wd);
    char cwd[4096];
    /* a cwd outside the root reads "(unreachable)...": never start a process there */
    if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
        return berr_set(err, BERR_FAILED, "working directory %s is outside the container", wd);
    return 0;
}

int drop_privileges(const struct cap_set *caps, const struct creds *c,
                    const struct seccomp_filter *filter, bool no_new_privs, struct berr *err)
{
    if (!no_new_privs && seccomp_filter_load(filter, err) < 0)
        return -1;
    if (caps_drop_bounding(caps, err) < 0 || creds_apply(c, err) < 0 || caps_apply(caps, err) < 0)
        return -1;
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return berr_errno(err, "set no_new_privs");
    return 0;
}

int runtime_start_exit_code(enum berr_kind kind)
{
    return kind == BERR_CMD_NOT_FOUND ? 127 : kind == BERR_CMD_NOT_EXEC ? 126 : 125;
}

void sync_report_and_exit(int sync_fd, const struct berr *err)
{
    struct sync_msg m;
    sync_msg_from_berr(&m, err);
    /* The send fails when the parent is gone, or when the seccomp profile, loaded just before
     * execve, refuses it. Then the parent sees only EOF, as after a successful execve, and
     * takes this exit status for the command's own: let it be docker's code for the failure. */
    (void)!send(sync_fd, &m, sizeof(m), MSG_NOSIGNAL);
    _exit(runtime_start_exit_code(err->kind));
}

void sync_msg_from_berr(struct sync_msg *m, const struct berr *err)
{
    *m = (struct sync_msg){.errnum = err->errnum, .kind = (int32_t)err->kind};
    snprintf(m->msg, sizeof(m->msg), "%s", err->msg);
}

void sync_msg_to_berr(struct sync_msg *m, struct berr *err)
{
    m->msg[sizeof(m->msg) - 1] = '\0';
    memcpy(err->msg, m->msg, sizeof(err->msg));
    err->errnum = m->errnum;
    err->kind = (enum berr_kind)m->kind;
}

const char *env_value(const struct strv *env, const char *key)
{
    ssize_t i = strv_find_env(env, key);
    return i < 0 ? NULL : strchr(env->v[i], '=') + 1;
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

/* What execve would say about name, asked before the seccomp filter goes on: after it,
 * a profile may refuse the syscalls that carry the report (runc checks the same, with
 * eaccess, for the same reason). Effective ids, as execve uses; noexec mounts give EACCES. */
static int check_executable(const char *name, struct berr *err)
{
    struct stat st;
    if (stat(name, &st) < 0)
        return exec_error(err, errno, name);
    if (S_ISDIR(st.st_mode))
        return exec_error(err, EISDIR, name);
    if (faccessat(AT_FDCWD, name, X_OK, AT_EACCESS) < 0)
        return exec_error(err, errno, name);
    return 0;
}

/* Go's exec.LookPath, as runc does it before starting: a name with a slash is used as is,
 * once checked. */
int look_path(const char *name, const struct strv *env, char **out, struct berr *err)
{
    if (strchr(name, '/')) {
        if (check_executable(name, err) < 0)
            return -1;
        *out = xstrdup(name);
        return 0;
    }
    const char *path = env_value(env, "PATH");
    _cleanup_free_ char *dirs = xstrdup(path ? path : "");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *cand = xasprintf("%s/%s", *d ? d : ".", name);
        struct stat st;
        /* Go's findExecutable: what execve would refuse is passed over */
        if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode) &&
            faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) == 0) {
            *out = steal_ptr(&cand);
            return 0;
        }
    }
    return berr_set(err, BERR_CMD_NOT_FOUND, "exec: \"%s\": executable file not found in $PATH",
                    name);
}

/* sig back to SIG_DFL, by the system call itself: glibc's sigaction refuses the two signals it
 * keeps for itself (32 and 33), which a caller may have ignored all the same. The kernel's
 * struct sigaction is all zeros for SIG_DFL, no flags and an empty mask, on every
 * architecture, whatever its layout. */
static void default_disposition(int sig)
{
    unsigned long act[4] = {0};
    syscall(SYS_rt_sigaction, sig, act, NULL, (NSIG - 1) / 8);
}

void reset_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++)
        default_disposition(sig);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

int siginfo_exit_status(const siginfo_t *si)
{
    return si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
}

int signals_forward_fd(sigset_t *old, struct berr *err)
{
    static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, old);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        sigprocmask(SIG_SETMASK, old, NULL);
        return berr_errno(err, "signalfd");
    }
    return sfd;
}

void signal_forward_pending(int sfd, pid_t pid)
{
    struct signalfd_siginfo ssi;
    while (read(sfd, &ssi, sizeof(ssi)) == (ssize_t)sizeof(ssi)) {
        if (ssi.ssi_signo != SIGCHLD)
            kill(pid, (int)ssi.ssi_signo);
    }
}

/* between a child's checks: wait for a signal to pass on */
static void forward_next_signal(int sfd, pid_t pid, void *ctx)
{
    (void)ctx;
    struct pollfd p = {.fd = sfd, .events = POLLIN};
    if (poll(&p, 1, -1) > 0)
        signal_forward_pending(sfd, pid);
}

int wait_forwarding_signals_while(pid_t pid, bool reap, wait_step step, void *ctx, siginfo_t *si,
                                  struct berr *err)
{
    sigset_t old;
    _cleanup_close_ int sfd = signals_forward_fd(&old, err);
    if (sfd < 0)
        return -1;
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
        step(sfd, pid, ctx);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int wait_forwarding_signals(pid_t pid, bool reap, siginfo_t *si, struct berr *err)
{
    return wait_forwarding_signals_while(pid, reap, forward_next_signal, NULL, si, err);
}
