/* open_host_path: a host path walked from "/" one component at a time, following only the
 * links a trusted uid owns. Runs as any user: the links made here are owned by us, so "us"
 * is the trusted uid in the tests that follow links and someone else in those that refuse. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/berth-hostpath-XXXXXX";

static char *at(const char *rel)
{
    return xasprintf("%s/%s", dir, rel);
}

static void mkdir_at(const char *rel)
{
    _cleanup_free_ char *p = at(rel);
    cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
}

static void link_at(const char *target, const char *rel)
{
    _cleanup_free_ char *p = at(rel);
    cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
}

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    mkdir_at("real");
    mkdir_at("real/sub");
    _cleanup_free_ char *f = at("real/sub/file");
    int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0);
    close(fd);
    _cleanup_free_ char *real = at("real");
    link_at(real, "abs");          /* absolute */
    link_at("real/sub", "rel");    /* relative to its directory */
    link_at("../real", "real/up"); /* relative with ".." */
    link_at("abs", "chain");       /* a link to a link */
    link_at("loop2", "loop1");
    link_at("loop1", "loop2");
}

static void teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
}

TestSuite(hostpath, .init = setup, .fini = teardown);

/* open_host_path(<dir>/rel) trusting owner reaches <dir>/want. */
static void expect_reaches(const char *rel, uid_t owner, const char *want)
{
    _cleanup_free_ char *path = at(rel);
    _cleanup_free_ char *want_path = at(want);
    struct berr err = {0};
    _cleanup_close_ int fd = open_host_path(path, owner, false, &err);
    cr_assert_geq(fd, 0, "%s: %s", path, err.msg);
    struct stat got, exp;
    cr_assert_eq(fstat(fd, &got), 0);
    cr_assert_eq(stat(want_path, &exp), 0, "%s", want_path);
    cr_expect(got.st_dev == exp.st_dev && got.st_ino == exp.st_ino, "%s did not reach %s", rel,
              want);
    int flags = fcntl(fd, F_GETFL);
    cr_expect(flags & O_PATH, "%s: not an O_PATH fd", rel);
    cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC, "%s: not close-on-exec", rel);
}

/* open_host_path(<dir>/rel) fails; its message holds each of needles. */
static void expect_refused(const char *rel, uid_t owner, bool make_dirs, int errnum,
                           const char *needle)
{
    _cleanup_free_ char *path = at(rel);
    struct berr err = {0};
    int fd = open_host_path(path, owner, make_dirs, &err);
    cr_assert_lt(fd, 0, "%s was opened", rel);
    cr_expect_eq(err.errnum, errnum, "%s: errnum %d (%s)", rel, err.errnum, err.msg);
    _cleanup_free_ char *want = xasprintf(needle, dir);
    cr_expect(strstr(err.msg, want), "%s: \"%s\" lacks \"%s\"", rel, err.msg, want);
}

Test(hostpath, paths_without_links_are_opened)
{
    expect_reaches("real/sub/file", getuid() + 1, "real/sub/file");
    expect_reaches("real//./sub/../sub", getuid() + 1, "real/sub");
}

Test(hostpath, links_the_trusted_uid_owns_are_followed)
{
    expect_reaches("abs/sub/file", getuid(), "real/sub/file");
    expect_reaches("rel/file", getuid(), "real/sub/file");
    expect_reaches("real/up/sub", getuid(), "real/sub"); /* ".." from the link's directory */
    expect_reaches("chain/sub", getuid(), "real/sub");
    expect_reaches("rel", getuid(), "real/sub"); /* the last component too */
}

Test(hostpath, a_link_someone_else_owns_is_refused_naming_it_and_its_owner)
{
    uid_t other = getuid() + 1;
    _cleanup_free_ char *owner = xasprintf("is owned by uid %u", (unsigned)getuid());
    expect_refused("abs", other, false, 0, "symlink %s/abs is owned");
    expect_refused("abs/sub/file", other, false, 0, "symlink %s/abs is owned");
    expect_refused("real/up/sub", other, false, 0, "symlink %s/real/up is owned");
    expect_refused("abs", other, false, 0, owner);
}

Test(hostpath, missing_directories_are_made_where_trusted_links_point)
{
    _cleanup_free_ char *path = at("abs/new/deeper");
    struct berr err = {0};
    _cleanup_close_ int fd = open_host_path(path, getuid(), true, &err);
    cr_assert_geq(fd, 0, "%s", err.msg);
    _cleanup_free_ char *made = at("real/new/deeper");
    struct stat st;
    cr_assert_eq(stat(made, &st), 0, "%s was not made", made);
    cr_expect(S_ISDIR(st.st_mode));
}

Test(hostpath, nothing_is_made_through_an_untrusted_link)
{
    expect_refused("abs/new/deeper", getuid() + 1, true, 0, "symlink %s/abs is owned");
    _cleanup_free_ char *made = at("real/new");
    struct stat st;
    cr_expect_neq(stat(made, &st), 0, "%s was made through the link", made);
}

Test(hostpath, missing_paths_fail_with_enoent_unless_made)
{
    expect_refused("real/none/x", getuid(), false, ENOENT, "open %s/real/none");
    _cleanup_free_ char *made = at("real/none");
    struct stat st;
    cr_expect_neq(stat(made, &st), 0, "%s was made", made);
}

Test(hostpath, a_file_on_the_way_is_enotdir)
{
    expect_refused("real/sub/file/x", getuid(), true, ENOTDIR, "%s/real/sub/file/x");
}

Test(hostpath, link_loops_fail_with_eloop)
{
    expect_refused("loop1", getuid(), false, ELOOP, "resolve %s/loop");
}

Test(hostpath, relative_paths_are_refused)
{
    struct berr err = {0};
    cr_assert_lt(open_host_path("tmp/x", 0, false, &err), 0);
    cr_expect(strstr(err.msg, "not an absolute path"), "%s", err.msg);
}
