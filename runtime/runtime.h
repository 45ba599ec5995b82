/* runtime — a container's life: the validated spec, ids and names, the state directory, the
 * clone into new namespaces with its sync socket, the init side (hostname, credentials,
 * capabilities, no_new_privs, exec), and waiting for the exit status. Uses mounts/ for the
 * filesystem view; gets the image as plain data (layer dirs and config) from its caller. */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include "cgroup/cgroup.h"
#include "mounts/mounts.h"
#include "util/util.h"

/* --security-opt seccomp=: berth's built-in default profile (no option, or "builtin"), no
 * filter ("unconfined"), or a docker-format profile file, read by the front end. */
enum runtime_seccomp {
    RUNTIME_SECCOMP_DEFAULT = 0,
    RUNTIME_SECCOMP_UNCONFINED,
    RUNTIME_SECCOMP_PROFILE
};

/* berth has no bridge: a container gets its own network namespace with only lo (--net=none,
 * also the default) or shares the host's (--net=host). */
enum net_mode { NET_NONE, NET_HOST };

/* Everything `berth run` was asked for, plain data. Built by the front end, validated by
 * runtime_spec_validate, owned by the caller (runtime_spec_free). */
struct container_spec {
    char *name;      /* without the leading '/'; NULL → a random adjective_surname */
    char *image_ref; /* as the user wrote it, for State/Config.Image */
    char *image_id;  /* 64 hex */

    /* From the image (filled by the front end from image/). */
    struct strv layers;
    struct strv image_env;
    struct strv image_entrypoint;
    struct strv image_cmd;
    char *image_workdir;
    char *image_user;

    /* From the command line. */
    bool entrypoint_set; /* --entrypoint given ("" clears the image's) */
    struct strv entrypoint;
    struct strv cmd;
    struct strv env; /* "K=V" from -e and --env-file, in order (the front end resolves a bare K) */
    char *user;
    struct strv group_add;
    char *workdir;
    char *hostname;
    enum net_mode net;
    bool readonly_root;
    bool remove_on_exit;
    bool interactive;
    bool no_new_privs;
    char *cidfile; /* must not exist; gets the id (no newline) before the start */
    /* Who asked, when not root: a user handed over by a setuid launcher. The cidfile is made
     * as this user, and the container is recorded as its. NULL: root. */
    const struct ident *caller;
    char *cgroup_parent; /* absolute; NULL → RUNTIME_CGROUP_PARENT */
    struct cgroup_limits limits;
    struct strv cap_add;
    struct strv cap_drop;
    struct mount_bind *binds;
    size_t nbinds;
    enum runtime_seccomp seccomp;
    char *seccomp_path;    /* RUNTIME_SECCOMP_PROFILE: as given, for messages and inspect */
    char *seccomp_profile; /* and its bytes as read */
    size_t seccomp_profile_len;

    /* Called with a line for the user before the container starts (a seccomp profile's
     * skipped names); NULL drops them. */
    void (*warn)(const char *msg);
    bool validated; /* set by runtime_spec_validate */
};

#define RUNTIME_CGROUP_PARENT "/berth"

void runtime_spec_free(struct container_spec *spec);

/* Docker's checks that need no image: name regex, workdir absolute, capability names,
 * mount destinations. BERR_USAGE on bad input. Once passed, spec->validated says so, and
 * create does not check again (a front end validates early, for docker's order of errors). */
int runtime_spec_validate(struct container_spec *spec, struct berr *err);

/* docker's name rule: ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$ after one optional leading '/'. */
bool runtime_name_valid(const char *name);

struct runtime_paths {
    const char *runroot; /* state root, e.g. /run/berth */
    const char *root;    /* data root, e.g. /var/lib/berth */
    /* Who is looking: a user handed over by a setuid launcher finds, lists and acts on the
     * containers it created only. NULL: root, who sees all. */
    const struct ident *caller;
};

/* Re-execute berth, same argv (argv[0] its path), from a private read-only mount of its
 * binary, unless it runs from one already: run, exec and join refuse to start a process in a
 * container otherwise (CVE-2019-5736, see selfexe.c). Call it before anything is read or
 * created, as the start is replayed; returns 0 only in the re-executed berth. envp is the
 * environment to replay; handed_over, when set, the caller a setuid launcher handed berth
 * (real uid 0, effective uid and groups the caller's) as the re-executed berth must find it
 * again. */
int runtime_reexec_readonly(char *const envp[], const struct ident *handed_over, struct berr *err);
/* The directory berth was installed in (berth-monitor, berth.conf live beside it), also in
 * the re-executed berth whose binary has no path of its own; NULL when unknown. */
char *runtime_install_dir(void);
/* A run's monitor: `berth __monitor FD IN_V2 attached|detached CLONE_FD`, which the caller of
 * run starts from a read-only clone while it creates the container (monitor.c); root's only.
 * Never returns once it has the container; 0 when the caller gave up before handing one over
 * or saying go, 125 when misused. RUNTIME_PROGRAM, installed beside berth-monitor, is a static
 * program that serves only this, for the containers on the host's network. */
#define RUNTIME_MONITOR_COMMAND "__monitor"
#define RUNTIME_PROGRAM "berth-runtime"
int runtime_monitor_serve(int argc, char **argv);
/* Lets this program's containers have a network namespace of their own: their lo is brought
 * up through libmnl, loaded when first needed (net.c). Every program that starts containers
 * calls it first, except RUNTIME_PROGRAM, which is static and so cannot load a library, and
 * is never handed such a container: there the start fails, saying so. */
void runtime_net_with_libmnl(void);
/* Whether this berth already runs from such a clone (BERTH_TRACE names the process by it). */
bool runtime_is_readonly_clone(void);

/* Run the container in the foreground: create, start, wait. *status is what `docker run`
 * exits with (the command's status, 128+N when killed by signal N). Errors before the
 * command runs come back in err with kind BERR_CMD_NOT_FOUND / BERR_CMD_NOT_EXEC / others.
 * ahead: an attached monitor (runtime_monitor_ahead, taken over and freed), or NULL to start
 * one here. */
struct runtime_monitor;
int runtime_run(const struct runtime_paths *paths, struct container_spec *spec,
                struct runtime_monitor *ahead, int *status, struct berr *err);
/* docker's exit status for a container that could not start: 127 (command not found),
 * 126 (not executable), 125 (anything else). */
int runtime_start_exit_code(enum berr_kind kind);

/* ---- detached containers and the state store ---------------------------------------------
 * One directory per container under <runroot>/containers/<id>: config.json (the OCI
 * runtime spec, the container's one description, written once at create), berth.json (written
 * once at create: the creator's uid and, as docker inspect names them, Id, Name, Created, Path,
 * Args, Image, Config, HostConfig, Mounts), state.json (Status, Running, Pid, ExitCode, Error,
 * StartedAt, FinishedAt, OOMKilled; replaced atomically), lock (flock held by the container's
 * monitor for as long as the container may run: a free lock means no monitor), log. */

/* `run -d`: create, start under a monitor detached from the caller (own session, none of the
 * caller's fds), and return once the command runs (126/127 are still reported here). ahead:
 * a detached monitor (runtime_monitor_ahead, taken over and freed), or NULL to start one here. */
int runtime_run_detached(const struct runtime_paths *paths, struct container_spec *spec,
                         struct runtime_monitor *ahead, char id_out[65], struct berr *err);
/* A run's monitor started before its container is described: its own start, an exec of a
 * read-only clone of berth or berth-runtime (~0.45 or ~0.35 ms here), then runs beside the
 * caller's work on the spec and the image instead of after it. attached: a foreground run's,
 * which takes over the signals the caller gets (blocked here until the monitor is freed). net:
 * the container's, which picks the program. *out NULL where none is needed (berth runs from
 * such a clone already). Freed unused, the monitor leaves. */
int runtime_monitor_ahead(struct runtime_monitor **out, bool attached, enum net_mode net,
                          struct berr *err);
void runtime_monitor_free(struct runtime_monitor *m);

/* `create`: the container made and recorded as run -d makes it, and left "created": no
 * process, no cgroups, its lock free, until runtime_start. */
int runtime_create(const struct runtime_paths *paths, const struct container_spec *spec,
                   char id_out[65], struct berr *err);
/* `start`: a created container (or one that exited, as docker restarts it) started under a
 * monitor as run -d starts a new one, --rm (recorded at create) included; returns once its
 * command runs (126/127 reported here; the container stays "created" with the error). One that
 * runs already is left alone. */
int runtime_start(const struct runtime_paths *paths, const char *id, struct berr *err);

/* The entry point of the small berth-monitor program that run -d's monitor becomes once the
 * container runs (it keeps its pid, so pid 1 stays its child). */
int runtime_monitor_main(int argc, char **argv);

/* docker's lookup order: full id, name (with or without '/'), unique id prefix.
 * Not found → BERR_NOT_FOUND "No such container: X"; ambiguous → BERR_FAILED. */
int runtime_find(const struct runtime_paths *paths, const char *ref, char id_out[65],
                 struct berr *err);
/* Every container id in the state root (no order). */
int runtime_list(const struct runtime_paths *paths, struct strv *ids, struct berr *err);

struct container_info {
    char id[65];
    char *name;         /* without the leading '/' */
    const char *status; /* "created", "running" or "exited" — a dead monitor reads as exited */
    bool running;
    pid_t pid; /* host pid of the container's pid 1 while running, else 0 */
    int exit_code;
    char *error;                                /* "" when none */
    struct timespec created, started, finished; /* tv_sec 0 when not yet */
    yajl_val config; /* docker inspect's object, rendered from config.json and berth.json (owned) */
};
int runtime_inspect(const struct runtime_paths *paths, const char *id, struct container_info *out,
                    struct berr *err);
void container_info_free(struct container_info *info);
/* Every container the caller may see, inspected, in no order. One removed meanwhile is left
 * out; one that cannot be read is left out with "<id>: <why>" added to *unreadable, or, with
 * unreadable NULL, fails the call (a caller that must not act on a partial list). */
int runtime_inspect_all(const struct runtime_paths *paths, struct container_info **out, size_t *n,
                        struct strv *unreadable, struct berr *err);
void container_infos_free(struct container_info *v, size_t n);

/* Block until the container is not running (also when another process started it); its exit
 * code then. */
int runtime_wait(const struct runtime_paths *paths, const char *id, int *exit_code,
                 struct berr *err);
/* SIGTERM (or sig) to pid 1, SIGKILL after timeout_s (-1: wait forever), return once exited.
 * Not running: nothing to do. */
int runtime_stop(const struct runtime_paths *paths, const char *id, int sig, int timeout_s,
                 struct berr *err);
/* Deliver sig to pid 1; for SIGKILL also wait (≤ 10 s) until it exited. Not running →
 * BERR_FAILED "container <id> is not running". */
int runtime_kill(const struct runtime_paths *paths, const char *id, int sig, struct berr *err);
/* The container's cgroups, found from linux.cgroupsPath of its config.json (for stats and rm;
 * free with cgroup_set_free). None (not made yet, or gone with the exit): BERR_NOT_FOUND. */
int runtime_container_cgroups(const struct runtime_paths *paths, const char *id,
                              struct cgroup_set **out, struct berr *err);
/* Remove state, log and name. Running: BERR_CONFLICT unless force (then SIGKILL + wait). */
int runtime_remove(const struct runtime_paths *paths, const char *id, bool force, struct berr *err);

struct logs_opts {
    bool follow;     /* keep printing until the container stops */
    long tail;       /* last N records over both streams, -1 for all */
    bool timestamps; /* prefix each line with its RFC 3339 time, as docker logs -t */
    int out_fd, err_fd;
};
/* Copy the container's log (stdout records to out_fd, stderr records to err_fd). */
int runtime_logs(const struct runtime_paths *paths, const char *id, const struct logs_opts *opts,
                 struct berr *err);

struct exec_spec {
    struct strv cmd;
    char *user;       /* NULL: the container's user */
    char *workdir;    /* NULL: the container's working directory */
    struct strv env;  /* K=V added to the container's environment */
    bool interactive; /* keep stdin; else /dev/null */
    /* Detached (berth-oci exec -d): the command gets the caller's 0-2 as they are, and
     * runtime_exec returns once it runs, its host pid here, without waiting: the caller's
     * exit leaves it to the caller's subreaper. NULL: wait, relaying stdio. */
    pid_t *detached_pid;
};
/* Run cmd inside the running container: all its namespaces (and cgroups), its user (or
 * exec's), capabilities, no_new_privs (and seccomp); *status as for run. */
int runtime_exec(const struct runtime_paths *paths, const char *id, const struct exec_spec *spec,
                 int *status, struct berr *err);

/* berth join, nsenter's way in: the namespaces asked for (CLONE_NEW* flags; 0: every one of
 * the target's that is not already ours), the command forked into the target's pid namespace
 * with only the ids asked for. No seccomp filter, no cgroup, no capability drop but what
 * setuid implies: for profilers. */
struct join_spec {
    const char *container; /* a container id (its pid 1 is the target), or NULL */
    pid_t target_pid;      /* without a container */
    int namespaces;
    bool set_uid, set_gid;
    uid_t uid;
    gid_t gid;
    const char *user;          /* a name or uid looked up in the container's /etc/passwd, or NULL */
    bool preserve_credentials; /* keep the supplementary groups when the ids change */
    /* no_new_privs before the exec: a setuid file of the image then gives nothing (for a
     * caller who is not root: its setuid-root file would give every capability, host's
     * namespaces but the container's mount and pid ones) */
    bool no_new_privs;
    const char *workdir; /* NULL: the root of the mount namespace entered */
    struct strv argv;    /* the command, searched in PATH */
    const char *program; /* what to execute when not argv[0] (a login shell's "-sh") */
};
/* nsenter's name of a namespace kind ("mnt", "pid", ...) as its CLONE_NEW* flag; 0 if none. */
int runtime_join_namespace_flag(const char *name);
/* *status is the command's exit status (128+N when killed by signal N). A command that cannot
 * be executed: BERR_CMD_NOT_FOUND / BERR_CMD_NOT_EXEC. */
int runtime_join(const struct runtime_paths *paths, const struct join_spec *spec, int *status,
                 struct berr *err);

/* ---- berth-oci: the OCI runtime command line's lifecycle (bundle.c, bundleconf.c) ---------
 * A container is made from a bundle (its config.json, its root directory bound as it is),
 * named by its OCI id, and waits in the created state, its init ready but for the execve,
 * until runtime_oci_start. */
struct runtime_oci_create_opts {
    int console_fd; /* a connection to --console-socket, for process.terminal's pty; -1: none */
    /* The bundle's prestart, createRuntime and createContainer hooks, called once the init has
     * made its mounts and waits before its pivot_root (its pid recorded: state has it); a
     * failure undoes the create. NULL, or a bundle without them: the init does not wait. */
    int (*create_hooks)(void *ctx, struct berr *err);
    void *ctx;
};
int runtime_oci_create(const struct runtime_paths *paths, const char *oci_id, const char *bundle,
                       const struct runtime_oci_create_opts *opts, pid_t *pid, struct berr *err);
int runtime_oci_start(const struct runtime_paths *paths, const char *oci_id, struct berr *err);
/* The id of the container named oci_id exactly; BERR_NOT_FOUND otherwise. */
int runtime_oci_find(const struct runtime_paths *paths, const char *oci_id, char id64[65],
                     struct berr *err);
struct runtime_oci_state {
    char id64[65];
    const char *status; /* "created", "running", "stopped" */
    pid_t pid;          /* the init's, 0 when stopped */
    char *bundle, *rootfs;
    struct timespec created;
    yajl_val description; /* the container's config.json (annotations: the bundle's and berth's) */
};
int runtime_oci_state(const struct runtime_paths *paths, const char *oci_id,
                      struct runtime_oci_state *out, struct berr *err);
void runtime_oci_state_free(struct runtime_oci_state *s);
/* sig to the init, or with all to every process of the container. Stopped: BERR_NOT_RUNNING. */
/* runc's pause (a running container's cgroups frozen: state says "paused") and resume (pause
 * false); BERR_NOT_RUNNING when the container is not running, or not paused. */
int runtime_oci_pause(const struct runtime_paths *paths, const char *oci_id, bool pause,
                      struct berr *err);
int runtime_oci_kill(const struct runtime_paths *paths, const char *oci_id, int sig, bool all,
                     struct berr *err);
/* Running: BERR_CONFLICT unless force (then killed). A created one is killed and removed. */
int runtime_oci_delete(const struct runtime_paths *paths, const char *oci_id, bool force,
                       struct berr *err);
/* The container's processes (host pids), none when stopped. */
int runtime_oci_pids(const struct runtime_paths *paths, const char *oci_id, pid_t **pids, size_t *n,
                     struct berr *err);
/* A runtime-spec process's rlimits (list): each a known type once, integers soft <= hard;
 * with pid > 0 set on that process. Errors begin with where (the file they came from). */
int runtime_oci_rlimits(yajl_val list, pid_t pid, const char *where, struct berr *err);
/* A default config.json for a bundle whose root is ./rootfs, as berth-oci applies it
 * (bundleconf.c, as is runtime_oci_rlimits). */
yajl_gen runtime_oci_default_spec(void);

/* The container's bounding set as a bitmask (bit n = capability n), docker's
 * TweakCapabilities over its default set; names as the user wrote them ("chown", "ALL"). What
 * seccomp profiles are flattened against. */
int runtime_cap_bounding(const struct strv *add, const struct strv *drop, uint64_t *out,
                         struct berr *err);

/* Capability name handling (docker's NormalizeLegacyCapabilities): "chown", "CAP_CHOWN" →
 * "CAP_CHOWN"; "ALL" stays "ALL". Unknown → BERR_USAGE `unknown capability: "CAP_X"`. */
int runtime_cap_normalize(const char *name, char **out, struct berr *err);

#endif
