/* util/trace.c: the line BERTH_TRACE writes, built without stdio (the container's init writes
 * it after its seccomp filter is loaded), and what a buffer too small for it gets. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <string.h>

Test(util_trace, line_has_pid_role_phase_and_three_times)
{
    char buf[192];
    size_t n =
        trace_format(buf, sizeof(buf), 4242, "front-ro", "config.json", 149, 941, 5367041798ULL);
    cr_assert_eq(n, strlen("berth-trace 4242 front-ro config.json 149 941 5367041798\n"));
    cr_assert_eq(memcmp(buf, "berth-trace 4242 front-ro config.json 149 941 5367041798\n", n), 0);
}

Test(util_trace, zero_and_the_largest_numbers_print_in_full)
{
    char buf[192];
    size_t n = trace_format(buf, sizeof(buf), 1, "init", "seccomp-load", 0, 0, UINT64_MAX);
    const char want[] = "berth-trace 1 init seccomp-load 0 0 18446744073709551615\n";
    cr_assert_eq(n, strlen(want));
    cr_assert_eq(memcmp(buf, want, n), 0);
}

Test(util_trace, a_short_buffer_is_cut_but_still_ends_in_a_newline)
{
    char buf[16];
    memset(buf, 'x', sizeof(buf));
    size_t n = trace_format(buf, sizeof(buf), 4242, "front", "caller", 1, 2, 3);
    cr_assert_eq(n, sizeof(buf));
    cr_assert_eq(memcmp(buf, "berth-trace 424\n", n), 0);
    cr_assert_eq(trace_format(buf, 1, 1, "a", "b", 1, 2, 3), 0);
}
