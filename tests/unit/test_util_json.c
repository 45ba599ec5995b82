/* util/json.c: the tree parser builds yajl_tree_parse's tree from yajl's callbacks. It refuses
 * documents nested deeper than JSON_MAX_DEPTH as it reads them (building, and freeing the tree,
 * recurse once per level: millions of levels overflowed the stack), brackets inside strings do
 * not count, and json_parse_except keeps one value as a null without building it. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <yajl/yajl_tree.h>

/* depth arrays around inner */
static char *nested(size_t depth, const char *inner)
{
    size_t in = strlen(inner);
    char *t = xmalloc(2 * depth + in + 1);
    memset(t, '[', depth);
    memset(t + depth + in, ']', depth);
    memcpy(t + depth, inner, in);
    t[2 * depth + in] = '\0';
    return t;
}

/* arrays and {"":...} objects alternating, depth levels in all, 1 innermost */
static char *nested_objects(size_t depth)
{
    size_t cap = depth * 6 + 2, n = 0;
    char *t = xmalloc(cap);
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(t + n, i % 2 ? "{\"\":" : "[");
    t[n++] = '1';
    for (size_t i = depth; i-- > 0;)
        t[n++] = i % 2 ? '}' : ']';
    t[n] = '\0';
    return t;
}

static int parse(const char *text, struct berr *err)
{
    yajl_val v = NULL;
    int rc = json_parse(text, &v, err);
    if (rc == 0)
        yajl_tree_free(v);
    return rc;
}

Test(util_json, depth_at_the_limit_parses)
{
    _cleanup_free_ char *t = nested(JSON_MAX_DEPTH, "1");
    struct berr err = {0};
    cr_expect_eq(parse(t, &err), 0, "%s", err.msg);
    _cleanup_free_ char *o = nested_objects(JSON_MAX_DEPTH);
    cr_expect_eq(parse(o, &err), 0, "%s", err.msg);
}

Test(util_json, one_level_past_the_limit_is_refused)
{
    _cleanup_free_ char *t = nested(JSON_MAX_DEPTH + 1, "");
    struct berr err = {0};
    cr_assert_eq(parse(t, &err), -1);
    cr_expect(strstr(err.msg, "nests too deeply"), "%s", err.msg);
    _cleanup_free_ char *o = nested_objects(JSON_MAX_DEPTH + 1);
    cr_assert_eq(parse(o, &err), -1);
    cr_expect(strstr(err.msg, "nests too deeply"), "%s", err.msg);
}

Test(util_json, millions_of_levels_are_refused_without_a_crash)
{
    _cleanup_free_ char *t = nested(4u << 20, "");
    struct berr err = {0};
    cr_assert_eq(parse(t, &err), -1);
    cr_expect(strstr(err.msg, "nests too deeply"), "%s", err.msg);
}

Test(util_json, brackets_inside_strings_do_not_count)
{
    /* 2000 '[' inside a string, one with an escaped quote before it, at depth 2 */
    _cleanup_free_ char *s = xmalloc(2100);
    size_t n = (size_t)sprintf(s, "[{\"k\":\"\\\"");
    memset(s + n, '[', 2000);
    n += 2000;
    strcpy(s + n, "\\\\\"}]");
    struct berr err = {0};
    cr_expect_eq(parse(s, &err), 0, "%s", err.msg);
}

Test(util_json, shallow_siblings_do_not_add_up)
{
    /* many shallow siblings: depth never exceeds 2 however long the document */
    size_t n = 5000;
    _cleanup_free_ char *t = xmalloc(4 * n + 3);
    char *p = t;
    *p++ = '[';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s[]", i ? "," : "");
    *p++ = ']';
    *p = '\0';
    struct berr err = {0};
    cr_expect_eq(parse(t, &err), 0, "%s", err.msg);
}

/* ---- the same tree as yajl_tree_parse's ------------------------------------------------- */

static bool same_tree(yajl_val a, yajl_val b)
{
    if (!a || !b || a->type != b->type)
        return a == b;
    switch (a->type) {
    case yajl_t_string:
        return !strcmp(a->u.string, b->u.string);
    case yajl_t_number:
        return !strcmp(a->u.number.r, b->u.number.r) && a->u.number.flags == b->u.number.flags &&
               (!(a->u.number.flags & YAJL_NUMBER_INT_VALID) || a->u.number.i == b->u.number.i) &&
               (!(a->u.number.flags & YAJL_NUMBER_DOUBLE_VALID) || a->u.number.d == b->u.number.d);
    case yajl_t_object:
        if (a->u.object.len != b->u.object.len)
            return false;
        for (size_t i = 0; i < a->u.object.len; i++) {
            if (strcmp(a->u.object.keys[i], b->u.object.keys[i]) ||
                !same_tree(a->u.object.values[i], b->u.object.values[i]))
                return false;
        }
        return true;
    case yajl_t_array:
        if (a->u.array.len != b->u.array.len)
            return false;
        for (size_t i = 0; i < a->u.array.len; i++) {
            if (!same_tree(a->u.array.values[i], b->u.array.values[i]))
                return false;
        }
        return true;
    default:
        return true;
    }
}

static void expect_as_yajl(const char *text)
{
    char ebuf[512] = "";
    yajl_val want = yajl_tree_parse(text, ebuf, sizeof(ebuf));
    yajl_val got = NULL;
    struct berr err = {0};
    int rc = json_parse(text, &got, &err);
    if (!want) {
        cr_expect_eq(rc, -1, "yajl refuses %s, json_parse took it", text);
        ebuf[strcspn(ebuf, "\n")] = '\0';
        cr_expect(strstr(err.msg, ebuf), "%s: '%s' is not yajl's '%s'", text, err.msg, ebuf);
        return;
    }
    cr_expect_eq(rc, 0, "%s: %s", text, err.msg);
    cr_expect(rc < 0 || same_tree(want, got), "%s: not yajl_tree_parse's tree", text);
    yajl_tree_free(want);
    if (rc == 0)
        yajl_tree_free(got);
}

Test(util_json, the_tree_is_yajl_tree_parses_value_for_value)
{
    static const char *const docs[] = {
        "{}",
        "[]",
        "0",
        "\"top\"",
        "null",
        "[true,false,null]",
        "{\"a\":1,\"a\":2,\"b\":{\"c\":[1,[2,[3]]]}}",
        "[0,-0,1,-1,9223372036854775807,-9223372036854775808,9223372036854775808,"
        "-9223372036854775809,1.5,-2.25e3,1e400,1E-400,123456789012345678901234567890]",
        "[\"\",\"\\u00e9t\\u00e9\",\"tab\\there\",\"nul\\u0000after\",\"\\\"q\\\"\"]",
        "/* comment */ {\"k\": // line\n \"v\"}",
        "{\"linux\":{\"seccomp\":{\"syscalls\":[{\"names\":[\"read\"]}]}}}",
        "[1,2",
        "{\"a\" 1}",
        "{\"a\":1}}",
        "[1] [2]",
        "",
        "{\"a\":tru}",
        "[01]",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        expect_as_yajl(docs[i]);
    /* many members and elements: the arrays grow past their first room */
    _cleanup_free_ char *big = xmalloc(64 * 1000 + 3);
    char *p = big;
    *p++ = '{';
    for (int i = 0; i < 1000; i++)
        p += sprintf(p, "%s\"k%d\":[%d,\"s%d\",{}]", i ? "," : "", i, i, i);
    strcpy(p, "}");
    expect_as_yajl(big);
}

Test(util_json, the_fixtures_parse_as_yajl_parses_them)
{
    const char *dir = getenv("BERTH_UT_FIXTURES");
    _cleanup_free_ char *path =
        xasprintf("%s/storm-oci-config.json.example", dir ? dir : "tests/fixtures");
    _cleanup_free_ char *text = NULL;
    struct berr err = {0};
    cr_assert_eq(read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &err), 0,
                 "%s (run from the repository root)", err.msg);
    expect_as_yajl(text);
}

static const char *const skip_seccomp[] = {"linux", "seccomp", NULL};

Test(util_json, the_value_skipped_is_a_null_and_nothing_else_changes)
{
    const char *text = "{\"seccomp\":1,\"linux\":{\"namespaces\":[{\"type\":\"pid\"}],"
                       "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":"
                       "[{\"names\":[\"read\",\"write\"],\"args\":[[{\"a\":[]}]]}]},"
                       "\"after\":\"x\"},\"other\":{\"seccomp\":true}}";
    yajl_val doc = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse_except(text, skip_seccomp, &doc, &err), 0, "%s", err.msg);
    yajl_val linux = json_get(doc, "linux");
    yajl_val sc = json_get(linux, "seccomp");
    cr_expect(sc && YAJL_IS_NULL(sc), "linux.seccomp is kept, as a null");
    cr_expect_str_eq(json_get_str(linux, "after"), "x");
    cr_expect_eq(linux->u.object.len, 3);
    cr_expect(YAJL_IS_ARRAY(json_get(linux, "namespaces")));
    cr_expect(YAJL_IS_INTEGER(json_get(doc, "seccomp")), "the same key elsewhere is read");
    cr_expect(YAJL_IS_TRUE(json_get(json_get(doc, "other"), "seccomp")));
    yajl_tree_free(doc);
}

Test(util_json, a_skipped_scalar_is_a_null_and_a_path_through_an_array_skips_nothing)
{
    yajl_val doc = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse_except("{\"linux\":{\"seccomp\":\"text\"}}", skip_seccomp, &doc, &err),
                 0, "%s", err.msg);
    cr_expect(YAJL_IS_NULL(json_get(json_get(doc, "linux"), "seccomp")));
    yajl_tree_free(doc);
    cr_assert_eq(json_parse_except("{\"linux\":[{\"seccomp\":2}]}", skip_seccomp, &doc, &err), 0,
                 "%s", err.msg);
    yajl_val first = json_get(doc, "linux")->u.array.values[0];
    cr_expect(YAJL_IS_INTEGER(json_get(first, "seccomp")));
    yajl_tree_free(doc);
}

Test(util_json, a_skipped_value_still_counts_its_depth_and_must_parse)
{
    _cleanup_free_ char *deep = nested(JSON_MAX_DEPTH, "1");
    _cleanup_free_ char *text = xasprintf("{\"linux\":{\"seccomp\":%s}}", deep);
    yajl_val doc = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse_except(text, skip_seccomp, &doc, &err), -1);
    cr_expect(strstr(err.msg, "nests too deeply"), "%s", err.msg);
    cr_assert_eq(json_parse_except("{\"linux\":{\"seccomp\":[1,}}}", skip_seccomp, &doc, &err), -1);
    cr_expect(strstr(err.msg, "invalid JSON"), "%s", err.msg);
}

static int check_object(const char *text, struct berr *err)
{
    return json_check_object(text, strlen(text), err);
}

/* What json_gen_verbatim may copy into a document that other runtimes read: one object, as
 * strict as their parsers (no comments, no trailing value, UTF-8), no deeper than json_parse
 * takes. */
Test(util_json, only_one_strict_object_passes_the_check)
{
    struct berr err = {0};
    cr_expect_eq(check_object("{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"}", &err), 0, "%s",
                 err.msg);
    const char *bad[] = {"",          "[]",         "1",
                         " {}",       "{} {}",      "{\"a\":1",
                         "{/* c */}", "{\"a\":1,}", "{\"a\":\"\xff\"}",
                         "{\"a\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        cr_expect_eq(check_object(bad[i], &err), -1, "accepted: %s", bad[i]);
        cr_expect(strstr(err.msg, "invalid JSON") && !strchr(err.msg, '\n'), "%s", err.msg);
    }
    _cleanup_free_ char *deep = nested(JSON_MAX_DEPTH, "1");
    _cleanup_free_ char *too_deep = xasprintf("{\"a\":%s}", deep);
    cr_expect_eq(check_object(too_deep, &err), -1);
    cr_expect(strstr(err.msg, "nests too deeply"), "%s", err.msg);
}

/* The text goes in as a value among the generator's own, commas and all. */
Test(util_json, verbatim_text_is_one_value_of_the_document)
{
    const char *inner = "{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}";
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "before", "x");
    json_str(g, "seccomp");
    json_gen_verbatim(g, inner, strlen(inner));
    json_key_int(g, "after", 2);
    yajl_gen_map_close(g);
    _cleanup_free_ char *text = json_gen_take(g, NULL);
    cr_assert_str_eq(text, "{\"before\":\"x\",\"seccomp\":{\"names\":[\"read\",\"write\"],"
                           "\"action\":\"SCMP_ACT_ALLOW\"},\"after\":2}");
}
