#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    if (!*path)
        path = ".";
    for (;;) {
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN)
            return (int)fd;
    }
}

bool path_escapes(const char *path)
{
    long depth = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return true;
        } else if (n && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p = end;
    }
    return false;
}

char *path_clean(const char *path)
{
    size_t len = strlen(path);
    char *out = xmalloc(len + 2);
    size_t o = 0;
    out[o++] = '/';
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 1 && out[o - 1] != '/')
                o--;
            if (o > 1)
                o--;
        } else {
            if (o > 1)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = end;
    }
    out[o] = '\0';
    return out;
}

#define MAX_LINK_HOPS 40 /* the kernel's limit on symlinks in one lookup */

/* The target of the symlink that prefix (of a path inside the root) names, joined with the
 * rest of the path: an absolute target from the root, a relative one from the link's
 * directory. path_clean keeps ".." from climbing above the root. */
static char *splice_link(const char *prefix, const char *target, const char *rest)
{
    _cleanup_free_ char *joined = NULL;
    if (target[0] == '/') {
        joined = xasprintf("%s/%s", target, rest);
    } else {
        _cleanup_free_ char *dir = xstrdup(prefix);
        *strrchr(dir, '/') = '\0';
        joined = xasprintf("%s/%s/%s", dir, target, rest);
    }
    return path_clean(joined);
}

enum prefix_kind { PREFIX_OTHER, PREFIX_LINK, PREFIX_MISSING };

/* What prefix (of a path inside the root) is; for a symlink, *out is the path to try next. */
static int classify_prefix(int rootfd, const char *prefix, const char *rest, char **out,
                           struct berr *err)
{
    _cleanup_close_ int fd = open_in_root(rootfd, prefix, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        return errno == ENOENT ? PREFIX_MISSING : berr_errno(err, "open %s", prefix);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(err, "stat %s", prefix);
    if (!S_ISLNK(st.st_mode))
        return PREFIX_OTHER;
    char target[PATH_MAX];
    ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
    if (n < 0)
        return berr_errno(err, "readlink %s", prefix);
    target[n] = '\0';
    *out = splice_link(prefix, target, rest);
    return PREFIX_LINK;
}

/* One pass from the root: the first symlink among the existing prefixes of *cur replaced.
 * 1 when one was, 0 when none is left, -1 on error. */
static int expand_first_link(int rootfd, char **cur, struct berr *err)
{
    char *p = *cur;
    size_t len = strlen(p);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        char *next = NULL;
        int kind = classify_prefix(rootfd, p, saved ? p + i + 1 : "", &next, err);
        p[i] = saved;
        if (kind < 0)
            return -1;
        if (kind == PREFIX_MISSING)
            return 0; /* so is everything below it */
        if (kind == PREFIX_LINK) {
            free(*cur);
            *cur = next;
            return 1;
        }
    }
    return 0;
}

char *follow_in_root(int rootfd, const char *path, struct berr *err)
{
    char *cur = path_clean(path);
    for (int hops = 0;; hops++) {
        int r = hops > MAX_LINK_HOPS ? berr_errnum(err, ELOOP, "resolve %s", path)
                                     : expand_first_link(rootfd, &cur, err);
        if (r == 0)
            return cur;
        if (r < 0) {
            free(cur);
            return NULL;
        }
    }
}

int mkdir_p_in_root(int rootfd, const char *path, struct berr *err)
{
    _cleanup_free_ char *clean = path_clean(path);
    _cleanup_close_ int cur = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
    if (cur < 0)
        return berr_errno(err, "open root");
    /* Walk from the root, so each step is resolved again inside it: a symlink planted in the
     * image can point anywhere, and RESOLVE_IN_ROOT keeps it below rootfd. */
    size_t len = strlen(clean);
    for (size_t i = 1; i <= len; i++) {
        if (clean[i] != '/' && clean[i] != '\0')
            continue;
        char saved = clean[i];
        clean[i] = '\0';
        int fd = open_in_root(rootfd, clean, O_PATH | O_DIRECTORY, 0);
        if (fd < 0 && errno == ENOENT) {
            const char *base = strrchr(clean, '/') + 1;
            if (mkdirat(cur, base, 0755) < 0 && errno != EEXIST)
                return berr_errno(err, "mkdir %s", clean);
            fd = open_in_root(rootfd, clean, O_PATH | O_DIRECTORY, 0);
        }
        if (fd < 0)
            return berr_errno(err, "open %s", clean);
        close(cur);
        cur = fd;
        clean[i] = saved;
    }
    return steal_fd(&cur);
}

int open_parent_in_root(int rootfd, const char *path, bool create, int *parent_fd,
                        const char **base, struct berr *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash[1] == '\0')
        return berr_set(err, BERR_USAGE, "%s: not a path to a file", path);
    _cleanup_free_ char *dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        abort();
    /* One resolution in the common case (the parent exists: archives list it first); the
     * walk that makes missing components only when it does not. */
    const char *parent = *dir ? dir : "/";
    int fd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0);
    if (fd < 0 && errno == ENOENT && create)
        fd = mkdir_p_in_root(rootfd, parent, err);
    else if (fd < 0)
        return berr_errno(err, "open %s", parent);
    if (fd < 0)
        return -1;
    *parent_fd = fd;
    *base = slash + 1;
    return 0;
}
