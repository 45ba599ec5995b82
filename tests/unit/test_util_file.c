/* util/file.c: remove_tree_at on trees a container can leave in its upper dir — deeper than
 * the fds a process may hold, wide at every level — never following a symlink and never
 * crossing into a mount. Each test works under its own temp dir. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

static char tmp[] = "/tmp/berth-rmtree.XXXXXX";
static int tmpfd = -1;

static void setup(void)
{
    strcpy(tmp, "/tmp/berth-rmtree.XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
    tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(tmpfd, 0);
}

static void teardown(void)
{
    struct berr err = {0};
    if (remove_tree_at(AT_FDCWD, tmp, &err) < 0)
        cr_log_warn("leaves %s: %s", tmp, err.msg);
    close(tmpfd);
}

TestSuite(util_remove_tree, .init = setup, .fini = teardown, .timeout = 120);

static void make_file(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "create %s: %s", name, strerror(errno));
    close(fd);
}

/* top/d/d/.../d, depth directories below top, each holding a file (and every 100th level a
 * second branch with a file in it); one fd at a time, as a container could make it */
static void make_deep_tree(const char *top, int depth)
{
    cr_assert_eq(mkdirat(tmpfd, top, 0755), 0);
    int fd = openat(tmpfd, top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; fd >= 0 && i < depth; i++) {
        make_file(fd, "f");
        if (i % 100 == 0) {
            cr_assert_eq(mkdirat(fd, "side", 0755), 0);
            int side = openat(fd, "side", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            cr_assert_geq(side, 0);
            make_file(side, "g");
            cr_assert_eq(symlinkat("/", side, "root-link"), 0);
            close(side);
        }
        cr_assert_eq(mkdirat(fd, "d", 0755), 0, "level %d: %s", i, strerror(errno));
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(fd);
        fd = next;
    }
    cr_assert_geq(fd, 0);
    close(fd);
}

static void lower_nofile(rlim_t n)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur > n)
        rl.rlim_cur = n; /* the soft limit only: never above the hard one */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static bool exists_at(int dfd, const char *name)
{
    struct stat st;
    return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Test(util_remove_tree, ten_thousand_levels_with_64_fds)
{
    make_deep_tree("deep", 10000);
    lower_nofile(64);
    struct berr err = {0};
    cr_assert_eq(remove_tree_at(tmpfd, "deep", &err), 0, "%s", err.msg);
    cr_assert_not(exists_at(tmpfd, "deep"));
}

/* top/dNNN/{f,g,e/{f}}: a level wider than getdents' buffer, each subdirectory with files, a
 * subdirectory of its own and a symlink beside them */
Test(util_remove_tree, a_wide_level_of_directories)
{
    cr_assert_eq(mkdirat(tmpfd, "wide", 0755), 0);
    int top = openat(tmpfd, "wide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; i < 600; i++) {
        char name[32];
        snprintf(name, sizeof(name), "d%03d-with-a-longer-name", i);
        cr_assert_eq(mkdirat(top, name, 0755), 0);
        int d = openat(top, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        make_file(d, "f");
        make_file(d, "g");
        cr_assert_eq(symlinkat("..", d, "up"), 0);
        cr_assert_eq(mkdirat(d, "e", 0700), 0);
        make_file(d, "e/f");
        close(d);
        make_file(top, name + 1);
    }
    close(top);
    struct berr err = {0};
    cr_assert_eq(remove_tree_at(tmpfd, "wide", &err), 0, "%s", err.msg);
    cr_assert_not(exists_at(tmpfd, "wide"));
}

Test(util_remove_tree, symlinks_are_removed_not_followed)
{
    cr_assert_eq(mkdirat(tmpfd, "outside", 0755), 0);
    int out = openat(tmpfd, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    make_file(out, "keep");
    cr_assert_eq(mkdirat(tmpfd, "t", 0755), 0);
    cr_assert_eq(mkdirat(tmpfd, "t/a", 0755), 0);
    char *target = xasprintf("%s/outside", tmp);
    cr_assert_eq(symlinkat(target, tmpfd, "t/a/link"), 0);
    cr_assert_eq(symlinkat(target, tmpfd, "t/link"), 0);
    free(target);
    struct berr err = {0};
    cr_assert_eq(remove_tree_at(tmpfd, "t", &err), 0, "%s", err.msg);
    cr_assert_not(exists_at(tmpfd, "t"));
    cr_assert(exists_at(out, "keep"), "removal went through a symlink");
    close(out);
}

Test(util_remove_tree, a_plain_file_or_nothing_at_all)
{
    make_file(tmpfd, "file");
    struct berr err = {0};
    cr_assert_eq(remove_tree_at(tmpfd, "file", &err), 0, "%s", err.msg);
    cr_assert_not(exists_at(tmpfd, "file"));
    cr_assert_eq(remove_tree_at(tmpfd, "never-was", &err), 0, "%s", err.msg);
}

/* root only: in a mount namespace of this test's own process (criterion runs each test in a
 * process of its own), a bind mount of the same filesystem inside the tree */
Test(util_remove_tree, a_mount_inside_is_not_crossed)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to mount");
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    /* a path walk from an fd opened before stays among the old namespace's mounts */
    close(tmpfd);
    tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(tmpfd, 0);
    cr_assert_eq(mkdirat(tmpfd, "src", 0755), 0);
    int src = openat(tmpfd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    make_file(src, "keep");
    cr_assert_eq(mkdirat(tmpfd, "t", 0755), 0);
    cr_assert_eq(mkdirat(tmpfd, "t/m", 0755), 0);
    char *from = xasprintf("%s/src", tmp), *to = xasprintf("%s/t/m", tmp);
    cr_assert_eq(mount(from, to, NULL, MS_BIND, NULL), 0, "bind: %s", strerror(errno));
    struct berr err = {0};
    cr_assert_eq(remove_tree_at(tmpfd, "t", &err), -1);
    cr_expect_eq(err.errnum, EBUSY, "%s", err.msg);
    cr_expect(strstr(err.msg, "a mount is still there"), "%s", err.msg);
    cr_expect(exists_at(src, "keep"), "removal crossed into a bind mount");
    cr_assert_eq(umount2(to, MNT_DETACH), 0);
    free(from);
    free(to);
    close(src);
}

/* send_with_fds / recv_with_fds: one message and its descriptors, which arrive close-on-exec;
 * more than the receiver takes is an error that leaves none of them open. */
Test(util_file, descriptors_travel_with_one_message)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    const int fds[] = {p[0], p[1]};
    cr_assert_eq(send_with_fds(sv[0], "hi", 2, fds, 2), 2);
    char buf[8] = {0};
    int got[4];
    size_t n = 0;
    cr_assert_eq(recv_with_fds(sv[1], buf, sizeof(buf), got, 4, &n), 2);
    cr_assert_str_eq(buf, "hi");
    cr_assert_eq(n, 2);
    struct stat a, b;
    cr_assert_eq(fstat(got[0], &a), 0);
    cr_assert_eq(fstat(p[0], &b), 0);
    cr_assert_eq(a.st_ino, b.st_ino, "not the pipe that was sent");
    cr_assert(fcntl(got[0], F_GETFD) & FD_CLOEXEC, "a received descriptor crosses an exec");
    close(got[0]);
    close(got[1]);
    /* a message without descriptors, then one with more than the receiver takes */
    cr_assert_eq(send_with_fds(sv[0], "x", 1, NULL, 0), 1);
    cr_assert_eq(recv_with_fds(sv[1], buf, sizeof(buf), got, 4, &n), 1);
    cr_assert_eq(n, 0);
    cr_assert_eq(send_with_fds(sv[0], "y", 1, fds, 2), 1);
    errno = 0;
    cr_assert_eq(recv_with_fds(sv[1], buf, sizeof(buf), got, 1, &n), -1);
    cr_assert_eq(errno, EMSGSIZE);
    cr_assert_eq(n, 0);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

/* write_file_atomic_at never writes through a temporary name someone put there first (another
 * user in a directory it may write, or a writer of the same pid that died): the file it
 * renames into place is its own, made fresh. */
Test(util_file, an_atomic_write_never_writes_through_a_planted_temporary_file, .init = setup,
     .fini = teardown)
{
    char planted[64];
    snprintf(planted, sizeof(planted), ".config.json.tmp.%d", (int)getpid());
    int fd = openat(tmpfd, planted, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    cr_assert_geq(fd, 0);
    if (geteuid() == 0)
        cr_assert_eq(fchown(fd, 65534, 65534), 0);
    struct stat before;
    cr_assert_eq(fstat(fd, &before), 0);
    /* held open: its inode number cannot go to a new file meanwhile */
    struct berr err = {0};
    cr_assert_eq(write_file_atomic_at(tmpfd, "config.json", "{}", 2, 0600, &err), 0, "%s", err.msg);
    struct stat after;
    cr_assert_eq(fstatat(tmpfd, "config.json", &after, AT_SYMLINK_NOFOLLOW), 0);
    cr_assert_neq(after.st_ino, before.st_ino, "the planted file became config.json");
    cr_assert_eq(after.st_uid, geteuid());
    cr_assert_eq(after.st_mode & 07777, 0600);
    close(fd);
}

static char *read_at(int dfd, const char *name)
{
    char *text = NULL;
    struct berr err = {0};
    return read_file_at(dfd, name, 4096, &text, NULL, &err) == 0 ? text : NULL;
}

/* atomic_file: made ahead, the old content stays until the commit renames the new one over
 * it; a discarded one leaves nothing, the name untouched. */
Test(util_file, an_atomic_file_made_ahead, .init = setup, .fini = teardown)
{
    struct berr err = {0};
    cr_assert_eq(write_file_atomic_at(tmpfd, "state", "old", 3, 0600, &err), 0, "%s", err.msg);
    struct atomic_file f;
    cr_assert_eq(atomic_file_open(tmpfd, "state", 0600, &f, &err), 0, "%s", err.msg);
    _cleanup_free_ char *before = read_at(tmpfd, "state");
    cr_assert_str_eq(before, "old");
    struct stat st;
    cr_assert_eq(fstat(f.fd, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
    cr_assert_eq(atomic_file_commit(&f, "new", 3, &err), 0, "%s", err.msg);
    cr_assert_eq(f.fd, -1, "the commit leaves the file open");
    _cleanup_free_ char *after = read_at(tmpfd, "state");
    cr_assert_str_eq(after, "new");

    cr_assert_eq(atomic_file_open(tmpfd, "state", 0600, &f, &err), 0, "%s", err.msg);
    atomic_file_discard(&f);
    atomic_file_discard(&f); /* twice: nothing held the second time */
    _cleanup_free_ char *kept = read_at(tmpfd, "state");
    cr_assert_str_eq(kept, "new");
    DIR *d = fdopendir(openat(tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    cr_assert_not_null(d);
    size_t entries = 0;
    for (struct dirent *de; (de = readdir(d));)
        entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    cr_assert_eq(entries, 1, "a temporary file was left beside state");
}
