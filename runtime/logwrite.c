/* The container log, writing side (the monitor, also as berth-monitor): lines of the
 * container's stdout and stderr as records, rotated once past a cap. The reader behind
 * `berth logs` is logread.c; the two share only the record format.
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

/* " stdout F " and the newline: what a record adds to its time and payload */
#define RECORD_FRAME 11
/* Whole records batched into one write(2); holds the longest record. */
#define WRITE_BATCH (32u << 10)

static const char *const stream_names[] = {[LOG_STDOUT] = "stdout", [LOG_STDERR] = "stderr"};

/* ---- writing (the monitor) ---------------------------------------------------------------- */

struct log_line {
    size_t len;
    char buf[LOG_LINE_MAX];
};

struct log_writer {
    int dirfd, fd; /* fd < 0 after a failed reopen: retried at the next write */
    size_t max_bytes;
    size_t size; /* bytes in the current file */
    char now[40];
    size_t now_len; /* the time given to the records of the chunk being appended */
    size_t out_len;
    char out[WRITE_BATCH];
    struct log_line line[2]; /* unfinished lines of stdout, stderr */
};

static int open_for_append(int dirfd)
{
    return openat(dirfd, LOG_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

static int reopen(struct log_writer *w, struct berr *err)
{
    w->fd = open_for_append(w->dirfd);
    if (w->fd < 0)
        return berr_errno(err, "open %s", LOG_FILE);
    struct stat st;
    w->size = fstat(w->fd, &st) == 0 ? (size_t)st.st_size : 0;
    return 0;
}

int log_writer_open(int dirfd, size_t max_bytes, struct log_writer **out, struct berr *err)
{
    _cleanup_close_ int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (dfd < 0)
        return berr_errno(err, "container log: duplicate the directory fd");
    _cleanup_close_ int fd = open_for_append(dfd);
    if (fd < 0)
        return berr_errno(err, "container log: open %s", LOG_FILE);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(err, "container log: stat %s", LOG_FILE);
    if (!S_ISREG(st.st_mode))
        return berr_set(err, BERR_FAILED, "container log: %s is not a regular file", LOG_FILE);
    /* malloc, not calloc: the buffers' pages stay untouched until output needs them */
    struct log_writer *w = xmalloc(sizeof(*w));
    w->dirfd = steal_fd(&dfd);
    w->fd = steal_fd(&fd);
    w->max_bytes = max_bytes ? max_bytes : LOG_MAX_BYTES;
    w->size = (size_t)st.st_size;
    w->now_len = 0;
    w->out_len = 0;
    w->line[0].len = w->line[1].len = 0;
    *out = w;
    return 0;
}

static void stamp_now(struct log_writer *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    format_rfc3339(&ts, w->now);
    w->now_len = strlen(w->now);
}

/* One write(2) of the batched records. A failed batch is dropped: the container must never
 * block on its log, and the next batch starts on a record boundary again. */
static int flush_batch(struct log_writer *w, struct berr *err)
{
    if (!w->out_len)
        return 0;
    size_t len = w->out_len;
    w->out_len = 0;
    if (w->fd < 0 && reopen(w, err) < 0)
        return berr_wrap(err, "container log");
    if (write_all(w->fd, w->out, len) < 0) {
        berr_errno(err, "container log: write %s", LOG_FILE);
        struct stat st;
        if (fstat(w->fd, &st) == 0)
            w->size = (size_t)st.st_size;
        return -1;
    }
    w->size += len;
    return 0;
}

/* log → log.1 (replacing the older one) and a fresh log: at most two files of max_bytes. */
static int rotate(struct log_writer *w, struct berr *err)
{
    if (renameat(w->dirfd, LOG_FILE, w->dirfd, LOG_OLD_FILE) < 0)
        return berr_errno(err, "container log: rotate %s", LOG_FILE);
    close(w->fd);
    if (reopen(w, err) < 0)
        return berr_wrap(err, "container log");
    return 0;
}

/* Batch one record of l's unfinished line followed by tail (either may be empty); l is
 * empty afterwards. */
static int add_record(struct log_writer *w, enum log_stream stream, char flag, struct log_line *l,
                      const char *tail, size_t tail_len, struct berr *err)
{
    size_t len = w->now_len + RECORD_FRAME + l->len + tail_len;
    int rc = 0;
    if (w->size + w->out_len + len > w->max_bytes && w->size + w->out_len > 0) {
        rc = flush_batch(w, err);
        if (w->size > 0 && rotate(w, err) < 0)
            rc = -1;
    } else if (w->out_len + len > sizeof(w->out)) {
        rc = flush_batch(w, err);
    }
    char *p = w->out + w->out_len;
    p = mempcpy(p, w->now, w->now_len);
    *p++ = ' ';
    p = mempcpy(p, stream_names[stream], 6);
    *p++ = ' ';
    *p++ = flag;
    *p++ = ' ';
    p = mempcpy(p, l->buf, l->len);
    if (tail_len)
        p = mempcpy(p, tail, tail_len);
    *p++ = '\n';
    w->out_len += len;
    l->len = 0;
    return rc;
}

int log_writer_append(struct log_writer *w, enum log_stream stream, const char *buf, size_t n,
                      struct berr *err)
{
    if (stream != LOG_STDOUT && stream != LOG_STDERR)
        return berr_set(err, BERR_FAILED, "container log: no stream %d", (int)stream);
    /* the lines of one chunk arrived together: one time for all of them */
    stamp_now(w);
    struct log_line *l = &w->line[stream - 1];
    int rc = 0;
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t seg = nl ? (size_t)(nl - buf) : n;
        /* a longer line goes out in pieces, as docker cuts its lines at 16 KiB */
        while (l->len + seg > LOG_LINE_MAX) {
            size_t take = LOG_LINE_MAX - l->len;
            if (add_record(w, stream, 'P', l, buf, take, err) < 0)
                rc = -1;
            buf += take;
            n -= take;
            seg -= take;
        }
        if (!nl) {
            memcpy(l->buf + l->len, buf, seg);
            l->len += seg;
            break;
        }
        if (add_record(w, stream, 'F', l, buf, seg, err) < 0)
            rc = -1;
        buf += seg + 1;
        n -= seg + 1;
    }
    if (flush_batch(w, err) < 0)
        rc = -1;
    return rc;
}

void log_writer_close(struct log_writer *w)
{
    if (!w)
        return;
    struct berr ignored;
    stamp_now(w);
    for (int s = LOG_STDOUT; s <= LOG_STDERR; s++) {
        if (w->line[s - 1].len)
            add_record(w, (enum log_stream)s, 'P', &w->line[s - 1], "", 0, &ignored);
    }
    flush_batch(w, &ignored);
    if (w->fd >= 0)
        close(w->fd);
    close(w->dirfd);
    free(w);
}
