/* What a command file may ask of the privileged binary. Storm's supervisor writes the same
 * shape every time (storm-interface.md §2.1): the worker's uid:gid, its groups, every
 * capability dropped, no-new-privileges, a read-only root, binds of its own directories. Who
 * can write command files can ask for anything else, so anything else is refused here,
 * before an image is opened or a container created. */
#include "launcher/worker-launcher/wl.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool user_has_group(const struct ident *u, long long gid)
{
    if (gid == (long long)u->gid)
        return true;
    for (size_t i = 0; i < u->ngroups; i++) {
        if ((long long)u->groups[i] == gid)
            return true;
    }
    return false;
}

/* --user=<uid>:<gid> (or the name for uid), the <user>'s own, the group given: the image's
 * /etc/passwd and /etc/group must not decide who the worker is, so the container gets the
 * numbers whatever was written (a name could be uid 0 in the image's passwd). */
static int check_user(const struct wl *wl, struct container_spec *spec, struct berr *err)
{
    const char *user = spec->user;
    if (!user)
        return berr_set(err, BERR_USAGE, "--user is required (%u:%u)", (unsigned)wl->user.uid,
                        (unsigned)wl->user.gid);
    _cleanup_free_ char *u = xstrdup(user);
    char *g = strchr(u, ':');
    if (g)
        *g++ = '\0';
    long long uid = -1, gid = -1;
    bool uid_ok = !strcmp(u, wl->user_name) ||
                  (parse_long(u, 0, 4294967295LL, &uid) == 0 && uid == (long long)wl->user.uid);
    bool gid_ok = g && parse_long(g, 0, 4294967295LL, &gid) == 0 && gid == (long long)wl->user.gid;
    if (!uid_ok || !gid_ok)
        return berr_set(err, BERR_USAGE, "--user=%s is not %s's %u:%u", user, wl->user_name,
                        (unsigned)wl->user.uid, (unsigned)wl->user.gid);
    free(spec->user);
    spec->user = xasprintf("%u:%u", (unsigned)wl->user.uid, (unsigned)wl->user.gid);
    return 0;
}

static int check_groups(const struct wl *wl, const struct strv *groups, struct berr *err)
{
    for (size_t i = 0; i < groups->n; i++) {
        long long gid;
        if (parse_long(groups->v[i], 0, 4294967295LL, &gid) < 0 || !user_has_group(&wl->user, gid))
            return berr_set(err, BERR_USAGE, "--group-add %s is not one of %s's groups",
                            groups->v[i], wl->user_name);
    }
    return 0;
}

char *wl_user_realpath(const struct wl *wl, const char *what, const char *path, struct berr *err)
{
    if (ident_enter(&wl->user, err) < 0)
        return NULL;
    char *real = realpath(path, NULL);
    int saved = errno;
    ident_leave(&wl->user);
    if (!real)
        berr_set(err, BERR_USAGE, "%s %s: %s (as %s)", what, path, strerror(saved), wl->user_name);
    return real;
}

char *wl_bind_source(const struct wl *wl, const char *source, struct berr *err)
{
    char *real = wl_user_realpath(wl, "bind source", source, err);
    if (real && (!strcmp(real, "/") || !conf_wl_mount_allowed(&wl->policy, real))) {
        berr_set(err, BERR_USAGE, "bind source %s (%s) is not allowed%s", source, real,
                 strcmp(real, "/") ? " by docker.allowed.mounts" : "");
        free(real);
        return NULL;
    }
    return real;
}

/* bind sources (docker.c refused a ".." as written): the resolved path is what gets mounted */
static int check_binds(const struct wl *wl, struct container_spec *spec, struct berr *err)
{
    for (size_t i = 0; i < spec->nbinds; i++) {
        struct mount_bind *b = &spec->binds[i];
        char *real = wl_bind_source(wl, b->source, err);
        if (!real)
            return -1;
        free(b->source);
        b->source = real;
    }
    return 0;
}

int wl_policy_check(const struct wl *wl, struct container_spec *spec, struct berr *err)
{
    if (check_user(wl, spec, err) < 0 || check_groups(wl, &spec->group_add, err) < 0)
        return -1;
    if (spec->cap_add.n)
        return berr_set(err, BERR_USAGE, "--cap-add is not allowed");
    if (!strv_contains(&spec->cap_drop, "ALL"))
        return berr_set(err, BERR_USAGE, "--cap-drop=ALL is required");
    if (!spec->no_new_privs)
        return berr_set(err, BERR_USAGE, "--security-opt no-new-privileges is required");
    if (!spec->readonly_root)
        return berr_set(err, BERR_USAGE, "--read-only is required");
    if (spec->seccomp == RUNTIME_SECCOMP_UNCONFINED)
        return berr_set(err, BERR_USAGE, "--security-opt seccomp=unconfined is not allowed");
    if (!conf_wl_image_allowed(&wl->policy, spec->image_ref))
        return berr_set(err, BERR_USAGE, "image %s is not in docker.allowed.images",
                        spec->image_ref);
    return check_binds(wl, spec, err);
}
