/* berth info: docker's fields that apply, and what an operator checks before Storm uses the
 * host. Findings that stop Storm's workers from working as asked are WARNING lines on stderr,
 * after the rest, as docker prints its own. */
#include "cgroup/cgroup.h"
#include "launcher.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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
    printf("  %-16s %s\n", name, ok ? "yes" : "no");
}

/* Storm's default storm.oci.cgroup.parent */
#define STORM_CGROUP_PARENT "/storm"

static void print_cgroups(struct strv *warnings)
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
    _cleanup_free_ char *why = NULL;
    bool cpus = cgroup_cpu_quota_usable(&h, STORM_CGROUP_PARENT, &why);
    printf(" CPU Limits (--cpus) under " STORM_CGROUP_PARENT ": %s (%s)\n", cpus ? "yes" : "no",
           why);
    if (!cpus)
        strv_push_owned(
            warnings,
            xasprintf("WARNING: --cpus will fail under " STORM_CGROUP_PARENT ": %s", why));
    cgroup_hosts_free(&h);
}

static void print_namespaces(void)
{
    static const char *const used[] = {"mnt", "pid", "uts", "ipc", "net", "cgroup"};
    for (size_t i = 0; i < ARRAY_SIZE(used); i++) {
        _cleanup_free_ char *name = xasprintf("namespace %s", used[i]);
        _cleanup_free_ char *path = xasprintf("/proc/self/ns/%s", used[i]);
        print_feature(name, access(path, F_OK) == 0);
    }
}

static const char *fs_name(long type)
{
    static const struct {
        long magic;
        const char *name;
    } known[] = {{TMPFS_MAGIC, "tmpfs"},
                 {EXT4_SUPER_MAGIC, "ext2/ext3/ext4"},
                 {XFS_SUPER_MAGIC, "xfs"},
                 {BTRFS_SUPER_MAGIC, "btrfs"},
                 {OVERLAYFS_SUPER_MAGIC, "overlay"},
                 {RAMFS_MAGIC, "ramfs"},
                 {NFS_SUPER_MAGIC, "nfs"},
                 {0x2fc12fc1, "zfs"}};
    for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
        if (known[i].magic == type)
            return known[i].name;
    }
    return NULL;
}

/* The file system path is on, or would be on once made (its deepest existing ancestor's). */
static void print_store(const char *label, const char *path, bool want_tmpfs, struct strv *warnings)
{
    _cleanup_free_ char *at = xstrdup(path);
    struct statfs sf;
    while (statfs(at, &sf) < 0) {
        if (!strcmp(at, "/") || !strcmp(at, ".")) { /* where dirname ends */
            printf(" %s: %s (%s)\n", label, path, strerror(errno));
            return;
        }
        char *up = xstrdup(dirname(at));
        free(at);
        at = up;
    }
    char hex[32];
    snprintf(hex, sizeof(hex), "0x%lx", (long)sf.f_type);
    const char *fs = fs_name((long)sf.f_type) ? fs_name((long)sf.f_type) : hex;
    printf(" %s: %s (%s%s)\n", label, path, fs, strcmp(at, path) ? ", not made yet" : "");
    if (want_tmpfs && sf.f_type != TMPFS_MAGIC)
        strv_push_owned(warnings, xasprintf("WARNING: the state root %s is not on a tmpfs (%s): "
                                            "containers' state would outlive a reboot",
                                            path, fs));
}

/* berth's worker-launcher beside berth, as Storm's docs ask it installed */
static void print_worker_launcher(struct strv *warnings)
{
    _cleanup_free_ char *dir = runtime_install_dir();
    _cleanup_free_ char *path = xasprintf("%s/worker-launcher", dir ? dir : BERTH_BINDIR);
    struct stat st;
    if (stat(path, &st) < 0) {
        printf(" Worker Launcher: %s: %s\n", path, strerror(errno));
        return;
    }
    struct group *g = getgrgid(st.st_gid);
    _cleanup_free_ char *group = g ? xstrdup(g->gr_name) : xasprintf("%u", (unsigned)st.st_gid);
    unsigned mode = st.st_mode & 07777;
    printf(" Worker Launcher: %s (%s%s:%s %04o)\n", path, st.st_uid ? "uid " : "",
           st.st_uid ? "?" : "root", group, mode);
    /* the group is Storm's launcher group, whatever it is called: only root's is surely wrong */
    if (st.st_uid != 0 || mode != 06550 || st.st_gid == 0)
        strv_push_owned(warnings, xasprintf("WARNING: %s must be root:<launcher group> mode 6550 "
                                            "for Storm's supervisor (dpkg-statoverride(8), or "
                                            "chown and chmod)",
                                            path));
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
    _cleanup_strv_ struct strv warnings = {0};
    print_cgroups(&warnings);
    printf(" Kernel features:\n");
    print_feature("openat2", syscall_exists(SYS_openat2));
    print_feature("mount_setattr", syscall_exists(SYS_mount_setattr));
    print_feature("open_tree", syscall_exists(SYS_open_tree));
    print_feature("pidfd_open", syscall_exists(SYS_pidfd_open));
    print_feature("close_range", syscall(SYS_close_range, ~0U, ~0U, 0) == 0 || errno != ENOSYS);
    print_feature("overlayfs", filesystem_known("overlay"));
    print_feature("seccomp", seccomp_filter_available());
    print_namespaces();
    const struct scmp_version *sv = seccomp_version();
    printf(" Seccomp Library: libseccomp %u.%u.%u (API level %u)\n", sv->major, sv->minor,
           sv->micro, (unsigned)seccomp_api_get());
    print_store("Data Root Dir", cli_root(cli), false, &warnings);
    print_store("State Root Dir", cli_runroot(cli), true, &warnings);
    print_worker_launcher(&warnings);
    fflush(stdout);
    for (size_t i = 0; i < warnings.n; i++)
        fprintf(stderr, "%s\n", warnings.v[i]);
    return 0;
}
