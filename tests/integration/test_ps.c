/* berth ps and inspect over detached containers: Storm's liveness check (`ps
 * --filter=name=<wid> --quiet=true`, whose last output line must be the running container's
 * short id), docker's filters, table and JSON, `inspect --format` as Storm passes it (no shell,
 * so the quotes are part of the template), the host pid, and docker's errors. Every test
 * removes what it started (the suite's .fini also sweeps, for tests that fail midway). */
#include "harness.h"

#include <string.h>
#include <unistd.h>

static void ps_fini(void)
{
    struct h_result r;
    h_berth(&r, NULL, "ps", "-a", "-q", "--no-trunc", NULL);
    char *save = NULL;
    for (char *id = strtok_r(r.out, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
        struct h_result rm;
        h_berth(&rm, NULL, "rm", "-f", id, NULL);
    }
    h_suite_fini();
}

TestSuite(ps, .init = h_suite_init, .fini = ps_fini, .timeout = 180);

static const char *const sleeper[] = {"sleep", "600", NULL};
static const char *const quick[] = {"id", NULL};

/* A container that has already exited (code 0), waited for with `berth wait`. */
static char *start_exited(const char *name)
{
    char *id = h_run_detached(name, quick);
    struct h_result r;
    h_berth(&r, NULL, "wait", id, NULL);
    h_assert_status(&r, 0);
    return id;
}

static void remove_container(const char *id)
{
    struct h_result r;
    h_berth(&r, NULL, "rm", "-f", id, NULL);
    h_assert_status(&r, 0);
}

/* Storm's check: the merged output trimmed, its last line trimmed. */
static char *last_line(const struct h_result *r)
{
    char *all = xasprintf("%s%s", r->out, r->err);
    size_t len = strlen(all);
    while (len && strchr(" \t\r\n", all[len - 1]))
        all[--len] = '\0';
    char *nl = strrchr(all, '\n');
    return nl ? nl + 1 : all;
}

static void storm_ps(struct h_result *r, const char *wid)
{
    char *filter = xasprintf("--filter=name=%s", wid);
    h_berth(r, NULL, "ps", filter, "--quiet=true", NULL);
    free(filter);
    h_assert_status(r, 0);
}

/* ---- ps ------------------------------------------------------------------------------- */

Test(ps, storm_check_prints_the_running_containers_short_id_last)
{
    char *id = h_run_detached("w-6f1d2c-running", sleeper);
    h_run_detached("other-worker", sleeper);
    struct h_result r;
    storm_ps(&r, "w-6f1d2c-running");
    char *want = xasprintf("%.12s\n", id);
    cr_assert_str_eq(r.out, want, "stdout");
    cr_assert_str_empty(r.err, "stderr: %s", r.err);
    cr_assert(str_has_prefix(id, last_line(&r)) && *last_line(&r), "last line %s", last_line(&r));
    remove_container(id);
}

Test(ps, storm_check_prints_nothing_for_an_exited_container)
{
    char *id = start_exited("w-6f1d2c-exited");
    struct h_result r;
    storm_ps(&r, "w-6f1d2c-exited");
    cr_assert_str_empty(r.out, "stdout: %s", r.out);
    cr_assert_str_empty(last_line(&r), "stderr: %s", r.err);
    remove_container(id);
}

Test(ps, storm_check_prints_nothing_for_an_absent_container)
{
    struct h_result r;
    storm_ps(&r, "w-never-started");
    cr_assert_str_empty(r.out, "stdout: %s", r.out);
    cr_assert_str_empty(r.err, "stderr: %s", r.err);
}

Test(ps, name_filter_is_a_regexp_search_with_or_without_the_slash)
{
    char *id = h_run_detached("storm-w1-abc", sleeper);
    h_run_detached("other", sleeper);
    const char *filters[] = {"name=w1", "name=^storm-w1", "name=/storm-w1-abc", "name=abc$",
                             "name=s.orm"};
    char *want = xasprintf("%.12s\n", id);
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        struct h_result r;
        h_berth(&r, NULL, "ps", "-q", "-f", filters[i], NULL);
        h_assert_status(&r, 0);
        cr_assert_str_eq(r.out, want, "%s", filters[i]);
    }
    remove_container(id);
}

Test(ps, only_running_containers_unless_all)
{
    char *running = h_run_detached("up", sleeper);
    char *exited = start_exited("down");
    struct h_result r;
    h_berth(&r, NULL, "ps", "-q", NULL);
    h_assert_status(&r, 0);
    char *want = xasprintf("%.12s\n", running);
    cr_assert_str_eq(r.out, want);
    h_berth(&r, NULL, "ps", "-a", "-q", "--no-trunc", NULL);
    h_assert_status(&r, 0);
    /* newest first */
    want = xasprintf("%s\n%s\n", exited, running);
    cr_assert_str_eq(r.out, want);
    remove_container(running);
    remove_container(exited);
}

Test(ps, status_filter_implies_all_and_is_exact)
{
    char *running = h_run_detached("up", sleeper);
    char *exited = start_exited("down");
    struct h_result r;
    h_berth(&r, NULL, "ps", "-q", "--filter", "status=exited", NULL);
    h_assert_status(&r, 0);
    char *want = xasprintf("%.12s\n", exited);
    cr_assert_str_eq(r.out, want);
    h_berth(&r, NULL, "ps", "-q", "--filter", "status=running", "--filter", "status=exited", NULL);
    h_assert_status(&r, 0);
    want = xasprintf("%.12s\n%.12s\n", exited, running);
    cr_assert_str_eq(r.out, want, "values of one key are ORed");
    h_berth(&r, NULL, "ps", "-q", "--filter", "status=exited", "--filter", "name=up", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_empty(r.out, "different keys are ANDed: %s", r.out);
    remove_container(running);
    remove_container(exited);
}

Test(ps, id_filter_matches_a_prefix)
{
    char *id = h_run_detached("by-id", sleeper);
    char *filter = xasprintf("id=%.6s", id);
    struct h_result r;
    h_berth(&r, NULL, "ps", "-q", "--no-trunc", "-f", filter, NULL);
    h_assert_status(&r, 0);
    char *want = xasprintf("%s\n", id);
    cr_assert_str_eq(r.out, want);
    remove_container(id);
}

Test(ps, table_is_dockers)
{
    char *id = h_run_detached("tabled", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "ps", NULL);
    h_assert_status(&r, 0);
    char *row = strchr(r.out, '\n');
    cr_assert(row, "%s", r.out);
    *row++ = '\0';
    /* IMAGE is as wide as "test/probe:latest" + 3; PORTS (all empty) the minimum, 10 */
    cr_assert(str_has_prefix(r.out, "CONTAINER ID   IMAGE               COMMAND "), "header: %s",
              r.out);
    cr_assert(strstr(r.out, "   PORTS     NAMES") &&
                  str_has_prefix(strstr(r.out, "NAMES"), "NAMES"),
              "header: %s", r.out);
    char *start_of_row = xasprintf("%.12s   %s   \"/probe sleep 600\"   ", id, H_IMAGE);
    cr_assert(str_has_prefix(row, start_of_row), "row: %s", row);
    cr_assert(strstr(row, "   Up "), "row: %s", row);
    cr_assert(strstr(row, "   tabled\n"), "row: %s", row);
    /* every non-empty column starts where its header does (PORTS is empty) */
    const char *cols[] = {"IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"};
    for (size_t i = 0; i < ARRAY_SIZE(cols); i++) {
        size_t at = (size_t)(strstr(r.out, cols[i]) - r.out);
        cr_assert(row[at - 1] == ' ' && row[at] != ' ', "column %s at %zu: %s", cols[i], at, row);
    }
    remove_container(id);
}

Test(ps, format_renders_each_row)
{
    char *id = h_run_detached("formatted", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "ps", "--format", "{{.Names}}|{{.State}}|{{.ID}}", NULL);
    h_assert_status(&r, 0);
    char *want = xasprintf("formatted|running|%.12s\n", id);
    cr_assert_str_eq(r.out, want);
    remove_container(id);
}

Test(ps, unknown_filter_key_is_refused)
{
    struct h_result r;
    h_berth(&r, NULL, "ps", "--filter", "bogus=1", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "Invalid filter 'bogus'");
    cr_assert_str_empty(r.out);
}

/* ---- inspect -------------------------------------------------------------------------- */

Test(ps, inspect_status_as_storm_passes_it_keeps_the_quotes)
{
    char *id = h_run_detached("w-status", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format='{{.State.Status}}'", "w-status", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "'running'\n");
    remove_container(id);
}

Test(ps, inspect_pid_is_the_containers_host_pid)
{
    char *id = h_run_detached("w-pid", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", "{{.State.Pid}}", "w-pid", NULL);
    h_assert_status(&r, 0);
    long pid = strtol(r.out, NULL, 10);
    cr_assert(pid > 1, "pid: %s", r.out);
    char *link = xasprintf("/proc/%ld/ns/mnt", pid);
    char buf[128];
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    cr_assert(n > 0, "%s unreadable: the pid is not alive", link);
    buf[n] = '\0';
    char *ours = h_host_ns("mnt");
    cr_assert_str_neq(buf, ours, "pid %ld shares our mount namespace", pid);
    remove_container(id);
}

Test(ps, inspect_json_of_config_is_an_object)
{
    char *id = h_run_detached("w-config", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "inspect", "-f", "{{json .Config}}", id, NULL);
    h_assert_status(&r, 0);
    yajl_val v = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse(r.out, &v, &err), 0, "%s: %s", err.msg, r.out);
    cr_assert(YAJL_IS_OBJECT(v), "%s", r.out);
    cr_assert_str_eq(json_get_str(v, "Image"), H_IMAGE);
    cr_assert(strchr(r.out, '\n') == r.out + r.out_len - 1, "one line: %s", r.out);
    yajl_tree_free(v);
    remove_container(id);
}

Test(ps, inspect_prints_dockers_indented_array)
{
    char *id = h_run_detached("w-json", sleeper);
    char *exited = start_exited("w-done");
    struct h_result r;
    h_berth(&r, NULL, "inspect", "w-json", "w-done", NULL);
    h_assert_status(&r, 0);
    cr_assert(str_has_prefix(r.out, "[\n    {\n        \"Id\": \""), "%s", r.out);
    yajl_val v = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse(r.out, &v, &err), 0, "%s", err.msg);
    cr_assert(YAJL_IS_ARRAY(v) && v->u.array.len == 2);
    yajl_val a = v->u.array.values[0], b = v->u.array.values[1];
    cr_assert_str_eq(json_get_str(a, "Id"), id);
    cr_assert_str_eq(json_get_str(a, "Name"), "/w-json");
    cr_assert_str_eq(json_get_str(json_get(a, "State"), "Status"), "running");
    cr_assert(YAJL_IS_TRUE(json_get(json_get(a, "State"), "Running")));
    cr_assert(str_has_prefix(json_get_str(a, "Image"), "sha256:"));
    cr_assert_str_eq(json_get_str(b, "Id"), exited);
    cr_assert_str_eq(json_get_str(json_get(b, "State"), "Status"), "exited");
    yajl_val pid = json_get(json_get(b, "State"), "Pid");
    cr_assert(YAJL_IS_INTEGER(pid) && YAJL_GET_INTEGER(pid) == 0, "exited: Pid 0");
    cr_assert(str_has_prefix(json_get_str(json_get(b, "State"), "FinishedAt"), "20"));
    yajl_tree_free(v);
    remove_container(id);
    remove_container(exited);
}

Test(ps, inspect_unknown_container_is_exit_1_and_an_empty_array)
{
    struct h_result r;
    h_berth(&r, NULL, "inspect", "no-such-thing", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "[]\n");
    cr_assert_str_eq(r.err, "Error: No such object: no-such-thing\n");
}

Test(ps, inspect_goes_on_past_an_unknown_name)
{
    char *id = h_run_detached("w-known", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "inspect", "-f", "{{.Name}}", "nope", "w-known", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "/w-known\n");
    cr_assert_str_eq(r.err, "Error: No such object: nope\n");
    remove_container(id);
}

Test(ps, inspect_bad_template_fails_before_any_output)
{
    char *id = h_run_detached("w-tmpl", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", "{{.State.Status}", "w-tmpl", NULL);
    h_assert_status(&r, 64); /* docker's StatusError for inspect template errors */
    cr_assert_str_empty(r.out, "stdout: %s", r.out);
    cr_assert_str_eq(r.err, "Template parsing error: template: :1: unexpected \"}\" in operand\n");
    remove_container(id);
}
