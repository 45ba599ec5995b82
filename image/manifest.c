/* What a `docker save` archive or an OCI layout says it holds: per image, its config blob, its
 * layer blobs (base first) and its tags. docker's manifest.json is read first when present (it
 * is in both docker layouts and carries the RepoTags docker prints); otherwise the OCI layout
 * is walked: index.json → (image index →) manifest → config + layers, each manifest and index
 * checked against its descriptor's size and digest on the way. */
#include "image/internal.h"

#include <errno.h>
#include <string.h>

#define JSON_MAX (16u << 20)
#define MAX_INDEX_DEPTH 4

#if defined(__aarch64__)
#define HOST_ARCH "arm64"
#else
#define HOST_ARCH "amd64"
#endif

static void item_free(struct load_item *it)
{
    free(it->config.path);
    for (size_t j = 0; j < it->nlayers; j++)
        free(it->layers[j].path);
    free(it->layers);
    strv_free(&it->tags);
}

void load_plan_free(struct load_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        item_free(&p->items[i]);
    free(p->items);
    *p = (struct load_plan){0};
}

static struct load_item *add_item(struct load_plan *p)
{
    p->items = xrealloc(p->items, (p->n + 1) * sizeof(*p->items));
    p->items[p->n] = (struct load_item){0};
    return &p->items[p->n++];
}

static struct blob_ref *add_layer(struct load_item *it)
{
    it->layers = xrealloc(it->layers, (it->nlayers + 1) * sizeof(*it->layers));
    it->layers[it->nlayers] = (struct blob_ref){.size = -1};
    return &it->layers[it->nlayers++];
}

int image_familiar_ref(const char *ref, char **out, struct berr *err)
{
    const char *r = ref;
    if (str_has_prefix(r, "docker.io/"))
        r += strlen("docker.io/");
    if (str_has_prefix(r, "library/") && !strchr(r + strlen("library/"), '/'))
        r += strlen("library/");
    if (image_normalize_ref(r, out, err) < 0)
        return -1;
    if (image_check_tag_name(*out, err) < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int image_blob_check(const struct blob_ref *want, const char *what, unsigned long long len,
                     const char *hex, struct berr *err)
{
    if (want->size >= 0 && (unsigned long long)want->size != len)
        return berr_set(err, BERR_FAILED, "%s %s: size %llu, expected %lld", what, want->path, len,
                        want->size);
    if (want->hex[0] && strcmp(want->hex, hex) != 0)
        return berr_set(err, BERR_FAILED,
                        "%s %s: digest mismatch: content is sha256:%s, expected sha256:%s", what,
                        want->path, hex, want->hex);
    return 0;
}

/* "blobs/sha256/<hex>" → hex; so are docker's "<hex>.json" config names. */
static void hex_from_path(const char *path, const char *suffix, char hex[65])
{
    hex[0] = '\0';
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base), sn = strlen(suffix);
    if (n != 64 + sn || strcmp(base + 64, suffix) != 0)
        return;
    char tmp[65];
    memcpy(tmp, base, 64);
    tmp[64] = '\0';
    bool blob_dir = !*suffix && str_has_prefix(path, "blobs/sha256/");
    if (is_hex64(tmp) && (*suffix || blob_dir))
        memcpy(hex, tmp, 65);
}

static int read_json(struct image_src *src, const struct blob_ref *want, const char *what,
                     yajl_val *doc, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    char hex[65];
    if (image_src_read(src, want->path, JSON_MAX, &text, &len, hex, err) < 0)
        return -1;
    if (image_blob_check(want, what, len, hex, err) < 0)
        return -1;
    if (json_parse(text, doc, err) < 0)
        return berr_wrap(err, "%s %s", what, want->path);
    return 0;
}

/* ---- docker save: manifest.json ---------------------------------------------------------- */

static int docker_item(yajl_val v, struct load_item *it, struct berr *err)
{
    const char *config = json_get_str(v, "Config");
    yajl_val layers = json_get(v, "Layers");
    if (!config || !YAJL_IS_ARRAY(layers))
        return berr_set(err, BERR_FAILED,
                        "invalid manifest.json: an entry without Config or "
                        "Layers");
    it->config = (struct blob_ref){.path = xstrdup(config), .size = -1};
    /* the config's name is its digest: "<hex>.json" (docker ≤ 24) or a blob path */
    hex_from_path(config, ".json", it->config.hex);
    if (!it->config.hex[0])
        hex_from_path(config, "", it->config.hex);
    for (size_t i = 0; i < layers->u.array.len; i++) {
        yajl_val l = layers->u.array.values[i];
        if (!YAJL_IS_STRING(l))
            return berr_set(err, BERR_FAILED, "invalid manifest.json: a layer is not a path");
        struct blob_ref *b = add_layer(it);
        b->path = xstrdup(l->u.string);
        hex_from_path(b->path, "", b->hex);
    }
    yajl_val tags = json_get(v, "RepoTags");
    for (size_t i = 0; YAJL_IS_ARRAY(tags) && i < tags->u.array.len; i++) {
        yajl_val t = tags->u.array.values[i];
        char *norm = NULL;
        if (!YAJL_IS_STRING(t) || image_familiar_ref(t->u.string, &norm, err) < 0)
            return berr_wrap(err, "invalid manifest.json: RepoTags");
        strv_push_owned(&it->tags, norm);
    }
    return 0;
}

int image_plan_docker(struct image_src *src, struct load_plan *plan, struct berr *err)
{
    struct blob_ref m = {.path = "manifest.json", .size = -1};
    yajl_val doc = NULL;
    if (read_json(src, &m, "file", &doc, err) < 0)
        return -1;
    int rc = 0;
    if (!YAJL_IS_ARRAY(doc))
        rc = berr_set(err, BERR_FAILED, "invalid manifest.json: not an array");
    for (size_t i = 0; rc == 0 && YAJL_IS_ARRAY(doc) && i < doc->u.array.len; i++)
        rc = docker_item(doc->u.array.values[i], add_item(plan), err);
    yajl_tree_free(doc);
    return rc;
}

/* ---- OCI layout -------------------------------------------------------------------------- */

static bool is_one_of(const char *s, const char *const *list)
{
    for (; s && *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

static const char *const index_types[] = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json", NULL};
static const char *const manifest_types[] = {"application/vnd.oci.image.manifest.v1+json",
                                             "application/vnd.docker.distribution.manifest.v2+json",
                                             NULL};

/* A layer blob by its media type; its compression is never taken from it (skopeo labels plain
 * tars gzip): the bytes say. */
static bool is_layer_type(const char *mt)
{
    return mt && (str_has_prefix(mt, "application/vnd.oci.image.layer.") ||
                  str_has_prefix(mt, "application/vnd.docker.image.rootfs.diff.tar") ||
                  str_has_prefix(mt, "application/vnd.docker.image.rootfs.foreign.diff.tar"));
}

static int descriptor(yajl_val d, struct blob_ref *out, struct berr *err)
{
    const char *digest = json_get_str(d, "digest");
    yajl_val size = json_get(d, "size");
    if (!digest || !YAJL_IS_INTEGER(size) || YAJL_GET_INTEGER(size) < 0)
        return berr_set(err, BERR_FAILED, "descriptor without a digest or a size");
    if (!str_has_prefix(digest, "sha256:"))
        return berr_set(err, BERR_FAILED, "descriptor %s: unsupported digest algorithm", digest);
    if (!is_hex64(digest + 7))
        return berr_set(err, BERR_FAILED, "descriptor %s: invalid digest", digest);
    *out = (struct blob_ref){.size = YAJL_GET_INTEGER(size)};
    memcpy(out->hex, digest + 7, 65);
    out->path = xasprintf("blobs/sha256/%s", out->hex);
    return 0;
}

static bool platform_matches(yajl_val d)
{
    yajl_val annotations = json_get(d, "annotations");
    const char *kind = json_get_str(annotations, "vnd.docker.reference.type");
    if (kind && strcmp(kind, "attestation-manifest") == 0)
        return false;
    yajl_val p = json_get(d, "platform");
    if (!p)
        return true;
    const char *os = json_get_str(p, "os"), *arch = json_get_str(p, "architecture");
    return (!os || strcmp(os, "linux") == 0) && (!arch || strcmp(arch, HOST_ARCH) == 0);
}

/* io.containerd.image.name is a whole reference; org.opencontainers.image.ref.name is one for
 * skopeo but only a tag for docker, containerd and umoci — a bare tag names nothing. */
static int descriptor_name(yajl_val d, char **out, struct berr *err)
{
    *out = NULL;
    yajl_val a = json_get(d, "annotations");
    const char *name = json_get_str(a, "io.containerd.image.name");
    if (!name) {
        name = json_get_str(a, "org.opencontainers.image.ref.name");
        if (name && !strpbrk(name, ":/"))
            name = NULL;
    }
    if (name && image_familiar_ref(name, out, err) < 0)
        return berr_wrap(err, "image name annotation");
    return 0;
}

static int oci_manifest(struct image_src *src, const struct blob_ref *want, const char *name,
                        struct load_plan *plan, struct berr *err)
{
    yajl_val doc = NULL;
    if (read_json(src, want, "manifest", &doc, err) < 0)
        return -1;
    struct load_item *it = add_item(plan);
    if (name)
        strv_push(&it->tags, name);
    memcpy(it->digest, want->hex, sizeof(it->digest));
    int rc = descriptor(json_get(doc, "config"), &it->config, err);
    yajl_val layers = json_get(doc, "layers");
    if (rc == 0 && !YAJL_IS_ARRAY(layers))
        rc = berr_set(err, BERR_FAILED, "manifest has no layers");
    for (size_t i = 0; rc == 0 && i < layers->u.array.len; i++) {
        yajl_val l = layers->u.array.values[i];
        const char *mt = json_get_str(l, "mediaType");
        if (!is_layer_type(mt)) {
            rc = berr_set(err, BERR_FAILED, "layer %zu: media type %s is not a layer", i,
                          mt ? mt : "(none)");
            break;
        }
        rc = descriptor(l, add_layer(it), err);
    }
    yajl_tree_free(doc);
    return rc < 0 ? berr_wrap(err, "manifest sha256:%.12s", want->hex) : 0;
}

static int oci_index(struct image_src *src, yajl_val idx, const char *outer_name, int depth,
                     struct load_plan *plan, struct berr *err)
{
    yajl_val list = json_get(idx, "manifests");
    if (!YAJL_IS_ARRAY(list))
        return berr_set(err, BERR_FAILED, "index without manifests");
    for (size_t i = 0; i < list->u.array.len; i++) {
        yajl_val d = list->u.array.values[i];
        const char *mt = json_get_str(d, "mediaType");
        bool is_index = is_one_of(mt, index_types);
        if ((!is_index && !is_one_of(mt, manifest_types)) || !platform_matches(d))
            continue; /* unknown media types are not errors (image-spec) */
        _cleanup_free_ char *name = NULL;
        if (descriptor_name(d, &name, err) < 0)
            return -1;
        const char *use = name ? name : outer_name;
        struct blob_ref b;
        if (descriptor(d, &b, err) < 0)
            return -1;
        int rc;
        if (!is_index) {
            rc = oci_manifest(src, &b, use, plan, err);
        } else if (depth >= MAX_INDEX_DEPTH) {
            rc = berr_set(err, BERR_FAILED, "image indexes nested too deep");
        } else {
            yajl_val child = NULL;
            rc = read_json(src, &b, "index", &child, err);
            size_t before = plan->n;
            if (rc == 0)
                rc = oci_index(src, child, use, depth + 1, plan, err);
            /* one image per index: the first that matches this platform */
            while (rc == 0 && plan->n > before + 1)
                item_free(&plan->items[--plan->n]);
            yajl_tree_free(child);
        }
        free(b.path);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int image_plan_oci(struct image_src *src, struct load_plan *plan, struct berr *err)
{
    struct blob_ref layout = {.path = "oci-layout", .size = -1};
    yajl_val doc = NULL;
    if (read_json(src, &layout, "file", &doc, err) < 0)
        return -1;
    const char *version = json_get_str(doc, "imageLayoutVersion");
    bool ok = version && strcmp(version, "1.0.0") == 0;
    yajl_tree_free(doc);
    if (!ok)
        return berr_set(err, BERR_FAILED, "oci-layout: unsupported imageLayoutVersion");
    struct blob_ref index = {.path = "index.json", .size = -1};
    if (read_json(src, &index, "file", &doc, err) < 0)
        return -1;
    int rc = oci_index(src, doc, NULL, 0, plan, err);
    yajl_tree_free(doc);
    if (rc == 0 && plan->n == 0)
        rc = berr_set(err, BERR_FAILED, "index.json lists no image for linux/%s", HOST_ARCH);
    return rc;
}
