/* berth info: what an operator needs before Storm uses the host. The cgroup layout and whether
 * --cpus works under /storm (as the cgroup module answers it), the kernel features, the stores
 * and their file systems (a warning, on stderr as docker's, when the state root is not a
 * tmpfs), libseccomp's version, and the worker-launcher beside berth with its owner and mode. */
#include "cgroup/cgroup.h"
#include "harness.h"

#include <grp.h>
#include <linux/magic.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

TestSuite(info, .init = h_suite_init, .fini = h_suite_fini, .timeout = 60);

static void info_with_runroot(struct h_result *r, const char *runroot)
{
    struct h_opts o = {.runroot = runroot};
    h_berth(r, &o, "info", NULL);
    h_assert_status(r, 0);
}

static void assert_line(const char *out, const char *line)
{
    char *needle = xasprintf("\n%s\n", line);
    char *hay = xasprintf("\n%s", out);
    cr_assert(strstr(hay, needle), "no line '%s' in:\n%s", line, out);
    free(needle);
    free(hay);
}

Test(info, cgroups_and_cpu_limits_under_storm)
{
    struct h_result r;
    info_with_runroot(&r, h_runroot());
    struct cgroup_hosts h;
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&h, &err), 0, "%s", err.msg);
    char *line = xasprintf(" Cgroup Version: %s", cgroup_layout_name(h.layout));
    assert_line(r.out, line);
    free(line);
    char *why = NULL;
    bool ok = cgroup_cpu_quota_usable(&h, "/storm", &why);
    line = xasprintf(" CPU Limits (--cpus) under /storm: %s (%s)", ok ? "yes" : "no", why);
    assert_line(r.out, line);
    free(line);
    free(why);
    cgroup_hosts_free(&h);
}

Test(info, kernel_features_and_seccomp_library)
{
    struct h_result r;
    info_with_runroot(&r, h_runroot());
    const char *yes[] = {"overlayfs",     "open_tree",     "mount_setattr", "pidfd_open",
                         "seccomp",       "namespace mnt", "namespace pid", "namespace uts",
                         "namespace ipc", "namespace net"};
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        char *line = xasprintf("  %-16s yes", yes[i]);
        assert_line(r.out, line);
        free(line);
    }
    const struct scmp_version *v = seccomp_version();
    char *line = xasprintf(" Seccomp Library: libseccomp %u.%u.%u (API level %u)", v->major,
                           v->minor, v->micro, (unsigned)seccomp_api_get());
    assert_line(r.out, line);
    free(line);
}

static const char *fs_of(const char *path)
{
    struct statfs sf;
    cr_assert_eq(statfs(path, &sf), 0, "statfs %s", path);
    return sf.f_type == TMPFS_MAGIC ? "tmpfs" : "other";
}

Test(info, state_root_not_on_tmpfs_is_warned_about)
{
    const char *src = getenv("BERTH_SRC");
    char *disk = xasprintf("%s/build/info-run-%d", src ? src : ".", (int)getpid());
    cr_assert_str_eq(fs_of(src ? src : "."), "other", "the worktree is on a tmpfs");
    struct h_result r;
    info_with_runroot(&r, disk);
    char *warn = xasprintf("WARNING: the state root %s is not on a tmpfs", disk);
    cr_assert(strstr(r.err, warn), "stderr: %s", r.err);
    char *line = xasprintf(" State Root Dir: %s", disk);
    cr_assert(strstr(r.out, line), "%s", r.out);
    h_remove_tree(disk);
    free(line);
    free(warn);
    free(disk);

    char *shm = xasprintf("/dev/shm/berth-info-%d", (int)getpid());
    cr_assert_str_eq(fs_of("/dev/shm"), "tmpfs");
    h_mkdirs(shm, 0700);
    info_with_runroot(&r, shm);
    line = xasprintf(" State Root Dir: %s (tmpfs)", shm);
    assert_line(r.out, line);
    cr_assert_null(strstr(r.err, "state root"), "stderr: %s", r.err);
    h_remove_tree(shm);
    free(line);
    free(shm);
}

/* A relative state root that is not made yet: the file system of the directory it would be
 * made in (berth's working directory, the worktree, on disk), not an unread statfs. */
Test(info, a_relative_state_root_not_made_yet_is_looked_up_from_the_working_directory)
{
    const char *src = getenv("BERTH_SRC");
    cr_assert_str_eq(fs_of(src ? src : "."), "other", "the worktree is on a tmpfs");
    char *rel = xasprintf("info-rel-%d", (int)getpid());
    char *cmd = xasprintf("cd \"$1\" && exec \"$2\" --runroot %s info", rel);
    struct h_result r;
    h_execv(&r, NULL,
            (const char *const[]){"sh", "-c", cmd, "sh", src ? src : ".", getenv("BERTH_IT_BERTH"),
                                  NULL});
    h_assert_status(&r, 0);
    char *line = xasprintf(" State Root Dir: %s (", rel);
    const char *at = strstr(r.out, line);
    cr_assert(at, "%s", r.out);
    const char *end = strchr(at, '\n');
    cr_assert(end && end - at > 15 && !strncmp(end - 15, ", not made yet)", 15), "%.*s",
              end ? (int)(end - at) : 80, at);
    char *warn = xasprintf("WARNING: the state root %s is not on a tmpfs", rel);
    cr_assert(strstr(r.err, warn), "stderr: %s", r.err);
    free(warn);
    free(line);
    free(cmd);
    free(rel);
}

/* the build tree's worker-launcher is an ordinary 0755 file: said, and warned about */
Test(info, worker_launcher_owner_and_mode)
{
    char *wl = h_beside_berth("worker-launcher");
    struct stat st;
    cr_assert_eq(stat(wl, &st), 0, "%s", wl);
    cr_assert_neq(st.st_mode & 07777, 06550, "the build tree's launcher is not installed");
    struct h_result r;
    info_with_runroot(&r, h_runroot());
    struct group *g = getgrgid(st.st_gid);
    char *line = xasprintf(" Worker Launcher: %s (root:%s %04o)", wl, g ? g->gr_name : "?",
                           (unsigned)(st.st_mode & 07777));
    assert_line(r.out, line);
    char *warn = xasprintf("WARNING: %s must be root:<launcher group> mode 6550", wl);
    cr_assert(strstr(r.err, warn), "stderr: %s", r.err);
    free(warn);
    free(line);
    free(wl);
}
