/* berth load, end to end: a docker-save archive whose base layer is test/probe's tar and whose
 * top layer whites out a file and makes a directory opaque, checked from inside a container;
 * and a loaded image's Entrypoint/Cmd/Env/WorkingDir/User honoured by run. */
#include "harness.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

H_SUITE(load);

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s", path);
    char *buf = NULL;
    struct berr err;
    cr_assert_eq(read_fd_all(fd, 1u << 30, &buf, len, &err), 0, "%s", err.msg);
    close(fd);
    return buf;
}

struct wbuf {
    char *p;
    size_t len;
};

static la_ssize_t wbuf_write(struct archive *a, void *data, const void *buf, size_t n)
{
    (void)a;
    struct wbuf *w = data;
    w->p = xrealloc(w->p, w->len + n);
    memcpy(w->p + w->len, buf, n);
    w->len += n;
    return (la_ssize_t)n;
}

/* A tar of (name, content) pairs; content NULL → a directory. */
static char *make_tar(const char *const (*files)[2], size_t n, size_t *len)
{
    struct wbuf w = {0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    cr_assert_eq(archive_write_open(a, &w, NULL, wbuf_write, NULL), ARCHIVE_OK);
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
static char *save_archive(const char *ref, char **layers, size_t *lens, size_t n,
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
    struct wbuf w = {0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open(a, &w, NULL, wbuf_write, NULL), ARCHIVE_OK);
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

static char *probe_tar(size_t *len)
{
    _cleanup_free_ char *p = xasprintf("%s/probe-image.tar", getenv("BERTH_IT_DATA"));
    return slurp(p, len);
}

Test(load, whiteout_and_opaque_dir_seen_from_inside)
{
    static const char *const top[][2] = {
        {".wh.probe-suid", ""}, {"home/", NULL}, {"home/.wh..wh..opq", ""}, {"home/upper", "u"}};
    char *layers[2];
    size_t lens[2];
    layers[0] = probe_tar(&lens[0]);
    layers[1] = make_tar(top, ARRAY_SIZE(top), &lens[1]);
    _cleanup_free_ char *archive = save_archive("it/loaded:two", layers, lens, 2, "");
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Loaded image: it/loaded:two\n");
    h_berth(&r, &o, "run", "--rm", "it/loaded:two", "/probe", "ls", "/", "ls", "/home", NULL);
    h_assert_status(&r, 0);
    const char *root = h_val(&r, "ls:/");
    cr_assert(h_has_word(root, "probe") && !h_has_word(root, "probe-suid"), "ls / = %s", root);
    h_assert_val(&r, "ls:/home", "upper");
    free(layers[0]);
    free(layers[1]);
}

Test(load, loaded_config_is_honoured_by_run)
{
    char *layers[1];
    size_t lens[1];
    layers[0] = probe_tar(&lens[0]);
    _cleanup_free_ char *archive = save_archive(
        "it/loaded:cfg", layers, lens, 1,
        "\"User\":\"worker\",\"WorkingDir\":\"/tmp\",\"Env\":[\"FROM_LOAD=yes\","
        "\"PATH=/usr/bin:/bin\"],\"Entrypoint\":[\"/probe\"],\"Cmd\":[\"id\",\"cwd\",\"env\"]");
    struct h_opts o = {.root = h_path("root"), .input_file = archive};
    struct h_result r;
    h_berth(&r, &o, "load", NULL); /* from stdin */
    h_assert_status(&r, 0);
    h_berth(&r, &o, "run", "--rm", "it/loaded:cfg", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "cwd", "/tmp");
    cr_assert(h_env(&r, "FROM_LOAD") && !strcmp(h_env(&r, "FROM_LOAD"), "yes"), "%s", r.out);
    cr_assert(h_env(&r, "PATH") && !strcmp(h_env(&r, "PATH"), "/usr/bin:/bin"), "%s", r.out);
    h_berth(&r, &o, "run", "--rm", "it/loaded:cfg", "args", "x", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "argv", "/probe args x");
    free(layers[0]);
}

Test(load, corrupt_archive_fails_and_registers_nothing)
{
    char *layers[1];
    size_t lens[1];
    layers[0] = probe_tar(&lens[0]);
    _cleanup_free_ char *archive = save_archive("it/loaded:bad", layers, lens, 1, "");
    /* flip a byte inside the layer's data: the diff-id no longer matches */
    int fd = open(archive, O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    char c;
    cr_assert_eq(pread(fd, &c, 1, 4096), 1);
    c ^= 0x55;
    cr_assert_eq(pwrite(fd, &c, 1, 4096), 1);
    close(fd);
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    h_berth(&r, &o, "images", "-q", NULL);
    cr_assert_str_eq(r.out, "");
    free(layers[0]);
}

Test(load, rmi_is_refused_while_a_container_uses_the_image)
{
    char *layers[1];
    size_t lens[1];
    layers[0] = probe_tar(&lens[0]);
    _cleanup_free_ char *archive = save_archive("it/used:1", layers, lens, 1, "");
    free(layers[0]);
    struct h_opts o = {.root = h_path("root")};
    struct h_result r, c;
    h_berth(&r, &o, "load", "-q", "-i", archive, NULL);
    h_assert_status(&r, 0);
    h_berth(&c, &o, "run", "-d", "it/used:1", "/probe", "sleep", "30", NULL);
    h_assert_status(&c, 0);
    c.out[strcspn(c.out, "\n")] = '\0';
    h_berth(&r, &o, "rmi", "it/used:1", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "Error response from daemon: conflict: unable to remove repository "
                            "reference \"it/used:1\" (must force) - container "),
              "%s", r.err);
    h_berth(&r, &o, "images", "-q", NULL);
    _cleanup_free_ char *id = xstrdup(r.out);
    id[strcspn(id, "\n")] = '\0';
    h_berth(&r, &o, "rmi", "-f", id, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "(cannot be forced) - image is being used by running container"), "%s",
              r.err);
    h_berth(&r, &o, "rm", "-f", c.out, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "rmi", "it/used:1", NULL);
    h_assert_status(&r, 0);
    cr_expect(strstr(r.out, "Untagged: it/used:1\nDeleted: sha256:"), "%s", r.out);
    _cleanup_free_ char *layers_dir = xasprintf("%s/layers", o.root);
    h_berth(&r, &o, "images", "-q", NULL);
    cr_expect_str_eq(r.out, "");
}
