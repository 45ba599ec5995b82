/* util/trace.c: the line BERTH_TRACE writes, built without stdio (the container's init writes
 * it after its seccomp filter is loaded), what a buffer too small for it gets, and the lines a
 * detached berth-monitor keeps for a traced `wait`. */
#include "util/util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A traced process's lines, in a temporary file, as one string. */
static char *file_text(int fd)
{
    static char buf[65536];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    cr_assert_geq(n, 0);
    buf[n] = '\0';
    return buf;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static int temp_file(void)
{
    char path[] = "/tmp/berth-trace-test.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    return fd;
}

Test(util_trace, moved_lines_wait_in_memory_until_the_end_and_none_is_lost)
{
    cr_assert_eq(setenv("BERTH_TRACE", "1", 1), 0);
    int before = temp_file(), after = temp_file();
    cr_assert(trace_begin_fd("berth-monitor", dup(before)));
    trace_phase("ready");
    trace_move(dup(after));
    trace_phase("exit-seen");
    cr_assert_str_eq(file_text(after), "", "a moved line was written before the end");
    /* more lines than the memory holds: written as it fills, in order */
    for (int i = 0; i < 100; i++)
        trace_phase("exit-recorded");
    trace_phase("log-closed");
    trace_end();
    cr_assert_eq(count(file_text(before), "berth-trace "), 1);
    cr_assert_eq(count(file_text(before), " ready "), 1);
    const char *moved = file_text(after);
    cr_assert_eq(count(moved, "berth-trace "), 102, "%s", moved);
    cr_assert_eq(count(moved, " exit-recorded "), 100);
    cr_assert(strstr(moved, " exit-seen ") < strstr(moved, " exit-recorded "));
    cr_assert_str_eq(strstr(moved, " log-closed ") + strcspn(strstr(moved, " log-closed "), "\n"),
                     "\n", "log-closed is not the last line:\n%s", moved);
    close(before);
    close(after);
}

Test(util_trace, relay_copies_another_process_lines_and_only_when_traced)
{
    char dir[] = "/tmp/berth-trace-test.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int f = openat(dirfd, "exit-trace", O_WRONLY | O_CREAT | O_EXCL, 0600);
    const char lines[] = "berth-trace 7 berth-monitor exit-seen 1 2 3\n";
    cr_assert_eq(write(f, lines, strlen(lines)), (ssize_t)strlen(lines));
    close(f);
    int out = temp_file();
    trace_relay(dirfd, "exit-trace"); /* not traced: nothing, nowhere */
    cr_assert_eq(setenv("BERTH_TRACE", "1", 1), 0);
    cr_assert(trace_begin_fd("wait", dup(out)));
    trace_relay(dirfd, "missing");
    trace_relay(dirfd, "exit-trace");
    trace_end();
    cr_assert_str_eq(file_text(out), lines);
    unlinkat(dirfd, "exit-trace", 0);
    close(dirfd);
    rmdir(dir);
    close(out);
}

Test(util_trace, a_move_writes_what_was_held_for_the_old_descriptor_and_can_end_the_trace)
{
    cr_assert_eq(setenv("BERTH_TRACE", "1", 1), 0);
    int first = temp_file(), second = temp_file();
    cr_assert(trace_begin_fd("berth-monitor", dup(first)));
    trace_move(dup(second));
    trace_phase("exit-seen");
    trace_move(-1);
    cr_assert_not(trace_enabled());
    trace_phase("exit-recorded"); /* nowhere */
    trace_end();
    cr_assert_eq(count(file_text(first), "berth-trace "), 0);
    cr_assert_eq(count(file_text(second), " exit-seen "), 1);
    cr_assert_eq(count(file_text(second), "berth-trace "), 1);
    close(first);
    close(second);
}
