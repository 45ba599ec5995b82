#include "util.h"

#include <string.h>

bool debug_enabled(void)
{
    const char *v = getenv("BERTH_DEBUG");
    return v && strcmp(v, "1") == 0;
}

void debugf(const char *fmt, ...)
{
    if (!debug_enabled())
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("berth: debug: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
