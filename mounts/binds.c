#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

void mount_bind_free(struct mount_bind *b)
{
    free(b->source);
    free(b->dest);
    *b = (struct mount_bind){0};
}

static int parse_mode(const char *mode, bool *readonly, struct berr *err)
{
    _cleanup_free_ char *copy = xstrdup(mode);
    int rw_seen = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "ro") || !strcmp(tok, "rw")) {
            *readonly = !strcmp(tok, "ro");
            rw_seen++;
        } else if (!strcmp(tok, "private") || !strcmp(tok, "rprivate")) {
            /* binds are always private: the default, accepted for docker compatibility */
        } else {
            return berr_set(err, BERR_USAGE, "invalid mode: %s", mode);
        }
    }
    if (rw_seen > 1)
        return berr_set(err, BERR_USAGE, "invalid mode: %s", mode);
    return 0;
}

int mounts_parse_volume(const char *arg, struct mount_bind *out, struct berr *err)
{
    _cleanup_free_ char *copy = xstrdup(arg);
    char *parts[3] = {0};
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        if (n == 3)
            return berr_set(err, BERR_USAGE, "invalid spec: %s: too many colons", arg);
        parts[n++] = tok;
    }
    if (n < 2)
        return berr_set(err, BERR_USAGE,
                        "invalid spec: %s: berth supports only bind mounts (SRC:DST[:MODE])", arg);
    if (parts[0][0] != '/')
        return berr_set(err, BERR_USAGE,
                        "invalid spec: %s: source must be an absolute path (named volumes are "
                        "not supported)",
                        arg);
    if (parts[1][0] != '/')
        return berr_set(err, BERR_USAGE,
                        "invalid mount config for type \"bind\": invalid mount path: '%s' mount "
                        "path must be absolute",
                        parts[1]);
    _cleanup_free_ char *dest = path_clean(parts[1]);
    if (!strcmp(dest, "/"))
        return berr_set(err, BERR_USAGE, "invalid specification: destination can't be '/' in '%s'",
                        arg);
    bool readonly = false;
    if (n == 3 && parse_mode(parts[2], &readonly, err) < 0)
        return -1;
    out->source = path_clean(parts[0]);
    out->dest = steal_ptr(&dest);
    out->readonly = readonly;
    return 0;
}

/* Bind sources may lie in directories a user owns (Storm binds the worker's own directory
 * and <worker dir>/tmp): only root's symlinks are followed on the way, so a user cannot point
 * root's bind, or the directory docker makes for a missing source, at another host path. */
static int open_bind_source(const char *source, bool make_dirs, struct berr *err)
{
    int fd = open_host_path(source, 0, make_dirs, err);
    if (fd < 0)
        return berr_wrap(err, "bind source %s", source);
    return fd;
}

int mounts_prepare_sources(const struct mount_bind *binds, size_t n, struct berr *err)
{
    for (size_t i = 0; i < n; i++) {
        /* docker's -v creates a missing source as a root-owned 0755 directory */
        _cleanup_close_ int fd = open_bind_source(binds[i].source, true, err);
        if (fd < 0)
            return -1;
    }
    return 0;
}

/* The destination must exist with the source's type (dir or not); create it if missing. */
static int open_bind_target(int rootfd, const char *dest, bool is_dir, struct berr *err)
{
    int fd = open_in_root(rootfd, dest, O_PATH, 0);
    if (fd < 0 && errno != ENOENT)
        return berr_errno(err, "open %s", dest);
    if (fd < 0) {
        /* made where the image's links point, inside the root, as docker does */
        _cleanup_free_ char *where = follow_in_root(rootfd, dest, err);
        if (!where)
            return -1;
        if (is_dir)
            return mkdir_p_in_root(rootfd, where, err);
        _cleanup_close_ int parent = -1;
        const char *base = NULL;
        if (open_parent_in_root(rootfd, where, true, &parent, &base, err) < 0)
            return -1;
        /* the new file itself is the mount target: no second lookup of dest */
        int f = openat(parent, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0)
            return berr_errno(err, "create %s", dest);
        return f;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return berr_errno(err, "stat %s", dest);
    }
    if (S_ISDIR(st.st_mode) != is_dir) {
        close(fd);
        return berr_set(err, BERR_USAGE,
                        "cannot mount %s onto %s: Are you trying to mount a directory onto a "
                        "file (or vice-versa)?",
                        is_dir ? "a directory" : "a file", dest);
    }
    return fd;
}

/* treefd private, read-only recursively for :ro, with attrs (MOUNT_ATTR_*) set */
static int set_tree_attributes(int treefd, bool readonly, unsigned attrs, struct berr *err)
{
    struct mount_attr attr = {.propagation = MS_PRIVATE, .attr_set = attrs};
    if (readonly)
        attr.attr_set |= MOUNT_ATTR_RDONLY;
    /* AT_RECURSIVE: a :ro bind of /sys/fs/cgroup must leave no writable submount inside. */
    if (syscall(SYS_mount_setattr, treefd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
        0)
        return berr_errno(err, "set mount attributes");
    return 0;
}

int move_tree(int treefd, int targetfd, struct berr *err)
{
    if (syscall(SYS_move_mount, treefd, "", targetfd, "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return berr_errno(err, "move mount");
    return 0;
}

int attach_tree(int treefd, int targetfd, bool readonly, unsigned attrs, struct berr *err)
{
    if (set_tree_attributes(treefd, readonly, attrs, err) < 0)
        return -1;
    return move_tree(treefd, targetfd, err);
}

/* Resolved in whichever mount namespace calls (the container's, or its monitor's: the host's)
 * and cloned through the fd that was checked: a link swapped in since the host side looked is
 * refused or never seen. */
int open_bind_tree(const struct mount_bind *b, struct berr *err)
{
    _cleanup_close_ int src = open_bind_source(b->source, false, err);
    if (src < 0)
        return -1;
    _cleanup_close_ int tree = (int)syscall(SYS_open_tree, src, "",
                                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                (b->single ? 0 : AT_RECURSIVE) | AT_EMPTY_PATH);
    if (tree < 0)
        return berr_errno(err, "bind mount %s", b->source);
    if (set_tree_attributes(tree, b->readonly, b->attrs, err) < 0)
        return berr_wrap(err, "bind mount %s on %s", b->source, b->dest);
    return steal_fd(&tree);
}

int open_file_tree(int srcdir, const char *name, const char *dest, bool readonly, struct berr *err)
{
    _cleanup_close_ int tree =
        (int)syscall(SYS_open_tree, srcdir, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0)
        return berr_errno(err, "open %s", name);
    if (set_tree_attributes(tree, readonly, 0, err) < 0)
        return berr_wrap(err, "bind %s", dest);
    return steal_fd(&tree);
}

int bind_tree_at(int rootfd, const struct mount_bind *b, int tree, struct berr *err)
{
    struct stat st;
    if (fstat(tree, &st) < 0)
        return berr_errno(err, "stat %s", b->source);
    _cleanup_close_ int target = open_bind_target(rootfd, b->dest, S_ISDIR(st.st_mode), err);
    if (target < 0)
        return berr_wrap(err, "bind mount %s", b->source);
    if (move_tree(tree, target, err) < 0)
        return berr_wrap(err, "bind mount %s on %s", b->source, b->dest);
    return 0;
}

int file_tree_at(int rootfd, int tree, const char *dest, struct berr *err)
{
    _cleanup_close_ int target = open_bind_target(rootfd, dest, false, err);
    if (target < 0)
        return -1;
    if (move_tree(tree, target, err) < 0)
        return berr_wrap(err, "bind %s", dest);
    return 0;
}

static size_t depth(const char *path)
{
    size_t d = 0;
    for (; *path; path++)
        d += *path == '/';
    return d;
}

bool mounts_bound_at(const struct mounts_spec *spec, const char *dest)
{
    for (size_t i = 0; i < spec->nbinds; i++) {
        if (!strcmp(spec->binds[i].dest, dest))
            return true;
    }
    return false;
}

const struct mounts_fs *mounts_kernel_fs(const struct mounts_spec *spec, size_t *n)
{
    *n = spec->fs ? spec->nfs : mounts_ndefault_fs;
    return spec->fs ? spec->fs : mounts_default_fs;
}

const struct mount_bind **mounts_binds_by_depth(const struct mount_bind *binds, size_t n)
{
    const struct mount_bind **order = xcalloc(n + 1, sizeof(*order));
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && depth(order[j - 1]->dest) > depth(binds[i].dest)) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = &binds[i];
    }
    return order;
}
