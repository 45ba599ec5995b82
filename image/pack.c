/* One unpacked layer (overlay's format) back into a layer tar in docker's format: a 0:0
 * character device NAME becomes an empty ".wh.NAME", a directory with trusted.overlay.opaque=y
 * gets a ".wh..wh..opq" entry right after its own.
 *
 * The tar is canonical, so that packing what unpacking it gave yields the same bytes again
 * (and so the same diff-id): entries in byte order of their names, depth first; times in whole
 * seconds, mtime only; no user or group names; whiteouts 0600 root:root at time 0; xattrs
 * sorted by name, overlay's and selinux's left out as unpack leaves them out; a file's
 * further hard links as hard link entries to the first name in that order. */
#include "image/internal.h"

#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"
#define COPY_CHUNK (256u << 10)
#define MAX_DEPTH 4096

struct linked {
    dev_t dev;
    ino_t ino;
    char *path;
};

struct packer {
    struct archive *w;
    struct linked *links;
    size_t nlinks;
    char *buf; /* COPY_CHUNK */
    /* where the tar goes */
    int outfd;
    struct sha256_stream *hash;
    unsigned long long bytes;
    int write_errno;
};

static la_ssize_t out_write(struct archive *a, void *data, const void *buf, size_t n)
{
    struct packer *p = data;
    if (write_all(p->outfd, buf, n) < 0) {
        p->write_errno = errno;
        archive_set_error(a, errno, "write layer tar");
        return -1;
    }
    sha256_stream_update(p->hash, buf, n);
    p->bytes += n;
    return (la_ssize_t)n;
}

static int write_header(struct packer *p, struct archive_entry *e, struct berr *err)
{
    int r = archive_write_header(p->w, e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        if (p->write_errno)
            return berr_errnum(err, p->write_errno, "%s", archive_entry_pathname(e));
        return berr_set(err, BERR_FAILED, "%s: %s", archive_entry_pathname(e), la_err(p->w));
    }
    return 0;
}

static bool xattr_kept(const char *name)
{
    return !str_has_prefix(name, "trusted.overlay.") && !str_has_prefix(name, "user.overlay.") &&
           strcmp(name, "security.selinux") != 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The xattrs of an open file or directory onto the entry, sorted by name. */
static int add_xattrs(int fd, struct archive_entry *e, struct berr *err)
{
    ssize_t n = flistxattr(fd, NULL, 0);
    if (n < 0)
        return errno == ENOTSUP ? 0 : berr_errno(err, "list xattrs");
    if (n == 0)
        return 0;
    _cleanup_free_ char *names = xmalloc((size_t)n);
    n = flistxattr(fd, names, (size_t)n);
    if (n < 0)
        return berr_errno(err, "list xattrs");
    _cleanup_strv_ struct strv v = {0};
    for (char *s = names; s < names + n; s += strlen(s) + 1) {
        if (xattr_kept(s))
            strv_push(&v, s);
    }
    if (v.n)
        qsort(v.v, v.n, sizeof(*v.v), cmp_str);
    for (size_t i = 0; i < v.n; i++) {
        ssize_t len = fgetxattr(fd, v.v[i], NULL, 0);
        if (len < 0)
            return berr_errno(err, "get xattr %s", v.v[i]);
        _cleanup_free_ char *val = xmalloc((size_t)len + 1);
        len = fgetxattr(fd, v.v[i], val, (size_t)len);
        if (len < 0)
            return berr_errno(err, "get xattr %s", v.v[i]);
        archive_entry_xattr_add_entry(e, v.v[i], val, (size_t)len);
    }
    return 0;
}

static bool is_opaque(int dirfd)
{
    char v[2];
    ssize_t n = fgetxattr(dirfd, OPAQUE_XATTR, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

/* An empty regular file: the whiteout forms. */
static int write_marker(struct packer *p, const char *path, struct berr *err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_size(e, 0);
    archive_entry_set_mtime(e, 0, 0);
    int rc = write_header(p, e, err);
    archive_entry_free(e);
    return rc;
}

static void set_common(struct archive_entry *e, const char *path, const struct stat *st)
{
    archive_entry_set_pathname(e, path);
    archive_entry_set_perm(e, st->st_mode & 07777);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
}

/* The first name of a multiply linked file, or NULL (and it is remembered as path). */
static const char *first_link(struct packer *p, const struct stat *st, const char *path)
{
    for (size_t i = 0; i < p->nlinks; i++) {
        if (p->links[i].dev == st->st_dev && p->links[i].ino == st->st_ino)
            return p->links[i].path;
    }
    p->links = xrealloc(p->links, (p->nlinks + 1) * sizeof(*p->links));
    p->links[p->nlinks++] = (struct linked){st->st_dev, st->st_ino, xstrdup(path)};
    return NULL;
}

static int write_file(struct packer *p, int dirfd, const char *name, const char *path,
                      const struct stat *st, struct berr *err)
{
    struct archive_entry *e = archive_entry_new();
    set_common(e, path, st);
    archive_entry_set_filetype(e, AE_IFREG);
    const char *target = st->st_nlink > 1 ? first_link(p, st, path) : NULL;
    int rc = 0;
    if (target) {
        archive_entry_set_hardlink(e, target);
        archive_entry_set_size(e, 0);
        rc = write_header(p, e, err);
        archive_entry_free(e);
        return rc;
    }
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        archive_entry_free(e);
        return berr_errno(err, "open %s", path);
    }
    archive_entry_set_size(e, st->st_size);
    rc = add_xattrs(fd, e, err) < 0 ? -1 : write_header(p, e, err);
    archive_entry_free(e);
    for (long long left = st->st_size; rc == 0 && left > 0;) {
        ssize_t n = read(fd, p->buf, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? berr_errno(err, "read %s", path)
                         : berr_set(err, BERR_FAILED, "%s shrank while being packed", path);
        if (archive_write_data(p->w, p->buf, (size_t)n) != n)
            return berr_set(err, BERR_FAILED, "%s: %s", path, la_err(p->w));
        left -= n;
    }
    return rc;
}

static int write_other(struct packer *p, int dirfd, const char *name, const char *path,
                       const struct stat *st, struct berr *err)
{
    struct archive_entry *e = archive_entry_new();
    set_common(e, path, st);
    int rc = 0;
    if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX + 1];
        ssize_t n = readlinkat(dirfd, name, target, PATH_MAX);
        if (n < 0) {
            rc = berr_errno(err, "read link %s", path);
        } else {
            target[n] = '\0';
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, target);
        }
    } else {
        archive_entry_set_filetype(e, S_ISCHR(st->st_mode)   ? AE_IFCHR
                                      : S_ISBLK(st->st_mode) ? AE_IFBLK
                                                             : AE_IFIFO);
        archive_entry_set_rdevmajor(e, major(st->st_rdev));
        archive_entry_set_rdevminor(e, minor(st->st_rdev));
    }
    if (rc == 0)
        rc = write_header(p, e, err);
    archive_entry_free(e);
    return rc;
}

static int pack_dir(struct packer *p, int dfd, const char *prefix, int depth, struct berr *err);

static int pack_entry(struct packer *p, int dfd, const char *prefix, const char *name, int depth,
                      struct berr *err)
{
    _cleanup_free_ char *path = xasprintf("%s%s", prefix, name);
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(err, "stat %s", path);
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        _cleanup_free_ char *wh = xasprintf("%s" WH_PREFIX "%s", prefix, name);
        return write_marker(p, wh, err);
    }
    if (S_ISREG(st.st_mode))
        return write_file(p, dfd, name, path, &st, err);
    if (S_ISSOCK(st.st_mode)) /* tar has no form for it; docker's archiver skips it too */
        return 0;
    if (!S_ISDIR(st.st_mode))
        return write_other(p, dfd, name, path, &st, err);
    _cleanup_close_ int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
        return berr_errno(err, "open %s", path);
    _cleanup_free_ char *dirpath = xasprintf("%s/", path);
    struct archive_entry *e = archive_entry_new();
    set_common(e, dirpath, &st);
    archive_entry_set_filetype(e, AE_IFDIR);
    int rc = add_xattrs(sub, e, err) < 0 ? -1 : write_header(p, e, err);
    archive_entry_free(e);
    if (rc == 0 && is_opaque(sub)) {
        _cleanup_free_ char *opq = xasprintf("%s" WH_OPAQUE, dirpath);
        rc = write_marker(p, opq, err);
    }
    return rc < 0 ? -1 : pack_dir(p, sub, dirpath, depth + 1, err);
}

static int pack_dir(struct packer *p, int dfd, const char *prefix, int depth, struct berr *err)
{
    if (depth > MAX_DEPTH)
        return berr_set(err, BERR_FAILED, "%s: directory tree too deep", prefix);
    _cleanup_strv_ struct strv names = {0};
    {
        _cleanup_closedir_ DIR *d = dir_dup(dfd, "layer directory", err);
        if (!d)
            return -1;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                strv_push(&names, de->d_name);
        }
    }
    if (names.n)
        qsort(names.v, names.n, sizeof(*names.v), cmp_str);
    for (size_t i = 0; i < names.n; i++) {
        if (pack_entry(p, dfd, prefix, names.v[i], depth, err) < 0)
            return -1;
    }
    return 0;
}

int image_layer_pack(const struct image_store *store, const char *diff_id, int outfd, char hex[65],
                     unsigned long long *size, struct berr *err)
{
    _cleanup_close_ int layers = image_store_dir(store, "layers", O_PATH, err);
    if (layers < 0)
        return -1;
    _cleanup_close_ int dfd =
        openat(layers, diff_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(err, "layer sha256:%s", diff_id);
    struct packer p = {.outfd = outfd, .hash = sha256_stream_new(), .buf = xmalloc(COPY_CHUNK)};
    p.w = archive_write_new();
    archive_write_set_format_pax_restricted(p.w);
    /* the tar ends with its two zero records, as docker's do, not padded to 10 KiB */
    archive_write_set_bytes_in_last_block(p.w, 1);
    int rc = 0;
    if (archive_write_open(p.w, &p, NULL, out_write, NULL) != ARCHIVE_OK)
        rc = berr_set(err, BERR_FAILED, "%s", la_err(p.w));
    if (rc == 0 && is_opaque(dfd))
        rc = write_marker(&p, WH_OPAQUE, err);
    if (rc == 0)
        rc = pack_dir(&p, dfd, "", 0, err);
    if (rc == 0 && archive_write_close(p.w) != ARCHIVE_OK)
        rc = p.write_errno ? berr_errnum(err, p.write_errno, "write layer tar")
                           : berr_set(err, BERR_FAILED, "%s", la_err(p.w));
    archive_write_free(p.w);
    sha256_stream_final(p.hash, hex);
    *size = p.bytes;
    for (size_t i = 0; i < p.nlinks; i++)
        free(p.links[i].path);
    free(p.links);
    free(p.buf);
    return rc < 0 ? berr_wrap(err, "pack layer sha256:%.12s", diff_id) : 0;
}
