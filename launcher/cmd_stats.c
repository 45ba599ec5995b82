/* berth stats: docker's live resource usage of containers, read from their cgroups — CPU % from
 * two samples of the container's CPU time against the host's, memory usage against the limit
 * (or the host's memory), pids — printed as docker's table or through a template, once
 * (--no-stream) or every second until interrupted. The pure pieces (CPU %, sizes, the frame's
 * text) are separate from the sampling so tests/unit/test_stats_format.c can check them. */
#include "formatter.h"
#include "launcher.h"
#include "stats.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TABLE                                                                              \
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"            \
    "{{.BlockIO}}\t{{.PIDs}}"

/* ---- the pure pieces (not static: the unit tests declare and call them) ----------------- */

/* One reading: the container's cumulative CPU time and the host's, taken together. */

/* docker's calculateCPUPercentUnix: the container's share of the host's CPU time between the two
 * samples, scaled to the online CPUs (so one busy thread on a 4-CPU host reads 100%). 0 when
 * either delta is not positive. */
double stats_cpu_percent(const struct stats_sample *pre, const struct stats_sample *cur,
                         unsigned online_cpus)
{
    double cpu_delta = (double)cur->cpu_ns - (double)pre->cpu_ns;
    double system_delta = (double)cur->system_ns - (double)pre->system_ns;
    if (cpu_delta <= 0 || system_delta <= 0)
        return 0;
    return cpu_delta / system_delta * online_cpus * 100.0;
}

/* The daemon's getSystemCPUUsage: the first seven fields of /proc/stat's "cpu" line (user nice
 * system idle iowait irq softirq; steal and guest are left out as docker does), USER_HZ ticks
 * turned into nanoseconds. */
int stats_parse_proc_stat(const char *text, long clk_tck, unsigned long long *out_ns)
{
    const char *p = text;
    while (p && !(str_has_prefix(p, "cpu ") || str_has_prefix(p, "cpu\t"))) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    if (!p || clk_tck <= 0)
        return -1;
    p += 3;
    unsigned long long ticks = 0;
    for (int i = 0; i < 7; i++) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || *p == '\n')
            return -1;
        ticks += v;
        p = end;
    }
    unsigned long long hz = (unsigned long long)clk_tck;
    *out_ns = ticks / hz * 1000000000ULL + ticks % hz * 1000000000ULL / hz;
    return 0;
}

/* MemTotal of /proc/meminfo text in bytes, 0 when absent. */
unsigned long long stats_parse_meminfo_total(const char *text)
{
    const char *p = strstr(text, "MemTotal:");
    if (!p || (p != text && p[-1] != '\n'))
        return 0;
    return strtoull(p + strlen("MemTotal:"), NULL, 10) * 1024;
}

/* The limit docker shows: the cgroup's, unless there is none or it exceeds the host's memory
 * (v1 reports "unlimited" as a huge number), then the host's. */
unsigned long long stats_effective_limit(unsigned long long cgroup_limit,
                                         unsigned long long host_total)
{
    if (host_total && (cgroup_limit == 0 || cgroup_limit > host_total))
        return host_total;
    return cgroup_limit;
}

/* go-units BytesSize: binary units, "%.4g" — "64MiB", "1.953MiB", "512B". */
void stats_bytes_size(double bytes, char *out, size_t len)
{
    static const char *const units[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                        "PiB", "EiB", "ZiB", "YiB"};
    size_t i = 0;
    while (bytes >= 1024 && i + 1 < ARRAY_SIZE(units)) {
        bytes /= 1024;
        i++;
    }
    snprintf(out, len, "%.4g%s", bytes, units[i]);
}

/* docker's NewStatsFormat and Context.preFormat: the template text and whether it is a table.
 * "" and "table" are the default table, "json" one JSON object a line; literal "\t" and "\n"
 * become tab and newline. */
char *stats_final_format(const char *format, bool *table)
{
    const char *f = format && *format ? format : "table";
    if (!strcmp(f, "table"))
        f = DEFAULT_TABLE;
    else if (!strcmp(f, "json"))
        f = "{{json .}}";
    return fmt_template_text(f, table);
}

/* The fields docker's statsContext offers templates, in sorted order so that {{json .}} reads as
 * docker's. NetIO is "0B / 0B", as docker shows it for --net=none and --net=host, the only
 * networks berth has; BlockIO is read / written, HumanSizeWithPrecision(n, 3) each. */
int stats_row_object(const struct stats_row *row, bool trunc, yajl_val *out, struct berr *err)
{
    char cpu[32] = "--", mem[64] = "-- / --", perc[32] = "--", pids[24] = "--", id[65];
    char blkio[64] = "--", net[16] = "--";
    snprintf(id, sizeof(id), trunc ? "%.12s" : "%s", row->id);
    if (!row->invalid) {
        char usage[24], limit[24];
        stats_bytes_size((double)row->mem_usage, usage, sizeof(usage));
        stats_bytes_size((double)row->mem_limit, limit, sizeof(limit));
        snprintf(cpu, sizeof(cpu), "%.2f%%", row->cpu_percent);
        snprintf(mem, sizeof(mem), "%s / %s", usage, limit);
        snprintf(perc, sizeof(perc), "%.2f%%",
                 row->mem_limit ? (double)row->mem_usage / (double)row->mem_limit * 100.0 : 0.0);
        snprintf(pids, sizeof(pids), "%llu", row->pids);
        char rd[24], wr[24];
        human_size_precision((double)row->io_read, 3, rd, sizeof(rd));
        human_size_precision((double)row->io_write, 3, wr, sizeof(wr));
        snprintf(blkio, sizeof(blkio), "%s / %s", rd, wr);
        snprintf(net, sizeof(net), "0B / 0B");
    }
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "BlockIO", blkio);
    json_key_str(g, "CPUPerc", cpu);
    json_key_str(g, "Container", row->container ? row->container : id);
    json_key_str(g, "ID", id);
    json_key_str(g, "MemPerc", perc);
    json_key_str(g, "MemUsage", mem);
    json_key_str(g, "Name", row->name && *row->name ? row->name : "--");
    json_key_str(g, "NetIO", net);
    json_key_str(g, "PIDs", pids);
    yajl_gen_map_close(g);
    int rc = json_gen_parse(g, out, err);
    return rc;
}

static int header_object(yajl_val *out, struct berr *err)
{
    return json_parse(
        "{\"BlockIO\":\"BLOCK I/O\",\"CPUPerc\":\"CPU %\",\"Container\":\"CONTAINER\","
        "\"ID\":\"CONTAINER ID\",\"MemPerc\":\"MEM %\","
        "\"MemUsage\":\"MEM USAGE / LIMIT\",\"Name\":\"NAME\",\"NetIO\":\"NET I/O\","
        "\"PIDs\":\"PIDS\"}",
        out, err);
}

/* One frame: the header when table, one line per row, laid out by the tabwriter when table.
 * Template execution errors come back as "Template parsing error: ...", as docker words them. */
int stats_render(const struct tmpl *t, bool table, const struct stats_row *rows, size_t n,
                 bool trunc, struct strbuf *out, struct berr *err)
{
    _cleanup_strbuf_ struct strbuf body = {0};
    strbuf_add(&body, "", 0);
    int rc = 0;
    if (table) {
        yajl_val h = NULL;
        rc = header_object(&h, err);
        if (rc == 0 && tmpl_execute_header(t, h, &body, err) < 0)
            rc = berr_wrap(err, "Template parsing error");
        strbuf_add(&body, "\n", 1);
        yajl_tree_free(h);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        yajl_val obj = NULL;
        rc = stats_row_object(&rows[i], trunc, &obj, err);
        if (rc == 0 && tmpl_execute(t, obj, &body, err) < 0)
            rc = berr_wrap(err, "Template parsing error");
        strbuf_add(&body, "\n", 1);
        yajl_tree_free(obj);
    }
    if (rc < 0)
        return -1;
    if (table)
        fmt_tabwrite(out, body.s);
    else
        strbuf_add(out, body.s, body.len);
    return 0;
}

/* ---- sampling the host and the containers ---------------------------------------------- */

static int host_system_ns(unsigned long long *out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file_at(AT_FDCWD, "/proc/stat", 1 << 20, &text, &len, err) < 0)
        return -1;
    if (stats_parse_proc_stat(text, sysconf(_SC_CLK_TCK), out) < 0)
        return berr_set(err, BERR_FAILED, "/proc/stat: no cpu line");
    return 0;
}

static unsigned long long host_memory_total(void)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct berr err = {0};
    if (read_file_at(AT_FDCWD, "/proc/meminfo", 1 << 20, &text, &len, &err) < 0)
        return 0;
    return stats_parse_meminfo_total(text);
}

/* A container followed from frame to frame: its previous sample is docker's precpu. */
struct tracked {
    char id[65];
    char *container; /* the row's .Container */
    bool have_pre;
    struct stats_sample pre;
};

struct stats_opts {
    bool all, no_stream, no_trunc;
    char *format;
};

struct host {
    unsigned online_cpus;
    unsigned long long mem_total;
};

/* Read one container's cgroup now. Not running (or gone, or its cgroup gone meanwhile): the
 * zeros docker shows for a stopped container. Counters that cannot be read: invalid ("--"). */
static void sample_container(const struct runtime_paths *paths, const struct host *host,
                             struct tracked *t, struct stats_row *row, char **name_out)
{
    *row = (struct stats_row){.id = t->id, .container = t->container};
    struct container_info info = {0};
    struct berr err = {0};
    if (runtime_inspect(paths, t->id, &info, &err) < 0) {
        debugf("stats %.12s: %s\n", t->id, err.msg);
        row->invalid = true;
        t->have_pre = false;
        return;
    }
    *name_out = steal_ptr(&info.name);
    row->name = *name_out;
    if (!info.running) {
        container_info_free(&info);
        t->have_pre = false;
        return;
    }
    container_info_free(&info);

    struct cgroup_set *cg = NULL;
    struct cgroup_stats cs = {0};
    struct stats_sample now = {0};
    if (runtime_container_cgroups(paths, t->id, &cg, &err) < 0 || cgroup_stats(cg, &cs, &err) < 0 ||
        host_system_ns(&now.system_ns, &err) < 0) {
        debugf("stats %.12s: %s\n", t->id, err.msg);
        cgroup_set_free(cg);
        row->invalid = err.errnum != ENOENT; /* exited between inspect and open: zeros */
        t->have_pre = false;
        return;
    }
    cgroup_set_free(cg);
    now.cpu_ns = cs.cpu_usage_ns;
    row->cpu_percent = t->have_pre ? stats_cpu_percent(&t->pre, &now, host->online_cpus) : 0;
    row->mem_usage = cs.memory_usage;
    row->mem_limit = stats_effective_limit(cs.memory_limit, host->mem_total);
    row->pids = cs.pids;
    row->io_read = cs.io_read;
    row->io_write = cs.io_write;
    t->pre = now;
    t->have_pre = true;
}

static void tracked_free(struct tracked *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].container);
    free(v);
}

static int created_cmp(const void *a, const void *b)
{
    const struct container_info *x = a, *y = b;
    if (x->created.tv_sec != y->created.tv_sec)
        return x->created.tv_sec < y->created.tv_sec ? 1 : -1;
    if (x->created.tv_nsec != y->created.tv_nsec)
        return x->created.tv_nsec < y->created.tv_nsec ? 1 : -1;
    return strcmp(x->id, y->id);
}

/* Without IDs: the running containers (all with -a), newest first, as docker lists them; the
 * samples of those already followed are kept, so the list stays as long as the store's. */
static int refresh_all(const struct runtime_paths *paths, bool all, struct tracked **v, size_t *n,
                       struct berr *err)
{
    /* a container that cannot be read is not followed; ps names it */
    _cleanup_strv_ struct strv unreadable = {0};
    struct container_info *infos;
    size_t all_n;
    if (runtime_inspect_all(paths, &infos, &all_n, &unreadable, err) < 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < all_n; i++) {
        if (all || infos[i].running)
            infos[k++] = infos[i];
        else
            container_info_free(&infos[i]);
    }
    qsort(infos, k, sizeof(*infos), created_cmp);
    struct tracked *next = xcalloc(k ? k : 1, sizeof(*next));
    for (size_t i = 0; i < k; i++) {
        memcpy(next[i].id, infos[i].id, sizeof(next[i].id));
        next[i].container = xasprintf("%.12s", infos[i].id);
        for (size_t j = 0; j < *n; j++) {
            if (!strcmp((*v)[j].id, next[i].id)) {
                next[i].have_pre = (*v)[j].have_pre;
                next[i].pre = (*v)[j].pre;
            }
        }
        container_info_free(&infos[i]);
    }
    free(infos);
    tracked_free(*v, *n);
    *v = next;
    *n = k;
    return 0;
}

/* With IDs: each resolved once, as docker does before it starts; every failure is reported
 * (one line each) and the command fails without printing a frame. */
static int resolve_named(const struct runtime_paths *paths, const struct strv *refs,
                         struct tracked **v, size_t *n)
{
    struct tracked *out = xcalloc(refs->n, sizeof(*out));
    bool ok = true;
    for (size_t i = 0; i < refs->n; i++) {
        struct berr err = {0};
        if (runtime_find(paths, refs->v[i], out[i].id, &err) < 0) {
            report_daemon_error(&err);
            ok = false;
        }
        out[i].container = xstrdup(refs->v[i]);
    }
    *v = out;
    *n = refs->n;
    return ok ? 0 : -1;
}

static void sleep_until(const struct timespec *deadline)
{
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL) == EINTR)
        ;
}

/* docker's stats loop: a sample about a second before each frame is its precpu; --no-stream
 * prints the first frame and stops. */
static int stats_loop(const struct stats_opts *o, const struct runtime_paths *paths,
                      const struct strv *refs, const struct tmpl *t, bool table, struct berr *err)
{
    struct tracked *v = NULL;
    size_t n = 0;
    if (refs->n && resolve_named(paths, refs, &v, &n) < 0) {
        tracked_free(v, n);
        return 1;
    }
    struct host host = {.mem_total = host_memory_total()};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    host.online_cpus = cpus > 0 ? (unsigned)cpus : 1;
    bool clear = !o->no_stream && isatty(STDOUT_FILENO);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int code = 0;
    for (bool first = true;; first = false) {
        if (!refs->n && refresh_all(paths, o->all, &v, &n, err) < 0) {
            code = -1;
            break;
        }
        struct stats_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
        char **names = xcalloc(n ? n : 1, sizeof(*names));
        for (size_t i = 0; i < n; i++)
            sample_container(paths, &host, &v[i], &rows[i], &names[i]);
        _cleanup_strbuf_ struct strbuf frame = {0};
        strbuf_add(&frame, "", 0);
        int rc = first ? 0 : stats_render(t, table, rows, n, !o->no_trunc, &frame, err);
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        free(rows);
        if (rc < 0) {
            code = -1;
            break;
        }
        if (!first) {
            if (clear)
                fputs("\033[2J\033[H", stdout);
            fwrite(frame.s, 1, frame.len, stdout);
            if (fflush(stdout) != 0) {
                code = 1;
                break;
            }
            if (o->no_stream)
                break;
        }
        deadline.tv_sec++;
        sleep_until(&deadline);
    }
    tracked_free(v, n);
    return code;
}

/* ---- the command ----------------------------------------------------------------------- */

int cmd_stats(struct cli *cli, int argc, char **argv)
{
    struct stats_opts o = {0};
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &o.all, "Show all containers (default shows just running)", NULL},
        {"format", 0, OPT_STRING, &o.format, "Pretty-print images using a Go template", NULL},
        {"no-stream", 0, OPT_BOOL, &o.no_stream,
         "Disable streaming stats and only pull the first result", NULL},
        {"no-trunc", 0, OPT_BOOL, &o.no_trunc, "Do not truncate output", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    /* declared before the first goto done, which would leave them to be cleaned up unset */
    _cleanup_free_ char *text = NULL;
    _cleanup_tmpl_ struct tmpl *t = NULL;
    int code = 1;
    if (!parse_command(cli, "berth stats [OPTIONS] [CONTAINER...]",
                       "Display a live stream of container(s) resource usage statistics", opts,
                       ARRAY_SIZE(opts), argc, argv, &args, &code))
        goto done;
    bool table;
    text = stats_final_format(o.format, &table);
    if (tmpl_parse(text, &t, &err) < 0) {
        fprintf(stderr, "Template parsing error: %s\n", err.msg);
        code = 1;
        goto done;
    }
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    code = stats_loop(&o, &paths, &args, t, table, &err);
    if (code < 0) {
        if (str_has_prefix(err.msg, "Template parsing error: "))
            fprintf(stderr, "%s\n", err.msg);
        else
            report_error(cli, &err);
        code = 1;
    }
done:
    free(o.format);
    return code;
}
