/* exec's stdio: the command never gets the caller's descriptors. Handed over, they would
 * let it act on the caller's terminal (TIOCSTI types into the caller's shell, TIOCSWINSZ,
 * reading the tty) and on whatever else the caller's files are. Instead its 0-2 are pipes
 * (or /dev/null for stdin without -i), and berth copies between them and its own 0-2 while
 * it waits for the command, as docker's CLI does without -t.
 *
 * Each stream keeps its order; stdout and stderr, two pipes, may interleave differently than
 * on one terminal, as with docker. When the command exits, what it wrote is in the pipes and
 * is copied out; what processes it left behind write later is not waited for (berth returned
 * as soon as the command exited before, and still does). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define RELAY_BUF (64u << 10)
/* After the exit: at most this much more from each pipe, should a process left behind keep
 * them full. */
#define RELAY_DRAIN_MAX (16u << 20)

static int fd_above_stdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

/* A pipe whose ends are never 0-2, even when berth's caller left those closed: the command's
 * side is dup2'ed onto them. */
static int pipe_above_stdio(int p[2], struct berr *err)
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return berr_errno(err, "pipe");
    p[0] = fd_above_stdio(p[0]);
    p[1] = fd_above_stdio(p[1]);
    if (p[0] >= 0 && p[1] >= 0)
        return 0;
    berr_errno(err, "pipe");
    for (int i = 0; i < 2; i++) {
        if (p[i] >= 0)
            close(p[i]);
        p[i] = -1;
    }
    return -1;
}

void relay_close(struct relay *r)
{
    int *fds[] = {&r->child[0], &r->child[1], &r->child[2], &r->in_w, &r->out_r, &r->err_r};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
    free(r->buf);
    free(r->in_buf);
    r->buf = r->in_buf = NULL;
}

int relay_open(struct relay *r, int stdin_fd, struct berr *err)
{
    *r = (struct relay){.child = {-1, -1, -1}, .in_w = -1, .out_r = -1, .err_r = -1};
    int p[2];
    if (stdin_fd >= 0) {
        r->child[0] = fcntl(stdin_fd, F_DUPFD_CLOEXEC, 3);
        if (r->child[0] < 0)
            return berr_errno(err, "stdin");
    } else {
        if (pipe_above_stdio(p, err) < 0)
            return -1;
        r->child[0] = p[0];
        r->in_w = p[1];
        r->in_open = true;
    }
    if (pipe_above_stdio(p, err) < 0)
        return -1;
    r->out_r = p[0];
    r->child[1] = p[1];
    if (pipe_above_stdio(p, err) < 0)
        return -1;
    r->err_r = p[0];
    r->child[2] = p[1];
    /* berth's ends only: the caller's own descriptors keep their flags */
    int ours[] = {r->in_w, r->out_r, r->err_r};
    for (size_t i = 0; i < ARRAY_SIZE(ours); i++) {
        if (ours[i] >= 0 && fcntl(ours[i], F_SETFL, O_NONBLOCK) < 0)
            return berr_errno(err, "pipe");
    }
    r->buf = xmalloc(RELAY_BUF);
    if (r->in_open)
        r->in_buf = xmalloc(RELAY_BUF);
    return 0;
}

int relay_install_child_side(const struct relay *r)
{
    for (int i = 0; i < 3; i++) {
        if (dup2(r->child[i], i) < 0)
            return -1;
    }
    return 0;
}

void relay_close_child_side(struct relay *r)
{
    for (int i = 0; i < 3; i++) {
        if (r->child[i] >= 0)
            close(r->child[i]);
        r->child[i] = -1;
    }
}

/* All of buf to berth's own fd, which its caller may have made non-blocking. */
static int write_fully(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* One read from the command's pipe onto berth's fd to; false once the pipe is done: EOF, or
 * berth's own fd refusing (a closed reader: the command gets SIGPIPE at its next write). */
static bool copy_out(int from, int to, char *buf)
{
    ssize_t n = read(from, buf, RELAY_BUF);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    return n > 0 && write_fully(to, buf, (size_t)n) == 0;
}

static void drain(int *from, int to, char *buf)
{
    for (size_t total = 0; *from >= 0 && total < RELAY_DRAIN_MAX; total += RELAY_BUF) {
        ssize_t n = read(*from, buf, RELAY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || write_fully(to, buf, (size_t)n) < 0)
            break;
    }
    close_fd(from);
}

/* stdin: berth's fd 0 → the command, through the buffer. */
static void stdin_read(struct relay *r)
{
    ssize_t n = read(0, r->in_buf, RELAY_BUF);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) { /* EOF (or an unreadable stdin) goes on as EOF */
        r->in_open = false;
        close_fd(&r->in_w);
        return;
    }
    r->pending = (size_t)n;
    r->done = 0;
}

static void stdin_write(struct relay *r)
{
    ssize_t n = write(r->in_w, r->in_buf + r->done, r->pending - r->done);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0) { /* the command closed its stdin: stop reading berth's */
        r->in_open = false;
        r->pending = r->done = 0;
        close_fd(&r->in_w);
        return;
    }
    r->done += (size_t)n;
    if (r->done == r->pending)
        r->pending = r->done = 0;
}

enum { P_SIG, P_OUT, P_ERR, P_IN, P_N };

static void relay_step(int sfd, pid_t pid, void *ctx)
{
    struct relay *r = ctx;
    struct pollfd p[P_N] = {
        [P_SIG] = {.fd = sfd, .events = POLLIN},
        [P_OUT] = {.fd = r->out_r, .events = POLLIN},
        [P_ERR] = {.fd = r->err_r, .events = POLLIN},
        [P_IN] = {.fd = -1},
    };
    if (r->in_open)
        p[P_IN] = r->pending ? (struct pollfd){.fd = r->in_w, .events = POLLOUT}
                             : (struct pollfd){.fd = 0, .events = POLLIN};
    if (poll(p, P_N, -1) < 0)
        return;
    const short ready = POLLIN | POLLOUT | POLLHUP | POLLERR | POLLNVAL;
    if (p[P_SIG].revents)
        signal_forward_pending(sfd, pid);
    if ((p[P_OUT].revents & ready) && !copy_out(r->out_r, 1, r->buf))
        close_fd(&r->out_r);
    if ((p[P_ERR].revents & ready) && !copy_out(r->err_r, 2, r->buf))
        close_fd(&r->err_r);
    if (r->in_open && (p[P_IN].revents & ready)) {
        if (r->pending)
            stdin_write(r);
        else
            stdin_read(r);
    }
}

int relay_wait(struct relay *r, pid_t pid, siginfo_t *si, struct berr *err)
{
    /* a caller that stopped reading is an EPIPE here, not berth's death */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigaction(SIGPIPE, &ign, &old_pipe);
    int rc = wait_forwarding_signals_while(pid, true, relay_step, r, si, err);
    drain(&r->out_r, 1, r->buf);
    drain(&r->err_r, 2, r->buf);
    close_fd(&r->in_w);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return rc;
}
