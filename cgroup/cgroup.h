/* cgroup — the container's cgroups: find the hierarchies, (later) create <parent>/<id>, write
 * limits, attach a pid, read stats, remove. Knows nothing of namespaces, mounts or images. v1,
 * v2 and hybrid hosts behind one interface. */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include "util/util.h"

enum cgroup_layout { CGROUP_NONE, CGROUP_V1, CGROUP_V2, CGROUP_HYBRID };

struct cgroup_mount {
    char *path;        /* mount point */
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

#endif
