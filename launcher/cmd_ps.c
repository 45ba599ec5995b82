/* berth ps: docker's container list — the state store read through the runtime, docker's
 * filters, newest first, printed as docker's table or through a template. Storm's liveness check
 * (`ps --filter=name=<wid> --quiet=true`) reads the last line of the output, so nothing but the
 * list goes to stdout and warnings go to stderr before it. */
#include "formatter.h"
#include "launcher.h"
#include "runtime/runtime.h"

#include <regex.h>
#include <string.h>

#define DEFAULT_TABLE                                                                              \
    "table "                                                                                       \
    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

/* ---- filters --------------------------------------------------------------------------- */

/* docker 20.10's accepted keys (daemon/list.go acceptedPsFilterTags) */
static const char *const docker_filter_keys[] = {
    "ancestor", "before", "exited", "health",  "id",      "label",   "name",
    "status",   "since",  "volume", "network", "is-task", "publish", "expose",
};
static const char *const berth_filter_keys[] = {"before", "exited", "id",    "label",
                                                "name",   "since",  "status"};
static const char *const statuses[] = {"created", "restarting", "running", "removing",
                                       "paused",  "exited",     "dead"};

struct filter {
    char *key;
    struct strv values; /* ORed */
};

struct filters {
    struct filter *v; /* different keys ANDed */
    size_t n;
};

static void filters_free(struct filters *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].key);
        strv_free(&f->v[i].values);
    }
    free(f->v);
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(s, list[i]))
            return true;
    }
    return false;
}

static const struct strv *filter_values(const struct filters *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++) {
        if (!strcmp(f->v[i].key, key))
            return &f->v[i].values;
    }
    return NULL;
}

static char *trim(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char *r = strndup(s, len);
    if (!r)
        abort();
    return r;
}

/* docker's filters.ParseFlag (key lowercased, both sides trimmed), then the daemon's checks.
 * A word without '=' is the CLI's flag error (BERR_USAGE, 125); a bad key or value the
 * daemon's (1). */
static int parse_filters(const struct strv *words, struct filters *out, struct berr *err)
{
    for (size_t i = 0; i < words->n; i++) {
        const char *w = words->v[i], *eq = strchr(w, '=');
        if (!eq)
            return berr_set(err, BERR_USAGE,
                            "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of "
                            "filter (expected name=value)",
                            w);
        _cleanup_free_ char *key = trim(w, (size_t)(eq - w));
        for (char *p = key; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        char *value = trim(eq + 1, strlen(eq + 1));
        struct strv *values = (struct strv *)filter_values(out, key);
        if (!values) {
            out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
            out->v[out->n] = (struct filter){.key = steal_ptr(&key)};
            values = &out->v[out->n++].values;
        }
        strv_push_owned(values, value);
    }
    for (size_t i = 0; i < out->n; i++) {
        const struct filter *f = &out->v[i];
        if (!in_list(f->key, docker_filter_keys, ARRAY_SIZE(docker_filter_keys)))
            return berr_set(err, BERR_FAILED, "Error response from daemon: Invalid filter '%s'",
                            f->key);
        if (!in_list(f->key, berth_filter_keys, ARRAY_SIZE(berth_filter_keys)))
            return berr_set(err, BERR_FAILED, "ps --filter %s is not supported by berth", f->key);
        for (size_t j = 0; j < f->values.n; j++) {
            const char *v = f->values.v[j];
            long long n;
            bool bad = (!strcmp(f->key, "status") && !in_list(v, statuses, ARRAY_SIZE(statuses))) ||
                       (!strcmp(f->key, "exited") &&
                        parse_long(v[0] == '-' ? v + 1 : v, 0, 1 << 30, &n) < 0);
            if (bad)
                return berr_set(err, BERR_FAILED,
                                "Error response from daemon: Invalid filter '%s=%s'", f->key, v);
        }
    }
    return 0;
}

/* docker's filters.Match: no values, an exact value, or a regexp found anywhere in s. An
 * invalid expression matches nothing. */
static bool match_any(const struct strv *values, const char *s)
{
    if (!values)
        return true;
    for (size_t i = 0; i < values->n; i++) {
        if (!strcmp(values->v[i], s))
            return true;
        regex_t re;
        if (regcomp(&re, values->v[i], REG_EXTENDED | REG_NOSUB) != 0)
            continue;
        bool hit = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        if (hit)
            return true;
    }
    return false;
}

static bool match_label(const struct strv *values, yajl_val config)
{
    if (!values)
        return true;
    yajl_val labels = json_get(json_get(config, "Config"), "Labels");
    for (size_t i = 0; i < values->n; i++) { /* every label filter must hold */
        const char *want = values->v[i], *eq = strchr(want, '=');
        _cleanup_free_ char *key = eq ? strndup(want, (size_t)(eq - want)) : xstrdup(want);
        yajl_val have = json_get(labels, key);
        if (!have || (eq && !(YAJL_IS_STRING(have) && !strcmp(have->u.string, eq + 1))))
            return false;
    }
    return true;
}

static bool match_exited(const struct strv *values, const struct container_info *c)
{
    if (!values)
        return true;
    for (size_t i = 0; i < values->n; i++) {
        if (!c->running && c->started.tv_sec && atoi(values->v[i]) == c->exit_code)
            return true;
    }
    return false;
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/* before=/since=: containers created before / after the one named (each value must hold). */
static int match_order(const struct runtime_paths *paths, const struct strv *values,
                       const struct container_info *rows, size_t n, const struct container_info *c,
                       int want, bool *ok, struct berr *err)
{
    for (size_t i = 0; values && i < values->n; i++) {
        char id[65];
        if (runtime_find(paths, values->v[i], id, err) < 0)
            return berr_wrap(err, "Error response from daemon");
        const struct container_info *ref = NULL;
        for (size_t j = 0; j < n && !ref; j++)
            ref = strcmp(rows[j].id, id) ? NULL : &rows[j];
        if (!ref || ts_cmp(&c->created, &ref->created) != want)
            *ok = false;
    }
    return 0;
}

/* ---- reading the containers ------------------------------------------------------------ */

static int row_cmp(const void *a, const void *b)
{
    const struct container_info *x = a;
    const struct container_info *y = b;
    int c = ts_cmp(&y->created, &x->created); /* newest first */
    return c ? c : strcmp(y->id, x->id);
}

/* Every container's info, newest first. One that vanishes meanwhile is skipped; one that
 * cannot be read is named on stderr, before any output, and skipped. */
static int load_rows(const struct runtime_paths *paths, struct container_info **out, size_t *n,
                     struct berr *err)
{
    _cleanup_strv_ struct strv unreadable = {0};
    if (runtime_inspect_all(paths, out, n, &unreadable, err) < 0)
        return -1;
    for (size_t i = 0; i < unreadable.n; i++)
        fprintf(stderr, "berth: warning: container skipped: %s\n", unreadable.v[i]);
    qsort(*out, *n, sizeof(**out), row_cmp);
    return 0;
}

/* ---- one row as docker's ps template fields ------------------------------------------- */

/* What the user asked to run, for the IMAGE column: Config.Image, else the top-level Image. */
static const char *image_of(yajl_val config)
{
    const char *ref = json_get_str(json_get(config, "Config"), "Image");
    if (!ref)
        ref = json_get_str(config, "Image");
    if (!ref)
        ref = json_get_str(config, "ImageID");
    return ref ? ref : "";
}

static char *labels_of(yajl_val config)
{
    yajl_val labels = json_get(json_get(config, "Config"), "Labels");
    _cleanup_strbuf_ struct strbuf b = {0};
    strbuf_add(&b, "", 0);
    for (size_t i = 0; YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++) {
        const char *v =
            YAJL_IS_STRING(labels->u.object.values[i]) ? labels->u.object.values[i]->u.string : "";
        strbuf_printf(&b, "%s%s=%s", i ? "," : "", labels->u.object.keys[i], v);
    }
    return steal_ptr(&b.s);
}

static char *mounts_of(yajl_val config, bool trunc, size_t *volumes)
{
    yajl_val mounts = json_get(config, "Mounts");
    _cleanup_strbuf_ struct strbuf b = {0};
    strbuf_add(&b, "", 0);
    *volumes = 0;
    for (size_t i = 0; YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++) {
        yajl_val m = mounts->u.array.values[i];
        const char *name = json_get_str(m, "Name"), *type = json_get_str(m, "Type");
        if (!name || !*name)
            name = json_get_str(m, "Source");
        *volumes += type && !strcmp(type, "volume");
        _cleanup_free_ char *shown =
            trunc ? fmt_ellipsis(name ? name : "", 15) : xstrdup(name ? name : "");
        strbuf_printf(&b, "%s%s", b.len ? "," : "", shown);
    }
    return steal_ptr(&b.s);
}

static char *shown_image(const char *image, bool trunc)
{
    if (trunc && str_has_prefix(image, "sha256:"))
        return xasprintf("%.12s", image + strlen("sha256:"));
    return xstrdup(image);
}

/* The fields docker's ContainerContext offers templates, for one container. */
static int row_object(const struct container_info *c, bool trunc, time_t now, yajl_val *out,
                      struct berr *err)
{
    char status[128], ago[96], created_at[96], id[65], volumes_s[24];
    snprintf(id, sizeof(id), trunc ? "%.12s" : "%s", c->id);
    fmt_status(c->running, c->exit_code, &c->started, &c->finished, now, status, sizeof(status));
    fmt_ago(&c->created, now, ago, sizeof(ago));
    fmt_go_time(c->created.tv_sec, created_at, sizeof(created_at));
    _cleanup_strv_ struct strv args = {0};
    json_get_strv(c->config, "Args", &args);
    _cleanup_free_ char *command = fmt_command(json_get_str(c->config, "Path"), &args, trunc);
    _cleanup_free_ char *image = shown_image(image_of(c->config), trunc);
    _cleanup_free_ char *labels = labels_of(c->config);
    size_t volumes;
    _cleanup_free_ char *mounts = mounts_of(c->config, trunc, &volumes);
    snprintf(volumes_s, sizeof(volumes_s), "%zu", volumes);
    const char *net = json_get_str(json_get(c->config, "HostConfig"), "NetworkMode");

    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "ID", id);
    json_key_str(g, "Image", image);
    json_key_str(g, "Command", command);
    json_key_str(g, "CreatedAt", created_at);
    json_key_str(g, "RunningFor", ago);
    json_key_str(g, "Ports", "");
    json_key_str(g, "State", c->status);
    json_key_str(g, "Status", status);
    json_key_str(g, "Size", "0B");
    json_key_str(g, "Names", c->name ? c->name : "");
    json_key_str(g, "Labels", labels);
    json_key_str(g, "Mounts", mounts);
    json_key_str(g, "Networks", net ? net : "");
    json_key_str(g, "LocalVolumes", volumes_s);
    yajl_gen_map_close(g);
    int rc = json_gen_parse(g, out, err);
    return rc;
}

static int header_object(yajl_val *out, struct berr *err)
{
    return json_parse("{\"ID\":\"CONTAINER ID\",\"Image\":\"IMAGE\",\"Command\":\"COMMAND\","
                      "\"CreatedAt\":\"CREATED AT\",\"RunningFor\":\"CREATED\",\"Ports\":\"PORTS\","
                      "\"State\":\"STATE\",\"Status\":\"STATUS\",\"Size\":\"SIZE\","
                      "\"Names\":\"NAMES\",\"Labels\":\"LABELS\",\"Mounts\":\"MOUNTS\","
                      "\"Networks\":\"NETWORKS\",\"LocalVolumes\":\"LOCAL VOLUMES\"}",
                      out, err);
}

/* ---- the command ----------------------------------------------------------------------- */

/* docker's own texts stand alone, as docker prints them; berth's failures as every command. */
static void report(const struct cli *cli, const struct berr *err)
{
    static const char *const docker_texts[] = {"Error response from daemon: ",
                                               "Template parsing error: "};
    for (size_t i = 0; i < ARRAY_SIZE(docker_texts); i++) {
        if (str_has_prefix(err->msg, docker_texts[i])) {
            fprintf(stderr, "%s\n", err->msg);
            return;
        }
    }
    report_error(cli, err);
}

struct ps_opts {
    bool all, quiet, no_trunc, latest;
    char *format, *last;
    struct strv filter;
};

/* docker's NewContainerFormat and Context.preFormat: the template text, and whether it is a
 * table (header + tabwriter). Literal "\t" and "\n" in the flag become tab and newline. */
static char *final_format(const struct ps_opts *o, bool *table)
{
    const char *f = o->format && *o->format ? o->format : "table";
    if (!strcmp(f, "table"))
        f = o->quiet ? "{{.ID}}" : DEFAULT_TABLE;
    return fmt_template_text(f, table);
}

static bool wanted(const struct runtime_paths *paths, const struct filters *f, bool all,
                   const struct container_info *rows, size_t n, const struct container_info *c,
                   bool *ok, struct berr *err)
{
    *ok = false;
    if (!c->running && !all)
        return true;
    _cleanup_free_ char *slash = xasprintf("/%s", c->name ? c->name : "");
    const struct strv *names = filter_values(f, "name");
    if (!match_any(names, slash) && !match_any(names, slash + 1))
        return true;
    if (!match_any(filter_values(f, "id"), c->id))
        return true;
    const struct strv *st = filter_values(f, "status");
    if (st && !in_list(c->status, (const char *const *)st->v, st->n))
        return true;
    if (!match_exited(filter_values(f, "exited"), c) ||
        !match_label(filter_values(f, "label"), c->config))
        return true;
    *ok = true;
    if (match_order(paths, filter_values(f, "before"), rows, n, c, -1, ok, err) < 0 ||
        match_order(paths, filter_values(f, "since"), rows, n, c, 1, ok, err) < 0)
        return false;
    return true;
}

static int render(const struct ps_opts *o, const struct runtime_paths *paths,
                  const struct filters *f, struct strbuf *out, struct berr *err)
{
    bool table;
    _cleanup_free_ char *text = final_format(o, &table);
    _cleanup_tmpl_ struct tmpl *t = NULL;
    if (tmpl_parse(text, &t, err) < 0) {
        err->kind = BERR_FAILED; /* docker: exit 1 for ps, unlike a flag error */
        return berr_wrap(err, "Template parsing error");
    }
    long long limit = -1;
    if (o->last && parse_long(o->last[0] == '-' ? o->last + 1 : o->last, 0, INT32_MAX, &limit) < 0)
        return berr_set(err, BERR_USAGE,
                        "invalid argument \"%s\" for \"-n, --last\" flag: strconv.ParseInt: "
                        "parsing \"%s\": invalid syntax",
                        o->last, o->last);
    if (o->last && o->last[0] == '-')
        limit = -limit;
    if (o->latest && limit <= 0)
        limit = 1;
    /* docker: a status filter or a limit lists stopped containers too */
    bool all = o->all || filter_values(f, "status") || limit > 0;

    struct container_info *rows = NULL;
    size_t n = 0;
    if (load_rows(paths, &rows, &n, err) < 0)
        return -1;
    int rc = 0;
    _cleanup_strbuf_ struct strbuf body = {0};
    strbuf_add(&body, "", 0);
    if (table) {
        yajl_val h = NULL;
        rc = header_object(&h, err);
        if (rc == 0 && tmpl_execute_header(t, h, &body, err) < 0)
            rc = berr_wrap(err, "Template parsing error");
        strbuf_add(&body, "\n", 1);
        yajl_tree_free(h);
    }
    time_t now = time(NULL);
    long long shown = 0;
    for (size_t i = 0; i < n && rc == 0 && (limit <= 0 || shown < limit); i++) {
        bool ok;
        if (!wanted(paths, f, all, rows, n, &rows[i], &ok, err)) {
            rc = -1;
            break;
        }
        if (!ok)
            continue;
        yajl_val obj = NULL;
        rc = row_object(&rows[i], !o->no_trunc, now, &obj, err);
        if (rc == 0 && tmpl_execute(t, obj, &body, err) < 0)
            rc = berr_wrap(err, "Template parsing error");
        strbuf_add(&body, "\n", 1);
        yajl_tree_free(obj);
        shown++;
    }
    container_infos_free(rows, n);
    if (rc < 0)
        return -1;
    if (table)
        fmt_tabwrite(out, body.s);
    else
        strbuf_add(out, body.s, body.len);
    return 0;
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
    struct ps_opts o = {0};
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &o.all, "Show all containers (default shows just running)", NULL},
        {"filter", 'f', OPT_LIST, &o.filter, "Filter output based on conditions provided", NULL},
        {"format", 0, OPT_STRING, &o.format, "Pretty-print containers using a Go template", NULL},
        {"last", 'n', OPT_STRING, &o.last, "Show n last created containers (includes all states)",
         NULL},
        {"latest", 'l', OPT_BOOL, &o.latest, "Show the latest created container", NULL},
        {"no-trunc", 0, OPT_BOOL, &o.no_trunc, "Don't truncate output", NULL},
        {"quiet", 'q', OPT_BOOL, &o.quiet, "Only display container IDs", NULL},
        {"size", 's', OPT_UNSUPPORTED_BOOL, NULL, "Display total file sizes", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    struct filters filters = {0};
    _cleanup_strbuf_ struct strbuf out = {0};
    int code = 1;
    if (!parse_command(cli, "berth ps [OPTIONS]", "List containers", opts, ARRAY_SIZE(opts), argc,
                       argv, &args, &code))
        goto done;
    code = 1;
    if (args.n) {
        berr_set(&err, BERR_USAGE, "\"berth ps\" accepts no arguments.");
        report_error(cli, &err);
        goto done;
    }
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    if (parse_filters(&o.filter, &filters, &err) < 0 ||
        render(&o, &paths, &filters, &out, &err) < 0) {
        if (err.kind == BERR_USAGE)
            code = 125;
        report(cli, &err);
        goto done;
    }
    fwrite(out.s ? out.s : "", 1, out.len, stdout);
    code = fflush(stdout) == 0 ? 0 : 1;
done:
    filters_free(&filters);
    free(o.format);
    free(o.last);
    strv_free(&o.filter);
    return code;
}
