#include "launcher.h"
#include "runtime/runtime.h"

#include <limits.h>

/* docker hands --tail to the daemon as text, which reads it with Go's strconv.Atoi: "all",
 * anything that is not a number and any negative number mean the whole log. */
static long parse_tail(const char *s)
{
    long long n;
    if (s && s[0] == '+' && s[1] != '-' && s[1] != '+')
        s++;
    if (!s || parse_long(s, LLONG_MIN, LONG_MAX, &n) < 0 || n < 0)
        return -1;
    return (long)n;
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
    bool follow = false, timestamps = false;
    _cleanup_free_ char *tail = NULL;
    const struct opt opts[] = {
        {"details", 0, OPT_UNSUPPORTED_BOOL, NULL, "Show extra details provided to logs", NULL},
        {"follow", 'f', OPT_BOOL, &follow, "Follow log output", NULL},
        {"since", 0, OPT_UNSUPPORTED, NULL, "Show logs since timestamp", NULL},
        {"tail", 'n', OPT_STRING, &tail,
         "Number of lines to show from the end of the logs (default \"all\")", NULL},
        {"timestamps", 't', OPT_BOOL, &timestamps, "Show timestamps", NULL},
        {"until", 0, OPT_UNSUPPORTED, NULL, "Show logs before a timestamp", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth logs [OPTIONS] CONTAINER", "Fetch the logs of a container", opts,
                       ARRAY_SIZE(opts), argc, argv, &args, &code))
        return code;
    if (args.n != 1) {
        berr_set(&err, BERR_USAGE, "\"berth logs\" requires exactly 1 argument.");
        report_error(cli, &err);
        return 1;
    }
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    char id[65];
    if (runtime_find(&paths, args.v[0], id, &err) < 0) {
        /* docker looks the container up on the client side and says so in its own words */
        if (err.kind == BERR_NOT_FOUND)
            fprintf(stderr, "Error: No such container: %s\n", args.v[0]);
        else
            report_error(cli, &err);
        return 1;
    }
    const struct logs_opts lo = {
        .follow = follow,
        .timestamps = timestamps,
        .tail = parse_tail(tail),
        .out_fd = STDOUT_FILENO,
        .err_fd = STDERR_FILENO,
    };
    if (runtime_logs(&paths, id, &lo, &err) < 0) {
        report_error(cli, &err);
        return 1;
    }
    return 0;
}
