/* cgroup v2: one tree; the controllers are enabled in every ancestor's cgroup.subtree_control
 * from the root down, then the leaf gets runc's fs2 files and conversions. */
#include "internal.h"

#include <errno.h>
#include <string.h>

/* Controllers the limits cannot do without; the others are enabled when the parent offers
 * them (stats need memory and pids too) but their absence is no error, as with runc. */
static bool needed(const char *ctrl, const struct cgroup_limits *l)
{
    if (!strcmp(ctrl, "cpu"))
        return l->nano_cpus > 0 || l->cpu_period || l->cpu_quota || l->cpu_shares;
    if (!strcmp(ctrl, "cpuset"))
        return (l->cpuset_cpus && *l->cpuset_cpus) || (l->cpuset_mems && *l->cpuset_mems);
    if (!strcmp(ctrl, "memory"))
        return l->memory > 0;
    if (!strcmp(ctrl, "pids"))
        return l->pids_limit != 0;
    return false;
}

static bool listed(const char *words, const char *w)
{
    size_t n = strlen(w);
    for (const char *s = words; *s;) {
        s += strspn(s, " \n");
        size_t len = strcspn(s, " \n");
        if (len == n && !strncmp(s, w, n))
            return true;
        s += len;
    }
    return false;
}

static int enable_controllers(int fd, const char *where, const struct cgroup_limits *l,
                              struct berr *err)
{
    _cleanup_free_ char *offered = NULL;
    _cleanup_free_ char *enabled = NULL;
    if (cg_read(fd, where, "cgroup.controllers", &offered, err) < 0 ||
        cg_read(fd, where, "cgroup.subtree_control", &enabled, err) < 0)
        return -1;
    static const char *const wanted[] = {"cpu", "cpuset", "io", "memory", "pids", "hugetlb"};
    for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
        const char *c = wanted[i];
        if (listed(enabled, c))
            continue;
        if (!listed(offered, c)) {
            if (needed(c, l))
                return berr_set(err, BERR_FAILED,
                                "the %s controller is not available in %s (cgroup.controllers: "
                                "\"%s\")",
                                c, where, offered);
            continue;
        }
        _cleanup_free_ char *plus = xasprintf("+%s", c);
        if (cg_write(fd, where, "cgroup.subtree_control", plus, err) < 0) {
            if (needed(c, l))
                return -1;
            debugf("cgroup: %s", err->msg);
        }
    }
    return 0;
}

int v2_prepare(struct cg_chain *c, const struct cg_path *p, const struct cgroup_limits *l,
               struct berr *err)
{
    for (size_t i = 0; i < c->n; i++) {
        _cleanup_free_ char *where = cg_chain_path_at(c, p, i);
        if (enable_controllers(c->fd[i], where, l, err) < 0)
            return -1;
    }
    return 0;
}

/* runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000]. */
static long long shares_to_weight(long long shares)
{
    return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_cpu(int fd, const char *where, const struct cgroup_limits *l, struct berr *err)
{
    if (l->cpu_shares != 0 &&
        cg_write_ll(fd, where, "cpu.weight", shares_to_weight(limits_cpu_shares(l->cpu_shares)),
                    err) < 0)
        return -1;
    long long quota = l->cpu_quota, period = l->cpu_period;
    if (l->nano_cpus > 0) {
        quota = limits_cpus_quota(l->nano_cpus);
        period = LIMITS_CPUS_PERIOD;
    }
    if (quota == 0 && period == 0)
        return 0;
    char max[64];
    int n =
        quota > 0 ? snprintf(max, sizeof(max), "%lld", quota) : snprintf(max, sizeof(max), "max");
    if (period > 0)
        snprintf(max + n, sizeof(max) - (size_t)n, " %lld", period);
    return cg_write(fd, where, "cpu.max", max, err);
}

static int apply_memory(int fd, const char *where, const struct cgroup_limits *l, struct berr *err)
{
    if (l->memory <= 0)
        return 0;
    long long swap = limits_memory_swap(l);
    /* v2 limits swap alone: memory.swap.max = (memory + swap) - memory */
    if (swap != 0) {
        int r = swap < 0 ? cg_write(fd, where, "memory.swap.max", "max", err)
                         : cg_write_ll(fd, where, "memory.swap.max",
                                       swap > l->memory ? swap - l->memory : 0, err);
        if (r < 0 && errno != ENOENT)
            return -1;
        if (r < 0)
            debugf("cgroup: no swap accounting in %s: memory limited without swap", where);
    }
    return cg_write_ll(fd, where, "memory.max", l->memory, err);
}

int v2_apply(int fd, const char *where, const struct cgroup_limits *l, struct berr *err)
{
    if (cg_apply_cpuset(fd, where, l, err) < 0 || apply_cpu(fd, where, l, err) < 0 ||
        apply_memory(fd, where, l, err) < 0)
        return -1;
    return cg_apply_pids(fd, where, l, err);
}

/* A file of a controller that is not enabled is absent: its figure is 0. */
static int read_optional(const struct cgroup_dir *d, const char *name, unsigned long long *out,
                         struct berr *err)
{
    *out = 0;
    if (cg_read_ull(d->fd, d->path, name, out, err) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

void cg_parse_io_stat(const char *text, unsigned long long *read, unsigned long long *write)
{
    *read = *write = 0;
    for (const char *s = text; *s;) {
        size_t len = strcspn(s, " \n");
        unsigned long long v;
        if (sscanf(s, "rbytes=%llu", &v) == 1)
            *read += v;
        else if (sscanf(s, "wbytes=%llu", &v) == 1)
            *write += v;
        s += len;
        s += strspn(s, " \n");
    }
}

int v2_stats(const struct cgroup_set *set, struct cgroup_stats *out, struct berr *err)
{
    *out = (struct cgroup_stats){0};
    if (set->n == 0)
        return 0;
    const struct cgroup_dir *d = &set->dirs[0];
    unsigned long long usec = 0, usage = 0, inactive = 0;
    if (cg_read_keyed(d->fd, d->path, "cpu.stat", "usage_usec", &usec, err) < 0)
        return -1;
    out->cpu_usage_ns = usec * 1000;
    if (read_optional(d, "memory.current", &usage, err) < 0)
        return -1;
    if (usage && cg_read_keyed(d->fd, d->path, "memory.stat", "inactive_file", &inactive, err) < 0)
        return -1;
    out->memory_usage = inactive < usage ? usage - inactive : usage;
    _cleanup_free_ char *max = NULL;
    if (cg_read(d->fd, d->path, "memory.max", &max, err) < 0) {
        if (errno != ENOENT)
            return -1;
    } else if (strcmp(max, "max") != 0) {
        out->memory_limit = strtoull(max, NULL, 10);
    }
    if (read_optional(d, "pids.current", &out->pids, err) < 0)
        return -1;
    _cleanup_free_ char *io = NULL; /* absent without the io controller: nothing counted */
    if (cg_read(d->fd, d->path, "io.stat", &io, err) < 0)
        return errno == ENOENT ? 0 : -1;
    cg_parse_io_stat(io, &out->io_read, &out->io_write);
    return 0;
}
