/* util/json.c: documents nested deeper than JSON_MAX_DEPTH are refused before yajl's tree
 * parser sees them (it, and freeing its tree, recurse once per level: millions of levels
 * overflowed the stack), and brackets inside strings do not count. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <string.h>

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
