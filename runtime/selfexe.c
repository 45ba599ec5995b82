/* berth's own binary as a container sees it (CVE-2019-5736). A process that enters a container
 * runs berth's code there until its execve (run's pid 1, exec's command), and a command that
 * resolves to /proc/self/exe — a planted `jstack -> /proc/self/exe`, a `#!/proc/self/exe`
 * script, run's command itself — makes the kernel execute that process's binary again, inside
 * the container, dumpable, with the image's libraries. Any root process of the container can
 * then take /proc/<pid>/exe with O_PATH and, once the binary is no longer busy, reopen it for
 * writing through /proc/self/fd/N.
 *
 * So run and exec first re-execute berth from a private read-only mount of its binary, and
 * every process that enters a container descends from that one: a detached clone of the
 * binary's mount (open_tree), made read-only and never attached anywhere, so that no one can
 * make it writable again (a read-only host mount is not enough: it may be remounted
 * read-write while a container still holds the fd). Writes through it fail with EROFS. It
 * copies nothing: ~35 us and one more start of berth (~0.7 ms here), where a sealed memfd
 * copy costs ~1 ms more per start for a 2 MiB binary and keeps that copy in memory for as long
 * as a foreground run waits. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

/* The path of a file on a detached mount whose root is that file reads "/"; no file attached
 * in a mount namespace can have that path, "/" being a directory. */
static bool is_detached_file(const char *magic_link)
{
    char link[2];
    return readlink(magic_link, link, sizeof(link)) == 1 && link[0] == '/';
}

/* Known once per program image: only an execve changes /proc/self/exe (and resets this), and a
 * detached mount has no path by which anyone could make it writable again. run -d's monitor asks
 * while it waits for its container, so that the start does not pay the ~30 us. */
bool self_is_readonly_clone(void)
{
    static int known = -1;
    if (known < 0) {
        _cleanup_close_ int fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
        struct stat st;
        struct statvfs sv;
        known = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fstatvfs(fd, &sv) == 0 &&
                (sv.f_flag & ST_RDONLY) && is_detached_file("/proc/self/exe");
    }
    return known;
}

bool runtime_is_readonly_clone(void)
{
    return self_is_readonly_clone();
}

static int read_cmdline(struct strv *argv, struct berr *err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (read_file_at(AT_FDCWD, "/proc/self/cmdline", 16 << 20, &buf, &len, err) < 0)
        return -1;
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
        strv_push(argv, buf + i);
    if (argv->n == 0)
        return berr_set(err, BERR_FAILED, "/proc/self/cmdline is empty");
    return 0;
}

/* As Storm's worker-launcher leaves its child: real uid 0, the caller as effective uid,
 * gid and groups. Only the execve follows. */
static int hand_over_again(const struct ident *who, struct berr *err)
{
    if (setgroups(who->ngroups, who->groups) < 0 || setresgid(0, who->gid, 0) < 0 ||
        setresuid(0, who->uid, 0) < 0)
        return berr_errno(err, "hand berth over to uid %u again", (unsigned)who->uid);
    return 0;
}

static char *install_dir(const char *path, const struct stat *self);

static char *path_naming_self(const char *argv0, const char *exe)
{
    struct stat self;
    if (stat(exe, &self) < 0)
        return xstrdup(exe);
    _cleanup_free_ char *dir = install_dir(argv0, &self);
    if (dir)
        return xstrdup(argv0);
    _cleanup_free_ char *exe_dir = xstrdup(exe);
    *strrchr(exe_dir, '/') = '\0';
    const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
    char *beside = xasprintf("%s/%s", exe_dir, base);
    _cleanup_free_ char *check = install_dir(beside, &self);
    if (check)
        return beside;
    free(beside);
    return xstrdup(exe);
}

/* A clone of the mount of the file fd opens, with that file as its root: read-only, and never
 * attached anywhere, so that nothing can make it writable again. */
static int readonly_clone_of(int file, const char *what, struct berr *err)
{
    _cleanup_close_ int clone =
        (int)syscall(SYS_open_tree, file, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (clone < 0)
        return berr_errno(err, "clone a mount of %s", what);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, clone, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
        return berr_errno(err, "make the mount of %s read-only", what);
    /* checked before the execve: the new process must recognise itself, or berth would loop */
    char via[PROC_FD_PATH_MAX];
    proc_fd_path(clone, via);
    struct statvfs sv;
    if (fstatvfs(clone, &sv) < 0 || !(sv.f_flag & ST_RDONLY) || !is_detached_file(via))
        return berr_set(err, BERR_FAILED, "the mount of %s is not a read-only clone", what);
    return steal_fd(&clone);
}

int self_readonly_clone(char **argv0, struct berr *err)
{
    _cleanup_close_ int self = open("/proc/self/exe", O_PATH | O_CLOEXEC);
    if (self < 0)
        return berr_errno(err, "open /proc/self/exe");
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0)
        return berr_errno(err, "readlink /proc/self/exe");
    path[n] = '\0';
    _cleanup_close_ int clone = readonly_clone_of(self, "berth's binary", err);
    if (clone < 0)
        return -1;
    _cleanup_strv_ struct strv argv = {0};
    if (read_cmdline(&argv, err) < 0)
        return -1;
    /* a path of berth's, for open_berth_program (the clone has none): argv[0] itself when it is
     * one, or the name it was called by beside the binary (berth-nsenter picks a front end),
     * else the binary's path */
    *argv0 = path_naming_self(argv.v[0], path);
    return steal_fd(&clone);
}

int program_readonly_clone(const char *name, char **argv0)
{
    _cleanup_free_ char *path = NULL;
    _cleanup_close_ int prog = open_berth_program(name, &path);
    if (prog < 0)
        return -1;
    struct berr err = {0};
    int clone = readonly_clone_of(prog, name, &err);
    if (clone < 0) {
        debugf("%s: %s", path, err.msg);
        return -1;
    }
    *argv0 = steal_ptr(&path);
    return clone;
}

int runtime_reexec_readonly(char *const envp[], const struct ident *handed_over, struct berr *err)
{
    if (self_is_readonly_clone())
        return 0;
    char *argv0 = NULL;
    _cleanup_close_ int clone = self_readonly_clone(&argv0, err);
    if (clone < 0)
        return -1;
    _cleanup_strv_ struct strv argv = {0};
    if (read_cmdline(&argv, err) < 0) {
        free(argv0);
        return -1;
    }
    free(argv.v[0]);
    argv.v[0] = argv0;
    if (handed_over && hand_over_again(handed_over, err) < 0)
        return -1;
    trace_phase("reexec");
    syscall(SYS_execveat, clone, "", argv.v, envp, AT_EMPTY_PATH);
    return berr_errno(err, "re-execute berth from a read-only mount");
}

/* path, resolved, names this very binary: then its directory is where berth was installed. */
static char *install_dir(const char *path, const struct stat *self)
{
    if (path[0] != '/')
        return NULL;
    char *real = realpath(path, NULL);
    struct stat st;
    if (!real || stat(real, &st) < 0 || st.st_dev != self->st_dev || st.st_ino != self->st_ino) {
        free(real);
        return NULL;
    }
    *strrchr(real, '/') = '\0';
    return real;
}

char *runtime_install_dir(void)
{
    struct stat self;
    if (stat("/proc/self/exe", &self) < 0)
        return NULL;
    /* started from its own path, or re-executed with that path as argv[0] */
    char link[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = '\0';
    _cleanup_free_ char *dir = install_dir(link, &self);
    if (!dir) {
        struct berr ignored = {0};
        _cleanup_strv_ struct strv argv = {0};
        if (read_cmdline(&argv, &ignored) < 0)
            return NULL;
        dir = install_dir(argv.v[0], &self);
    }
    return steal_ptr(&dir);
}

int open_berth_program(const char *name, char **path)
{
    _cleanup_free_ char *dir = runtime_install_dir();
    _cleanup_free_ char *where = dir ? xasprintf("%s/%s", dir, name) : NULL;
    int fd = where ? open(where, O_PATH | O_CLOEXEC) : -1;
    if (fd < 0) {
        free(where);
        where = xasprintf("%s/%s", BERTH_LIBEXECDIR, name);
        fd = open(where, O_PATH | O_CLOEXEC);
    }
    struct stat st;
    if (fd >= 0 &&
        (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0 && path)
        *path = steal_ptr(&where);
    return fd;
}
