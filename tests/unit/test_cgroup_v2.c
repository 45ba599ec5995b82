/* The parts of cgroup/ that a v1 host cannot show through the real tree: which hierarchies
 * each layout uses, the v2 (and v1) files and formats written into a fake directory, and the
 * v2 driver's walk, attach, stats and destroy on this hybrid host's empty cgroup2 mount. */
#include "cgroup/internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- which hierarchies --------------------------------------------------------------------- */

static const char hybrid_text[] =
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "90 31 0:32 /docker /mnt/memory rw,relatime - cgroup cgroup rw,memory\n";

static const char v2_text[] =
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

static const char v2_named_text[] =
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
    "31 30 0:40 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";

static const char rhel_text[] =
    "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu\n"
    "26 24 0:23 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";

static void pick(const char *text, size_t want_n, bool want_v2, const char *const *want_paths)
{
    struct cgroup_hosts h;
    cr_assert_eq(cgroup_parse_mountinfo(text, &h), 0);
    const struct cgroup_mount **m = NULL;
    size_t n = 0;
    bool v2 = false;
    struct berr err = {0};
    cr_assert_eq(cg_pick_mounts(&h, &m, &n, &v2, &err), 0, "%s", err.msg);
    cr_assert_eq(n, want_n);
    cr_assert_eq(v2, want_v2);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(m[i]->path, want_paths[i]);
    free(m);
    cgroup_hosts_free(&h);
}

Test(cgroup_v2, hybrid_hosts_use_each_v1_hierarchy_once)
{
    static const char *const want[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
                                       "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd"};
    pick(hybrid_text, 4, false, want);
}

Test(cgroup_v2, pure_v2_hosts_use_the_unified_mount)
{
    static const char *const want[] = {"/sys/fs/cgroup"};
    pick(v2_text, 1, true, want);
    pick(v2_named_text, 1, true, want);
}

Test(cgroup_v2, co_mounted_controllers_are_one_hierarchy)
{
    static const char *const want[] = {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/pids"};
    pick(rhel_text, 2, false, want);
}

Test(cgroup_v2, no_cgroup_mount_is_an_error)
{
    struct cgroup_hosts h;
    cr_assert_eq(cgroup_parse_mountinfo("1 0 0:1 / / rw - ext4 /dev/sda rw\n", &h), 0);
    const struct cgroup_mount **m = NULL;
    size_t n = 0;
    bool v2;
    struct berr err = {0};
    cr_assert_eq(cg_pick_mounts(&h, &m, &n, &v2, &err), -1);
    cr_assert_str_eq(err.msg, "no cgroup hierarchy is mounted");
    cgroup_hosts_free(&h);
}

static bool hosts_have_path(const struct cgroup_hosts *h, const char *path)
{
    for (size_t i = 0; i < h->n; i++) {
        if (!strcmp(h->mounts[i].path, path))
            return true;
    }
    return false;
}

/* mountinfo is read once per process and mount namespace: a process that enters another
 * namespace (the container's init, exec's setns) sees that namespace's cgroup mounts. */
Test(cgroup_v2, detection_follows_the_mount_namespace)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a mount namespace");
    struct cgroup_hosts before, again, after;
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&before, &err), 0, "%s", err.msg);
    cr_assert_eq(cgroup_detect(&again, &err), 0, "%s", err.msg);
    cr_assert_eq(again.n, before.n);
    cr_assert_eq(again.layout, before.layout);
    char dir[] = "/tmp/berth-unit-detect-XXXXXX";
    cr_assert(mkdtemp(dir));
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    cr_assert_eq(mount("berth-unit", dir, "cgroup2", 0, NULL), 0, "mount: %s", strerror(errno));
    cr_assert_eq(cgroup_detect(&after, &err), 0, "%s", err.msg);
    cr_assert(!hosts_have_path(&before, dir));
    cr_assert(hosts_have_path(&after, dir), "the new namespace's cgroup2 mount was not seen");
    umount2(dir, MNT_DETACH);
    rmdir(dir);
    cgroup_hosts_free(&before);
    cgroup_hosts_free(&again);
    cgroup_hosts_free(&after);
}

/* ---- the files, in a fake directory -------------------------------------------------------- */

static char fake[64];

static void fake_dir(const char *const *files)
{
    snprintf(fake, sizeof(fake), "/tmp/berth-cgfake.XXXXXX");
    cr_assert(mkdtemp(fake));
    for (; *files; files++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", fake, *files);
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0);
        close(fd);
    }
}

static void fake_fini(void)
{
    if (!fake[0])
        return;
    struct berr err;
    remove_tree_at(AT_FDCWD, fake, &err);
    fake[0] = '\0';
}

static char *fake_read(const char *name)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", fake, name);
    char *text = NULL;
    struct berr err;
    cr_assert_eq(read_file_at(AT_FDCWD, p, 1 << 16, &text, NULL, &err), 0, "%s", err.msg);
    return text;
}

#define assert_fake(name, want)                                                                    \
    do {                                                                                           \
        _cleanup_free_ char *v_ = fake_read(name);                                                 \
        cr_assert_str_eq(v_, (want), "%s", (name));                                                \
    } while (0)

static const char *const v2_files[] = {"cpu.max",         "cpu.weight",  "memory.max",  "pids.max",
                                       "memory.swap.max", "cpuset.cpus", "cpuset.mems", NULL};

static void apply_v2(const struct cgroup_limits *l)
{
    int fd = open(fake, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct berr err = {0};
    cr_assert_eq(v2_apply(fd, fake, l, &err), 0, "%s", err.msg);
    close(fd);
}

Test(cgroup_v2, cpus_become_cpu_max_quota_and_period, .fini = fake_fini)
{
    fake_dir(v2_files);
    apply_v2(&(struct cgroup_limits){.nano_cpus = 2600000000LL, .cpu_shares = 1024});
    assert_fake("cpu.max", "260000 100000");
    assert_fake("cpu.weight", "39"); /* 1 + (1022 * 9999) / 262142 */
    assert_fake("memory.max", "");
    assert_fake("pids.max", "");
}

Test(cgroup_v2, period_alone_is_max_with_the_period, .fini = fake_fini)
{
    fake_dir(v2_files);
    apply_v2(&(struct cgroup_limits){.cpu_period = 50000, .cpu_shares = 2});
    assert_fake("cpu.max", "max 50000");
    assert_fake("cpu.weight", "1");
}

Test(cgroup_v2, quota_alone_keeps_the_kernels_period, .fini = fake_fini)
{
    fake_dir(v2_files);
    apply_v2(&(struct cgroup_limits){.cpu_quota = 30000, .cpu_shares = 262144});
    assert_fake("cpu.max", "30000");
    assert_fake("cpu.weight", "10000");
}

Test(cgroup_v2, memory_and_default_swap, .fini = fake_fini)
{
    fake_dir(v2_files);
    apply_v2(&(struct cgroup_limits){.memory = 64 << 20, .pids_limit = 100});
    assert_fake("memory.max", "67108864");
    assert_fake("memory.swap.max", "67108864"); /* docker's 2×memory, minus memory */
    assert_fake("pids.max", "100");
}

Test(cgroup_v2, swap_equal_to_memory_is_no_swap_and_minus_one_is_max, .fini = fake_fini)
{
    fake_dir(v2_files);
    apply_v2(
        &(struct cgroup_limits){.memory = 64 << 20, .memory_swap = 64 << 20, .pids_limit = -1});
    assert_fake("memory.swap.max", "0");
    assert_fake("pids.max", "max");
    fake_fini();
    fake_dir(v2_files);
    apply_v2(&(struct cgroup_limits){.memory = 64 << 20, .memory_swap = -1});
    assert_fake("memory.swap.max", "max");
}

Test(cgroup_v2, no_swap_accounting_limits_memory_alone, .fini = fake_fini)
{
    static const char *const files[] = {"memory.max", NULL};
    fake_dir(files);
    apply_v2(&(struct cgroup_limits){.memory = 64 << 20});
    assert_fake("memory.max", "67108864");
}

Test(cgroup_v2, cpusets_are_written_as_given, .fini = fake_fini)
{
    fake_dir(v2_files);
    apply_v2(&(struct cgroup_limits){.cpuset_cpus = "0-1", .cpuset_mems = "0"});
    assert_fake("cpuset.cpus", "0-1");
    assert_fake("cpuset.mems", "0");
    assert_fake("cpu.max", "");
}

Test(cgroup_v2, a_missing_file_is_an_error_naming_file_value_and_dir, .fini = fake_fini)
{
    static const char *const files[] = {NULL};
    fake_dir(files);
    int fd = open(fake, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct berr err = {0};
    cr_assert_eq(v2_apply(fd, fake, &(struct cgroup_limits){.pids_limit = 5}, &err), -1);
    close(fd);
    _cleanup_free_ char *want =
        xasprintf("write pids.max=5 in %s: No such file or directory", fake);
    cr_assert_str_eq(err.msg, want);
}

Test(cgroup_v2, v1_writes_memsw_twice_the_memory, .fini = fake_fini)
{
    static const char *const files[] = {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                                        NULL};
    fake_dir(files);
    int fd = open(fake, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct berr err = {0};
    cr_assert_eq(v1_apply(fd, fake, "memory", &(struct cgroup_limits){.memory = 10 << 20}, &err), 0,
                 "%s", err.msg);
    close(fd);
    assert_fake("memory.limit_in_bytes", "10485760");
    assert_fake("memory.memsw.limit_in_bytes", "20971520");
}

Test(cgroup_v2, v1_without_swap_accounting_limits_memory_alone, .fini = fake_fini)
{
    static const char *const files[] = {"memory.limit_in_bytes", NULL};
    fake_dir(files);
    int fd = open(fake, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct berr err = {0};
    cr_assert_eq(v1_apply(fd, fake, "memory", &(struct cgroup_limits){.memory = 10 << 20}, &err), 0,
                 "%s", err.msg);
    close(fd);
    assert_fake("memory.limit_in_bytes", "10485760");
}

/* ---- the v2 driver on this host's cgroup2 mount -------------------------------------------- */

static struct cgroup_hosts unified;
static char parent[64];
static pid_t child = -1;
#define ID "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void unified_fini(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
    for (size_t i = 0; i < unified.n; i++) {
        _cleanup_free_ char *leaf = xasprintf("%s%s/%s", unified.mounts[i].path, parent, ID);
        _cleanup_free_ char *dir = xasprintf("%s%s", unified.mounts[i].path, parent);
        for (int tries = 0; rmdir(leaf) < 0 && errno == EBUSY && tries < 100; tries++)
            usleep(10000);
        rmdir(dir);
    }
    cgroup_hosts_free(&unified);
}

/* This host's cgroup2 mount alone, as if it were a v2 host; skips without one or root. */
static void need_unified(void)
{
    snprintf(parent, sizeof(parent), "/berth-unit-v2-%d", (int)getpid());
    struct cgroup_hosts all;
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&all, &err), 0, "%s", err.msg);
    unified = (struct cgroup_hosts){.layout = CGROUP_V2};
    for (size_t i = 0; i < all.n && !unified.n; i++) {
        if (!all.mounts[i].v2)
            continue;
        unified.mounts = xcalloc(1, sizeof(*unified.mounts));
        unified.mounts[0] = (struct cgroup_mount){.path = xstrdup(all.mounts[i].path),
                                                  .root = xstrdup(all.mounts[i].root),
                                                  .controllers = xstrdup(""),
                                                  .v2 = true};
        unified.n = 1;
    }
    cgroup_hosts_free(&all);
    if (geteuid() != 0 || !unified.n) {
        unified_fini();
        cr_skip_test("needs root and a cgroup2 mount");
    }
}

Test(cgroup_v2, unified_create_attach_stats_destroy, .fini = unified_fini)
{
    need_unified();
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    cr_assert_eq(cg_create_in(&unified, parent, ID, &(struct cgroup_limits){0}, &set, &err), 0,
                 "%s", err.msg);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    _cleanup_free_ char *procs =
        xasprintf("%s%s/%s/cgroup.procs", unified.mounts[0].path, parent, ID);
    _cleanup_free_ char *text = NULL;
    cr_assert_eq(read_file_at(AT_FDCWD, procs, 4096, &text, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(atoi(text), child, "cgroup.procs: %s", text);
    usleep(100000);
    struct cgroup_stats st;
    cr_assert_eq(cgroup_stats(set, &st, &err), 0, "%s", err.msg);
    cr_assert_gt(st.cpu_usage_ns, 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    struct cgroup_set *again = NULL;
    cr_assert_eq(cg_open_in(&unified, parent, ID, &again, &err), 0, "%s", err.msg);
    cgroup_set_free(again);
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
    _cleanup_free_ char *leaf = xasprintf("%s%s/%s", unified.mounts[0].path, parent, ID);
    _cleanup_free_ char *dir = xasprintf("%s%s", unified.mounts[0].path, parent);
    struct stat sb;
    cr_assert_neq(lstat(leaf, &sb), 0);
    cr_assert_eq(lstat(dir, &sb), 0, "the parent went too");
}

/* What the child of the device test found, one bit per expectation missed. */
enum {
    DEV_NULL_REFUSED = 1,
    DEV_FULL_REFUSED = 2,
    MKNOD_REFUSED = 4,
    DISK_OPENED = 8,
    FUSE_OPENED = 16,
    KMSG_OPENED = 32,
};

static int open_errno(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

/* Run in the cgroup, as root with every capability: docker's default device policy. */
static int device_checks(const char *dir)
{
    int missed = 0;
    _cleanup_free_ char *disk = xasprintf("%s/loop0", dir), *fuse = xasprintf("%s/fuse", dir);
    if (open_errno("/dev/null", O_RDWR))
        missed |= DEV_NULL_REFUSED;
    if (open_errno("/dev/full", O_WRONLY))
        missed |= DEV_FULL_REFUSED;
    if (mknod(disk, S_IFBLK | 0600, makedev(7, 0)) < 0 ||
        mknod(fuse, S_IFCHR | 0600, makedev(10, 229)) < 0)
        missed |= MKNOD_REFUSED;
    if (open_errno(disk, O_RDONLY) != EPERM)
        missed |= DISK_OPENED;
    if (open_errno(fuse, O_RDWR) != EPERM)
        missed |= FUSE_OPENED;
    if (open_errno("/dev/kmsg", O_RDONLY) != EPERM)
        missed |= KMSG_OPENED;
    return missed;
}

Test(cgroup_v2, unified_device_policy_is_dockers, .fini = unified_fini)
{
    need_unified();
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    cr_assert_eq(cg_create_in(&unified, parent, ID, &(struct cgroup_limits){0}, &set, &err), 0,
                 "%s", err.msg);
    /* on a file system without nodev, so that only the policy can refuse an open */
    struct statvfs vfs;
    bool tmp_ok = statvfs("/tmp", &vfs) == 0 && !(vfs.f_flag & ST_NODEV);
    char dir[64];
    snprintf(dir, sizeof(dir), "%s/berth-devtest-XXXXXX", tmp_ok ? "/tmp" : "/dev");
    cr_assert_not_null(mkdtemp(dir), "%s: %s", dir, strerror(errno));
    int go[2];
    cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        char c;
        close(go[1]);
        _exit(read(go[0], &c, 1) == 1 ? device_checks(dir) : 127);
    }
    close(go[0]);
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    cr_assert_eq(write(go[1], "g", 1), 1);
    close(go[1]);
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    child = -1;
    _cleanup_free_ char *rm = xasprintf("rm -rf '%s'", dir);
    cr_assert_eq(system(rm), 0);
    cr_assert(WIFEXITED(status), "status %#x", status);
    cr_expect_eq(WEXITSTATUS(status), 0,
                 "missed (bits): %#x (1 /dev/null refused, 2 /dev/full refused, 4 mknod refused, "
                 "8 a disk opened, 16 fuse opened, 32 /dev/kmsg opened)",
                 WEXITSTATUS(status));
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}

Test(cgroup_v2, a_controller_the_tree_lacks_fails_and_leaves_nothing, .fini = unified_fini)
{
    need_unified();
    _cleanup_free_ char *offered = NULL;
    struct berr err = {0};
    int fd = open(unified.mounts[0].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_eq(read_file_at(fd, "cgroup.controllers", 4096, &offered, NULL, &err), 0);
    close(fd);
    if (strstr(offered, "cpu")) {
        unified_fini();
        cr_skip_test("this cgroup2 mount has the cpu controller");
    }
    struct cgroup_set *set = NULL;
    struct cgroup_limits l = {.nano_cpus = 1000000000LL};
    cr_assert_eq(cg_create_in(&unified, parent, ID, &l, &set, &err), -1);
    cr_assert(strstr(err.msg, "the cpu controller is not available in"), "%s", err.msg);
    _cleanup_free_ char *dir = xasprintf("%s%s", unified.mounts[0].path, parent);
    struct stat sb;
    cr_assert_neq(lstat(dir, &sb), 0, "%s was left behind", dir);
}

Test(cgroup_v2, a_set_whose_fds_were_closed_and_reused_finds_its_directories_again,
     .fini = unified_fini)
{
    need_unified();
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    cr_assert_eq(cg_create_in(&unified, parent, ID, &(struct cgroup_limits){0}, &set, &err), 0,
                 "%s", err.msg);
    /* what a monitor's close_fds_except does, then someone else gets the numbers */
    int fd = set->dirs[0].fd, pfd = set->dirs[0].parent_fd;
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(nul, 0);
    int a = dup3(nul, fd, O_CLOEXEC), b = dup3(nul, pfd, O_CLOEXEC);
    cr_assert(a == fd && b == pfd);
    close(nul);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        for (;;)
            pause();
    }
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
    cr_assert_eq(fcntl(a, F_GETFD), FD_CLOEXEC, "the set closed someone else's fd");
    cr_assert_eq(fcntl(b, F_GETFD), FD_CLOEXEC, "the set closed someone else's fd");
    _cleanup_free_ char *leaf = xasprintf("%s%s/%s", unified.mounts[0].path, parent, ID);
    struct stat sb;
    cr_assert_neq(lstat(leaf, &sb), 0, "%s is still there", leaf);
    close(a);
    close(b);
}

Test(cgroup_io, blkio_lines_are_summed_by_direction_over_devices)
{
    unsigned long long r, w;
    cg_parse_blkio_v1("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n"
                      "8:0 Discard 0\n8:0 Total 12288\n8:16 Read 1\n8:16 Write 2\nTotal 12291\n",
                      &r, &w);
    cr_assert_eq(r, 4097);
    cr_assert_eq(w, 8194);
    cg_parse_blkio_v1("Total 0\n", &r, &w);
    cr_assert_eq(r + w, 0);
}

Test(cgroup_io, io_stat_bytes_are_summed_over_devices)
{
    unsigned long long r, w;
    cg_parse_io_stat("254:0 rbytes=1024 wbytes=4194304 rios=1 wios=4 dbytes=0 dios=0\n"
                     "8:0 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n",
                     &r, &w);
    cr_assert_eq(r, 1034);
    cr_assert_eq(w, 4194324);
    cg_parse_io_stat("", &r, &w);
    cr_assert_eq(r + w, 0);
}

/* The v2 freezer (berth-oci's pause): a frozen child stops counting and the set reads frozen;
 * thawed, it counts again. */
Test(cgroup_v2, freeze_stops_the_processes_and_thaw_lets_them_go, .fini = unified_fini)
{
    need_unified();
    struct cgroup_set *set = NULL;
    struct berr err = {0};
    cr_assert_eq(cg_create_in(&unified, parent, ID, &(struct cgroup_limits){0}, &set, &err), 0,
                 "%s", err.msg);
    volatile unsigned long *count =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq((void *)count, MAP_FAILED);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        for (;;)
            (*count)++;
    }
    cr_assert_eq(cgroup_attach(set, child, &err), 0, "%s", err.msg);
    bool frozen = true;
    cr_assert_eq(cgroup_frozen(set, &frozen, &err), 0, "%s", err.msg);
    cr_assert(!frozen);
    cr_assert_eq(cgroup_freeze(set, true, &err), 0, "%s", err.msg);
    cr_assert_eq(cgroup_frozen(set, &frozen, &err), 0, "%s", err.msg);
    cr_assert(frozen);
    unsigned long at = *count;
    usleep(100000);
    cr_assert_eq(*count, at, "a frozen process went on");
    cr_assert_eq(cgroup_freeze(set, false, &err), 0, "%s", err.msg);
    cr_assert_eq(cgroup_frozen(set, &frozen, &err), 0, "%s", err.msg);
    cr_assert(!frozen);
    usleep(100000);
    cr_assert_gt(*count, at, "a thawed process stays put");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    munmap((void *)count, 4096);
    cr_assert_eq(cgroup_destroy(set, &err), 0, "%s", err.msg);
}
