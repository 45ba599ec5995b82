/* Docker command files: read as the launcher, split and option-checked as Storm's launcher
 * does (storm-interface.md §3.5), then carried out through berth's library with the outputs
 * Storm parses (§4): run -d, wait, stop, rm [--force], ps --filter=name= --quiet=true and
 * inspect --format. */
#include "launcher/launcher.h"
#include "launcher/worker-launcher/wl.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

/* Storm's allow-list, plus --memory, which Storm writes and its launcher refuses */
static const struct {
    const char *name;
    bool arg;
} allowed[] = {
    {"name", true},         {"user", true},          {"rm", false},       {"workdir", true},
    {"net", true},          {"cgroup-parent", true}, {"cap-add", true},   {"cap-drop", true},
    {"device", true},       {"detach", true},        {"group-add", true}, {"read-only", false},
    {"security-opt", true}, {"cpu-shares", true},    {"cpus", true},      {"cpuset-cpus", true},
    {"cpuset-mems", true},  {"cidfile", true},       {"format", true},    {"force", false},
    {"time", true},         {"filter", true},        {"quiet", true},     {"memory", true},
};

struct docker_cmd {
    char *sub;         /* run, wait, ... */
    struct strv opts;  /* canonical: "--name=value", "--flag", "-d", "-v", "value" */
    struct strv names; /* the long option name of each --option, for the checks */
    struct strv args;  /* the other words, in order */
};

static void docker_cmd_free(struct docker_cmd *c)
{
    free(c->sub);
    strv_free(&c->opts), strv_free(&c->names), strv_free(&c->args);
}

/* GNU getopt_long's match: the exact name, else the one name it abbreviates */
static int match_long(const char *word, size_t len)
{
    int found = -1;
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
        if (strlen(allowed[i].name) == len && !strncmp(allowed[i].name, word, len))
            return (int)i;
        if (!strncmp(allowed[i].name, word, len))
            found = found == -1 ? (int)i : -2;
    }
    return found;
}

static int long_option(struct docker_cmd *c, char **w, size_t n, size_t *i, struct berr *err)
{
    const char *word = w[*i] + 2;
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    int k = match_long(word, len);
    if (k < 0)
        return berr_set(err, BERR_USAGE, "Unknown option in docker command: %s", w[*i]);
    const char *name = allowed[k].name;
    if (!allowed[k].arg && eq)
        return berr_set(err, BERR_USAGE, "option --%s takes no argument", name);
    if (allowed[k].arg && !eq && *i + 1 >= n)
        return berr_set(err, BERR_USAGE, "option --%s requires an argument", name);
    const char *value = !allowed[k].arg ? NULL : eq ? eq + 1 : w[++*i];
    strv_push_owned(&c->opts, value ? xasprintf("--%s=%s", name, value) : xasprintf("--%s", name));
    strv_push(&c->names, name);
    return 0;
}

/* -d, -v X, -vX, -dv X: getopt's "dv:" */
static int short_options(struct docker_cmd *c, char **w, size_t n, size_t *i, struct berr *err)
{
    for (const char *p = w[*i] + 1; *p; p++) {
        if (*p == 'd') {
            strv_push(&c->opts, "-d");
            continue;
        }
        if (*p != 'v')
            return berr_set(err, BERR_USAGE, "Unknown option in docker command: -%c", *p);
        if (!p[1] && *i + 1 >= n)
            return berr_set(err, BERR_USAGE, "option -v requires an argument");
        strv_push(&c->opts, "-v");
        strv_push(&c->opts, p[1] ? p + 1 : w[++*i]);
        strv_push(&c->names, "volume");
        break;
    }
    return 0;
}

/* The line split on spaces; options anywhere before "--" (getopt permutes), the rest kept in
 * order. */
static int parse_docker_line(const char *line, struct docker_cmd *c, struct berr *err)
{
    *c = (struct docker_cmd){0};
    _cleanup_strv_ struct strv w = {0};
    _cleanup_free_ char *copy = xstrdup(line);
    char *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
        strv_push(&w, t);
    size_t first = w.n && str_has_prefix(w.v[0], "--config=") ? 1 : 0;
    if (w.n <= first)
        return berr_set(err, BERR_USAGE, "empty docker command");
    c->sub = xstrdup(w.v[first]);
    bool options = true;
    for (size_t i = first + 1; i < w.n; i++) {
        const char *word = w.v[i];
        int rc = 0;
        if (options && !strcmp(word, "--"))
            options = false;
        else if (options && str_has_prefix(word, "--"))
            rc = long_option(c, w.v, w.n, &i, err);
        else if (options && word[0] == '-' && word[1])
            rc = short_options(c, w.v, w.n, &i, err);
        else
            strv_push(&c->args, word);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int wl_read_first_line(const struct ident *who, const char *path, char **line)
{
    struct berr err = {0};
    _cleanup_close_ int fd = ident_open(who, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, &err);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "Can't open file %s as the launcher: %s\n", path,
                fd < 0 ? err.msg : "not a regular file");
        return WL_ERROR_OPENING_FILE;
    }
    _cleanup_free_ char *text = NULL;
    if (read_fd_all(fd, 1 << 20, &text, NULL, &err) < 0 || !*text) {
        fprintf(stderr, "Error reading file %s\n", path);
        return WL_ERROR_READING_FILE;
    }
    text[strcspn(text, "\n")] = '\0';
    *line = steal_ptr(&text);
    return 0;
}

static const char *opt_value(const struct docker_cmd *c, const char *name)
{
    const char *v = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < c->opts.n; i++) {
        const char *o = c->opts.v[i];
        if (!strncmp(o, "--", 2) && !strncmp(o + 2, name, n) && (o[2 + n] == '=' || !o[2 + n]))
            v = o[2 + n] == '=' ? o + 3 + n : "";
    }
    return v;
}

static void paths_of(const struct wl *wl, struct runtime_paths *p)
{
    *p = (struct runtime_paths){.runroot = wl->runroot, .root = wl->root, .caller = &wl->user};
}

/* A ".." component, refused in a -v as written: the spec holds bind sources cleaned, and the
 * supervisor means the path it wrote. */
static bool has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")); p += 2) {
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return true;
    }
    return false;
}

static bool binds_have_dotdot(const struct docker_cmd *c, struct berr *err)
{
    for (size_t i = 0; i + 1 < c->opts.n; i++) {
        if (!strcmp(c->opts.v[i], "-v") && has_dotdot(c->opts.v[i + 1])) {
            berr_set(err, BERR_USAGE, "bind %s has a \"..\"", c->opts.v[i + 1]);
            return true;
        }
    }
    return false;
}

/* launch-docker-container's `run`, always detached: the spec as `berth run` builds it, then
 * the policy (policy.c: the user, the required flags, bind sources, the image) */
static int run(struct wl *wl, const struct docker_cmd *c)
{
    struct berr err = {0};
    struct cli cli = {.command = "run", .needs_root = true, .caller = &wl->user};
    cli.root = wl->root, cli.runroot = wl->runroot;
    cli.cgroup_parent = wl->cgroup_parent, cli.seccomp_profile = wl->seccomp_profile;
    _cleanup_strv_ struct strv argv = {0};
    for (size_t i = 0; i < c->opts.n; i++)
        strv_push(&argv, c->opts.v[i]);
    for (size_t i = 0; i < c->args.n; i++)
        strv_push(&argv, c->args.v[i]);
    struct container_spec spec = {0};
    bool detach = false;
    if (strv_contains(&c->names, "device") || binds_have_dotdot(c, &err) ||
        run_spec_from_argv(&cli, (int)argv.n, argv.v, &spec, &detach, &err) < 0 ||
        wl_policy_check(wl, &spec, &err) < 0) {
        fprintf(stderr, "docker command refused: %s\n",
                err.msg[0] ? err.msg : "--device is not allowed");
        runtime_spec_free(&spec);
        return WL_ERROR_SANITIZING_DOCKER_COMMAND;
    }
    struct runtime_paths paths;
    paths_of(wl, &paths);
    char id[65];
    int code = 0;
    /* run from the read-only clone already (main.c): the monitor is a fork, no exec ahead */
    if (run_attach_image(&cli, &spec, &err) == 0 &&
        runtime_run_detached(&paths, &spec, NULL, id, &err) == 0) {
        printf("%s\n", id);
    } else {
        fprintf(stderr, "docker: Error response from daemon: %s\n", err.msg);
        code = runtime_start_exit_code(err.kind);
    }
    runtime_spec_free(&spec);
    return code;
}

/* docker's filter by name: the names containing the value */
static int ps(const struct wl *wl, const struct docker_cmd *c)
{
    struct runtime_paths paths;
    paths_of(wl, &paths);
    const char *filter = opt_value(c, "filter");
    if (filter && !str_has_prefix(filter, "name=")) {
        fprintf(stderr, "docker command refused: only the name filter is supported\n");
        return WL_ERROR_SANITIZING_DOCKER_COMMAND;
    }
    struct berr err = {0};
    struct container_info *infos = NULL;
    size_t n = 0;
    _cleanup_strv_ struct strv unreadable = {0};
    if (runtime_inspect_all(&paths, &infos, &n, &unreadable, &err) < 0) {
        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (infos[i].running && (!filter || strstr(infos[i].name, filter + 5)))
            printf("%.12s\n", infos[i].id);
    }
    container_infos_free(infos, n);
    return 0;
}

static int inspect(const struct wl *wl, const char *id, const char *format)
{
    struct runtime_paths paths;
    paths_of(wl, &paths);
    struct berr err = {0};
    struct container_info info = {0};
    if (runtime_inspect(&paths, id, &info, &err) < 0) {
        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
        return 1;
    }
    _cleanup_free_ char *f = xstrdup(format ? format : "");
    size_t len = strlen(f);
    if (len >= 2 && f[0] == '\'' && f[len - 1] == '\'')
        f[len - 1] = '\0', memmove(f, f + 1, len - 1);
    int code = 0;
    if (!strcmp(f, "{{.State.Pid}}"))
        printf("%d\n", (int)info.pid);
    else if (!strcmp(f, "{{.State.Status}}"))
        printf("%s\n", info.status);
    else {
        fprintf(stderr, "docker command refused: inspect --format %s is not supported\n", f);
        code = WL_ERROR_SANITIZING_DOCKER_COMMAND;
    }
    container_info_free(&info);
    return code;
}

static int one_container(const struct wl *wl, const struct docker_cmd *c, const char *ref)
{
    struct runtime_paths paths;
    paths_of(wl, &paths);
    struct berr err = {0};
    char id[65];
    int exit_code = 0;
    if (runtime_find(&paths, ref, id, &err) < 0)
        goto fail;
    if (!strcmp(c->sub, "inspect"))
        return inspect(wl, id, opt_value(c, "format"));
    if (!strcmp(c->sub, "wait")) {
        if (runtime_wait(&paths, id, &exit_code, &err) < 0)
            goto fail;
        printf("%d\n", exit_code);
        return 0;
    }
    if (!strcmp(c->sub, "stop")) {
        const char *t = opt_value(c, "time");
        long long timeout = 10;
        if (t && parse_long(t, -1, 1 << 30, &timeout) < 0) {
            berr_set(&err, BERR_USAGE, "invalid --time: %s", t);
            goto fail;
        }
        if (runtime_stop(&paths, id, SIGTERM, (int)timeout, &err) < 0)
            goto fail;
    } else if (runtime_remove(&paths, id, opt_value(c, "force") != NULL, &err) < 0) {
        goto fail;
    }
    printf("%s\n", ref);
    return 0;
fail:
    fprintf(stderr, "Error response from daemon: %s\n", err.msg);
    return 1;
}

int wl_run_docker_cmd(struct wl *wl, const char *cmdfile, bool launch)
{
    _cleanup_free_ char *line = NULL;
    int rc = wl_read_first_line(&wl->launcher, cmdfile, &line);
    if (rc)
        return rc;
    struct berr err = {0};
    struct docker_cmd c;
    if (parse_docker_line(line, &c, &err) < 0) {
        fprintf(stderr, "%s\nError sanitizing docker command\n", err.msg);
        docker_cmd_free(&c);
        return WL_ERROR_SANITIZING_DOCKER_COMMAND;
    }
    printf("command: berth %s", c.sub);
    for (size_t i = 0; i < c.opts.n; i++)
        printf(" %s", c.opts.v[i]);
    for (size_t i = 0; i < c.args.n; i++)
        printf(" %s", c.args.v[i]);
    printf(" \n");
    fflush(stdout);
    static const char *const one_each[] = {"wait", "stop", "rm", "inspect"};
    bool per_container = false;
    for (size_t i = 0; i < ARRAY_SIZE(one_each); i++)
        per_container = per_container || !strcmp(c.sub, one_each[i]);
    if (launch != !strcmp(c.sub, "run")) {
        fprintf(stderr, "docker command refused: %s\n",
                launch ? "launch-docker-container runs `run` only"
                       : "run only through launch-docker-container");
        rc = WL_ERROR_SANITIZING_DOCKER_COMMAND;
    } else if (launch) {
        rc = run(wl, &c);
    } else if (!strcmp(c.sub, "ps")) {
        rc = c.args.n ? WL_ERROR_SANITIZING_DOCKER_COMMAND : ps(wl, &c);
    } else if (per_container && c.args.n) {
        for (size_t i = 0; i < c.args.n; i++) {
            int one = one_container(wl, &c, c.args.v[i]);
            rc = rc ? rc : one;
        }
    } else {
        fprintf(stderr, "docker command refused: %s is not supported\n", c.sub);
        rc = WL_ERROR_SANITIZING_DOCKER_COMMAND;
    }
    fflush(stdout);
    docker_cmd_free(&c);
    return rc;
}
