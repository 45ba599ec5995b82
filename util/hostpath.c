#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_LINK_HOPS 40 /* the kernel's limit on symlinks in one lookup */

/* The walk: an O_PATH fd of where it stands, the path it took there (for messages), and the
 * components still to take, in a buffer a link's target is spliced into. */
struct walk {
    int cur;
    char shown[PATH_MAX];
    char todo[PATH_MAX];
    size_t next; /* offset of the next component in todo */
    int hops;
};

static int walk_restart_at_root(struct walk *w, struct berr *err)
{
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return berr_errno(err, "open /");
    if (w->cur >= 0)
        close(w->cur);
    w->cur = root;
    w->shown[0] = '\0';
    return 0;
}

/* The next component of todo into name: 1, or 0 when none is left, -1 on error. */
static int next_component(struct walk *w, char name[NAME_MAX + 1], struct berr *err)
{
    const char *p = w->todo + w->next;
    while (*p == '/')
        p++;
    if (!*p)
        return 0;
    const char *end = strchrnul(p, '/');
    size_t n = (size_t)(end - p);
    if (n > NAME_MAX)
        return berr_errnum(err, ENAMETOOLONG, "resolve %s/%.*s", w->shown, (int)n, p);
    memcpy(name, p, n);
    name[n] = '\0';
    w->next = (size_t)(end - w->todo);
    return 1;
}

static void shown_push(struct walk *w, const char *name)
{
    size_t len = strlen(w->shown);
    if (!strcmp(name, "..")) {
        char *slash = strrchr(w->shown, '/');
        if (slash)
            *slash = '\0';
        return;
    }
    snprintf(w->shown + len, sizeof(w->shown) - len, "/%s", name);
}

/* Replace the link just met by its target: the rest of todo goes after the target. An
 * absolute target starts again from "/"; a relative one goes on from the link's directory,
 * where cur still stands (the link's name leaves shown). */
static int splice_target(struct walk *w, int linkfd, struct berr *err)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(linkfd, "", target, sizeof(target) - 1);
    if (n < 0)
        return berr_errno(err, "readlink %s", w->shown);
    target[n] = '\0';
    if (n == 0)
        return berr_errnum(err, ENOENT, "symlink %s is empty", w->shown);
    const char *rest = w->todo + w->next;
    size_t restlen = strlen(rest);
    if ((size_t)n + 1 + restlen + 1 > sizeof(w->todo))
        return berr_errnum(err, ENAMETOOLONG, "resolve %s", w->shown);
    memmove(w->todo + n + 1, rest, restlen + 1);
    memcpy(w->todo, target, (size_t)n);
    w->todo[n] = '/';
    w->next = 0;
    if (target[0] == '/')
        return walk_restart_at_root(w, err);
    char *slash = strrchr(w->shown, '/');
    if (slash)
        *slash = '\0';
    return 0;
}

/* One step: open name below cur without following it, making it (a directory) when missing
 * and make_dirs is set; a symlink is spliced in only when link_owner owns it. */
static int walk_step(struct walk *w, const char *name, uid_t link_owner, bool make_dirs,
                     struct berr *err)
{
    shown_push(w, name);
    if (!strcmp(name, "."))
        return 0;
    int fd = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && make_dirs) {
        /* relative to the directory already resolved: the new directory is made there and
         * nowhere else, whatever happens to the path's other components meanwhile */
        if (mkdirat(w->cur, name, 0755) < 0 && errno != EEXIST)
            return berr_errno(err, "mkdir %s", w->shown);
        fd = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return berr_errno(err, "open %s", w->shown);
    _cleanup_close_ int found = fd;
    struct stat st;
    if (fstat(found, &st) < 0)
        return berr_errno(err, "stat %s", w->shown);
    if (!S_ISLNK(st.st_mode)) {
        close(w->cur);
        w->cur = steal_fd(&found);
        return 0;
    }
    if (st.st_uid != link_owner) {
        if (link_owner == 0)
            return berr_set(err, BERR_FAILED,
                            "symlink %s is owned by uid %u: only root's symlinks are followed",
                            w->shown, (unsigned)st.st_uid);
        return berr_set(err, BERR_FAILED,
                        "symlink %s is owned by uid %u: only uid %u's symlinks are followed",
                        w->shown, (unsigned)st.st_uid, (unsigned)link_owner);
    }
    if (++w->hops > MAX_LINK_HOPS)
        return berr_errnum(err, ELOOP, "resolve %s", w->shown);
    return splice_target(w, found, err);
}

int open_host_path(const char *path, uid_t link_owner, bool make_dirs, struct berr *err)
{
    if (path[0] != '/')
        return berr_set(err, BERR_USAGE, "%s: not an absolute path", path);
    if (strlen(path) >= PATH_MAX)
        return berr_errnum(err, ENAMETOOLONG, "resolve %s", path);
    /* The common path has no link at all: one openat2 that refuses every symlink opens it,
     * and only a path with a link (or a missing part) takes the walk. */
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
    if (fd >= 0)
        return (int)fd;
    struct walk w = {.cur = -1};
    snprintf(w.todo, sizeof(w.todo), "%s", path);
    if (walk_restart_at_root(&w, err) < 0)
        return -1;
    char name[NAME_MAX + 1];
    int r;
    while ((r = next_component(&w, name, err)) > 0) {
        if (walk_step(&w, name, link_owner, make_dirs, err) < 0) {
            r = -1;
            break;
        }
    }
    if (r < 0) {
        close(w.cur);
        return -1;
    }
    return w.cur;
}
