/* berth import and berth images, each test with its own fresh data root. The tar is the one
 * the run-wide hook built for test/probe:latest. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
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
