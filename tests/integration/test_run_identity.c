/* berth run: who the command runs as — --user, --group-add,
 * capabilities (--cap-drop/--cap-add, §3.11) and no-new-privileges.
 * test/probe:latest: worker 1000:1000, alice 1001:1001; extra 2000 (alice), shared 3000
 * (worker, alice). */
#include "harness.h"

#include <string.h>

/* Run the probe with its args as `--user user` (NULL: the default), assert exit 0. */
static void run_as(struct h_result *r, const char *user, const char *const *flags,
                   const char *const *probe_args)
{
    const char *args[48] = {"run", "--rm"};
    size_t n = 2;
    if (user) {
        args[n++] = "--user";
        args[n++] = user;
    }
    for (size_t i = 0; flags && flags[i]; i++)
        args[n++] = flags[i];
    args[n++] = H_IMAGE;
    args[n++] = "/probe";
    for (size_t i = 0; probe_args[i]; i++)
        args[n++] = probe_args[i];
    args[n] = NULL;
    h_berthv(r, NULL, args);
    h_assert_status(r, 0);
}

static const char *const ID[] = {"id", "env", NULL};
static const char *const STATUS[] = {"status", NULL};

static void assert_groups(const struct h_result *r, const char *want)
{
    char *got = h_get(r, "groups");
    cr_assert(h_same_set(got, want), "groups \"%s\", want {%s}", got, want);
}

static void assert_home(const struct h_result *r, const char *want)
{
    char *home = h_env(r, "HOME");
    cr_assert(home && strcmp(home, want) == 0, "HOME=%s, want %s", home, want);
}

/* ---- users and groups ------------------------------------------------------------------ */

Test(run, default_user_is_root_with_its_groups)
{
    struct h_result r;
    run_as(&r, NULL, NULL, ID);
    h_assert_val(&r, "uid", "0");
    h_assert_val(&r, "gid", "0");
    assert_groups(&r, "0");
    assert_home(&r, "/root");
}

Test(run, uid_alone_takes_gid_and_groups_from_the_image)
{
    struct h_result r;
    run_as(&r, "1001", NULL, ID);
    h_assert_val(&r, "uid", "1001");
    h_assert_val(&r, "euid", "1001");
    h_assert_val(&r, "gid", "1001");
    h_assert_val(&r, "egid", "1001");
    assert_groups(&r, "1001 2000 3000");
    assert_home(&r, "/home/alice");
}

Test(run, uid_alone_of_worker_gets_its_one_membership)
{
    struct h_result r;
    run_as(&r, "1000", NULL, ID);
    h_assert_val(&r, "gid", "1000");
    assert_groups(&r, "1000 3000");
    assert_home(&r, "/home/worker");
}

Test(run, user_name_resolves_through_the_images_passwd)
{
    struct h_result r;
    run_as(&r, "alice", NULL, ID);
    h_assert_val(&r, "uid", "1001");
    h_assert_val(&r, "gid", "1001");
    assert_groups(&r, "1001 2000 3000");
}

Test(run, uid_and_gid_get_no_supplementary_groups_from_etc_group)
{
    struct h_result r;
    run_as(&r, "1001:1001", NULL, ID);
    h_assert_val(&r, "uid", "1001");
    h_assert_val(&r, "gid", "1001");
    assert_groups(&r, "1001");
}

Test(run, explicit_gid_replaces_the_passwd_gid)
{
    struct h_result r;
    run_as(&r, "1001:5000", NULL, ID);
    h_assert_val(&r, "gid", "5000");
    h_assert_val(&r, "egid", "5000");
    assert_groups(&r, "5000");
}

Test(run, user_and_group_names_resolve_through_the_image)
{
    struct h_result r;
    run_as(&r, "worker:extra", NULL, ID);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "gid", "2000");
    assert_groups(&r, "2000");
}

Test(run, uid_unknown_to_the_image_runs_with_gid_0_and_home_slash)
{
    struct h_result r;
    run_as(&r, "4242", NULL, ID);
    h_assert_val(&r, "uid", "4242");
    h_assert_val(&r, "gid", "0");
    assert_groups(&r, "0");
    assert_home(&r, "/");
}

Test(run, group_add_numeric_is_added_even_if_unknown)
{
    struct h_result r;
    run_as(&r, "1000:1000", (const char *[]){"--group-add", "7777", "--group-add=1000", NULL}, ID);
    h_assert_val(&r, "gid", "1000");
    assert_groups(&r, "1000 7777");
}

Test(run, group_add_name_resolves_through_the_images_group)
{
    struct h_result r;
    run_as(&r, "1000:1000", (const char *[]){"--group-add", "extra", NULL}, ID);
    assert_groups(&r, "1000 2000");
}

Test(run, group_add_adds_to_the_implicit_memberships)
{
    struct h_result r;
    run_as(&r, "worker", (const char *[]){"--group-add", "7777", NULL}, ID);
    assert_groups(&r, "1000 3000 7777");
}

/* ---- capabilities ---------------------------------------------------------------------- */

static void assert_caps(const struct h_result *r, const char *inh, const char *prm, const char *eff,
                        const char *bnd, const char *amb)
{
    h_assert_val(r, "CapInh", inh);
    h_assert_val(r, "CapPrm", prm);
    h_assert_val(r, "CapEff", eff);
    h_assert_val(r, "CapBnd", bnd);
    h_assert_val(r, "CapAmb", amb);
}

Test(run, root_gets_dockers_default_capabilities)
{
    struct h_result r;
    run_as(&r, NULL, NULL, STATUS);
    assert_caps(&r, H_NO_CAPS, H_DEFAULT_CAPS, H_DEFAULT_CAPS, H_DEFAULT_CAPS, H_NO_CAPS);
}

Test(run, non_root_user_keeps_only_the_bounding_set)
{
    /* docker drops permitted and effective for a non-root user (moby#36587) */
    struct h_result r;
    run_as(&r, "1000:1000", NULL, STATUS);
    assert_caps(&r, H_NO_CAPS, H_NO_CAPS, H_NO_CAPS, H_DEFAULT_CAPS, H_NO_CAPS);
}

Test(run, cap_drop_all_empties_all_five_sets)
{
    struct h_result r;
    run_as(&r, NULL, (const char *[]){"--cap-drop=ALL", NULL}, STATUS);
    assert_caps(&r, H_NO_CAPS, H_NO_CAPS, H_NO_CAPS, H_NO_CAPS, H_NO_CAPS);
}

Test(run, cap_drop_all_empties_all_five_sets_for_a_non_root_user)
{
    struct h_result r;
    run_as(&r, "1001:1001", (const char *[]){"--cap-drop", "all", NULL}, STATUS);
    assert_caps(&r, H_NO_CAPS, H_NO_CAPS, H_NO_CAPS, H_NO_CAPS, H_NO_CAPS);
}

Test(run, cap_drop_removes_one_capability)
{
    struct h_result r;
    run_as(&r, NULL, (const char *[]){"--cap-drop", "CHOWN", NULL}, STATUS);
    assert_caps(&r, H_NO_CAPS, "00000000a80425fa", "00000000a80425fa", "00000000a80425fa",
                H_NO_CAPS);
}

Test(run, cap_add_adds_one_capability_in_any_spelling)
{
    struct h_result r;
    run_as(&r, NULL, (const char *[]){"--cap-add", "SYS_ADMIN", NULL}, STATUS);
    assert_caps(&r, H_NO_CAPS, "00000000a82425fb", "00000000a82425fb", "00000000a82425fb",
                H_NO_CAPS);
    run_as(&r, NULL, (const char *[]){"--cap-add=cap_sys_admin", NULL}, STATUS);
    h_assert_val(&r, "CapEff", "00000000a82425fb");
}

Test(run, cap_drop_all_with_cap_add_keeps_only_the_added)
{
    struct h_result r;
    run_as(&r, NULL, (const char *[]){"--cap-drop=ALL", "--cap-add=NET_BIND_SERVICE", NULL},
           STATUS);
    assert_caps(&r, H_NO_CAPS, "0000000000000400", "0000000000000400", "0000000000000400",
                H_NO_CAPS);
}

Test(run, cap_add_all_gives_the_hosts_full_bounding_set)
{
    struct h_result host, r;
    const char *argv[] = {h_probe_bin(), "status", NULL};
    h_execv(&host, NULL, argv);
    char *bnd = h_get(&host, "CapBnd");
    _cleanup_free_ char *last_text = h_read_file("/proc/sys/kernel/cap_last_cap");
    cr_assert(last_text && bnd);
    unsigned long long full = (2ULL << atoi(last_text)) - 1;
    if (strtoull(bnd, NULL, 16) != full)
        h_skip("the tests run with a reduced bounding set (%s): ALL cannot be granted", bnd);
    run_as(&r, NULL, (const char *[]){"--cap-add=ALL", NULL}, STATUS);
    h_assert_val(&r, "CapBnd", bnd);
    h_assert_val(&r, "CapEff", bnd);
    h_assert_val(&r, "CapInh", H_NO_CAPS);
}

/* ---- no-new-privileges ----------------------------------------------------------------- */

Test(run, no_new_privileges_is_off_by_default)
{
    struct h_result r;
    run_as(&r, NULL, NULL, STATUS);
    h_assert_val(&r, "NoNewPrivs", "0");
}

Test(run, no_new_privileges_sets_nonewprivs)
{
    struct h_result r;
    run_as(&r, NULL, (const char *[]){"--security-opt", "no-new-privileges", NULL}, STATUS);
    h_assert_val(&r, "NoNewPrivs", "1");
    run_as(&r, NULL, (const char *[]){"--security-opt=no-new-privileges=true", NULL}, STATUS);
    h_assert_val(&r, "NoNewPrivs", "1");
}

Test(run, no_new_privileges_false_leaves_it_off)
{
    struct h_result r;
    run_as(&r, NULL, (const char *[]){"--security-opt", "no-new-privileges=false", NULL}, STATUS);
    h_assert_val(&r, "NoNewPrivs", "0");
}

Test(run, setuid_binary_gains_root_without_no_new_privileges)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--user", "1000:1000", H_IMAGE, "/probe-suid", "id", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "euid", "0");
}

Test(run, setuid_binary_gains_nothing_with_no_new_privileges)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--user", "1000:1000", "--security-opt", "no-new-privileges",
            H_IMAGE, "/probe-suid", "id", "status", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "euid", "1000");
    h_assert_val(&r, "CapEff", H_NO_CAPS);
}
