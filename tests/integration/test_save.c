/* berth save: the archive berth load and docker load (a dockerd of the test's own) both take,
 * with the image's files, whiteouts and opaque directories intact, its tags, and an id that
 * stays put from one save-and-load to the next; docker's refusals (a terminal on stdout, an
 * unknown reference) leave no file. */
#include "harness.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

H_SUITE(save);

#define ONE "it/saved:one"
#define TWO "it/saved:two"

/* "blobs/sha256/<hex>" of the archive's only image */
static char *archive_config(const char *tar)
{
    _cleanup_free_ char *manifest = h_tar_member(tar, "manifest.json", NULL);
    cr_assert(manifest, "%s has no manifest.json", tar);
    yajl_val doc = NULL;
    struct berr err;
    cr_assert_eq(json_parse(manifest, &doc, &err), 0, "%s", err.msg);
    cr_assert(YAJL_IS_ARRAY(doc) && doc->u.array.len == 1, "%s", manifest);
    const char *cfg = json_get_str(doc->u.array.values[0], "Config");
    cr_assert(cfg && str_has_prefix(cfg, "blobs/sha256/"), "%s", manifest);
    char *hex = xstrdup(cfg + strlen("blobs/sha256/"));
    yajl_tree_free(doc);
    return hex;
}

/* the archive's layers as docker lists diff-ids: ["sha256:<hex>",...] */
static char *archive_layers(const char *tar)
{
    _cleanup_free_ char *manifest = h_tar_member(tar, "manifest.json", NULL);
    yajl_val doc = NULL;
    struct berr err;
    cr_assert_eq(json_parse(manifest, &doc, &err), 0, "%s", err.msg);
    yajl_val layers = json_get(doc->u.array.values[0], "Layers");
    cr_assert(YAJL_IS_ARRAY(layers), "%s", manifest);
    char *out = xstrdup("[");
    for (size_t i = 0; i < layers->u.array.len; i++) {
        const char *l = YAJL_GET_STRING(layers->u.array.values[i]);
        cr_assert(l && str_has_prefix(l, "blobs/sha256/"), "%s", manifest);
        char *next = xasprintf("%s%s\"sha256:%s\"", out, i ? "," : "", l + strlen("blobs/sha256/"));
        free(out);
        out = next;
    }
    char *next = xasprintf("%s]", out);
    free(out);
    yajl_tree_free(doc);
    return next;
}

static bool same_file(const char *a, const char *b)
{
    size_t la, lb;
    _cleanup_free_ char *x = h_slurp(a, &la);
    _cleanup_free_ char *y = h_slurp(b, &lb);
    return la == lb && memcmp(x, y, la) == 0;
}

Test(save, berth_load_round_trip_keeps_tags_files_whiteouts_and_the_id)
{
    _cleanup_free_ char *src = h_path("src"), *dst = h_path("dst");
    _cleanup_free_ char *first = h_path("first.tar"), *second = h_path("second.tar");
    h_layered_image(src, ONE, TWO);
    struct h_opts os = {.root = src}, od = {.root = dst};
    struct h_result r;
    h_berth(&r, &os, "save", "-o", first, ONE, TWO, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "");
    _cleanup_free_ char *id = archive_config(first);

    h_berth(&r, &od, "load", "-i", first, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Loaded image: " ONE "\nLoaded image: " TWO "\n");
    h_berth(&r, &od, "images", "-q", "--no-trunc", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *want = xasprintf("sha256:%s\nsha256:%s\n", id, id);
    cr_assert_str_eq(r.out, want);

    h_berth(&r, &od, "run", "--rm", TWO, "/probe", "cat", "/etc/saved", "ls", "/etc", "ls", "/home",
            "ls", "/", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "cat:/etc/saved", "kept\\n");
    cr_assert(!h_has_word(h_val(&r, "ls:/etc"), "doomed"), "ls /etc = %s", h_val(&r, "ls:/etc"));
    cr_assert(h_has_word(h_val(&r, "ls:/etc"), "passwd"), "ls /etc = %s", h_val(&r, "ls:/etc"));
    h_assert_val(&r, "ls:/home", "upper");
    cr_assert(!h_has_word(h_val(&r, "ls:/"), "probe-suid"), "ls / = %s", h_val(&r, "ls:/"));

    /* what berth packed, it packs again byte for byte: the id no longer moves */
    h_berth(&r, &od, "save", "-o", second, ONE, TWO, NULL);
    h_assert_status(&r, 0);
    cr_assert(same_file(first, second), "a second save of the loaded image differs");
}

Test(save, stdout_and_a_bare_repository_give_every_tag)
{
    _cleanup_free_ char *src = h_path("src"), *file = h_path("file.tar");
    h_layered_image(src, ONE, TWO);
    struct h_opts o = {.root = src};
    struct h_result r;
    h_berth(&r, &o, "save", "-o", file, ONE, TWO, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "image", "save", "it/saved", NULL);
    h_assert_status(&r, 0);
    size_t len;
    _cleanup_free_ char *bytes = h_slurp(file, &len);
    cr_assert(r.out_len == len && memcmp(r.out, bytes, len) == 0,
              "stdout (%zu bytes) differs from -o (%zu bytes)", r.out_len, len);
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o, docker's CLI makes 0600",
                 (unsigned)(st.st_mode & 07777));
}

#define OTHER "it/other:1"

/* A second image in root sharing ONE's base layer (the probe's), with /other ("yes"). */
static void other_image(const char *root)
{
    static const char *const files[][2] = {{"other", "yes"}};
    char *layers[2];
    size_t lens[2];
    layers[0] = h_probe_tar(&lens[0]);
    layers[1] = h_make_tar(files, 1, &lens[1]);
    _cleanup_free_ char *archive = h_docker_archive(OTHER, layers, lens, 2, "");
    struct h_opts o = {.root = root};
    struct h_result r;
    h_berth(&r, &o, "load", "-i", archive, NULL);
    h_assert_status(&r, 0);
    free(layers[0]);
    free(layers[1]);
}

/* members of the tar under blobs/sha256/ */
static size_t count_blobs(const char *tar)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    cr_assert_eq(archive_read_open_filename(a, tar, 65536), ARCHIVE_OK);
    struct archive_entry *e;
    size_t n = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        n += str_has_prefix(name, "blobs/sha256/") && strlen(name) > strlen("blobs/sha256/");
    }
    archive_read_free(a);
    return n;
}

Test(save, several_images_share_their_common_layer_and_load_in_berth_and_docker, .timeout = 300)
{
    _cleanup_free_ char *src = h_path("src"), *dst = h_path("dst"), *out = h_path("all.tar");
    h_layered_image(src, ONE, TWO);
    other_image(src);
    struct h_opts os = {.root = src}, od = {.root = dst};
    struct h_result r;
    h_berth(&r, &os, "save", "-o", out, ONE, OTHER, TWO, NULL);
    h_assert_status(&r, 0);
    /* four layers (the probe's once), two configs, two manifests */
    cr_assert_eq(count_blobs(out), 8);
    h_berth(&r, &od, "load", "-i", out, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out,
                     "Loaded image: " ONE "\nLoaded image: " TWO "\nLoaded image: " OTHER "\n");
    h_berth(&r, &od, "run", "--rm", OTHER, "/probe", "cat", "/other", "cat", "/etc/saved", "stat",
            "/probe-suid", "stat", "/home/alice", "stat", "/tmp", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "cat:/other", "yes");
    h_assert_val(&r, "cat:/etc/saved", "ENOENT");
    /* owners and modes, setuid and sticky bits included, come through the packing */
    h_assert_val(&r, "stat:/probe-suid", "reg 4755 0:0 0:0");
    h_assert_val(&r, "stat:/home/alice", "dir 0750 0:0 1001:1001");
    h_assert_val(&r, "stat:/tmp", "dir 1777 0:0 0:0");

    if (!h_dockerd_available())
        h_skip("docker.io is not installed (make deps installs it)");
    h_dockerd_start();
    h_docker(&r, "load", "-i", out, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out,
                     "Loaded image: " ONE "\nLoaded image: " TWO "\nLoaded image: " OTHER "\n");
    h_docker(&r, "run", "--rm", "--pull=never", "--network=none", OTHER, "cat", "/other", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "yes");
    h_dockerd_stop();
}

static char *dir_names(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    char *out = xstrdup("");
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *next = xasprintf("%s%s ", out, de->d_name);
        free(out);
        out = next;
    }
    closedir(d);
    return out;
}

Test(save, a_failed_write_leaves_the_file_as_it_was_and_devices_are_written_in_place)
{
    _cleanup_free_ char *src = h_path("src"), *small = h_path("small");
    h_layered_image(src, ONE, NULL);
    h_mkdirs(small, 0700);
    const char *mount[] = {"mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", small, NULL};
    struct h_result r;
    h_execv(&r, NULL, mount);
    h_assert_status(&r, 0);
    _cleanup_free_ char *out = xasprintf("%s/out.tar", small);
    h_write_file(out, "old", 0644);
    struct h_opts o = {.root = src};
    h_berth(&r, &o, "save", "-o", out, ONE, NULL);
    const char *umount[] = {"umount", small, NULL};
    _cleanup_free_ char *left = dir_names(small);
    _cleanup_free_ char *text = h_read_file(out);
    struct h_result u;
    h_execv(&u, NULL, umount);
    h_assert_status(&r, 1);
    cr_assert(strstr(r.err, "No space left on device"), "%s", r.err);
    cr_assert_str_eq(text, "old");
    cr_assert_str_eq(left, "out.tar ", "left in the directory: %s", left);

    /* a link to /dev/null: what a rename would replace is the test's own link */
    _cleanup_free_ char *null = h_path("null");
    cr_assert_eq(symlink("/dev/null", null), 0);
    h_berth(&r, &o, "save", "-o", null, ONE, NULL);
    h_assert_status(&r, 0);
    struct stat st;
    cr_assert_eq(lstat(null, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link to /dev/null was replaced");
}

/* The fd pid holds open on a file of dir, or -1. */
static int fd_in_dir(pid_t pid, const char *dir)
{
    _cleanup_free_ char *fds = xasprintf("/proc/%d/fd", (int)pid);
    DIR *d = opendir(fds);
    if (!d)
        return -1;
    int found = -1;
    size_t len = strlen(dir);
    struct dirent *de;
    while (found < 0 && (de = readdir(d))) {
        char link[PATH_MAX + 1];
        _cleanup_free_ char *p = xasprintf("%s/%s", fds, de->d_name);
        ssize_t n = readlink(p, link, sizeof(link) - 1);
        if (n < 0)
            continue;
        link[n] = '\0';
        if (!strncmp(link, dir, len) && link[len] == '/')
            found = atoi(de->d_name);
    }
    closedir(d);
    return found;
}

/* Ctrl-C in the middle of the write: the file stays as it was and nothing else is left in its
 * directory, not even berth's temporary file. */
Test(save, a_save_interrupted_while_writing_leaves_nothing_behind)
{
    _cleanup_free_ char *tree = h_path("tree"), *tar = h_path("big.tar"), *src = h_path("src"),
                        *dir = h_path("out"), *out = h_path("out/out.tar");
    h_mkdirs(tree, 0755);
    h_mkdirs(dir, 0755);
    /* large enough that the archive takes a while to write */
    const char *make[] = {
        "sh", "-c", "head -c 96M /dev/zero > \"$1/big\" && tar -C \"$1\" -cf \"$2\" big",
        "sh", tree, tar,
        NULL};
    struct h_result r;
    h_execv(&r, NULL, make);
    h_assert_status(&r, 0);
    struct h_opts o = {.root = src};
    h_berth(&r, &o, "import", tar, "it/big:1", NULL);
    h_assert_status(&r, 0);
    h_write_file(out, "old", 0644);

    struct h_proc p;
    h_berth_start(&p, &o, (const char *const[]){"save", "-o", out, "it/big:1", NULL});
    double end = h_now_s() + 60;
    while (fd_in_dir(p.pid, dir) < 0 && h_now_s() < end)
        usleep(200);
    cr_assert_eq(kill(p.pid, SIGSTOP), 0);
    int fd = fd_in_dir(p.pid, dir);
    kill(p.pid, SIGINT);
    kill(p.pid, SIGCONT);
    h_berth_finish(&p, &r);
    cr_assert_geq(fd, 0, "berth was not stopped while writing into %s (status %d)", dir, r.status);
    cr_assert_eq(r.status, 128 + SIGINT, "status %d: %s", r.status, r.err);
    _cleanup_free_ char *left = dir_names(dir);
    _cleanup_free_ char *text = h_read_file(out);
    cr_assert_str_eq(text, "old");
    cr_assert_str_eq(left, "out.tar ", "left in the directory: %s", left);
}

Test(save, refuses_a_terminal_on_stdout)
{
    _cleanup_free_ char *src = h_path("src"), *errpath = h_path("stderr");
    h_layered_image(src, ONE, NULL);
    int master, slave;
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (e < 0 || dup2(slave, 1) < 0 || dup2(e, 2) < 0)
            _exit(100);
        execl(getenv("BERTH_IT_BERTH"), "berth", "--root", src, "--runroot", h_runroot(), "save",
              ONE, (char *)NULL);
        _exit(101);
    }
    close(slave);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status 0x%x", st);
    _cleanup_free_ char *err = h_read_file(errpath);
    cr_assert_str_eq(err, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
    char buf[64];
    fcntl(master, F_SETFL, O_NONBLOCK);
    ssize_t n = read(master, buf, sizeof(buf));
    cr_assert(n <= 0, "%zd bytes written to the terminal", n);
    close(master);
}

Test(save, unknown_reference_fails_as_docker_and_makes_no_file)
{
    _cleanup_free_ char *src = h_path("src"), *out = h_path("out.tar");
    h_layered_image(src, ONE, NULL);
    struct h_opts o = {.root = src};
    struct h_result r;
    h_berth(&r, &o, "save", "-o", out, ONE, "it/saved:nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "Error response from daemon: reference does not exist\n");
    cr_assert(!h_exists(out), "%s was made", out);
    h_berth(&r, &o, "save", "-o", out, "nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "Error response from daemon: No such image: nosuch\n");
    cr_assert(!h_exists(out), "%s was made", out);
}

Test(save, docker_loads_and_runs_the_archive, .timeout = 300)
{
    if (!h_dockerd_available())
        h_skip("docker.io is not installed (make deps installs it)");
    _cleanup_free_ char *src = h_path("src"), *out = h_path("out.tar");
    h_layered_image(src, ONE, TWO);
    struct h_opts o = {.root = src};
    struct h_result r;
    h_berth(&r, &o, "save", "-o", out, ONE, TWO, NULL);
    h_assert_status(&r, 0);
    h_dockerd_start();
    h_docker(&r, "load", "-i", out, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Loaded image: " ONE "\nLoaded image: " TWO "\n");

    /* docker takes the archive's image id, tags and diff-ids as they are */
    _cleanup_free_ char *id = archive_config(out);
    _cleanup_free_ char *layers = archive_layers(out);
    h_docker(&r, "image", "inspect", "--format",
             "{{.Id}} {{json .RepoTags}} {{json .RootFS.Layers}}", ONE, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *want = xasprintf("sha256:%s [\"" ONE "\",\"" TWO "\"] %s\n", id, layers);
    cr_assert_str_eq(r.out, want);
    h_docker(&r, "run", "--rm", "--pull=never", "--network=none", TWO, "cat", "/etc/saved", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "kept\n");
    h_docker(&r, "run", "--rm", "--pull=never", "--network=none", ONE, "ls", "-A", "/home", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "upper\n");
    h_docker(&r, "run", "--rm", "--pull=never", "--network=none", ONE, "sh", "-c",
             "test ! -e /etc/doomed && test ! -e /probe-suid && test -e /probe && echo gone", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "gone\n");
    h_dockerd_stop();
}

/* docker's own layer tars (its overlay2 diff of a committed container: a deleted file, a
 * directory deleted and made again, which is opaque) through berth load and berth save, and
 * back into docker. */
Test(save, docker_made_whiteouts_come_back_to_docker_through_berth, .timeout = 300)
{
    if (!h_dockerd_available())
        h_skip("docker.io is not installed (make deps installs it)");
    _cleanup_free_ char *dst = h_path("dst"), *dsave = h_path("docker.tar");
    _cleanup_free_ char *bsave = h_path("berth.tar");
    _cleanup_free_ char *base = xasprintf("%s/probe-image.tar", getenv("BERTH_IT_DATA"));
    h_dockerd_start();
    struct h_result r;
    h_docker(&r, "import", base, "it/base:1", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "run", "--name", "mk", "--network=none", "it/base:1", "sh", "-c",
             "rm /probe-suid && rm -rf /home && mkdir /home && echo x > /home/only && "
             "echo made > /etc/made",
             NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "commit", "mk", "it/made:1", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "save", "-o", dsave, "it/made:1", NULL);
    h_assert_status(&r, 0);

    struct h_opts od = {.root = dst};
    h_berth(&r, &od, "load", "-i", dsave, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &od, "run", "--rm", "it/made:1", "/probe", "ls", "/", "ls", "/home", "cat",
            "/etc/made", NULL);
    h_assert_status(&r, 0);
    cr_assert(!h_has_word(h_val(&r, "ls:/"), "probe-suid"), "ls / = %s", h_val(&r, "ls:/"));
    h_assert_val(&r, "ls:/home", "only");
    h_assert_val(&r, "cat:/etc/made", "made\\n");
    h_berth(&r, &od, "save", "-o", bsave, "it/made:1", NULL);
    h_assert_status(&r, 0);

    h_docker(&r, "rm", "mk", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "rmi", "it/made:1", "it/base:1", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "load", "-i", bsave, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Loaded image: it/made:1\n");
    h_docker(&r, "run", "--rm", "--pull=never", "--network=none", "it/made:1", "sh", "-c",
             "test ! -e /probe-suid && ls -A /home && cat /etc/made && test -x /probe", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "only\nmade\n");
    h_dockerd_stop();
}
