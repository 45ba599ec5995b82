/* follow_in_root: an image's symlinks followed inside the root, never above it. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/berth-inroot-XXXXXX";
static int rootfd = -1;

static void setup(void)
{
    cr_assert_not_null(mkdtemp(root));
    rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(rootfd, 0);
    cr_assert_eq(mkdirat(rootfd, "real", 0755), 0);
    cr_assert_eq(symlinkat("/real/sub", rootfd, "abs"), 0);
    cr_assert_eq(symlinkat("real/missing", rootfd, "rel"), 0);
    cr_assert_eq(symlinkat("../../../../../etc", rootfd, "climb"), 0);
    cr_assert_eq(symlinkat("abs", rootfd, "chain"), 0);
    cr_assert_eq(symlinkat("loop2", rootfd, "loop1"), 0);
    cr_assert_eq(symlinkat("loop1", rootfd, "loop2"), 0);
    cr_assert_eq(symlinkat("../rel", rootfd, "real/back"), 0);
}

static void teardown(void)
{
    close(rootfd);
    char *cmd = xasprintf("rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
}

TestSuite(inroot, .init = setup, .fini = teardown);

static void expect_follow(const char *path, const char *want)
{
    struct berr err = {0};
    char *got = follow_in_root(rootfd, path, &err);
    cr_assert_not_null(got, "%s: %s", path, err.msg);
    cr_expect_str_eq(got, want, "%s", path);
    free(got);
}

Test(inroot, links_among_existing_components_are_replaced_by_their_targets)
{
    expect_follow("/abs/x/y", "/real/sub/x/y");
    expect_follow("rel/x", "/real/missing/x");
    expect_follow("/chain/x", "/real/sub/x");
    expect_follow("/real/back/x", "/real/missing/x"); /* relative to the link's directory */
}

Test(inroot, paths_without_links_come_back_clean)
{
    expect_follow("/real//./x/../y", "/real/y");
    expect_follow("/missing/abs", "/missing/abs"); /* below a missing component: nothing */
    expect_follow("/", "/");
}

Test(inroot, a_climbing_link_stops_at_the_root)
{
    expect_follow("/climb/passwd", "/etc/passwd");
}

Test(inroot, a_link_loop_is_eloop)
{
    struct berr err = {0};
    cr_assert_null(follow_in_root(rootfd, "/loop1/x", &err));
    cr_assert_eq(err.errnum, ELOOP, "%s", err.msg);
}
