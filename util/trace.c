/* BERTH_TRACE=1: one line per phase of a container's start, on stderr, in every process that
 * takes part (docs in bench/README.md). The lines carry CLOCK_MONOTONIC stamps, so that a
 * reader lines up processes that know nothing of each other (the re-executed front end, the
 * monitor, the container's init, berth-monitor) without any channel between them.
 *
 * The state is the process's own, as errno is, and is copied into a cloned child: a trace
 * that had to travel in every struct on the path would change the path it measures. Off, a
 * phase costs one load and one branch. The variable is read once, by trace_begin, which the
 * front end calls after launcher/caller.c has rebuilt the environment of a caller handed over
 * by a setuid launcher: getenv returns NULL for such a caller, whose environment steers
 * nothing, and so it is never traced (nor is the setuid worker-launcher, which never calls
 * trace_begin and hands berth the environment it cleaned). Lines are written with one write(2) each
 * to a descriptor of their own (a copy of stderr), built without malloc or stdio: the monitor puts
 * /dev/null on its stderr and the container's init the container's log, and the init traces
 * up to its execve, after its seccomp filter is loaded (write(2) is in every profile that
 * lets a program print).
 *
 * A detached berth-monitor may not keep its caller's stderr, yet its part in `wait` comes
 * long after: it writes the phases of a traced container's exit to a file in the container's
 * state directory, and a traced `wait` copies them to its own stderr once it is woken. */
#include "util.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>

static struct {
    bool on;
    int fd;
    pid_t pid;
    const char *role;
    uint64_t start, last;
    char *held; /* lines kept until trace_end (trace_move); NULL: written at once */
    size_t held_len;
} trace = {.fd = -1};

/* allocated when wanted: berth-monitor's resident memory is counted by the page */
#define HELD_MAX 2048

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* stamped as soon as the binary runs, before main: "since process start" includes what the
 * front end does before it may read the environment (vDSO clock: no system call) */
__attribute__((constructor)) static void trace_stamp_start(void)
{
    trace.start = trace.last = now_us();
}

static void take(const char *role, int fd)
{
    trace.on = true;
    trace.fd = fd;
    trace.role = role;
    trace.pid = getpid();
}

bool trace_begin(const char *role)
{
    const char *v = getenv("BERTH_TRACE");
    if (!v || strcmp(v, "1") != 0)
        return false;
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return false;
    take(role, fd);
    return true;
}

bool trace_begin_fd(const char *role, int fd)
{
    const char *v = getenv("BERTH_TRACE");
    if (!v || strcmp(v, "1") != 0 || fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return false;
    take(role, fd);
    return true;
}

bool trace_enabled(void)
{
    return trace.on;
}

int trace_fd(void)
{
    return trace.on ? trace.fd : -1;
}

void trace_role(const char *role)
{
    if (trace.on)
        trace.role = role;
}

void trace_child(const char *role)
{
    if (!trace.on)
        return;
    trace.role = role;
    trace.pid = getpid();
    trace.start = trace.last = now_us();
}

static void write_held(void)
{
    if (trace.held_len)
        (void)!write(trace.fd, trace.held, trace.held_len);
    trace.held_len = 0;
}

void trace_end(void)
{
    if (!trace.on)
        return;
    write_held();
    free(trace.held);
    trace.held = NULL;
    close(trace.fd);
    trace.fd = -1;
    trace.on = false;
}

void trace_move(int fd)
{
    if (!trace.on) {
        if (fd >= 0)
            close(fd);
        return;
    }
    write_held(); /* to the descriptor they were kept for */
    close(trace.fd);
    trace.fd = fd;
    trace.on = fd >= 0;
    if (trace.on && !trace.held)
        trace.held = xmalloc(HELD_MAX);
    if (!trace.on) {
        free(trace.held);
        trace.held = NULL;
        trace.held_len = 0;
    }
}

void trace_relay(int dirfd, const char *name)
{
    if (!trace.on)
        return;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        (void)!write(trace.fd, buf, (size_t)n);
    close(fd);
}

static size_t put_str(char *buf, size_t cap, size_t at, const char *s)
{
    for (; *s && at + 1 < cap; s++)
        buf[at++] = *s;
    return at;
}

static size_t put_u64(char *buf, size_t cap, size_t at, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && at + 1 < cap)
        buf[at++] = digits[--n];
    return at;
}

size_t trace_format(char *buf, size_t cap, pid_t pid, const char *role, const char *phase,
                    uint64_t delta_us, uint64_t since_start_us, uint64_t mono_us)
{
    if (cap < 2)
        return 0;
    size_t at = put_str(buf, cap, 0, "berth-trace ");
    at = put_u64(buf, cap, at, (uint64_t)pid);
    at = put_str(buf, cap, at, " ");
    at = put_str(buf, cap, at, role);
    at = put_str(buf, cap, at, " ");
    at = put_str(buf, cap, at, phase);
    at = put_str(buf, cap, at, " ");
    at = put_u64(buf, cap, at, delta_us);
    at = put_str(buf, cap, at, " ");
    at = put_u64(buf, cap, at, since_start_us);
    at = put_str(buf, cap, at, " ");
    at = put_u64(buf, cap, at, mono_us);
    buf[at++] = '\n'; /* put_* leave room for it */
    return at;
}

void trace_phase(const char *phase)
{
    if (!trace.on)
        return;
    uint64_t now = now_us();
    char line[192];
    size_t n = trace_format(line, sizeof(line), trace.pid, trace.role, phase, now - trace.last,
                            now - trace.start, now);
    if (trace.held && trace.held_len + n > HELD_MAX)
        write_held();
    if (trace.held) {
        memcpy(trace.held + trace.held_len, line, n);
        trace.held_len += n;
    } else {
        (void)!write(trace.fd, line, n);
    }
    /* the write's own cost goes to the next phase's account, not lost between them */
    trace.last = now;
}
