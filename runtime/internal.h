/* Private to runtime/. */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include "runtime.h"

#include <sys/capability.h>

/* ---- capabilities (caps.c) ---- */
#define CAPS_WORDS 2
struct cap_set {
    uint32_t bits[CAPS_WORDS];
};
/* docker's TweakCapabilities over its default set. Names must be normalised already. */
int caps_effective_set(const struct strv *add, const struct strv *drop, struct cap_set *out,
                       struct berr *err);
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
void creds_free(struct creds *c);
int creds_apply(const struct creds *c, struct berr *err);

/* ---- network (net.c) ---- */
int net_loopback_up(struct berr *err);

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
    struct timespec created, started, finished;
};
int state_write(int dirfd, const struct container_spec *spec, const struct container_state *st,
                struct berr *err);

/* ---- names (names.c) ---- */
/* Reserve name for id atomically under runroot/names; conflict → BERR_CONFLICT, docker's text */
int name_reserve(int runrootfd, const char *name, const char *id, struct berr *err);
void name_release(int runrootfd, const char *name);
char *name_random(void);

/* ---- the container's side (init.c) ---- */
struct init_args {
    const struct container_spec *spec;
    struct mounts_spec mounts;
    const char *hostname;
    struct cap_set caps;
    int sync_fd;
};
/* Runs in the cloned child; returns only on failure, after reporting it on sync_fd. */
void init_container(const struct init_args *a) __attribute__((noreturn));

/* Sync messages: the child sends one on failure; EOF (the CLOEXEC socket closing at execve)
 * means the command is running. */
struct sync_msg {
    int32_t errnum;
    int32_t kind;
    char msg[2048];
};

#endif
