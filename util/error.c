#include "util.h"

#include <errno.h>
#include <string.h>

static int vset(struct berr *err, int errnum, enum berr_kind kind, const char *fmt, va_list ap)
{
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (errnum && n >= 0 && (size_t)n < sizeof(err->msg))
        snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
    err->errnum = errnum;
    err->kind = kind;
    return -1;
}

int berr_set(struct berr *err, enum berr_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, 0, kind, fmt, ap);
    va_end(ap);
    return -1;
}

int berr_errno(struct berr *err, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vset(err, saved, BERR_FAILED, fmt, ap);
    va_end(ap);
    errno = saved;
    return -1;
}

int berr_errnum(struct berr *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, errnum, BERR_FAILED, fmt, ap);
    va_end(ap);
    return -1;
}

int berr_wrap(struct berr *err, const char *fmt, ...)
{
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), cap = sizeof(err->msg);
    if (plen + 2 >= cap)
        plen = cap - 3;
    /* shift the old message right, keeping it NUL-terminated when it no longer fits */
    size_t oldlen = strnlen(err->msg, cap - 1);
    if (plen + 2 + oldlen >= cap)
        oldlen = cap - plen - 3;
    memmove(err->msg + plen + 2, err->msg, oldlen);
    err->msg[plen + 2 + oldlen] = '\0';
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    return -1;
}
