/* The squashfs layers of Storm's runc path (storm-interface.md §6.3 steps 1-4 and 7), under
 * the run root the cfg names (worker.launcher.oci.run-root, root's, 0700): each layer file
 * mounted once, read-only, from a read-only autoclear loop device at
 * layers/<sha256 of its real path>/mnt (upstream's layout for the real paths Storm writes), shared
 * by the containers that name it and kept, the most recently used first, up to the count reap is
 * given (a layer whose file was deleted goes first); a container's root is the overlay <cid>/rootfs
 * of its layers with <cid>/upper and <cid>/work. Every layer is a regular file the <user> can open,
 * under worker.launcher.oci.allowed.layers, with squashfs's magic; the loop device gets the fd
 * opened as the <user>, never a path. */
#include "launcher/worker-launcher/wl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_RUN_ROOT "/run/worker-launcher"

int wl_oci_run_root(const struct wl *wl, struct wl_oci_root *r, struct berr *err)
{
    *r = (struct wl_oci_root){.fd = -1, .layers = -1, .lock = -1};
    const char *path = conf_get(&wl->cfg, "worker.launcher.oci.run-root");
    path = path ? path : DEFAULT_RUN_ROOT;
    _cleanup_free_ char *clean = path[0] == '/' ? path_clean(path) : NULL;
    if (!clean || strcmp(clean, path) || !strcmp(path, "/"))
        return berr_set(err, BERR_USAGE,
                        "worker.launcher.oci.run-root %s is not a clean "
                        "absolute path other than /",
                        path);
    if (mkdir_p(path, 0700, err) < 0)
        return -1;
    r->fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (r->fd < 0 || fstat(r->fd, &st) < 0)
        return berr_errno(err, "run root %s", path);
    if (st.st_uid != 0 || (st.st_mode & 077))
        return berr_set(err, BERR_FAILED, "run root %s must be root's, mode 0700 (is %u %04o)",
                        path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    if (mkdirat(r->fd, "layers", 0700) < 0 && errno != EEXIST)
        return berr_errno(err, "%s/layers", path);
    r->layers = openat(r->fd, "layers", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (r->layers < 0)
        return berr_errno(err, "%s/layers", path);
    r->lock = openat(r->layers, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (r->lock < 0 || flock(r->lock, LOCK_EX) < 0)
        return berr_errno(err, "%s/layers/lock", path);
    r->path = xstrdup(path);
    return 0;
}

void wl_oci_root_close(struct wl_oci_root *r)
{
    int *fds[] = {&r->fd, &r->layers, &r->lock};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
    free(r->path);
    r->path = NULL;
}

/* the path the kernel has for an open file */
static int opened_path(int fd, char out[PATH_MAX], struct berr *err)
{
    char link[PROC_FD_PATH_MAX];
    proc_fd_path(fd, link);
    ssize_t n = readlink(link, out, PATH_MAX - 1);
    if (n < 0)
        return berr_errno(err, "readlink %s", link);
    out[n] = '\0';
    return 0;
}

/* realpath as the <user>, under the allowed directories, opened as the <user>, a regular file
 * with squashfs's magic; the fd */
int wl_oci_open_layer(const struct wl *wl, const char *path, struct berr *err)
{
    _cleanup_free_ char *real = wl_user_realpath(wl, "layer", path, err);
    if (!real)
        return -1;
    bool ok = conf_wl_layer_allowed(&wl->policy, real);
    if (!ok)
        return berr_set(err, BERR_USAGE,
                        "layer %s (%s) is not under worker.launcher.oci.allowed.layers", path,
                        real);
    _cleanup_close_ int fd =
        ident_open(&wl->user, real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, err);
    struct stat st;
    char magic[4];
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || pread(fd, magic, 4, 0) != 4 ||
        memcmp(magic, "hsqs", 4))
        return berr_set(err, BERR_USAGE, "layer %s is not a squashfs file", real);
    /* what was opened, not what realpath saw: a directory swapped for a link in between */
    char opened[PATH_MAX];
    if (opened_path(fd, opened, err) < 0)
        return -1;
    if (!conf_wl_layer_allowed(&wl->policy, opened))
        return berr_set(err, BERR_USAGE,
                        "layer %s (opened as %s) is not under worker.launcher.oci.allowed.layers",
                        path, opened);
    return steal_fd(&fd);
}

/* a free loop device bound read-only (and released with its last user) to fd */
static int loop_attach(int fd, char dev[32], struct berr *err)
{
    _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0)
        return berr_errno(err, "open /dev/loop-control");
    for (int tries = 0; tries < 20; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0)
            return berr_errno(err, "LOOP_CTL_GET_FREE");
        snprintf(dev, 32, "/dev/loop%d", n);
        _cleanup_close_ int loop = open(dev, O_RDONLY | O_CLOEXEC);
        if (loop < 0)
            return berr_errno(err, "open %s", dev);
        struct loop_config cfg = {.fd = (unsigned)fd};
        cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
        if (ioctl(loop, LOOP_CONFIGURE, &cfg) == 0)
            return steal_fd(&loop);
        if (errno != EBUSY) /* taken by another meanwhile: take the next free one */
            return berr_errno(err, "LOOP_CONFIGURE %s", dev);
    }
    return berr_set(err, BERR_FAILED, "no free loop device");
}

static bool is_mountpoint(int parent, const char *name)
{
    struct stat a, b;
    return fstatat(parent, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && fstat(parent, &a) == 0 &&
           a.st_dev != b.st_dev;
}

int wl_oci_mount_layer(const struct wl_oci_root *r, const char *path, int fd, char **mnt,
                       struct berr *err)
{
    /* keyed by the file opened, not by how the config spelled it: a link or a "//" to a
     * mounted layer must not take another loop device */
    char opened[PATH_MAX], hash[65];
    if (opened_path(fd, opened, err) < 0)
        return -1;
    sha256_hex(opened, strlen(opened), hash);
    if (mkdirat(r->layers, hash, 0700) < 0 && errno != EEXIST)
        return berr_errno(err, "layer dir %s", hash);
    _cleanup_close_ int dir =
        openat(r->layers, hash, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0 || (mkdirat(dir, "mnt", 0755) < 0 && errno != EEXIST))
        return berr_errno(err, "layer dir %s", hash);
    *mnt = xasprintf("%s/layers/%s/mnt", r->path, hash);
    if (is_mountpoint(dir, "mnt")) {
        /* the LRU mark reap goes by */
        _cleanup_free_ char *d = xasprintf("%s/layers/%s", r->path, hash);
        utimensat(AT_FDCWD, d, NULL, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    char dev[32];
    _cleanup_close_ int loop = loop_attach(fd, dev, err);
    if (loop < 0)
        return -1;
    if (mount(dev, *mnt, "squashfs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        return berr_errno(err, "mount %s (%s) on %s", dev, path, *mnt);
    return 0;
}

/* 0 when unmounted (or not mounted), -1 when in use (EBUSY) or failing */
static int umount_layer(const struct wl_oci_root *r, const char *hash)
{
    _cleanup_close_ int dir =
        openat(r->layers, hash, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0)
        return 0;
    _cleanup_free_ char *mnt = xasprintf("%s/layers/%s/mnt", r->path, hash);
    if (is_mountpoint(dir, "mnt") && umount2(mnt, UMOUNT_NOFOLLOW) < 0)
        return -1;
    unlinkat(dir, "mnt", AT_REMOVEDIR);
    unlinkat(r->layers, hash, AT_REMOVEDIR);
    return 0;
}

/* upstream's rule: a layer whose file was deleted (replaced by a newer localization) is
 * unmounted whatever the count; the loop device's backing file says so */
static bool backing_deleted(int dir)
{
    struct stat st;
    if (fstatat(dir, "mnt", &st, 0) < 0)
        return false;
    char path[96];
    snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file", major(st.st_dev),
             minor(st.st_dev));
    _cleanup_free_ char *text = NULL;
    struct berr ignored;
    if (read_file_at(AT_FDCWD, path, 8192, &text, NULL, &ignored) < 0)
        return false;
    text[strcspn(text, "\n")] = '\0';
    size_t n = strlen(text);
    return n >= 10 && !strcmp(text + n - 10, " (deleted)");
}

struct layer_dir {
    char name[65];
    struct timespec used;
};

static int by_use(const void *a, const void *b)
{
    const struct timespec *x = &((const struct layer_dir *)a)->used;
    const struct timespec *y = &((const struct layer_dir *)b)->used;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? 1 : -1;
    return x->tv_nsec < y->tv_nsec ? 1 : x->tv_nsec > y->tv_nsec ? -1 : 0;
}

/* The layer mounts beyond the keep most recently used go, those in use stay; -1 (with err)
 * when one could not be unmounted for another reason. */
int wl_oci_reap_layers(const struct wl_oci_root *r, long long keep, struct berr *err)
{
    /* readable: r->layers is an O_PATH fd, which getdents refuses */
    _cleanup_closedir_ DIR *d =
        dir_from_fd(openat(r->layers, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "layers", err);
    if (!d)
        return -1;
    struct layer_dir *v = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (strlen(de->d_name) != 64 ||
            fstatat(r->layers, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        v = xrealloc(v, (n + 1) * sizeof(*v));
        memcpy(v[n].name, de->d_name, 65);
        v[n++].used = st.st_mtim;
    }
    qsort(v, n, sizeof(*v), by_use);
    int rc = 0;
    long long kept = 0;
    for (size_t i = 0; i < n; i++) {
        _cleanup_close_ int dir = openat(r->layers, v[i].name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        bool mounted = dir >= 0 && is_mountpoint(dir, "mnt");
        if (mounted && kept < keep && !backing_deleted(dir)) {
            kept++;
            continue;
        }
        if (umount_layer(r, v[i].name) < 0) {
            if (errno == EBUSY) {
                printf("Layer mount %s is in use, kept\n", v[i].name);
                kept++;
                continue;
            }
            rc = berr_errno(err, "unmount layer %s", v[i].name);
        }
    }
    free(v);
    return rc;
}

int wl_oci_mount_rootfs(const struct wl_oci_root *r, const char *cid, const struct strv *mnts,
                        char **rootfs, struct berr *err)
{
    if (mkdirat(r->fd, cid, 0700) < 0)
        return berr_errno(err, "%s/%s", r->path, cid);
    _cleanup_close_ int dir = openat(r->fd, cid, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0 || mkdirat(dir, "rootfs", 0700) < 0 || mkdirat(dir, "upper", 0755) < 0 ||
        mkdirat(dir, "work", 0700) < 0)
        return berr_errno(err, "%s/%s", r->path, cid);
    /* overlay lists the top first; the manifest's order is the base first */
    struct strv lower = {0};
    for (size_t i = mnts->n; i-- > 0;)
        strv_push(&lower, mnts->v[i]);
    _cleanup_free_ char *joined = strv_join(&lower, ":");
    strv_free(&lower);
    _cleanup_free_ char *data = xasprintf("upperdir=%s/%s/upper,workdir=%s/%s/work,lowerdir=%s",
                                          r->path, cid, r->path, cid, joined);
    *rootfs = xasprintf("%s/%s/rootfs", r->path, cid);
    if (mount("overlay", *rootfs, "overlay", MS_NOSUID | MS_NODEV, data) < 0)
        return berr_errno(err, "mount the overlay on %s", *rootfs);
    return 0;
}

int wl_oci_remove_rootfs(const struct wl_oci_root *r, const char *cid, struct berr *err)
{
    _cleanup_close_ int dir = openat(r->fd, cid, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0)
        return errno == ENOENT ? 0 : berr_errno(err, "%s/%s", r->path, cid);
    _cleanup_free_ char *rootfs = xasprintf("%s/%s/rootfs", r->path, cid);
    /* the container's last process may still be leaving its namespace: upstream's backoff */
    for (int i = 0; is_mountpoint(dir, "rootfs") && i < 40; i++) {
        if (umount2(rootfs, UMOUNT_NOFOLLOW) == 0 || errno != EBUSY)
            break;
        struct timespec ts = {.tv_nsec = (i < 10 ? 1L << i : 1000L) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (is_mountpoint(dir, "rootfs"))
        return berr_set(err, BERR_FAILED, "%s is still mounted", rootfs);
    return remove_tree_at(r->fd, cid, err);
}
