/* A container's life from the caller's side, in the order of runtime.h: reserve the
 * name, write the state directory under its lock, clone into new namespaces, release the
 * child, learn whether its command started, wait for it, record the exit, clean up. The
 * foreground run does all of it in the caller's process; run -d hands the part from the
 * clone on to a monitor (monitor.c). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

void container_close(struct container *c)
{
    seccomp_filter_free(&c->seccomp);
    free(c->seccomp_oci);
    creds_free(&c->creds);
    oci_config_free(&c->config);
    free(c->name);
    free(c->dir_path);
    /* the namespaces first: the lock's holders and waiters expect the mounts gone with it */
    held_ns_close(c);
    int *fds[] = {&c->dirfd, &c->runrootfd, &c->lockfd};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

int runtime_open_root(const char *runroot, struct berr *err)
{
    static const struct store_dir layout[] = {{"containers", 0700}, {"names", 0700}, {NULL, 0}};
    int fd = open_store_root(runroot, 0700, layout, err);
    return fd < 0 ? berr_wrap(err, "state root") : fd;
}

static int reserve_name(struct container *c, const char *wanted, struct berr *err)
{
    if (wanted) {
        c->name = xstrdup(wanted[0] == '/' ? wanted + 1 : wanted);
        return name_reserve(c->runrootfd, c->name, c->st.id, err);
    }
    /* a random name may collide: draw again, as docker does */
    for (int tries = 0; tries < 16; tries++) {
        c->name = name_random();
        if (name_reserve(c->runrootfd, c->name, c->st.id, err) == 0)
            return 0;
        free(c->name);
        c->name = NULL;
        if (err->kind != BERR_CONFLICT)
            return -1;
    }
    c->name = xasprintf("berth_%.12s", c->st.id);
    return name_reserve(c->runrootfd, c->name, c->st.id, err);
}

static void pick_hostname(struct container *c, const struct container_spec *spec)
{
    if (spec->hostname)
        snprintf(c->hostname, sizeof(c->hostname), "%s", spec->hostname);
    else if (spec->net == NET_HOST && gethostname(c->hostname, sizeof(c->hostname) - 1) == 0)
        c->hostname[sizeof(c->hostname) - 1] = '\0';
    else
        snprintf(c->hostname, sizeof(c->hostname), "%.12s", c->st.id);
}

/* config.json: the container's description in OCI's form. */
static int write_oci(const struct container *c, const struct container_spec *spec,
                     const struct cap_set *caps, struct berr *err)
{
    const struct oci_facts f = {.id = c->st.id,
                                .hostname = c->hostname,
                                .dir_path = c->dir_path,
                                .creds = &c->creds,
                                .caps = caps,
                                .seccomp_oci = c->seccomp_oci};
    return json_gen_write_at(oci_gen(spec, &f), c->dirfd, OCI_FILE, err);
}

/* The directory (appearing with its lock held), then the name: a name never points at a
 * directory that is not there, nor at one that a reader would take for a creation cut short. */
static int make_state_dir(struct container *c, const struct runtime_paths *paths, struct berr *err)
{
    if (container_dir_make(c->runrootfd, c->st.id, &c->dirfd, &c->lockfd, err) < 0)
        return -1;
    c->dir_path = xasprintf("%s/containers/%s", paths->runroot, c->st.id);
    trace_phase("state-dir");
    return mounts_lock_take(c->lockfd, err);
}

static int describe(struct container *c, const struct container_spec *spec,
                    const struct cap_set *caps, struct berr *err)
{
    c->st.name = c->name;
    clock_gettime(CLOCK_REALTIME, &c->st.created);
    c->st.status = STATUS_CREATED;
    pick_hostname(c, spec);
    if (write_oci(c, spec, caps, err) < 0)
        return -1;
    trace_phase("config.json");
    return 0;
}

/* The rest of the state directory, which the start reads only after the caller's go: the
 * root's scaffold, state.json, berth.json (the container is seen from here on) and the /etc
 * files it binds. */
static int write_state_files(struct container *c, const struct container_spec *spec,
                             struct berr *err)
{
    if (mkdirat(c->dirfd, "scaffold", 0700) < 0)
        return berr_errno(err, "create scaffold");
    _cleanup_close_ int scaffold = openat(c->dirfd, "scaffold", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (scaffold < 0)
        return berr_errno(err, "open scaffold");
    if (mounts_make_scaffold(scaffold, err) < 0)
        return -1;
    trace_phase("scaffold");
    if (state_write(c->dirfd, &c->st, err) < 0)
        return -1;
    trace_phase("state.json");
    if (record_write(c->dirfd, spec->caller ? spec->caller->uid : 0, spec, &c->st, err) < 0)
        return -1;
    trace_phase("berth.json");
    int rc = etc_files_write(c->dirfd, c->hostname, spec->net, err);
    trace_phase("etc-files");
    return rc;
}

/* Compiled (or taken from the cache) here, in the caller, before anything is created: a bad
 * profile is the caller's error and leaves nothing behind, and the child only loads it. The
 * filter loaded is the cached BPF; the OCI form beside it is for the container's description
 * (config.json). */
static int prepare_seccomp(const struct runtime_paths *paths, const struct container_spec *spec,
                           const struct cap_set *caps, struct seccomp_filter *out, char **oci,
                           struct berr *err)
{
    if (spec->seccomp == RUNTIME_SECCOMP_UNCONFINED)
        return 0;
    struct seccomp_source src = {0};
    if (spec->seccomp == RUNTIME_SECCOMP_PROFILE)
        src = (struct seccomp_source){.name = spec->seccomp_path,
                                      .text = spec->seccomp_profile ? spec->seccomp_profile : "",
                                      .len = spec->seccomp_profile_len};
    if (seccomp_get(paths->root, &src, caps_mask(caps), out, oci, err) < 0)
        return -1;
    if (out->warning && spec->warn)
        spec->warn(out->warning);
    return 0;
}

/* docker's daemon resolves the user at create, from the image's /etc/passwd and /etc/group
 * (never from a bind mounted over them): the description holds numeric ids. */
static int resolve_user(const struct container_spec *spec, struct creds *out, struct berr *err)
{
    const char *user = spec->user ? spec->user : spec->image_user;
    return creds_resolve_layers(&spec->layers, user, &spec->group_add, out, err);
}

static int write_seccomp(const struct container *c, const struct container_spec *spec,
                         struct berr *err)
{
    if (spec->seccomp == RUNTIME_SECCOMP_UNCONFINED)
        return 0;
    int rc = seccomp_filter_write_at(c->dirfd, SECCOMP_FILE, &c->seccomp, err);
    trace_phase("seccomp.bpf");
    return rc;
}

static int cidfile_error(const struct container_spec *spec, int errnum, struct berr *err)
{
    return berr_set(err, BERR_FAILED, "failed to create the container ID file %s: %s",
                    spec->cidfile, strerror(errnum));
}

/* The cidfile is the caller's, as the docker client writes it: looked for, made (owner and
 * group the caller's) and removed with the caller's rights, never root's. It is written while
 * the container's root is built, off the start's path (container_write_cidfile), so whether it
 * can be is known first: a directory the caller cannot write to fails the run before anything
 * is made (a missing -v source included), as docker's client fails it before the create. */
static int check_cidfile_can_be_made(const struct container_spec *spec, struct berr *err)
{
    if (!spec->cidfile)
        return 0;
    if (ident_enter(spec->caller, err) < 0)
        return -1;
    struct stat st;
    /* not followed: a link there is refused when the file is made (O_NOFOLLOW) */
    int rc = lstat(spec->cidfile, &st);
    int errnum = rc < 0 && errno != ENOENT ? errno : 0;
    if (rc < 0 && !errnum) {
        _cleanup_free_ char *path = xstrdup(spec->cidfile);
        if (faccessat(AT_FDCWD, dirname(path), W_OK | X_OK, AT_EACCESS) < 0)
            errnum = errno;
    }
    ident_leave(spec->caller);
    if (rc == 0)
        return berr_set(err, BERR_CONFLICT,
                        "container ID file found, make sure the other container isn't running "
                        "or delete %s",
                        spec->cidfile);
    return errnum ? cidfile_error(spec, errnum, err) : 0;
}

static void remove_cidfile(const struct container_spec *spec)
{
    struct berr ignored;
    if (!spec->cidfile || ident_enter(spec->caller, &ignored) < 0)
        return;
    unlink(spec->cidfile);
    ident_leave(spec->caller);
}

/* The full id, no newline (docker's format; Storm reads the first line). */
int container_write_cidfile(const struct container *c, const struct container_spec *spec,
                            struct berr *err)
{
    int rc = 0;
    if (spec->cidfile) {
        _cleanup_close_ int fd = ident_open(spec->caller, spec->cidfile,
                                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644, err);
        if (fd < 0)
            rc = cidfile_error(spec, err->errnum, err);
        else if (write_all(fd, c->st.id, 64) < 0)
            rc = berr_errno(err, "failed to write the container ID to %s", spec->cidfile);
        if (fd >= 0 && rc < 0)
            remove_cidfile(spec);
    }
    trace_phase("cidfile");
    return rc;
}

int container_create_state(const struct runtime_paths *paths, const struct container_spec *spec,
                           struct container *c, struct init_args *a, struct berr *err)
{
    *c = (struct container){CONTAINER_NO_FDS};
    struct cap_set caps;
    if ((!spec->validated && spec_check(spec, err) < 0) ||
        caps_effective_set(&spec->cap_add, &spec->cap_drop, &caps, err) < 0 ||
        check_cidfile_can_be_made(spec, err) < 0)
        return -1;
    trace_phase("caps-cidfile");
    if (prepare_seccomp(paths, spec, &caps, &c->seccomp, &c->seccomp_oci, err) < 0)
        return -1;
    trace_phase("seccomp-cache");
    if (resolve_user(spec, &c->creds, err) < 0)
        return -1;
    trace_phase("user");
    c->runrootfd = runtime_open_root(paths->runroot, err);
    if (c->runrootfd < 0 || random_id(c->st.id, err) < 0)
        return -1;
    trace_phase("state-root");
    if (make_state_dir(c, paths, err) < 0) {
        container_destroy(c);
        return -1;
    }
    if (reserve_name(c, spec->name, err) < 0) {
        free(c->name);
        c->name = NULL; /* held by another container: not ours to release */
        container_destroy(c);
        return -1;
    }
    trace_phase("name");
    if (describe(c, spec, &caps, err) < 0 || write_seccomp(c, spec, err) < 0) {
        container_destroy(c);
        return -1;
    }
    /* the start reads the filter back from its file, as it reads config.json */
    seccomp_filter_free(&c->seccomp);
    *a = (struct init_args){.interactive = spec->interactive, .stdio = {-1, -1, -1}};
    runtime_test_stall("described");
    return 0;
}

int container_create_finish(struct container *c, const struct container_spec *spec,
                            struct berr *err)
{
    if (write_state_files(c, spec, err) < 0) {
        container_destroy(c);
        return -1;
    }
    runtime_test_stall("create");
    /* Only with the name ours and the cidfile's directory writable (create_state): docker
     * creates a missing -v source at start, so neither a name conflict nor an unwritable
     * cidfile may leave a new host directory. */
    if (mounts_prepare_sources(spec->binds, spec->nbinds, err) < 0) {
        container_destroy(c);
        return -1;
    }
    trace_phase("bind-sources");
    return 0;
}

int container_create(const struct runtime_paths *paths, const struct container_spec *spec,
                     struct container *c, struct init_args *a, struct berr *err)
{
    if (container_create_state(paths, spec, c, a, err) < 0 ||
        container_create_finish(c, spec, err) < 0)
        return -1;
    if (container_write_cidfile(c, spec, err) < 0) {
        container_destroy(c);
        return -1;
    }
    return 0;
}

int runtime_create(const struct runtime_paths *paths, const struct container_spec *spec,
                   char id_out[65], struct berr *err)
{
    struct init_args a;
    struct container c;
    int rc = container_create(paths, spec, &c, &a, err);
    if (rc == 0)
        memcpy(id_out, c.st.id, 65);
    container_close(&c); /* the lock with it: nobody runs the container */
    return rc;
}

static pid_t clone_container(const struct init_args *a, int child_end, int parent_end,
                             const struct cgroup_set *cgroups, const struct cpu_apart *apart)
{
    unsigned long flags = (unsigned long)a->config->namespaces;
    /* The child is berth in the container's namespaces until its execve: non-dumpable from
     * birth, so /proc/1/exe, mem, fd, root need CAP_SYS_PTRACE over it. */
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    pid_t pid = clone_into_cgroup(flags, cgroups ? cgroup_clone_fd(cgroups) : -1);
    bool in_cgroups = pid >= 0;
    if (pid < 0) { /* the child joins them itself */
        if (cgroups && cgroup_clone_fd(cgroups) >= 0)
            debugf("clone3 into the container's cgroup: %s", strerror(errno));
        pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
    }
    if (pid != 0) {
        int saved = errno;
        prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
        errno = saved;
    }
    if (pid == 0) {
        trace_child("init");
        /* the parent's end only in the parent: its death or give-up is the child's EOF */
        close(parent_end);
        struct init_args child = *a;
        child.sync_fd = child_end;
        child.cgroups = cgroups;
        child.in_cgroups = in_cgroups;
        child.apart = apart;
        for (int i = 0; i < 3; i++) {
            if (a->stdio[i] >= 0 && dup2(a->stdio[i], i) < 0) {
                struct berr e = {0};
                berr_errno(&e, "stdio of the container");
                sync_report_and_exit(child_end, &e);
            }
        }
        init_container(&child);
    }
    return pid;
}

/* The container's namespaces, kept open so that their teardown (for the mount tree a grace
 * period, another for the overlay) comes after the exit is recorded instead of in pid 1's exit,
 * which the monitor waits for (see mounts_lock_take). pid is our unreaped child: the number
 * cannot name another process. A namespace the container does not have of its own, or that
 * cannot be opened, is not held: pid 1's exit then tears it down, as it would anyway. */
static void hold_namespaces(pid_t pid, unsigned long flags, int held[HELD_NS])
{
    static const char *const names[HELD_NS] = {"mnt", "net", "ipc"};
    static const unsigned long kinds[HELD_NS] = {CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC};
    for (size_t i = 0; i < HELD_NS; i++) {
        held[i] = -1;
        if (!(flags & kinds[i]))
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, names[i]);
        held[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (held[i] < 0)
            debugf("%s: %s: its teardown stays in pid 1's exit", path, strerror(errno));
    }
}

/* Release the child, with the cgroups it is to join (v1: made while it built its root, their
 * "tasks" files opened here too, so that it only writes to them), and learn how its start
 * went: EOF means execve succeeded. A child that failed before the release sent its report and
 * exited: the release then fails (EPIPE), or, sent before the exit but never read, makes the
 * socket report a reset ahead of the queued report. Either way the report is read, so that the
 * caller learns why. */
static int release_child(int sync_fd, const struct cgroup_join *join, struct berr *err)
{
    /* MSG_NOSIGNAL: a child that died already must be an error here, not a SIGPIPE */
    bool released = send_with_fds(sync_fd, "g", 1, join->fd, join->n) == 1;
    int release_errno = errno;
    struct sync_msg m;
    ssize_t got;
    do {
        got = recv(sync_fd, &m, sizeof(m), released ? 0 : MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    bool reset = got < 0 && errno == ECONNRESET;
    if (reset)
        got = recv(sync_fd, &m, sizeof(m), MSG_DONTWAIT);
    if (got == (ssize_t)sizeof(m)) {
        sync_msg_to_berr(&m, err);
        return -1;
    }
    if (!released)
        return berr_errnum(err, release_errno, "release container");
    if (got == 0 && !reset)
        return 0;
    return berr_set(err, BERR_FAILED, "container init died before starting the command");
}

static int make_cgroups(struct container *c, struct berr *err)
{
    runtime_test_stall("mkcgroups");
    if (cgroup_create(c->cgroup_parent, c->cgroup_name, &c->config.limits, &c->cgroups, err) < 0)
        return berr_wrap(err, "container %.12s: cgroups", c->st.id);
    trace_phase("cgroups");
    runtime_test_stall("cgroups");
    return 0;
}

/* Out of the caller's cgroup where a service manager would kill it with the caller (see
 * cgroup/home.c); a monitor that cannot move on runs on where it is. The child, cloned
 * before, joins its own cgroups at its release. */
static void leave_callers_cgroups(const struct init_args *a)
{
    if (!a->leave_callers_cgroups)
        return;
    struct cgroup_home *found = NULL;
    struct berr err = {0};
    const struct cgroup_home *home = a->leave_home;
    if (!home && cgroup_monitor_home(&found, &err) == 0)
        home = found;
    if (!home || cgroup_home_join(home, a->leave_home_in_v2, &err) < 0)
        debugf("monitor: stays in the caller's cgroups: %s", err.msg);
    cgroup_home_free(found);
    trace_phase("leave-cgroups");
}

/* The binds' trees and docker's /dev, made here while the child builds its root, then sent
 * to it: the child, whose steps come one after the other, only attaches them
 * (mounts_open_trees). One that cannot be made here leaves them all to the child, whose own
 * attempt says why. A child that died already is seen at the release. */
static void send_trees(int sync_fd, const struct mounts_spec *spec)
{
    struct mounts_trees t = MOUNTS_TREES_NONE;
    struct berr err = {0};
    if (mounts_open_trees(spec, &t, &err) < 0)
        debugf("trees: %s: the container makes them itself", err.msg);
    runtime_test_stall("trees"); /* the child waits for them meanwhile */
    int fds[MOUNTS_MAX_TREES];
    memcpy(fds, t.fd, t.n * sizeof(*fds));
    size_t n = t.n;
    if (t.dev >= 0)
        fds[n++] = t.dev; /* last, said by the second byte */
    (void)send_with_fds(sync_fd, (char[]){TREES_BYTE, t.dev >= 0}, 2, fds, n);
    mounts_trees_close(&t);
    trace_phase("trees");
}

/* The child is in every cgroup before it runs anything of the container's own. On a cgroup2
 * host it is created in them (made first); elsewhere they are made here while the child
 * builds its root on the other CPU, and it joins them before it drops its privileges: the v1
 * cgroups were half of the wait for a Storm worker's start. Until then its mounts are charged
 * to the monitor's cgroups, as nothing of the container's own has run. */
static int start_in_cgroups(struct container *c, const struct init_args *a, int *sync_fd,
                            pid_t *pid, struct cgroup_join *join, struct berr *err)
{
    bool before = cgroup_born_inside();
    if (before && make_cgroups(c, err) < 0)
        return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return berr_errno(err, "socketpair");
    /* the v1 cgroups are made beside the child's mounts: on two CPUs */
    struct cpu_apart apart;
    if (!before)
        cpu_apart_plan(&apart);
    *pid = clone_container(a, sv[1], sv[0], c->cgroups, before ? NULL : &apart);
    int saved = errno;
    if (!before && *pid > 0)
        cpu_apart_send_away(&apart, *pid);
    trace_phase("clone");
    close(sv[1]);
    *sync_fd = sv[0];
    if (*pid < 0)
        return berr_errnum(err, saved, "clone container");
    hold_namespaces(*pid, (unsigned long)a->config->namespaces, c->held_ns);
    send_trees(*sync_fd, &a->mounts);
    if (!before && (make_cgroups(c, err) < 0 || cgroup_join_open(c->cgroups, join, err) < 0)) {
        /* the child sees the socket's end and leaves */
        close(steal_fd(sync_fd));
        waitpid(*pid, NULL, 0);
        return -1;
    }
    leave_callers_cgroups(a);
    return 0;
}

/* config.json read back after create's last step: the file, not what create had in memory,
 * is the container's description (a few microseconds for a ~10 KiB file). The mounts point
 * into c->config. */
static int load_description(struct container *c, struct init_args *a, struct berr *err)
{
    oci_config_free(&c->config);
    seccomp_filter_free(&c->seccomp);
    const struct oci_config *cfg = &c->config;
    if (oci_config_read_at(c->dirfd, c->dir_path, &c->config, err) < 0 ||
        (cfg->seccomp_file &&
         seccomp_filter_read_at(c->dirfd, cfg->seccomp_file, &c->seccomp, err) < 0))
        return berr_wrap(err, "container %.12s", c->st.id);
    c->cgroup_parent = cfg->cgroup_parent;
    c->cgroup_name = cfg->cgroup_name;
    a->config = cfg;
    a->seccomp = cfg->seccomp_file ? &c->seccomp : NULL;
    a->mounts = (struct mounts_spec){
        .layers = &cfg->layers,
        .rootfs_path = cfg->root_path,
        .upper_path = cfg->upper,
        .work_path = cfg->work,
        .bind_root = cfg->bind_root,
        .readonly_root = cfg->root_readonly,
        .binds = cfg->binds,
        .nbinds = cfg->nbinds,
        .fs = cfg->fs,
        .nfs = cfg->nfs,
        .etc_path = cfg->etc_dir,
        .workdir = cfg->cwd,
        .masked = &cfg->masked,
        .readonly = &cfg->readonly,
    };
    return 0;
}

/* The caller made its files (container_create_finish) and says go; anything else (it gave up,
 * or died) ends the start here, before anything is cloned. */
static int wait_for_callers_go(int fd, struct berr *err)
{
    bool go = go_received(fd);
    trace_phase("caller-go");
    return go ? 0 : berr_set(err, BERR_FAILED, "the caller gave up before the start");
}

static bool cidfile_go(int fd)
{
    bool go = go_received(fd);
    trace_phase("cidfile-go");
    return go;
}

int container_start(struct container *c, struct init_args *a, struct berr *err)
{
    _cleanup_close_ int sync_fd = -1;
    pid_t pid = -1;
    struct cgroup_join join = {.n = 0};
    if (!self_is_readonly_clone())
        return berr_set(err, BERR_FAILED,
                        "container %.12s: berth runs from a writable binary, not from a "
                        "read-only clone of it (runtime_reexec_readonly)",
                        c->st.id);
    trace_phase("ro-check");
    struct berr load_err = {0};
    bool loaded = load_description(c, a, &load_err) == 0;
    trace_phase("load-description");
    /* the go before any failure is recorded: a caller that gave up is removing the directory */
    if (a->go_fd > 2 && wait_for_callers_go(a->go_fd, err) < 0) {
        a->caller_gave_up = true;
        return -1;
    }
    if (!loaded) {
        *err = load_err;
        return -1;
    }
    if ((c->config.namespaces & CLONE_NEWNET) && net_backend)
        net_backend->preload();
    if (start_in_cgroups(c, a, &sync_fd, &pid, &join, err) < 0) {
        container_drop_cgroups(c);
        return -1;
    }
    /* the caller's cidfile written: until then the child runs nothing of the container's */
    a->caller_gave_up = a->go_fd > 2 && !cidfile_go(a->go_fd);
    int released = a->caller_gave_up ? -1 : release_child(sync_fd, &join, err);
    cgroup_join_close(&join);
    if (released < 0) {
        close(steal_fd(&sync_fd)); /* a child not released sees its end close and leaves */
        waitpid(pid, NULL, 0);
        container_drop_cgroups(c);
        return -1;
    }
    trace_phase("child-execve"); /* EOF on the sync socket: the init's execve succeeded */
    c->st.pid = pid;
    container_record(c, STATUS_RUNNING);
    trace_phase("state-running");
    return 0;
}

int container_wait_exit(struct container *c, struct berr *err)
{
    /* pid 1 stays unreaped for container_record_exit, which records before reaping */
    siginfo_t si;
    if (wait_forwarding_signals(c->st.pid, false, &si, err) < 0)
        return -1;
    trace_phase("container-exit");
    if (container_record_exit(c, c->st.pid, err) < 0)
        return -1;
    container_collect(c, c->st.pid);
    return 0;
}

int container_run_in_place(const struct runtime_paths *paths, struct container_spec *spec,
                           int *status, struct berr *err)
{
    struct init_args a;
    struct container c;
    if (container_create(paths, spec, &c, &a, err) < 0) {
        container_close(&c);
        return -1;
    }
    int rc = container_start(&c, &a, err);
    if (rc == 0)
        rc = container_wait_exit(&c, err);
    if (rc == 0)
        *status = c.st.exit_code;
    if (rc < 0 || spec->remove_on_exit) {
        container_destroy(&c);
        trace_phase("destroy");
    }
    container_close(&c);
    return rc;
}
