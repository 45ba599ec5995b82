#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

int mounts_make_scaffold(int scaffold_fd, struct berr *err)
{
    static const char *const dirs[] = {"upper", "work", "rootfs", "points"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        if (mkdirat(scaffold_fd, dirs[i], 0755) < 0 && errno != EEXIST)
            return berr_errno(err, "mkdir scaffold/%s", dirs[i]);
    }
    return 0;
}

/* The layers' common parent becomes the cwd so lowerdir= holds short relative names (65 bytes
 * a layer; see set_lowerdirs for how many fit). */
static char *lowerdir_option(const struct strv *layers, char **layers_dir, struct berr *err)
{
    if (layers->n == 0) {
        berr_set(err, BERR_FAILED, "image has no layers");
        return NULL;
    }
    const char *first = layers->v[0];
    size_t dirlen = (size_t)(strrchr(first, '/') - first);
    size_t len = 0;
    for (size_t i = 0; i < layers->n; i++)
        len += strlen(layers->v[i]) + 1;
    char *lower = xcalloc(1, len + 1);
    /* overlay lists the top layer first */
    for (size_t i = layers->n; i-- > 0;) {
        const char *l = layers->v[i];
        if (strncmp(l, first, dirlen) != 0 || l[dirlen] != '/' || strchr(l + dirlen + 1, '/')) {
            free(lower);
            berr_set(err, BERR_FAILED, "layers are not in one store directory");
            return NULL;
        }
        if (*lower)
            strcat(lower, ":");
        strcat(lower, l + dirlen + 1);
    }
    *layers_dir = strndup(first, dirlen);
    return lower;
}

/* The kernel explains a refused overlay in the fs context's log, not in errno. */
static int fs_error(struct berr *err, int fsfd, const char *what)
{
    int saved = errno;
    char log[512];
    ssize_t n = read(fsfd, log, sizeof(log) - 1);
    if (n > 2) {
        log[n] = '\0';
        log[strcspn(log, "\n")] = '\0';
        return berr_set(err, BERR_FAILED, "%s: %s", what, log + 2);
    }
    return berr_errnum(err, saved, "%s", what);
}

/* fsconfig takes string values of at most 256 bytes (the kernel's strndup_user limit), so
 * "lowerdir" holds three layers at most; longer lists go one layer at a time through
 * "lowerdir+" (Linux 6.8), top layer first as in the list. */
static int set_lowerdirs(int fsfd, const char *lower)
{
    if (strlen(lower) < 256)
        return (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir", lower, 0);
    _cleanup_free_ char *copy = xstrdup(lower);
    for (char *l = copy, *next; l; l = next) {
        next = strchr(l, ':');
        if (next)
            *next++ = '\0';
        if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", l, 0) < 0)
            return -1;
    }
    return 0;
}

/* Before Linux 6.8 there is no "lowerdir+": mount(2)'s option page takes about sixty layers
 * of short relative names (the cwd is the layers' directory). */
static int mount_overlay_legacy(const char *lower, const char *upper, const char *work, int target,
                                struct berr *err)
{
    _cleanup_free_ char *opts =
        upper ? xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)
              : xasprintf("lowerdir=%s", lower);
    if (strlen(opts) >= 4096)
        return berr_set(err, BERR_FAILED, "too many image layers for one overlay mount");
    char path[PROC_FD_PATH_MAX];
    proc_fd_path(target, path);
    if (mount("overlay", path, "overlay", MS_NODEV, opts) < 0)
        return berr_errno(err, "mount overlay rootfs");
    return 0;
}

static int attach_overlay(int fsfd, int target, struct berr *err)
{
    /* nodev: a device node shipped in an image must not open the host's device (no device
     * cgroup guards it yet); /dev is a tmpfs of its own with only docker's nodes */
    _cleanup_close_ int mnt = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
    if (mnt < 0)
        return fs_error(err, fsfd, "mount overlay rootfs");
    if (syscall(SYS_move_mount, mnt, "", target, "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return berr_errno(err, "attach overlay rootfs");
    return 0;
}

static int mount_overlay_fsapi(const char *lower, const char *upper, const char *work, int target,
                               struct berr *err)
{
    _cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return berr_errno(err, "overlayfs");
    if (set_lowerdirs(fsfd, lower) < 0 ||
        (upper && syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0) ||
        (upper && syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0) ||
        syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return fs_error(err, fsfd, "mount overlay rootfs");
    return attach_overlay(fsfd, target, err);
}

/* points, when given, is the top lower layer; a read-only root over it needs no upper one. */
static int mount_overlay(const struct mounts_spec *spec, const char *points, int *rootfd,
                         struct berr *err)
{
    _cleanup_free_ char *layers_dir = NULL;
    _cleanup_free_ char *layers = lowerdir_option(spec->layers, &layers_dir, err);
    if (!layers)
        return -1;
    _cleanup_free_ char *lower = points ? xasprintf("%s:%s", points, layers) : steal_ptr(&layers);
    bool upperless = points && spec->readonly_root;
    const char *upper = upperless ? NULL : spec->upper_path;
    const char *work = upperless ? NULL : spec->work_path;
    if (chdir(layers_dir) < 0)
        return berr_errno(err, "chdir %s", layers_dir);
    _cleanup_close_ int target = open(spec->rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (target < 0)
        return berr_errno(err, "open %s", spec->rootfs_path);
    /* A kernel without "lowerdir+" may take it and refuse only at CMD_CREATE (overlay
     * parses options late before 6.5), so any failure with a long list retries the old way. */
    if (mount_overlay_fsapi(lower, upper, work, target, err) < 0 &&
        (strlen(lower) < 256 || mount_overlay_legacy(lower, upper, work, target, err) < 0))
        return -1;
    /* the path again: the fd above is of the directory under the overlay */
    *rootfd = open(spec->rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*rootfd < 0)
        return berr_errno(err, "open rootfs");
    return 0;
}

/* An OCI bundle's root as runc takes it: the directory itself, recursively bound (private, as
 * everything in this namespace now is), written through unless the root is read-only. */
static int bind_root(const struct mounts_spec *spec, int *rootfd, struct berr *err)
{
    _cleanup_close_ int src = open(spec->bind_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (src < 0)
        return berr_errno(err, "open root %s", spec->bind_root);
    _cleanup_close_ int target = open(spec->rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (target < 0)
        return berr_errno(err, "open %s", spec->rootfs_path);
    char from[PROC_FD_PATH_MAX], to[PROC_FD_PATH_MAX];
    proc_fd_path(src, from);
    proc_fd_path(target, to);
    if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) < 0)
        return berr_errno(err, "bind root %s", spec->bind_root);
    *rootfd = open(spec->rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*rootfd < 0)
        return berr_errno(err, "open rootfs");
    return 0;
}

const struct mounts_fs mounts_default_fs[] = {
    {"/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
    {"/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
    {"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
     "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=67108864"},
    {"/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
    {"/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL},
};
const size_t mounts_ndefault_fs = ARRAY_SIZE(mounts_default_fs);

const char *const mounts_etc_files[] = {"hostname", "hosts", "resolv.conf"};
const size_t mounts_netc_files = ARRAY_SIZE(mounts_etc_files);

/* A new tmpfs with options, not attached anywhere yet: its root's fd. */
static int new_tmpfs(const char *const (*options)[2], size_t n, unsigned attrs, const char *what,
                     struct berr *err)
{
    _cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return berr_errno(err, "%s", what);
    for (size_t i = 0; i < n; i++) {
        if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, options[i][0], options[i][1], 0) < 0)
            return fs_error(err, fsfd, what);
    }
    if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return fs_error(err, fsfd, what);
    int mnt = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, attrs);
    if (mnt < 0)
        return fs_error(err, fsfd, what);
    return mnt;
}

static int open_beneath(int rootfd, const char *path)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* A missing mount point made: one mkdir in its parent when that is there without a link on
 * the way (/dev/pts in the /dev tmpfs just mounted), else the walk from the root. */
static int make_mount_point(int rootfd, const char *dest, struct berr *err)
{
    const char *slash = strrchr(dest, '/');
    if (slash && slash[1]) {
        _cleanup_free_ char *parent = xasprintf("%.*s", (int)(slash - dest), dest);
        _cleanup_close_ int dir = open_beneath(rootfd, parent[0] ? parent + 1 : ".");
        if (dir >= 0 && (mkdirat(dir, slash + 1, 0755) == 0 || errno == EEXIST))
            return 0;
    }
    _cleanup_close_ int made = mkdir_p_in_root(rootfd, dest, err);
    return made < 0 ? -1 : 0;
}

/* An image may not turn /proc, /dev or /sys into symlinks: the kernel filesystems would land
 * somewhere else in the tree and the masks would miss them. */
static int open_mount_point(int rootfd, const char *dest, struct berr *err)
{
    /* Looked at before anything is made: a dangling link would otherwise fail the mkdir with
     * a bare ENOENT that does not say the image is at fault. */
    int fd = open_beneath(rootfd, dest + 1);
    if (fd < 0 && errno == ENOENT) {
        if (make_mount_point(rootfd, dest, err) < 0)
            return -1;
        fd = open_beneath(rootfd, dest + 1);
    }
    if (fd < 0 && errno == ELOOP)
        return berr_set(err, BERR_FAILED, "image has a symlink on the path of %s", dest);
    if (fd < 0)
        return berr_errno(err, "open %s", dest);
    return fd;
}

/* dev >= 0: docker's /dev made already (make_dev), attached in place of its tmpfs. */
static int mount_defaults(const struct mounts_spec *spec, int rootfd, int dev, struct berr *err)
{
    size_t n;
    const struct mounts_fs *fs = mounts_kernel_fs(spec, &n);
    for (size_t i = 0; i < n; i++) {
        const struct mounts_fs *m = &fs[i];
        /* a user mount on the same destination replaces the default (docker's withMounts) */
        if (mounts_bound_at(spec, m->dest))
            continue;
        _cleanup_close_ int fd = open_mount_point(rootfd, m->dest, err);
        if (fd < 0)
            return berr_wrap(err, "mount %s", m->dest);
        if (dev >= 0 && !strcmp(m->dest, "/dev")) {
            if (move_tree(dev, fd, err) < 0)
                return berr_wrap(err, "mount %s", m->dest);
            continue;
        }
        char path[PROC_FD_PATH_MAX];
        proc_fd_path(fd, path);
        if (mount(m->source, path, m->fstype, m->flags, m->data) < 0)
            return berr_errno(err, "mount %s on %s", m->fstype, m->dest);
    }
    return 0;
}

struct dev_node {
    const char *name;
    unsigned major, minor;
};

static const struct dev_node dev_nodes[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const char *const dev_links[][2] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

/* 0666 whatever the umask of whoever runs us; a node that was there already gets the mode */
static int make_dev_nodes(int dev, struct berr *err)
{
    mode_t umask_before = umask(0);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(dev_nodes); i++) {
        const struct dev_node *d = &dev_nodes[i];
        if (mknodat(dev, d->name, S_IFCHR | 0666, makedev(d->major, d->minor)) == 0)
            continue;
        if (errno != EEXIST)
            rc = berr_errno(err, "mknod /dev/%s", d->name);
        else if (fchmodat(dev, d->name, 0666, 0) < 0)
            rc = berr_errno(err, "chmod /dev/%s", d->name);
    }
    umask(umask_before);
    return rc;
}

static bool exists_in_root(int rootfd, const char *path)
{
    _cleanup_close_ int fd = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
    return fd >= 0;
}

/* docker's nodes and links in dev; /dev/core only where the kernel has a /proc/kcore. */
static int fill_dev(int dev, bool kcore, struct berr *err)
{
    if (make_dev_nodes(dev, err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++) {
        if (!strcmp(dev_links[i][0], "core") && !kcore)
            continue;
        if (symlinkat(dev_links[i][1], dev, dev_links[i][0]) < 0 && errno != EEXIST)
            return berr_errno(err, "symlink /dev/%s", dev_links[i][0]);
    }
    return 0;
}

static int populate_dev(const struct mounts_spec *spec, int rootfd, struct berr *err)
{
    if (mounts_bound_at(spec, "/dev"))
        return 0;
    _cleanup_close_ int dev = open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY, 0);
    if (dev < 0)
        return berr_errno(err, "open /dev");
    return fill_dev(dev, exists_in_root(rootfd, "/proc/kcore"), err);
}

/* Whether docker's /dev is made beside the container (mounts_open_trees), not in it: where it
 * has docker's default mounts and no bind replaces /dev. */
static bool dev_made_beside(const struct mounts_spec *spec)
{
    return !spec->fs && !mounts_bound_at(spec, "/dev");
}

/* docker's /dev, whole, not attached yet: its tmpfs as mounts_default_fs has it, its nodes
 * and links (the host's /proc/kcore is the kernel's, as the container's will be), and the
 * mount points of the file systems mounted on it. */
static int make_dev(struct berr *err)
{
    static const char *const options[][2] = {{"mode", "755"}, {"size", "65536k"}};
    _cleanup_close_ int dev =
        new_tmpfs(options, ARRAY_SIZE(options), MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME,
                  "/dev: tmpfs", err);
    if (dev < 0 || fill_dev(dev, access("/proc/kcore", F_OK) == 0, err) < 0)
        return -1;
    static const char *const points[] = {"pts", "shm", "mqueue"};
    for (size_t i = 0; i < ARRAY_SIZE(points); i++) {
        /* 0755 whatever the umask of whoever runs us, as made in the container (umask 022) */
        if (mkdirat(dev, points[i], 0755) < 0 || fchmodat(dev, points[i], 0755, 0) < 0)
            return berr_errno(err, "mkdir /dev/%s", points[i]);
    }
    return steal_fd(&dev);
}

/* The /etc files that no bind replaces, in mount order: *n indexes into mounts_etc_files. */
struct etc_binds {
    size_t i[ARRAY_SIZE(mounts_etc_files)];
    size_t n;
    char dest[ARRAY_SIZE(mounts_etc_files)][32];
};

static void etc_binds_of(const struct mounts_spec *spec, struct etc_binds *e)
{
    e->n = 0;
    for (size_t i = 0; spec->etc_path && i < ARRAY_SIZE(mounts_etc_files); i++) {
        snprintf(e->dest[e->n], sizeof(e->dest[0]), "/etc/%s", mounts_etc_files[i]);
        if (!mounts_bound_at(spec, e->dest[e->n]))
            e->i[e->n++] = i;
    }
}

void mounts_trees_close(struct mounts_trees *t)
{
    while (t->n > 0)
        close(t->fd[--t->n]);
    if (t->dev >= 0)
        close(t->dev);
    t->dev = -1;
}

static int open_etc_dir(const struct mounts_spec *spec, struct berr *err)
{
    int etc = open(spec->etc_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (etc < 0)
        return berr_errno(err, "open %s", spec->etc_path);
    return etc;
}

static int open_trees(const struct mounts_spec *spec, const struct etc_binds *e,
                      struct mounts_trees *t, struct berr *err)
{
    _cleanup_free_ const struct mount_bind **order =
        mounts_binds_by_depth(spec->binds, spec->nbinds);
    for (size_t k = 0; k < spec->nbinds; k++) {
        int fd = open_bind_tree(order[k], err);
        if (fd < 0)
            return -1;
        t->fd[t->n++] = fd;
    }
    _cleanup_close_ int etc = e->n ? open_etc_dir(spec, err) : -1;
    if (e->n && etc < 0)
        return -1;
    for (size_t k = 0; k < e->n; k++) {
        int fd =
            open_file_tree(etc, mounts_etc_files[e->i[k]], e->dest[k], spec->readonly_root, err);
        if (fd < 0)
            return berr_wrap(err, "mount %s", e->dest[k]);
        t->fd[t->n++] = fd;
    }
    return 0;
}

int mounts_open_trees(const struct mounts_spec *spec, struct mounts_trees *t, struct berr *err)
{
    *t = (struct mounts_trees)MOUNTS_TREES_NONE;
    struct etc_binds e;
    etc_binds_of(spec, &e);
    bool dev = dev_made_beside(spec);
    if (spec->nbinds + e.n + dev > MOUNTS_MAX_TREES)
        return 0;
    if ((dev && (t->dev = make_dev(err)) < 0) || open_trees(spec, &e, t, err) < 0) {
        mounts_trees_close(t);
        return -1;
    }
    return 0;
}

/* Each bind, then each /etc file, from the trees given when they are this spec's (as many as
 * it binds), else each opened here just before it is attached. */
static int mount_binds(const struct mounts_spec *spec, int rootfd, struct mounts_trees *given,
                       struct berr *err)
{
    struct etc_binds e;
    etc_binds_of(spec, &e);
    if (given->n != spec->nbinds + e.n)
        while (given->n > 0)
            close(given->fd[--given->n]); /* not this spec's */
    const int *next = given->fd;
    _cleanup_free_ const struct mount_bind **order =
        mounts_binds_by_depth(spec->binds, spec->nbinds);
    for (size_t k = 0; k < spec->nbinds; k++) {
        _cleanup_close_ int opened = given->n ? -1 : open_bind_tree(order[k], err);
        int tree = given->n ? *next++ : opened;
        if (tree < 0 || bind_tree_at(rootfd, order[k], tree, err) < 0)
            return -1;
    }
    _cleanup_close_ int etc = e.n && !given->n ? open_etc_dir(spec, err) : -1;
    if (e.n && !given->n && etc < 0)
        return -1;
    for (size_t k = 0; k < e.n; k++) {
        _cleanup_close_ int opened = given->n ? -1
                                              : open_file_tree(etc, mounts_etc_files[e.i[k]],
                                                               e.dest[k], spec->readonly_root, err);
        int tree = given->n ? *next++ : opened;
        if (tree < 0 || file_tree_at(rootfd, tree, e.dest[k], err) < 0)
            return berr_wrap(err, "mount %s", e.dest[k]);
    }
    return 0;
}

/* The mount points layer (points.c): a new tmpfs, filled before it is attached; *complete false
 * when it cannot serve (a mount point it cannot make there). */
static int make_points(const struct mounts_spec *spec, int *fd, bool *complete, struct berr *err)
{
    *fd = -1;
    static const char *const options[][2] = {
        {"mode", "755"}, {"size", "4k"}, {"nr_inodes", "4096"}};
    _cleanup_close_ int mnt =
        new_tmpfs(options, ARRAY_SIZE(options), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                  "mount points: tmpfs", err);
    if (mnt < 0)
        return -1;
    if (mounts_fill_points(spec, mnt, complete, err) < 0)
        return -1;
    *fd = steal_fd(&mnt);
    return 0;
}

/* Attached on the scaffold's points/ (in this namespace only), where overlayfs takes a path;
 * under the old root, so that it goes with the old root's one detach at pivot_root rather
 * than cost a grace period of its own when its fd is closed. NULL for a scaffold made before
 * there was a points/. */
static char *attach_points(const struct mounts_spec *spec, int points)
{
    const char *slash = strrchr(spec->rootfs_path, '/');
    if (!slash)
        return NULL;
    char *where = xasprintf("%.*s/points", (int)(slash - spec->rootfs_path), spec->rootfs_path);
    _cleanup_close_ int dir = open(where, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0 || syscall(SYS_move_mount, points, "", dir, "",
                           MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
        free(where);
        return NULL;
    }
    return where;
}

static int mount_root(const struct mounts_spec *spec, int *rootfd, struct berr *err)
{
    _cleanup_close_ int points = -1;
    bool complete = false;
    if (make_points(spec, &points, &complete, err) < 0)
        return -1;
    /* attached even when unused: a detached mount costs a grace period when its fd closes */
    _cleanup_free_ char *path = attach_points(spec, points);
    trace_phase("mount-points");
    return mount_overlay(spec, complete ? path : NULL, rootfd, err);
}

int mounts_build_rootfs(const struct mounts_spec *spec, int *rootfd_out, struct berr *err)
{
    /* Nothing done in this namespace may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return berr_errno(err, "make / private");
    _cleanup_close_ int rootfd = -1;
    trace_phase("private-root");
    if ((spec->bind_root ? bind_root(spec, &rootfd, err) : mount_root(spec, &rootfd, err)) < 0)
        return -1;
    trace_phase("rootfs-overlay");
    /* attached as they are taken, so that closing them costs nothing; after a failure the
     * rest go with them */
    _cleanup_(mounts_trees_close) struct mounts_trees given = MOUNTS_TREES_NONE;
    if (spec->take_trees && spec->take_trees(spec->trees_ctx, &given, err) < 0)
        return -1;
    trace_phase("trees");
    int dev = dev_made_beside(spec) ? given.dev : -1;
    if (mount_defaults(spec, rootfd, dev, err) < 0 ||
        (dev < 0 && populate_dev(spec, rootfd, err) < 0))
        return -1;
    trace_phase("default-mounts");
    if (mount_binds(spec, rootfd, &given, err) < 0)
        return -1;
    trace_phase("binds");
    if (mounts_mask_paths(rootfd, spec, err) < 0)
        return -1;
    trace_phase("masks");
    *rootfd_out = steal_fd(&rootfd);
    return 0;
}

int mounts_enter_root(int rootfd, struct berr *err)
{
    if (fchdir(rootfd) < 0)
        return berr_errno(err, "chdir to rootfs");
    /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only
     * the container's tree, with no path back to the host's. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return berr_errno(err, "pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        return berr_errno(err, "detach old root");
    if (chdir("/") < 0)
        return berr_errno(err, "chdir /");
    return 0;
}

int mounts_finalize(const struct mounts_spec *spec, struct berr *err)
{
    if (!spec->readonly_root)
        return 0;
    /* A remount would replace the root's per-mount flags with MS_RDONLY alone and drop the
     * overlay's nodev; mount_setattr changes only the one attribute. Not recursive: /proc,
     * /dev/shm and the binds keep their own modes, as under docker. */
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
        return berr_errno(err, "make the root read-only");
    return 0;
}
