/* BERTH_TRACE=1: every process of a start writes its phases to stderr, one line each, in the
 * order of the start path, with numbers that add up; stdout and the container's log stay as
 * they are, and without the variable nothing is written. */
#include "harness.h"

#include <linux/magic.h>
#include <stdint.h>
#include <string.h>
#include <sys/vfs.h>

H_SUITE(trace);

static const char *const trace_env[] = {"BERTH_TRACE=1", NULL};

/* No run re-executes its front end: the container's monitor runs from the read-only clone of
 * berth's binary while the front end creates the container. It has the container once its
 * description is written (config.json, seccomp.bpf), reads that back while the front end
 * writes the rest, and waits for the caller's go (the bind sources made) before the clone and
 * for a second (the cidfile written) before the release. It starts before the spec and the
 * image, with -d or without. */
static const char *const front[] = {
    "caller",       "args",          "admit",   "monitor-spawn",  "spec",       "image",
    "caps-cidfile", "seccomp-cache", "user",    "state-root",     "state-dir",  "name",
    "config.json",  "seccomp.bpf",   "handoff", "scaffold",       "state.json", "berth.json",
    "etc-files",    "bind-sources",  "cidfile", "monitor-report", "handback",   NULL};
/* On a cgroup2 host the init is born in its cgroups (made before the clone); elsewhere they
 * are made while it builds its root. Either way the monitor makes the binds' trees and /dev
 * for it right after the clone. */
#define START_CLONED(cg_first)                                                                     \
    (cg_first) ? "cgroups" : "clone", (cg_first) ? "clone" : "trees",                              \
        (cg_first) ? "trees" : "cgroups"
#define START(cg_first)                                                                            \
    "handoff", "ro-check", "load-description", "caller-go", START_CLONED(cg_first)
/* run -d's monitor leaves its caller's cgroups once the init is cloned */
#define MONITOR(cg_first)                                                                          \
    {                                                                                              \
        "detach", START(cg_first), "leave-cgroups", "cidfile-go", "child-execve", "state-running", \
            "report", "exec-berth-monitor", NULL                                                   \
    }
static const char *const monitor[2][16] = {MONITOR(false), MONITOR(true)};
/* the foreground run's stays attached, in its caller's cgroups, until the exit */
#define MONITOR_FG(cg_first)                                                                       \
    {                                                                                              \
        "attach", START(cg_first), "cidfile-go", "child-execve", "state-running",                  \
            "container-exit", "exit-recorded", "reaped", "cgroups-removed", "destroy", "report",   \
            NULL                                                                                   \
    }
static const char *const monitor_fg[2][18] = {MONITOR_FG(false), MONITOR_FG(true)};
static const char *const init[] = {"loopback",
                                   "private-root",
                                   "mount-points",
                                   "rootfs-overlay",
                                   "trees",
                                   "default-mounts",
                                   "binds",
                                   "masks",
                                   "pivot_root",
                                   "workdir",
                                   "readonly-root",
                                   "hostname-stdio-fds",
                                   "released",
                                   "cgroup-join",
                                   "creds-caps",
                                   "look-path",
                                   "pdeathsig-signals",
                                   "seccomp-load",
                                   NULL};
static const char *const berth_monitor[] = {"exec", "ready", NULL};

static bool cgroups_first(void)
{
    struct statfs sf;
    return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static bool all_digits(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* The phases stderr holds for role, in order, after checking every trace line's form: seven
 * fields, numbers where numbers go, each role's deltas adding up to its time since start (from
 * its first line on, when the lines begin mid-process) and its monotonic stamps never going
 * back. Lines that are not trace lines are returned in *other. */
static char *phases_from(const char *err, const char *role, bool from_start, char **other)
{
    _cleanup_free_ char *copy = xstrdup(err);
    char *phases = xstrdup(""), *rest = xstrdup("");
    uint64_t sum = 0, last_mono = 0;
    bool first = true;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "berth-trace ", 12) != 0) {
            char *r = xasprintf("%s%s\n", rest, line);
            free(rest), rest = r;
            continue;
        }
        char *f[8] = {0}, *fsave = NULL;
        _cleanup_free_ char *fields = xstrdup(line);
        size_t n = 0;
        for (char *w = strtok_r(fields, " ", &fsave); w && n < 8; w = strtok_r(NULL, " ", &fsave))
            f[n++] = w;
        cr_assert_eq(n, 7, "not 7 fields: %s", line);
        cr_assert(all_digits(f[1]) && all_digits(f[4]) && all_digits(f[5]) && all_digits(f[6]),
                  "not numbers: %s", line);
        if (strcmp(f[2], role) != 0)
            continue;
        uint64_t delta = strtoull(f[4], NULL, 10), since = strtoull(f[5], NULL, 10),
                 mono = strtoull(f[6], NULL, 10);
        if (first && !from_start)
            sum = since - delta;
        first = false;
        sum += delta;
        cr_assert_eq(sum, since, "%s: deltas add up to %llu, not %llu", line,
                     (unsigned long long)sum, (unsigned long long)since);
        cr_assert_geq(mono, last_mono, "%s: the clock went back", line);
        last_mono = mono;
        char *p = xasprintf("%s%s%s", phases, *phases ? " " : "", f[3]);
        free(phases), phases = p;
    }
    if (other)
        *other = rest;
    else
        free(rest);
    return phases;
}

static char *phases_of(const char *err, const char *role, char **other)
{
    return phases_from(err, role, true, other);
}

static void assert_phases_from(const char *err, const char *role, bool from_start,
                               const char *const *want)
{
    _cleanup_free_ char *have = phases_from(err, role, from_start, NULL);
    _cleanup_free_ char *expected = xstrdup("");
    for (; *want; want++) {
        char *e = xasprintf("%s%s%s", expected, *expected ? " " : "", *want);
        free(expected), expected = e;
    }
    cr_assert_str_eq(have, expected, "%s phases:\n have %s\n want %s\nstderr:\n%s", role, have,
                     expected, err);
}

static void assert_phases(const char *err, const char *role, const char *const *want)
{
    assert_phases_from(err, role, true, want);
}

static void assert_only_trace_lines(const char *err)
{
    char *other = NULL;
    free(phases_of(err, "none", &other));
    cr_assert_str_eq(other, "", "stderr holds more than trace lines: %s", other);
    free(other);
}

/* The CLOCK_MONOTONIC stamp of role's line for phase (0: none). */
static uint64_t stamp_of(const char *err, const char *role, const char *phase)
{
    _cleanup_free_ char *pattern = xasprintf(" %s %s ", role, phase);
    const char *at = strstr(err, pattern);
    if (!at)
        return 0;
    const char *eol = strchrnul(at, '\n');
    while (eol > at && eol[-1] != ' ')
        eol--;
    return strtoull(eol, NULL, 10);
}

Test(trace, foreground_run_traces_front_end_and_init_on_stderr_only)
{
    struct h_result r;
    struct h_opts o = {.env = trace_env};
    h_berth(&r, &o, "run", "--rm", H_IMAGE, "/bin/sh", "-c", "echo out", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "out\n");
    assert_phases(r.err, "front", front);
    assert_phases(r.err, "front-ro", (const char *const[]){NULL});
    assert_phases(r.err, "monitor", monitor_fg[cgroups_first()]);
    assert_phases(r.err, "init", init);
    assert_only_trace_lines(r.err);
}

Test(trace, nothing_is_written_without_the_variable)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/bin/sh", "-c", "echo out", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "out\n");
    cr_assert_str_eq(r.err, "");
    const char *const zero[] = {"BERTH_TRACE=0", NULL};
    struct h_opts o = {.env = zero};
    h_berth(&r, &o, "run", "--rm", H_IMAGE, "/bin/sh", "-c", "echo out", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.err, "");
}

Test(trace, detached_run_traces_monitor_init_and_berth_monitor_not_the_log)
{
    struct h_result r;
    struct h_opts o = {.env = trace_env};
    h_berth(&r, &o, "run", "-d", "--name", "traced", H_IMAGE, "/bin/sh", "-c", "echo out", NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(r.out_len, 65, "stdout is not the id alone: %s", r.out);
    cr_assert_eq(strspn(r.out, "0123456789abcdef"), 64, "not an id: %s", r.out);
    assert_phases(r.err, "front", front);
    assert_phases(r.err, "front-ro", (const char *const[]){NULL});
    assert_phases(r.err, "monitor", monitor[cgroups_first()]);
    assert_phases(r.err, "init", init);
    assert_phases(r.err, "berth-monitor", berth_monitor);
    assert_only_trace_lines(r.err);
    /* the container's own output is all its log holds */
    h_berth(&r, NULL, "wait", "traced", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "logs", "traced", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "out\n");
    cr_assert_str_eq(r.err, "");
    h_berth(&r, NULL, "rm", "traced", NULL);
    h_assert_status(&r, 0);
}

/* berth-monitor may not keep its caller's stderr: a traced start's exit phases wait in the
 * state directory until a traced `wait` shows them, with its own, all written before the
 * monitor let it go. An untraced start leaves no lines of the one before. */
Test(trace, traced_wait_shows_the_monitors_exit_phases)
{
    static const char *const exit_phases[] = {"exit-seen", "exit-recorded", "log-closed", NULL};
    static const char *const wait_phases[] = {"woken", "exit-read", NULL};
    struct h_result r;
    struct h_opts o = {.env = trace_env};
    h_berth(&r, &o, "run", "-d", "--name", "traced-exit", H_IMAGE, "/bin/sh", "-c", "exit 3", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "wait", "traced-exit", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "3\n");
    assert_phases_from(r.err, "berth-monitor", false, exit_phases);
    assert_phases_from(r.err, "wait", false, wait_phases);
    assert_phases(r.err, "front", (const char *const[]){"caller", NULL});
    uint64_t released = stamp_of(r.err, "berth-monitor", "log-closed"),
             woken = stamp_of(r.err, "wait", "woken");
    cr_assert(released && released <= woken, "the wait woke before the monitor's last line:\n%s",
              r.err);
    assert_only_trace_lines(r.err);

    h_berth(&r, NULL, "start", "traced-exit", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "wait", "traced-exit", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "3\n");
    assert_phases_from(r.err, "berth-monitor", false, (const char *const[]){NULL});
    assert_phases_from(r.err, "wait", false, wait_phases);
    h_berth(&r, NULL, "rm", "traced-exit", NULL);
    h_assert_status(&r, 0);
}
