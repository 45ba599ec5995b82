/* Layers that try to write outside their directory, replace its root, or smuggle overlay
 * metadata; and the overlay conversion of whiteouts. */
#include "image_test_util.h"

#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static struct tstore ts;
static char outside[64];

static void setup(void)
{
    tstore_open(&ts);
    strcpy(outside, "/tmp/berth-outside-XXXXXX");
    cr_assert_not_null(mkdtemp(outside));
}

static void teardown(void)
{
    struct berr err;
    remove_tree_at(AT_FDCWD, outside, &err);
    tstore_close(&ts);
}

TestSuite(image_hostile, .init = setup, .fini = teardown);

static int import_entries(const struct tentry *es, size_t n, char hex[65], struct berr *err)
{
    size_t len;
    char *tar = tar_build(es, n, &len);
    char id[65];
    int rc = import_bytes(&ts.s, tar, len, "hostile", id, err);
    free(tar);
    if (rc == 0)
        only_layer(&ts, "hostile", hex);
    return rc;
}

static void require_root(void)
{
    if (geteuid() != 0) {
        teardown(); /* criterion skips .fini after cr_skip_test */
        cr_skip_test("needs root (mknod, chown, trusted.* xattrs)");
    }
}

Test(image_hostile, dotdot_entry_is_refused_and_nothing_escapes)
{
    static const struct tentry es[] = {{.path = "ok", .type = 'f', .data = "fine"},
                                       {.path = "../escape", .type = 'f', .data = "x"}};
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 2, hex, &err), -1);
    cr_expect(strstr(err.msg, "layer entry ../escape: path is outside the layer"), "%s", err.msg);
    char *p = xasprintf("%s/tmp/escape", ts.root);
    cr_expect_neq(access(p, F_OK), 0, "../escape written beside the layer");
    free(p);
    p = xasprintf("%s/escape", ts.root);
    cr_expect_neq(access(p, F_OK), 0);
    free(p);
    assert_store_empty(&ts);
}

Test(image_hostile, dotdot_that_stays_inside_is_cleaned)
{
    static const struct tentry es[] = {{.path = "a/b/../c", .type = 'f', .data = "c"}};
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 1, hex, &err), 0, "%s", err.msg);
    char *p = layer_file(&ts, hex, "a/c");
    cr_expect_eq(access(p, F_OK), 0);
    free(p);
}

Test(image_hostile, absolute_name_lands_inside_the_layer)
{
    char name[128];
    snprintf(name, sizeof(name), "%s/x", outside);
    const struct tentry es[] = {{.path = name, .type = 'f', .data = "inside"}};
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 1, hex, &err), 0, "%s", err.msg);
    char *p = layer_file(&ts, hex, name + 1);
    char *text = read_text(p);
    cr_expect_str_eq(text, "inside");
    free(text);
    free(p);
    cr_expect_eq(count_entries(outside), 0, "absolute name written on the host");
}

Test(image_hostile, write_through_an_absolute_symlink_stays_inside)
{
    char file[128];
    snprintf(file, sizeof(file), "evil/file");
    const struct tentry es[] = {{.path = "evil", .type = 'l', .data = outside},
                                {.path = file, .type = 'f', .data = "pwned"}};
    char hex[65];
    struct berr err = {0};
    int rc = import_entries(es, 2, hex, &err);
    cr_expect_eq(count_entries(outside), 0, "write followed the symlink out of the layer");
    if (rc < 0) {
        cr_expect(strstr(err.msg, "layer entry evil/file"), "%s", err.msg);
        assert_store_empty(&ts);
    }
}

Test(image_hostile, write_through_a_relative_symlink_stays_inside)
{
    char target[128];
    snprintf(target, sizeof(target), "../../../../../../../..%s", outside);
    const struct tentry es[] = {{.path = "d/rel", .type = 'l', .data = target},
                                {.path = "d/rel/file", .type = 'f', .data = "pwned"}};
    char hex[65];
    struct berr err = {0};
    import_entries(es, 2, hex, &err);
    cr_expect_eq(count_entries(outside), 0, "write followed the symlink out of the layer");
}

Test(image_hostile, directory_entry_through_a_symlink_stays_inside)
{
    const struct tentry es[] = {{.path = "evil", .type = 'l', .data = outside},
                                {.path = "evil/sub/", .type = 'd'},
                                {.path = "evil/sub/f", .type = 'f', .data = "x"}};
    char hex[65];
    struct berr err = {0};
    import_entries(es, 3, hex, &err);
    cr_expect_eq(count_entries(outside), 0);
}

Test(image_hostile, file_entry_replaces_a_symlink_instead_of_following_it)
{
    char target[128];
    snprintf(target, sizeof(target), "%s/target", outside);
    const struct tentry es[] = {{.path = "s", .type = 'l', .data = target},
                                {.path = "s", .type = 'f', .data = "mine", .perm = 0600}};
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 2, hex, &err), 0, "%s", err.msg);
    cr_expect_eq(count_entries(outside), 0);
    char *p = layer_file(&ts, hex, "s");
    struct stat st;
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISREG(st.st_mode));
    free(p);
}

Test(image_hostile, hardlink_to_host_passwd_is_refused)
{
    struct stat before, after;
    cr_assert_eq(stat("/etc/passwd", &before), 0);
    const char *targets[] = {"/etc/passwd", "../../../../etc/passwd", "d/passwd"};
    for (size_t i = 0; i < 3; i++) {
        const struct tentry es[] = {{.path = "d", .type = 'l', .data = "/etc"},
                                    {.path = "h", .type = 'h', .data = targets[i]}};
        char hex[65];
        struct berr err = {0};
        cr_expect_eq(import_entries(es, 2, hex, &err), -1, "hard link to %s accepted", targets[i]);
        cr_expect(strstr(err.msg, "layer entry h: hard link target"), "%s", err.msg);
        assert_store_empty(&ts);
    }
    cr_assert_eq(stat("/etc/passwd", &after), 0);
    cr_expect_eq(before.st_nlink, after.st_nlink, "host /etc/passwd gained a link");
    cr_expect_eq(before.st_mtime, after.st_mtime);
}

Test(image_hostile, hardlink_to_a_file_of_the_layer_itself_works)
{
    static const struct tentry es[] = {{.path = "etc/passwd", .type = 'f', .data = "root\n"},
                                       {.path = "h", .type = 'h', .data = "/etc/passwd"}};
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 2, hex, &err), 0, "%s", err.msg);
    char *a = layer_file(&ts, hex, "etc/passwd"), *b = layer_file(&ts, hex, "h");
    struct stat sa, sb, host;
    cr_assert_eq(stat(a, &sa), 0);
    cr_assert_eq(stat(b, &sb), 0);
    cr_assert_eq(stat("/etc/passwd", &host), 0);
    cr_expect_eq(sa.st_ino, sb.st_ino);
    cr_expect_neq(sb.st_ino, host.st_ino);
    free(a);
    free(b);
}

/* libarchive reads a regular file named "./" or "/" as a directory (old tars marked
 * directories so), hence the fifo for those names. */
Test(image_hostile, root_entry_as_a_non_directory_is_refused)
{
    static const struct tentry es[][1] = {
        {{.path = ".", .type = 'f', .data = "not a dir"}},
        {{.path = "./", .type = 'p'}},
        {{.path = "/", .type = 'p'}},
        {{.path = "./", .type = 'h', .data = "x"}},
    };
    for (size_t i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
        char hex[65];
        struct berr err = {0};
        cr_expect_eq(import_entries(es[i], 1, hex, &err), -1, "root replaced by '%s'",
                     es[i][0].path);
        cr_expect(strstr(err.msg, "refusing to replace the root"), "%s", err.msg);
        assert_store_empty(&ts);
    }
}

Test(image_hostile, damaged_header_fails_instead_of_skipping)
{
    size_t len;
    static const struct tentry es[] = {{.path = "a", .type = 'f', .data = "abc"},
                                       {.path = "b", .type = 'f', .data = "def"}};
    char *tar = tar_build(es, 2, &len);
    tar[1024 + 10] ^= 0x20; /* inside the second header's name: checksum no longer matches */
    char id[65];
    struct berr err = {0};
    cr_expect_eq(import_bytes(&ts.s, tar, len, "damaged", id, &err), -1);
    cr_expect(strstr(err.msg, "after entry a"), "%s", err.msg);
    assert_store_empty(&ts);
    free(tar);
}

Test(image_hostile, root_entry_as_a_symlink_is_refused)
{
    const struct tentry es[] = {{.path = ".", .type = 'l', .data = outside},
                                {.path = "x", .type = 'f', .data = "pwned"}};
    char hex[65];
    struct berr err = {0};
    cr_expect_eq(import_entries(es, 2, hex, &err), -1);
    cr_expect_eq(count_entries(outside), 0);
    assert_store_empty(&ts);
}

Test(image_hostile, root_entry_as_a_directory_sets_the_root_metadata)
{
    static const struct tentry es[] = {{.path = "./", .type = 'd', .perm = 0750},
                                       {.path = "./f", .type = 'f', .data = "x"}};
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 2, hex, &err), 0, "%s", err.msg);
    char *p = xasprintf("%s/layers/%s", ts.root, hex);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect(S_ISDIR(st.st_mode));
    cr_expect_eq(st.st_mode & 07777, 0750);
    cr_expect_eq(st.st_mtime, 1700000000);
    free(p);
}

Test(image_hostile, whiteouts_become_overlay_whiteouts)
{
    require_root();
    static const struct tentry es[] = {
        {.path = "dir/", .type = 'd'},
        {.path = "dir/.wh.gone", .type = 'f', .perm = 0},
        {.path = "opq/", .type = 'd'},
        {.path = "opq/.wh..wh..opq", .type = 'f'},
        {.path = "opq/new", .type = 'f', .data = "n"},
        {.path = ".wh..wh.plnk", .type = 'd'},
        {.path = "nodir/.wh.x", .type = 'f'},
    };
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, sizeof(es) / sizeof(es[0]), hex, &err), 0, "%s", err.msg);
    struct stat st;
    char *p = layer_file(&ts, hex, "dir/gone");
    cr_assert_eq(lstat(p, &st), 0, "whiteout not created");
    cr_expect(S_ISCHR(st.st_mode));
    cr_expect_eq(st.st_rdev, makedev(0, 0));
    free(p);
    p = layer_file(&ts, hex, "dir/.wh.gone");
    cr_expect_neq(lstat(p, &st), 0, "whiteout marker materialised");
    free(p);
    p = layer_file(&ts, hex, "opq");
    char val[8] = "";
    cr_expect_eq(lgetxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 1);
    cr_expect_eq(val[0], 'y');
    free(p);
    p = layer_file(&ts, hex, "opq/.wh..wh..opq");
    cr_expect_neq(lstat(p, &st), 0);
    free(p);
    p = layer_file(&ts, hex, ".wh..wh.plnk");
    cr_expect_neq(lstat(p, &st), 0, "aufs metadata materialised");
    free(p);
    p = layer_file(&ts, hex, "nodir/x");
    cr_expect_eq(lstat(p, &st), 0);
    free(p);
}

Test(image_hostile, whiteout_after_an_entry_of_the_same_layer_keeps_the_entry)
{
    require_root();
    static const struct tentry es[] = {
        {.path = "f", .type = 'f', .data = "kept"},
        {.path = ".wh.f", .type = 'f'},
        {.path = "d/", .type = 'd'},
        {.path = ".wh.d", .type = 'f'},
        {.path = ".wh.g", .type = 'f'},
        {.path = "g/", .type = 'd'},
    };
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, sizeof(es) / sizeof(es[0]), hex, &err), 0, "%s", err.msg);
    struct stat st;
    char *p = layer_file(&ts, hex, "f");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISREG(st.st_mode));
    free(p);
    char val[8];
    p = layer_file(&ts, hex, "d");
    cr_expect_eq(lgetxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 1,
                 "directory deleted and re-made in one layer must hide the lower one");
    free(p);
    p = layer_file(&ts, hex, "g");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISDIR(st.st_mode));
    cr_expect_eq(lgetxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 1);
    free(p);
}

Test(image_hostile, invalid_whiteout_names_are_refused)
{
    static const struct tentry es[] = {{.path = "a/.wh.", .type = 'f'}};
    char hex[65];
    struct berr err = {0};
    cr_expect_eq(import_entries(es, 1, hex, &err), -1);
    cr_expect(strstr(err.msg, "invalid whiteout"), "%s", err.msg);
    assert_store_empty(&ts);
}

Test(image_hostile, overlay_xattrs_from_the_tar_are_dropped)
{
    require_root();
    static const struct tentry es[] = {
        {.path = "d/", .type = 'd', .xattr_name = "trusted.overlay.opaque", .xattr_value = "y"},
        {.path = "f", .type = 'f', .data = "x", .xattr_name = "user.test", .xattr_value = "v"},
        {.path = "g", .type = 'f', .xattr_name = "trusted.overlay.redirect", .xattr_value = "/"},
    };
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 3, hex, &err), 0, "%s", err.msg);
    char val[8];
    char *p = layer_file(&ts, hex, "d");
    cr_expect_lt(lgetxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 0);
    free(p);
    p = layer_file(&ts, hex, "g");
    cr_expect_lt(lgetxattr(p, "trusted.overlay.redirect", val, sizeof(val)), 0);
    free(p);
    p = layer_file(&ts, hex, "f");
    cr_expect_eq(lgetxattr(p, "user.test", val, sizeof(val)), 1, "ordinary xattr lost");
    free(p);
}

Test(image_hostile, devices_fifos_and_setuid_owner_are_kept)
{
    require_root();
    static const struct tentry es[] = {
        {.path = "dev/null", .type = 'c', .major = 1, .minor = 3, .perm = 0666},
        {.path = "p", .type = 'p', .perm = 0640, .uid = 7, .gid = 8},
        {.path = "suid", .type = 'f', .data = "x", .perm = 06755, .uid = 1000, .gid = 1000},
    };
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 3, hex, &err), 0, "%s", err.msg);
    struct stat st;
    char *p = layer_file(&ts, hex, "dev/null");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISCHR(st.st_mode));
    cr_expect_eq(st.st_rdev, makedev(1, 3));
    cr_expect_eq(st.st_mode & 07777, 0666);
    free(p);
    p = layer_file(&ts, hex, "p");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISFIFO(st.st_mode));
    cr_expect_eq(st.st_mode & 07777, 0640);
    cr_expect_eq(st.st_uid, 7);
    cr_expect_eq(st.st_gid, 8);
    free(p);
    p = layer_file(&ts, hex, "suid");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 06755, "chmod must come after chown");
    cr_expect_eq(st.st_uid, 1000);
    free(p);
}

Test(image_hostile, type_changes_replace_what_was_there)
{
    static const struct tentry es[] = {
        {.path = "x/", .type = 'd'},
        {.path = "x/inner", .type = 'f', .data = "1"},
        {.path = "x", .type = 'l', .data = "/etc"},
        {.path = "y", .type = 'f', .data = "f"},
        {.path = "y/", .type = 'd'},
    };
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 5, hex, &err), 0, "%s", err.msg);
    struct stat st;
    char *p = layer_file(&ts, hex, "x");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISLNK(st.st_mode));
    free(p);
    p = layer_file(&ts, hex, "y");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISDIR(st.st_mode));
    free(p);
}

Test(image_hostile, failure_after_good_entries_leaves_nothing)
{
    static const struct tentry es[] = {
        {.path = "a/b/c", .type = 'f', .data = "good"},
        {.path = "d/", .type = 'd'},
        {.path = ".", .type = 'l', .data = "/"},
    };
    char hex[65];
    struct berr err = {0};
    cr_assert_eq(import_entries(es, 3, hex, &err), -1);
    cr_expect(strncmp(err.msg, "import: layer entry .: ", 23) == 0, "%s", err.msg);
    assert_store_empty(&ts);
    struct image img;
    cr_expect_eq(image_resolve(&ts.s, "hostile", &img, &err), -1);
    cr_expect_eq(err.kind, BERR_NOT_FOUND);
}
