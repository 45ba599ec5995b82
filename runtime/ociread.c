/* The container's description read back: config.json parsed once into struct oci_config, which
 * is all that create's start, the monitor and exec take from it. The reader is strict: what
 * berth cannot apply exactly as the description lists it is an error naming the field, so a
 * container never runs with less (or other) than its config.json says. */
#include "internal.h"

#include <linux/mount.h>
#include <sched.h>
#include <string.h>

static int bad(struct berr *err, const char *what)
{
    return berr_set(err, BERR_FAILED, OCI_FILE ": %s", what);
}

/* Each key of obj one of allowed (NULL-terminated). */
static int only_keys(yajl_val obj, const char *const *allowed, const char *where, struct berr *err)
{
    if (!obj)
        return 0;
    if (!YAJL_IS_OBJECT(obj))
        return berr_set(err, BERR_FAILED, OCI_FILE ": %s is not an object", where);
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        const char *const *a = allowed;
        while (*a && strcmp(*a, k))
            a++;
        if (!*a)
            return berr_set(err, BERR_FAILED, OCI_FILE ": %s.%s: berth does not apply it", where,
                            k);
    }
    return 0;
}

static bool json_id(yajl_val v, unsigned *out)
{
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > UINT32_MAX - 1)
        return false;
    *out = (unsigned)YAJL_GET_INTEGER(v);
    return true;
}

static bool json_ll(yajl_val obj, const char *key, long long *out)
{
    yajl_val v = json_get(obj, key);
    if (!v)
        return true;
    if (!YAJL_IS_INTEGER(v))
        return false;
    *out = YAJL_GET_INTEGER(v);
    return true;
}

static int read_user(yajl_val user, bool bundle, struct creds *c, struct berr *err)
{
    static const char *const keys[] = {"uid", "gid", "additionalGids", NULL};
    /* a bundle may state the umask berth's init sets anyway */
    static const char *const bundle_keys[] = {"uid", "gid", "additionalGids", "umask", NULL};
    if (only_keys(user, bundle ? bundle_keys : keys, "process.user", err) < 0)
        return -1;
    yajl_val umask = json_get(user, "umask");
    if (umask && (!YAJL_IS_INTEGER(umask) || YAJL_GET_INTEGER(umask) != 022))
        return bad(err, "process.user.umask: berth's init sets 022 (18) only");
    unsigned uid, gid;
    if (!json_id(json_get(user, "uid"), &uid) || !json_id(json_get(user, "gid"), &gid))
        return bad(err, "process.user has no uid or gid");
    c->uid = uid;
    c->gid = gid;
    yajl_val groups = json_get(user, "additionalGids");
    for (size_t i = 0; YAJL_IS_ARRAY(groups) && i < groups->u.array.len; i++) {
        unsigned g;
        if (!json_id(groups->u.array.values[i], &g))
            return bad(err, "bad process.user.additionalGids");
        c->groups = xrealloc(c->groups, (c->ngroups + 1) * sizeof(gid_t));
        c->groups[c->ngroups++] = g;
    }
    return 0;
}

static int cap_list(yajl_val caps, const char *set, struct cap_set *out, struct berr *err)
{
    *out = (struct cap_set){0};
    yajl_val v = json_get(caps, set);
    for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
        yajl_val name = v->u.array.values[i];
        cap_value_t c;
        if (!YAJL_IS_STRING(name) || cap_from_name(name->u.string, &c) < 0 || c > CAP_LAST_CAP)
            return berr_set(err, BERR_FAILED, OCI_FILE ": process.capabilities.%s: unknown %s", set,
                            YAJL_IS_STRING(name) ? name->u.string : "entry");
        out->bits[c / 32] |= 1u << (c % 32);
    }
    return 0;
}

/* caps.c keeps one set as bounding, effective and permitted, and clears the other two
 * (CVE-2022-24769): a description with other sets is one berth cannot run. */
static int read_caps(yajl_val caps, struct cap_set *out, struct berr *err)
{
    static const char *const keys[] = {"bounding",    "effective", "permitted",
                                       "inheritable", "ambient",   NULL};
    if (only_keys(caps, keys, "process.capabilities", err) < 0 ||
        cap_list(caps, "bounding", out, err) < 0)
        return -1;
    static const struct {
        const char *name;
        bool same; /* as bounding; else empty */
    } sets[] = {
        {"effective", true}, {"permitted", true}, {"inheritable", false}, {"ambient", false}};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        struct cap_set s;
        if (cap_list(caps, sets[i].name, &s, err) < 0)
            return -1;
        struct cap_set want = sets[i].same ? *out : (struct cap_set){0};
        if (memcmp(&s, &want, sizeof(s)))
            return berr_set(err, BERR_FAILED,
                            OCI_FILE ": process.capabilities.%s: berth applies %s", sets[i].name,
                            sets[i].same ? "the bounding set" : "none");
    }
    return 0;
}

static int read_process(yajl_val p, struct oci_config *c, struct berr *err)
{
    static const char *const keys[] = {
        "terminal", "user", "args", "env", "cwd", "capabilities", "noNewPrivileges", NULL};
    /* no "rlimits": berth sets none (see oci.c); berth-oci sets a bundle's (bundleconf.c) */
    static const char *const bundle_keys[] = {
        "terminal",        "user",    "args", "env", "cwd", "capabilities",
        "noNewPrivileges", "rlimits", NULL};
    if (!YAJL_IS_OBJECT(p))
        return bad(err, "no process");
    if (only_keys(p, c->bind_root ? bundle_keys : keys, "process", err) < 0)
        return -1;
    /* a bundle's terminal is a pty the init makes, its master handed over the console socket
     * (bundle.c checks that create was given one) */
    c->terminal = YAJL_IS_TRUE(json_get(p, "terminal"));
    if (c->terminal && !c->bind_root)
        return bad(err, "process.terminal: berth gives no terminal");
    json_get_strv(p, "args", &c->args);
    json_get_strv(p, "env", &c->env);
    const char *cwd = json_get_str(p, "cwd");
    if (!cwd || cwd[0] != '/')
        return bad(err, "process.cwd is not an absolute path");
    c->cwd = xstrdup(cwd);
    if (read_user(json_get(p, "user"), c->bind_root != NULL, &c->creds, err) < 0 ||
        read_caps(json_get(p, "capabilities"), &c->caps, err) < 0)
        return -1;
    ssize_t home = strv_find_env(&c->env, "HOME=");
    c->creds.home = xstrdup(home >= 0 ? c->env.v[home] + strlen("HOME=") : "/");
    c->no_new_privs = YAJL_IS_TRUE(json_get(p, "noNewPrivileges"));
    return 0;
}

static int read_root(yajl_val root, struct oci_config *c, struct berr *err)
{
    static const char *const keys[] = {"path", "readonly", NULL};
    if (only_keys(root, keys, "root", err) < 0)
        return -1;
    const char *path = json_get_str(root, "path");
    if (!path || path[0] != '/')
        return bad(err, "root.path is not an absolute path");
    c->root_path = xstrdup(path);
    c->root_readonly = YAJL_IS_TRUE(json_get(root, "readonly"));
    return 0;
}

/* ---- mounts ---------------------------------------------------------------------------- */

struct mount_entry {
    const char *dest, *type, *source;
    struct strv options;
};

static int read_mount(yajl_val m, struct mount_entry *e, struct berr *err)
{
    static const char *const keys[] = {"destination", "type", "source", "options", NULL};
    if (only_keys(m, keys, "mounts[]", err) < 0)
        return -1;
    e->dest = json_get_str(m, "destination");
    e->type = json_get_str(m, "type");
    e->source = json_get_str(m, "source");
    if (!e->dest || e->dest[0] != '/' || !e->type || !e->source)
        return bad(err, "a mount without an absolute destination, a type or a source");
    json_get_strv(m, "options", &e->options);
    return 0;
}

static bool strv_equal(const struct strv *a, const struct strv *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i], b->v[i]))
            return false;
    }
    return true;
}

/* A bind as mounts/ makes one: recursive, private, read-only or not. */
static int bind_readonly(const struct mount_entry *e, bool *ro, struct berr *err)
{
    const struct strv *o = &e->options;
    *ro = o->n == 3 && !strcmp(o->v[2], "ro");
    if ((o->n == 2 || *ro) && !strcmp(o->v[0], "rbind") && !strcmp(o->v[1], "rprivate"))
        return 0;
    return berr_set(err, BERR_FAILED,
                    OCI_FILE ": mount %s: berth binds with \"rbind\", \"rprivate\" and "
                             "optionally \"ro\", no other options",
                    e->dest);
}

/* One of berth's /etc files: a bind of <dir_path>/<name> on /etc/<name>. */
static ssize_t etc_file_index(const struct mount_entry *e, const char *dir_path)
{
    size_t dl = dir_path ? strlen(dir_path) : 0;
    if (!dir_path || strncmp(e->source, dir_path, dl) || e->source[dl] != '/' ||
        !str_has_prefix(e->dest, "/etc/"))
        return -1;
    for (size_t i = 0; i < mounts_netc_files; i++) {
        if (!strcmp(e->source + dl + 1, mounts_etc_files[i]) &&
            !strcmp(e->dest + strlen("/etc/"), mounts_etc_files[i]))
            return (ssize_t)i;
    }
    return -1;
}

static bool bound_on(const struct oci_config *c, const char *dest)
{
    for (size_t i = 0; i < c->nbinds; i++) {
        if (!strcmp(c->binds[i].dest, dest))
            return true;
    }
    return false;
}

/* The binds first: which defaults and /etc files they replace decides what else must be
 * listed. */
/* mounts/ mounts the binds shallowest first: listed in another order, they would not be
 * mounted as listed */
static int check_bind_order(const struct oci_config *c, struct berr *err)
{
    _cleanup_free_ const struct mount_bind **order = mounts_binds_by_depth(c->binds, c->nbinds);
    for (size_t i = 0; i < c->nbinds; i++) {
        if (order[i] != &c->binds[i])
            return berr_set(err, BERR_FAILED,
                            OCI_FILE ": mount %s: binds must be listed shallowest first",
                            c->binds[i].dest);
    }
    return 0;
}

static int read_binds(struct mount_entry *e, size_t n, const char *dir_path, struct oci_config *c,
                      struct berr *err)
{
    for (size_t i = 0; i < n; i++) {
        bool ro;
        if (strcmp(e[i].type, "bind") || etc_file_index(&e[i], dir_path) >= 0)
            continue;
        _cleanup_free_ char *dest = path_clean(e[i].dest);
        if (e[i].source[0] != '/' || !strcmp(dest, "/"))
            return berr_set(err, BERR_FAILED, OCI_FILE ": mount %s: bad bind", e[i].dest);
        if (bind_readonly(&e[i], &ro, err) < 0)
            return -1;
        c->binds = xrealloc(c->binds, (c->nbinds + 1) * sizeof(*c->binds));
        c->binds[c->nbinds++] = (struct mount_bind){
            .source = xstrdup(e[i].source), .dest = steal_ptr(&dest), .readonly = ro};
    }
    return check_bind_order(c, err);
}

/* docker's defaults as mounts/ makes them, in its order, except where a bind replaces one;
 * and each of the /etc files once, unless a bind replaces it. */
static int check_generated(struct mount_entry *e, size_t n, const char *dir_path,
                           struct oci_config *c, struct berr *err)
{
    size_t next = 0;
    _cleanup_free_ bool *etc_seen = xcalloc(mounts_netc_files, sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        ssize_t etc = strcmp(e[i].type, "bind") ? -1 : etc_file_index(&e[i], dir_path);
        if (etc >= 0) {
            bool ro;
            if (etc_seen[etc] || bound_on(c, e[i].dest))
                return berr_set(err, BERR_FAILED, OCI_FILE ": mount %s: listed twice", e[i].dest);
            if (bind_readonly(&e[i], &ro, err) < 0)
                return -1;
            if (ro != c->root_readonly)
                return berr_set(err, BERR_FAILED,
                                OCI_FILE ": mount %s: read-only exactly when the root is",
                                e[i].dest);
            etc_seen[etc] = true;
            continue;
        }
        if (!strcmp(e[i].type, "bind"))
            continue;
        while (next < mounts_ndefault_fs && bound_on(c, mounts_default_fs[next].dest))
            next++;
        const struct mounts_fs *want = next < mounts_ndefault_fs ? &mounts_default_fs[next] : NULL;
        _cleanup_strv_ struct strv opts = {0};
        if (want)
            oci_default_mount_options(want, &opts);
        if (!want || strcmp(e[i].dest, want->dest) || strcmp(e[i].type, want->fstype) ||
            strcmp(e[i].source, want->source) || !strv_equal(&e[i].options, &opts))
            return berr_set(err, BERR_FAILED,
                            OCI_FILE ": mount %s (%s): berth mounts docker's defaults as it "
                                     "lists them, in its order, and binds",
                            e[i].dest, e[i].type);
        next++;
    }
    while (next < mounts_ndefault_fs && bound_on(c, mounts_default_fs[next].dest))
        next++;
    if (next < mounts_ndefault_fs)
        return berr_set(err, BERR_FAILED, OCI_FILE ": no mount on %s: berth always makes it",
                        mounts_default_fs[next].dest);
    /* a bundle brings its own /etc: berth's files are bound only where it lists them */
    for (size_t i = 0; !c->bind_root && i < mounts_netc_files; i++) {
        _cleanup_free_ char *dest = xasprintf("/etc/%s", mounts_etc_files[i]);
        if (!etc_seen[i] && !bound_on(c, dest))
            return berr_set(err, BERR_FAILED, OCI_FILE ": no mount on %s: berth always makes it",
                            dest);
    }
    bool any_etc = false;
    for (size_t i = 0; i < mounts_netc_files; i++)
        any_etc |= etc_seen[i];
    if (!c->bind_root || any_etc)
        c->etc_dir = xstrdup(dir_path ? dir_path : "/");
    return 0;
}

/* ---- a bundle's mounts (berth-oci) --------------------------------------------------------
 * Kernel filesystems with the options the bundle gives, binds with nosuid/noexec/nodev and
 * "bind" (not recursive) besides berth's own; mounts/ mounts the filesystems first, in the
 * bundle's order, then the binds shallowest first: a listing whose result that order would
 * change is refused, as is every other type. */

static const struct {
    const char *name;
    unsigned long ms;
    unsigned attr; /* on a bind; 0: not for binds */
} mount_flags[] = {
    {"nosuid", MS_NOSUID, MOUNT_ATTR_NOSUID},
    {"noexec", MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {"nodev", MS_NODEV, MOUNT_ATTR_NODEV},
    {"strictatime", MS_STRICTATIME, 0},
    {"relatime", MS_RELATIME, 0},
    {"noatime", MS_NOATIME, 0},
};

static ssize_t mount_flag(const char *o)
{
    for (size_t i = 0; i < ARRAY_SIZE(mount_flags); i++) {
        if (!strcmp(mount_flags[i].name, o))
            return (ssize_t)i;
    }
    return -1;
}

/* the kernel filesystems berth-oci mounts, and where the fixed ones go */
static bool bundle_fs_type(const char *type, const char *dest)
{
    static const char *const fixed[][2] = {
        {"proc", "/proc"}, {"sysfs", "/sys"}, {"devpts", "/dev/pts"}, {"mqueue", "/dev/mqueue"}};
    if (!strcmp(type, "tmpfs"))
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
        if (!strcmp(type, fixed[i][0]))
            return !strcmp(dest, fixed[i][1]);
    }
    return false;
}

static int bundle_fs(const struct mount_entry *e, const char *dest, struct oci_config *c,
                     struct berr *err)
{
    if (!bundle_fs_type(e->type, dest))
        return berr_set(err, BERR_FAILED,
                        OCI_FILE ": mount %s (%s): berth-oci mounts proc on /proc, sysfs on "
                                 "/sys, devpts on /dev/pts, mqueue on /dev/mqueue, tmpfs and binds",
                        e->dest, e->type);
    unsigned long flags = 0;
    struct strv data = {0};
    for (size_t i = 0; i < e->options.n; i++) {
        const char *o = e->options.v[i];
        ssize_t f = mount_flag(o);
        if (f >= 0)
            flags |= mount_flags[f].ms;
        else if (!strcmp(o, "ro"))
            flags |= MS_RDONLY;
        else if (!strcmp(o, "rw") || !strcmp(o, "rprivate") || !strcmp(o, "private"))
            continue; /* everything in the container's namespace is private already */
        else if (strchr(o, ',') || !strcmp(o, "remount") || !strcmp(o, "bind") ||
                 !strcmp(o, "rbind") || strstr(o, "shared") || strstr(o, "slave") ||
                 /* runc's and crun's own, not the kernel's */
                 strstr(o, "tmpcopyup") || strstr(o, "idmap") || !strcmp(o, "copy-symlink"))
            return berr_set(err, BERR_FAILED, OCI_FILE ": mount %s: option %s: not applied",
                            e->dest, o);
        else
            strv_push(&data, o); /* the filesystem's own: the kernel takes it or fails */
    }
    c->fs = xrealloc(c->fs, (c->nfs + 1) * sizeof(*c->fs));
    _cleanup_free_ char *joined = strv_join(&data, ",");
    strv_free(&data);
    strv_push(&c->fs_strings, dest);
    const char *d = c->fs_strings.v[c->fs_strings.n - 1];
    strv_push(&c->fs_strings, e->type);
    const char *t = c->fs_strings.v[c->fs_strings.n - 1];
    strv_push(&c->fs_strings, e->source);
    const char *src = c->fs_strings.v[c->fs_strings.n - 1];
    const char *dt = NULL;
    if (*joined) {
        strv_push(&c->fs_strings, joined);
        dt = c->fs_strings.v[c->fs_strings.n - 1];
    }
    c->fs[c->nfs++] =
        (struct mounts_fs){.dest = d, .fstype = t, .source = src, .flags = flags, .data = dt};
    return 0;
}

/* dest is taken over, also on failure */
static int bundle_bind(const struct mount_entry *e, char *dest, struct oci_config *c,
                       struct berr *err)
{
    _cleanup_free_ char *owned = dest;
    struct mount_bind b = {.dest = dest};
    bool bind = false;
    for (size_t i = 0; i < e->options.n; i++) {
        const char *o = e->options.v[i];
        ssize_t f = mount_flag(o);
        if (f >= 0 && mount_flags[f].attr)
            b.attrs |= mount_flags[f].attr;
        else if (!strcmp(o, "ro"))
            b.readonly = true;
        else if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
            bind = true;
            b.single = !strcmp(o, "bind");
        } else if (strcmp(o, "rw") && strcmp(o, "rprivate") && strcmp(o, "private"))
            return berr_set(err, BERR_FAILED,
                            OCI_FILE ": mount %s: bind option %s: berth-oci binds with bind or "
                                     "rbind, private, ro, nosuid, noexec, nodev only",
                            e->dest, o);
    }
    if (!bind || e->source[0] != '/' || !strcmp(dest, "/"))
        return berr_set(err, BERR_FAILED, OCI_FILE ": mount %s: bad bind", e->dest);
    b.source = xstrdup(e->source);
    owned = NULL;
    c->binds = xrealloc(c->binds, (c->nbinds + 1) * sizeof(*c->binds));
    c->binds[c->nbinds++] = b;
    return 0;
}

static bool has_option(const struct strv *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++) {
        if (!strcmp(o->v[i], name))
            return true;
    }
    return false;
}

static bool path_related(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;
    return !strncmp(a, b, l) && (la == lb || (la < lb ? b[l] : a[l]) == '/' || l == 1);
}

static int read_bundle_mounts(struct mount_entry *e, size_t n, struct oci_config *c,
                              struct berr *err)
{
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *dest = path_clean(e[i].dest);
        bool is_bind = !strcmp(e[i].type, "bind") || has_option(&e[i].options, "bind") ||
                       has_option(&e[i].options, "rbind");
        if (is_bind ? bundle_bind(&e[i], steal_ptr(&dest), c, err) < 0
                    : bundle_fs(&e[i], dest, c, err) < 0)
            return -1;
        if (is_bind)
            continue;
        for (size_t b = 0; b < c->nbinds; b++) {
            if (path_related(c->binds[b].dest, c->fs[c->nfs - 1].dest))
                return berr_set(err, BERR_FAILED,
                                OCI_FILE ": mount %s: listed after the bind on %s, which "
                                         "berth-oci mounts after it",
                                e[i].dest, c->binds[b].dest);
        }
    }
    if (check_bind_order(c, err) < 0)
        return -1;
    /* berth makes /dev's nodes and masks paths under /proc and /sys in these */
    static const char *const needed[][2] = {
        {"/proc", "proc"}, {"/dev", "tmpfs"}, {"/dev/pts", "devpts"}, {"/sys", "sysfs"}};
    for (size_t k = 0; k < ARRAY_SIZE(needed); k++) {
        bool found = bound_on(c, needed[k][0]);
        for (size_t i = 0; !found && i < c->nfs; i++)
            found = !strcmp(c->fs[i].dest, needed[k][0]) && !strcmp(c->fs[i].fstype, needed[k][1]);
        if (!found)
            return berr_set(err, BERR_FAILED, OCI_FILE ": no %s mount on %s: berth-oci needs it",
                            needed[k][1], needed[k][0]);
    }
    return 0;
}

static int read_mounts(yajl_val mounts, const char *dir_path, struct oci_config *c,
                       struct berr *err)
{
    size_t n = YAJL_IS_ARRAY(mounts) ? mounts->u.array.len : 0;
    struct mount_entry *e = xcalloc(n + 1, sizeof(*e));
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = read_mount(mounts->u.array.values[i], &e[i], err);
    if (rc == 0 && c->bind_root)
        rc = read_bundle_mounts(e, n, c, err);
    if (rc == 0 && !c->bind_root)
        rc = read_binds(e, n, dir_path, c, err);
    if (rc == 0 && !c->bind_root)
        rc = check_generated(e, n, dir_path, c, err);
    for (size_t i = 0; i < n; i++)
        strv_free(&e[i].options);
    free(e);
    return rc;
}

/* ---- linux ------------------------------------------------------------------------------ */

static int read_namespaces(yajl_val list, int *out, struct berr *err)
{
    static const struct {
        const char *type;
        int flag;
    } kinds[] = {{"mount", CLONE_NEWNS},
                 {"pid", CLONE_NEWPID},
                 {"uts", CLONE_NEWUTS},
                 {"ipc", CLONE_NEWIPC},
                 {"network", CLONE_NEWNET}};
    *out = 0;
    for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
        yajl_val ns = list->u.array.values[i];
        const char *type = json_get_str(ns, "type");
        size_t k = 0;
        while (type && k < ARRAY_SIZE(kinds) && strcmp(type, kinds[k].type))
            k++;
        if (!type || k == ARRAY_SIZE(kinds) || json_get(ns, "path"))
            return berr_set(err, BERR_FAILED,
                            OCI_FILE ": linux.namespaces: %s%s: berth makes new mount, pid, "
                                     "uts, ipc and network namespaces only",
                            type ? type : "?", json_get(ns, "path") ? " with a path" : "");
        *out |= kinds[k].flag;
    }
    /* pid 1, its private mounts and its own hostname are what the rest of berth stands on */
    const int always = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if ((*out & always) != always)
        return bad(err, "linux.namespaces: berth needs mount, pid, uts and ipc");
    return 0;
}

/* runc adds its default devices (the same as berth's rules) after a bundle's list: a bundle's
 * lone "deny everything" is berth's rules as runc applies it. */
static bool devices_deny_all(yajl_val devices)
{
    yajl_val d =
        YAJL_IS_ARRAY(devices) && devices->u.array.len == 1 ? devices->u.array.values[0] : NULL;
    const char *access = json_get_str(d, "access");
    return YAJL_IS_OBJECT(d) && d->u.object.len == 2 && YAJL_IS_FALSE(json_get(d, "allow")) &&
           access && !strcmp(access, "rwm");
}

static int read_resources(yajl_val r, bool bundle, struct cgroup_limits *l, struct berr *err)
{
    static const char *const keys[] = {"devices", "cpu", "memory", "pids", NULL};
    static const char *const cpu_keys[] = {"shares", "quota", "period", "cpus", "mems", NULL};
    static const char *const mem_keys[] = {"limit", "swap", NULL};
    static const char *const pids_keys[] = {"limit", NULL};
    yajl_val cpu = json_get(r, "cpu"), mem = json_get(r, "memory"), pids = json_get(r, "pids");
    if (only_keys(r, keys, "linux.resources", err) < 0 ||
        only_keys(cpu, cpu_keys, "linux.resources.cpu", err) < 0 ||
        only_keys(mem, mem_keys, "linux.resources.memory", err) < 0 ||
        only_keys(pids, pids_keys, "linux.resources.pids", err) < 0)
        return -1;
    /* cgroup/ always writes its device policy */
    yajl_val devices = json_get(r, "devices");
    if (!oci_devices_are_berths(devices) && !(bundle && devices_deny_all(devices)))
        return bad(err, "linux.resources.devices: berth applies docker's device rules only");
    /* the resolved values, which cgroup_limits_resolve leaves as they are */
    if (!json_ll(cpu, "shares", &l->cpu_shares) || !json_ll(cpu, "quota", &l->cpu_quota) ||
        !json_ll(cpu, "period", &l->cpu_period) || !json_ll(mem, "limit", &l->memory) ||
        !json_ll(mem, "swap", &l->memory_swap) || !json_ll(pids, "limit", &l->pids_limit))
        return bad(err, "linux.resources: a value is not an integer");
    const char *cpus = json_get_str(cpu, "cpus"), *mems = json_get_str(cpu, "mems");
    l->cpuset_cpus = cpus ? xstrdup(cpus) : NULL;
    l->cpuset_mems = mems ? xstrdup(mems) : NULL;
    if (l->memory_swap && l->memory <= 0)
        return bad(err, "linux.resources.memory: swap without a limit");
    return 0;
}

int oci_cgroups_path_split(const char *path, char **parent, char **name, struct berr *err)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!path || path[0] != '/' || !slash[1])
        return berr_set(err, BERR_FAILED, OCI_FILE ": linux.cgroupsPath %s: not /<parent>/<name>",
                        path ? path : "(none)");
    *parent = slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
    *name = xstrdup(slash + 1);
    return 0;
}

static int read_linux(yajl_val lx, struct oci_config *c, struct berr *err)
{
    static const char *const keys[] = {
        "namespaces", "maskedPaths", "readonlyPaths", "resources", "cgroupsPath", "seccomp", NULL};
    /* a bundle's sysctls berth-oci writes (bundleconf.c) */
    static const char *const bundle_keys[] = {"namespaces", "maskedPaths", "readonlyPaths",
                                              "resources",  "cgroupsPath", "seccomp",
                                              "sysctl",     NULL};
    if (!YAJL_IS_OBJECT(lx))
        return bad(err, "no linux");
    if (only_keys(lx, c->bind_root ? bundle_keys : keys, "linux", err) < 0 ||
        read_namespaces(json_get(lx, "namespaces"), &c->namespaces, err) < 0 ||
        read_resources(json_get(lx, "resources"), c->bind_root != NULL, &c->limits, err) < 0 ||
        oci_cgroups_path_split(json_get_str(lx, "cgroupsPath"), &c->cgroup_parent, &c->cgroup_name,
                               err) < 0 ||
        cgroup_parent_check(c->cgroup_parent, err) < 0)
        return -1;
    json_get_strv(lx, "maskedPaths", &c->masked);
    json_get_strv(lx, "readonlyPaths", &c->readonly);
    for (size_t i = 0; i < c->masked.n + c->readonly.n; i++) {
        const char *p = i < c->masked.n ? c->masked.v[i] : c->readonly.v[i - c->masked.n];
        if (p[0] != '/')
            return berr_set(err, BERR_FAILED, OCI_FILE ": linux: %s is not an absolute path", p);
    }
    return 0;
}

/* The compiled filter is loaded, never the profile: a description with a profile but no filter
 * file would run unconfined. */
static int read_annotations(yajl_val doc, struct oci_config *c, struct berr *err)
{
    yajl_val ann = json_get(doc, "annotations");
    const char *layers = json_get_str(ann, OCI_ANN_LAYERS);
    const char *upper = json_get_str(ann, OCI_ANN_UPPER), *work = json_get_str(ann, OCI_ANN_WORK);
    char *save = NULL;
    if (c->bind_root) {
        if (layers || upper || work)
            return bad(err, "annotations: a bundle's root has no layers, upper or work dir");
    } else {
        if (!layers || !*layers || !upper || !work)
            return bad(err,
                       "annotations: no " OCI_ANN_LAYERS ", " OCI_ANN_UPPER " or " OCI_ANN_WORK);
        _cleanup_free_ char *copy = xstrdup(layers);
        for (char *l = strtok_r(copy, ":", &save); l; l = strtok_r(NULL, ":", &save))
            strv_push(&c->layers, l);
        c->upper = xstrdup(upper);
        c->work = xstrdup(work);
    }
    const char *seccomp = json_get_str(ann, OCI_ANN_SECCOMP);
    if (seccomp && (!*seccomp || strchr(seccomp, '/') || seccomp[0] == '.'))
        return bad(err, "annotations: " OCI_ANN_SECCOMP " is not a file of the state directory");
    if (!seccomp && json_get(json_get(doc, "linux"), "seccomp"))
        return bad(err, "linux.seccomp without a compiled filter (" OCI_ANN_SECCOMP ")");
    c->seccomp_file = seccomp ? xstrdup(seccomp) : NULL;
    const char *home = json_get_str(ann, OCI_ANN_HOME);
    c->home_from_passwd = home && !strcmp(home, "passwd");
    const char *groups = json_get_str(ann, OCI_ANN_GROUP_ADD);
    _cleanup_free_ char *gcopy = xstrdup(groups ? groups : "");
    for (char *g = strtok_r(gcopy, ",", &save); g; g = strtok_r(NULL, ",", &save))
        strv_push(&c->group_add, g);
    return 0;
}

/* The root, upper and work dirs are opened by these paths in the container's mount
 * namespace: they must be the container's own scaffold, wherever the description says. */
static int check_scaffold(const struct oci_config *c, const char *dir_path, struct berr *err)
{
    if (!dir_path)
        return 0;
    const struct {
        const char *have, *name;
    } dirs[] = {{c->root_path, "rootfs"}, {c->upper, "upper"}, {c->work, "work"}};
    /* a bundle's root is bound on the scaffold's rootfs: no overlay, no upper or work dir */
    for (size_t i = 0; i < (c->bind_root ? 1 : ARRAY_SIZE(dirs)); i++) {
        _cleanup_free_ char *want = xasprintf("%s/scaffold/%s", dir_path, dirs[i].name);
        if (strcmp(dirs[i].have, want))
            return bad(err, "the root, upper and work dirs are not the container's scaffold");
    }
    return 0;
}

int oci_config_from_tree(yajl_val doc, const char *dir_path, struct oci_config *out,
                         struct berr *err)
{
    static const char *const keys[] = {"ociVersion", "process", "root",        "hostname",
                                       "mounts",     "linux",   "annotations", NULL};
    /* a bundle's hooks are berth-oci's to run (bundleconf.c checks them) */
    static const char *const bundle_keys[] = {"ociVersion", "process",     "root",
                                              "hostname",   "mounts",      "linux",
                                              "hooks",      "annotations", NULL};
    *out = (struct oci_config){0};
    const char *version = json_get_str(doc, "ociVersion");
    if (!version || strncmp(version, "1.", 2))
        return bad(err, "ociVersion is not 1.x");
    const char *hostname = json_get_str(doc, "hostname");
    const char *bind_root = json_get_str(json_get(doc, "annotations"), OCI_ANN_ROOTFS);
    if (bind_root && bind_root[0] != '/')
        return bad(err, "annotations: " OCI_ANN_ROOTFS " is not an absolute path");
    out->bind_root = bind_root ? xstrdup(bind_root) : NULL;
    if (only_keys(doc, bind_root ? bundle_keys : keys, "(top)", err) < 0 ||
        read_process(json_get(doc, "process"), out, err) < 0 ||
        read_root(json_get(doc, "root"), out, err) < 0 ||
        read_linux(json_get(doc, "linux"), out, err) < 0 ||
        read_mounts(json_get(doc, "mounts"), dir_path, out, err) < 0 ||
        read_annotations(doc, out, err) < 0 || check_scaffold(out, dir_path, err) < 0) {
        oci_config_free(out);
        return -1;
    }
    out->hostname = hostname && *hostname ? xstrdup(hostname) : NULL;
    return 0;
}

/* linux.seccomp is the profile in OCI's form, for whoever reads the description; the start
 * loads the compiled filter (seccomp.bpf). Half the document, it is kept as a null: there, so
 * that read_annotations still finds it, and never built. */
static const char *const unread_seccomp[] = {"linux", "seccomp", NULL};

int oci_config_read_at(int dirfd, const char *dir_path, struct oci_config *out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    yajl_val doc = NULL;
    if (read_file_at(dirfd, OCI_FILE, 16 << 20, &text, NULL, err) < 0 ||
        json_parse_except(text, unread_seccomp, &doc, err) < 0)
        return berr_wrap(err, OCI_FILE);
    int rc = oci_config_from_tree(doc, dir_path, out, err);
    yajl_tree_free(doc);
    return rc;
}

int oci_cgroups_read_at(int dirfd, char **parent, char **name, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    yajl_val doc = NULL;
    if (read_file_at(dirfd, OCI_FILE, 16 << 20, &text, NULL, err) < 0 ||
        json_parse(text, &doc, err) < 0)
        return berr_wrap(err, OCI_FILE);
    int rc = oci_cgroups_path_split(json_get_str(json_get(doc, "linux"), "cgroupsPath"), parent,
                                    name, err);
    yajl_tree_free(doc);
    return rc;
}

void oci_config_free(struct oci_config *c)
{
    strv_free(&c->args);
    strv_free(&c->env);
    free(c->cwd);
    creds_free(&c->creds);
    free(c->root_path);
    free(c->hostname);
    for (size_t i = 0; i < c->nbinds; i++)
        mount_bind_free(&c->binds[i]);
    free(c->binds);
    free(c->etc_dir);
    strv_free(&c->masked);
    strv_free(&c->readonly);
    cgroup_limits_free(&c->limits);
    free(c->cgroup_parent);
    free(c->cgroup_name);
    strv_free(&c->layers);
    free(c->upper);
    free(c->work);
    free(c->seccomp_file);
    free(c->bind_root);
    free(c->fs);
    strv_free(&c->fs_strings);
    strv_free(&c->group_add);
    *c = (struct oci_config){0};
}
