/* Unpacking one layer tar into its own directory. The tar is untrusted: every name is cleaned
 * lexically, every parent is opened with RESOLVE_IN_ROOT (a symlink from an earlier entry
 * cannot lead a write out of the layer), and every entry is made with *at() calls on that
 * parent, never following a final symlink. Whiteouts are converted to overlay's format. */
#include "image/internal.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"

struct dirtime {
    char *path;
    struct timespec ts[2];
};

struct unpacker {
    int layerfd;
    const struct layer_stream *src;
    struct dirtime *dirs;
    size_t ndirs, cap;
    unsigned long long size;
};

/* What the header says about an entry's owner, mode and times. */
struct meta {
    uid_t uid;
    gid_t gid;
    mode_t mode;
    bool has_times;
    struct timespec ts[2]; /* atime, mtime */
};

static int entry_meta(struct archive_entry *e, struct meta *m, struct berr *err)
{
    la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
    if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
        return berr_set(err, BERR_FAILED, "owner %lld:%lld out of range", (long long)uid,
                        (long long)gid);
    m->uid = (uid_t)uid;
    m->gid = (gid_t)gid;
    m->mode = archive_entry_perm(e) & 07777;
    m->has_times = archive_entry_mtime_is_set(e);
    if (m->has_times) {
        m->ts[1] = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
        m->ts[0] = m->ts[1];
        /* atime never before mtime, as go-archive and containers/storage do */
        if (archive_entry_atime_is_set(e) && archive_entry_atime(e) > m->ts[1].tv_sec)
            m->ts[0] = (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)};
    }
    return 0;
}

static int set_owner(int fd, const struct meta *m, struct berr *err)
{
    if (fchownat(fd, "", m->uid, m->gid, AT_EMPTY_PATH) == 0)
        return 0;
    /* Without root, ownership cannot be kept; the files stay the writer's. */
    if ((errno == EPERM || errno == EINVAL) && geteuid() != 0)
        return 0;
    return berr_errno(err, "chown %u:%u", (unsigned)m->uid, (unsigned)m->gid);
}

/* fd is a real fd, or O_PATH (devices, fifos: opening them for real would use them). */
static int set_mode(int fd, bool opath, mode_t mode, struct berr *err)
{
    char p[PROC_FD_PATH_MAX];
    proc_fd_path(fd, p);
    int r = opath ? fchmodat(AT_FDCWD, p, mode, 0) : fchmod(fd, mode);
    return r < 0 ? berr_errno(err, "chmod %04o", (unsigned)mode) : 0;
}

static bool xattr_allowed(const char *name)
{
    /* overlay would act on these once the layer is a lowerdir; selinux labels are the host's */
    return !str_has_prefix(name, "trusted.overlay.") && !str_has_prefix(name, "user.overlay.") &&
           strcmp(name, "security.selinux") != 0;
}

static int set_xattrs(int fd, bool opath, struct archive_entry *e, struct berr *err)
{
    char p[PROC_FD_PATH_MAX];
    proc_fd_path(fd, p);
    const char *name;
    const void *val;
    size_t len;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK) {
        if (!xattr_allowed(name)) {
            debugf("layer entry %s: xattr %s dropped", archive_entry_pathname(e), name);
            continue;
        }
        int r = opath ? setxattr(p, name, val, len, 0) : fsetxattr(fd, name, val, len, 0);
        if (r < 0 && errno == ENOTSUP) {
            debugf("layer entry %s: xattr %s not supported here", archive_entry_pathname(e), name);
            continue;
        }
        if (r < 0)
            return berr_errno(err, "set xattr %s", name);
    }
    return 0;
}

/* chown before chmod: chown clears setuid/setgid bits and file capabilities. */
static int apply_meta(int fd, bool opath, const struct meta *m, struct archive_entry *e,
                      struct berr *err)
{
    if (set_owner(fd, m, err) < 0 || set_mode(fd, opath, m->mode, err) < 0 ||
        set_xattrs(fd, opath, e, err) < 0)
        return -1;
    return 0;
}

static int set_opaque(int fd, struct berr *err)
{
    if (fsetxattr(fd, OPAQUE_XATTR, "y", 1, 0) < 0)
        return berr_errno(err, "set xattr %s", OPAQUE_XATTR);
    return 0;
}

static void remember_dir(struct unpacker *u, const char *path, const struct meta *m)
{
    if (!m->has_times)
        return;
    if (u->ndirs == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 64;
        u->dirs = xrealloc(u->dirs, u->cap * sizeof(*u->dirs));
    }
    u->dirs[u->ndirs].path = xstrdup(path);
    memcpy(u->dirs[u->ndirs].ts, m->ts, sizeof(m->ts));
    u->ndirs++;
}

/* Make room at dirfd/base for a new entry. An existing directory is kept when keep_dir (returns
 * 1); anything else there is removed, a directory with its contents. *was_whiteout tells
 * whether what was removed was an overlay whiteout. */
static int clear_target(int dirfd, const char *base, bool keep_dir, bool *was_whiteout,
                        struct berr *err)
{
    struct stat st;
    *was_whiteout = false;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : berr_errno(err, "stat");
    if (keep_dir && S_ISDIR(st.st_mode))
        return 1;
    *was_whiteout = S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
    return remove_tree_at(dirfd, base, err) < 0 ? -1 : 0;
}

static int pwrite_all(int fd, const char *p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

int image_copy_data(struct archive *a, int fd, unsigned long long size,
                    void (*each)(void *ctx, size_t n), void *ctx, struct berr *err)
{
    for (;;) {
        const void *buf;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &n, &off);
        if (r == ARCHIVE_EOF)
            return 0;
        if (!la_ok(r))
            return berr_set(err, BERR_FAILED, "read data: %s", la_err(a));
        if (off < 0 || (unsigned long long)off + n > size)
            return berr_set(err, BERR_FAILED, "data beyond the declared size %llu", size);
        if (pwrite_all(fd, buf, n, (off_t)off) < 0)
            return berr_errno(err, "write");
        if (each)
            each(ctx, n);
    }
}

static int make_file(struct unpacker *u, struct archive *a, struct archive_entry *e, int dirfd,
                     const char *base, const struct meta *m, unsigned long long data_start,
                     struct berr *err)
{
    bool wh;
    if (clear_target(dirfd, base, false, &wh, err) < 0)
        return -1;
    _cleanup_close_ int fd =
        openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return berr_errno(err, "create");
    la_int64_t size = archive_entry_size(e);
    if (size < 0)
        return berr_set(err, BERR_FAILED, "negative size");
    if (image_copy_data(a, fd, (unsigned long long)size, NULL, NULL, err) < 0)
        return -1;
    /* Data that ran into the zeros we add after the real input would be silently wrong. */
    if (archive_entry_sparse_count(e) == 0 && u->src && u->src->eof &&
        data_start + (unsigned long long)size > u->src->real_bytes)
        return berr_set(err, BERR_FAILED, "archive ends inside the file's data");
    if (ftruncate(fd, (off_t)size) < 0) /* a sparse file's trailing hole */
        return berr_errno(err, "truncate");
    if (apply_meta(fd, false, m, e, err) < 0)
        return -1;
    if (m->has_times && futimens(fd, m->ts) < 0)
        return berr_errno(err, "set times");
    u->size += (unsigned long long)size;
    return 0;
}

static int make_dir(struct unpacker *u, struct archive_entry *e, int dirfd, const char *base,
                    const char *path, const struct meta *m, struct berr *err)
{
    bool wh;
    int kept = clear_target(dirfd, base, true, &wh, err);
    if (kept < 0)
        return -1;
    if (!kept && mkdirat(dirfd, base, 0700) < 0)
        return berr_errno(err, "mkdir");
    _cleanup_close_ int fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "open");
    if (apply_meta(fd, false, m, e, err) < 0)
        return -1;
    /* A directory replacing a whiteout replaces the lower one; it must not merge with it. */
    if (wh && set_opaque(fd, err) < 0)
        return -1;
    remember_dir(u, path, m);
    return 0;
}

static int make_symlink(struct archive_entry *e, int dirfd, const char *base, const struct meta *m,
                        struct berr *err)
{
    const char *target = archive_entry_symlink(e);
    if (!target)
        target = archive_entry_symlink_utf8(e);
    if (!target || !*target)
        return berr_set(err, BERR_FAILED, "symlink without a target");
    bool wh;
    if (clear_target(dirfd, base, false, &wh, err) < 0)
        return -1;
    /* The target is stored verbatim: it is resolved at run time, inside the container. */
    if (symlinkat(target, dirfd, base) < 0)
        return berr_errno(err, "symlink");
    if (fchownat(dirfd, base, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
        !((errno == EPERM || errno == EINVAL) && geteuid() != 0))
        return berr_errno(err, "chown %u:%u", (unsigned)m->uid, (unsigned)m->gid);
    if (m->has_times && utimensat(dirfd, base, m->ts, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(err, "set times");
    return 0;
}

static int make_special(struct archive_entry *e, int dirfd, const char *base, const struct meta *m,
                        struct berr *err)
{
    mode_t type = archive_entry_filetype(e);
    dev_t dev = 0;
    if (type == AE_IFCHR || type == AE_IFBLK)
        dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    bool wh;
    if (clear_target(dirfd, base, false, &wh, err) < 0)
        return -1;
    if (mknodat(dirfd, base, type | 0600, dev) < 0)
        return berr_errno(err, "mknod");
    _cleanup_close_ int fd = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "open");
    if (apply_meta(fd, true, m, e, err) < 0)
        return -1;
    if (m->has_times && utimensat(dirfd, base, m->ts, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(err, "set times");
    return 0;
}

/* The target is resolved inside the layer like any other path; link(2) semantics: a final
 * symlink is linked itself, not followed. Hard links carry no metadata of their own. */
static int make_hardlink(struct unpacker *u, const char *link, int dirfd, const char *base,
                         struct berr *err)
{
    if (path_escapes(link))
        return berr_set(err, BERR_FAILED, "hard link target %s is outside the layer", link);
    _cleanup_free_ char *target = path_clean(link);
    if (strcmp(target, "/") == 0)
        return berr_set(err, BERR_FAILED, "hard link to the layer root");
    _cleanup_close_ int tfd = open_in_root(u->layerfd, target, O_PATH | O_NOFOLLOW, 0);
    if (tfd < 0)
        return berr_errno(err, "hard link target %s", link);
    struct stat tst, st;
    if (fstat(tfd, &tst) < 0)
        return berr_errno(err, "stat hard link target %s", link);
    if (S_ISDIR(tst.st_mode))
        return berr_set(err, BERR_FAILED, "hard link target %s is a directory", link);
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev &&
        st.st_ino == tst.st_ino)
        return 0; /* already that file */
    bool wh;
    if (clear_target(dirfd, base, false, &wh, err) < 0)
        return -1;
    if (linkat(tfd, "", dirfd, base, AT_EMPTY_PATH) == 0)
        return 0;
    /* AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH; the /proc link works without it. */
    char p[PROC_FD_PATH_MAX];
    proc_fd_path(tfd, p);
    if (linkat(AT_FDCWD, p, dirfd, base, AT_SYMLINK_FOLLOW) < 0)
        return berr_errno(err, "hard link to %s", link);
    return 0;
}

/* .wh.NAME becomes a 0:0 char device NAME, .wh..wh..opq the opaque xattr on its directory. */
static int make_whiteout(int dirfd, const char *base, struct berr *err)
{
    if (strcmp(base, WH_OPAQUE) == 0) {
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return berr_errno(err, "open directory");
        return set_opaque(fd, err);
    }
    if (str_has_prefix(base, WH_META_PREFIX)) {
        debugf("layer entry %s: aufs metadata skipped", base);
        return 0;
    }
    const char *name = base + strlen(WH_PREFIX);
    if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
        return berr_set(err, BERR_FAILED, "invalid whiteout name");
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        /* This layer made NAME already; it hides the lower NAME by itself, except that a
         * directory would merge with the lower one. */
        if (!S_ISDIR(st.st_mode))
            return 0;
        _cleanup_close_ int fd =
            openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return berr_errno(err, "open %s", name);
        return set_opaque(fd, err);
    }
    if (errno != ENOENT)
        return berr_errno(err, "stat %s", name);
    if (mknodat(dirfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
        return berr_errno(err, "make whiteout %s", name);
    return 0;
}

/* "." or "/": only a directory, and only its metadata (CVE-2021-29136 replaced the root). */
static int root_entry(struct unpacker *u, struct archive_entry *e, const struct meta *m,
                      struct berr *err)
{
    if (archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFDIR)
        return berr_set(err, BERR_FAILED,
                        "refusing to replace the root of the layer with a non-directory");
    _cleanup_close_ int fd = openat(u->layerfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "open layer root");
    if (apply_meta(fd, false, m, e, err) < 0)
        return -1;
    remember_dir(u, "/", m);
    return 0;
}

static int unpack_entry(struct unpacker *u, struct archive *a, struct archive_entry *e,
                        const char *name, unsigned long long data_start, struct berr *err)
{
    if (path_escapes(name))
        return berr_set(err, BERR_FAILED, "path is outside the layer");
    struct meta m;
    if (entry_meta(e, &m, err) < 0)
        return -1;
    _cleanup_free_ char *path = path_clean(name);
    if (strcmp(path, "/") == 0)
        return root_entry(u, e, &m, err);

    _cleanup_close_ int dirfd = -1;
    const char *base;
    if (open_parent_in_root(u->layerfd, path, true, &dirfd, &base, err) < 0)
        return -1;
    if (str_has_prefix(base, WH_PREFIX))
        return make_whiteout(dirfd, base, err);
    const char *link = archive_entry_hardlink(e);
    if (!link)
        link = archive_entry_hardlink_utf8(e);
    if (link)
        return make_hardlink(u, link, dirfd, base, err);

    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        return make_file(u, a, e, dirfd, base, &m, data_start, err);
    case AE_IFDIR:
        return make_dir(u, e, dirfd, base, path, &m, err);
    case AE_IFLNK:
        return make_symlink(e, dirfd, base, &m, err);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        return make_special(e, dirfd, base, &m, err);
    default:
        return berr_set(err, BERR_FAILED, "unsupported entry type 0%o",
                        (unsigned)archive_entry_filetype(e));
    }
}

/* Directory times last: creating children bumps them. */
static int apply_dir_times(struct unpacker *u, struct berr *err)
{
    for (size_t i = 0; i < u->ndirs; i++) {
        const struct dirtime *d = &u->dirs[i];
        if (strcmp(d->path, "/") == 0) {
            _cleanup_close_ int fd = openat(u->layerfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0 || futimens(fd, d->ts) < 0)
                return berr_errno(err, "set times of the layer root");
            continue;
        }
        _cleanup_close_ int pfd = -1;
        const char *base;
        struct berr gone;
        /* A later entry may have replaced the directory or a parent: nothing to do then. */
        if (open_parent_in_root(u->layerfd, d->path, false, &pfd, &base, &gone) < 0)
            continue;
        struct stat st;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (utimensat(pfd, base, d->ts, AT_SYMLINK_NOFOLLOW) < 0)
            return berr_errno(err, "layer entry %s: set times", d->path + 1);
    }
    return 0;
}

static const char *entry_name(struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e);
    return name ? name : archive_entry_pathname_utf8(e);
}

static int read_error(struct archive *tar, const struct layer_stream *src, const char *last,
                      struct berr *err)
{
    const char *why = src && src->outer_err[0] ? src->outer_err : la_err(tar);
    if (last)
        return berr_set(err, BERR_FAILED, "read layer after entry %s: %s", last, why);
    return berr_set(err, BERR_FAILED, "read layer: %s", why);
}

int image_unpack_layer(struct archive *tar, int layerfd, const struct layer_stream *src,
                       unsigned long long *size, struct berr *err)
{
    struct unpacker u = {.layerfd = layerfd, .src = src};
    _cleanup_free_ char *last = NULL;
    int rc = 0;
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(tar, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (!la_ok(r)) {
            rc = read_error(tar, src, last, err);
            break;
        }
        const char *name = entry_name(e);
        if (!name) {
            rc = berr_set(err, BERR_FAILED, "layer entry without a usable name");
            break;
        }
        unsigned long long data_start = (unsigned long long)archive_filter_bytes(tar, -1);
        if (unpack_entry(&u, tar, e, name, data_start, err) < 0) {
            rc = berr_wrap(err, "layer entry %s", name);
            break;
        }
        free(last);
        last = xstrdup(name);
    }
    if (rc == 0)
        rc = apply_dir_times(&u, err);
    for (size_t i = 0; i < u.ndirs; i++)
        free(u.dirs[i].path);
    free(u.dirs);
    *size = u.size;
    return rc;
}
