/* seccomp/: compiling (unknown names skipped with one warning, the ENOSYS stub), the filter
 * file and its cache (round trip, truncation and damage detected), and the filters' effect,
 * checked by loading them in a forked child. */
#include "seccomp/seccomp.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static const char storm_like[] =
    "# licence\n"
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"
    " {\"names\": [\"read\", \"write\", \"exit\", \"exit_group\", \"getpid\", \"getppid\", "
    "\"no_such_call\", \"rt_sigreturn\", \"another_fake\", \"mmap\", \"munmap\", \"brk\"], "
    "\"action\": \"SCMP_ACT_ALLOW\"},\n"
    " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
    "\"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]},\n"
    " {\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ERRNO\"}\n"
    "]}\n";

static void compile_text(const char *text, uint64_t caps, struct seccomp_filter *f,
                         struct seccomp_report *rep)
{
    struct seccomp_target t = {.caps = caps};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(seccomp_profile_load("t.json", text, strlen(text), &t, &p, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(seccomp_compile(&p, f, rep, &err), 0, "%s", err.msg);
    seccomp_profile_free(&p);
}

Test(seccomp_compile, unknown_names_are_skipped_with_one_warning_line)
{
    struct seccomp_filter f;
    struct seccomp_report rep = {0};
    compile_text(storm_like, 0, &f, &rep);
    cr_assert_eq(rep.skipped.n, 2);
    cr_assert_str_eq(rep.skipped.v[0], "no_such_call");
    cr_assert_str_eq(rep.skipped.v[1], "another_fake");
    cr_assert(f.warning && !strchr(f.warning, '\n'), "one line: %s", f.warning);
    cr_assert(strstr(f.warning, "2 syscall names unknown to libseccomp"), "%s", f.warning);
    cr_assert(strstr(f.warning, "no_such_call another_fake"), "%s", f.warning);
    cr_assert_eq(rep.same_as_default, 1, "getuid's ERRNO(EPERM) is the default action");
    cr_assert_gt(f.len, 0);
    seccomp_filter_free(&f);
    seccomp_report_free(&rep);
}

Test(seccomp_compile, enosys_stub_covers_numbers_above_the_profiles_largest)
{
    struct seccomp_filter f;
    struct seccomp_report rep = {0};
    compile_text(storm_like, 0, &f, &rep);
    /* largest named on x86_64: exit_group (231) */
    cr_assert_eq(rep.enosys.n, 1);
    cr_assert_str_eq(rep.enosys.v[0], "x86_64 > 231");
    seccomp_filter_free(&f);
    seccomp_report_free(&rep);
    /* an allowing default needs no stub */
    compile_text("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
                 "\"action\": \"SCMP_ACT_ERRNO\"}]}",
                 0, &f, &rep);
    cr_assert_eq(rep.enosys.n, 0);
    seccomp_filter_free(&f);
    seccomp_report_free(&rep);
}

/* ---- the filter's effect, in a child ------------------------------------------------------- */

/* Load f in a forked child (no_new_privs) and run one syscall there; its errno (0 for
 * success) comes back as the exit status, 200+N for death by signal N. */
static int errno_under(const struct seccomp_filter *f, long nr, long a0)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* exit_group itself: a sanitizer's _exit would run its leak check under the filter */
        struct berr err = {0};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_filter_load(f, &err) < 0)
            syscall(SYS_exit_group, 199);
        long rc = syscall(nr, a0, 0, 0, 0, 0, 0);
        syscall(SYS_exit_group, rc < 0 ? errno : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

Test(seccomp_compile, filters_behave_as_the_profile_says)
{
    struct seccomp_filter f;
    compile_text(storm_like, 0, &f, NULL);
    cr_assert_eq(errno_under(&f, SYS_getpid, 0), 0);
    cr_assert_eq(errno_under(&f, SYS_getuid, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_personality, 8), 0);
    cr_assert_eq(errno_under(&f, SYS_personality, 0x20000), EPERM);
    cr_assert_eq(errno_under(&f, SYS_close_range, 1000), ENOSYS, "newer than the profile");
    cr_assert_eq(errno_under(&f, SYS_clone3, 0), ENOSYS);
    cr_assert_eq(errno_under(&f, 1000, 0), ENOSYS);
    cr_assert_eq(errno_under(&f, SYS_getcwd, 0), EPERM, "older than the largest: default");
    seccomp_filter_free(&f);
}

Test(seccomp_compile, default_profile_refuses_mount_and_unshare_without_sys_admin)
{
    struct seccomp_filter f;
    /* docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
     * NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP */
    uint64_t caps = UINT64_C(0xa80425fb);
    compile_text(seccomp_default_profile, caps, &f, NULL);
    cr_assert_eq(errno_under(&f, SYS_getpid, 0), 0);
    cr_assert_eq(errno_under(&f, SYS_unshare, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_mount, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_keyctl, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_bpf, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_ptrace, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_reboot, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_init_module, 0), EPERM);
    cr_assert_eq(errno_under(&f, SYS_clone, CLONE_NEWUSER), EPERM);
    cr_assert_eq(errno_under(&f, SYS_clone3, 0), ENOSYS);
    cr_assert_eq(errno_under(&f, 1000, 0), ENOSYS);
    seccomp_filter_free(&f);
    /* with CAP_SYS_ADMIN, unshare(0) is allowed: it succeeds */
    compile_text(seccomp_default_profile, caps | SECCOMP_CAP(21), &f, NULL);
    cr_assert_eq(errno_under(&f, SYS_unshare, 0), 0);
    seccomp_filter_free(&f);
}

/* ---- the file and the cache --------------------------------------------------------------- */

static char *temp_dir(void)
{
    char *d = xstrdup("/tmp/berth-ut-seccomp-XXXXXX");
    cr_assert(mkdtemp(d));
    return d;
}

static void remove_dir(const char *d)
{
    struct berr err = {0};
    remove_tree_at(AT_FDCWD, d, &err);
}

Test(seccomp_cache, filter_file_round_trips)
{
    _cleanup_free_ char *dir = temp_dir();
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct seccomp_filter f, g;
    struct berr err = {0};
    compile_text(storm_like, 0, &f, NULL);
    cr_assert_eq(seccomp_filter_write_at(dfd, "f.bpf", &f, &err), 0, "%s", err.msg);
    cr_assert_eq(seccomp_filter_read_at(dfd, "f.bpf", &g, &err), 0, "%s", err.msg);
    cr_assert_eq(g.len, f.len);
    cr_assert_eq(g.flags, f.flags);
    cr_assert_eq(memcmp(g.insns, f.insns, f.len * sizeof(*f.insns)), 0);
    cr_assert_str_eq(g.warning, f.warning);
    seccomp_filter_free(&g);
    cr_assert_eq(seccomp_filter_read_at(dfd, "missing.bpf", &g, &err), -1);
    cr_assert_eq(err.errnum, ENOENT);
    seccomp_filter_free(&f);
    close(dfd);
    remove_dir(dir);
}

static void damage(const char *path, off_t at, bool truncate_there)
{
    if (truncate_there) {
        cr_assert_eq(truncate(path, at), 0);
        return;
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    char b;
    cr_assert(pread(fd, &b, 1, at) == 1);
    b ^= 0x01;
    cr_assert(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

Test(seccomp_cache, damaged_files_are_detected_never_loaded)
{
    _cleanup_free_ char *dir = temp_dir();
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct seccomp_filter f, g;
    struct berr err = {0};
    compile_text(storm_like, 0, &f, NULL);
    _cleanup_free_ char *path = xasprintf("%s/f.bpf", dir);
    struct {
        off_t at;
        bool truncate;
    } cases[] = {{0, true},   {50, true},   {110, true}, {0, false},
                 {20, false}, {120, false}, {200, false}};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cr_assert_eq(seccomp_filter_write_at(dfd, "f.bpf", &f, &err), 0, "%s", err.msg);
        damage(path, cases[i].at, cases[i].truncate);
        cr_expect_eq(seccomp_filter_read_at(dfd, "f.bpf", &g, &err), -1, "case %zu loaded", i);
        cr_expect(strstr(err.msg, "damaged"), "case %zu: %s", i, err.msg);
    }
    seccomp_filter_free(&f);
    close(dfd);
    remove_dir(dir);
}

Test(seccomp_cache, get_compiles_once_then_reads_and_rebuilds_damage)
{
    _cleanup_free_ char *root = temp_dir();
    struct seccomp_source src = {.name = "t.json", .text = storm_like, .len = strlen(storm_like)};
    struct seccomp_filter f, g;
    struct berr err = {0};
    cr_assert_eq(seccomp_filter_get(root, &src, 0, &f, &err), 0, "%s", err.msg);
    char name[70];
    seccomp_cache_name(&src, 0, name);
    _cleanup_free_ char *path = xasprintf("%s/seccomp/%s", root, name);
    struct stat a, b;
    cr_assert_eq(stat(path, &a), 0, "no cache file %s", path);
    cr_assert(strstr(f.warning, "seccomp profile t.json: 2 syscall names"), "%s", f.warning);

    cr_assert_eq(seccomp_filter_get(root, &src, 0, &g, &err), 0, "%s", err.msg);
    cr_assert_eq(stat(path, &b), 0);
    cr_assert_eq(a.st_ino, b.st_ino, "rewritten on a hit");
    cr_assert_eq(g.len, f.len);
    cr_assert_str_eq(g.warning, f.warning, "the warning survives the cache");
    seccomp_filter_free(&g);

    damage(path, a.st_size - 3, false);
    cr_assert_eq(seccomp_filter_get(root, &src, 0, &g, &err), 0, "%s", err.msg);
    cr_assert_eq(stat(path, &b), 0);
    cr_assert_neq(a.st_ino, b.st_ino, "damaged file not replaced");
    cr_assert_eq(memcmp(g.insns, f.insns, f.len * sizeof(*f.insns)), 0);
    seccomp_filter_free(&g);

    /* other caps or profile bytes: another entry */
    char other[70];
    seccomp_cache_name(&src, SECCOMP_CAP(21), other);
    cr_assert_str_neq(other, name);
    struct seccomp_source builtin = {0};
    seccomp_cache_name(&builtin, 0, other);
    cr_assert_str_neq(other, name);
    seccomp_filter_free(&f);
    remove_dir(root);
}

Test(seccomp_cache, disabling_profile_gives_no_filter_and_no_cache)
{
    _cleanup_free_ char *root = temp_dir();
    struct seccomp_source src = {.name = "t.json", .text = "{}", .len = 2};
    struct seccomp_filter f;
    struct berr err = {0};
    cr_assert_eq(seccomp_filter_get(root, &src, 0, &f, &err), 0, "%s", err.msg);
    cr_assert_eq(f.len, 0);
    cr_assert_eq(seccomp_filter_load(&f, &err), 0, "length 0 loads nothing");
    seccomp_filter_free(&f);
    remove_dir(root);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert(d, "%s: %s", dir, strerror(errno));
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
    cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0, "%s: %s", path, strerror(errno));
}

static char *entry_path(const char *root, const struct seccomp_source *src, uint64_t caps)
{
    char name[70];
    seccomp_cache_name(src, caps, name);
    return xasprintf("%s/seccomp/%s", root, name);
}

static void get_filter(const char *root, const struct seccomp_source *src, uint64_t caps)
{
    struct seccomp_filter f;
    struct berr err = {0};
    cr_assert_eq(seccomp_filter_get(root, src, caps, &f, &err), 0, "%s", err.msg);
    seccomp_filter_free(&f);
}

/* Caps are part of the key: each value is an entry of its own. */
Test(seccomp_cache, writes_evict_the_least_recently_used_beyond_the_limit)
{
    _cleanup_free_ char *root = temp_dir();
    struct seccomp_source src = {.name = "t.json", .text = storm_like, .len = strlen(storm_like)};
    for (uint64_t i = 0; i < SECCOMP_CACHE_MAX; i++)
        get_filter(root, &src, i);
    _cleanup_free_ char *dir = xasprintf("%s/seccomp", root);
    cr_assert_eq(count_entries(dir), SECCOMP_CACHE_MAX, "nothing evicted up to the limit");
    /* entry i last used i seconds after a day ago: 0 is the oldest ... */
    time_t day_ago = time(NULL) - 86400;
    for (uint64_t i = 0; i < SECCOMP_CACHE_MAX; i++) {
        _cleanup_free_ char *p = entry_path(root, &src, i);
        set_mtime(p, day_ago + (time_t)i);
    }
    /* ... until a start uses it: a hit marks it, the file stays the same */
    _cleanup_free_ char *used = entry_path(root, &src, 0);
    struct stat before, after;
    cr_assert_eq(stat(used, &before), 0);
    get_filter(root, &src, 0);
    cr_assert_eq(stat(used, &after), 0);
    cr_assert_eq(after.st_ino, before.st_ino, "a hit rewrote the entry");
    cr_assert_gt(after.st_mtim.tv_sec, day_ago + SECCOMP_CACHE_MAX, "a hit did not mark it used");
    /* a writer that died before its rename, long ago */
    _cleanup_free_ char *stale = xasprintf("%s/.%064d.bpf.tmp.999999", dir, 0);
    int fd = open(stale, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    cr_assert(fd >= 0);
    close(fd);
    set_mtime(stale, day_ago);

    const uint64_t extra = 5;
    for (uint64_t i = SECCOMP_CACHE_MAX; i < SECCOMP_CACHE_MAX + extra; i++)
        get_filter(root, &src, i);
    cr_assert_eq(count_entries(dir), SECCOMP_CACHE_MAX, "the cache grew past its limit");
    cr_assert_eq(access(used, F_OK), 0, "the recently used entry was evicted");
    for (uint64_t i = 1; i < SECCOMP_CACHE_MAX + extra; i++) {
        _cleanup_free_ char *p = entry_path(root, &src, i);
        bool want = i > extra;
        cr_expect_eq(access(p, F_OK) == 0, want, "entry %llu: want %s", (unsigned long long)i,
                     want ? "kept" : "evicted");
    }
    cr_assert_neq(access(stale, F_OK), 0, "a stale temporary file was left");
    remove_dir(root);
}

/* The OCI form (linux.seccomp) as JSON text, parsed. */
static yajl_val parsed(const char *text)
{
    cr_assert(text);
    struct berr err = {0};
    cr_assert_eq(json_check_object(text, strlen(text), &err), 0, "%s: %s", err.msg, text);
    yajl_val v = NULL;
    cr_assert_eq(json_parse(text, &v, &err), 0, "%s", err.msg);
    return v;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* The OCI form (linux.seccomp) is made once per cache key, kept beside the filter, read back
 * as made, and rebuilt when the file is no longer one JSON object. */
Test(seccomp_cache, oci_form_is_cached_beside_the_filter)
{
    _cleanup_free_ char *root = temp_dir();
    struct seccomp_source src = {.name = "t.json", .text = storm_like, .len = strlen(storm_like)};
    struct berr err = {0};
    _cleanup_free_ char *first_text = NULL;
    cr_assert_eq(seccomp_oci_get(root, &src, 0, &first_text, &err), 0, "%s", err.msg);
    yajl_val first = parsed(first_text);
    cr_assert_str_eq(json_get_str(first, "defaultAction"), "SCMP_ACT_ERRNO");
    char name[70];
    seccomp_cache_name(&src, 0, name);
    _cleanup_free_ char *path = xasprintf("%s/seccomp/%.64s.oci.json", root, name);
    struct stat a, b;
    cr_assert_eq(stat(path, &a), 0, "no cached OCI form %s", path);

    char *again = NULL;
    cr_assert_eq(seccomp_oci_get(root, &src, 0, &again, &err), 0, "%s", err.msg);
    cr_assert_eq(stat(path, &b), 0);
    cr_assert_eq(a.st_ino, b.st_ino, "rewritten on a hit");
    cr_assert_str_eq(again, first_text, "read back other than made");
    free(again);

    const char *damaged[] = {"{\"defaultAction\":", "{} {}",           "[]", " {}",
                             "{/* c */}",           "{\"a\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof(damaged) / sizeof(*damaged); i++) {
        write_text(path, damaged[i]);
        cr_assert_eq(stat(path, &a), 0);
        again = NULL;
        cr_assert_eq(seccomp_oci_get(root, &src, 0, &again, &err), 0, "%s", err.msg);
        cr_assert_str_eq(again, first_text, "damaged OCI form %s used", damaged[i]);
        cr_assert_eq(stat(path, &b), 0);
        cr_assert_neq(a.st_ino, b.st_ino, "damaged OCI form %s not replaced", damaged[i]);
        free(again);
    }
    yajl_tree_free(first);
    remove_dir(root);
}

/* One start asks for both at once (seccomp_get): the same filter and OCI form as the two calls
 * give, under the one key, and both read back from the cache the next time. */
Test(seccomp_cache, get_gives_the_filter_and_oci_form_of_the_two_calls)
{
    _cleanup_free_ char *root = temp_dir();
    struct seccomp_source src = {.name = "t.json", .text = storm_like, .len = strlen(storm_like)};
    struct berr err = {0};
    struct seccomp_filter both = {0}, alone = {0};
    char *oci = NULL, *oci_alone = NULL;
    cr_assert_eq(seccomp_get(root, &src, 0, &both, &oci, &err), 0, "%s", err.msg);
    cr_assert(both.len > 0 && oci);
    yajl_val tree = parsed(oci);
    cr_assert(YAJL_IS_ARRAY(json_get(tree, "syscalls")));
    yajl_tree_free(tree);
    char name[70];
    seccomp_cache_name(&src, 0, name);
    _cleanup_free_ char *bpf = xasprintf("%s/seccomp/%s", root, name);
    _cleanup_free_ char *json = xasprintf("%s/seccomp/%.64s.oci.json", root, name);
    struct stat a, b;
    cr_assert_eq(stat(bpf, &a), 0, "no cached filter %s", bpf);
    cr_assert_eq(stat(json, &b), 0, "no cached OCI form %s", json);

    cr_assert_eq(seccomp_filter_get(root, &src, 0, &alone, &err), 0, "%s", err.msg);
    cr_assert_eq(alone.len, both.len);
    cr_assert_eq(memcmp(alone.insns, both.insns, both.len * sizeof(*both.insns)), 0);
    cr_assert_eq(seccomp_oci_get(root, &src, 0, &oci_alone, &err), 0, "%s", err.msg);
    cr_assert_str_eq(oci_alone, oci);
    seccomp_filter_free(&both);
    free(oci);

    cr_assert_eq(seccomp_get(root, &src, 0, &both, &oci, &err), 0, "%s", err.msg);
    struct stat a2, b2;
    cr_assert(stat(bpf, &a2) == 0 && stat(json, &b2) == 0);
    cr_assert(a2.st_ino == a.st_ino && b2.st_ino == b.st_ino, "rewritten on a hit");
    cr_assert_eq(both.len, alone.len);
    cr_assert_str_eq(oci, oci_alone);
    seccomp_filter_free(&both);
    seccomp_filter_free(&alone);
    free(oci);
    free(oci_alone);
    remove_dir(root);
}
