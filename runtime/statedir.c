/* The state root's entries, made, removed and collected: containers/<id> and names/<name>.
 * Both are made so that a reader never trips over half of one: a container's directory
 * appears with its lock held, and a name only once its directory is there. A creation cut
 * short (its creator killed before berth.json) is removed by whoever meets it, and its name
 * goes with it. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int container_dir_open(int runrootfd, const char *id, struct berr *err)
{
    _cleanup_free_ char *rel = xasprintf("containers/%s", id);
    int fd = openat(runrootfd, rel, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return berr_set(err, BERR_NOT_FOUND, "No such container: %s", id);
    if (fd < 0)
        return berr_errno(err, "open container %.12s", id);
    return fd;
}

/* ---- a container's directory: made whole, or collected when its creation was cut short -----
 * A directory appears as containers/<id> with its lock already held: it is made under a
 * temporary name and renamed into place. Its creator holds the lock until berth.json is
 * written, and shares it with the monitor it hands the container to. So a containers/<id>
 * without berth.json whose lock is free lost its creator (killed before it finished), and
 * whoever meets it removes it: readers, and a name reservation that finds the name it wants
 * pointing there. */

#define NEW_PREFIX ".new-"
/* A containers/.new-<id> unchanged for this long, with no lock held, was left by a creator
 * killed between its mkdir and its rename (a few µs): a creation takes milliseconds. */
#define STALE_NEW_DIR_S 60

int container_dir_make(int runrootfd, const char *id, int *dirfd, int *lockfd, struct berr *err)
{
    _cleanup_free_ char *tmp = xasprintf("containers/" NEW_PREFIX "%s", id);
    _cleanup_free_ char *rel = xasprintf("containers/%s", id);
    *dirfd = *lockfd = -1;
    if (mkdirat(runrootfd, tmp, 0700) < 0)
        return berr_errno(err, "create container directory");
    const char *step = "open container directory";
    *dirfd = openat(runrootfd, tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*dirfd >= 0) {
        step = "lock container";
        *lockfd = openat(*dirfd, "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    }
    if (*lockfd >= 0 && flock(*lockfd, LOCK_EX) == 0) {
        step = "create container directory";
        if (renameat2(runrootfd, tmp, runrootfd, rel, RENAME_NOREPLACE) == 0)
            return 0;
    }
    berr_errno(err, "%s", step);
    struct berr ignored = {0};
    remove_tree_at(runrootfd, tmp, &ignored);
    if (*lockfd >= 0)
        close(steal_fd(lockfd));
    if (*dirfd >= 0)
        close(steal_fd(dirfd));
    return -1;
}

/* 1 when dirfd holds berth.json, 0 when not, -1 when that cannot be told. */
static int has_record(int dirfd, struct berr *err)
{
    if (faccessat(dirfd, RECORD_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return 1;
    return errno == ENOENT ? 0 : berr_errno(err, "look for " RECORD_FILE);
}

/* Whether containers/<id> (open as dirfd, without berth.json) was a creation cut short, now
 * removed. A failure to tell or to remove leaves it, as one under way: the reader that met it
 * goes on. */
static bool collect_if_abandoned(int runrootfd, int dirfd, const char *id)
{
    _cleanup_close_ int lock = openat(dirfd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
        return false;
    /* under the lock: a creator that finished meanwhile wrote berth.json before letting go */
    struct berr err = {0};
    if (has_record(dirfd, &err) != 0)
        return false;
    debugf("container %.12s: its creation was cut short; removing it", id);
    if (container_dir_remove(runrootfd, id, NULL, &err) == 0)
        return true;
    debugf("container %.12s: %s", id, err.msg);
    return false;
}

int container_dir_recorded(int runrootfd, int dirfd, const char *id, struct berr *err)
{
    int recorded = has_record(dirfd, err);
    if (recorded == 0)
        collect_if_abandoned(runrootfd, dirfd, id);
    return recorded;
}

int container_gone(int runrootfd, const char *id, struct berr *err)
{
    _cleanup_close_ int fd = container_dir_open(runrootfd, id, err);
    if (fd < 0)
        return err->kind == BERR_NOT_FOUND ? 1 : -1;
    int recorded = has_record(fd, err);
    if (recorded != 0)
        return recorded < 0 ? -1 : 0;
    return collect_if_abandoned(runrootfd, fd, id) ? 1 : 0;
}

#define REMOVED_PREFIX ".removed-"

/* A containers/.new-<id> whose creator was killed before renaming it into place. */
static bool stale_new_dir(int containersfd, const char *entry)
{
    struct stat st;
    struct timespec now;
    if (!str_has_prefix(entry, NEW_PREFIX) ||
        fstatat(containersfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        clock_gettime(CLOCK_REALTIME, &now) < 0 || now.tv_sec - st.st_mtim.tv_sec < STALE_NEW_DIR_S)
        return false;
    _cleanup_free_ char *lock_path = xasprintf("%s/lock", entry);
    _cleanup_close_ int lock = openat(containersfd, lock_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    return lock < 0 || flock(lock, LOCK_EX | LOCK_NB) == 0;
}

/* Leftovers of removals that failed or were killed after the rename, and of creations killed
 * before theirs: nobody lists them. */
static void sweep_removed(int runrootfd)
{
    int fd = openat(runrootfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct berr ignored = {0};
    _cleanup_closedir_ DIR *d = dir_from_fd(fd, "containers", &ignored);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!str_has_prefix(de->d_name, REMOVED_PREFIX) && !stale_new_dir(dirfd(d), de->d_name))
            continue;
        _cleanup_free_ char *rel = xasprintf("containers/%s", de->d_name);
        if (remove_tree_at(runrootfd, rel, &ignored) < 0)
            debugf("sweep %s: %s", rel, ignored.msg);
    }
}

int container_dir_remove(int runrootfd, const char *id, const char *name, struct berr *err)
{
    _cleanup_free_ char *rel = xasprintf("containers/%s", id);
    _cleanup_free_ char *gone = xasprintf("containers/" REMOVED_PREFIX "%s", id);
    if (renameat(runrootfd, rel, runrootfd, gone) < 0 && errno != ENOENT)
        return berr_errno(err, "remove container %.12s", id);
    if (name)
        name_release(runrootfd, name, id);
    if (remove_tree_at(runrootfd, gone, err) < 0)
        return berr_wrap(err, "container %.12s removed, but not all of its state", id);
    sweep_removed(runrootfd);
    return 0;
}

/* Names are symlinks, names/<name> → id, made only once a container's directory exists. One is
 * made atomically (symlinkat fails when the name is held) and removed only under the names
 * lock (flock on names/), by whoever checked under it that the name still points where it
 * did: a name never goes from under the container that took it after that check. */

static int names_lock(int runrootfd)
{
    int fd = openat(runrootfd, "names", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The id names/<name> points at, "" when it points nowhere readable. */
static void name_owner(int runrootfd, const char *path, char owner[128])
{
    ssize_t n = readlinkat(runrootfd, path, owner, 127);
    owner[n > 0 ? n : 0] = '\0';
}

/* Under the names lock: the name removed when it points at a container that is gone. */
static bool drop_if_gone(int runrootfd, const char *path)
{
    char owner[128];
    name_owner(runrootfd, path, owner);
    struct berr ignored = {0};
    return is_hex64(owner) && container_gone(runrootfd, owner, &ignored) == 1 &&
           unlinkat(runrootfd, path, 0) == 0;
}

int name_reserve(int runrootfd, const char *name, const char *id, struct berr *err)
{
    _cleanup_free_ char *path = xasprintf("names/%s", name);
    if (symlinkat(id, runrootfd, path) == 0)
        return 0;
    if (errno != EEXIST)
        return berr_errno(err, "reserve name %s", name);
    _cleanup_close_ int lock = names_lock(runrootfd);
    if (lock >= 0 && drop_if_gone(runrootfd, path) && symlinkat(id, runrootfd, path) == 0)
        return 0;
    char owner[128];
    name_owner(runrootfd, path, owner);
    return berr_set(err, BERR_CONFLICT,
                    "Conflict. The container name \"/%s\" is already in use by container "
                    "\"%s\". You have to remove (or rename) that container to be able to reuse "
                    "that name.",
                    name, owner);
}

void name_release(int runrootfd, const char *name, const char *id)
{
    _cleanup_free_ char *path = xasprintf("names/%s", name);
    _cleanup_close_ int lock = names_lock(runrootfd);
    char owner[128];
    name_owner(runrootfd, path, owner);
    /* without the lock the name stays, pointing nowhere: whoever wants it takes it over */
    if (lock >= 0 && !strcmp(owner, id))
        unlinkat(runrootfd, path, 0);
}

void name_release_if_gone(int runrootfd, const char *name)
{
    _cleanup_free_ char *path = xasprintf("names/%s", name);
    _cleanup_close_ int lock = names_lock(runrootfd);
    if (lock >= 0)
        drop_if_gone(runrootfd, path);
}
