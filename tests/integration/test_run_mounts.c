/* berth run -v: rw and ro binds, recursion over submounts, /sys/fs/cgroup:ro, mount points
 * made per container and never in the shared image layer. */
#include "harness.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

static char *bind_arg(const char *src, const char *dst, const char *mode)
{
    return mode ? xasprintf("%s:%s:%s", src, dst, mode) : xasprintf("%s:%s", src, dst);
}

Test(run, rw_bind_writes_reach_the_host)
{
    char *src = h_path("data");
    h_mkdirs(src, 0755);
    h_write_file(h_path("data/from-host"), "12345", 0644);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(src, "/data", NULL), H_IMAGE, "/probe", "read",
            "/data/from-host", "write", "/data/from-container", "mount", "/data", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/data/from-host", "5");
    h_assert_val(&r, "write:/data/from-container", "ok");
    cr_assert(h_exists(h_path("data/from-container")), "the write did not reach the host");
    struct h_mount m;
    cr_assert(h_get_mount(&r, "/data", &m), "nothing mounted on /data");
    cr_assert(h_has_word(m.opts, "rw"), "/data mounted %s", m.opts);
    h_assert_no_mounts_left();
}

Test(run, rw_mode_is_accepted_explicitly)
{
    char *src = h_path("data");
    h_mkdirs(src, 0755);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--volume", bind_arg(src, "/data", "rw"), H_IMAGE, "/probe",
            "write", "/data/x", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "write:/data/x", "ok");
}

Test(run, ro_bind_refuses_writes_with_erofs)
{
    char *src = h_path("data");
    h_mkdirs(src, 0777);
    h_write_file(h_path("data/from-host"), "abc", 0666);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(src, "/data", "ro"), H_IMAGE, "/probe", "read",
            "/data/from-host", "write", "/data/from-host", "write", "/data/new", "mkdir",
            "/data/dir", "mount", "/data", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/data/from-host", "3");
    h_assert_val(&r, "write:/data/from-host", "EROFS");
    h_assert_val(&r, "write:/data/new", "EROFS");
    h_assert_val(&r, "mkdir:/data/dir", "EROFS");
    cr_assert(!h_exists(h_path("data/new")));
    struct h_mount m;
    cr_assert(h_get_mount(&r, "/data", &m), "nothing mounted on /data");
    cr_assert(h_has_word(m.opts, "ro"), "/data mounted %s", m.opts);
}

Test(run, ro_bind_of_a_file_refuses_writes)
{
    char *src = h_path("config.txt");
    h_write_file(src, "key=value\n", 0666);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(src, "/etc/app.conf", "ro"), H_IMAGE, "/probe",
            "read", "/etc/app.conf", "write", "/etc/app.conf", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/etc/app.conf", "10");
    h_assert_val(&r, "write:/etc/app.conf", "EROFS");
}

/* A host tmpfs mounted inside the bind source: binds are recursive, and :ro covers it too. */
static char *source_with_submount(void)
{
    char *src = h_path("tree");
    char *sub = h_path("tree/sub");
    h_mkdirs(sub, 0755);
    cr_assert(mount("it-sub", sub, "tmpfs", 0, "size=1m,mode=0777") == 0, "mount tmpfs: %s",
              strerror(errno));
    h_write_file(h_path("tree/sub/inside"), "1234567", 0666);
    return src;
}

Test(run, binds_are_recursive_and_show_submounts)
{
    char *src = source_with_submount();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(src, "/data", NULL), H_IMAGE, "/probe", "read",
            "/data/sub/inside", "write", "/data/sub/new", NULL);
    umount2(h_path("tree/sub"), MNT_DETACH);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/data/sub/inside", "7");
    h_assert_val(&r, "write:/data/sub/new", "ok");
    h_assert_no_mounts_left();
}

Test(run, ro_bind_is_read_only_recursively)
{
    char *src = source_with_submount();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(src, "/data", "ro"), H_IMAGE, "/probe", "read",
            "/data/sub/inside", "write", "/data/sub/new", "write", "/data/new", "mount",
            "/data/sub", NULL);
    umount2(h_path("tree/sub"), MNT_DETACH);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/data/sub/inside", "7");
    h_assert_val(&r, "write:/data/new", "EROFS");
    h_assert_val(&r, "write:/data/sub/new", "EROFS");
    struct h_mount m;
    cr_assert(h_get_mount(&r, "/data/sub", &m), "the submount is missing inside");
    cr_assert(h_has_word(m.opts, "ro"), "/data/sub mounted %s", m.opts);
    h_assert_no_mounts_left();
}

Test(run, cgroup_ro_bind_leaves_no_writable_cgroup_mount)
{
    if (!h_exists("/sys/fs/cgroup"))
        h_skip("the host has no /sys/fs/cgroup");
    _cleanup_free_ char *ls = NULL;
    struct h_result host;
    const char *argv[] = {h_probe_bin(), "ls", "/sys/fs/cgroup", NULL};
    h_execv(&host, NULL, argv);
    ls = h_get(&host, "ls:/sys/fs/cgroup");

    /* try to create a cgroup in every hierarchy (on v2 the root is one, and its entries are
     * files or cgroups); a writable one would succeed */
    const char *args[64] = {"run",
                            "--rm",
                            "-v",
                            "/sys/fs/cgroup:/sys/fs/cgroup:ro",
                            H_IMAGE,
                            "/probe",
                            "mountinfo",
                            "mkdir",
                            xasprintf("/sys/fs/cgroup/berth-probe-%d", (int)getpid())};
    size_t n = 9;
    char *save = NULL;
    for (char *w = strtok_r(ls, " ", &save); w && n < 60; w = strtok_r(NULL, " ", &save)) {
        args[n++] = "mkdir";
        args[n++] = xasprintf("/sys/fs/cgroup/%s/berth-probe-%d", w, (int)getpid());
    }
    args[n] = NULL;
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);

    char **lines;
    size_t count = h_get_all(&r, "mountinfo", &lines), seen = 0;
    for (size_t i = 0; i < count; i++) {
        /* id parent maj:min root mountpoint opts ... */
        char *copy = xstrdup(lines[i]), *s2 = NULL;
        char *f[6] = {0};
        f[0] = strtok_r(copy, " ", &s2);
        for (int k = 1; k < 6 && f[k - 1]; k++)
            f[k] = strtok_r(NULL, " ", &s2);
        if (!f[5] || strncmp(f[4], "/sys/fs/cgroup", 14) != 0)
            continue;
        seen++;
        cr_assert(h_has_word(f[5], "ro"), "writable cgroup mount inside: %s", lines[i]);
    }
    cr_assert_gt(seen, 0, "nothing mounted under /sys/fs/cgroup inside");
    for (size_t i = 7; i < n; i += 2) {
        _cleanup_free_ char *key = xasprintf("mkdir:%s", args[i + 1]);
        char *v = h_get(&r, key);
        cr_assert(v && strcmp(v, "ok") != 0, "%s succeeded: a writable cgroup hierarchy", key);
        cr_assert(strcmp(v, "EROFS") == 0 || strcmp(v, "ENOENT") == 0 || strcmp(v, "ENOTDIR") == 0,
                  "%s: %s", key, v);
    }
}

Test(run, missing_bind_source_is_created_like_docker)
{
    char *src = h_path("created/by/berth");
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(src, "/data", NULL), H_IMAGE, "/probe", "write",
            "/data/x", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "write:/data/x", "ok");
    cr_assert(h_exists(h_path("created/by/berth/x")), "source dir was not created on the host");
}

Test(run, missing_mount_points_are_made_per_container_not_in_the_image_layer)
{
    char *layers = h_layers_snapshot();
    char *dir = h_path("dir");
    char *file = h_path("file");
    h_mkdirs(dir, 0755);
    h_write_file(file, "x", 0644);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(dir, "/not/in/image", NULL), "-v",
            bind_arg(file, "/etc/not-in-image.conf", "ro"), H_IMAGE, "/probe", "stat",
            "/not/in/image", "stat", "/etc/not-in-image.conf", NULL);
    h_assert_status(&r, 0);
    cr_assert(strncmp(h_val(&r, "stat:/not/in/image"), "dir ", 4) == 0, "%s", r.out);
    cr_assert(strncmp(h_val(&r, "stat:/etc/not-in-image.conf"), "reg ", 4) == 0, "%s", r.out);
    h_assert_nothing_left(layers);
    /* a second container of the same image does not see them */
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "stat", "/not", "stat",
            "/etc/not-in-image.conf", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "stat:/not", "ENOENT");
    h_assert_val(&r, "stat:/etc/not-in-image.conf", "ENOENT");
}

Test(run, binds_are_mounted_parents_first_whatever_the_order)
{
    char *outer = h_path("outer"), *inner = h_path("inner");
    h_mkdirs(outer, 0755);
    h_mkdirs(inner, 0755);
    h_write_file(h_path("inner/mark"), "inner", 0644);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(inner, "/data/sub", NULL), "-v",
            bind_arg(outer, "/data", NULL), H_IMAGE, "/probe", "read", "/data/sub/mark", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/data/sub/mark", "5");
}

Test(run, bind_over_an_image_directory_hides_it)
{
    char *src = h_path("etc-over");
    h_mkdirs(src, 0755);
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", bind_arg(src, "/home", "ro"), H_IMAGE, "/probe", "ls",
            "/home", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "ls:/home", "");
}

Test(run, binds_are_private_so_later_host_mounts_stay_out)
{
    char *src = h_path("prop");
    h_mkdirs(h_path("prop/sub"), 0755);
    char *token = h_path("prop-token");
    const char *args[] = {"run",   "--rm",      "-v",    bind_arg(src, "/data", NULL),
                          H_IMAGE, "/probe",    "sleep", "3",
                          "mount", "/data/sub", "ls",    "/data/sub",
                          "ls",    token,       NULL};
    struct h_proc p;
    h_berth_start(&p, NULL, args);
    pid_t pid = h_find_process("/probe", token, 20);
    int mounted = pid ? mount("it-late", h_path("prop/sub"), "tmpfs", 0, "size=1m") : -1;
    if (mounted == 0)
        h_write_file(h_path("prop/sub/late"), "x", 0644);
    struct h_result r;
    h_berth_finish(&p, &r);
    if (mounted == 0)
        umount2(h_path("prop/sub"), MNT_DETACH);
    cr_assert(pid, "the container's probe never appeared\n--- stderr:\n%s", r.err);
    cr_assert_eq(mounted, 0, "host tmpfs mount: %s", strerror(errno));
    h_assert_status(&r, 0);
    h_assert_val(&r, "mount:/data/sub", "none");
    h_assert_val(&r, "ls:/data/sub", "");
}

/* Storm's shape: binds and a working directory under directories the image lacks, on a
 * read-only root. Their mount points come from a layer of their own: the root has no upper
 * layer, and the image's directories on the way look as they do without them. */
Test(run, read_only_root_takes_its_mount_points_without_an_upper_layer)
{
    char *dir = h_path("w1"), *file = h_path("storm.yaml");
    h_mkdirs(dir, 0755);
    h_write_file(file, "x", 0644);
    struct h_result plain, r;
    h_berth(&plain, NULL, "run", "--rm", "--read-only", H_IMAGE, "/probe", "stat", "/etc", "stat",
            "/usr", "ls", "/etc", NULL);
    h_assert_status(&plain, 0);
    h_berth(&r, NULL, "run", "--rm", "--read-only", "-w", "/usr/storm/work", "-v",
            bind_arg(dir, "/usr/storm/workers/w1", NULL), "-v",
            bind_arg(file, "/etc/storm/storm.yaml", "ro"), H_IMAGE, "/probe", "stat", "/etc",
            "stat", "/usr", "ls", "/etc", "cwd", "write", "/usr/storm/workers/w1/out", "write",
            "/etc/new", "mkdir", "/usr/storm/new", "read", "/etc/storm/storm.yaml", "mount", "/",
            NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "stat:/etc", h_val(&plain, "stat:/etc"));
    h_assert_val(&r, "stat:/usr", h_val(&plain, "stat:/usr"));
    _cleanup_free_ char *listed = xasprintf(" %s ", h_val(&r, "ls:/etc"));
    _cleanup_free_ char *plain_ls = xstrdup(h_val(&plain, "ls:/etc"));
    char *save = NULL;
    for (char *e = strtok_r(plain_ls, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
        _cleanup_free_ char *word = xasprintf(" %s ", e);
        cr_assert(strstr(listed, word), "/etc lost %s: %s", e, listed);
    }
    h_assert_val(&r, "cwd", "/usr/storm/work");
    h_assert_val(&r, "write:/usr/storm/workers/w1/out", "ok");
    h_assert_val(&r, "write:/etc/new", "EROFS");
    h_assert_val(&r, "mkdir:/usr/storm/new", "EROFS");
    h_assert_val(&r, "read:/etc/storm/storm.yaml", "1");
    struct h_mount root;
    cr_assert(h_get_mount(&r, "/", &root), "%s", r.out);
    cr_assert(strstr(root.super, "lowerdir=") && !strstr(root.super, "upperdir="),
              "the root has an upper layer: %s", root.super);
    cr_assert(h_exists(h_path("w1/out")));
}

/* More binds than one message of trees carries (MOUNTS_MAX_TREES, 64): the container opens
 * them itself, each as it would have been given, rw or ro, and makes its /dev itself. */
Test(run, binds_beyond_one_message_of_trees_are_mounted_all_the_same)
{
    enum { N = 70 };
    _cleanup_strv_ struct strv args = {0};
    strv_push(&args, "run");
    strv_push(&args, "--rm");
    for (int i = 0; i < N; i++) {
        char *src = h_path("src/%d", i);
        h_mkdirs(src, 0777);
        h_write_file(h_path("src/%d/f", i), i % 2 ? "odd" : "even!", 0644);
        strv_push(&args, "-v");
        _cleanup_free_ char *dest = xasprintf("/b/%d", i);
        strv_push_owned(&args, bind_arg(src, dest, i % 2 ? "ro" : NULL));
    }
    strv_push(&args, H_IMAGE);
    const char *probe[] = {"/probe",  "read",  "/b/0/f",  "read",  "/b/69/f",  "write",
                           "/b/68/x", "write", "/b/69/x", "write", "/dev/null"};
    for (size_t i = 0; i < ARRAY_SIZE(probe); i++)
        strv_push(&args, probe[i]);
    struct h_result r;
    h_berthv(&r, NULL, (const char *const *)args.v);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/b/0/f", "5");
    h_assert_val(&r, "read:/b/69/f", "3");
    h_assert_val(&r, "write:/b/68/x", "ok");
    h_assert_val(&r, "write:/b/69/x", "EROFS");
    h_assert_val(&r, "write:/dev/null", "ok");
    cr_assert(h_exists(h_path("src/68/x")), "the write did not reach the host");
    h_assert_no_mounts_left();
}
