/* Storm's runc path (storm-interface.md §1.2, §6): run-oci-container, reap-oci-container and
 * profile-oci-container, with berth's runtime in-process where upstream execs runc. The
 * container is a berth-oci one (runtime_oci_create, named by Storm's containerId, recorded as
 * the <user>'s in berth's state root), its bundle the run root's <cid>/ with config.json
 * (ocicfg.c) and the overlay of its squashfs layers as root (ocilayers.c). */
#include "launcher/worker-launcher/wl.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static void paths_of(const struct wl *wl, const struct ident *caller, struct runtime_paths *p)
{
    *p = (struct runtime_paths){.runroot = wl->runroot, .root = wl->root, .caller = caller};
}

/* the pid file must not exist (upstream's check), and the launcher must read the script */
static int check_files(const struct wl *wl, const struct wl_oci *o)
{
    struct berr err = {0};
    if (ident_enter(&wl->launcher, &err) < 0)
        return WL_FAILED;
    struct stat st;
    bool exists = lstat(o->pid_file, &st) == 0;
    ident_leave(&wl->launcher);
    _cleanup_close_ int fd = ident_open(&wl->launcher, o->script, O_RDONLY | O_NONBLOCK, 0, &err);
    if (exists || fd < 0) {
        fprintf(stderr, "ERROR: %s\n", exists ? "the pid file exists already" : err.msg);
        return WL_INVALID_CONFIG_FILE;
    }
    return 0;
}

/* fds 0-2 for the container (runtime_oci_create gives it its caller's): /dev/null and
 * <artifacts>/runc-<cid>.out and .err, made as the <user>, as upstream makes them for runc, so
 * that nothing of the supervisor's pipe stays open in the container; saved[] for restoring */
static int redirect_stdio(const struct wl *wl, const char *artifacts, const char *cid, int saved[3])
{
    struct berr err = {0};
    _cleanup_free_ char *out = xasprintf("%s/runc-%s.out", artifacts, cid);
    _cleanup_free_ char *errf = xasprintf("%s/runc-%s.err", artifacts, cid);
    int flags = O_WRONLY | O_TRUNC | O_CREAT | O_NOFOLLOW;
    _cleanup_close_ int fo = ident_open(&wl->user, out, flags, 0660, &err);
    _cleanup_close_ int fe = fo < 0 ? -1 : ident_open(&wl->user, errf, flags, 0660, &err);
    _cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fo < 0 || fe < 0 || null < 0) {
        fprintf(stderr, "ERROR: Failed to open %s: %s\n", fo < 0 ? out : errf, err.msg);
        return WL_ERROR_OPENING_FILE;
    }
    printf("Redirecting STDOUT and STDERR to %s and %s\n", out, errf);
    fflush(stdout), fflush(stderr);
    int fds[3] = {null, fo, fe};
    for (int i = 0; i < 3; i++) {
        saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
        if (saved[i] < 0 || dup2(fds[i], i) < 0)
            return WL_FAILED;
    }
    return 0;
}

static void restore_stdio(int saved[3])
{
    fflush(stdout), fflush(stderr);
    for (int i = 0; i < 3; i++) {
        if (saved[i] >= 0)
            dup2(saved[i], i), close(saved[i]);
        saved[i] = -1;
    }
}

/* runc writes the pid without a newline; the supervisor (the launcher) reads it */
static int write_pid_file(const struct wl *wl, const char *path, pid_t pid, struct berr *err)
{
    _cleanup_close_ int fd =
        ident_open(&wl->launcher, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644, err);
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
    if (fd < 0 || write_all(fd, buf, (size_t)n) < 0)
        return fd < 0 ? -1 : berr_errno(err, "write %s", path);
    return 0;
}

/* each layer opened and checked before one is mounted, so that a refused one leaves no mount
 * behind; fds[] has a slot per layer */
static int open_layers(const struct wl *wl, struct wl_oci *o, int *fds, struct berr *err)
{
    for (size_t i = 0; i < o->layers.n; i++) {
        if ((fds[i] = wl_oci_open_layer(wl, o->layers.v[i], err)) < 0)
            return -1;
    }
    return 0;
}

static void close_layers(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* layers mounted, the overlay on <cid>/rootfs, the bundle's config.json beside it */
static int prepare(const struct wl *wl, const struct wl_oci *o, const int *fds,
                   struct wl_oci_root *r, struct berr *err)
{
    _cleanup_strv_ struct strv mnts = {0};
    for (size_t i = 0; i < o->layers.n; i++) {
        char *mnt = NULL;
        if (wl_oci_mount_layer(r, o->layers.v[i], fds[i], &mnt, err) < 0) {
            free(mnt);
            return -1;
        }
        strv_push_owned(&mnts, mnt);
    }
    _cleanup_free_ char *rootfs = NULL;
    yajl_gen g = NULL;
    if (wl_oci_mount_rootfs(r, o->cid, &mnts, &rootfs, err) < 0 ||
        wl_oci_bundle_config(wl, o, rootfs, &g, err) < 0)
        return -1;
    _cleanup_close_ int dir = openat(r->fd, o->cid, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) {
        yajl_gen_free(g);
        return berr_errno(err, "%s/%s", r->path, o->cid);
    }
    return json_gen_write_at(g, dir, "config.json", err);
}

int wl_run_oci_container(struct wl *wl, const char *config, const char *artifacts)
{
    struct wl_oci o;
    int rc = wl_oci_read(wl, config, &o);
    if (rc || (rc = check_files(wl, &o)) || (rc = wl_oci_resolve_binds(wl, &o))) {
        wl_oci_free(&o);
        return rc;
    }
    struct berr err = {0};
    struct wl_oci_root r = {.fd = -1, .layers = -1, .lock = -1};
    int *fds = xcalloc(o.layers.n, sizeof(*fds));
    for (size_t i = 0; i < o.layers.n; i++)
        fds[i] = -1;
    struct runtime_paths paths;
    paths_of(wl, &wl->user, &paths);
    int saved[3] = {-1, -1, -1};
    pid_t pid = 0;
    bool created = false, made = false;
    _cleanup_free_ char *bundle = NULL;
    struct stat st;
    if (open_layers(wl, &o, fds, &err) < 0 || wl_oci_run_root(wl, &r, &err) < 0)
        goto fail;
    if (fstatat(r.fd, o.cid, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        berr_set(&err, BERR_CONFLICT, "%s/%s exists already", r.path, o.cid);
        goto fail;
    }
    made = true;
    if (prepare(wl, &o, fds, &r, &err) < 0)
        goto fail;
    /* the loop devices hold the files now; the monitor that create forks must not */
    close_layers(fds, o.layers.n);
    /* The overlay holds its layers now (an unmount by a reap does not take them from it):
     * other launches and reaps may go on. Closed, not unlocked: the monitor that create forks
     * would share the open lock, and a created container's would hold it. */
    close(r.lock);
    r.lock = -1;
    bundle = xasprintf("%s/%s", r.path, o.cid);
    printf("command: berth-oci run -d --pid-file %s -b %s %s \n", o.pid_file, bundle, o.cid);
    if ((rc = redirect_stdio(wl, artifacts, o.cid, saved)))
        goto cleanup;
    rc = WL_ERROR_OCI_RUN_FAILED;
    created =
        runtime_oci_create(&paths, o.cid, bundle,
                           &(struct runtime_oci_create_opts){.console_fd = -1}, &pid, &err) == 0;
    if (!created || runtime_oci_start(&paths, o.cid, &err) < 0)
        goto fail;
    restore_stdio(saved);
    if (write_pid_file(wl, o.pid_file, pid, &err) < 0)
        goto fail;
    printf("Started container %s, pid %d\n", o.cid, (int)pid);
    rc = 0;
    goto out;
fail:
    restore_stdio(saved);
    fprintf(stderr, "ERROR: run-oci-container %s: %s\n", o.cid ? o.cid : "", err.msg);
    rc = WL_ERROR_OCI_RUN_FAILED;
cleanup:
    restore_stdio(saved);
    struct berr ignored = {0};
    /* as root, whoever it is recorded for: a created container's init waits at its fifo,
     * holding the layer mounts, and its monitor the caller's stdout */
    struct runtime_paths all;
    paths_of(wl, NULL, &all);
    if (created)
        runtime_oci_delete(&all, o.cid, true, &ignored);
    if (made)
        wl_oci_remove_rootfs(&r, o.cid, &ignored);
    wl_oci_root_close(&r);
    /* under the lock again: a launch between its layer mounts and its overlay must not lose
     * a layer to this reap */
    if (made && wl_oci_run_root(wl, &r, &ignored) == 0)
        wl_oci_reap_layers(&r, json_get(o.doc, "reapLayerKeepCount")->u.number.i, &ignored);
out:
    wl_oci_root_close(&r);
    close_layers(fds, o.layers.n);
    free(fds);
    wl_oci_free(&o);
    return rc;
}

int wl_reap_oci_container(struct wl *wl, const char *cid, const char *keep_arg)
{
    long long keep;
    if (!wl_oci_id_valid(cid) || parse_long(keep_arg, 0, 1 << 30, &keep) < 0) {
        fprintf(stderr, "ERROR: invalid container id %s or layer count %s\n", cid, keep_arg);
        return WL_INVALID_ARGUMENT_NUMBER;
    }
    struct runtime_paths all, mine;
    paths_of(wl, NULL, &all);
    paths_of(wl, &wl->user, &mine);
    struct berr err = {0};
    char id64[65];
    bool exists = runtime_oci_find(&all, cid, id64, &err) == 0;
    bool own = exists && runtime_oci_find(&mine, cid, id64, &err) == 0;
    if (exists && !own) {
        fprintf(stderr, "ERROR: container %s is not %s's\n", cid, wl->user_name);
        return 1;
    }
    struct wl_oci_root r;
    int rc = 0;
    if (wl_oci_run_root(wl, &r, &err) < 0) {
        fprintf(stderr, "ERROR: %s\n", err.msg);
        wl_oci_root_close(&r);
        return 1;
    }
    /* its processes gone first: then its root can be unmounted */
    if (own && runtime_oci_delete(&mine, cid, true, &err) < 0) {
        fprintf(stderr, "ERROR: delete %s: %s\n", cid, err.msg);
        rc = 1;
    }
    if (wl_oci_remove_rootfs(&r, cid, &err) < 0) {
        fprintf(stderr, "ERROR: %s\n", err.msg);
        rc = 1;
    }
    if (wl_oci_reap_layers(&r, keep, &err) < 0) {
        fprintf(stderr, "ERROR: %s\n", err.msg);
        rc = WL_ERROR_OCI_REAP_LAYER_MOUNTS_FAILED;
    }
    wl_oci_root_close(&r);
    if (!exists && !rc) {
        fprintf(stderr, "container does not exist: %s\n", cid);
        rc = 1; /* as `runc delete` of an unknown id */
    }
    return rc;
}

bool wl_oci_pid_is_init(const struct runtime_paths *paths, pid_t pid)
{
    struct berr err = {0};
    struct container_info *infos = NULL;
    size_t n = 0;
    if (runtime_inspect_all(paths, &infos, &n, NULL, &err) < 0)
        return false;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        struct runtime_oci_state s;
        if (runtime_oci_state(paths, infos[i].name, &s, &err) < 0)
            continue;
        found = s.pid == pid && strcmp(s.status, "stopped");
        runtime_oci_state_free(&s);
    }
    container_infos_free(infos, n);
    return found;
}
