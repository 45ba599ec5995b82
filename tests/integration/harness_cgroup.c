/* A cgroup parent of the running test's own, in every hierarchy of the host, and what is
 * left below it. For the suites that count cgroup directories (faults, soak, the launchers). */
#include "harness.h"

#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

static struct cgroup_hosts hosts;
static char parent[64];

void h_cgroup_parent_init(const char *prefix)
{
    snprintf(parent, sizeof(parent), "/%s-%d", prefix, (int)getpid());
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&hosts, &err), 0, "%s", err.msg);
}

const char *h_cgroup_parent(void)
{
    return parent;
}

const struct cgroup_hosts *h_cgroup_hosts(void)
{
    return &hosts;
}

void h_remove_cgroup_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
        h_remove_cgroup_tree(sub);
    }
    closedir(d);
    /* a cgroup empties a moment after its last process is reaped */
    for (int tries = 0; rmdir(dir) < 0 && errno == EBUSY && tries < 200; tries++)
        usleep(10000);
}

void h_cgroup_parent_fini(void)
{
    for (size_t i = 0; i < hosts.n; i++) {
        _cleanup_free_ char *dir = xasprintf("%s%s", hosts.mounts[i].path, parent);
        h_remove_cgroup_tree(dir);
    }
    cgroup_hosts_free(&hosts);
}

static void list_dirs(const char *dir, char **out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
        char *next = xasprintf("%s%s ", *out, sub);
        free(*out);
        *out = next;
        list_dirs(sub, out);
    }
    closedir(d);
}

char *h_cgroups_left(void)
{
    char *out = xstrdup("");
    for (size_t i = 0; i < hosts.n; i++) {
        _cleanup_free_ char *dir = xasprintf("%s%s", hosts.mounts[i].path, parent);
        list_dirs(dir, &out);
    }
    return out;
}
