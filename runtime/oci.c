/* The container's one description: an OCI runtime-spec 1.0.2 config.json, built at create from
 * the validated spec and what create worked out (id, hostname, the user resolved from the
 * image's files, the capability set, the flattened seccomp profile), complete enough that
 * another OCI runtime runs the same process in the same view. What OCI has no field for (the
 * image's layer dirs, the overlay's upper and work dirs, berth's compiled filter) travels in
 * annotations under "io.berth.". */
#include "internal.h"

#include <ctype.h>
#include <string.h>
#include <sys/mount.h>

static void gen_strv(yajl_gen g, const char *key, const struct strv *v)
{
    json_str(g, key);
    yajl_gen_array_open(g);
    for (size_t i = 0; v && i < v->n; i++)
        json_str(g, v->v[i]);
    yajl_gen_array_close(g);
}

static void gen_caps(yajl_gen g, const struct cap_set *caps)
{
    struct strv names = {0};
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
        if (!(caps->bits[c / 32] & (1u << (c % 32))))
            continue;
        char *name = cap_to_name(c);
        char *up = xstrdup(name);
        cap_free(name);
        for (char *p = up; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        strv_push_owned(&names, up);
    }
    /* what caps.c applies: inheritable and ambient stay empty (CVE-2022-24769) */
    json_str(g, "capabilities");
    yajl_gen_map_open(g);
    gen_strv(g, "bounding", &names);
    gen_strv(g, "effective", &names);
    gen_strv(g, "permitted", &names);
    gen_strv(g, "inheritable", NULL);
    gen_strv(g, "ambient", NULL);
    yajl_gen_map_close(g);
    strv_free(&names);
}

static void gen_process(yajl_gen g, const struct container_spec *s, const struct oci_facts *f)
{
    json_str(g, "process");
    yajl_gen_map_open(g);
    json_key_bool(g, "terminal", false);
    json_str(g, "user");
    yajl_gen_map_open(g);
    json_key_int(g, "uid", f->creds->uid);
    json_key_int(g, "gid", f->creds->gid);
    json_str(g, "additionalGids");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < f->creds->ngroups; i++)
        yajl_gen_integer(g, f->creds->groups[i]);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    struct strv argv = {0}, env = {0};
    spec_command(s, &argv);
    gen_strv(g, "args", &argv);
    spec_process_env(s, f->hostname, f->creds->home, &env);
    gen_strv(g, "env", &env);
    strv_free(&argv);
    strv_free(&env);
    _cleanup_free_ char *cwd = spec_workdir(s);
    json_key_str(g, "cwd", cwd);
    gen_caps(g, f->caps);
    json_key_bool(g, "noNewPrivileges", s->no_new_privs);
    /* no process.rlimits: berth sets none, the container keeps its caller's (as docker without
     * --ulimit keeps dockerd's), and ociread.c refuses a description that asks for some */
    yajl_gen_map_close(g);
}

static bool has_bind_on(const struct container_spec *s, const char *dest)
{
    for (size_t i = 0; i < s->nbinds; i++) {
        if (!strcmp(s->binds[i].dest, dest))
            return true;
    }
    return false;
}

void oci_default_mount_options(const struct mounts_fs *m, struct strv *out)
{
    static const struct {
        unsigned long flag;
        const char *name;
    } flags[] = {{MS_NOSUID, "nosuid"},
                 {MS_NOEXEC, "noexec"},
                 {MS_NODEV, "nodev"},
                 {MS_STRICTATIME, "strictatime"},
                 {MS_RDONLY, "ro"}};
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        if (m->flags & flags[i].flag)
            strv_push(out, flags[i].name);
    }
    if (m->data) {
        _cleanup_free_ char *data = xstrdup(m->data);
        char *save = NULL;
        for (char *o = strtok_r(data, ",", &save); o; o = strtok_r(NULL, ",", &save))
            strv_push(out, o);
    }
}

static void gen_default_mount(yajl_gen g, const struct mounts_fs *m)
{
    yajl_gen_map_open(g);
    json_key_str(g, "destination", m->dest);
    json_key_str(g, "type", m->fstype);
    json_key_str(g, "source", m->source);
    _cleanup_strv_ struct strv opts = {0};
    oci_default_mount_options(m, &opts);
    gen_strv(g, "options", &opts);
    yajl_gen_map_close(g);
}

static void gen_bind(yajl_gen g, const char *source, const char *dest, bool readonly)
{
    yajl_gen_map_open(g);
    json_key_str(g, "destination", dest);
    json_key_str(g, "type", "bind");
    json_key_str(g, "source", source);
    json_str(g, "options");
    yajl_gen_array_open(g);
    json_str(g, "rbind");
    json_str(g, "rprivate");
    if (readonly)
        json_str(g, "ro");
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

/* In mounts/'s order: docker's defaults (a -v bind on the same destination replaces one), the
 * binds shallowest first, the state directory's /etc files. */
static void gen_mounts(yajl_gen g, const struct container_spec *s, const struct oci_facts *f)
{
    json_str(g, "mounts");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < mounts_ndefault_fs; i++) {
        if (!has_bind_on(s, mounts_default_fs[i].dest))
            gen_default_mount(g, &mounts_default_fs[i]);
    }
    _cleanup_free_ const struct mount_bind **order = mounts_binds_by_depth(s->binds, s->nbinds);
    for (size_t i = 0; i < s->nbinds; i++)
        gen_bind(g, order[i]->source, order[i]->dest, order[i]->readonly);
    for (size_t i = 0; i < mounts_netc_files; i++) {
        _cleanup_free_ char *dest = xasprintf("/etc/%s", mounts_etc_files[i]);
        _cleanup_free_ char *src = xasprintf("%s/%s", f->dir_path, mounts_etc_files[i]);
        if (!has_bind_on(s, dest))
            gen_bind(g, src, dest, s->readonly_root);
    }
    yajl_gen_array_close(g);
}

static void gen_annotations(yajl_gen g, const struct container_spec *s, const struct oci_facts *f)
{
    json_str(g, "annotations");
    yajl_gen_map_open(g);
    _cleanup_free_ char *layers = strv_join(&s->layers, ":");
    json_key_str(g, OCI_ANN_LAYERS, layers);
    _cleanup_free_ char *upper = xasprintf("%s/scaffold/upper", f->dir_path);
    _cleanup_free_ char *work = xasprintf("%s/scaffold/work", f->dir_path);
    json_key_str(g, OCI_ANN_UPPER, upper);
    json_key_str(g, OCI_ANN_WORK, work);
    if (f->seccomp_oci)
        json_key_str(g, OCI_ANN_SECCOMP, SECCOMP_FILE);
    if (strv_find_env(&s->env, "HOME") < 0 && strv_find_env(&s->image_env, "HOME") < 0)
        json_key_str(g, OCI_ANN_HOME, "passwd");
    if (s->group_add.n) {
        _cleanup_free_ char *groups = strv_join(&s->group_add, ",");
        json_key_str(g, OCI_ANN_GROUP_ADD, groups);
    }
    yajl_gen_map_close(g);
}

static void dev_access(const struct cgroup_dev_rule *r, char access[4])
{
    size_t n = 0;
    if (r->access & CGROUP_DEV_READ)
        access[n++] = 'r';
    if (r->access & CGROUP_DEV_WRITE)
        access[n++] = 'w';
    if (r->access & CGROUP_DEV_MKNOD)
        access[n++] = 'm';
    access[n] = '\0';
}

void oci_gen_device_rules(yajl_gen g)
{
    json_str(g, "devices");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < cgroup_ndev_rules; i++) {
        const struct cgroup_dev_rule *r = &cgroup_dev_rules[i];
        yajl_gen_map_open(g);
        json_key_bool(g, "allow", r->allow);
        char type[2] = {r->type, '\0'};
        json_key_str(g, "type", type);
        if (r->major != CGROUP_DEV_ANY)
            json_key_int(g, "major", r->major);
        if (r->minor != CGROUP_DEV_ANY)
            json_key_int(g, "minor", r->minor);
        char access[4];
        dev_access(r, access);
        json_key_str(g, "access", access);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static bool dev_number_is(yajl_val v, int want)
{
    if (want == CGROUP_DEV_ANY)
        return v == NULL;
    return v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == want;
}

bool oci_devices_are_berths(yajl_val devices)
{
    if (!YAJL_IS_ARRAY(devices) || devices->u.array.len != cgroup_ndev_rules)
        return false;
    for (size_t i = 0; i < cgroup_ndev_rules; i++) {
        const struct cgroup_dev_rule *r = &cgroup_dev_rules[i];
        yajl_val d = devices->u.array.values[i];
        const char *type = json_get_str(d, "type"), *access = json_get_str(d, "access");
        char want_access[4];
        dev_access(r, want_access);
        size_t keys = 3 + (r->major != CGROUP_DEV_ANY) + (r->minor != CGROUP_DEV_ANY);
        if (!YAJL_IS_OBJECT(d) || d->u.object.len != keys ||
            (r->allow ? !YAJL_IS_TRUE(json_get(d, "allow"))
                      : !YAJL_IS_FALSE(json_get(d, "allow"))) ||
            !type || type[0] != r->type || type[1] || !access || strcmp(access, want_access) ||
            !dev_number_is(json_get(d, "major"), r->major) ||
            !dev_number_is(json_get(d, "minor"), r->minor))
            return false;
    }
    return true;
}

static void gen_resources(yajl_gen g, const struct cgroup_limits *l)
{
    struct cgroup_resources r;
    cgroup_limits_resolve(l, &r);
    json_str(g, "resources");
    yajl_gen_map_open(g);
    oci_gen_device_rules(g);
    bool cpuset = (l->cpuset_cpus && *l->cpuset_cpus) || (l->cpuset_mems && *l->cpuset_mems);
    if (r.cpu_shares || r.cpu_quota || r.cpu_period || cpuset) {
        json_str(g, "cpu");
        yajl_gen_map_open(g);
        if (r.cpu_shares)
            json_key_int(g, "shares", r.cpu_shares);
        if (r.cpu_quota)
            json_key_int(g, "quota", r.cpu_quota);
        if (r.cpu_period)
            json_key_int(g, "period", r.cpu_period);
        if (l->cpuset_cpus && *l->cpuset_cpus)
            json_key_str(g, "cpus", l->cpuset_cpus);
        if (l->cpuset_mems && *l->cpuset_mems)
            json_key_str(g, "mems", l->cpuset_mems);
        yajl_gen_map_close(g);
    }
    if (r.memory_limit) {
        json_str(g, "memory");
        yajl_gen_map_open(g);
        json_key_int(g, "limit", r.memory_limit);
        if (r.memory_swap)
            json_key_int(g, "swap", r.memory_swap);
        yajl_gen_map_close(g);
    }
    if (r.pids_limit) {
        json_str(g, "pids");
        yajl_gen_map_open(g);
        json_key_int(g, "limit", r.pids_limit);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
}

static void gen_linux(yajl_gen g, const struct container_spec *s, const struct oci_facts *f)
{
    json_str(g, "linux");
    yajl_gen_map_open(g);
    json_str(g, "namespaces");
    yajl_gen_array_open(g);
    static const char *const kinds[] = {"mount", "pid", "uts", "ipc", "network"};
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        if (!strcmp(kinds[i], "network") && s->net == NET_HOST)
            continue;
        yajl_gen_map_open(g);
        json_key_str(g, "type", kinds[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    _cleanup_strv_ struct strv masked = {0};
    mounts_masked_paths_here(&masked);
    gen_strv(g, "maskedPaths", &masked);
    json_str(g, "readonlyPaths");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < mounts_nreadonly_paths; i++)
        json_str(g, mounts_readonly_paths[i]);
    yajl_gen_array_close(g);
    gen_resources(g, &s->limits);
    const char *parent = s->cgroup_parent ? s->cgroup_parent : RUNTIME_CGROUP_PARENT;
    size_t plen = strlen(parent);
    while (plen > 1 && parent[plen - 1] == '/')
        plen--;
    _cleanup_free_ char *cg = xasprintf("%.*s/%s", (int)(plen == 1 ? 0 : plen), parent, f->id);
    json_key_str(g, "cgroupsPath", cg);
    if (f->seccomp_oci) {
        json_str(g, "seccomp");
        json_gen_verbatim(g, f->seccomp_oci, strlen(f->seccomp_oci));
    }
    yajl_gen_map_close(g);
}

yajl_gen oci_gen(const struct container_spec *s, const struct oci_facts *f)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "ociVersion", OCI_VERSION);
    gen_process(g, s, f);
    json_str(g, "root");
    yajl_gen_map_open(g);
    _cleanup_free_ char *root = xasprintf("%s/scaffold/rootfs", f->dir_path);
    json_key_str(g, "path", root);
    json_key_bool(g, "readonly", s->readonly_root);
    yajl_gen_map_close(g);
    json_key_str(g, "hostname", f->hostname);
    gen_mounts(g, s, f);
    gen_annotations(g, s, f);
    gen_linux(g, s, f);
    yajl_gen_map_close(g);
    return g;
}
