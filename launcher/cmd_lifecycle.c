/* wait, stop, kill, rm: each takes one or more containers, acts on each in turn, prints the
 * name as given (or wait's exit code), reports failures as the daemon would and exits 1 if
 * any failed — docker's behaviour for all four. */
#include "launcher.h"
#include "runtime/runtime.h"

#include <ctype.h>
#include <signal.h>
#include <string.h>

/* docker's signal.ParseSignal: a number, or a name with or without SIG, any case. */
static int parse_signal(const char *s, int *sig, struct berr *err)
{
    long long n;
    if (parse_long(s, 1, NSIG - 1, &n) == 0) {
        *sig = (int)n;
        return 0;
    }
    char up[32];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof(up); i++)
        up[i] = (char)toupper((unsigned char)s[i]);
    up[i] = '\0';
    const char *name = str_has_prefix(up, "SIG") ? up + 3 : up;
    for (int k = 1; k < NSIG; k++) {
        const char *abbrev = sigabbrev_np(k);
        if (abbrev && !strcmp(abbrev, name)) {
            *sig = k;
            return 0;
        }
    }
    return berr_set(err, BERR_USAGE, "Invalid signal: %s", s);
}

typedef int (*container_action)(const struct runtime_paths *paths, const char *ref, const char *id,
                                const void *arg, struct berr *err);

/* Run action on every container named in args; 0 when all succeeded, else 1. */
static int for_each_container(struct cli *cli, const struct strv *args, container_action action,
                              const void *arg, bool ignore_missing)
{
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    int code = 0;
    for (size_t i = 0; i < args->n; i++) {
        struct berr err = {0};
        char id[65];
        if (runtime_find(&paths, args->v[i], id, &err) < 0) {
            if (ignore_missing && err.kind == BERR_NOT_FOUND)
                continue;
        } else if (action(&paths, args->v[i], id, arg, &err) == 0) {
            continue;
        }
        report_daemon_error(&err);
        code = 1;
    }
    fflush(stdout);
    return code;
}

static bool need_args(struct cli *cli, const struct strv *args, int *code)
{
    if (args->n > 0)
        return true;
    fprintf(stderr, "\"berth %s\" requires at least 1 argument.\nSee 'berth %s --help'.\n",
            cli->command, cli->command);
    *code = 1;
    return false;
}

static int do_wait(const struct runtime_paths *paths, const char *ref, const char *id,
                   const void *arg, struct berr *err)
{
    (void)ref, (void)arg;
    int exit_code;
    if (runtime_wait(paths, id, &exit_code, err) < 0)
        return -1;
    printf("%d\n", exit_code);
    fflush(stdout);
    return 0;
}

int cmd_wait(struct cli *cli, int argc, char **argv)
{
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth wait CONTAINER [CONTAINER...]",
                       "Block until one or more containers stop, then print their exit codes", NULL,
                       0, argc, argv, &args, &code) ||
        !need_args(cli, &args, &code))
        return code;
    trace_role("wait");
    return for_each_container(cli, &args, do_wait, NULL, false);
}

struct stop_arg {
    int sig;
    int timeout;
};

static int do_stop(const struct runtime_paths *paths, const char *ref, const char *id,
                   const void *arg, struct berr *err)
{
    const struct stop_arg *s = arg;
    if (runtime_stop(paths, id, s->sig, s->timeout, err) < 0)
        return -1;
    printf("%s\n", ref);
    return 0;
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
    _cleanup_free_ char *time_s = NULL, *signal_s = NULL;
    const struct opt opts[] = {
        {"time", 't', OPT_STRING, &time_s, "Seconds to wait before killing the container", NULL},
        {"timeout", 0, OPT_STRING, &time_s, "Seconds to wait before killing the container", NULL},
        {"signal", 's', OPT_STRING, &signal_s, "Signal to send to the container", NULL},
    };
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth stop [OPTIONS] CONTAINER [CONTAINER...]",
                       "Stop one or more running containers", opts, ARRAY_SIZE(opts), argc, argv,
                       &args, &code) ||
        !need_args(cli, &args, &code))
        return code;
    struct stop_arg s = {.sig = SIGTERM, .timeout = 10};
    struct berr err = {0};
    long long t = 10;
    if (time_s && parse_long(time_s, -1, 1LL << 30, &t) < 0) {
        berr_set(&err, BERR_USAGE, "invalid argument \"%s\" for \"-t, --time\" flag", time_s);
        report_error(cli, &err);
        return 125;
    }
    s.timeout = (int)t;
    if (signal_s && parse_signal(signal_s, &s.sig, &err) < 0) {
        report_daemon_error(&err);
        return 1;
    }
    return for_each_container(cli, &args, do_stop, &s, false);
}

static int do_kill(const struct runtime_paths *paths, const char *ref, const char *id,
                   const void *arg, struct berr *err)
{
    if (runtime_kill(paths, id, *(const int *)arg, err) < 0) {
        if (err->kind == BERR_NOT_RUNNING)
            berr_wrap(err, "Cannot kill container: %s", ref);
        return -1;
    }
    printf("%s\n", ref);
    return 0;
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
    _cleanup_free_ char *signal_s = NULL;
    const struct opt opts[] = {
        {"signal", 's', OPT_STRING, &signal_s, "Signal to send to the container", NULL},
    };
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth kill [OPTIONS] CONTAINER [CONTAINER...]",
                       "Kill one or more running containers", opts, ARRAY_SIZE(opts), argc, argv,
                       &args, &code) ||
        !need_args(cli, &args, &code))
        return code;
    int sig = SIGKILL;
    struct berr err = {0};
    if (signal_s && parse_signal(signal_s, &sig, &err) < 0) {
        report_daemon_error(&err);
        return 1;
    }
    return for_each_container(cli, &args, do_kill, &sig, false);
}

static int do_rm(const struct runtime_paths *paths, const char *ref, const char *id,
                 const void *arg, struct berr *err)
{
    if (runtime_remove(paths, id, *(const bool *)arg, err) < 0)
        return -1;
    printf("%s\n", ref);
    return 0;
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
    bool force = false, volumes = false;
    const struct opt opts[] = {
        {"force", 'f', OPT_BOOL, &force, "Force the removal of a running container (uses SIGKILL)",
         NULL},
        {"volumes", 'v', OPT_BOOL, &volumes, "Remove anonymous volumes (berth has none)", NULL},
    };
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth rm [OPTIONS] CONTAINER [CONTAINER...]",
                       "Remove one or more containers", opts, ARRAY_SIZE(opts), argc, argv, &args,
                       &code) ||
        !need_args(cli, &args, &code))
        return code;
    /* with --force, docker ignores names it does not know */
    return for_each_container(cli, &args, do_rm, &force, force);
}

/* start -a: the container's output from its log, as it comes, then its exit code, which is
 * start's. A restarted container's log holds its earlier runs: only what comes after the
 * start is its output now. */
static int start_attached(struct cli *cli, const char *ref)
{
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    struct berr err = {0};
    char id[65];
    struct container_info info = {0};
    if (runtime_find(&paths, ref, id, &err) < 0 || runtime_inspect(&paths, id, &info, &err) < 0) {
        report_daemon_error(&err);
        return 1;
    }
    bool fresh = !strcmp(info.status, "created");
    container_info_free(&info);
    struct logs_opts logs = {
        .follow = true, .tail = fresh ? -1 : 0, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO};
    int exit_code = 0;
    if (runtime_start(&paths, id, &err) < 0 || runtime_logs(&paths, id, &logs, &err) < 0 ||
        runtime_wait(&paths, id, &exit_code, &err) < 0) {
        report_daemon_error(&err);
        return 1;
    }
    return exit_code;
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
    bool attach = false;
    const struct opt opts[] = {
        {"attach", 'a', OPT_BOOL, &attach, "Attach STDOUT/STDERR and forward signals", NULL},
        /* later work; refused until then, never ignored */
        {"interactive", 'i', OPT_UNSUPPORTED_BOOL, NULL, "", NULL},
    };
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth start [OPTIONS] CONTAINER [CONTAINER...]",
                       "Start one or more stopped containers", opts, ARRAY_SIZE(opts), argc, argv,
                       &args, &code) ||
        !need_args(cli, &args, &code))
        return code;
    if (attach && args.n > 1) {
        fprintf(stderr, "you cannot start and attach multiple containers at once\n");
        return 1;
    }
    if (attach)
        return start_attached(cli, args.v[0]);
    /* docker names the ones that failed once more, after each one's own error */
    _cleanup_strv_ struct strv failed = {0};
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    for (size_t i = 0; i < args.n; i++) {
        struct berr err = {0};
        char id[65];
        if (runtime_find(&paths, args.v[i], id, &err) == 0 &&
            runtime_start(&paths, id, &err) == 0) {
            printf("%s\n", args.v[i]);
            continue;
        }
        report_daemon_error(&err);
        strv_push(&failed, args.v[i]);
    }
    fflush(stdout);
    if (failed.n == 0)
        return 0;
    fprintf(stderr, "Error: failed to start containers: ");
    for (size_t i = 0; i < failed.n; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", failed.v[i]);
    fprintf(stderr, "\n");
    return 1;
}
