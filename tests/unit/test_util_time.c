/* format_go_time: docker's JSON times, Go's RFC3339Nano; human_duration: docker ps's ages. */
#include "util/util.h"

#include <criterion/criterion.h>

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
