/* Soak: many lifecycles (run -d, ps, inspect, wait, rm; containers that exit by themselves with
 * various codes, killed ones, stopped ones, force-removed running ones) on the default image,
 * and the host compared before and after: the mount table, the cgroup directories under the
 * test's parent, berth processes still running, the test's own fds, the state root and the
 * data root.
 *
 * SOAK_LIFECYCLES sets the count, 1000 when unset (74 ms each on a loaded 2-core machine). The
 * test runs in a mount namespace of its own (berth inherits it), so that the mounts other
 * processes of this machine make meanwhile do not show up in the comparison; any mount that
 * appears there is berth's. */
#include "harness.h"

#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void soak_init(void)
{
    h_suite_init();
    h_cgroup_parent_init("berth-soak");
}

static void soak_fini(void)
{
    h_suite_fini();
    h_cgroup_parent_fini();
}

/* 1000 lifecycles take 75 s here; a slower machine gets room */
TestSuite(soak, .init = soak_init, .fini = soak_fini, .timeout = 3600);

/* ---- what the host looks like ---------------------------------------------------------------- */

/* mountinfo without the mount ids (field 1 and 2), which only say in what order mounts came */
static char *mount_table(void)
{
    _cleanup_free_ char *info = h_read_file("/proc/self/mountinfo");
    cr_assert(info);
    char *out = xstrdup("");
    for (char *line = info, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        if (!end)
            break;
        *end = '\0';
        char *rest = strchr(line, ' ');
        rest = rest ? strchr(rest + 1, ' ') : NULL;
        char *next = xasprintf("%s%s\n", out, rest ? rest + 1 : line);
        free(out);
        out = next;
    }
    return out;
}

/* berth and berth-monitor processes of this test (their arguments name its runroot or its
 * containers), each with its open fds; "" when none runs. */
static char *berth_processes(const char *token)
{
    char *out = xstrdup("");
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid())
            continue;
        if (!h_cmdline_has((pid_t)pid, h_runroot(), true) &&
            !h_cmdline_has((pid_t)pid, token, true))
            continue;
        _cleanup_free_ char *fddir = xasprintf("/proc/%ld/fd", pid);
        DIR *fdd = opendir(fddir);
        struct dirent *f;
        size_t nfds = 0;
        while (fdd && (f = readdir(fdd)))
            nfds += f->d_name[0] != '.';
        if (fdd)
            closedir(fdd);
        char *next = xasprintf("%spid %ld with %zu fds\n", out, pid, nfds);
        free(out);
        out = next;
    }
    if (d)
        closedir(d);
    return out;
}

static size_t own_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the one opendir holds */
}

struct host_view {
    char *mounts, *cgroups, *state, *data;
    size_t fds;
};

static void look(struct host_view *v)
{
    v->mounts = mount_table();
    v->cgroups = h_cgroups_left();
    v->state = h_tree_snapshot(h_runroot());
    h_snapshot_without_mtimes(v->state);
    /* the seccomp cache's entries carry their last use in their mtime (seccomp/cache.c) */
    v->data = h_tree_snapshot(h_data_root());
    h_snapshot_without_mtimes(v->data);
    v->fds = own_fds();
}

/* The lines of have that want lacks. Only added mounts count: a mount the copy of the host's
 * table had at the start disappears here too when its mount point is removed on the host
 * (another test's temp dir). */
static char *lines_not_in(const char *have, const char *want)
{
    char *out = xstrdup("");
    for (const char *line = have; *line;) {
        size_t len = strcspn(line, "\n");
        bool found = false;
        for (const char *w = want; *w && !found;) {
            size_t wl = strcspn(w, "\n");
            found = wl == len && !strncmp(w, line, len);
            w += wl + (w[wl] != '\0');
        }
        if (!found) {
            char *next = xasprintf("%s%.*s\n", out, (int)len, line);
            free(out);
            out = next;
        }
        line += len + (line[len] != '\0');
    }
    return out;
}

static void assert_same(const char *what, const char *have, const char *want)
{
    _cleanup_free_ char *diff = h_first_difference(have, want);
    cr_assert(!diff, "%s changed; first difference:\n%s", what, diff);
}

/* ---- one lifecycle -----------------------------------------------------------------------------
 */

static void berth_ok(struct h_result *r, const char *const *args)
{
    h_berthv(r, NULL, args);
    cr_assert_eq(r->status, 0, "%s %s: exit %d\n%s", args[0], args[1] ? args[1] : "", r->status,
                 r->err);
}

static void expect_out(const struct h_result *r, const char *want, const char *what, int i)
{
    cr_assert_str_eq(r->out, want, "lifecycle %d: %s printed \"%s\", want \"%s\"", i, what, r->out,
                     want);
}

static void lifecycle(int i, const char *token)
{
    char name[96], par[96], script[32], want[128];
    snprintf(name, sizeof(name), "%s-%d", token, i);
    snprintf(par, sizeof(par), "--cgroup-parent=%s", h_cgroup_parent());
    snprintf(script, sizeof(script), "exit %d", i % 7);
    int kind = i % 5;
    const char *run_exit[] = {"run",           "-d", "--name", name,   par,
                              H_IMAGE_DEFAULT, "sh", "-c",     script, NULL};
    const char *run_sleep[] = {"run",           "-d",    "--name", name, par,
                               H_IMAGE_DEFAULT, "sleep", "600",    NULL};
    struct h_result r;
    berth_ok(&r, kind < 2 ? run_exit : run_sleep);
    cr_assert_eq(r.out_len, 65, "lifecycle %d: run -d printed %s", i, r.out);
    char id[65];
    memcpy(id, r.out, 64);
    id[64] = '\0';

    _cleanup_free_ char *filter = xasprintf("name=%s", name);
    const char *ps[] = {"ps", "-a", "-q", "--no-trunc", "--filter", filter, NULL};
    berth_ok(&r, ps);
    snprintf(want, sizeof(want), "%.64s\n", id);
    expect_out(&r, want, "ps", i);

    const char *kill[] = {"kill", name, NULL};
    const char *stop[] = {"stop", "-t", "0", name, NULL};
    if (kind == 2)
        berth_ok(&r, kill);
    else if (kind == 3)
        berth_ok(&r, stop);
    int code = kind < 2 ? i % 7 : 137;
    if (kind != 4) {
        const char *wait[] = {"wait", name, NULL};
        berth_ok(&r, wait);
        snprintf(want, sizeof(want), "%d\n", code);
        expect_out(&r, want, "wait", i);
        const char *inspect[] = {"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}",
                                 name, NULL};
        berth_ok(&r, inspect);
        snprintf(want, sizeof(want), "exited %d\n", code);
        expect_out(&r, want, "inspect", i);
        const char *rm[] = {"rm", name, NULL};
        berth_ok(&r, rm);
    } else {
        const char *inspect[] = {"inspect", "--format", "{{.State.Status}}", name, NULL};
        berth_ok(&r, inspect);
        expect_out(&r, "running\n", "inspect", i);
        const char *rm[] = {"rm", "-f", name, NULL};
        berth_ok(&r, rm);
    }
    snprintf(want, sizeof(want), "%s\n", name);
    expect_out(&r, want, "rm", i);
}

static int lifecycles_wanted(void)
{
    const char *v = getenv("SOAK_LIFECYCLES");
    if (!v || !*v)
        return 1000;
    char *end;
    long n = strtol(v, &end, 10);
    cr_assert(*end == '\0' && n > 0 && n <= 1000000, "SOAK_LIFECYCLES=%s is not a count", v);
    return (int)n;
}

Test(soak, many_lifecycles_leave_the_host_as_they_found_it)
{
    h_own_mount_namespace();
    char token[64];
    snprintf(token, sizeof(token), "soak-%d", (int)getpid());
    int n = lifecycles_wanted();
    /* the first one builds the default image and compiles the default seccomp profile */
    lifecycle(0, token);
    struct host_view before, after;
    look(&before);
    double t0 = h_now_s();
    for (int i = 1; i <= n; i++)
        lifecycle(i, token);
    double took = h_now_s() - t0;
    fprintf(stderr, "soak: %d lifecycles in %.1f s, %.1f ms each\n", n, took, took * 1000 / n);
    _cleanup_free_ char *procs = berth_processes(token);
    cr_assert_str_empty(procs, "berth processes still running:\n%s", procs);
    look(&after);
    _cleanup_free_ char *new_mounts = lines_not_in(after.mounts, before.mounts);
    cr_assert_str_empty(new_mounts, "mounts made and left:\n%s", new_mounts);
    assert_same("the cgroups under the parent", after.cgroups, before.cgroups);
    assert_same("the state root", after.state, before.state);
    assert_same("the data root", after.data, before.data);
    cr_assert_eq(after.fds, before.fds, "the test's own fds: %zu before, %zu after", before.fds,
                 after.fds);
    cr_assert_str_empty(h_state_entries("containers"));
    cr_assert_str_empty(h_state_entries("names"));
}
