/* cgroup_cpu_quota_usable: what `berth info` says about --cpus under Storm's parent, over fake
 * hierarchies in a temporary directory (no real cgroup is touched). */
#include "cgroup/cgroup.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];

static void fake_init(void)
{
    snprintf(base, sizeof(base), "/tmp/berth-cpucheck.XXXXXX");
    cr_assert(mkdtemp(base));
}

static void fake_fini(void)
{
    char *cmd = xasprintf("rm -rf -- '%s'", base);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
}

static char *mk(const char *rel, const char *content)
{
    char *p = xasprintf("%s/%s", base, rel);
    if (content) {
        FILE *f = fopen(p, "w");
        cr_assert(f, "%s", p);
        fputs(content, f);
        fclose(f);
    } else {
        cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
    }
    return p;
}

static struct cgroup_hosts one_mount(char *path, const char *controllers, bool v2,
                                     enum cgroup_layout layout)
{
    struct cgroup_hosts h = {.layout = layout, .n = 1};
    h.mounts = xcalloc(1, sizeof(*h.mounts));
    h.mounts[0] = (struct cgroup_mount){
        .path = path, .root = xstrdup("/"), .controllers = xstrdup(controllers), .v2 = v2};
    return h;
}

TestSuite(cgroup_cpu_check, .init = fake_init, .fini = fake_fini);

Test(cgroup_cpu_check, v1_quota_file_under_the_existing_parent)
{
    struct cgroup_hosts h = one_mount(mk("cpu", NULL), "cpu,cpuacct", false, CGROUP_V1);
    free(mk("cpu/storm", NULL));
    free(mk("cpu/storm/cpu.cfs_quota_us", "-1\n"));
    char *why = NULL;
    cr_assert(cgroup_cpu_quota_usable(&h, "/storm", &why));
    char *want = xasprintf("%s/cpu/storm/cpu.cfs_quota_us", base);
    cr_assert_str_eq(why, want);
    free(want);
    free(why);
    cgroup_hosts_free(&h);
}

Test(cgroup_cpu_check, v1_parent_not_made_yet_looks_at_the_deepest_ancestor)
{
    struct cgroup_hosts h = one_mount(mk("cpu", NULL), "cpu", false, CGROUP_V1);
    char *why = NULL;
    cr_assert_not(cgroup_cpu_quota_usable(&h, "/storm/sub", &why), "no quota file anywhere");
    cr_assert(strstr(why, "cpu.cfs_quota_us"), "%s", why);
    free(why);
    free(mk("cpu/cpu.cfs_quota_us", "-1\n"));
    cr_assert(cgroup_cpu_quota_usable(&h, "/storm/sub", &why));
    char *want = xasprintf("%s/cpu/cpu.cfs_quota_us", base);
    cr_assert_str_eq(why, want);
    free(want);
    free(why);
    cgroup_hosts_free(&h);
}

Test(cgroup_cpu_check, no_cpu_controller)
{
    struct cgroup_hosts h = one_mount(mk("memory", NULL), "memory", false, CGROUP_V1);
    char *why = NULL;
    cr_assert_not(cgroup_cpu_quota_usable(&h, "/storm", &why));
    cr_assert_str_eq(why, "no cgroup v1 hierarchy has the cpu controller");
    free(why);
    cgroup_hosts_free(&h);
}

Test(cgroup_cpu_check, v2_cpu_offered_to_the_parent)
{
    struct cgroup_hosts h = one_mount(mk("unified", NULL), "", true, CGROUP_V2);
    free(mk("unified/cgroup.controllers", "cpuset io memory pids\n"));
    char *why = NULL;
    cr_assert_not(cgroup_cpu_quota_usable(&h, "/storm", &why));
    cr_assert(strstr(why, "cpu controller is not offered"), "%s", why);
    free(why);
    free(mk("unified/storm", NULL));
    free(mk("unified/storm/cgroup.controllers", "cpuset cpu io memory pids\n"));
    cr_assert(cgroup_cpu_quota_usable(&h, "/storm", &why));
    char *want = xasprintf("%s/unified/storm/cgroup.controllers", base);
    cr_assert_str_eq(why, want);
    free(want);
    free(why);
    cgroup_hosts_free(&h);
}

Test(cgroup_cpu_check, hybrid_uses_the_v1_hierarchy)
{
    struct cgroup_hosts h = {.layout = CGROUP_HYBRID, .n = 2};
    h.mounts = xcalloc(2, sizeof(*h.mounts));
    h.mounts[0] = (struct cgroup_mount){
        .path = mk("unified", NULL), .root = xstrdup("/"), .controllers = xstrdup(""), .v2 = true};
    h.mounts[1] = (struct cgroup_mount){
        .path = mk("cpu", NULL), .root = xstrdup("/"), .controllers = xstrdup("cpu"), .v2 = false};
    free(mk("cpu/cpu.cfs_quota_us", "-1\n"));
    char *why = NULL;
    cr_assert(cgroup_cpu_quota_usable(&h, "/storm", &why), "%s", why);
    free(why);
    cgroup_hosts_free(&h);
}
