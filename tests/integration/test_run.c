/* berth run: the process, its exit status, namespaces, network, hostname and /etc files,
 * container state and stdin. Each test starts real containers of test/probe:latest and reads
 * the facts from inside with the probe. */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

H_SUITE(run);

/* ---- exit status ----------------------------------------------------------------------- */

Test(run, exit_status_of_command_is_passed_through)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "exit", "3", NULL);
    h_assert_status(&r, 3);
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 0);
}

Test(run, exit_status_255_is_passed_through)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/bin/sh", "-c", "exit 255", NULL);
    h_assert_status(&r, 255);
}

Test(run, death_by_signal_exits_128_plus_signal)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "segv", NULL);
    h_assert_status(&r, 128 + SIGSEGV);
}

Test(run, sigkill_from_the_host_exits_137)
{
    _cleanup_free_ char *token = h_path("kill-token");
    const char *args[] = {"run", "--rm", H_IMAGE, "/probe", "sleep", "60", "ls", token, NULL};
    struct h_proc p;
    h_berth_start(&p, NULL, args);
    pid_t pid = h_find_process("/probe", token, 20);
    struct h_result r;
    if (!pid) {
        h_berth_finish(&p, &r);
        cr_assert_fail("the container's probe never appeared\n--- stderr:\n%s", r.err);
    }
    cr_assert_eq(kill(pid, SIGKILL), 0);
    h_berth_finish(&p, &r);
    h_assert_status(&r, 137);
}

Test(run, pid_1_ignores_its_own_sigkill_like_docker)
{
    /* the kernel protects a pid-namespace init from signals sent inside the namespace */
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "kill", "9", "exit", "0", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "kill:9", "survived");
}

Test(run, missing_command_exits_127_with_message)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/no/such/binary", NULL);
    h_assert_status(&r, 127);
    h_assert_err_mentions(&r, "/no/such/binary");
    cr_assert_str_empty(r.out);
}

Test(run, command_not_in_path_exits_127_with_message)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "no-such-command", NULL);
    h_assert_status(&r, 127);
    h_assert_err_mentions(&r, "no-such-command");
}

Test(run, non_executable_command_exits_126_with_message)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/etc/passwd", NULL);
    h_assert_status(&r, 126);
    h_assert_err_mentions(&r, "/etc/passwd");
}

Test(run, directory_as_command_exits_126)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/etc", NULL);
    h_assert_status(&r, 126);
    h_assert_err_mentions(&r, "/etc");
}

Test(run, failed_exec_with_rm_leaves_nothing_behind)
{
    char *layers = h_layers_snapshot();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--name", "gone", H_IMAGE, "/no/such/binary", NULL);
    h_assert_status(&r, 127);
    h_assert_nothing_left(layers);
}

/* ---- the process and its namespaces ---------------------------------------------------- */

Test(run, command_is_pid_1)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "pid", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "pid", "1");
    h_assert_val(&r, "ppid", "0");
}

Test(run, only_the_containers_processes_are_visible)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "ls", "/proc", NULL);
    h_assert_status(&r, 0);
    char *ls = h_get(&r, "ls:/proc");
    cr_assert(ls);
    for (char *save = NULL, *w = strtok_r(ls, " ", &save); w; w = strtok_r(NULL, " ", &save))
        cr_assert(strspn(w, "0123456789") != strlen(w) || strcmp(w, "1") == 0,
                  "pid %s visible in /proc besides 1", w);
}

Test(run, namespaces_differ_from_the_host)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "ns", NULL);
    h_assert_status(&r, 0);
    static const char *const fresh[] = {"mnt", "pid", "uts", "ipc", "net"};
    for (size_t i = 0; i < ARRAY_SIZE(fresh); i++) {
        char key[32];
        snprintf(key, sizeof(key), "ns:%s", fresh[i]);
        char *in = h_get(&r, key), *host = h_host_ns(fresh[i]);
        cr_assert(in && host && strcmp(in, host) != 0, "%s namespace: inside %s, host %s", fresh[i],
                  in, host);
    }
    /* docker uses no user namespace by default */
    char *user = h_host_ns("user");
    h_assert_val(&r, "ns:user", user);
}

Test(run, net_host_shares_only_the_network_namespace)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--net=host", H_IMAGE, "/probe", "ns", NULL);
    h_assert_status(&r, 0);
    char *net = h_host_ns("net");
    h_assert_val(&r, "ns:net", net);
    static const char *const fresh[] = {"mnt", "pid", "uts", "ipc"};
    for (size_t i = 0; i < ARRAY_SIZE(fresh); i++) {
        char key[32];
        snprintf(key, sizeof(key), "ns:%s", fresh[i]);
        char *in = h_get(&r, key), *host = h_host_ns(fresh[i]);
        cr_assert(in && host && strcmp(in, host) != 0, "%s namespace shared with the host",
                  fresh[i]);
    }
}

/* ---- network --------------------------------------------------------------------------- */

Test(run, default_network_has_only_lo_and_it_is_up)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "ifaces", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "ifaces", "lo");
    h_assert_val(&r, "iface:lo", "up");
}

Test(run, net_none_has_only_lo_and_it_is_up)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--net=none", H_IMAGE, "/probe", "ifaces", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "ifaces", "lo");
    h_assert_val(&r, "iface:lo", "up");
}

Test(run, net_host_sees_the_hosts_interfaces)
{
    struct h_result host, r;
    const char *argv[] = {h_probe_bin(), "ifaces", NULL};
    h_execv(&host, NULL, argv);
    char *want = h_get(&host, "ifaces");
    h_berth(&r, NULL, "run", "--rm", "--net", "host", H_IMAGE, "/probe", "ifaces", NULL);
    h_assert_status(&r, 0);
    char *got = h_get(&r, "ifaces");
    cr_assert(h_same_set(got, want), "interfaces inside \"%s\", host \"%s\"", got, want);
}

/* ---- hostname and the /etc files ------------------------------------------------------- */

Test(run, hostname_is_the_short_container_id)
{
    struct h_result r;
    h_berth(&r, NULL, "run", H_IMAGE, "/probe", "hostname", "cat", "/etc/hostname", "env", NULL);
    h_assert_status(&r, 0);
    char *name = h_get(&r, "hostname");
    cr_assert(name && strlen(name) == 12 && strspn(name, "0123456789abcdef") == 12,
              "hostname \"%s\" is not a 12-hex short id", name);
    cr_assert(strspn(name, "0123456789") < 12, "short id %s is all digits", name);
    char *ids = h_state_entries("containers");
    cr_assert(strncmp(ids, name, 12) == 0 && strlen(ids) == 64,
              "hostname %s is not the prefix of the container id \"%s\"", name, ids);
    _cleanup_free_ char *file = xasprintf("%s\\n", name);
    h_assert_val(&r, "cat:/etc/hostname", file);
    char *env = h_env(&r, "HOSTNAME");
    cr_assert(env && strcmp(env, name) == 0, "HOSTNAME=%s, hostname %s", env, name);
}

Test(run, hostname_with_net_host_is_the_hosts)
{
    char host[256];
    gethostname(host, sizeof(host));
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--net=host", H_IMAGE, "/probe", "hostname", "cat",
            "/etc/hostname", "env", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "hostname", host);
    _cleanup_free_ char *file = xasprintf("%s\\n", host);
    h_assert_val(&r, "cat:/etc/hostname", file);
    char *env = h_env(&r, "HOSTNAME");
    cr_assert(env && strcmp(env, host) == 0, "HOSTNAME=%s", env);
}

Test(run, hostname_flag_sets_uts_name_etc_hostname_and_env)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-h", "myhost", H_IMAGE, "/probe", "hostname", "cat",
            "/etc/hostname", "env", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "hostname", "myhost");
    h_assert_val(&r, "cat:/etc/hostname", "myhost\\n");
    char *env = h_env(&r, "HOSTNAME");
    cr_assert(env && strcmp(env, "myhost") == 0, "HOSTNAME=%s", env);
}

Test(run, hostname_flag_is_allowed_with_net_host)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--net=host", "--hostname=other", H_IMAGE, "/probe",
            "hostname", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "hostname", "other");
}

/* The three files docker bind-mounts into /etc: mount points, with the mode and write
 * result that --read-only (or its absence) gives them. */
static void check_etc_files(bool readonly)
{
    struct h_result r;
    static const char *const files[] = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"};
    const char *args[24];
    size_t n = 0;
    args[n++] = "run";
    args[n++] = "--rm";
    if (readonly)
        args[n++] = "--read-only";
    args[n++] = H_IMAGE;
    args[n++] = "/probe";
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        args[n++] = "mount";
        args[n++] = files[i];
        args[n++] = "write";
        args[n++] = files[i];
    }
    args[n] = NULL;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        struct h_mount m;
        cr_assert(h_get_mount(&r, files[i], &m), "%s is not a mount point\n%s", files[i], r.out);
        cr_assert(h_has_word(m.opts, readonly ? "ro" : "rw"), "%s mounted %s", files[i], m.opts);
        _cleanup_free_ char *key = xasprintf("write:%s", files[i]);
        h_assert_val(&r, key, readonly ? "EROFS" : "ok");
    }
}

Test(run, etc_files_are_writable_bind_mounts_without_read_only)
{
    check_etc_files(false);
}

Test(run, etc_files_are_read_only_with_read_only)
{
    check_etc_files(true);
}

Test(run, etc_hosts_maps_localhost)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "cat", "/etc/hosts", "stat",
            "/etc/resolv.conf", NULL);
    h_assert_status(&r, 0);
    char *hosts = h_get(&r, "cat:/etc/hosts");
    cr_assert(hosts && strstr(hosts, "127.0.0.1") && strstr(hosts, "localhost"), "/etc/hosts: %s",
              hosts);
    char *resolv = h_get(&r, "stat:/etc/resolv.conf");
    cr_assert(resolv && strncmp(resolv, "reg ", 4) == 0, "/etc/resolv.conf: %s", resolv);
}

Test(run, net_host_copies_the_hosts_etc_hosts_and_resolv_conf)
{
    struct h_result host, r;
    const char *argv[] = {h_probe_bin(), "cat", "/etc/hosts", "cat", "/etc/resolv.conf", NULL};
    h_execv(&host, NULL, argv);
    h_berth(&r, NULL, "run", "--rm", "--net=host", H_IMAGE, "/probe", "cat", "/etc/hosts", "cat",
            "/etc/resolv.conf", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "cat:/etc/hosts", h_get(&host, "cat:/etc/hosts"));
    h_assert_val(&r, "cat:/etc/resolv.conf", h_get(&host, "cat:/etc/resolv.conf"));
}

/* ---- fds and cwd ----------------------------------------------------------------------- */

Test(run, only_fds_0_1_2_are_open)
{
    /* berth itself is handed an extra open fd, as a careless caller would */
    int leak = open("/dev/null", O_RDONLY);
    struct h_opts o = {.inherit_fd = leak};
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", H_IMAGE, "/probe", "fds", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "fds", "0 1 2");
}

Test(run, only_fds_0_1_2_are_open_for_a_capless_user)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--user=1000:1000", "--cap-drop=ALL", "--security-opt",
            "no-new-privileges", H_IMAGE, "/probe", "fds", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "fds", "0 1 2");
}

/* A caller's ignored signals pass through exec into berth (whose own processes ignore SIGPIPE
 * too): none of them may stay ignored in the container's process, nor anything blocked. */
Test(run, signals_its_caller_ignores_are_not_ignored_in_the_container)
{
    const char *argv[] = {"/bin/sh",
                          "-c",
                          "trap '' HUP INT QUIT USR1 USR2 PIPE TERM; exec \"$@\"",
                          "sh",
                          getenv("BERTH_IT_BERTH"),
                          "--root",
                          h_data_root(),
                          "--runroot",
                          h_runroot(),
                          "run",
                          "--rm",
                          H_IMAGE,
                          "/probe",
                          "status",
                          NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    h_assert_status(&r, 0);
    h_assert_val(&r, "SigIgn", "0000000000000000");
    h_assert_val(&r, "SigBlk", "0000000000000000");
}

Test(run, cwd_defaults_to_root_inside_the_rootfs)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "cwd", "inode", ".", "inode", "/", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "cwd", "/");
    /* getcwd prints "/" for a cwd outside the root too ("(unreachable)" aside): compare inodes */
    char *dot = h_get(&r, "inode:."), *root = h_get(&r, "inode:/");
    cr_assert(dot && root && strcmp(dot, root) == 0, "cwd %s is not the container's root %s", dot,
              root);
}

Test(run, workdir_flag_sets_the_cwd)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-w", "/home/worker", H_IMAGE, "/probe", "cwd", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "cwd", "/home/worker");
    h_berth(&r, NULL, "run", "--rm", "--workdir=/etc/", H_IMAGE, "/probe", "cwd", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "cwd", "/etc");
}

Test(run, missing_workdir_is_created_0755_root_outside_the_image_layer)
{
    char *layers = h_layers_snapshot();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--user=1000", "-w", "/srv/deep/work", H_IMAGE, "/probe",
            "cwd", "stat", "/srv/deep/work", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "cwd", "/srv/deep/work");
    h_assert_val(&r, "stat:/srv/deep/work", "dir 0755 0:0 0:0");
    h_assert_nothing_left(layers);
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/probe", "stat", "/srv", NULL);
    h_assert_val(&r, "stat:/srv", "ENOENT");
}

Test(run, workdir_under_proc_self_fd_does_not_escape)
{
    /* CVE-2024-21626: a leaked host fd must not become the cwd */
    for (int fd = 3; fd <= 8; fd++) {
        char wd[32];
        snprintf(wd, sizeof(wd), "/proc/self/fd/%d", fd);
        struct h_result r;
        h_berth(&r, NULL, "run", "--rm", "-w", wd, H_IMAGE, "/probe", "cwd", NULL);
        if (r.status != 0)
            continue;
        char *cwd = h_get(&r, "cwd");
        cr_assert(cwd && cwd[0] == '/', "-w %s: cwd %s", wd, cwd);
    }
}

/* ---- container state, names, stdin ----------------------------------------------------- */

Test(run, rm_removes_the_containers_state)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--name", "short-lived", H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 0);
    h_assert_nothing_left(NULL);
}

Test(run, without_rm_the_exited_container_is_kept_but_unmounted)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--name", "kept", H_IMAGE, "/probe", "exit", "4", NULL);
    h_assert_status(&r, 4);
    char *ids = h_state_entries("containers");
    cr_assert(strlen(ids) == 64 && strspn(ids, "0123456789abcdef") == 64,
              "containers/ holds \"%s\", want one 64-hex id", ids);
    h_assert_no_mounts_left();
}

Test(run, name_can_be_reused_after_rm)
{
    struct h_result r;
    for (int i = 0; i < 2; i++) {
        h_berth(&r, NULL, "run", "--rm", "--name=reused.name_1", H_IMAGE, "/probe", "exit", "0",
                NULL);
        h_assert_status(&r, 0);
    }
}

Test(run, name_in_use_is_a_conflict)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--name", "taken", H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 0);
    char *before = h_state_entries("containers");
    h_berth(&r, NULL, "run", "--name", "taken", H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "taken");
    h_assert_err_mentions(&r, "already in use");
    cr_assert_str_eq(h_state_entries("containers"), before, "a second container was left");
    h_assert_no_mounts_left();
}

Test(run, name_conflict_creates_no_missing_bind_source)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--name", "taken2", H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 0);
    char *src = h_path("never-made");
    char *vol = h_path("never-made:/data");
    h_berth(&r, NULL, "run", "--name", "taken2", "-v", vol, H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 125);
    cr_assert_not(h_exists(src), "the conflict left %s behind", src);
    free(src);
    free(vol);
}

Test(run, state_records_a_leading_slash_name_once)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--name", "/slashed", H_IMAGE, "/probe", "exit", "0", NULL);
    h_assert_status(&r, 0);
    char *id = h_state_entries("containers");
    cr_assert(*id && !strchr(id, ' '), "want one state entry, have '%s'", id);
    char *path = xasprintf("%s/containers/%s/berth.json", h_runroot(), id);
    char *state = h_read_file(path);
    cr_assert(state && strstr(state, "\"Name\":\"slashed\""), "record: %s", state);
    h_berth(&r, NULL, "inspect", "--format", "{{.Name}}", id, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "/slashed\n");
}

Test(run, stdin_is_passed_with_interactive)
{
    struct h_opts o = {.input = "hello"};
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "-i", H_IMAGE, "/probe", "read", "/dev/stdin", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/dev/stdin", "5");
}

Test(run, stdin_is_empty_without_interactive)
{
    struct h_opts o = {.input = "hello"};
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", H_IMAGE, "/probe", "read", "/dev/stdin", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/dev/stdin", "0");
}

Test(run, stdout_and_stderr_reach_the_caller_separately)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE, "/bin/sh", "-c", "echo out; echo err >&2", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "out\n");
    cr_assert(strstr(r.err, "err\n"), "stderr: %s", r.err);
}

/* ---- the built-in default image -------------------------------------------------------- */

Test(run, default_image_runs_bash)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE_DEFAULT, "bash", "-c", "echo hi", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "hi\n", "stderr: %s", r.err);
}

Test(run, default_image_has_worker_1000)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--user", "worker", H_IMAGE_DEFAULT, "sh", "-c", "id -u",
            NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "1000\n", "stderr: %s", r.err);
}
