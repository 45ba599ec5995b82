/* seccomp inside real containers: Storm's shipped profile (tests/fixtures), berth's default
 * profile, unconfined, each action, the BPF cache, exec, and refused profiles. The probe's
 * `syscall WHAT` answers ok or the errno name; calls are chosen so that the kernel's own answer
 * differs from the filter's (mount on a missing dir is ENOENT unfiltered, unshare(0) succeeds
 * without any capability). */
#include "harness.h"
#include "seccomp/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

H_SUITE(seccomp);

static char *storm_profile(void)
{
    const char *dir = getenv("BERTH_IT_FIXTURES");
    char *rel = xasprintf("%s/storm-seccomp.json.example", dir ? dir : "tests/fixtures");
    char *abs = realpath(rel, NULL);
    cr_assert(abs, "fixture %s: %s (run from the repository root)", rel, strerror(errno));
    free(rel);
    return abs;
}

static char *storm_opt(void)
{
    char *p = storm_profile();
    char *o = xasprintf("seccomp=%s", p);
    free(p);
    return o;
}

/* berth run --rm FLAGS... test/probe /probe PROBE_ARGS... */
static void run_probe(struct h_result *r, const char *const *flags, const char *const *probe)
{
    const char *args[48] = {"run", "--rm"};
    size_t n = 2;
    for (; flags && *flags; flags++)
        args[n++] = *flags;
    args[n++] = H_IMAGE;
    args[n++] = "/probe";
    for (; *probe; probe++)
        args[n++] = *probe;
    args[n] = NULL;
    h_berthv(r, NULL, args);
}

#define FLAGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- Storm's profile, as Storm runs it: --cap-drop=ALL, no-new-privileges ---------------- */

Test(seccomp, storm_profile_filters_and_threads_run)
{
    _cleanup_free_ char *opt = storm_opt();
    struct h_result r;
    run_probe(&r,
              FLAGS("--cap-drop=ALL", "--security-opt", "no-new-privileges", "--security-opt", opt),
              FLAGS("status", "syscall", "thread", "syscall", "clone3", "syscall", "clone",
                    "syscall", "nr:1000", "cwd"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "Seccomp", "2");
    h_assert_val(&r, "NoNewPrivs", "1");
    h_assert_val(&r, "syscall:thread", "ok");
    h_assert_val(&r, "syscall:clone3", "ENOSYS");
    h_assert_val(&r, "syscall:clone", "ok");
    h_assert_val(&r, "syscall:nr:1000", "ENOSYS");
    h_assert_val(&r, "cwd", "/");
}

/* With CAP_SYS_ADMIN the kernel would allow both: what refuses is the profile's clone rule,
 * and its allow list lets unshare through. */
Test(seccomp, storm_profile_refuses_namespace_flags_on_clone_and_allows_unshare)
{
    _cleanup_free_ char *opt = storm_opt();
    struct h_result r;
    run_probe(&r, FLAGS("--cap-add=SYS_ADMIN", "--security-opt", opt),
              FLAGS("status", "syscall", "clone_newns", "syscall", "unshare_newns"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "Seccomp", "2");
    h_assert_val(&r, "syscall:clone_newns", "EPERM");
    h_assert_val(&r, "syscall:unshare_newns", "ok");
}

Test(seccomp, storm_profile_personality_follows_its_argument_rules)
{
    _cleanup_free_ char *opt = storm_opt();
    struct h_result r;
    run_probe(&r,
              FLAGS("--cap-drop=ALL", "--security-opt", "no-new-privileges", "--security-opt", opt),
              FLAGS("syscall", "personality:0xffffffff", "syscall", "personality:0x20000",
                    "syscall", "personality:0x8", "syscall", "personality:0"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "syscall:personality:0xffffffff", "ok");
    h_assert_val(&r, "syscall:personality:0x20000", "EPERM");
    h_assert_val(&r, "syscall:personality:0x8", "ok");
    h_assert_val(&r, "syscall:personality:0", "ok");
}

/* ---- berth's default profile and unconfined --------------------------------------------- */

Test(seccomp, default_profile_refuses_mount_and_unshare)
{
    struct h_result r;
    run_probe(&r, NULL,
              FLAGS("status", "syscall", "mount_missing", "syscall", "unshare0", "syscall",
                    "unshare_newns", "syscall", "clone_newns", "syscall", "clone3", "syscall",
                    "thread"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "Seccomp", "2");
    h_assert_val(&r, "syscall:mount_missing", "EPERM");
    h_assert_val(&r, "syscall:unshare0", "EPERM");
    h_assert_val(&r, "syscall:unshare_newns", "EPERM");
    h_assert_val(&r, "syscall:clone_newns", "EPERM");
    h_assert_val(&r, "syscall:clone3", "ENOSYS");
    h_assert_val(&r, "syscall:thread", "ok");
}

Test(seccomp, default_profile_follows_cap_sys_admin)
{
    struct h_result r;
    run_probe(&r, FLAGS("--cap-add=SYS_ADMIN"),
              FLAGS("status", "syscall", "mount_missing", "syscall", "unshare_newns"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "Seccomp", "2");
    h_assert_val(&r, "syscall:mount_missing", "ENOENT");
    h_assert_val(&r, "syscall:unshare_newns", "ok");
}

Test(seccomp, unconfined_has_no_filter)
{
    struct h_result r;
    run_probe(&r, FLAGS("--security-opt", "seccomp=unconfined"),
              FLAGS("status", "syscall", "mount_missing", "syscall", "unshare0"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "Seccomp", "0");
    h_assert_val(&r, "syscall:mount_missing", "ENOENT");
    h_assert_val(&r, "syscall:unshare0", "ok");
}

/* ---- each action ---------------------------------------------------------------------------- */

static char *actions_profile(void)
{
    char *path = h_path("actions.json");
    h_write_file(path,
                 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                 " {\"names\": [\"syncfs\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},\n"
                 " {\"names\": [\"sched_yield\"], \"action\": \"SCMP_ACT_LOG\"},\n"
                 " {\"names\": [\"times\"], \"action\": \"SCMP_ACT_TRACE\"},\n"
                 " {\"names\": [\"sync\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},\n"
                 " {\"names\": [\"acct\"], \"action\": \"SCMP_ACT_TRAP\"},\n"
                 " {\"names\": [\"getpriority\"], \"action\": \"SCMP_ACT_KILL\"}\n"
                 "]}\n",
                 0644);
    char *opt = xasprintf("seccomp=%s", path);
    free(path);
    return opt;
}

Test(seccomp, each_action_behaves_as_named)
{
    _cleanup_free_ char *opt = actions_profile();
    struct h_result r;
    /* syncfs(0) ERRNO 13; sched_yield LOG: runs; times TRACE without a tracer: ENOSYS */
    run_probe(&r, FLAGS("--security-opt", opt),
              FLAGS("syscall", "nr:306", "syscall", "nr:24", "syscall", "nr:100"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "syscall:nr:306", "EACCES");
    h_assert_val(&r, "syscall:nr:24", "ok");
    h_assert_val(&r, "syscall:nr:100", "ENOSYS");
    /* sync KILL_PROCESS, acct TRAP, getpriority KILL (a thread, here the only one): SIGSYS */
    const char *deadly[] = {"nr:162", "nr:163", "nr:140"};
    for (size_t i = 0; i < ARRAY_SIZE(deadly); i++) {
        run_probe(&r, FLAGS("--security-opt", opt), FLAGS("syscall", deadly[i]));
        h_assert_status(&r, 128 + 31);
        cr_assert(!h_get(&r, "syscall"), "%s returned: %s", deadly[i], r.out);
    }
}

/* ---- the cache ---------------------------------------------------------------------------- */

/* Storm's profile with a comment of this test's own, so that its cache entry is new. */
static char *unique_profile(char **text_out, size_t *len_out)
{
    _cleanup_free_ char *storm = storm_profile();
    char *text = h_read_file(storm);
    cr_assert(text);
    /* a unique top-level field: unknown fields are ignored, as Go's encoding/json does */
    char *brace = strchr(text, '{');
    cr_assert(brace);
    char *u =
        xasprintf("%.*s{\"berthTest\": \"%s\",%s", (int)(brace - text), text, h_tmp(), brace + 1);
    free(text);
    char *path = h_path("profile.json");
    h_write_file(path, u, 0644);
    *len_out = strlen(u);
    *text_out = u;
    return path;
}

static char *cache_file(const char *text, size_t len, uint64_t caps)
{
    struct seccomp_source src = {.name = "x", .text = text, .len = len};
    char name[70];
    seccomp_cache_name(&src, caps, name);
    return xasprintf("%s/seccomp/%s", h_data_root(), name);
}

static void run_cached(const char *opt)
{
    struct h_result r;
    run_probe(&r,
              FLAGS("--cap-drop=ALL", "--security-opt", "no-new-privileges", "--security-opt", opt),
              FLAGS("status", "syscall", "clone3"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "Seccomp", "2");
    h_assert_val(&r, "syscall:clone3", "ENOSYS");
}

Test(seccomp, cache_is_used_on_the_second_start_and_rebuilt_when_damaged)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    _cleanup_free_ char *path = unique_profile(&text, &len);
    _cleanup_free_ char *opt = xasprintf("seccomp=%s", path);
    _cleanup_free_ char *cache = cache_file(text, len, 0);
    cr_assert(!h_exists(cache), "%s exists before the first start", cache);

    run_cached(opt);
    struct stat first, second, third;
    cr_assert(stat(cache, &first) == 0, "no cache file %s after the first start", cache);
    sleep(1); /* a rewrite would show in the mtime */
    run_cached(opt);
    cr_assert(stat(cache, &second) == 0);
    cr_assert(first.st_ino == second.st_ino && first.st_mtim.tv_sec == second.st_mtim.tv_sec &&
                  first.st_mtim.tv_nsec == second.st_mtim.tv_nsec,
              "the cache file was rewritten on the second start");

    /* truncated: rebuilt, not loaded */
    cr_assert(truncate(cache, first.st_size / 2) == 0);
    run_cached(opt);
    cr_assert(stat(cache, &third) == 0);
    cr_assert_eq(third.st_size, first.st_size, "truncated cache file not rebuilt");

    /* same length, one instruction changed: the checksum catches it */
    int fd = open(cache, O_RDWR | O_CLOEXEC);
    cr_assert(fd >= 0);
    char byte;
    cr_assert(pread(fd, &byte, 1, first.st_size - 40) == 1);
    byte ^= 0x5a;
    cr_assert(pwrite(fd, &byte, 1, first.st_size - 40) == 1);
    close(fd);
    ino_t damaged = third.st_ino;
    run_cached(opt);
    cr_assert(stat(cache, &third) == 0);
    cr_assert_neq(third.st_ino, damaged, "damaged cache file not replaced");
    unlink(cache);
}

/* ---- exec, inspect, warnings, refusals --------------------------------------------------------
 */

Test(seccomp, exec_runs_under_the_containers_filter)
{
    _cleanup_free_ char *opt = storm_opt();
    const char *names[] = {"sc-storm", "sc-unconfined"};
    const char *opts[] = {opt, "seccomp=unconfined"};
    const char *want[] = {"2", "0"};
    for (int i = 0; i < 2; i++) {
        struct h_result r;
        h_berth(&r, NULL, "run", "-d", "--name", names[i], "--security-opt", opts[i], H_IMAGE,
                "/probe", "sleep", "120", NULL);
        h_assert_status(&r, 0);
        h_berth(&r, NULL, "exec", names[i], "/probe", "status", "syscall", "clone3", NULL);
        h_assert_status(&r, 0);
        h_assert_val(&r, "Seccomp", want[i]);
        if (i == 0)
            h_assert_val(&r, "syscall:clone3", "ENOSYS");
        h_berth(&r, NULL, "inspect", "--format", "{{json .HostConfig.SecurityOpt}}", names[i],
                NULL);
        h_assert_status(&r, 0);
        cr_assert(strstr(r.out, opts[i]), "SecurityOpt does not show %s: %s", opts[i], r.out);
        h_berth(&r, NULL, "rm", "-f", names[i], NULL);
        h_assert_status(&r, 0);
    }
}

Test(seccomp, unknown_names_are_skipped_with_one_warning)
{
    char *path = h_path("unknown.json");
    h_write_file(path,
                 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
                 " {\"names\": [\"no_such_call_1\", \"syncfs\", \"no_such_call_2\"],\n"
                 "  \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}\n",
                 0644);
    _cleanup_free_ char *opt = xasprintf("seccomp=%s", path);
    free(path);
    struct h_result r;
    run_probe(&r, FLAGS("--security-opt", opt), FLAGS("syscall", "nr:306"));
    h_assert_status(&r, 0);
    h_assert_val(&r, "syscall:nr:306", "EACCES");
    h_assert_err_mentions(&r, "no_such_call_1 no_such_call_2");
    char *first = strstr(r.err, "skipped");
    cr_assert(first && !strstr(first + 1, "skipped"), "not one warning line:\n%s", r.err);
}

static void assert_refused(const char *needle, const char *opt)
{
    char *layers = h_layers_snapshot();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--name", "sc-refused", "--security-opt", opt, H_IMAGE,
            "/probe", "id", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, needle);
    cr_assert_str_empty(r.out, "stdout not empty: %s", r.out);
    h_assert_nothing_left(layers);
}

Test(seccomp, malformed_profile_is_refused_with_line_and_column)
{
    char *path = h_path("bad.json");
    h_write_file(path,
                 "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
                 "  \"syscalls\": [{\"names\": [\"read\"] \"action\": \"SCMP_ACT_ALLOW\"}]\n}\n",
                 0644);
    _cleanup_free_ char *opt = xasprintf("seccomp=%s", path);
    _cleanup_free_ char *where = xasprintf("%s: line 3, column 35", path);
    free(path);
    assert_refused(where, opt);
}

Test(seccomp, bad_action_and_missing_file_are_refused)
{
    char *path = h_path("action.json");
    h_write_file(path,
                 "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], "
                 "\"action\": \"SCMP_ACT_MAYBE\"}]}",
                 0644);
    _cleanup_free_ char *opt = xasprintf("seccomp=%s", path);
    _cleanup_free_ char *where =
        xasprintf("%s: line 1, column 80: syscalls[0].action: unknown action SCMP_ACT_MAYBE", path);
    free(path);
    assert_refused(where, opt);
    assert_refused("opening seccomp profile", "seccomp=/nonexistent/profile.json");
}

/* ---- a failed execve under a profile that refuses the failure report ---------------------- */

/* Everything but execve and exit_group fails with EPERM: once the filter is on (last, with
 * no_new_privs), the init cannot send its report over the sync socket. */
static char *exec_only_opt(void)
{
    char *path = h_path("exec-only.json");
    h_write_file(path,
                 "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
                 " {\"names\": [\"execve\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}]}\n",
                 0644);
    char *opt = xasprintf("seccomp=%s", path);
    free(path);
    return opt;
}

static void run_exec_only(struct h_result *r, const char *opt, const char *const *extra,
                          const char *cmd)
{
    const char *args[16] = {"run", "--rm", "--security-opt", "no-new-privileges", "--security-opt",
                            opt};
    size_t n = 6;
    for (; extra && *extra; extra++)
        args[n++] = *extra;
    args[n++] = H_IMAGE;
    args[n++] = cmd;
    args[n] = NULL;
    h_berthv(r, NULL, args);
}

Test(seccomp, failed_exec_under_a_profile_refusing_the_report_exits_as_docker_with_its_message)
{
    _cleanup_free_ char *opt = exec_only_opt();
    static const struct {
        const char *cmd;
        int status;
        const char *message;
    } cases[] = {
        {"nosuch", 127, "exec: \"nosuch\": executable file not found in $PATH"},
        {"/no/such/binary", 127, "exec: \"/no/such/binary\": no such file or directory"},
        {"/etc/passwd", 126, "exec: \"/etc/passwd\": permission denied"},
        {"/etc", 126, "exec: \"/etc\": is a directory"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct h_result r;
        run_exec_only(&r, opt, NULL, cases[i].cmd);
        h_assert_status(&r, cases[i].status);
        h_assert_err_mentions(&r, cases[i].message);
        cr_assert_str_empty(r.out, "%s: stdout not empty: %s", cases[i].cmd, r.out);
    }
}

/* A file that execve itself refuses (ENOEXEC) can only fail after the filter is on: the
 * report is lost, the exit code is still docker's. */
Test(seccomp, exec_format_error_under_a_profile_refusing_the_report_still_exits_126)
{
    _cleanup_free_ char *opt = exec_only_opt();
    _cleanup_free_ char *garbage = h_path("garbage");
    h_write_file(garbage, "neither ELF nor a script\n", 0755);
    _cleanup_free_ char *vol = xasprintf("%s:/garbage:ro", garbage);
    struct h_result r;
    run_exec_only(&r, opt, FLAGS("-v", vol), "/garbage");
    h_assert_status(&r, 126);
    /* unfiltered, the message arrives */
    h_berth(&r, NULL, "run", "--rm", "-v", vol, H_IMAGE, "/garbage", NULL);
    h_assert_status(&r, 126);
    h_assert_err_mentions(&r, "exec: \"/garbage\": exec format error");
}
