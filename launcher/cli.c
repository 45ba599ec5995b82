#include "launcher.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <string.h>

const char *cli_root(const struct cli *cli)
{
    return cli->root;
}

const char *cli_runroot(const struct cli *cli)
{
    return cli->runroot;
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
    return cli_admit(cli, code);
}

void report_daemon_error(const struct berr *err)
{
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
}

void cli_paths(const struct cli *cli, struct runtime_paths *out)
{
    *out = (struct runtime_paths){
        .runroot = cli_runroot(cli), .root = cli_root(cli), .caller = cli->caller};
}

/* -e K without a value takes K from berth's own environment, or drops it (docker's rule). */
void cli_env_add(const struct cli *cli, struct strv *env, const char *kv)
{
    if (strchr(kv, '=')) {
        strv_push(env, kv);
        return;
    }
    const char *v = cli_getenv(cli, kv);
    if (v)
        strv_push_owned(env, xasprintf("%s=%s", kv, v));
}

int cli_env_file_read(const struct cli *cli, const char *path, struct strv *env, struct berr *err)
{
    _cleanup_free_ char *buf = NULL;
    if (ident_read_file(cli->caller, path, 1 << 20, &buf, NULL, err) < 0)
        return berr_wrap(err, "env file");
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        line[strcspn(line, "\r")] = '\0';
        if (*line == '\0' || *line == '#')
            continue;
        if (*line == '=')
            return berr_set(err, BERR_USAGE, "invalid environment variable: %s", line);
        cli_env_add(cli, env, line);
    }
    return 0;
}
