/* Private to launcher/: the pure pieces of berth stats (cmd_stats.c), for its unit tests. */
#ifndef BERTH_LAUNCHER_STATS_H
#define BERTH_LAUNCHER_STATS_H

#include "launcher/formatter.h"

struct stats_sample {
    unsigned long long cpu_ns;    /* cgroup cpuacct.usage / cpu.stat usage_usec */
    unsigned long long system_ns; /* /proc/stat's cpu line */
};

/* What one row of docker's stats shows, before formatting. */
struct stats_row {
    const char *id;        /* 64 hex */
    const char *name;      /* without '/'; NULL or "" prints "--" */
    const char *container; /* what the user named it by, or the short id when listing all */
    bool invalid;          /* sampling failed: every measure prints "--", as docker */
    double cpu_percent;
    unsigned long long mem_usage, mem_limit, pids;
    unsigned long long io_read, io_write; /* block I/O bytes */
};

double stats_cpu_percent(const struct stats_sample *pre, const struct stats_sample *cur,
                         unsigned online_cpus);
int stats_parse_proc_stat(const char *text, long clk_tck, unsigned long long *out_ns);
unsigned long long stats_parse_meminfo_total(const char *text);
unsigned long long stats_effective_limit(unsigned long long cgroup_limit,
                                         unsigned long long host_total);
void stats_bytes_size(double bytes, char *out, size_t len);
char *stats_final_format(const char *format, bool *table);
int stats_row_object(const struct stats_row *row, bool trunc, yajl_val *out, struct berr *err);
int stats_render(const struct tmpl *t, bool table, const struct stats_row *rows, size_t n,
                 bool trunc, struct strbuf *out, struct berr *err);

#endif
