#include "image/internal.h"

#include <criterion/criterion.h>
#include <string.h>

static const struct {
    const char *in, *out;
} good[] = {
    {"busybox", "busybox:latest"},
    {"busybox:1.36", "busybox:1.36"},
    {"storm/rhel7", "storm/rhel7:latest"},
    {"xxx.xxx.com:8080/storm/storm/rhel7", "xxx.xxx.com:8080/storm/storm/rhel7:latest"},
    {"xxx.xxx.com:8080/storm/storm/rhel7:1.0", "xxx.xxx.com:8080/storm/storm/rhel7:1.0"},
    {"registry.example.com:8080/storm/storm/rhel7:latest",
     "registry.example.com:8080/storm/storm/rhel7:latest"},
    {"localhost/app", "localhost/app:latest"},
    {"localhost:5000/app:dev", "localhost:5000/app:dev"},
    {"host:5000/repo", "host:5000/repo:latest"},
    {"docker.io/library/busybox", "docker.io/library/busybox:latest"},
    {"Registry.Example.com/a/b", "Registry.Example.com/a/b:latest"},
    {"[::1]:5000/app", "[::1]:5000/app:latest"},
    {"a__b/c.d/e-f/g--h", "a__b/c.d/e-f/g--h:latest"},
    {"berth/worker", "berth/worker:latest"},
    {"app:v1.2_3-rc", "app:v1.2_3-rc"},
    {"app:_x", "app:_x"},
    {"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    {"busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
};

Test(image_ref, normalises_as_docker_without_adding_docker_io)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *out = NULL;
        struct berr err = {0};
        cr_assert_eq(image_normalize_ref(good[i].in, &out, &err), 0, "%s: %s", good[i].in, err.msg);
        cr_expect_str_eq(out, good[i].out, "%s", good[i].in);
        free(out);
    }
}

static const char *const bad[] = {
    "",
    ":latest",
    "busybox:",
    "busybox::1",
    "/busybox",
    "busybox/",
    "a//b",
    "a b",
    "-a",
    "a-",
    "a___b",
    "a.-b",
    "a/.b",
    "busybox:-x",
    "busybox:.x",
    "busybox:a/b",
    "busybox@sha256:abc",
    "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
    "busybox@",
    "host:port/app",
    "-host.com/app",
    "[::1/app",
    "ÿ",
};

Test(image_ref, rejects_invalid_references_as_usage_errors)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = NULL;
        struct berr err = {0};
        cr_expect_eq(image_normalize_ref(bad[i], &out, &err), -1, "'%s' accepted as %s", bad[i],
                     out ? out : "");
        cr_expect_eq(err.kind, BERR_USAGE, "'%s'", bad[i]);
        cr_expect(strncmp(err.msg, "invalid reference format", 24) == 0, "'%s': %s", bad[i],
                  err.msg);
        free(out);
    }
}

Test(image_ref, uppercase_repository_is_invalid_with_docker_text)
{
    char *out = NULL;
    struct berr err = {0};
    cr_assert_eq(image_normalize_ref("storm/RHEL7", &out, &err), -1);
    cr_expect_eq(err.kind, BERR_USAGE);
    cr_expect_str_eq(err.msg,
                     "invalid reference format: repository name (storm/RHEL7) must be lowercase");
    cr_assert_eq(image_normalize_ref("Busybox", &out, &err), -1);
    cr_expect_eq(err.kind, BERR_USAGE);
}

Test(image_ref, tag_is_limited_to_128_characters)
{
    char ref[200] = "app:";
    memset(ref + 4, 'a', 128);
    char *out = NULL;
    struct berr err = {0};
    cr_expect_eq(image_normalize_ref(ref, &out, &err), 0, "%s", err.msg);
    free(out);
    strcat(ref, "a");
    cr_expect_eq(image_normalize_ref(ref, &out, &err), -1);
}

Test(image_ref, name_is_limited_to_255_characters)
{
    char ref[300];
    memset(ref, 'a', 255);
    ref[255] = '\0';
    char *out = NULL;
    struct berr err = {0};
    cr_expect_eq(image_normalize_ref(ref, &out, &err), 0, "%s", err.msg);
    free(out);
    strcat(ref, "a");
    cr_expect_eq(image_normalize_ref(ref, &out, &err), -1);
    cr_expect_eq(err.kind, BERR_USAGE);
}

Test(image_ref, only_a_name_of_sha256_itself_is_refused_for_a_tag)
{
    static const char *const refused[] = {"sha256:abc",         "sha256:latest",
                                          "sha256@sha256:0",    "library/sha256:1",
                                          "docker.io/sha256:1", "docker.io/library/sha256:1"};
    static const char *const kept[] = {"sha256x:1",  "xsha256:1",          "sha256/a:1",
                                       "a/sha256:1", "host:5000/sha256:1", "sha256.io/a:1"};
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        struct berr err = {0};
        cr_expect_eq(image_check_tag_name(refused[i], &err), -1, "%s kept", refused[i]);
        cr_expect_eq(err.kind, BERR_USAGE);
    }
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
        struct berr err = {0};
        cr_expect_eq(image_check_tag_name(kept[i], &err), 0, "%s: %s", kept[i], err.msg);
    }
}

Test(image_ref, a_bare_image_id_is_not_a_name)
{
    char *out = NULL;
    struct berr err = {0};
    cr_expect_eq(
        image_normalize_ref("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                            &out, &err),
        -1);
    cr_expect_eq(err.kind, BERR_USAGE);
}
