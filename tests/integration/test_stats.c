/* berth stats over real detached containers: a busy loop under --memory=64m in a cgroup parent of
 * this test run's own, read back as docker's table and through templates; the stream of frames
 * until SIGINT; docker's error for an unknown container. Needs root and a memory controller
 * (v1 hierarchy or v2 tree). The suite's .fini removes the containers and the parent dirs. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* the table's start when ids are truncated: the 12-character column and its 3 spaces */
#define STATS_HEADER "CONTAINER ID   NAME"

static char *parent_name(void)
{
    return xasprintf("stats-it-%d", (int)getpid());
}

/* rmdir /sys/fs/cgroup/<every hierarchy>/stats-it-<pid> and the v2 one: berth makes missing
 * parents and leaves them for other containers, as docker does, so the test removes its own. */
static void remove_parents(void)
{
    _cleanup_free_ char *name = parent_name();
    const char *patterns[] = {"/sys/fs/cgroup/*/%s", "/sys/fs/cgroup/%s"};
    for (size_t i = 0; i < ARRAY_SIZE(patterns); i++) {
        _cleanup_free_ char *pat = xasprintf(patterns[i], name);
        glob_t g;
        if (glob(pat, GLOB_ONLYDIR, NULL, &g) != 0)
            continue;
        for (size_t j = 0; j < g.gl_pathc; j++)
            rmdir(g.gl_pathv[j]);
        globfree(&g);
    }
}

static void stats_fini(void)
{
    h_suite_fini(); /* rm -f of what is left: its cgroup goes, the parent stays */
    remove_parents();
}

TestSuite(stats, .init = h_suite_init, .fini = stats_fini, .timeout = 180);

static void need_cgroups(void)
{
    if (geteuid() != 0)
        h_skip("stats reads containers' cgroups: needs root");
    _cleanup_free_ char *v2 = h_read_file("/sys/fs/cgroup/cgroup.controllers");
    if (!h_exists("/sys/fs/cgroup/memory/memory.usage_in_bytes") && !(v2 && strstr(v2, "memory")))
        h_skip("no memory controller mounted (neither v1 nor v2)");
}

/* run -d --name NAME [--memory=64m] --cgroup-parent=/stats-it-<pid> the image with cmd. */
static void start(const char *name, bool limited, const char *const *cmd)
{
    _cleanup_free_ char *pname = parent_name();
    _cleanup_free_ char *parent = xasprintf("--cgroup-parent=/%s", pname);
    const char *args[16] = {"run", "-d", "--name", name, parent};
    size_t n = 5;
    if (limited)
        args[n++] = "--memory=64m";
    args[n++] = H_IMAGE;
    for (; *cmd; cmd++)
        args[n++] = *cmd;
    args[n] = NULL;
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);
}

static const char *const busy_loop[] = {"/bin/sh", "-c", "while :; do :; done", NULL};
static const char *const sleeper[] = {"/probe", "sleep", "600", NULL};

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static size_t count_str(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

Test(stats, no_stream_reads_a_busy_containers_cgroup)
{
    need_cgroups();
    start("stats-busy", true, busy_loop);
    struct h_result r;
    double t0 = h_now_s();
    h_berth(&r, NULL, "stats", "--no-stream", "stats-busy", NULL);
    double took = h_now_s() - t0;
    h_assert_status(&r, 0);
    /* docker's first frame compares with a sample about a second older */
    cr_assert(took >= 0.9 && took < 5, "stats --no-stream took %.2f s", took);
    cr_assert_eq(count_lines(r.out), 2, "want header and one row:\n%s", r.out);
    cr_assert(str_has_prefix(r.out, STATS_HEADER), "%s", r.out);
    cr_assert(strstr(r.out, "CPU %") && strstr(r.out, "MEM USAGE / LIMIT") &&
                  strstr(r.out, "MEM %") && strstr(r.out, "NET I/O") &&
                  strstr(r.out, "BLOCK I/O") && strstr(r.out, "PIDS\n"),
              "%s", r.out);
    cr_assert(strstr(r.out, "stats-busy") && strstr(r.out, " / 64MiB ") && strstr(r.out, "0B / 0B"),
              "%s", r.out);

    h_berth(&r, NULL, "stats", "--no-stream", "--format",
            "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}", "stats-busy", NULL);
    h_assert_status(&r, 0);
    char name[64], mem[64];
    double cpu, mem_perc;
    long pids;
    cr_assert_eq(
        sscanf(r.out, "%63[^|]|%lf%%|%63[^|]|%lf%%|%ld\n", name, &cpu, mem, &mem_perc, &pids), 5,
        "%s", r.out);
    cr_assert_str_eq(name, "stats-busy");
    cr_assert_gt(cpu, 10.0, "a busy loop at %.2f%% CPU: %s", cpu, r.out);
    const char *limit = strstr(mem, " / ");
    cr_assert(limit && !strcmp(limit, " / 64MiB"), "MEM USAGE / LIMIT: %s", mem);
    cr_assert(mem_perc > 0 && mem_perc < 100, "MEM %%: %s", r.out);
    cr_assert_geq(pids, 1, "%s", r.out);
}

Test(stats, format_prints_the_fields_without_header)
{
    need_cgroups();
    start("stats-fmt", true, sleeper);
    struct h_result r;
    h_berth(&r, NULL, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "stats-fmt", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "stats-fmt 1\n");
}

Test(stats, without_ids_lists_the_running_containers_with_the_hosts_memory_as_limit)
{
    need_cgroups();
    start("stats-free", false, sleeper);
    _cleanup_free_ char *pname = parent_name();
    _cleanup_free_ char *parent = xasprintf("--cgroup-parent=/%s", pname);
    struct h_result r;
    h_berth(&r, NULL, "run", "--name", "stats-done", parent, H_IMAGE, "/probe", "id", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(count_lines(r.out), 1, "only the running one:\n%s", r.out);
    /* no --memory: the host's MemTotal, as docker shows it */
    _cleanup_free_ char *meminfo = h_read_file("/proc/meminfo");
    cr_assert(meminfo);
    unsigned long long kb = strtoull(strstr(meminfo, "MemTotal:") + 9, NULL, 10);
    double v = (double)kb * 1024;
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (v >= 1024 && u + 1 < ARRAY_SIZE(units))
        v /= 1024, u++;
    _cleanup_free_ char *want = xasprintf(" / %.4g%s\n", v, units[u]);
    cr_assert(str_has_prefix(r.out, "stats-free ") && strstr(r.out, want), "want \"%s\" in %s",
              want, r.out);
}

Test(stats, streams_a_frame_a_second_until_interrupted)
{
    need_cgroups();
    start("stats-stream", true, sleeper);
    struct h_proc p;
    const char *args[] = {"stats", "stats-stream", NULL};
    h_berth_start(&p, NULL, args);
    usleep(3500 * 1000);
    kill(p.pid, SIGINT);
    struct h_result r;
    h_berth_finish(&p, &r);
    cr_assert_eq(r.status, 128 + SIGINT, "stats exited %d: %s", r.status, r.err);
    size_t frames = count_str(r.out, STATS_HEADER);
    cr_assert(frames >= 2 && frames <= 4, "%zu frames in 3.5 s:\n%s", frames, r.out);
    cr_assert_eq(count_str(r.out, "stats-stream"), frames, "%s", r.out);
    /* not a terminal: frames follow each other, no screen clearing */
    cr_assert_null(strchr(r.out, '\033'), "%s", r.out);
}

Test(stats, unknown_container_is_the_daemons_error)
{
    struct h_result r;
    h_berth(&r, NULL, "stats", "--no-stream", "nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "Error response from daemon: No such container: nosuch\n");
    cr_assert_str_eq(r.out, "");
}

/* The whole disk under path ("254:0"): throttle rules take disks, not partitions. */
static char *disk_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    _cleanup_free_ char *dev = xasprintf("%u:%u", major(st.st_dev), minor(st.st_dev));
    _cleanup_free_ char *part = xasprintf("/sys/dev/block/%s/partition", dev);
    if (!h_exists(part))
        return steal_ptr(&dev);
    _cleanup_free_ char *parent = xasprintf("/sys/dev/block/%s/../dev", dev);
    char *text = h_read_file(parent);
    cr_assert(text, "%s", parent);
    text[strcspn(text, "\n")] = '\0';
    return text;
}

/* O_DIRECT writes reach the disk from the container's own cgroup, where v2's io controller
 * and v1's blkio count them (v1 on Linux >= 6.9 only once the disk has a throttle rule:
 * the test sets one far above any real rate in the container's cgroup). BLOCK I/O is
 * read / written, go-units' 3 significant digits. */
Test(stats, block_io_counts_what_the_container_wrote_to_a_disk)
{
    need_cgroups();
    _cleanup_free_ char *data = h_path("data");
    h_mkdirs(data, 0755);
    struct statfs fs;
    cr_assert_eq(statfs(data, &fs), 0);
    if (fs.f_type == TMPFS_MAGIC)
        h_skip("%s is on tmpfs: no block device to count writes to", data);
    _cleanup_free_ char *pname = parent_name();
    _cleanup_free_ char *parent = xasprintf("--cgroup-parent=/%s", pname);
    _cleanup_free_ char *vol = xasprintf("%s:/data", data);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "stats-io", parent, "-v", vol, H_IMAGE, "/bin/sh",
            "-c",
            "while [ ! -e /data/go ]; do sleep 0.05; done; "
            "dd if=/dev/zero of=/data/f bs=1M count=4 oflag=direct 2>/dev/null && "
            "touch /data/done && exec sleep 600",
            NULL);
    h_assert_status(&r, 0);
    r.out[64] = '\0';
    _cleanup_free_ char *rule_file =
        xasprintf("/sys/fs/cgroup/blkio/%s/%s/blkio.throttle.write_bps_device", pname, r.out);
    if (h_exists(rule_file)) {
        _cleanup_free_ char *disk = disk_of(data);
        _cleanup_free_ char *rule = xasprintf("%s 1000000000000", disk);
        int fd = open(rule_file, O_WRONLY | O_CLOEXEC);
        cr_assert(fd >= 0 && write_all(fd, rule, strlen(rule)) == 0, "%s: %s", rule_file,
                  strerror(errno));
        close(fd);
    }
    _cleanup_free_ char *go = h_path("data/go"), *done = h_path("data/done");
    h_write_file(go, "", 0644);
    for (int i = 0; i < 200 && !h_exists(done); i++)
        usleep(50000);
    cr_assert(h_exists(done), "the container did not write its 4 MiB");
    h_berth(&r, NULL, "stats", "--no-stream", "--format", "{{.BlockIO}}", "stats-io", NULL);
    h_assert_status(&r, 0);
    cr_expect(strstr(r.out, " / 4.19MB\n"), "4 MiB written, BLOCK I/O says: %s", r.out);
}
