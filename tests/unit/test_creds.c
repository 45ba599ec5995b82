/* docker's user and group rules (runtime/creds.c) against an image's /etc/passwd and
 * /etc/group, read from a directory standing in for the rootfs. */
#include "runtime/internal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static char root[] = "/tmp/berth-creds.XXXXXX";
static int rootfd = -1;

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    cr_assert(mkdtemp(root));
    char etc[256];
    snprintf(etc, sizeof(etc), "%s/etc", root);
    mkdir(etc, 0755);
    write_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                             "broken:x:notanumber:1:b:/b:/bin/sh\n"
                             "worker:x:1000:1000:w:/home/worker:/bin/sh\n"
                             "nohome:x:1002:1002:n::/bin/sh\n");
    write_file("etc/group", "root:x:0:\n"
                            "worker:x:1000:\n"
                            "extra:x:2000:alice,worker\n"
                            "other:x:3000:workers\n");
    rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static void teardown(void)
{
    struct berr err;
    close(rootfd);
    remove_tree_at(AT_FDCWD, root, &err);
}

static struct creds resolve_ok(const char *user, const char *const *add)
{
    struct strv group_add = {0};
    for (; add && *add; add++)
        strv_push(&group_add, *add);
    struct creds c = {0};
    struct berr err = {0};
    cr_assert_eq(creds_resolve(rootfd, user, &group_add, &c, &err), 0, "%s: %s", user, err.msg);
    strv_free(&group_add);
    return c;
}

static void assert_groups(const struct creds *c, const gid_t *want, size_t n)
{
    cr_assert_eq(c->ngroups, n, "have %zu groups", c->ngroups);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(c->groups[i], want[i], "group %zu is %u", i, (unsigned)c->groups[i]);
}

TestSuite(creds, .init = setup, .fini = teardown);

Test(creds, name_takes_passwd_ids_home_and_memberships)
{
    struct creds c = resolve_ok("worker", NULL);
    cr_assert_eq(c.uid, 1000);
    cr_assert_eq(c.gid, 1000);
    cr_assert_str_eq(c.home, "/home/worker");
    assert_groups(&c, (gid_t[]){1000, 2000}, 2);
    creds_free(&c);
}

Test(creds, uid_alone_is_looked_up_too)
{
    struct creds c = resolve_ok("1000", NULL);
    cr_assert_eq(c.gid, 1000);
    assert_groups(&c, (gid_t[]){1000, 2000}, 2);
    creds_free(&c);
}

Test(creds, explicit_group_drops_etc_group_memberships)
{
    struct creds c = resolve_ok("1000:3000", NULL);
    cr_assert_eq(c.gid, 3000);
    assert_groups(&c, (gid_t[]){3000}, 1);
    creds_free(&c);
    c = resolve_ok("worker:extra", NULL);
    cr_assert_eq(c.gid, 2000);
    creds_free(&c);
}

Test(creds, unknown_numeric_uid_gets_gid_0_and_home_slash)
{
    struct creds c = resolve_ok("4242", NULL);
    cr_assert_eq(c.uid, 4242);
    cr_assert_eq(c.gid, 0);
    cr_assert_str_eq(c.home, "/");
    assert_groups(&c, (gid_t[]){0}, 1);
    creds_free(&c);
}

Test(creds, empty_home_becomes_slash_and_empty_user_is_root)
{
    struct creds c = resolve_ok("nohome", NULL);
    cr_assert_str_eq(c.home, "/");
    creds_free(&c);
    c = resolve_ok("", NULL);
    cr_assert_eq(c.uid, 0);
    cr_assert_str_eq(c.home, "/root");
    creds_free(&c);
}

Test(creds, group_add_takes_numbers_as_is_and_names_from_etc_group)
{
    struct creds c = resolve_ok("1000:1000", (const char *const[]){"5548", "extra", NULL});
    assert_groups(&c, (gid_t[]){1000, 5548, 2000}, 3);
    creds_free(&c);
}

/* Storm passes the primary gid again in --group-add: docker lists each group once. */
Test(creds, group_add_of_a_group_already_held_gives_it_once)
{
    struct creds c = resolve_ok("1000:1000", (const char *const[]){"1000", "5548", "5548", NULL});
    assert_groups(&c, (gid_t[]){1000, 5548}, 2);
    creds_free(&c);
    c = resolve_ok("worker", (const char *const[]){"extra", "1000", NULL});
    assert_groups(&c, (gid_t[]){1000, 2000}, 2);
    creds_free(&c);
}

Test(creds, unknown_names_are_usage_errors)
{
    struct creds c = {0};
    struct berr err = {0};
    cr_assert_eq(creds_resolve(rootfd, "nobody-here", NULL, &c, &err), -1);
    cr_assert_eq(err.kind, BERR_USAGE);
    cr_assert_str_eq(err.msg,
                     "unable to find user nobody-here: no matching entries in passwd file");
    cr_assert_eq(creds_resolve(rootfd, "worker:nogroup", NULL, &c, &err), -1);
    cr_assert_str_eq(err.msg, "unable to find group nogroup: no matching entries in group file");
    struct strv add = {0};
    strv_push(&add, "ghosts");
    cr_assert_eq(creds_resolve(rootfd, "worker", &add, &c, &err), -1);
    cr_assert(strstr(err.msg, "ghosts"));
    strv_free(&add);
    cr_assert_eq(creds_resolve(rootfd, "broken", NULL, &c, &err), -1,
                 "a row with a non-numeric uid is skipped");
}

Test(creds, missing_files_leave_only_numeric_ids)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/etc/passwd", root);
    unlink(path);
    snprintf(path, sizeof(path), "%s/etc/group", root);
    unlink(path);
    struct creds c = resolve_ok("7:8", NULL);
    cr_assert_eq(c.uid, 7);
    cr_assert_eq(c.gid, 8);
    creds_free(&c);
}
