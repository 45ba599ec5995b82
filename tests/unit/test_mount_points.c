/* mounts_fill_points: the mount points the image lacks, made in a layer of their own so that the
 * overlay shows the image as before, or nothing used when that cannot be exact. */
#include "mounts/internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static char base[] = "/tmp/berth-points.XXXXXX";
static struct strv layers; /* bottom first */
static char *points_dir, *host_dir;
static int points = -1;

static char *at(size_t layer, const char *rel)
{
    return xasprintf("%s/%zu/%s", base, layer, rel);
}

static void make_dir(size_t layer, const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
    char *p = at(layer, rel);
    cr_assert_eq(mkdir(p, mode), 0, "%s: %s", p, strerror(errno));
    cr_assert_eq(chmod(p, mode), 0);
    cr_assert_eq(chown(p, uid, gid), 0);
    free(p);
}

static void setup(void)
{
    if (geteuid() != 0)
        cr_skip_test("owners, whiteouts and the opaque xattr need root");
    cr_assert(mkdtemp(base));
    for (size_t i = 0; i < 2; i++) {
        char *p = xasprintf("%s/%zu", base, i);
        mkdir(p, 0755);
        strv_push_owned(&layers, p);
    }
    points_dir = xasprintf("%s/points", base);
    host_dir = xasprintf("%s/host", base);
    mkdir(points_dir, 0755);
    mkdir(host_dir, 0755);
    points = open(points_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert(points >= 0);
    make_dir(0, "var", 0750, 12, 34);
    make_dir(0, "var/lib", 0755, 0, 0);
    make_dir(0, "etc", 0755, 0, 0);
    make_dir(0, "proc", 0555, 0, 0);
}

static void teardown(void)
{
    if (points >= 0)
        close(points);
    char *cmd = xasprintf("rm -rf -- '%s'", base);
    (void)!system(cmd);
    free(cmd);
    free(points_dir);
    free(host_dir);
    strv_free(&layers);
}

TestSuite(mount_points, .init = setup, .fini = teardown);

static bool fill(struct mount_bind *binds, size_t nbinds, const char *workdir)
{
    const struct mounts_spec spec = {.layers = &layers,
                                     .binds = binds,
                                     .nbinds = nbinds,
                                     .workdir = workdir,
                                     .etc_path = "/etc-files"};
    bool complete = false;
    struct berr err = {0};
    cr_assert_eq(mounts_fill_points(&spec, points, &complete, &err), 0, "%s", err.msg);
    return complete;
}

static struct stat in_points(const char *rel)
{
    struct stat st;
    cr_assert_eq(fstatat(points, rel, &st, AT_SYMLINK_NOFOLLOW), 0, "points/%s: %s", rel,
                 strerror(errno));
    return st;
}

static bool absent(const char *rel)
{
    struct stat st;
    return fstatat(points, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

static void host_mkdir(const char *rel)
{
    char *p = xasprintf("%s/%s", host_dir, rel);
    mkdir(p, 0755);
    free(p);
}

static struct mount_bind bind_of(const char *host_rel, const char *dest)
{
    return (struct mount_bind){.source = xasprintf("%s/%s", host_dir, host_rel),
                               .dest = xstrdup(dest)};
}

Test(mount_points, storms_binds_are_made_under_copies_of_the_images_directories)
{
    host_mkdir("w1");
    host_mkdir("users");
    host_mkdir("logs");
    char *conf = xasprintf("%s/conf", host_dir);
    close(open(conf, O_CREAT | O_WRONLY, 0644));
    free(conf);
    struct mount_bind binds[] = {
        bind_of("logs", "/var/log/storm/w1"), bind_of("w1", "/var/storm/workers/w1"),
        bind_of("conf", "/var/storm/storm.yaml"), bind_of("users", "/var/storm/workers-users/w1")};
    cr_assert(fill(binds, 4, "/var/storm/workers/w1"));
    cr_assert(S_ISDIR(in_points("var/log/storm/w1").st_mode));
    cr_assert(S_ISDIR(in_points("var/storm/workers-users/w1").st_mode));
    cr_assert(S_ISREG(in_points("var/storm/storm.yaml").st_mode));
    struct stat var = in_points("var");
    cr_assert_eq(var.st_mode & 07777, 0750, "the image's mode, not the tmpfs's");
    cr_assert_eq(var.st_uid, 12);
    cr_assert_eq(var.st_gid, 34);
    struct stat w1 = in_points("var/storm/workers/w1");
    cr_assert(S_ISDIR(w1.st_mode));
    cr_assert_eq(in_points("var/storm").st_mode & 07777, 0755);
    cr_assert(absent("var/lib"), "only the way to the mount point is copied");
    /* docker's defaults and /etc files the image lacks */
    cr_assert(S_ISDIR(in_points("dev").st_mode));
    cr_assert(S_ISDIR(in_points("sys").st_mode));
    cr_assert(absent("proc"), "the image has /proc");
    cr_assert(S_ISREG(in_points("etc/hostname").st_mode));
    cr_assert_eq(in_points("etc").st_mode & 07777, 0755);
    for (size_t i = 0; i < 4; i++)
        mount_bind_free(&binds[i]);
}

Test(mount_points, a_deep_way_the_image_lacks_is_made_to_its_files_and_directories)
{
    host_mkdir("deep");
    char *conf = xasprintf("%s/deep.conf", host_dir);
    close(open(conf, O_CREAT | O_WRONLY, 0644));
    free(conf);
    struct mount_bind binds[] = {bind_of("deep.conf", "/opt/x/y/z/f.conf"),
                                 bind_of("deep", "/opt/x/y/w"), bind_of("deep", "/opt/x/v")};
    cr_assert(fill(binds, 3, "/opt/x/y/z/wd"));
    cr_assert(S_ISREG(in_points("opt/x/y/z/f.conf").st_mode));
    cr_assert(S_ISDIR(in_points("opt/x/y/w").st_mode));
    cr_assert(S_ISDIR(in_points("opt/x/v").st_mode));
    cr_assert(S_ISDIR(in_points("opt/x/y/z/wd").st_mode));
    struct stat y = in_points("opt/x/y");
    cr_assert_eq(y.st_mode & 07777, 0755);
    cr_assert_eq(y.st_uid, 0);
    for (size_t i = 0; i < 3; i++)
        mount_bind_free(&binds[i]);
}

Test(mount_points, a_file_source_makes_a_file_and_the_workdir_a_directory)
{
    char *f = xasprintf("%s/conf", host_dir);
    close(open(f, O_CREAT | O_WRONLY, 0644));
    struct mount_bind b = bind_of("conf", "/opt/app/conf.yaml");
    cr_assert(fill(&b, 1, "/srv/work/"));
    cr_assert(S_ISREG(in_points("opt/app/conf.yaml").st_mode));
    cr_assert(S_ISDIR(in_points("srv/work").st_mode));
    mount_bind_free(&b);
    free(f);
}

Test(mount_points, a_directory_made_as_the_last_of_one_point_is_gone_into_by_the_next)
{
    host_mkdir("data");
    struct mount_bind b = bind_of("data", "/srv/app/data");
    cr_assert(fill(&b, 1, "/srv/app"));
    cr_assert_eq(in_points("srv/app").st_mode & 07777, 0755);
    cr_assert(S_ISDIR(in_points("srv/app/data").st_mode));
    mount_bind_free(&b);
}

Test(mount_points, nothing_under_a_bind_or_a_kernel_file_system_is_made_in_the_root)
{
    host_mkdir("sup");
    host_mkdir("dist");
    struct mount_bind b[] = {bind_of("sup", "/var/sup"), bind_of("dist", "/var/sup/dist/x"),
                             bind_of("dist", "/sys/fs/cgroup")};
    cr_assert(fill(b, 3, "/var/sup/work"));
    cr_assert(S_ISDIR(in_points("var/sup").st_mode));
    cr_assert(absent("var/sup/dist"), "made in the bind's host directory when it is mounted");
    cr_assert(absent("var/sup/work"));
    cr_assert(absent("sys/fs"));
    for (size_t i = 0; i < 3; i++)
        mount_bind_free(&b[i]);
}

Test(mount_points, a_link_on_the_way_is_followed_and_left_as_it_is)
{
    char *l = at(1, "home");
    cr_assert_eq(symlink("var/home", l), 0);
    host_mkdir("h");
    struct mount_bind b = bind_of("h", "/home/worker");
    cr_assert(fill(&b, 1, "/"));
    cr_assert(S_ISDIR(in_points("var/home/worker").st_mode));
    struct stat var = in_points("var");
    cr_assert_eq(var.st_mode & 07777, 0750, "the image's directory on the way");
    cr_assert_eq(var.st_uid, 12);
    cr_assert(absent("home"), "the image's link is the image's");
    mount_bind_free(&b);
    free(l);
}

/* Debian's /var/run -> /run, absolute, and Storm's bind of /var/run/nscd */
Test(mount_points, an_absolute_link_leads_from_the_root)
{
    char *l = at(0, "var/run");
    cr_assert_eq(symlink("/run", l), 0);
    host_mkdir("nscd");
    struct mount_bind b = bind_of("nscd", "/var/run/nscd");
    cr_assert(fill(&b, 1, "/var/run"));
    cr_assert(S_ISDIR(in_points("run/nscd").st_mode));
    cr_assert(absent("var/run"));
    mount_bind_free(&b);
    free(l);
}

Test(mount_points, a_link_as_the_mount_point_itself_leads_to_its_target)
{
    char *l = at(1, "etc/resolv.conf");
    make_dir(1, "etc", 0755, 0, 0);
    cr_assert_eq(symlink("../run/resolv.conf", l), 0);
    cr_assert(fill(NULL, 0, "/"));
    cr_assert(S_ISREG(in_points("run/resolv.conf").st_mode));
    cr_assert(S_ISREG(in_points("etc/hosts").st_mode));
    cr_assert(absent("etc/resolv.conf"));
    free(l);
}

Test(mount_points, a_link_loop_leaves_every_point_to_the_upper_layer)
{
    char *a = at(0, "var/a"), *b_ = at(0, "var/b");
    cr_assert_eq(symlink("b", a), 0);
    cr_assert_eq(symlink("a", b_), 0);
    host_mkdir("x");
    struct mount_bind b = bind_of("x", "/var/a/x");
    cr_assert_not(fill(&b, 1, "/"));
    mount_bind_free(&b);
    free(a);
    free(b_);
}

Test(mount_points, a_link_into_another_mount_is_left_to_the_mount_code)
{
    char *l = at(0, "data");
    cr_assert_eq(symlink("/var/sup", l), 0);
    host_mkdir("sup");
    host_mkdir("x");
    struct mount_bind b[] = {bind_of("sup", "/var/sup"), bind_of("x", "/data/x")};
    cr_assert(fill(b, 2, "/"));
    cr_assert(S_ISDIR(in_points("var/sup").st_mode));
    cr_assert(absent("var/sup/x"), "made in the bind's host directory when it is mounted");
    cr_assert(absent("data"));
    for (size_t i = 0; i < 2; i++)
        mount_bind_free(&b[i]);
    free(l);
}

Test(mount_points, a_file_and_a_directory_met_through_a_link_are_left_to_the_mount_code)
{
    char *l = at(0, "var/run");
    cr_assert_eq(symlink("/run", l), 0);
    host_mkdir("d");
    char *f = xasprintf("%s/f", host_dir);
    close(open(f, O_CREAT | O_WRONLY, 0644));
    struct mount_bind b[] = {bind_of("f", "/run/x"), bind_of("d", "/var/run/x")};
    cr_assert_not(fill(b, 2, "/"));
    for (size_t i = 0; i < 2; i++)
        mount_bind_free(&b[i]);
    free(f);
    free(l);
}

Test(mount_points, an_attribute_overlayfs_would_copy_is_not_dropped)
{
    char *var = at(0, "var");
    cr_assert_eq(setxattr(var, "user.keep", "1", 1, 0), 0, "%s", strerror(errno));
    host_mkdir("w");
    struct mount_bind b = bind_of("w", "/var/w");
    cr_assert_not(fill(&b, 1, "/"));
    mount_bind_free(&b);
    free(var);
}

Test(mount_points, overlayfs_own_attributes_and_whiteouts_are_followed)
{
    char *var = at(1, "var");
    make_dir(1, "var", 0700, 5, 6);
    cr_assert_eq(setxattr(var, "trusted.overlay.opaque", "y", 1, 0), 0, "%s", strerror(errno));
    char *lib = at(1, "var/lib");
    cr_assert_eq(mknod(lib, S_IFCHR, makedev(0, 0)), 0);
    host_mkdir("l");
    struct mount_bind b = bind_of("l", "/var/lib/x");
    cr_assert(fill(&b, 1, "/"));
    struct stat v = in_points("var");
    cr_assert_eq(v.st_mode & 07777, 0700, "the top layer's directory");
    cr_assert_eq(v.st_uid, 5);
    cr_assert_eq(in_points("var/lib").st_mode & 07777, 0755, "whited out: a new directory");
    cr_assert_eq(in_points("var/lib").st_uid, 0);
    mount_bind_free(&b);
    free(var);
    free(lib);
}

Test(mount_points, a_file_in_the_way_is_left_to_the_mount_code_to_refuse)
{
    char *f = at(0, "var/file");
    close(open(f, O_CREAT | O_WRONLY, 0644));
    host_mkdir("x");
    struct mount_bind b = bind_of("x", "/var/file/x");
    cr_assert_not(fill(&b, 1, "/"));
    mount_bind_free(&b);
    free(f);
}
