#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

int read_fd_all(int fd, size_t max, char **out, size_t *len, struct berr *err)
{
    size_t cap = 4096, n = 0;
    _cleanup_free_ char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return berr_errno(err, "read");
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max)
            return berr_set(err, BERR_FAILED, "file larger than %zu bytes", max);
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    *out = steal_ptr(&buf);
    return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **out, size_t *len, struct berr *err)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return berr_errno(err, "open %s", name);
    if (read_fd_all(fd, max, out, len, err) < 0)
        return berr_wrap(err, "%s", name);
    return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int atomic_file_open(int dirfd, const char *name, mode_t mode, struct atomic_file *f,
                     struct berr *err)
{
    *f = (struct atomic_file){.dirfd = dirfd, .fd = -1};
    if (snprintf(f->name, sizeof(f->name), "%s", name) >= (int)sizeof(f->name))
        return berr_set(err, BERR_FAILED, "file name too long: %s", name);
    snprintf(f->tmp, sizeof(f->tmp), ".%s.tmp.%d", name, (int)getpid());
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
    int fd = openat(dirfd, f->tmp, flags, mode);
    /* a name taken already (a writer of the same pid that died, or another user where it may
     * write) is never written through: its owner could read what lands there */
    if (fd < 0 && errno == EEXIST && unlinkat(dirfd, f->tmp, 0) == 0)
        fd = openat(dirfd, f->tmp, flags, mode);
    if (fd < 0)
        return berr_errno(err, "create %s", f->tmp);
    /* the mode whatever the umask */
    if (fchmod(fd, mode) < 0) {
        berr_errno(err, "create %s", f->tmp);
        close(fd);
        unlinkat(dirfd, f->tmp, 0);
        return -1;
    }
    f->fd = fd;
    return 0;
}

void atomic_file_discard(struct atomic_file *f)
{
    if (f->fd < 0)
        return;
    close(steal_fd(&f->fd));
    unlinkat(f->dirfd, f->tmp, 0);
}

int atomic_file_commit(struct atomic_file *f, const void *buf, size_t len, struct berr *err)
{
    if (write_all(f->fd, buf, len) < 0) {
        berr_errno(err, "write %s", f->name);
        atomic_file_discard(f);
        return -1;
    }
    if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) < 0) {
        berr_errno(err, "rename %s", f->name);
        atomic_file_discard(f);
        return -1;
    }
    close(steal_fd(&f->fd));
    return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                         struct berr *err)
{
    struct atomic_file f;
    if (atomic_file_open(dirfd, name, mode, &f, err) < 0)
        return -1;
    return atomic_file_commit(&f, buf, len, err);
}

int mkdir_p(const char *path, mode_t mode, struct berr *err)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return berr_errno(err, "mkdir %s", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return berr_errno(err, "mkdir %s", p);
    return 0;
}

int open_store_root(const char *path, mode_t mode, const struct store_dir *layout, struct berr *err)
{
    /* the common case is a store that exists: open first, build only on ENOENT */
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdir_p(path, mode, err) < 0)
            return -1;
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0)
        return berr_errno(err, "open %s", path);
    for (; layout && layout->name; layout++) {
        if (mkdirat(fd, layout->name, layout->mode) < 0 && errno != EEXIST) {
            berr_errno(err, "mkdir %s/%s", path, layout->name);
            close(fd);
            return -1;
        }
    }
    return fd;
}

int mark_cloexec_from(int lowfd, struct berr *err)
{
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    return mark_cloexec_by_procfs(lowfd, err);
}

int mark_cloexec_by_procfs(int lowfd, struct berr *err)
{
    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs sfs;
    if (fd >= 0 && (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
        close(fd);
        errno = ENOTSUP;
        fd = -1;
    }
    _cleanup_closedir_ DIR *d = dir_from_fd(fd, "/proc/self/fd", err);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        long long n;
        if (parse_long(de->d_name, lowfd, INT32_MAX, &n) == 0 && n != dirfd(d) &&
            fcntl((int)n, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
            return berr_errno(err, "mark fd %lld close-on-exec", n);
    }
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static bool listed(const int *keep, size_t n, int fd)
{
    for (size_t i = 0; i < n; i++) {
        if (keep[i] == fd)
            return true;
    }
    return false;
}

/* Kernels before 5.9 have no close_range: close what /proc/self/fd lists. */
static void close_listed_by_procfs(const int *keep, size_t n)
{
    struct berr ignored;
    _cleanup_closedir_ DIR *d =
        dir_from_fd(open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "fds", &ignored);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        long long fd;
        if (parse_long(de->d_name, 3, INT32_MAX, &fd) == 0 && fd != dirfd(d) &&
            !listed(keep, n, (int)fd))
            close((int)fd);
    }
}

void close_fds_except(const int *keep, size_t n)
{
    int sorted[64];
    if (n > ARRAY_SIZE(sorted))
        abort();
    memcpy(sorted, keep, n * sizeof(int));
    qsort(sorted, n, sizeof(int), cmp_int);
    unsigned lo = 3;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && sorted[i] < (int)lo)
            continue;
        unsigned hi = i < n ? (unsigned)sorted[i] - 1 : ~0U;
        if (hi >= lo && syscall(SYS_close_range, lo, hi, 0) < 0 && errno == ENOSYS) {
            close_listed_by_procfs(keep, n);
            return;
        }
        if (i < n)
            lo = (unsigned)sorted[i] + 1;
    }
}

DIR *dir_from_fd(int fd, const char *what, struct berr *err)
{
    if (fd < 0) {
        berr_errno(err, "open %s", what);
        return NULL;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        berr_errno(err, "open %s", what);
        close(fd);
    }
    return d;
}

DIR *dir_dup(int dirfd, const char *what, struct berr *err)
{
    return dir_from_fd(fcntl(dirfd, F_DUPFD_CLOEXEC, 3), what, err);
}

void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

/* room for the descriptors of one message: no caller passes more */
#define FDS_MAX 64

ssize_t send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n)
{
    if (n > FDS_MAX) {
        errno = EINVAL;
        return -1;
    }
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union {
        char buf[CMSG_SPACE(FDS_MAX * sizeof(int))];
        struct cmsghdr align;
    } ctl = {0};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 0) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

ssize_t recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *n)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    union {
        char buf[CMSG_SPACE(FDS_MAX * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.buf,
                        .msg_controllen = sizeof(ctl.buf)};
    ssize_t got;
    do {
        got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    *n = 0;
    struct cmsghdr *cm = got >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
        size_t came = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const int *in = (const int *)(void *)CMSG_DATA(cm);
        for (size_t i = 0; i < came; i++) {
            if (i < max)
                fds[(*n)++] = in[i];
            else
                close(in[i]);
        }
        if (came > max || (mh.msg_flags & MSG_CTRUNC)) {
            for (size_t i = 0; i < *n; i++)
                close(fds[i]);
            *n = 0;
            errno = EMSGSIZE;
            return -1;
        }
    }
    return got;
}
