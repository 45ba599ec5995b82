/* docker's inspect view of a container, rendered when someone looks: what the container is
 * comes from its description (config.json, the OCI runtime spec: the command, hostname,
 * mounts, namespaces, root, cgroups path, the state directory), and what docker alone knows
 * from berth's record (berth.json: the name, when it was created, the image, and the flags as
 * the user gave them, which OCI's resolved values cannot tell back, e.g. --cpus against
 * --cpu-quota, or "worker" against uid 1000). */
#include "internal.h"

#include <string.h>

/* the member of the record, or JSON null */
static void copy_key(yajl_gen g, yajl_val obj, const char *key)
{
    json_str(g, key);
    json_gen_value(g, json_get(obj, key));
}

/* <state dir>/scaffold/rootfs is the root's path: the state dir is two levels up. */
static char *state_dir_of(yajl_val oci)
{
    const char *root = json_get_str(json_get(oci, "root"), "path");
    if (!root)
        return xstrdup("");
    char *dir = xstrdup(root);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
    return dir;
}

static bool has_option(yajl_val mount, const char *opt)
{
    _cleanup_strv_ struct strv opts = {0};
    json_get_strv(mount, "options", &opts);
    return strv_contains(&opts, opt);
}

/* The -v binds: bind mounts of the description but the state directory's /etc files. */
static bool is_user_bind(yajl_val m, const char *state_dir)
{
    const char *type = json_get_str(m, "type"), *src = json_get_str(m, "source");
    if (!type || strcmp(type, "bind") || !src)
        return false;
    size_t n = strlen(state_dir);
    return !(n && !strncmp(src, state_dir, n) && src[n] == '/');
}

static bool has_namespace(yajl_val oci, const char *type)
{
    yajl_val ns = json_get(json_get(oci, "linux"), "namespaces");
    for (size_t i = 0; YAJL_IS_ARRAY(ns) && i < ns->u.array.len; i++) {
        const char *t = json_get_str(ns->u.array.values[i], "type");
        if (t && !strcmp(t, type))
            return true;
    }
    return false;
}

/* cgroupsPath is <parent>/<id> */
static char *cgroup_parent_of(yajl_val oci)
{
    const char *path = json_get_str(json_get(oci, "linux"), "cgroupsPath");
    char *parent = xstrdup(path ? path : RUNTIME_CGROUP_PARENT "/");
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else if (slash)
        slash[1] = '\0';
    return parent;
}

/* docker's HostConfig order; NULL marks where the description's values go */
static const char *const host_config_keys[] = {
    "Binds",       "NetworkMode",    "AutoRemove",   "CapAdd",   "CapDrop",    "GroupAdd",
    "SecurityOpt", "ReadonlyRootfs", "CgroupParent", "NanoCpus", "CpuPeriod",  "CpuQuota",
    "CpuShares",   "CpusetCpus",     "CpusetMems",   "Memory",   "MemorySwap", "PidsLimit",
};

/* Binds and the resource flags as the user gave them; the network, the read-only root and
 * the cgroup parent as the description has them. */
static void gen_host_config(yajl_gen g, yajl_val oci, yajl_val given)
{
    json_str(g, "HostConfig");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(host_config_keys); i++) {
        const char *key = host_config_keys[i];
        if (!strcmp(key, "NetworkMode")) {
            json_key_str(g, key, has_namespace(oci, "network") ? "none" : "host");
        } else if (!strcmp(key, "ReadonlyRootfs")) {
            json_key_bool(g, key, YAJL_IS_TRUE(json_get(json_get(oci, "root"), "readonly")));
        } else if (!strcmp(key, "CgroupParent")) {
            _cleanup_free_ char *parent = cgroup_parent_of(oci);
            json_key_str(g, key, parent);
        } else {
            copy_key(g, given, key);
        }
    }
    json_key_int(g, "ShmSize", 67108864);
    yajl_gen_map_close(g);
}

static void gen_mount(yajl_gen g, yajl_val m)
{
    bool ro = has_option(m, "ro");
    yajl_gen_map_open(g);
    json_key_str(g, "Type", "bind");
    json_key_str(g, "Source", json_get_str(m, "source"));
    json_key_str(g, "Destination", json_get_str(m, "destination"));
    json_key_str(g, "Mode", ro ? "ro" : "");
    json_key_bool(g, "RW", !ro);
    json_key_str(g, "Propagation", "rprivate");
    yajl_gen_map_close(g);
}

/* The description's bind mounts, in the order the -v flags were given (its own order is
 * shallowest first, as they are mounted). */
static void gen_mounts(yajl_gen g, yajl_val mounts, yajl_val binds, const char *state_dir)
{
    json_str(g, "Mounts");
    yajl_gen_array_open(g);
    for (size_t b = 0; YAJL_IS_ARRAY(binds) && b < binds->u.array.len; b++) {
        const char *given = YAJL_GET_STRING(binds->u.array.values[b]);
        const char *dest = given ? strchr(given, ':') : NULL;
        size_t n = dest ? strcspn(dest + 1, ":") : 0;
        for (size_t i = 0; dest && YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++) {
            yajl_val m = mounts->u.array.values[i];
            const char *d = json_get_str(m, "destination");
            if (is_user_bind(m, state_dir) && d && strlen(d) == n && !strncmp(d, dest + 1, n)) {
                gen_mount(g, m);
                break;
            }
        }
    }
    yajl_gen_array_close(g);
}

/* docker's Config: the hostname is the description's, the rest docker's own terms. */
static void gen_config(yajl_gen g, yajl_val oci, yajl_val config)
{
    json_str(g, "Config");
    yajl_gen_map_open(g);
    json_key_str(g, "Hostname", json_get_str(oci, "hostname"));
    for (size_t i = 0; YAJL_IS_OBJECT(config) && i < config->u.object.len; i++) {
        json_str(g, config->u.object.keys[i]);
        json_gen_value(g, config->u.object.values[i]);
    }
    yajl_gen_map_close(g);
}

static void gen_command(yajl_gen g, yajl_val oci)
{
    yajl_val args = json_get(json_get(oci, "process"), "args");
    size_t n = YAJL_IS_ARRAY(args) ? args->u.array.len : 0;
    const char *path = n ? YAJL_GET_STRING(args->u.array.values[0]) : NULL;
    json_key_str(g, "Path", path ? path : "");
    json_str(g, "Args");
    yajl_gen_array_open(g);
    for (size_t i = 1; i < n; i++)
        json_gen_value(g, args->u.array.values[i]);
    yajl_gen_array_close(g);
}

int docker_view(const char *id, yajl_val oci, yajl_val record, yajl_val *out, struct berr *err)
{
    _cleanup_free_ char *state_dir = state_dir_of(oci);
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "Id", id);
    json_key_str(g, "Created", json_get_str(record, "Created"));
    gen_command(g, oci);
    const char *image = json_get_str(record, "ImageID");
    _cleanup_free_ char *image_id = xasprintf("sha256:%s", image ? image : "");
    json_key_str(g, "Image", image_id);
    const char *name = json_get_str(record, "Name");
    _cleanup_free_ char *slashed = xasprintf("/%s", name ? name : "");
    json_key_str(g, "Name", slashed);
    static const char *const files[][2] = {{"ResolvConfPath", "resolv.conf"},
                                           {"HostnamePath", "hostname"},
                                           {"HostsPath", "hosts"},
                                           {"LogPath", LOG_FILE}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *path = xasprintf("%s/%s", state_dir, files[i][1]);
        json_key_str(g, files[i][0], path);
    }
    gen_host_config(g, oci, json_get(record, "HostConfig"));
    gen_mounts(g, json_get(oci, "mounts"), json_get(json_get(record, "HostConfig"), "Binds"),
               state_dir);
    gen_config(g, oci, json_get(record, "Config"));
    yajl_gen_map_close(g);
    return json_gen_parse(g, out, err);
}
