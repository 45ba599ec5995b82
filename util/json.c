#include "util.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <yajl/yajl_parse.h>

static int refuse_depth(struct berr *err)
{
    return berr_set(err, BERR_FAILED,
                    "invalid JSON: the document nests too deeply (more than %d levels)",
                    JSON_MAX_DEPTH);
}

int json_check_depth(const char *text, size_t len, struct berr *err)
{
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\')
                i++; /* an escaped quote does not end the string */
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > JSON_MAX_DEPTH)
                return refuse_depth(err);
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            /* a stray closer is the parser's to report */
            depth--;
        }
    }
    return 0;
}

/* ---- the tree parser -------------------------------------------------------------------
 * yajl_tree_parse's tree (yajl_tree_free frees it), built here from yajl's own callbacks: the
 * nesting is counted as the document is read, not by a scan before, and a value that its
 * reader never looks at is not built. */

struct level {
    yajl_val v;   /* an array or object being filled */
    size_t cap;   /* room in its arrays */
    bool on_path; /* reached by the keys of the value not built */
};

struct tree_builder {
    struct level *levels;
    size_t depth, cap;
    char *key; /* an object member's name, until its value comes */
    yajl_val root;
    const char *const *skip; /* object keys from the root to the value kept as null */
    size_t skipping;         /* >0: this many levels deep inside that value */
    bool too_deep;
};

static void member_add(struct level *l, char *key, yajl_val v)
{
    size_t n = l->v->u.object.len;
    if (n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v->u.object.keys = xrealloc(l->v->u.object.keys, l->cap * sizeof(char *));
        l->v->u.object.values = xrealloc(l->v->u.object.values, l->cap * sizeof(yajl_val));
    }
    l->v->u.object.keys[n] = key;
    l->v->u.object.values[n] = v;
    l->v->u.object.len = n + 1;
}

static void element_add(struct level *l, yajl_val v)
{
    size_t n = l->v->u.array.len;
    if (n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v->u.array.values = xrealloc(l->v->u.array.values, l->cap * sizeof(yajl_val));
    }
    l->v->u.array.values[n] = v;
    l->v->u.array.len = n + 1;
}

static void value_add(struct tree_builder *b, yajl_val v)
{
    if (b->depth == 0) {
        b->root = v;
        return;
    }
    struct level *l = &b->levels[b->depth - 1];
    if (YAJL_IS_OBJECT(l->v))
        member_add(l, steal_ptr(&b->key), v);
    else
        element_add(l, v);
}

/* Whether the value about to be added lies on the skip path; *last: it is the value skipped. */
static bool next_on_path(const struct tree_builder *b, bool *last)
{
    *last = false;
    if (!b->skip)
        return false;
    size_t d = b->depth;
    if (d > 0 &&
        !(b->levels[d - 1].on_path && b->key && b->skip[d - 1] && !strcmp(b->key, b->skip[d - 1])))
        return false;
    *last = d > 0 && !b->skip[d];
    return true;
}

static yajl_val node_new(yajl_type type)
{
    yajl_val v = xcalloc(1, sizeof(*v));
    v->type = type;
    return v;
}

/* A scalar, or null in place of the value skipped (true: go on parsing). */
static int scalar_add(struct tree_builder *b, yajl_val v)
{
    bool last;
    if (next_on_path(b, &last) && last) {
        yajl_tree_free(v);
        v = node_new(yajl_t_null);
    }
    value_add(b, v);
    return 1;
}

static char *text_copy(const unsigned char *s, size_t len)
{
    char *t = xmalloc(len + 1);
    memcpy(t, s, len);
    t[len] = '\0';
    return t;
}

static int on_null(void *ctx)
{
    struct tree_builder *b = ctx;
    return b->skipping ? 1 : scalar_add(b, node_new(yajl_t_null));
}

static int on_bool(void *ctx, int value)
{
    struct tree_builder *b = ctx;
    return b->skipping ? 1 : scalar_add(b, node_new(value ? yajl_t_true : yajl_t_false));
}

/* As yajl_tree: an integer only if the whole text is one whose magnitude fits (so not
 * LLONG_MIN), a double if strtod takes it all; r keeps the text. */
static int on_number(void *ctx, const char *s, size_t len)
{
    struct tree_builder *b = ctx;
    if (b->skipping)
        return 1;
    yajl_val v = node_new(yajl_t_number);
    v->u.number.r = text_copy((const unsigned char *)s, len);
    const char *digits = v->u.number.r + (v->u.number.r[0] == '-');
    char *end;
    errno = 0;
    v->u.number.i = strtoll(v->u.number.r, &end, 10);
    if (errno == 0 && !*end && *digits >= '0' && *digits <= '9' && v->u.number.i != LLONG_MIN)
        v->u.number.flags |= YAJL_NUMBER_INT_VALID;
    errno = 0;
    v->u.number.d = strtod(v->u.number.r, &end);
    if (errno == 0 && !*end)
        v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
    return scalar_add(b, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct tree_builder *b = ctx;
    if (b->skipping)
        return 1;
    yajl_val v = node_new(yajl_t_string);
    v->u.string = text_copy(s, len);
    return scalar_add(b, v);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    struct tree_builder *b = ctx;
    if (!b->skipping)
        b->key = text_copy(s, len);
    return 1;
}

static int open_container(void *ctx, yajl_type type)
{
    struct tree_builder *b = ctx;
    if (b->depth + b->skipping >= JSON_MAX_DEPTH) {
        b->too_deep = true;
        return 0;
    }
    bool last = false;
    bool on_path = !b->skipping && next_on_path(b, &last);
    if (b->skipping || last) {
        if (last)
            value_add(b, node_new(yajl_t_null));
        b->skipping++;
        return 1;
    }
    yajl_val v = node_new(type);
    value_add(b, v);
    if (b->depth == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->levels = xrealloc(b->levels, b->cap * sizeof(*b->levels));
    }
    b->levels[b->depth++] = (struct level){.v = v, .on_path = on_path};
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, yajl_t_object);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, yajl_t_array);
}

static int on_end(void *ctx)
{
    struct tree_builder *b = ctx;
    if (b->skipping)
        b->skipping--;
    else
        b->depth--;
    return 1;
}

static const yajl_callbacks tree_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static yajl_status parse_all(yajl_handle h, const char *text, size_t len)
{
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    return st == yajl_status_ok ? yajl_complete_parse(h) : st;
}

/* yajl's message for the text h failed on */
static int yajl_error(yajl_handle h, const char *text, size_t len, struct berr *err)
{
    unsigned char *msg = yajl_get_error(h, 1, (const unsigned char *)text, len);
    /* yajl's message spans lines; keep the first, it names the problem. */
    int rc = berr_set(err, BERR_FAILED, "invalid JSON: %.*s", (int)strcspn((char *)msg, "\n"),
                      (char *)msg);
    yajl_free_error(h, msg);
    return rc;
}

static int parse_error(yajl_handle h, const struct tree_builder *b, const char *text, size_t len,
                       struct berr *err)
{
    return b->too_deep ? refuse_depth(err) : yajl_error(h, text, len, err);
}

int json_parse_except(const char *text, const char *const *skip, yajl_val *out, struct berr *err)
{
    struct tree_builder b = {.skip = skip && skip[0] ? skip : NULL};
    yajl_handle h = yajl_alloc(&tree_callbacks, NULL, &b);
    if (!h)
        abort();
    yajl_config(h, yajl_allow_comments, 1);
    size_t len = strlen(text);
    yajl_status st = parse_all(h, text, len);
    int rc = 0;
    if (st != yajl_status_ok) {
        rc = parse_error(h, &b, text, len, err);
        yajl_tree_free(b.root);
    } else {
        *out = b.root;
    }
    yajl_free(h);
    free(b.key);
    free(b.levels);
    return rc;
}

int json_check_object(const char *text, size_t len, struct berr *err)
{
    if (len == 0 || text[0] != '{')
        return berr_set(err, BERR_FAILED, "invalid JSON: not an object");
    if (json_check_depth(text, len, err) < 0)
        return -1;
    yajl_handle h = yajl_alloc(NULL, NULL, NULL);
    if (!h)
        abort();
    yajl_status st = parse_all(h, text, len);
    int rc = st == yajl_status_ok ? 0 : yajl_error(h, text, len, err);
    yajl_free(h);
    return rc;
}

int json_parse(const char *text, yajl_val *out, struct berr *err)
{
    return json_parse_except(text, NULL, out, err);
}

yajl_val json_get(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++) {
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    }
    return NULL;
}

const char *json_get_str(yajl_val obj, const char *key)
{
    yajl_val v = json_get(obj, key);
    return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

void json_get_strv(yajl_val obj, const char *key, struct strv *out)
{
    yajl_val v = json_get(obj, key);
    if (!YAJL_IS_ARRAY(v))
        return;
    for (size_t i = 0; i < v->u.array.len; i++) {
        if (YAJL_IS_STRING(v->u.array.values[i]))
            strv_push(out, v->u.array.values[i]->u.string);
    }
}

yajl_gen json_gen_new(bool pretty)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        abort();
    if (pretty) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "    ");
    }
    return g;
}

char *json_gen_take(yajl_gen g, size_t *len)
{
    const unsigned char *buf;
    size_t n;
    yajl_gen_get_buf(g, &buf, &n);
    char *out = xmalloc(n + 1);
    memcpy(out, buf, n);
    out[n] = '\0';
    yajl_gen_free(g);
    if (len)
        *len = n;
    return out;
}

int json_gen_parse(yajl_gen g, yajl_val *out, struct berr *err)
{
    _cleanup_free_ char *text = json_gen_take(g, NULL);
    return json_parse(text, out, err);
}

int json_gen_write_at(yajl_gen g, int dirfd, const char *name, struct berr *err)
{
    struct atomic_file f;
    if (atomic_file_open(dirfd, name, 0600, &f, err) < 0) {
        yajl_gen_free(g);
        return -1;
    }
    return json_gen_commit(g, &f, err);
}

int json_gen_commit(yajl_gen g, struct atomic_file *f, struct berr *err)
{
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    int rc = atomic_file_commit(f, buf, len, err);
    yajl_gen_free(g);
    return rc;
}

void json_str(yajl_gen g, const char *s)
{
    if (s)
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
    else
        yajl_gen_null(g);
}

void json_key_str(yajl_gen g, const char *key, const char *val)
{
    json_str(g, key);
    json_str(g, val);
}

void json_key_int(yajl_gen g, const char *key, long long val)
{
    json_str(g, key);
    yajl_gen_integer(g, val);
}

void json_key_bool(yajl_gen g, const char *key, bool val)
{
    json_str(g, key);
    yajl_gen_bool(g, val);
}

void json_key_strv(yajl_gen g, const char *key, const struct strv *val)
{
    json_str(g, key);
    if (!val) {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_array_open(g);
    for (size_t i = 0; i < val->n; i++)
        json_str(g, val->v[i]);
    yajl_gen_array_close(g);
}

void json_gen_value(yajl_gen g, yajl_val v)
{
    if (!v || YAJL_IS_NULL(v)) {
        yajl_gen_null(g);
    } else if (YAJL_IS_STRING(v)) {
        json_str(g, v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        yajl_gen_bool(g, YAJL_IS_TRUE(v));
    } else if (YAJL_IS_OBJECT(v)) {
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            json_str(g, v->u.object.keys[i]);
            json_gen_value(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
    } else if (YAJL_IS_ARRAY(v)) {
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            json_gen_value(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
    }
}

void json_gen_verbatim(yajl_gen g, const char *json, size_t len)
{
    /* yajl_gen_number prints its text as it is, with the separator and state of any value */
    yajl_gen_number(g, json, len);
}

void json_prefixed_array(yajl_gen g, const char *prefix, const struct strv *v)
{
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->n; i++) {
        _cleanup_free_ char *s = xasprintf("%s%s", prefix, v->v[i]);
        json_str(g, s);
    }
    yajl_gen_array_close(g);
}
