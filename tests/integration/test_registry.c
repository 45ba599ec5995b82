/* berth pull, run --pull, login/logout against a real registry: Debian's docker-registry
 * (distribution 2.8) on 127.0.0.1, started per test by tests/integration/registry.sh with its
 * storage, config and certificates in the test's dir, images pushed by skopeo. berth reads a
 * berth.conf of the test's (BERTH_CONF, in a root-only dir under /run so that conf/'s trust
 * rule holds) and a docker config of the test's (DOCKER_CONFIG). */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static char *conf_dir;

static void reg_fini(void)
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

TestSuite(registry, .init = h_suite_init, .fini = reg_fini, .timeout = 300);

struct reg {
    char port[16];
    char *host; /* 127.0.0.1:PORT */
    char *root; /* berth's data root for this test */
    char *conf, *docker_config;
    char *env_conf, *env_dc;
    const char *env[6];
    struct h_opts o;
};

static void script(struct h_result *r, const char *const *args)
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

static void write_conf(struct reg *g, const char *text)
{
    h_write_file(g->conf, text, 0600);
}

/* The test image built, a registry started in mode, tag pushed as it/busy:latest. */
static void reg_start(struct reg *g, const char *mode, const char *tag)
{
    struct h_result r;
    const char *image[] = {"image", h_tmp(), NULL};
    script(&r, image);
    const char *index[] = {"index", h_tmp(), NULL};
    script(&r, index);
    const char *start[] = {strcmp(mode, "fake") ? "start" : "fake", h_tmp(), mode, NULL};
    script(&r, start);
    _cleanup_free_ char *port = h_last_line(r.out);
    snprintf(g->port, sizeof(g->port), "%s", port);
    g->host = xasprintf("127.0.0.1:%s", g->port);
    if (tag) {
        _cleanup_free_ char *dst = xasprintf("it/busy:latest");
        const char *push[] = {"push", h_tmp(), tag, dst, NULL};
        script(&r, push);
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
        write_conf(g, c);
    } else {
        _cleanup_free_ char *c = xasprintf("insecure-registries=%s\n", g->host);
        write_conf(g, c);
    }
}

static char *ref(const struct reg *g, const char *path)
{
    return xasprintf("%s/%s", g->host, path);
}

/* Entries of a directory, sorted by readdir order, space-separated ("" when empty). */
static char *entries(const char *dir)
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
static void assert_pull_dir_clean(const struct reg *g, const char *partial_want)
{
    _cleanup_free_ char *pull = xasprintf("%s/pull", g->root);
    _cleanup_free_ char *left = entries(pull);
    cr_assert(!strstr(left, "layout-"), "a layout left in pull/: %s", left);
    _cleanup_free_ char *part = xasprintf("%s/pull/partial", g->root);
    _cleanup_free_ char *p = entries(part);
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
    _cleanup_free_ char *t = entries(tmp);
    cr_assert_str_eq(t, "", "tmp/ holds: %s", t);
}

static void assert_no_images(const struct reg *g)
{
    struct h_result r;
    h_berth(&r, &g->o, "images", "-q", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "", "images after a failed pull:\n%s", r.out);
}

static void assert_runs_hello(const struct reg *g, const char *image, const char *want)
{
    struct h_result r;
    h_berth(&r, &g->o, "run", "--rm", "--pull=never", image, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, want);
}

/* ---- plain HTTP ---------------------------------------------------------------------------- */

Test(registry, plain_http_pull_runs_and_records_the_digest)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    _cleanup_free_ char *full = ref(&g, "it/busy:latest");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    cr_assert(!strncmp(r.out, "latest: Pulling from it/busy\n", 29), "%s", r.out);
    cr_assert(strstr(r.out, ": Pull complete\n"), "%s", r.out);
    cr_assert(strstr(r.out, ": Extracting\n"), "%s", r.out);
    _cleanup_free_ char *status = xasprintf("Status: Downloaded newer image for %s\n", full);
    cr_assert(strstr(r.out, status), "%s", r.out);
    _cleanup_free_ char *last = h_last_line(r.out);
    cr_assert_str_eq(last, full);
    char *d = strstr(r.out, "Digest: sha256:");
    cr_assert(d, "%s", r.out);
    _cleanup_free_ char *digest = strndup(d + 8, 71);
    /* images --digests shows the manifest digest pull printed */
    h_berth(&r, &g.o, "images", "--digests", NULL);
    h_assert_status(&r, 0);
    cr_assert(strstr(r.out, digest), "digest %s not in:\n%s", digest, r.out);
    assert_runs_hello(&g, img, "hi from registry\n");
    assert_pull_dir_clean(&g, "");
    /* again: nothing fetched, docker's "up to date" */
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *same = xasprintf("Status: Image is up to date for %s\n", full);
    cr_assert(strstr(r.out, same), "%s", r.out);
    /* -q: the reference alone */
    h_berth(&r, &g.o, "pull", "-q", img, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *q = xasprintf("%s\n", full);
    cr_assert_str_eq(r.out, q);
    /* by digest */
    _cleanup_free_ char *bydigest = xasprintf("%s@%s", img, digest);
    h_berth(&r, &g.o, "pull", bydigest, NULL);
    h_assert_status(&r, 0);
}

Test(registry, run_pull_missing_pulls_and_never_refuses)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "run", "--rm", "--pull=never", img, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 125);
    _cleanup_free_ char *nosuch = xasprintf("No such image: %s:latest", img);
    h_assert_err_mentions(&r, nosuch);
    assert_no_images(&g);
    h_berth(&r, &g.o, "run", "--rm", img, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "hi from registry\n");
    _cleanup_free_ char *unable = xasprintf("Unable to find image '%s:latest' locally\n", img);
    cr_assert(!strncmp(r.err, unable, strlen(unable)), "stderr:\n%s", r.err);
    cr_assert(strstr(r.err, "Status: Downloaded newer image for "), "stderr:\n%s", r.err);
    h_berth(&r, &g.o, "run", "--rm", "--pull=always", img, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 0);
    cr_assert(strstr(r.err, "Status: Image is up to date for "), "stderr:\n%s", r.err);
    h_berth(&r, &g.o, "run", "--rm", "--pull=sometimes", img, NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "invalid pull option: 'sometimes'");
}

Test(registry, create_pulls_a_missing_image_as_run_does)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "create", "--pull=never", img, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 1); /* docker create: the daemon's error as it is */
    _cleanup_free_ char *nosuch =
        xasprintf("Error response from daemon: No such image: %s:latest\n", img);
    cr_assert_str_eq(r.err, nosuch);
    assert_no_images(&g);
    h_berth(&r, &g.o, "create", "--name", "pulled", img, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(r.out_len, 65, "create printed: %s", r.out);
    _cleanup_free_ char *unable = xasprintf("Unable to find image '%s:latest' locally\n", img);
    cr_assert(!strncmp(r.err, unable, strlen(unable)), "stderr:\n%s", r.err);
    cr_assert(strstr(r.err, "Status: Downloaded newer image for "), "stderr:\n%s", r.err);
    h_berth(&r, &g.o, "start", "-a", "pulled", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "hi from registry\n");
    h_berth(&r, &g.o, "rm", "pulled", NULL);
    h_assert_status(&r, 0);
}

/* ---- faults -------------------------------------------------------------------------------- */

Test(registry, registry_killed_mid_layer_then_the_next_pull_resumes_with_a_range)
{
    struct reg g = {0};
    reg_start(&g, "plain", "big");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    /* 1 MB/s for the 8 MiB layer: the registry dies while it streams */
    const char *env[] = {g.env_conf, g.env_dc, "BERTH_MAX_DOWNLOAD_RATE=1000000", NULL};
    struct h_opts slow = g.o;
    slow.env = env;
    const char *args[] = {"--root", g.root, "--runroot", h_runroot(), "pull", img, NULL};
    struct h_proc p;
    h_berth_start(&p, &slow, args);
    _cleanup_free_ char *partial = xasprintf("%s/pull/partial", g.root);
    /* the big layer's partial blob past 1 MB */
    bool grown = false;
    for (int i = 0; i < 200 && !grown; i++) {
        DIR *d = opendir(partial);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            struct stat st;
            _cleanup_free_ char *f = xasprintf("%s/%s", partial, e->d_name);
            if (e->d_name[0] != '.' && stat(f, &st) == 0 && st.st_size > (1 << 20))
                grown = true;
        }
        if (d)
            closedir(d);
        usleep(50000);
    }
    cr_assert(grown, "no partial blob grew past 1 MB");
    struct h_result r;
    const char *stop[] = {"stop", h_tmp(), NULL};
    script(&r, stop);
    h_berth_finish(&p, &r);
    h_assert_status(&r, 1);
    assert_no_images(&g);
    _cleanup_free_ char *left = entries(partial);
    cr_assert(strlen(left) > 64, "the partial blob is gone: %s", left);
    const char *restart[] = {"restart", h_tmp(), NULL};
    script(&r, restart);
    const char *dbg[] = {g.env_conf, g.env_dc, "BERTH_DEBUG=1", NULL};
    struct h_opts o = g.o;
    o.env = dbg;
    h_berth(&r, &o, "pull", img, NULL);
    h_assert_status(&r, 0);
    h_assert_err_mentions(&r, "resuming at");
    _cleanup_free_ char *log = h_path("reg.log");
    _cleanup_free_ char *text = h_read_file(log);
    cr_assert(text && strstr(text, "http.response.status=206"),
              "the registry answered no range request:\n%s", text ? text : "(no log)");
    assert_runs_hello(&g, img, "hi from registry\n");
    assert_pull_dir_clean(&g, "");
}

/* Size of the first file named name under dir's subdirectories' subdirectories (dir/X/Y/name),
 * -1 when none. */
static long long size_under(const char *dir, const char *mid, const char *name)
{
    long long found = -1;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && found < 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *f = xasprintf("%s/%s/%s/%s", dir, e->d_name, mid, name);
        struct stat st;
        if (stat(f, &st) == 0)
            found = st.st_size;
    }
    if (d)
        closedir(d);
    return found;
}

/* The big layer's file is being unpacked while its blob still downloads (1 MB/s), and the
 * layer load then adopts is that unpacking's (the debug line says so) */
Test(registry, layers_unpack_while_they_download)
{
    struct reg g = {0};
    reg_start(&g, "plain", "big");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    const char *env[] = {g.env_conf, g.env_dc, "BERTH_MAX_DOWNLOAD_RATE=1000000", "BERTH_DEBUG=1",
                         NULL};
    struct h_opts slow = g.o;
    slow.env = env;
    const char *args[] = {"--root", g.root, "--runroot", h_runroot(), "pull", img, NULL};
    struct h_proc p;
    h_berth_start(&p, &slow, args);
    _cleanup_free_ char *pull = xasprintf("%s/pull", g.root);
    _cleanup_free_ char *partial = xasprintf("%s/pull/partial", g.root);
    bool overlap = false;
    for (int i = 0; i < 400 && !overlap; i++) {
        /* the blob of 8 MiB of random bytes not yet whole, and its /blob unpacked past 1 MB */
        long long blob = -1;
        DIR *d = opendir(partial);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            struct stat st;
            _cleanup_free_ char *f = xasprintf("%s/%s", partial, e->d_name);
            if (e->d_name[0] != '.' && stat(f, &st) == 0 && st.st_size > blob)
                blob = st.st_size;
        }
        if (d)
            closedir(d);
        DIR *pd = opendir(pull);
        while (pd && !overlap && (e = readdir(pd))) {
            if (!strstr(e->d_name, ".unpack"))
                continue;
            _cleanup_free_ char *u = xasprintf("%s/%s", pull, e->d_name);
            long long file = size_under(u, ".", "blob");
            overlap = file > (1 << 20) && blob > 0 && blob < 8 * (1 << 20);
        }
        if (pd)
            closedir(pd);
        usleep(25000);
    }
    struct h_result r;
    h_berth_finish(&p, &r);
    h_assert_status(&r, 0);
    cr_assert(overlap, "no layer file was unpacked while its blob downloaded");
    h_assert_err_mentions(&r, "unpacked while it downloaded, adopted");
    assert_runs_hello(&g, img, "hi from registry\n");
    assert_pull_dir_clean(&g, "");
}

Test(registry, a_blob_changed_on_the_registry_is_rejected_and_nothing_registered)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    struct h_result r;
    const char *corrupt[] = {"corrupt", h_tmp(), "latest", NULL};
    script(&r, corrupt);
    _cleanup_free_ char *hex = h_last_line(r.out);
    _cleanup_free_ char *img = ref(&g, "it/busy");
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    _cleanup_free_ char *want = xasprintf("verification failed for digest sha256:%s", hex);
    h_assert_err_mentions(&r, want);
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
    _cleanup_free_ char *layers = xasprintf("%s/layers", g.root);
    _cleanup_free_ char *l = entries(layers);
    cr_assert_str_eq(l, "", "layers/ after a rejected pull: %s", l);
    h_berth(&r, &g.o, "run", "--rm", img, "/bin/true", NULL);
    h_assert_status(&r, 125);
}

Test(registry, errors_say_what_failed)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    struct h_result r;
    _cleanup_free_ char *nope = ref(&g, "it/busy:nope");
    h_berth(&r, &g.o, "pull", nope, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "manifest unknown");
    /* a port nothing listens on: the registry's, after it stopped */
    const char *stop[] = {"stop", h_tmp(), NULL};
    script(&r, stop);
    _cleanup_free_ char *img = ref(&g, "it/busy");
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "connection refused");
    h_berth(&r, &g.o, "pull", "nonexistent.invalid/it/busy", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "no such host");
    h_berth(&r, &g.o, "run", "--rm", img, NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "connection refused");
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
}

/* ---- platforms ----------------------------------------------------------------------------- */

Test(registry, an_index_gives_the_host_platform_or_the_one_asked_for)
{
    struct utsname u;
    uname(&u);
    if (strcmp(u.machine, "x86_64"))
        h_skip("the test index has amd64 and arm64 entries; this host is %s", u.machine);
    struct reg g = {0};
    reg_start(&g, "plain", "multi");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    assert_runs_hello(&g, img, "hi from registry\n");
    /* the index's digest is the image's, as docker records it */
    char *d = strstr(r.out, "Digest: sha256:");
    cr_assert(d, "%s", r.out);
    _cleanup_free_ char *digest = strndup(d + 8, 71);
    h_berth(&r, &g.o, "images", "--digests", NULL);
    h_assert_status(&r, 0);
    cr_assert(strstr(r.out, digest), "digest %s not in:\n%s", digest, r.out);
    /* the arm64 entry holds the same (static amd64) busybox and another /hello */
    h_berth(&r, &g.o, "pull", "--platform", "linux/arm64", img, NULL);
    h_assert_status(&r, 0);
    assert_runs_hello(&g, img, "hi from arm\n");
}

Test(registry, an_index_without_the_host_platform_is_refused)
{
    struct utsname u;
    uname(&u);
    if (strcmp(u.machine, "x86_64"))
        h_skip("the test index lacks amd64 only; this host is %s", u.machine);
    struct reg g = {0};
    reg_start(&g, "plain", "armonly");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "no matching manifest for linux/amd64 in the manifest list entries");
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
}

/* ---- TLS ----------------------------------------------------------------------------------- */

Test(registry, tls_with_the_ca_of_a_certs_d_directory)
{
    struct reg g = {0};
    reg_start(&g, "tls", "latest");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    assert_runs_hello(&g, img, "hi from registry\n");
    h_berth(&r, &g.o, "rmi", img, NULL);
    h_assert_status(&r, 0);
    /* without the test CA: refused, naming where berth looked */
    _cleanup_free_ char *empty = h_path("no-certs.d");
    h_mkdirs(empty, 0755);
    _cleanup_free_ char *c = xasprintf("certs-dirs=%s\n", empty);
    write_conf(&g, c);
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "tls:");
    _cleanup_free_ char *looked = xasprintf("%s/%s", empty, g.host);
    h_assert_err_mentions(&r, looked);
    h_assert_err_mentions(&r, "/etc/ssl/certs/ca-certificates.crt");
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
}

/* ---- credentials ----------------------------------------------------------------------------- */

static void login_then_pull(struct reg *g)
{
    _cleanup_free_ char *img = ref(g, "it/busy");
    struct h_result r;
    /* anonymous: refused, saying to log in */
    h_berth(&r, &g->o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "berth login");
    assert_no_images(g);
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
    assert_runs_hello(g, img, "hi from registry\n");
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
    _cleanup_free_ char *img = ref(&g, "it/busy");
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
    _cleanup_free_ char *img = ref(&g, "it/busy");
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

/* registry-mirrors: docker.io's images asked of the mirror first */
Test(registry, docker_io_images_come_from_a_mirror)
{
    struct reg g = {0};
    reg_start(&g, "plain", NULL);
    struct h_result r;
    const char *push[] = {"push", h_tmp(), "latest", "library/busy:latest", NULL};
    script(&r, push);
    _cleanup_free_ char *c = xasprintf("registry-mirrors=http://%s\n", g.host);
    write_conf(&g, c);
    h_berth(&r, &g.o, "pull", "busy", NULL);
    h_assert_status(&r, 0);
    cr_assert(strstr(r.out, "latest: Pulling from library/busy\n"), "%s", r.out);
    cr_assert(strstr(r.out, "Status: Downloaded newer image for busy:latest\n"), "%s", r.out);
    _cleanup_free_ char *last = h_last_line(r.out);
    cr_assert_str_eq(last, "docker.io/library/busy:latest");
    assert_runs_hello(&g, "busy", "hi from registry\n");
}

Test(registry, a_full_disk_fails_clearly_and_leaves_nothing)
{
    struct reg g = {0};
    reg_start(&g, "plain", "big");
    _cleanup_free_ char *mnt = h_path("small");
    h_mkdirs(mnt, 0700);
    const char *mount[] = {"mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mnt, NULL};
    struct h_result r;
    h_execv(&r, NULL, mount);
    if (r.status != 0)
        h_skip("cannot mount a tmpfs here: %s", r.err);
    free(g.root);
    g.root = xasprintf("%s/root", mnt);
    g.o.root = g.root;
    _cleanup_free_ char *img = ref(&g, "it/busy");
    h_berth(&r, &g.o, "pull", img, NULL);
    struct h_result saved = r;
    const char *umount[] = {"umount", "-l", mnt, NULL};
    /* checks first, the unmount after them (a failed assertion leaves it to h_suite_fini) */
    cr_assert_eq(saved.status, 1, "exit %d\n%s%s", saved.status, saved.out, saved.err);
    h_assert_err_mentions(&saved, "no space left on device");
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
    _cleanup_free_ char *layers = xasprintf("%s/layers", g.root);
    _cleanup_free_ char *l = entries(layers);
    cr_assert_str_eq(l, "", "layers/ after ENOSPC: %s", l);
    h_execv(&r, NULL, umount);
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* docker's "Already exists": a layer the store has is not fetched again */
Test(registry, layers_the_store_has_are_not_downloaded_again)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    struct h_result r;
    const char *push[] = {"push", h_tmp(), "arm", "it/busy:arm", NULL};
    script(&r, push);
    _cleanup_free_ char *img = ref(&g, "it/busy");
    _cleanup_free_ char *arm = ref(&g, "it/busy:arm");
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(count(r.out, ": Pull complete\n"), 2, "%s", r.out);
    h_berth(&r, &g.o, "pull", arm, NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(count(r.out, ": Already exists\n"), 1, "%s", r.out);
    cr_assert_eq(count(r.out, ": Pull complete\n"), 1, "%s", r.out);
    cr_assert_eq(count(r.out, ": Pulling fs layer\n"), 1, "%s", r.out);
    assert_runs_hello(&g, arm, "hi from arm\n");
    assert_runs_hello(&g, img, "hi from registry\n");
    assert_pull_dir_clean(&g, "");
}

/* On a terminal: docker's per-layer lines redrawn in place, a bar while downloading. */
Test(registry, a_terminal_gets_redrawn_layer_lines_with_a_bar)
{
    struct reg g = {0};
    reg_start(&g, "plain", "big");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    const char *berth = getenv("BERTH") ? getenv("BERTH") : "build/berth";
    int master;
    struct winsize ws = {.ws_row = 40, .ws_col = 120};
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    cr_assert_geq(pid, 0, "forkpty: %s", strerror(errno));
    if (pid == 0) {
        setenv("BERTH_CONF", g.conf, 1);
        setenv("BERTH_MAX_DOWNLOAD_RATE", "8000000", 1);
        execl(berth, berth, "--root", g.root, "--runroot", h_runroot(), "pull", img, (char *)NULL);
        _exit(127);
    }
    struct h_buf out = {0};
    struct pollfd pfd = {.fd = master, .events = POLLIN};
    for (;;) {
        int n = poll(&pfd, 1, 60000);
        cr_assert_gt(n, 0, "berth pull hangs on a terminal");
        char buf[4096];
        ssize_t got = read(master, buf, sizeof(buf));
        if (got <= 0 && !(got < 0 && errno == EINTR))
            break;
        if (got > 0)
            h_buf_write(NULL, &out, buf, (size_t)got);
    }
    h_buf_write(NULL, &out, "", 1);
    close(master);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d\n%s", st, out.p);
    cr_assert(strstr(out.p, ": Downloading [="), "no bar:\n%s", out.p);
    cr_assert(strstr(out.p, "MB/"), "no sizes:\n%s", out.p);
    cr_assert(strstr(out.p, "\033[2A") || strstr(out.p, "\033[1A"), "no redraw:\n%s", out.p);
    cr_assert(strstr(out.p, ": Pull complete"), "%s", out.p);
    cr_assert(strstr(out.p, "Digest: sha256:"), "%s", out.p);
    free(out.p);
    /* without a terminal: plain lines, no escapes */
    struct h_result r;
    h_berth(&r, &g.o, "rmi", img, NULL);
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    cr_assert(!strchr(r.out, '\033'), "escapes without a terminal:\n%s", r.out);
    cr_assert(!strstr(r.out, "Downloading"), "%s", r.out);
}

Test(registry, a_config_over_the_cap_is_refused_before_it_is_fetched)
{
    struct reg g = {0};
    struct h_result r;
    reg_start(&g, "plain", NULL);
    const char *big[] = {"bigconfig", h_tmp(), NULL};
    script(&r, big);
    const char *push[] = {"pushraw", h_tmp(), "bigcfg", "it/busy", NULL};
    script(&r, push);
    _cleanup_free_ char *img = ref(&g, "it/busy");
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "over berth's cap of 16777216 bytes");
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
}

/* a client pair NAME.cert + NAME.key in the registry's certs.d directory is presented */
Test(registry, tls_client_certificate_from_certs_d)
{
    struct reg g = {0};
    reg_start(&g, "mtls", "latest");
    _cleanup_free_ char *img = ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    assert_runs_hello(&g, img, "hi from registry\n");
    h_berth(&r, &g.o, "rmi", img, NULL);
    h_assert_status(&r, 0);
    /* the CA alone, no client pair: the registry ends the handshake */
    _cleanup_free_ char *cacopy = h_path("ca-only/%s", g.host);
    h_mkdirs(cacopy, 0755);
    _cleanup_free_ char *cmd = xasprintf("cp '%s/ca.crt' '%s/'", h_tmp(), cacopy);
    cr_assert_eq(system(cmd), 0);
    _cleanup_free_ char *c = xasprintf("certs-dirs=%s/ca-only\n", h_tmp());
    write_conf(&g, c);
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "tls:");
    assert_no_images(&g);
}

/* docker's own formats: schema 2 manifests (skopeo writes them when the source is a
 * docker-archive or when asked) and a docker manifest list; and an oci-archive's image */
Test(registry, docker_schema2_manifests_lists_and_archives)
{
    struct utsname u;
    uname(&u);
    if (strcmp(u.machine, "x86_64"))
        h_skip("the test list has amd64 and arm64 entries; this host is %s", u.machine);
    struct reg g = {0};
    reg_start(&g, "plain", NULL);
    struct h_result r;
    static const struct {
        const char *tag, *repo, *how, *hello;
    } cases[] = {
        {"latest", "it/dock:latest", "docker-archive", "hi from registry\n"},
        {"arm", "it/ociarc:latest", "oci-archive", "hi from arm\n"},
        {"multi", "it/dlist:latest", "v2s2", "hi from registry\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *push[] = {"push", h_tmp(), cases[i].tag, cases[i].repo, cases[i].how, NULL};
        script(&r, push);
        _cleanup_free_ char *img = ref(&g, cases[i].repo);
        h_berth(&r, &g.o, "pull", img, NULL);
        h_assert_status(&r, 0);
        assert_runs_hello(&g, img, cases[i].hello);
    }
    /* what the registry holds is docker's media types */
    char *cmd =
        xasprintf("curl -s -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' "
                  "http://%s/v2/it/dlist/manifests/latest",
                  g.host);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    h_execv(&r, NULL, argv);
    cr_assert(strstr(r.out, "application/vnd.docker.distribution.manifest.list.v2+json"), "%s",
              r.out);
    free(cmd);
    cmd = xasprintf("curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                    "http://%s/v2/it/dock/manifests/latest",
                    g.host);
    argv[2] = cmd;
    h_execv(&r, NULL, argv);
    cr_assert(strstr(r.out, "\"application/vnd.docker.distribution.manifest.v2+json\""), "%s",
              r.out);
    free(cmd);
}

Test(registry, a_manifest_over_the_cap_is_refused)
{
    struct reg g = {0};
    reg_start(&g, "fake", NULL);
    _cleanup_free_ char *img = ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "manifest latest: ");
    h_assert_err_mentions(&r, "over the 4194304-byte cap");
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
}

/* 403: the registry (or a proxy before it) refuses this client the repository */
Test(registry, a_403_says_to_log_in_and_leaves_nothing)
{
    struct reg g = {0};
    reg_start(&g, "fake", NULL);
    _cleanup_free_ char *img = ref(&g, "it/denied");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    _cleanup_free_ char *want =
        xasprintf("berth: pull access denied for %s/it/denied, repository "
                  "does not exist or may require 'berth login': denied: requested access to the "
                  "resource is denied\n",
                  g.host);
    cr_assert_str_eq(r.err, want);
    assert_no_images(&g);
    assert_pull_dir_clean(&g, "");
}
