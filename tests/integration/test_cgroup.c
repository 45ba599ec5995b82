/* berth run with the cgroup flags: the files written under every hierarchy, the container's
 * pid 1 in each cgroup.procs, what Storm's supervisor and worker read (v1 paths, the
 * container's /proc/self/cgroup against a read-only bind of /sys/fs/cgroup), the removal when
 * the container ends, and docker's refusals of bad values with nothing created. Every test
 * uses its own parent /storm-it-<pid> and removes it afterwards. Works on v1, hybrid and v2
 * hosts (make vmcheck); the Storm reads are v1 only and skip elsewhere. */
#include "harness.h"

#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct cgroup_hosts hosts;
static bool v2;
static char parent[64]; /* "/storm-it-<pid>" */

static void cgroup_suite_fini(void)
{
    h_suite_fini(); /* kills and removes the test's containers first */
    for (size_t i = 0; i < hosts.n; i++) {
        static const char *const extra[] = {"", "-a", "-b"};
        for (size_t j = 0; j < ARRAY_SIZE(extra); j++) {
            _cleanup_free_ char *dir = xasprintf("%s%s%s", hosts.mounts[i].path, parent, extra[j]);
            h_remove_cgroup_tree(dir);
        }
    }
    cgroup_hosts_free(&hosts);
}

static void cgroup_suite_init(void)
{
    h_suite_init();
    snprintf(parent, sizeof(parent), "/storm-it-%d", (int)getpid());
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&hosts, &err), 0, "%s", err.msg);
    bool v1 = false;
    for (size_t i = 0; i < hosts.n; i++)
        v1 |= !hosts.mounts[i].v2 && strncmp(hosts.mounts[i].controllers, "name=", 5) != 0;
    v2 = !v1;
}

TestSuite(cgroup, .init = cgroup_suite_init, .fini = cgroup_suite_fini, .timeout = 180);

#define skip_unless_v1(why)                                                                        \
    do {                                                                                           \
        if (v2) {                                                                                  \
            cgroup_suite_fini();                                                                   \
            cr_skip_test("%s: Storm reads cgroup v1 files; this host is v2", (why));               \
        }                                                                                          \
    } while (0)

/* ---- host side helpers ------------------------------------------------------------------- */

static bool has_controller(const struct cgroup_mount *m, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = m->controllers; *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, name, n))
            return true;
        s += len + (s[len] == ',');
    }
    return false;
}

/* The mount point holding controller (v1), or the v2 mount. */
static const char *mount_of(const char *controller)
{
    for (size_t i = 0; i < hosts.n; i++) {
        const struct cgroup_mount *m = &hosts.mounts[i];
        if (v2 ? m->v2 : (!m->v2 && has_controller(m, controller)))
            return m->path;
    }
    cr_assert_fail("no hierarchy with %s", controller);
    return NULL;
}

/* Hierarchies a container is in: every v1 mount (each hierarchy once), or the v2 mount. */
static size_t used_mounts(const char *out[], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < hosts.n && n < max; i++) {
        const struct cgroup_mount *m = &hosts.mounts[i];
        if (m->v2 != v2)
            continue;
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |=
                hosts.mounts[j].v2 == m->v2 && !strcmp(hosts.mounts[j].controllers, m->controllers);
        if (!dup)
            out[n++] = m->path;
    }
    return n;
}

static char *cg_file(const char *controller, const char *id, const char *name)
{
    return xasprintf("%s%s/%s/%s", mount_of(controller), parent, id, name);
}

static char *cg_value(const char *controller, const char *id, const char *name)
{
    _cleanup_free_ char *path = cg_file(controller, id, name);
    char *text = h_read_file(path);
    cr_assert(text, "%s: %s", path, strerror(errno));
    text[strcspn(text, "\n")] = '\0';
    return text;
}

#define assert_cg(controller, id, name, want)                                                      \
    do {                                                                                           \
        _cleanup_free_ char *v_ = cg_value((controller), (id), (name));                            \
        cr_assert_str_eq(v_, (want), "%s under %s", (name), (controller));                         \
    } while (0)

static bool in_procs(const char *mount, const char *id, const char *pid)
{
    _cleanup_free_ char *path = xasprintf("%s%s/%s/cgroup.procs", mount, parent, id);
    _cleanup_free_ char *text = h_read_file(path);
    cr_assert(text, "%s: %s", path, strerror(errno));
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (!strcmp(l, pid))
            return true;
    return false;
}

static bool exists_under_parent(const char *mount, const char *sub)
{
    _cleanup_free_ char *path = xasprintf("%s%s%s", mount, parent, sub);
    return h_exists(path);
}

/* Wait (the monitor removes them as the container ends) until no hierarchy has <id>. */
static void assert_id_gone_parent_kept(const char *id)
{
    const char *mounts[32];
    size_t n = used_mounts(mounts, ARRAY_SIZE(mounts));
    _cleanup_free_ char *sub = xasprintf("/%s", id);
    for (int tries = 0; tries < 100; tries++) {
        bool any = false;
        for (size_t i = 0; i < n; i++)
            any |= exists_under_parent(mounts[i], sub);
        if (!any)
            break;
        usleep(50000);
    }
    for (size_t i = 0; i < n; i++) {
        cr_assert_not(exists_under_parent(mounts[i], sub), "%s%s/%s is still there", mounts[i],
                      parent, id);
        cr_assert(exists_under_parent(mounts[i], ""), "the parent %s%s was removed", mounts[i],
                  parent);
    }
}

static long usable_cpus(void)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
    return CPU_COUNT(&set);
}

/* run -d with the cgroup flags and a sleeping probe; returns the id. */
static char *run_limited(const char *name, const char *cidfile)
{
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    _cleanup_free_ char *cid = xasprintf("--cidfile=%s", cidfile);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", name, cid, par, "--cpus=1.5", "--memory=64m",
            "--pids-limit=100", "--cpuset-cpus=0", "--cpuset-mems=0", "--cpu-shares=512", "-v",
            "/sys/fs/cgroup:/sys/fs/cgroup:ro", H_IMAGE, "/probe", "sleep", "600", NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(r.out_len, 65, "run -d printed: %s\n--- stderr:\n%s", r.out, r.err);
    r.out[64] = '\0';
    return r.out;
}

static char *inspect(const char *name, const char *format)
{
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", format, name, NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    return r.out;
}

/* ---- the files and the membership --------------------------------------------------------- */

Test(cgroup, run_writes_the_limits_in_every_hierarchy)
{
    _cleanup_free_ char *cidfile = h_path("cid");
    _cleanup_free_ char *id = run_limited("limited", cidfile);
    if (v2) {
        assert_cg("", id, "cpu.max", "150000 100000");
        assert_cg("", id, "cpu.weight", "20"); /* 1 + (510 * 9999) / 262142 */
        assert_cg("", id, "memory.max", "67108864");
        assert_cg("", id, "pids.max", "100");
        assert_cg("", id, "cpuset.cpus", "0");
    } else {
        assert_cg("cpu", id, "cpu.cfs_period_us", "100000");
        assert_cg("cpu", id, "cpu.cfs_quota_us", "150000");
        assert_cg("cpu", id, "cpu.shares", "512");
        assert_cg("memory", id, "memory.limit_in_bytes", "67108864");
        _cleanup_free_ char *memsw = cg_file("memory", id, "memory.memsw.limit_in_bytes");
        if (h_exists(memsw))
            assert_cg("memory", id, "memory.memsw.limit_in_bytes", "134217728");
        assert_cg("pids", id, "pids.max", "100");
        assert_cg("cpuset", id, "cpuset.cpus", "0");
        assert_cg("cpuset", id, "cpuset.mems", "0");
    }
    _cleanup_free_ char *nano = inspect("limited", "{{.HostConfig.NanoCpus}}");
    cr_assert_str_eq(nano, "1500000000");
}

Test(cgroup, pid_1_is_in_every_cgroup_of_the_container)
{
    _cleanup_free_ char *cidfile = h_path("cid");
    _cleanup_free_ char *id = run_limited("member", cidfile);
    _cleanup_free_ char *pid = inspect("member", "{{.State.Pid}}");
    if (atoi(pid) <= 0) {
        struct h_result r;
        h_berth(&r, NULL, "logs", "member", NULL);
        cr_assert_fail("State.Pid %s, state %s; logs:\n%s%s", pid,
                       inspect("member", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}"),
                       r.out, r.err);
    }
    const char *mounts[32];
    size_t n = used_mounts(mounts, ARRAY_SIZE(mounts));
    cr_assert_gt(n, 0);
    for (size_t i = 0; i < n; i++)
        cr_assert(in_procs(mounts[i], id, pid), "pid %s not in %s%s/%s/cgroup.procs", pid,
                  mounts[i], parent, id);
}

Test(cgroup, stop_removes_the_containers_cgroups_and_keeps_the_parent)
{
    _cleanup_free_ char *cidfile = h_path("cid");
    _cleanup_free_ char *id = run_limited("stopped", cidfile);
    struct h_result r;
    h_berth(&r, NULL, "stop", "-t", "1", "stopped", NULL);
    h_assert_status(&r, 0);
    assert_id_gone_parent_kept(id);
    h_berth(&r, NULL, "rm", "stopped", NULL);
    h_assert_status(&r, 0);
}

Test(cgroup, a_container_that_exits_by_itself_leaves_no_cgroup)
{
    _cleanup_free_ char *cidfile = h_path("cid");
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--cidfile", cidfile, par, "--cpus=0.5", "--memory=32m",
            H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *id = h_read_file(cidfile);
    cr_assert(id && strlen(id) == 64, "cidfile: %s", id ? id : "(none)");
    assert_id_gone_parent_kept(id);
}

/* /berth is shared by every container without the flag: it stays, like docker's /docker */
Test(cgroup, default_parent_is_berth)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "plain", H_IMAGE, "/probe", "sleep", "600", NULL);
    h_assert_status(&r, 0);
    r.out[64] = '\0';
    _cleanup_free_ char *dir = xasprintf("%s/berth/%s", mount_of("pids"), r.out);
    cr_assert(h_exists(dir), "%s is missing", dir);
    h_berth(&r, NULL, "rm", "-f", "plain", NULL);
    h_assert_status(&r, 0);
    for (int tries = 0; h_exists(dir) && tries < 100; tries++)
        usleep(50000);
    cr_assert_not(h_exists(dir), "%s is left behind", dir);
}

/* docker's default device policy, seen from a container that holds CAP_MKNOD (docker's default
 * capabilities): /dev is a tmpfs that cannot be nodev, so the cgroup (v1 devices, v2 an eBPF
 * program) is what keeps a host disk's node unopenable; /dev/full is one of runc's allowed. */
Test(cgroup, device_policy_refuses_a_host_disk_and_allows_dev_full)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/bin/sh", "-c",
            "echo x >/dev/full; mknod /dev/disk b 8 0 && echo made && head -c 1 /dev/disk; "
            "mknod /dev/kmsg2 c 1 11 && cat /dev/kmsg2",
            NULL);
    cr_expect_str_eq(r.out, "made\n", "stderr: %s", r.err);
    h_assert_err_mentions(&r, "write error: No space left on device");
    h_assert_err_mentions(&r, "/dev/disk: Operation not permitted");
    h_assert_err_mentions(&r, "/dev/kmsg2': Operation not permitted");
}

/* ---- what Storm reads ------------------------------------------------------------------- */

Test(cgroup, storm_supervisor_reads_memory_usage_under_the_cidfile_id)
{
    skip_unless_v1("memory.usage_in_bytes");
    _cleanup_free_ char *cidfile = h_path("cid");
    _cleanup_free_ char *id = run_limited("storm-mem", cidfile);
    _cleanup_free_ char *cid = h_read_file(cidfile);
    cr_assert_str_eq(cid, id);
    /* MemoryCore: root + "/memory/" + parent + "/" + cid, parent absolute: a double slash */
    _cleanup_free_ char *path =
        xasprintf("/sys/fs/cgroup/memory/%s/%s/memory.usage_in_bytes", parent, cid);
    _cleanup_free_ char *usage = h_read_file(path);
    cr_assert(usage, "%s: %s", path, strerror(errno));
    cr_assert(strtoull(usage, NULL, 10) > 0, "usage %s", usage);
    /* CGroupCpuGuaranteeByCfsQuota: quota * 100 / period */
    _cleanup_free_ char *quota = cg_value("cpu", cid, "cpu.cfs_quota_us");
    _cleanup_free_ char *period = cg_value("cpu", cid, "cpu.cfs_period_us");
    cr_assert_eq(atoll(quota) * 100 / atoll(period), 150);
}

/* "9:name=systemd:/storm/<id>" → "systemd", "/storm/<id>" */
static void first_cgroup_line(const char *text, char **subsys, char **path)
{
    const char *line = text;
    const char *c1 = strchr(line, ':');
    cr_assert(c1, "/proc/self/cgroup: %s", text);
    const char *c2 = strchr(c1 + 1, ':');
    cr_assert(c2, "/proc/self/cgroup: %s", text);
    const char *end = strstr(c2 + 1, "\\n");
    if (!end)
        end = c2 + 1 + strlen(c2 + 1);
    const char *s = c1 + 1;
    if (!strncmp(s, "name=", 5))
        s += 5;
    *subsys = xasprintf("%.*s", (int)(c2 - s), s);
    *path = xasprintf("%.*s", (int)(end - c2 - 1), c2 + 1);
}

Test(cgroup, worker_finds_its_cgroup_under_the_read_only_bind)
{
    _cleanup_free_ char *cidfile = h_path("cid");
    _cleanup_free_ char *id = run_limited("storm-self", cidfile);
    struct h_result r;
    h_berth(&r, NULL, "exec", "storm-self", "/probe", "cat", "/proc/1/cgroup", NULL);
    h_assert_status(&r, 0);
    char *text = h_get(&r, "cat:/proc/1/cgroup");
    cr_assert(text, "no cat output:\n%s", r.out);
    char *subsys, *path;
    first_cgroup_line(text, &subsys, &path);
    _cleanup_free_ char *want = xasprintf("%s/%s", parent, id);
    cr_assert_str_eq(path, want, "first line of /proc/self/cgroup: %s", text);
    _cleanup_free_ char *inside =
        v2 ? xasprintf("/sys/fs/cgroup%s", path) : xasprintf("/sys/fs/cgroup/%s%s", subsys, path);
    h_berth(&r, NULL, "exec", "storm-self", "/probe", "stat", inside, "mkdir", "/sys/fs/cgroup/x",
            NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *key = xasprintf("stat:%s", inside);
    const char *st = h_val(&r, key);
    cr_assert(str_has_prefix(st, "dir "), "%s inside: %s\n%s", inside, st, r.out);
    cr_assert_str_neq(h_val(&r, "mkdir:/sys/fs/cgroup/x"), "ok", "the bind is writable");
    free(subsys);
    free(path);
}

/* ---- refusals: exit 125, docker's message, nothing created ------------------------------- */

static void assert_nothing_created(void)
{
    for (size_t i = 0; i < hosts.n; i++) {
        static const char *const extra[] = {"", "-a", "-b"};
        for (size_t j = 0; j < ARRAY_SIZE(extra); j++) {
            _cleanup_free_ char *dir = xasprintf("%s%s%s", hosts.mounts[i].path, parent, extra[j]);
            cr_assert_not(h_exists(dir), "%s was created", dir);
        }
    }
    cr_assert_str_eq(h_state_entries("containers"), "");
}

static void refused(const char *flag, const char *message)
{
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", par, flag, H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, message);
    cr_assert_str_empty(r.out);
    assert_nothing_created();
}

Test(cgroup, cpus_that_are_not_a_number_are_refused)
{
    refused("--cpus=abc", "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a "
                          "rational number");
}

Test(cgroup, negative_cpus_are_out_of_range)
{
    _cleanup_free_ char *msg = xasprintf("Range of CPUs is from 0.01 to %ld.00, as there are "
                                         "only %ld CPUs available",
                                         usable_cpus(), usable_cpus());
    refused("--cpus=-1", msg);
}

Test(cgroup, more_cpus_than_the_host_has_are_refused)
{
    long n = usable_cpus();
    _cleanup_free_ char *flag = xasprintf("--cpus=%ld", n + 1);
    _cleanup_free_ char *msg = xasprintf(
        "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available", n, n);
    refused(flag, msg);
}

Test(cgroup, cpus_with_ten_decimals_are_too_precise)
{
    refused("--cpus=0.0000000001", "value is too precise");
}

Test(cgroup, cpus_below_the_kernels_minimum_fail_and_leave_nothing)
{
    /* 1.0E-4 passes docker's checks; the kernel refuses a 10 µs quota */
    refused("--cpus=1.0E-4", v2 ? "cpu.max" : "cpu.cfs_quota_us");
}

/* refused before anything exists, by the rule the cgroup code creates with */
Test(cgroup, a_cgroup_parent_component_too_long_for_the_kernel_is_refused_up_front)
{
    char longname[300];
    memset(longname, 'p', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=/%s", longname);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", par, H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "invalid cgroup parent");
    cr_assert_str_empty(r.out);
    cr_assert_str_eq(h_state_entries("containers"), "");
}

Test(cgroup, memory_below_six_megabytes_is_refused)
{
    refused("--memory=1m", "Minimum memory limit allowed is 6MB");
}

Test(cgroup, memory_swap_below_memory_is_refused)
{
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", par, "--memory=64m", "--memory-swap=32m", H_IMAGE, "/probe",
            "exit", "0", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r,
                          "Minimum memoryswap limit should be larger than memory limit, see usage");
    assert_nothing_created();
}

Test(cgroup, cpuset_outside_the_host_is_refused)
{
    _cleanup_free_ char *flag = xasprintf("--cpuset-cpus=%ld", sysconf(_SC_NPROCESSORS_CONF) + 7);
    refused(flag, "Requested CPUs are not available");
}

Test(cgroup, cpuset_with_bad_syntax_is_refused)
{
    refused("--cpuset-cpus=0-", "Invalid value 0- for cpuset cpus");
}

Test(cgroup, parent_with_dotdot_is_refused)
{
    _cleanup_free_ char *flag = xasprintf("--cgroup-parent=%s-a/../%s-b", parent, parent + 1);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", flag, H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "..");
    assert_nothing_created();
}
