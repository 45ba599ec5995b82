/* berth stats's pure pieces in launcher/cmd_stats.c: docker's CPU % from two samples, the host's
 * CPU time from /proc/stat, go-units BytesSize, the memory limit shown, and the frame's text
 * (docker's table, templates, json). No containers, no root. */
#include "launcher/stats.h"

#include <criterion/criterion.h>
#include <string.h>

#define ID "3f2a9c1d0b7e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
#define MiB (1024ULL * 1024)

static const struct stats_row busy = {
    .id = ID,
    .name = "worker-1",
    .container = "3f2a9c1d0b7e",
    .cpu_percent = 50,
    .mem_usage = 12 * MiB + MiB / 2,
    .mem_limit = 64 * MiB,
    .pids = 3,
};

/* The frame for rows under format (as --format takes it); "ERR:<msg>" on failure. */
static char *frame(const char *format, const struct stats_row *rows, size_t n, bool trunc)
{
    bool table;
    char *text = stats_final_format(format, &table);
    struct berr err = {0};
    struct tmpl *t = NULL;
    cr_assert_eq(tmpl_parse(text, &t, &err), 0, "%s: %s", text, err.msg);
    struct strbuf out = {0};
    strbuf_add(&out, "", 0);
    char *res = stats_render(t, table, rows, n, trunc, &out, &err) < 0
                    ? xasprintf("ERR:%s", err.msg)
                    : xstrdup(out.s);
    strbuf_free(&out);
    tmpl_free(t);
    free(text);
    return res;
}

#define assert_frame(format, rows, n, trunc, want)                                                 \
    do {                                                                                           \
        char *got_ = frame((format), (rows), (n), (trunc));                                        \
        cr_assert_str_eq(got_, (want), "format %s", (format));                                     \
        free(got_);                                                                                \
    } while (0)

static char *size(double bytes)
{
    static char buf[32];
    stats_bytes_size(bytes, buf, sizeof(buf));
    return buf;
}

Test(stats_format, cpu_percent_is_the_share_of_host_time_times_online_cpus)
{
    struct stats_sample pre = {.cpu_ns = 1000000000, .system_ns = 50000000000};
    /* 0.5 s of CPU while the 4-CPU host counted 4 s in all: half of one CPU */
    struct stats_sample cur = {.cpu_ns = 1500000000, .system_ns = 54000000000};
    cr_assert_float_eq(stats_cpu_percent(&pre, &cur, 4), 50.0, 1e-9);
    /* one thread busy the whole time on 4 CPUs */
    cur.cpu_ns = pre.cpu_ns + 1000000000;
    cr_assert_float_eq(stats_cpu_percent(&pre, &cur, 4), 100.0, 1e-9);
}

Test(stats_format, cpu_percent_is_zero_without_positive_deltas)
{
    struct stats_sample pre = {.cpu_ns = 10, .system_ns = 100};
    struct stats_sample same = pre;
    cr_assert_float_eq(stats_cpu_percent(&pre, &same, 2), 0.0, 1e-12);
    struct stats_sample reset = {.cpu_ns = 5, .system_ns = 200}; /* counter went back */
    cr_assert_float_eq(stats_cpu_percent(&pre, &reset, 2), 0.0, 1e-12);
    struct stats_sample no_time = {.cpu_ns = 20, .system_ns = 100};
    cr_assert_float_eq(stats_cpu_percent(&pre, &no_time, 2), 0.0, 1e-12);
}

Test(stats_format, system_time_sums_the_first_seven_cpu_fields_in_ns)
{
    const char *text = "cpu  100 2 50 800 10 5 3 7 9 0\n"
                       "cpu0 50 1 25 400 5 2 1 3 4 0\n"
                       "intr 12345\n";
    unsigned long long ns = 0;
    cr_assert_eq(stats_parse_proc_stat(text, 100, &ns), 0);
    /* 970 ticks at USER_HZ 100; steal (7) and guest (9) are not counted, as docker */
    cr_assert_eq(ns, 9700000000ULL);
}

Test(stats_format, system_time_needs_the_cpu_line)
{
    unsigned long long ns;
    cr_assert_lt(stats_parse_proc_stat("cpu0 1 2 3 4 5 6 7\n", 100, &ns), 0);
    cr_assert_lt(stats_parse_proc_stat("cpu  1 2 3\nintr 1\n", 100, &ns), 0);
    cr_assert_lt(stats_parse_proc_stat("", 100, &ns), 0);
}

Test(stats_format, host_memory_is_memtotal_in_bytes)
{
    cr_assert_eq(stats_parse_meminfo_total("MemTotal:        8049420 kB\nMemFree: 1 kB\n"),
                 8049420ULL * 1024);
    cr_assert_eq(stats_parse_meminfo_total("MemFree: 1 kB\n"), 0);
}

Test(stats_format, limit_is_the_hosts_memory_when_unlimited_or_above_it)
{
    cr_assert_eq(stats_effective_limit(64 * MiB, 8192 * MiB), 64 * MiB);
    cr_assert_eq(stats_effective_limit(0, 8192 * MiB), 8192 * MiB);
    /* cgroup v1's "unlimited" */
    cr_assert_eq(stats_effective_limit(9223372036854771712ULL, 8192 * MiB), 8192 * MiB);
}

Test(stats_format, sizes_are_go_units_bytes_size)
{
    cr_assert_str_eq(size(0), "0B");
    cr_assert_str_eq(size(512), "512B");
    cr_assert_str_eq(size(1023), "1023B");
    cr_assert_str_eq(size(1024), "1KiB");
    cr_assert_str_eq(size(2000000), "1.907MiB");
    cr_assert_str_eq(size(64 * MiB), "64MiB");
    cr_assert_str_eq(size(12345678), "11.77MiB");
    cr_assert_str_eq(size(1.5 * 1024 * MiB), "1.5GiB");
    cr_assert_str_eq(size(7.7 * 1024 * 1024 * MiB), "7.7TiB");
}

Test(stats_format, default_table_has_dockers_columns)
{
    assert_frame("", &busy, 1, true,
                 "CONTAINER ID   NAME       CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   "
                 "BLOCK I/O   PIDS\n"
                 "3f2a9c1d0b7e   worker-1   50.00%    12.5MiB / 64MiB     19.53%    0B / 0B   "
                 "0B / 0B     3\n");
}

Test(stats_format, table_keyword_alone_is_the_default_table)
{
    char *a = frame("", &busy, 1, true), *b = frame("table", &busy, 1, true);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
}

Test(stats_format, no_containers_print_the_header_only)
{
    assert_frame("table {{.Name}}\t{{.PIDs}}", NULL, 0, true, "NAME      PIDS\n");
}

Test(stats_format, plain_template_prints_rows_without_header)
{
    assert_frame("{{.Name}} {{.PIDs}}", &busy, 1, true, "worker-1 3\n");
    assert_frame("{{.Container}}: {{.CPUPerc}} {{.MemPerc}}", &busy, 1, true,
                 "3f2a9c1d0b7e: 50.00% 19.53%\n");
}

Test(stats_format, table_template_gets_dockers_headers)
{
    assert_frame("table {{.Container}}\t{{.MemUsage}}\t{{.NetIO}}\t{{.BlockIO}}", &busy, 1, true,
                 "CONTAINER      MEM USAGE / LIMIT   NET I/O   BLOCK I/O\n"
                 "3f2a9c1d0b7e   12.5MiB / 64MiB     0B / 0B   0B / 0B\n");
}

Test(stats_format, block_io_is_read_and_written_in_go_units_with_three_digits)
{
    struct stats_row io = busy;
    io.io_read = 1234567;
    io.io_write = 4194304;
    assert_frame("{{.BlockIO}}|{{.NetIO}}", &io, 1, true, "1.23MB / 4.19MB|0B / 0B\n");
    io.io_read = 999;
    io.io_write = 1000;
    assert_frame("{{.BlockIO}}", &io, 1, true, "999B / 1kB\n");
    io.invalid = true;
    assert_frame("{{.BlockIO}}|{{.NetIO}}", &io, 1, true, "--|--\n");
}

Test(stats_format, escaped_tab_and_newline_in_the_flag_become_real_ones)
{
    assert_frame("{{.Name}}\\t{{.PIDs}}\\n", &busy, 1, true, "worker-1\t3\n\n");
}

Test(stats_format, id_is_short_unless_no_trunc)
{
    assert_frame("{{.ID}}", &busy, 1, true, "3f2a9c1d0b7e\n");
    assert_frame("{{.ID}}", &busy, 1, false, ID "\n");
}

Test(stats_format, missing_name_and_failed_sample_print_dashes)
{
    struct stats_row r = {.id = ID, .container = "w", .invalid = true};
    assert_frame("{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.PIDs}}", &r, 1,
                 true, "--|--|-- / --|--|--|--\n");
}

Test(stats_format, stopped_container_prints_zeros)
{
    struct stats_row r = {.id = ID, .name = "done", .container = "done"};
    assert_frame("{{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.PIDs}}", &r, 1, true,
                 "0.00% 0B / 0B 0.00% 0\n");
}

Test(stats_format, json_is_one_object_a_line_with_sorted_keys)
{
    assert_frame("json", &busy, 1, true,
                 "{\"BlockIO\":\"0B / 0B\",\"CPUPerc\":\"50.00%\",\"Container\":\"3f2a9c1d0b7e\","
                 "\"ID\":\"3f2a9c1d0b7e\",\"MemPerc\":\"19.53%\",\"MemUsage\":\"12.5MiB / 64MiB\","
                 "\"Name\":\"worker-1\",\"NetIO\":\"0B / 0B\",\"PIDs\":\"3\"}\n");
}

Test(stats_format, execution_error_is_a_template_parsing_error)
{
    assert_frame("{{.Name.X}}", &busy, 1, true,
                 "ERR:Template parsing error: template: :1:2: executing \"\" at <.Name.X>: can't "
                 "evaluate field X in type string");
}
