/* A file of the container's root as its overlay will show it, read before the overlay exists:
 * the image's /etc/passwd and /etc/group, so that a container's user is resolved when it is
 * created, as docker's daemon does it, and its description holds numeric ids.
 *
 * The lookup follows overlayfs over berth's unpacked layers: the topmost layer holding a
 * name wins; a 0:0 character device (a whiteout) hides the name in every lower layer; a
 * directory hides lower non-directories and merges with lower directories unless it carries
 * the opaque xattr; symlinks are followed in the merged view ('..' never above the root, 40
 * links at most). Nothing is written; the per-container upper dir is empty at create.
 *
 * The same walk says where a mount point's path leads before the root is mounted
 * (mounts_resolve_in_layers, for the layer of mount points in points.c). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define MAX_LINKS 40
#define OPAQUE_XATTR "trusted.overlay.opaque"

void merged_close(struct merged_dir *d)
{
    for (size_t i = 0; d->fd && i < d->n; i++) {
        if (d->fd[i] >= 0)
            close(d->fd[i]);
    }
    free(d->fd);
    d->fd = NULL;
}

int merged_root(const struct strv *layers, struct merged_dir *d, struct berr *err)
{
    d->n = layers->n;
    d->fd = xcalloc(d->n ? d->n : 1, sizeof(int));
    for (size_t i = 0; i < d->n; i++) {
        /* layers are listed bottom first */
        const char *path = layers->v[d->n - 1 - i];
        d->fd[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->fd[i] < 0) {
            berr_errno(err, "open layer %s", path);
            for (size_t j = 0; j < i; j++)
                close(d->fd[j]);
            free(d->fd);
            d->fd = NULL;
            return -1;
        }
    }
    return 0;
}

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd)
{
    char v[2] = {0};
    return fgetxattr(dirfd, OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

ssize_t merged_top_entry(const struct merged_dir *d, const char *name, struct stat *st)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->fd[i] < 0)
            continue;
        if (fstatat(d->fd[i], name, st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return -1;
        }
        if (is_whiteout(st)) {
            errno = ENOENT;
            return -1;
        }
        return (ssize_t)i;
    }
    errno = ENOENT;
    return -1;
}

int merged_child(const struct merged_dir *d, size_t top, const char *name, struct merged_dir *out,
                 struct berr *err)
{
    out->n = d->n;
    out->fd = xcalloc(d->n, sizeof(int));
    for (size_t i = 0; i < d->n; i++)
        out->fd[i] = -1;
    for (size_t i = top; i < d->n; i++) {
        if (d->fd[i] < 0)
            continue;
        struct stat st;
        /* the top one is a directory: the caller looked (merged_top_entry) */
        if (i > top && fstatat(d->fd[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (i > top && !S_ISDIR(st.st_mode))
            break; /* a whiteout or a file hides what lies below */
        out->fd[i] = openat(d->fd[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out->fd[i] < 0) {
            merged_close(out);
            return berr_errno(err, "open %s", name);
        }
        if (is_opaque(out->fd[i]))
            break;
    }
    return 0;
}

static char *link_target(const struct merged_dir *d, size_t layer, const char *name)
{
    char buf[4096];
    ssize_t n = readlinkat(d->fd[layer], name, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

/* Split the next component off *rest (no leading slashes left behind). */
static char *next_component(const char **rest)
{
    while (**rest == '/')
        (*rest)++;
    size_t n = strcspn(*rest, "/");
    char *c = strndup(*rest, n);
    *rest += n;
    while (**rest == '/')
        (*rest)++;
    return c;
}

/* What a walk over the layers ends in: the last component opened with flags, or, with
 * resolved set, the path itself with every link among its existing components replaced by
 * where it leads (a missing component ends the walk: what follows it is new). */
struct walk_end {
    int flags;
    char **resolved;
};

static int lookup(const struct strv *layers, const char *path, int links,
                  const struct walk_end *end, struct berr *err);

/* A '..' after a name in a link's target: cleaned lexically it drops the name, where the
 * kernel, should the name be a link, climbs from where that link leads. */
static bool dotdot_after_a_name(const char *target)
{
    bool named = false;
    for (const char *p = target; *p;) {
        p += strspn(p, "/");
        size_t n = strcspn(p, "/");
        bool dotdot = n == 2 && p[0] == '.' && p[1] == '.';
        if (dotdot && named)
            return true;
        named |= n && !dotdot && !(n == 1 && p[0] == '.');
        p += n;
    }
    return false;
}

/* Start over at the root with what the link says, then what was left of the path, cleaned
 * lexically (the part resolved so far holds no links, and '..' stops at the root). */
static int follow(const struct strv *layers, const char *done, const char *target, const char *rest,
                  int links, const struct walk_end *end, struct berr *err)
{
    if (links >= MAX_LINKS)
        return berr_errnum(err, ELOOP, "too many levels of symbolic links");
    /* a mount point must lie exactly where the mount code will look */
    if (end->resolved && dotdot_after_a_name(target))
        return berr_errnum(err, EINVAL, "link to %s: '..' after a name", target);
    _cleanup_free_ char *joined = target[0] == '/' ? xasprintf("%s/%s", target, rest)
                                                   : xasprintf("%s/%s/%s", done, target, rest);
    _cleanup_free_ char *clean = path_clean(joined);
    return lookup(layers, clean, links + 1, end, err);
}

static int resolved_as(const struct walk_end *end, const char *done, const char *name,
                       const char *rest)
{
    _cleanup_free_ char *joined = xasprintf("%s/%s/%s", done, name, rest);
    *end->resolved = path_clean(joined);
    return 0;
}

static int lookup(const struct strv *layers, const char *path, int links,
                  const struct walk_end *end, struct berr *err)
{
    struct merged_dir d = {0};
    if (merged_root(layers, &d, err) < 0)
        return -1;
    _cleanup_free_ char *done = xstrdup("");
    const char *rest = path;
    int rc = -1;
    for (;;) {
        _cleanup_free_ char *name = next_component(&rest);
        if (!*name) {
            rc = end->resolved ? resolved_as(end, "/", "", "")
                               : berr_errnum(err, EISDIR, "%s is a directory", path);
            break;
        }
        struct stat st;
        ssize_t top = merged_top_entry(&d, name, &st);
        if (top < 0 && errno == ENOENT && end->resolved) {
            rc = resolved_as(end, done, name, rest);
            break;
        }
        if (top < 0) {
            rc = errno == ENOENT ? berr_errnum(err, ENOENT, "%s does not exist", path)
                                 : berr_errno(err, "look up %s", path);
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            _cleanup_free_ char *target = link_target(&d, (size_t)top, name);
            /* the next lookup opens every layer again: this one's fds go first */
            merged_close(&d);
            rc = target ? follow(layers, *done ? done : "/", target, rest, links, end, err)
                        : berr_errno(err, "read link %s", name);
            break;
        }
        if (!*rest && end->resolved) {
            rc = resolved_as(end, done, name, "");
            break;
        }
        if (!*rest) { /* the last component: open it where it lives */
            rc = openat(d.fd[top], name, end->flags | O_NOFOLLOW | O_CLOEXEC);
            if (rc < 0)
                berr_errno(err, "open %s", path);
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc = berr_errnum(err, ENOTDIR, "%s: a component is not a directory", path);
            break;
        }
        struct merged_dir child;
        if (merged_child(&d, (size_t)top, name, &child, err) < 0)
            break;
        merged_close(&d);
        d = child;
        char *longer = xasprintf("%s/%s", done, name);
        free(done);
        done = longer;
    }
    merged_close(&d);
    return rc;
}

int mounts_open_in_layers(const struct strv *layers, const char *path, int flags, struct berr *err)
{
    _cleanup_free_ char *clean = path_clean(path);
    const struct walk_end end = {.flags = flags};
    return lookup(layers, clean, 0, &end, err);
}

char *mounts_resolve_in_layers(const struct strv *layers, const char *path, struct berr *err)
{
    _cleanup_free_ char *clean = path_clean(path);
    char *resolved = NULL;
    const struct walk_end end = {.resolved = &resolved};
    if (lookup(layers, clean, 0, &end, err) < 0)
        return NULL;
    return resolved;
}
