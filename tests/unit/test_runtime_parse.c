/* Parsers and tables of runtime/, mounts/ and cgroup/ that need no root. */
#include "cgroup/cgroup.h"
#include "mounts/mounts.h"
#include "runtime/runtime.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>

Test(names, docker_name_rule)
{
    cr_assert(runtime_name_valid("ab"));
    cr_assert(runtime_name_valid("/8198e1f0-f323-4b9d-8625-e4fd640cd058"));
    cr_assert(runtime_name_valid("a_b.c-d"));
    cr_assert_not(runtime_name_valid("a"), "one character is too short");
    cr_assert_not(runtime_name_valid("_ab"));
    cr_assert_not(runtime_name_valid("a b"));
    cr_assert_not(runtime_name_valid("a/b"));
    cr_assert_not(runtime_name_valid(""));
}

Test(caps, names_are_normalised_like_docker)
{
    struct berr err = {0};
    char *out = NULL;
    cr_assert_eq(runtime_cap_normalize("chown", &out, &err), 0);
    cr_assert_str_eq(out, "CAP_CHOWN");
    free(out);
    cr_assert_eq(runtime_cap_normalize("CAP_SYS_ADMIN", &out, &err), 0);
    cr_assert_str_eq(out, "CAP_SYS_ADMIN");
    free(out);
    cr_assert_eq(runtime_cap_normalize("all", &out, &err), 0);
    cr_assert_str_eq(out, "ALL");
    free(out);
    cr_assert_eq(runtime_cap_normalize("bogus", &out, &err), -1);
    cr_assert_str_eq(err.msg, "unknown capability: \"CAP_BOGUS\"");
    cr_assert_eq(err.kind, BERR_USAGE);
}

Test(volumes, bind_with_mode)
{
    struct mount_bind b = {0};
    struct berr err = {0};
    cr_assert_eq(mounts_parse_volume("/sys/fs/cgroup:/sys/fs/cgroup:ro", &b, &err), 0, "%s",
                 err.msg);
    cr_assert_str_eq(b.source, "/sys/fs/cgroup");
    cr_assert_str_eq(b.dest, "/sys/fs/cgroup");
    cr_assert(b.readonly);
    mount_bind_free(&b);
    cr_assert_eq(mounts_parse_volume("/a//b/:/c/./d/../e:rw", &b, &err), 0, "%s", err.msg);
    cr_assert_str_eq(b.source, "/a/b");
    cr_assert_str_eq(b.dest, "/c/e");
    cr_assert_not(b.readonly);
    mount_bind_free(&b);
}

Test(volumes, bad_specs_are_usage_errors)
{
    static const char *const cases[][2] = {
        {"/a:relative", "must be absolute"},
        {"/a:/", "destination can't be '/'"},
        {"/a:/x/..", "destination can't be '/'"},
        {"named:/x", "source must be an absolute path"},
        {"/a", "SRC:DST"},
        {"/a:/b:ro:extra", "too many colons"},
        {"/a:/b:ro,rw", "invalid mode"},
        {"/a:/b:zz", "invalid mode"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mount_bind b = {0};
        struct berr err = {0};
        cr_assert_eq(mounts_parse_volume(cases[i][0], &b, &err), -1, "%s accepted", cases[i][0]);
        cr_assert_eq(err.kind, BERR_USAGE);
        cr_assert(strstr(err.msg, cases[i][1]), "%s: %s", cases[i][0], err.msg);
    }
}

Test(paths, clean_never_leaves_the_root)
{
    const char *cases[][2] = {
        {"/", "/"},           {"", "/"},
        {"/a/../..", "/"},    {"../../etc", "/etc"},
        {"//a///b/", "/a/b"}, {"/a/./b/../c", "/a/c"},
        {"a", "/a"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = path_clean(cases[i][0]);
        cr_assert_str_eq(p, cases[i][1], "clean(%s)", cases[i][0]);
        free(p);
    }
}

Test(ids, random_ids_are_64_hex_and_short_id_not_numeric)
{
    struct berr err = {0};
    for (int i = 0; i < 200; i++) {
        char id[65];
        cr_assert_eq(random_id(id, &err), 0);
        cr_assert_eq(strlen(id), 64);
        cr_assert_eq(strspn(id, "0123456789abcdef"), 64);
        cr_assert_neq(strspn(id, "0123456789"), 12);
    }
}

static const char hybrid_mountinfo[] =
    "25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "31 25 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "32 31 0:28 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "35 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "36 31 0:32 / /sys/fs/cgroup/systemd rw shared:16 - cgroup cgroup "
    "rw,xattr,name=systemd,release_agent=/x\n"
    "37 31 0:33 / /sys/fs/cgroup/my\\040dir rw shared:17 - cgroup cgroup rw,memory\n";

Test(cgroup, mountinfo_hybrid_host)
{
    struct cgroup_hosts h;
    cgroup_parse_mountinfo(hybrid_mountinfo, &h);
    cr_assert_eq(h.layout, CGROUP_HYBRID);
    cr_assert_eq(h.n, 4);
    cr_assert(h.mounts[0].v2);
    cr_assert_str_eq(h.mounts[1].path, "/sys/fs/cgroup/cpu,cpuacct");
    cr_assert_str_eq(h.mounts[1].controllers, "cpu,cpuacct");
    cr_assert_str_eq(h.mounts[2].controllers, "name=systemd");
    cr_assert_str_eq(h.mounts[3].path, "/sys/fs/cgroup/my dir");
    cgroup_hosts_free(&h);
}

Test(cgroup, mountinfo_incomplete_escape_stays_literal)
{
    struct cgroup_hosts h;
    cgroup_parse_mountinfo("30 1 0:26 / /sys/fs/cgroup/x\\04 rw - cgroup cgroup rw,pids\n", &h);
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.mounts[0].path, "/sys/fs/cgroup/x\\04");
    cgroup_hosts_free(&h);
}

Test(cgroup, mountinfo_pure_v2_and_none)
{
    struct cgroup_hosts h;
    cgroup_parse_mountinfo("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", &h);
    cr_assert_eq(h.layout, CGROUP_V2);
    cr_assert_str_eq(cgroup_layout_name(h.layout), "v2");
    cgroup_hosts_free(&h);
    cgroup_parse_mountinfo("30 1 0:26 / / rw - ext4 /dev/vda rw\n", &h);
    cr_assert_eq(h.layout, CGROUP_NONE);
    cgroup_hosts_free(&h);
}

Test(env, set_env_replaces_in_place)
{
    struct strv env = {0};
    strv_push(&env, "PATH=/bin");
    strv_push(&env, "A=1");
    strv_set_env(&env, "PATH=/usr/bin");
    strv_set_env(&env, "B=2");
    cr_assert_eq(env.n, 3);
    cr_assert_str_eq(env.v[0], "PATH=/usr/bin");
    cr_assert_str_eq(env.v[2], "B=2");
    cr_assert_eq(strv_find_env(&env, "A"), 1);
    cr_assert_eq(strv_find_env(&env, "AB=1"), -1);
    strv_free(&env);
}

static void assert_cloexec_marks_leaked_fds(int (*mark)(int, struct berr *))
{
    int leaked = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
    cr_assert_geq(leaked, 3);
    struct berr err = {0};
    cr_assert_eq(mark(3, &err), 0, "%s", err.msg);
    cr_assert(fcntl(leaked, F_GETFD) & FD_CLOEXEC);
    cr_assert_not(fcntl(0, F_GETFD) & FD_CLOEXEC, "stdin must stay inheritable");
    close(leaked);
}

Test(fds, close_range_marks_every_fd_above_2_cloexec)
{
    assert_cloexec_marks_leaked_fds(mark_cloexec_from);
}

Test(fds, procfs_fallback_marks_every_fd_above_2_cloexec)
{
    assert_cloexec_marks_leaked_fds(mark_cloexec_by_procfs);
}
