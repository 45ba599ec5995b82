/* berth exec: run a command in a running container, docker's flags and exit codes. Flags stop
 * at the container's name: what follows is the command's own argv. */
#include "launcher.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <string.h>

static const char exec_usage[] = "berth exec [OPTIONS] CONTAINER COMMAND [ARG...]";
static const char exec_summary[] = "Execute a command in a running container";

struct exec_flags {
    char *user, *workdir;
    bool interactive;
    struct strv env, env_files;
};

static void exec_flags_free(struct exec_flags *f)
{
    free(f->user);
    free(f->workdir);
    strv_free(&f->env);
    strv_free(&f->env_files);
}

static int build_spec(const struct cli *cli, struct exec_flags *f, const struct strv *args,
                      struct exec_spec *s, struct berr *err)
{
    for (size_t i = 1; i < args->n; i++)
        strv_push(&s->cmd, args->v[i]);
    s->user = f->user && *f->user ? steal_ptr(&f->user) : NULL;
    s->workdir = f->workdir && *f->workdir ? steal_ptr(&f->workdir) : NULL;
    s->interactive = f->interactive;
    for (size_t i = 0; i < f->env_files.n; i++) {
        if (cli_env_file_read(cli, f->env_files.v[i], &s->env, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < f->env.n; i++)
        cli_env_add(cli, &s->env, f->env.v[i]);
    return 0;
}

static void exec_spec_free(struct exec_spec *s)
{
    strv_free(&s->cmd);
    strv_free(&s->env);
    free(s->user);
    free(s->workdir);
}

static int exit_code(const struct berr *err)
{
    switch (err->kind) {
    case BERR_CMD_NOT_FOUND:
        return 127;
    case BERR_CMD_NOT_EXEC:
        return 126;
    case BERR_USAGE:
        return 125;
    default:
        return 1;
    }
}

static void report(const struct cli *cli, const struct berr *err)
{
    if (err->kind == BERR_NOT_FOUND)
        fprintf(stderr, "Error: %s\n", err->msg);
    else if (err->kind == BERR_NOT_RUNNING)
        report_daemon_error(err);
    else
        report_error(cli, err);
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
    struct exec_flags f = {0};
    const struct opt opts[] = {
        {"env", 'e', OPT_LIST, &f.env, "Set environment variables", NULL},
        {"env-file", 0, OPT_LIST, &f.env_files, "Read in a file of environment variables", NULL},
        {"interactive", 'i', OPT_BOOL, &f.interactive, "Keep STDIN open even if not attached",
         NULL},
        {"user", 'u', OPT_STRING, &f.user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")",
         NULL},
        {"workdir", 'w', OPT_STRING, &f.workdir, "Working directory inside the container", NULL},
        /* docker flags berth does not implement: refused, never ignored */
        {"detach", 'd', OPT_UNSUPPORTED_BOOL, NULL, "", NULL},
        {"detach-keys", 0, OPT_UNSUPPORTED, NULL, "", NULL},
        {"privileged", 0, OPT_UNSUPPORTED_BOOL, NULL, "", NULL},
        {"tty", 't', OPT_UNSUPPORTED_BOOL, NULL, "", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    struct exec_spec spec = {0};
    int code = 0;
    if (opts_parse(opts, ARRAY_SIZE(opts), cli, argc, argv, false, &args, &err) < 0) {
        report_error(cli, &err);
        code = 125;
        goto out;
    }
    if (cli->global.help) {
        print_usage(stdout, exec_usage, exec_summary, opts, ARRAY_SIZE(opts));
        goto out;
    }
    if (args.n < 2) {
        fprintf(stderr,
                "\"berth exec\" requires at least 2 arguments.\nSee 'berth exec --help'.\n");
        code = 1;
        goto out;
    }
    if (!cli_admit(cli, &code))
        goto out;
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    char id[65];
    int status = 0;
    /* first: the re-executed berth parses and reads everything again */
    if (cli_reexec_readonly(cli, &err) < 0 || build_spec(cli, &f, &args, &spec, &err) < 0 ||
        runtime_find(&paths, args.v[0], id, &err) < 0 ||
        runtime_exec(&paths, id, &spec, &status, &err) < 0) {
        report(cli, &err);
        code = exit_code(&err);
        goto out;
    }
    code = status;
out:
    exec_spec_free(&spec);
    exec_flags_free(&f);
    return code;
}
