/* The state store's directories and names (runtime/store.c, names.c): a container's directory
 * appears with its lock held; one without berth.json whose lock is free lost its creator and
 * is collected by whoever meets it, its name with it; a name is taken over only from a
 * container that is gone. */
#include "runtime/internal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[64];
static int rootfd = -1;

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/berth-store-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    struct berr err = {0};
    rootfd = runtime_open_root(root, &err);
    cr_assert_geq(rootfd, 0, "%s", err.msg);
}

static void teardown(void)
{
    struct berr err = {0};
    close(rootfd);
    remove_tree_at(AT_FDCWD, root, &err);
}

TestSuite(state_store, .init = setup, .fini = teardown);

static const char id_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char id_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* Entries of root/sub, space separated. */
static char *entries(const char *sub)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, sub);
    _cleanup_closedir_ DIR *d = opendir(dir);
    cr_assert_not_null(d);
    char *out = xstrdup("");
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
            continue;
        char *next = xasprintf("%s%s%s", out, *out ? " " : "", de->d_name);
        free(out);
        out = next;
    }
    return out;
}

/* containers/<id> as a creator leaves it: *lockfd holds the lock (-1: let go, as on death). */
static void make_dir(const char *id, int *lockfd)
{
    int dirfd, lock;
    struct berr err = {0};
    cr_assert_eq(container_dir_make(rootfd, id, &dirfd, &lock, &err), 0, "%s", err.msg);
    close(dirfd);
    if (lockfd)
        *lockfd = lock;
    else
        close(lock);
}

static bool lock_is_free(const char *id)
{
    _cleanup_free_ char *path = xasprintf("%s/containers/%s/lock", root, id);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    return flock(fd, LOCK_EX | LOCK_NB) == 0;
}

static void write_record(const char *id)
{
    _cleanup_free_ char *path = xasprintf("%s/containers/%s/" RECORD_FILE, root, id);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
}

static int gone(const char *id)
{
    struct berr err = {0};
    int rc = container_gone(rootfd, id, &err);
    cr_assert_geq(rc, 0, "%s", err.msg);
    return rc;
}

Test(state_store, a_directory_appears_with_its_lock_held)
{
    int lock;
    make_dir(id_a, &lock);
    _cleanup_free_ char *e = entries("containers");
    cr_expect_str_eq(e, id_a, "a temporary name is left: %s", e);
    cr_expect_not(lock_is_free(id_a));
    close(lock);
    cr_expect(lock_is_free(id_a));
}

Test(state_store, an_id_taken_is_refused_and_leaves_nothing_beside_it)
{
    make_dir(id_a, NULL);
    int dirfd, lock;
    struct berr err = {0};
    cr_assert_eq(container_dir_make(rootfd, id_a, &dirfd, &lock, &err), -1);
    cr_expect_eq(dirfd, -1);
    cr_expect_eq(lock, -1);
    _cleanup_free_ char *e = entries("containers");
    cr_expect_str_eq(e, id_a);
}

Test(state_store, only_a_creation_whose_lock_is_free_and_that_has_no_record_is_gone)
{
    cr_expect_eq(gone(id_a), 1, "an absent directory");
    int lock;
    make_dir(id_a, &lock);
    cr_expect_eq(gone(id_a), 0, "a creation under way");
    write_record(id_a);
    close(lock);
    cr_expect_eq(gone(id_a), 0, "a container, its lock let go");
    make_dir(id_b, NULL);
    cr_expect_eq(gone(id_b), 1, "a creation cut short");
    _cleanup_free_ char *e = entries("containers");
    cr_expect_str_eq(e, id_a, "the creation cut short is still there: %s", e);
}

Test(state_store, a_name_is_taken_over_only_from_a_container_that_is_gone)
{
    int lock;
    make_dir(id_a, &lock);
    struct berr err = {0};
    cr_assert_eq(name_reserve(rootfd, "web", id_a, &err), 0, "%s", err.msg);
    make_dir(id_b, NULL);
    cr_expect_eq(name_reserve(rootfd, "web", id_b, &err), -1, "taken from a creation under way");
    cr_expect_eq(err.kind, BERR_CONFLICT);
    close(lock); /* its creator dies */
    err = (struct berr){0};
    cr_expect_eq(name_reserve(rootfd, "web", id_b, &err), 0, "%s", err.msg);
    char target[80] = "";
    cr_expect_gt(readlinkat(rootfd, "names/web", target, sizeof(target) - 1), 0);
    cr_expect_str_eq(target, id_b);
    _cleanup_free_ char *e = entries("containers");
    cr_expect_str_eq(e, id_b);
}

Test(state_store, a_name_pointing_nowhere_is_released_only_when_its_container_is_gone)
{
    make_dir(id_a, NULL);
    write_record(id_a);
    struct berr err = {0};
    cr_assert_eq(name_reserve(rootfd, "kept", id_a, &err), 0, "%s", err.msg);
    cr_assert_eq(symlinkat(id_b, rootfd, "names/dangling"), 0);
    name_release_if_gone(rootfd, "kept");
    name_release_if_gone(rootfd, "dangling");
    _cleanup_free_ char *e = entries("names");
    cr_expect_str_eq(e, "kept");
}

/* A creator killed between its mkdir and its rename: swept by the next removal once unchanged
 * for a minute, never before (it may still be on its way). */
Test(state_store, a_temporary_directory_left_behind_is_swept_once_stale)
{
    cr_assert_eq(mkdirat(rootfd,
                         "containers/.new-"
                         "cccc",
                         0700),
                 0);
    cr_assert_eq(mkdirat(rootfd,
                         "containers/.new-"
                         "dddd",
                         0700),
                 0);
    const struct timespec old[2] = {{.tv_sec = time(NULL) - 120}, {.tv_sec = time(NULL) - 120}};
    cr_assert_eq(utimensat(rootfd, "containers/.new-cccc", old, 0), 0);
    make_dir(id_a, NULL);
    struct berr err = {0};
    cr_assert_eq(container_dir_remove(rootfd, id_a, NULL, &err), 0, "%s", err.msg);
    _cleanup_free_ char *e = entries("containers");
    cr_expect_str_eq(e, ".new-dddd");
}
