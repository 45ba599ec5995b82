/* Where a `run -d` monitor lives: <mount>/berth.monitors in every hierarchy that only tracks
 * processes (a v1 hierarchy without controllers, such as name=systemd, and a cgroup2 mount).
 * A service manager stops a service by killing its cgroup there; a monitor left in the cgroup
 * of whatever ran `berth run -d` (Storm's supervisor) would die with it and take its container
 * along, where docker's containers outlive the supervisor. Resource hierarchies are left
 * alone, as docker leaves its shim in containerd's. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOME_DIR "berth.monitors"

struct cgroup_home {
    int v2_fd;   /* <cgroup2 mount>/berth.monitors, -1 without a cgroup2 mount */
    int *v1_fds; /* the same in each v1 hierarchy without controllers */
    size_t n_v1;
};

/* <mnt>/berth.monitors, made if missing; where names mnt in errors. */
static int home_in(int mnt, const char *where, struct berr *err)
{
    if (mkdirat(mnt, HOME_DIR, 0755) < 0 && errno != EEXIST)
        return berr_errno(err, "mkdir %s/%s", where, HOME_DIR);
    int fd = openat(mnt, HOME_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return berr_errno(err, "open %s/%s", where, HOME_DIR);
    return fd;
}

static int open_home_dir(const struct cgroup_mount *m, struct berr *err)
{
    _cleanup_close_ int mnt = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mnt < 0)
        return berr_errno(err, "open %s", m->path);
    return home_in(mnt, m->path, err);
}

/* The cgroup2 hierarchy at one of its usual mount points, its root mounted there. Whatever
 * mount of that root cg_v2_mount would take from mountinfo, its berth.monitors is this one.
 * All a monitor's spawn looks at, which both the caller and the monitor wait on (the spawn
 * read mountinfo on every start of a v1 host). NULL elsewhere (a v1 host, a cgroup
 * namespace, another mount point): mountinfo decides, in cgroup_monitor_home. */
static const char *usual_v2_root(int *mnt)
{
    static const char *const usual[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    for (size_t i = 0; i < ARRAY_SIZE(usual); i++) {
        *mnt = cg_open_mounted_root(usual[i], CGROUP2_SUPER_MAGIC);
        if (*mnt >= 0)
            return usual[i];
    }
    return NULL;
}

static int add_v1(struct cgroup_home *h, const struct cgroup_mount *m, struct berr *err)
{
    int fd = open_home_dir(m, err);
    if (fd < 0)
        return -1;
    h->v1_fds = xrealloc(h->v1_fds, (h->n_v1 + 1) * sizeof(*h->v1_fds));
    h->v1_fds[h->n_v1++] = fd;
    return 0;
}

static int find_home(struct cgroup_home **out, bool with_v1, struct berr *err)
{
    *out = NULL;
    struct cgroup_hosts hosts;
    if (cgroup_detect(&hosts, err) < 0)
        return -1;
    struct cgroup_home *h = xcalloc(1, sizeof(*h));
    const struct cgroup_mount *v2 = cg_v2_mount(&hosts);
    h->v2_fd = v2 ? open_home_dir(v2, err) : -1;
    int rc = v2 && h->v2_fd < 0 ? -1 : 0;
    for (size_t i = 0; with_v1 && i < hosts.n && rc == 0; i++) {
        if (!hosts.mounts[i].v2 && cg_mount_tracks_only(&hosts.mounts[i]))
            rc = add_v1(h, &hosts.mounts[i], err);
    }
    cgroup_hosts_free(&hosts);
    if (rc < 0) {
        cgroup_home_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

int cgroup_monitor_home(struct cgroup_home **out, struct berr *err)
{
    return find_home(out, true, err);
}

int cgroup_monitor_home_v2(struct cgroup_home **out, struct berr *err)
{
    *out = NULL;
    _cleanup_close_ int mnt = -1;
    const char *where = usual_v2_root(&mnt);
    if (!where)
        return 0;
    int fd = home_in(mnt, where, err);
    if (fd < 0)
        return -1;
    *out = xcalloc(1, sizeof(**out));
    (*out)->v2_fd = fd;
    return 0;
}

int cgroup_home_clone_fd(const struct cgroup_home *h)
{
    return h->v2_fd;
}

int cgroup_home_join(const struct cgroup_home *h, bool in_v2, struct berr *err)
{
    /* v1 "tasks" and "0": moving oneself, one thread, waits out no grace period */
    for (size_t i = 0; i < h->n_v1; i++) {
        if (cg_write(h->v1_fds[i], HOME_DIR, "tasks", "0", err) < 0)
            return -1;
    }
    if (!in_v2 && h->v2_fd >= 0)
        return cg_write(h->v2_fd, HOME_DIR, "cgroup.procs", "0", err);
    return 0;
}

void cgroup_home_free(struct cgroup_home *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_v1; i++)
        close(h->v1_fds[i]);
    free(h->v1_fds);
    if (h->v2_fd >= 0)
        close(h->v2_fd);
    free(h);
}
