/* The sha256 of a stream, computed by a second thread while the caller goes on with the
 * bytes: the caller fills a small ring of buffers in order and submits each; the hasher works
 * through them. Loading a layer then pays for its digest beside the unpacking (which is
 * mostly system calls) instead of on top of it. Without a thread, it hashes inline. */
#include "util/util.h"

#include <pthread.h>

#define PIPE_SLOTS 4 /* the buffer libarchive reads, the one being hashed, and room to run */

struct sha256_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool threaded, closing;
    struct sha256_stream *hash;
    char *buf[PIPE_SLOTS];
    size_t len[PIPE_SLOTS];
    unsigned long long submitted, hashed; /* buffers so far: slot = count % PIPE_SLOTS */
};

static void *hasher_main(void *arg)
{
    struct sha256_pipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->hashed == p->submitted && !p->closing)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->hashed == p->submitted)
            break;
        size_t slot = p->hashed % PIPE_SLOTS;
        pthread_mutex_unlock(&p->mu);
        sha256_stream_update(p->hash, p->buf[slot], p->len[slot]);
        pthread_mutex_lock(&p->mu);
        p->hashed++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct sha256_pipe *sha256_pipe_new(size_t bufsize)
{
    struct sha256_pipe *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->hash = sha256_stream_new();
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        p->buf[i] = xmalloc(bufsize);
    p->threaded = pthread_create(&p->thread, NULL, hasher_main, p) == 0;
    return p;
}

void *sha256_pipe_buffer(struct sha256_pipe *p)
{
    /* its slot last held buffer submitted - PIPE_SLOTS + 1: that one must be hashed */
    pthread_mutex_lock(&p->mu);
    while (p->submitted - p->hashed >= PIPE_SLOTS)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return p->buf[p->submitted % PIPE_SLOTS];
}

void sha256_pipe_submit(struct sha256_pipe *p, size_t len)
{
    size_t slot = p->submitted % PIPE_SLOTS;
    p->len[slot] = len;
    if (!p->threaded) {
        sha256_stream_update(p->hash, p->buf[slot], len);
        p->submitted++;
        p->hashed++;
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->submitted++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void sha256_pipe_final(struct sha256_pipe *p, char out[65])
{
    if (p->threaded) {
        pthread_mutex_lock(&p->mu);
        p->closing = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    sha256_stream_final(p->hash, out);
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        free(p->buf[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
