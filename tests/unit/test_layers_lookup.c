/* mounts_open_in_layers: a file as the overlay of unpacked layers will show it; and
 * mounts_resolve_in_layers: where a path of the merged view leads. */
#include "mounts/internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static char base[] = "/tmp/berth-layers.XXXXXX";
static struct strv layers; /* bottom first */

static char *at(size_t layer, const char *rel)
{
    return xasprintf("%s/%zu/%s", base, layer, rel);
}

static void mkdirs(size_t layer, const char *rel)
{
    char *p = at(layer, rel);
    for (char *s = p + strlen(base) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    mkdir(p, 0755);
    free(p);
}

static void put(size_t layer, const char *rel, const char *text)
{
    char *p = at(layer, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0, "%s: %s", p, strerror(errno));
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(p);
}

static void link_to(size_t layer, const char *rel, const char *target)
{
    char *p = at(layer, rel);
    cr_assert_eq(symlink(target, p), 0, "%s", strerror(errno));
    free(p);
}

static void whiteout(size_t layer, const char *rel)
{
    char *p = at(layer, rel);
    cr_assert_eq(mknod(p, S_IFCHR | 0, makedev(0, 0)), 0, "%s", strerror(errno));
    free(p);
}

static void opaque(size_t layer, const char *rel)
{
    char *p = at(layer, rel);
    cr_assert_eq(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0, "%s", strerror(errno));
    free(p);
}

static void setup(void)
{
    if (geteuid() != 0)
        cr_skip_test("whiteouts and the opaque xattr need root");
    cr_assert(mkdtemp(base));
    for (size_t i = 0; i < 3; i++) {
        char *p = xasprintf("%s/%zu", base, i);
        mkdir(p, 0755);
        strv_push_owned(&layers, p);
    }
    mkdirs(0, "etc");
    put(0, "etc/passwd", "bottom\n");
    put(0, "etc/group", "bottom group\n");
    mkdirs(0, "usr/lib");
    put(0, "usr/lib/passwd", "usr lib\n");
}

static void teardown(void)
{
    struct berr err;
    remove_tree_at(AT_FDCWD, base, &err);
    strv_free(&layers);
}

TestSuite(layers_lookup, .init = setup, .fini = teardown);

static char *read_in_layers(const char *path, int *errnum)
{
    struct berr err = {0};
    int fd = mounts_open_in_layers(&layers, path, O_RDONLY, &err);
    *errnum = fd < 0 ? err.errnum : 0;
    if (fd < 0)
        return NULL;
    char *text = NULL;
    cr_assert_eq(read_fd_all(fd, 1 << 16, &text, NULL, &err), 0);
    close(fd);
    return text;
}

static void assert_reads(const char *path, const char *want)
{
    int e;
    char *got = read_in_layers(path, &e);
    cr_assert(got, "%s: %s", path, strerror(e));
    cr_assert_str_eq(got, want, "%s", path);
    free(got);
}

static void assert_fails(const char *path, int want)
{
    int e;
    char *got = read_in_layers(path, &e);
    cr_assert_null(got, "%s read \"%s\"", path, got);
    cr_assert_eq(e, want, "%s: %s, want %s", path, strerror(e), strerror(want));
}

Test(layers_lookup, the_topmost_layer_holding_a_file_wins)
{
    assert_reads("/etc/passwd", "bottom\n");
    mkdirs(2, "etc");
    put(2, "etc/passwd", "top\n");
    assert_reads("/etc/passwd", "top\n");
    assert_reads("/etc/group", "bottom group\n"); /* directories merge */
}

Test(layers_lookup, a_whiteout_hides_the_name_below)
{
    mkdirs(1, "etc");
    whiteout(1, "etc/passwd");
    assert_fails("/etc/passwd", ENOENT);
    mkdirs(2, "etc");
    put(2, "etc/passwd", "again\n");
    assert_reads("/etc/passwd", "again\n");
}

Test(layers_lookup, an_opaque_directory_stops_the_merge)
{
    mkdirs(1, "etc");
    opaque(1, "etc");
    assert_fails("/etc/passwd", ENOENT);
    put(1, "etc/group", "middle group\n");
    assert_reads("/etc/group", "middle group\n");
}

Test(layers_lookup, a_file_hides_a_lower_directory)
{
    put(1, "etc", "not a directory\n");
    assert_fails("/etc/passwd", ENOTDIR);
}

Test(layers_lookup, symlinks_are_followed_in_the_merged_view)
{
    mkdirs(1, "etc");
    link_to(1, "etc/passwd", "../usr/lib/passwd");
    assert_reads("/etc/passwd", "usr lib\n");
    /* a directory link in the top layer into a lower layer's tree, absolute */
    link_to(2, "conf", "/usr/lib");
    assert_reads("/conf/passwd", "usr lib\n");
    /* '..' never climbs above the root */
    link_to(2, "up", "../../../../etc/group");
    assert_reads("/up", "bottom group\n");
}

Test(layers_lookup, link_loops_end_in_eloop)
{
    link_to(2, "a", "/b");
    link_to(2, "b", "/a");
    assert_fails("/a", ELOOP);
}

static void assert_resolves(const char *path, const char *want)
{
    struct berr err = {0};
    char *got = mounts_resolve_in_layers(&layers, path, &err);
    cr_assert(got, "%s: %s", path, err.msg);
    cr_assert_str_eq(got, want, "%s", path);
    free(got);
}

Test(layers_lookup, a_path_resolves_where_its_links_lead_and_keeps_what_is_missing)
{
    assert_resolves("/etc/passwd", "/etc/passwd");
    assert_resolves("/", "/");
    assert_resolves("/no/such/dir", "/no/such/dir");
    mkdirs(1, "var");
    link_to(1, "var/run", "/run");
    assert_resolves("/var/run/nscd", "/run/nscd");
    assert_resolves("/var/run", "/run");
    link_to(2, "conf", "usr/lib");
    assert_resolves("/conf/new/deeper", "/usr/lib/new/deeper");
    assert_resolves("/conf/passwd", "/usr/lib/passwd");
    link_to(2, "up", "../../../../srv");
    assert_resolves("/up/x", "/srv/x");
}

Test(layers_lookup, a_path_that_cannot_be_followed_does_not_resolve)
{
    link_to(2, "a", "/b");
    link_to(2, "b", "/a");
    struct berr err = {0};
    cr_assert_null(mounts_resolve_in_layers(&layers, "/a/x", &err));
    cr_assert_eq(err.errnum, ELOOP);
    err = (struct berr){0};
    cr_assert_null(mounts_resolve_in_layers(&layers, "/etc/passwd/x", &err));
    cr_assert_eq(err.errnum, ENOTDIR);
    /* '..' after a name: the kernel would climb from where that name leads, were it a link */
    link_to(2, "back", "usr/lib/../x");
    err = (struct berr){0};
    cr_assert_null(mounts_resolve_in_layers(&layers, "/back/y", &err));
    cr_assert_eq(err.errnum, EINVAL);
    link_to(2, "lead", "../../usr/./lib");
    assert_resolves("/lead/y", "/usr/lib/y");
}
