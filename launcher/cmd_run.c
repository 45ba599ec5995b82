#include "image/image.h"
#include "launcher.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>

struct run_flags {
    char *name, *user, *workdir, *hostname, *net, *entrypoint, *cidfile;
    /* cgroup flags, parsed by cgroup/ with docker's rules */
    char *cgroup_parent, *cpus, *cpu_period, *cpu_quota, *cpu_shares, *cpuset_cpus, *cpuset_mems,
        *memory, *memory_swap, *pids_limit;
    char *pull; /* missing (NULL), always, never */
    bool rm, readonly, interactive, help, entrypoint_seen, detach;
    struct strv volumes, env, env_files, group_add, cap_add, cap_drop, security_opts;
};

static const char run_usage[] = "berth run [OPTIONS] IMAGE [COMMAND] [ARG...]";
static const char run_summary[] = "Create and run a new container from an image";

#define UNSUPPORTED(n, s)                                                                          \
    {                                                                                              \
        n, s, OPT_UNSUPPORTED, NULL, "", NULL                                                      \
    }
#define UNSUPPORTED_BOOL(n, s)                                                                     \
    {                                                                                              \
        n, s, OPT_UNSUPPORTED_BOOL, NULL, "", NULL                                                 \
    }

static struct opt *run_table(struct run_flags *f, size_t *n)
{
    const struct opt opts[] = {
        {"cap-add", 0, OPT_LIST, &f->cap_add, "Add Linux capabilities", NULL},
        {"cap-drop", 0, OPT_LIST, &f->cap_drop, "Drop Linux capabilities", NULL},
        {"cidfile", 0, OPT_STRING, &f->cidfile, "Write the container ID to the file", NULL},
        {"cgroup-parent", 0, OPT_STRING, &f->cgroup_parent,
         "Optional parent cgroup for the container (default /berth)", NULL},
        {"cpus", 0, OPT_STRING, &f->cpus, "Number of CPUs", NULL},
        {"cpu-period", 0, OPT_STRING, &f->cpu_period,
         "Limit CPU CFS (Completely Fair Scheduler) period", NULL},
        {"cpu-quota", 0, OPT_STRING, &f->cpu_quota,
         "Limit CPU CFS (Completely Fair Scheduler) quota", NULL},
        {"cpu-shares", 'c', OPT_STRING, &f->cpu_shares, "CPU shares (relative weight)", NULL},
        {"cpuset-cpus", 0, OPT_STRING, &f->cpuset_cpus,
         "CPUs in which to allow execution (0-3, 0,1)", NULL},
        {"cpuset-mems", 0, OPT_STRING, &f->cpuset_mems,
         "MEMs in which to allow execution (0-3, 0,1)", NULL},
        {"memory", 'm', OPT_STRING, &f->memory, "Memory limit", NULL},
        {"memory-swap", 0, OPT_STRING, &f->memory_swap,
         "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", NULL},
        {"pids-limit", 0, OPT_STRING, &f->pids_limit,
         "Tune container pids limit (set -1 for unlimited)", NULL},
        {"detach", 'd', OPT_BOOL, &f->detach, "Run container in background and print container ID",
         NULL},
        {"entrypoint", 0, OPT_STRING, &f->entrypoint,
         "Overwrite the default ENTRYPOINT of the image", &f->entrypoint_seen},
        {"env", 'e', OPT_LIST, &f->env, "Set environment variables", NULL},
        {"env-file", 0, OPT_LIST, &f->env_files, "Read in a file of environment variables", NULL},
        {"group-add", 0, OPT_LIST, &f->group_add, "Add additional groups to join", NULL},
        {"hostname", 'h', OPT_STRING, &f->hostname, "Container host name", NULL},
        {"interactive", 'i', OPT_BOOL, &f->interactive, "Keep STDIN open", NULL},
        {"name", 0, OPT_STRING, &f->name, "Assign a name to the container", NULL},
        {"net", 0, OPT_STRING, &f->net, "Connect a container to a network (host or none)", NULL},
        {"network", 0, OPT_STRING, &f->net, "Connect a container to a network (host or none)",
         NULL},
        {"pull", 0, OPT_STRING, &f->pull,
         "Pull image before running (\"always\", \"missing\", \"never\")", NULL},
        {"read-only", 0, OPT_BOOL, &f->readonly,
         "Mount the container's root filesystem as read only", NULL},
        {"rm", 0, OPT_BOOL, &f->rm, "Automatically remove the container when it exits", NULL},
        {"security-opt", 0, OPT_LIST, &f->security_opts, "Security Options", NULL},
        {"user", 'u', OPT_STRING, &f->user, "Username or UID (format: <name|uid>[:<group|gid>])",
         NULL},
        {"volume", 'v', OPT_LIST, &f->volumes, "Bind mount a volume", NULL},
        {"workdir", 'w', OPT_STRING, &f->workdir, "Working directory inside the container", NULL},
        /* docker flags that later work brings; refused until then, never ignored */
        UNSUPPORTED("publish", 'p'),
        UNSUPPORTED_BOOL("privileged", 0),
        UNSUPPORTED("device", 0),
        UNSUPPORTED_BOOL("tty", 't'),
        UNSUPPORTED("tmpfs", 0),
        UNSUPPORTED("ulimit", 0),
        UNSUPPORTED("mount", 0),
        UNSUPPORTED("pid", 0),
        UNSUPPORTED("ipc", 0),
        UNSUPPORTED("uts", 0),
        UNSUPPORTED("add-host", 0),
        UNSUPPORTED("dns", 0),
        UNSUPPORTED_BOOL("init", 0),
        UNSUPPORTED("restart", 0),
        UNSUPPORTED("log-driver", 0),
        UNSUPPORTED("shm-size", 0),
        UNSUPPORTED("label", 'l'),
        UNSUPPORTED("expose", 0),
        UNSUPPORTED("userns", 0),
        UNSUPPORTED("sysctl", 0),
        UNSUPPORTED("stop-signal", 0),
        UNSUPPORTED("stop-timeout", 0),
        UNSUPPORTED("platform", 0),
        UNSUPPORTED("attach", 'a'),
    };
    *n = ARRAY_SIZE(opts);
    struct opt *t = xcalloc(*n, sizeof(*t));
    memcpy(t, opts, sizeof(opts));
    return t;
}

/* run's flags but -d: a created container waits for berth start */
static struct opt *create_table(struct run_flags *f, size_t *n)
{
    struct opt *t = run_table(f, n);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(t[i].name, "detach"))
            t[k++] = t[i];
    }
    *n = k;
    return t;
}

static void run_flags_free(struct run_flags *f)
{
    free(f->name), free(f->user), free(f->workdir), free(f->hostname), free(f->net);
    free(f->entrypoint), free(f->cidfile), free(f->pull);
    char **cg[] = {&f->cgroup_parent, &f->cpus,        &f->cpu_period,  &f->cpu_quota,
                   &f->cpu_shares,    &f->cpuset_cpus, &f->cpuset_mems, &f->memory,
                   &f->memory_swap,   &f->pids_limit};
    for (size_t i = 0; i < ARRAY_SIZE(cg); i++)
        free(*cg[i]);
    struct strv *lists[] = {&f->volumes, &f->env,      &f->env_files,    &f->group_add,
                            &f->cap_add, &f->cap_drop, &f->security_opts};
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
        strv_free(lists[i]);
}
/* docker's CLI reads the profile itself, relative to its cwd; "builtin" names the default.
 * who reads it: the caller for a flag, berth itself for berth.conf's default (root's file). */
static int seccomp_opt(const char *v, const struct ident *who, struct container_spec *spec,
                       struct berr *err)
{
    free(spec->seccomp_path);
    free(spec->seccomp_profile);
    spec->seccomp_path = spec->seccomp_profile = NULL;
    spec->seccomp_profile_len = 0;
    if (!strcmp(v, "unconfined")) {
        spec->seccomp = RUNTIME_SECCOMP_UNCONFINED;
        return 0;
    }
    if (!strcmp(v, "builtin")) {
        spec->seccomp = RUNTIME_SECCOMP_DEFAULT;
        return 0;
    }
    spec->seccomp = RUNTIME_SECCOMP_PROFILE;
    spec->seccomp_path = xstrdup(v);
    if (ident_read_file(who, v, 16 << 20, &spec->seccomp_profile, &spec->seccomp_profile_len, err) <
        0)
        return berr_set(err, BERR_USAGE, "opening seccomp profile (%s) failed: %s", v,
                        err->errnum ? strerror(err->errnum) : "larger than 16 MiB");
    return 0;
}

static void print_warning(const char *msg)
{
    fprintf(stderr, "WARNING: %s\n", msg);
}

static bool has_seccomp_opt(const struct strv *opts)
{
    for (size_t i = 0; i < opts->n; i++) {
        if (str_has_prefix(opts->v[i], "seccomp=") || str_has_prefix(opts->v[i], "seccomp:"))
            return true;
    }
    return false;
}

static int apply_security_opts(const struct strv *opts, struct container_spec *spec,
                               struct berr *err)
{
    for (size_t i = 0; i < opts->n; i++) {
        const char *o = opts->v[i];
        bool value = true;
        if (!strcmp(o, "no-new-privileges")) {
            spec->no_new_privs = true;
            continue;
        }
        if ((str_has_prefix(o, "no-new-privileges=") || str_has_prefix(o, "no-new-privileges:"))) {
            if (parse_bool(o + strlen("no-new-privileges="), &value) < 0)
                return berr_set(err, BERR_USAGE, "invalid --security-opt 2: \"%s\"", o);
            spec->no_new_privs = value;
            continue;
        }
        if (str_has_prefix(o, "seccomp=") || str_has_prefix(o, "seccomp:")) {
            if (seccomp_opt(o + strlen("seccomp="), spec->caller, spec, err) < 0)
                return -1;
            continue;
        }
        return berr_set(err, BERR_USAGE, "invalid --security-opt: \"%s\"", o);
    }
    return 0;
}

static int normalize_caps(const struct strv *in, struct strv *out, struct berr *err)
{
    for (size_t i = 0; i < in->n; i++) {
        char *c = NULL;
        if (runtime_cap_normalize(in->v[i], &c, err) < 0)
            return -1;
        strv_push_owned(out, c);
    }
    return 0;
}

/* false when berth has no such network */
static bool network_of(const char *net, enum net_mode *out)
{
    *out = net && !strcmp(net, "host") ? NET_HOST : NET_NONE;
    return !net || !strcmp(net, "none") || !strcmp(net, "default") || *out == NET_HOST;
}

static int parse_network(const char *net, enum net_mode *out, struct berr *err)
{
    if (!network_of(net, out))
        return berr_set(err, BERR_USAGE,
                        "network %s not found: berth has only the host and none networks", net);
    return 0;
}

/* An integer flag as pflag parses it: the whole word, in range. */
static int int_flag(const char *flag, const char *s, long long min, long long *out,
                    struct berr *err)
{
    if (!s)
        return 0;
    if (parse_long(s, min, LLONG_MAX, out) < 0)
        return berr_set(err, BERR_USAGE, "invalid argument \"%s\" for \"%s\" flag: invalid syntax",
                        s, flag);
    return 0;
}

/* --memory-swap also takes -1 (unlimited) */
static int swap_flag(const char *s, long long *out, struct berr *err)
{
    if (s && !strcmp(s, "-1")) {
        *out = -1;
        return 0;
    }
    return s ? cgroup_parse_bytes("--memory-swap", s, out, err) : 0;
}

/* docker joins a relative parent to its own cgroup; berth has none, so it starts at the root */
static char *cgroup_parent_flag(const char *p)
{
    if (!p || !*p)
        return NULL;
    char *abs = p[0] == '/' ? xstrdup(p) : xasprintf("/%s", p);
    size_t n = strlen(abs);
    while (n > 1 && abs[n - 1] == '/')
        abs[--n] = '\0';
    return abs;
}

static int build_limits(const struct cli *cli, const struct run_flags *f, struct container_spec *s,
                        struct berr *err)
{
    struct cgroup_limits *l = &s->limits;
    s->cgroup_parent = cgroup_parent_flag(f->cgroup_parent);
    if (!s->cgroup_parent && cli->cgroup_parent)
        s->cgroup_parent = xstrdup(cli->cgroup_parent);
    l->cpuset_cpus = f->cpuset_cpus ? xstrdup(f->cpuset_cpus) : NULL;
    l->cpuset_mems = f->cpuset_mems ? xstrdup(f->cpuset_mems) : NULL;
    if ((f->cpus && cgroup_parse_cpus(f->cpus, &l->nano_cpus, err) < 0) ||
        int_flag("--cpu-period", f->cpu_period, 0, &l->cpu_period, err) < 0 ||
        int_flag("--cpu-quota", f->cpu_quota, -1, &l->cpu_quota, err) < 0 ||
        int_flag("--cpu-shares", f->cpu_shares, 0, &l->cpu_shares, err) < 0 ||
        int_flag("--pids-limit", f->pids_limit, -1, &l->pids_limit, err) < 0 ||
        (f->memory && cgroup_parse_bytes("-m, --memory", f->memory, &l->memory, err) < 0) ||
        swap_flag(f->memory_swap, &l->memory_swap, err) < 0)
        return -1;
    return 0;
}

static int build_spec(const struct cli *cli, struct run_flags *f, const struct strv *args,
                      struct container_spec *s, struct berr *err)
{
    if (args->n == 0)
        return berr_set(err, BERR_USAGE, "\"berth %s\" requires at least 1 argument.",
                        cli->command ? cli->command : "run");
    s->caller = cli->caller;
    s->image_ref = xstrdup(args->v[0]);
    for (size_t i = 1; i < args->n; i++)
        strv_push(&s->cmd, args->v[i]);
    s->name = steal_ptr(&f->name);
    s->user = steal_ptr(&f->user);
    s->workdir = f->workdir && *f->workdir ? steal_ptr(&f->workdir) : NULL;
    s->hostname = steal_ptr(&f->hostname);
    s->cidfile = f->cidfile && *f->cidfile ? steal_ptr(&f->cidfile) : NULL;
    s->readonly_root = f->readonly;
    s->remove_on_exit = f->rm;
    s->interactive = f->interactive;
    if (f->entrypoint_seen) {
        s->entrypoint_set = true;
        if (f->entrypoint && *f->entrypoint)
            strv_push(&s->entrypoint, f->entrypoint);
    }
    for (size_t i = 0; i < f->group_add.n; i++)
        strv_push(&s->group_add, f->group_add.v[i]);
    for (size_t i = 0; i < f->env_files.n; i++) {
        if (cli_env_file_read(cli, f->env_files.v[i], &s->env, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < f->env.n; i++)
        cli_env_add(cli, &s->env, f->env.v[i]);
    if (parse_network(f->net, &s->net, err) < 0 ||
        apply_security_opts(&f->security_opts, s, err) < 0 ||
        (!has_seccomp_opt(&f->security_opts) && cli->seccomp_profile &&
         seccomp_opt(cli->seccomp_profile, NULL, s, err) < 0) ||
        normalize_caps(&f->cap_add, &s->cap_add, err) < 0 ||
        normalize_caps(&f->cap_drop, &s->cap_drop, err) < 0)
        return -1;
    if (build_limits(cli, f, s, err) < 0)
        return -1;
    s->binds = xcalloc(f->volumes.n, sizeof(*s->binds));
    for (size_t i = 0; i < f->volumes.n; i++) {
        if (mounts_parse_volume(f->volumes.v[i], &s->binds[i], err) < 0)
            return -1;
        s->nbinds++;
    }
    return runtime_spec_validate(s, err);
}

int run_attach_image(struct cli *cli, struct container_spec *s, struct berr *err)
{
    struct image_store store;
    if (image_store_open(cli_root(cli), &store, err) < 0)
        return -1;
    struct image img = {0};
    int rc = image_resolve(&store, s->image_ref, &img, err);
    image_store_close(&store);
    if (rc < 0)
        return -1;
    s->image_id = xstrdup(img.id);
    s->layers = img.layers;
    s->image_env = img.config.env;
    s->image_entrypoint = img.config.entrypoint;
    s->image_cmd = img.config.cmd;
    s->image_workdir = steal_ptr(&img.config.workdir);
    s->image_user = steal_ptr(&img.config.user);
    img.layers = (struct strv){0};
    img.config.env = img.config.entrypoint = img.config.cmd = (struct strv){0};
    image_free(&img);
    return 0;
}

static int spec_from_argv(struct opt *(*table_of)(struct run_flags *, size_t *), struct cli *cli,
                          int argc, char **argv, struct container_spec *spec, bool *detach,
                          struct berr *err)
{
    struct run_flags f = {0};
    size_t n = 0;
    _cleanup_free_ struct opt *table = table_of(&f, &n);
    _cleanup_strv_ struct strv args = {0};
    int rc = opts_parse(table, n, cli, argc, argv, false, &args, err);
    if (rc == 0)
        rc = build_spec(cli, &f, &args, spec, err);
    *detach = f.detach;
    run_flags_free(&f);
    return rc;
}

int run_spec_from_argv(struct cli *cli, int argc, char **argv, struct container_spec *spec,
                       bool *detach, struct berr *err)
{
    return spec_from_argv(run_table, cli, argc, argv, spec, detach, err);
}

int create_spec_from_argv(struct cli *cli, int argc, char **argv, struct container_spec *spec,
                          struct berr *err)
{
    bool detach;
    return spec_from_argv(create_table, cli, argc, argv, spec, &detach, err);
}

int (*cli_pull_hook)(struct cli *cli, const char *ref, bool quiet, FILE *out,
                     struct berr *err) = NULL;

static bool tagged(const char *ref)
{
    const char *slash = strrchr(ref, '/');
    return strchr(ref, '@') || strchr(slash ? slash : ref, ':');
}

/* A pull first drops the monitor started ahead (ahead NULL: create has none): the signals a
 * foreground run's takes over would wait through the pull; the start spawns another after it. */
static int pull_for_run(struct cli *cli, const char *ref, struct runtime_monitor **ahead,
                        struct berr *err)
{
    if (ahead)
        runtime_monitor_free(steal_ptr(ahead));
    return cli_pull_hook(cli, ref, false, stderr, err);
}

/* docker's --pull: "missing" pulls an image the store lacks, "always" before every run,
 * "never" refuses a missing one with the daemon's "No such image". The pull's lines go to
 * stderr, stdout being the container's. */
static int attach_image_pulling(struct cli *cli, const char *policy, struct container_spec *s,
                                struct runtime_monitor **ahead, struct berr *err)
{
    const char *p = policy ? policy : "missing";
    if (strcmp(p, "missing") && strcmp(p, "always") && strcmp(p, "never"))
        return berr_set(err, BERR_USAGE,
                        "invalid pull option: '%s': must be one of \"always\", \"missing\" "
                        "or \"never\"",
                        p);
    if (!strcmp(p, "always") && cli_pull_hook) {
        if (pull_for_run(cli, s->image_ref, ahead, err) < 0)
            return -1;
        return run_attach_image(cli, s, err);
    }
    if (run_attach_image(cli, s, err) == 0)
        return 0;
    if (err->kind != BERR_NOT_FOUND)
        return -1;
    if (!strcmp(p, "never"))
        return berr_set(err, BERR_NOT_FOUND, "Error response from daemon: No such image: %s%s",
                        s->image_ref, tagged(s->image_ref) ? "" : ":latest");
    if (!cli_pull_hook)
        return -1;
    fprintf(stderr, "Unable to find image '%s%s' locally\n", s->image_ref,
            tagged(s->image_ref) ? "" : ":latest");
    if (pull_for_run(cli, s->image_ref, ahead, err) < 0)
        return -1;
    return run_attach_image(cli, s, err);
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
    struct run_flags f = {0};
    size_t n = 0;
    _cleanup_free_ struct opt *table = run_table(&f, &n);
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    struct container_spec spec = {0};
    struct runtime_monitor *monitor = NULL;
    int code = 125;
    if (opts_parse(table, n, cli, argc, argv, false, &args, &err) < 0)
        goto fail;
    trace_phase("args");
    if (cli->global.help) {
        print_usage(stdout, run_usage, run_summary, table, n);
        code = 0;
        goto out;
    }
    if (!cli_admit(cli, &code))
        goto out;
    trace_phase("admit");
    spec.warn = print_warning;
    /* nothing is re-executed: the container's monitor, started from a read-only clone of
     * berth's binary (or berth-runtime's, on the host's network), runs it (attached without
     * -d) while this berth creates it; it starts now, beside the spec and the image. A network
     * berth lacks is build_spec's to refuse. */
    enum net_mode net;
    network_of(f.net, &net);
    if (runtime_monitor_ahead(&monitor, !f.detach, net, &err) < 0)
        goto fail;
    if (build_spec(cli, &f, &args, &spec, &err) < 0)
        goto fail;
    trace_phase("spec");
    if (attach_image_pulling(cli, f.pull, &spec, &monitor, &err) < 0)
        goto fail;
    trace_phase("image");
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    if (f.detach) {
        char id[65];
        if (runtime_run_detached(&paths, &spec, steal_ptr(&monitor), id, &err) < 0)
            goto fail;
        printf("%s\n", id);
        if (trace_enabled()) /* the id out of stdio's buffer: what the caller waits for */
            fflush(stdout);
        trace_phase("handback");
        code = 0;
        goto out;
    }
    int status = 0;
    if (runtime_run(&paths, &spec, steal_ptr(&monitor), &status, &err) < 0)
        goto fail;
    trace_phase("handback");
    code = status;
    goto out;
fail:
    report_error(cli, &err);
    code = runtime_start_exit_code(err.kind);
out:
    runtime_monitor_free(monitor);
    runtime_spec_free(&spec);
    run_flags_free(&f);
    return code;
}

static const char create_usage[] = "berth create [OPTIONS] IMAGE [COMMAND] [ARG...]";
static const char create_summary[] = "Create a new container";

/* docker create's CLI: a bad flag is "docker: ..." with exit 125, what the daemon refuses (no
 * such image, a name in use, a pull that failed) its plain text with exit 1, unlike run's 125
 * (create.go returns createContainer's error as it is, run.go through toStatusError). */
static int report_create_error(const struct cli *cli, const struct berr *err)
{
    if (err->kind == BERR_USAGE) {
        report_error(cli, err);
        return 125;
    }
    if (str_has_prefix(err->msg, "Error response from daemon: "))
        fprintf(stderr, "%s\n", err->msg);
    else
        report_daemon_error(err);
    return 1;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
    struct run_flags f = {0};
    size_t n = 0;
    _cleanup_free_ struct opt *table = create_table(&f, &n);
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    struct container_spec spec = {0};
    int code = 125;
    if (opts_parse(table, n, cli, argc, argv, false, &args, &err) < 0)
        goto fail;
    if (cli->global.help) {
        print_usage(stdout, create_usage, create_summary, table, n);
        code = 0;
        goto out;
    }
    if (!cli_admit(cli, &code))
        goto out;
    spec.warn = print_warning;
    if (build_spec(cli, &f, &args, &spec, &err) < 0 ||
        attach_image_pulling(cli, f.pull, &spec, NULL, &err) < 0)
        goto fail;
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    char id[65];
    if (runtime_create(&paths, &spec, id, &err) < 0)
        goto fail;
    printf("%s\n", id);
    code = 0;
    goto out;
fail:
    code = report_create_error(cli, &err);
out:
    runtime_spec_free(&spec);
    run_flags_free(&f);
    return code;
}
