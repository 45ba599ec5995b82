/* berth join, and berth as `nsenter`: util-linux nsenter's flags and exit statuses over
 * runtime_join. Invoked as `nsenter` or `berth-nsenter` (a link beside berth), argv is
 * nsenter's exactly, so Storm's worker-launcher can name berth as its nsenter.binary: it runs
 * `nsenter --target PID --mount --pid --setuid U --setgid G` and feeds the profiler's line to
 * the shell on stdin. As `berth join`, a container may be named instead of --target. */
#include "launcher.h"
#include "runtime/runtime.h"

#include <libgen.h>
#include <sched.h>
#include <string.h>

static const char join_usage[] =
    "berth join [OPTIONS] (--target PID | CONTAINER) [COMMAND [ARG...]]";
static const char nsenter_usage[] = "nsenter [OPTIONS] [COMMAND [ARG...]]";
static const char join_summary[] =
    "Run a command in a running container's namespaces, as nsenter does (no seccomp filter, "
    "no capability drop but what --setuid implies)";

struct join_flags {
    char *target, *setuid, *setgid, *user, *workdir;
    bool all, preserve, ns[8];
};

static void join_flags_free(struct join_flags *f)
{
    char **s[] = {&f->target, &f->setuid, &f->setgid, &f->user, &f->workdir};
    for (size_t i = 0; i < ARRAY_SIZE(s); i++)
        free(*s[i]);
}

/* nsenter's namespace flags, in the order of the bools in join_flags.ns */
static const struct {
    const char *name; /* the long flag */
    char shorthand;
    const char *kind; /* /proc/<pid>/ns/<kind> */
} ns_flags[] = {
    {"mount", 'm', "mnt"}, {"uts", 'u', "uts"},       {"ipc", 'i', "ipc"},   {"net", 'n', "net"},
    {"pid", 'p', "pid"},   {"cgroup", 'C', "cgroup"}, {"user", 'U', "user"}, {"time", 'T', "time"},
};

static size_t build_table(struct join_flags *f, bool nsenter, struct opt *t)
{
    size_t n = 0;
    t[n++] = (struct opt){"target",
                          't',
                          OPT_STRING,
                          &f->target,
                          "Target process to get "
                          "namespaces from",
                          NULL};
    for (size_t i = 0; i < ARRAY_SIZE(ns_flags); i++) {
        /* as berth join, --user names the user to run as (exec's -u); -U is the namespace */
        bool user_ns = ns_flags[i].shorthand == 'U';
        t[n++] = (struct opt){user_ns && !nsenter ? "userns" : ns_flags[i].name,
                              ns_flags[i].shorthand,
                              OPT_BOOL,
                              &f->ns[i],
                              "Enter that namespace of the target",
                              NULL};
    }
    t[n++] = (struct opt){"all", 'a', OPT_BOOL, &f->all, "Enter all namespaces", NULL};
    t[n++] =
        (struct opt){"setuid", 'S', OPT_STRING, &f->setuid, "Set uid in entered namespace", NULL};
    t[n++] =
        (struct opt){"setgid", 'G', OPT_STRING, &f->setgid, "Set gid in entered namespace", NULL};
    t[n++] = (struct opt){"preserve-credentials",      0,   OPT_BOOL, &f->preserve,
                          "Do not touch uids or gids", NULL};
    t[n++] = (struct opt){"wd", 'w', OPT_STRING, &f->workdir, "Set the working directory", NULL};
    if (!nsenter)
        t[n++] = (struct opt){
            "user", 0, OPT_STRING, &f->user, "Username or UID in the container's /etc/passwd",
            NULL};
    t[n++] = (struct opt){"no-fork", 'F', OPT_UNSUPPORTED_BOOL, NULL, "", NULL};
    return n;
}

static int parse_id(const char *flag, const char *v, long long *out, struct berr *err)
{
    if (parse_long(v, 0, 4294967294LL, out) < 0)
        return berr_set(err, BERR_USAGE, "invalid %s argument: '%s'", flag, v);
    return 0;
}

static int fill_ids(const struct join_flags *f, struct join_spec *s, struct berr *err)
{
    long long v;
    if (f->setuid) {
        if (parse_id("--setuid", f->setuid, &v, err) < 0)
            return -1;
        s->set_uid = true, s->uid = (uid_t)v;
    }
    if (f->setgid) {
        if (parse_id("--setgid", f->setgid, &v, err) < 0)
            return -1;
        s->set_gid = true, s->gid = (gid_t)v;
    }
    s->user = f->user;
    s->preserve_credentials = f->preserve;
    s->workdir = f->workdir;
    return 0;
}

static int namespaces_of(const struct join_flags *f)
{
    int flags = 0;
    for (size_t i = 0; !f->all && i < ARRAY_SIZE(ns_flags); i++) {
        if (f->ns[i])
            flags |= runtime_join_namespace_flag(ns_flags[i].kind);
    }
    return flags; /* none given, or --all: every one of the target's */
}

/* nsenter's default command: $SHELL (else /bin/sh) as a login shell, "-" + its name. */
static void default_command(const struct cli *cli, struct join_spec *s, char **program)
{
    const char *shell = cli_getenv(cli, "SHELL");
    *program = xstrdup(shell && *shell ? shell : "/bin/sh");
    _cleanup_free_ char *copy = xstrdup(*program);
    strv_push_owned(&s->argv, xasprintf("-%s", basename(copy)));
    s->program = *program;
}

/* A caller handed over by a setuid launcher joins its own containers, by name, as itself, and
 * gains nothing by exec: root in a container's namespaces with every capability would be root
 * on the host, and a setuid-root file of the image would make it that. */
static int confine_handed_over(const struct cli *cli, struct join_spec *s, struct berr *err)
{
    if (!cli->caller)
        return 0;
    if (!s->container)
        return berr_set(err, BERR_USAGE,
                        "a caller handed over by a setuid launcher names its container, not a pid");
    if ((s->set_uid && s->uid != cli->caller->uid) || (s->set_gid && s->gid != cli->caller->gid) ||
        s->user || s->preserve_credentials)
        return berr_set(err, BERR_USAGE,
                        "a caller handed over by a setuid launcher joins as itself (uid %u)",
                        (unsigned)cli->caller->uid);
    s->set_uid = s->set_gid = true;
    s->no_new_privs = true;
    s->uid = cli->caller->uid;
    s->gid = cli->caller->gid;
    return 0;
}

static int exit_code(const struct berr *err)
{
    return err->kind == BERR_CMD_NOT_FOUND ? 127 : err->kind == BERR_CMD_NOT_EXEC ? 126 : 1;
}

static int join_main(struct cli *cli, bool nsenter, int argc, char **argv)
{
    struct join_flags f = {0};
    struct opt table[20];
    size_t n = build_table(&f, nsenter, table);
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    _cleanup_free_ char *program = NULL;
    struct join_spec s = {0};
    char id[65];
    int code = 1, status = 0;
    if (opts_parse(table, n, cli, argc, argv, false, &args, &err) < 0)
        goto fail;
    if (cli->global.help) {
        print_usage(stdout, nsenter ? nsenter_usage : join_usage, join_summary, table, n);
        code = 0;
        goto out;
    }
    if (!cli_admit(cli, &code))
        goto out;
    /* first: the re-executed berth parses and reads everything again */
    if (cli_reexec_readonly(cli, &err) < 0)
        goto fail;
    size_t first = 0;
    long long pid = 0;
    if (f.target && parse_long(f.target, 1, 4194304, &pid) < 0) {
        berr_set(&err, BERR_USAGE, "invalid target PID argument: '%s'", f.target);
        goto fail;
    }
    if (!f.target && (nsenter || args.n == 0)) {
        berr_set(&err, BERR_USAGE, "no target PID or container specified");
        goto fail;
    }
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    if (!f.target) {
        if (runtime_find(&paths, args.v[0], id, &err) < 0)
            goto fail;
        s.container = id;
        first = 1;
    }
    s.target_pid = (pid_t)pid;
    s.namespaces = namespaces_of(&f);
    if (fill_ids(&f, &s, &err) < 0 || confine_handed_over(cli, &s, &err) < 0)
        goto fail;
    for (size_t i = first; i < args.n; i++)
        strv_push(&s.argv, args.v[i]);
    if (s.argv.n == 0)
        default_command(cli, &s, &program);
    if (runtime_join(&paths, &s, &status, &err) < 0)
        goto fail;
    code = status;
    goto out;
fail:
    report_error(cli, &err);
    code = exit_code(&err);
out:
    strv_free(&s.argv);
    join_flags_free(&f);
    return code;
}

int cmd_join(struct cli *cli, int argc, char **argv)
{
    return join_main(cli, false, argc, argv);
}

int cmd_nsenter(struct cli *cli, int argc, char **argv)
{
    return join_main(cli, true, argc, argv);
}
