/* remove_tree_at: a directory tree removed with a bounded number of fds, however deep. A
 * container makes its upper dir's tree as deep as it likes; recursion holding fds per level
 * ran out of fds (EMFILE) and left the container half removed.
 *
 * The walk holds one directory open at a time and remembers, per level, the name and the
 * identity (device, inode, mount) of each directory above it. It goes down by name with
 * O_NOFOLLOW, never into another mount, and comes back up through "..", checked against the
 * identity it remembered: a directory moved away during the walk stops it instead of
 * leading it elsewhere. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct dir_id {
    dev_t dev;
    ino_t ino;
    uint64_t mnt; /* 0 when the kernel does not say (before 5.8): st_dev alone then */
};

struct level {
    char *name; /* in the level above; the top's is the caller's name */
    struct dir_id id;
};

struct walk {
    const char *top;
    struct level *v;
    size_t n, cap;
};

static int dir_id_of(int fd, struct dir_id *id)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_MNT_ID, &stx) < 0)
        return -1;
    id->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    id->ino = stx.stx_ino;
    id->mnt = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
    return 0;
}

static bool same_mount(const struct dir_id *a, const struct dir_id *b)
{
    return a->dev == b->dev && a->mnt == b->mnt;
}

/* top/a/b/entry for messages, its last 512 bytes when longer */
static char *walk_path(const struct walk *w, const char *entry)
{
    size_t len = 1;
    for (size_t i = 0; i < w->n; i++)
        len += strlen(w->v[i].name) + 1;
    if (entry)
        len += strlen(entry);
    char *p = xmalloc(len), *e = p;
    for (size_t i = 0; i < w->n; i++)
        e += sprintf(e, "%s%s", i ? "/" : "", w->v[i].name);
    if (entry)
        sprintf(e, "/%s", entry);
    size_t have = strlen(p);
    if (have > 512) {
        memmove(p + 3, p + have - 509, 510);
        memcpy(p, "...", 3);
    }
    return p;
}

/* "<what> <path>[: <why>]: <strerror(errnum)>" */
static int walk_errno(const struct walk *w, struct berr *err, int errnum, const char *what,
                      const char *entry, const char *why)
{
    _cleanup_free_ char *path = walk_path(w, entry);
    return berr_errnum(err, errnum, "%s %s%s%s", what, path, why ? ": " : "", why ? why : "");
}

static void push(struct walk *w, const char *name, const struct dir_id *id)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
    }
    w->v[w->n++] = (struct level){.name = xstrdup(name), .id = *id};
}

static void walk_free(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].name);
    free(w->v);
}

/* Opens parentfd/name as the next level down, refusing a symlink and another mount. */
static int descend(struct walk *w, int parentfd, const char *name, struct berr *err)
{
    int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct dir_id id;
    if (fd < 0 || dir_id_of(fd, &id) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return walk_errno(w, err, e, "open", name, NULL);
    }
    if (w->n && !same_mount(&id, &w->v[0].id)) {
        close(fd);
        return walk_errno(w, err, EBUSY, "remove", name, "a mount is still there");
    }
    push(w, name, &id);
    return fd;
}

/* One entry of a directory being cleared: 0 when removed (or gone), 1 with *sub set (malloc'd)
 * when it is a directory to go down into. getdents' type spares a directory the failed unlink
 * and the stat; a filesystem that does not give it (DT_UNKNOWN) gets them. */
static int clear_entry(const struct walk *w, int fd, const char *name, unsigned char type,
                       char **sub, struct berr *err)
{
    if (type != DT_DIR) {
        if (unlinkat(fd, name, 0) == 0 || errno == ENOENT)
            return 0;
        /* unlink(2) says EISDIR for a directory on Linux; some filesystems say EPERM */
        if (errno != EISDIR && errno != EPERM)
            return walk_errno(w, err, errno, "remove", name, NULL);
        struct stat st;
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
            return walk_errno(w, err, EPERM, "remove", name, NULL);
    }
    *sub = xstrdup(name);
    return 1;
}

/* Removes the non-directories of the directory at fd, listed from fd's offset with getdents
 * on fd itself (no DIR stream: that would be a dup and three calls more per listing). Returns
 * 1 with *sub set at the first subdirectory, for the caller to go down into; 0 when the
 * directory is empty. */
static int clear_entries(const struct walk *w, int fd, char **sub, struct berr *err)
{
    _Alignas(struct dirent64) char buf[8192];
    for (;;) {
        ssize_t n = getdents64(fd, buf, sizeof(buf));
        if (n < 0)
            return walk_errno(w, err, errno, "read", NULL, NULL);
        if (n == 0)
            return 0;
        for (ssize_t at = 0; at < n;) {
            const struct dirent64 *de = (const struct dirent64 *)(buf + at);
            at += de->d_reclen;
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            int rc = clear_entry(w, fd, de->d_name, de->d_type, sub, err);
            if (rc != 0)
                return rc;
        }
    }
}

/* From the emptied directory at fd back to its parent, checked to be the one it came from,
 * and the emptied one removed. */
static int ascend(struct walk *w, int fd, struct berr *err)
{
    int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct dir_id id;
    if (up < 0 || dir_id_of(up, &id) < 0) {
        int e = errno;
        if (up >= 0)
            close(up);
        return walk_errno(w, err, e, "open the parent of", NULL, NULL);
    }
    const struct level *parent = &w->v[w->n - 2];
    if (id.ino != parent->id.ino || !same_mount(&id, &parent->id)) {
        close(up);
        return walk_errno(w, err, ESTALE, "remove", NULL, "moved while it was being removed");
    }
    struct level *l = &w->v[w->n - 1];
    if (unlinkat(up, l->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
        int e = errno;
        close(up);
        return walk_errno(w, err, e, "rmdir", NULL, NULL);
    }
    free(l->name);
    w->n--;
    return up;
}

static int remove_dir(struct walk *w, int dirfd, const char *name, struct berr *err)
{
    int fd = descend(w, dirfd, name, err);
    if (fd < 0 && err->errnum == ENOENT) /* removed meanwhile by someone else: done */
        return 0;
    while (fd >= 0) {
        _cleanup_free_ char *sub = NULL;
        int rc = clear_entries(w, fd, &sub, err);
        int next;
        if (rc < 0)
            next = -1;
        else if (rc > 0) {
            next = descend(w, fd, sub, err);
            /* gone between the listing and the open: list again, from the start, as what was
             * read after it went with the listing's buffer */
            if (next < 0 && err->errnum == ENOENT && lseek(fd, 0, SEEK_SET) == 0)
                continue;
        } else if (w->n > 1)
            next = ascend(w, fd, err);
        else
            break;
        close(fd);
        fd = next;
    }
    if (fd < 0)
        return -1;
    close(fd);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return berr_errno(err, "rmdir %s", name);
    return 0;
}

int remove_tree_at(int dirfd, const char *name, struct berr *err)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return berr_errno(err, "remove %s", name);
    struct walk w = {.top = name};
    int rc = remove_dir(&w, dirfd, name, err);
    walk_free(&w);
    return rc;
}
