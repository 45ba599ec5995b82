/* berth run: the container's filesystem as docker makes it — /proc, /dev and its devices,
 * /dev/pts, /dev/shm, /dev/mqueue, read-only /sys, masked and read-only paths, --read-only. */
#include "harness.h"

#include <string.h>

/* Run the probe with args in a fresh --rm container; assert exit 0. */
#define PROBE(r, ...)                                                                              \
    do {                                                                                           \
        h_berth((r), NULL, "run", "--rm", H_IMAGE, "/probe", __VA_ARGS__, NULL);                   \
        h_assert_status((r), 0);                                                                   \
    } while (0)

static void assert_mount(const struct h_result *r, const char *path, const char *fstype,
                         const char *const *opts, const char *const *super)
{
    struct h_mount m;
    cr_assert(h_get_mount(r, path, &m), "nothing mounted on %s\n%s", path, r->out);
    cr_assert_str_eq(m.fstype, fstype, "%s is %s, want %s", path, m.fstype, fstype);
    for (size_t i = 0; opts && opts[i]; i++)
        cr_assert(h_has_word(m.opts, opts[i]), "%s mount options \"%s\" lack %s", path, m.opts,
                  opts[i]);
    for (size_t i = 0; super && super[i]; i++)
        cr_assert(h_has_word(m.super, super[i]), "%s superblock options \"%s\" lack %s", path,
                  m.super, super[i]);
}

/* ---- /proc ------------------------------------------------------------------------------ */

Test(run, proc_is_mounted_nosuid_nodev_noexec)
{
    struct h_result r;
    PROBE(&r, "mount", "/proc", "read", "/proc/self/status");
    assert_mount(&r, "/proc", "proc", (const char *[]){"rw", "nosuid", "nodev", "noexec", NULL},
                 NULL);
    cr_assert_neq(strcmp(h_val(&r, "read:/proc/self/status"), "0"), 0);
}

/* ---- /dev ------------------------------------------------------------------------------- */

Test(run, dev_is_a_64k_tmpfs_nosuid_mode_755)
{
    struct h_result r;
    PROBE(&r, "mount", "/dev", "stat", "/dev");
    assert_mount(&r, "/dev", "tmpfs", (const char *[]){"rw", "nosuid", NULL},
                 (const char *[]){"size=65536k", "mode=755", NULL});
    h_assert_val(&r, "stat:/dev", "dir 0755 0:0 0:0");
}

Test(run, dev_holds_only_dockers_devices_and_links)
{
    static const char *const required[] = {"null", "zero",  "full",   "random", "urandom",
                                           "tty",  "ptmx",  "pts",    "shm",    "mqueue",
                                           "fd",   "stdin", "stdout", "stderr", NULL};
    /* docker also links core -> /proc/kcore when the host has it; console only with -t */
    static const char *const optional[] = {"core", NULL};
    struct h_result r;
    PROBE(&r, "ls", "/dev");
    char *ls = h_get(&r, "ls:/dev");
    cr_assert(ls);
    for (size_t i = 0; required[i]; i++)
        cr_assert(h_has_word(ls, required[i]), "/dev lacks %s: %s", required[i], ls);
    char *save = NULL;
    for (char *w = strtok_r(ls, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        bool known = false;
        for (size_t i = 0; required[i] && !known; i++)
            known = strcmp(w, required[i]) == 0;
        for (size_t i = 0; optional[i] && !known; i++)
            known = strcmp(w, optional[i]) == 0;
        cr_assert(known, "/dev/%s is not one of docker's entries", w);
    }
}

Test(run, dev_nodes_have_dockers_numbers_mode_0666_and_root_owner)
{
    static const struct {
        const char *path, *want;
    } nodes[] = {
        {"/dev/null", "chr 0666 1:3 0:0"},    {"/dev/zero", "chr 0666 1:5 0:0"},
        {"/dev/full", "chr 0666 1:7 0:0"},    {"/dev/random", "chr 0666 1:8 0:0"},
        {"/dev/urandom", "chr 0666 1:9 0:0"}, {"/dev/tty", "chr 0666 5:0 0:0"},
    };
    struct h_result r;
    PROBE(&r, "stat", "/dev/null", "stat", "/dev/zero", "stat", "/dev/full", "stat", "/dev/random",
          "stat", "/dev/urandom", "stat", "/dev/tty", "read", "/dev/zero");
    for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
        _cleanup_free_ char *key = xasprintf("stat:%s", nodes[i].path);
        h_assert_val(&r, key, nodes[i].want);
    }
    h_assert_val(&r, "read:/dev/zero", "1048576"); /* the node works, not just exists */
}

Test(run, dev_links_point_where_docker_points)
{
    struct h_result r;
    PROBE(&r, "readlink", "/dev/ptmx", "readlink", "/dev/fd", "readlink", "/dev/stdin", "readlink",
          "/dev/stdout", "readlink", "/dev/stderr");
    h_assert_val(&r, "readlink:/dev/ptmx", "pts/ptmx");
    h_assert_val(&r, "readlink:/dev/fd", "/proc/self/fd");
    h_assert_val(&r, "readlink:/dev/stdin", "/proc/self/fd/0");
    h_assert_val(&r, "readlink:/dev/stdout", "/proc/self/fd/1");
    h_assert_val(&r, "readlink:/dev/stderr", "/proc/self/fd/2");
}

Test(run, dev_pts_is_a_private_devpts_instance)
{
    struct h_result r;
    PROBE(&r, "mount", "/dev/pts", "ls", "/dev/pts");
    assert_mount(&r, "/dev/pts", "devpts", (const char *[]){"rw", "nosuid", "noexec", NULL},
                 (const char *[]){"gid=5", "mode=620", "ptmxmode=666", NULL});
    /* a new instance holds no host ptys */
    h_assert_val(&r, "ls:/dev/pts", "ptmx");
}

Test(run, dev_shm_is_a_64mib_tmpfs_nosuid_nodev_noexec)
{
    struct h_result r;
    PROBE(&r, "mount", "/dev/shm", "statfs", "/dev/shm", "write", "/dev/shm/x", "stat", "/dev/shm");
    assert_mount(&r, "/dev/shm", "tmpfs", (const char *[]){"rw", "nosuid", "nodev", "noexec", NULL},
                 (const char *[]){"size=65536k", NULL});
    h_assert_val(&r, "statfs:/dev/shm", "67108864 rw");
    h_assert_val(&r, "write:/dev/shm/x", "ok");
    h_assert_val(&r, "stat:/dev/shm", "dir 1777 0:0 0:0");
}

Test(run, dev_mqueue_is_mqueue_nosuid_nodev_noexec)
{
    struct h_result r;
    PROBE(&r, "mount", "/dev/mqueue");
    assert_mount(&r, "/dev/mqueue", "mqueue",
                 (const char *[]){"rw", "nosuid", "nodev", "noexec", NULL}, NULL);
}

/* ---- /sys ------------------------------------------------------------------------------- */

Test(run, sys_is_a_read_only_sysfs)
{
    struct h_result r;
    PROBE(&r, "mount", "/sys", "mkdir", "/sys/probe-dir", "write", "/sys/kernel/probe-file");
    assert_mount(&r, "/sys", "sysfs", (const char *[]){"ro", "nosuid", "nodev", "noexec", NULL},
                 NULL);
    h_assert_val(&r, "mkdir:/sys/probe-dir", "EROFS");
    h_assert_val(&r, "write:/sys/kernel/probe-file", "EROFS");
}

/* ---- masked and read-only paths -------------------------------------------------------- */

static const char *const MASKED_FILES[] = {
    "/proc/kcore",         "/proc/keys",        "/proc/timer_list", "/proc/sched_debug",
    "/proc/latency_stats", "/proc/timer_stats", "/proc/interrupts",
};
static const char *const MASKED_DIRS[] = {
    "/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const READONLY_PATHS[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Probe args "<cmd> <path>" for every path of list the host has (runc masks only those). */
static size_t args_for_existing(const char **argv, size_t n, const char *cmd,
                                const char *const *list, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!h_exists(list[i])) {
            cr_log_info("host has no %s: not checked", list[i]);
            continue;
        }
        argv[n++] = cmd;
        argv[n++] = list[i];
    }
    return n;
}

Test(run, masked_proc_files_read_as_empty)
{
    const char *args[64] = {"run", "--rm", H_IMAGE, "/probe"};
    size_t n = args_for_existing(args, 4, "read", MASKED_FILES, ARRAY_SIZE(MASKED_FILES));
    if (n == 4)
        h_skip("the host has none of docker's masked /proc files");
    args[n] = NULL;
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);
    for (size_t i = 5; i < n; i += 2) {
        _cleanup_free_ char *key = xasprintf("read:%s", args[i]);
        h_assert_val(&r, key, "0");
    }
}

Test(run, masked_dirs_are_empty_and_read_only)
{
    _cleanup_strv_ struct strv args = {0};
    const char *head[] = {"run", "--rm", H_IMAGE, "/probe"};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        strv_push(&args, head[i]);
    for (size_t i = 0; i < ARRAY_SIZE(MASKED_DIRS); i++) {
        if (h_exists(MASKED_DIRS[i]))
            h_probe_masked_dir(&args, MASKED_DIRS[i], "probe-file");
        else
            cr_log_info("host has no %s: not checked", MASKED_DIRS[i]);
    }
    if (args.n == ARRAY_SIZE(head))
        h_skip("the host has none of docker's masked directories");
    struct h_result r;
    h_berthv(&r, NULL, (const char *const *)args.v);
    h_assert_status(&r, 0);
    for (size_t i = 0; i < ARRAY_SIZE(MASKED_DIRS); i++) {
        if (h_exists(MASKED_DIRS[i]))
            h_assert_masked_dir(&r, MASKED_DIRS[i], "probe-file");
    }
}

Test(run, readonly_proc_paths_are_read_only_mounts)
{
    const char *args[64] = {"run", "--rm", H_IMAGE, "/probe"};
    size_t n = args_for_existing(args, 4, "mount", READONLY_PATHS, ARRAY_SIZE(READONLY_PATHS));
    args[n++] = "write";
    args[n++] = "/proc/sys/kernel/domainname";
    if (h_exists("/proc/sysrq-trigger")) {
        args[n++] = "write";
        args[n++] = "/proc/sysrq-trigger";
    }
    args[n] = NULL;
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);
    for (size_t i = 0; i < ARRAY_SIZE(READONLY_PATHS); i++) {
        if (!h_exists(READONLY_PATHS[i]))
            continue;
        struct h_mount m;
        cr_assert(h_get_mount(&r, READONLY_PATHS[i], &m), "%s is not a mount point\n%s",
                  READONLY_PATHS[i], r.out);
        cr_assert(h_has_word(m.opts, "ro"), "%s mounted %s", READONLY_PATHS[i], m.opts);
    }
    h_assert_val(&r, "write:/proc/sys/kernel/domainname", "EROFS");
    if (h_exists("/proc/sysrq-trigger"))
        h_assert_val(&r, "write:/proc/sysrq-trigger", "EROFS");
}

/* ---- the root filesystem --------------------------------------------------------------- */

Test(run, root_is_writable_without_read_only_and_writes_stay_out_of_the_layer)
{
    char *layers = h_layers_snapshot();
    struct h_result r;
    PROBE(&r, "write", "/new-file", "write", "/etc/new-file", "mkdir", "/tmp/d", "mount", "/");
    h_assert_val(&r, "write:/new-file", "ok");
    h_assert_val(&r, "write:/etc/new-file", "ok");
    h_assert_val(&r, "mkdir:/tmp/d", "ok");
    struct h_mount m;
    cr_assert(h_get_mount(&r, "/", &m));
    cr_assert(h_has_word(m.opts, "rw"), "/ mounted %s", m.opts);
    h_assert_nothing_left(layers);
    /* and the next container starts from the image again */
    PROBE(&r, "stat", "/new-file");
    h_assert_val(&r, "stat:/new-file", "ENOENT");
}

Test(run, read_only_makes_the_root_read_only)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--read-only", H_IMAGE, "/probe", "write", "/new-file",
            "write", "/etc/new-file", "write", "/tmp/x", "mkdir", "/home/worker/d", "mount", "/",
            NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "write:/new-file", "EROFS");
    h_assert_val(&r, "write:/etc/new-file", "EROFS");
    h_assert_val(&r, "write:/tmp/x", "EROFS");
    h_assert_val(&r, "mkdir:/home/worker/d", "EROFS");
    struct h_mount m;
    cr_assert(h_get_mount(&r, "/", &m));
    cr_assert(h_has_word(m.opts, "ro"), "/ mounted %s", m.opts);
}

Test(run, read_only_keeps_dev_shm_mqueue_and_proc_writable)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--read-only", H_IMAGE, "/probe", "write", "/dev/x", "write",
            "/dev/shm/x", "mount", "/dev/mqueue", "mount", "/dev/pts", "mount", "/proc", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "write:/dev/x", "ok");
    h_assert_val(&r, "write:/dev/shm/x", "ok");
    static const char *const rw[] = {"/dev/mqueue", "/dev/pts", "/proc"};
    for (size_t i = 0; i < ARRAY_SIZE(rw); i++) {
        struct h_mount m;
        cr_assert(h_get_mount(&r, rw[i], &m), "nothing on %s", rw[i]);
        cr_assert(h_has_word(m.opts, "rw"), "%s mounted %s under --read-only", rw[i], m.opts);
    }
}

Test(run, read_only_keeps_sys_read_only)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--read-only", H_IMAGE, "/probe", "mount", "/sys", NULL);
    h_assert_status(&r, 0);
    struct h_mount m;
    cr_assert(h_get_mount(&r, "/sys", &m));
    cr_assert(h_has_word(m.opts, "ro"), "/sys mounted %s", m.opts);
}
