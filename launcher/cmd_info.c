#include "cgroup/cgroup.h"
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

/* A syscall exists when calling it with bad arguments fails with anything but ENOSYS. */
static bool syscall_exists(long nr)
{
    long rc = syscall(nr, -1, NULL, 0, 0, 0);
    return rc >= 0 || errno != ENOSYS;
}

static bool filesystem_known(const char *fs)
{
    _cleanup_free_ char *text = NULL;
    struct berr ignored;
    if (read_file_at(AT_FDCWD, "/proc/filesystems", 1 << 20, &text, NULL, &ignored) < 0)
        return false;
    _cleanup_free_ char *needle = xasprintf("\t%s\n", fs);
    return strstr(text, needle) != NULL;
}

static bool seccomp_filter_available(void)
{
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
           (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0) < 0 && errno == EFAULT);
}

static void print_feature(const char *name, bool ok)
{
    printf("  %-14s %s\n", name, ok ? "yes" : "no");
}

static void print_cgroups(void)
{
    struct cgroup_hosts h;
    struct berr err = {0};
    if (cgroup_detect(&h, &err) < 0) {
        printf(" Cgroup Version: unknown (%s)\n", err.msg);
        return;
    }
    printf(" Cgroup Driver: cgroupfs\n Cgroup Version: %s\n", cgroup_layout_name(h.layout));
    for (size_t i = 0; i < h.n; i++)
        printf("  %-28s %s\n", h.mounts[i].path,
               h.mounts[i].v2 ? "cgroup2" : h.mounts[i].controllers);
    cgroup_hosts_free(&h);
}

int cmd_info(struct cli *cli, int argc, char **argv)
{
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth info", "Display system-wide information", NULL, 0, argc, argv,
                       &args, &code))
        return code;
    struct utsname u;
    uname(&u);
    printf("Server:\n Server Version: berth %s\n", BERTH_VERSION);
    printf(" Kernel Version: %s\n Operating System: %s\n Architecture: %s\n", u.release, u.sysname,
           u.machine);
    printf(" Storage Driver: overlay\n");
    print_cgroups();
    printf(" Kernel features:\n");
    print_feature("openat2", syscall_exists(SYS_openat2));
    print_feature("mount_setattr", syscall_exists(SYS_mount_setattr));
    print_feature("open_tree", syscall_exists(SYS_open_tree));
    print_feature("pidfd_open", syscall_exists(SYS_pidfd_open));
    print_feature("close_range", syscall(SYS_close_range, ~0U, ~0U, 0) == 0 || errno != ENOSYS);
    print_feature("overlayfs", filesystem_known("overlay"));
    print_feature("seccomp", seccomp_filter_available());
    printf(" Data Root Dir: %s\n State Root Dir: %s\n", cli_root(cli), cli_runroot(cli));
    return 0;
}
