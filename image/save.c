/* `berth save`: images out of the store as one archive in the layout docker 25 writes, which
 * is docker's manifest.json (Config, RepoTags, Layers as paths) over an OCI image layout
 * (oci-layout, index.json, blobs/sha256/<hex>), plus `repositories`. docker load of 20.10 and
 * later reads manifest.json and the paths it names; berth load reads manifest.json too; OCI
 * tools (skopeo, podman) read the layout.
 *
 * The store keeps layers unpacked, not their tars, so each layer is packed again (pack.c), and
 * the new tar's digest is the diff-id docker load checks it against. When it equals the one in
 * the config (a layer berth packed before, as in every image saved by berth and loaded back),
 * the config is written as it is and the image keeps its id. Otherwise the original bytes are
 * gone (another writer's header fields, order, padding) and no loader would take the archive
 * with the old config, so the config is written again with rootfs.diff_ids set to the new tars'
 * digests: the archive's image has a new id, the same for docker and for berth, and is a fixed
 * point from then on (saving it again after loading gives the same bytes). Keeping every
 * original layer tar at load time would keep ids but double the store's size; an image that
 * must keep its id is best moved by the archive it came from. */
#include "image/internal.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define COPY_CHUNK (256u << 10)
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

struct packed {
    char diff_id[65]; /* as the config has it */
    char hex[65];     /* of the tar packed now */
    int fd;           /* an unnamed file in the store's tmp/ holding the tar */
    unsigned long long size;
};

struct save_item {
    char id[65];      /* in the store */
    char out_id[65];  /* in the archive */
    struct strv tags; /* normalised references */
    char *config;
    size_t config_len;
    struct strv layers; /* hex of the packed tars, base first */
    char *manifest;     /* OCI image manifest */
    size_t manifest_len;
    char manifest_hex[65];
};

struct saver {
    struct image_store *store;
    struct save_item *items;
    size_t n;
    struct packed *packed;
    size_t npacked;
};

static void saver_free(struct saver *s)
{
    for (size_t i = 0; i < s->n; i++) {
        strv_free(&s->items[i].tags);
        strv_free(&s->items[i].layers);
        free(s->items[i].config);
        free(s->items[i].manifest);
    }
    free(s->items);
    for (size_t i = 0; i < s->npacked; i++)
        close(s->packed[i].fd);
    free(s->packed);
}

static struct save_item *item_for(struct saver *s, const char id[65])
{
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->items[i].id, id))
            return &s->items[i];
    }
    s->items = xrealloc(s->items, (s->n + 1) * sizeof(*s->items));
    struct save_item *it = &s->items[s->n++];
    *it = (struct save_item){0};
    memcpy(it->id, id, 65);
    return it;
}

static void add_tag(struct save_item *it, const char *tag)
{
    if (!strv_contains(&it->tags, tag))
        strv_push(&it->tags, tag);
}

/* "name" without a tag or digest: docker saves every tag of the repository. */
static bool is_bare_repository(const char *ref)
{
    const char *slash = strrchr(ref, '/');
    return !strchr(ref, '@') && !strchr(slash ? slash : ref, ':') && !is_hex64(ref);
}

static int add_ref(struct saver *s, const struct refmap *refs, const char *ref, struct berr *err)
{
    _cleanup_free_ char *key = NULL;
    struct berr ignored;
    if (is_bare_repository(ref) && image_normalize_ref(ref, &key, &ignored) == 0) {
        size_t repolen = strlen(key) - strlen(":latest");
        bool any = false;
        for (size_t i = 0; i < refs->keys.n; i++) {
            const char *k = refs->keys.v[i];
            if (!strncmp(k, key, repolen) && k[repolen] == ':') {
                add_tag(item_for(s, refs->ids.v[i]), k);
                any = true;
            }
        }
        if (any)
            return 0;
    }
    char id[65];
    if (image_resolve_id(s->store, ref, id, err) < 0) {
        /* docker's daemon: a repository it has no tag of is "no such image", a tag it does
         * not have "reference does not exist" */
        if (err->kind == BERR_NOT_FOUND && is_bare_repository(ref))
            return berr_set(err, BERR_NOT_FOUND, "No such image: %s", ref);
        if (err->kind == BERR_NOT_FOUND)
            return berr_set(err, BERR_NOT_FOUND, "reference does not exist");
        return -1;
    }
    struct save_item *it = item_for(s, id);
    free(key);
    key = NULL;
    if (image_normalize_ref(ref, &key, &ignored) == 0) {
        const char *v = image_refs_get(refs, key);
        if (v && !strcmp(v, id))
            add_tag(it, key);
    }
    return 0;
}

static const struct packed *pack_once(struct saver *s, const char *diff_id, struct berr *err)
{
    for (size_t i = 0; i < s->npacked; i++) {
        if (!strcmp(s->packed[i].diff_id, diff_id))
            return &s->packed[i];
    }
    _cleanup_close_ int tmp = image_store_dir(s->store, "tmp", O_RDONLY, err);
    if (tmp < 0)
        return NULL;
    /* unnamed: nothing is left behind whatever happens, and a writer cleaning tmp/ cannot
     * take it away */
    _cleanup_close_ int fd = openat(tmp, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        berr_errno(err, "temporary file in %s/tmp", s->store->root);
        return NULL;
    }
    struct packed p = {.fd = -1};
    memcpy(p.diff_id, diff_id, 65);
    if (image_layer_pack(s->store, diff_id, fd, p.hex, &p.size, err) < 0)
        return NULL;
    p.fd = steal_fd(&fd);
    s->packed = xrealloc(s->packed, (s->npacked + 1) * sizeof(*s->packed));
    s->packed[s->npacked] = p;
    return &s->packed[s->npacked++];
}

/* The config with rootfs.diff_ids replaced, every other member as it was. */
static char *config_with_diff_ids(yajl_val doc, const struct strv *hexes, size_t *len)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    for (size_t i = 0; i < doc->u.object.len; i++) {
        const char *key = doc->u.object.keys[i];
        yajl_val v = doc->u.object.values[i];
        json_str(g, key);
        if (strcmp(key, "rootfs") != 0) {
            json_gen_value(g, v);
            continue;
        }
        yajl_gen_map_open(g);
        for (size_t j = 0; j < v->u.object.len; j++) {
            if (strcmp(v->u.object.keys[j], "diff_ids") != 0) {
                json_str(g, v->u.object.keys[j]);
                json_gen_value(g, v->u.object.values[j]);
            }
        }
        json_str(g, "diff_ids");
        json_prefixed_array(g, "sha256:", hexes);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    return json_gen_take(g, len);
}

static void gen_descriptor(yajl_gen g, const char *media_type, const char *hex,
                           unsigned long long size)
{
    _cleanup_free_ char *digest = xasprintf("sha256:%s", hex);
    yajl_gen_map_open(g);
    json_key_str(g, "mediaType", media_type);
    json_key_str(g, "digest", digest);
    json_key_int(g, "size", (long long)size);
}

static const struct packed *packed_by_hex(const struct saver *s, const char *hex)
{
    for (size_t i = 0; i < s->npacked; i++) {
        if (!strcmp(s->packed[i].hex, hex))
            return &s->packed[i];
    }
    return NULL;
}

static void make_manifest(const struct saver *s, struct save_item *it)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_int(g, "schemaVersion", 2);
    json_key_str(g, "mediaType", MT_MANIFEST);
    json_str(g, "config");
    gen_descriptor(g, MT_CONFIG, it->out_id, it->config_len);
    yajl_gen_map_close(g);
    json_str(g, "layers");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < it->layers.n; i++) {
        gen_descriptor(g, MT_LAYER, it->layers.v[i], packed_by_hex(s, it->layers.v[i])->size);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    it->manifest = json_gen_take(g, &it->manifest_len);
    sha256_hex(it->manifest, it->manifest_len, it->manifest_hex);
}

/* Pack the item's layers; its config and id in the archive follow from their digests. */
static int prepare_item(struct saver *s, struct save_item *it, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (image_blob_read(s->store, it->id, &text, &len, err) < 0)
        return -1;
    yajl_val doc = NULL;
    _cleanup_strv_ struct strv diff_ids = {0};
    if (json_parse(text, &doc, err) < 0 || image_config_diff_ids(doc, &diff_ids, err) < 0) {
        yajl_tree_free(doc);
        return berr_wrap(err, "image %.12s", it->id);
    }
    bool same = true;
    for (size_t i = 0; i < diff_ids.n; i++) {
        const struct packed *p = pack_once(s, diff_ids.v[i], err);
        if (!p) {
            yajl_tree_free(doc);
            return berr_wrap(err, "image %.12s", it->id);
        }
        strv_push(&it->layers, p->hex);
        same = same && !strcmp(p->hex, diff_ids.v[i]);
    }
    if (same) {
        it->config = steal_ptr(&text);
        it->config_len = len;
    } else {
        it->config = config_with_diff_ids(doc, &it->layers, &it->config_len);
        debugf("save: image %.12s: layers packed anew, new config", it->id);
    }
    yajl_tree_free(doc);
    sha256_hex(it->config, it->config_len, it->out_id);
    make_manifest(s, it);
    return 0;
}

/* ---- the archive ---------------------------------------------------------------------- */

struct out {
    struct archive *a;
    int fd;
    int write_errno;
};

static la_ssize_t out_write(struct archive *a, void *data, const void *buf, size_t n)
{
    struct out *o = data;
    if (write_all(o->fd, buf, n) < 0) {
        o->write_errno = errno;
        archive_set_error(a, errno, "write");
        return -1;
    }
    return (la_ssize_t)n;
}

static int out_fail(struct out *o, const char *name, struct berr *err)
{
    if (o->write_errno)
        return berr_errnum(err, o->write_errno, "write %s", name);
    return berr_set(err, BERR_FAILED, "write %s: %s", name, la_err(o->a));
}

static int out_header(struct out *o, const char *name, bool dir, unsigned long long size,
                      struct berr *err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, dir ? 0755 : 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_mtime(e, 0, 0);
    int r = archive_write_header(o->a, e);
    archive_entry_free(e);
    return r == ARCHIVE_OK || r == ARCHIVE_WARN ? 0 : out_fail(o, name, err);
}

static int out_bytes(struct out *o, const char *name, const char *buf, size_t len, struct berr *err)
{
    if (out_header(o, name, false, len, err) < 0)
        return -1;
    if (len && archive_write_data(o->a, buf, len) != (la_ssize_t)len)
        return out_fail(o, name, err);
    return 0;
}

static int out_blob(struct out *o, const char *hex, const char *buf, size_t len, struct berr *err)
{
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", hex);
    return out_bytes(o, name, buf, len, err);
}

static int out_layer(struct out *o, const struct packed *p, struct berr *err)
{
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", p->hex);
    if (out_header(o, name, false, p->size, err) < 0)
        return -1;
    _cleanup_free_ char *buf = xmalloc(COPY_CHUNK);
    unsigned long long off = 0;
    while (off < p->size) {
        size_t want = p->size - off < COPY_CHUNK ? (size_t)(p->size - off) : COPY_CHUNK;
        ssize_t n = pread(p->fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return berr_errno(err, "read packed layer %.12s", p->hex);
        if (archive_write_data(o->a, buf, (size_t)n) != n)
            return out_fail(o, name, err);
        off += (unsigned long long)n;
    }
    return 0;
}

/* "x:y" → "docker.io/library/x:y", as containerd names images in index.json. */
static char *qualified(const char *ref)
{
    const char *slash = strchr(ref, '/');
    size_t n = slash ? (size_t)(slash - ref) : 0;
    bool has_host = slash && (memchr(ref, '.', n) || memchr(ref, ':', n) ||
                              (n == strlen("localhost") && !strncmp(ref, "localhost", n)));
    if (has_host)
        return xstrdup(ref);
    return xasprintf("docker.io/%s%s", slash ? "" : "library/", ref);
}

static const char *tag_of(const char *ref)
{
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash ? slash : ref, ':');
    return colon ? colon + 1 : "latest";
}

static char *index_json(const struct saver *s, size_t *len)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_int(g, "schemaVersion", 2);
    json_key_str(g, "mediaType", "application/vnd.oci.image.index.v1+json");
    json_str(g, "manifests");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < s->n; i++) {
        const struct save_item *it = &s->items[i];
        for (size_t t = 0; t < (it->tags.n ? it->tags.n : 1); t++) {
            gen_descriptor(g, MT_MANIFEST, it->manifest_hex, it->manifest_len);
            if (it->tags.n) {
                _cleanup_free_ char *full = qualified(it->tags.v[t]);
                json_str(g, "annotations");
                yajl_gen_map_open(g);
                json_key_str(g, "io.containerd.image.name", full);
                json_key_str(g, "org.opencontainers.image.ref.name", tag_of(it->tags.v[t]));
                yajl_gen_map_close(g);
            }
            yajl_gen_map_close(g);
        }
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return json_gen_take(g, len);
}

static char *manifest_json(const struct saver *s, size_t *len)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_array_open(g);
    for (size_t i = 0; i < s->n; i++) {
        const struct save_item *it = &s->items[i];
        yajl_gen_map_open(g);
        _cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", it->out_id);
        json_key_str(g, "Config", cfg);
        json_key_strv(g, "RepoTags", it->tags.n ? &it->tags : NULL);
        json_str(g, "Layers");
        yajl_gen_array_open(g);
        for (size_t j = 0; j < it->layers.n; j++) {
            _cleanup_free_ char *l = xasprintf("blobs/sha256/%s", it->layers.v[j]);
            json_str(g, l);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    return json_gen_take(g, len);
}

/* docker's legacy map, repository → tag → the top layer's id. */
static char *repositories_json(const struct saver *s, size_t *len)
{
    _cleanup_strv_ struct strv repos = {0};
    for (size_t i = 0; i < s->n; i++) {
        for (size_t t = 0; t < s->items[i].tags.n; t++) {
            const char *ref = s->items[i].tags.v[t];
            _cleanup_free_ char *repo = strndup(ref, strlen(ref) - strlen(tag_of(ref)) - 1);
            if (!strv_contains(&repos, repo))
                strv_push(&repos, repo);
        }
    }
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    for (size_t r = 0; r < repos.n; r++) {
        json_str(g, repos.v[r]);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < s->n; i++) {
            const struct save_item *it = &s->items[i];
            for (size_t t = 0; t < it->tags.n; t++) {
                const char *ref = it->tags.v[t];
                size_t rl = strlen(repos.v[r]);
                if (strncmp(ref, repos.v[r], rl) || ref[rl] != ':' || strchr(ref + rl + 1, '/'))
                    continue;
                json_key_str(g, ref + rl + 1,
                             it->layers.n ? it->layers.v[it->layers.n - 1] : it->out_id);
            }
        }
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    return json_gen_take(g, len);
}

static int write_archive(const struct saver *s, int fd, struct berr *err)
{
    struct out o = {.fd = fd};
    o.a = archive_write_new();
    archive_write_set_format_pax_restricted(o.a);
    archive_write_set_bytes_in_last_block(o.a, 1);
    int rc = archive_write_open(o.a, &o, NULL, out_write, NULL) == ARCHIVE_OK
                 ? 0
                 : berr_set(err, BERR_FAILED, "%s", la_err(o.a));
    if (rc == 0)
        rc = out_header(&o, "blobs/", true, 0, err) < 0 ||
                     out_header(&o, "blobs/sha256/", true, 0, err) < 0
                 ? -1
                 : 0;
    for (size_t i = 0; rc == 0 && i < s->npacked; i++) {
        bool dup = false; /* two diff-ids that pack to one tar (cannot be told apart) */
        for (size_t j = 0; j < i; j++)
            dup = dup || !strcmp(s->packed[j].hex, s->packed[i].hex);
        if (!dup)
            rc = out_layer(&o, &s->packed[i], err);
    }
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        const struct save_item *it = &s->items[i];
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || !strcmp(s->items[j].out_id, it->out_id);
        if (!dup)
            rc = out_blob(&o, it->out_id, it->config, it->config_len, err) < 0 ||
                         out_blob(&o, it->manifest_hex, it->manifest, it->manifest_len, err) < 0
                     ? -1
                     : 0;
    }
    size_t len = 0;
    _cleanup_free_ char *index = index_json(s, &len);
    if (rc == 0)
        rc = out_bytes(&o, "index.json", index, len, err);
    _cleanup_free_ char *manifest = manifest_json(s, &len);
    if (rc == 0)
        rc = out_bytes(&o, "manifest.json", manifest, len, err);
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (rc == 0)
        rc = out_bytes(&o, "oci-layout", layout, strlen(layout), err);
    _cleanup_free_ char *repos = repositories_json(s, &len);
    if (rc == 0)
        rc = out_bytes(&o, "repositories", repos, len, err);
    if (rc == 0 && archive_write_close(o.a) != ARCHIVE_OK)
        rc = out_fail(&o, "archive", err);
    archive_write_free(o.a);
    return rc;
}

int image_save(struct image_store *store, const struct strv *refs,
               int (*open_out)(void *ctx, struct berr *err), void *ctx, struct berr *err)
{
    struct saver s = {.store = store};
    struct refmap map;
    if (image_refs_load(store, &map, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < refs->n; i++)
        rc = add_ref(&s, &map, refs->v[i], err);
    image_refs_free(&map);
    for (size_t i = 0; rc == 0 && i < s.n; i++)
        rc = prepare_item(&s, &s.items[i], err);
    int fd = rc == 0 ? open_out(ctx, err) : -1;
    if (rc == 0 && fd < 0)
        rc = -1;
    if (rc == 0)
        rc = write_archive(&s, fd, err);
    saver_free(&s);
    return rc;
}
