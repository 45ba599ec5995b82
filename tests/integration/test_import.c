/* berth import and berth images, each test with its own fresh data root. The tar is the one
 * the run-wide hook built for test/probe:latest. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

H_SUITE(import);

static char *probe_tar(void)
{
    return xasprintf("%s/probe-image.tar", getenv("BERTH_IT_DATA"));
}

static bool is_image_id(const char *s)
{
    return strncmp(s, "sha256:", 7) == 0 && strspn(s + 7, "0123456789abcdef") == 64 &&
           (s[71] == '\0' || (s[71] == '\n' && s[72] == '\0'));
}

Test(import, import_prints_the_image_id)
{
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "import", probe_tar(), "it/imported:v1", NULL);
    h_assert_status(&r, 0);
    cr_assert(is_image_id(r.out), "stdout \"%s\", want sha256:<64 hex>", r.out);
}

Test(import, import_reads_stdin_for_dash)
{
    struct h_opts o = {.root = h_path("root"), .input_file = probe_tar()};
    struct h_result r;
    h_berth(&r, &o, "import", "-", "it/stdin:latest", NULL);
    h_assert_status(&r, 0);
    cr_assert(is_image_id(r.out), "stdout \"%s\"", r.out);
}

Test(import, same_tar_twice_is_unpacked_once)
{
    struct h_opts o = {.root = h_path("root")};
    struct h_result a, b;
    h_berth(&a, &o, "import", probe_tar(), "it/one:latest", NULL);
    h_assert_status(&a, 0);
    h_berth(&b, &o, "import", probe_tar(), "it/two:latest", NULL);
    h_assert_status(&b, 0);
    /* the image ids differ (docker import stamps "created" into the config); the layer not */
    _cleanup_free_ char *layers = xasprintf("%s/layers", o.root);
    DIR *d = opendir(layers);
    cr_assert(d, "%s: %s", layers, strerror(errno));
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.' && e->d_type == DT_DIR;
    closedir(d);
    cr_assert_eq(n, 1, "%zu layer dirs for one tar", n);
}

Test(import, images_lists_the_imported_image)
{
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "import", probe_tar(), "it/listed:v2", NULL);
    h_assert_status(&r, 0);
    char id12[13];
    snprintf(id12, sizeof(id12), "%s", r.out + 7);
    h_berth(&r, &o, "images", NULL);
    h_assert_status(&r, 0);
    cr_assert(strstr(r.out, "REPOSITORY") && strstr(r.out, "it/listed") && strstr(r.out, "v2") &&
                  strstr(r.out, id12),
              "images:\n%s", r.out);
    h_berth(&r, &o, "images", "-q", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *want = xasprintf("%s\n", id12);
    cr_assert_str_eq(r.out, want);
}

/* docker's images --format: a Go template per image (what the bash completion reads image
 * references with), and "table" for the header and aligned columns */
Test(import, images_format_template_and_table)
{
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "import", probe_tar(), "it/fmt:v3", NULL);
    h_assert_status(&r, 0);
    char id12[13];
    snprintf(id12, sizeof(id12), "%s", r.out + 7);
    h_berth(&r, &o, "images", "--format", "{{.Repository}}:{{.Tag}}", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "it/fmt:v3\n");
    h_berth(&r, &o, "images", "--format", "{{.ID}} {{.Digest}} {{.Size}}", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *prefix = xasprintf("%s <none> ", id12);
    cr_assert(str_has_prefix(r.out, prefix), "%s", r.out);
    h_berth(&r, &o, "images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.CreatedSince}}",
            NULL);
    h_assert_status(&r, 0);
    cr_assert(str_has_prefix(r.out, "REPOSITORY   TAG       CREATED\nit/fmt       v3        "),
              "%s", r.out);
    cr_assert(strstr(r.out, " ago\n"), "%s", r.out);
    h_berth(&r, &o, "images", "--format", "{{.ID", NULL);
    h_assert_status(&r, 1);
    cr_assert(str_has_prefix(r.err, "Template parsing error: "), "%s", r.err);
}

Test(import, imported_image_runs)
{
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "import", probe_tar(), "it/runs:latest", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "run", "--rm", "it/runs", "/probe", "pid", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "pid", "1");
}

/* ---- the store is root's alone ------------------------------------------------------------ */

/* The one layer directory of a store that holds one import. */
static char *only_layer(const char *root)
{
    _cleanup_free_ char *layers = xasprintf("%s/layers", root);
    DIR *d = opendir(layers);
    cr_assert(d, "%s: %s", layers, strerror(errno));
    char *found = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.' && e->d_type == DT_DIR) {
            cr_assert(!found, "more than one layer under %s", layers);
            found = xasprintf("%s/%s", layers, e->d_name);
        }
    }
    closedir(d);
    cr_assert(found, "no layer under %s", layers);
    return found;
}

static void report_step(const char *step, int ok_or_errno)
{
    printf("%s=%s\n", step, ok_or_errno ? strerrorname_np(ok_or_errno) : "ok");
    fflush(stdout);
}

/* What uid and gid 65534 get from the store: "key=value" lines (list, stat, open, exec), and
 * the probe's own lines should the setuid file run. */
static void as_nobody(struct h_result *r, const char *root, const char *layer)
{
    _cleanup_free_ char *suid = xasprintf("%s/probe-suid", layer);
    _cleanup_free_ char *dev = xasprintf("%s/hostdev", layer);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
            setresuid(65534, 65534, 65534) < 0)
            _exit(100);
        DIR *d = opendir(root);
        report_step("list", d ? 0 : errno);
        struct stat st;
        report_step("stat", stat(suid, &st) == 0 ? 0 : errno);
        int fd = open(dev, O_RDWR | O_CLOEXEC);
        report_step("open", fd >= 0 ? 0 : errno);
        execl(suid, suid, "id", (char *)NULL);
        report_step("exec", errno);
        _exit(0);
    }
    close(p[1]);
    _cleanup_free_ char *out = NULL;
    size_t len = 0;
    struct berr err;
    cr_assert_eq(read_fd_all(p[0], 1 << 20, &out, &len, &err), 0);
    close(p[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x\n%s", status, out);
    *r = (struct h_result){.out = xstrdup(out), .out_len = len, .err = xstrdup("")};
}

static void assert_store_unreachable(const char *root)
{
    _cleanup_free_ char *layer = only_layer(root);
    struct h_result r;
    as_nobody(&r, root, layer);
    h_assert_val(&r, "list", "EACCES");
    h_assert_val(&r, "stat", "EACCES");
    h_assert_val(&r, "open", "EACCES");
    h_assert_val(&r, "exec", "EACCES");
    cr_assert(!h_get(&r, "euid"), "the layer's setuid file ran:\n%s", r.out);
}

/* An image with the test image's setuid-root /probe-suid and a 0666 char device 1:3, in a
 * data root whose parents anyone may cross: only the store's own modes stand in the way. */
static char *store_with_setuid_and_device(void)
{
    cr_assert_eq(chmod(h_tmp(), 0711), 0);
    char *extra = h_path("extra");
    h_mkdirs(extra, 0755);
    cr_assert_eq(mknod(h_path("extra/hostdev"), S_IFCHR | 0666, makedev(1, 3)), 0);
    cr_assert_eq(chmod(h_path("extra/hostdev"), 0666), 0); /* past the umask */
    char *root = h_path("root");
    h_import_variant(root, "suid-dev:latest", extra);
    return root;
}

Test(import, layers_are_out_of_reach_of_other_host_users)
{
    _cleanup_free_ char *root = store_with_setuid_and_device();
    assert_store_unreachable(root);
    /* and the setuid file still works where it belongs, inside a container */
    struct h_opts o = {.root = root};
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "--user", "1000:1000", "suid-dev:latest", "/probe-suid", "id",
            NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "euid", "0");
}

Test(import, a_store_left_open_by_an_older_berth_is_closed_when_opened)
{
    _cleanup_free_ char *root = store_with_setuid_and_device();
    /* the modes older berth gave the store and the layer dirs */
    _cleanup_free_ char *layers = xasprintf("%s/layers", root);
    cr_assert_eq(chmod(root, 0711), 0);
    cr_assert_eq(chmod(layers, 0711), 0);
    struct h_opts o = {.root = root};
    struct h_result r;
    h_berth(&r, &o, "images", "-q", NULL);
    h_assert_status(&r, 0);
    assert_store_unreachable(root);
}
