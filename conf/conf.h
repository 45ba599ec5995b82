/* conf — key=value configuration files and when to trust them. A file that steers a root
 * process must be root's: owned by root and writable by nobody else, and so every directory
 * above it, or whoever can write it can steer berth. Reads berth.conf (the store paths, the
 * default cgroup parent and seccomp profile); knows nothing of containers or images. */
#ifndef BERTH_CONF_H
#define BERTH_CONF_H

#include "util/util.h"

/* "key=value" lines in file order; blank lines and lines starting with '#' skipped, spaces
 * around key and value dropped. */
struct conf {
    struct strv keys, values;
};
void conf_free(struct conf *c);
/* The value of key (the last one given), or NULL. */
const char *conf_get(const struct conf *c, const char *key);
/* Parse text (NUL-terminated); a line without '=' is an error naming the line. */
int conf_parse(const char *text, struct conf *out, struct berr *err);

/* The file at path, and every directory above it but "/", is owned by root and not writable
 * by group or others. */
int conf_check_trusted(const char *path, struct berr *err);

/* berth.conf: the store paths for a berth at exe. A berth installed where it was built for
 * (exe in BERTH_BINDIR, compiled in by `make`) reads BERTH_SYSCONFDIR/berth/berth.conf, so that
 * an installed berth never looks in its build tree. Any other is /etc/berth/berth.conf for a
 * berth under /usr, else <prefix>/etc/berth/berth.conf where <prefix>/bin holds the binary, so
 * that an installation copied under /opt/berth or /usr/local carries its own. */
#define CONF_BERTH_FILE "berth.conf"
/* the stores when berth.conf names none */
#define CONF_DEFAULT_ROOT "/var/lib/berth"
#define CONF_DEFAULT_RUNROOT "/run/berth"
#define CONF_DEFAULT_CERTS_DIRS "/etc/docker/certs.d,/etc/berth/certs.d"
#define CONF_DEFAULT_DOWNLOADS 3
struct berth_conf {
    char *root;    /* data root, absolute; NULL: the default */
    char *runroot; /* state root, absolute; NULL: the default */
    /* cgroup-parent: the parent of containers' cgroups when run gets no --cgroup-parent,
     * absolute; NULL: the built-in /berth */
    char *cgroup_parent;
    /* seccomp-profile: the profile when run gets no --security-opt seccomp=, an absolute path,
     * "builtin" or "unconfined" (dockerd's --seccomp-profile values); NULL: builtin */
    char *seccomp_profile;
    /* registries (docker's daemon.json names): insecure-registries= and registry-mirrors=
     * comma lists, certs-dirs= (absolute, comma list; docker's and berth's certs.d when
     * absent), max-concurrent-downloads= (1..64, 3) */
    struct strv insecure_registries, registry_mirrors, certs_dirs;
    int max_downloads;
};
char *conf_berth_path(const char *exe);
/* the same for a berth built for bindir and sysconfdir */
char *conf_berth_path_at(const char *exe, const char *bindir, const char *sysconfdir);
/* A value for seccomp-profile (from berth.conf or BERTH_SECCOMP_PROFILE): an absolute path,
 * "builtin" or "unconfined"; what is wrong is a BERR_USAGE error naming what. */
int conf_check_seccomp_profile(const char *what, const char *value, struct berr *err);
/* A value for cgroup-parent: an absolute path. */
int conf_check_cgroup_parent(const char *what, const char *value, struct berr *err);
/* Read and check the berth.conf of exe; a missing file gives NULLs. An untrusted file, an
 * unknown key or a relative path is an error. */
int conf_berth_read(const char *exe, struct berth_conf *out, struct berr *err);
/* The same for the file at path (BERTH_CONF, for the berth CLI run by root). */
int conf_berth_read_file(const char *path, struct berth_conf *out, struct berr *err);
void berth_conf_free(struct berth_conf *c);

/* ---- worker-launcher.cfg (wlcfg.c) ------------------------------------------------------
 * Storm's worker-launcher reads it with its own rules, kept here so that a cfg written for it
 * means the same to berth's: only a trailing '\n' is cut (no trimming, '\r' stays), a line
 * starting with '#' is a comment, leading '=' are skipped, the value ends at the next '=', a
 * value starting with '#' drops the entry, the first of two equal keys wins, and a key without
 * a value (or no entry at all) makes the whole file invalid. */
#define CONF_WL_FILE "worker-launcher.cfg"
int conf_wl_parse(const char *text, struct conf *out, struct berr *err);
/* min.user.id (default 1000); a value that is not a number is an error */
int conf_wl_min_uid(const struct conf *c, long long *out, struct berr *err);
/* user is in banned.users (a comma list; "bin" when the key is absent) */
bool conf_wl_banned(const struct conf *c, const char *user);

/* What berth's worker-launcher lets a command file ask for beyond Storm's fixed rules:
 * docker.allowed.mounts, prefixes a bind source must lie under, docker.allowed.images,
 * the images a container may run, and worker.launcher.oci.allowed.layers, the directories
 * whose squashfs layers run-oci-container may mount; each a comma list, "*" for any, absent
 * for any. */
struct wl_policy {
    bool any_mount, any_image, any_layer;
    struct strv mounts, images, layers;
};
int conf_wl_policy(const struct conf *c, struct wl_policy *out, struct berr *err);
void wl_policy_free(struct wl_policy *p);
/* path (absolute, clean, resolved) is one of the prefixes or below one */
bool conf_wl_mount_allowed(const struct wl_policy *p, const char *path);
/* ref as written, or with ":latest" added when it has no tag, is one of the images */
bool conf_wl_image_allowed(const struct wl_policy *p, const char *ref);
/* path (absolute, clean, resolved) lies under one of the layer directories */
bool conf_wl_layer_allowed(const struct wl_policy *p, const char *path);

#endif
