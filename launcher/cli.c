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
