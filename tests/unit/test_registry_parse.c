/* registry/'s pure parts: references → registry and repository, WWW-Authenticate challenges,
 * the platform chosen from an index, docker's config.json. */
#include "registry/registry.h"

#include <criterion/criterion.h>
#include <string.h>

static const struct {
    const char *in, *domain, *api, *repo, *tag, *digest, *full;
} refs[] = {
    {"busybox", "docker.io", "registry-1.docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest"},
    {"storm/rhel7:1.0", "docker.io", "registry-1.docker.io", "storm/rhel7", "1.0", NULL,
     "docker.io/storm/rhel7:1.0"},
    {"xxx.xxx.com:8080/storm/storm/rhel7:latest", "xxx.xxx.com:8080", "xxx.xxx.com:8080",
     "storm/storm/rhel7", "latest", NULL, "xxx.xxx.com:8080/storm/storm/rhel7:latest"},
    {"localhost/app", "localhost", "localhost", "app", "latest", NULL, "localhost/app:latest"},
    {"127.0.0.1:5000/a/b", "127.0.0.1:5000", "127.0.0.1:5000", "a/b", "latest", NULL,
     "127.0.0.1:5000/a/b:latest"},
    {"docker.io/library/busybox:1.36", "docker.io", "registry-1.docker.io", "library/busybox",
     "1.36", NULL, "docker.io/library/busybox:1.36"},
    {"index.docker.io/busybox", "docker.io", "registry-1.docker.io", "library/busybox", "latest",
     NULL, "docker.io/library/busybox:latest"},
    {"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io",
     "registry-1.docker.io", "library/busybox", NULL,
     "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
     "abcdef"},
};

Test(registry_parse, references_map_to_registry_and_repository)
{
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        struct registry_ref r;
        struct berr err = {0};
        cr_assert_eq(registry_parse_ref(refs[i].in, &r, &err), 0, "%s: %s", refs[i].in, err.msg);
        cr_expect_str_eq(r.domain, refs[i].domain, "%s", refs[i].in);
        cr_expect_str_eq(registry_api_host(r.domain), refs[i].api, "%s", refs[i].in);
        cr_expect_str_eq(r.repo, refs[i].repo, "%s", refs[i].in);
        if (refs[i].tag)
            cr_expect_str_eq(r.tag, refs[i].tag, "%s", refs[i].in);
        else
            cr_expect_null(r.tag, "%s", refs[i].in);
        if (refs[i].digest)
            cr_expect_str_eq(r.digest, refs[i].digest, "%s", refs[i].in);
        char *full = registry_full_name(&r);
        cr_expect_str_eq(full, refs[i].full);
        free(full);
        registry_ref_free(&r);
    }
}

Test(registry_parse, bad_references_are_usage_errors)
{
    const char *bad[] = {
        "Busybox", "a//b", "busybox:", "busybox@sha256:12", "/busybox", "busybox:-x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct registry_ref r;
        struct berr err = {0};
        cr_expect_eq(registry_parse_ref(bad[i], &r, &err), -1, "%s accepted", bad[i]);
        cr_expect_eq(err.kind, BERR_USAGE, "%s", bad[i]);
    }
}

Test(registry_parse, bearer_challenge_with_quotes_and_commas)
{
    struct registry_challenge c;
    struct berr err = {0};
    cr_assert_eq(registry_parse_challenge("Bearer realm=\"https://auth.docker.io/token\","
                                          "service=\"registry.docker.io\",scope=\"repository:"
                                          "library/busybox:pull,push\"",
                                          &c, &err),
                 0, "%s", err.msg);
    cr_expect_str_eq(c.scheme, "Bearer");
    cr_expect_str_eq(c.realm, "https://auth.docker.io/token");
    cr_expect_str_eq(c.service, "registry.docker.io");
    cr_expect_str_eq(c.scope, "repository:library/busybox:pull,push");
    registry_challenge_free(&c);
    /* unquoted values, spaces, unknown parameters and escapes */
    cr_assert_eq(registry_parse_challenge("  bearer realm=http://h/t , error=\"invalid_token\", "
                                          "service=\"a\\\"b\"",
                                          &c, &err),
                 0, "%s", err.msg);
    cr_expect_str_eq(c.realm, "http://h/t");
    cr_expect_str_eq(c.service, "a\"b");
    cr_expect_null(c.scope);
    registry_challenge_free(&c);
    cr_assert_eq(registry_parse_challenge("Basic realm=\"Registry Realm\"", &c, &err), 0);
    cr_expect_str_eq(c.scheme, "Basic");
    cr_expect_str_eq(c.realm, "Registry Realm");
    registry_challenge_free(&c);
}

Test(registry_parse, bad_challenges_are_errors)
{
    const char *bad[] = {"", "Bearer service=\"x\"", "Bearer realm=\"open", "Bearer realm"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct registry_challenge c;
        struct berr err = {0};
        cr_expect_eq(registry_parse_challenge(bad[i], &c, &err), -1, "\"%s\" accepted", bad[i]);
    }
}

static yajl_val parse(const char *text)
{
    yajl_val v = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse(text, &v, &err), 0, "%s", err.msg);
    return v;
}

static const char index_json[] =
    "[{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
    " {\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
    " {\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
    " {\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    " {\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
    " {\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}}]";

Test(registry_parse, the_platform_is_chosen_as_docker_does)
{
    yajl_val m = parse(index_json);
    struct registry_platform p;
    struct berr err = {0};
    static const struct {
        const char *platform;
        ssize_t want;
    } cases[] = {
        {"linux/amd64", 3}, {"linux/arm/v7", 1},   {"linux/arm/v6", 0},  {"linux/arm64", 4},
        {"linux/s390x", 5}, {"linux/ppc64le", -1}, {"windows/amd64", 2}, {"linux/arm/v5", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(registry_parse_platform(cases[i].platform, &p, &err), 0, "%s", err.msg);
        cr_expect_eq(registry_pick_manifest(m, &p), cases[i].want, "%s", cases[i].platform);
    }
    /* arm64 entries without a variant are v8's */
    yajl_val plain = parse("[{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]");
    cr_assert_eq(registry_parse_platform("linux/arm64/v8", &p, &err), 0);
    cr_expect_eq(registry_pick_manifest(plain, &p), 0);
    yajl_tree_free(plain);
    yajl_tree_free(m);
    cr_expect_eq(registry_parse_platform("amd64", &p, &err), -1);
    cr_expect_eq(registry_parse_platform("linux/", &p, &err), -1);
}

Test(registry_parse, the_host_platform_is_linux_with_gos_names)
{
    struct registry_platform p;
    registry_host_platform(&p);
    cr_expect_str_eq(p.os, "linux");
#if defined(__x86_64__)
    cr_expect_str_eq(p.arch, "amd64");
    cr_expect_str_eq(p.variant, "");
#elif defined(__aarch64__)
    cr_expect_str_eq(p.arch, "arm64");
#endif
}

Test(registry_parse, config_json_auths_helpers_and_stores)
{
    struct registry_auth a;
    char *helper;
    struct berr err = {0};
    /* docker's own login of docker.io, and a https://host/ key */
    const char *cfg = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"},"
                      "\"https://reg.example:5000/v2/\":{\"auth\":\"YWxpY2U6czNjcjN0Og==\"},"
                      "\"other:1\":{\"username\":\"bob\",\"password\":\"pw\"}},"
                      "\"credHelpers\":{\"gcr.io\":\"gcloud\"},\"credsStore\":\"pass\"}";
    cr_assert_eq(registry_auths_lookup(cfg, "docker.io", &a, &helper, &err), 0, "%s", err.msg);
    cr_expect_str_eq(a.user, "u");
    cr_expect_str_eq(a.pass, "p");
    cr_expect_null(helper);
    registry_auth_free(&a);
    cr_assert_eq(registry_auths_lookup(cfg, "reg.example:5000", &a, &helper, &err), 0);
    cr_expect_str_eq(a.user, "alice");
    cr_expect_str_eq(a.pass, "s3cr3t:"); /* only the first ':' splits */
    registry_auth_free(&a);
    cr_assert_eq(registry_auths_lookup(cfg, "other:1", &a, &helper, &err), 0);
    cr_expect_str_eq(a.user, "bob");
    registry_auth_free(&a);
    cr_assert_eq(registry_auths_lookup(cfg, "gcr.io", &a, &helper, &err), 0);
    cr_expect_null(a.user);
    cr_expect_str_eq(helper, "gcloud");
    free(helper);
    cr_assert_eq(registry_auths_lookup(cfg, "nowhere:1", &a, &helper, &err), 0);
    cr_expect_str_eq(helper, "pass"); /* credsStore for the rest */
    free(helper);
    cr_expect_eq(
        registry_auths_lookup("{\"auths\":{\"h\":{\"auth\":\"!!\"}}}", "h", &a, &helper, &err), -1);
    cr_expect_eq(registry_auths_lookup("{\"auths\":{\"h\":{\"auth\":\"bm9jb2xvbg==\"}}}", "h", &a,
                                       &helper, &err),
                 -1, "an auth without ':' accepted");
}

Test(registry_parse, login_and_logout_keep_the_rest_of_config_json)
{
    char *out = NULL;
    struct berr err = {0};
    const char *in = "{\"auths\":{\"a:1\":{\"auth\":\"eDp5\"}},\"psFormat\":\"table {{.ID}}\"}";
    cr_assert_eq(registry_auths_update(in, "docker.io", "u", "p", &out, &err), 0, "%s", err.msg);
    yajl_val v = parse(out);
    cr_expect_str_eq(
        json_get_str(json_get(json_get(v, "auths"), "https://index.docker.io/v1/"), "auth"),
        "dTpw");
    cr_expect_str_eq(json_get_str(json_get(json_get(v, "auths"), "a:1"), "auth"), "eDp5");
    cr_expect_str_eq(json_get_str(v, "psFormat"), "table {{.ID}}");
    yajl_tree_free(v);
    char *out2 = NULL;
    cr_assert_eq(registry_auths_update(out, "a:1", NULL, NULL, &out2, &err), 0);
    v = parse(out2);
    cr_expect_null(json_get(json_get(v, "auths"), "a:1"));
    cr_expect_not_null(json_get(json_get(v, "auths"), "https://index.docker.io/v1/"));
    yajl_tree_free(v);
    free(out);
    free(out2);
    /* no file yet */
    cr_assert_eq(registry_auths_update(NULL, "h:2", "u", "p", &out, &err), 0);
    cr_expect(strstr(out, "\"h:2\""), "%s", out);
    free(out);
}

/* where login keeps the secret: credHelpers for the registry, else credsStore, else the file;
 * and whether an auths key (empty with a helper) says a login was made */
Test(registry_parse, login_store_is_the_helper_docker_would_use)
{
    char *helper;
    bool has;
    struct berr err = {0};
    const char *cfg = "{\"auths\":{\"https://reg.example:5000\":{}},"
                      "\"credHelpers\":{\"gcr.io\":\"gcloud\"},\"credsStore\":\"pass\"}";
    cr_assert_eq(registry_store_helper(cfg, "gcr.io", &helper, &has, &err), 0, "%s", err.msg);
    cr_expect_str_eq(helper, "gcloud");
    cr_expect_not(has);
    free(helper);
    cr_assert_eq(registry_store_helper(cfg, "reg.example:5000", &helper, &has, &err), 0);
    cr_expect_str_eq(helper, "pass");
    cr_expect(has, "the empty auths entry was not seen");
    free(helper);
    cr_assert_eq(registry_store_helper("{\"auths\":{\"h:1\":{\"auth\":\"eDp5\"}}}", "h:1", &helper,
                                       &has, &err),
                 0);
    cr_expect_null(helper);
    cr_expect(has);
    cr_assert_eq(registry_store_helper(NULL, "h:1", &helper, &has, &err), 0);
    cr_expect_null(helper);
    cr_expect_not(has);
    cr_expect_eq(registry_store_helper("[", "h:1", &helper, &has, &err), -1);
    /* with a helper the entry is empty: no secret in the file */
    char *out = NULL;
    cr_assert_eq(registry_auths_update(cfg, "h:2", "u", NULL, &out, &err), 0, "%s", err.msg);
    yajl_val v = parse(out);
    yajl_val e = json_get(json_get(v, "auths"), "h:2");
    cr_expect(YAJL_IS_OBJECT(e) && e->u.object.len == 0, "%s", out);
    cr_expect_str_eq(json_get_str(v, "credsStore"), "pass");
    yajl_tree_free(v);
    free(out);
}

Test(registry_parse, config_path_follows_docker_config_then_home)
{
    char *p = registry_config_path("/x/dc", "/home/u", 0);
    cr_expect_str_eq(p, "/x/dc/config.json");
    free(p);
    p = registry_config_path(NULL, "/home/u", 0);
    cr_expect_str_eq(p, "/home/u/.docker/config.json");
    free(p);
    p = registry_config_path("", "", 0);
    cr_expect_str_eq(p, "/root/.docker/config.json");
    free(p);
}
