/* The container's set of cgroup directories: create (all or nothing), attach, open again,
 * stats, destroy. The drivers (v1.c, v2.c) write the files; this file owns the directories. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

static void remember_inode(int fd, dev_t *dev, ino_t *ino)
{
    struct stat st;
    if (fstat(fd, &st) == 0) {
        *dev = st.st_dev;
        *ino = st.st_ino;
    }
}

static bool same_inode(int fd, dev_t dev, ino_t ino)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == dev &&
           st.st_ino == ino;
}

void cgroup_set_free(struct cgroup_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        struct cgroup_dir *d = &set->dirs[i];
        /* only what is still ours: the numbers may have been closed and reused meanwhile */
        if (same_inode(d->fd, d->dev, d->ino))
            close(d->fd);
        if (same_inode(d->parent_fd, d->parent_dev, d->parent_ino))
            close(d->parent_fd);
        free(d->path);
        free(d->mount);
        free(d->controllers);
    }
    free(set->dirs);
    free(set->id);
    cg_path_free(&set->rel);
    free(set);
}

int cg_dir_check(const struct cgroup_set *set, struct cgroup_dir *d, struct berr *err)
{
    if (same_inode(d->fd, d->dev, d->ino) && same_inode(d->parent_fd, d->parent_dev, d->parent_ino))
        return 0;
    debugf("cgroup: the fds of %s were closed under the set: opening it again", d->path);
    if (same_inode(d->fd, d->dev, d->ino))
        close(d->fd);
    if (same_inode(d->parent_fd, d->parent_dev, d->parent_ino))
        close(d->parent_fd);
    struct cgroup_mount m = {.path = d->mount, .root = "/", .controllers = d->controllers};
    struct cg_chain c;
    int r = cg_chain_open(&m, &set->rel, false, &c, err);
    if (r == 0) {
        /* the numbers may belong to someone else now: never close them */
        d->fd = steal_fd(&c.fd[c.n]);
        d->parent_fd = steal_fd(&c.fd[c.n - 1]);
        remember_inode(d->fd, &d->dev, &d->ino);
        remember_inode(d->parent_fd, &d->parent_dev, &d->parent_ino);
    } else {
        d->fd = d->parent_fd = -1;
    }
    int saved = errno;
    cg_chain_close(&c);
    errno = saved;
    return r;
}

/* The chains' leaves become the set; the chains keep nothing open afterwards. */
static struct cgroup_set *set_from_chains(struct cg_chain *chains, size_t n, bool v2,
                                          struct cg_path *p)
{
    struct cgroup_set *set = xcalloc(1, sizeof(*set));
    set->v2 = v2;
    set->id = xstrdup(p->comp[p->n - 1]);
    set->rel = *p;
    *p = (struct cg_path){0};
    set->dirs = xcalloc(n ? n : 1, sizeof(*set->dirs));
    for (size_t i = 0; i < n; i++) {
        struct cg_chain *c = &chains[i];
        if (!c->fd)
            continue; /* not present (cgroup_open) */
        struct cgroup_dir *d = &set->dirs[set->n++];
        *d = (struct cgroup_dir){
            .path = steal_ptr(&c->path),
            .mount = xstrdup(c->mount->path),
            .controllers = xstrdup(c->mount->controllers),
            .fd = steal_fd(&c->fd[c->n]),
            .parent_fd = steal_fd(&c->fd[c->n - 1]),
        };
        remember_inode(d->fd, &d->dev, &d->ino);
        remember_inode(d->parent_fd, &d->parent_dev, &d->parent_ino);
    }
    return set;
}

struct hierarchies {
    struct cgroup_hosts owned; /* when this call detected them */
    const struct cgroup_mount **mounts;
    size_t n;
    bool v2;
    struct cg_chain *chains;
};

static void hierarchies_free(struct hierarchies *h)
{
    for (size_t i = 0; h->chains && i < h->n; i++)
        cg_chain_close(&h->chains[i]);
    free(h->chains);
    free(h->mounts);
    cgroup_hosts_free(&h->owned);
}

/* The given hosts, or this process's when NULL. */
static int hierarchies_find(struct hierarchies *h, const struct cgroup_hosts *hosts,
                            struct berr *err)
{
    *h = (struct hierarchies){0};
    if (!hosts) {
        if (cgroup_detect(&h->owned, err) < 0)
            return -1;
        hosts = &h->owned;
    }
    if (cg_pick_mounts(hosts, &h->mounts, &h->n, &h->v2, err) < 0)
        return -1;
    h->chains = xcalloc(h->n, sizeof(*h->chains));
    return 0;
}

/* What the host cannot do is dropped as dockerd drops it (with a warning); --cpus alone is
 * an error there ("NanoCPUs can not be set, as your kernel does not support CPU CFS
 * scheduler or the cgroup is not mounted"). */
static int drop_unsupported(const struct hierarchies *h, struct cgroup_limits *l, struct berr *err)
{
    if (h->v2)
        return 0;
    bool cpu = false, cpuset = false, memory = false, pids = false;
    for (size_t i = 0; i < h->n; i++) {
        const char *c = h->mounts[i]->controllers;
        cpu |= cg_has_controller(c, "cpu");
        cpuset |= cg_has_controller(c, "cpuset");
        memory |= cg_has_controller(c, "memory");
        pids |= cg_has_controller(c, "pids");
    }
    if (l->nano_cpus > 0 && !cpu)
        return berr_set(err, BERR_FAILED,
                        "NanoCPUs can not be set, as your kernel does not support CPU CFS "
                        "scheduler or the cgroup is not mounted");
    if (!memory && l->memory) {
        debugf("cgroup: no memory controller: memory limit discarded");
        l->memory = 0;
        l->memory_swap = 0;
    }
    if (!pids && l->pids_limit) {
        debugf("cgroup: no pids controller: PIDs limit discarded");
        l->pids_limit = 0;
    }
    if (!cpuset && (l->cpuset_cpus || l->cpuset_mems)) {
        debugf("cgroup: no cpuset controller: cpuset discarded");
        l->cpuset_cpus = l->cpuset_mems = NULL;
    }
    return 0;
}

int cg_create_in(const struct cgroup_hosts *hosts, const char *parent, const char *id,
                 const struct cgroup_limits *limits, struct cgroup_set **out, struct berr *err)
{
    struct cg_path p;
    if (cg_path_parse(parent, id, &p, err) < 0)
        return -1;
    struct hierarchies h;
    struct cgroup_limits l = *limits; /* shallow: drop_unsupported only clears fields */
    size_t made = 0;
    int r = -1;
    if (hierarchies_find(&h, hosts, err) < 0 || drop_unsupported(&h, &l, err) < 0)
        goto out;
    for (; made < h.n; made++) {
        struct cg_chain *c = &h.chains[made];
        if (cg_chain_open(h.mounts[made], &p, true, c, err) < 0) {
            made++; /* its partial chain is undone too */
            goto undo;
        }
    }
    for (size_t i = 0; i < h.n; i++) {
        struct cg_chain *c = &h.chains[i];
        int leaf = c->fd[c->n];
        if (h.v2 ? v2_prepare(c, &p, &l, err) < 0 || v2_apply(leaf, c->path, &l, err) < 0 ||
                       cg_devices_v2(leaf, c->path, err) < 0
                 : v1_prepare(c, &p, &l, err) < 0 ||
                       v1_apply(leaf, c->path, c->mount->controllers, &l, err) < 0)
            goto undo;
    }
    *out = set_from_chains(h.chains, h.n, h.v2, &p);
    r = 0;
    goto out;
undo:
    for (size_t i = made; i > 0; i--)
        cg_chain_undo(&h.chains[i - 1], &p);
out:
    hierarchies_free(&h);
    cg_path_free(&p);
    return r;
}

int cgroup_create(const char *parent, const char *id, const struct cgroup_limits *limits,
                  struct cgroup_set **out, struct berr *err)
{
    return cg_create_in(NULL, parent, id, limits, out, err);
}

int cg_open_in(const struct cgroup_hosts *hosts, const char *parent, const char *id,
               struct cgroup_set **out, struct berr *err)
{
    struct cg_path p;
    if (cg_path_parse(parent, id, &p, err) < 0)
        return -1;
    struct hierarchies h;
    int r = -1;
    size_t found = 0;
    if (hierarchies_find(&h, hosts, err) < 0)
        goto out;
    for (size_t i = 0; i < h.n; i++) {
        if (cg_chain_open(h.mounts[i], &p, false, &h.chains[i], err) == 0) {
            found++;
            continue;
        }
        if (errno != ENOENT)
            goto out;
        cg_chain_close(&h.chains[i]); /* absent in this hierarchy: left out */
    }
    if (!found) {
        berr_errnum(err, ENOENT, "no cgroup %s in any hierarchy", p.rel);
        err->kind = BERR_NOT_FOUND;
        goto out;
    }
    *out = set_from_chains(h.chains, h.n, h.v2, &p);
    r = 0;
out:
    hierarchies_free(&h);
    cg_path_free(&p);
    return r;
}

int cgroup_open(const char *parent, const char *id, struct cgroup_set **out, struct berr *err)
{
    return cg_open_in(NULL, parent, id, out, err);
}

int cgroup_attach(const struct cgroup_set *set, pid_t pid, struct berr *err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    for (size_t i = 0; i < set->n; i++) {
        if (cg_dir_check(set, &set->dirs[i], err) < 0)
            return berr_wrap(err, "attach pid %d", (int)pid);
        if (cg_write(set->dirs[i].fd, set->dirs[i].path, "cgroup.procs", buf, err) < 0)
            return berr_wrap(err, "attach pid %d", (int)pid);
    }
    return 0;
}

/* Moving oneself, one thread, is the one migration the kernel does without its global
 * threadgroup lock, whose writer waits out an RCU grace period: writing a pid to
 * cgroup.procs cost every start ~10 ms here. v1's "tasks" takes thread ids, and "0" is the
 * caller; v2 has no such file for a domain cgroup (see cgroup_clone_fd). */
int cgroup_join_self(const struct cgroup_set *set, struct berr *err)
{
    const char *file = set->v2 ? "cgroup.procs" : "tasks";
    for (size_t i = 0; i < set->n; i++) {
        if (cg_dir_check(set, &set->dirs[i], err) < 0)
            return berr_wrap(err, "join the container's cgroups");
        if (cg_write(set->dirs[i].fd, set->dirs[i].path, file, "0", err) < 0)
            return berr_wrap(err, "join the container's cgroups");
    }
    return 0;
}

bool cgroup_born_inside(void)
{
    struct statfs sf;
    return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

void cgroup_join_close(struct cgroup_join *j)
{
    while (j->n > 0)
        close(j->fd[--j->n]);
}

int cgroup_join_open(const struct cgroup_set *set, struct cgroup_join *j, struct berr *err)
{
    j->n = 0;
    for (size_t i = 0; !set->v2 && i < set->n; i++) {
        if (j->n == ARRAY_SIZE(j->fd)) {
            cgroup_join_close(j);
            return berr_set(err, BERR_FAILED, "too many cgroups to join");
        }
        int fd = openat(set->dirs[i].fd, "tasks", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            int saved = errno;
            cgroup_join_close(j);
            return berr_errnum(err, saved, "open tasks in %s", set->dirs[i].path);
        }
        j->fd[j->n++] = fd;
    }
    return 0;
}

int cgroup_join_self_fds(const int *fds, size_t n, struct berr *err)
{
    for (size_t i = 0; i < n; i++) {
        if (write_all(fds[i], "0", 1) < 0)
            return berr_errno(err, "join the container's cgroups: write tasks=0");
    }
    return 0;
}

/* pid's path in the cgroup2 hierarchy, from its /proc/<pid>/cgroup "0::" line. */
static char *v2_path_of(pid_t pid, struct berr *err)
{
    char file[64];
    snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
    _cleanup_free_ char *text = NULL;
    if (read_file_at(AT_FDCWD, file, 1 << 16, &text, NULL, err) < 0)
        return NULL;
    for (char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        if (!strncmp(line, "0::", 3))
            return strndup(line + 3, len - 3);
        line += len + (line[len] == '\n');
    }
    berr_set(err, BERR_FAILED, "%s: no cgroup2 line", file);
    return NULL;
}

int cgroup_join_v2_of(const struct cgroup_set *set, pid_t pid, struct berr *err)
{
    if (set->v2)
        return 0; /* the set is the cgroup2 hierarchy */
    struct cgroup_hosts hosts;
    if (cgroup_detect(&hosts, err) < 0)
        return -1;
    const struct cgroup_mount *m = cg_v2_mount(&hosts);
    int rc = 0;
    _cleanup_free_ char *path = m ? v2_path_of(pid, err) : NULL;
    if (m && !path)
        rc = -1;
    if (path) {
        /* a path inside the hierarchy, resolved inside the mount whatever it says */
        _cleanup_close_ int mnt = open(m->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dir = mnt < 0 ? -1 : open_in_root(mnt, path, O_PATH | O_DIRECTORY, 0);
        _cleanup_close_ int fd =
            dir < 0 ? -1 : openat(dir, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || write_all(fd, "0", 1) < 0)
            rc = berr_errno(err, "join %s%s", m->path, path);
    }
    cgroup_hosts_free(&hosts);
    return rc;
}

int cgroup_clone_fd(const struct cgroup_set *set)
{
    return set->v2 && set->n == 1 ? set->dirs[0].fd : -1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last task may still be exiting when the container's pid 1 has been reaped: the kernel
 * says EBUSY until it is gone. One deadline for the whole set, not one per hierarchy. */
static int rmdir_retrying(const struct cgroup_dir *d, const char *id, long long deadline)
{
    /* the last tasks of a pid namespace are usually gone within a millisecond: start short */
    long wait_ns = 250 * 1000;
    for (;;) {
        if (unlinkat(d->parent_fd, id, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || now_ms() >= deadline)
            return -1;
        nanosleep(&(struct timespec){.tv_nsec = wait_ns}, NULL);
        wait_ns = wait_ns < 8 * 1000 * 1000 ? wait_ns * 2 : wait_ns;
    }
}

int cgroup_destroy(struct cgroup_set *set, struct berr *err)
{
    int r = 0;
    long long deadline = now_ms() + 1000;
    for (size_t i = 0; i < set->n; i++) {
        struct cgroup_dir *d = &set->dirs[i];
        struct berr cerr;
        if (cg_dir_check(set, d, &cerr) < 0) {
            if (errno == ENOENT) /* removed already */
                continue;
            if (r == 0) {
                *err = cerr;
                r = -1;
            }
            continue;
        }
        close(d->fd);
        d->fd = -1;
        if (rmdir_retrying(d, set->id, deadline) < 0 && r == 0)
            r = berr_errno(err, "remove cgroup %s", d->path);
    }
    cgroup_set_free(set);
    return r;
}

int cgroup_stats(const struct cgroup_set *set, struct cgroup_stats *out, struct berr *err)
{
    for (size_t i = 0; i < set->n; i++) {
        if (cg_dir_check(set, &set->dirs[i], err) < 0)
            return berr_wrap(err, "stats");
    }
    return set->v2 ? v2_stats(set, out, err) : v1_stats(set, out, err);
}
