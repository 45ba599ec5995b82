/* cgroup_create / attach / stats / open / destroy against this host's real v1 hierarchies.
 * Needs root and cgroup v1 (or hybrid); skips with the reason otherwise. Every test works
 * under its own parent /berth-unit-<pid> and removes it in .fini, whatever happened. */
#include "cgroup/cgroup.h"
#include "cgroup/internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct cgroup_hosts hosts;
static char parent[64];
static pid_t child = -1;

static void tree_fini(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
    for (size_t i = 0; i < hosts.n; i++) {
        /* deepest first: <parent>/<id>, <parent>/nested/<id>, <parent>/nested, <parent> */
        static const char *const subs[] = {"/" ID, "/nested/" ID, "/nested", ""};
        for (size_t j = 0; j < ARRAY_SIZE(subs); j++) {
            char *path = xasprintf("%s%s%s", hosts.mounts[i].path, parent, subs[j]);
            for (int tries = 0; rmdir(path) < 0 && errno == EBUSY && tries < 100; tries++)
                usleep(10000);
            free(path);
        }
    }
    cgroup_hosts_free(&hosts);
}

static void tree_init(void)
{
    snprintf(parent, sizeof(parent), "/berth-unit-%d", (int)getpid());
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&hosts, &err), 0, "%s", err.msg);
}

TestSuite(cgroup_tree, .init = tree_init, .fini = tree_fini, .timeout = 60);

static void need_root_v1(void)
{
    if (geteuid() != 0) {
        tree_fini();
        cr_skip_test("needs root to make cgroups");
    }
    if (hosts.layout != CGROUP_V1 && hosts.layout != CGROUP_HYBRID) {
        tree_fini();
        cr_skip_test("needs cgroup v1 hierarchies (this host is %s)",
                     cgroup_layout_name(hosts.layout));
    }
}

/* The v1 mount point of controller, or NULL. */
static const char *mount_of(const char *controller)
{
    for (size_t i = 0; i < hosts.n; i++) {
        const char *c = hosts.mounts[i].controllers;
        size_t n = strlen(controller);
        if (hosts.mounts[i].v2)
            continue;
        for (const char *s = c; *s;) {
            size_t len = strcspn(s, ",");
            if (len == n && !strncmp(s, controller, n))
                return hosts.mounts[i].path;
            s += len + (s[len] == ',');
        }
    }
    return NULL;
}

static char *file_in(const char *controller, const char *sub, const char *name)
{
    const char *m = mount_of(controller);
    cr_assert(m, "no %s hierarchy", controller);
    return xasprintf("%s%s%s%s%s", m, parent, sub, name ? "/" : "", name ? name : "");
}

static char *read_value(const char *controller, const char *sub, const char *name)
{
    _cleanup_free_ char *path = file_in(controller, sub, name);
    char *text = NULL;
    struct berr err;
    cr_assert_eq(read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &err), 0, "%s", err.msg);
    text[strcspn(text, "\n")] = '\0';
    return text;
}

#define assert_file(controller, name, want)                                                        \
    do {                                                                                           \
        _cleanup_free_ char *v_ = read_value((controller), "/" ID, (name));                        \
        cr_assert_str_eq(v_, (want), "%s/%s", (controller), (name));                               \
    } while (0)

static bool exists_in(const char *mount, const char *sub)
{
    _cleanup_free_ char *path = xasprintf("%s%s%s", mount, parent, sub);
    struct stat st;
    return lstat(path, &st) == 0;
}

/* In no v1 hierarchy does <parent> exist. */
static void assert_no_parent_anywhere(void)
{
    for (size_t i = 0; i < hosts.n; i++) {
        if (!hosts.mounts[i].v2)
            cr_assert_not(exists_in(hosts.mounts[i].path, ""), "%s%s was left behind",
                          hosts.mounts[i].path, parent);
    }
}

static pid_t fork_sleeper(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

static struct cgroup_set *create_ok(const char *par, const struct cgroup_limits *l)
{
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    cr_assert_eq(cgroup_create(par, ID, l, &set, &err), 0, "%s", err.msg);
    cr_assert_not_null(set);
    return set;
}

Test(cgroup_tree, create_makes_the_id_in_every_v1_hierarchy)
{
    need_root_v1();
    struct cgroup_set *set = create_ok(parent, &(struct cgroup_limits){0});
    for (size_t i = 0; i < hosts.n; i++) {
        if (!hosts.mounts[i].v2)
            cr_assert(exists_in(hosts.mounts[i].path, "/" ID), "no %s%s/%s", hosts.mounts[i].path,
                      parent, ID);
    }
    struct berr err = {0};
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

Test(cgroup_tree, create_writes_exactly_the_limits)
{
    need_root_v1();
    struct cgroup_limits l = {
        .nano_cpus = 1500000000LL,
        .cpu_shares = 512,
        .cpuset_cpus = "0",
        .cpuset_mems = "0",
        .memory = 64 << 20,
        .pids_limit = 100,
    };
    struct cgroup_set *set = create_ok(parent, &l);
    assert_file("cpu", "cpu.cfs_period_us", "100000");
    assert_file("cpu", "cpu.cfs_quota_us", "150000");
    assert_file("cpu", "cpu.shares", "512");
    assert_file("cpuset", "cpuset.cpus", "0");
    assert_file("cpuset", "cpuset.mems", "0");
    assert_file("memory", "memory.limit_in_bytes", "67108864");
    _cleanup_free_ char *memsw = file_in("memory", "/" ID, "memory.memsw.limit_in_bytes");
    if (access(memsw, F_OK) == 0)
        assert_file("memory", "memory.memsw.limit_in_bytes", "134217728");
    assert_file("pids", "pids.max", "100");
    struct berr err = {0};
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

Test(cgroup_tree, period_and_quota_flags_are_written_as_given)
{
    need_root_v1();
    struct cgroup_limits l = {.cpu_period = 50000, .cpu_quota = 25000, .pids_limit = -1};
    struct cgroup_set *set = create_ok(parent, &l);
    assert_file("cpu", "cpu.cfs_period_us", "50000");
    assert_file("cpu", "cpu.cfs_quota_us", "25000");
    assert_file("pids", "pids.max", "max");
    struct berr err = {0};
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

Test(cgroup_tree, new_cpuset_parents_get_their_parents_cpus_and_mems)
{
    need_root_v1();
    _cleanup_free_ char *nested = xasprintf("%s/nested", parent);
    struct cgroup_set *set = create_ok(nested, &(struct cgroup_limits){0});
    const char *root = mount_of("cpuset");
    _cleanup_free_ char *root_cpus = NULL;
    _cleanup_free_ char *root_mems = NULL;
    struct berr err = {0};
    int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(rfd, 0);
    cr_assert_eq(read_file_at(rfd, "cpuset.cpus", 4096, &root_cpus, NULL, &err), 0);
    cr_assert_eq(read_file_at(rfd, "cpuset.mems", 4096, &root_mems, NULL, &err), 0);
    close(rfd);
    root_cpus[strcspn(root_cpus, "\n")] = '\0';
    root_mems[strcspn(root_mems, "\n")] = '\0';
    static const char *const levels[] = {"", "/nested", "/nested/" ID};
    for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
        _cleanup_free_ char *cpus = read_value("cpuset", levels[i], "cpuset.cpus");
        _cleanup_free_ char *mems = read_value("cpuset", levels[i], "cpuset.mems");
        cr_assert_str_eq(cpus, root_cpus, "cpuset%s%s", parent, levels[i]);
        cr_assert_str_eq(mems, root_mems, "cpuset%s%s", parent, levels[i]);
    }
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
    cr_assert(exists_in(root, "/nested"), "destroy removed a parent");
}

static void put_value(const char *controller, const char *sub, const char *name, const char *v)
{
    _cleanup_free_ char *path = file_in(controller, sub, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, v, strlen(v)), (ssize_t)strlen(v), "write %s: %s", path,
                 strerror(errno));
    close(fd);
}

/* A parent that was there already, with fewer CPUs than the root, is what the levels below it
 * get: an empty one that was there too, and the container's own, made now. */
Test(cgroup_tree, levels_below_an_existing_cpuset_take_its_cpus_not_the_roots)
{
    need_root_v1();
    const char *root = mount_of("cpuset");
    cr_assert(root, "no cpuset hierarchy");
    _cleanup_free_ char *top = xasprintf("%s%s", root, parent);
    _cleanup_free_ char *empty = xasprintf("%s/nested", top);
    cr_assert_eq(mkdir(top, 0755), 0, "%s: %s", top, strerror(errno));
    _cleanup_free_ char *root_mems = read_value("cpuset", "/..", "cpuset.mems");
    put_value("cpuset", "", "cpuset.cpus", "0");
    put_value("cpuset", "", "cpuset.mems", root_mems);
    cr_assert_eq(mkdir(empty, 0755), 0, "%s: %s", empty, strerror(errno));
    _cleanup_free_ char *nested = xasprintf("%s/nested", parent);
    struct cgroup_set *set = create_ok(nested, &(struct cgroup_limits){0});
    static const char *const levels[] = {"/nested", "/nested/" ID};
    for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
        _cleanup_free_ char *cpus = read_value("cpuset", levels[i], "cpuset.cpus");
        _cleanup_free_ char *mems = read_value("cpuset", levels[i], "cpuset.mems");
        cr_assert_str_eq(cpus, "0", "cpuset%s%s", parent, levels[i]);
        cr_assert_str_eq(mems, root_mems, "cpuset%s%s", parent, levels[i]);
    }
    struct berr err = {0};
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

Test(cgroup_tree, devices_get_dockers_default_policy)
{
    need_root_v1();
    if (!mount_of("devices")) {
        tree_fini();
        cr_skip_test("no devices hierarchy");
    }
    struct cgroup_set *set = create_ok(parent, &(struct cgroup_limits){0});
    _cleanup_free_ char *path = file_in("devices", "/" ID, "devices.list");
    _cleanup_free_ char *text = NULL;
    struct berr err = {0};
    cr_assert_eq(read_file_at(AT_FDCWD, path, 1 << 16, &text, NULL, &err), 0, "%s", err.msg);
    static const char *const want[] = {"c 1:5 rwm", "c 1:3 rwm",   "c 1:9 rwm", "c 1:8 rwm",
                                       "c 5:0 rwm", "c 5:1 rwm",   "c *:* m",   "b *:* m",
                                       "c 1:7 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"};
    size_t lines = 0;
    for (const char *s = text; *s; s = strchrnul(s, '\n') + (strchr(s, '\n') != NULL))
        lines++;
    cr_assert_eq(lines, ARRAY_SIZE(want), "devices.list:\n%s", text);
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        _cleanup_free_ char *line = xasprintf("%s\n", want[i]);
        cr_assert(strstr(text, line), "devices.list lacks %s:\n%s", want[i], text);
    }
    cr_assert_not(strstr(text, "a *:* rwm"), "everything is still allowed:\n%s", text);
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

/* ---- attach, stats, destroy ------------------------------------------------------------ */

static bool procs_has(const char *mount, pid_t pid)
{
    _cleanup_free_ char *path = xasprintf("%s%s/%s/cgroup.procs", mount, parent, ID);
    _cleanup_free_ char *text = NULL;
    struct berr err;
    cr_assert_eq(read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &err), 0, "%s", err.msg);
    char want[32];
    snprintf(want, sizeof(want), "%d", (int)pid);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strcmp(line, want))
            return true;
    }
    return false;
}

Test(cgroup_tree, attach_puts_the_pid_in_every_hierarchy)
{
    need_root_v1();
    struct cgroup_set *set =
        create_ok(parent, &(struct cgroup_limits){.cpuset_cpus = "0", .memory = 64 << 20});
    child = fork_sleeper();
    struct berr err = {0};
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < hosts.n; i++) {
        if (!hosts.mounts[i].v2)
            cr_assert(procs_has(hosts.mounts[i].path, child), "pid %d not in %s%s/%s", (int)child,
                      hosts.mounts[i].path, parent, ID);
    }
    struct cgroup_stats st;
    cr_assert_eq(cgroup_stats(set, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.pids, 1);
    cr_assert_eq(st.memory_limit, 64 << 20);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < hosts.n; i++) {
        if (hosts.mounts[i].v2)
            continue;
        cr_assert_not(exists_in(hosts.mounts[i].path, "/" ID), "%s%s/%s is still there",
                      hosts.mounts[i].path, parent, ID);
        cr_assert(exists_in(hosts.mounts[i].path, ""), "the parent %s%s went too",
                  hosts.mounts[i].path, parent);
    }
}

/* A new container process joins by itself: "0" into every hierarchy's tasks. */
Test(cgroup_tree, join_self_puts_the_caller_in_every_hierarchy)
{
    need_root_v1();
    struct cgroup_set *set = create_ok(parent, &(struct cgroup_limits){.cpuset_cpus = "0"});
    int joined[2];
    cr_assert_eq(pipe2(joined, O_CLOEXEC), 0);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        struct berr cerr = {0};
        char ok = cgroup_join_self(set, &cerr) == 0 ? 'y' : 'n';
        (void)!write(joined[1], &ok, 1);
        pause();
        _exit(0);
    }
    close(joined[1]);
    char ok = 0;
    cr_assert_eq(read(joined[0], &ok, 1), 1);
    close(joined[0]);
    cr_assert_eq(ok, 'y', "the child could not join");
    for (size_t i = 0; i < hosts.n; i++) {
        if (!hosts.mounts[i].v2)
            cr_assert(procs_has(hosts.mounts[i].path, child), "pid %d not in %s%s/%s", (int)child,
                      hosts.mounts[i].path, parent, ID);
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    struct berr err = {0};
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

Test(cgroup_tree, destroy_waits_for_a_task_that_is_still_exiting)
{
    need_root_v1();
    struct cgroup_set *set = create_ok(parent, &(struct cgroup_limits){0});
    child = fork_sleeper();
    struct berr err = {0};
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    kill(child, SIGKILL); /* not reaped yet */
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
    cr_assert_not(exists_in(mount_of("cpu"), "/" ID));
}

Test(cgroup_tree, destroy_of_a_busy_cgroup_fails_after_about_a_second)
{
    need_root_v1();
    struct cgroup_set *set = create_ok(parent, &(struct cgroup_limits){0});
    child = fork_sleeper();
    struct berr err = {0};
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_assert_eq(cgroup_destroy(set, &err), -1);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    cr_assert(took > 0.5 && took < 5, "took %.2f s", took);
    cr_assert(strstr(err.msg, "remove cgroup ") && strstr(err.msg, "Device or resource busy"), "%s",
              err.msg);
}

Test(cgroup_tree, stats_read_usage_and_no_limit_as_zero)
{
    need_root_v1();
    struct cgroup_set *set = create_ok(parent, &(struct cgroup_limits){0});
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    struct berr err = {0};
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    usleep(200000);
    struct cgroup_stats st;
    cr_assert_eq(cgroup_stats(set, &st, &err), 0, "%s", err.msg);
    cr_assert_gt(st.cpu_usage_ns, 10 * 1000 * 1000ULL, "cpu %llu ns", st.cpu_usage_ns);
    cr_assert_eq(st.memory_limit, 0);
    cr_assert_eq(st.pids, 1);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

Test(cgroup_tree, open_finds_the_set_again)
{
    need_root_v1();
    struct cgroup_set *made = create_ok(parent, &(struct cgroup_limits){.pids_limit = 7});
    cgroup_set_free(made);
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    cr_assert_eq(cgroup_open(parent, ID, &set, &err), 0, "%s", err.msg);
    child = fork_sleeper();
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    cr_assert(procs_has(mount_of("pids"), child));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
    cr_assert_eq(cgroup_open(parent, ID, &set, &err), -1);
    cr_assert_eq(err.kind, BERR_NOT_FOUND, "%s", err.msg);
}

/* ---- failures leave nothing -------------------------------------------------------------- */

Test(cgroup_tree, impossible_cpuset_fails_and_leaves_no_directory)
{
    need_root_v1();
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    struct cgroup_limits l = {.cpuset_cpus = "4095", .memory = 64 << 20};
    cr_assert_eq(cgroup_create(parent, ID, &l, &set, &err), -1);
    cr_assert_null(set);
    _cleanup_free_ char *want =
        xasprintf("write cpuset.cpus=4095 in %s%s/%s: ", mount_of("cpuset"), parent, ID);
    cr_assert(str_has_prefix(err.msg, want), "%s", err.msg);
    assert_no_parent_anywhere();
}

Test(cgroup_tree, quota_below_the_kernel_minimum_fails_and_leaves_nothing)
{
    need_root_v1();
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    struct cgroup_limits l = {.nano_cpus = 100000}; /* --cpus=1.0E-4: quota 10 µs */
    cr_assert_eq(cgroup_create(parent, ID, &l, &set, &err), -1);
    _cleanup_free_ char *want = xasprintf("write cpu.cfs_quota_us=10 in %s%s/%s: Invalid argument",
                                          mount_of("cpu"), parent, ID);
    cr_assert_str_eq(err.msg, want);
    assert_no_parent_anywhere();
}

Test(cgroup_tree, failure_keeps_a_parent_that_existed_before)
{
    need_root_v1();
    _cleanup_free_ char *pre = xasprintf("%s%s", mount_of("memory"), parent);
    cr_assert_eq(mkdir(pre, 0755), 0, "%s: %s", pre, strerror(errno));
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    struct cgroup_limits l = {.cpuset_cpus = "4095"};
    cr_assert_eq(cgroup_create(parent, ID, &l, &set, &err), -1);
    cr_assert(exists_in(mount_of("memory"), ""), "the existing parent was removed");
    cr_assert_not(exists_in(mount_of("memory"), "/" ID));
    cr_assert_not(exists_in(mount_of("cpu"), ""));
}

Test(cgroup_tree, dotdot_in_the_parent_is_refused_before_anything_is_made)
{
    need_root_v1();
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    _cleanup_free_ char *bad = xasprintf("%s/x/../y", parent);
    cr_assert_eq(cgroup_create(bad, ID, &(struct cgroup_limits){0}, &set, &err), -1);
    cr_assert_eq(err.kind, BERR_USAGE, "%s", err.msg);
    cr_assert(strstr(err.msg, ".."), "%s", err.msg);
    assert_no_parent_anywhere();
    cr_assert_eq(cgroup_create("relative", ID, &(struct cgroup_limits){0}, &set, &err), -1);
    cr_assert_eq(err.kind, BERR_USAGE, "%s", err.msg);
    cr_assert_eq(cgroup_create(parent, "../" ID, &(struct cgroup_limits){0}, &set, &err), -1);
    cr_assert_eq(err.kind, BERR_USAGE, "%s", err.msg);
    cr_assert_eq(cgroup_create(parent, "..", &(struct cgroup_limits){0}, &set, &err), -1);
    assert_no_parent_anywhere();
}

Test(cgroup_tree, a_cleaned_parent_is_used_as_docker_joins_it)
{
    need_root_v1();
    _cleanup_free_ char *messy = xasprintf("/%s//./", parent + 1);
    struct cgroup_set *set = create_ok(messy, &(struct cgroup_limits){0});
    cr_assert(exists_in(mount_of("cpu"), "/" ID));
    struct berr err = {0};
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

/* What the start looks at before mountinfo: a hierarchy's root where it is mounted, and
 * nothing else (a cgroup below the root, another file system, the other cgroup version). */
Test(cgroup_tree, only_a_hierarchys_mounted_root_passes_for_one)
{
    need_root_v1();
    const char *cpuset = mount_of("cpuset");
    cr_assert(cpuset, "no cpuset hierarchy");
    int fd = cg_open_mounted_root(cpuset, CGROUP_SUPER_MAGIC);
    cr_assert_geq(fd, 0, "%s is a v1 root", cpuset);
    close(fd);
    _cleanup_free_ char *below = xasprintf("%s%s", cpuset, parent);
    cr_assert_eq(mkdir(below, 0755), 0, "%s: %s", below, strerror(errno));
    cr_expect_eq(cg_open_mounted_root(below, CGROUP_SUPER_MAGIC), -1, "%s passed", below);
    cr_expect_eq(cg_open_mounted_root(cpuset, CGROUP2_SUPER_MAGIC), -1, "v1 taken for v2");
    cr_expect_eq(cg_open_mounted_root("/tmp", CGROUP_SUPER_MAGIC), -1, "/tmp passed");
    cr_expect_eq(cg_open_mounted_root("/nonexistent", CGROUP_SUPER_MAGIC), -1);
}
