/* Private to cgroup/: the set's layout, the directory walk shared by the v1 and v2 drivers,
 * the file helpers, and the checks with the host's facts passed in (so tests can fake them). */
#ifndef BERTH_CGROUP_INTERNAL_H
#define BERTH_CGROUP_INTERNAL_H

#include "cgroup.h"

/* One hierarchy's directory of the container: <mount>/<parent>/<id>. */
struct cgroup_dir {
    char *path;            /* for messages: the mount point joined with the relative path */
    char *mount;           /* the mount point, to walk down again */
    char *controllers;     /* "cpu", "cpu,cpuacct", "name=systemd"; "" on v2 */
    int fd;                /* the <id> directory */
    int parent_fd;         /* its parent, for the rmdir */
    dev_t dev, parent_dev; /* what fd and parent_fd were opened on, so a caller that */
    ino_t ino, parent_ino; /* closed them (close_fds_except) is noticed and repaired */
};

struct cg_path {
    char **comp; /* the parent's components, then the id */
    size_t n;
    char *rel; /* "storm/<id>": for messages */
};

struct cgroup_set {
    bool v2;
    char *id;
    struct cg_path rel; /* <parent>/<id> */
    struct cgroup_dir *dirs;
    size_t n;
};

/* The fds of d, opened again (from the mount point down) when they no longer are the
 * directories the set made or found. */
int cg_dir_check(const struct cgroup_set *set, struct cgroup_dir *d, struct berr *err);

/* ---- the relative path and the walk (walk.c) -------------------------------------------- */

/* "<parent>/<id>" split into components, validated: no "", ".", ".." or "/" inside one. */
int cg_path_parse(const char *parent, const char *id, struct cg_path *p, struct berr *err);
void cg_path_free(struct cg_path *p);

/* The directories from a mount point down to <parent>/<id>, as this call found or made them:
 * fd[0] is the mount point, fd[i] the i-th component; made[i] says this call created it. */
struct cg_chain {
    const struct cgroup_mount *mount;
    char *path; /* mount point + "/" + rel, for messages */
    int *fd;
    bool *made;
    size_t n; /* components, so fd has n + 1 entries */
};

/* Open every component below the mount point with O_NOFOLLOW, making the missing ones when
 * create is set. Without create a missing component is ENOENT (errno kept). */
int cg_chain_open(const struct cgroup_mount *m, const struct cg_path *p, bool create,
                  struct cg_chain *c, struct berr *err);
/* Remove, deepest first, exactly the directories this chain made (never one that existed). */
void cg_chain_undo(struct cg_chain *c, const struct cg_path *p);
void cg_chain_close(struct cg_chain *c);
/* The path of fd[i] (0 = the mount point), for messages. */
char *cg_chain_path_at(const struct cg_chain *c, const struct cg_path *p, size_t i);

/* The hierarchies a container uses on this host: every v1 hierarchy once (hybrid hosts
 * included), or the v2 mount. Points into hosts. */
int cg_pick_mounts(const struct cgroup_hosts *hosts, const struct cgroup_mount ***out, size_t *n,
                   bool *v2, struct berr *err);

/* cgroup_create and cgroup_open on the given hierarchies (NULL: this process's), so tests can
 * drive the v2 driver on a hybrid host's empty cgroup2 mount. */
int cg_create_in(const struct cgroup_hosts *hosts, const char *parent, const char *id,
                 const struct cgroup_limits *limits, struct cgroup_set **out, struct berr *err);
int cg_open_in(const struct cgroup_hosts *hosts, const char *parent, const char *id,
               struct cgroup_set **out, struct berr *err);

/* ---- files, relative to a cgroup directory fd (walk.c) ---------------------------------- */

/* path opened (O_DIRECTORY) when a cgroup file system of that magic (CGROUP_SUPER_MAGIC,
 * CGROUP2_SUPER_MAGIC) has its hierarchy's root mounted there (a kernfs root is inode 1); -1
 * otherwise. What the start's own lookups try first: the kernel formats mountinfo anew at
 * each read (35-100 us here). */
int cg_open_mounted_root(const char *path, unsigned long magic);
/* Write value to dirfd/name; on failure the message is `write <name>=<value> in <where>` and
 * errno is kept for callers that retry. */
int cg_write(int dirfd, const char *where, const char *name, const char *value, struct berr *err);
/* The same through *fd, opened on the first write and left open (the caller closes it): a
 * cgroup file that takes one value per write(2), devices.allow's rules. */
int cg_write_through(int *fd, int dirfd, const char *where, const char *name, const char *value,
                     struct berr *err);
int cg_write_ll(int dirfd, const char *where, const char *name, long long value, struct berr *err);
/* Read a small file, trailing newline stripped. */
int cg_read(int dirfd, const char *where, const char *name, char **out, struct berr *err);
int cg_read_ull(int dirfd, const char *where, const char *name, unsigned long long *out,
                struct berr *err);
/* "key value" lines (memory.stat, cpu.stat): value of key, or 0 when absent. */
int cg_read_keyed(int dirfd, const char *where, const char *name, const char *key,
                  unsigned long long *out, struct berr *err);
/* A controller token in a comma list such as "cpu,cpuacct". */
bool cg_has_controller(const char *controllers, const char *name);
/* A hierarchy that only tracks processes: cgroup2, or v1 with named hierarchies alone
 * ("name=systemd"). */
bool cg_mount_tracks_only(const struct cgroup_mount *m);
/* The cgroup2 mount, the one of its root when it is mounted twice; NULL when none is. */
const struct cgroup_mount *cg_v2_mount(const struct cgroup_hosts *h);
/* cpuset.cpus/mems and pids.max, written alike by both drivers when asked for. */
int cg_apply_cpuset(int fd, const char *where, const struct cgroup_limits *l, struct berr *err);
int cg_apply_pids(int fd, const char *where, const struct cgroup_limits *l, struct berr *err);

/* ---- drivers (v1.c, v2.c) ---------------------------------------------------------------- */

/* Before the limits: the parents' state the leaf needs (v1 cpuset, v2 subtree_control). */
int v1_prepare(struct cg_chain *c, const struct cg_path *p, const struct cgroup_limits *l,
               struct berr *err);
int v1_apply(int dirfd, const char *where, const char *controllers, const struct cgroup_limits *l,
             struct berr *err);
int v1_stats(const struct cgroup_set *set, struct cgroup_stats *out, struct berr *err);

int v2_prepare(struct cg_chain *c, const struct cg_path *p, const struct cgroup_limits *l,
               struct berr *err);
int v2_apply(int dirfd, const char *where, const struct cgroup_limits *l, struct berr *err);
int v2_stats(const struct cgroup_set *set, struct cgroup_stats *out, struct berr *err);

/* Block I/O totals over every device: v1's blkio.throttle.io_service_bytes lines
 * ("8:0 Read 4096"), v2's io.stat lines ("8:0 rbytes=4096 wbytes=0 ..."). */
void cg_parse_blkio_v1(const char *text, unsigned long long *read, unsigned long long *write);
void cg_parse_io_stat(const char *text, unsigned long long *read, unsigned long long *write);

/* ---- docker's default device policy (devices.c) ----------------------------------------- */

/* v1: its rules, in order, into devices.deny / devices.allow of dirfd. */
int cg_devices_v1(int dirfd, const char *where, struct berr *err);
/* v2: the same rules as a BPF_PROG_TYPE_CGROUP_DEVICE program attached to dirfd's cgroup
 * (BPF_F_ALLOW_MULTI: an ancestor's program still has its say). */
int cg_devices_v2(int dirfd, const char *where, struct berr *err);
/* The program's instructions (xcalloc'd), for tests; returns their count. */
struct bpf_insn;
size_t cg_devices_program(struct bpf_insn **out);

/* ---- limits (limits.c) ------------------------------------------------------------------ */

/* What dockerd's checks need to know of the host. */
struct cgroup_host_caps {
    long ncpus;       /* CPUs this process may run on (Go's runtime.NumCPU) */
    const char *cpus; /* the root cpuset's cpus, "0-1" */
    const char *mems; /* the root cpuset's mems, "0" */
};

int limits_check_with(const struct cgroup_limits *l, const struct cgroup_host_caps *h,
                      struct berr *err);
/* docker's quota for --cpus: NanoCPUs * 100000 / 1e9, truncated (period 100000). */
long long limits_cpus_quota(long long nano_cpus);
#define LIMITS_CPUS_PERIOD 100000LL
/* The swap limit docker asks for: 2 × memory when --memory-swap is unset. */
long long limits_memory_swap(const struct cgroup_limits *l);
/* --cpu-shares as dockerd adapts it: negative → 2, above 262144 → 262144. */
long long limits_cpu_shares(long long shares);

#endif
