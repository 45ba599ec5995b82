/* berth load, end to end: a docker-save archive whose base layer is test/probe's tar and whose
 * top layer whites out a file and makes a directory opaque, checked from inside a container;
 * and a loaded image's Entrypoint/Cmd/Env/WorkingDir/User honoured by run. */
#include "harness.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

H_SUITE(load);

Test(load, whiteout_and_opaque_dir_seen_from_inside)
{
    static const char *const top[][2] = {
        {".wh.probe-suid", ""}, {"home/", NULL}, {"home/.wh..wh..opq", ""}, {"home/upper", "u"}};
    char *layers[2];
    size_t lens[2];
    layers[0] = h_probe_tar(&lens[0]);
    layers[1] = h_make_tar(top, ARRAY_SIZE(top), &lens[1]);
    _cleanup_free_ char *archive = h_docker_archive("it/loaded:two", layers, lens, 2, "");
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Loaded image: it/loaded:two\n");
    h_berth(&r, &o, "run", "--rm", "it/loaded:two", "/probe", "ls", "/", "ls", "/home", NULL);
    h_assert_status(&r, 0);
    const char *root = h_val(&r, "ls:/");
    cr_assert(h_has_word(root, "probe") && !h_has_word(root, "probe-suid"), "ls / = %s", root);
    h_assert_val(&r, "ls:/home", "upper");
    free(layers[0]);
    free(layers[1]);
}

/* More layers than one fsconfig value holds (256 bytes: three layer names): the overlay gets
 * them one by one (Linux 6.8) or through mount(2)'s page (older kernels, as make vmcheck's). */
Test(load, an_image_of_six_layers_runs)
{
    enum { N = 6 };
    char *layers[N];
    size_t lens[N];
    layers[0] = h_probe_tar(&lens[0]);
    for (int i = 1; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "layer%d", i);
        const char *files[][2] = {{name, "x"}};
        layers[i] = h_make_tar(files, 1, &lens[i]);
    }
    _cleanup_free_ char *archive = h_docker_archive("it/loaded:six", layers, lens, N, "");
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "run", "--rm", "it/loaded:six", "/probe", "ls", "/", NULL);
    h_assert_status(&r, 0);
    const char *root = h_val(&r, "ls:/");
    for (int i = 1; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "layer%d", i);
        cr_assert(h_has_word(root, name), "%s missing from ls / = %s", name, root);
    }
    for (int i = 0; i < N; i++)
        free(layers[i]);
}

Test(load, loaded_config_is_honoured_by_run)
{
    char *layers[1];
    size_t lens[1];
    layers[0] = h_probe_tar(&lens[0]);
    _cleanup_free_ char *archive = h_docker_archive(
        "it/loaded:cfg", layers, lens, 1,
        "\"User\":\"worker\",\"WorkingDir\":\"/tmp\",\"Env\":[\"FROM_LOAD=yes\","
        "\"PATH=/usr/bin:/bin\"],\"Entrypoint\":[\"/probe\"],\"Cmd\":[\"id\",\"cwd\",\"env\"]");
    struct h_opts o = {.root = h_path("root"), .input_file = archive};
    struct h_result r;
    h_berth(&r, &o, "load", NULL); /* from stdin */
    h_assert_status(&r, 0);
    h_berth(&r, &o, "run", "--rm", "it/loaded:cfg", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "uid", "1000");
    h_assert_val(&r, "cwd", "/tmp");
    cr_assert(h_env(&r, "FROM_LOAD") && !strcmp(h_env(&r, "FROM_LOAD"), "yes"), "%s", r.out);
    cr_assert(h_env(&r, "PATH") && !strcmp(h_env(&r, "PATH"), "/usr/bin:/bin"), "%s", r.out);
    h_berth(&r, &o, "run", "--rm", "it/loaded:cfg", "args", "x", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "argv", "/probe args x");
    free(layers[0]);
}

Test(load, corrupt_archive_fails_and_registers_nothing)
{
    char *layers[1];
    size_t lens[1];
    layers[0] = h_probe_tar(&lens[0]);
    _cleanup_free_ char *archive = h_docker_archive("it/loaded:bad", layers, lens, 1, "");
    /* flip a byte inside the layer's data: the diff-id no longer matches */
    int fd = open(archive, O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    char c;
    cr_assert_eq(pread(fd, &c, 1, 4096), 1);
    c ^= 0x55;
    cr_assert_eq(pwrite(fd, &c, 1, 4096), 1);
    close(fd);
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    h_berth(&r, &o, "images", "-q", NULL);
    cr_assert_str_eq(r.out, "");
    free(layers[0]);
}

/* docker refuses a tag named after the digest algorithm: "sha256:abc" must stay an image id.
 * Accepted, it made an image that `run sha256:abc` could not find. */
Test(load, a_tag_named_sha256_is_refused_as_docker_refuses_it)
{
    static const char want[] = "Error response from daemon: refusing to create an ambiguous tag "
                               "using digest algorithm as name\n";
    char *layers[1];
    size_t lens[1];
    layers[0] = h_probe_tar(&lens[0]);
    _cleanup_free_ char *archive = h_docker_archive("sha256:abc", layers, lens, 1, "");
    struct h_opts o = {.root = h_path("root")};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "refusing to create an ambiguous tag using digest algorithm as name"),
              "%s", r.err);
    h_berth(&r, &o, "images", "-q", NULL);
    cr_expect_str_eq(r.out, "");
    free(archive);
    archive = h_docker_archive("it/named:1", layers, lens, 1, ""); /* the same path */
    free(layers[0]);
    h_berth(&r, &o, "load", "-q", "-i", archive, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "tag", "it/named:1", "sha256:abc", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, want);
    h_berth(&r, &o, "images", "--format", "{{.Repository}}:{{.Tag}}", NULL);
    cr_expect_str_eq(r.out, "it/named:1\n");
}

Test(load, rmi_is_refused_while_a_container_uses_the_image)
{
    char *layers[1];
    size_t lens[1];
    layers[0] = h_probe_tar(&lens[0]);
    _cleanup_free_ char *archive = h_docker_archive("it/used:1", layers, lens, 1, "");
    free(layers[0]);
    struct h_opts o = {.root = h_path("root")};
    struct h_result r, c;
    h_berth(&r, &o, "load", "-q", "-i", archive, NULL);
    h_assert_status(&r, 0);
    h_berth(&c, &o, "run", "-d", "it/used:1", "/probe", "sleep", "30", NULL);
    h_assert_status(&c, 0);
    c.out[strcspn(c.out, "\n")] = '\0';
    h_berth(&r, &o, "rmi", "it/used:1", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "Error response from daemon: conflict: unable to remove repository "
                            "reference \"it/used:1\" (must force) - container "),
              "%s", r.err);
    h_berth(&r, &o, "images", "-q", NULL);
    _cleanup_free_ char *id = xstrdup(r.out);
    id[strcspn(id, "\n")] = '\0';
    h_berth(&r, &o, "rmi", "-f", id, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "(cannot be forced) - image is being used by running container"), "%s",
              r.err);
    h_berth(&r, &o, "rm", "-f", c.out, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "rmi", "it/used:1", NULL);
    h_assert_status(&r, 0);
    cr_expect(strstr(r.out, "Untagged: it/used:1\nDeleted: sha256:"), "%s", r.out);
    _cleanup_free_ char *layers_dir = xasprintf("%s/layers", o.root);
    h_berth(&r, &o, "images", "-q", NULL);
    cr_expect_str_eq(r.out, "");
}

/* ---- crash safety and a full disk ------------------------------------------------------- */

/* A layer tar of nfiles small files under dir/ (content unique to tag) plus, when big > 0, one
 * file of big pseudo-random bytes (incompressible, never sparse). */
static char *bulk_tar(const char *tag, size_t nfiles, size_t big, size_t *len)
{
    struct h_buf w = {0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open(a, &w, NULL, h_buf_write, NULL), ARCHIVE_OK);
    size_t nent = nfiles + 2 + (big ? 1 : 0);
    for (size_t i = 0; i < nent; i++) {
        _cleanup_free_ char *name = NULL, *data = NULL;
        size_t dlen = 0;
        if (i == 0) {
            name = xasprintf("%s/", tag);
        } else if (i == 1) {
            name = xasprintf("%s/sub/", tag);
        } else if (i - 2 < nfiles) {
            name = xasprintf("%s/%sf%05zu", tag, (i & 1) ? "sub/" : "", i - 2);
            data = xasprintf("%s file %zu\n", tag, i - 2);
            dlen = strlen(data);
        } else {
            name = xasprintf("%s/big", tag);
            data = xmalloc(big);
            unsigned long long x = 0x9e3779b97f4a7c15ULL ^ (unsigned long long)strlen(tag);
            for (size_t k = 0; k < big; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                data[k] = (char)(x >> 24);
            }
            dlen = big;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, data ? AE_IFREG : AE_IFDIR);
        archive_entry_set_perm(e, data ? 0644 : 0755);
        archive_entry_set_mtime(e, 1700000000, 0);
        archive_entry_set_size(e, (la_int64_t)dlen);
        cr_assert_geq(archive_write_header(a, e), ARCHIVE_WARN, "%s", archive_error_string(a));
        if (dlen)
            cr_assert_eq(archive_write_data(a, data, dlen), (la_ssize_t)dlen);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    *len = w.len;
    return w.p;
}

/* Entries of dir, "" when empty or missing. */
static char *dir_entries(const char *dir)
{
    char *out = xstrdup("");
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char *next = xasprintf("%s%s ", out, e->d_name);
            free(out);
            out = next;
        }
    }
    if (d)
        closedir(d);
    return out;
}

/* Every layer dir of root is whole (same tree as ref_root's copy); refs.json parses and each
 * image it names has its config blob and every layer. Returns the number of references. */
static size_t check_store(const char *root, const char *ref_root)
{
    _cleanup_free_ char *layers = xasprintf("%s/layers", root);
    DIR *d = opendir(layers);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!is_hex64(e->d_name))
            continue;
        _cleanup_free_ char *mine = xasprintf("%s/%s", layers, e->d_name);
        _cleanup_free_ char *theirs = xasprintf("%s/layers/%s", ref_root, e->d_name);
        cr_assert(h_exists(theirs), "layer %s is not one of the archive's", e->d_name);
        _cleanup_free_ char *a = h_tree_snapshot(mine), *b = h_tree_snapshot(theirs);
        _cleanup_free_ char *diff = h_first_difference(a, b);
        cr_assert(!diff, "layer %s is incomplete:\n%s", e->d_name, diff);
    }
    if (d)
        closedir(d);
    _cleanup_free_ char *refs_path = xasprintf("%s/refs.json", root);
    _cleanup_free_ char *refs = h_read_file(refs_path);
    if (!refs)
        return 0;
    yajl_val doc = NULL;
    struct berr err;
    cr_assert_eq(json_parse(refs, &doc, &err), 0, "refs.json: %s\n%s", err.msg, refs);
    cr_assert(YAJL_IS_OBJECT(doc), "refs.json: %s", refs);
    size_t n = doc->u.object.len;
    for (size_t i = 0; i < n; i++) {
        yajl_val v = doc->u.object.values[i];
        /* a plain id, or (with digests) an object holding one */
        const char *id = YAJL_IS_STRING(v) ? v->u.string : json_get_str(v, "id");
        cr_assert(id && is_hex64(id), "refs.json: %s", refs);
        _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", root, id);
        _cleanup_free_ char *config = h_read_file(blob);
        cr_assert(config, "%s names image %s whose config is missing", doc->u.object.keys[i], id);
        yajl_val c = NULL;
        cr_assert_eq(json_parse(config, &c, &err), 0, "config %s: %s", id, err.msg);
        yajl_val diffs = json_get(json_get(c, "rootfs"), "diff_ids");
        cr_assert(diffs && YAJL_IS_ARRAY(diffs));
        for (size_t k = 0; k < diffs->u.array.len; k++) {
            const char *dd = diffs->u.array.values[k]->u.string;
            _cleanup_free_ char *lp = xasprintf("%s/layers/%s", root, dd + strlen("sha256:"));
            cr_assert(h_exists(lp), "%s names image %s whose layer %s is missing",
                      doc->u.object.keys[i], id, dd);
        }
        yajl_tree_free(c);
    }
    yajl_tree_free(doc);
    return n;
}

/* path + ".gz": a compressed outer tar is spooled member by member into tmp/ (as a pipe is),
 * where a plain file is read in place. */
static char *gzip_copy(const char *path)
{
    _cleanup_free_ char *cmd = xasprintf("gzip -1 -c '%s' > '%s.gz'", path, path);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    cr_assert_eq(r.status, 0, "gzip: %s", r.err);
    return xasprintf("%s.gz", path);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

Test(load, sigkill_at_any_moment_leaves_no_partial_layer_or_reference, .timeout = 480)
{
    char *layers[4];
    size_t lens[4];
    layers[0] = h_probe_tar(&lens[0]);
    layers[1] = bulk_tar("one", 3000, 0, &lens[1]);
    layers[2] = bulk_tar("two", 3000, 4u << 20, &lens[2]);
    layers[3] = bulk_tar("three", 1500, 8u << 20, &lens[3]);
    _cleanup_free_ char *archive = h_docker_archive("it/crash:4", layers, lens, 4, "");
    _cleanup_free_ char *gz = gzip_copy(archive);
    for (size_t i = 0; i < 4; i++)
        free(layers[i]);

    /* the reference: one whole load into its own root */
    struct h_opts ref = {.root = h_path("ref")};
    struct h_result r;
    double t0 = now_ms();
    h_berth(&r, &ref, "load", "-q", "-i", archive, NULL);
    double full_ms = now_ms() - t0;
    h_assert_status(&r, 0);
    cr_log_info("full load: %.0f ms", full_ms);

    _cleanup_free_ char *root = h_path("root");
    _cleanup_free_ char *tmpdir = xasprintf("%s/tmp", root);
    struct h_opts o = {.root = root};
    unsigned seed = (unsigned)getpid();
    int killed = 0, leftovers = 0;
    for (int round = 0; round < 30; round++) {
        /* even rounds read the tar in place, odd ones the gzip copy (spooled into tmp/) */
        const char *args[] = {"load", "-q", "-i", (round & 1) ? gz : archive, NULL};
        struct h_proc p;
        h_berth_start(&p, &o, args);
        /* kill anywhere from 1 ms to a little past the whole load's time (at least 50 ms) */
        double span = full_ms * 1.1 > 50 ? full_ms * 1.1 : 50;
        long delay_us = 1000 + (long)((double)(rand_r(&seed) % 1000) / 1000.0 * (span - 1) * 1000);
        usleep((useconds_t)delay_us);
        kill(p.pid, SIGKILL);
        h_berth_finish(&p, &r);
        bool finished = r.status == 0;
        if (r.status == 128 + SIGKILL)
            killed++;
        else
            cr_assert_eq(r.status, 0, "round %d: %s", round, r.err);
        _cleanup_free_ char *left = dir_entries(tmpdir);
        if (*left)
            leftovers++;
        size_t nrefs = check_store(root, ref.root);
        cr_assert_leq(nrefs, 1);
        /* images agrees with refs.json: nothing, or the whole image */
        h_berth(&r, &o, "images", "-q", NULL);
        h_assert_status(&r, 0);
        cr_assert_eq(*r.out != '\0', nrefs == 1, "round %d: images -q = %s", round, r.out);
        /* a finished load would make the next ones only verify: start again from nothing */
        if (finished)
            h_remove_tree(root);
    }
    cr_log_info("%d of 30 loads killed, %d left something in tmp/", killed, leftovers);
    cr_expect_geq(killed, 10, "only %d loads were killed before they finished", killed);

    /* the next writer cleans tmp/ and finishes the job */
    h_berth(&r, &o, "load", "-i", archive, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Loaded image: it/crash:4\n");
    _cleanup_free_ char *left = dir_entries(tmpdir);
    cr_assert_str_eq(left, "", "tmp/ after a whole load: %s", left);
    cr_assert_eq(check_store(root, ref.root), 1);
    /* every layer is there (check_store compared each with the reference) */
    for (int i = 0; i < 2; i++) {
        _cleanup_free_ char *dir = xasprintf("%s/layers", i ? ref.root : root);
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t n = 0;
        while (d && (e = readdir(d)))
            n += is_hex64(e->d_name);
        if (d)
            closedir(d);
        cr_assert_eq(n, 4, "%s holds %zu layers", dir, n);
    }
    h_berth(&r, &o, "run", "--rm", "it/crash:4", "/probe", "ls", "/three", NULL);
    h_assert_status(&r, 0);
    cr_assert(h_has_word(h_val(&r, "ls:/three"), "big"), "%s", r.out);
}

/* A data root on a 4 MiB tmpfs; the archive needs more. */
static char *small_root(void)
{
    char *mnt = h_path("small");
    h_mkdirs(mnt, 0700);
    const char *argv[] = {"mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mnt, NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    if (r.status != 0) {
        free(mnt);
        return NULL;
    }
    return mnt;
}

static void small_root_release(char *mnt)
{
    const char *argv[] = {"umount", mnt, NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    cr_expect_eq(r.status, 0, "umount %s: %s", mnt, r.err);
    free(mnt);
}

Test(load, full_disk_fails_clearly_and_registers_nothing)
{
    char *layers[2];
    size_t lens[2];
    layers[0] = h_probe_tar(&lens[0]);
    layers[1] = bulk_tar("fat", 10, 6u << 20, &lens[1]);
    _cleanup_free_ char *archive = h_docker_archive("it/fat:1", layers, lens, 2, "");
    free(layers[0]);
    free(layers[1]);
    char *mnt = small_root();
    if (!mnt)
        h_skip("cannot mount a tmpfs here");
    _cleanup_free_ char *root = xasprintf("%s/root", mnt);
    _cleanup_free_ char *tmpdir = xasprintf("%s/tmp", root);
    _cleanup_free_ char *layers_dir = xasprintf("%s/layers", root);
    /* the tar read in place (unpacking fills the disk), its gzip copy (spooling does) */
    _cleanup_free_ char *gz = gzip_copy(archive);
    for (int spooled = 0; spooled < 2; spooled++) {
        struct h_opts o = {.root = root};
        struct h_result r;
        h_berth(&r, &o, "load", "-i", spooled ? gz : archive, NULL);
        cr_assert_eq(r.status, 1, "%s: exit %d\n%s%s", spooled ? "gzip" : "tar", r.status, r.out,
                     r.err);
        h_assert_err_mentions(&r, "no space left on device");
        cr_assert_eq(strstr(r.out, "Loaded image"), NULL, "%s", r.out);
        _cleanup_free_ char *left = dir_entries(tmpdir);
        cr_assert_str_eq(left, "", "tmp/ after ENOSPC: %s", left);
        _cleanup_free_ char *lay = dir_entries(layers_dir);
        cr_assert_str_eq(lay, "", "layers/ after ENOSPC: %s", lay);
        struct h_opts q = {.root = root};
        h_berth(&r, &q, "images", "-q", NULL);
        h_assert_status(&r, 0);
        cr_assert_str_eq(r.out, "");
    }
    small_root_release(mnt);
}

/* ---- archives written by real tools (umoci 0.4.7, skopeo 1.9), offline ---------------------- */

/* Builds, in the test's dir: an OCI layout u/ by umoci from a busybox-static rootfs plus a layer
 * added with `umoci insert ... /` (absolute names, no end-of-archive blocks), then skopeo's
 * docker-archive, oci-archive and zstd oci-archive of it. Prints "missing: WHAT" when a tool
 * is absent and apt-get cannot install it. */
static const char real_tools_script[] =
    "set -e\n"
    "need() { command -v $1 >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y "
    "-qq $2 >/dev/null 2>&1 || true; command -v $1 >/dev/null 2>&1 || { echo missing: $1; exit 0; "
    "}; }\n"
    "need umoci umoci; need skopeo skopeo\n"
    "[ -x /bin/busybox ] && busybox --list | grep -qx sh || { echo missing: busybox-static; exit "
    "0; "
    "}\n"
    "mkdir -p rootfs/bin extra\n"
    "cp /bin/busybox rootfs/bin/busybox\n"
    "for a in sh true cat ls; do ln -s busybox rootfs/bin/$a; done\n"
    "echo hi from umoci > extra/hello\n"
    "umoci init --layout u\n"
    "umoci new --image u:latest\n"
    "umoci unpack --image u:latest ub >/dev/null\n"
    "cp -a rootfs/. ub/rootfs/\n"
    "umoci repack --image u:latest ub\n"
    "umoci insert --image u:latest extra /\n"
    "umoci config --image u:latest --config.cmd /bin/true\n"
    "skopeo copy -q oci:u:latest docker-archive:docker.tar:it/umoci:docker\n"
    "skopeo copy -q oci:u:latest oci-archive:oci.tar:it/umoci:oci\n"
    "skopeo copy -q --dest-compress-format zstd oci:u:latest oci-archive:zstd.tar:it/umoci:zstd\n"
    "tar -C u -cf layout.tar .\n"
    "echo built\n";

Test(load, umoci_and_skopeo_archives_load_and_run)
{
    _cleanup_free_ char *script = h_path("build.sh");
    h_write_file(script, real_tools_script, 0755);
    _cleanup_free_ char *cmd = xasprintf("cd '%s' && sh ./build.sh", h_tmp());
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct h_result r;
    struct h_opts long_run = {.timeout_s = 300};
    h_execv(&r, &long_run, argv);
    if (strstr(r.out, "missing: ")) {
        _cleanup_free_ char *why = xstrdup(strstr(r.out, "missing: "));
        why[strcspn(why, "\n")] = '\0';
        h_skip("umoci/skopeo archives: %s (apt-get could not install it)", why);
    }
    cr_assert(r.status == 0 && strstr(r.out, "built"), "building the archives failed (%d):\n%s%s",
              r.status, r.out, r.err);
    struct h_opts o = {.root = h_path("root")};
    static const struct {
        const char *file, *ref, *loaded;
    } cases[] = {
        {"docker.tar", "it/umoci:docker", "Loaded image: it/umoci:docker\n"},
        {"oci.tar", "it/umoci:oci", "Loaded image: it/umoci:oci\n"},
        {"zstd.tar", "it/umoci:zstd", "Loaded image: it/umoci:zstd\n"},
        /* umoci's layout names its manifest "latest" only: no repository, loaded untagged */
        {"layout.tar", NULL, "Loaded image ID: sha256:"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *file = h_path("%s", cases[i].file);
        h_berth(&r, &o, "load", "-i", file, NULL);
        h_assert_status(&r, 0);
        cr_expect(!strncmp(r.out, cases[i].loaded, strlen(cases[i].loaded)), "%s: %s",
                  cases[i].file, r.out);
        _cleanup_free_ char *ref =
            xstrdup(cases[i].ref ? cases[i].ref : r.out + strlen(cases[i].loaded));
        ref[strcspn(ref, "\n")] = '\0';
        h_berth(&r, &o, "run", "--rm", ref, NULL); /* Cmd /bin/true */
        h_assert_status(&r, 0);
        h_berth(&r, &o, "run", "--rm", ref, "/bin/cat", "/hello", NULL);
        h_assert_status(&r, 0);
        cr_expect_str_eq(r.out, "hi from umoci\n", "%s", cases[i].file);
    }
    /* the same two layers each time: unpacked once */
    _cleanup_free_ char *layers = xasprintf("%s/layers", o.root);
    DIR *d = opendir(layers);
    struct dirent *e;
    size_t n = 0;
    while (d && (e = readdir(d)))
        n += is_hex64(e->d_name);
    if (d)
        closedir(d);
    cr_expect_eq(n, 2, "%zu layers for four copies of one two-layer image", n);
    /* OCI layouts carry a manifest digest */
    h_berth(&r, &o, "images", "--digests", NULL);
    h_assert_status(&r, 0);
    /* image ids are shown truncated (no prefix): a "sha256:" is a DIGEST column entry */
    cr_expect(strstr(r.out, " sha256:"), "%s", r.out);
    cr_expect(strstr(r.out, "DIGEST"), "%s", r.out);
}
