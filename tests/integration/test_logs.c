/* berth logs: the per-container log of detached containers of test/probe:latest (busybox sh),
 * read back on the right streams, with --tail and --follow, and capped on disk. */
#include "harness.h"
#include "runtime/internal.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>

H_SUITE(logs);

/* `berth run -d ARGS...`: the new container's id. */
static void run_detached(char id[65], ...) __attribute__((sentinel));
static void run_detached(char id[65], ...)
{
    struct strv args = {0};
    strv_push(&args, "run");
    strv_push(&args, "-d");
    va_list ap;
    va_start(ap, id);
    for (const char *a; (a = va_arg(ap, const char *));)
        strv_push(&args, a);
    va_end(ap);
    struct h_result r;
    h_berthv(&r, NULL, (const char *const *)args.v);
    strv_free(&args);
    h_assert_status(&r, 0);
    cr_assert(strlen(r.out) == 65 && r.out[64] == '\n', "run -d printed \"%s\"", r.out);
    memcpy(id, r.out, 64);
    id[64] = '\0';
}

static void wait_exit(const char *id)
{
    struct h_result r;
    struct h_opts o = {.timeout_s = 120};
    h_berth(&r, &o, "wait", id, NULL);
    h_assert_status(&r, 0);
}

static off_t size_or_zero(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

Test(logs, stdout_and_stderr_come_back_on_their_streams)
{
    char id[65];
    run_detached(id, H_IMAGE, "/bin/sh", "-c", "echo out; echo err >&2", NULL);
    wait_exit(id);
    struct h_result r;
    h_berth(&r, NULL, "logs", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "out\n");
    cr_assert_str_eq(r.err, "err\n");
}

Test(logs, container_is_found_by_name_and_id_prefix)
{
    char id[65];
    run_detached(id, "--name", "chatty", H_IMAGE, "/bin/sh", "-c", "echo hi", NULL);
    wait_exit(id);
    struct h_result r;
    h_berth(&r, NULL, "logs", "chatty", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "hi\n");
    char prefix[13];
    snprintf(prefix, sizeof(prefix), "%.12s", id);
    h_berth(&r, NULL, "logs", prefix, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "hi\n");
}

Test(logs, tail_shows_the_last_lines)
{
    char id[65];
    /* the two pipes are read in no set order: the sleeps make it this one */
    run_detached(id, H_IMAGE, "/bin/sh", "-c",
                 "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three", NULL);
    wait_exit(id);
    struct h_result r;
    h_berth(&r, NULL, "logs", "--tail", "1", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "three\n");
    cr_assert_str_empty(r.err);
    h_berth(&r, NULL, "logs", "-n", "2", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "three\n");
    cr_assert_str_eq(r.err, "two\n");
    h_berth(&r, NULL, "logs", "--tail=all", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "one\nthree\n");
    h_berth(&r, NULL, "logs", "--tail", "0", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_empty(r.out);
    cr_assert_str_empty(r.err);
}

Test(logs, output_without_a_final_newline_is_kept)
{
    char id[65];
    run_detached(id, H_IMAGE, "/bin/sh", "-c", "printf 'dos\\r\\nno newline'", NULL);
    wait_exit(id);
    struct h_result r;
    h_berth(&r, NULL, "logs", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "dos\r\nno newline");
}

Test(logs, follow_prints_new_lines_and_returns_when_the_container_exits)
{
    char id[65];
    run_detached(id, H_IMAGE, "/bin/sh", "-c", "echo start; sleep 2; echo end; sleep 1; echo last",
                 NULL);
    double t0 = h_now_s();
    struct h_result r;
    struct h_opts o = {.timeout_s = 60};
    h_berth(&r, &o, "logs", "-f", id, NULL);
    double took = h_now_s() - t0;
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "start\nend\nlast\n");
    cr_assert_geq(took, 2.0, "logs -f returned after %.2f s, before the container exited", took);
    cr_assert_lt(took, 20.0, "logs -f took %.2f s after a 3 s container", took);
}

Test(logs, follow_of_an_exited_container_returns_at_once)
{
    char id[65];
    run_detached(id, H_IMAGE, "/bin/sh", "-c", "echo done", NULL);
    wait_exit(id);
    struct h_result r;
    struct h_opts o = {.timeout_s = 10};
    h_berth(&r, &o, "logs", "--follow", "--tail", "5", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "done\n");
}

Test(logs, chatty_container_keeps_at_most_twice_the_cap_on_disk)
{
    char id[65];
    run_detached(id, H_IMAGE, "/bin/sh", "-c", "yes | head -c 20000000; echo the-end", NULL);
    wait_exit(id);
    _cleanup_free_ char *log = xasprintf("%s/containers/%s/%s", h_runroot(), id, LOG_FILE);
    _cleanup_free_ char *old = xasprintf("%s.1", log);
    off_t total = size_or_zero(log) + size_or_zero(old);
    cr_assert_gt(size_or_zero(old), 0, "20 MB of output did not rotate the log");
    cr_assert_leq(total, 2 * (off_t)LOG_MAX_BYTES, "%lld bytes of log on disk", (long long)total);
    struct h_result r;
    h_berth(&r, NULL, "logs", "--tail", "3", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "y\ny\nthe-end\n");
}

Test(logs, unknown_container_is_an_error)
{
    struct h_result r;
    h_berth(&r, NULL, "logs", "nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "Error: No such container: nosuch\n");
    cr_assert_str_empty(r.out);
}

Test(logs, needs_exactly_one_container)
{
    struct h_result r;
    h_berth(&r, NULL, "logs", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "requires exactly 1 argument");
    h_berth(&r, NULL, "logs", "a", "b", NULL);
    h_assert_status(&r, 1);
}

Test(logs, follow_keeps_up_with_a_chatty_container_across_rotations)
{
    char id[65];
    run_detached(id, H_IMAGE, "/bin/sh", "-c", "yes | head -c 20000000; echo the-end", NULL);
    struct h_result r;
    struct h_opts o = {.timeout_s = 120};
    h_berth(&r, &o, "logs", "-f", id, NULL);
    h_assert_status(&r, 0);
    const char *end = "y\nthe-end\n";
    cr_assert(r.out_len >= strlen(end) && !strcmp(r.out + r.out_len - strlen(end), end),
              "logs -f did not end with the container's last line");
    /* whole lines only, none torn at a rotation */
    size_t lines = 0;
    for (size_t i = 0; i + strlen("the-end\n") < r.out_len; i += 2, lines++)
        cr_assert(r.out[i] == 'y' && r.out[i + 1] == '\n', "torn line at byte %zu", i);
    cr_assert_gt(lines, 0);
}
