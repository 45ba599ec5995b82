/* rmi and image prune keep digests.json in step with what they remove: an image that loses its
 * last tag or its config loses its manifest digest, so `images --digests` shows nothing stale. */
#include "image_load_util.h"

static struct tstore ts;

static void setup(void)
{
    tstore_open(&ts);
}

static void teardown(void)
{
    tstore_close(&ts);
}

TestSuite(image_manage, .init = setup, .fini = teardown);

/* An OCI layout of one one-layer image tagged ref, loaded; id gets its image id. The layer
 * holds ref itself, so every ref gives its own image. */
static void load_oci(const char *ref, char id[65])
{
    const struct tentry entries[] = {{.path = "name", .type = 'f', .data = ref}};
    struct fx_layer l = {.filter = ARCHIVE_FILTER_GZIP};
    l.tar = tar_build(entries, ARRAY_SIZE(entries), &l.len);
    struct fx x = {0};
    fx_image(&x, FX_OCI, ref, &l, 1, NULL);
    size_t len;
    char *tar = fx_tar(&x, ARCHIVE_FILTER_NONE, &len);
    _cleanup_strv_ struct strv msgs = {0};
    struct berr err = {0};
    cr_assert_eq(fx_load_bytes(&ts.s, tar, len, false, &msgs, &err), 0, "%s", err.msg);
    struct image img;
    cr_assert_eq(image_resolve(&ts.s, ref, &img, &err), 0, "%s", err.msg);
    memcpy(id, img.id, 65);
    image_free(&img);
    free(tar);
    fx_free(&x);
    free(l.tar);
}

/* digests.json parsed; an empty object when the file is missing. */
static yajl_val digests_doc(void)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/digests.json", ts.root);
    _cleanup_free_ char *text = NULL;
    struct berr err = {0};
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &err) < 0) {
        cr_assert_eq(err.errnum, ENOENT, "%s", err.msg);
        text = xstrdup("{}");
    }
    yajl_val doc = NULL;
    cr_assert_eq(json_parse(text, &doc, &err), 0, "%s: %s", err.msg, text);
    cr_assert(YAJL_IS_OBJECT(doc), "%s", text);
    return doc;
}

static bool has_digest(const char *id)
{
    yajl_val doc = digests_doc();
    bool found = false;
    for (size_t i = 0; i < doc->u.object.len; i++)
        found |= !strcmp(doc->u.object.keys[i], id);
    yajl_tree_free(doc);
    return found;
}

static size_t digest_count(void)
{
    yajl_val doc = digests_doc();
    size_t n = doc->u.object.len;
    yajl_tree_free(doc);
    return n;
}

/* The DIGEST column of every row of image id ("" when it shows <none>); NULL when not listed. */
static char *listed_digest(const char *id)
{
    struct image_summary *rows;
    size_t n;
    struct berr err = {0};
    cr_assert_eq(image_list(&ts.s, &rows, &n, &err), 0, "%s", err.msg);
    char *d = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(rows[i].id, id))
            d = xstrdup(rows[i].digest);
    }
    image_summaries_free(rows, n);
    return d;
}

static void rmi(const char *ref, bool force, const struct image_user *users, size_t nusers)
{
    _cleanup_strv_ struct strv msgs = {0};
    struct berr err = {0};
    cr_assert_eq(image_remove(&ts.s, ref, force, users, nusers, &msgs, &err), 0, "%s", err.msg);
}

static void prune(bool all)
{
    _cleanup_strv_ struct strv msgs = {0};
    unsigned long long reclaimed;
    struct berr err = {0};
    cr_assert_eq(image_prune(&ts.s, all, NULL, 0, &msgs, &reclaimed, &err), 0, "%s", err.msg);
}

static void tag(const char *source, const char *target)
{
    struct berr err = {0};
    cr_assert_eq(image_tag(&ts.s, source, target, &err), 0, "%s", err.msg);
}

Test(image_manage, loading_an_oci_layout_records_its_digest)
{
    char id[65];
    load_oci("it/a:1", id);
    cr_expect(has_digest(id));
    _cleanup_free_ char *d = listed_digest(id);
    cr_assert_not_null(d);
    cr_expect(str_has_prefix(d, "sha256:"), "%s", d);
}

Test(image_manage, rmi_of_the_only_tag_drops_the_digest)
{
    char id[65], other[65];
    load_oci("it/a:1", id);
    load_oci("it/b:1", other);
    rmi("it/a:1", false, NULL, 0);
    cr_expect_not(has_digest(id), "digests.json keeps the removed image");
    cr_expect(has_digest(other), "digests.json lost an unrelated image");
    cr_expect_eq(digest_count(), 1);
}

Test(image_manage, rmi_of_one_of_two_tags_keeps_the_digest)
{
    char id[65];
    load_oci("it/a:1", id);
    tag("it/a:1", "it/a:2");
    rmi("it/a:1", false, NULL, 0);
    cr_expect(has_digest(id), "the image is still tagged it/a:2");
    _cleanup_free_ char *d = listed_digest(id);
    cr_assert_not_null(d);
    cr_expect(str_has_prefix(d, "sha256:"), "%s", d);
}

Test(image_manage, rmi_of_the_second_tag_drops_the_digest)
{
    char id[65];
    load_oci("it/a:1", id);
    tag("it/a:1", "it/a:2");
    rmi("it/a:1", false, NULL, 0);
    rmi("it/a:2", false, NULL, 0);
    cr_expect_not(has_digest(id));
    cr_expect_eq(digest_count(), 0);
}

Test(image_manage, rmi_force_by_id_of_a_twice_tagged_image_drops_the_digest)
{
    char id[65];
    load_oci("it/a:1", id);
    tag("it/a:1", "it/a:2");
    rmi(id, true, NULL, 0);
    cr_expect_not(has_digest(id));
    _cleanup_free_ char *d = listed_digest(id);
    cr_expect_null(d, "the image is still listed");
}

/* docker drops a repository's digest references with its last tag, also when a running
 * container keeps the image itself (listed as <none> with no digest) */
Test(image_manage, rmi_of_the_last_tag_of_a_running_image_drops_the_digest)
{
    char id[65];
    load_oci("it/a:1", id);
    struct image_user user = {.running = true};
    memcpy(user.image, id, 65);
    memset(user.container, 'c', 64);
    rmi("it/a:1", true, &user, 1);
    cr_expect_not(has_digest(id));
    _cleanup_free_ char *d = listed_digest(id);
    cr_assert_not_null(d, "the running container's image was removed");
    cr_expect_str_eq(d, "");
}

Test(image_manage, prune_of_a_dangling_image_drops_its_digest)
{
    char old[65], kept[65];
    load_oci("it/a:1", old);
    load_oci("it/b:1", kept);
    tag("it/b:1", "it/a:1"); /* it/a:1's first image is now dangling */
    prune(false);
    cr_expect_not(has_digest(old), "digests.json keeps the pruned image");
    cr_expect(has_digest(kept));
    cr_expect_eq(digest_count(), 1);
}

Test(image_manage, prune_all_drops_every_digest)
{
    char a[65], b[65];
    load_oci("it/a:1", a);
    load_oci("it/b:1", b);
    prune(true);
    cr_expect_eq(digest_count(), 0);
}

/* entries whose config is gone (a crash between a removal's steps, a load that failed after
 * recording them) are swept by the next removal */
Test(image_manage, entries_of_missing_configs_are_swept_by_the_next_rmi)
{
    char a[65], b[65];
    load_oci("it/a:1", a);
    load_oci("it/b:1", b);
    char path[300];
    snprintf(path, sizeof(path), "%s/blobs/sha256/%s", ts.root, a);
    cr_assert_eq(unlink(path), 0);
    rmi("it/b:1", false, NULL, 0);
    cr_expect_eq(digest_count(), 0);
}

Test(image_manage, no_temporary_files_are_left_beside_digests_json)
{
    char a[65];
    load_oci("it/a:1", a);
    rmi("it/a:1", false, NULL, 0);
    DIR *d = opendir(ts.root);
    cr_assert_not_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        cr_expect_null(strstr(de->d_name, ".tmp"), "%s left behind", de->d_name);
    closedir(d);
}

/* As docker: "sha256:x" must stay an image id, so no tag may be named sha256. */
Test(image_manage, a_tag_named_after_the_digest_algorithm_is_refused)
{
    static const char *const targets[] = {"sha256:sometag", "sha256", "docker.io/library/sha256:1"};
    char id[65];
    load_oci("it/a:1", id);
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        struct berr err = {0};
        cr_expect_lt(image_tag(&ts.s, "it/a:1", targets[i], &err), 0, "%s tagged", targets[i]);
        cr_expect_eq(err.kind, BERR_USAGE);
        cr_expect_str_eq(err.msg,
                         "refusing to create an ambiguous tag using digest algorithm as name");
    }
    /* names that only contain it stay valid */
    tag("it/a:1", "sha256x:1");
    tag("it/a:1", "host:5000/sha256:1");
    tag("it/a:1", "sha256/app:1");
}

/* Holding the store lock, tag and rmi must not build the default image (which takes the lock
 * again): an absent default is "No such image", at once. */
Test(image_manage, tag_and_rmi_of_an_absent_default_image_are_not_found, .timeout = 10)
{
    struct berr err = {0};
    cr_assert_lt(image_tag(&ts.s, "berth/worker:latest", "x:1", &err), 0);
    cr_expect_eq(err.kind, BERR_NOT_FOUND, "%s", err.msg);
    _cleanup_strv_ struct strv msgs = {0};
    err = (struct berr){0};
    cr_assert_lt(image_remove(&ts.s, "berth/worker:latest", false, NULL, 0, &msgs, &err), 0);
    cr_expect_eq(err.kind, BERR_NOT_FOUND, "%s", err.msg);
}

/* An image whose layer directory is gone still has an id: rmi removes it (it needs no layer). */
Test(image_manage, rmi_removes_an_image_whose_layer_is_missing)
{
    char id[65];
    load_oci("it/broken:1", id);
    _cleanup_free_ char *layers = xasprintf("%s/layers", ts.root);
    struct berr err = {0};
    DIR *d = opendir(layers);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (strlen(e->d_name) == 64)
            cr_assert_eq(remove_tree_at(dirfd(d), e->d_name, &err), 0, "%s", err.msg);
    }
    closedir(d);
    _cleanup_strv_ struct strv msgs = {0};
    cr_assert_eq(image_remove(&ts.s, "it/broken:1", false, NULL, 0, &msgs, &err), 0, "%s", err.msg);
    struct image img;
    cr_assert_lt(image_resolve(&ts.s, "it/broken:1", &img, &err), 0);
    cr_expect_eq(err.kind, BERR_NOT_FOUND, "%s", err.msg);
}
