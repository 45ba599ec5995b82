/* berth-oci: the runtime spec's lifecycle over berth's runtime. create makes a state directory
 * named by a random id, the OCI id being its name, with the bundle's config.json as the
 * container's description (bundleconf.c: the same file berth's own containers have, the
 * bundle's root bound instead of image layers); a monitor forked from create starts the
 * container, whose init waits at the exec fifo (init.c's start_gate_wait) until `start`. The
 * monitor then leaves: the init, recorded in init.pid (initpid.c), goes to create's caller's
 * subreaper, and delete removes its cgroups. The other commands find the container by OCI id. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define EXEC_FIFO "exec.fifo"

/* The state directory as create.c makes one, with the bundle's description; checked by the
 * same strict reader the start uses, so that a field berth cannot honour fails create. */
static int make_container(const struct runtime_paths *paths, const char *oci_id, const char *bundle,
                          yajl_val doc, struct container *c, struct berr *err)
{
    c->runrootfd = runtime_open_root(paths->runroot, err);
    if (c->runrootfd < 0 || random_id(c->st.id, err) < 0)
        return -1;
    if (container_dir_make(c->runrootfd, c->st.id, &c->dirfd, &c->lockfd, err) < 0)
        return -1;
    c->dir_path = xasprintf("%s/containers/%s", paths->runroot, c->st.id);
    c->name = xstrdup(oci_id);
    if (name_reserve(c->runrootfd, c->name, c->st.id, err) < 0) {
        free(c->name);
        c->name = NULL;
        if (err->kind == BERR_CONFLICT)
            berr_set(err, BERR_CONFLICT, "container with id exists: %s", oci_id);
        return -1;
    }
    if (mkdirat(c->dirfd, "scaffold", 0700) < 0)
        return berr_errno(err, "create scaffold");
    _cleanup_close_ int scaffold = openat(c->dirfd, "scaffold", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (scaffold < 0 || mounts_make_scaffold(scaffold, err) < 0)
        return scaffold < 0 ? berr_errno(err, "open scaffold") : -1;
    yajl_gen g = NULL;
    if (bundle_compile_seccomp(paths, doc, c->dirfd, err) < 0 ||
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
        rc = record_write(c->dirfd, paths->caller ? paths->caller->uid : 0, &spec, &c->st, err);
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

static __attribute__((noreturn)) void monitor(struct container *c, int report_fd, int console_fd,
                                              int hooks_fd)
{
    setsid();
    signal(SIGPIPE, SIG_IGN);
    struct berr err = {0};
    struct start_gate gate = {.fifo_fd = openat(c->dirfd, EXEC_FIFO, O_PATH | O_CLOEXEC),
                              .ready_fd = report_fd,
                              .console_fd = console_fd,
                              .hooks_fd = hooks_fd};
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

/* runc's rule: a terminal only with a console socket to hand its master to, and the other
 * way round */
static int check_console(yajl_val doc, int console_fd, struct berr *err)
{
    bool terminal = YAJL_IS_TRUE(json_get(json_get(doc, "process"), "terminal"));
    if (terminal && console_fd < 0)
        return berr_set(err, BERR_USAGE,
                        "process.terminal needs --console-socket (berth-oci keeps no terminal of "
                        "its own)");
    if (!terminal && console_fd >= 0)
        return berr_set(err, BERR_USAGE, "--console-socket is only for a process.terminal of true");
    return 0;
}

static ssize_t read_report(int fd, char *msg, size_t size)
{
    ssize_t n;
    do {
        n = read(fd, msg, size - 1);
    } while (n < 0 && errno == EINTR);
    return n;
}

/* Whether the bundle has hooks the init stops for before pivot_root. */
static bool has_create_hooks(yajl_val doc)
{
    static const char *const kinds[] = {"prestart", "createRuntime", "createContainer"};
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        yajl_val list = json_get(json_get(doc, "hooks"), kinds[i]);
        if (YAJL_IS_ARRAY(list) && list->u.array.len > 0)
            return true;
    }
    return false;
}

/* The monitor's report until the init waits at the gate, the create hooks run when it asks
 * for them (its pid recorded first, so that their state has it): its pid, or -1 with err set
 * (*init: the init's pid once known, else 0). */
static int await_ready(const struct container *c, pid_t mon, int report, int go,
                       const struct runtime_oci_create_opts *opts, pid_t *init, struct berr *err)
{
    char msg[sizeof(err->msg) + 1] = "";
    ssize_t n = read_report(report, msg, sizeof(msg));
    *init = 0;
    if (n == 1 && msg[0] == HOOKS_BYTE) {
        *init = child_of(mon);
        if (*init <= 0)
            return berr_set(err, BERR_FAILED, "the container's init is gone");
        if (oci_init_record(c->dirfd, *init, err) < 0 || opts->create_hooks(opts->ctx, err) < 0)
            return -1;
        if (write_all(go, (char[]){GO_BYTE}, 1) < 0)
            return berr_errno(err, "let the init go on after the hooks");
        n = read_report(report, msg, sizeof(msg));
    }
    if (n == 1 && msg[0] == READY_BYTE) {
        *init = child_of(mon);
        if (*init <= 0)
            return berr_set(err, BERR_FAILED, "the container's init is gone");
        return 0;
    }
    if (n > 1 && msg[0] == 'E') {
        msg[n] = '\0';
        return berr_set(err, BERR_FAILED, "%s", msg + 1);
    }
    return berr_set(err, BERR_FAILED, "the container's monitor died before the start");
}

int runtime_oci_create(const struct runtime_paths *paths, const char *oci_id,
                       const char *bundle_arg, const struct runtime_oci_create_opts *opts,
                       pid_t *pid_out, struct berr *err)
{
    _cleanup_free_ char *bundle = NULL;
    yajl_val doc = NULL;
    if (!runtime_name_valid(oci_id))
        return berr_set(err, BERR_USAGE, "invalid id %s: [a-zA-Z0-9][a-zA-Z0-9_.-]+ only", oci_id);
    if (bundle_read(bundle_arg, &bundle, &doc, err) < 0)
        return -1;
    if (check_console(doc, opts->console_fd, err) < 0) {
        yajl_tree_free(doc);
        return -1;
    }
    struct container c = {CONTAINER_NO_FDS};
    int rc = make_container(paths, oci_id, bundle, doc, &c, err);
    int rp[2] = {-1, -1}, go[2] = {-1, -1};
    if (rc == 0 && pipe2(rp, O_CLOEXEC) < 0)
        rc = berr_errno(err, "pipe");
    /* only a bundle with create hooks stops its init before pivot_root */
    if (rc == 0 && opts->create_hooks && has_create_hooks(doc) && pipe2(go, O_CLOEXEC) < 0)
        rc = berr_errno(err, "pipe");
    pid_t mon = rc == 0 ? fork() : -1;
    if (rc == 0 && mon < 0)
        rc = berr_errno(err, "start the container's monitor");
    if (mon == 0) {
        close(rp[0]);
        if (go[1] >= 0)
            close(go[1]);
        monitor(&c, rp[1], opts->console_fd, go[0]);
    }
    if (rp[1] >= 0)
        close(rp[1]);
    if (go[0] >= 0)
        close(go[0]);
    if (rc == 0) {
        pid_t init;
        rc = await_ready(&c, mon, rp[0], go[1], opts, &init, err);
        close(rp[0]);
        if (go[1] >= 0)
            close(go[1]);
        if (rc == 0 &&
            runtime_oci_rlimits(json_get(json_get(doc, "process"), "rlimits"), init, OCI_FILE,
                                err) == 0 &&
            bundle_sysctls(doc, init, err) == 0 && oci_init_record(c.dirfd, init, err) == 0) {
            *pid_out = init;
            yajl_tree_free(doc);
            container_close(&c);
            return 0;
        }
        if (init > 0)
            kill(init, SIGKILL);
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
 * have recorded it yet), paused when its cgroups are frozen; stopped: no monitor, or an exit
 * recorded. */
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
        out->status = oci_frozen_at(h.dir) ? "paused" : "running";
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

static int thaw(const struct runtime_paths *paths, const char *id64, struct berr *err)
{
    _cleanup_(container_handle_close) struct container_handle h;
    if (container_handle_open(paths, id64, &h, err) < 0)
        return -1;
    return oci_freeze_at(h.dir, false, err);
}

/* runc's pause and resume: pause a running container, resume a paused one */
int runtime_oci_pause(const struct runtime_paths *paths, const char *oci_id, bool pause,
                      struct berr *err)
{
    struct runtime_oci_state s;
    if (runtime_oci_state(paths, oci_id, &s, err) < 0)
        return -1;
    bool ok = !strcmp(s.status, pause ? "running" : "paused");
    char id64[65];
    memcpy(id64, s.id64, sizeof(id64));
    runtime_oci_state_free(&s);
    if (!ok)
        return berr_set(err, BERR_NOT_RUNNING, "container not %s", pause ? "running" : "paused");
    _cleanup_(container_handle_close) struct container_handle h;
    if (container_handle_open(paths, id64, &h, err) < 0 || oci_freeze_at(h.dir, pause, err) < 0)
        return berr_wrap(err, "container %s", oci_id);
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
    bool stopped = !strcmp(s.status, "stopped"), paused = !strcmp(s.status, "paused");
    char id64[65];
    memcpy(id64, s.id64, sizeof(id64));
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
    /* as runc: a paused container killed is thawed, so that it can die (a v1 freezer holds
     * even SIGKILL); other signals wait for resume */
    if (paused && sig == SIGKILL)
        return thaw(paths, id64, err);
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
    bool running = !strcmp(s.status, "running"), created = !strcmp(s.status, "created"),
         paused = !strcmp(s.status, "paused");
    pid_t init = s.pid;
    _cleanup_free_ char *status = xstrdup(s.status);
    runtime_oci_state_free(&s);
    if ((running || paused) && !force)
        return berr_set(err, BERR_CONFLICT, "cannot delete container %s that is not stopped: %s",
                        oci_id, status);
    /* the removal's SIGKILL would wait for a thaw */
    if (paused) {
        kill(init, SIGKILL);
        if (thaw(paths, id64, err) < 0)
            return -1;
    }
    /* a created container never ran its process: runc deletes it as it is */
    if (created && init > 0)
        kill(init, SIGKILL);
    return runtime_remove(paths, id64, true, err);
}
