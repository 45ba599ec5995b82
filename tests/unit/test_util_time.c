/* format_go_time: docker's JSON times, Go's RFC3339Nano. */
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
