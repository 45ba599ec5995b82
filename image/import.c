/* `import`: a plain rootfs tar, maybe compressed, becomes one layer and an image config.
 *
 * Two libarchive readers: the outer one only decompresses (any filter, "raw" format) and its
 * bytes are hashed as they pass into the inner tar reader, so the diff-id is the sha256 of the
 * whole uncompressed stream, trailing bytes included. The layer is unpacked into tmp/ and
 * published by rename: a layers/<hex> that exists is complete. */
#include "image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define TAR_RECORD 512

#if defined(__aarch64__)
#define HOST_ARCH "arm64"
#else
#define HOST_ARCH "amd64"
#endif

#define HASH_CHUNK (256u << 10)

static const char zeros[TAR_RECORD];

/* The next block outer decompresses into s->pending; s->eof at the end. -1 on error. */
static int next_block(struct layer_stream *s)
{
    while (s->pending_len == 0 && !s->eof) {
        const void *b;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(s->outer, &b, &n, &off);
        if (r == ARCHIVE_EOF) {
            s->eof = true;
            s->pad_left = (TAR_RECORD - s->real_bytes % TAR_RECORD) % TAR_RECORD;
        } else if (!la_ok(r)) {
            snprintf(s->outer_err, sizeof(s->outer_err), "decompress: %s", la_err(s->outer));
            return -1;
        } else {
            s->pending = b;
            s->pending_len = n;
        }
    }
    return 0;
}

/* Up to one chunk of the pending block, counted, and hashed on the hash thread: the chunk is
 * copied into the hasher's ring, which keeps it until the reader has moved on. */
static size_t take(struct layer_stream *s, const void **buf)
{
    size_t n = s->pending_len;
    if (!s->hash) {
        *buf = s->pending;
    } else {
        n = n < HASH_CHUNK ? n : HASH_CHUNK;
        char *copy = sha256_pipe_buffer(s->hash);
        memcpy(copy, s->pending, n);
        sha256_pipe_submit(s->hash, n);
        *buf = copy;
    }
    s->pending += n;
    s->pending_len -= n;
    s->real_bytes += n;
    return n;
}

static la_ssize_t stream_read(struct archive *inner, void *data, const void **buf)
{
    struct layer_stream *s = data;
    if (next_block(s) < 0) {
        archive_set_error(inner, EIO, "%s", s->outer_err);
        return -1;
    }
    if (s->pending_len)
        return (la_ssize_t)take(s, buf);
    /* Writers that never closed their tar stop without the final record's padding. */
    size_t n = s->pad_left;
    s->pad_left = 0;
    *buf = zeros;
    return (la_ssize_t)n;
}

struct archive *image_outer_reader_new(void)
{
    struct archive *a = archive_read_new();
    if (!a)
        abort();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    return a;
}

/* Known once outer has read its header: no filter but "none" decompresses anything. */
static bool is_uncompressed(struct archive *outer)
{
    return archive_filter_count(outer) == 1 && archive_filter_code(outer, 0) == ARCHIVE_FILTER_NONE;
}

/* outer is opened already; from here on it belongs to s. Without raw_hashed, or when
 * compressed, s hashes what outer gives. */
static int stream_start(struct layer_stream *s, struct archive *outer, bool raw_hashed,
                        struct berr *err)
{
    *s = (struct layer_stream){0};
    s->outer = outer;
    struct archive_entry *e;
    if (!la_ok(archive_read_next_header(s->outer, &e)))
        return berr_set(err, BERR_FAILED, "read input: %s", la_err(s->outer));
    if (!raw_hashed || !is_uncompressed(outer))
        s->hash = sha256_pipe_new(HASH_CHUNK);
    return 0;
}

static int stream_open(struct layer_stream *s, struct archive *outer, bool raw_hashed,
                       struct archive **inner, struct berr *err)
{
    if (stream_start(s, outer, raw_hashed, err) < 0)
        return -1;
    *inner = archive_read_new();
    if (!*inner)
        abort();
    archive_read_support_format_tar(*inner);
    if (archive_read_open(*inner, s, NULL, stream_read, NULL) != ARCHIVE_OK) {
        berr_set(err, BERR_FAILED, "read tar: %s", s->outer_err[0] ? s->outer_err : la_err(*inner));
        archive_read_free(*inner);
        *inner = NULL;
        return -1;
    }
    return 0;
}

/* After the tar's end: the rest of the input (padding, junk) still belongs to the diff-id. */
static int stream_finish(struct layer_stream *s, char hex[65], struct berr *err)
{
    const void *ignored;
    while (!s->eof || s->pending_len) {
        if (next_block(s) < 0)
            return berr_set(err, BERR_FAILED, "%s", s->outer_err);
        if (s->pending_len)
            take(s, &ignored);
    }
    hex[0] = '\0';
    if (s->hash)
        sha256_pipe_final(s->hash, hex);
    s->hash = NULL;
    return 0;
}

static void stream_close(struct layer_stream *s)
{
    if (s->hash) {
        char ignored[65];
        sha256_pipe_final(s->hash, ignored);
    }
    if (s->outer)
        archive_read_free(s->outer);
    *s = (struct layer_stream){0};
}

/* Only hash what outer decompresses: a layer the store has already. */
static int hash_only(struct archive *outer, bool raw_hashed, char hex[65], struct berr *err)
{
    struct layer_stream s;
    int rc = stream_start(&s, outer, raw_hashed, err);
    if (rc == 0)
        rc = stream_finish(&s, hex, err);
    stream_close(&s);
    return rc;
}

static int unpack_into_tmp(int tmpfd, const char *name, struct archive *outer, bool raw_hashed,
                           char hex[65], unsigned long long *size, struct berr *err)
{
    *size = 0;
    if (tmpfd < 0)
        return hash_only(outer, raw_hashed, hex, err);
    if (mkdirat(tmpfd, name, 0755) < 0) {
        archive_read_free(outer);
        return berr_errno(err, "mkdir tmp/%s", name);
    }
    _cleanup_close_ int layerfd =
        openat(tmpfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (layerfd < 0) {
        archive_read_free(outer);
        return berr_errno(err, "open tmp/%s", name);
    }
    struct layer_stream s;
    struct archive *inner = NULL;
    int rc = stream_open(&s, outer, raw_hashed, &inner, err);
    if (rc == 0)
        rc = image_unpack_layer(inner, layerfd, &s, size, err);
    if (rc == 0)
        rc = stream_finish(&s, hex, err);
    if (inner)
        archive_read_free(inner);
    stream_close(&s);
    return rc;
}

int image_layer_unpack_to_tmp(int tmpfd, const char *name, struct archive *outer, bool raw_hashed,
                              char hex[65], unsigned long long *size, struct berr *err)
{
    /* The layer root and the parents a tar leaves implied are made 0755 whatever the caller's
     * umask: a worker-launcher started with umask 077 must not make them root-only. */
    mode_t old_umask = umask(022);
    int rc = unpack_into_tmp(tmpfd, name, outer, raw_hashed, hex, size, err);
    umask(old_umask);
    return rc;
}

/* Unpack fd into tmp/<name>, return the diff-id and size. */
static int unpack_to_tmp(int tmpfd, const char *name, int fd, char hex[65],
                         unsigned long long *size, struct berr *err)
{
    struct archive *outer = image_outer_reader_new();
    if (archive_read_open_fd(outer, fd, 64 * 1024) != ARCHIVE_OK) {
        berr_set(err, BERR_FAILED, "read input: %s", la_err(outer));
        archive_read_free(outer);
        return -1;
    }
    return image_layer_unpack_to_tmp(tmpfd, name, outer, false, hex, size, err);
}

static char *make_config(const char *diff_hex, size_t *len)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char created[40];
    format_rfc3339(&now, created);

    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "architecture", HOST_ARCH);
    json_str(g, "config");
    yajl_gen_map_open(g);
    struct strv env = {0};
    strv_push(&env, DEFAULT_PATH_ENV);
    json_key_strv(g, "Env", &env);
    strv_free(&env);
    json_key_strv(g, "Entrypoint", NULL);
    json_key_strv(g, "Cmd", NULL);
    json_key_str(g, "WorkingDir", "");
    json_key_str(g, "User", "");
    yajl_gen_map_close(g);
    json_key_str(g, "created", created);
    json_str(g, "history");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    json_key_str(g, "created", created);
    json_key_str(g, "created_by", "berth import");
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    json_key_str(g, "os", "linux");
    json_str(g, "rootfs");
    yajl_gen_map_open(g);
    json_key_str(g, "type", "layers");
    json_str(g, "diff_ids");
    yajl_gen_array_open(g);
    _cleanup_free_ char *diff_id = xasprintf("sha256:%s", diff_hex);
    json_str(g, diff_id);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);

    return json_gen_take(g, len);
}

static int write_size(int layersfd, const char *hex, unsigned long long size, struct berr *err)
{
    char name[80], text[32];
    snprintf(name, sizeof(name), "%s.size", hex);
    int n = snprintf(text, sizeof(text), "%llu\n", size);
    return write_file_atomic_at(layersfd, name, text, (size_t)n, 0644, err);
}

/* Publish tmp/<name> as layers/<hex>; an existing layer is shared and the copy discarded.
 * *created tells whether this call made it. */
int image_publish_layer(int tmpfd, const char *name, int layersfd, const char *hex,
                        unsigned long long size, bool *created, struct berr *err)
{
    *created = false;
    if (renameat2(tmpfd, name, layersfd, hex, RENAME_NOREPLACE) < 0) {
        if (errno != EEXIST)
            return berr_errno(err, "publish layer %.12s", hex);
        return remove_tree_at(tmpfd, name, err);
    }
    *created = true;
    if (write_size(layersfd, hex, size, err) < 0)
        return berr_wrap(err, "layer %.12s", hex);
    return 0;
}

void image_unpublish_layer(int layersfd, const char *hex)
{
    struct berr ignored;
    char name[80];
    snprintf(name, sizeof(name), "%s.size", hex);
    unlinkat(layersfd, name, 0);
    remove_tree_at(layersfd, hex, &ignored);
}

static int register_image(struct image_store *store, const char *diff_hex, const char *ref,
                          char id_out[65], struct berr *err)
{
    size_t len;
    _cleanup_free_ char *config = make_config(diff_hex, &len);
    char id[65];
    sha256_hex(config, len, id);
    bool blob_created;
    if (image_blob_write(store, id, config, len, &blob_created, err) < 0)
        return -1;
    if (ref) {
        struct refmap refs;
        int rc = image_refs_load(store, &refs, err);
        if (rc == 0) {
            image_refs_set(&refs, ref, id);
            rc = image_refs_save(store, &refs, err);
            image_refs_free(&refs);
        }
        if (rc < 0) {
            if (blob_created) {
                struct berr ignored;
                _cleanup_close_ int bfd = image_store_dir(store, "blobs/sha256", O_PATH, &ignored);
                if (bfd >= 0)
                    unlinkat(bfd, id, 0);
            }
            return -1;
        }
    }
    memcpy(id_out, id, 65);
    return 0;
}

int image_import_locked(struct image_store *store, int fd, const char *ref, char id_out[65],
                        struct berr *err)
{
    _cleanup_close_ int tmpfd = image_store_dir(store, "tmp", O_PATH, err);
    if (tmpfd < 0)
        return -1;
    _cleanup_close_ int layersfd = image_store_dir(store, "layers", O_PATH, err);
    if (layersfd < 0)
        return -1;
    char name[65], hex[65];
    if (random_id(name, err) < 0)
        return -1;
    unsigned long long size = 0;
    int rc = unpack_to_tmp(tmpfd, name, fd, hex, &size, err);
    if (rc < 0) {
        struct berr ignored;
        remove_tree_at(tmpfd, name, &ignored);
        return -1;
    }
    bool created;
    if (image_publish_layer(tmpfd, name, layersfd, hex, size, &created, err) < 0) {
        struct berr ignored;
        remove_tree_at(tmpfd, name, &ignored);
        if (created)
            image_unpublish_layer(layersfd, hex);
        return -1;
    }
    if (register_image(store, hex, ref, id_out, err) < 0) {
        if (created)
            image_unpublish_layer(layersfd, hex);
        return -1;
    }
    return 0;
}

int image_import(struct image_store *store, int fd, const char *ref, char id_out[65],
                 struct berr *err)
{
    _cleanup_free_ char *norm = NULL;
    if (ref && image_normalize_ref(ref, &norm, err) < 0)
        return -1;
    if (norm && strchr(norm, '@'))
        return berr_set(err, BERR_USAGE, "cannot import digest reference");
    if (norm && image_check_tag_name(norm, err) < 0)
        return -1;
    _cleanup_close_ int lockfd = -1;
    if (image_store_lock(store, &lockfd, err) < 0)
        return berr_wrap(err, "import");
    if (image_import_locked(store, fd, norm, id_out, err) < 0)
        return berr_wrap(err, "import");
    return 0;
}
