/* Helpers for the image tests: a temporary store per test, tars built in memory with
 * libarchive's writer, and small file checks. Included by tests/unit/test_image_*.c only;
 * everything is static so the files link together. */
#ifndef BERTH_TEST_IMAGE_UTIL_H
#define BERTH_TEST_IMAGE_UTIL_H

#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define UNUSED __attribute__((unused))

/* One tar entry: type 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c' char dev, 'p' fifo.
 * data is the content (f), the target (l, h). */
struct tentry {
    const char *path;
    char type;
    const char *data;
    mode_t perm;
    unsigned uid, gid;
    unsigned major, minor;
    const char *xattr_name, *xattr_value;
};

struct membuf {
    char *p;
    size_t len, cap;
};

static la_ssize_t membuf_write(struct archive *a, void *data, const void *buf, size_t n)
{
    (void)a;
    struct membuf *m = data;
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = xrealloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, buf, n);
    m->len += n;
    return (la_ssize_t)n;
}

static struct archive *writer_to(struct membuf *m, int filter)
{
    *m = (struct membuf){0};
    struct archive *a = archive_write_new();
    cr_assert_not_null(a);
    if (filter != ARCHIVE_FILTER_NONE)
        cr_assert_eq(archive_write_add_filter(a, filter), ARCHIVE_OK, "%s",
                     archive_error_string(a));
    archive_write_set_bytes_in_last_block(a, 1);
    return a;
}

/* An uncompressed tar of entries in a libarchive format (ARCHIVE_FORMAT_TAR_*), in memory. */
static char *tar_build_format(const struct tentry *es, size_t n, int format, size_t *len)
{
    struct membuf m;
    struct archive *a = writer_to(&m, ARCHIVE_FILTER_NONE);
    cr_assert_eq(archive_write_set_format(a, format), ARCHIVE_OK);
    cr_assert_eq(archive_write_open(a, &m, NULL, membuf_write, NULL), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        const struct tentry *t = &es[i];
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, t->path);
        archive_entry_set_uid(e, t->uid);
        archive_entry_set_gid(e, t->gid);
        archive_entry_set_mtime(e, 1700000000, 0);
        archive_entry_set_perm(e, t->perm ? t->perm : (t->type == 'd' ? 0755 : 0644));
        size_t size = 0;
        switch (t->type) {
        case 'f':
            archive_entry_set_filetype(e, AE_IFREG);
            size = t->data ? strlen(t->data) : 0;
            break;
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, t->data);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, t->data);
            break;
        case 'c':
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_rdevmajor(e, t->major);
            archive_entry_set_rdevminor(e, t->minor);
            break;
        case 'p':
            archive_entry_set_filetype(e, AE_IFIFO);
            break;
        default:
            cr_assert_fail("bad test entry type %c", t->type);
        }
        archive_entry_set_size(e, (la_int64_t)size);
        if (t->xattr_name)
            archive_entry_xattr_add_entry(e, t->xattr_name, t->xattr_value, strlen(t->xattr_value));
        cr_assert_geq(archive_write_header(a, e), ARCHIVE_WARN, "%s", archive_error_string(a));
        if (size)
            cr_assert_eq(archive_write_data(a, t->data, size), (la_ssize_t)size);
        archive_entry_free(e);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *len = m.len;
    return m.p;
}

static UNUSED char *tar_build(const struct tentry *es, size_t n, size_t *len)
{
    return tar_build_format(es, n, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, len);
}

/* buf compressed with a libarchive filter (gzip, zstd, xz), as one "raw" stream. */
static UNUSED char *compress_with(const char *buf, size_t len, int filter, size_t *outlen)
{
    struct membuf m;
    struct archive *a = writer_to(&m, filter);
    cr_assert_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_open(a, &m, NULL, membuf_write, NULL), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "layer.tar");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)len);
    cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
    cr_assert_eq(archive_write_data(a, buf, len), (la_ssize_t)len);
    archive_entry_free(e);
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *outlen = m.len;
    return m.p;
}

struct tstore {
    char root[64];
    struct image_store s;
};

static UNUSED void tstore_open(struct tstore *t)
{
    strcpy(t->root, "/tmp/berth-image-test-XXXXXX");
    cr_assert_not_null(mkdtemp(t->root));
    struct berr err = {0};
    cr_assert_eq(image_store_open(t->root, &t->s, &err), 0, "%s", err.msg);
}

static UNUSED void tstore_close(struct tstore *t)
{
    image_store_close(&t->s);
    struct berr err = {0};
    remove_tree_at(AT_FDCWD, t->root, &err);
}

static UNUSED int import_bytes(struct image_store *s, const void *buf, size_t len, const char *ref,
                               char id[65], struct berr *err)
{
    int fd = memfd_create("test-layer", MFD_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write_all(fd, buf, len), 0);
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    int rc = image_import(s, fd, ref, id, err);
    close(fd);
    return rc;
}

/* Entries in dir, "." and ".." not counted; -1 when dir is missing. */
static UNUSED int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    }
    closedir(d);
    return n;
}

/* The store holds nothing: no layer, no blob, no ref, nothing left in tmp/. */
static UNUSED void assert_store_empty(const struct tstore *t)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/layers", t->root);
    cr_expect_eq(count_entries(p), 0, "layers/ not empty");
    snprintf(p, sizeof(p), "%s/blobs/sha256", t->root);
    cr_expect_eq(count_entries(p), 0, "blobs/ not empty");
    snprintf(p, sizeof(p), "%s/tmp", t->root);
    cr_expect_eq(count_entries(p), 0, "tmp/ not empty");
    snprintf(p, sizeof(p), "%s/refs.json", t->root);
    struct stat st;
    if (stat(p, &st) == 0)
        cr_expect_lt(st.st_size, 8, "refs.json has entries");
}

static UNUSED char *layer_file(const struct tstore *t, const char *hex, const char *path)
{
    return xasprintf("%s/layers/%s/%s", t->root, hex, path);
}

static UNUSED char *read_text(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *out = NULL;
    struct berr err;
    int rc = read_fd_all(fd, 1 << 20, &out, NULL, &err);
    close(fd);
    return rc == 0 ? out : NULL;
}

/* The diff-id hex of the only layer of the image ref. */
static UNUSED void only_layer(struct tstore *t, const char *ref, char hex[65])
{
    struct image img;
    struct berr err = {0};
    cr_assert_eq(image_resolve(&t->s, ref, &img, &err), 0, "%s", err.msg);
    cr_assert_eq(img.layers.n, 1);
    const char *slash = strrchr(img.layers.v[0], '/');
    cr_assert_eq(strlen(slash + 1), 64);
    memcpy(hex, slash + 1, 65);
    image_free(&img);
}

#endif
