#include "launcher.h"

const char *cli_root(const struct cli *cli)
{
    const char *env = getenv("BERTH_ROOT");
    return cli->global.root ? cli->global.root : env && *env ? env : "/var/lib/berth";
}

const char *cli_runroot(const struct cli *cli)
{
    const char *env = getenv("BERTH_RUNROOT");
    return cli->global.runroot ? cli->global.runroot : env && *env ? env : "/run/berth";
}

void report_error(const struct cli *cli, const struct berr *err)
{
    fprintf(stderr, "berth: %s\n", err->msg);
    if (err->kind == BERR_USAGE && cli->command)
        fprintf(stderr, "See 'berth %s --help'.\n", cli->command);
}

bool parse_command(struct cli *cli, const char *usage, const char *summary, const struct opt *opts,
                   size_t nopts, int argc, char **argv, struct strv *args, int *code)
{
    struct berr err = {0};
    if (opts_parse(opts, nopts, cli, argc, argv, true, args, &err) < 0) {
        report_error(cli, &err);
        *code = 125;
        return false;
    }
    if (cli->global.help) {
        print_usage(stdout, usage, summary, opts, nopts);
        *code = 0;
        return false;
    }
    return true;
}
