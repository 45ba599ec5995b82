#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>

#define MAX_ID 2147483647LL

struct passwd_entry {
    char *name;
    long long uid, gid;
    char *home;
};

/* The image's /etc/passwd or /etc/group, read inside the root; missing is fine (empty). */
static int read_db(int rootfd, const char *path, char **out, struct berr *err)
{
    _cleanup_close_ int fd = open_in_root(rootfd, path, O_RDONLY | O_NOCTTY, 0);
    if (fd < 0 && errno == ENOENT) {
        *out = xstrdup("");
        return 0;
    }
    if (fd < 0)
        return berr_errno(err, "open %s", path);
    if (read_fd_all(fd, 16 << 20, out, NULL, err) < 0)
        return berr_wrap(err, "%s", path);
    return 0;
}

/* Split one "a:b:c" line into at most n fields (in place). */
static size_t split_fields(char *line, char **f, size_t n)
{
    size_t i = 0;
    f[i++] = line;
    for (char *p = line; *p && i < n; p++) {
        if (*p == ':') {
            *p = '\0';
            f[i++] = p + 1;
        }
    }
    return i;
}

static bool numeric_id(const char *s, long long *out)
{
    return parse_long(s, 0, MAX_ID, out) == 0;
}

/* Find a passwd entry by name, or by uid when `key` is numeric. */
static bool find_user(char *db, const char *key, struct passwd_entry *out)
{
    long long want = -1;
    bool by_id = numeric_id(key, &want);
    char *save = NULL;
    for (char *line = strtok_r(db, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[7];
        if (split_fields(line, f, 7) < 7)
            continue;
        long long uid, gid;
        if (!numeric_id(f[2], &uid) || !numeric_id(f[3], &gid))
            continue;
        if (by_id ? uid == want : !strcmp(f[0], key)) {
            *out = (struct passwd_entry){f[0], uid, gid, f[5]};
            return true;
        }
    }
    return false;
}

/* Group lookups walk a fresh copy each time: strtok_r cuts the buffer. */
static bool find_group(const char *db, const char *key, long long *gid)
{
    _cleanup_free_ char *copy = xstrdup(db);
    long long want = -1;
    bool by_id = numeric_id(key, &want);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        if (split_fields(line, f, 4) < 3)
            continue;
        long long g;
        if (!numeric_id(f[2], &g))
            continue;
        if (by_id ? g == want : !strcmp(f[0], key)) {
            *gid = g;
            return true;
        }
    }
    return false;
}

static void push_gid(struct creds *c, long long gid)
{
    c->groups = xrealloc(c->groups, (c->ngroups + 1) * sizeof(gid_t));
    c->groups[c->ngroups++] = (gid_t)gid;
}

/* The groups in /etc/group that list this user name as a member. */
static void add_member_groups(const char *db, const char *user, struct creds *c)
{
    _cleanup_free_ char *copy = xstrdup(db);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        long long g;
        if (split_fields(line, f, 4) < 4 || !numeric_id(f[2], &g))
            continue;
        char *msave = NULL;
        for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave)) {
            if (!strcmp(m, user) && g != (long long)c->gid)
                push_gid(c, g);
        }
    }
}

int creds_resolve(int rootfd, const char *user, const struct strv *group_add, struct creds *out,
                  struct berr *err)
{
    _cleanup_free_ char *passwd = NULL, *group = NULL;
    if (read_db(rootfd, "/etc/passwd", &passwd, err) < 0 ||
        read_db(rootfd, "/etc/group", &group, err) < 0)
        return -1;
    _cleanup_free_ char *spec = xstrdup(user && *user ? user : "0");
    char *colon = strchr(spec, ':');
    const char *group_part = NULL;
    if (colon) {
        *colon = '\0';
        group_part = colon + 1;
    }
    struct creds c = {0};
    struct passwd_entry pw;
    bool found = find_user(passwd, spec, &pw);
    long long id;
    if (found) {
        c.uid = (uid_t)pw.uid;
        c.gid = (gid_t)pw.gid;
        c.home = xstrdup(*pw.home ? pw.home : "/");
    } else if (numeric_id(spec, &id)) {
        c.uid = (uid_t)id;
        c.home = xstrdup("/");
    } else {
        return berr_set(err, BERR_USAGE,
                        "unable to find user %s: no matching entries in passwd file", spec);
    }
    if (group_part) {
        long long g;
        if (!find_group(group, group_part, &g) && !numeric_id(group_part, &g)) {
            creds_free(&c);
            return berr_set(err, BERR_USAGE,
                            "unable to find group %s: no matching entries in group file",
                            group_part);
        }
        c.gid = (gid_t)g;
    }
    /* docker: [primary gid] + the user's /etc/group memberships (only when the group was not
     * given) + --group-add, duplicates kept */
    push_gid(&c, c.gid);
    if (!group_part && found)
        add_member_groups(group, pw.name, &c);
    for (size_t i = 0; group_add && i < group_add->n; i++) {
        long long g;
        if (!numeric_id(group_add->v[i], &g) && !find_group(group, group_add->v[i], &g)) {
            creds_free(&c);
            return berr_set(err, BERR_USAGE,
                            "unable to find group %s: no matching entries in group file",
                            group_add->v[i]);
        }
        push_gid(&c, g);
    }
    *out = c;
    return 0;
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
