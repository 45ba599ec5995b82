/* harness_image — the run-wide hooks: check the host once, build the test images once into a
 * shared data root under /tmp (PRE_ALL), remove it at the end (POST_ALL). criterion re-executes
 * the binary for every test, so what the tests need travels in environment variables:
 *   BERTH_IT_SKIP   why every test skips (not root, a kernel feature or a tool missing)
 *   BERTH_IT_DATA   the shared dir: root/ (data root), setup-error, derive-error
 *   BERTH_IT_BERTH, BERTH_IT_PROBE   absolute paths of the binaries under test
 * Set BERTH_IT_KEEP=1 to keep the shared dir for debugging. */
#include "harness.h"

#include "util/util.h"

#include <criterion/hooks.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char PASSWD[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
                             "worker:x:1000:1000:worker:/home/worker:/bin/sh\n"
                             "alice:x:1001:1001:alice:/home/alice:/bin/sh\n";

static const char GROUP[] = "root:x:0:\n"
                            "nogroup:x:65534:\n"
                            "worker:x:1000:\n"
                            "alice:x:1001:\n"
                            "extra:x:2000:alice\n"
                            "shared:x:3000:worker,alice\n";

/* What test/configured:latest adds to the imported config (docker's config.* fields). */
static const char *const CONFIGURED_ENV[] = {"FROM_IMAGE=yes", "PATH=/usr/bin:/bin:/image/bin"};
static const char *const CONFIGURED_ENTRYPOINT[] = {"/probe"};
static const char *const CONFIGURED_CMD[] = {"id", "cwd", "env"};

static char *executable(const char *env_name, const char *fallback)
{
    const char *p = getenv(env_name);
    char buf[PATH_MAX];
    if (!realpath(p && *p ? p : fallback, buf) || access(buf, X_OK) != 0)
        return NULL;
    return xstrdup(buf);
}

/* A dynamically linked busybox would not run in an image without its libraries. */
static bool is_static(const char *path)
{
    char *content = h_read_file(path);
    if (!content)
        return false;
    struct stat st;
    stat(path, &st);
    size_t n = (size_t)st.st_size < 8192 ? (size_t)st.st_size : 8192;
    bool dynamic = memmem(content, n, "ld-linux", 8) != NULL;
    free(content);
    return !dynamic;
}

static char *host_problem(char **berth, char **probe, char **busybox)
{
    if (geteuid() != 0)
        return xstrdup("the integration tests need root (real containers)");
    *berth = executable("BERTH", "build/berth");
    if (!*berth)
        return xasprintf("berth binary not found (BERTH=%s); run `make integration`",
                         getenv("BERTH") ? getenv("BERTH") : "unset");
    *probe = executable("PROBE", "build/probe");
    if (!*probe)
        return xasprintf("probe binary not found (PROBE=%s); run `make build/probe`",
                         getenv("PROBE") ? getenv("PROBE") : "unset");
    *busybox = executable("BERTH_IT_BUSYBOX", "/bin/busybox");
    if (!*busybox || !is_static(*busybox))
        return xstrdup("a static busybox is needed at /bin/busybox: apt-get install "
                       "busybox-static");
    static const char *const ns[] = {"mnt", "pid", "uts", "ipc", "net"};
    for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
        if (!h_exists(path))
            return xasprintf("the kernel lacks %s namespaces", ns[i]);
    }
    _cleanup_free_ char *fs = h_read_file("/proc/filesystems");
    if (!fs || !strstr(fs, "\toverlay\n"))
        return xstrdup("the kernel lacks overlayfs (modprobe overlay)");
    return NULL;
}

static char *copy_file(const char *src, const char *dst, mode_t mode)
{
    _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return xasprintf("open %s: %s", src, strerror(errno));
    _cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        return xasprintf("create %s: %s", dst, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write_all(out, buf, (size_t)n) < 0)
            return xasprintf("write %s: %s", dst, strerror(errno));
    if (n < 0)
        return xasprintf("read %s: %s", src, strerror(errno));
    if (fchmod(out, mode) < 0) /* after the write: umask must not eat the setuid bit */
        return xasprintf("chmod %s: %s", dst, strerror(errno));
    return NULL;
}

static char *put_file(const char *path, const char *content, mode_t mode)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, content, strlen(content)) < 0 || fchmod(fd, mode) < 0)
        return xasprintf("write %s: %s", path, strerror(errno));
    return NULL;
}

static char *make_dir(const char *stage, const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", stage, rel);
    struct berr err = {0};
    if (mkdir_p(path, 0755, &err) < 0)
        return xasprintf("%s", err.msg);
    if (chmod(path, mode) < 0 || chown(path, uid, gid) < 0)
        return xasprintf("chmod/chown %s: %s", path, strerror(errno));
    return NULL;
}

/* busybox's applets as symlinks at the paths busybox itself lists. */
static char *link_applets(const char *stage, const char *busybox)
{
    struct h_result r;
    const char *argv[] = {busybox, "--list-full", NULL};
    h_execv(&r, NULL, argv);
    if (r.status != 0)
        return xasprintf("%s --list-full: exit %d: %s", busybox, r.status, r.err);
    for (char *line = r.out, *end; line && *line; line = end + 1) {
        end = strchr(line, '\n');
        if (!end)
            break;
        *end = '\0';
        if (!*line || strcmp(line, "bin/busybox") == 0)
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", stage, line);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        struct berr err = {0};
        if (mkdir_p(path, 0755, &err) < 0)
            return xasprintf("%s", err.msg);
        *slash = '/';
        if (symlink("/bin/busybox", path) < 0 && errno != EEXIST)
            return xasprintf("symlink %s: %s", path, strerror(errno));
    }
    return NULL;
}

static char *build_rootfs(const char *stage, const char *busybox, const char *probe)
{
    struct {
        const char *rel;
        mode_t mode;
        uid_t uid;
    } dirs[] = {{"bin", 0755, 0},           {"sbin", 0755, 0}, {"usr/bin", 0755, 0},
                {"usr/sbin", 0755, 0},      {"etc", 0755, 0},  {"dev", 0755, 0},
                {"proc", 0555, 0},          {"sys", 0555, 0},  {"tmp", 01777, 0},
                {"root", 0700, 0},          {"home", 0755, 0}, {"home/worker", 0755, 1000},
                {"home/alice", 0750, 1001}, {"var", 0755, 0}};
    char *e;
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if ((e = make_dir(stage, dirs[i].rel, dirs[i].mode, dirs[i].uid, dirs[i].uid)))
            return e;
    _cleanup_free_ char *bb = xasprintf("%s/bin/busybox", stage);
    _cleanup_free_ char *pr = xasprintf("%s/probe", stage);
    _cleanup_free_ char *suid = xasprintf("%s/probe-suid", stage);
    _cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", stage);
    _cleanup_free_ char *group = xasprintf("%s/etc/group", stage);
    if ((e = copy_file(busybox, bb, 0755)) || (e = copy_file(probe, pr, 0755)) ||
        (e = copy_file(probe, suid, 04755)) || (e = put_file(passwd, PASSWD, 0644)) ||
        (e = put_file(group, GROUP, 0644)))
        return e;
    return link_applets(stage, busybox);
}

static char *run_tool(const char *const *argv)
{
    struct h_result r;
    h_execv(&r, NULL, argv);
    if (r.status != 0)
        return xasprintf("%s: exit %d: %s%s", argv[0], r.status, r.err, r.out);
    return NULL;
}

static char *import_image(const char *berth, const char *dir, const char *tar)
{
    _cleanup_free_ char *root = xasprintf("%s/root", dir);
    _cleanup_free_ char *run = xasprintf("%s/run", dir);
    const char *argv[] = {berth, "--root", root, "--runroot", run, "import", tar, H_IMAGE, NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    if (r.status != 0)
        return xasprintf("berth import: exit %d: %s", r.status, r.err);
    if (strncmp(r.out, "sha256:", 7) != 0 || strspn(r.out + 7, "0123456789abcdef") != 64)
        return xasprintf("berth import printed \"%s\", want sha256:<64 hex>", r.out);
    return NULL;
}

/* ---- test/configured:latest, written into the store ----------------------------------- */

static void gen_value(yajl_gen g, yajl_val v)
{
    switch (v ? v->type : yajl_t_null) {
    case yajl_t_string:
        json_str(g, v->u.string);
        break;
    case yajl_t_number:
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        break;
    case yajl_t_object:
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            json_str(g, v->u.object.keys[i]);
            gen_value(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
        break;
    case yajl_t_array:
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            gen_value(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
        break;
    case yajl_t_true:
        yajl_gen_bool(g, 1);
        break;
    case yajl_t_false:
        yajl_gen_bool(g, 0);
        break;
    default:
        yajl_gen_null(g);
    }
}

static void gen_strings(yajl_gen g, const char *key, const char *const *v, size_t n)
{
    json_str(g, key);
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++)
        json_str(g, v[i]);
    yajl_gen_array_close(g);
}

static bool is_ours(const char *key)
{
    static const char *const keys[] = {"User", "WorkingDir", "Env", "Entrypoint", "Cmd"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* The image config with its "config" object extended by the fields above. */
static char *configured_blob(yajl_val image_config, size_t *len)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    bool seen = false;
    for (size_t i = 0; YAJL_IS_OBJECT(image_config) && i < image_config->u.object.len; i++) {
        const char *key = image_config->u.object.keys[i];
        yajl_val val = image_config->u.object.values[i];
        json_str(g, key);
        if (strcmp(key, "config") != 0) {
            gen_value(g, val);
            continue;
        }
        seen = true;
        yajl_gen_map_open(g);
        for (size_t j = 0; YAJL_IS_OBJECT(val) && j < val->u.object.len; j++) {
            if (is_ours(val->u.object.keys[j]))
                continue;
            json_str(g, val->u.object.keys[j]);
            gen_value(g, val->u.object.values[j]);
        }
        json_key_str(g, "User", "worker");
        json_key_str(g, "WorkingDir", "/srv/app");
        gen_strings(g, "Env", CONFIGURED_ENV, ARRAY_SIZE(CONFIGURED_ENV));
        gen_strings(g, "Entrypoint", CONFIGURED_ENTRYPOINT, ARRAY_SIZE(CONFIGURED_ENTRYPOINT));
        gen_strings(g, "Cmd", CONFIGURED_CMD, ARRAY_SIZE(CONFIGURED_CMD));
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    const unsigned char *buf;
    yajl_gen_get_buf(g, &buf, len);
    char *out = seen ? strndup((const char *)buf, *len) : NULL;
    yajl_gen_free(g);
    return out;
}

static char *derive_configured(const char *dir)
{
    _cleanup_free_ char *root = xasprintf("%s/root", dir);
    _cleanup_free_ char *refs_path = xasprintf("%s/refs.json", root);
    _cleanup_free_ char *refs_text = h_read_file(refs_path);
    if (!refs_text)
        return xasprintf("read %s: %s", refs_path, strerror(errno));
    struct berr err = {0};
    yajl_val refs;
    if (json_parse(refs_text, &refs, &err) < 0 || !YAJL_IS_OBJECT(refs))
        return xasprintf("%s: not a JSON object %s", refs_path, err.msg);
    const char *key = NULL, *id = NULL;
    size_t suffix = strlen(H_IMAGE);
    for (size_t i = 0; i < refs->u.object.len; i++) {
        const char *k = refs->u.object.keys[i];
        size_t klen = strlen(k);
        if (klen >= suffix && strcmp(k + klen - suffix, H_IMAGE) == 0 &&
            YAJL_IS_STRING(refs->u.object.values[i])) {
            key = k;
            id = refs->u.object.values[i]->u.string;
        }
    }
    if (!key)
        return xasprintf("%s has no entry for %s", refs_path, H_IMAGE);
    const char *hex = str_has_prefix(id, "sha256:") ? id + 7 : id;
    _cleanup_free_ char *blob_path = xasprintf("%s/blobs/sha256/%s", root, hex);
    _cleanup_free_ char *blob_text = h_read_file(blob_path);
    if (!blob_text)
        return xasprintf("read %s: %s", blob_path, strerror(errno));
    yajl_val config;
    if (json_parse(blob_text, &config, &err) < 0)
        return xasprintf("%s: %s", blob_path, err.msg);
    size_t len;
    _cleanup_free_ char *blob = configured_blob(config, &len);
    if (!blob)
        return xasprintf("%s has no \"config\" object", blob_path);
    char new_hex[65];
    sha256_hex(blob, len, new_hex);
    _cleanup_free_ char *new_blob = xasprintf("%s/blobs/sha256/%s", root, new_hex);
    char *e = put_file(new_blob, blob, 0644);
    if (e)
        return e;

    /* refs.json again, with the new name in the same style as the imported one */
    _cleanup_free_ char *new_key =
        xasprintf("%.*s%s", (int)(strlen(key) - suffix), key, H_IMAGE_CONFIGURED);
    _cleanup_free_ char *new_id =
        xasprintf("%s%s", str_has_prefix(id, "sha256:") ? "sha256:" : "", new_hex);
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    for (size_t i = 0; i < refs->u.object.len; i++) {
        json_str(g, refs->u.object.keys[i]);
        gen_value(g, refs->u.object.values[i]);
    }
    json_key_str(g, new_key, new_id);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    yajl_gen_get_buf(g, &buf, &len);
    _cleanup_free_ char *tmp = xasprintf("%s.it-tmp", refs_path);
    _cleanup_free_ char *text = strndup((const char *)buf, len);
    yajl_gen_free(g);
    if ((e = put_file(tmp, text, 0644)))
        return e;
    if (rename(tmp, refs_path) < 0)
        return xasprintf("rename %s: %s", tmp, strerror(errno));
    return NULL;
}

/* ---- hooks ----------------------------------------------------------------------------- */

static char *build_images(const char *dir, const char *berth, const char *probe,
                          const char *busybox)
{
    _cleanup_free_ char *stage = xasprintf("%s/stage", dir);
    _cleanup_free_ char *tar = xasprintf("%s/probe-image.tar", dir);
    char *e = build_rootfs(stage, busybox, probe);
    if (e)
        return e;
    const char *tar_argv[] = {"tar", "--numeric-owner", "--sort=name", "-C", stage, "-cf", tar, ".",
                              NULL};
    if ((e = run_tool(tar_argv)))
        return e;
    return import_image(berth, dir, tar);
}

static void record(const char *dir, const char *name, const char *msg)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    char *e = put_file(path, msg, 0644);
    if (e)
        fprintf(stderr, "harness: %s\n", e);
    fprintf(stderr, "harness: %s: %s\n", name, msg);
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    char *berth = NULL, *probe = NULL, *busybox = NULL;
    char *skip = host_problem(&berth, &probe, &busybox);
    if (skip) {
        fprintf(stderr, "harness: every test skips: %s\n", skip);
        setenv("BERTH_IT_SKIP", skip, 1);
        return;
    }
    char tmpl[] = "/tmp/berth-it-data.XXXXXX";
    if (!mkdtemp(tmpl)) {
        setenv("BERTH_IT_SKIP", "mkdtemp in /tmp failed", 1);
        return;
    }
    setenv("BERTH_IT_DATA", tmpl, 1);
    setenv("BERTH_IT_BERTH", berth, 1);
    setenv("BERTH_IT_PROBE", probe, 1);
    char *e = build_images(tmpl, berth, probe, busybox);
    if (e) {
        record(tmpl, "setup-error", e);
        return;
    }
    if ((e = derive_configured(tmpl)))
        record(tmpl, "derive-error", e);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    const char *dir = getenv("BERTH_IT_DATA");
    if (!dir || getenv("BERTH_IT_KEEP"))
        return;
    h_storm_launcher_cleanup();
    h_worker_launcher_cleanup();
    h_detach_mounts_under(dir);
    h_remove_tree(dir);
}

void h_need_configured_image(void)
{
    _cleanup_free_ char *path = xasprintf("%s/derive-error", getenv("BERTH_IT_DATA"));
    _cleanup_free_ char *e = h_read_file(path);
    cr_assert(!e, "test/configured:latest could not be made: %s", e);
}

void h_import_variant(const char *root, const char *ref, const char *extra_dir)
{
    struct h_result r;
    _cleanup_free_ char *base = xasprintf("%s/probe-image.tar", getenv("BERTH_IT_DATA"));
    char *tar = h_path("variant.tar");
    const char *cp[] = {"cp", base, tar, NULL};
    h_execv(&r, NULL, cp);
    h_assert_status(&r, 0);
    const char *append[] = {"tar", "--numeric-owner", "-C", extra_dir, "-rf", tar, ".", NULL};
    h_execv(&r, NULL, append);
    h_assert_status(&r, 0);
    struct h_opts o = {.root = root};
    h_berth(&r, &o, "import", tar, ref, NULL);
    h_assert_status(&r, 0);
}
