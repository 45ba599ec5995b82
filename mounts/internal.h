/* Private to mounts/: helpers shared by its files. */
#ifndef BERTH_MOUNTS_INTERNAL_H
#define BERTH_MOUNTS_INTERNAL_H

#include "mounts.h"

/* Make treefd (from open_tree) private, optionally read-only recursively, and move it onto
 * targetfd. */
int attach_tree(int treefd, int targetfd, bool readonly, unsigned attrs, struct berr *err);
/* Bind a host path (recursive) onto its destination inside rootfd. */
int bind_host_path(int rootfd, const struct mount_bind *b, struct berr *err);
/* Bind srcdir/name (a file we made) onto dest inside rootfd. */
int bind_file_at(int rootfd, int srcdir, const char *name, const char *dest, bool readonly,
                 struct berr *err);
/* The spec's masked (hidden) and read-only paths. */
int mounts_mask_paths(int rootfd, const struct mounts_spec *spec, struct berr *err);
/* "/proc/self/fd/N" for mount(2) targets. */
#define FD_PATH_MAX 32
static inline void fd_path(int fd, char out[FD_PATH_MAX])
{
    snprintf(out, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

#endif
