/* conf — key=value configuration files and when to trust them. A file that steers a root
 * process must be root's: owned by root and writable by nobody else, and so every directory
 * above it, or whoever can write it can steer berth. Reads berth.conf (the store paths); knows
 * nothing of containers or images. */
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

/* berth.conf: the store paths for a berth at exe. It is /etc/berth/berth.conf for a berth
 * under /usr, else <prefix>/etc/berth/berth.conf where <prefix>/bin holds the binary, so that
 * an installation under /opt/berth or /usr/local carries its own. */
#define CONF_BERTH_FILE "berth.conf"
struct berth_conf {
    char *root;    /* data root, absolute; NULL: the default */
    char *runroot; /* state root, absolute; NULL: the default */
};
char *conf_berth_path(const char *exe);
/* Read and check the berth.conf of exe; a missing file gives NULLs. An untrusted file, an
 * unknown key or a relative path is an error. */
int conf_berth_read(const char *exe, struct berth_conf *out, struct berr *err);
void berth_conf_free(struct berth_conf *c);

#endif
