/* The docker-style flag parser of launcher/. */
#include "launcher/launcher.h"

#include <criterion/criterion.h>
#include <string.h>

struct flags {
    bool d, rm;
    char *name;
    struct strv vols;
};

static int parse(struct flags *f, struct cli *cli, struct strv *args, struct berr *err, int argc,
                 char **argv)
{
    const struct opt opts[] = {
        {"detach", 'd', OPT_BOOL, &f->d, "", NULL},   {"rm", 0, OPT_BOOL, &f->rm, "", NULL},
        {"name", 0, OPT_STRING, &f->name, "", NULL},  {"volume", 'v', OPT_LIST, &f->vols, "", NULL},
        {"cpus", 0, OPT_UNSUPPORTED, NULL, "", NULL},
    };
    return opts_parse(opts, 5, cli, argc, argv, false, args, err);
}

Test(cli, long_flags_take_equals_or_next_word)
{
    struct flags f = {0};
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"--name=a", "--name", "b", "-v", "/x:/y", "--volume=/p:/q:ro", "img", "-d"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 8, argv), 0, "%s", err.msg);
    cr_assert_str_eq(f.name, "b");
    cr_assert_eq(f.vols.n, 2);
    cr_assert_str_eq(f.vols.v[1], "/p:/q:ro");
    cr_assert_not(f.d, "flags after the image belong to the command");
    cr_assert_eq(args.n, 2);
    cr_assert_str_eq(args.v[1], "-d");
    free(f.name);
    strv_free(&f.vols);
    strv_free(&args);
}

Test(cli, bools_accept_explicit_values_and_never_eat_the_next_word)
{
    struct flags f = {0};
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"--rm=true", "-d=false", "--rm", "img"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 4, argv), 0, "%s", err.msg);
    cr_assert(f.rm);
    cr_assert_not(f.d);
    cr_assert_str_eq(args.v[0], "img");
    strv_free(&args);
}

Test(cli, short_flags_combine_and_take_attached_values)
{
    struct flags f = {0};
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"-dv/a:/b", "img"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 2, argv), 0, "%s", err.msg);
    cr_assert(f.d);
    cr_assert_str_eq(f.vols.v[0], "/a:/b");
    strv_free(&f.vols);
    strv_free(&args);
}

Test(cli, unknown_flag_is_a_usage_error_with_pflags_text)
{
    struct flags f = {0};
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"--bogus", "img"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 2, argv), -1);
    cr_assert_eq(err.kind, BERR_USAGE);
    cr_assert_str_eq(err.msg, "unknown flag: --bogus");
    char *argv2[] = {"-x"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 1, argv2), -1);
    cr_assert_str_eq(err.msg, "unknown shorthand flag: 'x' in -x");
}

Test(cli, unsupported_docker_flag_is_refused_not_ignored)
{
    struct flags f = {0};
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"--cpus=2", "img"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 2, argv), -1);
    cr_assert(strstr(err.msg, "--cpus"), "%s", err.msg);
}

Test(cli, global_options_are_accepted_after_the_command)
{
    struct flags f = {0};
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"--root", "/r", "--runroot=/s", "img"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 4, argv), 0, "%s", err.msg);
    cr_assert_str_eq(cli.global.root, "/r");
    int code = -1;
    cr_assert(cli_admit(&cli, &code));
    cr_assert_str_eq(cli_runroot(&cli), "/s");
    free(cli.global.root);
    free(cli.global.runroot);
    caller_free(&cli);
    strv_free(&args);
}

Test(cli, missing_value_is_reported)
{
    struct flags f = {0};
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"--name"};
    cr_assert_eq(parse(&f, &cli, &args, &err, 1, argv), -1);
    cr_assert_str_eq(err.msg, "flag needs an argument: --name");
}

Test(cli, parse_bool_follows_go)
{
    bool b;
    cr_assert_eq(parse_bool("True", &b), 0);
    cr_assert(b);
    cr_assert_eq(parse_bool("0", &b), 0);
    cr_assert_not(b);
    cr_assert_eq(parse_bool("yes", &b), -1);
}

Test(cli, a_command_without_options_parses_global_flags)
{
    /* main and commands like `version` pass no option table at all */
    struct cli cli = {0};
    struct strv args = {0};
    struct berr err = {0};
    char *argv[] = {"--root=/r", "run"};
    cr_assert_eq(opts_parse(NULL, 0, &cli, 2, argv, false, &args, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cli.global.root, "/r");
    cr_assert_str_eq(args.v[0], "run");
    free(cli.global.root);
    strv_free(&args);
}
