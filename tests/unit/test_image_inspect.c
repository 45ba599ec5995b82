/* image_inspect without root: docker's Config (the fields docker always prints, null or empty
 * when unset; omitempty ones only when set), Created as Go prints it, RepoTags of every tag,
 * RepoDigests only with a recorded manifest, RootFS from the diff-ids. */
#include "image_load_util.h"

static struct tstore ts;

static void setup(void)
{
    tstore_open(&ts);
}

static void teardown(void)
{
    tstore_close(&ts);
}

TestSuite(image_inspect, .init = setup, .fini = teardown);

static yajl_val inspect_loaded(const char *config_body, const char *also_tag)
{
    static const struct tentry files[] = {{"f", 'f', "x", 0, 0, 0, 0, 0, NULL, NULL}};
    struct fx_layer l = {.filter = ARCHIVE_FILTER_NONE};
    l.tar = tar_build(files, 1, &l.len);
    struct fx x = {0};
    fx_image(&x, FX_LEGACY, "t/i:1", &l, 1, config_body);
    size_t len;
    char *tar = fx_tar(&x, ARCHIVE_FILTER_NONE, &len);
    struct strv msgs = {0};
    struct berr err = {0};
    cr_assert_eq(fx_load_bytes(&ts.s, tar, len, false, &msgs, &err), 0, "%s", err.msg);
    if (also_tag)
        cr_assert_eq(image_tag(&ts.s, "t/i:1", also_tag, &err), 0, "%s", err.msg);
    yajl_val out = NULL;
    cr_assert_eq(image_inspect(&ts.s, "t/i:1", &out, &err), 0, "%s", err.msg);
    char hex[65];
    sha256_hex(l.tar, l.len, hex);
    yajl_val layers = json_get(json_get(out, "RootFS"), "Layers");
    cr_assert(YAJL_IS_ARRAY(layers) && layers->u.array.len == 1);
    cr_assert_str_eq(YAJL_GET_STRING(layers->u.array.values[0]) + 7, hex);
    strv_free(&msgs);
    free(tar);
    fx_free(&x);
    free(l.tar);
    return out;
}

Test(image_inspect, config_has_dockers_fields_null_when_unset)
{
    yajl_val o =
        inspect_loaded("\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],\"StopSignal\":\"SIGINT\"", NULL);
    yajl_val c = json_get(o, "Config");
    static const char *const keys[] = {
        "Hostname", "Domainname", "User",       "AttachStdin", "AttachStdout", "AttachStderr",
        "Tty",      "OpenStdin",  "StdinOnce",  "Env",         "Cmd",          "Image",
        "Volumes",  "WorkingDir", "Entrypoint", "OnBuild",     "Labels",       "StopSignal"};
    cr_assert(YAJL_IS_OBJECT(c));
    cr_assert_eq(c->u.object.len, ARRAY_SIZE(keys));
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        cr_assert_str_eq(c->u.object.keys[i], keys[i]);
    cr_assert(YAJL_IS_NULL(json_get(c, "Entrypoint")) && YAJL_IS_NULL(json_get(c, "Labels")));
    cr_assert_str_eq(json_get_str(c, "StopSignal"), "SIGINT");
    cr_assert_str_eq(json_get_str(c, "User"), "");
    cr_assert(YAJL_IS_FALSE(json_get(c, "Tty")));
    cr_assert_str_eq(json_get_str(o, "Created"), "2026-01-02T03:04:05Z");
    cr_assert_str_eq(json_get_str(o, "Parent"), "");
    cr_assert_str_eq(json_get_str(json_get(o, "Metadata"), "LastTagTime"), "0001-01-01T00:00:00Z");
    yajl_tree_free(o);
}

Test(image_inspect, every_tag_is_listed_and_no_digest_without_a_manifest)
{
    yajl_val o = inspect_loaded("", "other/name:2");
    yajl_val tags = json_get(o, "RepoTags");
    cr_assert(YAJL_IS_ARRAY(tags) && tags->u.array.len == 2);
    cr_assert_str_eq(YAJL_GET_STRING(tags->u.array.values[0]), "t/i:1");
    cr_assert_str_eq(YAJL_GET_STRING(tags->u.array.values[1]), "other/name:2");
    yajl_val digests = json_get(o, "RepoDigests");
    cr_assert(YAJL_IS_ARRAY(digests) && digests->u.array.len == 0);
    cr_assert(str_has_prefix(json_get_str(o, "Id"), "sha256:"));
    yajl_tree_free(o);
}

Test(image_inspect, unknown_image_is_not_found)
{
    yajl_val out = NULL;
    struct berr err = {0};
    cr_assert_eq(image_inspect(&ts.s, "nosuch:1", &out, &err), -1);
    cr_assert_eq(err.kind, BERR_NOT_FOUND);
}
