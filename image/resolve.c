/* Finding images: by reference through refs.json, or by (a prefix of) their id (building the
 * default image on first use); listing them. Readers take no lock: refs.json and layers are
 * replaced by rename. */
#include "image/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static bool is_hex_prefix(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n > 0 && n <= 64 && s[n] == '\0';
}

/* Ids of every blob whose name starts with prefix (all blobs are image configs so far). */
static int find_ids(const struct image_store *store, const char *prefix, struct strv *out,
                    struct berr *err)
{
    _cleanup_closedir_ DIR *d = image_store_opendir(store, "blobs/sha256", err);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (is_hex64(de->d_name) && str_has_prefix(de->d_name, prefix))
            strv_push(out, de->d_name);
    }
    return 0;
}

static int not_found(struct berr *err, const char *ref)
{
    return berr_set(err, BERR_NOT_FOUND, "Unable to find image '%s' locally", ref);
}

static int id_by_prefix(const struct image_store *store, const char *ref, const char *prefix,
                        char id[65], struct berr *err)
{
    _cleanup_strv_ struct strv ids = {0};
    if (find_ids(store, prefix, &ids, err) < 0)
        return -1;
    if (ids.n == 0)
        return not_found(err, ref);
    if (ids.n > 1)
        return berr_set(err, BERR_FAILED, "image id prefix %s is ambiguous: %zu images match",
                        prefix, ids.n);
    memcpy(id, ids.v[0], 65);
    return 0;
}

/* The id ref names; *key (NULL for an id) the normalised name it was found by. */
static int resolve_id(struct image_store *store, const char *ref, bool build_default, char id[65],
                      char **key, struct berr *err)
{
    *key = NULL;
    if (str_has_prefix(ref, "sha256:")) {
        if (!is_hex_prefix(ref + 7))
            return berr_set(err, BERR_USAGE, "invalid reference format");
        return id_by_prefix(store, ref, ref + 7, id, err);
    }
    if (is_hex64(ref))
        return id_by_prefix(store, ref, ref, id, err);
    if (image_normalize_ref(ref, key, err) < 0)
        return -1;
    int found = image_lookup_ref(store, *key, id, err);
    if (found == 0 && build_default && strcmp(*key, IMAGE_DEFAULT_REF) == 0) {
        if (image_ensure_default(store, err) < 0)
            return -1;
        found = image_lookup_ref(store, *key, id, err);
    }
    if (found < 0)
        return -1;
    if (found == 0) {
        free(*key);
        *key = NULL;
        /* as docker: a name that is not a tag may still be the start of an image id */
        if (is_hex_prefix(ref))
            return id_by_prefix(store, ref, ref, id, err);
        return not_found(err, ref);
    }
    return 0;
}

int image_resolve(struct image_store *store, const char *ref, struct image *out, struct berr *err)
{
    *out = (struct image){0};
    char id[65];
    _cleanup_free_ char *key = NULL;
    if (resolve_id(store, ref, true, id, &key, err) < 0)
        return -1;
    if (image_load(store, id, key ? key : ref, out, err) < 0)
        return berr_wrap(err, "image %s", ref);
    return 0;
}

int image_resolve_id(struct image_store *store, const char *ref, char id[65], struct berr *err)
{
    _cleanup_free_ char *key = NULL;
    return resolve_id(store, ref, false, id, &key, err);
}

/* "host:5000/a/b:tag" → "host:5000/a/b" + "tag"; digest references have no tag to show. */
static void split_ref(const char *ref, char **repo, char **tag)
{
    _cleanup_free_ char *name = xstrdup(ref);
    char *at = strchr(name, '@');
    if (at)
        *at = '\0';
    char *slash = strrchr(name, '/');
    char *colon = strrchr(slash ? slash : name, ':');
    if (colon)
        *colon = '\0';
    *repo = xstrdup(name);
    *tag = xstrdup(colon ? colon + 1 : "<none>");
}

static int summary_of(const struct image_store *store, const char *id, struct image_summary *row,
                      struct berr *err)
{
    yajl_val doc = NULL;
    _cleanup_strv_ struct strv diff_ids = {0};
    if (image_read_config(store, id, &doc, &diff_ids, &row->created, err) < 0)
        return -1;
    yajl_tree_free(doc);
    memcpy(row->id, id, 65);
    row->size = 0;
    for (size_t i = 0; i < diff_ids.n; i++) {
        unsigned long long n;
        if (image_layer_size(store, diff_ids.v[i], &n, err) < 0)
            return berr_wrap(err, "image %.12s", id);
        row->size += n;
    }
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    const struct image_summary *x = a, *y = b;
    if (x->created.tv_sec != y->created.tv_sec)
        return x->created.tv_sec < y->created.tv_sec ? 1 : -1;
    if (x->created.tv_nsec != y->created.tv_nsec)
        return x->created.tv_nsec < y->created.tv_nsec ? 1 : -1;
    int c = strcmp(x->repository, y->repository);
    return c ? c : strcmp(x->tag, y->tag);
}

int image_list(struct image_store *store, struct image_summary **out, size_t *n, struct berr *err)
{
    *out = NULL;
    *n = 0;
    struct refmap refs;
    if (image_refs_load(store, &refs, err) < 0)
        return -1;
    _cleanup_strv_ struct strv all = {0};
    if (find_ids(store, "", &all, err) < 0) {
        image_refs_free(&refs);
        return -1;
    }
    struct image_summary *rows = xcalloc(refs.keys.n + all.n, sizeof(*rows));
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < refs.keys.n; i++) {
        split_ref(refs.keys.v[i], &rows[count].repository, &rows[count].tag);
        count++;
        rc = summary_of(store, refs.ids.v[i], &rows[count - 1], err);
    }
    /* Configs no reference points to any more: an image re-tagged away, shown as <none>. */
    for (size_t i = 0; rc == 0 && i < all.n; i++) {
        if (strv_contains(&refs.ids, all.v[i]))
            continue;
        struct image_summary row = {0};
        struct berr ignored;
        if (summary_of(store, all.v[i], &row, &ignored) < 0)
            continue; /* not an image config, or its layers are gone */
        row.repository = xstrdup("<none>");
        row.tag = xstrdup("<none>");
        rows[count++] = row;
    }
    image_refs_free(&refs);
    if (rc < 0) {
        image_summaries_free(rows, count);
        return -1;
    }
    struct refmap digests;
    struct berr ignored;
    if (image_digests_load(store, &digests, &ignored) == 0) {
        for (size_t i = 0; i < count; i++) {
            const char *d = image_refs_get(&digests, rows[i].id);
            if (d)
                snprintf(rows[i].digest, sizeof(rows[i].digest), "sha256:%s", d);
        }
        image_refs_free(&digests);
    }
    qsort(rows, count, sizeof(*rows), newest_first);
    *out = rows;
    *n = count;
    return 0;
}

void image_summaries_free(struct image_summary *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].repository);
        free(rows[i].tag);
    }
    free(rows);
}
