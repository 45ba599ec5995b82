/* A layer blob unpacked while it is still being downloaded. A thread reads the blob's file
 * behind its writer (told of each append, and of the end) and unpacks it into a directory of
 * the caller's with the safe unpacker, computing the diff-id on the way. Nothing is published
 * here: load adopts the directory for a layer whose config names that diff-id (the content is
 * then the layer's, whatever bytes it came from), and the caller discards the rest. */
#include "image/internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define FOLLOW_CHUNK (256u << 10)

struct image_prefetch {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd, dirfd;
    unsigned long long avail; /* bytes the writer has appended; under mu */
    bool ended, complete;     /* under mu */
    unsigned long long pos;   /* the thread's */
    char *buf;
    struct image_prefetched result;
    int rc;
    struct berr err;
};

/* The next bytes of the blob, waiting for the writer when the reader has caught up. */
static la_ssize_t follow_read(struct archive *a, void *data, const void **out)
{
    struct image_prefetch *p = data;
    pthread_mutex_lock(&p->mu);
    while (p->pos >= p->avail && !p->ended)
        pthread_cond_wait(&p->cv, &p->mu);
    bool abandoned = p->ended && !p->complete;
    unsigned long long avail = p->avail;
    pthread_mutex_unlock(&p->mu);
    if (abandoned) {
        archive_set_error(a, ECANCELED, "the download ended without the whole blob");
        return -1;
    }
    if (p->pos >= avail)
        return 0;
    size_t want = avail - p->pos < FOLLOW_CHUNK ? (size_t)(avail - p->pos) : FOLLOW_CHUNK;
    ssize_t n;
    do
        n = pread(p->fd, p->buf, want, (off_t)p->pos);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        archive_set_error(a, n < 0 ? errno : EIO, "read blob: %s",
                          n < 0 ? strerror(errno) : "shorter than written");
        return -1;
    }
    p->pos += (unsigned long long)n;
    *out = p->buf;
    return n;
}

static void *run(void *data)
{
    struct image_prefetch *p = data;
    struct archive *outer = image_outer_reader_new();
    if (archive_read_open(outer, p, NULL, follow_read, NULL) != ARCHIVE_OK) {
        p->rc = berr_set(&p->err, BERR_FAILED, "read: %s", la_err(outer));
        archive_read_free(outer);
    } else {
        p->rc = image_layer_unpack_to_tmp(p->dirfd, p->result.name, outer, false, p->result.diff,
                                          &p->result.size, &p->err);
    }
    return NULL;
}

int image_prefetch_start(int dirfd, int fd, struct image_prefetch **out, struct berr *err)
{
    struct image_prefetch *p = xcalloc(1, sizeof(*p));
    p->fd = fd;
    p->dirfd = dirfd;
    if (random_id(p->result.name, err) < 0) {
        free(p);
        return -1;
    }
    p->buf = xmalloc(FOLLOW_CHUNK);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    int e = pthread_create(&p->thread, NULL, run, p);
    if (e) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p->buf);
        free(p);
        return berr_errnum(err, e, "start a layer's unpacking");
    }
    *out = p;
    return 0;
}

void image_prefetch_grown(struct image_prefetch *p, unsigned long long bytes)
{
    pthread_mutex_lock(&p->mu);
    if (!p->ended && bytes > p->avail) {
        p->avail = bytes;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

void image_prefetch_end(struct image_prefetch *p, bool complete)
{
    pthread_mutex_lock(&p->mu);
    if (!p->ended) {
        p->ended = true;
        p->complete = complete;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

int image_prefetch_finish(struct image_prefetch *p, struct image_prefetched *out, struct berr *err)
{
    image_prefetch_end(p, false); /* no-op after an end; else the thread stops */
    pthread_join(p->thread, NULL);
    int rc = p->rc;
    *out = p->result;
    if (rc < 0)
        *err = p->err;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->buf);
    free(p);
    return rc;
}
