/* Positions in a profile's text. Messages about a profile name the line and column of what is
 * wrong: a syntax error where the streaming parser stopped, a bad value where it starts (found
 * by parsing the text again, only once something is wrong, so a good profile pays nothing). */
#include "seccomp/internal.h"

#include <stdint.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* Storm ships its profile with a licence in '#' lines above the JSON: blank those (and the
 * empty lines between them) so that offsets still count the file's own lines. */
char *blank_comment_lines(const char *text, size_t len)
{
    char *t = xmalloc(len + 1);
    memcpy(t, text, len);
    t[len] = '\0';
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r'))
            j++;
        if (j < len && t[j] != '#' && t[j] != '\n')
            break;
        while (i < len && t[i] != '\n')
            t[i++] = ' ';
        i++;
    }
    return t;
}

void line_col(const char *t, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && t[i]; i++) {
        if (t[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* yajl_tree gives no position, so the syntax is checked first by the streaming parser, whose
 * byte count at the error is the offset. Comments are refused, as Go's encoding/json does. */
int check_json_syntax(const char *name, const char *t, size_t len, struct berr *err)
{
    yajl_handle h = yajl_alloc(NULL, NULL, NULL);
    if (!h)
        return berr_set(err, BERR_FAILED, "yajl_alloc");
    yajl_status st = yajl_parse(h, (const unsigned char *)t, len);
    size_t off = yajl_get_bytes_consumed(h);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        off = len;
    }
    int rc = 0;
    if (st != yajl_status_ok) {
        unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)t, len);
        const char *m = (const char *)msg;
        if (str_has_prefix(m, "parse error: "))
            m += strlen("parse error: ");
        if (strlen(t) < len && off > strlen(t))
            off = strlen(t); /* a NUL byte stops the lexer there */
        /* a lexical error stops just past the bad character; a parse error somewhere in the
         * offending token: back to its start */
        if (str_has_prefix(m, "lexical error") && off > 0)
            off--;
        else if (!strstr(m, "premature EOF") && off > 0 && off <= len &&
                 strchr("[]{}:,", t[off - 1]))
            off--;
        else if (!strstr(m, "premature EOF"))
            while (off > 0 && off <= len && !strchr(" \t\r\n[]{}:,", t[off - 1]))
                off--;
        size_t line, col;
        line_col(t, off, &line, &col);
        char *nl = strchr(m, '\n');
        if (nl)
            *nl = '\0';
        rc = berr_set(err, BERR_USAGE, "seccomp profile %s: line %zu, column %zu: %s", name, line,
                      col, m);
        yajl_free_error(h, msg);
    }
    yajl_free(h);
    return rc;
}

/* ---- the value at a JSON path ---------------------------------------------------------------- */

struct frame {
    bool array;
    size_t index;    /* next element's, in an array */
    size_t path_len; /* the container's own path is path[0..path_len) */
};

struct locator {
    yajl_handle h;
    const char *t;
    size_t len;
    const char *want;
    size_t want_len;
    struct frame *stack;
    size_t depth, cap;
    char *path; /* the current value's path, built as the profile code spells paths */
    size_t path_len, path_cap;
    size_t prev_end; /* just past the previous token */
    size_t found;    /* SIZE_MAX until the value is seen */
    size_t best_len; /* the deepest enclosing value seen so far, for a missing key */
    size_t best_off;
};

static void path_set(struct locator *l, size_t keep, const char *sep, const char *s, size_t n)
{
    size_t need = keep + strlen(sep) + n + 1;
    if (need > l->path_cap) {
        l->path_cap = need * 2;
        l->path = xrealloc(l->path, l->path_cap);
    }
    l->path_len = keep;
    memcpy(l->path + l->path_len, sep, strlen(sep));
    l->path_len += strlen(sep);
    memcpy(l->path + l->path_len, s, n);
    l->path_len += n;
    l->path[l->path_len] = '\0';
}

/* Only whitespace and one ':' or ',' lie between two tokens of valid JSON. */
static size_t next_token(const struct locator *l, size_t off)
{
    while (off < l->len && strchr(" \t\r\n:,", l->t[off]))
        off++;
    return off;
}

/* A value starts: name it (arrays count their elements here), and stop at the one wanted. */
static int value_starts(struct locator *l)
{
    struct frame *f = l->depth ? &l->stack[l->depth - 1] : NULL;
    if (f && f->array) {
        char idx[32];
        int n = snprintf(idx, sizeof(idx), "[%zu]", f->index++);
        path_set(l, f->path_len, "", idx, (size_t)n);
    }
    size_t start = next_token(l, l->prev_end);
    if (l->path_len == l->want_len && !memcmp(l->path, l->want, l->want_len)) {
        l->found = start;
        return 0; /* done: cancel the parse */
    }
    bool encloses = l->path_len < l->want_len && !memcmp(l->path, l->want, l->path_len) &&
                    (l->path_len == 0 || strchr(".[", l->want[l->path_len]));
    if (encloses && (l->best_off == SIZE_MAX || l->path_len > l->best_len)) {
        l->best_len = l->path_len;
        l->best_off = start;
    }
    return 1;
}

static int token_end(struct locator *l, int go_on)
{
    l->prev_end = yajl_get_bytes_consumed(l->h);
    return go_on;
}

static int on_scalar(void *ctx)
{
    struct locator *l = ctx;
    return token_end(l, value_starts(l));
}

static int on_null(void *ctx)
{
    return on_scalar(ctx);
}

static int on_bool(void *ctx, int b)
{
    (void)b;
    return on_scalar(ctx);
}

static int on_number(void *ctx, const char *s, size_t n)
{
    (void)s, (void)n;
    return on_scalar(ctx);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    (void)s, (void)n;
    return on_scalar(ctx);
}

static int open_container(void *ctx, bool array)
{
    struct locator *l = ctx;
    if (!value_starts(l))
        return token_end(l, 0);
    if (l->depth == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->stack = xrealloc(l->stack, l->cap * sizeof(*l->stack));
    }
    l->stack[l->depth++] = (struct frame){.array = array, .path_len = l->path_len};
    return token_end(l, 1);
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, false);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, true);
}

static int on_end(void *ctx)
{
    struct locator *l = ctx;
    l->depth--;
    return token_end(l, 1);
}

static int on_key(void *ctx, const unsigned char *key, size_t n)
{
    struct locator *l = ctx;
    const struct frame *f = &l->stack[l->depth - 1];
    path_set(l, f->path_len, f->path_len ? "." : "", (const char *)key, n);
    return token_end(l, 1);
}

size_t locate_value(const char *t, size_t len, const char *path)
{
    static const yajl_callbacks cb = {
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
    struct locator l = {.t = t,
                        .len = len,
                        .want = path,
                        .want_len = strlen(path),
                        .found = SIZE_MAX,
                        .best_off = SIZE_MAX};
    path_set(&l, 0, "", "", 0);
    l.h = yajl_alloc(&cb, NULL, &l);
    if (l.h) {
        yajl_parse(l.h, (const unsigned char *)t, len);
        yajl_free(l.h);
    }
    free(l.stack);
    free(l.path);
    if (l.found != SIZE_MAX)
        return l.found;
    return l.best_off != SIZE_MAX ? l.best_off : next_token(&l, 0);
}
