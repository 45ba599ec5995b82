/* berth run, bad input: exit 125, a message naming the problem on stderr, nothing on stdout,
 * and nothing left behind — no mount, no state under the runroot, no name, no change to the
 * image layers. */
#include "harness.h"

#include <string.h>

/* Runs berth with args, expects the refusal described above; needle must appear in stderr. */
static void assert_refused(const char *needle, const char *const *args)
{
    char *layers = h_layers_snapshot();
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 125);
    cr_assert(strncmp(r.err, "berth: ", 7) == 0 || strstr(r.err, "\nberth: "),
              "stderr does not start with \"berth: \":\n%s", r.err);
    h_assert_err_mentions(&r, needle);
    cr_assert_str_empty(r.out, "stdout not empty: %s", r.out);
    h_assert_nothing_left(layers);
}

#define REFUSED(needle, ...) assert_refused((needle), (const char *[]){__VA_ARGS__, NULL})

/* "-v <fresh dir>:<rest>" */
static char *volume_from_new_dir(const char *rest)
{
    char *src = h_path("src");
    h_mkdirs(src, 0755);
    char *spec = xasprintf("%s:%s", src, rest);
    free(src);
    return spec;
}

Test(run, unknown_flag_is_refused)
{
    REFUSED("--bogus-flag", "run", "--bogus-flag", H_IMAGE, "/probe", "id");
}

Test(run, unknown_short_flag_is_refused)
{
    REFUSED("-Z", "run", "-Z", H_IMAGE, "/probe", "id");
}

Test(run, flag_missing_its_value_is_refused)
{
    REFUSED("--name", "run", "--name");
}

Test(run, unimplemented_publish_flag_is_refused_not_ignored)
{
    REFUSED("-p", "run", "--rm", "-p", "8080:80", H_IMAGE, "/probe", "id");
}

Test(run, unimplemented_privileged_flag_is_refused_not_ignored)
{
    REFUSED("privileged", "run", "--rm", "--privileged", H_IMAGE, "/probe", "id");
}

Test(run, missing_image_argument_is_refused)
{
    REFUSED("argument", "run", "--rm");
}

Test(run, unknown_image_is_refused)
{
    REFUSED("no/such", "run", "--rm", "no/such:image", "/probe", "id");
}

Test(run, image_without_a_command_is_refused)
{
    /* test/probe:latest is a plain import: no Entrypoint, no Cmd */
    REFUSED("command", "run", "--rm", H_IMAGE);
}

Test(run, relative_mount_destination_is_refused)
{
    char *spec = volume_from_new_dir("relative/dst");
    REFUSED("relative/dst", "run", "--rm", "-v", spec, H_IMAGE, "/probe", "id");
}

Test(run, root_as_mount_destination_is_refused)
{
    char *spec = volume_from_new_dir("/");
    REFUSED("destination", "run", "--rm", "-v", spec, H_IMAGE, "/probe", "id");
}

Test(run, bad_mount_mode_is_refused)
{
    char *spec = volume_from_new_dir("/data:rx");
    REFUSED("rx", "run", "--rm", "-v", spec, H_IMAGE, "/probe", "id");
}

Test(run, named_volume_is_refused_not_ignored)
{
    REFUSED("myvol", "run", "--rm", "-v", "myvol:/data", H_IMAGE, "/probe", "id");
}

Test(run, anonymous_volume_is_refused_not_ignored)
{
    REFUSED("/data", "run", "--rm", "-v", "/data", H_IMAGE, "/probe", "id");
}

Test(run, directory_bind_onto_an_image_file_is_refused)
{
    char *spec = volume_from_new_dir("/etc/passwd");
    REFUSED("/etc/passwd", "run", "--rm", "-v", spec, H_IMAGE, "/probe", "id");
}

Test(run, file_bind_onto_an_image_directory_is_refused)
{
    char *src = h_path("file");
    h_write_file(src, "x", 0644);
    char *spec = xasprintf("%s:/home", src);
    REFUSED("/home", "run", "--rm", "-v", spec, H_IMAGE, "/probe", "id");
}

Test(run, invalid_names_are_refused)
{
    static const char *const names[] = {"a",         "-leading-dash", "_leading_underscore",
                                        "has space", "slash/inside",  "bang!"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        char *flag = xasprintf("--name=%s", names[i]);
        REFUSED("name", "run", "--rm", flag, H_IMAGE, "/probe", "id");
    }
}

Test(run, unknown_user_name_is_refused)
{
    REFUSED("nosuchuser", "run", "--rm", "--user", "nosuchuser", H_IMAGE, "/probe", "id");
}

Test(run, unknown_group_name_in_user_is_refused)
{
    REFUSED("nosuchgroup", "run", "--rm", "--user", "1000:nosuchgroup", H_IMAGE, "/probe", "id");
}

Test(run, out_of_range_users_are_refused)
{
    /* docker's parser takes "1000:" and ":1000"; ids must lie in 0-2147483647 */
    static const struct {
        const char *user, *needle;
    } users[] = {{"-5", "-5"},
                 {"2147483648", "2147483648"},
                 {"4294967296", "4294967296"},
                 {"1000:-1", "-1"}};
    for (size_t i = 0; i < ARRAY_SIZE(users); i++) {
        char *flag = xasprintf("--user=%s", users[i].user);
        REFUSED(users[i].needle, "run", "--rm", flag, H_IMAGE, "/probe", "id");
    }
}

Test(run, unknown_group_add_name_is_refused)
{
    REFUSED("nosuchgroup", "run", "--rm", "--group-add", "nosuchgroup", H_IMAGE, "/probe", "id");
}

Test(run, unknown_capability_to_add_is_refused)
{
    REFUSED("FOO", "run", "--rm", "--cap-add", "FOO", H_IMAGE, "/probe", "id");
}

Test(run, unknown_capability_to_drop_is_refused)
{
    REFUSED("CAP_BOGUS", "run", "--rm", "--cap-drop=CAP_BOGUS", H_IMAGE, "/probe", "id");
}

Test(run, unknown_security_opt_is_refused)
{
    REFUSED("bogus", "run", "--rm", "--security-opt", "bogus=1", H_IMAGE, "/probe", "id");
}

Test(run, bad_no_new_privileges_value_is_refused)
{
    REFUSED("no-new-privileges", "run", "--rm", "--security-opt", "no-new-privileges=maybe",
            H_IMAGE, "/probe", "id");
}

Test(run, relative_workdir_is_refused)
{
    REFUSED("relative", "run", "--rm", "-w", "relative", H_IMAGE, "/probe", "id");
}

Test(run, workdir_on_an_image_file_is_refused)
{
    char *layers = h_layers_snapshot();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-w", "/etc/passwd", H_IMAGE, "/probe", "cwd", NULL);
    cr_assert(r.status == 125 || r.status == 126 || r.status == 127,
              "-w onto a file: exit %d\n%s%s", r.status, r.err, r.out);
    h_assert_err_mentions(&r, "/etc/passwd");
    h_assert_nothing_left(layers);
}

Test(run, missing_env_file_is_refused)
{
    char *file = h_path("no-such.env");
    REFUSED("no-such.env", "run", "--rm", "--env-file", file, H_IMAGE, "/probe", "id");
}

Test(run, bad_net_mode_is_refused)
{
    REFUSED("bridge0", "run", "--rm", "--net=bridge0", H_IMAGE, "/probe", "id");
}

/* run -d starts its monitor before the spec and the image are checked (it execs beside them):
 * refused after that, the monitor sees its socket close and leaves. */

Test(run, detached_run_refused_after_its_monitor_started_leaves_no_monitor)
{
    REFUSED("source must be an absolute path", "run", "-d", "-v", "relative:/data", H_IMAGE,
            "/probe", "id");
    h_assert_no_monitor_left();
}

Test(run, detached_run_of_a_missing_image_leaves_no_monitor)
{
    REFUSED("No such image: no/such:latest", "run", "-d", "--pull=never", "no/such", "/probe",
            "id");
    h_assert_no_monitor_left();
}

/* A --net=host run, Storm's, still starts, and a container with a network of its own is
 * refused, saying which library is missing. */
Test(run, without_libmnl_a_host_network_starts_and_a_network_of_its_own_is_refused)
{
    h_hide_libmnl();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--net=host", H_IMAGE, "/probe", "id", NULL);
    h_assert_status(&r, 0);
    REFUSED("berth needs libmnl.so.0 (Debian: libmnl0)", "run", "--rm", "--net=none", H_IMAGE,
            "/probe", "id");
}
