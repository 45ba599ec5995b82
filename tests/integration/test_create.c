/* berth create and berth start: a created container is recorded but has no process and no
 * cgroups until start hands it to a monitor as run -d does; start's output, errors and exit
 * codes as docker's; --rm recorded at create and honoured by the monitor. */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void create_init(void)
{
    h_suite_init();
    h_cgroup_parent_init("berth-create");
}

static void create_fini(void)
{
    h_suite_fini();
    h_cgroup_parent_fini();
}

TestSuite(create, .init = create_init, .fini = create_fini, .timeout = 120);

/* berth create --cgroup-parent P --name NAME [extra...] test/probe /probe ARGS...; its id */
static char *create(const char *name, const char *const *extra, const char *const *probe_args)
{
    const char *args[32] = {"create", "--cgroup-parent", h_cgroup_parent(), "--name", name};
    size_t n = 5;
    for (; extra && *extra; extra++)
        args[n++] = *extra;
    args[n++] = H_IMAGE;
    args[n++] = "/probe";
    for (; probe_args && *probe_args; probe_args++)
        args[n++] = *probe_args;
    args[n] = NULL;
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);
    cr_assert_eq(r.out_len, 65, "create printed: %s", r.out);
    cr_assert_eq(strspn(r.out, "0123456789abcdef"), 64, "not an id: %s", r.out);
    r.out[64] = '\0';
    return r.out;
}

static char *inspect(const char *ref, const char *format)
{
    struct h_result r;
    h_berth(&r, NULL, "inspect", "--format", format, ref, NULL);
    h_assert_status(&r, 0);
    return r.out;
}

static bool pid_alive(pid_t pid)
{
    return pid > 0 && kill(pid, 0) == 0;
}

Test(create, a_created_container_has_no_process_and_no_cgroups_until_start)
{
    char *id = create("c1", NULL, (const char *const[]){"sleep", "600", NULL});
    cr_assert_str_eq(inspect("c1", "{{.State.Status}} {{.State.Pid}} {{.State.Running}}"),
                     "created 0 false\n");
    struct h_result r;
    h_berth(&r, NULL, "ps", "-a", "--format", "{{.Names}} {{.Status}}", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "c1 Created\n");
    h_berth(&r, NULL, "ps", "-q", NULL);
    cr_assert_str_eq(r.out, "", "ps without -a lists a created container: %s", r.out);
    cr_assert(h_process_gone("berth-monitor", "c1", 0), "a monitor for a created container");
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_empty(cg, "a created container has cgroups: %s", cg);

    h_berth(&r, NULL, "start", "c1", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "c1\n");
    cr_assert_str_eq(r.err, "");
    cr_assert_str_eq(inspect(id, "{{.State.Status}} {{.State.Running}}"), "running true\n");
    pid_t pid = (pid_t)atoi(inspect(id, "{{.State.Pid}}"));
    cr_assert(pid_alive(pid), "pid 1 %d is not running", (int)pid);
    cr_assert(h_find_process("berth-monitor", "c1", 5), "no monitor for the started container");
    _cleanup_free_ char *cg_running = h_cgroups_left();
    cr_assert(strstr(cg_running, id), "no cgroup of the started container: %s", cg_running);
    /* a running container: nothing to do, as docker */
    h_berth(&r, NULL, "start", "c1", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "c1\n");
    cr_assert_eq((pid_t)atoi(inspect(id, "{{.State.Pid}}")), pid);
    h_berth(&r, NULL, "rm", "-f", "c1", NULL);
    h_assert_status(&r, 0);
    h_assert_nothing_left(NULL);
}

Test(create, start_logs_and_wait_gives_the_exit_code)
{
    char *id = create("c2", NULL, (const char *const[]){"cat", "/etc/hostname", "exit", "3", NULL});
    struct h_result r;
    h_berth(&r, NULL, "start", id, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *id_line = xasprintf("%s\n", id);
    cr_assert_str_eq(r.out, id_line, "start prints the reference as given");
    h_berth(&r, NULL, "wait", "c2", NULL);
    cr_assert_str_eq(r.out, "3\n");
    h_berth(&r, NULL, "logs", "c2", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *want = xasprintf("cat:/etc/hostname=%.12s\\n\n", id);
    cr_assert(strstr(r.out, want), "logs:\n%s", r.out);
    cr_assert_str_eq(inspect("c2", "{{.State.Status}} {{.State.ExitCode}}"), "exited 3\n");
    h_assert_no_mounts_left();
    /* an exited container starts again, as docker restarts it */
    h_berth(&r, NULL, "start", "c2", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "wait", "c2", NULL);
    cr_assert_str_eq(r.out, "3\n");
    h_berth(&r, NULL, "logs", "c2", NULL);
    char *first = strstr(r.out, want);
    cr_assert(first && strstr(first + 1, want), "the second run logged nothing:\n%s", r.out);
    h_berth(&r, NULL, "rm", "c2", NULL);
    h_assert_status(&r, 0);
    h_assert_nothing_left(NULL);
}

Test(create, start_a_attaches_the_output_and_exits_with_the_code)
{
    char *id = create("c3", NULL, (const char *const[]){"cat", "/etc/hostname", "exit", "5", NULL});
    struct h_result r;
    h_berth(&r, NULL, "start", "-a", "c3", NULL);
    h_assert_status(&r, 5);
    _cleanup_free_ char *want = xasprintf("cat:/etc/hostname=%.12s\\n\n", id);
    cr_assert_str_eq(r.out, want);
    h_berth(&r, NULL, "start", "-a", "c3", "c3", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "you cannot start and attach multiple containers at once\n");
    h_berth(&r, NULL, "rm", "c3", NULL);
}

Test(create, start_of_an_unknown_container_says_so_as_docker)
{
    struct h_result r;
    h_berth(&r, NULL, "start", "nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "");
    cr_assert_str_eq(r.err, "Error response from daemon: No such container: nosuch\n"
                            "Error: failed to start containers: nosuch\n");
    /* the others still start, and the failed ones are named together at the end */
    create("c4", NULL, (const char *const[]){"exit", "0", NULL});
    h_berth(&r, NULL, "start", "x1", "c4", "x2", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "c4\n");
    cr_assert_str_eq(r.err, "Error response from daemon: No such container: x1\n"
                            "Error response from daemon: No such container: x2\n"
                            "Error: failed to start containers: x1, x2\n");
    h_berth(&r, NULL, "start", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "\"berth start\" requires at least 1 argument.");
    h_berth(&r, NULL, "wait", "c4", NULL);
    h_berth(&r, NULL, "rm", "c4", NULL);
}

Test(create, a_start_that_fails_leaves_it_created_with_the_error)
{
    struct h_result r;
    h_berth(&r, NULL, "create", "--name", "nocmd", H_IMAGE, "/no/such/command", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "start", "nocmd", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "");
    h_assert_err_mentions(&r, "Error response from daemon: ");
    h_assert_err_mentions(&r, "no such file or directory");
    cr_assert(strstr(r.err, "\nError: failed to start containers: nocmd\n"), "%s", r.err);
    cr_assert_str_eq(inspect("nocmd", "{{.State.Status}} {{.State.ExitCode}}"), "created 127\n");
    h_berth(&r, NULL, "rm", "nocmd", NULL);
    h_assert_status(&r, 0);
    h_assert_nothing_left(NULL);
}

Test(create, rm_is_recorded_at_create_and_the_monitor_removes_it_at_exit)
{
    create("gone", (const char *const[]){"--rm", NULL}, (const char *const[]){"exit", "0", NULL});
    cr_assert_str_eq(inspect("gone", "{{.State.Status}} {{.HostConfig.AutoRemove}}"),
                     "created true\n");
    struct h_result r;
    h_berth(&r, NULL, "start", "gone", NULL);
    h_assert_status(&r, 0);
    /* gone from ps once its directory is renamed away; gone from the state root once the
     * monitor has deleted it */
    double t0 = h_now_s();
    char *left = NULL;
    do {
        free(left);
        h_berth(&r, NULL, "ps", "-aq", NULL);
        left = h_state_entries("containers");
        if (!*r.out && !*left)
            break;
        usleep(50 * 1000);
    } while (h_now_s() - t0 < 10);
    cr_assert_str_eq(r.out, "", "still there after its exit");
    cr_assert_str_eq(left, "", "its state is still there after its exit");
    free(left);
    h_assert_nothing_left(NULL);
}

Test(create, a_missing_image_is_refused_as_docker_create_refuses_it)
{
    struct h_result r;
    /* docker create returns the daemon's error as it is: exit 1 (run's is 125) */
    h_berth(&r, NULL, "create", "--pull=never", "no/such", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "");
    cr_assert_str_eq(r.err, "Error response from daemon: No such image: no/such:latest\n");
    h_berth(&r, NULL, "create", "--pull=sometimes", H_IMAGE, NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "invalid pull option: 'sometimes'");
    h_berth(&r, NULL, "create", "-d", H_IMAGE, NULL);
    h_assert_status(&r, 125);
    h_berth(&r, NULL, "ps", "-aq", NULL);
    cr_assert_str_eq(r.out, "");
    h_assert_nothing_left(NULL);
}
