/* mounts — the container's filesystem view, built inside its fresh mount namespace: the
 * rootfs as an overlay of image layers under a per-container scaffold (upper dir; none for a
 * read-only root) with the mount points in a tmpfs layer of their own (points.c), docker's
 * default mounts (/proc, /dev and its nodes, /dev/pts, /dev/shm, /dev/mqueue, /sys), bind mounts
 * (recursive, private, recursively read-only for :ro), masked and read-only paths, pivot_root,
 * and the final read-only root. Every destination is resolved inside the rootfs and mounted
 * through a file descriptor, never by joining strings. Knows nothing of processes or images. */
#ifndef BERTH_MOUNTS_H
#define BERTH_MOUNTS_H

#include "util/util.h"

struct mount_bind {
    char *source; /* absolute host path */
    char *dest;   /* absolute, cleaned container path, not "/" */
    bool readonly;
    /* An OCI bundle's: MOUNT_ATTR_NOSUID/NOEXEC/NODEV on the bind, and "bind" (the source's
     * own mount only) rather than "rbind". docker's -v has neither. */
    unsigned attrs;
    bool single;
};

/* docker mounts shallower destinations first so a deeper bind lands on top of its parent: the
 * binds in that order (stable), NULL-terminated; the caller frees the array. */
const struct mount_bind **mounts_binds_by_depth(const struct mount_bind *binds, size_t n);

/* docker's default mounts (daemon/pkg/oci/defaults.go), in mount order, as berth makes them
 * in every container (a -v bind on the same destination replaces one). */
struct mounts_fs {
    const char *dest, *fstype, *source;
    unsigned long flags; /* MS_* */
    const char *data;    /* comma-separated, or NULL */
};
extern const struct mounts_fs mounts_default_fs[];
extern const size_t mounts_ndefault_fs;
/* The state directory's files bound onto /etc/<name> (read-only with a read-only root). */
extern const char *const mounts_etc_files[];
extern const size_t mounts_netc_files;
/* docker's masked paths (hidden: an empty read-only tmpfs on a directory, /dev/null on a file)
 * and read-only paths, under /proc and /sys. */
extern const char *const mounts_masked_paths[];
extern const size_t mounts_nmasked_paths;
extern const char *const mounts_readonly_paths[];
extern const size_t mounts_nreadonly_paths;
/* The masked paths for a container on this host: docker's list, then each CPU's
 * thermal_throttle directory that this host's sysfs has (newer docker masks them too). */
void mounts_masked_paths_here(struct strv *out);

/* Parse docker's `-v SRC:DST[:MODE]` (bind mounts only: SRC must be absolute). */
int mounts_parse_volume(const char *arg, struct mount_bind *out, struct berr *err);
void mount_bind_free(struct mount_bind *b);

/* The binds' trees (the /etc files' too) and docker's /dev, made by another process beside the
 * container's start (mounts_open_trees), so that the container's side, whose steps come one
 * after the other, only attaches them. */
#define MOUNTS_MAX_TREES 64 /* with /dev */
struct mounts_trees {
    int fd[MOUNTS_MAX_TREES];
    size_t n;
    int dev; /* docker's /dev, made and filled; -1: none */
};
#define MOUNTS_TREES_NONE                                                                          \
    {                                                                                              \
        .n = 0, .dev = -1                                                                          \
    }

struct mounts_spec {
    const struct strv *layers; /* unpacked layer dirs, bottom first */
    /* Paths, not fds: an fd opened before the clone points into the host's mount namespace,
     * where nothing of the container may be mounted. */
    const char *rootfs_path; /* where the overlay is mounted (the scaffold's rootfs/) */
    const char *upper_path, *work_path;
    /* Instead of the layers: a directory (an OCI bundle's root) bound on rootfs_path. */
    const char *bind_root;
    bool readonly_root;
    const struct mount_bind *binds;
    size_t nbinds;
    /* The kernel filesystems to mount, in order; NULL: docker's (mounts_default_fs). */
    const struct mounts_fs *fs;
    size_t nfs;
    const char *etc_path; /* dir holding hostname, hosts, resolv.conf to bind in /etc; NULL: none */
    const char *workdir;  /* the process's cwd: made if the image lacks it */
    const struct strv *masked;   /* hidden paths */
    const struct strv *readonly; /* read-only paths */
    /* Asked, once the root is mounted and before the kernel file systems, for what
     * mounts_open_trees made for this spec; NULL, or none given: they are made here. */
    int (*take_trees)(void *ctx, struct mounts_trees *t, struct berr *err);
    void *trees_ctx;
};

/* The file at path (absolute, in the container) as the overlay of layers (bottom first) will
 * show it before anything is written, opened with flags: overlayfs's rules for whiteouts,
 * opaque directories and symlinks, read from the unpacked layers. */
int mounts_open_in_layers(const struct strv *layers, const char *path, int flags, struct berr *err);

/* Host side, before the container exists: check each bind source (docker creates a missing
 * one as a 0755 directory). Only root's symlinks are followed in a source, here and when it
 * is mounted: a link owned by anyone else is refused. */
int mounts_prepare_sources(const struct mount_bind *binds, size_t n, struct berr *err);

/* Host side, while the container builds its root: each bind's source as mounts_build_rootfs
 * would bind it, then each /etc file, in the order it mounts them, as detached trees with
 * their attributes set, and docker's /dev where the container would make it; none when there
 * are more than MOUNTS_MAX_TREES. Only root's links are followed, as there. On failure none is
 * left open. */
int mounts_open_trees(const struct mounts_spec *spec, struct mounts_trees *t, struct berr *err);
void mounts_trees_close(struct mounts_trees *t);

/* Create the empty scaffold layout (upper/, work/, rootfs/, points/) under scaffold_fd. */
int mounts_make_scaffold(int scaffold_fd, struct berr *err);

/* Container side (in the new mount namespace, before pivot): assemble everything. On success
 * *rootfd is an O_PATH fd of the finished root, ready for mounts_enter_root. */
int mounts_build_rootfs(const struct mounts_spec *spec, int *rootfd, struct berr *err);

/* pivot_root into rootfd, detach the old root, chdir("/"). */
int mounts_enter_root(int rootfd, struct berr *err);

/* After pivot: make / read-only if asked (the mounts on top keep their own modes). */
int mounts_finalize(const struct mounts_spec *spec, struct berr *err);

#endif
