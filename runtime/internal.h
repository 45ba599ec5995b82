/* Private to runtime/. */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include "runtime.h"
#include "seccomp/seccomp.h"

#include <sched.h>
#include <signal.h>
#include <sys/capability.h>

/* ---- capabilities (caps.c) ---- */
#define CAPS_WORDS 2
struct cap_set {
    uint32_t bits[CAPS_WORDS];
};
/* docker's TweakCapabilities over its default set. Names must be normalised already. */
int caps_effective_set(const struct strv *add, const struct strv *drop, struct cap_set *out,
                       struct berr *err);
/* bit n = capability n, as seccomp/ takes it */
uint64_t caps_mask(const struct cap_set *s);
/* bounding drop → keepcaps; then (after setresuid) capset + ambient clear. */
int caps_drop_bounding(const struct cap_set *keep, struct berr *err);
int caps_apply(const struct cap_set *keep, struct berr *err);

/* ---- credentials (creds.c) ---- */
struct creds {
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t ngroups;
    char *home;
};
/* docker's getUser: resolve `user` ("name", "uid", "x:y") and --group-add against the
 * container's /etc/passwd and /etc/group, opened inside rootfd. */
int creds_resolve(int rootfd, const char *user, const struct strv *group_add, struct creds *out,
                  struct berr *err);
/* The same from the image's files as the overlay of its layers (bottom first) shows them
 * before the container exists: how docker's daemon resolves a container's user at create. */
int creds_resolve_layers(const struct strv *layers, const char *user, const struct strv *group_add,
                         struct creds *out, struct berr *err);
void creds_free(struct creds *c);
int creds_apply(const struct creds *c, struct berr *err);

/* ---- network (net.c, through runtime_net_with_libmnl) ---- */
struct net_backend {
    /* libmnl loaded and its functions bound by the process that clones an init which will
     * bring up lo: the init uses that binding as it is, without a load or a lookup after the
     * fork. A library that cannot be loaded is the init's to report. */
    void (*preload)(void);
    int (*loopback_up)(struct berr *err);
};
/* NULL in a program that cannot bring up a lo (init.c says so) */
extern const struct net_backend *net_backend;

/* ---- /etc files (etcfiles.c) ---- */
int etc_files_write(int dirfd, const char *hostname, enum net_mode net, struct berr *err);

/* ---- state (state.c) ---- */
enum container_status { STATUS_CREATED, STATUS_RUNNING, STATUS_EXITED };
struct container_state {
    char id[65];
    const char *name; /* without the leading '/' */
    enum container_status status;
    pid_t pid;
    int exit_code;
    const char *error; /* NULL or "" when none */
    struct timespec created, started, finished;
};
#define STATE_FILE "state.json"
int state_write(int dirfd, const struct container_state *st, struct berr *err);
/* The same into STATE_FILE's temporary file, made ahead (atomic_file_open, 0600). */
int state_write_ahead(struct atomic_file *f, const struct container_state *st, struct berr *err);
/* Fills status, pid, exit_code, started, finished; *error gets a copy of Error. */
int state_read(int dirfd, struct container_state *st, char **error, struct berr *err);
const char *state_status_name(enum container_status s);

/* berth.json: what docker alone knows of the container, written once at create, in one
 * write: who made it (CreatorUid), its Name, Created, ImageID, the flags as given (HostConfig:
 * Binds, AutoRemove, CapAdd, CapDrop, GroupAdd, SecurityOpt and the resource flags) and
 * docker's Config (User, OpenStdin, Env, Cmd, Image, WorkingDir, Entrypoint). Everything
 * else inspect shows is rendered from config.json (docker.c). Written after config.json: a
 * directory with berth.json holds a complete container. */
#define RECORD_FILE "berth.json"
int record_write(int dirfd, uid_t creator, const struct container_spec *spec,
                 const struct container_state *st, struct berr *err);
int record_read(int dirfd, yajl_val *out, struct berr *err);
/* Whether caller (NULL: root) may see the container in dirfd: only its creator may, and a
 * container without berth.json (made by an older berth) is root's. Not visible, or not
 * readable: false with err set (BERR_NOT_FOUND "No such container: <id>" when not visible). */
bool record_visible(int dirfd, const struct ident *caller, const char *id, struct berr *err);

/* docker inspect's object for container id, from its description (config.json) and record
 * (berth.json). */
int docker_view(const char *id, yajl_val oci, yajl_val record, yajl_val *out, struct berr *err);

/* ---- what docker derives from the spec (spec.c) ---- */
/* runtime_spec_validate's checks, for a spec no front end validated. */
int spec_check(const struct container_spec *spec, struct berr *err);
/* Entrypoint + Cmd as docker combines them (--entrypoint drops the image's Cmd). */
void spec_command(const struct container_spec *spec, struct strv *argv);
/* The environment every process of the container starts from, as docker's Config.Env:
 * PATH (the image's or docker's default) first, then the image's and the user's variables. */
void spec_base_env(const struct container_spec *spec, struct strv *env);
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* pid 1's environment, docker's order: PATH, HOSTNAME, the image's and the user's variables,
 * HOME (the user's passwd entry's) when none of them set it. */
void spec_process_env(const struct container_spec *spec, const char *hostname, const char *home,
                      struct strv *env);
/* The working directory, cleaned as docker does; a relative image WorkingDir is taken from /. */
char *spec_workdir(const struct container_spec *spec);

/* ---- the OCI runtime spec (oci.c): the container's description, config.json ---- */
#define OCI_VERSION "1.0.2"
#define OCI_FILE "config.json"
/* What OCI has no field for. */
#define OCI_ANN_LAYERS "io.berth.layers"  /* the image's layer dirs, bottom first, ':' between */
#define OCI_ANN_UPPER "io.berth.upperdir" /* the overlay's upper and work dirs */
#define OCI_ANN_WORK "io.berth.workdir"
#define OCI_ANN_SECCOMP "io.berth.seccomp" /* the compiled filter's file in the state dir */
/* berth-oci: the bundle's root directory, bound (not overlaid) on the scaffold's rootfs */
#define OCI_ANN_ROOTFS "io.berth.rootfs"
#define OCI_ANN_BUNDLE "io.berth.bundle" /* berth-oci: the bundle's directory, for state */
/* "passwd" when process.env's HOME came from the user's passwd entry (exec -u takes the other
 * user's), and --group-add as given, ',' between (exec -u resolves them as docker does). */
#define OCI_ANN_HOME "io.berth.home"
#define OCI_ANN_GROUP_ADD "io.berth.group-add"
/* What create worked out for the description. */
struct oci_facts {
    const char *id;
    const char *hostname;
    const char *dir_path;      /* the state directory */
    const struct creds *creds; /* resolved from the image's files */
    const struct cap_set *caps;
    const char *seccomp_oci; /* linux.seccomp as JSON text; NULL: unconfined */
};
/* The description as JSON. */
yajl_gen oci_gen(const struct container_spec *spec, const struct oci_facts *f);
/* The options a default mount of mounts/ is listed with, and whether linux.resources.devices
 * is exactly cgroup/'s device policy: what ociread.c checks a description against. */
void oci_default_mount_options(const struct mounts_fs *m, struct strv *out);
bool oci_devices_are_berths(yajl_val devices);
/* "devices": cgroup/'s device policy as linux.resources lists it. */
void oci_gen_device_rules(yajl_gen g);

/* ---- the description read back (ociread.c): what the runtime starts a container from ----
 * Parsed once from the tree (config.json as written), checked against what berth can do:
 * anything the runtime would not apply exactly as listed (a mount type mounts/ does not make,
 * a resource cgroup/ does not write, rlimits, a user namespace) is refused, never ignored. */
struct oci_config {
    struct strv args, env;
    char *cwd;
    struct creds creds;  /* process.user; home is process.env's HOME ("/" without) */
    struct cap_set caps; /* bounding = effective = permitted; inheritable, ambient empty */
    bool no_new_privs;
    bool terminal; /* process.terminal: a bundle's only */
    char *root_path;
    bool root_readonly;
    char *hostname; /* NULL: none set */
    int namespaces; /* CLONE_NEW* flags: mount, pid, uts, ipc always, network when listed */
    /* mounts: docker's defaults (not kept: mounts/ makes them, checked to be what is listed),
     * the binds, and the /etc files (binds from etc_dir, read-only with the root) */
    struct mount_bind *binds;
    size_t nbinds;
    char *etc_dir;
    struct strv masked, readonly;
    struct cgroup_limits limits;       /* linux.resources, as cgroup_create takes them */
    char *cgroup_parent, *cgroup_name; /* linux.cgroupsPath, split at its last '/' */
    /* annotations */
    struct strv layers;
    char *upper, *work;
    char *seccomp_file; /* in the state directory; NULL: unconfined */
    char *bind_root;    /* a bundle's root dir to bind instead of the layers; NULL: layers */
    /* a bundle's kernel filesystems as listed (strings owned by fs_strings); NULL: docker's */
    struct mounts_fs *fs;
    size_t nfs;
    struct strv fs_strings;
    bool home_from_passwd;
    struct strv group_add;
};
/* dir_path: the container's state directory, where berth's /etc files come from. */
int oci_config_from_tree(yajl_val doc, const char *dir_path, struct oci_config *out,
                         struct berr *err);
/* config.json in dirfd (the state directory at dir_path), read and parsed. */
int oci_config_read_at(int dirfd, const char *dir_path, struct oci_config *out, struct berr *err);
void oci_config_free(struct oci_config *c);
/* "/a/b/<name>" → "/a/b" and "<name>" ("/" for a top-level one); BERR_FAILED when not absolute
 * or without a name. */
int oci_cgroups_path_split(const char *path, char **parent, char **name, struct berr *err);
/* Only linux.cgroupsPath of config.json in dirfd, split so. */
int oci_cgroups_read_at(int dirfd, char **parent, char **name, struct berr *err);

/* ---- the container log (logwrite.c; logread.c reads it) ----
 * Written by the monitor from the container's stdout and stderr pipes, one record per line,
 * capped: past max_bytes the file is rotated once (log → log.1), so a chatty container keeps
 * at most twice that on disk. Partial lines wait for their newline up to LOG_LINE_MAX. */
#define LOG_FILE "log"
#define LOG_OLD_FILE LOG_FILE ".1" /* the one rotated file kept */
#define LOG_MAX_BYTES (8u << 20)
#define LOG_LINE_MAX (16u << 10)
enum log_stream { LOG_STDOUT = 1, LOG_STDERR = 2 };
struct log_writer;
int log_writer_open(int dirfd, size_t max_bytes, struct log_writer **out, struct berr *err);
int log_writer_append(struct log_writer *w, enum log_stream stream, const char *buf, size_t n,
                      struct berr *err);
void log_writer_close(struct log_writer *w); /* flushes partial lines, frees */

/* ---- the state root's entries (statedir.c) ---- */
int container_dir_open(int runrootfd, const char *id, struct berr *err);
/* containers/<id>, which appears with its lock held: *dirfd (O_PATH) and *lockfd (O_RDWR, flock
 * LOCK_EX taken). Nothing is left when it fails. */
int container_dir_make(int runrootfd, const char *id, int *dirfd, int *lockfd, struct berr *err);
/* 1 when containers/<id> is gone for good: absent, or a creation cut short (no berth.json, and
 * a lock that nobody holds), which is then removed; 0 when a container, or a creation under
 * way, is there. */
int container_gone(int runrootfd, const char *id, struct berr *err);
/* 1 when dirfd (containers/<id>) holds berth.json; 0 when not: a creation under way, or one cut
 * short, which is then removed. */
int container_dir_recorded(int runrootfd, int dirfd, const char *id, struct berr *err);
/* Remove containers/<id> and release its name (when still the container's). The directory is
 * first renamed out of sight (containers/.removed-<id>) and the name released, so a removal
 * that fails or is killed midway leaves no half container that readers trip over or that
 * holds its name, only a leftover that the next removal sweeps. */
int container_dir_remove(int runrootfd, const char *id, const char *name, struct berr *err);
/* Reserve name for id (whose directory exists) atomically under runroot/names; a name that
 * points at a container that is gone (container_gone) is taken over. Conflict → BERR_CONFLICT,
 * docker's text. */
int name_reserve(int runrootfd, const char *name, const char *id, struct berr *err);
/* Only if the name still points at id: a later container may hold it by now. */
void name_release(int runrootfd, const char *name, const char *id);
/* The name released when the container it points at is gone: its removal or its creation was
 * cut short. */
void name_release_if_gone(int runrootfd, const char *name);

/* ---- names (names.c) ---- */
char *name_random(void); /* docker's adjective_surname */

/* ---- the store seen from any process (store.c) ---- */
int state_root_open(const struct runtime_paths *paths, struct berr *err); /* never creates it */
/* The state root, a container's directory and its lock, for any process that looks at it. */
struct container_handle {
    int root, dir, lock;
};
int container_handle_open(const struct runtime_paths *paths, const char *id,
                          struct container_handle *h, struct berr *err);
void container_handle_close(struct container_handle *h);
/* The container's lock file, access O_RDONLY (to look or wait) or O_RDWR (for the mounts
 * lock's holder, see mounts_lock_take). */
int lock_open(int dirfd, int access, struct berr *err);
/* A pidfd of pid 1, taken while the record says it runs and checked against the record again:
 * the monitor records the exit before it reaps, so the pid cannot have been reused between.
 * Not running → BERR_NOT_RUNNING. info (optional) gets the record. */
int container_open_pid1(const struct runtime_paths *paths, const char *id,
                        struct container_info *info, struct berr *err);
/* Whether a monitor (or berth run) holds the container's lock. */
bool monitor_alive(int lockfd);
/* flock(op), retried on EINTR. */
int lock_wait(int lockfd, int op, struct berr *err);
/* The mounts lock: an OFD write lock on the same file, which flock does not see. The monitor
 * holds it from the start until the container's namespaces, which it keeps open, are torn
 * down. That teardown (for the mounts two RCU grace periods: the tree's and the overlay's)
 * then comes after the exit is recorded and the flock let go, off the path of `wait` and of
 * pid 1's exit; rm and start, which need the mounts gone, wait for this lock too. lockfd must
 * be open for writing. */
int mounts_lock_take(int lockfd, struct berr *err);
void mounts_lock_release(int lockfd);
/* Until no one holds the mounts lock; lockfd open for reading will do. */
int mounts_lock_wait(int lockfd, struct berr *err);

/* ---- the container's side (init.c) ---- */
/* What the child starts from: the container's description, and how berth was invoked. */
struct init_args {
    const struct oci_config *config;
    struct mounts_spec mounts;            /* config's root, mounts and paths, for mounts/ */
    const struct seccomp_filter *seccomp; /* the file the description names; NULL: unconfined */
    bool interactive;                     /* stdin kept (docker -i); else /dev/null */
    int stdio[3]; /* put on the child's 0-2 before it starts; -1 keeps ours */
    int sync_fd;
    /* made before the clone: the child joins them first thing unless created in them already
     * (CLONE_INTO_CGROUP); NULL: made after the clone, their fds come with the release */
    const struct cgroup_set *cgroups;
    bool in_cgroups;
    const struct start_gate *gate; /* berth-oci's created state; NULL: start at once */
    /* set by the start: the child mounts on another CPU while the parent makes its cgroups,
     * and takes back all the CPUs at its release; NULL: none of that */
    const struct cpu_apart *apart;
    /* > 2: the caller's socket, where its go (GO_BYTE) comes before the clone, once its
     * files are all written (container_create_finish), and a second one before the release,
     * once its cidfile is (container_write_cidfile); 0 (unset): go at once */
    int go_fd;
    bool caller_gave_up; /* set by the start: no go came; the container is the caller's */
    /* a monitor leaves its caller's cgroups for its home (cgroup_home_join) once the child
     * is cloned, beside its mounts: leave_home when found already, else found then */
    bool leave_callers_cgroups;
    const struct cgroup_home *leave_home;
    bool leave_home_in_v2; /* born in the home's cgroup2 part already */
};

/* ---- berth-oci's created state (bundle.c makes the gate, init.c waits at it) ----
 * The init, ready but for its execve, says so on ready_fd (READY_BYTE) and waits until `start`
 * opens the exec fifo (fifo_fd, an O_PATH fd of it) and reads its byte: create and start are
 * two processes, as the runtime spec's lifecycle has them. */
struct start_gate {
    int fifo_fd, ready_fd;
    int console_fd; /* --console-socket's connection, for a terminal's master; -1: none */
    /* the create hooks' turn, between the mounts and pivot_root: the init says HOOKS_BYTE on
     * ready_fd and goes on at GO_BYTE on hooks_fd; -1: no such hooks */
    int hooks_fd;
};
#define HOOKS_BYTE 'H'
#define GO_BYTE 'G'
/* Whether GO_BYTE came on fd (a peer that closes, dies or says anything else: no go). */
bool go_received(int fd);
/* In the init, its mounts made, before pivot_root: the create hooks' turn; no-op without. */
int start_gate_hooks(const struct start_gate *gate, struct berr *err);
#define READY_BYTE 'R'
/* In the init, after setsid: a new pty from the container's devpts, its slave the init's
 * stdio and controlling terminal, its master sent over console_fd as runc sends it. */
int console_setup(int console_fd, struct berr *err);
/* In the init, last before the filter and execve; no-op without a gate. */
int start_gate_wait(const struct start_gate *gate, struct berr *err);

/* ---- berth-oci's pause and resume (freezer.c) ---- */
/* Whether the cgroups of the container at state directory dirfd are frozen (false when it has
 * none, or no freezer). */
bool oci_frozen_at(int dirfd);
int oci_freeze_at(int dirfd, bool freeze, struct berr *err);

/* ---- berth-oci: a bundle's config.json (bundleconf.c) ---- */
/* The bundle's directory (bundle_arg resolved) and its config.json. */
int bundle_read(const char *bundle_arg, char **bundle, yajl_val *doc, struct berr *err);
/* The container's description in *out: the bundle's, checked, with the root, berth's
 * annotations and a cgroupsPath of berth's for the state directory dir_path of container id64. */
int bundle_description(const char *bundle, yajl_val doc, const char *dir_path, const char *id64,
                       yajl_gen *out, struct berr *err);
/* linux.seccomp compiled into the state directory dirfd's filter; none: nothing. */
int bundle_compile_seccomp(const struct runtime_paths *paths, yajl_val doc, int dirfd,
                           struct berr *err);
/* linux.sysctl (of doc) checked, and with pid > 0 applied to it; process.rlimits by
 * runtime_oci_rlimits. */
int bundle_sysctls(yajl_val doc, pid_t pid, struct berr *err);

/* ---- berth-oci's init pid file (initpid.c) ---- */
/* Records pid as the init of the container in dirfd, with its start time. */
int oci_init_record(int dirfd, pid_t pid, struct berr *err);
/* A berth-oci container (one with init.pid in dirfd) whose init is the process recorded (pid
 * and start time) and alive: it runs without a monitor, its caller's subreaper reaps it. */
bool oci_init_alive(int dirfd, pid_t *pid);

/* ---- crash tests (stall.c) ---- */
/* With BERTH_TEST_STALL=point, stop here until killed; a no-op otherwise (and always for a
 * caller handed over by a setuid launcher, whose environment berth has cleared). Points: create,
 * mkcgroups (before the cgroups are made), cgroups, init, exit, recorded, reaped, stop, killed. */
void runtime_test_stall(const char *point);

/* ---- creation, start, reaping (create.c), shared by run and run -d ---- */
/* The namespaces whose teardown the monitor takes off pid 1's exit: the mount tree (two grace
 * periods), the network stack (its cleanup work takes a CPU while the exit is being handled)
 * and IPC, each only when the container has its own (hold_namespaces, create.c). */
#define HELD_NS 3

struct container {
    struct container_state st;
    char *name;
    int runrootfd;
    int dirfd;  /* containers/<id> */
    int lockfd; /* its lock, held LOCK_EX while the container may run */
    /* Its mount, network and IPC namespaces, kept open by the monitor past pid 1's exit
     * (mounts_lock_take); -1: not held. */
    int held_ns[HELD_NS];
    /* The next record's temporary file, made ahead by berth-monitor: the exit's record, which
     * `wait` waits for, then costs no create; fd -1: none. */
    struct atomic_file record_ahead;
    char *dir_path;
    char hostname[256];
    struct cgroup_set *cgroups;    /* from the start until the exit is collected; berth-monitor
                                    * opens them only then (container_collect) */
    struct seccomp_filter seccomp; /* compiled at create; read back from its file at the start */
    char *seccomp_oci;             /* its profile in OCI's form, as JSON text; NULL: unconfined */
    struct creds creds;            /* the user, from the image's /etc files */
    /* From the start on: config.json as read back, and its linux.cgroupsPath. */
    struct oci_config config;
    const char *cgroup_parent, *cgroup_name;
};

/* The container's filter in its state directory, for exec; only an unconfined container has
 * none. */
#define SECCOMP_FILE "seccomp.bpf"
/* The phases of a traced container's exit, written by berth-monitor for a traced `wait` to
 * show (util/trace.c); removed when the container is started again. */
#define EXIT_TRACE_FILE "exit-trace"

/* A container with no descriptor open yet. */
#define CONTAINER_NO_FDS                                                                           \
    .runrootfd = -1, .dirfd = -1, .lockfd = -1, .held_ns = {-1, -1, -1}, .record_ahead.fd = -1
_Static_assert(HELD_NS == 3, "CONTAINER_NO_FDS names each held namespace");

int runtime_open_root(const char *runroot, struct berr *err);
/* Validate, reserve the name, write the state directory (locked) with config.json, make missing
 * bind sources, write the cidfile; *a gets how the container is to be started (stdio), for
 * container_start. On failure nothing is left; c must still be closed. */
int container_create(const struct runtime_paths *paths, const struct container_spec *spec,
                     struct container *c, struct init_args *a, struct berr *err);
/* container_create in three: the description the start reads first (config.json,
 * seccomp.bpf); then the rest, which run -d's caller writes while its monitor reads that back:
 * the state directory's other files and the missing bind sources (a failed finish removes the
 * container); last the caller's cidfile, written while the monitor builds the container, which
 * runs nothing of its own before the caller's second go. */
int container_create_state(const struct runtime_paths *paths, const struct container_spec *spec,
                           struct container *c, struct init_args *a, struct berr *err);
int container_create_finish(struct container *c, const struct container_spec *spec,
                            struct berr *err);
int container_write_cidfile(const struct container *c, const struct container_spec *spec,
                            struct berr *err);
/* Read config.json back, which is all the start takes of the container, then clone, release,
 * learn the start's outcome; on success st.pid is set and "running" recorded. */
int container_start(struct container *c, struct init_args *a, struct berr *err);
/* runtime_run from a berth that runs from the read-only clone already: create, start, wait
 * and remove here, this process the monitor. */
int container_run_in_place(const struct runtime_paths *paths, struct container_spec *spec,
                           int *status, struct berr *err);
/* Wait for pid 1, passing on the signals berth gets, then record its exit and reap it. */
int container_wait_exit(struct container *c, struct berr *err);
/* Remove the container's cgroups, if it has any; a failure is only logged (debug). */
void container_drop_cgroups(struct container *c);
/* Record the exit of pid, which stays unreaped. */
int container_record_exit(struct container *c, pid_t pid, struct berr *err);
/* Then reap pid and remove the cgroups (opened by the cgroupsPath when not held). */
void container_collect(struct container *c, pid_t pid);
/* Once the exit is on record (and with --rm the container removed): waiters (wait, stop, the
 * flock) may go. */
void container_release_waiters(struct container *c);
/* Then the namespaces are let go of, and with them the mounts lock. */
void container_release_mounts(struct container *c);
/* Close the held namespaces, the mounts first (their teardown happens here). */
void held_ns_close(struct container *c);
/* The held namespaces as berth-monitor's argument, "MNT,NET,IPC" (-1: not held), and back. */
#define HELD_NS_ARG_MAX 48
void held_ns_format(const int held[HELD_NS], char out[HELD_NS_ARG_MAX]);
bool held_ns_parse(const char *s, int held[HELD_NS]);
void container_record(struct container *c, enum container_status status);
/* Remove the state directory and release the name. */
void container_destroy(struct container *c);
void container_close(struct container *c);

/* ---- berth-monitor's program (keeper.c) ---- */
/* What a monitor's next program gets of berth's environment: debug output, the stall points
 * (runtime_test_stall), and the trace fd, which crosses the exec named here (the program
 * traces up to its loop and closes it, so that it does not hold the caller's stderr). */
struct monitor_env {
    char debug[32], stall[64], trace[32], trace_fd[32];
    char *envp[5];
};

void monitor_env_make(struct monitor_env *e);
/* Hands the started container c to berth-monitor (its output pipes out and err_fd): returns
 * only when that program is missing or its exec failed, and c is then kept in place. */
void exec_monitor_program(struct container *c, bool remove, int out, int err_fd);

/* ---- after the start (reaper.c): the monitor's loop, in berth or as berth-monitor ---- */
/* Log the output pipes until pid 1 (c->st.pid, our child) is gone; record; clean up. */
void monitor_after_start(struct container *c, bool remove_on_exit, int out, int err_fd);

/* ---- starting and waiting for a process in a container (process.c) ---- */
/* A fork-like clone3 (no new stack) straight into the cgroup2 directory cgfd, with flags:
 * nothing migrates, so nothing waits for the kernel's threadgroup lock. -1 (errno) when
 * cgfd < 0 or the kernel cannot (before 5.7). */
pid_t clone_into_cgroup(unsigned long flags, int cgfd);
/* A child that works beside its caller starts on another CPU than the caller's. Left to
 * itself, the scheduler wakes the caller, or places the new child, on the CPU the other one
 * runs on (on a KVM guest an idle vCPU looks preempted, so it is passed over), and one waits
 * there for the other's time slice while the other CPU idles: 0.5-0.7 ms here. Until
 * cpu_apart_release, the child may not use the caller's CPU; whatever it creates meanwhile
 * inherits that. */
struct cpu_apart {
    cpu_set_t all, away; /* the caller's CPUs; the same without the one it runs on */
    int here;
    bool on; /* false: a single CPU, nothing to do */
};
/* Plan for a child of the calling process, on the CPU it runs on now. */
void cpu_apart_plan(struct cpu_apart *a);
/* pid (0: the caller) off the planner's CPU. */
void cpu_apart_send_away(const struct cpu_apart *a, pid_t pid);
/* The caller may use all the planner's CPUs again (the child, itself, once it runs apart no
 * more). */
void cpu_apart_release(const struct cpu_apart *a);
/* A process sharing the caller's memory until it execs, which runs beside its caller in the
 * meantime: posix_spawn's CLONE_VFORK stopped the caller for the whole exec (0.4-0.6 ms
 * here). Nothing of the caller is copied, and its pages stay its own rather than turning
 * copy-on-write for the rest of its run. fn(arg) runs on s's stack with every signal blocked,
 * and ends with spawn_beside_exec or returns an exit status; it may make system calls only
 * through raw_syscall (errno, and whatever libc keeps, are still the caller's) and read only
 * memory the caller leaves alone until spawn_beside_wait says the exec is done. Born in the
 * cgroup2 directory cgfd when cgfd >= 0 and the kernel can: *in_cgroup says so, set before
 * fn runs. With apart, the child is sent off the caller's CPU. */
struct spawn_beside {
    _Alignas(16) char stack[16384];
    int (*fn)(void *);
    void *arg;
    sigset_t mask; /* the caller's, which the exec takes back */
    pid_t tid;     /* cleared by the kernel once the child has exec'd or exited */
    bool go_away;  /* the child moves itself to away at once */
    cpu_set_t away;
};
pid_t spawn_beside(struct spawn_beside *s, int (*fn)(void *), void *arg, int cgfd, bool *in_cgroup,
                   const struct cpu_apart *apart);
/* For fn and what it calls: the child's stack frames must leave no AddressSanitizer marks in
 * the memory, and its shadow, that it shares with the caller. */
#define SPAWN_BESIDE_CHILD __attribute__((no_sanitize_address))
/* The child's exec of the file dirfd (execveat, AT_EMPTY_PATH), with the caller's signal mask
 * back; 127 when it failed. */
int spawn_beside_exec(const struct spawn_beside *s, int dirfd, char *const argv[],
                      char *const envp[]);
/* Until the child of s has exec'd or exited (at once when there was none, or no spawn yet on a
 * zeroed s): then s, and what fn read, may go. */
void spawn_beside_wait(struct spawn_beside *s);
/* A system call that leaves errno alone: -errno on failure. */
long raw_syscall(long nr, long a, long b, long c, long d, long e);
/* fchdir to fd, the working directory wd resolved inside the container's root, checked: a
 * cwd outside the root reads "(unreachable)...". */
int enter_workdir_fd(int fd, const char *wd, struct berr *err);
/* runc's order, for pid 1 and exec alike: without no_new_privs, installing a filter needs
 * CAP_SYS_ADMIN, so the filter goes on before the capabilities go (and the rest of the start
 * must pass it); with no_new_privs, no_new_privs is set here and the filter is the caller's
 * last step before execve. */
int drop_privileges(const struct cap_set *caps, const struct creds *c,
                    const struct seccomp_filter *filter, bool no_new_privs, struct berr *err);
/* Send err over the sync socket and _exit with docker's code for it (127, 126, else 125),
 * which is all the parent learns when the send fails: the child's way to fail. */
void sync_report_and_exit(int sync_fd, const struct berr *err) __attribute__((noreturn));
const char *env_value(const struct strv *env, const char *key);
/* docker's texts for what execve said: 126 (BERR_CMD_NOT_EXEC) or 127 (BERR_CMD_NOT_FOUND). */
int exec_error(struct berr *err, int errnum, const char *cmd);
/* Go's exec.LookPath over env's PATH, as runc does before it starts the process; a name
 * with a slash is checked as execve would (missing, a directory, not executable). */
int look_path(const char *name, const struct strv *env, char **out, struct berr *err);
/* Every handler back to SIG_DFL, nothing blocked: what execve should see. */
void reset_signals(void);
/* Wait until pid (a child) exited, forwarding SIGINT/TERM/HUP/QUIT/USR1/USR2 to it; reap or
 * leave it for the caller (WNOWAIT). */
int wait_forwarding_signals(pid_t pid, bool reap, siginfo_t *si, struct berr *err);
/* The same loop for a caller that waits on more than the signals: step runs between two checks
 * of the child, with the forwarded signals and SIGCHLD readable on the non-blocking signalfd
 * sfd; it may wait on its own fds too, and passes on what sfd holds with
 * signal_forward_pending (to pid, SIGCHLD dropped). */
typedef void (*wait_step)(int sfd, pid_t pid, void *ctx);
int wait_forwarding_signals_while(pid_t pid, bool reap, wait_step step, void *ctx, siginfo_t *si,
                                  struct berr *err);
void signal_forward_pending(int sfd, pid_t pid);
/* docker's sig-proxy: the signals a user sends berth (INT, TERM, HUP, QUIT, USR1, USR2) go on
 * to the container's process. Blocks them and SIGCHLD (*old: the mask before) and returns a
 * signalfd of them. */
int signals_forward_fd(sigset_t *old, struct berr *err);
/* The command's status as docker reports it: its exit code, or 128+N when killed by N. */
int siginfo_exit_status(const siginfo_t *si);
/* ---- exec's stdio (relay.c): pipes between the command and berth's own 0-2 ---- */
struct relay {
    int child[3];           /* the command's 0-2, until handed to the joiner */
    int in_w, out_r, err_r; /* berth's ends, non-blocking; in_w -1 when stdin is given */
    bool in_open;           /* berth's stdin still copied to in_w */
    char *buf, *in_buf;
    size_t pending, done; /* bytes of in_buf read from stdin, and written on */
};
/* Pipes for the command's stdout and stderr, and for its stdin unless stdin_fd (>= 0, e.g.
 * /dev/null) is given; relay_close frees them, also after a failure. */
int relay_open(struct relay *r, int stdin_fd, struct berr *err);
/* In the child: the command's ends onto 0-2 (-1, errno). */
int relay_install_child_side(const struct relay *r);
/* In berth, once the child has its copies. */
void relay_close_child_side(struct relay *r);
/* Copy between the pipes and berth's 0-2 until pid (a child) exits, forwarding signals as
 * wait_forwarding_signals does; reaps it. */
int relay_wait(struct relay *r, pid_t pid, siginfo_t *si, struct berr *err);
void relay_close(struct relay *r);

/* ---- berth's own binary (selfexe.c) ---- */
/* Whether berth runs from the private read-only clone runtime_reexec_readonly makes: what every
 * process that enters a container must run from. */
bool self_is_readonly_clone(void);
/* A read-only clone of berth's binary to execveat (AT_EMPTY_PATH), never attached anywhere;
 * *argv0 gets a path naming berth for the new process (see open_berth_program). */
int self_readonly_clone(char **argv0, struct berr *err);
/* O_PATH of berth's program name: beside this program's installed binary (a build tree, a
 * copied tree; the clone has no path of its own, its argv[0] says where), else in the
 * LIBEXECDIR berth was built for (an installed berth); only a regular file that only root can
 * change. *path, when given, says where. -1 when there is none. */
int open_berth_program(const char *name, char **path);
/* The same as self_readonly_clone for that program: -1 when there is none, or it cannot be
 * cloned (said with --debug). */
int program_readonly_clone(const char *name, char **argv0);

/* Runs in the cloned child; returns only on failure, after reporting it on sync_fd. */
void init_container(const struct init_args *a) __attribute__((noreturn));

/* The parent's messages to the child, in this order: TREES_BYTE and whether /dev comes too,
 * with the binds' trees and then /dev (none: the child makes them), then the release (one
 * byte, with the v1 cgroups' "tasks" files). */
#define TREES_BYTE 'T'

/* Sync messages: the child sends one on failure; EOF (the CLOEXEC socket closing at execve)
 * means the command is running. */
struct sync_msg {
    int32_t errnum;
    int32_t kind;
    char msg[2048];
};
/* err as a message, and back (the text cut at the buffer's end). */
void sync_msg_from_berr(struct sync_msg *m, const struct berr *err);
void sync_msg_to_berr(struct sync_msg *m, struct berr *err);

#endif
