/* berth-oci: runc's command line (the OCI runtime spec's operations and the commands engines
 * such as podman call) over berth's runtime: the global flags and the commands' table. The
 * commands are in commands.c and exec.c, the pieces they share in cli.c; containers live under
 * --root, named by their OCI id; runtime/bundle.c has the lifecycle. */
#include "oci.h"

#include <string.h>

extern char **environ;

#define DEFAULT_ROOT "/run/berth-oci"

struct command {
    const char *name;
    int (*fn)(const struct oci_cli *cli, int argc, char **argv);
    bool enters; /* starts a process in a container: runs from a read-only clone of itself */
};

static const struct command commands[] = {
    {"create", oci_cmd_create, true},
    {"start", oci_cmd_start, true},
    {"run", oci_cmd_run, true},
    {"state", oci_cmd_state, false},
    {"kill", oci_cmd_kill, false},
    {"delete", oci_cmd_delete, false},
    {"pause", oci_cmd_pause, false},
    {"resume", oci_cmd_resume, false},
    {"list", oci_cmd_list, false},
    {"ps", oci_cmd_ps, false},
    {"exec", oci_cmd_exec, true},
    {"spec", oci_cmd_spec, false},
    {"features", oci_cmd_features, false},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: berth-oci [--root DIR] [--log FILE] [--log-format text|json] COMMAND\n"
                 "runc's command line over berth's runtime. Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %s\n", commands[i].name);
}

int main(int argc, char **argv)
{
    struct oci_cli cli = {.root = DEFAULT_ROOT};
    runtime_net_with_libmnl();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *v;
        if ((v = oci_opt_value(argc, argv, &i, "--root", NULL)))
            cli.root = v;
        else if ((v = oci_opt_value(argc, argv, &i, "--log", NULL)))
            cli.log = v;
        else if ((v = oci_opt_value(argc, argv, &i, "--log-format", NULL))) {
            if (strcmp(v, "json") && strcmp(v, "text"))
                return oci_usage_error(&cli, "--log-format %s: text or json", v);
            cli.log_json = !strcmp(v, "json");
        } else if (oci_is_flag(argv[i], "--systemd-cgroup", NULL)) {
            return oci_usage_error(&cli,
                                   "%s: berth-oci manages cgroups itself (cgroupfs); "
                                   "systemd's cgroup driver is not supported",
                                   argv[i]);
        } else if (oci_is_flag(argv[i], "--debug", NULL)) {
            continue;
        } else if (oci_is_flag(argv[i], "--version", "-v")) {
            printf("berth-oci version %s\nspec: 1.0.2\n", BERTH_VERSION);
            return 0;
        } else if (oci_is_flag(argv[i], "--help", "-h")) {
            usage(stdout);
            return 0;
        } else {
            return oci_usage_error(&cli, "unknown global flag %s", argv[i]);
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    const struct command *cmd = NULL;
    for (size_t k = 0; k < ARRAY_SIZE(commands); k++) {
        if (!strcmp(commands[k].name, argv[i]))
            cmd = &commands[k];
    }
    if (!cmd)
        return oci_usage_error(&cli, "unknown command %s", argv[i]);
    struct berr err = {0};
    if (cmd->enters && runtime_reexec_readonly(environ, NULL, &err) < 0)
        return oci_fail(&cli, &err);
    cli.paths = (struct runtime_paths){.runroot = cli.root, .root = cli.root};
    return cmd->fn(&cli, argc - i, argv + i);
}
