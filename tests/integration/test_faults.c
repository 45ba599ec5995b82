/* Faults: berth's own processes killed with SIGKILL at chosen steps of create, start, exit,
 * stop and rm (BERTH_TEST_STALL=<point> stops the process there, see runtime/stall.c), and
 * steps that fail on their own (a cgroup that cannot be made or limited, a bind that cannot be
 * mounted, a data root that fills up during load). After each, ps and inspect tell what
 * happened, and rm -f leaves nothing: no mount under the test's temp dir or the data root, no
 * cgroup under the test's parent /berth-faults-<pid>, no state entry, nothing in the data
 * root's tmp/. */
#include "harness.h"

#include "cgroup/cgroup.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct cgroup_hosts *hosts;
static bool v2;
static char parent[64]; /* "/berth-faults-<pid>" */
static char token[64];  /* this test's container name: unique on the machine */

static void faults_init(void)
{
    h_suite_init();
    h_cgroup_parent_init("berth-faults");
    snprintf(parent, sizeof(parent), "%s", h_cgroup_parent());
    snprintf(token, sizeof(token), "faults-%d", (int)getpid());
    hosts = h_cgroup_hosts();
    bool v1 = false;
    for (size_t i = 0; i < hosts->n; i++)
        v1 |= !hosts->mounts[i].v2 && strncmp(hosts->mounts[i].controllers, "name=", 5) != 0;
    v2 = !v1;
}

static void faults_fini(void)
{
    h_suite_fini();
    h_cgroup_parent_fini();
}

TestSuite(faults, .init = faults_init, .fini = faults_fini, .timeout = 180);

/* ---- finding what is left ------------------------------------------------------------------ */

static bool has_cgroup_of(const char *id)
{
    _cleanup_free_ char *left = h_cgroups_left();
    return strstr(left, id) != NULL;
}

/* Entries of the data root's tmp/, space separated; "" when none. */
static char *data_tmp_left(const char *root)
{
    _cleanup_free_ char *dir = xasprintf("%s/tmp", root ? root : h_data_root());
    char *out = xstrdup("");
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *next = xasprintf("%s%s ", out, de->d_name);
        free(out);
        out = next;
    }
    if (d)
        closedir(d);
    return out;
}

static void assert_nothing_left(void)
{
    h_assert_nothing_left(NULL); /* mounts, containers/ (scaffolds with them), names/ */
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "cgroups left under %s: %s", parent, cg);
    _cleanup_free_ char *tmp = data_tmp_left(NULL);
    cr_assert_str_empty(tmp, "left in the data root's tmp/: %s", tmp);
}

static void rm_force_leaves_nothing(void)
{
    struct h_result r;
    h_berth(&r, NULL, "rm", "-f", token, NULL);
    h_assert_status(&r, 0);
    assert_nothing_left();
}

/* ---- stalling and killing ------------------------------------------------------------------ */

/* The process stalled at point that works on this test's container: its command line names
 * the container, or it descends from the berth the test started. */
static pid_t find_stalled_from(const char *point, pid_t started)
{
    return h_find_stalled(point, started, token);
}

static pid_t find_stalled(const char *point)
{
    return find_stalled_from(point, 0);
}

/* Start berth with args under BERTH_TEST_STALL=point, SIGKILL the process that stalls there,
 * and collect the front end. */
static void kill_at(const char *point, const char *const *args, struct h_result *r)
{
    _cleanup_free_ char *stall = xasprintf("BERTH_TEST_STALL=%s", point);
    const char *env[] = {stall, NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    struct h_proc p;
    h_berth_start(&p, &o, args);
    pid_t victim = find_stalled_from(point, p.pid);
    cr_assert_eq(kill(victim, SIGKILL), 0);
    h_berth_finish(&p, r);
}

static char *inspect(const char *format)
{
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", format, token, NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    return r.out;
}

static char *ps_status(void)
{
    struct h_result r;
    _cleanup_free_ char *filter = xasprintf("name=%s", token);
    h_berth(&r, NULL, "ps", "-a", "--filter", filter, "--format", "{{.Status}}", NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    return r.out;
}

/* [run, -d,] --name <token> --cgroup-parent=<parent> test/probe /probe ARGS...: NULL-ended, in a
 * static array (one per test process). */
static const char **run_args(bool detached, const char *const *probe_args)
{
    static const char *args[24];
    static char par[96];
    snprintf(par, sizeof(par), "--cgroup-parent=%s", parent);
    size_t n = 0;
    args[n++] = "run";
    if (detached)
        args[n++] = "-d";
    args[n++] = "--name";
    args[n++] = token;
    args[n++] = par;
    args[n++] = H_IMAGE;
    args[n++] = "/probe";
    for (; *probe_args && n < ARRAY_SIZE(args) - 1; probe_args++)
        args[n++] = *probe_args;
    args[n] = NULL;
    return args;
}

static const char *const sleeper[] = {"sleep", "600", NULL};
static const char *const exit3[] = {"exit", "3", NULL};

/* ---- berth's processes killed ---------------------------------------------------------------
 * Points: described (front end, config.json and seccomp.bpf written, the container not yet
 * handed to its monitor), handed (front end, the container handed over, berth.json not yet
 * written), create (front end, state directory written), go (front end, the monitor told to
 * build the container, the cidfile not yet written), cgroups (monitor, cgroups
 * made, nothing cloned), init (the container's init, root built, before its exec), exit
 * (berth-monitor, pid 1 gone, nothing recorded), recorded (exit recorded, cgroups still there),
 * reaped (all done but --rm's removal), mounts-held (berth-monitor, waiters let go, the
 * container's mount namespace still held), stop (berth stop, signal sent), killed (rm -f,
 * container killed, not yet removed). */

/* A front end killed before berth.json is written leaves a creation cut short: its directory
 * (with a lock nobody holds) and its name. No one may see it, and nothing may keep the name:
 * the first lookup, listing or run that meets it collects it. */
static void kill_before_the_record(void)
{
    struct h_result r;
    kill_at("described", run_args(true, sleeper), &r);
    cr_assert_eq(r.status, 128 + SIGKILL, "%s", r.err);
    _cleanup_free_ char *names = h_state_entries("names");
    cr_assert_str_eq(names, token, "the stall point is past the name");
    _cleanup_free_ char *dirs = h_state_entries("containers");
    cr_assert_eq(strlen(dirs), 64, "containers/: %s", dirs);
}

Test(faults, a_creation_cut_short_is_no_container_and_rm_f_leaves_nothing)
{
    kill_before_the_record();
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", "{{.Id}}", token, NULL);
    cr_assert_eq(r.status, 1);
    _cleanup_free_ char *want = xasprintf("Error: No such object: %s\n", token);
    cr_assert_str_eq(r.err, want);
    rm_force_leaves_nothing();
}

Test(faults, a_creation_cut_short_gives_its_name_to_the_next_run)
{
    kill_before_the_record();
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", token, H_IMAGE, "/probe", "sleep", "600", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *st = ps_status();
    cr_assert(str_has_prefix(st, "Up "), "%s", st);
    _cleanup_free_ char *dirs = h_state_entries("containers");
    cr_assert_eq(strlen(dirs), 64, "the cut short creation is still there: %s", dirs);
    rm_force_leaves_nothing();
}

/* Many runs want the name at once: each finds it held by the creation cut short, and the names
 * lock lets exactly one take it over. */
Test(faults, a_name_left_by_a_creation_cut_short_goes_to_exactly_one_of_many_runs)
{
    enum { N = 16 };
    kill_before_the_record();
    char winner[65] = "";
    cr_assert_eq(h_race_for_a_name(run_args(true, sleeper), N, winner), 1);
    _cleanup_free_ char *dirs = h_state_entries("containers");
    cr_assert_str_eq(dirs, winner);
    _cleanup_free_ char *name = xasprintf("%s/names/%s", h_runroot(), token);
    char target[80] = "";
    cr_assert_eq(readlink(name, target, sizeof(target) - 1), 64);
    cr_assert_str_eq(target, winner);
    rm_force_leaves_nothing();
}

/* Handed over, the container's lock is the monitor's too. Its caller gone without a go, the
 * monitor leaves, and only then is the creation cut short collected. */
Test(faults, front_end_killed_after_the_handoff_leaves_nothing_once_its_monitor_goes)
{
    struct h_result r;
    kill_at("handed", run_args(true, sleeper), &r);
    cr_assert_eq(r.status, 128 + SIGKILL, "%s", r.err);
    bool collected = false;
    for (int i = 0; i < 250 && !collected; i++) {
        _cleanup_free_ char *st = ps_status();
        cr_assert_str_empty(st, "a creation cut short is listed: %s", st);
        _cleanup_free_ char *dirs = h_state_entries("containers");
        collected = !*dirs;
        if (!collected)
            usleep(20 * 1000);
    }
    cr_assert(collected, "the monitor still holds the lock after 5 s");
    rm_force_leaves_nothing();
}

Test(faults, ps_collects_a_creation_cut_short)
{
    kill_before_the_record();
    _cleanup_free_ char *st = ps_status();
    cr_assert_str_empty(st);
    _cleanup_free_ char *dirs = h_state_entries("containers");
    cr_assert_str_empty(dirs);
    /* the name is left pointing nowhere, until the name is looked up or taken */
    rm_force_leaves_nothing();
}

Test(faults, front_end_killed_after_the_state_dir_is_written)
{
    struct h_result r;
    kill_at("create", run_args(true, sleeper), &r);
    cr_assert_eq(r.status, 128 + SIGKILL, "%s", r.err);
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.Running}}"), "created false");
    _cleanup_free_ char *st = ps_status();
    cr_assert_str_eq(st, "Created");
    rm_force_leaves_nothing();
}

Test(faults, monitor_killed_after_the_cgroups_are_made)
{
    struct h_result r;
    kill_at("cgroups", run_args(true, sleeper), &r);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "monitor died before the start");
    /* the front end outlives its monitor and writes down why the start failed, as for any
     * other failed start */
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}"),
                     "created false 125");
    _cleanup_free_ char *error = inspect("{{.State.Error}}");
    cr_assert(strstr(error, "monitor died before the start"), "State.Error: \"%s\"", error);
    _cleanup_free_ char *st = ps_status();
    cr_assert_str_eq(st, "Created");
    _cleanup_free_ char *id = inspect("{{.Id}}");
    cr_assert(has_cgroup_of(id), "the stall point is past cgroup creation: no cgroup of %s", id);
    rm_force_leaves_nothing();
}

/* pid's first child, 0 when it has none. */
static pid_t first_child_of(pid_t pid)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/children", (int)pid, (int)pid);
    _cleanup_free_ char *children = h_read_file(path);
    return children ? (pid_t)atoi(children) : 0;
}

/* ---- the cidfile, written while the monitor builds the container ----
 * The front end's first go lets the monitor clone and build the container; its second, once
 * the cidfile is written, lets the container run. Stalled between the two: */
struct stalled_at_go {
    struct h_proc front;
    pid_t monitor;
    char *cid, *ran; /* the cidfile; the file the container's command makes in a host dir */
};

static void stall_at_go(struct stalled_at_go *g)
{
    _cleanup_free_ char *out = h_path("out");
    h_mkdirs(out, 0777);
    _cleanup_free_ char *vol = xasprintf("%s:/out", out);
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    g->cid = h_path("c.cid");
    g->ran = h_path("out/ran");
    const char *args[] = {"run", "-d",    "--name", token,   par,        "--cidfile", g->cid, "-v",
                          vol,   H_IMAGE, "/probe", "write", "/out/ran", "sleep",     "600",  NULL};
    const char *env[] = {"BERTH_TEST_STALL=go", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    h_berth_start(&g->front, &o, args);
    pid_t front = find_stalled_from("go", g->front.pid);
    g->monitor = first_child_of(front);
    cr_assert(g->monitor > 0, "no monitor under the front end %d", (int)front);
}

/* Killed before its cidfile, the front end never says the second go: the monitor lets the
 * built container go unrun, removes its cgroups and leaves it "created", as at "create". */
Test(faults, front_end_killed_before_its_cidfile_leaves_the_container_unrun)
{
    struct stalled_at_go g;
    stall_at_go(&g);
    cr_assert_eq(kill(g.front.pid, SIGKILL), 0);
    struct h_result r;
    h_berth_finish(&g.front, &r);
    cr_assert_eq(r.status, 128 + SIGKILL, "%s", r.err);
    cr_assert(h_proc_exits_within(g.monitor, 10), "the monitor is still there after 10 s");
    cr_assert_not(h_exists(g.ran), "the container's command ran without the second go");
    cr_assert_not(h_exists(g.cid));
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.Running}}"), "created false");
    _cleanup_free_ char *id = inspect("{{.Id}}");
    cr_assert_not(has_cgroup_of(id), "the monitor left its cgroups behind");
    rm_force_leaves_nothing();
    free(g.cid);
    free(g.ran);
}

/* The cidfile was not there when the run began and is when the front end makes it (another
 * run with the same --cidfile): docker's error, and the container, built already, goes
 * without running anything, as if the run had failed before its create. */
Test(faults, a_cidfile_made_meanwhile_fails_the_run_and_leaves_nothing)
{
    struct stalled_at_go g;
    stall_at_go(&g);
    h_write_file(g.cid, "theirs", 0644);
    cr_assert_eq(kill(g.front.pid, SIGCONT), 0);
    struct h_result r;
    h_berth_finish(&g.front, &r);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "failed to create the container ID file");
    h_assert_err_mentions(&r, "File exists");
    _cleanup_free_ char *theirs = h_read_file(g.cid);
    cr_assert_str_eq(theirs, "theirs", "the other run's cidfile was touched");
    cr_assert(h_proc_exits_within(g.monitor, 10), "the monitor is still there after 10 s");
    cr_assert_not(h_exists(g.ran), "the container's command ran");
    assert_nothing_left();
    free(g.cid);
    free(g.ran);
}

/* The one child of pid, once it has exited (a zombie): 0 when there is none within 10 s. */
static pid_t exited_child_of(pid_t pid)
{
    double deadline = h_now_s() + 10;
    while (h_now_s() < deadline) {
        pid_t child = first_child_of(pid);
        char state;
        if (child > 0 && h_proc_stat(child, &state, NULL) && state == 'Z')
            return child;
        usleep(10000);
    }
    return 0;
}

/* An init that fails (a directory bound onto an image file) and exits before the monitor,
 * stopped after making the cgroups, releases it: the release meets a closed socket, and the
 * caller still gets the init's reason, not the broken pipe. */
Test(faults, an_init_that_failed_before_its_release_is_still_heard)
{
    const char *env[] = {"BERTH_TEST_STALL=cgroups", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    _cleanup_free_ char *src = h_path("src");
    h_mkdirs(src, 0755);
    _cleanup_free_ char *vol = xasprintf("%s:/etc/passwd", src);
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    const char *args[] = {"run", "--rm",  "--name", token, par, "-v",
                          vol,   H_IMAGE, "/probe", "id",  NULL};
    struct h_proc p;
    h_berth_start(&p, &o, args);
    pid_t monitor = find_stalled_from("cgroups", p.pid);
    cr_assert(exited_child_of(monitor), "the init did not fail on its own");
    cr_assert_eq(kill(monitor, SIGCONT), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "/etc/passwd");
    assert_nothing_left();
}

Test(faults, container_init_killed_before_its_exec)
{
    struct h_result r;
    kill_at("init", run_args(true, sleeper), &r);
    /* its end is the sync socket's EOF, which is how a successful exec looks: the start is
     * reported, and the exit is the SIGKILL's */
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "137\n");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    _cleanup_free_ char *st = ps_status();
    cr_assert(!strncmp(st, "Exited (137)", 12), "ps: %s", st);
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "an exited container keeps no cgroup: %s", cg);
    rm_force_leaves_nothing();
}

Test(faults, foreground_run_whose_init_is_killed_before_its_exec_exits_137)
{
    struct h_result r;
    kill_at("init", run_args(false, sleeper), &r);
    h_assert_status(&r, 137);
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    rm_force_leaves_nothing();
}

/* A foreground run's start is its attached monitor's, as run -d's: the front end outlives it
 * and says so, as docker run does when its daemon goes */
Test(faults, foreground_runs_monitor_killed_after_the_cgroups_are_made)
{
    struct h_result r;
    kill_at("cgroups", run_args(false, sleeper), &r);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "monitor died before the start");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}"),
                     "created false 125");
    rm_force_leaves_nothing();
}

/* The front end killed while its container runs: the attached monitor dies with it
 * (PDEATHSIG), pid 1 with the monitor; what is left is a stopped container rm -f removes. */
Test(faults, foreground_run_killed_while_its_container_runs)
{
    struct h_opts o = {.timeout_s = 30};
    struct h_proc p;
    h_berth_start(&p, &o, run_args(false, sleeper));
    double deadline = h_now_s() + 10;
    _cleanup_free_ char *status = NULL;
    while (h_now_s() < deadline) {
        free(status);
        status = ps_status();
        if (!strncmp(status, "Up", 2))
            break;
        usleep(20 * 1000);
    }
    cr_assert(!strncmp(status, "Up", 2), "never running: %s", status);
    pid_t pid1 = (pid_t)atoi(inspect("{{.State.Pid}}"));
    cr_assert_gt(pid1, 0);
    cr_assert_eq(kill(p.pid, SIGKILL), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    cr_assert_eq(r.status, 128 + SIGKILL);
    cr_assert(h_proc_exits_within(pid1, 10), "pid 1 (%d) outlived the front end", (int)pid1);
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "137\n");
    rm_force_leaves_nothing();
}

/* The command exited 3, but nobody wrote it down: the monitor's death is what inspect tells */
Test(faults, monitor_killed_before_recording_the_exit)
{
    struct h_result r;
    kill_at("exit", run_args(true, exit3), &r);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "137\n");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}"),
                     "exited 137 berth monitor exited unexpectedly");
    _cleanup_free_ char *id = inspect("{{.Id}}");
    cr_assert(has_cgroup_of(id), "the monitor died before removing the cgroups of %s", id);
    rm_force_leaves_nothing();
}

Test(faults, monitor_killed_after_recording_the_exit)
{
    struct h_result r;
    kill_at("recorded", run_args(true, exit3), &r);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "3\n");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}"),
                     "exited 3 ");
    _cleanup_free_ char *st = ps_status();
    cr_assert(!strncmp(st, "Exited (3)", 10), "ps: %s", st);
    _cleanup_free_ char *id = inspect("{{.Id}}");
    cr_assert(has_cgroup_of(id), "the monitor died before removing the cgroups of %s", id);
    rm_force_leaves_nothing();
}

static bool still_running(const struct h_proc *p)
{
    siginfo_t si = {0};
    return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

/* The monitor lets `wait` go once the exit is recorded; pid 1's reaping, the cgroups and the
 * container's mounts, whose teardown waits for grace periods, go after that. A start (its
 * overlay is made on the same upper layer, its cgroups at the same paths) or an rm right after
 * the wait waits for them: with berth-monitor stopped between the two, `wait` has its answer
 * while the cgroups are still there, and then berth ARGS... is still waiting 0.3 s later, and
 * ends well once the monitor goes on. Returns the first run's start time. */
static char *assert_waits_for_the_cleanup(const char *const *args)
{
    const char *env[] = {"BERTH_TEST_STALL=mounts-held", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    struct h_result r;
    h_berthv(&r, &o, run_args(true, exit3));
    h_assert_status(&r, 0);
    pid_t monitor = find_stalled("mounts-held");
    /* what is seen while the monitor is stopped, asserted once it goes on (a failed assertion
     * would leave it stopped) */
    /* a container of berth's default network has its own mount, network and IPC namespaces */
    bool holds = h_holds_fd_to(monitor, "mnt") && h_holds_fd_to(monitor, "net") &&
                 h_holds_fd_to(monitor, "ipc");
    struct h_result waited;
    h_berth(&waited, NULL, "wait", token, NULL);
    _cleanup_free_ char *id = inspect("{{.Id}}");
    bool cgroups_left = has_cgroup_of(id);
    char *started = inspect("{{.State.StartedAt}}");
    struct h_proc p;
    h_berth_start(&p, NULL, args);
    usleep(300000);
    bool blocked = still_running(&p);
    cr_assert_eq(kill(monitor, SIGCONT), 0);
    h_berth_finish(&p, &r);
    cr_assert(holds, "the stalled monitor did not hold the container's namespaces");
    h_assert_status(&waited, 0);
    cr_assert_str_eq(waited.out, "3\n");
    cr_assert(cgroups_left, "the cgroups of %s went before wait returned", id);
    cr_assert(blocked, "%s went on while the old mounts were held", args[0]);
    h_assert_status(&r, 0);
    return started;
}

Test(faults, wait_returns_before_the_cleanup_and_start_waits_for_it)
{
    _cleanup_free_ char *first =
        assert_waits_for_the_cleanup((const char *const[]){"start", token, NULL});
    struct h_result r;
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "3\n");
    _cleanup_free_ char *second = inspect("{{.State.StartedAt}}");
    cr_assert_str_neq(second, first, "the container did not run again");
    rm_force_leaves_nothing();
}

Test(faults, wait_returns_before_the_cleanup_and_rm_waits_for_it)
{
    free(assert_waits_for_the_cleanup((const char *const[]){"rm", token, NULL}));
    assert_nothing_left();
}

Test(faults, monitor_of_a_run_rm_killed_before_the_removal)
{
    const char **args = run_args(true, exit3);
    /* run -d --rm: "--rm" goes in front of the name */
    const char *with_rm[24] = {"run", "-d", "--rm"};
    size_t n = 3;
    for (const char **a = args + 2; *a; a++)
        with_rm[n++] = *a;
    with_rm[n] = NULL;
    struct h_result r;
    kill_at("reaped", with_rm, &r);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "3\n");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}}"), "exited 3");
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "an exited container keeps no cgroup: %s", cg);
    rm_force_leaves_nothing();
}

/* pid 1 without a handler ignores SIGTERM: the stop that died before its SIGKILL left it up */
Test(faults, stop_killed_after_its_signal)
{
    struct h_result r;
    h_berthv(&r, NULL, run_args(true, sleeper));
    h_assert_status(&r, 0);
    const char *stop[] = {"stop", "-t", "1", token, NULL};
    kill_at("stop", stop, &r);
    cr_assert_eq(r.status, 128 + SIGKILL, "%s", r.err);
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.Running}}"), "running true");
    _cleanup_free_ char *st = ps_status();
    cr_assert(!strncmp(st, "Up ", 3), "ps: %s", st);
    rm_force_leaves_nothing();
}

Test(faults, rm_killed_between_the_kill_and_the_removal)
{
    struct h_result r;
    h_berthv(&r, NULL, run_args(true, sleeper));
    h_assert_status(&r, 0);
    const char *rm[] = {"rm", "-f", token, NULL};
    kill_at("killed", rm, &r);
    cr_assert_eq(r.status, 128 + SIGKILL, "%s", r.err);
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "an exited container keeps no cgroup: %s", cg);
    /* the name still leads to the container: a new one cannot take it yet */
    h_berthv(&r, NULL, run_args(true, sleeper));
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "already in use");
    rm_force_leaves_nothing();
}

/* ---- steps that fail by themselves ----------------------------------------------------------- */

static bool has_controller(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* A cgroup parent whose last component is a file in one hierarchy: the hierarchies before it
 * got their directories already, and must lose them again. */
static const char *memory_limit_file(void)
{
    const char *file = v2 ? "cgroup.procs" : "memory.limit_in_bytes";
    if (!v2) {
        bool memory = false;
        for (size_t i = 0; i < hosts->n; i++)
            memory |=
                !hosts->mounts[i].v2 && has_controller(hosts->mounts[i].controllers, "memory");
        if (!memory)
            h_skip("no v1 memory hierarchy to hold memory.limit_in_bytes");
    }
    return file;
}

static void assert_cgroup_failure_reported(const struct h_result *r, const char *file)
{
    h_assert_status(r, 125);
    h_assert_err_mentions(r, "Not a directory");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}}"), "created 125");
    _cleanup_free_ char *error = inspect("{{.State.Error}}");
    cr_assert(strstr(error, file), "State.Error: %s", error);
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "a failed create left cgroups: %s", cg);
    rm_force_leaves_nothing();
}

Test(faults, a_cgroup_that_cannot_be_made_leaves_no_cgroup)
{
    const char *file = memory_limit_file();
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s/%s", parent, file);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", token, par, H_IMAGE, "/probe", "sleep", "600", NULL);
    assert_cgroup_failure_reported(&r, file);
}

/* The same failure with the front end's second go (its cidfile written, here none) already
 * waiting, unread, when the monitor leaves: the reset its socket then reports comes ahead of
 * the monitor's report, which must still be read, not taken for the monitor's death. */
Test(faults, a_cgroup_failure_after_the_second_go_is_still_reported)
{
    const char *file = memory_limit_file();
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s/%s", parent, file);
    const char *env[] = {"BERTH_TEST_STALL=mkcgroups", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    struct h_proc p;
    h_berth_start(&p, &o,
                  (const char *const[]){"run", "-d", "--name", token, par, H_IMAGE, "/probe",
                                        "sleep", "600", NULL});
    pid_t monitor = find_stalled_from("mkcgroups", p.pid);
    usleep(300000); /* the front end's second go arrives meanwhile */
    cr_assert_eq(kill(monitor, SIGCONT), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    assert_cgroup_failure_reported(&r, file);
}

/* v1: a child's CFS quota may not exceed its parent's; the write fails after every directory
 * is made */
Test(faults, a_limit_the_kernel_refuses_leaves_no_cgroup)
{
    if (v2)
        h_skip("v2 takes a child's cpu.max above its parent's; the refusal is v1's");
    const char *cpu = NULL;
    for (size_t i = 0; i < hosts->n; i++)
        if (!hosts->mounts[i].v2 && has_controller(hosts->mounts[i].controllers, "cpu"))
            cpu = hosts->mounts[i].path;
    if (!cpu)
        h_skip("no v1 cpu hierarchy");
    _cleanup_free_ char *dir = xasprintf("%s%s", cpu, parent);
    cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s", dir);
    _cleanup_free_ char *quota = xasprintf("%s/cpu.cfs_quota_us", dir);
    h_write_file(quota, "50000", 0644);
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", token, par, "--cpus=1", H_IMAGE, "/probe", "sleep",
            "600", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "cpu.cfs_quota_us");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}}"), "created 125");
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "a failed create left cgroups: %s", cg);
    rm_force_leaves_nothing();
}

/* A directory bound over /etc/passwd: the mount fails in the container's init, after the
 * overlay and the default mounts are made in its namespace. */
Test(faults, a_bind_that_cannot_be_mounted_leaves_nothing)
{
    _cleanup_free_ char *src = h_path("srcdir");
    h_mkdirs(src, 0755);
    _cleanup_free_ char *vol = xasprintf("%s:/etc/passwd", src);
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", token, par, "-v", vol, H_IMAGE, "/probe", "sleep",
            "600", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "/etc/passwd");
    cr_assert_str_eq(inspect("{{.State.Status}} {{.State.ExitCode}}"), "created 125");
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "a failed start left cgroups: %s", cg);
    h_assert_no_mounts_left();
    rm_force_leaves_nothing();
    /* the foreground run removes what it made itself */
    h_berth(&r, NULL, "run", "--name", token, par, "-v", vol, H_IMAGE, "/probe", "true", NULL);
    h_assert_status(&r, 125);
    assert_nothing_left();
}

/* A source under /proc that does not exist cannot be made, as docker makes missing sources */
Test(faults, a_bind_source_under_proc_that_cannot_be_made_leaves_nothing)
{
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", token, par, "-v", "/proc/self/fd/987654:/x", H_IMAGE,
            "/probe", "sleep", "600", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "/proc/self/fd/987654");
    h_berth(&r, NULL, "ps", "-a", "-q", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_empty(r.out, "a refused run is listed: %s", r.out);
    assert_nothing_left();
}

/* ---- a full data root during load ------------------------------------------------------------ */

/* A docker-save archive of one image whose only layer holds `size` random bytes. */
static char *random_image_archive(size_t size)
{
    char *data = xmalloc(size);
    for (size_t off = 0; off < size;) {
        ssize_t n = getrandom(data + off, size - off, 0);
        cr_assert_gt(n, 0);
        off += (size_t)n;
    }
    struct h_buf layer = {0}, outer = {0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open(a, &layer, NULL, h_buf_write, NULL), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "noise");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
    cr_assert_eq(archive_write_data(a, data, size), (la_ssize_t)size);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    free(data);
    char diff[65], chex[65];
    sha256_hex(layer.p, layer.len, diff);
    _cleanup_free_ char *config =
        xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
                  diff);
    sha256_hex(config, strlen(config), chex);
    _cleanup_free_ char *cname = xasprintf("%s.json", chex);
    _cleanup_free_ char *manifest = xasprintf(
        "[{\"Config\":\"%s\",\"RepoTags\":[\"it/full:latest\"],\"Layers\":[\"l/layer.tar\"]}]",
        cname);
    const char *names[] = {"l/layer.tar", cname, "manifest.json"};
    const char *datas[] = {layer.p, config, manifest};
    size_t lens[] = {layer.len, strlen(config), strlen(manifest)};
    a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open(a, &outer, NULL, h_buf_write, NULL), ARCHIVE_OK);
    for (size_t i = 0; i < 3; i++) {
        e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)lens[i]);
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
        cr_assert_eq(archive_write_data(a, datas[i], lens[i]), (la_ssize_t)lens[i]);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    free(layer.p);
    char *path = h_path("full.tar");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write_all(fd, outer.p, outer.len), 0);
    close(fd);
    free(outer.p);
    return path;
}

/* A 1 MiB tmpfs as the data root, in a mount namespace of this test process alone (berth
 * inherits it; the host never sees the mount). */
static char *small_data_root(void)
{
    h_own_mount_namespace();
    char *root = h_path("small");
    h_mkdirs(root, 0700);
    cr_assert_eq(mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700"), 0,
                 "mount tmpfs: %s", strerror(errno));
    return root;
}

static void load_into_full_root(bool from_stdin)
{
    _cleanup_free_ char *archive = random_image_archive(3u << 20);
    _cleanup_free_ char *root = small_data_root();
    struct h_opts o = {.root = root, .timeout_s = 60};
    struct h_result r;
    /* the store's layout and its lock file, made by the first load that gets the lock */
    o.input = "not an archive";
    h_berth(&r, &o, "load", NULL);
    h_assert_err_mentions(&r, "Unrecognized archive format");
    o.input = NULL;
    _cleanup_free_ char *before = h_tree_snapshot(root);
    struct statvfs sv0, sv1;
    cr_assert_eq(statvfs(root, &sv0), 0);
    if (from_stdin) {
        o.input_file = archive;
        h_berth(&r, &o, "load", NULL);
    } else {
        h_berth(&r, &o, "load", "-i", archive, NULL);
    }
    cr_assert_neq(r.status, 0, "a 3 MiB layer loaded into a 1 MiB data root\n%s", r.out);
    h_assert_err_mentions(&r, "No space left on device");
    _cleanup_free_ char *tmp = data_tmp_left(root);
    cr_assert_str_empty(tmp, "left in tmp/: %s", tmp);
    cr_assert_eq(statvfs(root, &sv1), 0);
    cr_assert_eq(sv1.f_bfree, sv0.f_bfree, "blocks free: %lu before, %lu after",
                 (unsigned long)sv0.f_bfree, (unsigned long)sv1.f_bfree);
    cr_assert_eq(sv1.f_ffree, sv0.f_ffree, "inodes free: %lu before, %lu after",
                 (unsigned long)sv0.f_ffree, (unsigned long)sv1.f_ffree);
    h_berth(&r, &o, "images", "-q", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_empty(r.out, "an image was registered: %s", r.out);
    /* the same entries, names, modes and sizes; directory mtimes moved with the attempt */
    _cleanup_free_ char *after = h_tree_snapshot(root);
    h_snapshot_without_mtimes(before);
    h_snapshot_without_mtimes(after);
    _cleanup_free_ char *diff = h_first_difference(after, before);
    cr_assert(!diff, "the data root changed; first difference:\n%s", diff);
}

Test(faults, load_from_a_file_into_a_full_data_root_leaves_nothing)
{
    load_into_full_root(false);
}

Test(faults, load_from_stdin_into_a_full_data_root_leaves_nothing)
{
    load_into_full_root(true);
}

/* ---- a removal that cannot finish ------------------------------------------------------------ */

static int set_immutable(const char *path, bool on)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    int flags = 0;
    int rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
    if (rc == 0) {
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
    }
    close(fd);
    return rc;
}

/* A file of the state directory berth cannot delete (immutable): rm says so, yet the
 * container is gone from every listing and its name is free; the leftover goes with the next
 * removal once it can. */
Test(faults, a_removal_that_cannot_finish_frees_the_name_and_is_swept_later)
{
    struct h_result r;
    h_berthv(&r, NULL, run_args(true, sleeper));
    h_assert_status(&r, 0);
    char id[65];
    snprintf(id, sizeof(id), "%.64s", r.out);
    _cleanup_free_ char *hosts = xasprintf("%s/containers/%s/hosts", h_runroot(), id);
    if (set_immutable(hosts, true) < 0)
        h_skip("the state root's file system has no immutable flag: %s", strerror(errno));
    h_berth(&r, NULL, "rm", "-f", token, NULL);
    cr_assert_neq(r.status, 0, "rm must say that it could not delete everything");
    h_assert_err_mentions(&r, "removed, but not all of its state");
    h_berth(&r, NULL, "ps", "-aq", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_empty(r.out, "a half-removed container is listed: %s", r.out);
    _cleanup_free_ char *moved = xasprintf("%s/containers/.removed-%s/hosts", h_runroot(), id);
    cr_assert_eq(set_immutable(moved, false), 0, "%s", strerror(errno));
    /* the name is free again, and this container's removal sweeps the leftover */
    h_berthv(&r, NULL, run_args(true, sleeper));
    h_assert_status(&r, 0);
    rm_force_leaves_nothing();
}

/* config.json with s replaced by with (once; it must be there). */
static void rewrite_config(const char *path, const char *s, const char *with)
{
    _cleanup_free_ char *text = h_read_file(path);
    cr_assert(text, "no %s", path);
    char *at = strstr(text, s);
    cr_assert(at, "%s has no %s", path, s);
    _cleanup_free_ char *out = xasprintf("%.*s%s%s", (int)(at - text), text, with, at + strlen(s));
    h_write_file(path, out, 0600);
}

/* The start takes the container from config.json, read back once create has written it: what
 * the file says when the front end hands the container to run -d's monitor (its environment,
 * its hostname) is what the container gets, whatever create had worked out in memory. */
Test(faults, the_start_runs_what_config_json_says)
{
    const char *env[] = {"BERTH_TEST_STALL=described", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    struct h_proc p;
    h_berth_start(&p, &o, run_args(true, (const char *const[]){"hostname", "env", NULL}));
    pid_t stalled = find_stalled("described");
    /* the one container under the state root, before berth.json makes it visible to inspect */
    _cleanup_free_ char *id = h_state_entries("containers");
    cr_assert_eq(strlen(id), 64, "not one container being created: \"%s\"", id);
    _cleanup_free_ char *cfg = xasprintf("%s/containers/%s/config.json", h_runroot(), id);
    _cleanup_free_ char *host = xasprintf("\"hostname\":\"%.12s\"", id);
    rewrite_config(cfg, host, "\"hostname\":\"from-config-json\"");
    rewrite_config(cfg, "\"env\":[", "\"env\":[\"BERTH_MARKER=from-config-json\",");
    cr_assert_eq(kill(stalled, SIGCONT), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "logs", token, NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "hostname", "from-config-json");
    cr_assert(strstr(r.out, "env=BERTH_MARKER=from-config-json\n"), "no marker in:\n%s", r.out);
    rm_force_leaves_nothing();
}

/* A reader that read "running" just before the monitor recorded the exit and let go of the
 * lock must not take the free lock for a dead monitor and write 137 over the record (seen once
 * in the soak: wait printed 137 for `exit 0`). */
Test(faults, a_reader_racing_the_monitors_record_keeps_the_exit_code)
{
    struct h_result r;
    h_berthv(&r, NULL, run_args(true, (const char *const[]){"sleep", "2", "exit", "3", NULL}));
    h_assert_status(&r, 0);
    const char *env[] = {"BERTH_TEST_STALL=inspect-read", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    struct h_proc p;
    const char *args[] = {"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", token,
                          NULL};
    h_berth_start(&p, &o, args);
    pid_t reader = find_stalled("inspect-read");
    /* the container exits and its monitor records it while the reader holds "running" */
    h_berth(&r, NULL, "wait", token, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "3\n");
    cr_assert_eq(kill(reader, SIGCONT), 0);
    h_berth_finish(&p, &r);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "exited 3\n", "the stale reader rewrote the record");
    h_berth(&r, NULL, "inspect", "--format", "{{.State.ExitCode}}", token, NULL);
    cr_assert_str_eq(r.out, "3\n");
    rm_force_leaves_nothing();
}
