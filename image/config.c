/* An image by id: its config read from blobs/ and its layers' directories, as the runtime
 * takes them (struct image). */
#include "image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

static void config_free(struct image_config *c)
{
    strv_free(&c->env);
    strv_free(&c->entrypoint);
    strv_free(&c->cmd);
    free(c->workdir);
    free(c->user);
    free(c->stop_signal);
    *c = (struct image_config){0};
}

void image_free(struct image *img)
{
    free(img->ref);
    strv_free(&img->layers);
    config_free(&img->config);
    *img = (struct image){0};
}

static char *nonempty_dup(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

/* rootfs.diff_ids as bare hex; each checked, since it becomes a directory name. */
int image_config_diff_ids(yajl_val doc, struct strv *out, struct berr *err)
{
    yajl_val rootfs = json_get(doc, "rootfs");
    const char *type = json_get_str(rootfs, "type");
    yajl_val ids = json_get(rootfs, "diff_ids");
    if (!type || strcmp(type, "layers") != 0 || !YAJL_IS_ARRAY(ids))
        return berr_set(err, BERR_FAILED, "config has no rootfs of type layers");
    for (size_t i = 0; i < ids->u.array.len; i++) {
        yajl_val v = ids->u.array.values[i];
        const char *s = YAJL_IS_STRING(v) ? v->u.string : "";
        if (!str_has_prefix(s, "sha256:") || !is_hex64(s + 7))
            return berr_set(err, BERR_FAILED, "config: invalid diff_id \"%s\"", s);
        strv_push(out, s + 7);
    }
    return 0;
}

/* Parse a config blob: diff-ids and the creation time (zero when absent). */
int image_read_config(const struct image_store *store, const char *id, yajl_val *doc,
                      struct strv *diff_ids, struct timespec *created, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    if (image_blob_read(store, id, &text, NULL, err) < 0)
        return -1;
    if (json_parse(text, doc, err) < 0)
        return berr_wrap(err, "config sha256:%.12s", id);
    if (image_config_diff_ids(*doc, diff_ids, err) < 0) {
        yajl_tree_free(*doc);
        *doc = NULL;
        strv_free(diff_ids);
        return berr_wrap(err, "image %.12s", id);
    }
    const char *c = json_get_str(*doc, "created");
    if (!c || parse_rfc3339(c, created) < 0)
        *created = (struct timespec){0};
    return 0;
}

int image_load(const struct image_store *store, const char *id, const char *display_ref,
               struct image *out, struct berr *err)
{
    *out = (struct image){0};
    yajl_val doc = NULL;
    _cleanup_strv_ struct strv diff_ids = {0};
    struct timespec created;
    if (image_read_config(store, id, &doc, &diff_ids, &created, err) < 0)
        return -1;
    _cleanup_close_ int layersfd = image_store_dir(store, "layers", O_PATH, err);
    if (layersfd < 0) {
        yajl_tree_free(doc);
        return -1;
    }
    for (size_t i = 0; i < diff_ids.n; i++) {
        struct stat st;
        int e = fstatat(layersfd, diff_ids.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ? errno
                : S_ISDIR(st.st_mode)                                          ? 0
                                                                               : ENOTDIR;
        if (e) {
            berr_errnum(err, e, "image %.12s: layer sha256:%s missing from the store", id,
                        diff_ids.v[i]);
            yajl_tree_free(doc);
            image_free(out);
            return -1;
        }
        strv_push_owned(&out->layers, xasprintf("%s/layers/%s", store->root, diff_ids.v[i]));
    }
    yajl_val cfg = json_get(doc, "config");
    json_get_strv(cfg, "Env", &out->config.env);
    json_get_strv(cfg, "Entrypoint", &out->config.entrypoint);
    json_get_strv(cfg, "Cmd", &out->config.cmd);
    out->config.workdir = nonempty_dup(json_get_str(cfg, "WorkingDir"));
    out->config.user = nonempty_dup(json_get_str(cfg, "User"));
    out->config.stop_signal = nonempty_dup(json_get_str(cfg, "StopSignal"));
    yajl_tree_free(doc);
    memcpy(out->id, id, 65);
    out->ref = xstrdup(display_ref);
    return 0;
}
