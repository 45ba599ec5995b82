/* berth-oci's commands on a container's lifecycle (create, start, run, state, kill, delete,
 * pause, resume, list, ps), each with the hooks the runtime spec gives it; and spec and
 * features, which touch no container. runtime/bundle.c has the lifecycle itself. */
#include "oci.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void gen_state(yajl_gen g, const char *id, const struct runtime_oci_state *s)
{
    yajl_gen_map_open(g);
    json_key_str(g, "ociVersion", "1.0.2");
    json_key_str(g, "id", id);
    json_key_int(g, "pid", s->pid);
    json_key_str(g, "status", s->status);
    json_key_str(g, "bundle", s->bundle);
    json_key_str(g, "rootfs", s->rootfs);
    char created[40];
    format_rfc3339(&s->created, created);
    json_key_str(g, "created", created);
    json_key_str(g, "owner", "");
    /* the bundle's annotations; berth's own are its business */
    json_str(g, "annotations");
    yajl_gen_map_open(g);
    yajl_val ann = json_get(s->description, "annotations");
    for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++) {
        if (str_has_prefix(ann->u.object.keys[i], "io.berth."))
            continue;
        json_str(g, ann->u.object.keys[i]);
        json_gen_value(g, ann->u.object.values[i]);
    }
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

/* The state JSON as a hook gets it, with the status of the moment the spec names. */
static char *hook_state(const char *id, const struct runtime_oci_state *s, const char *status)
{
    struct runtime_oci_state at = *s;
    at.status = status;
    yajl_gen g = json_gen_new(false);
    gen_state(g, id, &at);
    return json_gen_take(g, NULL);
}

/* The hooks of kinds (NULL-ended), each kind's state status, in the container's namespaces or
 * ours; a failure fails the call. */
static int run_hooks(const struct oci_cli *cli, const char *id, const char *const *kinds,
                     const char *status, bool in_container, struct berr *err)
{
    struct runtime_oci_state s;
    if (runtime_oci_state(&cli->paths, id, &s, err) < 0)
        return -1;
    int rc = 0;
    _cleanup_free_ char *state = hook_state(id, &s, status);
    for (size_t i = 0; rc == 0 && kinds[i]; i++)
        rc = oci_hooks_run(cli, kinds[i], s.description, state, in_container ? s.pid : 0, err);
    runtime_oci_state_free(&s);
    return rc;
}

/* poststop once the container is gone: a failure is only a warning */
static int do_delete(const struct oci_cli *cli, const char *id, bool force, struct berr *err)
{
    struct runtime_oci_state s;
    if (runtime_oci_state(&cli->paths, id, &s, err) < 0)
        return -1;
    int rc = runtime_oci_delete(&cli->paths, id, force, err);
    struct berr warn = {0};
    if (rc == 0 && oci_has_hooks(s.description, "poststop")) {
        _cleanup_free_ char *state = hook_state(id, &s, "stopped");
        if (oci_hooks_run(cli, "poststop", s.description, state, 0, &warn) < 0) {
            fprintf(stderr, "berth-oci: warning: %s\n", warn.msg);
            oci_log_line(cli, "warning", warn.msg);
        }
    }
    runtime_oci_state_free(&s);
    return rc;
}

struct create_flags {
    const char *bundle, *pid_file, *console_socket;
    bool detach;
    const char *id;
};

/* create's and run's flags; NULL or an error message. */
/* 0, or the exit status of a usage error (already reported) */
static int parse_create(const struct oci_cli *cli, int argc, char **argv, bool run,
                        struct create_flags *f)
{
    *f = (struct create_flags){.bundle = "."};
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = oci_opt_value(argc, argv, &i, "--bundle", "-b")))
            f->bundle = v;
        else if ((v = oci_opt_value(argc, argv, &i, "--pid-file", NULL)))
            f->pid_file = v;
        else if ((v = oci_opt_value(argc, argv, &i, "--console-socket", NULL)))
            f->console_socket = v;
        else if (oci_is_flag(argv[i], "--no-pivot", NULL) ||
                 oci_is_flag(argv[i], "--no-new-keyring", NULL))
            continue; /* berth always pivots and never makes a session keyring */
        else if (run && oci_is_flag(argv[i], "--detach", "-d"))
            f->detach = true;
        else if (argv[i][0] == '-')
            return oci_usage_error(cli, "unknown flag %s", argv[i]);
        else if (!f->id)
            f->id = argv[i];
        else
            return oci_usage_error(cli, "unexpected argument %s", argv[i]);
    }
    if (!f->id)
        return oci_usage_error(cli, "%s: a container id is required", argv[0]);
    /* runc's rule: the master goes to the socket only when nobody stays to relay it */
    if (run && !f->detach && f->console_socket)
        return oci_usage_error(cli,
                               "--console-socket %s: cannot use console socket if berth-oci will "
                               "not detach",
                               f->console_socket);
    return 0;
}

struct create_hooks_ctx {
    const struct oci_cli *cli;
    const char *id;
};

/* The runtime spec's create hooks, while the init waits before its pivot_root: prestart and
 * createRuntime in berth-oci's namespaces, then createContainer in the container's. */
static int create_hooks(void *ctx, struct berr *err)
{
    const struct create_hooks_ctx *h = ctx;
    static const char *const host[] = {"prestart", "createRuntime", NULL};
    static const char *const inside[] = {"createContainer", NULL};
    if (run_hooks(h->cli, h->id, host, "creating", false, err) < 0 ||
        run_hooks(h->cli, h->id, inside, "creating", true, err) < 0)
        return -1;
    return 0;
}

static int do_create(const struct oci_cli *cli, const struct create_flags *f, pid_t *init)
{
    struct berr err = {0};
    pid_t pid;
    _cleanup_close_ int console = -1;
    if (f->console_socket && (console = oci_connect_console(f->console_socket, &err)) < 0)
        return oci_fail(cli, &err);
    struct create_hooks_ctx ctx = {.cli = cli, .id = f->id};
    struct runtime_oci_create_opts opts = {
        .console_fd = console, .create_hooks = create_hooks, .ctx = &ctx};
    if (runtime_oci_create(&cli->paths, f->id, f->bundle, &opts, &pid, &err) < 0)
        return oci_fail(cli, &err);
    *init = pid;
    if (f->pid_file && oci_write_pid_file(f->pid_file, pid, &err) < 0) {
        struct berr ignored = {0};
        runtime_oci_delete(&cli->paths, f->id, true, &ignored);
        return oci_fail(cli, &err);
    }
    return 0;
}

int oci_cmd_create(const struct oci_cli *cli, int argc, char **argv)
{
    struct create_flags f;
    pid_t init;
    if (parse_create(cli, argc, argv, false, &f) != 0)
        return 1;
    return do_create(cli, &f, &init);
}

static const char *one_id(const struct oci_cli *cli, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        oci_usage_error(cli, "%s: exactly one container id is required", argv[0]);
        return NULL;
    }
    return argv[1];
}

/* startContainer in the container before its process runs (a failure stops it), poststart
 * once it runs (a failure is only a warning) */
static int do_start(const struct oci_cli *cli, const char *id, struct berr *err)
{
    static const char *const inside[] = {"startContainer", NULL};
    static const char *const after[] = {"poststart", NULL};
    if (run_hooks(cli, id, inside, "created", true, err) < 0) {
        struct berr ignored = {0};
        runtime_oci_kill(&cli->paths, id, SIGKILL, true, &ignored);
        return -1;
    }
    if (runtime_oci_start(&cli->paths, id, err) < 0)
        return -1;
    struct berr warn = {0};
    if (run_hooks(cli, id, after, "running", false, &warn) < 0) {
        fprintf(stderr, "berth-oci: warning: %s\n", warn.msg);
        oci_log_line(cli, "warning", warn.msg);
    }
    return 0;
}

int oci_cmd_start(const struct oci_cli *cli, int argc, char **argv)
{
    const char *id = one_id(cli, argc, argv);
    struct berr err = {0};
    if (!id)
        return 1;
    return do_start(cli, id, &err) < 0 ? oci_fail(cli, &err) : 0;
}

/* run in the foreground passes the signals a terminal or supervisor sends on to the
 * container's init, as runc does */
static volatile sig_atomic_t forward_to;

static void forward_signal(int sig)
{
    if (forward_to > 0)
        kill((pid_t)forward_to, sig);
}

static void forward_signals(pid_t init)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    forward_to = init;
    struct sigaction sa = {.sa_handler = forward_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
}

int oci_cmd_run(const struct oci_cli *cli, int argc, char **argv)
{
    struct create_flags f;
    if (parse_create(cli, argc, argv, true, &f) != 0)
        return 1;
    /* the container's init comes to us once its starter has let it go: we reap it, and learn
     * its exit status, as conmon does for podman */
    if (!f.detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        struct berr err = {0};
        berr_errno(&err, "become a subreaper");
        return oci_fail(cli, &err);
    }
    pid_t init = 0;
    int rc = do_create(cli, &f, &init);
    if (rc)
        return rc;
    struct berr err = {0};
    char id64[65];
    if (do_start(cli, f.id, &err) < 0 || runtime_oci_find(&cli->paths, f.id, id64, &err) < 0) {
        struct berr ignored = {0};
        runtime_oci_delete(&cli->paths, f.id, true, &ignored);
        return oci_fail(cli, &err);
    }
    if (f.detach)
        return 0;
    /* the foreground run waits for the exit and removes the container, as runc run does */
    forward_signals(init);
    int status = 0, code = 255;
    for (pid_t p; init > 0 && (p = waitpid(-1, &status, 0)) != init;) {
        if (p < 0 && errno != EINTR)
            break;
    }
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        code = 128 + WTERMSIG(status);
    if (do_delete(cli, f.id, true, &err) < 0)
        return oci_fail(cli, &err);
    return code;
}

int oci_cmd_state(const struct oci_cli *cli, int argc, char **argv)
{
    const char *id = one_id(cli, argc, argv);
    if (!id)
        return 1;
    struct berr err = {0};
    struct runtime_oci_state s;
    if (runtime_oci_state(&cli->paths, id, &s, &err) < 0)
        return oci_fail(cli, &err);
    yajl_gen g = json_gen_new(true);
    gen_state(g, id, &s);
    oci_print_gen(g, stdout);
    runtime_oci_state_free(&s);
    return 0;
}

static int parse_signal(const char *s)
{
    long long n;
    if (parse_long(s, 1, 64, &n) == 0)
        return (int)n;
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    for (int i = 1; i < NSIG; i++) {
        const char *name = sigabbrev_np(i);
        if (name && !strcasecmp(name, s))
            return i;
    }
    return -1;
}

int oci_cmd_kill(const struct oci_cli *cli, int argc, char **argv)
{
    bool all = false;
    const char *id = NULL, *sig = "SIGTERM";
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (oci_is_flag(argv[i], "--all", "-a"))
            all = true;
        else if (argv[i][0] == '-')
            return oci_usage_error(cli, "unknown flag %s", argv[i]);
        else if (pos++ == 0)
            id = argv[i];
        else if (pos == 2)
            sig = argv[i];
        else
            return oci_usage_error(cli, "unexpected argument %s", argv[i]);
    }
    if (!id)
        return oci_usage_error(cli, "%s: a container id is required", argv[0]);
    int signo = parse_signal(sig);
    if (signo < 0)
        return oci_usage_error(cli, "unknown signal %s", sig);
    struct berr err = {0};
    return runtime_oci_kill(&cli->paths, id, signo, all, &err) < 0 ? oci_fail(cli, &err) : 0;
}

static int pause_or_resume(const struct oci_cli *cli, int argc, char **argv, bool pause)
{
    const char *id = one_id(cli, argc, argv);
    struct berr err = {0};
    if (!id)
        return 1;
    return runtime_oci_pause(&cli->paths, id, pause, &err) < 0 ? oci_fail(cli, &err) : 0;
}

int oci_cmd_pause(const struct oci_cli *cli, int argc, char **argv)
{
    return pause_or_resume(cli, argc, argv, true);
}

int oci_cmd_resume(const struct oci_cli *cli, int argc, char **argv)
{
    return pause_or_resume(cli, argc, argv, false);
}

int oci_cmd_delete(const struct oci_cli *cli, int argc, char **argv)
{
    bool force = false;
    const char *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (oci_is_flag(argv[i], "--force", "-f"))
            force = true;
        else if (argv[i][0] == '-')
            return oci_usage_error(cli, "unknown flag %s", argv[i]);
        else if (!id)
            id = argv[i];
        else
            return oci_usage_error(cli, "unexpected argument %s", argv[i]);
    }
    if (!id)
        return oci_usage_error(cli, "%s: a container id is required", argv[0]);
    struct berr err = {0};
    if (do_delete(cli, id, force, &err) < 0) {
        /* runc: deleting what is not there with --force is no error */
        if (force && err.kind == BERR_NOT_FOUND)
            return 0;
        return oci_fail(cli, &err);
    }
    return 0;
}

int oci_cmd_list(const struct oci_cli *cli, int argc, char **argv)
{
    bool json = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = oci_opt_value(argc, argv, &i, "--format", "-f")))
            json = !strcmp(v, "json");
        else if (oci_is_flag(argv[i], "--quiet", "-q"))
            quiet = true;
        else
            return oci_usage_error(cli, "unexpected argument %s", argv[i]);
    }
    struct berr err = {0};
    struct container_info *infos = NULL;
    size_t n = 0;
    if (access(cli->root, F_OK) == 0 &&
        runtime_inspect_all(&cli->paths, &infos, &n, NULL, &err) < 0)
        return oci_fail(cli, &err);
    yajl_gen g = json ? json_gen_new(false) : NULL;
    if (g)
        yajl_gen_array_open(g);
    else if (!quiet)
        printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    for (size_t i = 0; i < n; i++) {
        struct runtime_oci_state s;
        if (runtime_oci_state(&cli->paths, infos[i].name, &s, &err) < 0)
            continue;
        char created[40];
        format_rfc3339(&s.created, created);
        if (g)
            gen_state(g, infos[i].name, &s);
        else if (quiet)
            printf("%s\n", infos[i].name);
        else
            printf("%-12s %-8d %-10s %-40s %-30s %s\n", infos[i].name, (int)s.pid, s.status,
                   s.bundle, created, "root");
        runtime_oci_state_free(&s);
    }
    container_infos_free(infos, n);
    if (g) {
        yajl_gen_array_close(g);
        oci_print_gen(g, stdout);
    }
    return 0;
}

int oci_cmd_ps(const struct oci_cli *cli, int argc, char **argv)
{
    bool json = false;
    const char *id = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = oci_opt_value(argc, argv, &i, "--format", "-f")))
            json = !strcmp(v, "json");
        else if (argv[i][0] == '-')
            return oci_usage_error(cli, "unknown flag %s", argv[i]);
        else if (!id)
            id = argv[i];
    }
    if (!id)
        return oci_usage_error(cli, "%s: a container id is required", argv[0]);
    struct berr err = {0};
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if (runtime_oci_pids(&cli->paths, id, &pids, &n, &err) < 0)
        return oci_fail(cli, &err);
    if (json) {
        yajl_gen g = json_gen_new(false);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
            yajl_gen_integer(g, pids[i]);
        yajl_gen_array_close(g);
        oci_print_gen(g, stdout);
        return 0;
    }
    printf("%-8s %s\n", "PID", "CMD");
    for (size_t i = 0; i < n; i++) {
        char path[64];
        _cleanup_free_ char *comm = NULL;
        struct berr ignored;
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pids[i]);
        if (read_file_at(AT_FDCWD, path, 256, &comm, NULL, &ignored) < 0)
            continue;
        comm[strcspn(comm, "\n")] = '\0';
        printf("%-8d %s\n", (int)pids[i], comm);
    }
    return 0;
}

int oci_cmd_spec(const struct oci_cli *cli, int argc, char **argv)
{
    const char *bundle = ".";
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = oci_opt_value(argc, argv, &i, "--bundle", "-b")))
            bundle = v;
        else
            return oci_usage_error(cli, "unexpected argument %s", argv[i]);
    }
    _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
    struct berr err = {0};
    if (access(path, F_OK) == 0) {
        berr_set(&err, BERR_FAILED, "File %s exists. Remove it first", path);
        return oci_fail(cli, &err);
    }
    yajl_gen g = runtime_oci_default_spec();
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = fd < 0 || write_all(fd, buf, len) < 0 ? berr_errno(&err, "write %s", path) : 0;
    yajl_gen_free(g);
    return rc < 0 ? oci_fail(cli, &err) : 0;
}

int oci_cmd_features(const struct oci_cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return oci_usage_error(cli, "%s", "features takes no arguments");
    yajl_gen g = json_gen_new(true);
    yajl_gen_map_open(g);
    json_key_str(g, "ociVersionMin", "1.0.0");
    json_key_str(g, "ociVersionMax", "1.0.2");
    static const char *const hooks[] = {"prestart",       "createRuntime", "createContainer",
                                        "startContainer", "poststart",     "poststop"};
    json_str(g, "hooks");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(hooks); i++)
        json_str(g, hooks[i]);
    yajl_gen_array_close(g);
    json_str(g, "mountOptions");
    yajl_gen_array_open(g);
    static const char *const opts[] = {"bind",  "rbind",       "private",  "rprivate",
                                       "ro",    "rw",          "nosuid",   "noexec",
                                       "nodev", "strictatime", "relatime", "noatime"};
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
        json_str(g, opts[i]);
    yajl_gen_array_close(g);
    json_str(g, "linux");
    yajl_gen_map_open(g);
    json_str(g, "namespaces");
    yajl_gen_array_open(g);
    static const char *const ns[] = {"mount", "pid", "uts", "ipc", "network"};
    for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
        json_str(g, ns[i]);
    yajl_gen_array_close(g);
    json_str(g, "cgroup");
    yajl_gen_map_open(g);
    json_key_bool(g, "v1", true);
    json_key_bool(g, "v2", true);
    json_key_bool(g, "systemd", false);
    yajl_gen_map_close(g);
    json_str(g, "seccomp");
    yajl_gen_map_open(g);
    json_key_bool(g, "enabled", true);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    json_str(g, "annotations");
    yajl_gen_map_open(g);
    json_key_str(g, "io.berth.version", BERTH_VERSION);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    oci_print_gen(g, stdout);
    return 0;
}
