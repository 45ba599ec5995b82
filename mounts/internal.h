/* Private to mounts/: helpers shared by its files. */
#ifndef BERTH_MOUNTS_INTERNAL_H
#define BERTH_MOUNTS_INTERNAL_H

#include "mounts.h"

#include <sys/stat.h>

/* Make treefd (from open_tree) private, optionally read-only recursively, and move it onto
 * targetfd. */
int attach_tree(int treefd, int targetfd, bool readonly, unsigned attrs, struct berr *err);
/* treefd (attributes set already) moved onto targetfd. */
int move_tree(int treefd, int targetfd, struct berr *err);
/* A bind's source as a detached tree (open_tree), its attributes set (private, read-only
 * recursively for :ro); then moved onto its destination inside rootfd, made there with the
 * tree's type when the image lacks it. */
int open_bind_tree(const struct mount_bind *b, struct berr *err);
int bind_tree_at(int rootfd, const struct mount_bind *b, int tree, struct berr *err);
/* The same for srcdir/name, a file we made, bound onto dest. */
int open_file_tree(int srcdir, const char *name, const char *dest, bool readonly, struct berr *err);
int file_tree_at(int rootfd, int tree, const char *dest, struct berr *err);
/* The kernel file systems spec mounts, *n of them: its own, or docker's defaults. */
const struct mounts_fs *mounts_kernel_fs(const struct mounts_spec *spec, size_t *n);
/* Whether one of spec's binds lands on dest exactly (it then replaces a default mount). */
bool mounts_bound_at(const struct mounts_spec *spec, const char *dest);
/* The spec's masked (hidden) and read-only paths. */
int mounts_mask_paths(int rootfd, const struct mounts_spec *spec, struct berr *err);
/* ---- the image's layers as overlayfs will merge them (layers.c) ---- */

/* One directory of the merged view: the layers' fds for it (O_RDONLY, for their xattrs),
 * topmost first, -1 where a layer contributes nothing. */
struct merged_dir {
    int *fd;
    size_t n;
};
/* The root of layers (bottom first). */
int merged_root(const struct strv *layers, struct merged_dir *d, struct berr *err);
void merged_close(struct merged_dir *d);
/* The topmost layer holding name in d, its stat in *st; -1 when no layer does or a whiteout
 * hides it (ENOENT), -1 with another errno when a layer cannot say: a lower layer's file must
 * not stand in for one the overlay would show. */
ssize_t merged_top_entry(const struct merged_dir *d, const char *name, struct stat *st);
/* d/name, a directory whose topmost instance is in layer top: it and the lower directories of
 * that name, down to an opaque one or a layer where the name is not a directory. */
int merged_child(const struct merged_dir *d, size_t top, const char *name, struct merged_dir *out,
                 struct berr *err);

/* path with every link among its components that the layers hold replaced by where it leads,
 * as RESOLVE_IN_ROOT finds it in the merged root ('..' stops at the root); the components after
 * the first one the layers lack are kept as they are. NULL (err) for a loop, a non-directory
 * on the way, or a layer that cannot be read. */
char *mounts_resolve_in_layers(const struct strv *layers, const char *path, struct berr *err);

/* ---- the mount points layer (points.c) ---- */

/* Fill pointsfd (the root of an empty tmpfs) with every mount point the container's root needs
 * and the image lacks: the tmpfs then lies on the layers as overlay's top lower layer, so that
 * no mount point is made by a copy-up into the upper layer, and a read-only root needs none.
 * *complete is false when some mount point cannot be made there exactly as the overlay would
 * show it (a non-directory or links that cannot be followed on its path, an extended attribute
 * to carry): the layer is then not used and the points are made in the upper layer, as
 * before. */
int mounts_fill_points(const struct mounts_spec *spec, int pointsfd, bool *complete,
                       struct berr *err);

#endif
