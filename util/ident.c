/* Acting for a caller: berth runs as root, but a caller handed over by a setuid launcher is an
 * unprivileged user, and the files it names must be opened with its rights, not berth's, or a
 * worker user could make berth read (or create) what only root may. The switch is of the file
 * system ids and groups only: the process keeps its other credentials, and nothing but the
 * open runs in between. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

void ident_free(struct ident *who)
{
    free(who->groups);
    *who = (struct ident){0};
}

int ident_with_own_groups(struct ident *who, uid_t uid, gid_t gid, struct berr *err)
{
    *who = (struct ident){.uid = uid, .gid = gid};
    int n = getgroups(0, NULL);
    if (n >= 0) {
        who->groups = xcalloc((size_t)n + 1, sizeof(gid_t));
        n = getgroups(n, who->groups);
    }
    if (n < 0)
        return berr_errno(err, "read the supplementary groups");
    who->ngroups = (size_t)n;
    return 0;
}

/* setfsuid/setfsgid say nothing of failure: ask for the id in force afterwards. */
static bool fsuid_is(uid_t want)
{
    return (uid_t)setfsuid((uid_t)-1) == want;
}

static bool fsgid_is(gid_t want)
{
    return (gid_t)setfsgid((gid_t)-1) == want;
}

int ident_enter(const struct ident *who, struct berr *err)
{
    if (!who)
        return 0;
    /* groups first: dropping the fs uid takes CAP_SETGID's file-system siblings, not it, but
     * the order keeps every step done with full rights */
    if (setgroups(who->ngroups, who->groups) < 0)
        return berr_errno(err, "take the supplementary groups of uid %u", (unsigned)who->uid);
    setfsgid(who->gid);
    setfsuid(who->uid);
    if (!fsgid_is(who->gid) || !fsuid_is(who->uid)) {
        ident_leave(who);
        return berr_errnum(err, EPERM, "act as uid %u gid %u", (unsigned)who->uid,
                           (unsigned)who->gid);
    }
    return 0;
}

void ident_leave(const struct ident *who)
{
    if (!who)
        return;
    setfsuid(0);
    setfsgid(0);
    /* root that cannot become root again would go on with a user's file rights, which only
     * makes later steps fail; a half switch is still not something to carry on from */
    if (!fsuid_is(0) || !fsgid_is(0) || setgroups(0, NULL) < 0)
        abort();
}

int ident_open(const struct ident *who, const char *path, int flags, mode_t mode, struct berr *err)
{
    if (ident_enter(who, err) < 0)
        return -1;
    int fd = open(path, flags | O_CLOEXEC, mode);
    int saved = errno;
    ident_leave(who);
    errno = saved;
    return fd < 0 ? berr_errno(err, "open %s", path) : fd;
}

int ident_read_file(const struct ident *who, const char *path, size_t max, char **out, size_t *len,
                    struct berr *err)
{
    _cleanup_close_ int fd = ident_open(who, path, O_RDONLY, 0, err);
    if (fd < 0)
        return -1;
    return read_fd_all(fd, max, out, len, err) < 0 ? berr_wrap(err, "read %s", path) : 0;
}
