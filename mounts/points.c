/* The mount points layer. Each mount point a container needs and its image lacks (docker's
 * /proc, /dev and /sys, the binds' destinations, the /etc files, the working directory) was
 * made in the overlay: a mkdir in the upper layer and a copy-up of every directory above it,
 * on whatever file system holds the state root (~1 ms for Storm's binds on ext4, 0.5 ms on a
 * tmpfs). They are made instead in a small tmpfs that the overlay lays on the image's layers
 * as its top lower layer, and a read-only root then needs no upper layer at all.
 *
 * The merged view must not change: a directory of the image on the way to a new mount point is
 * made in the tmpfs with the image's owner, mode and times (overlayfs shows the topmost
 * layer's), and the walk gives up, leaving every mount point to the upper layer as before, at
 * anything it cannot show exactly so: a non-directory above a destination, an extended
 * attribute beyond overlayfs's own on a directory it would copy, links it cannot follow.
 *
 * A destination that meets a link of the image is walked again where the link leads, as the
 * mount code will resolve it in the merged root (Debian's /var/run is a link to /run, and Storm
 * binds /var/run/nscd): that path is made, the links are left as they are. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define MAX_DEPTH 64

enum point_kind { POINT_DIR, POINT_FILE };

struct point {
    char *dest; /* absolute, clean */
    enum point_kind kind;
    bool or_at; /* made unless it lies under another mount, or at one too (in_root) */
};

/* Where the walk stands: the directory reached after depth components, the way there, and
 * each level as the image has it (merged, its stat) and in the points layer (made or not).
 * The destinations come sorted, so each one resumes where it parts from the one before. */
struct walker {
    const struct strv *layers;
    size_t depth;
    char *name[MAX_DEPTH];                  /* component i leads from level i to level i+1 */
    struct stat st[MAX_DEPTH];              /* the image's directory at level i+1 */
    struct merged_dir image[MAX_DEPTH + 1]; /* .fd NULL: a level the image lacks */
    int made[MAX_DEPTH + 1];                /* the level in the points layer; -1: not made yet */
    bool complete;
    bool resolved; /* the destinations hold no links the image has */
    bool linked;   /* the destination walked last met a link */
};

/* Whether a layer's directory carries attributes other than overlayfs's own, which the merged
 * view never shows (a copy would lose them). */
static int foreign_xattrs(int fd, bool *foreign, struct berr *err)
{
    char list[4096];
    ssize_t n = flistxattr(fd, list, sizeof(list));
    if (n < 0 && errno != ERANGE)
        return berr_errno(err, "mount points: a layer's attributes");
    *foreign = n < 0;
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
        *foreign |= strncmp(list + i, OVERLAY_XATTR_PREFIX, strlen(OVERLAY_XATTR_PREFIX)) != 0;
    return 0;
}

/* fd takes st's owner, mode and times. */
static int copy_attributes(int fd, const struct stat *st, const char *what, struct berr *err)
{
    const struct timespec times[2] = {st->st_atim, st->st_mtim};
    if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 ||
        futimens(fd, times) < 0)
        return berr_errno(err, "mount points: attributes of %s", what);
    return 0;
}

/* at/name, a directory: made (with st's attributes when st is given) unless a destination
 * before made it. */
static int dir_in_points(int at, const char *name, const struct stat *st, struct berr *err)
{
    bool made = mkdirat(at, name, st ? 0700 : 0755) == 0;
    if (!made && errno != EEXIST)
        return berr_errno(err, "mount points: mkdir %s", name);
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "mount points: open %s", name);
    if (made && st && copy_attributes(fd, st, name, err) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void walker_pop(struct walker *w)
{
    size_t d = w->depth;
    merged_close(&w->image[d]);
    if (w->made[d] >= 0)
        close(w->made[d]);
    free(w->name[d - 1]);
    w->depth--;
}

/* On failure too, a walker that walker_end takes. */
static int walker_start(struct walker *w, const struct strv *layers, int points, struct berr *err)
{
    *w = (struct walker){.layers = layers, .complete = true};
    for (size_t i = 0; i <= MAX_DEPTH; i++)
        w->made[i] = -1;
    w->made[0] = dup(points);
    if (w->made[0] < 0)
        return berr_errno(err, "mount points");
    return merged_root(layers, &w->image[0], err);
}

static void walker_end(struct walker *w)
{
    while (w->depth > 0)
        walker_pop(w);
    merged_close(&w->image[0]);
    if (w->made[0] >= 0)
        close(w->made[0]);
}

/* The current level made in the points layer, with every image directory above it. */
static int made_here(struct walker *w, struct berr *err)
{
    size_t from = w->depth;
    while (w->made[from] < 0)
        from--;
    for (size_t i = from; i < w->depth; i++) {
        w->made[i + 1] =
            dir_in_points(w->made[i], w->name[i], w->image[i + 1].fd ? &w->st[i] : NULL, err);
        if (w->made[i + 1] < 0)
            return -1;
    }
    return w->made[w->depth];
}

/* One level down to name, as the image has it (image NULL: it lacks it), not made yet. */
static void enter(struct walker *w, const char *name, const struct merged_dir *image,
                  const struct stat *st)
{
    size_t d = w->depth++; /* walk_point takes no more than MAX_DEPTH components */
    w->name[d] = xstrdup(name);
    w->image[d + 1] = image ? *image : (struct merged_dir){0};
    if (st)
        w->st[d] = *st;
    w->made[d + 1] = -1;
}

/* The same, and a new directory made at once. */
static int descend(struct walker *w, const char *name, const struct merged_dir *image,
                   const struct stat *st, struct berr *err)
{
    enter(w, name, image, st);
    if (!image && made_here(w, err) < 0)
        return -1;
    return 0;
}

/* name at the current level: the last component of a destination the image lacks. */
static int make_last(struct walker *w, const char *name, enum point_kind kind, struct berr *err)
{
    int at = made_here(w, err);
    if (at < 0)
        return -1;
    if (kind == POINT_DIR) {
        /* opened only if a later destination goes on below it (made_here, EEXIST) */
        if (mkdirat(at, name, 0755) < 0 && errno != EEXIST)
            return berr_errno(err, "mount points: mkdir %s", name);
        enter(w, name, NULL, NULL);
        return 0;
    }
    int f = openat(at, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0)
        return berr_errno(err, "mount points: create %s", name);
    close(f);
    return 0;
}

/* One component of a destination from the current level; *stop when the walk of this
 * destination is over. */
static int step(struct walker *w, const char *name, bool last, enum point_kind kind, bool *stop,
                struct berr *err)
{
    const struct merged_dir *here = &w->image[w->depth];
    if (!here->fd) /* below a directory the image lacks: all new */
        return last ? make_last(w, name, kind, err) : descend(w, name, NULL, NULL, err);
    struct stat st;
    ssize_t top = merged_top_entry(here, name, &st);
    if (top < 0 && errno != ENOENT)
        return berr_errno(err, "mount points: look up %s", name);
    if (top < 0)
        return last ? make_last(w, name, kind, err) : descend(w, name, NULL, NULL, err);
    /* a link: the destination is walked again where it leads; a file: the mount code says */
    if (S_ISLNK(st.st_mode) && !w->resolved) {
        w->linked = true;
        *stop = true;
        return 0;
    }
    if (S_ISLNK(st.st_mode) || (!last && !S_ISDIR(st.st_mode))) {
        w->complete = false;
        return 0;
    }
    *stop = last; /* the image has the mount point: the mount code checks its type */
    if (last)
        return 0;
    struct merged_dir child;
    if (merged_child(here, (size_t)top, name, &child, err) < 0)
        return -1;
    bool foreign = true;
    if (foreign_xattrs(child.fd[top], &foreign, err) < 0) {
        merged_close(&child);
        return -1;
    }
    if (foreign) {
        merged_close(&child);
        w->complete = false;
        return 0;
    }
    return descend(w, name, &child, &st, err);
}

static int walk_point(struct walker *w, const struct point *pt, struct berr *err)
{
    w->linked = false;
    _cleanup_free_ char *path = xstrdup(pt->dest);
    char *comps[MAX_DEPTH + 1];
    size_t n = 0;
    char *save = NULL;
    for (char *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (n == MAX_DEPTH) {
            w->complete = false;
            return 0;
        }
        comps[n++] = c;
    }
    size_t common = 0;
    while (common < n && common < w->depth && !strcmp(comps[common], w->name[common]))
        common++;
    while (w->depth > common)
        walker_pop(w);
    bool stop = false;
    for (size_t i = common; i < n && w->complete && !stop; i++) {
        size_t before = w->depth;
        if (step(w, comps[i], i + 1 == n, pt->kind, &stop, err) < 0)
            return -1;
        stop |= w->depth == before; /* nothing to go down into */
    }
    return 0;
}

/* Component by component, so that a destination follows those it shares a start with. */
static int point_cmp(const void *a, const void *b)
{
    const unsigned char *x = (const void *)((const struct point *)a)->dest;
    const unsigned char *y = (const void *)((const struct point *)b)->dest;
    for (; *x && *x == *y; x++, y++)
        ;
    return (*x == '/' ? 1 : *x) - (*y == '/' ? 1 : *y);
}

/* dest lies at or under base (clean absolute paths). */
static bool is_under(const char *dest, const char *base, bool or_at)
{
    size_t n = strlen(base);
    return !strncmp(dest, base, n) && (dest[n] == '/' || (or_at && dest[n] == '\0'));
}

/* Made in the root itself, not inside another mount: under a bind (its host directory) or a
 * kernel file system of docker's defaults that no bind replaces, a mount point is found or
 * made there when it is mounted. */
static bool in_root(const struct mounts_spec *spec, const char *dest, bool or_at)
{
    for (size_t i = 0; i < spec->nbinds; i++) {
        if (is_under(dest, spec->binds[i].dest, or_at))
            return false;
    }
    size_t n;
    const struct mounts_fs *fs = mounts_kernel_fs(spec, &n);
    for (size_t i = 0; i < n; i++) {
        if (!mounts_bound_at(spec, fs[i].dest) && is_under(dest, fs[i].dest, or_at))
            return false;
    }
    return true;
}

static void add(struct point **v, size_t *n, const char *dest, enum point_kind kind, bool or_at)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = (struct point){.dest = path_clean(dest), .kind = kind, .or_at = or_at};
}

/* docker's defaults, the binds, the /etc files and the working directory, where they lie in
 * the root itself; *complete false when a source cannot say what it is. */
static void points_of(const struct mounts_spec *spec, struct point **v, size_t *n, bool *complete)
{
    size_t nfs;
    const struct mounts_fs *fs = mounts_kernel_fs(spec, &nfs);
    for (size_t i = 0; i < nfs; i++) {
        if (!mounts_bound_at(spec, fs[i].dest) && in_root(spec, fs[i].dest, false))
            add(v, n, fs[i].dest, POINT_DIR, false);
    }
    for (size_t i = 0; i < spec->nbinds; i++) {
        const struct mount_bind *b = &spec->binds[i];
        struct stat st;
        if (stat(b->source, &st) < 0)
            *complete = false; /* the bind itself will say why */
        else if (in_root(spec, b->dest, false))
            add(v, n, b->dest, S_ISDIR(st.st_mode) ? POINT_DIR : POINT_FILE, false);
    }
    for (size_t i = 0; spec->etc_path && i < mounts_netc_files; i++) {
        char dest[64];
        snprintf(dest, sizeof(dest), "/etc/%s", mounts_etc_files[i]);
        if (in_root(spec, dest, true))
            add(v, n, dest, POINT_FILE, true);
    }
    if (spec->workdir && in_root(spec, spec->workdir, true))
        add(v, n, spec->workdir, POINT_DIR, true);
}

/* The destinations that met a link, where the image's links lead (the mount code resolves them
 * so in the merged root); those that then lie under another mount are made there by the mount
 * code. false when a way cannot be followed (a loop, a file on it) or a destination meets one
 * of the others as a file against a directory: the mount code says what is wrong. */
static bool resolve_points(const struct mounts_spec *spec, const struct point *walked,
                           size_t nwalked, struct point *v, size_t *n)
{
    size_t kept = 0;
    bool ok = true;
    for (size_t i = 0; i < *n; i++) {
        struct berr lerr = {0};
        char *where = ok ? mounts_resolve_in_layers(spec->layers, v[i].dest, &lerr) : NULL;
        if (ok && !where)
            debugf("mount points: %s: %s", v[i].dest, lerr.msg);
        ok = ok && where;
        free(v[i].dest);
        if (where && in_root(spec, where, v[i].or_at)) {
            v[kept] = v[i];
            v[kept++].dest = where;
        } else {
            free(where);
        }
    }
    *n = kept;
    qsort(v, *n, sizeof(*v), point_cmp);
    for (size_t i = 0; ok && i < *n; i++) {
        for (size_t j = 0; ok && j < nwalked; j++)
            ok = strcmp(v[i].dest, walked[j].dest) || v[i].kind == walked[j].kind;
        ok = ok && (i == 0 || strcmp(v[i - 1].dest, v[i].dest) || v[i - 1].kind == v[i].kind);
    }
    return ok;
}

/* Every destination walked from the root; *later gets those that met a link. */
static int walk_points(const struct mounts_spec *spec, int points, const struct point *v, size_t n,
                       bool resolved, struct point **later, size_t *nlater, bool *complete,
                       struct berr *err)
{
    struct walker w;
    int rc = walker_start(&w, spec->layers, points, err);
    w.resolved = resolved;
    for (size_t i = 0; rc == 0 && w.complete && i < n; i++) {
        rc = walk_point(&w, &v[i], err);
        if (rc == 0 && w.linked)
            add(later, nlater, v[i].dest, v[i].kind, v[i].or_at);
    }
    *complete = w.complete;
    walker_end(&w);
    return rc;
}

static void points_free(struct point *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].dest);
    free(v);
}

int mounts_fill_points(const struct mounts_spec *spec, int points, bool *complete, struct berr *err)
{
    struct point *v = NULL, *later = NULL;
    size_t n = 0, nlater = 0;
    *complete = true;
    points_of(spec, &v, &n, complete);
    qsort(v, n, sizeof(*v), point_cmp);
    int rc = 0;
    if (*complete)
        rc = walk_points(spec, points, v, n, false, &later, &nlater, complete, err);
    if (rc == 0 && *complete && nlater > 0) {
        *complete = resolve_points(spec, v, n, later, &nlater);
        if (*complete)
            rc = walk_points(spec, points, later, nlater, true, NULL, NULL, complete, err);
    }
    points_free(v, n);
    points_free(later, nlater);
    return rc;
}
