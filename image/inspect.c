/* docker's image inspect object (API 1.41, docker 20.10's field set and order) from the config
 * blob, refs.json, digests.json and the layers' sizes. Config and ContainerConfig are docker's
 * container.Config: every field it always prints is there (null when the image has none),
 * the omitempty ones only when set. */
#include "image/internal.h"

#include <string.h>

enum cfg_kind { CFG_STR, CFG_BOOL, CFG_OR_NULL, CFG_OMITEMPTY };

static const struct {
    const char *key;
    enum cfg_kind kind;
} config_fields[] = {
    {"Hostname", CFG_STR},
    {"Domainname", CFG_STR},
    {"User", CFG_STR},
    {"AttachStdin", CFG_BOOL},
    {"AttachStdout", CFG_BOOL},
    {"AttachStderr", CFG_BOOL},
    {"ExposedPorts", CFG_OMITEMPTY},
    {"Tty", CFG_BOOL},
    {"OpenStdin", CFG_BOOL},
    {"StdinOnce", CFG_BOOL},
    {"Env", CFG_OR_NULL},
    {"Cmd", CFG_OR_NULL},
    {"Healthcheck", CFG_OMITEMPTY},
    {"ArgsEscaped", CFG_OMITEMPTY},
    {"Image", CFG_STR},
    {"Volumes", CFG_OR_NULL},
    {"WorkingDir", CFG_STR},
    {"Entrypoint", CFG_OR_NULL},
    {"NetworkDisabled", CFG_OMITEMPTY},
    {"MacAddress", CFG_OMITEMPTY},
    {"OnBuild", CFG_OR_NULL},
    {"Labels", CFG_OR_NULL},
    {"StopSignal", CFG_OMITEMPTY},
    {"StopTimeout", CFG_OMITEMPTY},
    {"Shell", CFG_OMITEMPTY},
};

static bool is_empty(yajl_val v)
{
    return !v || YAJL_IS_NULL(v) || YAJL_IS_FALSE(v) || (YAJL_IS_STRING(v) && !*v->u.string) ||
           (YAJL_IS_OBJECT(v) && !v->u.object.len) || (YAJL_IS_ARRAY(v) && !v->u.array.len) ||
           (YAJL_IS_NUMBER(v) && !strcmp(v->u.number.r, "0"));
}

/* cfg as docker's container.Config; null when the image has none at all */
static void gen_config(yajl_gen g, yajl_val cfg, bool null_when_absent)
{
    if (!YAJL_IS_OBJECT(cfg) && null_when_absent) {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_map_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(config_fields); i++) {
        const char *key = config_fields[i].key;
        yajl_val v = json_get(cfg, key);
        switch (config_fields[i].kind) {
        case CFG_STR:
            json_str(g, key);
            json_str(g, YAJL_IS_STRING(v) ? v->u.string : "");
            break;
        case CFG_BOOL:
            json_key_bool(g, key, YAJL_IS_TRUE(v));
            break;
        case CFG_OR_NULL:
            json_str(g, key);
            json_gen_value(g, v);
            break;
        case CFG_OMITEMPTY:
            if (!is_empty(v)) {
                json_str(g, key);
                json_gen_value(g, v);
            }
            break;
        }
    }
    yajl_gen_map_close(g);
}

static void gen_names(yajl_gen g, const struct strv *tags, const char *manifest_hex)
{
    json_key_strv(g, "RepoTags", tags);
    json_str(g, "RepoDigests");
    yajl_gen_array_open(g);
    _cleanup_strv_ struct strv done = {0};
    for (size_t i = 0; manifest_hex && i < tags->n; i++) {
        const char *ref = tags->v[i];
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(slash ? slash : ref, ':');
        _cleanup_free_ char *repo = colon ? strndup(ref, (size_t)(colon - ref)) : xstrdup(ref);
        if (strv_contains(&done, repo))
            continue;
        strv_push(&done, repo);
        _cleanup_free_ char *d = xasprintf("%s@sha256:%s", repo, manifest_hex);
        json_str(g, d);
    }
    yajl_gen_array_close(g);
}

static int gen_sizes_and_layers(yajl_gen g, const struct image_store *store,
                                const struct strv *diff_ids, struct berr *err)
{
    unsigned long long size = 0;
    _cleanup_strv_ struct strv dirs = {0};
    for (size_t i = 0; i < diff_ids->n; i++) {
        unsigned long long n = 0;
        if (image_layer_size(store, diff_ids->v[i], &n, err) < 0)
            return -1;
        size += n;
        /* overlay's order: the top layer first */
        strv_push_owned(&dirs,
                        xasprintf("%s/layers/%s", store->root, diff_ids->v[diff_ids->n - 1 - i]));
    }
    json_key_int(g, "Size", (long long)size);
    json_key_int(g, "VirtualSize", (long long)size);
    json_str(g, "GraphDriver");
    yajl_gen_map_open(g);
    json_str(g, "Data");
    if (dirs.n) {
        _cleanup_free_ char *lower = strv_join(&dirs, ":");
        yajl_gen_map_open(g);
        json_key_str(g, "LowerDir", lower);
        yajl_gen_map_close(g);
    } else {
        yajl_gen_null(g);
    }
    json_key_str(g, "Name", "overlay2");
    yajl_gen_map_close(g);
    json_str(g, "RootFS");
    yajl_gen_map_open(g);
    json_key_str(g, "Type", "layers");
    json_str(g, "Layers");
    json_prefixed_array(g, "sha256:", diff_ids);
    yajl_gen_map_close(g);
    return 0;
}

static void gen_str_or_empty(yajl_gen g, const char *key, yajl_val doc, const char *field)
{
    const char *v = json_get_str(doc, field);
    json_key_str(g, key, v ? v : "");
}

/* docker's: the config's comment, else the last history entry's (what commit --message and
 * import leave) */
static void gen_comment(yajl_gen g, yajl_val doc)
{
    const char *c = json_get_str(doc, "comment");
    yajl_val history = json_get(doc, "history");
    if ((!c || !*c) && YAJL_IS_ARRAY(history) && history->u.array.len)
        c = json_get_str(history->u.array.values[history->u.array.len - 1], "comment");
    json_key_str(g, "Comment", c ? c : "");
}

static int build(const struct image_store *store, const char *id, yajl_val doc,
                 const struct strv *diff_ids, const struct timespec *created, yajl_val *out,
                 struct berr *err)
{
    struct refmap refs, digests;
    if (image_refs_load(store, &refs, err) < 0)
        return -1;
    if (image_digests_load(store, &digests, err) < 0) {
        image_refs_free(&refs);
        return -1;
    }
    _cleanup_strv_ struct strv tags = {0};
    for (size_t i = 0; i < refs.keys.n; i++) {
        if (!strcmp(refs.ids.v[i], id))
            strv_push(&tags, refs.keys.v[i]);
    }
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    _cleanup_free_ char *full = xasprintf("sha256:%s", id);
    json_key_str(g, "Id", full);
    gen_names(g, &tags, image_refs_get(&digests, id));
    image_refs_free(&refs);
    image_refs_free(&digests);
    json_key_str(g, "Parent", "");
    gen_comment(g, doc);
    char created_text[40];
    format_go_time(created, created_text);
    json_key_str(g, "Created", created_text);
    gen_str_or_empty(g, "Container", doc, "container");
    json_str(g, "ContainerConfig");
    gen_config(g, json_get(doc, "container_config"), false);
    gen_str_or_empty(g, "DockerVersion", doc, "docker_version");
    gen_str_or_empty(g, "Author", doc, "author");
    json_str(g, "Config");
    gen_config(g, json_get(doc, "config"), true);
    gen_str_or_empty(g, "Architecture", doc, "architecture");
    const char *variant = json_get_str(doc, "variant");
    if (variant && *variant)
        json_key_str(g, "Variant", variant);
    gen_str_or_empty(g, "Os", doc, "os");
    const char *osv = json_get_str(doc, "os.version");
    if (osv && *osv)
        json_key_str(g, "OsVersion", osv);
    if (gen_sizes_and_layers(g, store, diff_ids, err) < 0) {
        yajl_gen_free(g);
        return -1;
    }
    /* berth keeps no tag times; docker shows the zero time for images it has none for */
    json_str(g, "Metadata");
    yajl_gen_map_open(g);
    json_key_str(g, "LastTagTime", "0001-01-01T00:00:00Z");
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    return json_gen_parse(g, out, err);
}

int image_inspect(struct image_store *store, const char *ref, yajl_val *out, struct berr *err)
{
    char id[65];
    if (image_resolve_id(store, ref, id, err) < 0)
        return -1;
    yajl_val doc = NULL;
    _cleanup_strv_ struct strv diff_ids = {0};
    struct timespec created;
    if (image_read_config(store, id, &doc, &diff_ids, &created, err) < 0)
        return berr_wrap(err, "image %s", ref);
    int rc = build(store, id, doc, &diff_ids, &created, out, err);
    yajl_tree_free(doc);
    return rc < 0 ? berr_wrap(err, "image %s", ref) : 0;
}
