/* berth-oci: the runtime spec's lifecycle over berth's runtime. create turns the bundle's
 * config.json into the container's description (the same file berth's own containers have,
 * the bundle's root bound instead of image layers) in a state directory named by a random id,
 * the OCI id being its name; a monitor forked from create starts the container, whose init
 * waits at the exec fifo (init.c's start_gate_wait) until `start`; the monitor then waits for
 * it, records the exit and drops its cgroups. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define EXEC_FIFO "exec.fifo"
#define OCI_ANN_BUNDLE "io.berth.bundle"

/* ---- the bundle's config.json as the container's description ---------------------------- */

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

int runtime_oci_rlimit(const char *name)
{
    for (size_t k = 0; k < ARRAY_SIZE(rlimit_names); k++) {
        if (!strcmp(rlimit_names[k].name, name))
            return rlimit_names[k].resource;
    }
    return -1;
}

/* process.rlimits: each a known type once, soft ≤ hard (both unsigned integers). With pid,
 * set on that process (the init, before its execve: the limits cross it). */
static int rlimits(yajl_val list, pid_t pid, struct berr *err)
{
    if (list && !YAJL_IS_ARRAY(list))
        return bundle_error(err, "process.rlimits", "not an array");
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
                            "config.json: process.rlimits[%zu]: not a known type (once) with "
                            "integers soft <= hard",
                            i);
        seen |= 1u << k;
        struct rlimit lim = {.rlim_cur = (rlim_t)YAJL_GET_INTEGER(soft),
                             .rlim_max = (rlim_t)YAJL_GET_INTEGER(hard)};
        if (pid > 0 && prlimit(pid, rlimit_names[k].resource, &lim, NULL) < 0)
            return berr_errno(err, "config.json: process.rlimits: set %s", type);
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

static int sysctls(yajl_val doc, pid_t pid, struct berr *err)
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
static int compile_seccomp(const struct runtime_paths *paths, yajl_val doc, int dirfd,
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
static int bundle_description(const char *bundle, yajl_val doc, const char *dir_path,
                              const char *id64, yajl_gen *out, struct berr *err)
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
        rlimits(json_get(json_get(doc, "process"), "rlimits"), 0, err) < 0 ||
        sysctls(doc, 0, err) < 0 || bundle_root(bundle, doc, &root, err) < 0)
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

static int read_bundle(const char *bundle_arg, char **bundle, yajl_val *doc, struct berr *err)
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

/* The state directory as create.c makes one, with the bundle's description; checked by the
 * same strict reader the start uses, so that a field berth cannot honour fails create. */
static int make_container(const struct runtime_paths *paths, const char *oci_id, const char *bundle,
                          yajl_val doc, struct container *c, struct berr *err)
{
    c->runrootfd = runtime_open_root(paths->runroot, err);
    if (c->runrootfd < 0 || random_id(c->st.id, err) < 0)
        return -1;
    c->name = xstrdup(oci_id);
    if (name_reserve(c->runrootfd, c->name, c->st.id, err) < 0) {
        free(c->name);
        c->name = NULL;
        if (err->kind == BERR_CONFLICT)
            berr_set(err, BERR_CONFLICT, "container with id exists: %s", oci_id);
        return -1;
    }
    _cleanup_free_ char *rel = xasprintf("containers/%s", c->st.id);
    if (mkdirat(c->runrootfd, rel, 0700) < 0)
        return berr_errno(err, "create container directory");
    c->dir_path = xasprintf("%s/%s", paths->runroot, rel);
    c->dirfd = openat(c->runrootfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->dirfd < 0) {
        berr_errno(err, "open container directory");
        unlinkat(c->runrootfd, rel, AT_REMOVEDIR);
        return -1;
    }
    c->lockfd = openat(c->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (c->lockfd < 0 || flock(c->lockfd, LOCK_EX) < 0)
        return berr_errno(err, "lock container");
    if (mkdirat(c->dirfd, "scaffold", 0700) < 0)
        return berr_errno(err, "create scaffold");
    _cleanup_close_ int scaffold = openat(c->dirfd, "scaffold", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (scaffold < 0 || mounts_make_scaffold(scaffold, err) < 0)
        return scaffold < 0 ? berr_errno(err, "open scaffold") : -1;
    yajl_gen g = NULL;
    if (compile_seccomp(paths, doc, c->dirfd, err) < 0 ||
        bundle_description(bundle, doc, c->dir_path, c->st.id, &g, err) < 0 ||
        json_gen_write_at(g, c->dirfd, OCI_FILE, err) < 0)
        return -1;
    struct oci_config check;
    if (oci_config_read_at(c->dirfd, c->dir_path, &check, err) < 0)
        return -1;
    oci_config_free(&check);
    c->st.name = c->name;
    c->st.status = STATUS_CREATED;
    clock_gettime(CLOCK_REALTIME, &c->st.created);
    struct container_spec spec = {.name = c->name, .image_ref = (char *)bundle, .image_id = ""};
    json_get_strv(json_get(doc, "process"), "args", &spec.cmd);
    int rc = state_write(c->dirfd, &c->st, err);
    if (rc == 0)
        rc = record_write(c->dirfd, 0, &spec, &c->st, err);
    strv_free(&spec.cmd);
    /* writable by all, as runc's: the init opens it after taking the container's user, through
     * its own fd (/proc/self/fd), the state directory (0700) being out of reach by path */
    if (rc == 0 &&
        (mkfifoat(c->dirfd, EXEC_FIFO, 0622) < 0 || fchmodat(c->dirfd, EXEC_FIFO, 0622, 0) < 0))
        rc = berr_errno(err, "make the exec fifo");
    return rc;
}

/* A failed start, as the monitor reports it: 'E', then the message. */
static void report_failure(int fd, const struct berr *e)
{
    char buf[sizeof(e->msg) + 1];
    int n = snprintf(buf, sizeof(buf), "E%s", e->msg);
    (void)!write(fd, buf, (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1));
}

static __attribute__((noreturn)) void monitor(struct container *c, int report_fd)
{
    setsid();
    signal(SIGPIPE, SIG_IGN);
    struct berr err = {0};
    struct start_gate gate = {.fifo_fd = openat(c->dirfd, EXEC_FIFO, O_PATH | O_CLOEXEC),
                              .ready_fd = report_fd};
    /* the container's stdio is create's caller's, as runc's is */
    struct init_args a = {.interactive = true, .stdio = {-1, -1, -1}, .gate = &gate};
    if (gate.fifo_fd < 0) {
        berr_errno(&err, "open the exec fifo");
        report_failure(report_fd, &err);
        _exit(1);
    }
    if (container_start(c, &a, &err) < 0) {
        report_failure(report_fd, &err);
        c->st.exit_code = runtime_start_exit_code(err.kind);
        c->st.error = err.msg;
        container_record(c, STATUS_EXITED);
        _exit(1);
    }
    /* Running: as under runc, the init goes to the caller's subreaper (conmon, berth-oci run),
     * which reaps it and learns its exit status; delete removes its cgroups. */
    _exit(0);
}

/* The init is the monitor's one child. */
static pid_t child_of(pid_t parent)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
    _cleanup_free_ char *text = NULL;
    struct berr ignored;
    if (read_file_at(AT_FDCWD, path, 4096, &text, NULL, &ignored) < 0)
        return -1;
    long long pid;
    char *sp = strchr(text, ' ');
    if (sp)
        *sp = '\0';
    return parse_long(text, 1, INT32_MAX, &pid) < 0 ? -1 : (pid_t)pid;
}

int runtime_oci_create(const struct runtime_paths *paths, const char *oci_id,
                       const char *bundle_arg, pid_t *pid_out, struct berr *err)
{
    _cleanup_free_ char *bundle = NULL;
    yajl_val doc = NULL;
    if (!runtime_name_valid(oci_id))
        return berr_set(err, BERR_USAGE, "invalid id %s: [a-zA-Z0-9][a-zA-Z0-9_.-]+ only", oci_id);
    if (read_bundle(bundle_arg, &bundle, &doc, err) < 0)
        return -1;
    struct container c = {.runrootfd = -1, .dirfd = -1, .lockfd = -1};
    int rc = make_container(paths, oci_id, bundle, doc, &c, err);
    int rp[2] = {-1, -1};
    if (rc == 0 && pipe2(rp, O_CLOEXEC) < 0)
        rc = berr_errno(err, "pipe");
    pid_t mon = rc == 0 ? fork() : -1;
    if (rc == 0 && mon < 0)
        rc = berr_errno(err, "start the container's monitor");
    if (mon == 0) {
        close(rp[0]);
        monitor(&c, rp[1]);
    }
    if (rp[1] >= 0)
        close(rp[1]);
    char msg[sizeof(err->msg) + 1] = "";
    ssize_t n = 0;
    if (rc == 0) {
        do {
            n = read(rp[0], msg, sizeof(msg) - 1);
        } while (n < 0 && errno == EINTR);
        close(rp[0]);
        if (n == 1 && msg[0] == READY_BYTE) {
            *pid_out = child_of(mon);
            if (*pid_out > 0 &&
                rlimits(json_get(json_get(doc, "process"), "rlimits"), *pid_out, err) == 0 &&
                sysctls(doc, *pid_out, err) == 0 && oci_init_record(c.dirfd, *pid_out, err) == 0) {
                yajl_tree_free(doc);
                container_close(&c);
                return 0;
            }
            if (*pid_out <= 0)
                berr_set(err, BERR_FAILED, "the container's init is gone");
            kill(*pid_out > 0 ? *pid_out : mon, SIGKILL);
        } else if (n > 1 && msg[0] == 'E') {
            msg[n] = '\0';
            berr_set(err, BERR_FAILED, "%s", msg + 1);
        } else {
            berr_set(err, BERR_FAILED, "the container's monitor died before the start");
        }
        yajl_tree_free(doc);
        /* A monitor that got as far as a running init (one that died without a word, which
         * reads as an execve) would wait for it: it goes, and its init with it (pdeathsig).
         * What it made, cgroups included, goes as with delete -f, once its lock is free. */
        kill(mon, SIGKILL);
        waitpid(mon, NULL, 0);
        char id64[65];
        memcpy(id64, c.st.id, sizeof(id64));
        container_close(&c);
        struct berr rm_err = {0};
        if (runtime_remove(paths, id64, true, &rm_err) < 0)
            debugf("berth-oci create: remove %.12s: %s", id64, rm_err.msg);
        return -1;
    }
    yajl_tree_free(doc);
    container_destroy(&c);
    container_close(&c);
    return -1;
}

/* ---- the other commands, by OCI id ---------------------------------------------------- */

int runtime_oci_find(const struct runtime_paths *paths, const char *oci_id, char id64[65],
                     struct berr *err)
{
    struct container_info info;
    /* the id is the name, never an id prefix of another container */
    if (runtime_find(paths, oci_id, id64, err) < 0 || runtime_inspect(paths, id64, &info, err) < 0)
        return berr_set(err, BERR_NOT_FOUND, "container does not exist: %s", oci_id);
    bool same = !strcmp(info.name, oci_id);
    container_info_free(&info);
    if (!same)
        return berr_set(err, BERR_NOT_FOUND, "container does not exist: %s", oci_id);
    return 0;
}

static bool fifo_present(int dirfd)
{
    struct stat st;
    return fstatat(dirfd, EXEC_FIFO, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISFIFO(st.st_mode);
}

void runtime_oci_state_free(struct runtime_oci_state *s)
{
    free(s->bundle);
    free(s->rootfs);
    if (s->description)
        yajl_tree_free(s->description);
    *s = (struct runtime_oci_state){0};
}

/* created: the init waits at the fifo; running: it was let go and lives (the monitor may not
 * have recorded it yet); stopped: no monitor, or an exit recorded. */
int runtime_oci_state(const struct runtime_paths *paths, const char *oci_id,
                      struct runtime_oci_state *out, struct berr *err)
{
    *out = (struct runtime_oci_state){0};
    if (runtime_oci_find(paths, oci_id, out->id64, err) < 0)
        return -1;
    struct container_info info;
    _cleanup_(container_handle_close) struct container_handle h;
    if (container_handle_open(paths, out->id64, &h, err) < 0 ||
        runtime_inspect(paths, out->id64, &info, err) < 0)
        return -1;
    _cleanup_free_ char *text = NULL;
    int rc = read_file_at(h.dir, OCI_FILE, 16 << 20, &text, NULL, err) < 0 ||
                     json_parse(text, &out->description, err) < 0
                 ? -1
                 : 0;
    pid_t init = 0;
    if (!oci_init_alive(h.dir, &init))
        out->status = "stopped";
    else if (fifo_present(h.dir))
        out->status = "created";
    else
        out->status = "running";
    out->pid = init;
    out->created = info.created;
    container_info_free(&info);
    if (rc < 0) {
        runtime_oci_state_free(out);
        return -1;
    }
    yajl_val ann = json_get(out->description, "annotations");
    const char *bundle = json_get_str(ann, OCI_ANN_BUNDLE);
    const char *rootfs = json_get_str(ann, OCI_ANN_ROOTFS);
    out->bundle = xstrdup(bundle ? bundle : "");
    out->rootfs = xstrdup(rootfs ? rootfs : "");
    return 0;
}

int runtime_oci_start(const struct runtime_paths *paths, const char *oci_id, struct berr *err)
{
    struct runtime_oci_state s;
    if (runtime_oci_state(paths, oci_id, &s, err) < 0)
        return -1;
    bool created = !strcmp(s.status, "created");
    pid_t pid = s.pid;
    char id64[65];
    memcpy(id64, s.id64, sizeof(id64));
    const char *status = s.status;
    runtime_oci_state_free(&s);
    if (!created)
        return berr_set(err, BERR_FAILED, "cannot start a container that is %s", status);
    _cleanup_(container_handle_close) struct container_handle h;
    if (container_handle_open(paths, id64, &h, err) < 0)
        return -1;
    _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    _cleanup_close_ int fifo = openat(h.dir, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (pidfd < 0 || fifo < 0)
        return berr_errno(err, "container %s: the exec fifo", oci_id);
    /* the init opens its end once ours is open, then writes; it may die instead */
    struct pollfd p[2] = {{.fd = fifo, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    for (;;) {
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return berr_errno(err, "poll");
        char b;
        if (p[0].revents & POLLIN) {
            if (read(fifo, &b, 1) == 1)
                break;
        }
        if (p[1].revents)
            return berr_set(err, BERR_FAILED, "container %s: the init died before the start",
                            oci_id);
        if (p[0].revents & POLLHUP) /* no writer yet: look again shortly */
            poll(NULL, 0, 1);
    }
    unlinkat(h.dir, EXEC_FIFO, 0);
    return 0;
}

static bool same_pidns(pid_t pid, const struct stat *ns)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
    return stat(path, &st) == 0 && st.st_dev == ns->st_dev && st.st_ino == ns->st_ino;
}

int runtime_oci_pids(const struct runtime_paths *paths, const char *oci_id, pid_t **out, size_t *n,
                     struct berr *err)
{
    *out = NULL;
    *n = 0;
    struct runtime_oci_state s;
    if (runtime_oci_state(paths, oci_id, &s, err) < 0)
        return -1;
    pid_t init = s.pid;
    runtime_oci_state_free(&s);
    if (init <= 0)
        return 0;
    /* the container's processes: those in the init's pid namespace, seen from here */
    char path[64];
    struct stat ns;
    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
    if (stat(path, &ns) < 0)
        return 0;
    _cleanup_closedir_ DIR *d = opendir("/proc");
    if (!d)
        return berr_errno(err, "open /proc");
    struct dirent *de;
    while ((de = readdir(d))) {
        long long pid;
        if (parse_long(de->d_name, 1, INT32_MAX, &pid) < 0 || !same_pidns((pid_t)pid, &ns))
            continue;
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = (pid_t)pid;
    }
    return 0;
}

int runtime_oci_kill(const struct runtime_paths *paths, const char *oci_id, int sig, bool all,
                     struct berr *err)
{
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    struct runtime_oci_state s;
    if (runtime_oci_state(paths, oci_id, &s, err) < 0)
        return -1;
    pid_t init = s.pid;
    bool stopped = !strcmp(s.status, "stopped");
    runtime_oci_state_free(&s);
    if (stopped)
        return berr_set(err, BERR_NOT_RUNNING, "container not running");
    if (all && runtime_oci_pids(paths, oci_id, &pids, &n, err) < 0)
        return -1;
    if (!all) {
        pids = xcalloc(1, sizeof(*pids));
        pids[n++] = init;
    }
    for (size_t i = 0; i < n; i++) {
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            return berr_errno(err, "kill %d", (int)pids[i]);
    }
    return 0;
}

int runtime_oci_delete(const struct runtime_paths *paths, const char *oci_id, bool force,
                       struct berr *err)
{
    struct runtime_oci_state s;
    if (runtime_oci_state(paths, oci_id, &s, err) < 0)
        return -1;
    char id64[65];
    memcpy(id64, s.id64, sizeof(id64));
    bool running = !strcmp(s.status, "running"), created = !strcmp(s.status, "created");
    pid_t init = s.pid;
    runtime_oci_state_free(&s);
    if (running && !force)
        return berr_set(err, BERR_CONFLICT,
                        "cannot delete container %s that is not stopped: running", oci_id);
    /* a created container never ran its process: runc deletes it as it is */
    if (created && init > 0)
        kill(init, SIGKILL);
    return runtime_remove(paths, id64, true, err);
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
