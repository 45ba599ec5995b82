#include "util.h"

#include <string.h>

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
                return berr_set(err, BERR_FAILED,
                                "invalid JSON: the document nests too deeply (more than %d "
                                "levels)",
                                JSON_MAX_DEPTH);
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            /* a stray closer is the parser's to report */
            depth--;
        }
    }
    return 0;
}

int json_parse(const char *text, yajl_val *out, struct berr *err)
{
    if (json_check_depth(text, strlen(text), err) < 0)
        return -1;
    char ebuf[512] = "";
    yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
    if (!v) {
        /* yajl's message spans lines; keep the first, it names the problem. */
        ebuf[strcspn(ebuf, "\n")] = '\0';
        return berr_set(err, BERR_FAILED, "invalid JSON: %s", *ebuf ? ebuf : "parse error");
    }
    *out = v;
    return 0;
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
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    int rc = write_file_atomic_at(dirfd, name, buf, len, 0600, err);
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

void json_prefixed_array(yajl_gen g, const char *prefix, const struct strv *v)
{
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->n; i++) {
        _cleanup_free_ char *s = xasprintf("%s%s", prefix, v->v[i]);
        json_str(g, s);
    }
    yajl_gen_array_close(g);
}
