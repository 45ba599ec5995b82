/* berth run on an image whose symlinks point out of the rootfs: bind destinations and the
 * workdir are resolved inside the container's root, so nothing is created or mounted on the
 * host (runc CVE-2021-30465, CVE-2024-45310; crun CVE-2019-18837). As in docker, what a link
 * names is made inside the container when missing, and the mount lands there; the host dir
 * the links name stays empty. */
#include "harness.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Image hostile:latest in its own data root: /escape -> <tmp>/outside (absolute),
 * /up -> ../../../../../../<tmp>/outside (climbing), /tmplink -> /tmp, a target that
 * exists in the image and on the host alike, and /dangle -> made/by/link (relative, missing).
 * Returns that data root. */
static char *hostile_image(void)
{
    char *extra = h_path("extra");
    h_mkdirs(extra, 0755);
    h_mkdirs(h_path("outside"), 0755);
    char *outside = h_path("outside");
    cr_assert_eq(symlink(outside, h_path("extra/escape")), 0);
    char *climb = xasprintf("../../../../../..%s", outside);
    cr_assert_eq(symlink(climb, h_path("extra/up")), 0);
    cr_assert_eq(symlink("/tmp", h_path("extra/tmplink")), 0);
    cr_assert_eq(symlink("made/by/link", h_path("extra/dangle")), 0);
    char *root = h_path("root");
    h_import_variant(root, "hostile:latest", extra);
    return root;
}

static void assert_outside_untouched(void)
{
    char *outside = h_path("outside");
    struct h_result r;
    const char *ls[] = {h_probe_bin(), "ls", outside, NULL};
    h_execv(&r, NULL, ls);
    _cleanup_free_ char *key = xasprintf("ls:%s", outside);
    h_assert_val(&r, key, "");
    h_assert_no_mounts_left();
}

Test(run, bind_destination_through_an_image_symlink_stays_inside)
{
    struct h_opts o = {.root = hostile_image()};
    char *src = h_path("src");
    h_mkdirs(src, 0755);
    h_write_file(h_path("src/mark"), "mark", 0644);
    static const char *const dsts[] = {"/escape/x", "/up/x"};
    for (size_t i = 0; i < ARRAY_SIZE(dsts); i++) {
        char *spec = xasprintf("%s:%s", src, dsts[i]);
        char *mark = xasprintf("%s/mark", dsts[i]);
        struct h_result r;
        h_berth(&r, &o, "run", "--rm", "-v", spec, "hostile:latest", "/probe", "read", mark, NULL);
        h_assert_status(&r, 0);
        _cleanup_free_ char *key = xasprintf("read:%s", mark);
        h_assert_val(&r, key, "4");
        assert_outside_untouched();
    }
}

/* A unique name under /tmp, so the host's /tmp can be checked for it. */
static char *unique_tmp_name(const char *suffix)
{
    return xasprintf("%s-%s", strrchr(h_tmp(), '/') + 1, suffix);
}

Test(run, bind_through_an_image_symlink_to_an_existing_dir_mounts_inside)
{
    struct h_opts o = {.root = hostile_image()};
    char *src = h_path("src");
    h_mkdirs(src, 0755);
    h_write_file(h_path("src/mark"), "mark", 0644);
    char *name = unique_tmp_name("bind");
    char *spec = xasprintf("%s:/tmplink/%s", src, name);
    char *mark = xasprintf("/tmp/%s/mark", name);
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "-v", spec, "hostile:latest", "/probe", "read", mark, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *key = xasprintf("read:%s", mark);
    h_assert_val(&r, key, "4");
    _cleanup_free_ char *host = xasprintf("/tmp/%s", name);
    cr_assert(!h_exists(host), "%s was created on the host", host);
    h_assert_no_mounts_left();
}

Test(run, workdir_through_an_image_symlink_to_an_existing_dir_is_made_inside)
{
    struct h_opts o = {.root = hostile_image()};
    char *name = unique_tmp_name("wd");
    char *wd = xasprintf("/tmplink/%s", name);
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "-w", wd, "hostile:latest", "/probe", "cwd", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *want = xasprintf("/tmp/%s", name);
    h_assert_val(&r, "cwd", want);
    cr_assert(!h_exists(want), "%s was created on the host", want);
}

Test(run, workdir_through_an_image_symlink_stays_inside)
{
    struct h_opts o = {.root = hostile_image()};
    static const char *const dirs[] = {"/escape/wd", "/up/wd"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        struct h_result r;
        h_berth(&r, &o, "run", "--rm", "-w", dirs[i], "hostile:latest", "/probe", "cwd", NULL);
        h_assert_status(&r, 0);
        /* made inside, where the link points: the host path's name, under the container's / */
        _cleanup_free_ char *want = xasprintf("%s/wd", h_path("outside"));
        h_assert_val(&r, "cwd", want);
        assert_outside_untouched();
    }
}

/* A relative link to a missing path: docker follows it inside the root and makes the
 * target, a directory for a directory source and a file for a file source. */
Test(run, bind_onto_a_dangling_relative_link_makes_its_target_inside)
{
    struct h_opts o = {.root = hostile_image()};
    char *src = h_path("src");
    h_mkdirs(src, 0755);
    h_write_file(h_path("src/mark"), "mark", 0644);
    h_write_file(h_path("file"), "file!", 0644);
    char *dir_spec = xasprintf("%s:/dangle", src);
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "-v", dir_spec, "hostile:latest", "/probe", "read",
            "/made/by/link/mark", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/made/by/link/mark", "4");
    char *file_spec = xasprintf("%s:/dangle", h_path("file"));
    h_berth(&r, &o, "run", "--rm", "-v", file_spec, "hostile:latest", "/probe", "read",
            "/made/by/link", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/made/by/link", "5");
    h_assert_no_mounts_left();
}

Test(run, device_nodes_shipped_in_the_image_cannot_be_opened)
{
    char *extra = h_path("extra");
    h_mkdirs(extra, 0755);
    /* the null device is harmless to open; a hostile image would ship a disk here */
    cr_assert_eq(mknod(h_path("extra/hostdev"), S_IFCHR | 0666, makedev(1, 3)), 0);
    struct h_opts o = {.root = h_path("root")};
    h_import_variant(o.root, "devnode:latest", extra);
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "devnode:latest", "/probe", "write", "/hostdev", "write",
            "/dev/null", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "write:/hostdev", "EACCES");
    h_assert_val(&r, "write:/dev/null", "ok");
}

/* --read-only once remounted / with MS_RDONLY alone, which dropped the overlay's nodev */
Test(run, device_nodes_shipped_in_the_image_cannot_be_opened_under_read_only)
{
    char *extra = h_path("extra");
    h_mkdirs(extra, 0755);
    cr_assert_eq(mknod(h_path("extra/hostdev"), S_IFCHR | 0666, makedev(1, 3)), 0);
    struct h_opts o = {.root = h_path("root")};
    h_import_variant(o.root, "devnode:latest", extra);
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "--read-only", "devnode:latest", "/probe", "write", "/hostdev",
            "mount", "/", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "write:/hostdev", "EACCES");
    struct h_mount m;
    cr_assert(h_get_mount(&r, "/", &m), "nothing on /");
    cr_assert(h_has_word(m.opts, "ro") && h_has_word(m.opts, "nodev"), "/ mounted %s", m.opts);
}

/* An image whose /etc/<name> is a FIFO: read blocking, as root, it held run for ever. */
static void assert_fifo_etc_file_refused(const char *name)
{
    char *extra = h_path("extra");
    h_mkdirs(h_path("extra/etc"), 0755);
    _cleanup_free_ char *fifo = h_path("extra/etc/%s", name);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    struct h_opts o = {.root = h_path("root"), .timeout_s = 20};
    h_import_variant(o.root, "fifo:latest", extra);
    _cleanup_free_ char *layers_dir = h_path("root/layers");
    _cleanup_free_ char *layers = h_tree_snapshot(layers_dir);
    struct h_result r;
    double t0 = h_now_s();
    h_berth(&r, &o, "run", "--rm", "fifo:latest", "/probe", "id", NULL);
    h_assert_status(&r, 125);
    cr_assert(h_now_s() - t0 < 10, "run took %.1f s", h_now_s() - t0);
    _cleanup_free_ char *path = xasprintf("/etc/%s", name);
    h_assert_err_mentions(&r, path);
    cr_assert_str_empty(r.out, "stdout not empty: %s", r.out);
    h_assert_nothing_left(NULL);
    _cleanup_free_ char *now = h_tree_snapshot(layers_dir);
    _cleanup_free_ char *diff = h_first_difference(now, layers);
    cr_assert(!diff, "the image's layers changed; first difference:\n%s", diff);
}

Test(run, fifo_at_etc_passwd_fails_fast_naming_it)
{
    assert_fifo_etc_file_refused("passwd");
}

Test(run, fifo_at_etc_group_fails_fast_naming_it)
{
    assert_fifo_etc_file_refused("group");
}

/* Image ref in o->root from a tar of the probe alone, plus what add puts beside it in dir. */
static void probe_only_image(const struct h_opts *o, const char *ref, void (*add)(const char *dir))
{
    char *dir = h_path("scratch");
    h_mkdirs(dir, 0755);
    struct h_result r;
    _cleanup_free_ char *probe = xasprintf("%s/probe", dir);
    const char *cp[] = {"cp", h_probe_bin(), probe, NULL};
    h_execv(&r, NULL, cp);
    h_assert_status(&r, 0);
    if (add)
        add(dir);
    char *tar = h_path("scratch.tar");
    const char *pack[] = {"tar", "--numeric-owner", "-C", dir, "-cf", tar, ".", NULL};
    h_execv(&r, NULL, pack);
    h_assert_status(&r, 0);
    h_berth(&r, o, "import", tar, ref, NULL);
    h_assert_status(&r, 0);
}

/* Every mount point the defaults need is made in the container's root when the image has
 * none of them: /proc and /sys at the top, /dev's own under the /dev tmpfs. */
Test(run, an_image_without_proc_sys_or_dev_gets_them_made_inside)
{
    struct h_opts o = {.root = h_path("root")};
    probe_only_image(&o, "bare:latest", NULL);
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "bare:latest", "/probe", "mount", "/proc", "mount", "/sys",
            "mount", "/dev", "mount", "/dev/pts", "mount", "/dev/shm", "mount", "/dev/mqueue",
            NULL);
    h_assert_status(&r, 0);
    const char *want[][2] = {{"/proc", "proc"},     {"/sys", "sysfs"},
                             {"/dev", "tmpfs"},     {"/dev/pts", "devpts"},
                             {"/dev/shm", "tmpfs"}, {"/dev/mqueue", "mqueue"}};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        struct h_mount m;
        cr_assert(h_get_mount(&r, want[i][0], &m), "nothing mounted on %s", want[i][0]);
        cr_assert_str_eq(m.fstype, want[i][1], "%s", want[i][0]);
    }
}

static void proc_as_a_link(const char *dir)
{
    _cleanup_free_ char *proc = xasprintf("%s/proc", dir);
    cr_assert_eq(symlink("/etc", proc), 0);
}

/* A /proc that is a link would put the kernel's files elsewhere in the tree, out of the
 * masks' reach: refused, naming it, and nothing is left. */
Test(run, an_image_whose_proc_is_a_link_is_refused)
{
    struct h_opts o = {.root = h_path("root")};
    probe_only_image(&o, "proclink:latest", proc_as_a_link);
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "proclink:latest", "/probe", "id", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "symlink on the path of /proc");
    h_assert_nothing_left(NULL);
}
