/* berth login, logout and a pull's credentials against a registry with htpasswd or token auth
 * (harness_registry.c's fixtures; the suite is test_registry.c's): config.json entries, and
 * docker's credential helpers asked, stored to and erased through. */
#include "harness.h"

#include <string.h>
#include <sys/stat.h>

/* ---- credentials ----------------------------------------------------------------------------- */

static void login_then_pull(struct reg *g)
{
    _cleanup_free_ char *img = reg_ref(g, "it/busy");
    struct h_result r;
    /* anonymous: refused, saying to log in */
    h_berth(&r, &g->o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "berth login");
    reg_assert_no_images(g);
    /* wrong password */
    struct h_opts in = g->o;
    in.input = "wrong\n";
    h_berth(&r, &in, "login", "-u", "tester", "--password-stdin", g->host, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "incorrect username or password");
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", g->docker_config);
    cr_assert(!h_exists(cfg), "a failed login wrote %s", cfg);
    in.input = "secret\n";
    h_berth(&r, &in, "login", "-u", "tester", "--password-stdin", g->host, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Login Succeeded\n");
    _cleanup_free_ char *text = h_read_file(cfg);
    cr_assert(text && strstr(text, g->host) && strstr(text, "\"auth\": \"dGVzdGVyOnNlY3JldA==\""),
              "config.json:\n%s", text ? text : "(none)");
    struct stat st;
    cr_assert(stat(cfg, &st) == 0 && (st.st_mode & 077) == 0, "config.json mode %o",
              st.st_mode & 07777);
    h_berth(&r, &g->o, "pull", img, NULL);
    h_assert_status(&r, 0);
    reg_assert_runs_hello(g, img, "hi from registry\n");
    h_berth(&r, &g->o, "logout", g->host, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *removing = xasprintf("Removing login credentials for %s\n", g->host);
    cr_assert_str_eq(r.out, removing);
    free(text);
    text = h_read_file(cfg);
    cr_assert(text && !strstr(text, g->host), "config.json after logout:\n%s", text);
    h_berth(&r, &g->o, "rmi", img, NULL);
    h_berth(&r, &g->o, "pull", img, NULL);
    h_assert_status(&r, 1);
}

Test(registry, htpasswd_basic_auth_through_login)
{
    struct reg g = {0};
    reg_start(&g, "htpasswd", "latest");
    login_then_pull(&g);
}

Test(registry, token_auth_through_login)
{
    struct reg g = {0};
    reg_start(&g, "token", "latest");
    login_then_pull(&g);
    /* the token server was asked for the repository's pull scope */
    _cleanup_free_ char *log = h_path("tok.log");
    _cleanup_free_ char *text = h_read_file(log);
    cr_assert(text && strstr(text, "scope=repository%3Ait%2Fbusy%3Apull&") == NULL &&
                  strstr(text, "scope=repository%3Ait%2Fbusy%3Apull\n"),
              "token requests:\n%s", text ? text : "(none)");
}

/* docker-credential-berthtest in the test's bin/: get, store and erase as docker's helpers
 * (get: the server on stdin, JSON out, "credentials not found" when it has none; store: JSON
 * {ServerURL, Username, Secret} on stdin; erase: the server on stdin). It keeps what it was
 * given in helper-stored, and what it was asked in helper-asked (get) and helper-erased. */
static char *fake_helper(void)
{
    _cleanup_free_ char *bin = h_path("bin");
    h_mkdirs(bin, 0755);
    _cleanup_free_ char *helper = h_path("bin/docker-credential-berthtest");
    _cleanup_free_ char *body =
        xasprintf("#!/bin/sh\ncd '%s'\ncase $1 in\n"
                  "get) cat > helper-asked\n"
                  "  if [ -f helper-stored ]; then cat helper-stored; exit 0; fi\n"
                  "  echo 'credentials not found in native keychain'; exit 1 ;;\n"
                  "store) cat > helper-stored ;;\n"
                  "erase) cat > helper-erased; rm -f helper-stored ;;\n"
                  "*) exit 1 ;;\nesac\n",
                  h_tmp());
    h_write_file(helper, body, 0755);
    return xasprintf("PATH=%s:/usr/sbin:/usr/bin:/sbin:/bin", bin);
}

/* credsStore: docker-credential-NAME get, the server on stdin, JSON on stdout */
Test(registry, a_credential_helper_is_asked)
{
    struct reg g = {0};
    reg_start(&g, "htpasswd", "latest");
    _cleanup_free_ char *path = fake_helper();
    _cleanup_free_ char *stored = h_path("helper-stored");
    h_write_file(stored, "{\"ServerURL\":\"x\",\"Username\":\"tester\",\"Secret\":\"secret\"}\n",
                 0600);
    h_mkdirs(g.docker_config, 0700);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", g.docker_config);
    h_write_file(cfg, "{\"auths\": {}, \"credsStore\": \"berthtest\"}", 0600);
    const char *env[] = {g.env_conf, g.env_dc, path, NULL};
    struct h_opts o = g.o;
    o.env = env;
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &o, "pull", img, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *asked = h_path("helper-asked");
    _cleanup_free_ char *server = h_read_file(asked);
    cr_assert(server && !strcmp(server, g.host), "the helper was asked for \"%s\"",
              server ? server : "(not asked)");
}

/* login and logout with a helper configured (credsStore, or credHelpers for this registry):
 * the credentials go to `docker-credential-NAME store`, config.json keeps only an empty auths
 * entry (docker's record that a login was made), logout erases through the helper */
static void login_logout_through_helper(const char *config)
{
    struct reg g = {0};
    reg_start(&g, "htpasswd", "latest");
    _cleanup_free_ char *path = fake_helper();
    h_mkdirs(g.docker_config, 0700);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", g.docker_config);
    _cleanup_free_ char *text0 = xasprintf(config, g.host);
    h_write_file(cfg, text0, 0600);
    const char *env[] = {g.env_conf, g.env_dc, path, NULL};
    struct h_opts o = g.o;
    o.env = env;
    o.input = "secret\n";
    struct h_result r;
    h_berth(&r, &o, "login", "-u", "tester", "--password-stdin", g.host, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Login Succeeded\n");
    _cleanup_free_ char *stored_path = h_path("helper-stored");
    _cleanup_free_ char *stored = h_read_file(stored_path);
    _cleanup_free_ char *want =
        xasprintf("{\"ServerURL\":\"%s\",\"Username\":\"tester\",\"Secret\":\"secret\"}", g.host);
    cr_assert(stored && !strcmp(stored, want), "the helper stored:\n%s",
              stored ? stored : "(none)");
    _cleanup_free_ char *text = h_read_file(cfg);
    _cleanup_free_ char *entry = xasprintf("\"%s\": {", g.host);
    cr_assert(text && strstr(text, entry) && !strstr(text, "\"auth\"") &&
                  !strstr(text, "dGVzdGVyOnNlY3JldA") && strstr(text, "berthtest"),
              "config.json after login:\n%s", text ? text : "(none)");
    /* the pull's credentials come from the helper */
    o.input = NULL;
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    h_berth(&r, &o, "pull", img, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "logout", g.host, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *removing = xasprintf("Removing login credentials for %s\n", g.host);
    cr_assert_str_eq(r.out, removing);
    _cleanup_free_ char *erased_path = h_path("helper-erased");
    _cleanup_free_ char *erased = h_read_file(erased_path);
    cr_assert(erased && !strcmp(erased, g.host), "the helper erased \"%s\"",
              erased ? erased : "(nothing)");
    cr_assert(!h_exists(stored_path), "the helper still holds the credentials");
    free(text);
    text = h_read_file(cfg);
    cr_assert(text && !strstr(text, entry) && strstr(text, "berthtest"),
              "config.json after logout:\n%s", text ? text : "(none)");
    h_berth(&r, &o, "rmi", img, NULL);
    h_berth(&r, &o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "berth login");
}

Test(registry, login_and_logout_go_through_the_creds_store)
{
    login_logout_through_helper("{\"auths\": {}, \"credsStore\": \"berthtest\"}");
}

Test(registry, login_and_logout_go_through_a_cred_helper)
{
    login_logout_through_helper("{\"credHelpers\": {\"%s\": \"berthtest\"}}");
}

/* A helper that ends before reading what berth writes to it (docker-credential-NAME not in
 * PATH: the child's exec fails at once) is an error that names it, never a SIGPIPE that kills
 * berth without a word (exit 141, as seen from a shell or Storm). The race is won by the child
 * often enough that a hundred tries show it. */
Test(registry, a_missing_credential_helper_is_an_error_not_a_sigpipe)
{
    struct reg g = {0};
    reg_start(&g, "plain", NULL);
    h_mkdirs(g.docker_config, 0700);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", g.docker_config);
    h_write_file(cfg, "{\"credsStore\": \"berth-no-such-helper\"}", 0600);
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    for (int i = 0; i < 100; i++) {
        struct h_result r;
        h_berth(&r, &g.o, "pull", img, NULL);
        h_assert_status(&r, 1);
        h_assert_err_mentions(&r, "docker-credential-berth-no-such-helper get: not found in PATH");
    }
    reg_assert_no_images(&g);
}

/* berth ARGS... run as a setuid launcher leaves it: real uid 0, effective uid and gid a user's
 * (nobody), "secret" on stdin. */
static void handed_over(struct h_result *r, const struct reg *g, const char *const *args)
{
    const char *argv[16] = {"/usr/bin/setpriv", "--euid=65534", "--egid=65534", "--clear-groups",
                            getenv("BERTH_IT_BERTH")};
    for (size_t i = 0; args[i] && i + 6 < ARRAY_SIZE(argv); i++)
        argv[5 + i] = args[i];
    struct h_opts o = g->o;
    o.input = "secret\n";
    h_execv(r, &o, argv);
}

/* A caller handed over by a setuid launcher (Storm's worker-launcher) pulls nothing and has no
 * credentials here: pull, login and logout refuse it before asking the registry anything,
 * though the registry would serve anyone, and no config.json is written. */
Test(registry, a_handed_over_caller_cannot_pull_log_in_or_out)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    handed_over(&r, &g, (const char *const[]){"pull", img, NULL});
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "a caller handed over by a setuid launcher cannot pull");
    handed_over(&r, &g,
                (const char *const[]){"login", "-u", "tester", "--password-stdin", g.host, NULL});
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r,
                          "login: a caller handed over by a setuid launcher has no credentials");
    handed_over(&r, &g, (const char *const[]){"logout", g.host, NULL});
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r,
                          "logout: a caller handed over by a setuid launcher has no credentials");
    _cleanup_free_ char *log = h_path("reg.log");
    _cleanup_free_ char *text = h_read_file(log);
    cr_assert(text && !strstr(text, "\"berth/"), "berth asked the registry:\n%s",
              text ? text : "(no log)");
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", g.docker_config);
    cr_assert(!h_exists(cfg), "%s was written", cfg);
    reg_assert_no_images(&g);
}
