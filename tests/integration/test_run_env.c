/* berth run: the environment (-e, --env-file, PATH/HOSTNAME/HOME) and the image config
 * (Env, Entrypoint, Cmd, WorkingDir, User) merged as docker does. */
#include "harness.h"

#include <string.h>

static void assert_env(const struct h_result *r, const char *name, const char *want)
{
    char *got = h_env(r, name);
    if (!want)
        cr_assert(!got, "%s=%s is set, want it absent\n%s", name, got, r->out);
    else
        cr_assert(got && strcmp(got, want) == 0, "%s=%s, want %s\n%s", name, got ? got : "(unset)",
                  want, r->out);
}

Test(run, env_has_dockers_path_hostname_and_home)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-h", "envhost", H_IMAGE, "/probe", "env", NULL);
    h_assert_status(&r, 0);
    assert_env(&r, "PATH", H_DOCKER_PATH);
    assert_env(&r, "HOSTNAME", "envhost");
    assert_env(&r, "HOME", "/root");
    /* docker sets TERM only with -t */
    assert_env(&r, "TERM", NULL);
    char **vals;
    size_t n = h_get_all(&r, "env", &vals);
    cr_assert(n >= 2 && strncmp(vals[0], "PATH=", 5) == 0 && strncmp(vals[1], "HOSTNAME=", 9) == 0,
              "docker puts PATH then HOSTNAME first:\n%s", r.out);
}

Test(run, env_of_the_caller_does_not_leak_in)
{
    const char *const env[] = {"BERTH_IT_LEAK=should-not-appear", NULL};
    struct h_opts o = {.env = env};
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", H_IMAGE, "/probe", "env", NULL);
    h_assert_status(&r, 0);
    assert_env(&r, "BERTH_IT_LEAK", NULL);
    char **vals;
    size_t n = h_get_all(&r, "env", &vals);
    cr_assert_eq(n, 3, "want exactly PATH, HOSTNAME and HOME:\n%s", r.out);
}

Test(run, env_flag_sets_and_overrides)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-e", "A=1", "--env", "B=two words", "-e", "C=", "-e",
            "PATH=/bin", "-e", "A=last", "-e", "HOME=/elsewhere", H_IMAGE, "/probe", "env", NULL);
    h_assert_status(&r, 0);
    assert_env(&r, "A", "last");
    assert_env(&r, "B", "two words");
    assert_env(&r, "C", "");
    assert_env(&r, "PATH", "/bin");
    assert_env(&r, "HOME", "/elsewhere");
}

Test(run, env_flag_without_value_takes_the_callers_or_is_omitted)
{
    const char *const env[] = {"IT_PASSED=from-caller", NULL};
    struct h_opts o = {.env = env};
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "-e", "IT_PASSED", "-e", "IT_NOT_SET_ANYWHERE", H_IMAGE,
            "/probe", "env", NULL);
    h_assert_status(&r, 0);
    assert_env(&r, "IT_PASSED", "from-caller");
    assert_env(&r, "IT_NOT_SET_ANYWHERE", NULL);
}

Test(run, env_file_is_read_with_dockers_rules)
{
    char *file = h_path("env.list");
    h_write_file(file,
                 "# a comment\n"
                 "\n"
                 "FROM_FILE=1\n"
                 "  INDENTED=yes\n"
                 "WITH_EQUALS=a=b\n"
                 "SPACES=  kept  \n"
                 "IT_PASSED\n"
                 "OVERRIDDEN=file\n",
                 0644);
    const char *const env[] = {"IT_PASSED=from-caller", NULL};
    struct h_opts o = {.env = env};
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "--env-file", file, "-e", "OVERRIDDEN=flag", H_IMAGE, "/probe",
            "env", NULL);
    h_assert_status(&r, 0);
    assert_env(&r, "FROM_FILE", "1");
    assert_env(&r, "INDENTED", "yes");
    assert_env(&r, "WITH_EQUALS", "a=b");
    assert_env(&r, "SPACES", "  kept  ");
    assert_env(&r, "IT_PASSED", "from-caller");
    assert_env(&r, "OVERRIDDEN", "flag");
}

/* ---- --entrypoint and the image config ------------------------------------------------- */

Test(run, entrypoint_flag_runs_before_the_command)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--entrypoint", "/probe", H_IMAGE, "args", "x", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "argv", "/probe args x");
}

Test(run, image_config_env_user_workdir_entrypoint_and_cmd_are_honoured)
{
    h_need_configured_image();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE_CONFIGURED, NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "gid", "1000");
    h_assert_val(&r, "cwd", "/srv/app");
    assert_env(&r, "FROM_IMAGE", "yes");
    assert_env(&r, "PATH", "/usr/bin:/bin:/image/bin");
    assert_env(&r, "HOME", "/home/worker");
}

Test(run, command_replaces_the_image_cmd_and_keeps_its_entrypoint)
{
    h_need_configured_image();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE_CONFIGURED, "args", "more", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "argv", "/probe args more");
}

Test(run, entrypoint_flag_replaces_the_image_entrypoint_and_cmd)
{
    h_need_configured_image();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "--entrypoint", "/bin/echo", H_IMAGE_CONFIGURED, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "\n", "the image Cmd survived --entrypoint: %s", r.out);
}

Test(run, flags_override_the_images_user_workdir_and_env)
{
    h_need_configured_image();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-u", "0", "-w", "/", "-e", "FROM_IMAGE=flag",
            H_IMAGE_CONFIGURED, "id", "cwd", "env", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "0");
    h_assert_val(&r, "cwd", "/");
    assert_env(&r, "FROM_IMAGE", "flag");
    assert_env(&r, "PATH", "/usr/bin:/bin:/image/bin");
}

Test(run, missing_image_workdir_is_created_outside_the_layer)
{
    h_need_configured_image();
    char *layers = h_layers_snapshot();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", H_IMAGE_CONFIGURED, "stat", "/srv/app", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "stat:/srv/app", "dir 0755 0:0 0:0");
    h_assert_nothing_left(layers);
}
