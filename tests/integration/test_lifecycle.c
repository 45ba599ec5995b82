/* Detached containers: run -d under a monitor, cidfile, wait from another process, stop, kill,
 * rm, a worker that exits by itself, the name race, and crashes of berth's own processes —
 * each checked through berth's commands and through the host (processes, mounts, state). */
#include "harness.h"

#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

H_SUITE(lifecycle);

/* once its container runs, the monitor is berth-monitor, with the name among its arguments */
static const char *berth_bin(void)
{
    return "berth-monitor";
}

static const char *const sleeper[] = {"sleep", "600", NULL};

static char *state_file(const char *id)
{
    char *path = xasprintf("%s/containers/%s/state.json", h_runroot(), id);
    char *text = h_read_file(path);
    free(path);
    return text;
}

static pid_t container_pid(const char *id)
{
    char *state = state_file(id);
    cr_assert(state, "no state for %s", id);
    char *p = strstr(state, "\"Pid\":");
    cr_assert(p);
    return (pid_t)atoi(p + 6);
}

Test(lifecycle, run_d_returns_the_id_and_the_container_runs)
{
    char *id = h_run_detached("w1", sleeper);
    pid_t pid = container_pid(id);
    cr_assert(pid > 0 && h_proc_running(pid), "pid 1 of the container is not running");
    char *state = state_file(id);
    cr_assert(strstr(state, "\"Status\":\"running\""), "%s", state);
    struct h_result r;
    h_berth(&r, NULL, "rm", "-f", "w1", NULL);
    h_assert_status(&r, 0);
}

Test(lifecycle, run_d_keeps_none_of_the_callers_descriptors)
{
    /* h_berth reads stdout and stderr to EOF, as Storm's supervisor does: if the monitor or
     * the container kept either pipe, this would time out instead of returning */
    struct h_opts o = {.timeout_s = 10};
    int leak = open("/dev/null", O_RDONLY);
    o.inherit_fd = leak;
    double t0 = h_now_s();
    struct h_result r;
    h_berth(&r, &o, "run", "-d", "--name", "fds", H_IMAGE, "/probe", "sleep", "600", NULL);
    h_assert_status(&r, 0);
    cr_assert_lt(h_now_s() - t0, 5.0, "run -d returned only after %.1f s", h_now_s() - t0);
    pid_t monitor = h_find_process(berth_bin(), "fds", 5);
    cr_assert(monitor > 0, "no monitor process found");
    /* fds 0-2 of the monitor are /dev/null, and the fd berth inherited is gone */
    for (int fd = 0; fd < 3; fd++) {
        char link[64], target[256];
        snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)monitor, fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        cr_assert_gt(n, 0);
        target[n] = '\0';
        cr_assert_str_eq(target, "/dev/null", "monitor fd %d is %s", fd, target);
    }
    char link[64];
    snprintf(link, sizeof(link), "/proc/%d/fd/3", (int)monitor);
    char target[256] = "";
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n > 0)
        target[n] = '\0';
    cr_assert(n < 0 || strcmp(target, "/dev/null") != 0, "the monitor kept the inherited fd 3");
    h_berth(&r, NULL, "rm", "-f", "fds", NULL);
    h_assert_status(&r, 0);
}

/* "Cpus_allowed_list:\t0-1" of pid (0: this process), as a string to compare */
static char *cpus_allowed(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), pid ? "/proc/%d/status" : "/proc/self/status", (int)pid);
    char *status = h_read_file(path);
    cr_assert(status, "no %s", path);
    char *line = strstr(status, "Cpus_allowed_list:");
    cr_assert(line, "%s", status);
    char *list = strndup(line, strcspn(line, "\n"));
    free(status);
    return list;
}

Test(lifecycle, run_d_leaves_the_container_and_its_monitor_every_cpu_of_the_caller)
{
    /* the monitor starts away from the caller's CPU (cpu_apart): that must not stay */
    char *id = h_run_detached("cpus", sleeper);
    pid_t monitor = h_find_process(berth_bin(), "cpus", 5);
    cr_assert(monitor > 0, "no monitor process found");
    char *mine = cpus_allowed(0);
    cr_assert_str_eq(cpus_allowed(container_pid(id)), mine);
    cr_assert_str_eq(cpus_allowed(monitor), mine);
    struct h_result r;
    h_berth(&r, NULL, "rm", "-f", "cpus", NULL);
    h_assert_status(&r, 0);
}

Test(lifecycle, cidfile_holds_the_full_id_without_newline)
{
    char *cid = h_path("container.cid");
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "c1", "--cidfile", cid, H_IMAGE, "/probe", "sleep",
            "600", NULL);
    h_assert_status(&r, 0);
    char *text = h_read_file(cid);
    cr_assert(text);
    cr_assert_eq(strlen(text), 64, "cidfile: '%s'", text);
    cr_assert_eq(strncmp(text, r.out, 64), 0);
    h_berth(&r, NULL, "rm", "-f", "c1", NULL);
    cr_assert(h_exists(cid), "rm must not remove the cidfile (docker does not)");
}

Test(lifecycle, existing_cidfile_is_refused_and_nothing_is_created)
{
    char *cid = h_path("container.cid");
    h_write_file(cid, "old", 0644);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "c2", "--cidfile", cid, H_IMAGE, "/probe", "sleep",
            "600", NULL);
    h_assert_status(&r, 125);
    cr_assert(strstr(r.err, "container ID file found"), "%s", r.err);
    cr_assert_str_eq(h_read_file(cid), "old");
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
}

/* The cidfile is written while the container is built, after the -v sources are made: a
 * cidfile that cannot be made is found before anything is, with the error making it gives (a
 * missing -v source would be made at start: not for a container that never is). */
static void assert_cidfile_refused_before_anything(const char *cid, const char *why)
{
    _cleanup_free_ char *src = h_path("new-source");
    _cleanup_free_ char *vol = xasprintf("%s:/data", src);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "c3", "--cidfile", cid, "-v", vol, H_IMAGE, "/probe",
            "sleep", "600", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "failed to create the container ID file");
    h_assert_err_mentions(&r, why);
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
    cr_assert_not(h_exists(src), "%s was made for a container that was not", src);
    h_assert_no_monitor_left();
}

Test(lifecycle, cidfile_in_a_missing_directory_leaves_nothing)
{
    _cleanup_free_ char *cid = h_path("no/such/dir/container.cid");
    assert_cidfile_refused_before_anything(cid, "No such file or directory");
    h_assert_no_mounts_left();
}

Test(lifecycle, cidfile_in_a_read_only_directory_leaves_nothing)
{
    _cleanup_free_ char *dir = h_path("ro");
    h_mkdirs(dir, 0755);
    h_own_mount_namespace();
    cr_assert_eq(mount(dir, dir, NULL, MS_BIND, NULL), 0);
    cr_assert_eq(mount(NULL, dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), 0);
    _cleanup_free_ char *cid = xasprintf("%s/container.cid", dir);
    assert_cidfile_refused_before_anything(cid, "Read-only file system");
    cr_assert_eq(umount(dir), 0);
}

Test(lifecycle, missing_command_is_reported_synchronously_with_127)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "nocmd", H_IMAGE, "/no/such/command", NULL);
    h_assert_status(&r, 127);
    cr_assert(strstr(r.err, "no such file or directory"), "%s", r.err);
    /* docker keeps such a container, "created", until rm */
    h_berth(&r, NULL, "rm", "nocmd", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(h_state_entries("containers"), "");
}

Test(lifecycle, wait_from_another_process_blocks_for_the_whole_life)
{
    char *id = h_run_detached("waited", (const char *const[]){"sleep", "2", NULL});
    const char *args[] = {"wait", "waited", NULL};
    struct h_proc p;
    double t0 = h_now_s();
    h_berth_start(&p, NULL, args);
    struct h_result r;
    h_berth_finish(&p, &r);
    h_assert_status(&r, 0);
    cr_assert_geq(h_now_s() - t0, 1.5, "wait returned after %.2f s", h_now_s() - t0);
    cr_assert_str_eq(r.out, "0\n");
    /* an exited container answers at once */
    t0 = h_now_s();
    h_berth(&r, NULL, "wait", id, NULL);
    cr_assert_str_eq(r.out, "0\n");
    cr_assert_lt(h_now_s() - t0, 1.0);
}

Test(lifecycle, worker_that_exits_by_itself_keeps_its_state_until_rm)
{
    char *id = h_run_detached("self", (const char *const[]){"exit", "3", NULL});
    struct h_result r;
    h_berth(&r, NULL, "wait", "self", NULL);
    cr_assert_str_eq(r.out, "3\n");
    char *state = state_file(id);
    cr_assert(strstr(state, "\"Status\":\"exited\"") && strstr(state, "\"ExitCode\":3"), "%s",
              state);
    h_assert_no_mounts_left();
    h_berth(&r, NULL, "run", "-d", "--name", "self", H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 125); /* the name stays taken until rm, as in docker */
    h_berth(&r, NULL, "rm", "self", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "self\n");
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
}

Test(lifecycle, stop_kills_a_pid_1_that_ignores_sigterm_after_the_timeout)
{
    h_run_detached("stubborn", sleeper);
    struct h_result r;
    double t0 = h_now_s();
    h_berth(&r, NULL, "stop", "-t", "1", "stubborn", NULL);
    double took = h_now_s() - t0;
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "stubborn\n");
    cr_assert(took >= 0.9 && took < 8, "stop took %.2f s", took);
    h_berth(&r, NULL, "wait", "stubborn", NULL);
    cr_assert_str_eq(r.out, "137\n");
    h_assert_no_mounts_left();
}

Test(lifecycle, stop_of_a_stopped_container_succeeds)
{
    h_run_detached("done", (const char *const[]){"exit", "0", NULL});
    struct h_result r;
    h_berth(&r, NULL, "wait", "done", NULL);
    h_berth(&r, NULL, "stop", "done", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "done\n");
}

Test(lifecycle, kill_defaults_to_sigkill_and_refuses_a_stopped_container)
{
    h_run_detached("k1", sleeper);
    struct h_result r;
    h_berth(&r, NULL, "kill", "k1", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "k1\n");
    h_berth(&r, NULL, "wait", "k1", NULL);
    cr_assert_str_eq(r.out, "137\n");
    h_berth(&r, NULL, "kill", "k1", NULL);
    h_assert_status(&r, 1);
    cr_assert(strstr(r.err, "is not running"), "%s", r.err);
}

Test(lifecycle, kill_with_a_signal_name_delivers_it_to_pid_1)
{
    /* busybox sh as pid 1 with a trap: SIGUSR1 makes it exit 42 */
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "trap", H_IMAGE, "/bin/sh", "-c",
            "trap 'exit 42' USR1; while :; do sleep 0.1; done", NULL);
    h_assert_status(&r, 0);
    usleep(300 * 1000);
    h_berth(&r, NULL, "kill", "-s", "SIGUSR1", "trap", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", "trap", NULL);
    cr_assert_str_eq(r.out, "42\n");
    h_berth(&r, NULL, "kill", "-s", "NOSUCHSIG", "trap", NULL);
    h_assert_status(&r, 1);
}

Test(lifecycle, rm_refuses_a_running_container_and_force_removes_it)
{
    char *id = h_run_detached("busy", sleeper);
    pid_t pid = container_pid(id);
    struct h_result r;
    h_berth(&r, NULL, "rm", "busy", NULL);
    h_assert_status(&r, 1);
    cr_assert(strstr(r.err, "cannot remove a running container"), "%s", r.err);
    cr_assert(h_proc_running(pid));
    h_berth(&r, NULL, "rm", "--force", "busy", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "busy\n");
    usleep(100 * 1000);
    cr_assert_not(h_proc_running(pid), "pid 1 survived rm -f");
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
    h_assert_no_mounts_left();
}

Test(lifecycle, rm_force_ignores_unknown_names_and_plain_rm_does_not)
{
    struct h_result r;
    h_berth(&r, NULL, "rm", "-f", "never-was", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "");
    h_berth(&r, NULL, "rm", "never-was", NULL);
    h_assert_status(&r, 1);
    cr_assert(strstr(r.err, "No such container: never-was"), "%s", r.err);
}

Test(lifecycle, containers_are_found_by_id_name_and_unique_prefix)
{
    char *id = h_run_detached("found", sleeper);
    struct h_result r;
    const char *refs[] = {id, "found", "/found"};
    for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
        h_berth(&r, NULL, "kill", "-s", "WINCH", refs[i], NULL);
        h_assert_status(&r, 0);
    }
    char prefix[8];
    snprintf(prefix, sizeof(prefix), "%.7s", id);
    h_berth(&r, NULL, "kill", "-s", "WINCH", prefix, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "rm", "-f", prefix, NULL);
    h_assert_status(&r, 0);
}

/* Every cgroup directory under parent, in every hierarchy, space separated. */
static char *cgroups_under(const char *parent)
{
    struct cgroup_hosts hosts;
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&hosts, &err), 0, "%s", err.msg);
    char *out = xstrdup("");
    for (size_t i = 0; i < hosts.n; i++) {
        _cleanup_free_ char *dir = xasprintf("%s%s", hosts.mounts[i].path, parent);
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_type != DT_DIR || de->d_name[0] == '.')
                continue;
            char *next = xasprintf("%s%s/%s ", out, dir, de->d_name);
            free(out);
            out = next;
        }
        if (d)
            closedir(d);
    }
    cgroup_hosts_free(&hosts);
    return out;
}

static void remove_cgroup_parent(const char *parent)
{
    struct cgroup_hosts hosts;
    struct berr err = {0};
    if (cgroup_detect(&hosts, &err) < 0)
        return;
    for (size_t i = 0; i < hosts.n; i++) {
        _cleanup_free_ char *dir = xasprintf("%s%s", hosts.mounts[i].path, parent);
        rmdir(dir);
    }
    cgroup_hosts_free(&hosts);
}

/* The losers leave nothing: no state directory, no name, no cgroup, no temp file, no mount;
 * the one container is the winner's, under its name. */
Test(lifecycle, fifty_concurrent_runs_with_one_name_make_exactly_one_container)
{
    enum { N = 50 };
    _cleanup_free_ char *parent = xasprintf("/berth-it-race-%d", (int)getpid());
    _cleanup_free_ char *par = xasprintf("--cgroup-parent=%s", parent);
    const char *args[] = {"run",   "-d",     "--name", "raced", par,
                          H_IMAGE, "/probe", "sleep",  "600",   NULL};
    char winner[65] = "";
    cr_assert_eq(h_race_for_a_name(args, N, winner), 1);
    cr_assert_str_eq(h_state_entries("containers"), winner);
    cr_assert_str_eq(h_state_entries("names"), "raced");
    _cleanup_free_ char *names_raced = xasprintf("%s/names/raced", h_runroot());
    char target[80] = "";
    cr_assert_eq(readlink(names_raced, target, sizeof(target) - 1), 64);
    cr_assert_str_eq(target, winner);
    _cleanup_free_ char *cgroups = cgroups_under(parent);
    for (char *c = cgroups, *end; *c; c = end + 1) {
        end = strchr(c, ' ');
        *end = '\0';
        cr_assert(strstr(c, winner), "a loser's cgroup: %s", c);
    }
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", h_data_root());
    _cleanup_free_ char *tmp_snap = h_tree_snapshot(tmp);
    cr_assert_str_empty(tmp_snap, "left in the data root's tmp/: %s", tmp_snap);
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", "{{.Name}} {{.State.Status}}", "raced", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "/raced running\n");
    h_berth(&r, NULL, "rm", "-f", "raced", NULL);
    h_assert_status(&r, 0);
    h_assert_nothing_left(NULL);
    _cleanup_free_ char *left = cgroups_under(parent);
    remove_cgroup_parent(parent);
    cr_assert_str_empty(left, "cgroups left: %s", left);
}

Test(lifecycle, a_killed_monitor_is_detected_and_rm_force_cleans_up)
{
    char *id = h_run_detached("orphan", sleeper);
    pid_t pid = container_pid(id);
    pid_t monitor = h_find_process(berth_bin(), "orphan", 5);
    cr_assert(monitor > 0);
    cr_assert_eq(kill(monitor, SIGKILL), 0);
    usleep(300 * 1000);
    cr_assert_not(h_proc_running(pid), "the container outlived its monitor");
    struct h_result r;
    h_berth(&r, NULL, "wait", "orphan", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "137\n");
    char *state = state_file(id);
    cr_assert(strstr(state, "\"Status\":\"exited\""), "a dead monitor still reads %s", state);
    h_assert_no_mounts_left();
    h_berth(&r, NULL, "rm", "-f", "orphan", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
}

Test(lifecycle, a_front_end_killed_mid_create_leaves_a_removable_container)
{
    /* BERTH_TEST_STALL=create stops the front end right after the state directory is
     * written, so the test can kill it there deterministically */
    const char *env[] = {"BERTH_TEST_STALL=create", NULL};
    struct h_opts o = {.env = env, .timeout_s = 20};
    const char *args[] = {"run",    "-d",    "--name", "halfway", H_IMAGE,
                          "/probe", "sleep", "600",    NULL};
    struct h_proc p;
    h_berth_start(&p, &o, args);
    double deadline = h_now_s() + 10;
    while (!*h_state_entries("containers") && h_now_s() < deadline)
        usleep(20 * 1000);
    usleep(200 * 1000);
    cr_assert_eq(kill(p.pid, SIGKILL), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    cr_assert_eq(r.status, 128 + SIGKILL);
    h_berth(&r, NULL, "wait", "halfway", NULL);
    h_assert_status(&r, 0); /* not running: answers at once */
    h_berth(&r, NULL, "rm", "-f", "halfway", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
    h_assert_no_mounts_left();
}

Test(lifecycle, ps_in_a_state_root_where_no_container_was_made_lists_none)
{
    h_mkdirs(h_runroot(), 0700); /* the root exists, its containers/ does not */
    struct h_result r;
    h_berth(&r, NULL, "ps", "-a", "-q", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "");
    h_berth(&r, NULL, "rm", "-f", "nothing-here", NULL);
    h_assert_status(&r, 0);
}

/* ---- a stopped service ---------------------------------------------------------------------
 * What systemd does to a service on stop: every process in the service's cgroup, in the
 * hierarchies it tracks processes by (name=systemd, cgroup2), is killed. A container that
 * `berth run -d` started from that service runs on, as docker's would: its monitor lives in
 * berth.monitors there, not in the caller's cgroup. */

static bool tracking(const struct cgroup_mount *m)
{
    return m->v2 || !strncmp(m->controllers, "name=", 5);
}

/* The fake service's cgroup in every tracking hierarchy; its cgroup.procs paths, NULL-ended. */
static char **make_service_cgroups(const char *name)
{
    struct cgroup_hosts hosts;
    struct berr err = {0};
    cr_assert_eq(cgroup_detect(&hosts, &err), 0, "%s", err.msg);
    char **procs = xcalloc(hosts.n + 1, sizeof(*procs));
    size_t n = 0;
    for (size_t i = 0; i < hosts.n; i++) {
        if (!tracking(&hosts.mounts[i]))
            continue;
        char *dir = xasprintf("%s/%s", hosts.mounts[i].path, name);
        cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s", dir);
        procs[n++] = xasprintf("%s/cgroup.procs", dir);
        free(dir);
    }
    cgroup_hosts_free(&hosts);
    if (n == 0) {
        free(procs);
        h_skip("no name=systemd or cgroup2 hierarchy: nothing for a service manager to kill by");
    }
    return procs;
}

/* systemctl stop, as far as cgroups go: SIGKILL to whatever is in them, then rmdir. */
static void stop_service(char **procs)
{
    for (size_t i = 0; procs[i]; i++) {
        _cleanup_free_ char *pids = h_read_file(procs[i]);
        for (char *p = pids; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
            kill(atoi(p), SIGKILL);
    }
    usleep(200000);
    for (size_t i = 0; procs[i]; i++) {
        *strrchr(procs[i], '/') = '\0';
        cr_expect(rmdir(procs[i]) == 0, "%s: %s", procs[i], strerror(errno));
        free(procs[i]);
    }
    free(procs);
}

Test(lifecycle, a_stopped_service_leaves_its_detached_container_running)
{
    _cleanup_free_ char *svc = xasprintf("berth-it-svc-%d", (int)getpid());
    char **procs = make_service_cgroups(svc);
    _cleanup_free_ char *join = xstrdup("");
    for (size_t i = 0; procs[i]; i++) {
        char *next = xasprintf("%secho $$ >'%s' && ", join, procs[i]);
        free(join);
        join = next;
    }
    _cleanup_free_ char *script =
        xasprintf("%sexec \"$0\" --root '%s' --runroot '%s' run -d --name svc-kept " H_IMAGE
                  " /probe sleep 600",
                  join, h_data_root(), h_runroot());
    const char *argv[] = {"/bin/sh", "-c", script, getenv("BERTH_IT_BERTH"), NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    h_assert_status(&r, 0);
    stop_service(procs);
    h_berth(&r, NULL, "inspect", "--format", "{{.State.Running}} {{.State.Status}}", "svc-kept",
            NULL);
    h_assert_status(&r, 0);
    cr_expect_str_eq(r.out, "true running\n", "the container died with the service");
    h_berth(&r, NULL, "rm", "-f", "svc-kept", NULL);
    h_assert_status(&r, 0);
}

/* cgroup2 mounted where the spawn does not look (it reads no mountinfo: its caller and the
 * monitor wait on it): the monitor finds its home there itself once its container is cloned.
 * Hybrid hosts only, whose /sys/fs/cgroup/unified a private mount namespace can let go of. */
Test(lifecycle, a_monitor_finds_its_cgroup2_home_mounted_elsewhere)
{
    struct statfs sf;
    if (statfs("/sys/fs/cgroup/unified", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
        h_skip("no cgroup2 at /sys/fs/cgroup/unified to mount elsewhere");
    char *cg2 = h_path("cg2");
    h_mkdirs(cg2, 0755);
    _cleanup_free_ char *script = xasprintf(
        "umount -l /sys/fs/cgroup/unified && mount -t cgroup2 none '%s' && "
        "\"$0\" --root '%s' --runroot '%s' run -d --name elsewhere " H_IMAGE " /probe sleep 600 "
        ">/dev/null && pid=$(\"$0\" --root '%s' --runroot '%s' inspect --format "
        "'{{.State.Pid}}' elsewhere) && ppid=$(cut -d' ' -f4 /proc/$pid/stat) && "
        "grep '^0::' /proc/$ppid/cgroup; rc=$?; umount '%s'; exit $rc",
        cg2, h_data_root(), h_runroot(), h_data_root(), h_runroot(), cg2);
    const char *argv[] = {"unshare", "--mount", "--propagation",          "private", "/bin/sh",
                          "-c",      script,    getenv("BERTH_IT_BERTH"), NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    struct h_result rm;
    h_berth(&rm, NULL, "rm", "-f", "elsewhere", NULL);
    h_assert_status(&r, 0);
    cr_expect_str_eq(r.out, "0::/berth.monitors\n", "the monitor is elsewhere: %s", r.out);
    h_assert_status(&rm, 0);
}

/* ---- output pipes held from outside -------------------------------------------------------- */

/* A host process that accepts one connection on <tmp>/sock/s, keeps the fds it is passed and,
 * when chatty, writes a line into them every 20 ms: a container's output pipes held open by
 * someone the pid namespace's end does not kill. Dies with the test. */
static pid_t outside_holder(bool chatty)
{
    char *dir = h_path("sock");
    h_mkdirs(dir, 0755);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
    free(dir);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(ls, 0);
    cr_assert_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %s", strerror(errno));
    cr_assert_eq(chmod(sa.sun_path, 0777), 0);
    cr_assert_eq(listen(ls, 1), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        char byte, cbuf[CMSG_SPACE(2 * sizeof(int))];
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        if (c < 0 || recvmsg(c, &mh, 0) != 1)
            _exit(1);
        int held[2];
        memcpy(held, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(held));
        for (;;) {
            if (chatty && write(held[0], "from outside\n", 13) < 0)
                pause(); /* the monitor let go of the pipe: hold on anyway */
            usleep(20 * 1000);
        }
    }
    close(ls);
    return pid;
}

static void stop_holder(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* pid 1 passes its stdout and stderr to a host process and exits: wait, ps and rm must not
 * depend on that process ever letting go */
static void exit_is_recorded_while_outside_holds_the_output(bool chatty)
{
    pid_t holder = outside_holder(chatty);
    char *vol = h_path("sock:/sock");
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "leaky", "-v", vol, H_IMAGE, "/probe", "sendfds",
            "/sock/s", "exit", "7", NULL);
    h_assert_status(&r, 0);
    double t0 = h_now_s();
    const struct h_opts quick = {.timeout_s = 15};
    h_berth(&r, &quick, "wait", "leaky", NULL);
    double took = h_now_s() - t0;
    if (r.status != 0)
        stop_holder(holder);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "7\n");
    cr_assert_lt(took, 5.0, "wait took %.1f s", took);
    h_berth(&r, &quick, "ps", "-a", NULL);
    cr_assert(strstr(r.out, "Exited (7)"), "%s", r.out);
    /* what pid 1 wrote before it left is in the log all the same */
    h_berth(&r, &quick, "logs", "leaky", NULL);
    cr_assert(strstr(r.out, "sendfds:/sock/s=ok"), "%s", r.out);
    h_berth(&r, &quick, "rm", "leaky", NULL);
    h_assert_status(&r, 0);
    stop_holder(holder);
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
    h_assert_no_mounts_left();
}

Test(lifecycle, exit_is_recorded_while_a_silent_outside_process_holds_the_output)
{
    exit_is_recorded_while_outside_holds_the_output(false);
}

Test(lifecycle, exit_is_recorded_while_an_outside_process_keeps_writing_the_output)
{
    exit_is_recorded_while_outside_holds_the_output(true);
}

/* ---- deep trees in the upper dir ----------------------------------------------------------- */

/* 10000 directories deep: more than berth's fds (1024) if it held one or two per level */
Test(lifecycle, rm_removes_a_container_whose_upper_dir_is_ten_thousand_levels_deep)
{
    struct h_result r;
    const struct h_opts slow = {.timeout_s = 120};
    h_berth(&r, &slow, "run", "--name", "deep", H_IMAGE, "/probe", "deeptree", "10000", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "deeptree:10000", "ok");
    h_berth(&r, &slow, "rm", "deep", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "deep\n");
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
    h_assert_no_mounts_left();
}

Test(lifecycle, run_d_rm_removes_a_container_whose_upper_dir_is_ten_thousand_levels_deep)
{
    struct h_result r;
    const struct h_opts slow = {.timeout_s = 120};
    h_berth(&r, &slow, "run", "-d", "--rm", "--name", "deeprm", H_IMAGE, "/probe", "deeptree",
            "10000", NULL);
    h_assert_status(&r, 0);
    /* the monitor removes the container once it has recorded the exit */
    double deadline = h_now_s() + 60;
    while (h_now_s() < deadline && *h_state_entries("containers"))
        usleep(100 * 1000);
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");
    h_assert_no_mounts_left();
}
