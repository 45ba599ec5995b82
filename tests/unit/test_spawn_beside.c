/* spawn_beside (runtime/process.c): the monitor's spawn, a child that shares its caller's
 * memory until it execs. The caller must go on at once, keep its own errno, and may let the
 * child's memory go only once the exec is done; the child runs with every signal blocked
 * until its exec, which gets the caller's mask back, and, with a plan, off the caller's CPU. */
#include "runtime/internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
    struct spawn_beside s;
    int go;       /* read end: the child waits here before it goes on */
    int exe;      /* O_PATH fd of what it execs */
    int out;      /* its stdout, once it execs */
    bool blocked; /* every catchable signal was blocked while it ran fn */
    char *argv[4];
};

SPAWN_BESIDE_CHILD static int child_main(void *arg)
{
    struct child *c = arg;
    char byte;
    raw_syscall(SYS_read, c->go, (long)&byte, 1, 0, 0);
    /* a failing call, which through libc would have set the caller's errno */
    raw_syscall(SYS_close, -1, 0, 0, 0, 0);
    sigset_t now;
    raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&now, _NSIG / 8, 0);
    c->blocked = sigismember(&now, SIGTERM) && sigismember(&now, SIGUSR1);
    raw_syscall(SYS_dup2, c->out, 1, 0, 0, 0);
    return spawn_beside_exec(&c->s, c->exe, c->argv, (char *[]){NULL});
}

/* Spawns exe with argv beside the caller, held at its start until a byte is written to
 * *go_w; its stdout is *out_r. */
static pid_t spawn_held(struct child *c, const char *exe, char *const argv[3], int *go_w,
                        int *out_r)
{
    int go[2], out[2];
    cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    *c = (struct child){.go = go[0], .out = out[1], .argv = {argv[0], argv[1], argv[2], NULL}};
    c->exe = open(exe, O_PATH | O_CLOEXEC);
    cr_assert(c->exe >= 0);
    bool in_cgroup = true;
    pid_t pid = spawn_beside(&c->s, child_main, c, -1, &in_cgroup, NULL);
    cr_assert(pid > 0, "spawn_beside: %s", strerror(errno));
    cr_assert(!in_cgroup, "no cgroup was asked for");
    close(go[0]);
    close(out[1]);
    close(c->exe);
    *go_w = go[1];
    *out_r = out[0];
    return pid;
}

static int reap(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child did not exit: %#x", status);
    return WEXITSTATUS(status);
}

Test(spawn_beside, the_caller_goes_on_while_the_child_waits_and_keeps_its_errno)
{
    struct child c;
    int go, out;
    pid_t pid = spawn_held(&c, "/bin/sh", (char *[]){"sh", "-c", "exit 7"}, &go, &out);
    /* the child is still at its start: a spawn that waited for the exec would not be here */
    cr_assert_neq(__atomic_load_n(&c.s.tid, __ATOMIC_ACQUIRE), 0, "the exec was waited for");
    errno = EDOM;
    cr_assert_eq(write(go, "g", 1), 1);
    spawn_beside_wait(&c.s);
    cr_assert_eq(errno, EDOM, "the child's failed call reached the caller's errno");
    cr_assert_eq(reap(pid), 7);
    close(go);
    close(out);
}

Test(spawn_beside, the_child_runs_blocked_and_execs_with_the_callers_mask)
{
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    cr_assert_eq(sigprocmask(SIG_BLOCK, &usr1, &old), 0);
    char mine[128] = {0};
    FILE *status = fopen("/proc/self/status", "r");
    cr_assert(status);
    while (fgets(mine, sizeof(mine), status) && strncmp(mine, "SigBlk:", 7))
        ;
    fclose(status);
    struct child c;
    int go, out;
    /* grep, not a shell: dash clears the mask it was given */
    pid_t pid =
        spawn_held(&c, "/bin/grep", (char *[]){"grep", "SigBlk", "/proc/self/status"}, &go, &out);
    cr_assert_eq(write(go, "g", 1), 1);
    spawn_beside_wait(&c.s);
    char buf[128] = {0};
    ssize_t n = read(out, buf, sizeof(buf) - 1);
    cr_assert(n > 0);
    cr_assert_eq(reap(pid), 0);
    sigset_t now;
    sigprocmask(SIG_SETMASK, &old, &now);
    cr_assert(c.blocked, "fn ran with signals deliverable");
    cr_assert_str_eq(buf, mine, "the exec's mask is not the caller's: %s against %s", buf, mine);
    cr_assert(sigismember(&now, SIGUSR1) && !sigismember(&now, SIGTERM),
              "the caller's own mask changed");
    close(go);
    close(out);
}

Test(spawn_beside, a_failed_exec_exits_127_and_still_lets_the_memory_go)
{
    struct child c;
    int go, out;
    pid_t pid = spawn_held(&c, "/bin/sh", (char *[]){"sh", "-c", "true"}, &go, &out);
    c.exe = -1; /* read by the child after the go */
    cr_assert_eq(write(go, "g", 1), 1);
    spawn_beside_wait(&c.s);
    cr_assert_eq(reap(pid), 127);
    close(go);
    close(out);
}

struct placed {
    struct spawn_beside s;
    cpu_set_t seen; /* the child's CPUs as its fn starts */
    long got;
};

SPAWN_BESIDE_CHILD static int placed_main(void *arg)
{
    struct placed *p = arg;
    p->got = raw_syscall(SYS_sched_getaffinity, 0, sizeof(p->seen), (long)&p->seen, 0, 0);
    return 0;
}

/* With a plan (cpu_apart), the child runs off its caller's CPU from its first line: a child
 * that took that CPU from its caller would otherwise keep it until its exec. On one CPU there
 * is no plan, and the child keeps its caller's CPUs. */
Test(spawn_beside, a_planned_child_is_away_from_its_caller_before_its_fn_runs)
{
    struct cpu_apart apart;
    cpu_apart_plan(&apart);
    struct placed p = {0};
    bool in_cgroup = true;
    pid_t pid = spawn_beside(&p.s, placed_main, &p, -1, &in_cgroup, &apart);
    cr_assert(pid > 0, "spawn_beside: %s", strerror(errno));
    spawn_beside_wait(&p.s);
    cr_assert_eq(reap(pid), 0);
    cr_assert(p.got > 0, "sched_getaffinity: %ld", p.got);
    if (!apart.on) {
        cpu_set_t mine;
        cr_assert_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
        cr_assert(CPU_EQUAL(&p.seen, &mine), "the child was moved without a plan");
        return;
    }
    cr_assert(CPU_EQUAL(&p.seen, &apart.away), "the child's fn ran on %d CPUs, not the %d away",
              CPU_COUNT(&p.seen), CPU_COUNT(&apart.away));
    cr_assert(!CPU_ISSET(apart.here, &p.seen), "the child may run on its caller's CPU %d",
              apart.here);
}
