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

TestSuite(registry, .init = h_suite_init, .fini = reg_fini, .timeout = 300);

/* ---- plain HTTP ---------------------------------------------------------------------------- */

Test(registry, plain_http_pull_runs_and_records_the_digest)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    _cleanup_free_ char *full = reg_ref(&g, "it/busy:latest");
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
    reg_assert_runs_hello(&g, img, "hi from registry\n");
    reg_assert_pull_dir_clean(&g, "");
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
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "run", "--rm", "--pull=never", img, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 125);
    _cleanup_free_ char *nosuch = xasprintf("No such image: %s:latest", img);
    h_assert_err_mentions(&r, nosuch);
    reg_assert_no_images(&g);
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
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "create", "--pull=never", img, "/bin/cat", "/hello", NULL);
    h_assert_status(&r, 1); /* docker create: the daemon's error as it is */
    _cleanup_free_ char *nosuch =
        xasprintf("Error response from daemon: No such image: %s:latest\n", img);
    cr_assert_str_eq(r.err, nosuch);
    reg_assert_no_images(&g);
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
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
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
    reg_script(&r, stop);
    h_berth_finish(&p, &r);
    h_assert_status(&r, 1);
    reg_assert_no_images(&g);
    _cleanup_free_ char *left = reg_entries(partial);
    cr_assert(strlen(left) > 64, "the partial blob is gone: %s", left);
    const char *restart[] = {"restart", h_tmp(), NULL};
    reg_script(&r, restart);
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
    reg_assert_runs_hello(&g, img, "hi from registry\n");
    reg_assert_pull_dir_clean(&g, "");
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
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
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
    reg_assert_runs_hello(&g, img, "hi from registry\n");
    reg_assert_pull_dir_clean(&g, "");
}

Test(registry, a_blob_changed_on_the_registry_is_rejected_and_nothing_registered)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    struct h_result r;
    const char *corrupt[] = {"corrupt", h_tmp(), "latest", NULL};
    reg_script(&r, corrupt);
    _cleanup_free_ char *hex = h_last_line(r.out);
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    _cleanup_free_ char *want = xasprintf("verification failed for digest sha256:%s", hex);
    reg_assert_pull_fails(&r, &g, img, want);
    _cleanup_free_ char *layers = xasprintf("%s/layers", g.root);
    _cleanup_free_ char *l = reg_entries(layers);
    cr_assert_str_eq(l, "", "layers/ after a rejected pull: %s", l);
    h_berth(&r, &g.o, "run", "--rm", img, "/bin/true", NULL);
    h_assert_status(&r, 125);
}

Test(registry, errors_say_what_failed)
{
    struct reg g = {0};
    reg_start(&g, "plain", "latest");
    struct h_result r;
    _cleanup_free_ char *nope = reg_ref(&g, "it/busy:nope");
    h_berth(&r, &g.o, "pull", nope, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "manifest unknown");
    /* a port nothing listens on: the registry's, after it stopped */
    const char *stop[] = {"stop", h_tmp(), NULL};
    reg_script(&r, stop);
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "connection refused");
    h_berth(&r, &g.o, "pull", "nonexistent.invalid/it/busy", NULL);
    h_assert_status(&r, 1);
    h_assert_err_mentions(&r, "no such host");
    h_berth(&r, &g.o, "run", "--rm", img, NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "connection refused");
    reg_assert_no_images(&g);
    reg_assert_pull_dir_clean(&g, "");
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
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    reg_assert_runs_hello(&g, img, "hi from registry\n");
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
    reg_assert_runs_hello(&g, img, "hi from arm\n");
}

Test(registry, an_index_without_the_host_platform_is_refused)
{
    struct utsname u;
    uname(&u);
    if (strcmp(u.machine, "x86_64"))
        h_skip("the test index lacks amd64 only; this host is %s", u.machine);
    struct reg g = {0};
    reg_start(&g, "plain", "armonly");
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    reg_assert_pull_fails(&r, &g, img,
                          "no matching manifest for linux/amd64 in the manifest list entries");
}

/* ---- TLS ----------------------------------------------------------------------------------- */

Test(registry, tls_with_the_ca_of_a_certs_d_directory)
{
    struct reg g = {0};
    reg_start(&g, "tls", "latest");
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    reg_assert_runs_hello(&g, img, "hi from registry\n");
    h_berth(&r, &g.o, "rmi", img, NULL);
    h_assert_status(&r, 0);
    /* without the test CA: refused, naming where berth looked */
    _cleanup_free_ char *empty = h_path("no-certs.d");
    h_mkdirs(empty, 0755);
    _cleanup_free_ char *c = xasprintf("certs-dirs=%s\n", empty);
    reg_write_conf(&g, c);
    reg_assert_pull_fails(&r, &g, img, "tls:");
    _cleanup_free_ char *looked = xasprintf("%s/%s", empty, g.host);
    h_assert_err_mentions(&r, looked);
    h_assert_err_mentions(&r, "/etc/ssl/certs/ca-certificates.crt");
}

/* registry-mirrors: docker.io's images asked of the mirror first */
Test(registry, docker_io_images_come_from_a_mirror)
{
    struct reg g = {0};
    reg_start(&g, "plain", NULL);
    struct h_result r;
    const char *push[] = {"push", h_tmp(), "latest", "library/busy:latest", NULL};
    reg_script(&r, push);
    _cleanup_free_ char *c = xasprintf("registry-mirrors=http://%s\n", g.host);
    reg_write_conf(&g, c);
    h_berth(&r, &g.o, "pull", "busy", NULL);
    h_assert_status(&r, 0);
    cr_assert(strstr(r.out, "latest: Pulling from library/busy\n"), "%s", r.out);
    cr_assert(strstr(r.out, "Status: Downloaded newer image for busy:latest\n"), "%s", r.out);
    _cleanup_free_ char *last = h_last_line(r.out);
    cr_assert_str_eq(last, "docker.io/library/busy:latest");
    reg_assert_runs_hello(&g, "busy", "hi from registry\n");
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
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    h_berth(&r, &g.o, "pull", img, NULL);
    struct h_result saved = r;
    const char *umount[] = {"umount", "-l", mnt, NULL};
    /* checks first, the unmount after them (a failed assertion leaves it to h_suite_fini) */
    cr_assert_eq(saved.status, 1, "exit %d\n%s%s", saved.status, saved.out, saved.err);
    h_assert_err_mentions(&saved, "no space left on device");
    reg_assert_no_images(&g);
    reg_assert_pull_dir_clean(&g, "");
    _cleanup_free_ char *layers = xasprintf("%s/layers", g.root);
    _cleanup_free_ char *l = reg_entries(layers);
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
    reg_script(&r, push);
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    _cleanup_free_ char *arm = reg_ref(&g, "it/busy:arm");
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(count(r.out, ": Pull complete\n"), 2, "%s", r.out);
    h_berth(&r, &g.o, "pull", arm, NULL);
    h_assert_status(&r, 0);
    cr_assert_eq(count(r.out, ": Already exists\n"), 1, "%s", r.out);
    cr_assert_eq(count(r.out, ": Pull complete\n"), 1, "%s", r.out);
    cr_assert_eq(count(r.out, ": Pulling fs layer\n"), 1, "%s", r.out);
    reg_assert_runs_hello(&g, arm, "hi from arm\n");
    reg_assert_runs_hello(&g, img, "hi from registry\n");
    reg_assert_pull_dir_clean(&g, "");
}

/* On a terminal: docker's per-layer lines redrawn in place, a bar while downloading. */
Test(registry, a_terminal_gets_redrawn_layer_lines_with_a_bar)
{
    struct reg g = {0};
    reg_start(&g, "plain", "big");
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
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
    reg_script(&r, big);
    const char *push[] = {"pushraw", h_tmp(), "bigcfg", "it/busy", NULL};
    reg_script(&r, push);
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    reg_assert_pull_fails(&r, &g, img, "over berth's cap of 16777216 bytes");
}

/* a client pair NAME.cert + NAME.key in the registry's certs.d directory is presented */
Test(registry, tls_client_certificate_from_certs_d)
{
    struct reg g = {0};
    reg_start(&g, "mtls", "latest");
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    h_berth(&r, &g.o, "pull", img, NULL);
    h_assert_status(&r, 0);
    reg_assert_runs_hello(&g, img, "hi from registry\n");
    h_berth(&r, &g.o, "rmi", img, NULL);
    h_assert_status(&r, 0);
    /* the CA alone, no client pair: the registry ends the handshake */
    _cleanup_free_ char *cacopy = h_path("ca-only/%s", g.host);
    h_mkdirs(cacopy, 0755);
    _cleanup_free_ char *cmd = xasprintf("cp '%s/ca.crt' '%s/'", h_tmp(), cacopy);
    cr_assert_eq(system(cmd), 0);
    _cleanup_free_ char *c = xasprintf("certs-dirs=%s/ca-only\n", h_tmp());
    reg_write_conf(&g, c);
    reg_assert_pull_fails(&r, &g, img, "tls:");
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
        reg_script(&r, push);
        _cleanup_free_ char *img = reg_ref(&g, cases[i].repo);
        h_berth(&r, &g.o, "pull", img, NULL);
        h_assert_status(&r, 0);
        reg_assert_runs_hello(&g, img, cases[i].hello);
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
    _cleanup_free_ char *img = reg_ref(&g, "it/busy");
    struct h_result r;
    reg_assert_pull_fails(&r, &g, img, "manifest latest: ");
    h_assert_err_mentions(&r, "over the 4194304-byte cap");
}

/* 403: the registry (or a proxy before it) refuses this client the repository */
Test(registry, a_403_says_to_log_in_and_leaves_nothing)
{
    struct reg g = {0};
    reg_start(&g, "fake", NULL);
    _cleanup_free_ char *img = reg_ref(&g, "it/denied");
    struct h_result r;
    _cleanup_free_ char *want =
        xasprintf("berth: pull access denied for %s/it/denied, repository "
                  "does not exist or may require 'berth login': denied: requested access to the "
                  "resource is denied\n",
                  g.host);
    reg_assert_pull_fails(&r, &g, img, want);
    cr_assert_str_eq(r.err, want);
}
