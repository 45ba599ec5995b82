/* The state store seen from any process: containers found by id, name or prefix, their records
 * read and corrected when their monitor is gone. The per-container lock tells who is alive: the
 * creator, then the monitor (or berth run), hold it LOCK_EX while the container is made and
 * while it may run. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

/* Readers never create the state root: a missing root holds no containers. */
int state_root_open(const struct runtime_paths *paths, struct berr *err)
{
    int fd = open(paths->runroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return berr_set(err, BERR_NOT_FOUND, "no containers: %s does not exist", paths->runroot);
    return fd < 0 ? berr_errno(err, "open state root %s", paths->runroot) : fd;
}

int container_handle_open(const struct runtime_paths *paths, const char *id,
                          struct container_handle *h, struct berr *err)
{
    *h = (struct container_handle){.root = -1, .dir = -1, .lock = -1};
    h->root = state_root_open(paths, err);
    if (h->root < 0) {
        if (err->kind == BERR_NOT_FOUND)
            berr_set(err, BERR_NOT_FOUND, "No such container: %s", id);
        return -1;
    }
    h->dir = container_dir_open(h->root, id, err);
    if (h->dir >= 0 && !record_visible(h->dir, paths->caller, id, err))
        close(steal_fd(&h->dir));
    if (h->dir >= 0)
        h->lock = lock_open(h->dir, O_RDONLY, err);
    if (h->lock < 0) {
        container_handle_close(h);
        return -1;
    }
    return 0;
}

void container_handle_close(struct container_handle *h)
{
    int *fds[] = {&h->lock, &h->dir, &h->root};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

int lock_open(int dirfd, int access, struct berr *err)
{
    int fd = openat(dirfd, "lock", access | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? berr_errno(err, "open lock") : fd;
}

bool monitor_alive(int lockfd)
{
    if (flock(lockfd, LOCK_SH | LOCK_NB) < 0)
        return errno == EWOULDBLOCK;
    flock(lockfd, LOCK_UN);
    return false;
}

static int ofd_lock(int lockfd, int cmd, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET};
    int rc;
    do {
        rc = fcntl(lockfd, cmd, &fl);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

int mounts_lock_take(int lockfd, struct berr *err)
{
    /* blocking: a start may find the monitor of the container's previous run still tearing
     * its mounts down */
    if (ofd_lock(lockfd, F_OFD_SETLKW, F_WRLCK) < 0)
        return berr_errno(err, "lock the container's mounts");
    return 0;
}

void mounts_lock_release(int lockfd)
{
    if (lockfd >= 0)
        ofd_lock(lockfd, F_OFD_SETLK, F_UNLCK);
}

int mounts_lock_wait(int lockfd, struct berr *err)
{
    if (ofd_lock(lockfd, F_OFD_SETLKW, F_RDLCK) < 0)
        return berr_errno(err, "wait for the container's mounts to go");
    mounts_lock_release(lockfd);
    return 0;
}

int lock_wait(int lockfd, int op, struct berr *err)
{
    while (flock(lockfd, op) < 0) {
        if (errno != EINTR)
            return berr_errno(err, "wait for the container's monitor");
    }
    return 0;
}

/* 1 when the container exists and the caller may see it, 0 when not, -1 on an error other
 * than its absence (a permission error is never "No such container"). A container is seen
 * once berth.json is written; a creation cut short before that is collected. */
static int container_exists(const struct runtime_paths *paths, int runrootfd, const char *id,
                            struct berr *err)
{
    _cleanup_close_ int fd = container_dir_open(runrootfd, id, err);
    if (fd < 0)
        return err->kind == BERR_NOT_FOUND ? 0 : -1;
    int recorded = container_dir_recorded(runrootfd, fd, id, err);
    if (recorded <= 0)
        return recorded;
    if (record_visible(fd, paths->caller, id, err))
        return 1;
    return err->kind == BERR_NOT_FOUND ? 0 : -1;
}

int runtime_list(const struct runtime_paths *paths, struct strv *ids, struct berr *err)
{
    _cleanup_close_ int root = state_root_open(paths, err);
    if (root < 0)
        return err->kind == BERR_NOT_FOUND ? 0 : -1;
    int fd = openat(root, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) /* a state root no container was ever made in */
        return 0;
    _cleanup_closedir_ DIR *d = dir_from_fd(fd, "containers", err);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_hex64(de->d_name))
            continue;
        int seen = container_exists(paths, root, de->d_name, err);
        if (seen < 0)
            return -1;
        if (seen)
            strv_push(ids, de->d_name);
    }
    return 0;
}

/* 0 found, 1 no such name, -1 an error other than absence. */
static int find_by_name(const struct runtime_paths *paths, int root, const char *ref,
                        char id_out[65], struct berr *err)
{
    const char *name = ref[0] == '/' ? ref + 1 : ref;
    if (!runtime_name_valid(name))
        return 1;
    _cleanup_free_ char *path = xasprintf("names/%s", name);
    char target[80];
    ssize_t n = readlinkat(root, path, target, sizeof(target) - 1);
    if (n < 0 && errno != ENOENT && errno != EINVAL)
        return berr_errno(err, "look up the name %s", name);
    if (n != 64)
        return 1;
    target[n] = '\0';
    if (!is_hex64(target))
        return 1;
    int seen = container_exists(paths, root, target, err);
    if (seen == 0)
        name_release_if_gone(root, name);
    if (seen <= 0)
        return seen < 0 ? -1 : 1;
    memcpy(id_out, target, 65);
    return 0;
}

static int find_by_prefix(const struct runtime_paths *paths, const char *ref, char id_out[65],
                          struct berr *err)
{
    if (!*ref || strspn(ref, "0123456789abcdef") != strlen(ref))
        return berr_set(err, BERR_NOT_FOUND, "No such container: %s", ref);
    _cleanup_strv_ struct strv ids = {0};
    if (runtime_list(paths, &ids, err) < 0)
        return -1;
    const char *hit = NULL;
    for (size_t i = 0; i < ids.n; i++) {
        if (!str_has_prefix(ids.v[i], ref))
            continue;
        if (hit)
            return berr_set(err, BERR_FAILED, "Multiple IDs found with provided prefix: %s", ref);
        hit = ids.v[i];
    }
    if (!hit)
        return berr_set(err, BERR_NOT_FOUND, "No such container: %s", ref);
    memcpy(id_out, hit, 65);
    return 0;
}

int runtime_find(const struct runtime_paths *paths, const char *ref, char id_out[65],
                 struct berr *err)
{
    _cleanup_close_ int root = state_root_open(paths, err);
    if (root < 0)
        return err->kind == BERR_NOT_FOUND
                   ? berr_set(err, BERR_NOT_FOUND, "No such container: %s", ref)
                   : -1;
    int seen = is_hex64(ref) ? container_exists(paths, root, ref, err) : 0;
    if (seen < 0)
        return -1;
    if (seen) {
        memcpy(id_out, ref, 65);
        return 0;
    }
    int rc = find_by_name(paths, root, ref, id_out, err);
    if (rc <= 0)
        return rc;
    return find_by_prefix(paths, ref, id_out, err);
}

/* A container whose monitor is gone without recording an exit died with it (its pid 1 has
 * PDEATHSIG=SIGKILL): say so, and write it down for the next reader. */
static void correct_dead_monitor(int dirfd, int lockfd, struct container_state *st, char **error)
{
    if (st->status != STATUS_RUNNING || flock(lockfd, LOCK_EX | LOCK_NB) < 0)
        return;
    /* The monitor records the exit, then lets go of the lock: what was read before the lock was
     * free may be older than that record. Read again, under the lock. */
    struct container_state now = *st;
    char *now_error = NULL;
    struct berr rerr = {0};
    if (state_read(dirfd, &now, &now_error, &rerr) == 0 && now.status != STATUS_RUNNING) {
        *st = now;
        free(*error);
        *error = now_error;
        st->error = *error;
        flock(lockfd, LOCK_UN);
        return;
    }
    free(now_error);
    st->status = STATUS_EXITED;
    st->exit_code = 137;
    st->pid = 0;
    clock_gettime(CLOCK_REALTIME, &st->finished);
    free(*error);
    *error = xstrdup("berth monitor exited unexpectedly");
    st->error = *error;
    struct berr werr = {0};
    if (state_write(dirfd, st, &werr) < 0)
        debugf("correct state: %s", werr.msg);
    flock(lockfd, LOCK_UN);
}

/* docker's view of the container in dirfd, from its description and its record */
static int read_view(int dirfd, const char *id, yajl_val *out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    yajl_val oci = NULL, record = NULL;
    int rc = -1;
    if (read_file_at(dirfd, OCI_FILE, 4 << 20, &text, NULL, err) < 0 ||
        json_parse(text, &oci, err) < 0 || record_read(dirfd, &record, err) < 0)
        goto out;
    rc = docker_view(id, oci, record, out, err);
out:
    if (oci)
        yajl_tree_free(oci);
    if (record)
        yajl_tree_free(record);
    return rc;
}

int runtime_inspect(const struct runtime_paths *paths, const char *id, struct container_info *out,
                    struct berr *err)
{
    *out = (struct container_info){0};
    _cleanup_(container_handle_close) struct container_handle h;
    if (container_handle_open(paths, id, &h, err) < 0)
        return -1;
    int dir = h.dir, lock = h.lock;
    struct container_state st = {0};
    char *error = NULL;
    if (read_view(dir, id, &out->config, err) < 0 || state_read(dir, &st, &error, err) < 0) {
        container_info_free(out);
        return berr_wrap(err, "container %.12s", id);
    }
    runtime_test_stall("inspect-read");
    /* berth-oci's containers have no monitor once they run: their init tells */
    if (st.status != STATUS_EXITED && !monitor_alive(lock) && !oci_init_alive(dir, NULL))
        correct_dead_monitor(dir, lock, &st, &error);
    memcpy(out->id, id, 65);
    const char *name = json_get_str(out->config, "Name");
    out->name = xstrdup(name ? name + (name[0] == '/') : "");
    out->status = state_status_name(st.status);
    out->running = st.status == STATUS_RUNNING;
    out->pid = out->running ? st.pid : 0;
    out->exit_code = st.exit_code;
    out->error = error;
    out->started = st.started;
    out->finished = st.finished;
    const char *created = json_get_str(out->config, "Created");
    if (created)
        parse_rfc3339(created, &out->created);
    return 0;
}

void container_info_free(struct container_info *info)
{
    free(info->name);
    free(info->error);
    if (info->config)
        yajl_tree_free(info->config);
    *info = (struct container_info){0};
}

int runtime_inspect_all(const struct runtime_paths *paths, struct container_info **out, size_t *n,
                        struct strv *unreadable, struct berr *err)
{
    *out = NULL;
    *n = 0;
    _cleanup_strv_ struct strv ids = {0};
    if (runtime_list(paths, &ids, err) < 0)
        return -1;
    struct container_info *v = xcalloc(ids.n ? ids.n : 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < ids.n; i++) {
        struct berr e = {0};
        if (runtime_inspect(paths, ids.v[i], &v[k], &e) == 0) {
            k++;
            continue;
        }
        if (e.kind == BERR_NOT_FOUND)
            continue;
        if (!unreadable) {
            container_infos_free(v, k);
            *err = e;
            return -1;
        }
        strv_push_owned(unreadable, xasprintf("%.12s: %s", ids.v[i], e.msg));
    }
    *out = v;
    *n = k;
    return 0;
}

void container_infos_free(struct container_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        container_info_free(&v[i]);
    free(v);
}
