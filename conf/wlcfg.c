/* worker-launcher.cfg as Storm's launcher reads it, and the policy keys berth adds to it. */
#include "conf.h"

#include <string.h>

/* strtok_r(line, "=") twice: leading '=' skipped, the value cut at the next '='. */
static int parse_line(char *line, struct conf *out)
{
    char *save = NULL;
    char *key = strtok_r(line, "=", &save);
    if (!key)
        return 0; /* only '=': strtok finds nothing, as an empty line */
    char *value = strtok_r(NULL, "=", &save);
    if (!value)
        return -1;
    if (value[0] == '#' || conf_get(out, key))
        return 0;
    strv_push(&out->keys, key);
    strv_push(&out->values, value);
    return 0;
}

int conf_wl_parse(const char *text, struct conf *out, struct berr *err)
{
    *out = (struct conf){0};
    unsigned lineno = 0;
    for (const char *line = text; *line;) {
        const char *end = strchrnul(line, '\n');
        lineno++;
        _cleanup_free_ char *l = strndup(line, (size_t)(end - line));
        line = *end ? end + 1 : end;
        if (!l)
            abort();
        if (*l == '\0' || *l == '#')
            continue;
        if (parse_line(l, out) < 0) {
            conf_free(out);
            return berr_set(err, BERR_USAGE, "line %u: configuration tokenization failed", lineno);
        }
    }
    if (out->keys.n == 0)
        return berr_set(err, BERR_USAGE, "no entries");
    return 0;
}

int conf_wl_min_uid(const struct conf *c, long long *out, struct berr *err)
{
    const char *v = conf_get(c, "min.user.id");
    *out = 1000;
    if (v && parse_long(v, 0, 4294967295LL, out) < 0)
        return berr_set(err, BERR_USAGE, "min.user.id is not a number: %s", v);
    return 0;
}

static void split_list(const char *v, struct strv *out)
{
    _cleanup_free_ char *copy = xstrdup(v);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        strv_push(out, t);
}

bool conf_wl_banned(const struct conf *c, const char *user)
{
    const char *v = conf_get(c, "banned.users");
    _cleanup_strv_ struct strv banned = {0};
    split_list(v ? v : "bin", &banned);
    return strv_contains(&banned, user);
}

/* each a clean absolute path other than "/" */
static int check_prefixes(const char *key, const struct strv *v, struct berr *err)
{
    for (size_t k = 0; k < v->n; k++) {
        const char *p = v->v[k];
        _cleanup_free_ char *clean = p[0] == '/' ? path_clean(p) : NULL;
        if (!clean || strcmp(clean, p) || !strcmp(p, "/"))
            return berr_set(err, BERR_USAGE, "%s: %s is not a clean absolute path other than /",
                            key, p);
    }
    return 0;
}

int conf_wl_policy(const struct conf *c, struct wl_policy *out, struct berr *err)
{
    *out = (struct wl_policy){0};
    const char *m = conf_get(c, "docker.allowed.mounts");
    const char *i = conf_get(c, "docker.allowed.images");
    const char *l = conf_get(c, "worker.launcher.oci.allowed.layers");
    out->any_mount = !m || !strcmp(m, "*");
    out->any_image = !i || !strcmp(i, "*");
    out->any_layer = !l || !strcmp(l, "*");
    if (!out->any_mount)
        split_list(m, &out->mounts);
    if (!out->any_image)
        split_list(i, &out->images);
    if (!out->any_layer)
        split_list(l, &out->layers);
    if (check_prefixes("docker.allowed.mounts", &out->mounts, err) < 0 ||
        check_prefixes("worker.launcher.oci.allowed.layers", &out->layers, err) < 0) {
        wl_policy_free(out);
        return -1;
    }
    return 0;
}

void wl_policy_free(struct wl_policy *p)
{
    strv_free(&p->mounts);
    strv_free(&p->images);
    strv_free(&p->layers);
}

bool conf_wl_mount_allowed(const struct wl_policy *p, const char *path)
{
    if (p->any_mount)
        return true;
    for (size_t k = 0; k < p->mounts.n; k++) {
        size_t n = strlen(p->mounts.v[k]);
        if (!strncmp(path, p->mounts.v[k], n) && (path[n] == '\0' || path[n] == '/'))
            return true;
    }
    return false;
}

bool conf_wl_image_allowed(const struct wl_policy *p, const char *ref)
{
    if (p->any_image || strv_contains(&p->images, ref))
        return true;
    const char *slash = strrchr(ref, '/');
    if (strchr(slash ? slash : ref, ':') || strchr(ref, '@'))
        return false;
    _cleanup_free_ char *tagged = xasprintf("%s:latest", ref);
    return strv_contains(&p->images, tagged);
}

bool conf_wl_layer_allowed(const struct wl_policy *p, const char *path)
{
    struct wl_policy as_mounts = {.any_mount = p->any_layer, .mounts = p->layers};
    return conf_wl_mount_allowed(&as_mounts, path);
}
