/* The container log, reading side: `berth logs` (tail, follow across a rotation). The monitor
 * writes it (logwrite.c); the two share only the record format.
 *
 * One record per text line, as the CRI log format:
 *     <rfc3339nano> <stdout|stderr> <P|F> <payload>\n
 * F ends a line of the container's output (its newline is not in the payload), P is a piece
 * of a line that was cut at LOG_LINE_MAX or left unfinished at close. The payload holds every
 * byte but '\n', so a record needs no escaping and a reader can split on newlines alone. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

/* The reader's window: far more than the longest record, so only garbage fills it. */
#define READ_WINDOW (64u << 10)
#define PRINT_BATCH (64u << 10)
/* --follow: how long to sleep when inotify cannot wake us, and at most between checks. */
#define FOLLOW_POLL_MS 100
/* --follow: how long the monitor may take to let go of the lock after recording the exit. */
#define MONITOR_GRACE_MS 2000

/* ---- reading (berth logs) ----------------------------------------------------------------- */

struct log_record {
    const char *time;
    size_t time_len;
    enum log_stream stream;
    bool full;
    const char *payload;
    size_t len;
};

/* false for anything that is not a whole record (a line torn by a failed write). */
static bool parse_record(const char *line, size_t len, struct log_record *r)
{
    const char *sp = memchr(line, ' ', len);
    if (!sp || sp == line || (size_t)(sp - line) >= 40)
        return false;
    r->time = line;
    r->time_len = (size_t)(sp - line);
    const char *p = sp + 1;
    size_t rest = len - r->time_len - 1;
    if (rest < 9 || p[6] != ' ' || p[8] != ' ' || (p[7] != 'P' && p[7] != 'F'))
        return false;
    if (!memcmp(p, "stdout", 6))
        r->stream = LOG_STDOUT;
    else if (!memcmp(p, "stderr", 6))
        r->stream = LOG_STDERR;
    else
        return false;
    r->full = p[7] == 'F';
    r->payload = p + 9;
    r->len = rest - 9;
    return true;
}

struct log_reader {
    const struct logs_opts *opts;
    bool timestamps;
    bool counting; /* only count the records (the first pass of --tail) */
    long count;
    long skip; /* records still to pass over before printing */
    int out_fd;
    size_t out_len;
    char out[PRINT_BATCH];
    char window[READ_WINDOW];
};

static int flush_print(struct log_reader *r, struct berr *err)
{
    if (!r->out_len)
        return 0;
    size_t len = r->out_len;
    r->out_len = 0;
    if (write_all(r->out_fd, r->out, len) < 0)
        return berr_errno(err, "write the logs");
    return 0;
}

static int print_bytes(struct log_reader *r, const char *p, size_t len, struct berr *err)
{
    if (r->out_len + len > sizeof(r->out) && flush_print(r, err) < 0)
        return -1;
    if (len > sizeof(r->out))
        return write_all(r->out_fd, p, len) < 0 ? berr_errno(err, "write the logs") : 0;
    memcpy(r->out + r->out_len, p, len);
    r->out_len += len;
    return 0;
}

static int print_record(struct log_reader *r, const struct log_record *rec, struct berr *err)
{
    int fd = rec->stream == LOG_STDERR ? r->opts->err_fd : r->opts->out_fd;
    /* one batch per destination at a time, so stdout and stderr keep their order */
    if (fd != r->out_fd && flush_print(r, err) < 0)
        return -1;
    r->out_fd = fd;
    if (r->timestamps &&
        (print_bytes(r, rec->time, rec->time_len, err) < 0 || print_bytes(r, " ", 1, err) < 0))
        return -1;
    if (print_bytes(r, rec->payload, rec->len, err) < 0)
        return -1;
    return rec->full ? print_bytes(r, "\n", 1, err) : 0;
}

static int handle_line(struct log_reader *r, const char *line, size_t len, struct berr *err)
{
    struct log_record rec;
    if (!parse_record(line, len, &rec))
        return 0;
    if (r->counting) {
        r->count++;
        return 0;
    }
    if (r->skip > 0) {
        r->skip--;
        return 0;
    }
    return print_record(r, &rec, err);
}

/* Every whole record of fd from *pos to its end; *pos moves past them. An unfinished record
 * at the end (its write still in progress) is left for the next call. */
static int read_records(struct log_reader *r, int fd, off_t *pos, struct berr *err)
{
    size_t have = 0;
    for (;;) {
        ssize_t n = pread(fd, r->window + have, sizeof(r->window) - have, *pos + (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berr_errno(err, "read the log");
        if (n == 0)
            return 0;
        have += (size_t)n;
        size_t start = 0;
        const char *nl;
        while ((nl = memchr(r->window + start, '\n', have - start))) {
            size_t len = (size_t)(nl - (r->window + start));
            if (handle_line(r, r->window + start, len, err) < 0)
                return -1;
            start += len + 1;
        }
        /* a window without a newline is no record of ours: pass over it */
        if (start == 0 && have == sizeof(r->window))
            start = have;
        *pos += (off_t)start;
        memmove(r->window, r->window + start, have - start);
        have -= start;
    }
}

/* fd of dirfd/name, or -1 when there is none (yet). */
static int open_log_file(int dirfd, const char *name, int *fd, struct berr *err)
{
    *fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (*fd < 0 && errno != ENOENT)
        return berr_errno(err, "open %s", name);
    return 0;
}

static bool same_file(int fd, const struct stat *st)
{
    struct stat mine;
    return fd >= 0 && fstat(fd, &mine) == 0 && mine.st_ino == st->st_ino &&
           mine.st_dev == st->st_dev;
}

/* When log is no longer the file cur reads, finish cur (the writer renames it only after its
 * last write), read a log.1 we never saw (rotated twice meanwhile), and go on with the new
 * log from its start. 1 when cur changed. */
static int follow_rotation(struct log_reader *r, int dirfd, int *cur, off_t *pos, struct berr *err)
{
    struct stat now;
    if (fstatat(dirfd, LOG_FILE, &now, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : berr_errno(err, "stat %s", LOG_FILE);
    if (same_file(*cur, &now))
        return 0;
    if (*cur >= 0) {
        if (read_records(r, *cur, pos, err) < 0)
            return -1;
        struct stat old;
        if (fstatat(dirfd, LOG_OLD_FILE, &old, AT_SYMLINK_NOFOLLOW) == 0 &&
            !same_file(*cur, &old) && old.st_ino != now.st_ino) {
            _cleanup_close_ int fd = -1;
            off_t from = 0;
            if (open_log_file(dirfd, LOG_OLD_FILE, &fd, err) < 0 ||
                (fd >= 0 && read_records(r, fd, &from, err) < 0))
                return -1;
        }
    }
    int fd;
    if (open_log_file(dirfd, LOG_FILE, &fd, err) < 0)
        return -1;
    if (fd < 0)
        return 0;
    if (*cur >= 0)
        close(*cur);
    *cur = fd;
    *pos = 0;
    return 1;
}

static bool container_running(const struct runtime_paths *paths, const char *id)
{
    struct container_info info;
    struct berr ignored;
    if (runtime_inspect(paths, id, &info, &ignored) < 0)
        return false; /* removed meanwhile: nothing more will come */
    bool running = info.running;
    container_info_free(&info);
    return running;
}

static bool monitor_gone(int dirfd)
{
    struct berr ignored;
    _cleanup_close_ int lock = lock_open(dirfd, O_RDONLY, &ignored);
    return lock < 0 || !monitor_alive(lock);
}

static int inotify_open(int dirfd)
{
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0)
        return -1;
    char path[PROC_FD_PATH_MAX];
    proc_fd_path(dirfd, path);
    if (inotify_add_watch(fd, path, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void wait_for_change(int inotify_fd)
{
    if (inotify_fd < 0) {
        nanosleep(&(struct timespec){0, FOLLOW_POLL_MS * 1000000L}, NULL);
        return;
    }
    struct pollfd p = {.fd = inotify_fd, .events = POLLIN};
    if (poll(&p, 1, FOLLOW_POLL_MS) <= 0)
        return;
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(inotify_fd, events, sizeof(events)) > 0)
        ;
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Print what is appended until the container stopped and its monitor, which writes the last
 * output after it records the exit, let go of the log; then what is left, and return. */
static int follow(struct log_reader *r, const struct runtime_paths *paths, const char *id,
                  int dirfd, int *cur, off_t *pos, struct berr *err)
{
    _cleanup_close_ int inotify_fd = inotify_open(dirfd);
    struct timespec stopped;
    bool has_stopped = false, last_pass = false;
    for (;;) {
        off_t before = *pos;
        if (*cur >= 0 && read_records(r, *cur, pos, err) < 0)
            return -1;
        int rotated = follow_rotation(r, dirfd, cur, pos, err);
        if (rotated < 0 || flush_print(r, err) < 0)
            return -1;
        if (rotated || *pos != before)
            continue;
        if (last_pass)
            return 0;
        if (!has_stopped && !container_running(paths, id)) {
            has_stopped = true;
            clock_gettime(CLOCK_MONOTONIC, &stopped);
        }
        if (has_stopped && (monitor_gone(dirfd) || elapsed_ms(&stopped) > MONITOR_GRACE_MS)) {
            last_pass = true;
            continue;
        }
        wait_for_change(inotify_fd);
    }
}

static int count_records(struct log_reader *r, int fd, struct berr *err)
{
    off_t pos = 0;
    return fd >= 0 ? read_records(r, fd, &pos, err) : 0;
}

static int copy_logs(struct log_reader *r, const struct runtime_paths *paths, const char *id,
                     int dirfd, struct berr *err)
{
    /* log before log.1: a rotation in between shows as the same file twice, never as a gap
     * between the two */
    _cleanup_close_ int cur = -1, old = -1;
    if (open_log_file(dirfd, LOG_FILE, &cur, err) < 0 ||
        open_log_file(dirfd, LOG_OLD_FILE, &old, err) < 0)
        return -1;
    struct stat st;
    if (old >= 0 && cur >= 0 && fstat(old, &st) == 0 && same_file(cur, &st))
        close(steal_fd(&old));
    if (r->opts->tail >= 0) {
        r->counting = true;
        if (count_records(r, old, err) < 0 || count_records(r, cur, err) < 0)
            return -1;
        r->counting = false;
        r->skip = r->count > r->opts->tail ? r->count - r->opts->tail : 0;
    }
    off_t pos = 0;
    if (old >= 0 && read_records(r, old, &pos, err) < 0)
        return -1;
    pos = 0;
    if (cur >= 0 && read_records(r, cur, &pos, err) < 0)
        return -1;
    if (flush_print(r, err) < 0)
        return -1;
    return r->opts->follow ? follow(r, paths, id, dirfd, &cur, &pos, err) : 0;
}

int runtime_logs(const struct runtime_paths *paths, const char *id, const struct logs_opts *opts,
                 struct berr *err)
{
    if (!is_hex64(id))
        return berr_set(err, BERR_NOT_FOUND, "No such container: %s", id);
    _cleanup_close_ int root = state_root_open(paths, err);
    if (root < 0)
        return err->kind == BERR_NOT_FOUND
                   ? berr_set(err, BERR_NOT_FOUND, "No such container: %s", id)
                   : -1;
    _cleanup_close_ int dirfd = container_dir_open(root, id, err);
    if (dirfd < 0)
        return -1;
    /* the buffers are too large for the stack; the struct is set field by field so that a
     * short log touches few of their pages */
    _cleanup_free_ struct log_reader *r = xmalloc(sizeof(*r));
    r->opts = opts;
    r->timestamps = opts->timestamps;
    r->counting = false;
    r->count = 0;
    r->skip = 0;
    r->out_fd = opts->out_fd;
    r->out_len = 0;
    if (copy_logs(r, paths, id, dirfd, err) < 0)
        return berr_wrap(err, "logs of container %.12s", id);
    return 0;
}
