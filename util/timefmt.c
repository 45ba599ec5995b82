#include "util.h"

#include <string.h>
#include <time.h>

/* UTC by arithmetic on the proleptic Gregorian calendar (days counted in 400-year eras of
 * 146097 days, each year from March so that leap days fall last). glibc's gmtime_r and timegm
 * would read /etc/localtime on their first call in each process, and every start, exit record
 * and `wait` formats or parses one of these times. */
#define DAYS_PER_ERA 146097
#define DAYS_0000_03_01_TO_EPOCH 719468

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned year_of_era = (unsigned)(y - era * 400);
    unsigned day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * DAYS_PER_ERA + day_of_era - DAYS_0000_03_01_TO_EPOCH;
}

static void civil_from_days(long long days, long long *y, unsigned *m, unsigned *d)
{
    days += DAYS_0000_03_01_TO_EPOCH;
    long long era = (days >= 0 ? days : days - (DAYS_PER_ERA - 1)) / DAYS_PER_ERA;
    unsigned day_of_era = (unsigned)(days - era * DAYS_PER_ERA);
    unsigned year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    unsigned month_from_march = (5 * day_of_year + 2) / 153;
    *d = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    *m = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
    *y = year_of_era + era * 400 + (*m <= 2);
}

void format_rfc3339(const struct timespec *ts, char out[40])
{
    long long days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    long long y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* 31 characters for the years 0 to 9999; the wider buffer is for the compiler, which
     * cannot bound the fields */
    char buf[128];
    snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09ldZ", y, m, d, secs / 3600,
             secs / 60 % 60, secs % 60, ts->tv_nsec);
    size_t n = strnlen(buf, 39);
    memcpy(out, buf, n);
    out[n] = '\0';
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

/* n decimal digits at *p, within [lo, hi]. */
static bool take_number(const char **p, int n, long lo, long hi, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return false;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return v >= lo && v <= hi;
}

static bool take_char(const char **p, char c)
{
    return *(*p)++ == c;
}

/* "YYYY-MM-DDTHH:MM:SS" and an optional fraction; whatever follows (the zone) is not read. */
int parse_rfc3339(const char *s, struct timespec *ts)
{
    const char *p = s;
    long y, mo, d, h, mi, sec;
    if (!take_number(&p, 4, 0, 9999, &y) || !take_char(&p, '-') ||
        !take_number(&p, 2, 1, 12, &mo) || !take_char(&p, '-') || !take_number(&p, 2, 1, 31, &d) ||
        !take_char(&p, 'T') || !take_number(&p, 2, 0, 23, &h) || !take_char(&p, ':') ||
        !take_number(&p, 2, 0, 59, &mi) || !take_char(&p, ':') || !take_number(&p, 2, 0, 60, &sec))
        return -1;
    long ns = 0;
    if (*p == '.') {
        long scale = 100000000;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ns += (*p - '0') * scale;
    }
    ts->tv_sec =
        (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec);
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
