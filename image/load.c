/* `load`: an archive's images into the store, all or nothing.
 *
 * 1. plan: what the archive holds (manifest.c), manifests checked against their descriptors;
 * 2. verify: each config against its digest, each layer blob against its size and digest and
 *    its uncompressed stream against the config's diff_id. A layer the store lacks is unpacked
 *    into tmp/ while it is hashed; one it has, or one the caller unpacked already with the
 *    config's diff-id (a pull's, prefetch.c), is only hashed. Nothing is in layers/, blobs/
 *    or refs.json yet, so any mismatch leaves the store as it was;
 * 3. register: layers renamed into layers/, configs written, refs.json replaced once. */
#include "image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define CONFIG_MAX (16u << 20)
#define READ_CHUNK (256u << 10)

struct load {
    struct image_store *store;
    const struct image_load_opts *opts;
    struct image_src *src;
    int tmpfd, layersfd;
    unsigned long long done, total; /* layer bytes, for progress */
    /* per image of the plan */
    struct strv ids, configs; /* config hex, config text */
    /* layers verified in this load: diff hex, and beside each where it was unpacked */
    struct strv diffs;
    struct unpacked {
        char tmpname[65]; /* in tmp/; "" when the store had the layer */
        unsigned long long size;
        bool prefetched; /* tmpname is in opts->prefetched_dirfd, the caller's */
    } * unpacked;
    struct strv checked; /* "path diff" pairs already verified */
};

/* ---- reading a layer blob: size-capped, hashed, counted ---------------------------------- */

struct blob_reader {
    struct load *l;
    struct blob_loc loc;
    unsigned long long pos;
    struct sha256_pipe *hash; /* hashed beside the unpacking */
    int errnum;
    const char *buf; /* the chunk handed out last */
};

/* The next chunk of the blob, hashed and counted: its length, 0 at the end, -1 (errnum set). */
static ssize_t blob_pull(struct blob_reader *r)
{
    unsigned long long left = r->loc.size - r->pos;
    size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
    if (want == 0)
        return 0;
    char *buf = sha256_pipe_buffer(r->hash);
    ssize_t n;
    do
        n = pread(r->loc.fd, buf, want, (off_t)(r->loc.off + r->pos));
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        r->errnum = n < 0 ? errno : EIO; /* EIO: the archive ends inside the blob */
        return -1;
    }
    sha256_pipe_submit(r->hash, (size_t)n);
    r->buf = buf;
    r->pos += (unsigned long long)n;
    r->l->done += (unsigned long long)n;
    if (r->l->opts && r->l->opts->progress)
        r->l->opts->progress(r->l->opts->ctx, r->l->done, r->l->total);
    return n;
}

static la_ssize_t blob_read(struct archive *a, void *data, const void **buf)
{
    struct blob_reader *r = data;
    ssize_t n = blob_pull(r);
    if (n < 0) {
        archive_set_error(a, r->errnum, "read blob: %s", strerror(r->errnum));
        return -1;
    }
    *buf = r->buf;
    return n;
}

/* The bytes the decompressor left (trailing junk) still belong to the blob's digest. */
static int blob_drain(struct blob_reader *r, struct berr *err)
{
    ssize_t n;
    while ((n = blob_pull(r)) > 0)
        ;
    return n < 0 ? berr_errnum(err, r->errnum, "read blob") : 0;
}

/* The caller allows it, the archive lacks the blob, and layers/<diff> is there. */
static bool absent_but_stored(struct load *l, const struct blob_ref *want, const char *diff)
{
    struct stat st;
    return l->opts && l->opts->present_layers_may_be_absent && !image_src_has(l->src, want->path) &&
           fstatat(l->layersfd, diff, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The caller's unpacked layer of this diff-id, not adopted yet: NULL when none. */
static const struct image_prefetched *prefetched_layer(const struct load *l, const char *diff)
{
    for (size_t i = 0; l->opts && i < l->opts->nprefetched; i++) {
        if (!strcmp(l->opts->prefetched[i].diff, diff))
            return &l->opts->prefetched[i];
    }
    return NULL;
}

/* A layer the caller unpacked: its blob only hashed, its directory recorded for registering. */
static int adopt_prefetched(struct load *l, struct blob_reader *r, const struct blob_ref *want,
                            const char *diff, const struct image_prefetched *pf, struct berr *err)
{
    r->hash = sha256_pipe_new(READ_CHUNK);
    int rc = blob_drain(r, err);
    char blob_hex[65];
    sha256_pipe_final(r->hash, blob_hex);
    if (rc == 0)
        rc = image_blob_check(want, "layer", r->pos, blob_hex, err);
    if (rc < 0)
        return -1;
    debugf("layer %.12s: unpacked while it downloaded, adopted", diff);
    strv_push(&l->diffs, diff);
    l->unpacked = xrealloc(l->unpacked, l->diffs.n * sizeof(*l->unpacked));
    struct unpacked *u = &l->unpacked[l->diffs.n - 1];
    *u = (struct unpacked){.size = pf->size, .prefetched = true};
    memcpy(u->tmpname, pf->name, sizeof(u->tmpname));
    return 0;
}

/* Verify layer i of an image (and unpack it unless the store or this load has it). */
static int verify_layer(struct load *l, const struct blob_ref *want, const char *diff, size_t i,
                        struct berr *err)
{
    _cleanup_free_ char *key = xasprintf("%s %s", want->path, diff);
    if (strv_contains(&l->checked, key))
        return 0;
    if (absent_but_stored(l, want, diff)) {
        strv_push(&l->checked, key);
        if (!strv_contains(&l->diffs, diff)) {
            strv_push(&l->diffs, diff);
            l->unpacked = xrealloc(l->unpacked, l->diffs.n * sizeof(*l->unpacked));
            l->unpacked[l->diffs.n - 1] = (struct unpacked){.tmpname = ""};
        }
        return 0;
    }
    struct blob_reader *r = xcalloc(1, sizeof(*r));
    r->l = l;
    if (image_src_member(l->src, want->path, &r->loc, err) < 0) {
        free(r);
        return berr_wrap(err, "layer %zu", i);
    }
    bool have = strv_contains(&l->diffs, diff);
    struct stat st;
    if (!have && fstatat(l->layersfd, diff, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        have = true;
    const struct image_prefetched *pf = have ? NULL : prefetched_layer(l, diff);
    if (pf) {
        int rc = adopt_prefetched(l, r, want, diff, pf, err);
        blob_loc_close(&r->loc);
        free(r);
        if (rc < 0)
            return berr_wrap(err, "layer %zu", i);
        strv_push(&l->checked, key);
        return 0;
    }
    char name[65] = "";
    if (!have && random_id(name, err) < 0) {
        blob_loc_close(&r->loc);
        free(r);
        return -1;
    }
    r->hash = sha256_pipe_new(READ_CHUNK);
    struct archive *outer = image_outer_reader_new();
    char got[65], blob_hex[65];
    unsigned long long size = 0;
    int rc = 0;
    if (archive_read_open(outer, r, NULL, blob_read, NULL) != ARCHIVE_OK) {
        rc = berr_set(err, BERR_FAILED, "read: %s", la_err(outer));
        archive_read_free(outer);
    } else {
        rc = image_layer_unpack_to_tmp(have ? -1 : l->tmpfd, name, outer, true, got, &size, err);
    }
    if (rc == 0)
        rc = blob_drain(r, err);
    sha256_pipe_final(r->hash, blob_hex);
    if (rc == 0 && !got[0])
        memcpy(got, blob_hex, sizeof(got)); /* not compressed: the blob is the layer's tar */
    unsigned long long blob_size = r->pos;
    blob_loc_close(&r->loc);
    free(r);
    if (rc == 0)
        rc = image_blob_check(want, "layer", blob_size, blob_hex, err);
    if (rc == 0 && strcmp(got, diff) != 0)
        rc = berr_set(err, BERR_FAILED,
                      "layer %s: invalid diffID: content is sha256:%s, the config says sha256:%s",
                      want->path, got, diff);
    if (rc < 0) {
        struct berr ignored;
        if (name[0])
            remove_tree_at(l->tmpfd, name, &ignored);
        return berr_wrap(err, "layer %zu", i);
    }
    strv_push(&l->checked, key);
    if (!strv_contains(&l->diffs, diff)) {
        strv_push(&l->diffs, diff);
        l->unpacked = xrealloc(l->unpacked, l->diffs.n * sizeof(*l->unpacked));
        struct unpacked *u = &l->unpacked[l->diffs.n - 1];
        *u = (struct unpacked){.size = size};
        memcpy(u->tmpname, name, sizeof(u->tmpname));
    }
    return 0;
}

static int verify_item(struct load *l, const struct load_item *it, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    char hex[65];
    if (image_src_read(l->src, it->config.path, CONFIG_MAX, &text, &len, hex, err) < 0)
        return berr_wrap(err, "config");
    if (image_blob_check(&it->config, "config", len, hex, err) < 0)
        return -1;
    yajl_val doc = NULL;
    if (json_parse(text, &doc, err) < 0)
        return berr_wrap(err, "config %s", it->config.path);
    _cleanup_strv_ struct strv diffs = {0};
    int rc = image_config_diff_ids(doc, &diffs, err);
    const char *os = json_get_str(doc, "os");
    if (rc == 0 && os && strcmp(os, "linux") != 0)
        rc = berr_set(err, BERR_FAILED,
                      "image operating system \"%s\" cannot be used on this "
                      "platform",
                      os);
    yajl_tree_free(doc);
    if (rc < 0)
        return berr_wrap(err, "config %s", it->config.path);
    if (diffs.n != it->nlayers)
        return berr_set(err, BERR_FAILED,
                        "invalid manifest, layers length mismatch: expected %zu, got %zu", diffs.n,
                        it->nlayers);
    for (size_t i = 0; i < it->nlayers; i++) {
        if (verify_layer(l, &it->layers[i], diffs.v[i], i, err) < 0)
            return berr_wrap(err, "image sha256:%.12s", hex);
    }
    strv_push(&l->ids, hex);
    strv_push_owned(&l->configs, steal_ptr(&text));
    /* configs are text; their length is their strlen unless they hold a NUL */
    if (strlen(l->configs.v[l->configs.n - 1]) != len)
        return berr_set(err, BERR_FAILED, "config %s: contains a NUL byte", it->config.path);
    return 0;
}

/* ---- registering ------------------------------------------------------------------------- */

static void remove_blob(struct load *l, const char *hex)
{
    struct berr ignored;
    _cleanup_close_ int bfd = image_store_dir(l->store, "blobs/sha256", O_PATH, &ignored);
    if (bfd >= 0)
        unlinkat(bfd, hex, 0);
}

static int update_refs(struct load *l, const struct load_plan *plan, struct strv *messages,
                       struct berr *err)
{
    struct refmap refs;
    if (image_refs_load(l->store, &refs, err) < 0)
        return -1;
    struct strv out = {0};
    for (size_t i = 0; i < plan->n; i++) {
        const struct load_item *it = &plan->items[i];
        if (it->tags.n == 0)
            strv_push_owned(&out, xasprintf("Loaded image ID: sha256:%s", l->ids.v[i]));
        for (size_t t = 0; t < it->tags.n; t++) {
            const char *old = image_refs_get(&refs, it->tags.v[t]);
            if (old && strcmp(old, l->ids.v[i]) != 0)
                strv_push_owned(&out, xasprintf("The image %s already exists, renaming the old "
                                                "one with ID sha256:%s to empty string",
                                                it->tags.v[t], old));
            image_refs_set(&refs, it->tags.v[t], l->ids.v[i]);
            strv_push_owned(&out, xasprintf("Loaded image: %s", it->tags.v[t]));
        }
    }
    int rc = image_refs_save(l->store, &refs, err);
    image_refs_free(&refs);
    for (size_t i = 0; rc == 0 && i < out.n; i++)
        strv_push(messages, out.v[i]);
    strv_free(&out);
    return rc;
}

/* Before refs.json: a digest recorded for an image that never got its reference is unused. */
static int record_digests(struct load *l, const struct load_plan *plan, struct berr *err)
{
    const char *forced =
        l->opts && l->opts->repo_digest && plan->n == 1 ? l->opts->repo_digest : NULL;
    bool any = forced != NULL;
    for (size_t i = 0; i < plan->n; i++)
        any |= plan->items[i].digest[0] != '\0';
    if (!any)
        return 0;
    struct refmap m;
    if (image_digests_load(l->store, &m, err) < 0)
        return -1;
    for (size_t i = 0; i < plan->n; i++) {
        if (forced)
            image_refs_set(&m, l->ids.v[i], forced);
        else if (plan->items[i].digest[0])
            image_refs_set(&m, l->ids.v[i], plan->items[i].digest);
    }
    int rc = image_digests_save(l->store, &m, err);
    image_refs_free(&m);
    return rc;
}

static int register_all(struct load *l, const struct load_plan *plan, struct strv *messages,
                        struct berr *err)
{
    _cleanup_strv_ struct strv made_layers = {0}, made_blobs = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l->diffs.n; i++) {
        const struct unpacked *u = &l->unpacked[i];
        if (!u->tmpname[0])
            continue; /* the store had it */
        bool created;
        rc = image_publish_layer(u->prefetched ? l->opts->prefetched_dirfd : l->tmpfd, u->tmpname,
                                 l->layersfd, l->diffs.v[i], u->size, &created, err);
        if (created)
            strv_push(&made_layers, l->diffs.v[i]);
    }
    for (size_t i = 0; rc == 0 && i < l->ids.n; i++) {
        bool created;
        rc = image_blob_write(l->store, l->ids.v[i], l->configs.v[i], strlen(l->configs.v[i]),
                              &created, err);
        if (rc == 0 && created)
            strv_push(&made_blobs, l->ids.v[i]);
    }
    if (rc == 0)
        rc = record_digests(l, plan, err);
    if (rc == 0)
        rc = update_refs(l, plan, messages, err);
    if (rc < 0) {
        for (size_t i = 0; i < made_blobs.n; i++)
            remove_blob(l, made_blobs.v[i]);
        for (size_t i = 0; i < made_layers.n; i++)
            image_unpublish_layer(l->layersfd, made_layers.v[i]);
    }
    return rc;
}

static int load_locked(struct load *l, int fd, struct strv *messages, struct berr *err)
{
    void (*spool_progress)(void *, unsigned long long, unsigned long long) =
        l->opts ? l->opts->progress : NULL;
    if (image_src_open(fd, l->tmpfd, spool_progress, l->opts ? l->opts->ctx : NULL, &l->src, err) <
        0)
        return -1;
    struct load_plan plan = {0};
    int rc;
    if (image_src_has(l->src, "manifest.json"))
        rc = image_plan_docker(l->src, &plan, err);
    else if (image_src_has(l->src, "oci-layout"))
        rc = image_plan_oci(l->src, &plan, err);
    else
        rc = berr_set(err, BERR_FAILED, "invalid archive: does not contain a manifest.json");
    if (rc == 0 && plan.n == 0)
        rc = berr_set(err, BERR_FAILED, "invalid archive: it holds no image");
    for (size_t i = 0; rc == 0 && i < plan.n; i++) {
        for (size_t j = 0; j < plan.items[i].nlayers; j++) {
            struct blob_loc loc;
            if (l->opts && l->opts->present_layers_may_be_absent &&
                !image_src_has(l->src, plan.items[i].layers[j].path))
                continue; /* verify_layer decides */
            if (image_src_member(l->src, plan.items[i].layers[j].path, &loc, err) < 0) {
                rc = berr_wrap(err, "layer %zu", j);
                break;
            }
            l->total += loc.size;
            blob_loc_close(&loc);
        }
    }
    for (size_t i = 0; rc == 0 && i < plan.n; i++)
        rc = verify_item(l, &plan.items[i], err);
    if (rc == 0)
        rc = register_all(l, &plan, messages, err);
    load_plan_free(&plan);
    return rc;
}

int image_load_archive(struct image_store *store, int fd, const struct image_load_opts *opts,
                       struct strv *messages, struct berr *err)
{
    _cleanup_close_ int lockfd = -1;
    if (image_store_lock(store, &lockfd, err) < 0)
        return berr_wrap(err, "load");
    struct load l = {.store = store, .opts = opts, .tmpfd = -1, .layersfd = -1};
    int rc = 0;
    if ((l.tmpfd = image_store_dir(store, "tmp", O_PATH, err)) < 0 ||
        (l.layersfd = image_store_dir(store, "layers", O_PATH, err)) < 0)
        rc = -1;
    if (rc == 0)
        rc = load_locked(&l, fd, messages, err);
    /* whatever is left in tmp/ (spool, layers not published) goes */
    for (size_t i = 0; i < l.diffs.n; i++) {
        struct berr ignored;
        if (l.unpacked[i].tmpname[0] && !l.unpacked[i].prefetched)
            remove_tree_at(l.tmpfd, l.unpacked[i].tmpname, &ignored);
    }
    image_src_free(l.src);
    strv_free(&l.ids);
    strv_free(&l.configs);
    strv_free(&l.diffs);
    free(l.unpacked);
    strv_free(&l.checked);
    if (l.tmpfd >= 0)
        close(l.tmpfd);
    if (l.layersfd >= 0)
        close(l.layersfd);
    return rc < 0 ? berr_wrap(err, "load") : 0;
}
