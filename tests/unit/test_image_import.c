#include "image_test_util.h"

#include <unistd.h>

static struct tstore ts;

static void setup(void)
{
    tstore_open(&ts);
}

static void teardown(void)
{
    tstore_close(&ts);
}

static const struct tentry basic[] = {
    {.path = "etc/", .type = 'd', .perm = 0750},
    {.path = "etc/hello",
     .type = 'f',
     .data = "hello world\n",
     .perm = 0640,
     .uid = 1000,
     .gid = 1001},
    {.path = "etc/link", .type = 'l', .data = "hello"},
    {.path = "etc/abs", .type = 'l', .data = "/etc/hello"},
    {.path = "etc/hard", .type = 'h', .data = "etc/hello"},
    {.path = "./usr/bin/tool", .type = 'f', .data = "#!/bin/sh\n", .perm = 04755},
};

static void import_basic(int filter, char id[65], char hex[65])
{
    size_t len, clen;
    char *tar = tar_build(basic, sizeof(basic) / sizeof(basic[0]), &len);
    char *in = filter == ARCHIVE_FILTER_NONE ? tar : compress_with(tar, len, filter, &clen);
    char expect[65];
    sha256_hex(tar, len, expect);
    struct berr err = {0};
    cr_assert_eq(
        import_bytes(&ts.s, in, filter == ARCHIVE_FILTER_NONE ? len : clen, "test/basic", id, &err),
        0, "%s", err.msg);
    only_layer(&ts, "test/basic", hex);
    cr_expect_str_eq(hex, expect, "diff-id is not the sha256 of the uncompressed tar");
    if (in != tar)
        free(in);
    free(tar);
}

static void check_basic_tree(const char *hex)
{
    struct stat st, st2;
    char *p = layer_file(&ts, hex, "etc");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISDIR(st.st_mode));
    cr_expect_eq(st.st_mode & 07777, 0750);
    cr_expect_eq(st.st_mtime, 1700000000, "directory mtime not applied at the end");
    free(p);

    p = layer_file(&ts, hex, "etc/hello");
    char *text = read_text(p);
    cr_assert_not_null(text);
    cr_expect_str_eq(text, "hello world\n");
    free(text);
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 0640);
    cr_expect_eq(st.st_mtime, 1700000000);
    if (geteuid() == 0) {
        cr_expect_eq(st.st_uid, 1000);
        cr_expect_eq(st.st_gid, 1001);
    }
    char *hard = layer_file(&ts, hex, "etc/hard");
    cr_assert_eq(lstat(hard, &st2), 0);
    cr_expect_eq(st.st_ino, st2.st_ino, "hard link is not the same inode");
    free(hard);
    free(p);

    char target[256];
    p = layer_file(&ts, hex, "etc/link");
    ssize_t n = readlink(p, target, sizeof(target) - 1);
    cr_assert_gt(n, 0);
    target[n] = '\0';
    cr_expect_str_eq(target, "hello");
    free(p);
    p = layer_file(&ts, hex, "etc/abs");
    n = readlink(p, target, sizeof(target) - 1);
    cr_assert_gt(n, 0);
    target[n] = '\0';
    cr_expect_str_eq(target, "/etc/hello", "symlink target not stored verbatim");
    free(p);

    p = layer_file(&ts, hex, "usr/bin/tool");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 04755, "setuid bit lost");
    free(p);
    p = layer_file(&ts, hex, "usr");
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 0755, "implied parent not 0755");
    free(p);
}

TestSuite(image_import, .init = setup, .fini = teardown);

Test(image_import, plain_tar_gives_file_dir_symlink_and_hardlink)
{
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_NONE, id, hex);
    check_basic_tree(hex);
}

Test(image_import, gzip_tar_has_the_diff_id_of_the_uncompressed_tar)
{
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_GZIP, id, hex);
    check_basic_tree(hex);
}

Test(image_import, zstd_tar_has_the_diff_id_of_the_uncompressed_tar)
{
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_ZSTD, id, hex);
    check_basic_tree(hex);
}

Test(image_import, xz_tar_has_the_diff_id_of_the_uncompressed_tar)
{
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_XZ, id, hex);
    check_basic_tree(hex);
}

Test(image_import, config_is_an_oci_config_whose_hash_is_the_id)
{
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_NONE, id, hex);
    char *p = xasprintf("%s/blobs/sha256/%s", ts.root, id);
    char *text = read_text(p);
    cr_assert_not_null(text);
    char got[65];
    sha256_hex(text, strlen(text), got);
    cr_expect_str_eq(got, id);
    yajl_val doc;
    struct berr err = {0};
    cr_assert_eq(json_parse(text, &doc, &err), 0, "%s", err.msg);
    cr_expect_str_eq(json_get_str(doc, "architecture"), "amd64");
    cr_expect_str_eq(json_get_str(doc, "os"), "linux");
    struct timespec created;
    cr_expect_eq(parse_rfc3339(json_get_str(doc, "created"), &created), 0);
    yajl_val cfg = json_get(doc, "config");
    cr_expect(YAJL_IS_NULL(json_get(cfg, "Cmd")));
    struct strv env = {0};
    json_get_strv(cfg, "Env", &env);
    cr_assert_eq(env.n, 1);
    cr_expect_str_eq(env.v[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    strv_free(&env);
    yajl_val rootfs = json_get(doc, "rootfs");
    cr_expect_str_eq(json_get_str(rootfs, "type"), "layers");
    yajl_val ids = json_get(rootfs, "diff_ids");
    cr_assert(YAJL_IS_ARRAY(ids) && ids->u.array.len == 1);
    char *want = xasprintf("sha256:%s", hex);
    cr_expect_str_eq(ids->u.array.values[0]->u.string, want);
    free(want);
    yajl_tree_free(doc);
    free(text);
    free(p);

    struct image img;
    cr_assert_eq(image_resolve(&ts.s, "test/basic:latest", &img, &err), 0, "%s", err.msg);
    cr_expect_str_eq(img.id, id);
    cr_expect_str_eq(img.ref, "test/basic:latest");
    cr_expect_eq(img.config.cmd.n, 0);
    cr_expect_null(img.config.workdir);
    cr_expect_null(img.config.user);
    char *layer = xasprintf("%s/layers/%s", ts.root, hex);
    cr_expect_str_eq(img.layers.v[0], layer);
    free(layer);
    image_free(&img);
}

Test(image_import, trailing_bytes_after_the_tar_count_in_the_diff_id)
{
    size_t len;
    char *tar = tar_build(basic, 2, &len);
    tar = xrealloc(tar, len + 700);
    memset(tar + len, 'j', 700);
    char expect[65], id[65], hex[65];
    sha256_hex(tar, len + 700, expect);
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len + 700, "junk", id, &err), 0, "%s", err.msg);
    only_layer(&ts, "junk", hex);
    cr_expect_str_eq(hex, expect);
    free(tar);
}

Test(image_import, second_import_of_the_same_layer_reuses_its_directory)
{
    size_t len;
    char *tar = tar_build(basic, sizeof(basic) / sizeof(basic[0]), &len);
    char id1[65], id2[65], hex1[65], hex2[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, "one", id1, &err), 0, "%s", err.msg);
    only_layer(&ts, "one", hex1);
    char *dir = xasprintf("%s/layers/%s", ts.root, hex1);
    struct stat before, after;
    cr_assert_eq(stat(dir, &before), 0);
    cr_assert_eq(import_bytes(&ts.s, tar, len, "two", id2, &err), 0, "%s", err.msg);
    only_layer(&ts, "two", hex2);
    cr_expect_str_eq(hex1, hex2);
    cr_assert_eq(stat(dir, &after), 0);
    cr_expect_eq(before.st_ino, after.st_ino, "layer directory was replaced");
    char *p = xasprintf("%s/tmp", ts.root);
    cr_expect_eq(count_entries(p), 0, "discarded copy left in tmp/");
    free(p);
    p = xasprintf("%s/layers", ts.root);
    cr_expect_eq(count_entries(p), 2, "expected one layer dir and its .size");
    free(p);
    free(dir);
    free(tar);
}

/* A tar whose writer never closed it: no padding after the last file's data, no trailer. */
Test(image_import, unterminated_tar_is_read_and_hashed_as_is)
{
    static const struct tentry one[] = {{.path = "a", .type = 'f', .data = "abc"}};
    size_t len;
    char *tar = tar_build(one, 1, &len);
    /* pax restricted writes a plain ustar header here: 512 bytes, then the data */
    cr_assert_eq(memcmp(tar + 512, "abc", 3), 0, "unexpected tar layout");
    char expect[65], id[65], hex[65];
    sha256_hex(tar, 515, expect);
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, 515, "short", id, &err), 0, "%s", err.msg);
    only_layer(&ts, "short", hex);
    cr_expect_str_eq(hex, expect);
    char *p = layer_file(&ts, hex, "a");
    char *text = read_text(p);
    cr_expect_str_eq(text, "abc");
    free(text);
    free(p);
    free(tar);
}

Test(image_import, partial_trailer_is_tolerated)
{
    size_t len;
    char *tar = tar_build(basic, 2, &len);
    cr_assert_geq(len, 1024 + 512);
    char id[65];
    struct berr err = {0};
    /* the trailer is two zero records; cut inside the first */
    cr_expect_eq(import_bytes(&ts.s, tar, len - 1024 + 100, "partial", id, &err), 0, "%s", err.msg);
    free(tar);
}

Test(image_import, tar_ending_inside_file_data_fails_and_registers_nothing)
{
    static const struct tentry one[] = {{.path = "a", .type = 'f', .data = "abc"}};
    size_t len;
    char *tar = tar_build(one, 1, &len);
    char id[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, 514, "short", id, &err), -1);
    cr_expect(strstr(err.msg, "layer entry a: archive ends inside the file's data"), "%s", err.msg);
    assert_store_empty(&ts);
    free(tar);
}

Test(image_import, corrupt_gzip_fails_and_registers_nothing)
{
    size_t len, clen;
    char *tar = tar_build(basic, sizeof(basic) / sizeof(basic[0]), &len);
    char *gz = compress_with(tar, len, ARCHIVE_FILTER_GZIP, &clen);
    memset(gz + clen / 2, 0x55, 16);
    char id[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, gz, clen, "broken", id, &err), -1);
    cr_expect(strstr(err.msg, "import: "), "%s", err.msg);
    assert_store_empty(&ts);
    free(gz);
    free(tar);
}

Test(image_import, not_a_tar_fails)
{
    static const char junk[2048] = "this is not a tar file";
    char id[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, junk, sizeof(junk), "junk", id, &err), -1);
    assert_store_empty(&ts);
}

/* An import under a reference it may not tag: refused before the tar is read, with a BERR_USAGE
 * that says want, and the store left empty. */
static void import_refused(const char *ref, const char *want)
{
    size_t len;
    char *tar = tar_build(basic, 2, &len);
    char id[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, ref, id, &err), -1, "%s imported", ref);
    cr_expect_eq(err.kind, BERR_USAGE);
    cr_expect(strstr(err.msg, want), "%s: \"%s\" does not say \"%s\"", ref, err.msg, want);
    assert_store_empty(&ts);
    free(tar);
}

Test(image_import, invalid_reference_is_refused_before_reading)
{
    import_refused("Bad/Name", "invalid reference format");
}

Test(image_import, unknown_reference_is_not_found_with_docker_text)
{
    struct image img;
    struct berr err = {0};
    cr_assert_eq(image_resolve(&ts.s, "nosuch", &img, &err), -1);
    cr_expect_eq(err.kind, BERR_NOT_FOUND);
    cr_expect_str_eq(err.msg, "Unable to find image 'nosuch' locally");
    cr_assert_eq(image_resolve(&ts.s, "abc123", &img, &err), -1);
    cr_expect_eq(err.kind, BERR_NOT_FOUND);
    cr_expect_str_eq(err.msg, "Unable to find image 'abc123' locally");
}

Test(image_import, resolves_by_full_id_short_id_and_sha256_form)
{
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_NONE, id, hex);
    char shortid[13];
    memcpy(shortid, id, 12);
    shortid[12] = '\0';
    char *with_algo = xasprintf("sha256:%s", id);
    const char *forms[] = {id, shortid, with_algo};
    for (size_t i = 0; i < 3; i++) {
        struct image img;
        struct berr err = {0};
        cr_assert_eq(image_resolve(&ts.s, forms[i], &img, &err), 0, "%s: %s", forms[i], err.msg);
        cr_expect_str_eq(img.id, id);
        cr_expect_eq(img.layers.n, 1);
        image_free(&img);
    }
    free(with_algo);
}

Test(image_import, missing_layer_directory_is_an_error)
{
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_NONE, id, hex);
    char *dir = xasprintf("%s/layers", ts.root);
    int fd = open(dir, O_PATH | O_DIRECTORY);
    struct berr err = {0};
    cr_assert_eq(remove_tree_at(fd, hex, &err), 0);
    close(fd);
    free(dir);
    struct image img;
    cr_assert_eq(image_resolve(&ts.s, "test/basic", &img, &err), -1);
    cr_expect(strstr(err.msg, "missing from the store"), "%s", err.msg);
}

Test(image_import, list_shows_every_ref_newest_first_with_sizes)
{
    static const struct tentry small[] = {{.path = "x", .type = 'f', .data = "12345"},
                                          {.path = "d/y", .type = 'f', .data = "123"},
                                          {.path = "d/l", .type = 'l', .data = "y"}};
    size_t len;
    char *tar = tar_build(small, 3, &len);
    char id1[65], id2[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, "first", id1, &err), 0, "%s", err.msg);
    free(tar);
    tar = tar_build(basic, sizeof(basic) / sizeof(basic[0]), &len);
    cr_assert_eq(import_bytes(&ts.s, tar, len, "host:5000/second:v2", id2, &err), 0, "%s", err.msg);
    free(tar);

    struct image_summary *rows;
    size_t n;
    cr_assert_eq(image_list(&ts.s, &rows, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(rows[0].repository, "host:5000/second");
    cr_expect_str_eq(rows[0].tag, "v2");
    cr_expect_str_eq(rows[0].id, id2);
    cr_expect_eq(rows[0].size, strlen("hello world\n") + strlen("#!/bin/sh\n"));
    cr_expect_str_eq(rows[1].repository, "first");
    cr_expect_str_eq(rows[1].tag, "latest");
    cr_expect_eq(rows[1].size, 8);
    cr_expect(rows[0].created.tv_sec > rows[1].created.tv_sec ||
              (rows[0].created.tv_sec == rows[1].created.tv_sec &&
               rows[0].created.tv_nsec >= rows[1].created.tv_nsec));
    image_summaries_free(rows, n);
}

Test(image_import, retagging_leaves_the_old_image_untagged)
{
    size_t len;
    char *tar = tar_build(basic, 2, &len);
    char id1[65], id2[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, "app", id1, &err), 0, "%s", err.msg);
    cr_assert_eq(import_bytes(&ts.s, tar, len, "app", id2, &err), 0, "%s", err.msg);
    free(tar);
    cr_assert_str_neq(id1, id2);
    struct image img;
    cr_assert_eq(image_resolve(&ts.s, "app", &img, &err), 0, "%s", err.msg);
    cr_expect_str_eq(img.id, id2);
    image_free(&img);
    struct image_summary *rows;
    size_t n;
    cr_assert_eq(image_list(&ts.s, &rows, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(rows[0].repository, "app");
    cr_expect_str_eq(rows[1].repository, "<none>");
    cr_expect_str_eq(rows[1].tag, "<none>");
    cr_expect_str_eq(rows[1].id, id1);
    image_summaries_free(rows, n);
}

Test(image_import, stale_tmp_entries_are_removed_by_the_next_writer)
{
    char *p = xasprintf("%s/tmp/deadbeef", ts.root);
    cr_assert_eq(mkdir(p, 0700), 0);
    free(p);
    p = xasprintf("%s/tmp/deadbeef/file", ts.root);
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    free(p);
    char id[65], hex[65];
    import_basic(ARCHIVE_FILTER_NONE, id, hex);
    p = xasprintf("%s/tmp", ts.root);
    cr_expect_eq(count_entries(p), 0);
    free(p);
}

static void long_names_survive(int format)
{
    char dir[100], name[400], target[300];
    memset(dir, 'd', 90);
    dir[90] = '\0';
    snprintf(name, sizeof(name), "%s/%s/%s/file", dir, dir, dir);
    memset(target, 't', 250);
    target[250] = '\0';
    char link[300];
    snprintf(link, sizeof(link), "%s/link", dir);
    const struct tentry es[] = {{.path = name, .type = 'f', .data = "deep"},
                                {.path = link, .type = 'l', .data = target},
                                {.path = "hard", .type = 'h', .data = name}};
    size_t len;
    char *tar = tar_build_format(es, 3, format, &len);
    char id[65], hex[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, "long", id, &err), 0, "%s", err.msg);
    free(tar);
    only_layer(&ts, "long", hex);
    char *p = layer_file(&ts, hex, name);
    char *text = read_text(p);
    cr_expect_str_eq(text, "deep");
    free(text);
    free(p);
    p = layer_file(&ts, hex, link);
    char got[400];
    ssize_t n = readlink(p, got, sizeof(got) - 1);
    cr_assert_eq(n, 250);
    got[n] = '\0';
    cr_expect_str_eq(got, target);
    free(p);
    p = layer_file(&ts, hex, "hard");
    struct stat st;
    cr_expect_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_nlink, 2);
    free(p);
}

Test(image_import, long_names_in_pax_headers)
{
    long_names_survive(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
}

Test(image_import, long_names_in_gnu_headers)
{
    long_names_survive(ARCHIVE_FORMAT_TAR_GNUTAR);
}

Test(image_import, untagged_import_is_listed_as_none)
{
    size_t len;
    char *tar = tar_build(basic, 2, &len);
    char id[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, NULL, id, &err), 0, "%s", err.msg);
    free(tar);
    struct image_summary *rows;
    size_t n;
    cr_assert_eq(image_list(&ts.s, &rows, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(rows[0].repository, "<none>");
    cr_expect_str_eq(rows[0].id, id);
    image_summaries_free(rows, n);
    struct image img;
    cr_assert_eq(image_resolve(&ts.s, id, &img, &err), 0, "%s", err.msg);
    image_free(&img);
}

Test(image_import, digest_reference_cannot_be_imported)
{
    import_refused("app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                   "cannot import digest reference");
}

Test(image_import, a_tag_named_after_the_digest_algorithm_is_refused)
{
    import_refused("sha256:sometag",
                   "refusing to create an ambiguous tag using digest algorithm as name");
}

Test(image_import, implied_directories_are_0755_under_a_strict_umask)
{
    static const struct tentry es[] = {{.path = "a/b/c", .type = 'f', .data = "x"}};
    size_t len;
    char *tar = tar_build(es, 1, &len);
    umask(077);
    char id[65], hex[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, "umask", id, &err), 0, "%s", err.msg);
    free(tar);
    only_layer(&ts, "umask", hex);
    const char *dirs[] = {".", "a", "a/b"};
    for (size_t i = 0; i < 3; i++) {
        char *p = layer_file(&ts, hex, dirs[i]);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        cr_expect_eq(st.st_mode & 07777, 0755, "%s", dirs[i]);
        free(p);
    }
    cr_expect_eq(umask(077), 077, "umask not restored");
}
