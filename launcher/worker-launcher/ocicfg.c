/* run-oci-container's oci-config.json (storm-interface.md §6.2): read with the launcher's
 * rights, checked as upstream checks it plus berth's policy, and turned into the bundle's
 * config.json (§6.3 step 5) that berth's runtime runs: the <user>'s ids and groups, no
 * capabilities, no_new_privs, a read-only root, the pid, ipc, uts and mount namespaces (the
 * host's network, as upstream), berth's default kernel mounts and paths, then Storm's binds
 * with their sources resolved as the <user> and under docker.allowed.mounts. */
#include "launcher/worker-launcher/wl.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

void wl_oci_free(struct wl_oci *o)
{
    if (o->doc)
        yajl_tree_free(o->doc);
    strv_free(&o->layers);
    strv_free(&o->binds);
    *o = (struct wl_oci){0};
}

static bool only_keys(yajl_val obj, const char *const *keys)
{
    for (size_t i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], obj->u.object.keys[i]))
            k++;
        if (!keys[k])
            return false;
    }
    return YAJL_IS_OBJECT(obj);
}

static bool string_array(yajl_val v, bool nonempty)
{
    if (!YAJL_IS_ARRAY(v) || (nonempty && !v->u.array.len))
        return false;
    for (size_t i = 0; i < v->u.array.len; i++) {
        if (!YAJL_IS_STRING(v->u.array.values[i]))
            return false;
    }
    return true;
}

/* absolute, clean, not "/" */
static bool clean_path(const char *p)
{
    if (!p || p[0] != '/' || !p[1])
        return false;
    _cleanup_free_ char *c = path_clean(p);
    return !strcmp(c, p);
}

/* upstream's rule: 36 to 42 of [0-9a-fA-F-] (<port>-<uuid>) */
bool wl_oci_id_valid(const char *id)
{
    size_t n = strlen(id);
    return n >= 36 && n <= 42 && strspn(id, "0123456789abcdefABCDEF-") == n;
}

static int check_mounts(yajl_val mounts, struct berr *err)
{
    static const char *const keys[] = {"type", "source", "destination", "options", NULL};
    static const char *const opts[] = {"ro",     "rw",    "rbind",  "rprivate",
                                       "nosuid", "nodev", "noexec", NULL};
    if (mounts && !YAJL_IS_ARRAY(mounts))
        return berr_set(err, BERR_USAGE, "mounts is not an array");
    for (size_t i = 0; mounts && i < mounts->u.array.len; i++) {
        yajl_val m = mounts->u.array.values[i];
        const char *type = json_get_str(m, "type"), *src = json_get_str(m, "source");
        const char *dst = json_get_str(m, "destination");
        yajl_val o = json_get(m, "options");
        if (!only_keys(m, keys) || !type || strcmp(type, "bind") || !clean_path(src) ||
            !clean_path(dst) || !string_array(o, true))
            return berr_set(err, BERR_USAGE,
                            "mounts[%zu]: not a bind with clean absolute source and destination "
                            "and string options",
                            i);
        bool rbind = false, rprivate = false;
        for (size_t k = 0; k < o->u.array.len; k++) {
            const char *s = YAJL_GET_STRING(o->u.array.values[k]);
            size_t j = 0;
            while (opts[j] && strcmp(opts[j], s))
                j++;
            if (!opts[j])
                return berr_set(err, BERR_USAGE, "mounts[%zu]: option %s is not allowed", i, s);
            rbind |= !strcmp(s, "rbind");
            rprivate |= !strcmp(s, "rprivate");
        }
        if (!rbind || !rprivate)
            return berr_set(err, BERR_USAGE, "mounts[%zu]: rbind and rprivate are required", i);
    }
    return 0;
}

static int check_linux(yajl_val lx, const char *cid, struct berr *err)
{
    static const char *const keys[] = {"cgroupsPath", "resources", "seccomp", NULL};
    static const char *const res_keys[] = {"blockIO", "cpu", "memory", NULL};
    const char *cg = json_get_str(lx, "cgroupsPath");
    if (!only_keys(lx, keys))
        return berr_set(err, BERR_USAGE, "linux: only cgroupsPath, resources and seccomp");
    if (!clean_path(cg) || strchr(cg, ':'))
        return berr_set(err, BERR_USAGE, "linux.cgroupsPath is not a clean absolute path");
    /* Storm's <parent>/<containerId>: the runtime joins a cgroup that exists and writes its
     * limits, so a leaf of the file's choosing could be another service's */
    if (strcmp(strrchr(cg, '/') + 1, cid))
        return berr_set(err, BERR_USAGE, "linux.cgroupsPath %s does not end in /%s", cg, cid);
    yajl_val res = json_get(lx, "resources");
    if (res && !only_keys(res, res_keys))
        return berr_set(err, BERR_USAGE, "linux.resources: only blockIO, cpu and memory");
    /* berth's policy: never unconfined (upstream would run runc without a filter) */
    if (!YAJL_IS_OBJECT(json_get(lx, "seccomp")))
        return berr_set(err, BERR_USAGE,
                        "linux.seccomp is required (storm.oci.seccomp.profile): berth's "
                        "worker-launcher runs no container unconfined");
    return 0;
}

static int check_doc(const struct wl *wl, struct wl_oci *o, struct berr *err)
{
    yajl_val d = o->doc;
    o->username = json_get_str(d, "username");
    o->cid = json_get_str(d, "containerId");
    o->pid_file = json_get_str(d, "pidFile");
    o->script = json_get_str(d, "containerScriptPath");
    o->rt = json_get(d, "ociRuntimeConfig");
    yajl_val layers = json_get(d, "layers"), keep = json_get(d, "reapLayerKeepCount");
    yajl_val p = json_get(o->rt, "process");
    if (!o->username || !o->cid || !wl_oci_id_valid(o->cid))
        return berr_set(err, BERR_USAGE, "username and a containerId of 36 to 42 [0-9a-fA-F-]");
    if (!clean_path(o->pid_file) || !o->script)
        return berr_set(err, BERR_USAGE, "pidFile (clean, absolute) and containerScriptPath");
    if (!YAJL_IS_ARRAY(layers) || !layers->u.array.len)
        return berr_set(err, BERR_USAGE, "layers is not a non-empty array");
    for (size_t i = 0; i < layers->u.array.len; i++) {
        yajl_val l = layers->u.array.values[i];
        const char *mt = json_get_str(l, "mediaType"), *path = json_get_str(l, "path");
        if (!mt || strcmp(mt, "application/vnd.squashfs") || !path || path[0] != '/')
            return berr_set(err, BERR_USAGE,
                            "layers[%zu]: mediaType application/vnd.squashfs and an absolute "
                            "path",
                            i);
        strv_push(&o->layers, path);
    }
    if (!YAJL_IS_INTEGER(keep) || YAJL_GET_INTEGER(keep) < 0)
        return berr_set(err, BERR_USAGE, "reapLayerKeepCount is not a number >= 0");
    if (!YAJL_IS_OBJECT(o->rt) || !string_array(json_get(p, "args"), true) ||
        !string_array(json_get(p, "env"), false) || !clean_path(json_get_str(p, "cwd")))
        return berr_set(err, BERR_USAGE, "process: args, env (string arrays), cwd (absolute)");
    if (json_get(p, "hostname") && !json_get_str(p, "hostname"))
        return berr_set(err, BERR_USAGE, "process.hostname is not a string");
    (void)wl;
    return check_mounts(json_get(o->rt, "mounts"), err) < 0
               ? -1
               : check_linux(json_get(o->rt, "linux"), o->cid, err);
}

int wl_oci_read(const struct wl *wl, const char *path, struct wl_oci *o)
{
    *o = (struct wl_oci){0};
    struct berr err = {0};
    _cleanup_close_ int fd =
        ident_open(&wl->launcher, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, &err);
    struct stat st;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "ERROR: Unable to open %s as the launcher: %s\n", path,
                fd < 0 ? err.msg : "not a regular file");
        return WL_INVALID_CONFIG_FILE;
    }
    if (read_fd_all(fd, 16 << 20, &text, &len, &err) < 0 || json_parse(text, &o->doc, &err) < 0 ||
        check_doc(wl, o, &err) < 0) {
        fprintf(stderr, "ERROR: Invalid oci-config %s: %s\n", path, err.msg);
        return WL_INVALID_CONFIG_FILE;
    }
    /* the container runs as the argv's <user>, checked at the start: the file names no other */
    if (strcmp(o->username, wl->user_name)) {
        fprintf(stderr, "ERROR: the oci-config's username %s is not the user %s\n", o->username,
                wl->user_name);
        return WL_FAILED;
    }
    return 0;
}

static size_t depth(yajl_val m)
{
    size_t n = 0;
    for (const char *p = json_get_str(m, "destination"); *p; p++)
        n += *p == '/';
    return n;
}

int wl_oci_resolve_binds(const struct wl *wl, struct wl_oci *o)
{
    struct berr err = {0};
    yajl_val mounts = json_get(o->rt, "mounts");
    for (size_t i = 0; mounts && i < mounts->u.array.len; i++) {
        char *real = wl_bind_source(wl, json_get_str(mounts->u.array.values[i], "source"), &err);
        if (!real) {
            fprintf(stderr, "ERROR: Invalid oci-config: mounts[%zu]: %s\n", i, err.msg);
            return WL_INVALID_CONFIG_FILE;
        }
        strv_push_owned(&o->binds, real);
    }
    return 0;
}

/* Storm's binds, shallowest first as berth's runtime mounts them (stable: Storm lists a
 * directory before what it binds inside it, whose order stays), from their resolved sources */
static void gen_binds(yajl_gen g, const struct wl_oci *o)
{
    yajl_val mounts = json_get(o->rt, "mounts");
    size_t n = o->binds.n;
    _cleanup_free_ size_t *order = xcalloc(n + 1, sizeof(*order));
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        for (; j > 0 &&
               depth(mounts->u.array.values[order[j - 1]]) > depth(mounts->u.array.values[i]);
             j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (size_t i = 0; i < n; i++) {
        yajl_val m = mounts->u.array.values[order[i]];
        yajl_gen_map_open(g);
        json_key_str(g, "destination", json_get_str(m, "destination"));
        json_key_str(g, "type", "bind");
        json_key_str(g, "source", o->binds.v[order[i]]);
        json_str(g, "options");
        json_gen_value(g, json_get(m, "options"));
        yajl_gen_map_close(g);
    }
}

static void gen_process(const struct wl *wl, yajl_gen g, yajl_val p)
{
    json_str(g, "process");
    yajl_gen_map_open(g);
    json_key_bool(g, "terminal", false);
    json_str(g, "user");
    yajl_gen_map_open(g);
    json_key_int(g, "uid", wl->user.uid);
    json_key_int(g, "gid", wl->user.gid);
    json_str(g, "additionalGids");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < wl->user.ngroups; i++) {
        if (wl->user.groups[i] != wl->user.gid)
            yajl_gen_integer(g, wl->user.groups[i]);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    json_str(g, "args");
    json_gen_value(g, json_get(p, "args"));
    json_str(g, "env");
    json_gen_value(g, json_get(p, "env"));
    json_key_str(g, "cwd", json_get_str(p, "cwd"));
    json_key_bool(g, "noNewPrivileges", true);
    yajl_gen_map_close(g);
}

static void gen_linux(yajl_gen g, yajl_val lx, yajl_val defaults)
{
    static const char *const ns[] = {"pid", "ipc", "uts", "mount"};
    yajl_val res = json_get(lx, "resources");
    json_str(g, "linux");
    yajl_gen_map_open(g);
    json_key_str(g, "cgroupsPath", json_get_str(lx, "cgroupsPath"));
    json_str(g, "resources");
    yajl_gen_map_open(g);
    json_str(g, "devices");
    json_gen_value(g, json_get(json_get(defaults, "resources"), "devices"));
    for (size_t i = 0; YAJL_IS_OBJECT(res) && i < res->u.object.len; i++) {
        json_str(g, res->u.object.keys[i]);
        json_gen_value(g, res->u.object.values[i]);
    }
    yajl_gen_map_close(g);
    json_str(g, "namespaces");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
        yajl_gen_map_open(g);
        json_key_str(g, "type", ns[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    json_str(g, "maskedPaths");
    json_gen_value(g, json_get(defaults, "maskedPaths"));
    json_str(g, "readonlyPaths");
    json_gen_value(g, json_get(defaults, "readonlyPaths"));
    json_str(g, "seccomp");
    json_gen_value(g, json_get(lx, "seccomp"));
    yajl_gen_map_close(g);
}

int wl_oci_bundle_config(const struct wl *wl, const struct wl_oci *o, const char *rootfs,
                         yajl_gen *out, struct berr *err)
{
    yajl_val defaults = NULL;
    if (json_gen_parse(runtime_oci_default_spec(), &defaults, err) < 0)
        return -1;
    struct utsname u;
    uname(&u);
    yajl_gen g = json_gen_new(true);
    yajl_gen_map_open(g);
    json_key_str(g, "ociVersion", "1.0.0");
    json_key_str(g, "hostname", u.nodename);
    json_str(g, "root");
    yajl_gen_map_open(g);
    json_key_str(g, "path", rootfs);
    json_key_bool(g, "readonly", true);
    yajl_gen_map_close(g);
    gen_process(wl, g, json_get(o->rt, "process"));
    json_str(g, "mounts");
    yajl_gen_array_open(g);
    yajl_val dm = json_get(defaults, "mounts");
    for (size_t i = 0; YAJL_IS_ARRAY(dm) && i < dm->u.array.len; i++)
        json_gen_value(g, dm->u.array.values[i]);
    gen_binds(g, o);
    yajl_gen_array_close(g);
    gen_linux(g, json_get(o->rt, "linux"), json_get(defaults, "linux"));
    yajl_gen_map_close(g);
    yajl_tree_free(defaults);
    *out = g;
    return 0;
}
