/* The modes every Storm plugin uses when workers run as their users (storm-interface.md §1.3,
 * §3.1, §3.3), with upstream's semantics: permissions of the dirs Storm hands over, delete as
 * the user, run a worker script as the user, signal as the user. */
#include "launcher/worker-launcher/wl.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <fts.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

/* lchown to <user>:<launcher group>; user r(+w)(+x as it was), group rw(x), others nothing;
 * dirs also g+x (and g+s); symlinks left alone, any other file type fails the call. Beyond
 * upstream, which chowns whatever path it is given: only what the supervisor or the <user>
 * owns already is handed over (a path owned by anyone else is refused, such an entry below it
 * left as it is), so the launcher group cannot take /etc this way. */
/* One entry, changed through an fd of what was checked: the walk's stat and a rename by the
 * caller between it and a chown or chmod by name would let root change a file the caller put
 * there, a link to /etc/passwd say. Returns 0, 1 for an entry to leave alone, or an exit code. */
static int hand_over(const struct wl *wl, const FTSENT *e, bool user_writable, bool setgid)
{
    _cleanup_close_ int fd = open(e->fts_accpath, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "Can't open %s: %s\n", e->fts_path, strerror(errno));
        return WL_FAILED;
    }
    bool dir = S_ISDIR(st.st_mode);
    if (!dir && !S_ISREG(st.st_mode)) {
        fprintf(stderr, "Unexpected file type at %s\n", e->fts_path);
        return WL_FAILED;
    }
    if (st.st_uid != wl->launcher.uid && st.st_uid != wl->user.uid) {
        if (e->fts_level > 0) /* e.g. a mount point berth made in a bound /tmp */
            return 1;
        fprintf(stderr, "%s is owned by uid %u, neither the launcher's nor %s's\n", e->fts_path,
                (unsigned)st.st_uid, wl->user_name);
        return WL_FAILED;
    }
    mode_t mode = (st.st_mode & (S_IRUSR | S_IXUSR)) | S_IRGRP | S_IWGRP |
                  (user_writable ? S_IWUSR : 0) | (dir ? S_IXGRP | (setgid ? S_ISGID : 0) : 0);
    char via[PROC_FD_PATH_MAX];
    proc_fd_path(fd, via);
    if (fchownat(fd, "", wl->user.uid, wl->launcher.gid, AT_EMPTY_PATH) < 0 ||
        chmod(via, mode) < 0) {
        fprintf(stderr, "Can't set the permissions of %s: %s\n", e->fts_path, strerror(errno));
        return WL_FAILED;
    }
    return 0;
}

/* chown to <user>:<launcher group>; user r(+w)(+x as it was), group rw(x), others nothing;
 * dirs also g+x (and g+s); symlinks below the path left alone, any other file type fails the
 * call. Beyond upstream, which chowns whatever path it is given: only what the supervisor or
 * the <user> owns already is handed over (a path owned by anyone else is refused, such an
 * entry below it left as it is), so the launcher group cannot take /etc this way; and the path
 * itself may not be a symlink (upstream's walk skipped it and said it had succeeded). */
int wl_setup_dir(const struct wl *wl, const char *path, bool user_writable, bool setgid)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        fprintf(stderr, "Can't stat %s: %s\n", path, strerror(errno));
        return WL_UNABLE_TO_BUILD_PATH;
    }
    if (S_ISLNK(st.st_mode)) {
        fprintf(stderr, "%s is a symlink\n", path);
        return WL_FAILED;
    }
    char *paths[] = {(char *)path, NULL};
    FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_XDEV, NULL);
    if (!fts) {
        fprintf(stderr, "Can't walk %s: %s\n", path, strerror(errno));
        return WL_FAILED;
    }
    int rc = 0;
    for (FTSENT *e; !rc && (e = fts_read(fts));) {
        if (e->fts_info == FTS_DP || e->fts_info == FTS_SL || e->fts_info == FTS_SLNONE)
            continue;
        if (e->fts_info != FTS_D && e->fts_info != FTS_F) {
            fprintf(stderr, "Unexpected file type or error at %s\n", e->fts_path);
            rc = WL_FAILED;
            break;
        }
        int r = hand_over(wl, e, user_writable, setgid);
        rc = r == 1 ? 0 : r;
    }
    fts_close(fts);
    return rc;
}

/* the entries of the directory at path, with who's rights */
static int empty_as(const struct ident *who, const char *path, struct berr *err)
{
    if (ident_enter(who, err) < 0)
        return -1;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_closedir_ DIR *d = fd < 0 ? NULL : dir_from_fd(fd, path, err);
    if (fd < 0)
        rc = errno == ENOTDIR || errno == ELOOP ? 0 : berr_errno(err, "open %s", path);
    for (struct dirent *e; d && !rc && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            rc = remove_tree_at(dirfd(d), e->d_name, err);
    }
    if (fd >= 0 && !d)
        rc = -1;
    ident_leave(who);
    return rc;
}

static int unlink_as(const struct ident *who, const char *path, struct berr *err)
{
    _cleanup_free_ char *copy = xstrdup(path), *copy2 = xstrdup(path);
    const char *dir = dirname(copy), *base = basename(copy2);
    if (ident_enter(who, err) < 0)
        return -1;
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd < 0 ? berr_errno(err, "open %s", dir) : remove_tree_at(dfd, base, err);
    ident_leave(who);
    return rc;
}

/* the tree as the user; the top, which lies in the launcher's directory, as the user or else
 * as the launcher; a missing path is done */
int wl_rmr(const struct wl *wl, const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return 0;
    struct berr err = {0}, as_launcher = {0};
    if (empty_as(&wl->user, path, &err) == 0 && (unlink_as(&wl->user, path, &err) == 0 ||
                                                 unlink_as(&wl->launcher, path, &as_launcher) == 0))
        return 0;
    fprintf(stderr, "Couldn't delete %s: %s%s%s\n", path, err.msg, as_launcher.msg[0] ? "; " : "",
            as_launcher.msg);
    return WL_FAILED;
}

static int become_user(const struct wl *wl)
{
    if (setgroups(wl->user.ngroups, wl->user.groups) < 0 ||
        setresgid(wl->user.gid, wl->user.gid, wl->user.gid) < 0 ||
        setresuid(wl->user.uid, wl->user.uid, wl->user.uid) < 0) {
        fprintf(stderr, "Could not become %s: %s\n", wl->user_name, strerror(errno));
        return WL_SETUID_OPER_FAILED;
    }
    return 0;
}

/* worker/profiler: the script, read as the launcher, becomes <workdir>/launch_container.sh
 * (new, 0700, the user's), executed as the user in a new session */
int wl_worker(const struct wl *wl, const char *workdir, const char *script, bool setup)
{
    int rc = 0;
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", workdir);
    if (setup &&
        ((rc = wl_setup_dir(wl, workdir, true, true)) || (rc = wl_setup_dir(wl, tmp, true, false))))
        return rc;
    struct berr err = {0};
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (ident_read_file(&wl->launcher, script, 64 << 20, &text, &len, &err) < 0) {
        fprintf(stderr, "Can't read %s: %s\n", script, err.msg);
        return WL_ERROR_OPENING_FILE;
    }
    _cleanup_free_ char *dest = xasprintf("%s/launch_container.sh", workdir);
    _cleanup_close_ int fd =
        ident_open(&wl->user, dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0700, &err);
    if (fd < 0 || write_all(fd, text, len) < 0) {
        fprintf(stderr, "Can't write %s: %s\n", dest, fd < 0 ? err.msg : strerror(errno));
        return WL_FAILED;
    }
    close(steal_fd(&fd)); /* an open writer makes the exec fail with ETXTBSY */
    if (setsid() < 0) {
        fprintf(stderr, "Can't start a new session: %s\n", strerror(errno));
        return WL_SETSID_OPER_FAILED;
    }
    if ((rc = become_user(wl)))
        return rc;
    umask(0027);
    if (chdir(workdir) < 0) {
        fprintf(stderr, "Can't change to %s: %s\n", workdir, strerror(errno));
        return WL_UNABLE_TO_EXECUTE_CONTAINER_SCRIPT;
    }
    fflush(stdout);
    /* from the workdir, which a relative workdir path no longer names */
    char *argv[] = {dest, NULL};
    execv("./launch_container.sh", argv);
    fprintf(stderr, "Couldn't execute %s: %s\n", dest, strerror(errno));
    return WL_UNABLE_TO_EXECUTE_CONTAINER_SCRIPT;
}

int wl_signal(const struct wl *wl, const char *pid_s, const char *sig_s)
{
    long long pid, sig;
    if (parse_long(pid_s, -4194304, 4194304, &pid) < 0 || parse_long(sig_s, 0, 64, &sig) < 0) {
        fprintf(stderr, "Invalid pid or signal: %s %s\n", pid_s, sig_s);
        return WL_INVALID_ARGUMENT_NUMBER;
    }
    int rc = become_user(wl);
    if (rc)
        return rc;
    if (pid <= 1) { /* -1 as a group would be every process the user may signal */
        fprintf(stderr, "Invalid pid %lld\n", pid);
        return WL_INVALID_CONTAINER_PID;
    }
    bool group = kill(-(pid_t)pid, 0) == 0;
    if (!group && errno != ESRCH) {
        fprintf(stderr, "Error signalling process group %lld: %s\n", pid, strerror(errno));
        return WL_FAILED;
    }
    if (kill(group ? -(pid_t)pid : (pid_t)pid, (int)sig) < 0) {
        fprintf(stderr, "Error signalling process %lld with %lld: %s\n", pid, sig, strerror(errno));
        return errno == ESRCH ? WL_INVALID_CONTAINER_PID : WL_UNABLE_TO_SIGNAL_CONTAINER;
    }
    printf("Killing process %s%lld with %lld\n", group ? "group " : "", pid, sig);
    return 0;
}
