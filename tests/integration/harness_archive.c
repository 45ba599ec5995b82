/* Archives for image tests: layer tars, docker-save archives, the probe image's tar. */
#include "harness.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *h_slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s", path);
    char *buf = NULL;
    struct berr err;
    cr_assert_eq(read_fd_all(fd, 1u << 30, &buf, len, &err), 0, "%s", err.msg);
    close(fd);
    return buf;
}

/* A tar of (name, content) pairs; content NULL → a directory. */
char *h_make_tar(const char *const (*files)[2], size_t n, size_t *len)
{
    struct h_buf w = {0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    cr_assert_eq(archive_write_open(a, &w, NULL, h_buf_write, NULL), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, files[i][0]);
        const char *data = files[i][1];
        archive_entry_set_filetype(e, data ? AE_IFREG : AE_IFDIR);
        archive_entry_set_perm(e, data ? 0644 : 0755);
        archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
        cr_assert_geq(archive_write_header(a, e), ARCHIVE_WARN, "%s", archive_error_string(a));
        if (data && *data)
            archive_write_data(a, data, strlen(data));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    *len = w.len;
    return w.p;
}

/* A docker ≤ 24 save archive of one image ref with these layers and config section. */
char *h_docker_archive(const char *ref, char **layers, size_t *lens, size_t n,
                       const char *config_body)
{
    char *ids = xstrdup(""), *paths = xstrdup("");
    const char *files[8][2];
    char *names[8];
    for (size_t i = 0; i < n; i++) {
        char hex[65];
        sha256_hex(layers[i], lens[i], hex);
        char *next = xasprintf("%s%s\"sha256:%s\"", ids, i ? "," : "", hex);
        free(ids);
        ids = next;
        names[i] = xasprintf("%064zu/layer.tar", i + 1);
        next = xasprintf("%s%s\"%s\"", paths, i ? "," : "", names[i]);
        free(paths);
        paths = next;
    }
    char *config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{%s},"
                             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                             config_body, ids);
    char chex[65];
    sha256_hex(config, strlen(config), chex);
    char *cname = xasprintf("%s.json", chex);
    char *manifest =
        xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"%s\"],\"Layers\":[%s]}]", cname, ref, paths);
    /* layers are binary-safe only through their own writer: write the outer tar by hand */
    struct h_buf w = {0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open(a, &w, NULL, h_buf_write, NULL), ARCHIVE_OK);
    for (size_t i = 0; i <= n + 1; i++) {
        const char *name = i < n ? names[i] : i == n ? cname : "manifest.json";
        const char *data = i < n ? layers[i] : i == n ? config : manifest;
        size_t len = i < n ? lens[i] : strlen(data);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        cr_assert_geq(archive_write_header(a, e), ARCHIVE_WARN);
        cr_assert_eq(archive_write_data(a, data, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    (void)files;
    char *path = h_path("image.tar");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write_all(fd, w.p, w.len), 0);
    close(fd);
    free(w.p);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(ids);
    free(paths);
    free(config);
    free(cname);
    free(manifest);
    return path;
}

char *h_probe_tar(size_t *len)
{
    _cleanup_free_ char *p = xasprintf("%s/probe-image.tar", getenv("BERTH_IT_DATA"));
    return h_slurp(p, len);
}

void h_layered_image(const char *root, const char *ref, const char *ref2)
{
    static const char *const mid[][2] = {
        {"etc/", NULL},  {"etc/saved", "kept\n"},   {"etc/doomed", "x"},
        {"home/", NULL}, {"home/.wh..wh..opq", ""}, {"home/upper", "u"}};
    static const char *const top[][2] = {
        {"etc/", NULL}, {"etc/.wh.doomed", ""}, {".wh.probe-suid", ""}};
    char *layers[3];
    size_t lens[3];
    layers[0] = h_probe_tar(&lens[0]);
    layers[1] = h_make_tar(mid, ARRAY_SIZE(mid), &lens[1]);
    layers[2] = h_make_tar(top, ARRAY_SIZE(top), &lens[2]);
    _cleanup_free_ char *archive = h_docker_archive(
        ref, layers, lens, 3, "\"Env\":[\"PATH=/usr/bin:/bin\",\"SAVED=yes\"],\"Cmd\":[\"env\"]");
    struct h_opts o = {.root = root};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    h_assert_status(&r, 0);
    if (ref2) {
        h_berth(&r, &o, "tag", ref, ref2, NULL);
        h_assert_status(&r, 0);
    }
    for (int i = 0; i < 3; i++)
        free(layers[i]);
}

char *h_tar_member(const char *tar, const char *name, size_t *len)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    cr_assert_eq(archive_read_open_filename(a, tar, 65536), ARCHIVE_OK, "%s: %s", tar,
                 archive_error_string(a));
    struct archive_entry *e;
    char *out = NULL;
    while (!out && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (strcmp(archive_entry_pathname(e), name) != 0)
            continue;
        size_t n = (size_t)archive_entry_size(e);
        out = xmalloc(n + 1);
        cr_assert_eq(archive_read_data(a, out, n), (la_ssize_t)n);
        out[n] = '\0';
        if (len)
            *len = n;
    }
    archive_read_free(a);
    return out;
}
