/* Helpers for the load tests: image archives built in memory in each layout berth reads —
 * docker save ≤ 24 (legacy), docker save ≥ 25 (OCI layout + manifest.json), an OCI layout as a
 * directory or as a tar — from layer tars made with image_test_util.h. */
#ifndef BERTH_TEST_IMAGE_LOAD_UTIL_H
#define BERTH_TEST_IMAGE_LOAD_UTIL_H

#include "image_test_util.h"

#include <sys/wait.h>

enum fx_format { FX_LEGACY, FX_DOCKER_OCI, FX_OCI };

/* One file of the archive; link set → a symlink to it instead of content. */
struct fx_file {
    char *path;
    char *data;
    size_t len;
    char *link;
};

struct fx {
    struct fx_file f[64];
    size_t n;
};

struct fx_layer {
    char *tar; /* uncompressed */
    size_t len;
    int filter; /* how the blob is stored */
};

static UNUSED void fx_add(struct fx *x, const char *path, const void *data, size_t len)
{
    cr_assert_lt(x->n, 64);
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0'; /* the tests search JSON files as strings */
    x->f[x->n++] = (struct fx_file){.path = xstrdup(path), .data = copy, .len = len};
}

static UNUSED void fx_link(struct fx *x, const char *path, const char *target)
{
    x->f[x->n++] = (struct fx_file){.path = xstrdup(path), .link = xstrdup(target)};
}

static UNUSED void fx_free(struct fx *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->f[i].path);
        free(x->f[i].data);
        free(x->f[i].link);
    }
    x->n = 0;
}

/* Image config JSON with these diff-ids and a config section (a JSON object's body). */
static UNUSED char *fx_config(struct fx_layer *ls, size_t n, const char *config_body)
{
    char *ids = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char hex[65];
        sha256_hex(ls[i].tar, ls[i].len, hex);
        char *next = xasprintf("%s%s\"sha256:%s\"", ids, i ? "," : "", hex);
        free(ids);
        ids = next;
    }
    char *c = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":"
                        "\"2026-01-02T03:04:05Z\",\"config\":{%s},"
                        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                        config_body ? config_body : "", ids);
    free(ids);
    return c;
}

static UNUSED char *fx_blob(const struct fx_layer *l, size_t *len)
{
    if (l->filter == ARCHIVE_FILTER_NONE) {
        *len = l->len;
        char *c = xmalloc(l->len);
        memcpy(c, l->tar, l->len);
        return c;
    }
    return compress_with(l->tar, l->len, l->filter, len);
}

/* The files of an archive of one image named ref (NULL: untagged). */
static UNUSED void fx_image(struct fx *x, enum fx_format fmt, const char *ref, struct fx_layer *ls,
                            size_t n, const char *config_body)
{
    char *config = fx_config(ls, n, config_body);
    char chex[65];
    sha256_hex(config, strlen(config), chex);
    char *layers_json = xstrdup(""), *descs = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        size_t blen;
        char *blob = fx_blob(&ls[i], &blen);
        char bhex[65], path[128];
        sha256_hex(blob, blen, bhex);
        if (fmt == FX_LEGACY)
            snprintf(path, sizeof(path), "%064zu/layer.tar", i + 1);
        else
            snprintf(path, sizeof(path), "blobs/sha256/%s", bhex);
        fx_add(x, path, blob, blen);
        free(blob);
        char *next = xasprintf("%s%s\"%s\"", layers_json, i ? "," : "", path);
        free(layers_json);
        layers_json = next;
        const char *mt = ls[i].filter == ARCHIVE_FILTER_GZIP   ? "tar+gzip"
                         : ls[i].filter == ARCHIVE_FILTER_ZSTD ? "tar+zstd"
                                                               : "tar";
        next = xasprintf("%s%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.%s\","
                         "\"digest\":\"sha256:%s\",\"size\":%zu}",
                         descs, i ? "," : "", mt, bhex, blen);
        free(descs);
        descs = next;
    }
    char cpath[128];
    if (fmt == FX_LEGACY)
        snprintf(cpath, sizeof(cpath), "%s.json", chex);
    else
        snprintf(cpath, sizeof(cpath), "blobs/sha256/%s", chex);
    fx_add(x, cpath, config, strlen(config));
    if (fmt != FX_OCI) {
        char *tags = ref ? xasprintf("[\"%s\"]", ref) : xstrdup("null");
        char *m = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":%s,\"Layers\":[%s]}]", cpath, tags,
                            layers_json);
        fx_add(x, "manifest.json", m, strlen(m));
        free(m);
        free(tags);
    }
    if (fmt != FX_LEGACY) {
        char *man = xasprintf(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
            "\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[%s]}",
            chex, strlen(config), descs);
        char mhex[65], mpath[128];
        sha256_hex(man, strlen(man), mhex);
        snprintf(mpath, sizeof(mpath), "blobs/sha256/%s", mhex);
        fx_add(x, mpath, man, strlen(man));
        char *ann = ref ? xasprintf(",\"annotations\":{\"org.opencontainers.image.ref.name\":"
                                    "\"%s\"}",
                                    ref)
                        : xstrdup("");
        char *idx =
            xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                      "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\","
                      "\"size\":%zu%s}]}",
                      mhex, strlen(man), ann);
        fx_add(x, "index.json", idx, strlen(idx));
        const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
        fx_add(x, "oci-layout", layout, strlen(layout));
        free(idx);
        free(ann);
        free(man);
    }
    free(config);
    free(layers_json);
    free(descs);
}

/* The files as a tar (outer filter as given), in memory. */
static UNUSED char *fx_tar(const struct fx *x, int filter, size_t *len)
{
    struct membuf m;
    struct archive *a = writer_to(&m, filter);
    cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    cr_assert_eq(archive_write_open(a, &m, NULL, membuf_write, NULL), ARCHIVE_OK);
    for (size_t i = 0; i < x->n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, x->f[i].path);
        archive_entry_set_perm(e, 0644);
        if (x->f[i].link) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, x->f[i].link);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)x->f[i].len);
        }
        cr_assert_geq(archive_write_header(a, e), ARCHIVE_WARN, "%s", archive_error_string(a));
        if (!x->f[i].link && x->f[i].len)
            cr_assert_eq(archive_write_data(a, x->f[i].data, x->f[i].len), (la_ssize_t)x->f[i].len);
        archive_entry_free(e);
    }
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *len = m.len;
    return m.p;
}

/* The files written under dir (an OCI layout directory). */
static UNUSED void fx_write_dir(const struct fx *x, const char *dir)
{
    for (size_t i = 0; i < x->n; i++) {
        char *p = xasprintf("%s/%s", dir, x->f[i].path);
        for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
        cr_assert_eq(write_all(fd, x->f[i].data, x->f[i].len), 0);
        close(fd);
        free(p);
    }
}

/* Load bytes given as a seekable file (memfd) or, when piped, through a pipe like stdin. */
static UNUSED int fx_load_bytes(struct image_store *s, const char *buf, size_t len, bool piped,
                                struct strv *msgs, struct berr *err)
{
    int fd;
    if (!piped) {
        fd = memfd_create("test-archive", MFD_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write_all(fd, buf, len), 0);
        cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    } else {
        /* a temp file read through a pipe from a child: not seekable */
        int p[2];
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(p[0]);
            _exit(write_all(p[1], buf, len) < 0 ? 1 : 0);
        }
        close(p[1]);
        fd = p[0];
    }
    int rc = image_load_archive(s, fd, NULL, msgs, err);
    close(fd);
    if (piped) {
        int st;
        while (wait(&st) < 0 && errno == EINTR)
            ;
    }
    return rc;
}

#endif
