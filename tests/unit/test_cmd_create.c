/* berth create's and berth start's command lines, up to the spec or the first refusal: no
 * image store, no container. */
#include "launcher/launcher.h"
#include "runtime/runtime.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

static int create_spec(char **argv, int argc, struct container_spec *spec, struct berr *err)
{
    struct cli cli = {.command = "create", .needs_root = true, .root_caller = true};
    int rc = create_spec_from_argv(&cli, argc, argv, spec, err);
    free(cli.global.root);
    free(cli.global.runroot);
    return rc;
}

Test(cmd_create, takes_runs_flags_and_the_command_after_the_image)
{
    char *argv[] = {"--rm", "--pull=never", "--name", "w1", "-e", "A=1", "img:1", "cmd", "-d"};
    struct container_spec spec = {0};
    struct berr err = {0};
    cr_assert_eq(create_spec(argv, 9, &spec, &err), 0, "%s", err.msg);
    cr_assert(spec.remove_on_exit);
    cr_assert_str_eq(spec.name, "w1");
    cr_assert_str_eq(spec.image_ref, "img:1");
    cr_assert_eq(spec.cmd.n, 2);
    cr_assert_str_eq(spec.cmd.v[1], "-d", "a word after the image is the command's");
    cr_assert_str_eq(spec.env.v[0], "A=1");
    runtime_spec_free(&spec);
}

Test(cmd_create, has_no_detach_flag)
{
    struct container_spec spec = {0};
    struct berr err = {0};
    cr_assert_eq(create_spec((char *[]){"-d", "img"}, 2, &spec, &err), -1);
    cr_assert_eq(err.kind, BERR_USAGE);
    cr_assert_str_eq(err.msg, "unknown shorthand flag: 'd' in -d");
    runtime_spec_free(&spec);
    spec = (struct container_spec){0};
    cr_assert_eq(create_spec((char *[]){"--detach", "img"}, 2, &spec, &err), -1);
    cr_assert_str_eq(err.msg, "unknown flag: --detach");
    runtime_spec_free(&spec);
}

Test(cmd_create, needs_an_image_and_names_itself_in_the_error)
{
    struct container_spec spec = {0};
    struct berr err = {0};
    cr_assert_eq(create_spec((char *[]){"--rm"}, 1, &spec, &err), -1);
    cr_assert_eq(err.kind, BERR_USAGE);
    cr_assert_str_eq(err.msg, "\"berth create\" requires at least 1 argument.");
    runtime_spec_free(&spec);
}

static int call(int (*cmd)(struct cli *, int, char **), const char *name, char **argv, int argc)
{
    struct cli cli = {.command = name};
    int code = cmd(&cli, argc, argv);
    free(cli.global.root);
    free(cli.global.runroot);
    caller_free(&cli);
    return code;
}

Test(cmd_create, help_is_0_and_a_bad_flag_125, .init = cr_redirect_stdout)
{
    cr_assert_eq(call(cmd_create, "create", (char *[]){"--help"}, 1), 0);
    cr_assert_eq(call(cmd_start, "start", (char *[]){"--help"}, 1), 0);
}

Test(cmd_create, bad_flags_are_usage_errors, .init = cr_redirect_stderr)
{
    cr_assert_eq(call(cmd_create, "create", (char *[]){"--bogus", "img"}, 2), 125);
    cr_assert_eq(call(cmd_create, "create", (char *[]){"-d", "img"}, 2), 125);
    cr_assert_eq(call(cmd_start, "start", (char *[]){"--bogus", "c"}, 2), 125);
    /* docker's -i is later work: refused, never ignored */
    cr_assert_eq(call(cmd_start, "start", (char *[]){"-i", "c"}, 2), 125);
}
