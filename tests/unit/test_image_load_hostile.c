/* Hostile layers arriving through `load`: each category must fail or stay inside the layer,
 * and the host must be untouched. Layers are unpacked by the same code as import; these tests
 * check the path through load (two layers, verification, nothing registered on failure). */
#include "image_load_util.h"

static struct tstore ts;
static char outside[64];

static void setup(void)
{
    tstore_open(&ts);
    strcpy(outside, "/tmp/berth-load-outside-XXXXXX");
    cr_assert_not_null(mkdtemp(outside));
}

static void teardown(void)
{
    struct berr err;
    remove_tree_at(AT_FDCWD, outside, &err);
    tstore_close(&ts);
}

TestSuite(image_load_hostile, .init = setup, .fini = teardown);

/* Load a two-layer image; returns load's result. */
static int load_layers(const struct tentry *l0, size_t n0, const struct tentry *l1, size_t n1,
                       struct berr *err)
{
    struct fx_layer ls[2] = {{.filter = ARCHIVE_FILTER_NONE}, {.filter = ARCHIVE_FILTER_GZIP}};
    ls[0].tar = tar_build(l0, n0, &ls[0].len);
    ls[1].tar = tar_build(l1, n1, &ls[1].len);
    struct fx x = {0};
    fx_image(&x, FX_DOCKER_OCI, "evil:1", ls, 2, NULL);
    size_t len;
    char *tar = fx_tar(&x, ARCHIVE_FILTER_NONE, &len);
    _cleanup_strv_ struct strv msgs = {0};
    int rc = fx_load_bytes(&ts.s, tar, len, false, &msgs, err);
    free(tar);
    fx_free(&x);
    free(ls[0].tar);
    free(ls[1].tar);
    return rc;
}

static void assert_outside_untouched(void)
{
    cr_expect_eq(count_entries(outside), 1, "something was written outside");
    char *p = xasprintf("%s/keep", outside);
    char *t = read_text(p);
    cr_expect(t && !strcmp(t, "keep"), "host file changed: %s", t ? t : "(gone)");
    free(t);
    free(p);
}

static void make_keep(void)
{
    char *p = xasprintf("%s/keep", outside);
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write_all(fd, "keep", 4), 0);
    close(fd);
    free(p);
}

static const struct tentry base[] = {{.path = "etc/", .type = 'd'},
                                     {.path = "etc/os", .type = 'f', .data = "base"}};

Test(image_load_hostile, absolute_names_land_inside)
{
    make_keep();
    char name[128];
    snprintf(name, sizeof(name), "%s/keep", outside);
    const struct tentry top[] = {{.path = name, .type = 'f', .data = "evil"}};
    struct berr err = {0};
    cr_assert_eq(load_layers(base, 2, top, 1, &err), 0, "%s", err.msg);
    assert_outside_untouched();
}

Test(image_load_hostile, dotdot_names_are_refused)
{
    make_keep();
    char name[128];
    snprintf(name, sizeof(name), "../../../../../..%s/new", outside);
    const struct tentry top[] = {{.path = name, .type = 'f', .data = "evil"}};
    struct berr err = {0};
    cr_assert_eq(load_layers(base, 2, top, 1, &err), -1);
    cr_expect(strstr(err.msg, "outside the layer"), "%s", err.msg);
    assert_outside_untouched();
    assert_store_empty(&ts);
}

Test(image_load_hostile, write_through_a_symlink_of_the_lower_layer_stays_inside)
{
    make_keep();
    const struct tentry l0[] = {{.path = "lnk", .type = 'l', .data = outside}};
    const struct tentry top[] = {{.path = "lnk/keep", .type = 'f', .data = "evil"},
                                 {.path = "lnk/new", .type = 'f', .data = "evil"}};
    struct berr err = {0};
    cr_assert_eq(load_layers(l0, 1, top, 2, &err), 0, "%s", err.msg);
    assert_outside_untouched();
}

Test(image_load_hostile, write_through_a_symlink_of_the_same_layer_stays_inside)
{
    make_keep();
    const struct tentry top[] = {{.path = "lnk", .type = 'l', .data = outside},
                                 {.path = "lnk/keep", .type = 'f', .data = "evil"}};
    struct berr err = {0};
    /* resolved in the layer, the link's target does not exist there: refused, or inside */
    if (load_layers(base, 2, top, 2, &err) < 0)
        assert_store_empty(&ts);
    assert_outside_untouched();
}

Test(image_load_hostile, hardlink_to_outside_is_refused)
{
    make_keep();
    char target[128];
    snprintf(target, sizeof(target), "%s/keep", outside);
    const struct tentry top[] = {{.path = "h", .type = 'h', .data = target}};
    struct berr err = {0};
    cr_assert_eq(load_layers(base, 2, top, 1, &err), -1);
    assert_outside_untouched();
    assert_store_empty(&ts);
    const struct tentry up[] = {{.path = "h", .type = 'h', .data = "../../../../etc/passwd"}};
    cr_assert_eq(load_layers(base, 2, up, 1, &err), -1);
    cr_expect(strstr(err.msg, "outside the layer"), "%s", err.msg);
    assert_store_empty(&ts);
}

Test(image_load_hostile, whiteout_naming_outside_touches_nothing)
{
    make_keep();
    char name[160];
    snprintf(name, sizeof(name), "../../../../../..%s/.wh.keep", outside);
    const struct tentry top[] = {{.path = name, .type = 'f'}};
    struct berr err = {0};
    cr_assert_eq(load_layers(base, 2, top, 1, &err), -1);
    assert_outside_untouched();
    assert_store_empty(&ts);
    /* through a symlinked directory: the whiteout lands in the layer */
    const struct tentry l0[] = {{.path = "lnk", .type = 'l', .data = outside}};
    const struct tentry wh[] = {{.path = "lnk/.wh.keep", .type = 'f'}};
    cr_assert_eq(load_layers(l0, 1, wh, 1, &err), 0, "%s", err.msg);
    assert_outside_untouched();
}

Test(image_load_hostile, root_type_change_is_refused)
{
    make_keep();
    const struct tentry top[] = {{.path = ".", .type = 'l', .data = outside},
                                 {.path = "keep", .type = 'f', .data = "evil"}};
    struct berr err = {0};
    cr_assert_eq(load_layers(base, 2, top, 2, &err), -1);
    cr_expect(strstr(err.msg, "refusing to replace the root"), "%s", err.msg);
    assert_outside_untouched();
    assert_store_empty(&ts);
}
