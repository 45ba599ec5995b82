#include "util.h"

#include <string.h>
#include <time.h>

void format_rfc3339(const struct timespec *ts, char out[40])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%09ldZ", ts->tv_nsec);
}

void format_go_time(const struct timespec *ts, char out[40])
{
    if (ts->tv_sec == 0) {
        snprintf(out, 40, "0001-01-01T00:00:00Z");
        return;
    }
    format_rfc3339(ts, out);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    size_t end = strlen(out) - 1; /* the 'Z' */
    while (end > (size_t)(dot - out) + 1 && out[end - 1] == '0')
        end--;
    if (end == (size_t)(dot - out) + 1) /* all zeros: no fraction at all */
        end--;
    memmove(out + end, "Z", 2);
}

int parse_rfc3339(const char *s, struct timespec *ts)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    long ns = 0;
    if (*p == '.') {
        long scale = 100000000;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ns += (*p - '0') * scale;
    }
    ts->tv_sec = timegm(&tm);
    ts->tv_nsec = ns;
    return 0;
}

/* The wording of docker's go-units HumanDuration, which `docker ps` shows. From an hour on,
 * everything counts from its int(d.Hours() + 0.5), taken here without libm's lround (berth
 * would load libm at every start for it alone). */
void human_duration(double seconds, char *out, size_t outlen)
{
    long s = (long)seconds;
    long hours = (long)(seconds / 3600 + 0.5);
    if (s < 1)
        snprintf(out, outlen, "Less than a second");
    else if (s == 1)
        snprintf(out, outlen, "1 second");
    else if (s < 60)
        snprintf(out, outlen, "%ld seconds", s);
    else if (s / 60 == 1)
        snprintf(out, outlen, "About a minute");
    else if (s / 60 < 60)
        snprintf(out, outlen, "%ld minutes", s / 60);
    else if (hours == 1)
        snprintf(out, outlen, "About an hour");
    else if (hours < 48)
        snprintf(out, outlen, "%ld hours", hours);
    else if (hours < 24 * 7 * 2)
        snprintf(out, outlen, "%ld days", hours / 24);
    else if (hours < 24 * 30 * 2)
        snprintf(out, outlen, "%ld weeks", hours / 24 / 7);
    else if (hours < 24 * 365 * 2)
        snprintf(out, outlen, "%ld months", hours / 24 / 30);
    else
        snprintf(out, outlen, "%ld years", hours / 24 / 365);
}

void human_size_precision(double bytes, int digits, char *out, size_t outlen)
{
    static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    size_t i = 0;
    while (bytes >= 1000 && i + 1 < ARRAY_SIZE(units)) {
        bytes /= 1000;
        i++;
    }
    snprintf(out, outlen, "%.*g%s", digits, bytes, units[i]);
}

void human_size(double bytes, char *out, size_t outlen)
{
    human_size_precision(bytes, 4, out, outlen); /* go-units' HumanSize */
}
