/* Command functions on the paths that end before they open anything (--help, a bad flag). */
#include "launcher/launcher.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

/* Fill the stack below the caller's frame with a pattern, so that a local read before it is
 * set in the next call holds garbage rather than a lucky zero. */
static __attribute__((noinline)) void dirty_stack(void)
{
    volatile unsigned char junk[1 << 16];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = 0x5a;
}

static int run_with(int (*cmd)(struct cli *, int, char **), const char *name, char *word)
{
    struct cli cli = {.command = name};
    char *argv[] = {word, NULL};
    dirty_stack();
    int code = cmd(&cli, 1, argv);
    free(cli.global.root);
    free(cli.global.runroot);
    return code;
}

/* Found building the fuzz targets with clang: the early exits jumped over the declarations of
 * two cleanup variables, whose cleanups then ran on stack garbage (close and free of it). */
Test(cmd_load, help_leaves_before_any_cleanup_variable_is_set, .init = cr_redirect_stdout)
{
    cr_assert_eq(run_with(cmd_load, "load", "--help"), 0);
}

Test(cmd_load, an_unknown_flag_leaves_before_any_cleanup_variable_is_set,
     .init = cr_redirect_stderr)
{
    cr_assert_eq(run_with(cmd_load, "load", "--bogus"), 125);
}

/* The same slip as load's, found the same way: text and the template were jumped over. */
Test(cmd_stats, help_leaves_before_any_cleanup_variable_is_set, .init = cr_redirect_stdout)
{
    cr_assert_eq(run_with(cmd_stats, "stats", "--help"), 0);
}

Test(cmd_pull, help_and_bad_flags_leave_before_anything_is_set, .init = cr_redirect_stdout)
{
    cr_assert_eq(run_with(cmd_pull, "pull", "--help"), 0);
    cr_assert_eq(run_with(cmd_login, "login", "--help"), 0);
    cr_assert_eq(run_with(cmd_logout, "logout", "--help"), 0);
}

Test(cmd_pull, an_unknown_flag_is_a_usage_error, .init = cr_redirect_stderr)
{
    cr_assert_eq(run_with(cmd_pull, "pull", "--bogus"), 125);
    cr_assert_eq(run_with(cmd_login, "login", "--bogus"), 125);
}

/* A caller handed over by a setuid launcher has no credentials file berth may use as root:
 * pull, login and logout refuse it before reading any. */
Test(cmd_pull, a_handed_over_caller_can_neither_pull_nor_log_in_or_out, .init = cr_redirect_stderr)
{
    struct ident who = {0};
    struct cli cli = {.command = "login", .caller = &who};
    char *argv[] = {"-u", "x", "--password-stdin", "host:5000", NULL};
    cr_assert_eq(cmd_login(&cli, 4, argv), 1);
    free(cli.root);
    free(cli.runroot);
    struct cli c3 = {.command = "logout", .caller = &who};
    char *largv[] = {"host:5000", NULL};
    cr_assert_eq(cmd_logout(&c3, 1, largv), 1);
    free(c3.root);
    free(c3.runroot);
    struct berr err = {0};
    struct cli c2 = {.command = "pull", .caller = &who};
    cr_assert_eq(pull_image(&c2, "host:5000/a/b", true, stdout, &err), -1);
    cr_assert(strstr(err.msg, "handed over by a setuid launcher cannot pull"), "%s", err.msg);
}
