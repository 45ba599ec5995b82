#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ID 2147483647LL

/* /etc/passwd or /etc/group, split once into rows of ':'-separated fields. */
struct table {
    char *buf;
    char *(*rows)[7];
    size_t n;
};

static void table_free(struct table *t)
{
    free(t->buf);
    free(t->rows);
}

static bool numeric_id(const char *s, long long *out)
{
    return parse_long(s, 0, MAX_ID, out) == 0;
}

/* Where the image's /etc files are read from: the container's root (fd), or its image layers
 * before there is a root. */
struct etc_source {
    int rootfd;
    const struct strv *layers;
};

/* The image's file, opened as root before the drop: O_NONBLOCK so that a FIFO there cannot
 * hold run or exec for ever, and then only a regular file is read. -1 with errno ENOENT when
 * missing. */
static int open_etc_file(const struct etc_source *src, const char *path, struct berr *err)
{
    const int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK;
    if (!src->layers) {
        int fd = open_in_root(src->rootfd, path, flags, 0);
        if (fd < 0 && errno != ENOENT)
            berr_errno(err, "open %s", path);
        return fd;
    }
    /* the layers live on the host's filesystem, not on the container's nodev overlay: a device
     * node an image put there is never opened, only looked at */
    struct berr e = {0};
    _cleanup_close_ int path_fd = mounts_open_in_layers(src->layers, path, O_PATH, &e);
    if (path_fd < 0) {
        *err = e;
        errno = e.errnum;
        return -1;
    }
    struct stat st;
    if (fstat(path_fd, &st) < 0)
        return berr_errno(err, "stat %s", path);
    if (!S_ISREG(st.st_mode)) {
        berr_set(err, BERR_FAILED, "%s: not a regular file", path);
        errno = EINVAL;
        return -1;
    }
    char proc[PROC_FD_PATH_MAX];
    proc_fd_path(path_fd, proc);
    int fd = open(proc, flags | O_CLOEXEC);
    if (fd < 0)
        berr_errno(err, "open %s", path);
    return fd;
}

/* Rows with fewer than min_fields fields or a non-numeric id in fields 2..last_id are skipped,
 * as moby/sys/user does. A missing file is an empty table. */
static int table_load(const struct etc_source *src, const char *path, size_t min_fields,
                      size_t last_id, struct table *t, struct berr *err)
{
    *t = (struct table){0};
    _cleanup_close_ int fd = open_etc_file(src, path, err);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(err, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return berr_set(err, BERR_FAILED, "%s: not a regular file", path);
    if (read_fd_all(fd, 16 << 20, &t->buf, NULL, err) < 0)
        return berr_wrap(err, "%s", path);
    char *save = NULL;
    for (char *line = strtok_r(t->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[7] = {0};
        size_t nf = 0;
        f[nf++] = line;
        for (char *p = line; *p && nf < 7; p++) {
            if (*p == ':') {
                *p = '\0';
                f[nf++] = p + 1;
            }
        }
        long long id;
        bool ids_ok = nf >= min_fields;
        for (size_t i = 2; ids_ok && i <= last_id; i++)
            ids_ok = numeric_id(f[i], &id);
        if (!ids_ok)
            continue;
        t->rows = xrealloc(t->rows, (t->n + 1) * sizeof(*t->rows));
        memcpy(t->rows[t->n++], f, sizeof(f));
    }
    return 0;
}

/* The row named key, or numbered key when key is numeric. */
static char **table_find(const struct table *t, const char *key)
{
    long long want = -1, id;
    bool by_id = numeric_id(key, &want);
    for (size_t i = 0; i < t->n; i++) {
        char **f = t->rows[i];
        if (by_id ? numeric_id(f[2], &id) && id == want : !strcmp(f[0], key))
            return f;
    }
    return NULL;
}

/* A group given by name must exist; a number is taken as it is (docker's rule). */
static bool group_id(const struct table *groups, const char *key, long long *gid)
{
    char **g = table_find(groups, key);
    if (g)
        return numeric_id(g[2], gid);
    return numeric_id(key, gid);
}

/* docker's list holds each group once, in the order first given */
static void push_gid(struct creds *c, long long gid)
{
    for (size_t i = 0; i < c->ngroups; i++) {
        if (c->groups[i] == (gid_t)gid)
            return;
    }
    c->groups = xrealloc(c->groups, (c->ngroups + 1) * sizeof(gid_t));
    c->groups[c->ngroups++] = (gid_t)gid;
}

static bool lists_member(const char *members, const char *user)
{
    size_t n = strlen(user);
    for (const char *m = members; m && *m; m = strchr(m, ',') ? strchr(m, ',') + 1 : NULL) {
        if (!strncmp(m, user, n) && (m[n] == ',' || m[n] == '\0'))
            return true;
    }
    return false;
}

/* The groups in /etc/group that list this user name as a member. */
static void add_member_groups(const struct table *groups, const char *user, struct creds *c)
{
    for (size_t i = 0; i < groups->n; i++) {
        char **f = groups->rows[i];
        long long g;
        if (f[3] && lists_member(f[3], user) && numeric_id(f[2], &g) && g != (long long)c->gid)
            push_gid(c, g);
    }
}

static int unknown_group(struct creds *c, const char *name, struct berr *err)
{
    creds_free(c);
    return berr_set(err, BERR_USAGE, "unable to find group %s: no matching entries in group file",
                    name);
}

static int resolve(const struct table *passwd, const struct table *groups, const char *user,
                   const struct strv *group_add, struct creds *out, struct berr *err)
{
    _cleanup_free_ char *spec = xstrdup(user && *user ? user : "0");
    char *colon = strchr(spec, ':');
    const char *group_part = NULL;
    if (colon) {
        *colon = '\0';
        group_part = colon + 1;
    }
    struct creds c = {0};
    char **pw = table_find(passwd, spec);
    long long id, gid;
    if (pw && numeric_id(pw[2], &id) && numeric_id(pw[3], &gid)) {
        c.uid = (uid_t)id;
        c.gid = (gid_t)gid;
        c.home = xstrdup(*pw[5] ? pw[5] : "/");
    } else if (numeric_id(spec, &id)) {
        c.uid = (uid_t)id;
        c.home = xstrdup("/");
    } else {
        return berr_set(err, BERR_USAGE,
                        "unable to find user %s: no matching entries in passwd file", spec);
    }
    long long g;
    if (group_part && !group_id(groups, group_part, &g))
        return unknown_group(&c, group_part, err);
    if (group_part)
        c.gid = (gid_t)g;
    /* docker: [primary gid] + the user's /etc/group memberships (only when the group was not
     * given) + --group-add, each once */
    push_gid(&c, c.gid);
    if (!group_part && pw)
        add_member_groups(groups, pw[0], &c);
    for (size_t i = 0; group_add && i < group_add->n; i++) {
        if (!group_id(groups, group_add->v[i], &g))
            return unknown_group(&c, group_add->v[i], err);
        push_gid(&c, g);
    }
    *out = c;
    return 0;
}

static int resolve_from(const struct etc_source *src, const char *user,
                        const struct strv *group_add, struct creds *out, struct berr *err)
{
    struct table passwd, groups;
    if (table_load(src, "/etc/passwd", 7, 3, &passwd, err) < 0)
        return -1;
    if (table_load(src, "/etc/group", 3, 2, &groups, err) < 0) {
        table_free(&passwd);
        return -1;
    }
    int rc = resolve(&passwd, &groups, user, group_add, out, err);
    table_free(&passwd);
    table_free(&groups);
    return rc;
}

int creds_resolve(int rootfd, const char *user, const struct strv *group_add, struct creds *out,
                  struct berr *err)
{
    const struct etc_source src = {.rootfd = rootfd};
    return resolve_from(&src, user, group_add, out, err);
}

int creds_resolve_layers(const struct strv *layers, const char *user, const struct strv *group_add,
                         struct creds *out, struct berr *err)
{
    const struct etc_source src = {.rootfd = -1, .layers = layers};
    return resolve_from(&src, user, group_add, out, err);
}

void creds_free(struct creds *c)
{
    free(c->groups);
    free(c->home);
    *c = (struct creds){0};
}

int creds_apply(const struct creds *c, struct berr *err)
{
    if (setgroups(c->ngroups, c->groups) < 0)
        return berr_errno(err, "setgroups");
    /* the gid first: after setresuid to a non-root user there is no CAP_SETGID left */
    if (setresgid(c->gid, c->gid, c->gid) < 0)
        return berr_errno(err, "setresgid %u", (unsigned)c->gid);
    if (setresuid(c->uid, c->uid, c->uid) < 0)
        return berr_errno(err, "setresuid %u", (unsigned)c->uid);
    return 0;
}
