/* berth-oci, runc's command line: the runtime spec's lifecycle (create → created → start →
 * running → kill → stopped → delete) with the state JSON checked field by field, run in the
 * foreground and detached, exec, the pid file, a refused field, the bundle's root bound as it
 * is (read-only when it says so), and delete -f of a running container leaving nothing. Each
 * test has its own bundle (busybox and the probe) and --root under its temp dir, and its own
 * cgroup parent. Root. */
#include "harness.h"

#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void oci_cli_init(void)
{
    h_suite_init();
    h_cgroup_parent_init("berth-oci-it");
}

static const char *oci_bin(void)
{
    static char *bin;
    if (!bin) {
        char *berth = xstrdup(getenv("BERTH_IT_BERTH"));
        bin = xasprintf("%s/berth-oci", dirname(berth));
    }
    return bin;
}

static void oci_cli_fini(void)
{
    /* a failed test may leave containers, whatever their ids: their inits and cgroups go with
     * delete -f */
    _cleanup_free_ char *root = h_path("oci");
    if (h_exists(root)) {
        struct h_result r;
        const char *list[] = {oci_bin(), "--root", root, "list", "-q", NULL};
        h_execv(&r, NULL, list);
        char *save = NULL;
        for (char *id = strtok_r(r.out, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
            const char *argv[] = {oci_bin(), "--root", root, "delete", "-f", id, NULL};
            struct h_result d;
            h_execv(&d, NULL, argv);
        }
    }
    h_suite_fini();
    h_cgroup_parent_fini();
}

TestSuite(oci_cli, .init = oci_cli_init, .fini = oci_cli_fini, .timeout = 180);

/* berth-oci --root <tmp>/oci ARGS... */
static void oci(struct h_result *r, ...) __attribute__((sentinel));
static void oci(struct h_result *r, ...)
{
    const char *argv[32];
    size_t n = 0;
    _cleanup_free_ char *root = h_path("oci");
    argv[n++] = oci_bin();
    argv[n++] = "--root";
    argv[n++] = root;
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *)) && n < 31;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    h_execv(r, NULL, argv);
}

/* The same with stdout and stderr on files: a created (or detached) container keeps the stdio
 * create was given, as under runc, so a pipe there would not see its end before the container's. */
/* exec --process of container c1 with process.json text json: refused, naming needle */
static void assert_process_refused(const char *json, const char *needle)
{
    _cleanup_free_ char *proc = h_path("process.json");
    h_write_file(proc, json, 0644);
    struct h_result r;
    oci(&r, "exec", "--process", proc, "c1", NULL);
    cr_assert_neq(r.status, 0, "exec --process accepted %s", json);
    cr_assert(strstr(r.err, needle), "no \"%s\" in: %s", needle, r.err);
}

static void oci_detached(struct h_result *r, ...) __attribute__((sentinel));
static void oci_detached(struct h_result *r, ...)
{
    const char *argv[40];
    size_t n = 0;
    _cleanup_free_ char *root = h_path("oci");
    _cleanup_free_ char *out = h_path("detached.out"), *err = h_path("detached.err");
    argv[n++] = "sh";
    argv[n++] = "-c";
    argv[n++] = "o=$1; e=$2; shift 2; exec \"$@\" >\"$o\" 2>\"$e\" </dev/null";
    argv[n++] = "sh";
    argv[n++] = out;
    argv[n++] = err;
    argv[n++] = oci_bin();
    argv[n++] = "--root";
    argv[n++] = root;
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *)) && n < 39;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    h_execv(r, NULL, argv);
    free(r->out);
    free(r->err);
    r->out = h_read_file(out);
    r->err = h_read_file(err);
    cr_assert(r->out && r->err, "no output files");
}

/* <tmp>/bundle: rootfs with busybox's applets and /probe, config.json from `berth-oci spec`
 * with python's edit applied to it as `c` (the args, the cgroup parent of this test, ...). */
static char *make_bundle(const char *edit)
{
    char *bundle = h_path("bundle");
    _cleanup_free_ char *bin = xasprintf("%s/rootfs/bin", bundle);
    _cleanup_free_ char *tmp = xasprintf("%s/rootfs/tmp", bundle);
    struct h_result r;
    if (!h_exists(bin)) {
        h_mkdirs(bin, 0755);
        h_mkdirs(tmp, 01777);
        const char *cp[] = {"cp", "/bin/busybox", h_probe_bin(), bin, NULL};
        h_execv(&r, NULL, cp);
        cr_assert_eq(r.status, 0, "cp: %s", r.err);
        static const char *const applets[] = {"sh", "sleep", "cat", "echo", "true"};
        for (size_t i = 0; i < ARRAY_SIZE(applets); i++) {
            _cleanup_free_ char *link = xasprintf("%s/%s", bin, applets[i]);
            cr_assert_eq(symlink("busybox", link), 0);
        }
    }
    oci(&r, "spec", "--bundle", bundle, NULL);
    cr_assert_eq(r.status, 0, "spec: %s", r.err);
    _cleanup_free_ char *py =
        xasprintf("import json, sys\n"
                  "p = sys.argv[1] + '/config.json'\n"
                  "c = json.load(open(p))\n"
                  "c['linux']['cgroupsPath'] = sys.argv[2] + '/' + sys.argv[3]\n"
                  "%s\n"
                  "json.dump(c, open(p, 'w'))\n",
                  edit);
    _cleanup_free_ char *name = xasprintf("b%d", (int)getpid());
    const char *argv[] = {"python3", "-c", py, bundle, h_cgroup_parent(), name, NULL};
    h_execv(&r, NULL, argv);
    cr_assert_eq(r.status, 0, "edit config.json: %s%s", r.out, r.err);
    return bundle;
}

static yajl_val state_of(const char *id)
{
    struct h_result r;
    oci(&r, "state", id, NULL);
    cr_assert_eq(r.status, 0, "state %s: %s", id, r.err);
    yajl_val doc = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse(r.out, &doc, &err), 0, "state is not JSON: %s", r.out);
    return doc;
}

/* The init's pid as state gives it (0 when stopped). */
static pid_t pid_of(const char *id)
{
    yajl_val s = state_of(id);
    pid_t pid = (pid_t)YAJL_GET_INTEGER(json_get(s, "pid"));
    yajl_tree_free(s);
    return pid;
}

static char *comm_of(pid_t pid)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/comm", (int)pid);
    char *c = h_read_file(path);
    if (c)
        c[strcspn(c, "\n")] = '\0';
    return c;
}

/* Wait (≤ 10 s) until the state says want. */
static yajl_val state_becomes(const char *id, const char *want)
{
    for (int i = 0; i < 200; i++) {
        yajl_val s = state_of(id);
        if (!strcmp(json_get_str(s, "status"), want))
            return s;
        yajl_tree_free(s);
        usleep(50000);
    }
    cr_assert_fail("container %s never became %s", id, want);
    return NULL;
}

/* Alive and not a zombie: a container's init goes to the nearest subreaper (perhaps this
 * test process) once its starter let it go, and may wait there to be reaped. */
static bool pid_running(pid_t pid)
{
    waitpid(pid, NULL, WNOHANG);
    return h_proc_running(pid);
}

static void assert_gone(const char *id, pid_t pid)
{
    struct h_result r;
    oci(&r, "state", id, NULL);
    cr_assert_neq(r.status, 0, "state of a deleted container succeeded: %s", r.out);
    cr_assert(strstr(r.err, "does not exist"), "%s", r.err);
    _cleanup_free_ char *containers = h_path("oci/containers");
    _cleanup_free_ char *left = h_tree_snapshot(containers);
    cr_assert_str_eq(left, "", "state left:\n%s", left);
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert_str_eq(cg, "", "cgroups left: %s", cg);
    h_assert_no_mounts_left();
    cr_assert(pid <= 0 || !pid_running(pid), "init %d still alive", (int)pid);
}

Test(oci_cli, lifecycle_create_start_kill_delete_with_the_state_json)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['args'] = ['sleep', '1000']\n"
                                              "c['annotations'] = {'org.example.key': 'value'}");
    _cleanup_free_ char *pidfile = h_path("c1.pid");
    struct h_result r;
    oci_detached(&r, "create", "--bundle", bundle, "--pid-file", pidfile, "c1", NULL);
    cr_assert_eq(r.status, 0, "create: %s", r.err);

    yajl_val s = state_of("c1");
    cr_assert_str_eq(json_get_str(s, "ociVersion"), "1.0.2");
    cr_assert_str_eq(json_get_str(s, "id"), "c1");
    cr_assert_str_eq(json_get_str(s, "status"), "created");
    cr_assert_str_eq(json_get_str(s, "bundle"), bundle);
    yajl_val ann = json_get(s, "annotations");
    cr_assert(YAJL_IS_OBJECT(ann) && ann->u.object.len == 1, "annotations: berth's shown");
    cr_assert_str_eq(json_get_str(ann, "org.example.key"), "value");
    yajl_val pidv = json_get(s, "pid");
    cr_assert(YAJL_IS_INTEGER(pidv) && YAJL_GET_INTEGER(pidv) > 0, "no pid while created");
    pid_t pid = (pid_t)YAJL_GET_INTEGER(pidv);
    _cleanup_free_ char *pidtext = h_read_file(pidfile);
    cr_assert(pidtext, "no pid file");
    cr_assert_eq(atoi(pidtext), pid, "pid file %s, state %d", pidtext, (int)pid);
    /* created: the init exists but has not executed the user's process */
    _cleanup_free_ char *comm = comm_of(pid);
    cr_assert(comm && strcmp(comm, "sleep"), "the process ran before start: %s", comm);
    yajl_tree_free(s);

    oci(&r, "start", "c1", NULL);
    cr_assert_eq(r.status, 0, "start: %s", r.err);
    s = state_of("c1");
    cr_assert_str_eq(json_get_str(s, "status"), "running");
    cr_assert_eq(YAJL_GET_INTEGER(json_get(s, "pid")), pid, "pid changed at start");
    yajl_tree_free(s);
    for (int i = 0; i < 100; i++) {
        free(comm);
        comm = comm_of(pid);
        if (comm && !strcmp(comm, "sleep"))
            break;
        usleep(20000);
    }
    cr_assert_str_eq(comm, "sleep", "started, but the init is not the process");
    oci(&r, "start", "c1", NULL);
    cr_assert_neq(r.status, 0, "a second start succeeded");

    oci(&r, "list", "--format", "json", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"id\":\"c1\"") && strstr(r.out, "\"status\":\"running\""), "%s",
              r.out);
    oci(&r, "ps", "--format", "json", "c1", NULL);
    _cleanup_free_ char *pids = xasprintf("[%d]", (int)pid);
    cr_assert(strstr(r.out, pids), "ps: %s, want %s", r.out, pids);

    oci(&r, "delete", "c1", NULL);
    cr_assert_neq(r.status, 0, "deleted a running container without -f");
    oci(&r, "kill", "c1", "KILL", NULL);
    cr_assert_eq(r.status, 0, "kill: %s", r.err);
    s = state_becomes("c1", "stopped");
    cr_assert_eq(YAJL_GET_INTEGER(json_get(s, "pid")), 0, "a stopped container has a pid");
    cr_assert_str_eq(json_get_str(s, "id"), "c1");
    yajl_tree_free(s);
    oci(&r, "kill", "c1", "KILL", NULL);
    cr_assert_neq(r.status, 0, "killed a stopped container");
    oci(&r, "delete", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete: %s", r.err);
    assert_gone("c1", pid);
}

Test(oci_cli, run_in_the_foreground_returns_the_exit_status_and_removes_the_container)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['process']['args'] = ['sh', '-c', 'echo out-line; exit 3']");
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 3, "run: %d %s", r.status, r.err);
    cr_assert(strstr(r.out, "out-line"), "the container's stdout is not run's: %s", r.out);
    assert_gone("c1", 0);
}

Test(oci_cli, run_detached_then_exec_short_form_and_process_json)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['args'] = ['sleep', '1000']");
    _cleanup_free_ char *pidfile = h_path("c1.pid");
    struct h_result r;
    oci_detached(&r, "run", "-d", "--bundle", bundle, "--pid-file", pidfile, "c1", NULL);
    cr_assert_eq(r.status, 0, "run -d: %s", r.err);
    yajl_val s = state_of("c1");
    cr_assert_str_eq(json_get_str(s, "status"), "running");
    pid_t pid = (pid_t)YAJL_GET_INTEGER(json_get(s, "pid"));
    yajl_tree_free(s);
    _cleanup_free_ char *pidtext = h_read_file(pidfile);
    cr_assert(pidtext && atoi(pidtext) == pid, "pid file %s, state %d", pidtext, (int)pid);

    oci(&r, "exec", "-e", "FROM_EXEC=1", "--cwd", "/tmp", "c1", "/bin/probe", "pid", "cwd", "env",
        NULL);
    cr_assert_eq(r.status, 0, "exec: %s", r.err);
    cr_assert_str_eq(h_val(&r, "cwd"), "/tmp");
    _cleanup_free_ char *from_exec = h_env(&r, "FROM_EXEC");
    cr_assert(from_exec && !strcmp(from_exec, "1"), "exec -e: %s", r.out);
    cr_assert_neq(atoi(h_val(&r, "pid")), 1, "exec'd as pid 1?");

    _cleanup_free_ char *proc = h_path("process.json");
    h_write_file(proc,
                 "{\"args\":[\"/bin/probe\",\"id\",\"cwd\"],\"cwd\":\"/bin\","
                 "\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":1000,\"gid\":1000}}",
                 0644);
    oci(&r, "exec", "--process", proc, "c1", NULL);
    cr_assert_eq(r.status, 0, "exec --process: %s", r.err);
    cr_assert_str_eq(h_val(&r, "uid"), "1000");
    cr_assert_str_eq(h_val(&r, "gid"), "1000");
    cr_assert_str_eq(h_val(&r, "cwd"), "/bin");

    oci(&r, "exec", "c1", "sh", "-c", "exit 7", NULL);
    cr_assert_eq(r.status, 7, "exec's exit status: %d %s", r.status, r.err);

    oci(&r, "delete", "-f", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete -f: %s", r.err);
    assert_gone("c1", pid);
}

Test(oci_cli, delete_force_of_a_running_container_leaves_no_cgroup_mount_or_state)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['args'] = ['sleep', '1000']");
    struct h_result r;
    oci_detached(&r, "run", "-d", "--bundle", bundle, "c2", NULL);
    cr_assert_eq(r.status, 0, "run -d: %s", r.err);
    pid_t pid = pid_of("c2");
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert(strstr(cg, "b"), "the container has no cgroup under the test's parent: %s", cg);
    oci(&r, "delete", "-f", "c2", NULL);
    cr_assert_eq(r.status, 0, "delete -f: %s", r.err);
    assert_gone("c2", pid);
    oci(&r, "delete", "-f", "c2", NULL);
    cr_assert_eq(r.status, 0, "delete -f of nothing is no error (runc): %s", r.err);
}

/* id created from bundle, its init waiting at the gate: its pid */
static pid_t created(const char *bundle, const char *id)
{
    struct h_result r;
    oci_detached(&r, "create", "--bundle", bundle, id, NULL);
    cr_assert_eq(r.status, 0, "create: %s", r.err);
    return pid_of(id);
}

/* An id in use, as runc refuses it: the second create's own directory, made before the id is
 * reserved, goes again, and the first container, its name and its init stay as they were. */
Test(oci_cli, an_id_in_use_is_refused_and_the_refused_create_leaves_nothing)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['args'] = ['sleep', '1000']");
    pid_t pid = created(bundle, "c3");
    _cleanup_free_ char *containers = h_path("oci/containers");
    _cleanup_free_ char *before = h_tree_snapshot(containers);
    h_snapshot_without_mtimes(before);
    struct h_result r;
    oci_detached(&r, "create", "--bundle", bundle, "c3", NULL);
    cr_assert_neq(r.status, 0, "a second create of c3 succeeded");
    cr_assert(strstr(r.err, "container with id exists: c3"), "%s", r.err);
    _cleanup_free_ char *after = h_tree_snapshot(containers);
    h_snapshot_without_mtimes(after);
    cr_assert_str_eq(after, before, "the refused create left state");
    cr_assert_eq(pid_of("c3"), pid);
    cr_assert(pid_running(pid), "the first container's init is gone");
    oci(&r, "delete", "c3", NULL);
    cr_assert_eq(r.status, 0, "delete: %s", r.err);
    assert_gone("c3", pid);
}

Test(oci_cli, delete_of_a_created_container_kills_its_waiting_init)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['args'] = ['sleep', '1000']");
    pid_t pid = created(bundle, "c1");
    struct h_result r;
    oci(&r, "delete", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete: %s", r.err);
    assert_gone("c1", pid);
}

Test(oci_cli, the_bundle_root_is_bound_as_it_is_and_read_only_when_asked)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['root']['readonly'] = False\n"
                    "c['process']['args'] = ['/bin/probe', 'write', '/written', 'mount', '/']");
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    cr_assert_str_eq(h_val(&r, "write:/written"), "ok");
    _cleanup_free_ char *written = xasprintf("%s/rootfs/written", bundle);
    cr_assert(h_exists(written), "a write in the container is not in the bundle's root");
    struct h_mount m = {0};
    cr_assert(h_get_mount(&r, "/", &m), "%s", r.out);
    cr_assert_str_neq(m.fstype, "overlay", "the root is an overlay");
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", bundle);
    unlink(cfg);
    free(make_bundle("c['process']['args'] = ['/bin/probe', 'write', '/again']"));
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    cr_assert_str_eq(h_val(&r, "write:/again"), "EROFS", "root.readonly not honoured");
}

Test(oci_cli, a_field_berth_cannot_honour_is_refused_by_name_and_leaves_nothing)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['apparmorProfile'] = 'berth-test'");
    struct h_result r;
    _cleanup_free_ char *log = h_path("oci.log");
    _cleanup_free_ char *root = h_path("oci");
    const char *argv[] = {oci_bin(), "--root", root,       "--log", log,  "--log-format",
                          "json",    "create", "--bundle", bundle,  "c1", NULL};
    h_execv(&r, NULL, argv);
    cr_assert_neq(r.status, 0, "created with process.apparmorProfile");
    cr_assert(strstr(r.err, "process.apparmorProfile"), "the error does not name the field: %s",
              r.err);
    _cleanup_free_ char *line = h_read_file(log);
    cr_assert(line, "nothing logged");
    yajl_val doc = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse(line, &doc, &err), 0, "log line is not JSON: %s", line);
    cr_assert_str_eq(json_get_str(doc, "level"), "error");
    cr_assert(strstr(json_get_str(doc, "msg"), "process.apparmorProfile"), "%s", line);
    cr_assert(json_get_str(doc, "time"), "%s", line);
    yajl_tree_free(doc);
    assert_gone("c1", 0);

    const char *sd[] = {oci_bin(), "--systemd-cgroup", "--root", root, "list", NULL};
    h_execv(&r, NULL, sd);
    cr_assert_neq(r.status, 0, "--systemd-cgroup accepted");
    cr_assert(strstr(r.err, "systemd"), "%s", r.err);
}

/* Every kind of hook, each appending its kind to /tmp/order of the container's root (the host
 * ones through the bundle's path of it) and keeping its state JSON beside it. */
Test(oci_cli, hooks_run_in_order_with_the_state_on_stdin_where_the_spec_says)
{
    _cleanup_free_ char *bundle = h_path("bundle");
    _cleanup_free_ char *edit = xasprintf(
        "host = '%s/rootfs/tmp'\n"
        "c['root']['readonly'] = False\n"
        "def hook(kind, where):\n"
        "    return {'path': '/bin/sh', 'args': ['sh', '-c', 'cat > ' + where + '/' + kind + "
        "'.json; echo ' + kind + ' >> ' + where + '/order'], 'env': ['PATH=/bin'], 'timeout': 10}\n"
        "c['hooks'] = {k: [hook(k, host)] for k in ['prestart', 'createRuntime', "
        "'createContainer', "
        "'poststart', 'poststop']}\n"
        "c['hooks'].update({k: [hook(k, '/tmp')] for k in ['startContainer']})\n"
        /* before pivot_root: the init's root is still the host's, seen from createRuntime; and
         * createContainer is in the init's mount namespace with the host's paths */
        "c['hooks']['createRuntime'].append({'path': '/usr/bin/python3', 'args': ['python3', "
        "'-c', 'import json, os, sys; p = json.load(sys.stdin)[\"pid\"]; "
        "open(sys.argv[1], \"w\").write(os.readlink(\"/proc/%%d/root\" %% p) + \" \" + "
        "os.readlink(\"/proc/%%d/ns/mnt\" %% p))', host + '/createRuntime.init']})\n"
        "c['hooks']['createContainer'].append({'path': '/bin/sh', 'args': ['sh', '-c', "
        "'readlink /proc/self/ns/mnt > ' + host + '/createContainer.mnt']})\n"
        "c['process']['args'] = ['sh', '-c', 'test -e /tmp/startContainer.json && echo ran-after']",
        bundle);
    free(make_bundle(edit));
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %d %s %s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "ran-after"), "startContainer did not run before the process: %s",
              r.out);
    _cleanup_free_ char *order_path = xasprintf("%s/rootfs/tmp/order", bundle);
    _cleanup_free_ char *order = h_read_file(order_path);
    cr_assert_str_eq(order, "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\n"
                            "poststop\n");
    _cleanup_free_ char *init_path = xasprintf("%s/rootfs/tmp/createRuntime.init", bundle),
                        *mnt_path = xasprintf("%s/rootfs/tmp/createContainer.mnt", bundle);
    _cleanup_free_ char *init = h_read_file(init_path), *mnt = h_read_file(mnt_path);
    char own[64] = "";
    cr_assert_gt(readlink("/proc/self/ns/mnt", own, sizeof(own) - 1), 0);
    cr_assert(init && mnt, "the hooks' findings: %s %s", init, mnt);
    cr_assert(!strncmp(init, "/ mnt:", 6), "createRuntime after pivot_root: %s", init);
    mnt[strcspn(mnt, "\n")] = '\0';
    cr_assert_str_eq(init + 2, mnt, "createContainer outside the container's mount namespace");
    cr_assert_str_neq(mnt, own, "createContainer in the host's mount namespace");
    static const struct {
        const char *kind, *status;
    } want[] = {{"prestart", "creating"},        {"createRuntime", "creating"},
                {"createContainer", "creating"}, {"startContainer", "created"},
                {"poststart", "running"},        {"poststop", "stopped"}};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        _cleanup_free_ char *p = xasprintf("%s/rootfs/tmp/%s.json", bundle, want[i].kind);
        _cleanup_free_ char *text = h_read_file(p);
        cr_assert(text, "%s: no state", want[i].kind);
        yajl_val doc = NULL;
        struct berr err = {0};
        cr_assert_eq(json_parse(text, &doc, &err), 0, "%s: %s", want[i].kind, text);
        cr_assert_str_eq(json_get_str(doc, "id"), "c1");
        cr_assert_str_eq(json_get_str(doc, "status"), want[i].status, "%s", want[i].kind);
        cr_assert_str_eq(json_get_str(doc, "bundle"), bundle);
        yajl_tree_free(doc);
    }
    assert_gone("c1", 0);
}

Test(oci_cli, a_failing_create_hook_fails_create_and_leaves_nothing)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['process']['args'] = ['sleep', '1000']\n"
                    "c['hooks'] = {'createRuntime': [{'path': '/bin/sh', 'args': ['sh', '-c', "
                    "'exit 3']}]}");
    struct h_result r;
    oci_detached(&r, "create", "--bundle", bundle, "c1", NULL);
    cr_assert_neq(r.status, 0, "create with a failing hook succeeded");
    cr_assert(strstr(r.err, "createRuntime hook /bin/sh: exited with status 3"), "%s", r.err);
    assert_gone("c1", 0);
}

/* The state holds the bundle's annotations: more than a pipe's buffer must still reach the
 * hook, in full, without create waiting on a hook that has not started yet. */
Test(oci_cli, a_hook_gets_a_state_larger_than_a_pipe_buffer)
{
    _cleanup_free_ char *bundle = h_path("bundle");
    _cleanup_free_ char *edit =
        xasprintf("c['annotations'] = {'big': 'x' * 200000}\n"
                  "c['process']['args'] = ['true']\n"
                  "c['hooks'] = {'prestart': [{'path': '/bin/sh', 'args': ['sh', '-c', "
                  "'wc -c > %s/rootfs/tmp/state.size']}]}",
                  bundle);
    free(make_bundle(edit));
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %d %s %s", r.status, r.out, r.err);
    _cleanup_free_ char *size_path = xasprintf("%s/rootfs/tmp/state.size", bundle);
    _cleanup_free_ char *size = h_read_file(size_path);
    cr_assert(size && atol(size) > 200000, "the hook read %s bytes of the state", size);
    assert_gone("c1", 0);
}

/* A timeout is in seconds, any positive integer: one whose milliseconds pass an int (4294968 s
 * would wrap to 704 ms) still lets a hook of a second finish. */
Test(oci_cli, a_hook_timeout_of_many_days_is_not_cut_short)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['process']['args'] = ['true']\n"
                    "c['hooks'] = {'prestart': [{'path': '/bin/sleep', 'args': ['sleep', '1'], "
                    "'timeout': 4294968}]}");
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %d %s %s", r.status, r.out, r.err);
    assert_gone("c1", 0);
}

Test(oci_cli, process_rlimits_are_set_and_the_umask_berth_sets_is_accepted)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['process']['rlimits'] = [{'type': 'RLIMIT_NOFILE', 'soft': 123, "
                    "'hard': 456}, {'type': 'RLIMIT_NPROC', 'soft': 777, 'hard': 888}]\n"
                    "c['process']['user']['umask'] = 18\n"
                    "c['process']['args'] = ['cat', '/proc/self/limits']");
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    static const struct {
        const char *name;
        long soft, hard;
    } want[] = {{"Max open files", 123, 456}, {"Max processes", 777, 888}};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        const char *line = strstr(r.out, want[i].name);
        long soft = 0, hard = 0;
        cr_assert(line && sscanf(line + strlen(want[i].name), " %ld %ld", &soft, &hard) == 2, "%s",
                  r.out);
        cr_assert(soft == want[i].soft && hard == want[i].hard, "%s: %ld %ld", want[i].name, soft,
                  hard);
    }
    assert_gone("c1", 0);
}

Test(oci_cli, another_umask_and_an_unknown_rlimit_are_refused_by_name)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['user']['umask'] = 63");
    struct h_result r;
    oci_detached(&r, "create", "--bundle", bundle, "c1", NULL);
    cr_assert_neq(r.status, 0, "created with umask 077");
    cr_assert(strstr(r.err, "process.user.umask"), "%s", r.err);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", bundle);
    unlink(cfg);
    free(make_bundle("c['process']['rlimits'] = [{'type': 'RLIMIT_BOGUS', 'soft': 1, 'hard': 1}]"));
    oci_detached(&r, "create", "--bundle", bundle, "c1", NULL);
    cr_assert_neq(r.status, 0, "created with RLIMIT_BOGUS");
    cr_assert(strstr(r.err, "process.rlimits[0]"), "%s", r.err);
    assert_gone("c1", 0);
}

Test(oci_cli, linux_seccomp_is_compiled_and_loaded_and_its_flags_refused)
{
    _cleanup_free_ char *bundle = make_bundle(
        "c['root']['readonly'] = False\n"
        "c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': "
        "['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'syscalls': [{'names': "
        "['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}\n"
        "c['process']['args'] = ['/bin/probe', 'status', 'mkdir', '/tmp/made']");
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    cr_assert_str_eq(h_val(&r, "Seccomp"), "2", "no filter: %s", r.out);
    cr_assert_str_eq(h_val(&r, "mkdir:/tmp/made"), "EPERM", "the rule did not apply: %s", r.out);
    assert_gone("c1", 0);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", bundle);
    unlink(cfg);
    free(make_bundle("c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': "
                     "['SECCOMP_FILTER_FLAG_LOG']}"));
    oci_detached(&r, "create", "--bundle", bundle, "c1", NULL);
    cr_assert_neq(r.status, 0, "created with seccomp flags");
    cr_assert(strstr(r.err, "linux.seccomp.flags"), "%s", r.err);
    assert_gone("c1", 0);
}

Test(oci_cli, a_lone_deny_all_device_rule_is_runcs_default_devices_and_others_are_refused)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['linux']['resources']['devices'] = [{'allow': False, 'access': 'rwm'}]\n"
                    "c['process']['args'] = ['/bin/probe', 'write', '/dev/null']");
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    cr_assert_str_eq(h_val(&r, "write:/dev/null"), "ok", "%s", r.out);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", bundle);
    unlink(cfg);
    free(make_bundle("c['linux']['resources']['devices'] = [{'allow': True, 'access': 'rwm'}]"));
    oci_detached(&r, "create", "--bundle", bundle, "c1", NULL);
    cr_assert_neq(r.status, 0, "created with every device allowed");
    cr_assert(strstr(r.err, "linux.resources.devices"), "%s", r.err);
    assert_gone("c1", 0);
}

/* A bundle's own mount list, as podman writes one: its options on the kernel filesystems, a
 * tmpfs elsewhere, binds with nosuid/noexec/nodev and "bind"; cgroup and runc's own options
 * refused by name; its sysctls written in the container's namespaces. */
Test(oci_cli, a_bundles_mounts_and_sysctls_as_listed)
{
    _cleanup_free_ char *src = h_path("shared");
    h_mkdirs(src, 0755);
    _cleanup_free_ char *edit = xasprintf(
        "m = c['mounts']\n"
        "[x for x in m if x['destination'] == '/dev'][0]['options'].append('noexec')\n"
        "m.append({'destination': '/scratch', 'type': 'tmpfs', 'source': 'tmpfs', 'options': "
        "['nosuid', 'nodev', 'size=1m', 'mode=700']})\n"
        "m.append({'destination': '/shared', 'type': 'bind', 'source': '%s', 'options': "
        "['bind', 'rprivate', 'nosuid', 'noexec', 'nodev']})\n"
        "c['linux']['sysctl'] = {'net.ipv4.ping_group_range': '0 0', 'kernel.shmmni': '1234'}\n"
        "c['process']['args'] = ['/bin/probe', 'mount', '/dev', 'mount', '/scratch', 'mount', "
        "'/shared', 'stat', '/scratch', 'cat', '/proc/sys/net/ipv4/ping_group_range', 'cat', "
        "'/proc/sys/kernel/shmmni']",
        src);
    _cleanup_free_ char *bundle = make_bundle(edit);
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    struct h_mount m = {0};
    cr_assert(h_get_mount(&r, "/dev", &m) && h_has_word(m.opts, "noexec"), "%s", r.out);
    cr_assert(h_get_mount(&r, "/scratch", &m), "%s", r.out);
    cr_assert_str_eq(m.fstype, "tmpfs");
    cr_assert(h_has_word(m.opts, "nosuid") && h_has_word(m.opts, "nodev") &&
                  !h_has_word(m.opts, "noexec"),
              "%s", m.opts);
    cr_assert(strstr(m.super, "size=1024k") && strstr(m.super, "mode=700"), "%s", m.super);
    cr_assert(h_get_mount(&r, "/shared", &m), "%s", r.out);
    cr_assert(h_has_word(m.opts, "nosuid") && h_has_word(m.opts, "noexec") &&
                  h_has_word(m.opts, "nodev"),
              "%s", m.opts);
    cr_assert(strstr(r.out, "ping_group_range=0\t0") || strstr(r.out, "ping_group_range=0 0") ||
                  strstr(r.out, "ping_group_range=0\\t0"),
              "%s", r.out);
    cr_assert(strstr(r.out, "shmmni=1234"), "%s", r.out);
    _cleanup_free_ char *host = h_read_file("/proc/sys/kernel/shmmni");
    cr_assert(host && atoi(host) != 1234, "the host's kernel.shmmni changed");

    _cleanup_free_ char *cfg = xasprintf("%s/config.json", bundle);
    static const struct {
        const char *edit, *field;
    } refused[] = {
        {"c['mounts'].append({'destination': '/sys/fs/cgroup', 'type': 'cgroup', 'source': "
         "'cgroup', 'options': ['ro']})",
         "mount /sys/fs/cgroup (cgroup)"},
        {"c['mounts'].append({'destination': '/t', 'type': 'tmpfs', 'source': 'tmpfs', "
         "'options': ['tmpcopyup']})",
         "option tmpcopyup"},
        {"c['linux']['sysctl'] = {'vm.swappiness': '1'}", "linux.sysctl.vm.swappiness"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        unlink(cfg);
        free(make_bundle(refused[i].edit));
        oci_detached(&r, "create", "--bundle", bundle, "c1", NULL);
        cr_assert_neq(r.status, 0, "created with %s", refused[i].field);
        cr_assert(strstr(r.err, refused[i].field), "want %s: %s", refused[i].field, r.err);
    }
    assert_gone("c1", 0);
}

/* A bundle may mask many directories (docker's own list has one per CPU on hosts with
 * thermal_throttle): the first gets an empty read-only tmpfs, the others clones of that mount
 * (mounts/mask.c). Each must still show nothing and take nothing, and be a mount of its own. */
Test(oci_cli, every_masked_directory_of_a_bundle_is_empty_and_read_only)
{
    static const char *const dirs[] = {
        "/sys/kernel/mm", "/sys/kernel/irq", "/sys/kernel/slab",     "/sys/kernel/security",
        "/sys/class/tty", "/sys/class/mem",  "/sys/devices/virtual", "/proc/driver"};
    _cleanup_strv_ struct strv masked = {0}, args = {0}, quoted = {0};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        if (!h_exists(dirs[i]))
            continue;
        strv_push_owned(&masked, xasprintf("'%s'", dirs[i]));
        h_probe_masked_dir(&args, dirs[i], "berth-mask");
        strv_push(&args, "mount");
        strv_push(&args, dirs[i]);
    }
    cr_assert_geq(masked.n, 4, "precondition: too few of the directories exist on this host");
    for (size_t i = 0; i < args.n; i++)
        strv_push_owned(&quoted, xasprintf("'%s'", args.v[i]));
    _cleanup_free_ char *list = strv_join(&masked, ", ");
    _cleanup_free_ char *probe = strv_join(&quoted, ", ");
    _cleanup_free_ char *edit = xasprintf("c['linux']['maskedPaths'] = [%s]\n"
                                          "c['process']['args'] = ['/bin/probe', %s]",
                                          list, probe);
    _cleanup_free_ char *bundle = make_bundle(edit);
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "m1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        if (!h_exists(dirs[i]))
            continue;
        h_assert_masked_dir(&r, dirs[i], "berth-mask");
        struct h_mount m = {0};
        cr_assert(h_get_mount(&r, dirs[i], &m), "%s is no mount of its own: %s", dirs[i], r.out);
        cr_assert_str_eq(m.fstype, "tmpfs", "%s", dirs[i]);
        cr_assert(h_has_word(m.opts, "ro"), "%s mounted %s", dirs[i], m.opts);
    }
    assert_gone("m1", 0);
}

/* podman --runtime=berth-oci, its storage in this test's temp dir: an image imported from a
 * rootfs tar (never pulled), run in the foreground (exit status and output through conmon),
 * run detached, seen running, stopped and removed. What podman needs on this host is in the
 * flags: cgroupfs, the file event log, no network, limits within ours (no CAP_SYS_RESOURCE
 * to raise them), and a tmpfs on /sys/fs/cgroup for the cgroup filesystem berth-oci does
 * not mount. A wrapper gives berth-oci this test's --root: podman calls delete without its
 * --runtime-flag options. */
static void podman(struct h_result *r, ...) __attribute__((sentinel));
static void podman(struct h_result *r, ...)
{
    const char *argv[48];
    size_t n = 0;
    _cleanup_free_ char *storage = h_path("podman/storage"), *runroot = h_path("podman/run"),
                        *tmp = h_path("podman/tmp"), *wrapper = h_path("berth-oci-wrapper");
    const char *fixed[] = {"podman",
                           "--root",
                           storage,
                           "--runroot",
                           runroot,
                           "--tmpdir",
                           tmp,
                           "--cgroup-manager=cgroupfs",
                           "--events-backend=file",
                           "--storage-driver=vfs"};
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
        argv[n++] = fixed[i];
    _cleanup_free_ char *runtime = xasprintf("--runtime=%s", wrapper);
    argv[n++] = runtime;
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *)) && n < 47;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    h_execv(r, NULL, argv);
}

Test(oci_cli, podman_runs_and_removes_containers_of_an_imported_image)
{
    _cleanup_free_ char *bundle = make_bundle("");
    _cleanup_free_ char *tar = h_path("rootfs.tar"), *rootfs = xasprintf("%s/rootfs", bundle);
    const char *tar_argv[] = {"tar", "-C", rootfs, "-cf", tar, ".", NULL};
    struct h_result r;
    h_execv(&r, NULL, tar_argv);
    cr_assert_eq(r.status, 0, "tar: %s", r.err);
    _cleanup_free_ char *wrapper = h_path("berth-oci-wrapper"), *root = h_path("oci");
    _cleanup_free_ char *script =
        xasprintf("#!/bin/sh\nexec %s --root %s \"$@\"\n", oci_bin(), root);
    h_write_file(wrapper, script, 0755);

    podman(&r, "import", tar, "localhost/berth-oci-it:latest", NULL);
    cr_assert_eq(r.status, 0, "podman import: %s", r.err);
    _cleanup_free_ char *parent = xasprintf("--cgroup-parent=%s", h_cgroup_parent());
#define H_PODMAN_RUN_FLAGS                                                                         \
    "--network=none", parent, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",       \
        "--mount", "type=tmpfs,destination=/sys/fs/cgroup,ro=true,notmpcopyup"
    podman(&r, "run", "--rm", H_PODMAN_RUN_FLAGS, "localhost/berth-oci-it:latest", "sh", "-c",
           "echo from-podman; exit 5", NULL);
    cr_assert_eq(r.status, 5, "podman run: %d %s %s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "from-podman"), "%s", r.out);
    /* -t: conmon's console socket gets the pty's master, the command's stdio is its slave */
    podman(&r, "run", "--rm", "-t", H_PODMAN_RUN_FLAGS, "localhost/berth-oci-it:latest", "sh", "-c",
           "tty; [ -t 0 ] && [ -t 1 ] && echo on-tty; exit 4", NULL);
    cr_assert_eq(r.status, 4, "podman run -t: %d %s %s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "/dev/pts/0\r\non-tty"), "%s", r.out);

    _cleanup_free_ char *name = xasprintf("berth-oci-it-%d", (int)getpid());
    podman(&r, "run", "-d", "--name", name, H_PODMAN_RUN_FLAGS, "localhost/berth-oci-it:latest",
           "sleep", "1000", NULL);
    cr_assert_eq(r.status, 0, "podman run -d: %s", r.err);
    _cleanup_free_ char *id = h_last_line(r.out);
    yajl_val s = state_of(id);
    cr_assert_str_eq(json_get_str(s, "status"), "running");
    yajl_tree_free(s);
    podman(&r, "ps", "--format", "{{.Names}} {{.Status}}", NULL);
    cr_assert(strstr(r.out, name) && strstr(r.out, "Up"), "podman ps: %s", r.out);
    podman(&r, "exec", name, "sh", "-c", "echo in-exec; exit 3", NULL);
    cr_assert_eq(r.status, 3, "podman exec: %d %s %s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "in-exec"), "%s", r.out);
    podman(&r, "stop", "-t", "1", name, NULL);
    cr_assert_eq(r.status, 0, "podman stop: %s", r.err);
    podman(&r, "ps", "-a", "--format", "{{.Names}} {{.Status}}", NULL);
    cr_assert(strstr(r.out, "Exited (137)"), "podman ps -a: %s", r.out);
    podman(&r, "rm", name, NULL);
    cr_assert_eq(r.status, 0, "podman rm: %s", r.err);
    podman(&r, "ps", "-a", "-q", NULL);
    cr_assert_str_eq(r.out, "", "left: %s", r.out);
    oci(&r, "list", "-q", NULL);
    cr_assert_str_eq(r.out, "", "berth-oci still has: %s", r.out);
    _cleanup_free_ char *cg = h_cgroups_left();
    cr_assert(!strstr(cg, "libpod-"), "a container's cgroup is left: %s", cg);
    h_assert_no_mounts_left();
#undef H_PODMAN_RUN_FLAGS
}

/* exec -d (conmon's way): the process runs with the caller's stdio, its pid in the pid file,
 * and is left to the caller's subreaper; a process.json may not ask for other capabilities. */
/* exec --process takes a process's rlimits by the rule create takes a bundle's: set on the
 * process, each type once. */
Test(oci_cli, exec_process_rlimits_are_set_by_the_rule_of_a_bundles)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['args'] = ['sleep', '1000']");
    struct h_result r;
    oci_detached(&r, "run", "-d", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run -d: %s", r.err);
    _cleanup_free_ char *proc = h_path("process.json");
    h_write_file(proc,
                 "{\"args\":[\"cat\",\"/proc/self/limits\"],\"cwd\":\"/\",\"rlimits\":"
                 "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":64,\"hard\":100}]}",
                 0644);
    oci(&r, "exec", "--process", proc, "c1", NULL);
    cr_assert_eq(r.status, 0, "exec --process: %s", r.err);
    const char *line = strstr(r.out, "Max open files");
    long soft = 0, hard = 0;
    cr_assert(line && sscanf(line + strlen("Max open files"), " %ld %ld", &soft, &hard) == 2, "%s",
              r.out);
    cr_assert(soft == 64 && hard == 100, "Max open files: %ld %ld", soft, hard);
    assert_process_refused("{\"args\":[\"true\"],\"cwd\":\"/\",\"rlimits\":"
                           "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":2},"
                           "{\"type\":\"RLIMIT_NOFILE\",\"soft\":123,\"hard\":456}]}",
                           "rlimits[1]");
    oci(&r, "delete", "-f", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete -f: %s", r.err);
    assert_gone("c1", 0);
}

Test(oci_cli, exec_detached_writes_the_pid_and_other_capabilities_are_refused)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['args'] = ['sleep', '1000']");
    struct h_result r;
    oci_detached(&r, "run", "-d", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run -d: %s", r.err);
    pid_t init = pid_of("c1");
    _cleanup_free_ char *pidfile = h_path("exec.pid");
    oci_detached(&r, "exec", "-d", "--pid-file", pidfile, "c1", "sleep", "777", NULL);
    cr_assert_eq(r.status, 0, "exec -d: %s", r.err);
    _cleanup_free_ char *text = h_read_file(pidfile);
    cr_assert(text && atoi(text) > 0, "no pid file");
    pid_t pid = atoi(text);
    _cleanup_free_ char *comm = comm_of(pid);
    cr_assert_str_eq(comm, "sleep");
    _cleanup_free_ char *ns = xasprintf("/proc/%d/ns/pid", (int)pid),
                        *ns1 = xasprintf("/proc/%d/ns/pid", (int)init);
    char a[64] = "", b[64] = "";
    cr_assert(readlink(ns, a, sizeof(a) - 1) > 0 && readlink(ns1, b, sizeof(b) - 1) > 0);
    cr_assert_str_eq(a, b, "the exec is not in the container's pid namespace");

    assert_process_refused("{\"args\":[\"true\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":"
                           "[\"CAP_SYS_ADMIN\"]}}",
                           "capabilities.bounding");
    oci(&r, "delete", "-f", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete -f: %s", r.err);
    assert_gone("c1", init);
    cr_assert(!pid_running(pid), "the exec'd process outlived its container");
}

/* kill signals the init alone; --all every process of the container: a TERM the init (pid 1,
 * no handler) ignores still ends the others */
Test(oci_cli, kill_all_reaches_every_process_and_kill_the_init_alone)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['process']['args'] = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']");
    struct h_result r;
    oci_detached(&r, "run", "-d", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run -d: %s", r.err);
    size_t n = 0;
    for (int i = 0; i < 100 && n != 3; i++) {
        oci(&r, "ps", "--format", "json", "c1", NULL);
        n = 0;
        for (const char *p = r.out; (p = strchr(p, ',')); p++)
            n++;
        n = strlen(r.out) > 3 ? n + 1 : 0;
        usleep(20000);
    }
    cr_assert_eq(n, 3, "ps: %s", r.out);
    oci(&r, "kill", "c1", "TERM", NULL);
    cr_assert_eq(r.status, 0, "kill: %s", r.err);
    usleep(200000);
    oci(&r, "ps", "--format", "json", "c1", NULL);
    cr_assert_eq(strchr(r.out, ',') != NULL, true, "kill without --all reached the children: %s",
                 r.out);
    oci(&r, "kill", "--all", "c1", "TERM", NULL);
    cr_assert_eq(r.status, 0, "kill --all: %s", r.err);
    oci(&r, "ps", "--format", "json", "c1", NULL);
    for (int i = 0; i < 100 && strchr(r.out, ','); i++) {
        usleep(20000);
        oci(&r, "ps", "--format", "json", "c1", NULL);
    }
    cr_assert(!strchr(r.out, ','), "kill --all left: %s", r.out);
    oci(&r, "delete", "-f", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete -f: %s", r.err);
    assert_gone("c1", 0);
}

/* run in the foreground passes a TERM sent to it on to the container's process */
Test(oci_cli, run_in_the_foreground_forwards_signals_to_the_container)
{
    _cleanup_free_ char *bundle = make_bundle(
        "c['process']['args'] = ['sh', '-c', 'trap \"exit 7\" TERM; echo ready; sleep 1000 & "
        "wait']");
    _cleanup_free_ char *root = h_path("oci"), *out = h_path("run.out");
    _cleanup_free_ char *script = xasprintf(
        "%s --root %s run --bundle %s c1 > %s 2>&1 & p=$!\n"
        "for i in $(seq 100); do grep -q ready %s 2>/dev/null && break; sleep 0.05; done\n"
        "kill -TERM $p; wait $p",
        oci_bin(), root, bundle, out, out);
    const char *argv[] = {"sh", "-c", script, NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    _cleanup_free_ char *text = h_read_file(out);
    cr_assert_eq(r.status, 7, "run's status after TERM: %d (%s)", r.status, text);
    oci(&r, "delete", "-f", "c1", NULL);
    assert_gone("c1", 0);
}

/* the init takes the bundle's user before it waits at the exec fifo: a user other than root
 * must still be let go by start */
Test(oci_cli, a_container_of_another_user_is_created_and_started)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['user'] = {'uid': 1000, 'gid': 1000}\n"
                                              "c['process']['args'] = ['/bin/probe', 'id']");
    struct h_result r;
    oci(&r, "run", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run: %s %s", r.out, r.err);
    cr_assert_str_eq(h_val(&r, "uid"), "1000");
    cr_assert_str_eq(h_val(&r, "gid"), "1000");
    assert_gone("c1", 0);
}

/* A usage error is the end of create and run: no id means no container, an extra argument no
 * container either (runc's usage errors exit 1 and create nothing). */
Test(oci_cli, create_and_run_usage_errors_create_nothing)
{
    _cleanup_free_ char *bundle = make_bundle("pass");
    struct h_result r;
    oci(&r, "create", "--bundle", bundle, NULL);
    cr_assert_eq(r.status, 1, "create without an id: %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "container id"), "%s", r.err);
    oci(&r, "run", "--bundle", bundle, NULL);
    cr_assert_eq(r.status, 1, "run without an id: %d: %s", r.status, r.err);
    oci(&r, "create", "--help", NULL);
    cr_assert_eq(r.status, 1, "create --help: %d: %s", r.status, r.err);
    oci(&r, "create", "--bundle", bundle, "u1", "extra", NULL);
    cr_assert_eq(r.status, 1, "an extra argument: %d: %s", r.status, r.err);
    /* the refusal names the flag, not its value */
    oci(&r, "exec", "--console-socket", "/nowhere.sock", "u1", "true", NULL);
    cr_assert_eq(r.status, 1, "exec --console-socket: %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "--console-socket"), "%s", r.err);
    oci(&r, "list", "-q", NULL);
    cr_assert_str_eq(r.out, "", "a usage error created: %s", r.out);
}

/* process.terminal with --console-socket, conmon's way: create connects to the socket, the
 * init sends the master of a pty whose slave is its stdio and controlling terminal (runc names
 * it /dev/ptmx), start runs the shell on it. The listener here, a subreaper, types a line into
 * the master, reads the shell's output back and reaps the init (exit 3). */
Test(oci_cli, a_terminal_goes_to_the_console_socket_as_runcs_does)
{
    _cleanup_free_ char *bundle =
        make_bundle("c['process']['terminal'] = True\nc['process']['args'] = ['sh']");
    _cleanup_free_ char *sock = h_path("console.sock"), *root = h_path("oci"),
                        *pidf = h_path("init.pid");
    static const char py[] =
        "import array, ctypes, os, socket, subprocess, sys, time\n"
        "oci, root, bundle, path, pidf = sys.argv[1:6]\n"
        "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n" /* PR_SET_CHILD_SUBREAPER */
        "l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind(path); l.listen(1)\n"
        /* create's stdio stays with its monitor until the start: a file, not a pipe */
        "e = open(pidf + '.err', 'w+')\n"
        "c = subprocess.run([oci, '--root', root, 'create', '--bundle', bundle,\n"
        "    '--console-socket', path, '--pid-file', pidf, 't1'], stdin=subprocess.DEVNULL,\n"
        "    stdout=e, stderr=e)\n"
        "if c.returncode: e.seek(0); sys.exit('create: ' + e.read())\n"
        "s, _ = l.accept()\n"
        "fds = array.array('i')\n"
        "msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))\n"
        "fds.frombytes(anc[0][2][:fds.itemsize])\n"
        "m = fds[0]\n"
        "print('name=' + msg.decode())\n"
        "print('tty=' + str(os.isatty(m)))\n"
        "pid = int(open(pidf).read())\n"
        "st = subprocess.run([oci, '--root', root, 'start', 't1'], stdout=e, stderr=e)\n"
        "if st.returncode: e.seek(0); sys.exit('start: ' + e.read())\n"
        "os.write(m, b'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; exit 3\\n')\n"
        "out = b''\n"
        "while True:\n"
        "    try: b = os.read(m, 4096)\n"
        "    except OSError: break\n"
        "    if not b: break\n"
        "    out += b\n"
        "print('out=' + out.decode(errors='replace').replace('\\r', '').replace('\\n', '|'))\n"
        /* the init comes here once its monitor, which saw the execve, has gone */
        "for i in range(200):\n"
        "    try: _, status = os.waitpid(pid, 0); break\n"
        "    except ChildProcessError: time.sleep(0.05)\n"
        "print('exit=%d' % os.waitstatus_to_exitcode(status))\n";
    const char *argv[] = {"python3", "-c", py, oci_bin(), root, bundle, sock, pidf, NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "name=/dev/ptmx\n"), "%s", r.out);
    cr_assert(strstr(r.out, "tty=True\n"), "%s", r.out);
    cr_assert(strstr(r.out, "|/dev/pts/0|"), "the shell's tty: %s", r.out);
    cr_assert(strstr(r.out, "|all-tty|"), "stdio not all on the terminal: %s", r.out);
    cr_assert(strstr(r.out, "exit=3\n"), "%s", r.out);
    yajl_val s = state_becomes("t1", "stopped");
    yajl_tree_free(s);
    oci(&r, "delete", "t1", NULL);
    cr_assert_eq(r.status, 0, "delete: %s", r.err);
    assert_gone("t1", 0);
}

/* runc's rules: a terminal needs a console socket to hand its master to (berth-oci keeps no
 * pty of its own, even in the foreground), and a console socket needs a terminal and a
 * create or run -d; each refusal creates nothing. */
Test(oci_cli, a_terminal_without_a_console_socket_and_the_reverse_are_refused)
{
    _cleanup_free_ char *bundle = make_bundle("c['process']['terminal'] = True");
    _cleanup_free_ char *sock = h_path("console.sock"), *cfg = xasprintf("%s/config.json", bundle);
    struct h_result r;
    oci_detached(&r, "create", "--bundle", bundle, "t1", NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "process.terminal needs --console-socket"), "%s", r.err);
    oci_detached(&r, "run", "--bundle", bundle, "t1", NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "process.terminal needs --console-socket"), "%s", r.err);
    oci_detached(&r, "run", "--console-socket", sock, "--bundle", bundle, "t1", NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "will not detach"), "%s", r.err);
    unlink(cfg);
    free(make_bundle("pass"));
    _cleanup_free_ char *root = h_path("oci");
    const char *py[] = {"python3",
                        "-c",
                        "import socket, subprocess, sys\n"
                        "l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                        "l.bind(sys.argv[1]); l.listen(1)\n"
                        "c = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL,\n"
                        "    capture_output=True, text=True)\n"
                        "print(c.returncode, c.stderr)\n",
                        sock,
                        oci_bin(),
                        "--root",
                        root,
                        "create",
                        "--console-socket",
                        sock,
                        "--bundle",
                        bundle,
                        "t1",
                        NULL};
    h_execv(&r, NULL, py);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(!strncmp(r.out, "1 ", 2) && strstr(r.out, "only for a process.terminal"), "%s",
              r.out);
    oci(&r, "list", "-q", NULL);
    cr_assert_str_eq(r.out, "", "a refusal created: %s", r.out);
}

static long counter_of(const char *bundle)
{
    _cleanup_free_ char *path = xasprintf("%s/rootfs/tmp/n", bundle);
    _cleanup_free_ char *text = h_read_file(path);
    return text ? atol(text) : -1;
}

/* runc's pause and resume: a paused container's state says so and its process does not
 * advance (a counter it writes every 20 ms stays put), resume lets it go on; pause and resume
 * in the wrong state are refused; a paused container is killed by KILL (thawed, so that it
 * dies) and deleted by delete -f, while delete alone refuses it. */
Test(oci_cli, pause_freezes_the_container_resume_thaws_it_and_kill_and_delete_reach_it)
{
    _cleanup_free_ char *bundle = make_bundle("c['root']['readonly'] = False\n"
                                              "c['process']['args'] = ['sh', '-c', "
                                              "'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; "
                                              "sleep 0.02; done']");
    struct h_result r;
    oci_detached(&r, "run", "-d", "--bundle", bundle, "c1", NULL);
    cr_assert_eq(r.status, 0, "run -d: %s", r.err);
    pid_t pid = pid_of("c1");
    for (int i = 0; i < 200 && counter_of(bundle) < 2; i++)
        usleep(20000);
    cr_assert_geq(counter_of(bundle), 2, "the counter never ran");
    oci(&r, "resume", "c1", NULL);
    cr_assert_eq(r.status, 1, "resume of a running container: %s", r.err);
    cr_assert(strstr(r.err, "container not paused"), "%s", r.err);

    oci(&r, "pause", "c1", NULL);
    cr_assert_eq(r.status, 0, "pause: %s", r.err);
    yajl_val s = state_of("c1");
    cr_assert_str_eq(json_get_str(s, "status"), "paused");
    yajl_tree_free(s);
    long frozen = counter_of(bundle);
    usleep(300000);
    cr_assert_eq(counter_of(bundle), frozen, "a paused container went on counting");
    oci(&r, "pause", "c1", NULL);
    cr_assert_eq(r.status, 1, "pause of a paused container: %s", r.err);
    cr_assert(strstr(r.err, "container not running"), "%s", r.err);
    oci(&r, "delete", "c1", NULL);
    cr_assert_eq(r.status, 1, "delete of a paused container: %s", r.err);
    cr_assert(strstr(r.err, "not stopped: paused"), "%s", r.err);

    oci(&r, "resume", "c1", NULL);
    cr_assert_eq(r.status, 0, "resume: %s", r.err);
    s = state_of("c1");
    cr_assert_str_eq(json_get_str(s, "status"), "running");
    yajl_tree_free(s);
    for (int i = 0; i < 200 && counter_of(bundle) <= frozen; i++)
        usleep(20000);
    cr_assert_gt(counter_of(bundle), frozen, "a resumed container does not count");

    oci(&r, "pause", "c1", NULL);
    cr_assert_eq(r.status, 0, "pause again: %s", r.err);
    oci(&r, "kill", "c1", "KILL", NULL);
    cr_assert_eq(r.status, 0, "kill of a paused container: %s", r.err);
    for (int i = 0; i < 250 && pid_running(pid); i++)
        usleep(20000);
    cr_assert(!pid_running(pid), "a paused container outlived KILL");
    s = state_becomes("c1", "stopped");
    yajl_tree_free(s);
    oci(&r, "delete", "c1", NULL);
    cr_assert_eq(r.status, 0, "delete: %s", r.err);
    assert_gone("c1", pid);

    oci_detached(&r, "run", "-d", "--bundle", bundle, "c2", NULL);
    cr_assert_eq(r.status, 0, "run -d: %s", r.err);
    pid = pid_of("c2");
    oci(&r, "pause", "c2", NULL);
    cr_assert_eq(r.status, 0, "pause: %s", r.err);
    oci(&r, "delete", "-f", "c2", NULL);
    cr_assert_eq(r.status, 0, "delete -f of a paused container: %s", r.err);
    assert_gone("c2", pid);
}
