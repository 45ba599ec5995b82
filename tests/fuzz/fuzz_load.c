/* `berth load`: an image archive (docker save, either layout, or an OCI layout tar) read into a
 * temporary store — its members indexed (image/archive.c), manifest.json or oci-layout +
 * index.json → indexes → manifests planned (image/manifest.c), configs and layers verified and
 * registered (image/load.c), the loaded images then resolved and listed (image/resolve.c).
 *
 * Input, either raw archive bytes (a tar, maybe compressed), or a description of the archive's
 * members that the harness turns into a tar, so that the fuzzer can reach past the digest
 * checks:
 *
 *     === manifest.json
 *     [{"Config":"blobs/sha256/$D1","Layers":["blobs/sha256/$D2"]}]
 *     === blobs/sha256/$D1
 *     {"rootfs":{"type":"layers","diff_ids":["sha256:$D2"]}}
 *     === link -> manifest.json
 *
 * A section runs from its "=== PATH" line to the next "\n=== " (a "PATH -> TARGET" header makes
 * a symlink). In section i, "$D<n>" becomes the sha256 hex of section n's final content and
 * "$S<n>" its size, for n (one digit) greater than i — and in the path also n equal to i. */
#include "fuzz.h"
#include "image/internal.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_SECTIONS 32

struct section {
    char *path, *link; /* link: a symlink to it */
    char *data;
    size_t len;
    char hex[65];
};

/* text with $D<n>/$S<n> for min_ref <= n < ns replaced */
static char *substitute(const char *p, size_t len, const struct section *s, size_t ns,
                        size_t min_ref, size_t *out_len)
{
    char *out = xmalloc(len * 32 + 1); /* "$D0" (3 bytes) grows to 64 */
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        bool token = i + 2 < len && p[i] == '$' && (p[i + 1] == 'D' || p[i + 1] == 'S') &&
                     p[i + 2] >= '0' && p[i + 2] <= '9';
        size_t ref = token ? (size_t)(p[i + 2] - '0') : 0;
        if (!token || ref < min_ref || ref >= ns) {
            out[n++] = p[i];
            continue;
        }
        if (p[i + 1] == 'D')
            n += (size_t)sprintf(out + n, "%s", s[ref].hex);
        else
            n += (size_t)sprintf(out + n, "%zu", s[ref].len);
        i += 2;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

static size_t split_sections(const char *in, size_t size, struct section *s)
{
    static const char sep[] = "\n=== ";
    size_t ns = 0;
    const char *p = in + 4, *end = in + size; /* past the first "=== " */
    while (p < end && ns < MAX_SECTIONS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *hend = nl ? nl : end;
        const char *next = memmem(hend, (size_t)(end - hend), sep, strlen(sep));
        /* next == hend: the header's own newline starts the next one, the body is empty */
        const char *body = nl ? nl + 1 : end, *stop = next ? next : end;
        /* a header line: "PATH" or "PATH -> TARGET" */
        _cleanup_free_ char *head = strndup(p, (size_t)(hend - p));
        char *arrow = strstr(head, " -> ");
        struct section *x = &s[ns++];
        *x = (struct section){0};
        if (arrow) {
            *arrow = '\0';
            x->link = xstrdup(arrow + 4);
        }
        x->path = xstrdup(head);
        x->len = stop > body ? (size_t)(stop - body) : 0;
        x->data = xmalloc(x->len + 1);
        memcpy(x->data, body, x->len);
        p = next ? next + strlen(sep) : end;
    }
    return ns;
}

static int write_tar(struct section *s, size_t ns, int fd)
{
    struct archive *a = archive_write_new();
    if (!a)
        abort();
    int rc = archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
                     archive_write_open_fd(a, fd) == ARCHIVE_OK
                 ? 0
                 : -1;
    for (size_t i = 0; rc == 0 && i < ns; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, s[i].path);
        archive_entry_set_perm(e, 0644);
        if (s[i].link) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, s[i].link);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)s[i].len);
        }
        if (archive_write_header(a, e) < ARCHIVE_WARN)
            rc = -1;
        else if (!s[i].link && s[i].len &&
                 archive_write_data(a, s[i].data, s[i].len) != (la_ssize_t)s[i].len)
            rc = -1;
        archive_entry_free(e);
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        rc = -1;
    archive_write_free(a);
    return rc;
}

/* The description turned into a tar on fd; -1 when libarchive cannot write it. */
static int describe(const uint8_t *data, size_t size, int fd)
{
    struct section s[MAX_SECTIONS];
    size_t ns = split_sections((const char *)data, size, s);
    for (size_t i = ns; i-- > 0;) {
        size_t len;
        char *d = substitute(s[i].data, s[i].len, s, ns, i + 1, &len);
        free(s[i].data);
        s[i].data = d;
        s[i].len = len;
        sha256_hex(d, len, s[i].hex);
        char *p = substitute(s[i].path, strlen(s[i].path), s, ns, i, &len);
        free(s[i].path);
        s[i].path = p;
    }
    int rc = write_tar(s, ns, fd);
    for (size_t i = 0; i < ns; i++) {
        free(s[i].path);
        free(s[i].link);
        free(s[i].data);
    }
    return rc;
}

static void use_loaded(struct image_store *store, const struct strv *msgs)
{
    for (size_t i = 0; i < msgs->n; i++) {
        const char *ref = NULL;
        if (str_has_prefix(msgs->v[i], "Loaded image: "))
            ref = msgs->v[i] + strlen("Loaded image: ");
        else if (str_has_prefix(msgs->v[i], "Loaded image ID: "))
            ref = msgs->v[i] + strlen("Loaded image ID: ");
        if (!ref)
            continue;
        struct image img;
        struct berr err = {0};
        if (image_resolve(store, ref, &img, &err) < 0) {
            fprintf(stderr, "berth fuzz: loaded %s, then: %s\n", ref, err.msg);
            abort();
        }
        image_free(&img);
    }
    struct image_summary *rows = NULL;
    size_t n = 0;
    struct berr err = {0};
    if (image_list(store, &rows, &n, &err) == 0)
        image_summaries_free(rows, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    int rc = 0;
    if (size >= 4 && !memcmp(data, "=== ", 4))
        rc = describe(data, size, fd);
    else if (size)
        rc = write_all(fd, data, size);
    if (rc < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return 0;
    }

    _cleanup_free_ char *root = xasprintf("%s/store", fuzz_tmpdir());
    struct image_store store;
    struct berr err = {0};
    if (image_store_open(root, &store, &err) < 0) {
        fprintf(stderr, "berth fuzz: %s\n", err.msg);
        abort();
    }
    _cleanup_strv_ struct strv msgs = {0};
    int loaded = image_load_archive(&store, fd, NULL, &msgs, &err);
    /* to see how far a hand-written seed gets */
    if (getenv("BERTH_FUZZ_VERBOSE"))
        fprintf(stderr, "load: %s\n", loaded == 0 ? "loaded" : err.msg);
    if (loaded == 0)
        use_loaded(&store, &msgs);
    close(fd);
    image_store_close(&store);
    if (remove_tree_at(AT_FDCWD, root, &err) < 0) {
        fprintf(stderr, "berth fuzz: %s\n", err.msg);
        abort();
    }
    return 0;
}
