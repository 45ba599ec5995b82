/* berth run -v with symlinks in the bind source. Storm binds the worker's own directory and
 * <worker dir>/tmp, and the worker owns that directory: a link it plants there must not make
 * berth (root) bind or create whatever host path the link names. Only root's symlinks are
 * followed (distribution links such as /var/run -> /run keep working); any other is refused
 * with exit 125, before anything is made or mounted. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WORKER_UID 1000

/* <tmp>/<name>, a directory owned by the worker user, as Storm's worker dirs are. */
static char *worker_dir(const char *name)
{
    char *dir = h_path("%s", name);
    h_mkdirs(dir, 0755);
    cr_assert_eq(chown(dir, WORKER_UID, WORKER_UID), 0, "chown %s: %s", dir, strerror(errno));
    return dir;
}

/* A symlink at path pointing to target, owned by uid (lchown: never the target). */
static void link_owned_by(const char *target, const char *path, uid_t uid)
{
    cr_assert_eq(symlink(target, path), 0, "symlink %s: %s", path, strerror(errno));
    cr_assert_eq(lchown(path, uid, uid), 0, "lchown %s: %s", path, strerror(errno));
}

/* berth run --rm -v SPEC ... exits 125 naming source and the link's owner, and leaves
 * nothing behind. */
static void assert_bind_refused(const char *spec, const char *source, const char *link)
{
    char *layers = h_layers_snapshot();
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", spec, H_IMAGE, "/probe", "id", NULL);
    h_assert_status(&r, 125);
    cr_assert(strncmp(r.err, "berth: ", 7) == 0, "stderr: %s", r.err);
    h_assert_err_mentions(&r, source);
    char *why = xasprintf("symlink %s is owned by uid %d", link, WORKER_UID);
    h_assert_err_mentions(&r, why);
    cr_assert_str_empty(r.out, "stdout not empty: %s", r.out);
    h_assert_nothing_left(layers);
}

Test(run, bind_source_through_a_user_owned_symlink_is_refused)
{
    char *w = worker_dir("workers/w1");
    char *tmp = xasprintf("%s/tmp", w);
    link_owned_by("/etc", tmp, WORKER_UID);
    char *spec = xasprintf("%s:/tmp", tmp);
    assert_bind_refused(spec, tmp, tmp);
}

Test(run, bind_source_with_a_user_owned_symlink_deeper_in_its_path_is_refused)
{
    h_mkdirs(h_path("secret/sub"), 0700);
    h_write_file(h_path("secret/sub/key"), "root only", 0600);
    char *w = worker_dir("workers/w1");
    char *link = xasprintf("%s/link", w);
    link_owned_by(h_path("secret"), link, WORKER_UID);
    char *source = xasprintf("%s/sub", link);
    char *spec = xasprintf("%s:/data", source);
    assert_bind_refused(spec, source, link);
}

Test(run, missing_bind_source_under_a_user_owned_symlink_is_not_created)
{
    h_mkdirs(h_path("target"), 0755);
    char *w = worker_dir("workers/w1");
    char *link = xasprintf("%s/link", w);
    link_owned_by(h_path("target"), link, WORKER_UID);
    char *source = xasprintf("%s/made/by/berth", link);
    char *spec = xasprintf("%s:/data", source);
    assert_bind_refused(spec, source, link);
    cr_assert(!h_exists(h_path("target/made")), "berth created a directory through the link");
}

Test(run, bind_source_through_root_owned_symlinks_is_followed)
{
    h_mkdirs(h_path("real/sub"), 0755);
    h_write_file(h_path("real/sub/f"), "12345", 0644);
    link_owned_by(h_path("real"), h_path("abs"), 0);
    link_owned_by("abs/sub", h_path("rel"), 0); /* relative, and a link to a link */
    char *specs[] = {xasprintf("%s:/a", h_path("abs/sub")), xasprintf("%s:/r", h_path("rel"))};
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", specs[0], "-v", specs[1], H_IMAGE, "/probe", "read",
            "/a/f", "read", "/r/f", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/a/f", "5");
    h_assert_val(&r, "read:/r/f", "5");
    h_assert_no_mounts_left();
}

Test(run, missing_bind_source_under_a_root_owned_symlink_is_created_where_it_points)
{
    h_mkdirs(h_path("real"), 0755);
    link_owned_by(h_path("real"), h_path("abs"), 0);
    char *spec = xasprintf("%s:/data", h_path("abs/made/here"));
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", spec, H_IMAGE, "/probe", "write", "/data/x", NULL);
    h_assert_status(&r, 0);
    h_assert_val(&r, "write:/data/x", "ok");
    cr_assert(h_exists(h_path("real/made/here/x")),
              "the source was not made where the link points");
    h_assert_no_mounts_left();
}

/* Whether pid is stopped (state T in /proc/<pid>/stat). */
static bool stopped(pid_t pid)
{
    char state;
    return h_proc_stat(pid, &state, NULL) && state == 'T';
}

/* A worker's <dir>/tmp to bind, and a root-only secret beside it. */
static char *worker_tmp_beside_a_secret(void)
{
    h_mkdirs(h_path("secret"), 0700);
    h_write_file(h_path("secret/key"), "root only", 0600);
    char *tmp = xasprintf("%s/tmp", worker_dir("workers/w1"));
    h_mkdirs(tmp, 0755);
    return tmp;
}

/* What the worker does meanwhile: its tmp moved away, a link of its own to the secret there. */
static void swap_for_a_link_to_the_secret(const char *tmp)
{
    cr_assert_eq(rename(tmp, h_path("workers/w1/old")), 0);
    link_owned_by(h_path("secret"), tmp, WORKER_UID);
}

/* The worker swaps its directory for a link after berth's host side looked at the source and
 * before its tree is opened for the container: the source is resolved again there (by the
 * monitor, and then by the container's side itself, which says why) and refused. */
Test(run, bind_source_swapped_for_a_user_owned_symlink_after_the_check_is_refused)
{
    char *tmp = worker_tmp_beside_a_secret();
    char *layers = h_layers_snapshot();
    /* BERTH_TEST_STALL=create stops berth after the sources are prepared, before the clone */
    const char *env[] = {"BERTH_TEST_STALL=create", NULL};
    struct h_opts o = {.env = env, .timeout_s = 20};
    char *spec = xasprintf("%s:/data", tmp);
    const char *args[] = {"run", "--rm", "-v", spec, H_IMAGE, "/probe", "read", "/data/key", NULL};
    struct h_proc p;
    h_berth_start(&p, &o, args);
    double deadline = h_now_s() + 10;
    while (!stopped(p.pid) && h_now_s() < deadline)
        usleep(10 * 1000);
    cr_assert(stopped(p.pid), "berth did not stop at the create stall point");
    swap_for_a_link_to_the_secret(tmp);
    cr_assert_eq(kill(p.pid, SIGCONT), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    h_assert_status(&r, 125);
    char *why = xasprintf("symlink %s is owned by uid %d", tmp, WORKER_UID);
    h_assert_err_mentions(&r, why);
    cr_assert(!strstr(r.out, "read:/data/key=9"), "the container read the secret: %s", r.out);
    h_assert_nothing_left(layers);
}

/* The same swap after the monitor opened the source's tree for the container, which waits for
 * it (the monitor's stall point "trees", before it sends them): the container mounts the
 * directory that was checked, and never looks at the path again. */
Test(run, bind_source_swapped_after_its_tree_was_opened_is_mounted_as_checked)
{
    char *tmp = worker_tmp_beside_a_secret();
    h_write_file(h_path("workers/w1/tmp/mine"), "checked", 0644);
    const char *env[] = {"BERTH_TEST_STALL=trees", NULL};
    struct h_opts o = {.env = env, .timeout_s = 20};
    char *spec = xasprintf("%s:/data", tmp);
    const char *args[] = {"run",  "--rm",       "-v",   spec,        H_IMAGE, "/probe",
                          "read", "/data/mine", "read", "/data/key", NULL};
    struct h_proc p;
    h_berth_start(&p, &o, args);
    pid_t monitor = h_find_stalled("trees", p.pid, NULL);
    swap_for_a_link_to_the_secret(tmp);
    cr_assert_eq(kill(monitor, SIGCONT), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    h_assert_status(&r, 0);
    h_assert_val(&r, "read:/data/mine", "7");
    h_assert_val(&r, "read:/data/key", "ENOENT");
    h_assert_no_mounts_left();
}
