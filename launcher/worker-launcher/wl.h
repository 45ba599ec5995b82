/* berth's worker-launcher: Storm's setuid launcher protocol over berth's library. Private to
 * this folder; the threat model is at the top of main.c. */
#ifndef BERTH_WL_H
#define BERTH_WL_H

#include "conf/conf.h"
#include "util/util.h"

#include <sys/types.h>

/* Storm's exit codes (worker-launcher.h, storm-interface.md §3.4) */
enum wl_exit {
    WL_INVALID_ARGUMENT_NUMBER = 1,
    WL_INVALID_USER_NAME = 2,
    WL_INVALID_COMMAND_PROVIDED = 3,
    WL_SETUID_OPER_FAILED = 6,
    WL_UNABLE_TO_EXECUTE_CONTAINER_SCRIPT = 7,
    WL_UNABLE_TO_SIGNAL_CONTAINER = 8,
    WL_INVALID_CONTAINER_PID = 9,
    WL_UNABLE_TO_BUILD_PATH = 21,
    WL_INVALID_CONTAINER_EXEC_PERMISSIONS = 22,
    WL_INVALID_CONFIG_FILE = 24,
    WL_SETSID_OPER_FAILED = 25,
    WL_ERROR_OPENING_FILE = 30,
    WL_ERROR_READING_FILE = 31,
    WL_ERROR_SANITIZING_DOCKER_COMMAND = 39,
    WL_ERROR_OCI_RUN_FAILED = 44,
    WL_ERROR_OCI_REAP_LAYER_MOUNTS_FAILED = 45,
    WL_FAILED = 255,
};

/* Everything a mode needs, settled by main before dispatch. */
struct wl {
    struct conf cfg;
    struct wl_policy policy;
    /* the supervisor that ran us: its real uid, the launcher group, its groups; command files
     * and scripts are read with these rights */
    struct ident launcher;
    /* the <user> of argv: uid, primary gid, its groups; containers run as it */
    struct ident user;
    const char *user_name;
    char *root, *runroot; /* berth's stores (berth.conf beside the binary, else the defaults) */
    /* berth.conf's cgroup-parent and seccomp-profile, for a command file without the flag
     * (NULL: berth's built-in ones); the caller's environment never sets them */
    char *cgroup_parent, *seccomp_profile;
};

/* docker.c: run-docker-cmd, and launch-docker-container (launch: `run` only) */
int wl_run_docker_cmd(struct wl *wl, const char *cmdfile, bool launch);
/* the first line of a file read with who's rights: 30 when it cannot be opened, 31 when
 * empty; *line without its '\n' */
int wl_read_first_line(const struct ident *who, const char *path, char **line);

/* policy.c: what the privileged binary allows a command file */
struct container_spec;
int wl_policy_check(const struct wl *wl, struct container_spec *spec, struct berr *err);
/* path resolved with the <user>'s rights (who must reach it), or NULL with err naming it what */
char *wl_user_realpath(const struct wl *wl, const char *what, const char *path, struct berr *err);
/* a bind source resolved as the <user>, not "/", under docker.allowed.mounts: what gets bound */
char *wl_bind_source(const struct wl *wl, const char *source, struct berr *err);
/* profile.c */
int wl_profile_docker_container(struct wl *wl, const char *wid, const char *cmdfile);
int wl_profile_oci_container(struct wl *wl, const char *pid, const char *cmdfile);

/* oci.c: Storm's runc path (storm-interface.md §6) over berth-oci's runtime calls */
int wl_run_oci_container(struct wl *wl, const char *config, const char *artifacts);
int wl_reap_oci_container(struct wl *wl, const char *cid, const char *keep);
struct runtime_paths;
/* pid is the init of a created or running OCI container the paths' caller may see */
bool wl_oci_pid_is_init(const struct runtime_paths *paths, pid_t pid);

/* ocicfg.c: Storm's oci-config.json, read as the launcher and checked (§6.2) */
struct wl_oci {
    yajl_val doc;
    const char *username, *cid, *pid_file, *script; /* in doc */
    yajl_val rt;                                    /* ociRuntimeConfig */
    struct strv layers;                             /* the paths, base first */
    struct strv binds; /* the mounts' sources as wl_oci_resolve_binds resolved them */
};
/* 0, or the exit code (24: unreadable or invalid, 255: another user than the <user>) */
int wl_oci_read(const struct wl *wl, const char *path, struct wl_oci *o);
void wl_oci_free(struct wl_oci *o);
bool wl_oci_id_valid(const char *cid);
/* the mounts' sources as the <user> resolves them, each allowed (wl_bind_source), before
 * anything is made: 0, or 24 (the config's binds break the policy) */
int wl_oci_resolve_binds(const struct wl *wl, struct wl_oci *o);
/* the bundle's config.json, its root rootfs, its binds o->binds (wl_oci_resolve_binds) */
int wl_oci_bundle_config(const struct wl *wl, const struct wl_oci *o, const char *rootfs,
                         yajl_gen *out, struct berr *err);

/* ocilayers.c: the run root, layer mounts, a container's overlay root */
struct wl_oci_root {
    int fd, layers, lock; /* the run root, its layers/, layers/lock (held exclusively) */
    char *path;
};
int wl_oci_run_root(const struct wl *wl, struct wl_oci_root *r, struct berr *err);
void wl_oci_root_close(struct wl_oci_root *r);
int wl_oci_open_layer(const struct wl *wl, const char *path, struct berr *err);
int wl_oci_mount_layer(const struct wl_oci_root *r, const char *path, int fd, char **mnt,
                       struct berr *err);
int wl_oci_reap_layers(const struct wl_oci_root *r, long long keep, struct berr *err);
int wl_oci_mount_rootfs(const struct wl_oci_root *r, const char *cid, const struct strv *mnts,
                        char **rootfs, struct berr *err);
int wl_oci_remove_rootfs(const struct wl_oci_root *r, const char *cid, struct berr *err);

/* generic.c: code-dir, artifacts-dir, blob, rmr, worker, profiler, signal */
int wl_setup_dir(const struct wl *wl, const char *path, bool user_writable, bool setgid);
int wl_rmr(const struct wl *wl, const char *path);
int wl_worker(const struct wl *wl, const char *workdir, const char *script, bool setup);
int wl_signal(const struct wl *wl, const char *pid, const char *sig);

#endif
