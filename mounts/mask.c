#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

/* docker's MaskedPaths (moby daemon/pkg/oci/defaults.go, v29) */
const char *const mounts_masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
};

const size_t mounts_nmasked_paths = ARRAY_SIZE(mounts_masked_paths);

const char *const mounts_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
const size_t mounts_nreadonly_paths = ARRAY_SIZE(mounts_readonly_paths);

/* Masking binds the container's /dev/null: make sure it is the real device and not a file an
 * image or a bind could have put there. */
static int open_dev_null(int rootfd, struct berr *err)
{
    int fd = open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        return berr_errno(err, "open /dev/null");
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        close(fd);
        return berr_set(err, BERR_FAILED, "/dev/null in the container is not the null device");
    }
    return fd;
}

/* A masked directory shows an empty read-only tmpfs. The first one masked gets a new tmpfs
 * and *empty its root; the others get clones of that mount, which share its superblock (~7 us
 * each, where a new tmpfs costs ~18: docker's list has a thermal_throttle directory per CPU on
 * the hosts that have them). */
static int mask_dir(int rootfd, int fd, const char *path, int *empty, struct berr *err)
{
    if (*empty >= 0) {
        _cleanup_close_ int tree = (int)syscall(
            SYS_open_tree, *empty, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0)
            return berr_errno(err, "mask %s", path);
        if (attach_tree(tree, fd, true, 0, err) < 0)
            return berr_wrap(err, "mask %s", path);
        return 0;
    }
    char target[PROC_FD_PATH_MAX];
    proc_fd_path(fd, target);
    if (mount("tmpfs", target, "tmpfs", MS_RDONLY, "nr_blocks=1,nr_inodes=1") < 0)
        return berr_errno(err, "mask %s", path);
    /* the path again: fd is of the directory under the new mount */
    *empty = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
    if (*empty < 0)
        return berr_errno(err, "open %s", path);
    return 0;
}

static int mask_one(int rootfd, int devnull, const char *path, int *empty, struct berr *err)
{
    _cleanup_close_ int fd = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        return (errno == ENOENT || errno == EACCES) ? 0 : berr_errno(err, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(err, "stat %s", path);
    if (S_ISDIR(st.st_mode))
        return mask_dir(rootfd, fd, path, empty, err);
    char target[PROC_FD_PATH_MAX];
    proc_fd_path(fd, target);
    char src[PROC_FD_PATH_MAX];
    proc_fd_path(devnull, src);
    if (mount(src, target, NULL, MS_BIND, NULL) < 0)
        return berr_errno(err, "mask %s", path);
    return 0;
}

static int readonly_one(int rootfd, const char *path, struct berr *err)
{
    _cleanup_close_ int fd = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        return errno == ENOENT ? 0 : berr_errno(err, "open %s", path);
    _cleanup_close_ int tree = (int)syscall(
        SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0)
        return berr_errno(err, "read-only %s", path);
    if (attach_tree(tree, fd, true, 0, err) < 0)
        return berr_wrap(err, "read-only %s", path);
    return 0;
}

/* Newer docker also masks each CPU's thermal_throttle directory; listed at create from the
 * host's sysfs, which is what the container's /sys shows of the CPUs. */
void mounts_masked_paths_here(struct strv *out)
{
    for (size_t i = 0; i < mounts_nmasked_paths; i++)
        strv_push(out, mounts_masked_paths[i]);
    DIR *d = opendir("/sys/devices/system/cpu");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strncmp(de->d_name, "cpu", 3) || de->d_name[3] < '0' || de->d_name[3] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/sys/devices/system/cpu/%s/thermal_throttle", de->d_name);
        if (access(path, F_OK) == 0)
            strv_push(out, path);
    }
    if (d)
        closedir(d);
}

int mounts_mask_paths(int rootfd, const struct mounts_spec *spec, struct berr *err)
{
    _cleanup_close_ int devnull = open_dev_null(rootfd, err);
    if (devnull < 0)
        return -1;
    _cleanup_close_ int empty = -1;
    for (size_t i = 0; spec->masked && i < spec->masked->n; i++) {
        if (mask_one(rootfd, devnull, spec->masked->v[i], &empty, err) < 0)
            return -1;
    }
    for (size_t i = 0; spec->readonly && i < spec->readonly->n; i++) {
        if (readonly_one(rootfd, spec->readonly->v[i], err) < 0)
            return -1;
    }
    return 0;
}
