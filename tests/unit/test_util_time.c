/* format_go_time: docker's JSON times, Go's RFC3339Nano; human_duration: docker ps's ages. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <time.h>

Test(util_time, go_time_drops_trailing_zeros_and_shows_the_zero_time)
{
    char buf[40];
    format_go_time(&(struct timespec){0, 0}, buf);
    cr_assert_str_eq(buf, "0001-01-01T00:00:00Z");
    format_go_time(&(struct timespec){1700000000, 0}, buf);
    cr_assert_str_eq(buf, "2023-11-14T22:13:20Z");
    format_go_time(&(struct timespec){1700000000, 120000000}, buf);
    cr_assert_str_eq(buf, "2023-11-14T22:13:20.12Z");
    format_go_time(&(struct timespec){1700000000, 123456789}, buf);
    cr_assert_str_eq(buf, "2023-11-14T22:13:20.123456789Z");
}

static void assert_duration(double seconds, const char *want)
{
    char buf[64];
    human_duration(seconds, buf, sizeof(buf));
    cr_assert_str_eq(buf, want, "%.1f s", seconds);
}

/* go-units' HumanDuration: minutes truncated, hours rounded, and from the rounded hours the
 * days, weeks, months and years. */
Test(util_time, durations_read_as_docker_ps_shows_them)
{
    assert_duration(0.5, "Less than a second");
    assert_duration(1, "1 second");
    assert_duration(59.9, "59 seconds");
    assert_duration(119, "About a minute");
    assert_duration(3599, "59 minutes");
    assert_duration(5399, "About an hour");
    assert_duration(5400, "2 hours");
    assert_duration(47.49 * 3600, "47 hours");
    assert_duration(47.5 * 3600, "2 days");
    assert_duration(14 * 24 * 3600, "2 weeks");
    assert_duration(60 * 24 * 3600, "2 months");
    assert_duration(2 * 365 * 24 * 3600, "2 years");
}

/* berth's own calendar arithmetic against glibc's: every day from 1900 to 2200 (leap days,
 * 1900 and 2100 that are not, 2000 that is), at a time of day that moves through the hours. */
Test(util_time, rfc3339_agrees_with_gmtime_and_timegm_over_three_centuries)
{
    for (time_t t = -2208988800LL; t < 7258118400LL; t += 86400 + 3607) {
        struct timespec ts = {t, 5};
        char ours[40], theirs[40];
        format_rfc3339(&ts, ours);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(theirs, sizeof(theirs), "%Y-%m-%dT%H:%M:%S.000000005Z", &tm);
        cr_assert_str_eq(ours, theirs, "%lld", (long long)t);
        struct timespec back;
        cr_assert_eq(parse_rfc3339(ours, &back), 0, "%s", ours);
        cr_assert_eq(back.tv_sec, t, "%s", ours);
        cr_assert_eq(back.tv_nsec, 5, "%s", ours);
    }
}

Test(util_time, rfc3339_parse_reads_a_zone_suffix_and_refuses_what_is_not_a_time)
{
    struct timespec ts;
    cr_assert_eq(parse_rfc3339("2024-02-29T23:59:60.5+01:00", &ts), 0);
    cr_assert_eq(ts.tv_sec, 1709251200);
    cr_assert_eq(ts.tv_nsec, 500000000);
    const char *bad[] = {"",
                         "2024",
                         "2024-13-01T00:00:00Z",
                         "2024-00-01T00:00:00Z",
                         "2024-01-32T00:00:00Z",
                         "2024-01-01 00:00:00Z",
                         "2024-01-01T24:00:00Z",
                         "2024-01-01T00:60:00Z",
                         "24-01-01T00:00:00Z",
                         "2024-1-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(parse_rfc3339(bad[i], &ts), -1, "%s", bad[i]);
}
