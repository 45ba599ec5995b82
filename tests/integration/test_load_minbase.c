/* berth load of a real distribution: a debootstrap --variant=minbase rootfs packed by
 * minbase-images.sh as a one-layer docker save archive and as a six-layer OCI layout (gzip,
 * zstd and plain layers, whiteouts, an opaque dir). From inside each container, every entry's
 * type, mode, owner, size, mtime and link count must be the rootfs's, and `dpkg --verify`
 * must find every packaged file's content intact. Skipped, with the reason, when no apt
 * mirror answers. Set MINBASE=DIR to reuse an existing rootfs. */
#include "harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

H_SUITE(minbase);

/* The archive builder lives beside this file; make runs the tests from the source tree. */
static char *builder_script(void)
{
    const char *src = getenv("BERTH_SRC");
    char *path = xasprintf("%s/tests/integration/minbase-images.sh", src && *src ? src : ".");
    cr_assert(h_exists(path), "%s is missing (set BERTH_SRC to the source tree)", path);
    return path;
}

static void build_archives(void)
{
    _cleanup_free_ char *script = builder_script();
    _cleanup_free_ char *cmd = xasprintf("cd '%s' && sh '%s'", h_tmp(), script);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct h_result r;
    struct h_opts slow = {.timeout_s = 840};
    h_execv(&r, &slow, argv);
    if (!strncmp(r.out, "skip: ", 6)) {
        _cleanup_free_ char *why = xstrdup(r.out + 6);
        why[strcspn(why, "\n")] = '\0';
        h_skip("no debootstrap minbase rootfs: %s", why);
    }
    cr_assert(r.status == 0 && strstr(r.out, "built\n"), "building the archives failed (%d):\n%s%s",
              r.status, r.out, r.err);
}

static void load(const struct h_opts *o, const char *file, const char *ref)
{
    _cleanup_free_ char *path = h_path("%s", file);
    struct h_result r;
    h_berth(&r, o, "load", "-i", path, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *want = xasprintf("Loaded image: %s\n", ref);
    cr_expect_str_eq(r.out, want, "%s", file);
}

/* Runs SCRIPT with sh inside a container of REF, the test's out/ dir at /out. */
static void run_inside(const struct h_opts *o, const char *ref, const char *script)
{
    _cleanup_free_ char *out = h_path("out");
    _cleanup_free_ char *vol = xasprintf("%s:/out", out);
    struct h_result r;
    h_berth(&r, o, "run", "--rm", "--net=none", "-v", vol, ref, "/bin/sh", "-c", script, NULL);
    h_assert_status(&r, 0);
}

static void expect_same_listing(const char *have_file, const char *want_file)
{
    _cleanup_free_ char *hp = h_path("out/%s", have_file), *wp = h_path("%s", want_file);
    _cleanup_free_ char *have = h_read_file(hp), *want = h_read_file(wp);
    cr_assert(have && want && *want, "%s or %s missing or empty", hp, wp);
    _cleanup_free_ char *diff = h_first_difference(have, want);
    cr_expect(!diff, "%s differs from the rootfs (%s), first difference:\n%s", have_file, want_file,
              diff);
}

/* Each line of dpkg --verify's report names a file under one of the allowed prefixes. */
static void expect_verify_only_under(const char *report_file, const char *const *allowed)
{
    _cleanup_free_ char *path = h_path("out/%s", report_file);
    _cleanup_free_ char *report = h_read_file(path);
    cr_assert(report, "%s missing", path);
    for (char *line = report; *line;) {
        size_t len = strcspn(line, "\n");
        bool ok = false;
        for (size_t i = 0; allowed && allowed[i]; i++)
            ok = ok || memmem(line, len, allowed[i], strlen(allowed[i]));
        cr_expect(ok, "dpkg --verify in the container: %.*s", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

static size_t layer_dirs(const char *root)
{
    _cleanup_free_ char *path = xasprintf("%s/layers", root);
    DIR *d = opendir(path);
    cr_assert(d, "%s", path);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strlen(e->d_name) == 64;
    closedir(d);
    return n;
}

Test(minbase, a_debootstrap_rootfs_loads_whole_as_one_and_as_six_layers, .timeout = 1200)
{
    build_archives();
    _cleanup_free_ char *root = h_path("root");
    struct h_opts o = {.root = root, .timeout_s = 300};
    load(&o, "one.tar", "it/minbase:one");
    load(&o, "six.tar", "it/minbase:six");
    cr_expect_eq(layer_dirs(root), 7, "one layer and six, each unpacked once");

    run_inside(&o, "it/minbase:one",
               "sh /out/manifest.sh / >/out/have1 && dpkg --verify >/out/verify1 2>&1");
    expect_same_listing("have1", "want1");
    expect_verify_only_under("verify1", NULL);

    /* a hardlink cut across two layers is two files: link counts are left out here */
    run_inside(&o, "it/minbase:six",
               "sh /out/manifest.sh / | awk '$1 == \"f\" { NF-- } 1' >/out/have6 && "
               "dpkg --verify >/out/verify6 2>&1; "
               "test ! -e /usr/share/doc && ls -A /etc/apt >/out/apt && cat /etc/apt/berth-test "
               ">>/out/apt");
    expect_same_listing("have6", "want6");
    static const char *const removed[] = {" /usr/share/doc", " /etc/apt/", NULL};
    expect_verify_only_under("verify6", removed);
    _cleanup_free_ char *apt_path = h_path("out/apt");
    _cleanup_free_ char *apt = h_read_file(apt_path);
    cr_expect_str_eq(apt ? apt : "", "berth-test\nopaque\n", "the opaque /etc/apt from inside");
}
