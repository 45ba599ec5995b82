/* The store's directories, the writers' lock, content-addressed blobs, refs.json and the
 * cached sizes of layers. */
#include "image/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define REFS_FILE "refs.json"
#define DIGESTS_FILE "digests.json"
#define REFS_MAX (64u << 20)
#define BLOB_MAX (16u << 20)

/* Layers keep their images' setuid files, device nodes and file capabilities, which only a
 * container may use: the overlay reaches its lower dirs with the mounter's credentials, so no
 * other host user needs a way in. A store an older berth left 0711 is closed at its root,
 * which covers everything beneath. */
static int restrict_to_owner(int rootfd, const char *root, struct berr *err)
{
    struct stat st;
    if (fstat(rootfd, &st) < 0)
        return berr_errno(err, "stat %s", root);
    if ((st.st_mode & 077) == 0 || geteuid() != 0)
        return 0;
    _cleanup_close_ int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fchmod(fd, st.st_mode & 0700) < 0)
        return berr_errno(err, "make %s accessible to its owner only", root);
    return 0;
}

int image_store_open(const char *root, struct image_store *store, struct berr *err)
{
    *store = (struct image_store){.rootfd = -1};
    static const struct store_dir layout[] = {{"blobs", 0700},  {"blobs/sha256", 0700},
                                              {"layers", 0700}, {"tmp", 0700},
                                              {"pull", 0700},   {NULL, 0}};
    _cleanup_close_ int fd = open_store_root(root, 0700, layout, err);
    if (fd < 0 || restrict_to_owner(fd, root, err) < 0)
        return berr_wrap(err, "image store");
    /* overlay's lowerdir= needs the layers' absolute path */
    _cleanup_free_ char *abs = realpath(root, NULL);
    if (!abs)
        return berr_errno(err, "image store %s", root);
    store->rootfd = steal_fd(&fd);
    store->root = steal_ptr(&abs);
    return 0;
}

void image_store_close(struct image_store *store)
{
    if (store->rootfd >= 0)
        close(store->rootfd);
    free(store->root);
    *store = (struct image_store){.rootfd = -1};
}

int image_store_dir(const struct image_store *store, const char *name, int flags, struct berr *err)
{
    int fd = openat(store->rootfd, name, flags | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return berr_errno(err, "open %s/%s", store->root, name);
    return fd;
}

bool image_has_layer(const struct image_store *store, const char *diff_hex)
{
    struct stat st;
    _cleanup_free_ char *path = xasprintf("layers/%s", diff_hex);
    return is_hex64(diff_hex) && fstatat(store->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode);
}

int image_store_pull_dir(const struct image_store *store, struct berr *err)
{
    return image_store_dir(store, "pull", O_PATH, err);
}

DIR *image_store_opendir(const struct image_store *store, const char *name, struct berr *err)
{
    int fd = image_store_dir(store, name, O_RDONLY, err);
    return fd < 0 ? NULL : dir_from_fd(fd, name, err);
}

static int clean_tmp(const struct image_store *store, struct berr *err)
{
    _cleanup_closedir_ DIR *d = image_store_opendir(store, "tmp", err);
    if (!d)
        return berr_wrap(err, "%s", store->root);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            rc = remove_tree_at(dirfd(d), de->d_name, err);
    }
    return rc < 0 ? berr_wrap(err, "clean %s/tmp", store->root) : 0;
}

int image_store_lock(struct image_store *store, int *lockfd, struct berr *err)
{
    _cleanup_close_ int fd =
        openat(store->rootfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return berr_errno(err, "open %s/lock", store->root);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR)
            return berr_errno(err, "lock %s/lock", store->root);
    }
    /* Holding the lock, anything in tmp/ belongs to a writer that died. */
    if (clean_tmp(store, err) < 0)
        return -1;
    *lockfd = steal_fd(&fd);
    return 0;
}

int image_blob_read(const struct image_store *store, const char *hex, char **text, size_t *len,
                    struct berr *err)
{
    _cleanup_close_ int dfd = image_store_dir(store, "blobs/sha256", O_PATH, err);
    if (dfd < 0)
        return -1;
    _cleanup_free_ char *buf = NULL;
    size_t n = 0;
    if (read_file_at(dfd, hex, BLOB_MAX, &buf, &n, err) < 0)
        return berr_wrap(err, "blob sha256:%.12s", hex);
    char got[65];
    sha256_hex(buf, n, got);
    if (strcmp(got, hex) != 0)
        return berr_set(err, BERR_FAILED, "blob sha256:%s is corrupt: its content hashes to %s",
                        hex, got);
    *text = steal_ptr(&buf);
    if (len)
        *len = n;
    return 0;
}

int image_blob_write(const struct image_store *store, const char *hex, const char *text, size_t len,
                     bool *created, struct berr *err)
{
    _cleanup_close_ int dfd = image_store_dir(store, "blobs/sha256", O_PATH, err);
    if (dfd < 0)
        return -1;
    struct stat st;
    *created = false;
    if (fstatat(dfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        (size_t)st.st_size == len)
        return 0;
    if (write_file_atomic_at(dfd, hex, text, len, 0644, err) < 0)
        return berr_wrap(err, "blob sha256:%.12s", hex);
    *created = true;
    return 0;
}

static int map_load(const struct image_store *store, const char *file, struct refmap *m,
                    struct berr *err)
{
    *m = (struct refmap){0};
    _cleanup_free_ char *text = NULL;
    if (read_file_at(store->rootfd, file, REFS_MAX, &text, NULL, err) < 0)
        return err->errnum == ENOENT ? 0 : berr_wrap(err, "%s", store->root);
    yajl_val doc = NULL;
    if (json_parse(text, &doc, err) < 0)
        return berr_wrap(err, "%s/%s", store->root, file);
    if (!YAJL_IS_OBJECT(doc)) {
        yajl_tree_free(doc);
        return berr_set(err, BERR_FAILED, "%s/%s: not a JSON object", store->root, file);
    }
    for (size_t i = 0; i < doc->u.object.len; i++) {
        yajl_val v = doc->u.object.values[i];
        /* The id becomes a file name: anything but 64 hex would be a path. */
        if (!YAJL_IS_STRING(v) || !is_hex64(v->u.string)) {
            const char *key = doc->u.object.keys[i];
            yajl_tree_free(doc);
            image_refs_free(m);
            return berr_set(err, BERR_FAILED, "%s/%s: %s: not an image id", store->root, file, key);
        }
        strv_push(&m->keys, doc->u.object.keys[i]);
        strv_push(&m->ids, v->u.string);
    }
    yajl_tree_free(doc);
    return 0;
}

static int map_save(const struct image_store *store, const char *file, const struct refmap *m,
                    struct berr *err)
{
    yajl_gen g = json_gen_new(true);
    yajl_gen_map_open(g);
    for (size_t i = 0; i < m->keys.n; i++)
        json_key_str(g, m->keys.v[i], m->ids.v[i]);
    yajl_gen_map_close(g);
    int rc = json_gen_write_at(g, store->rootfd, file, err);
    return rc < 0 ? berr_wrap(err, "%s", store->root) : 0;
}

int image_refs_load(const struct image_store *store, struct refmap *m, struct berr *err)
{
    return map_load(store, REFS_FILE, m, err);
}

int image_refs_save(const struct image_store *store, const struct refmap *m, struct berr *err)
{
    return map_save(store, REFS_FILE, m, err);
}

int image_digests_load(const struct image_store *store, struct refmap *m, struct berr *err)
{
    return map_load(store, DIGESTS_FILE, m, err);
}

int image_digests_save(const struct image_store *store, const struct refmap *m, struct berr *err)
{
    return map_save(store, DIGESTS_FILE, m, err);
}

int image_digests_forget(const struct image_store *store, const struct strv *ids, struct berr *err)
{
    struct refmap m;
    if (image_digests_load(store, &m, err) < 0)
        return -1;
    _cleanup_close_ int bfd = image_store_dir(store, "blobs/sha256", O_PATH, err);
    if (bfd < 0) {
        image_refs_free(&m);
        return -1;
    }
    struct refmap kept = {0};
    for (size_t i = 0; i < m.keys.n; i++) {
        struct stat st;
        /* a config gone without its entry: a crash between a removal's steps, or a load that
         * failed after recording its digests */
        bool orphan = fstatat(bfd, m.keys.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
        if (!orphan && !strv_contains(ids, m.keys.v[i]))
            image_refs_set(&kept, m.keys.v[i], m.ids.v[i]);
    }
    /* the common case (images never loaded from an OCI layout) writes nothing */
    int rc = kept.keys.n == m.keys.n ? 0 : image_digests_save(store, &kept, err);
    image_refs_free(&kept);
    image_refs_free(&m);
    return rc;
}

const char *image_refs_get(const struct refmap *m, const char *key)
{
    for (size_t i = 0; i < m->keys.n; i++) {
        if (strcmp(m->keys.v[i], key) == 0)
            return m->ids.v[i];
    }
    return NULL;
}

void image_refs_set(struct refmap *m, const char *key, const char *id)
{
    for (size_t i = 0; i < m->keys.n; i++) {
        if (strcmp(m->keys.v[i], key) == 0) {
            free(m->ids.v[i]);
            m->ids.v[i] = xstrdup(id);
            return;
        }
    }
    strv_push(&m->keys, key);
    strv_push(&m->ids, id);
}

void image_refs_free(struct refmap *m)
{
    strv_free(&m->keys);
    strv_free(&m->ids);
}

int image_lookup_ref(const struct image_store *store, const char *key, char id[65],
                     struct berr *err)
{
    struct refmap refs;
    if (image_refs_load(store, &refs, err) < 0)
        return -1;
    const char *v = image_refs_get(&refs, key);
    if (v)
        memcpy(id, v, 65);
    image_refs_free(&refs);
    return v ? 1 : 0;
}

static int count_tree(int dfd, unsigned long long *size, int depth, struct berr *err)
{
    if (depth > 4096)
        return berr_set(err, BERR_FAILED, "directory tree too deep");
    _cleanup_closedir_ DIR *d = dir_dup(dfd, "layer directory", err);
    if (!d)
        return -1;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = berr_errno(err, "stat %s", de->d_name);
        } else if (S_ISREG(st.st_mode)) {
            *size += (unsigned long long)st.st_size;
        } else if (S_ISDIR(st.st_mode)) {
            _cleanup_close_ int sub =
                openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                rc = berr_errno(err, "open %s", de->d_name);
            else
                rc = count_tree(sub, size, depth + 1, err);
        }
    }
    return rc;
}

int image_layer_size(const struct image_store *store, const char *hex, unsigned long long *size,
                     struct berr *err)
{
    _cleanup_close_ int lfd = image_store_dir(store, "layers", O_PATH, err);
    if (lfd < 0)
        return -1;
    char name[80];
    snprintf(name, sizeof(name), "%s.size", hex);
    _cleanup_free_ char *text = NULL;
    struct berr ignored;
    long long v;
    if (read_file_at(lfd, name, 64, &text, NULL, &ignored) == 0) {
        text[strcspn(text, "\n")] = '\0';
        if (parse_long(text, 0, LLONG_MAX, &v) == 0) {
            *size = (unsigned long long)v;
            return 0;
        }
    }
    _cleanup_close_ int dfd = openat(lfd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(err, "layer %.12s", hex);
    *size = 0;
    if (count_tree(dfd, size, 0, err) < 0)
        return berr_wrap(err, "layer %.12s", hex);
    return 0;
}
