/* tag, rmi and prune: references moved or dropped, configs deleted, and the layers no image
 * needs any more removed. Writers hold the store lock; a layer is removed only when no
 * remaining config lists it. */
#include "image/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

int image_tag(struct image_store *store, const char *source, const char *target, struct berr *err)
{
    _cleanup_free_ char *key = NULL;
    if (image_normalize_ref(target, &key, err) < 0)
        return -1;
    if (strchr(key, '@'))
        return berr_set(err, BERR_USAGE, "refusing to create a tag with a digest reference");
    if (image_check_tag_name(key, err) < 0)
        return -1;
    _cleanup_close_ int lockfd = -1;
    if (image_store_lock(store, &lockfd, err) < 0)
        return -1;
    char id[65];
    if (image_resolve_id(store, source, id, err) < 0) {
        if (err->kind == BERR_NOT_FOUND)
            berr_set(err, BERR_NOT_FOUND, "No such image: %s", source);
        return -1;
    }
    struct refmap refs;
    int rc = image_refs_load(store, &refs, err);
    if (rc == 0) {
        image_refs_set(&refs, key, id);
        rc = image_refs_save(store, &refs, err);
        image_refs_free(&refs);
    }
    return rc;
}

static const struct image_user *user_of(const char *id, bool running,
                                        const struct image_user *users, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(users[i].image, id) == 0 && (!running || users[i].running))
            return &users[i];
    }
    return NULL;
}

/* The diff-ids every config in blobs/ lists; blobs that are not configs (manifests, damaged
 * or oversized files) list nothing, but a blob that cannot be read fails the collection: a
 * layer of an image whose config could not be read is not garbage. */
static int needed_layers(struct image_store *store, struct strv *out, struct berr *err)
{
    _cleanup_closedir_ DIR *d = image_store_opendir(store, "blobs/sha256", err);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_hex64(de->d_name))
            continue;
        _cleanup_free_ char *text = NULL;
        struct berr ignored;
        yajl_val doc = NULL;
        if (image_blob_read(store, de->d_name, &text, NULL, err) < 0) {
            if (err->errnum && err->errnum != ENOENT)
                return -1;
            continue;
        }
        if (json_parse(text, &doc, &ignored) < 0)
            continue;
        struct strv ids = {0};
        image_config_diff_ids(doc, &ids, &ignored);
        for (size_t i = 0; i < ids.n; i++) {
            if (!strv_contains(out, ids.v[i]))
                strv_push(out, ids.v[i]);
        }
        strv_free(&ids);
        yajl_tree_free(doc);
    }
    return 0;
}

/* Remove every layer no config lists (and stray .size files). */
static int collect_layers(struct image_store *store, struct strv *messages, const char *prefix,
                          unsigned long long *reclaimed, struct berr *err)
{
    _cleanup_strv_ struct strv needed = {0};
    if (needed_layers(store, &needed, err) < 0)
        return -1;
    _cleanup_closedir_ DIR *d = image_store_opendir(store, "layers", err);
    if (!d)
        return -1;
    _cleanup_strv_ struct strv doomed = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        char hex[65];
        snprintf(hex, sizeof(hex), "%.64s", de->d_name);
        bool layer = is_hex64(de->d_name);
        bool size_file = !layer && is_hex64(hex) && !strcmp(de->d_name + 64, ".size");
        if ((layer || size_file) && !strv_contains(&needed, hex) && !strv_contains(&doomed, hex))
            strv_push(&doomed, hex);
    }
    for (size_t i = 0; i < doomed.n; i++) {
        unsigned long long size = 0;
        struct berr ignored;
        if (image_layer_size(store, doomed.v[i], &size, &ignored) == 0 && reclaimed)
            *reclaimed += size;
        char name[80];
        snprintf(name, sizeof(name), "%s.size", doomed.v[i]);
        /* the directory first: a layer without its .size is still whole, the reverse not */
        if (remove_tree_at(dirfd(d), doomed.v[i], err) < 0 && err->errnum != ENOENT)
            return berr_wrap(err, "remove layer %.12s", doomed.v[i]);
        unlinkat(dirfd(d), name, 0);
        strv_push_owned(messages, xasprintf("%s: sha256:%s", prefix, doomed.v[i]));
    }
    return 0;
}

static int delete_config(struct image_store *store, const char *id, struct berr *err)
{
    _cleanup_close_ int bfd = image_store_dir(store, "blobs/sha256", O_PATH, err);
    if (bfd < 0)
        return -1;
    if (unlinkat(bfd, id, 0) < 0 && errno != ENOENT)
        return berr_errno(err, "remove config sha256:%.12s", id);
    return 0;
}

static int conflict(struct berr *err, const char *id, bool hard, const char *fmt, const char *arg)
{
    char why[256];
    snprintf(why, sizeof(why), fmt, arg);
    return berr_set(err, BERR_CONFLICT, "conflict: unable to delete %.12s (%s) - %s", id,
                    hard ? "cannot be forced" : "must be forced", why);
}

/* forget gets the id when the image loses its last tag or its config: docker drops a
 * repository's digest references with its last tag, even when a running container keeps the
 * image itself. doomed gets it when its config is to go, which the caller does once refs.json
 * no longer names it. */
static int remove_locked(struct image_store *store, const char *ref, bool force,
                         const struct image_user *users, size_t nusers, struct refmap *refs,
                         struct strv *messages, struct strv *forget, struct strv *doomed,
                         struct berr *err)
{
    char id[65];
    if (image_resolve_id(store, ref, id, err) < 0) {
        if (err->kind == BERR_NOT_FOUND)
            berr_set(err, BERR_NOT_FOUND, "No such image: %s", ref);
        return -1;
    }
    _cleanup_strv_ struct strv tags = {0};
    for (size_t i = 0; i < refs->keys.n; i++) {
        if (strcmp(refs->ids.v[i], id) == 0)
            strv_push(&tags, refs->keys.v[i]);
    }
    _cleanup_free_ char *key = NULL;
    struct berr ignored;
    bool by_name = image_normalize_ref(ref, &key, &ignored) == 0 && strv_contains(&tags, key);
    const struct image_user *running = user_of(id, true, users, nusers);
    const struct image_user *any = user_of(id, false, users, nusers);
    if (by_name) {
        if (!force && tags.n == 1 && any)
            return berr_set(err, BERR_CONFLICT,
                            "conflict: unable to remove repository reference \"%s\" (must "
                            "force) - container %.12s is using its referenced image %.12s",
                            ref, any->container, id);
        image_refs_set(refs, key, ""); /* dropped on save */
        strv_push_owned(messages, xasprintf("Untagged: %s", key));
        if (tags.n == 1)
            strv_push(forget, id);
        if (tags.n > 1 || running)
            return 0; /* still tagged, or kept (untagged) for its running container */
    } else {
        if (running)
            return conflict(err, id, true, "image is being used by running container %.12s",
                            running->container);
        if (!force && tags.n > 1)
            return conflict(err, id, false, "image is referenced in multiple repositories%s", "");
        if (!force && any)
            return conflict(err, id, false, "image is being used by stopped container %.12s",
                            any->container);
        for (size_t i = 0; i < tags.n; i++) {
            image_refs_set(refs, tags.v[i], "");
            strv_push_owned(messages, xasprintf("Untagged: %s", tags.v[i]));
        }
        strv_push(forget, id);
    }
    strv_push(doomed, id);
    return 0;
}

/* The configs of doomed, once refs.json no longer names them: a config without a ref is an
 * untagged image, a ref without a config is broken. "<verb>: sha256:<id>" for each. */
static int delete_configs(struct image_store *store, const struct strv *doomed, const char *verb,
                          struct strv *messages, struct berr *err)
{
    for (size_t i = 0; i < doomed->n; i++) {
        if (delete_config(store, doomed->v[i], err) < 0)
            return -1;
        strv_push_owned(messages, xasprintf("%s: sha256:%s", verb, doomed->v[i]));
    }
    return 0;
}

/* refs.json without the entries set to "" */
static int save_refs(struct image_store *store, struct refmap *refs, struct berr *err)
{
    struct refmap kept = {0};
    for (size_t i = 0; i < refs->keys.n; i++) {
        if (refs->ids.v[i][0])
            image_refs_set(&kept, refs->keys.v[i], refs->ids.v[i]);
    }
    int rc = image_refs_save(store, &kept, err);
    image_refs_free(&kept);
    return rc;
}

int image_remove(struct image_store *store, const char *ref, bool force,
                 const struct image_user *users, size_t nusers, struct strv *messages,
                 struct berr *err)
{
    _cleanup_close_ int lockfd = -1;
    if (image_store_lock(store, &lockfd, err) < 0)
        return -1;
    struct refmap refs;
    if (image_refs_load(store, &refs, err) < 0)
        return -1;
    _cleanup_strv_ struct strv out = {0}, forget = {0}, doomed = {0};
    int rc = remove_locked(store, ref, force, users, nusers, &refs, &out, &forget, &doomed, err);
    /* refs first, then the config: a config without a ref is an untagged image, a ref without
     * a config is not. digests.json after them, as load writes it before them: a crash in
     * between leaves a stale entry, never a tagged image without its digest; the entry of a
     * deleted config is swept by the next removal. */
    if (rc == 0)
        rc = save_refs(store, &refs, err);
    image_refs_free(&refs);
    if (rc == 0)
        rc = delete_configs(store, &doomed, "Deleted", &out, err);
    if (rc == 0)
        rc = image_digests_forget(store, &forget, err);
    if (rc == 0 && doomed.n)
        rc = collect_layers(store, &out, "Deleted", NULL, err);
    for (size_t i = 0; i < out.n; i++)
        strv_push(messages, out.v[i]);
    return rc;
}

int image_prune(struct image_store *store, bool all, const struct image_user *users, size_t nusers,
                struct strv *messages, unsigned long long *reclaimed, struct berr *err)
{
    *reclaimed = 0;
    _cleanup_close_ int lockfd = -1;
    if (image_store_lock(store, &lockfd, err) < 0)
        return -1;
    struct refmap refs;
    if (image_refs_load(store, &refs, err) < 0)
        return -1;
    _cleanup_closedir_ DIR *d = image_store_opendir(store, "blobs/sha256", err);
    if (!d) {
        image_refs_free(&refs);
        return -1;
    }
    int rc = 0;
    _cleanup_strv_ struct strv deleted = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_hex64(de->d_name) || user_of(de->d_name, false, users, nusers))
            continue;
        bool tagged = strv_contains(&refs.ids, de->d_name);
        if (tagged && !all)
            continue;
        for (size_t i = 0; i < refs.keys.n; i++) {
            if (strcmp(refs.ids.v[i], de->d_name) == 0) {
                strv_push_owned(messages, xasprintf("untagged: %s", refs.keys.v[i]));
                refs.ids.v[i][0] = '\0';
            }
        }
        strv_push(&deleted, de->d_name);
    }
    /* refs first, then the configs, as rmi */
    if (rc == 0)
        rc = save_refs(store, &refs, err);
    image_refs_free(&refs);
    if (rc == 0)
        rc = delete_configs(store, &deleted, "deleted", messages, err);
    if (rc == 0)
        rc = image_digests_forget(store, &deleted, err);
    if (rc == 0)
        rc = collect_layers(store, messages, "deleted", reclaimed, err);
    return rc;
}
