/* The freezer: a container's processes stopped where they are and let go again (runc's pause
 * and resume). v1 has its own hierarchy (freezer.state: THAWED, FREEZING, FROZEN); v2 has
 * cgroup.freeze in every cgroup and reports the outcome as "frozen" in cgroup.events. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* The directory that holds the freezer's files: the v2 one, or the v1 freezer hierarchy's. */
static int freezer_dir(const struct cgroup_set *set, struct cgroup_dir **out, struct berr *err)
{
    for (size_t i = 0; i < set->n; i++) {
        if (set->v2 || cg_has_controller(set->dirs[i].controllers, "freezer")) {
            *out = &set->dirs[i];
            return cg_dir_check(set, *out, err);
        }
    }
    return berr_set(err, BERR_FAILED, "cgroup %s: no freezer hierarchy", set->rel.rel);
}

static int read_frozen(const struct cgroup_set *set, struct cgroup_dir *d, bool *frozen,
                       struct berr *err)
{
    if (set->v2) {
        unsigned long long v;
        if (cg_read_keyed(d->fd, d->path, "cgroup.events", "frozen", &v, err) < 0)
            return -1;
        *frozen = v == 1;
        return 0;
    }
    _cleanup_free_ char *state = NULL;
    if (cg_read(d->fd, d->path, "freezer.state", &state, err) < 0)
        return -1;
    *frozen = !strcmp(state, "FROZEN");
    return 0;
}

int cgroup_frozen(const struct cgroup_set *set, bool *frozen, struct berr *err)
{
    struct cgroup_dir *d;
    if (freezer_dir(set, &d, err) < 0)
        return -1;
    return read_frozen(set, d, frozen, err);
}

int cgroup_freeze(const struct cgroup_set *set, bool freeze, struct berr *err)
{
    struct cgroup_dir *d;
    if (freezer_dir(set, &d, err) < 0)
        return -1;
    const char *file = set->v2 ? "cgroup.freeze" : "freezer.state";
    const char *value = set->v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
    /* v1 may stay FREEZING while a task is busy in the kernel: written again until it is
     * frozen, as runc does; a thaw is at once */
    for (int i = 0; i < 1000; i++) {
        bool frozen;
        if (cg_write(d->fd, d->path, file, value, err) < 0 || read_frozen(set, d, &frozen, err) < 0)
            return -1;
        if (frozen == freeze)
            return 0;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    if (freeze) {
        struct berr ignored = {0};
        cg_write(d->fd, d->path, file, set->v2 ? "0" : "THAWED", &ignored);
    }
    return berr_set(err, BERR_FAILED, "cgroup %s: %s did not become %s in 10 s", d->path, file,
                    value);
}
