/* The walk from a mount point down to <parent>/<id>, one directory fd at a time, and the
 * small files read and written relative to those fds. Nothing here joins strings into paths
 * that are opened: the mount point is opened once, every component below it by openat with
 * O_NOFOLLOW from its parent's fd. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

/* ---- <parent>/<id> ------------------------------------------------------------------------ */

static bool component_ok(const char *s, size_t n)
{
    return n > 0 && n < 256 && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

void cg_path_free(struct cg_path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->comp[i]);
    free(p->comp);
    free(p->rel);
    *p = (struct cg_path){0};
}

int cgroup_parent_check(const char *parent, struct berr *err)
{
    struct cg_path p;
    if (cg_path_parse(parent, "0", &p, err) < 0)
        return -1;
    cg_path_free(&p);
    return 0;
}

int cg_path_parse(const char *parent, const char *id, struct cg_path *p, struct berr *err)
{
    *p = (struct cg_path){0};
    if (!parent || parent[0] != '/')
        return berr_set(err, BERR_USAGE, "cgroup parent \"%s\" is not an absolute path",
                        parent ? parent : "");
    size_t idlen = strlen(id);
    if (!component_ok(id, idlen) || strchr(id, '/'))
        return berr_set(err, BERR_USAGE, "invalid cgroup name \"%s\"", id);
    struct strv comps = {0};
    for (const char *s = parent; *s;) {
        s += strspn(s, "/");
        size_t n = strcspn(s, "/");
        if (n == 0)
            break;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            strv_free(&comps);
            return berr_set(err, BERR_USAGE, "cgroup parent \"%s\" must not contain \"..\"",
                            parent);
        }
        if (!component_ok(s, n) && !(n == 1 && s[0] == '.')) {
            strv_free(&comps);
            return berr_set(err, BERR_USAGE, "invalid cgroup parent \"%s\"", parent);
        }
        if (!(n == 1 && s[0] == '.'))
            strv_push_owned(&comps, xasprintf("%.*s", (int)n, s));
        s += n;
    }
    strv_push(&comps, id);
    size_t len = 1;
    for (size_t i = 0; i < comps.n; i++)
        len += strlen(comps.v[i]) + 1;
    p->rel = xcalloc(1, len);
    for (size_t i = 0; i < comps.n; i++) {
        if (i)
            strcat(p->rel, "/");
        strcat(p->rel, comps.v[i]);
    }
    p->comp = comps.v; /* ownership moves: the strv's array is NULL-terminated, n entries */
    p->n = comps.n;
    return 0;
}

/* ---- the chain of directories ------------------------------------------------------------- */

void cg_chain_close(struct cg_chain *c)
{
    for (size_t i = 0; c->fd && i <= c->n; i++) {
        if (c->fd[i] >= 0)
            close(c->fd[i]);
    }
    free(c->fd);
    free(c->made);
    free(c->path);
    *c = (struct cg_chain){0};
}

void cg_chain_undo(struct cg_chain *c, const struct cg_path *p)
{
    for (size_t i = c->n; i >= 1; i--) {
        if (!c->made || !c->made[i])
            continue;
        if (c->fd[i] >= 0) {
            close(c->fd[i]);
            c->fd[i] = -1;
        }
        /* another container may have moved into a parent we made meanwhile: it stays */
        if (unlinkat(c->fd[i - 1], p->comp[i - 1], AT_REMOVEDIR) < 0)
            debugf("cgroup: leave %s (component %zu): %s", c->path, i, strerror(errno));
        c->made[i] = false;
    }
}

char *cg_chain_path_at(const struct cg_chain *c, const struct cg_path *p, size_t i)
{
    size_t len = strlen(c->mount->path) + 1;
    for (size_t j = 0; j < i && j < p->n; j++)
        len += strlen(p->comp[j]) + 1;
    char *out = xcalloc(1, len);
    strcpy(out, c->mount->path);
    for (size_t j = 0; j < i && j < p->n; j++) {
        strcat(out, "/");
        strcat(out, p->comp[j]);
    }
    return out;
}

int cg_chain_open(const struct cgroup_mount *m, const struct cg_path *p, bool create,
                  struct cg_chain *c, struct berr *err)
{
    *c = (struct cg_chain){
        .mount = m,
        .path = xasprintf("%s/%s", m->path, p->rel),
        .fd = xmalloc((p->n + 1) * sizeof(int)),
        .made = xcalloc(p->n + 1, sizeof(bool)),
        .n = p->n,
    };
    for (size_t i = 0; i <= p->n; i++)
        c->fd[i] = -1;
    c->fd[0] = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->fd[0] < 0)
        return berr_errno(err, "open cgroup mount %s", m->path);
    for (size_t i = 1; i <= p->n; i++) {
        const char *name = p->comp[i - 1];
        if (create) {
            if (mkdirat(c->fd[i - 1], name, 0755) == 0)
                c->made[i] = true;
            else if (errno != EEXIST)
                goto fail;
        }
        c->fd[i] = openat(c->fd[i - 1], name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (c->fd[i] < 0)
            goto fail;
        continue;
    fail:;
        int saved = errno;
        _cleanup_free_ char *at = cg_chain_path_at(c, p, i);
        berr_errnum(err, saved, "%s cgroup %s", create ? "create" : "open", at);
        errno = saved;
        return -1;
    }
    return 0;
}

/* ---- limits both drivers write the same way ---------------------------------------------- */

int cg_apply_cpuset(int fd, const char *where, const struct cgroup_limits *l, struct berr *err)
{
    if (l->cpuset_cpus && *l->cpuset_cpus &&
        cg_write(fd, where, "cpuset.cpus", l->cpuset_cpus, err) < 0)
        return -1;
    if (l->cpuset_mems && *l->cpuset_mems &&
        cg_write(fd, where, "cpuset.mems", l->cpuset_mems, err) < 0)
        return -1;
    return 0;
}

int cg_apply_pids(int fd, const char *where, const struct cgroup_limits *l, struct berr *err)
{
    if (l->pids_limit == 0)
        return 0;
    return l->pids_limit < 0 ? cg_write(fd, where, "pids.max", "max", err)
                             : cg_write_ll(fd, where, "pids.max", l->pids_limit, err);
}

/* ---- which hierarchies ------------------------------------------------------------------- */

bool cg_has_controller(const char *controllers, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = controllers; *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, name, n))
            return true;
        s += len + (s[len] == ',');
    }
    return false;
}

bool cg_mount_tracks_only(const struct cgroup_mount *m)
{
    if (m->v2)
        return true;
    for (const char *s = m->controllers; *s;) {
        size_t len = strcspn(s, ",");
        if (len && !str_has_prefix(s, "name="))
            return false;
        s += len + (s[len] == ',');
    }
    return true;
}

const struct cgroup_mount *cg_v2_mount(const struct cgroup_hosts *h)
{
    const struct cgroup_mount *found = NULL;
    for (size_t i = 0; i < h->n; i++) {
        const struct cgroup_mount *m = &h->mounts[i];
        if (m->v2 && (!found || (strcmp(found->root, "/") != 0 && !strcmp(m->root, "/"))))
            found = m;
    }
    return found;
}

/* Only named hierarchies (name=systemd) beside a cgroup2 mount: the controllers are in v2. */
static bool has_real_v1_controller(const struct cgroup_hosts *h)
{
    for (size_t i = 0; i < h->n; i++) {
        if (!cg_mount_tracks_only(&h->mounts[i]))
            return true;
    }
    return false;
}

int cg_pick_mounts(const struct cgroup_hosts *hosts, const struct cgroup_mount ***out, size_t *n,
                   bool *v2, struct berr *err)
{
    *v2 = hosts->layout == CGROUP_V2 ||
          (hosts->layout == CGROUP_HYBRID && !has_real_v1_controller(hosts));
    const struct cgroup_mount **picked = xcalloc(hosts->n + 1, sizeof(*picked));
    size_t k = 0;
    for (size_t i = 0; i < hosts->n; i++) {
        const struct cgroup_mount *m = &hosts->mounts[i];
        if (m->v2 != *v2)
            continue;
        /* a hierarchy mounted twice is one hierarchy; prefer the mount of its root */
        size_t j = 0;
        while (j < k && strcmp(picked[j]->controllers, m->controllers) != 0)
            j++;
        if (j == k)
            picked[k++] = m;
        else if (strcmp(picked[j]->root, "/") != 0 && !strcmp(m->root, "/"))
            picked[j] = m;
    }
    if (k == 0) {
        free(picked);
        return berr_set(err, BERR_FAILED, "no cgroup hierarchy is mounted");
    }
    *out = picked;
    *n = k;
    return 0;
}

/* ---- files ------------------------------------------------------------------------------- */

int cg_open_mounted_root(const char *path, unsigned long magic)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs sf;
    struct stat st;
    if (fd >= 0 && fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == magic &&
        fstat(fd, &st) == 0 && st.st_ino == 1)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

int cg_write_through(int *fd, int dirfd, const char *where, const char *name, const char *value,
                     struct berr *err)
{
    if (*fd < 0)
        *fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (*fd < 0 || write_all(*fd, value, strlen(value)) < 0) {
        int saved = errno;
        berr_errnum(err, saved, "write %s=%s in %s", name, value, where);
        errno = saved;
        return -1;
    }
    return 0;
}

int cg_write(int dirfd, const char *where, const char *name, const char *value, struct berr *err)
{
    _cleanup_close_ int fd = -1;
    return cg_write_through(&fd, dirfd, where, name, value, err);
}

int cg_write_ll(int dirfd, const char *where, const char *name, long long value, struct berr *err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", value);
    return cg_write(dirfd, where, name, buf, err);
}

int cg_read(int dirfd, const char *where, const char *name, char **out, struct berr *err)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int saved = errno;
        berr_errnum(err, saved, "read %s in %s", name, where);
        errno = saved;
        return -1;
    }
    if (read_fd_all(fd, 1 << 20, out, NULL, err) < 0)
        return berr_wrap(err, "read %s in %s", name, where);
    size_t len = strlen(*out);
    while (len && ((*out)[len - 1] == '\n' || (*out)[len - 1] == ' '))
        (*out)[--len] = '\0';
    return 0;
}

static int parse_ull(const char *s, unsigned long long *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    *out = strtoull(s, NULL, 10);
    return errno ? -1 : 0;
}

int cg_read_ull(int dirfd, const char *where, const char *name, unsigned long long *out,
                struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    if (cg_read(dirfd, where, name, &text, err) < 0)
        return -1;
    if (parse_ull(text, out) < 0)
        return berr_set(err, BERR_FAILED, "read %s in %s: not a number: \"%s\"", name, where, text);
    return 0;
}

int cg_read_keyed(int dirfd, const char *where, const char *name, const char *key,
                  unsigned long long *out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    if (cg_read(dirfd, where, name, &text, err) < 0)
        return -1;
    *out = 0;
    size_t klen = strlen(key);
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!strncmp(line, key, klen) && line[klen] == ' ') {
            if (parse_ull(line + klen + 1, out) < 0)
                return berr_set(err, BERR_FAILED, "read %s in %s: bad line \"%s\"", name, where,
                                line);
            return 0;
        }
        line = next;
    }
    return 0;
}
