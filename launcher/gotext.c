/* Go's texts of a JSON value: encoding/json (compact and indented) and fmt's %v, and the string
 * buffer they are written to. */
#include "template.h"

#include <stdarg.h>
#include <string.h>

/* ---- strbuf ---------------------------------------------------------------------------- */

void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
    strbuf_add(b, s, strlen(s));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    strbuf_add(b, s, (size_t)n);
    free(s);
}

void strbuf_free(struct strbuf *b)
{
    free(b->s);
    *b = (struct strbuf){0};
}

void strbuf_freep(struct strbuf *b)
{
    strbuf_free(b);
}

/* ---- Go's encoding/json text ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0; /* overlong, surrogate or beyond U+10FFFF */
    return n;
}

void tmpl_write_json_string(struct strbuf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    strbuf_add(b, "\"", 1);
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0) {
            strbuf_puts(b, "\\ufffd"); /* as Go replaces invalid UTF-8 */
            s++;
            continue;
        }
        if (*s == '"' || *s == '\\') {
            char esc[2] = {'\\', (char)*s};
            strbuf_add(b, esc, 2);
        } else if (*s == '\n') {
            strbuf_puts(b, "\\n");
        } else if (*s == '\r') {
            strbuf_puts(b, "\\r");
        } else if (*s == '\t') {
            strbuf_puts(b, "\\t");
        } else if (*s < 0x20) {
            strbuf_printf(b, "\\u%04x", *s);
        } else if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
            strbuf_printf(b, "\\u202%c", s[2] == 0xa8 ? '8' : '9');
        } else {
            strbuf_add(b, (const char *)s, n);
        }
        s += n;
    }
    strbuf_add(b, "\"", 1);
}

static void json_newline(struct strbuf *b, const char *indent, int depth)
{
    strbuf_add(b, "\n", 1);
    for (int i = 0; i < depth; i++)
        strbuf_puts(b, indent);
}

static void json_value(struct strbuf *b, yajl_val v, const char *indent, int depth)
{
    if (!v || YAJL_IS_NULL(v)) {
        strbuf_puts(b, "null");
    } else if (YAJL_IS_STRING(v)) {
        tmpl_write_json_string(b, v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        strbuf_puts(b, v->u.number.r);
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        strbuf_puts(b, YAJL_IS_TRUE(v) ? "true" : "false");
    } else if (YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v)) {
        bool obj = YAJL_IS_OBJECT(v);
        size_t n = obj ? v->u.object.len : v->u.array.len;
        strbuf_add(b, obj ? "{" : "[", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                strbuf_add(b, ",", 1);
            if (indent)
                json_newline(b, indent, depth + 1);
            if (obj) {
                tmpl_write_json_string(b, v->u.object.keys[i]);
                strbuf_puts(b, indent ? ": " : ":");
            }
            json_value(b, obj ? v->u.object.values[i] : v->u.array.values[i], indent, depth + 1);
        }
        if (indent && n)
            json_newline(b, indent, depth);
        strbuf_add(b, obj ? "}" : "]", 1);
    }
}

void tmpl_write_json(struct strbuf *out, yajl_val v, const char *indent)
{
    json_value(out, v, indent, 0);
}

/* ---- Go's fmt %v of a value decoded into interface{} -------------------------------------- */

struct kv {
    const char *key;
    yajl_val val;
};

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

void tmpl_write_go(struct strbuf *b, yajl_val v)
{
    if (!v || YAJL_IS_NULL(v)) {
        strbuf_puts(b, "<nil>");
    } else if (YAJL_IS_STRING(v)) {
        strbuf_puts(b, v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        strbuf_puts(b, v->u.number.r); /* json.Number keeps the text: 3, not 3e+00 */
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        strbuf_puts(b, YAJL_IS_TRUE(v) ? "true" : "false");
    } else if (YAJL_IS_ARRAY(v)) {
        strbuf_add(b, "[", 1);
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (i)
                strbuf_add(b, " ", 1);
            tmpl_write_go(b, v->u.array.values[i]);
        }
        strbuf_add(b, "]", 1);
    } else if (YAJL_IS_OBJECT(v)) {
        size_t n = v->u.object.len;
        _cleanup_free_ struct kv *kvs = xcalloc(n ? n : 1, sizeof(*kvs));
        for (size_t i = 0; i < n; i++)
            kvs[i] = (struct kv){v->u.object.keys[i], v->u.object.values[i]};
        qsort(kvs, n, sizeof(*kvs), kv_cmp); /* fmt sorts map keys */
        strbuf_puts(b, "map[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                strbuf_add(b, " ", 1);
            strbuf_puts(b, kvs[i].key);
            strbuf_add(b, ":", 1);
            tmpl_write_go(b, kvs[i].val);
        }
        strbuf_add(b, "]", 1);
    }
}
