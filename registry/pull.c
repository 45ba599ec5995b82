/* Pulling one image: the manifest the reference names (a list or index resolved to this
 * platform's manifest), its config, and its layers downloaded side by side (curl multi), each
 * hashed and counted as it streams into partial/<hex>; a partial blob left by an interrupted
 * pull is hashed again and continued with a Range request. What is complete and verified goes
 * into an OCI layout that the image store then loads (and checks once more) as a whole. */
#include "registry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define MANIFEST_MAX (4u << 20)
#define CONFIG_MAX (16u << 20)
#define READ_CHUNK (256u << 10)
#define MAX_LAYERS 512

static const char ACCEPT[] = "application/vnd.oci.image.index.v1+json, "
                             "application/vnd.docker.distribution.manifest.list.v2+json, "
                             "application/vnd.oci.image.manifest.v1+json, "
                             "application/vnd.docker.distribution.manifest.v2+json";

void registry_opts_free(struct registry_opts *o)
{
    strv_free(&o->insecure);
    strv_free(&o->mirrors);
    strv_free(&o->certs_dirs);
    registry_auth_free(&o->auth);
}

static bool is_index_type(const char *mt)
{
    return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
                  !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

static bool is_manifest_type(const char *mt)
{
    return mt && (!strcmp(mt, "application/vnd.oci.image.manifest.v1+json") ||
                  !strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json"));
}

struct desc {
    char hex[65];
    unsigned long long size;
    char *media_type;
};

static int parse_desc(yajl_val d, struct desc *out, struct berr *err)
{
    const char *digest = json_get_str(d, "digest");
    yajl_val size = json_get(d, "size");
    if (!digest || !YAJL_IS_INTEGER(size) || YAJL_GET_INTEGER(size) < 0)
        return berr_set(err, BERR_FAILED, "descriptor without a digest or a size");
    if (!str_has_prefix(digest, "sha256:") || strlen(digest) != 71 ||
        strspn(digest + 7, "0123456789abcdef") != 64)
        return berr_set(err, BERR_FAILED, "descriptor %s: unsupported digest", digest);
    memcpy(out->hex, digest + 7, 65);
    out->size = (unsigned long long)YAJL_GET_INTEGER(size);
    const char *mt = json_get_str(d, "mediaType");
    out->media_type = mt ? xstrdup(mt) : NULL;
    return 0;
}

/* A manifest or index by tag or digest: its bytes checked against the digest asked for (or
 * the registry's Docker-Content-Digest), and its media type. */
static int fetch_manifest(struct session *s, const char *reference, const struct desc *want,
                          struct response *r, char hex[65], struct berr *err)
{
    _cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", s->repo, reference);
    if (session_get(s, path, ACCEPT, MANIFEST_MAX, r, err) < 0)
        return berr_wrap(err, "manifest %s", reference);
    if (r->status != 200) {
        int rc = session_status_error(s, r->status, "manifest unknown", r->body, err);
        response_free(r);
        if (err->kind == BERR_NOT_FOUND && str_has_prefix(err->msg, "manifest unknown"))
            return berr_set(err, BERR_NOT_FOUND, "manifest for %s/%s:%s not found: %s", s->domain,
                            s->repo, reference, "manifest unknown: manifest unknown");
        return rc;
    }
    sha256_hex(r->body ? r->body : "", r->len, hex);
    const char *expect = want                                                ? want->hex
                         : str_has_prefix(reference, "sha256:")              ? reference + 7
                         : r->digest && str_has_prefix(r->digest, "sha256:") ? r->digest + 7
                                                                             : NULL;
    if (expect && strcmp(expect, hex)) {
        response_free(r);
        return berr_set(err, BERR_FAILED,
                        "manifest %s: digest mismatch: content is sha256:%s, expected sha256:%s",
                        reference, hex, expect);
    }
    if (want && want->size != r->len) {
        response_free(r);
        return berr_set(err, BERR_FAILED, "manifest %s: size %zu, expected %llu", reference, r->len,
                        want->size);
    }
    return 0;
}

static const char *media_type_of(const struct response *r, yajl_val doc)
{
    const char *mt = json_get_str(doc, "mediaType");
    if (mt)
        return mt;
    if (!r->content_type)
        return NULL;
    /* "type; charset=..." */
    char *semi = strchr(r->content_type, ';');
    if (semi)
        *semi = '\0';
    return r->content_type;
}

/* ---- layers ------------------------------------------------------------------------------ */

struct blob_dl {
    struct desc d;
    char id[13];
    int fd;
    unsigned long long got;
    struct sha256_stream *hash;
    CURL *h;
    struct curl_slist *headers;
    bool started, done, restart_checked;
    int errnum;
    bool too_long;
    bool bad; /* not the blob the manifest names: the registry's content is wrong */
    char msg[CURL_ERROR_SIZE];
    void *follower; /* the caller's blob_begin handle, until blob_end */
    const struct registry_opts *opts;
    const struct curl_api *api;
};

static void event(const struct blob_dl *b, const char *status)
{
    if (b->opts->event)
        b->opts->event(b->opts->ctx, b->id, status, b->got, b->d.size);
}

static void follow_begin(struct blob_dl *b)
{
    if (!b->opts->blob_begin)
        return;
    b->follower = b->opts->blob_begin(b->opts->ctx, b->d.hex, b->fd);
    if (b->follower && b->got)
        b->opts->blob_grown(b->follower, b->got);
}

static void follow_end(struct blob_dl *b, bool verified)
{
    if (b->follower)
        b->opts->blob_end(b->follower, verified);
    b->follower = NULL;
}

static size_t on_blob(char *data, size_t size, size_t n, void *ctx)
{
    struct blob_dl *b = ctx;
    const struct curl_api *api = b->api;
    size_t len = size * n;
    if (!b->restart_checked) {
        b->restart_checked = true;
        long status = 0;
        api->easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200 && b->got > 0) {
            /* the registry ignored the range: the whole blob again */
            if (ftruncate(b->fd, 0) < 0 || lseek(b->fd, 0, SEEK_SET) < 0) {
                b->errnum = errno;
                return 0;
            }
            char ignored[65];
            sha256_stream_final(b->hash, ignored);
            b->hash = sha256_stream_new();
            b->got = 0;
            /* what the follower read is not this transfer's: it starts again */
            follow_end(b, false);
            follow_begin(b);
        } else if (status != 200 && status != 206) {
            return len; /* an error body: the status is reported when the transfer ends */
        }
    }
    long status = 0;
    api->easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 && status != 206)
        return len;
    if (b->got + len > b->d.size) {
        b->too_long = true;
        return 0;
    }
    if (write_all(b->fd, data, len) < 0) {
        b->errnum = errno;
        return 0;
    }
    sha256_stream_update(b->hash, data, len);
    b->got += len;
    if (b->follower)
        b->opts->blob_grown(b->follower, b->got);
    event(b, "Downloading");
    return len;
}

/* What an earlier pull left: hashed again, so the transfer goes on from its end. */
static int open_partial(int partfd, struct blob_dl *b, struct berr *err)
{
    b->fd = openat(partfd, b->d.hex, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (b->fd < 0)
        return berr_errno(err, "open partial blob %s", b->d.hex);
    struct stat st;
    if (fstat(b->fd, &st) < 0)
        return berr_errno(err, "stat partial blob %s", b->d.hex);
    b->hash = sha256_stream_new();
    if ((unsigned long long)st.st_size > b->d.size && ftruncate(b->fd, 0) < 0)
        return berr_errno(err, "truncate partial blob %s", b->d.hex);
    _cleanup_free_ char *buf = xmalloc(READ_CHUNK);
    ssize_t n;
    while ((n = read(b->fd, buf, READ_CHUNK)) > 0) {
        sha256_stream_update(b->hash, buf, (size_t)n);
        b->got += (unsigned long long)n;
    }
    if (n < 0)
        return berr_errno(err, "read partial blob %s", b->d.hex);
    return 0;
}

static void start(const struct session *s, CURLM *multi, struct blob_dl *b)
{
    const struct curl_api *api = &s->api;
    b->started = true;
    b->h = api->easy_init();
    if (!b->h)
        abort();
    session_setup(s, b->h, &b->headers, NULL);
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/sha256:%s", s->base, s->repo, b->d.hex);
    api->easy_setopt(b->h, CURLOPT_URL, url);
    api->easy_setopt(b->h, CURLOPT_WRITEFUNCTION, on_blob);
    api->easy_setopt(b->h, CURLOPT_WRITEDATA, b);
    api->easy_setopt(b->h, CURLOPT_PRIVATE, b);
    api->easy_setopt(b->h, CURLOPT_ERRORBUFFER, b->msg);
    if (s->opts->max_rate > 0)
        api->easy_setopt(b->h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)s->opts->max_rate);
    if (b->got > 0) {
        char range[32];
        snprintf(range, sizeof(range), "%llu-", b->got);
        api->easy_setopt(b->h, CURLOPT_RANGE, range);
        debugf("blob %.12s: resuming at %llu of %llu", b->d.hex, b->got, b->d.size);
    }
    follow_begin(b);
    api->multi_add_handle(multi, b->h);
}

/* A finished transfer: its size and digest, then the blob moves into the layout. */
static int check_and_move(struct session *s, struct blob_dl *b, CURLcode rc, int partfd,
                          int blobsfd, struct berr *err)
{
    const struct curl_api *api = &s->api;
    long status = 0;
    api->easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/sha256:%s", s->base, s->repo, b->d.hex);
    if (b->errnum) {
        /* the disk's failure (ENOSPC most likely): a partial blob would hold on to the space */
        unlinkat(partfd, b->d.hex, 0);
        return berr_errnum(err, b->errnum, "write blob sha256:%s", b->d.hex);
    }
    if (b->too_long ||
        (rc == CURLE_OK && (status == 200 || status == 206) && b->got != b->d.size)) {
        b->bad = true;
        unlinkat(partfd, b->d.hex, 0);
        return berr_set(err, BERR_FAILED, "blob sha256:%s: size %s %llu bytes, expected %llu",
                        b->d.hex, b->too_long ? "over" : "", b->got, b->d.size);
    }
    if (rc != CURLE_OK)
        return session_curl_error(s, b->h, rc, url, b->msg, err);
    if (status == 416) {
        /* nothing left to send: what we have is the whole blob, or it is not this blob */
    } else if (status != 200 && status != 206) {
        return session_status_error(s, status, "blob unknown", NULL, err);
    }
    event(b, "Verifying Checksum");
    char hex[65];
    sha256_stream_final(b->hash, hex);
    b->hash = NULL;
    if (b->got != b->d.size || strcmp(hex, b->d.hex)) {
        b->bad = true;
        unlinkat(partfd, b->d.hex, 0);
        return berr_set(err, BERR_FAILED,
                        "filesystem layer verification failed for digest sha256:%s (the content "
                        "hashes to sha256:%s, %llu bytes)",
                        b->d.hex, hex, b->got);
    }
    if (renameat(partfd, b->d.hex, blobsfd, b->d.hex) < 0)
        return berr_errno(err, "move blob sha256:%.12s into the layout", b->d.hex);
    b->done = true;
    event(b, "Download complete");
    return 0;
}

static int finish(struct session *s, struct blob_dl *b, CURLcode rc, int partfd, int blobsfd,
                  struct berr *err)
{
    int r = check_and_move(s, b, rc, partfd, blobsfd, err);
    follow_end(b, r == 0);
    return r;
}

static void blobs_free(const struct curl_api *api, struct blob_dl *b, size_t n, CURLM *multi)
{
    for (size_t i = 0; i < n; i++) {
        follow_end(&b[i], false);
        if (b[i].h) {
            api->multi_remove_handle(multi, b[i].h);
            api->easy_cleanup(b[i].h);
        }
        api->slist_free_all(b[i].headers);
        if (b[i].fd >= 0)
            close(b[i].fd);
        if (b[i].hash) {
            char ignored[65];
            sha256_stream_final(b[i].hash, ignored);
        }
        free(b[i].d.media_type);
    }
    free(b);
}

static int download_layers(struct session *s, const struct desc *layers, size_t n, const bool *skip,
                           int partfd, int blobsfd, struct berr *err)
{
    const struct curl_api *api = &s->api;
    struct blob_dl *b = xcalloc(n ? n : 1, sizeof(*b));
    CURLM *multi = api->multi_init();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        b[i].fd = -1;
        b[i].opts = s->opts;
        b[i].api = api;
        b[i].d = layers[i];
        b[i].d.media_type = NULL;
        snprintf(b[i].id, sizeof(b[i].id), "%.12s", layers[i].hex);
    }
    /* a blob listed twice is fetched once */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (skip[i]) {
            b[i].done = true;
            event(&b[i], "Already exists");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            b[i].done |= !strcmp(b[i].d.hex, b[j].d.hex);
        if (b[i].done)
            continue;
        event(&b[i], "Pulling fs layer");
        rc = open_partial(partfd, &b[i], err);
    }
    size_t parallel = s->opts->parallel > 0 ? (size_t)s->opts->parallel : 3;
    size_t running = 0, next = 0;
    for (size_t i = parallel; rc == 0 && i < n; i++)
        if (!b[i].done)
            event(&b[i], "Waiting");
    while (rc == 0) {
        while (running < parallel && next < n) {
            if (!b[next].done) {
                start(s, multi, &b[next]);
                running++;
            }
            next++;
        }
        if (running == 0)
            break;
        int still = 0;
        if (api->multi_perform(multi, &still) != CURLM_OK) {
            rc = berr_set(err, BERR_FAILED, "curl: multi transfer failed");
            break;
        }
        CURLMsg *m;
        int left;
        while (rc == 0 && (m = api->multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct blob_dl *d = NULL;
            api->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&d);
            rc = finish(s, d, m->data.result, partfd, blobsfd, err);
            api->multi_remove_handle(multi, d->h);
            api->easy_cleanup(d->h);
            d->h = NULL;
            running--;
        }
        if (rc == 0 && still > 0 && api->multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
            rc = berr_set(err, BERR_FAILED, "curl: poll failed");
    }
    /* after a disk failure the other partial blobs go too: resuming them needs the space; and
     * after a blob that is not what the manifest names: bad input leaves nothing behind, only
     * an interrupted transfer is kept to be resumed */
    bool drop = false;
    for (size_t i = 0; i < n; i++)
        drop |= b[i].errnum != 0 || b[i].bad;
    for (size_t i = 0; drop && i < n; i++) {
        if (!b[i].done && b[i].fd >= 0)
            unlinkat(partfd, b[i].d.hex, 0);
    }
    blobs_free(api, b, n, multi);
    api->multi_cleanup(multi);
    return rc;
}

/* ---- the image ----------------------------------------------------------------------------- */

struct image_manifest {
    struct response r;
    char hex[65];
    const char *media_type;
    struct desc config;
    struct desc *layers;
    size_t nlayers;
    yajl_val doc;
};

static void manifest_free(struct image_manifest *m)
{
    response_free(&m->r);
    free(m->config.media_type);
    for (size_t i = 0; i < m->nlayers; i++)
        free(m->layers[i].media_type);
    free(m->layers);
    yajl_tree_free(m->doc);
    *m = (struct image_manifest){0};
}

static char *platform_name(const struct registry_platform *p)
{
    return xasprintf("%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

/* The reference's manifest, through a list or index to this platform's. */
static int resolve_manifest(struct session *s, const struct registry_ref *ref,
                            struct image_manifest *m, char top[65], struct berr *err)
{
    const char *reference = ref->digest ? ref->digest : ref->tag;
    if (fetch_manifest(s, reference, NULL, &m->r, top, err) < 0)
        return -1;
    memcpy(m->hex, top, 65);
    for (int depth = 0;; depth++) {
        if (json_parse(m->r.body ? m->r.body : "", &m->doc, err) < 0)
            return berr_wrap(err, "manifest sha256:%.12s", m->hex);
        m->media_type = media_type_of(&m->r, m->doc);
        if (!is_index_type(m->media_type))
            break;
        if (depth >= 2)
            return berr_set(err, BERR_FAILED, "manifest lists nested too deep");
        ssize_t i = registry_pick_manifest(json_get(m->doc, "manifests"), &s->opts->platform);
        if (i < 0) {
            _cleanup_free_ char *p = platform_name(&s->opts->platform);
            return berr_set(err, BERR_NOT_FOUND,
                            "no matching manifest for %s in the manifest list entries", p);
        }
        struct desc d;
        if (parse_desc(json_get(m->doc, "manifests")->u.array.values[i], &d, err) < 0)
            return berr_wrap(err, "manifest list sha256:%.12s", m->hex);
        _cleanup_free_ char *digest = xasprintf("sha256:%s", d.hex);
        free(d.media_type);
        yajl_tree_free(m->doc);
        m->doc = NULL;
        response_free(&m->r);
        if (fetch_manifest(s, digest, &d, &m->r, m->hex, err) < 0)
            return -1;
    }
    if (!is_manifest_type(m->media_type))
        return berr_set(err, BERR_FAILED, "manifest sha256:%.12s: unsupported media type %s",
                        m->hex, m->media_type ? m->media_type : "(none; schema 1?)");
    if (parse_desc(json_get(m->doc, "config"), &m->config, err) < 0)
        return berr_wrap(err, "manifest sha256:%.12s: config", m->hex);
    if (m->config.size > CONFIG_MAX)
        return berr_set(err, BERR_FAILED,
                        "config sha256:%s: %llu bytes, over berth's cap of %u bytes", m->config.hex,
                        m->config.size, CONFIG_MAX);
    yajl_val layers = json_get(m->doc, "layers");
    if (!YAJL_IS_ARRAY(layers) || layers->u.array.len > MAX_LAYERS)
        return berr_set(err, BERR_FAILED, "manifest sha256:%.12s: no layers array, or over %d",
                        m->hex, MAX_LAYERS);
    m->layers = xcalloc(layers->u.array.len + 1, sizeof(*m->layers));
    for (size_t i = 0; i < layers->u.array.len; i++) {
        if (parse_desc(layers->u.array.values[i], &m->layers[i], err) < 0)
            return berr_wrap(err, "manifest sha256:%.12s: layer %zu", m->hex, i);
        m->nlayers++;
    }
    return 0;
}

static int fetch_config(struct session *s, const struct desc *d, struct response *r,
                        struct berr *err)
{
    _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/sha256:%s", s->repo, d->hex);
    if (session_get(s, path, NULL, CONFIG_MAX, r, err) < 0)
        return berr_wrap(err, "config sha256:%.12s", d->hex);
    if (r->status != 200) {
        session_status_error(s, r->status, "blob unknown", r->body, err);
        response_free(r);
        return berr_wrap(err, "config sha256:%.12s", d->hex);
    }
    char hex[65];
    sha256_hex(r->body ? r->body : "", r->len, hex);
    if (strcmp(hex, d->hex) || r->len != d->size) {
        response_free(r);
        return berr_set(err, BERR_FAILED,
                        "config sha256:%s: digest mismatch: content is sha256:%s (%zu bytes)",
                        d->hex, hex, r->len);
    }
    return 0;
}

/* Layer i is skipped when the caller has the layer of the config's diff_ids[i]. */
static int layers_to_skip(const struct registry_opts *opts, const struct response *config, size_t n,
                          bool *skip, struct berr *err)
{
    if (!opts->have_layer)
        return 0;
    yajl_val doc = NULL;
    if (json_parse(config->body ? config->body : "", &doc, err) < 0)
        return berr_wrap(err, "config");
    yajl_val diffs = json_get(json_get(doc, "rootfs"), "diff_ids");
    for (size_t i = 0; YAJL_IS_ARRAY(diffs) && i < n && i < diffs->u.array.len; i++) {
        yajl_val d = diffs->u.array.values[i];
        const char *h = YAJL_IS_STRING(d) ? d->u.string : "";
        if (str_has_prefix(h, "sha256:") && strlen(h) == 71 &&
            strspn(h + 7, "0123456789abcdef") == 64)
            skip[i] = opts->have_layer(opts->ctx, h + 7);
    }
    yajl_tree_free(doc);
    return 0;
}

static int write_index(int layoutfd, const struct image_manifest *m, const char *name,
                       struct berr *err)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_int(g, "schemaVersion", 2);
    json_str(g, "manifests");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    json_key_str(g, "mediaType", m->media_type);
    _cleanup_free_ char *digest = xasprintf("sha256:%s", m->hex);
    json_key_str(g, "digest", digest);
    json_key_int(g, "size", (long long)m->r.len);
    if (name) {
        json_str(g, "annotations");
        yajl_gen_map_open(g);
        json_key_str(g, "io.containerd.image.name", name);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return json_gen_write_at(g, layoutfd, "index.json", err);
}

static int open_dir(int dirfd, const char *name, bool create, struct berr *err)
{
    if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
        return berr_errno(err, "mkdir %s", name);
    int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return berr_errno(err, "open %s", name);
    return fd;
}

static int write_layout(int dirfd, const char *name, const struct image_manifest *m,
                        const struct response *config, int *blobsfd, struct berr *err)
{
    if (mkdirat(dirfd, name, 0700) < 0)
        return berr_errno(err, "mkdir %s", name);
    _cleanup_close_ int layoutfd = open_dir(dirfd, name, false, err);
    _cleanup_close_ int bfd = layoutfd < 0 ? -1 : open_dir(layoutfd, "blobs", true, err);
    if (bfd < 0)
        return -1;
    *blobsfd = open_dir(bfd, "sha256", true, err);
    if (*blobsfd < 0)
        return -1;
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (write_file_atomic_at(layoutfd, "oci-layout", layout, strlen(layout), 0600, err) < 0 ||
        write_file_atomic_at(*blobsfd, m->hex, m->r.body, m->r.len, 0600, err) < 0 ||
        write_file_atomic_at(*blobsfd, m->config.hex, config->body, config->len, 0600, err) < 0)
        return -1;
    return 0;
}

int registry_pull(const struct registry_opts *opts, const struct registry_ref *ref, int dirfd,
                  const char *name, struct registry_pulled *out, struct berr *err)
{
    *out = (struct registry_pulled){0};
    struct session s;
    if (session_open(opts, ref->domain, ref->repo, &s, err) < 0)
        return -1;
    struct image_manifest m = {0};
    struct response config = {0};
    char top[65];
    _cleanup_close_ int partfd = -1, lockfd = -1, blobsfd = -1;
    int rc = resolve_manifest(&s, ref, &m, top, err);
    if (rc == 0) {
        snprintf(out->digest, sizeof(out->digest), "sha256:%s", top);
        rc = fetch_config(&s, &m.config, &config, err);
    }
    if (rc == 0) {
        memcpy(out->config, m.config.hex, 65);
        if (opts->have_image && opts->have_image(opts->ctx, m.config.hex)) {
            out->up_to_date = true;
            goto done;
        }
    }
    if (rc == 0 && (partfd = open_dir(dirfd, "partial", true, err)) < 0)
        rc = -1;
    /* one pull at a time continues the partial blobs */
    if (rc == 0) {
        lockfd = openat(partfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0)
            rc = berr_errno(err, "lock partial blobs");
    }
    if (rc == 0)
        rc = write_layout(dirfd, name, &m, &config, &blobsfd, err);
    bool *skip = xcalloc(m.nlayers + 1, sizeof(bool));
    if (rc == 0)
        rc = layers_to_skip(opts, &config, m.nlayers, skip, err);
    if (rc == 0)
        rc = download_layers(&s, m.layers, m.nlayers, skip, partfd, blobsfd, err);
    free(skip);
    if (rc == 0) {
        _cleanup_close_ int layoutfd = open_dir(dirfd, name, false, err);
        _cleanup_free_ char *full = ref->tag ? registry_full_name(ref) : NULL;
        rc = layoutfd < 0 ? -1 : write_index(layoutfd, &m, full, err);
    }
done:
    manifest_free(&m);
    response_free(&config);
    session_close(&s);
    return rc;
}
