/* berth-oci's pause and resume: a container's cgroups frozen and thawed, and what state and
 * kill need to know of it. Only berth-oci's commands come here: berth's own start never does. */
#include "internal.h"

/* The cgroups of the container whose state directory is dirfd, by its linux.cgroupsPath. */
static int open_cgroups(int dirfd, struct cgroup_set **set, struct berr *err)
{
    _cleanup_free_ char *parent = NULL, *name = NULL;
    if (oci_cgroups_read_at(dirfd, &parent, &name, err) < 0)
        return -1;
    return cgroup_open(parent, name, set, err);
}

bool oci_frozen_at(int dirfd)
{
    struct cgroup_set *set = NULL;
    struct berr ignored = {0};
    bool frozen = false;
    if (open_cgroups(dirfd, &set, &ignored) == 0 && cgroup_frozen(set, &frozen, &ignored) < 0)
        frozen = false;
    cgroup_set_free(set);
    return frozen;
}

int oci_freeze_at(int dirfd, bool freeze, struct berr *err)
{
    struct cgroup_set *set = NULL;
    int rc = open_cgroups(dirfd, &set, err) < 0 ? -1 : cgroup_freeze(set, freeze, err);
    cgroup_set_free(set);
    return rc;
}
