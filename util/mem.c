#include "util.h"

#include <errno.h>
#include <string.h>

static void *must(void *p)
{
    if (!p)
        abort();
    return p;
}

void *xmalloc(size_t n)
{
    return must(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
    return must(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
    return must(realloc(p, n ? n : 1));
}

char *xstrdup(const char *s)
{
    return must(strdup(s));
}

char *xasprintf(const char *fmt, ...)
{
    char *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    return out;
}

void close_fdp(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

void freep(void *p)
{
    free(*(void **)p);
}

void fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

void strv_push_owned(struct strv *s, char *str)
{
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = xrealloc(s->v, s->cap * sizeof(char *));
    }
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
}

void strv_push(struct strv *s, const char *str)
{
    strv_push_owned(s, xstrdup(str));
}

bool strv_contains(const struct strv *s, const char *str)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i], str) == 0)
            return true;
    }
    return false;
}

void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (struct strv){0};
}

void strv_freep(struct strv *s)
{
    strv_free(s);
}

static size_t key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

ssize_t strv_find_env(const struct strv *s, const char *kv)
{
    size_t k = key_len(kv);
    for (size_t i = 0; i < s->n; i++) {
        if (key_len(s->v[i]) == k && strncmp(s->v[i], kv, k) == 0)
            return (ssize_t)i;
    }
    return -1;
}

void strv_set_env(struct strv *s, const char *kv)
{
    ssize_t i = strv_find_env(s, kv);
    if (i < 0) {
        strv_push(s, kv);
        return;
    }
    free(s->v[i]);
    s->v[i] = xstrdup(kv);
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int parse_long(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s || (*s == '+'))
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return -EINVAL;
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

char *strv_join(const struct strv *s, const char *sep)
{
    size_t len = 1, seplen = strlen(sep);
    for (size_t i = 0; i < s->n; i++)
        len += strlen(s->v[i]) + seplen;
    char *out = xmalloc(len), *p = out;
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            p = stpcpy(p, sep);
        p = stpcpy(p, s->v[i]);
    }
    *p = '\0';
    return out;
}
