/* runtime — a container's life: the validated spec, ids and names, the state directory, the
 * clone into new namespaces with its sync socket, the init side (hostname, credentials,
 * capabilities, no_new_privs, exec), and waiting for the exit status. Uses mounts/ for the
 * filesystem view; gets the image as plain data (layer dirs and config) from its caller. */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include "mounts/mounts.h"
#include "util/util.h"

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
    struct strv cap_add;
    struct strv cap_drop;
    struct mount_bind *binds;
    size_t nbinds;
};

void runtime_spec_free(struct container_spec *spec);

/* Docker's checks that need no image: name regex, workdir absolute, capability names,
 * mount destinations. BERR_USAGE on bad input. */
int runtime_spec_validate(const struct container_spec *spec, struct berr *err);

/* docker's name rule: ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$ after one optional leading '/'. */
bool runtime_name_valid(const char *name);

struct runtime_paths {
    const char *runroot; /* state root, e.g. /run/berth */
    const char *root;    /* data root, e.g. /var/lib/berth */
};

/* Run the container in the foreground: create, start, wait. *status is what `docker run`
 * exits with (the command's status, 128+N when killed by signal N). Errors before the
 * command runs come back in err with kind BERR_CMD_NOT_FOUND / BERR_CMD_NOT_EXEC / others. */
int runtime_run(const struct runtime_paths *paths, struct container_spec *spec, int *status,
                struct berr *err);

/* Capability name handling (docker's NormalizeLegacyCapabilities): "chown", "CAP_CHOWN" →
 * "CAP_CHOWN"; "ALL" stays "ALL". Unknown → BERR_USAGE `unknown capability: "CAP_X"`. */
int runtime_cap_normalize(const char *name, char **out, struct berr *err);

#endif
