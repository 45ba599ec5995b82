/* berth-oci: a bundle's config.json, as create (bundle.c) takes it: checked, turned into the
 * container's description, its seccomp profile compiled, its rlimits and sysctls applied to the
 * init; and runc spec's default config.json. */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int bundle_error(struct berr *err, const char *field, const char *why)
{
    return berr_set(err, BERR_FAILED, "config.json: %s: %s", field, why);
}

/* The root directory: root.path, relative to the bundle (or absolute), resolved now. */
static int bundle_root(const char *bundle, yajl_val doc, char **out, struct berr *err)
{
    const char *path = json_get_str(json_get(doc, "root"), "path");
    if (!path || !*path)
        return bundle_error(err, "root.path", "missing");
    _cleanup_free_ char *joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", bundle, path);
    *out = realpath(joined, NULL);
    if (!*out)
        return berr_errno(err, "config.json: root.path %s", joined);
    struct stat st;
    if (stat(*out, &st) < 0 || !S_ISDIR(st.st_mode))
        return bundle_error(err, "root.path", "not a directory");
    return 0;
}

static void gen_linux(yajl_gen g, yajl_val lx, const char *cgroups_path)
{
    json_str(g, "linux");
    yajl_gen_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(lx) && i < lx->u.object.len; i++) {
        if (!strcmp(lx->u.object.keys[i], "cgroupsPath"))
            continue;
        json_str(g, lx->u.object.keys[i]);
        json_gen_value(g, lx->u.object.values[i]);
    }
    json_key_str(g, "cgroupsPath", cgroups_path);
    yajl_gen_map_close(g);
}

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int runtime_oci_rlimits(yajl_val list, pid_t pid, const char *where, struct berr *err)
{
    if (list && !YAJL_IS_ARRAY(list))
        return berr_set(err, BERR_FAILED, "%s: process.rlimits: not an array", where);
    unsigned seen = 0;
    for (size_t i = 0; list && i < list->u.array.len; i++) {
        yajl_val r = list->u.array.values[i];
        const char *type = json_get_str(r, "type");
        yajl_val soft = json_get(r, "soft"), hard = json_get(r, "hard");
        size_t k = 0;
        while (type && k < ARRAY_SIZE(rlimit_names) && strcmp(rlimit_names[k].name, type))
            k++;
        if (!type || k == ARRAY_SIZE(rlimit_names) || (seen & (1u << k)) ||
            !YAJL_IS_INTEGER(soft) || !YAJL_IS_INTEGER(hard) || YAJL_GET_INTEGER(soft) < 0 ||
            YAJL_GET_INTEGER(hard) < YAJL_GET_INTEGER(soft) || r->u.object.len != 3)
            return berr_set(err, BERR_FAILED,
                            "%s: process.rlimits[%zu]: not a known type (once) with integers "
                            "soft <= hard",
                            where, i);
        seen |= 1u << k;
        struct rlimit lim = {.rlim_cur = (rlim_t)YAJL_GET_INTEGER(soft),
                             .rlim_max = (rlim_t)YAJL_GET_INTEGER(hard)};
        if (pid > 0 && prlimit(pid, rlimit_names[k].resource, &lim, NULL) < 0)
            return berr_errno(err, "%s: process.rlimits: set %s", where, type);
    }
    return 0;
}

/* linux.sysctl: only what the container's own namespaces hold (runc's rule): net.* with a
 * network namespace, the ipc ones, the uts ones. With pid, written from a child that entered
 * the init's network, ipc and uts namespaces (/proc/sys answers for the writer's). */
static bool sysctl_namespaced(const char *key, bool own_net)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                      "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                      "kernel.shmmni", "kernel.shm_rmid_forced"};
    if (strstr(key, "..") || strchr(key, '/') || !*key)
        return false;
    if (str_has_prefix(key, "net."))
        return own_net;
    if (str_has_prefix(key, "fs.mqueue.") || !strcmp(key, "kernel.hostname") ||
        !strcmp(key, "kernel.domainname"))
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(ipc); i++) {
        if (!strcmp(key, ipc[i]))
            return true;
    }
    return false;
}

static bool has_netns(yajl_val doc)
{
    yajl_val ns = json_get(json_get(doc, "linux"), "namespaces");
    for (size_t i = 0; YAJL_IS_ARRAY(ns) && i < ns->u.array.len; i++) {
        const char *t = json_get_str(ns->u.array.values[i], "type");
        if (t && !strcmp(t, "network"))
            return true;
    }
    return false;
}

static int write_sysctls(yajl_val sysctl, pid_t pid, struct berr *err)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return berr_errno(err, "linux.sysctl: the init");
    pid_t child = fork();
    if (child == 0) {
        if (setns(pidfd, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
            _exit(1);
        for (size_t i = 0; i < sysctl->u.object.len; i++) {
            _cleanup_free_ char *path = xasprintf("/proc/sys/%s", sysctl->u.object.keys[i]);
            for (char *p = path + strlen("/proc/sys/"); *p; p++)
                *p = *p == '.' ? '/' : *p;
            const char *v = YAJL_GET_STRING(sysctl->u.object.values[i]);
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write_all(fd, v, strlen(v)) < 0)
                _exit(2 + (int)i);
            close(fd);
        }
        _exit(0);
    }
    close(pidfd);
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) < 0)
        return berr_errno(err, "linux.sysctl");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 2 &&
        (size_t)WEXITSTATUS(status) - 2 < sysctl->u.object.len)
        return berr_set(err, BERR_FAILED, "config.json: linux.sysctl.%s: could not be written",
                        sysctl->u.object.keys[WEXITSTATUS(status) - 2]);
    return berr_set(err, BERR_FAILED, "config.json: linux.sysctl: the container's namespaces");
}

int bundle_sysctls(yajl_val doc, pid_t pid, struct berr *err)
{
    yajl_val sysctl = json_get(json_get(doc, "linux"), "sysctl");
    if (!sysctl)
        return 0;
    if (!YAJL_IS_OBJECT(sysctl))
        return bundle_error(err, "linux.sysctl", "not an object");
    for (size_t i = 0; i < sysctl->u.object.len; i++) {
        if (!YAJL_IS_STRING(sysctl->u.object.values[i]) ||
            !sysctl_namespaced(sysctl->u.object.keys[i], has_netns(doc)))
            return berr_set(err, BERR_FAILED,
                            "config.json: linux.sysctl.%s: not one the container's namespaces "
                            "hold, or not a string",
                            sysctl->u.object.keys[i]);
    }
    return pid > 0 ? write_sysctls(sysctl, pid, err) : 0;
}

/* linux.seccomp in OCI's form is a docker profile without includes: compiled by the same
 * compiler (and cache) into the state directory's filter, which the start loads. What the
 * compiler would not apply (flags, a listener, unknown keys) is refused. */
int bundle_compile_seccomp(const struct runtime_paths *paths, yajl_val doc, int dirfd,
                           struct berr *err)
{
    yajl_val sc = json_get(json_get(doc, "linux"), "seccomp");
    if (!sc)
        return 0;
    static const char *const keys[] = {"defaultAction", "defaultErrnoRet", "architectures",
                                       "syscalls", NULL};
    static const char *const rule_keys[] = {"names", "action", "errnoRet", "args", NULL};
    if (!YAJL_IS_OBJECT(sc))
        return bundle_error(err, "linux.seccomp", "not an object");
    for (size_t i = 0; i < sc->u.object.len; i++) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], sc->u.object.keys[i]))
            k++;
        if (!keys[k])
            return berr_set(err, BERR_FAILED,
                            "config.json: linux.seccomp.%s: berth does not apply it",
                            sc->u.object.keys[i]);
    }
    yajl_val rules = json_get(sc, "syscalls");
    for (size_t i = 0; YAJL_IS_ARRAY(rules) && i < rules->u.array.len; i++) {
        yajl_val r = rules->u.array.values[i];
        for (size_t f = 0; YAJL_IS_OBJECT(r) && f < r->u.object.len; f++) {
            size_t k = 0;
            while (rule_keys[k] && strcmp(rule_keys[k], r->u.object.keys[f]))
                k++;
            if (!rule_keys[k])
                return berr_set(err, BERR_FAILED,
                                "config.json: linux.seccomp.syscalls[%zu].%s: berth does not "
                                "apply it",
                                i, r->u.object.keys[f]);
        }
    }
    yajl_gen g = json_gen_new(false);
    json_gen_value(g, sc);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    struct seccomp_source src = {
        .name = "config.json linux.seccomp", .text = (const char *)buf, .len = len};
    struct seccomp_filter filter = {0};
    int rc = seccomp_filter_get(paths->root, &src, ~0ull, &filter, err);
    yajl_gen_free(g);
    if (rc == 0)
        rc = seccomp_filter_write_at(dirfd, SECCOMP_FILE, &filter, err);
    seccomp_filter_free(&filter);
    return rc;
}

/* runtime-spec's hooks: known kinds, each an absolute path with optional args, env and a
 * positive timeout; berth-oci runs them (launcher/oci/hooks.c). */
static int check_hooks(yajl_val hooks, struct berr *err)
{
    static const char *const kinds[] = {"prestart",       "createRuntime", "createContainer",
                                        "startContainer", "poststart",     "poststop"};
    for (size_t i = 0; hooks && i < (YAJL_IS_OBJECT(hooks) ? hooks->u.object.len : 1); i++) {
        if (!YAJL_IS_OBJECT(hooks))
            return bundle_error(err, "hooks", "not an object");
        const char *kind = hooks->u.object.keys[i];
        yajl_val list = hooks->u.object.values[i];
        size_t k = 0;
        while (k < ARRAY_SIZE(kinds) && strcmp(kinds[k], kind))
            k++;
        if (k == ARRAY_SIZE(kinds))
            return berr_set(err, BERR_FAILED, "config.json: hooks.%s: no such hook", kind);
        for (size_t j = 0; j < (YAJL_IS_ARRAY(list) ? list->u.array.len : 0); j++) {
            yajl_val h = list->u.array.values[j];
            const char *path = json_get_str(h, "path");
            yajl_val timeout = json_get(h, "timeout");
            if (!path || path[0] != '/' ||
                (timeout && (!YAJL_IS_INTEGER(timeout) || YAJL_GET_INTEGER(timeout) <= 0)))
                return berr_set(err, BERR_FAILED,
                                "config.json: hooks.%s[%zu]: no absolute path, or a timeout "
                                "that is not a positive integer",
                                kind, j);
            for (size_t f = 0; f < h->u.object.len; f++) {
                const char *key = h->u.object.keys[f];
                if (strcmp(key, "path") && strcmp(key, "args") && strcmp(key, "env") &&
                    strcmp(key, "timeout"))
                    return berr_set(err, BERR_FAILED,
                                    "config.json: hooks.%s[%zu].%s: berth-oci does not apply it",
                                    kind, j, key);
            }
        }
        if (!YAJL_IS_ARRAY(list))
            return berr_set(err, BERR_FAILED, "config.json: hooks.%s: not an array", kind);
    }
    return 0;
}

/* Everything of the bundle's description as it is, but the root (the scaffold's rootfs, where
 * the bundle's root is bound), berth's annotations and a cgroupsPath under berth's parent when
 * the bundle names none. What berth cannot apply, ociread.c refuses as for any container. */
int bundle_description(const char *bundle, yajl_val doc, const char *dir_path, const char *id64,
                       yajl_gen *out, struct berr *err)
{
    if (!YAJL_IS_OBJECT(doc))
        return bundle_error(err, "(top)", "not an object");
    yajl_val lx = json_get(doc, "linux"), ann = json_get(doc, "annotations");
    const char *cg = json_get_str(lx, "cgroupsPath");
    if (cg && strchr(cg, ':'))
        return bundle_error(err, "linux.cgroupsPath",
                            "systemd's slice:prefix:name form needs --systemd-cgroup, which "
                            "berth-oci does not have");
    for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++) {
        if (str_has_prefix(ann->u.object.keys[i], "io.berth."))
            return berr_set(err, BERR_FAILED, "config.json: annotations.%s: berth's own",
                            ann->u.object.keys[i]);
    }
    _cleanup_free_ char *root = NULL;
    if (check_hooks(json_get(doc, "hooks"), err) < 0 ||
        runtime_oci_rlimits(json_get(json_get(doc, "process"), "rlimits"), 0, OCI_FILE, err) < 0 ||
        bundle_sysctls(doc, 0, err) < 0 || bundle_root(bundle, doc, &root, err) < 0)
        return -1;
    _cleanup_free_ char *cgroups_path =
        cg && *cg ? xstrdup(cg) : xasprintf("%s/%s", RUNTIME_CGROUP_PARENT, id64);
    _cleanup_free_ char *scaffold_root = xasprintf("%s/scaffold/rootfs", dir_path);
    yajl_gen g = json_gen_new(true);
    yajl_gen_map_open(g);
    for (size_t i = 0; i < doc->u.object.len; i++) {
        const char *k = doc->u.object.keys[i];
        if (!strcmp(k, "root") || !strcmp(k, "annotations") || !strcmp(k, "linux"))
            continue;
        json_str(g, k);
        json_gen_value(g, doc->u.object.values[i]);
    }
    json_str(g, "root");
    yajl_gen_map_open(g);
    json_key_str(g, "path", scaffold_root);
    yajl_val ro = json_get(json_get(doc, "root"), "readonly");
    json_key_bool(g, "readonly", YAJL_IS_TRUE(ro));
    yajl_gen_map_close(g);
    if (lx)
        gen_linux(g, lx, cgroups_path);
    json_str(g, "annotations");
    yajl_gen_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++) {
        json_str(g, ann->u.object.keys[i]);
        json_gen_value(g, ann->u.object.values[i]);
    }
    if (json_get(lx, "seccomp"))
        json_key_str(g, OCI_ANN_SECCOMP, SECCOMP_FILE);
    json_key_str(g, OCI_ANN_ROOTFS, root);
    json_key_str(g, OCI_ANN_BUNDLE, bundle);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    *out = g;
    return 0;
}

int bundle_read(const char *bundle_arg, char **bundle, yajl_val *doc, struct berr *err)
{
    *bundle = realpath(bundle_arg, NULL);
    if (!*bundle)
        return berr_errno(err, "bundle %s", bundle_arg);
    _cleanup_close_ int dir = open(*bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return berr_errno(err, "bundle %s", *bundle);
    _cleanup_free_ char *text = NULL;
    if (read_file_at(dir, OCI_FILE, 16 << 20, &text, NULL, err) < 0 ||
        json_parse(text, doc, err) < 0)
        return berr_wrap(err, "bundle %s: " OCI_FILE, *bundle);
    return 0;
}

/* runc spec's default, in the form berth applies: docker's mounts, masked and read-only paths
 * and device rules, the namespaces berth makes, no rlimits. */
yajl_gen runtime_oci_default_spec(void)
{
    yajl_gen g = json_gen_new(true);
    yajl_gen_map_open(g);
    json_key_str(g, "ociVersion", OCI_VERSION);
    json_str(g, "process");
    yajl_gen_map_open(g);
    json_key_bool(g, "terminal", false);
    json_str(g, "user");
    yajl_gen_map_open(g);
    json_key_int(g, "uid", 0);
    json_key_int(g, "gid", 0);
    yajl_gen_map_close(g);
    struct strv args = {0}, env = {0}, caps = {0};
    strv_push(&args, "sh");
    strv_push(&env, "PATH=" DEFAULT_PATH);
    strv_push(&env, "TERM=xterm");
    json_key_strv(g, "args", &args);
    json_key_strv(g, "env", &env);
    json_key_str(g, "cwd", "/");
    strv_push(&caps, "CAP_AUDIT_WRITE");
    strv_push(&caps, "CAP_KILL");
    strv_push(&caps, "CAP_NET_BIND_SERVICE");
    json_str(g, "capabilities");
    yajl_gen_map_open(g);
    json_key_strv(g, "bounding", &caps);
    json_key_strv(g, "effective", &caps);
    json_key_strv(g, "permitted", &caps);
    yajl_gen_map_close(g);
    strv_free(&args);
    strv_free(&env);
    strv_free(&caps);
    json_key_bool(g, "noNewPrivileges", true);
    yajl_gen_map_close(g);
    json_str(g, "root");
    yajl_gen_map_open(g);
    json_key_str(g, "path", "rootfs");
    json_key_bool(g, "readonly", true);
    yajl_gen_map_close(g);
    json_key_str(g, "hostname", "berth-oci");
    json_str(g, "mounts");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < mounts_ndefault_fs; i++) {
        const struct mounts_fs *m = &mounts_default_fs[i];
        struct strv opts = {0};
        oci_default_mount_options(m, &opts);
        yajl_gen_map_open(g);
        json_key_str(g, "destination", m->dest);
        json_key_str(g, "type", m->fstype);
        json_key_str(g, "source", m->source);
        json_key_strv(g, "options", &opts);
        yajl_gen_map_close(g);
        strv_free(&opts);
    }
    yajl_gen_array_close(g);
    json_str(g, "linux");
    yajl_gen_map_open(g);
    json_str(g, "resources");
    yajl_gen_map_open(g);
    oci_gen_device_rules(g);
    yajl_gen_map_close(g);
    json_str(g, "namespaces");
    yajl_gen_array_open(g);
    static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount"};
    for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
        yajl_gen_map_open(g);
        json_key_str(g, "type", ns[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    struct strv masked = {0}, ro = {0};
    mounts_masked_paths_here(&masked);
    for (size_t i = 0; i < mounts_nreadonly_paths; i++)
        strv_push(&ro, mounts_readonly_paths[i]);
    json_key_strv(g, "maskedPaths", &masked);
    json_key_strv(g, "readonlyPaths", &ro);
    strv_free(&masked);
    strv_free(&ro);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    return g;
}
