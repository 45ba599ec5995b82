#include "launcher.h"
#include "runtime/runtime.h"

#include <string.h>

struct command {
    const char *name;
    int (*fn)(struct cli *cli, int argc, char **argv);
    const char *summary;
    bool rootless; /* touches neither store: works for any user */
};

static const struct command commands[] = {
    {"run", cmd_run, "Create and run a new container from an image", false},
    {"create", cmd_create, "Create a new container", false},
    {"start", cmd_start, "Start one or more stopped containers", false},
    {"ps", cmd_ps, "List containers", false},
    {"inspect", cmd_inspect, "Return low-level information on containers or images", false},
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes",
     false},
    {"stop", cmd_stop, "Stop one or more running containers", false},
    {"kill", cmd_kill, "Kill one or more running containers", false},
    {"rm", cmd_rm, "Remove one or more containers", false},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics", false},
    {"logs", cmd_logs, "Fetch the logs of a container", false},
    {"exec", cmd_exec, "Execute a command in a running container", false},
    {"join", cmd_join, "Enter a running container's namespaces as nsenter does", false},
    {"images", cmd_images, "List images", false},
    {"pull", cmd_pull, "Download an image from a registry", false},
    {"login", cmd_login, "Log in to a registry", true},
    {"logout", cmd_logout, "Log out from a registry", true},
    {"load", cmd_load, "Load an image from a tar archive or STDIN", false},
    {"save", cmd_save, "Save one or more images to a tar archive", false},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", false},
    {"rmi", cmd_rmi, "Remove one or more images", false},
    {"image", cmd_image, "Manage images", false},
    {"import", cmd_import, "Import the contents from a tarball to create a filesystem image",
     false},
    {"seccomp", cmd_seccomp, "Check a seccomp profile: berth seccomp check FILE", true},
    {"info", cmd_info, "Display system-wide information", false},
    {"version", cmd_version, "Show the berth version information", true},
};

static void print_main_usage(FILE *out)
{
    fprintf(out, "\nUsage:  berth [OPTIONS] COMMAND\n\n"
                 "A container launcher for Apache Storm workers and hosts without dockerd\n\n"
                 "Options:\n"
                 "      --root string      Data root: images and layers (default "
                 "\"/var/lib/berth\", env BERTH_ROOT)\n"
                 "      --runroot string   State root: containers (default \"/run/berth\", "
                 "env BERTH_RUNROOT)\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

/* a link named nsenter (or berth-nsenter) to berth stands in for util-linux nsenter */
static bool invoked_as_nsenter(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    return !strcmp(base, "nsenter") || !strcmp(base, "berth-nsenter");
}

int main(int argc, char **argv)
{
    runtime_net_with_libmnl();
    /* run -d's monitor (see runtime/monitor.c): before anything of a command line's */
    if (argc > 1 && !strcmp(argv[1], RUNTIME_MONITOR_COMMAND))
        return runtime_monitor_serve(argc, argv);
    struct cli cli = {0};
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    cli_pull_hook = pull_image;
    if (caller_take(&cli, &err) < 0) {
        report_error(&cli, &err);
        return 125;
    }
    /* after caller_take: a handed-over caller's environment is gone, BERTH_TRACE with it */
    if (trace_begin("front") && runtime_is_readonly_clone())
        trace_role("front-ro");
    trace_phase("caller");
    if (invoked_as_nsenter(argv[0])) {
        cli.command = "nsenter";
        cli.needs_root = true;
        int rc = cmd_nsenter(&cli, argc - 1, argv + 1);
        free(cli.global.root);
        free(cli.global.runroot);
        caller_free(&cli);
        return rc;
    }
    if (opts_parse(NULL, 0, &cli, argc - 1, argv + 1, false, &args, &err) < 0) {
        report_error(&cli, &err);
        return 125;
    }
    if (args.n == 0) {
        print_main_usage(cli.global.help ? stdout : stderr);
        return cli.global.help ? 0 : 1;
    }
    /* argv from the command name on, with the global flags before it already consumed */
    int first = argc - (int)args.n;
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(commands[i].name, args.v[0]))
            continue;
        cli.command = commands[i].name;
        cli.needs_root = !commands[i].rootless;
        int rc = commands[i].fn(&cli, argc - first - 1, argv + first + 1);
        free(cli.global.root);
        free(cli.global.runroot);
        caller_free(&cli);
        return rc;
    }
    fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n", args.v[0]);
    return 1;
}
