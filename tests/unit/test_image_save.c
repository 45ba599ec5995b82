/* image_save without root: the layer tar's canonical form (sorted, whole seconds, hard links
 * to the first name), its digest as the archive's diff-id, save → load → save giving the same
 * bytes, and docker's texts for unknown references with no output opened. */
#include "image_test_util.h"

#include <sys/mman.h>

static struct tstore ts, ts2;

static void setup(void)
{
    tstore_open(&ts);
    tstore_open(&ts2);
}

static void teardown(void)
{
    tstore_close(&ts);
    tstore_close(&ts2);
}

TestSuite(image_save, .init = setup, .fini = teardown);

struct sink {
    int fd;
    int opened;
};

static int open_sink(void *ctx, struct berr *err)
{
    (void)err;
    struct sink *s = ctx;
    s->opened++;
    return s->fd;
}

/* Save refs (NULL-terminated) from store into a memfd; its bytes. */
static char *save_to_memory(struct image_store *store, const char *const *refs, size_t *len)
{
    struct strv v = {0};
    for (size_t i = 0; refs[i]; i++)
        strv_push(&v, refs[i]);
    struct sink s = {.fd = memfd_create("save", MFD_CLOEXEC)};
    cr_assert_geq(s.fd, 0);
    struct berr err = {0};
    cr_assert_eq(image_save(store, &v, open_sink, &s, &err), 0, "%s", err.msg);
    cr_assert_eq(s.opened, 1);
    strv_free(&v);
    off_t n = lseek(s.fd, 0, SEEK_END);
    char *buf = xmalloc((size_t)n + 1);
    cr_assert_eq(pread(s.fd, buf, (size_t)n, 0), n);
    close(s.fd);
    *len = (size_t)n;
    return buf;
}

/* A member of an in-memory tar, NUL-terminated; NULL when absent. */
static char *member(const char *tar, size_t len, const char *name, size_t *outlen)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    cr_assert_eq(archive_read_open_memory(a, tar, len), ARCHIVE_OK);
    struct archive_entry *e;
    char *out = NULL;
    while (!out && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (strcmp(archive_entry_pathname(e), name))
            continue;
        size_t n = (size_t)archive_entry_size(e);
        out = xmalloc(n + 1);
        cr_assert_eq(archive_read_data(a, out, n), (la_ssize_t)n);
        out[n] = '\0';
        if (outlen)
            *outlen = n;
    }
    archive_read_free(a);
    return out;
}

static const struct tentry tree[] = {
    {"z", 'f', "last", 0, 0, 0, 0, 0, NULL, NULL},  {"a/", 'd', NULL, 0, 0, 0, 0, 0, NULL, NULL},
    {"a/l", 'l', "b", 0, 0, 0, 0, 0, NULL, NULL},   {"a/b", 'f', "data", 0, 0, 0, 0, 0, NULL, NULL},
    {"a/h", 'h', "a/b", 0, 0, 0, 0, 0, NULL, NULL},
};

/* tree imported into ts as t/x:1 */
static void import_tree(void)
{
    size_t len;
    char *tar = tar_build(tree, ARRAY_SIZE(tree), &len);
    char id[65];
    struct berr err = {0};
    cr_assert_eq(import_bytes(&ts.s, tar, len, "t/x:1", id, &err), 0, "%s", err.msg);
    free(tar);
}

Test(image_save, layer_tar_is_sorted_whole_seconds_and_links_to_the_first_name)
{
    import_tree();
    size_t alen;
    char *archive = save_to_memory(&ts.s, (const char *const[]){"t/x:1", NULL}, &alen);
    char *manifest = member(archive, alen, "manifest.json", NULL);
    cr_assert(manifest);
    const char *l = strstr(manifest, "\"Layers\":[\"blobs/sha256/");
    cr_assert(l, "%s", manifest);
    char *layer_name = strndup(l + strlen("\"Layers\":[\""), strlen("blobs/sha256/") + 64);
    size_t llen;
    char *layer = member(archive, alen, layer_name, &llen);
    cr_assert(layer, "%s missing", layer_name);
    char hex[65];
    sha256_hex(layer, llen, hex);
    cr_assert_str_eq(hex, layer_name + strlen("blobs/sha256/"));
    char *config_name =
        xasprintf("blobs/sha256/%.64s", strstr(manifest, "\"Config\":\"blobs/sha256/") +
                                            strlen("\"Config\":\"blobs/sha256/"));
    char *config = member(archive, alen, config_name, NULL);
    char *diff_id = xasprintf("\"diff_ids\":[\"sha256:%s\"]", hex);
    cr_assert(config && strstr(config, diff_id), "%s", config);

    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    cr_assert_eq(archive_read_open_memory(a, layer, llen), ARCHIVE_OK);
    static const char *const want[] = {"a/", "a/b", "a/h", "a/l", "z"};
    struct archive_entry *e;
    size_t i = 0;
    for (; archive_read_next_header(a, &e) == ARCHIVE_OK; i++) {
        cr_assert_lt(i, ARRAY_SIZE(want));
        cr_assert_str_eq(archive_entry_pathname(e), want[i]);
        cr_assert_eq(archive_entry_mtime_nsec(e), 0, "%s", want[i]);
        if (!strcmp(want[i], "a/h"))
            cr_assert_str_eq(archive_entry_hardlink(e), "a/b");
        if (!strcmp(want[i], "a/l"))
            cr_assert_str_eq(archive_entry_symlink(e), "b");
    }
    cr_assert_eq(i, ARRAY_SIZE(want));
    archive_read_free(a);
    free(config);
    free(config_name);
    free(diff_id);
    free(layer);
    free(layer_name);
    free(manifest);
    free(archive);
}

Test(image_save, what_berth_saved_and_loaded_saves_to_the_same_bytes)
{
    import_tree();
    struct berr err = {0};
    size_t n1, n2;
    char *first = save_to_memory(&ts.s, (const char *const[]){"t/x:1", NULL}, &n1);
    int fd = memfd_create("load", MFD_CLOEXEC);
    cr_assert_eq(write_all(fd, first, n1), 0);
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    struct strv msgs = {0};
    cr_assert_eq(image_load_archive(&ts2.s, fd, NULL, &msgs, &err), 0, "%s", err.msg);
    close(fd);
    strv_free(&msgs);
    char *second = save_to_memory(&ts2.s, (const char *const[]){"t/x:1", NULL}, &n2);
    cr_assert(n1 == n2 && !memcmp(first, second, n1), "second save differs");
    free(first);
    free(second);
}

Test(image_save, unknown_references_fail_before_the_output_is_opened)
{
    import_tree();
    struct berr err = {0};
    struct sink s = {.fd = -1};
    struct strv v = {0};
    strv_push(&v, "t/x:1");
    strv_push(&v, "t/x:2");
    cr_assert_eq(image_save(&ts.s, &v, open_sink, &s, &err), -1);
    cr_assert_eq(err.kind, BERR_NOT_FOUND);
    cr_assert_str_eq(err.msg, "reference does not exist");
    strv_free(&v);
    strv_push(&v, "nosuch");
    cr_assert_eq(image_save(&ts.s, &v, open_sink, &s, &err), -1);
    cr_assert_str_eq(err.msg, "No such image: nosuch");
    cr_assert_eq(s.opened, 0);
    strv_free(&v);
}
