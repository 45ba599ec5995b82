/* cgroup — the container's cgroups: find the hierarchies, create <parent>/<id>, write limits,
 * attach a pid, read stats, remove. Knows nothing of namespaces, mounts or images. v1, v2 and
 * hybrid hosts behind one interface: on a hybrid host (v1 controllers plus a cgroup2 mount,
 * usually empty) the v1 controllers are used; a cgroup2 mount with controllers is a v2 host. */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include "util/util.h"

enum cgroup_layout { CGROUP_NONE, CGROUP_V1, CGROUP_V2, CGROUP_HYBRID };

struct cgroup_mount {
    char *path;        /* mount point */
    char *root;        /* the mount's root within the hierarchy (mountinfo field 4), "/" usually */
    char *controllers; /* "cpu", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
    bool v2;
};

struct cgroup_hosts {
    enum cgroup_layout layout;
    struct cgroup_mount *mounts;
    size_t n;
};

/* Parse /proc/self/mountinfo text: every cgroup and cgroup2 mount. v1 mounts beside a cgroup2
 * mount (systemd's /sys/fs/cgroup/unified) make a hybrid host. */
int cgroup_parse_mountinfo(const char *text, struct cgroup_hosts *out);
/* The same for this process. */
int cgroup_detect(struct cgroup_hosts *out, struct berr *err);
void cgroup_hosts_free(struct cgroup_hosts *h);
const char *cgroup_layout_name(enum cgroup_layout l);
/* Whether --cpus can work for containers under parent (e.g. "/storm"): on v1 (and hybrid) a
 * hierarchy with the cpu controller whose cpu.cfs_quota_us is writable in parent, or in its
 * deepest existing ancestor when parent is not made yet; on v2 the cpu controller offered there
 * (berth enables it below). *why gets the file that says so, or the reason it cannot; the
 * caller frees it. */
bool cgroup_cpu_quota_usable(const struct cgroup_hosts *h, const char *parent, char **why);

/* ---- limits: docker's flags, parsed and checked as docker does */

struct cgroup_limits {
    long long nano_cpus;  /* --cpus × 1e9; 0 = none */
    long long cpu_period; /* --cpu-period (µs); 0 = unset */
    long long cpu_quota;  /* --cpu-quota (µs); 0 = unset, -1 = unlimited */
    long long cpu_shares; /* --cpu-shares; 0 = unset */
    char *cpuset_cpus;    /* --cpuset-cpus, NULL = unset */
    char *cpuset_mems;    /* --cpuset-mems */
    long long memory;     /* --memory (bytes); 0 = unset */
    long long
        memory_swap; /* --memory-swap (bytes); 0 = unset (docker: 2 × memory), -1 = unlimited */
    long long pids_limit; /* --pids-limit; 0 = unset, -1 = unlimited */
};

void cgroup_limits_free(struct cgroup_limits *l);
/* Each flag's value with docker's parsing and messages (BERR_USAGE): "--cpus=abc" →
 * `invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number`, too many
 * decimals → `value is too precise`; sizes like "512m", "1g" (docker's RAMInBytes). */
int cgroup_parse_cpus(const char *s, long long *nano, struct berr *err);
int cgroup_parse_bytes(const char *flag, const char *s, long long *bytes, struct berr *err);
/* The checks dockerd makes on the whole set (conflicts, ranges against this host: CPU count,
 * memory minimum 6 MiB, swap ≥ memory, cpuset within the parent's), BERR_USAGE with docker's
 * text, e.g. "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available". */
int cgroup_limits_check(const struct cgroup_limits *l, struct berr *err);

/* The values cgroup_create writes for l, by OCI runtime-spec's names (linux.resources): 0 where
 * nothing is written, -1 for "unlimited". --cpus wins over --cpu-period/--cpu-quota; the swap
 * limit is memory plus swap, docker's 2 × memory when only --memory is given. */
struct cgroup_resources {
    long long cpu_shares, cpu_quota, cpu_period;
    long long memory_limit, memory_swap;
    long long pids_limit;
};
void cgroup_limits_resolve(const struct cgroup_limits *l, struct cgroup_resources *out);

/* docker's device policy, in order (later rules win): what v1 writes into devices.allow and
 * devices.deny, and what the v2 BPF program enforces. */
#define CGROUP_DEV_ANY (-1)
#define CGROUP_DEV_MKNOD 1u
#define CGROUP_DEV_READ 2u
#define CGROUP_DEV_WRITE 4u
struct cgroup_dev_rule {
    bool allow;
    char type;        /* 'a' (all), 'b', 'c' */
    int major, minor; /* CGROUP_DEV_ANY: any */
    unsigned access;  /* CGROUP_DEV_* bits */
};
extern const struct cgroup_dev_rule cgroup_dev_rules[];
extern const size_t cgroup_ndev_rules;

/* BERR_USAGE unless parent is a cgroup parent cgroup_create takes: absolute, no "..", each
 * component shorter than 256 bytes. The same rule at validation as at creation. */
int cgroup_parent_check(const char *parent, struct berr *err);

/* ---- the container's cgroup set ---------------------------------------------------------- */

struct cgroup_set; /* opaque: the <parent>/<id> directory in every hierarchy used */

/* Make <parent>/<id> in every mounted v1 hierarchy (or in the v2 tree, enabling the needed
 * controllers in the parents' cgroup.subtree_control), creating missing parents (v1 cpuset:
 * new dirs get cpus/mems from their parent first), and write the limits. parent must be
 * absolute and without ".." (checked: BERR_USAGE). On failure nothing is left behind. */
int cgroup_create(const char *parent, const char *id, const struct cgroup_limits *limits,
                  struct cgroup_set **out, struct berr *err);
/* Put pid in every cgroup of the set (before the pid runs any code of its own). */
int cgroup_attach(const struct cgroup_set *set, pid_t pid, struct berr *err);
/* The calling thread joins every cgroup of the set: a new container process's first step,
 * while it has a single thread. On v1 this is cheap where cgroup_attach waits out an RCU
 * grace period (~10 ms); on v2 it costs the same as cgroup_attach, so a v2 process is best
 * created in its cgroup by clone3(CLONE_INTO_CGROUP) with cgroup_clone_fd. */
int cgroup_join_self(const struct cgroup_set *set, struct berr *err);
/* Whether a container's pid 1 is best born in its cgroup (clone3's CLONE_INTO_CGROUP, a
 * cgroup2 tree at /sys/fs/cgroup), the set made before the clone; elsewhere (v1, hybrid) the
 * set is made while the child builds its root, and the child joins it by the fds below. */
bool cgroup_born_inside(void);
#define CGROUP_MAX_JOIN 32 /* more v1 hierarchies than any kernel has controllers */
/* The set's "tasks" files, opened for writing, for a child that joins them itself (v1); none
 * on a v2 set, where the child is created inside. Opened by whoever made the set, so that the
 * child, whose start waits for the join, only writes. On failure none is left open. */
struct cgroup_join {
    int fd[CGROUP_MAX_JOIN];
    size_t n;
};
int cgroup_join_open(const struct cgroup_set *set, struct cgroup_join *j, struct berr *err);
void cgroup_join_close(struct cgroup_join *j);
/* The calling thread joins the cgroups whose "tasks" files fds are (a cgroup_join's, received
 * over a socket): cgroup_join_self's cheap migration, for a process that cannot reach the
 * set. */
int cgroup_join_self_fds(const int *fds, size_t n, struct berr *err);
/* A set of v1 hierarchies does not cover a hybrid host's cgroup2 one, where a container's
 * pid 1 stays where it was born (its monitor's berth.monitors, or its caller's cgroup). The
 * calling process joins pid's cgroup there, so that it shares every cgroup of pid (exec).
 * Nothing to do on a v2 set or without a cgroup2 mount. Costs a grace period (cgroup.procs). */
int cgroup_join_v2_of(const struct cgroup_set *set, pid_t pid, struct berr *err);
/* On v2, the container's cgroup directory, for clone3's CLONE_INTO_CGROUP; -1 on v1. Owned
 * by the set. */
int cgroup_clone_fd(const struct cgroup_set *set);
/* Remove <parent>/<id> everywhere (retrying while the kernel still reports it busy); the
 * parents stay. Frees set. */
int cgroup_destroy(struct cgroup_set *set, struct berr *err);
/* Find the set of an existing container again (for the monitor, stats, rm -f cleanup);
 * BERR_NOT_FOUND when no hierarchy has its directory. */
int cgroup_open(const char *parent, const char *id, struct cgroup_set **out, struct berr *err);
void cgroup_set_free(struct cgroup_set *set);

/* ---- where a run -d monitor lives (home.c) ----------------------------------------------
 * <mount>/berth.monitors in the hierarchies that only track processes (v1 name=systemd, a
 * cgroup2 mount), so that stopping the service that ran `berth run -d` leaves the monitor and
 * its container running, as docker's containers outlive the supervisor. */
struct cgroup_home;
int cgroup_monitor_home(struct cgroup_home **out, struct berr *err);
/* Its cgroup2 part alone, at the usual mount points only (no mountinfo read): what a monitor is
 * born in; *out NULL without one there. The monitor joins the v1 parts itself, and a cgroup2
 * home mounted elsewhere too (cgroup_home_join: one grace period, on such hosts alone). */
int cgroup_monitor_home_v2(struct cgroup_home **out, struct berr *err);
/* Its cgroup2 directory for clone3(CLONE_INTO_CGROUP); -1 without a cgroup2 mount. */
int cgroup_home_clone_fd(const struct cgroup_home *h);
/* The calling single-threaded process joins it; in_v2: created there already. */
int cgroup_home_join(const struct cgroup_home *h, bool in_v2, struct berr *err);
void cgroup_home_free(struct cgroup_home *h);

/* Stop every process of the set where it is (freeze) or let them go on; returns once the
 * kernel says they are frozen (or thawed). BERR_FAILED without a freezer (v1 without its
 * hierarchy). */
int cgroup_freeze(const struct cgroup_set *set, bool freeze, struct berr *err);
/* Whether the set is frozen now. */
int cgroup_frozen(const struct cgroup_set *set, bool *frozen, struct berr *err);

struct cgroup_stats {
    unsigned long long cpu_usage_ns; /* cumulative CPU time */
    unsigned long long memory_usage; /* bytes, without page cache where the kernel says so */
    unsigned long long memory_limit; /* bytes; 0 = none */
    unsigned long long pids;
    unsigned long long io_read, io_write; /* bytes read from and written to block devices */
};
int cgroup_stats(const struct cgroup_set *set, struct cgroup_stats *out, struct berr *err);

#endif
