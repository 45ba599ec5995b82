/* cgroup v1: one directory per hierarchy, limits written in the controller files the way
 * runc's fs driver writes them, docker's default device policy, and the v1 statistics. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* A new cpuset directory starts with empty cpus and mems, and a task cannot join it (ENOSPC):
 * fill each empty one on the way down from its parent, as runc's cpusetEnsureParent does. What
 * a level holds is carried down to the next, and a directory this start made is known to be
 * empty without a read: the usual start reads its parent's file once and writes its own. The
 * container's own takes the value asked for (cg_apply_cpuset) without a copy first. */
static int cpuset_fill(struct cg_chain *c, const struct cg_path *p, const char *file,
                       const char *wanted, struct berr *err)
{
    _cleanup_free_ char *above = NULL; /* what level i - 1 holds, once known */
    for (size_t i = 1; i <= c->n; i++) {
        if (i == c->n && wanted && *wanted)
            return 0;
        _cleanup_free_ char *here = cg_chain_path_at(c, p, i);
        char *mine = NULL;
        if (!c->made[i] && cg_read(c->fd[i], here, file, &mine, err) < 0)
            return -1;
        if (mine && *mine) {
            free(above);
            above = mine;
            continue;
        }
        free(mine);
        if (!above) {
            _cleanup_free_ char *there = cg_chain_path_at(c, p, i - 1);
            if (cg_read(c->fd[i - 1], there, file, &above, err) < 0)
                return -1;
        }
        if (cg_write(c->fd[i], here, file, above, err) < 0)
            return -1;
    }
    return 0;
}

int v1_prepare(struct cg_chain *c, const struct cg_path *p, const struct cgroup_limits *l,
               struct berr *err)
{
    if (!cg_has_controller(c->mount->controllers, "cpuset"))
        return 0;
    if (cpuset_fill(c, p, "cpuset.cpus", l->cpuset_cpus, err) < 0 ||
        cpuset_fill(c, p, "cpuset.mems", l->cpuset_mems, err) < 0)
        return -1;
    return 0;
}

/* period first, then quota; when the kernel refuses the period (the old quota over the new
 * period exceeds the parent's), the period again after the quota, as crun does. */
static int apply_cfs(int fd, const char *where, long long period, long long quota, struct berr *err)
{
    bool retry_period = false;
    if (period > 0 && cg_write_ll(fd, where, "cpu.cfs_period_us", period, err) < 0) {
        if (errno != EINVAL)
            return -1;
        retry_period = true;
    }
    if (quota != 0 && cg_write_ll(fd, where, "cpu.cfs_quota_us", quota, err) < 0)
        return -1;
    if (retry_period && cg_write_ll(fd, where, "cpu.cfs_period_us", period, err) < 0)
        return -1;
    return 0;
}

static int apply_cpu(int fd, const char *where, const struct cgroup_limits *l, struct berr *err)
{
    if (l->cpu_shares != 0 &&
        cg_write_ll(fd, where, "cpu.shares", limits_cpu_shares(l->cpu_shares), err) < 0)
        return -1;
    if (l->nano_cpus > 0)
        return apply_cfs(fd, where, LIMITS_CPUS_PERIOD, limits_cpus_quota(l->nano_cpus), err);
    return apply_cfs(fd, where, l->cpu_period, l->cpu_quota < 0 ? -1 : l->cpu_quota, err);
}

static int apply_memory(int fd, const char *where, const struct cgroup_limits *l, struct berr *err)
{
    if (l->memory <= 0)
        return 0;
    if (cg_write_ll(fd, where, "memory.limit_in_bytes", l->memory, err) < 0)
        return -1;
    long long swap = limits_memory_swap(l);
    if (swap == 0)
        return 0;
    if (cg_write_ll(fd, where, "memory.memsw.limit_in_bytes", swap < 0 ? -1 : swap, err) < 0) {
        if (errno != ENOENT)
            return -1;
        /* docker: "Your kernel does not support swap limit capabilities ... Memory limited
         * without swap." */
        debugf("cgroup: no swap accounting in %s: memory limited without swap", where);
    }
    return 0;
}

int v1_apply(int fd, const char *where, const char *controllers, const struct cgroup_limits *l,
             struct berr *err)
{
    if (cg_has_controller(controllers, "cpuset") && cg_apply_cpuset(fd, where, l, err) < 0)
        return -1;
    if (cg_has_controller(controllers, "devices") && cg_devices_v1(fd, where, err) < 0)
        return -1;
    if (cg_has_controller(controllers, "memory") && apply_memory(fd, where, l, err) < 0)
        return -1;
    if (cg_has_controller(controllers, "cpu") && apply_cpu(fd, where, l, err) < 0)
        return -1;
    if (cg_has_controller(controllers, "pids") && cg_apply_pids(fd, where, l, err) < 0)
        return -1;
    return 0;
}

static const struct cgroup_dir *dir_with(const struct cgroup_set *set, const char *controller)
{
    for (size_t i = 0; i < set->n; i++) {
        if (cg_has_controller(set->dirs[i].controllers, controller))
            return &set->dirs[i];
    }
    return NULL;
}

/* The kernel's "no limit" is the largest page-aligned value of a long (9223372036854771712);
 * anything that large is no limit. */
#define V1_UNLIMITED (1ULL << 62)

void cg_parse_blkio_v1(const char *text, unsigned long long *read, unsigned long long *write)
{
    *read = *write = 0;
    for (const char *line = text; *line;
         line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
        char dev[32], op[16];
        unsigned long long v;
        if (sscanf(line, "%31s %15s %llu", dev, op, &v) != 3)
            continue; /* "Total N" */
        if (!strcasecmp(op, "read"))
            *read += v;
        else if (!strcasecmp(op, "write"))
            *write += v;
    }
}

/* The throttle files count every request that reached a device, whatever its scheduler. */
static int read_blkio(const struct cgroup_dir *d, struct cgroup_stats *out, struct berr *err)
{
    static const char *const files[] = {"blkio.throttle.io_service_bytes_recursive",
                                        "blkio.throttle.io_service_bytes"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *text = NULL;
        if (cg_read(d->fd, d->path, files[i], &text, err) == 0) {
            cg_parse_blkio_v1(text, &out->io_read, &out->io_write);
            return 0;
        }
        if (errno != ENOENT)
            return -1;
    }
    return 0;
}

int v1_stats(const struct cgroup_set *set, struct cgroup_stats *out, struct berr *err)
{
    *out = (struct cgroup_stats){0};
    const struct cgroup_dir *d = dir_with(set, "cpuacct");
    if (d && cg_read_ull(d->fd, d->path, "cpuacct.usage", &out->cpu_usage_ns, err) < 0)
        return -1;
    d = dir_with(set, "memory");
    if (d) {
        unsigned long long usage, inactive, limit;
        if (cg_read_ull(d->fd, d->path, "memory.usage_in_bytes", &usage, err) < 0 ||
            cg_read_keyed(d->fd, d->path, "memory.stat", "total_inactive_file", &inactive, err) <
                0 ||
            cg_read_ull(d->fd, d->path, "memory.limit_in_bytes", &limit, err) < 0)
            return -1;
        /* docker's stats: usage without the inactive page cache */
        out->memory_usage = inactive < usage ? usage - inactive : usage;
        out->memory_limit = limit >= V1_UNLIMITED ? 0 : limit;
    }
    d = dir_with(set, "pids");
    if (d && cg_read_ull(d->fd, d->path, "pids.current", &out->pids, err) < 0)
        return -1;
    d = dir_with(set, "blkio");
    return d ? read_blkio(d, out, err) : 0;
}
