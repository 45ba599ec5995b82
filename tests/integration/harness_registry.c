/* The registry tests' fixtures (test_registry*.c): a registry started by
 * tests/integration/registry.sh in the test's dir, berth's berth.conf and docker config of the
 * test's, and the checks every registry test makes after a pull. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *conf_dir; /* the berth.conf dir reg_start made, under /run */

void reg_fini(void)
{
    if (h_tmp()) {
        _cleanup_free_ char *cmd =
            xasprintf("sh '%s/tests/integration/registry.sh' stop '%s' "
                      ">/dev/null 2>&1",
                      getenv("BERTH_SRC") ? getenv("BERTH_SRC") : ".", h_tmp());
        if (system(cmd) != 0)
            fprintf(stderr, "registry stop failed\n");
    }
    if (conf_dir) {
        _cleanup_free_ char *f = xasprintf("%s/berth.conf", conf_dir);
        unlink(f);
        rmdir(conf_dir);
    }
    h_suite_fini();
}

void reg_script(struct h_result *r, const char *const *args)
{
    const char *src = getenv("BERTH_SRC");
    _cleanup_free_ char *path = xasprintf("%s/tests/integration/registry.sh", src ? src : ".");
    cr_assert(h_exists(path), "%s is missing (set BERTH_SRC to the source tree)", path);
    const char *argv[8] = {"/bin/sh", path};
    size_t n = 2;
    for (; args[n - 2] && n < 7; n++)
        argv[n] = args[n - 2];
    argv[n] = NULL;
    struct h_opts o = {.timeout_s = 120};
    h_execv(r, &o, argv);
    if (strstr(r->out, "missing: ")) {
        _cleanup_free_ char *why = xstrdup(strstr(r->out, "missing: "));
        why[strcspn(why, "\n")] = '\0';
        h_skip("registry fixtures: %s (make deps installs it)", why);
    }
    cr_assert_eq(r->status, 0, "registry.sh %s failed (%d):\n%s%s", args[0], r->status, r->out,
                 r->err);
}

void reg_write_conf(struct reg *g, const char *text)
{
    h_write_file(g->conf, text, 0600);
}

/* The test image built, a registry started in mode, tag pushed as it/busy:latest. */
void reg_start(struct reg *g, const char *mode, const char *tag)
{
    struct h_result r;
    const char *image[] = {"image", h_tmp(), NULL};
    reg_script(&r, image);
    const char *index[] = {"index", h_tmp(), NULL};
    reg_script(&r, index);
    const char *start[] = {strcmp(mode, "fake") ? "start" : "fake", h_tmp(), mode, NULL};
    reg_script(&r, start);
    _cleanup_free_ char *port = h_last_line(r.out);
    snprintf(g->port, sizeof(g->port), "%s", port);
    g->host = xasprintf("127.0.0.1:%s", g->port);
    if (tag) {
        _cleanup_free_ char *dst = xasprintf("it/busy:latest");
        const char *push[] = {"push", h_tmp(), tag, dst, NULL};
        reg_script(&r, push);
    }
    char tmpl[] = "/run/berth-it-reg.XXXXXX";
    cr_assert(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    conf_dir = xstrdup(tmpl);
    g->conf = xasprintf("%s/berth.conf", conf_dir);
    g->docker_config = h_path("docker-config");
    g->root = h_path("root");
    g->env_conf = xasprintf("BERTH_CONF=%s", g->conf);
    g->env_dc = xasprintf("DOCKER_CONFIG=%s", g->docker_config);
    g->env[0] = g->env_conf;
    g->env[1] = g->env_dc;
    g->env[2] = NULL;
    g->o = (struct h_opts){.root = g->root, .env = g->env, .timeout_s = 120};
    if (!strcmp(mode, "tls") || !strcmp(mode, "mtls")) {
        _cleanup_free_ char *c = xasprintf("certs-dirs=%s/certs.d\n", h_tmp());
        reg_write_conf(g, c);
    } else {
        _cleanup_free_ char *c = xasprintf("insecure-registries=%s\n", g->host);
        reg_write_conf(g, c);
    }
}

char *reg_ref(const struct reg *g, const char *path)
{
    return xasprintf("%s/%s", g->host, path);
}

/* Entries of a directory, sorted by readdir order, space-separated ("" when empty). */
char *reg_entries(const char *dir)
{
    DIR *d = opendir(dir);
    char *out = xstrdup("");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *n = xasprintf("%s%s%s", out, *out ? " " : "", e->d_name);
        free(out);
        out = n;
    }
    if (d)
        closedir(d);
    return out;
}

/* After a pull, failed or not: no layout left, and partial/ holds only what is listed. */
void reg_assert_pull_dir_clean(const struct reg *g, const char *partial_want)
{
    _cleanup_free_ char *pull = xasprintf("%s/pull", g->root);
    _cleanup_free_ char *left = reg_entries(pull);
    cr_assert(!strstr(left, "layout-"), "a layout left in pull/: %s", left);
    _cleanup_free_ char *part = xasprintf("%s/pull/partial", g->root);
    _cleanup_free_ char *p = reg_entries(part);
    /* .lock stays: the lock file of later pulls */
    char *lock = strstr(p, ".lock");
    if (lock)
        memmove(lock, lock + 5, strlen(lock + 5) + 1);
    for (char *s = p; *s == ' ';)
        memmove(s, s + 1, strlen(s));
    size_t n = strlen(p);
    while (n && p[n - 1] == ' ')
        p[--n] = '\0';
    cr_assert_str_eq(p, partial_want, "pull/partial holds: %s", p);
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", g->root);
    _cleanup_free_ char *t = reg_entries(tmp);
    cr_assert_str_eq(t, "", "tmp/ holds: %s", t);
}

void reg_assert_no_images(const struct reg *g)
{
    struct h_result r;
    h_berth(&r, &g->o, "images", "-q", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "", "images after a failed pull:\n%s", r.out);
}

void reg_assert_pull_fails(struct h_result *r, const struct reg *g, const char *image,
                           const char *want)
{
    h_berth(r, &g->o, "pull", image, NULL);
    h_assert_status(r, 1);
    h_assert_err_mentions(r, want);
    reg_assert_no_images(g);
    reg_assert_pull_dir_clean(g, "");
}

void reg_assert_runs_hello(const struct reg *g, const char *image, const char *want)
{
    struct h_result r;
    h_berth(&r, &g->o, "run", "--rm", "--pull=never", image, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, want);
}
