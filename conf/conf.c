/* key=value files, the ownership rule that makes one trustworthy, and berth.conf. */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>

void conf_free(struct conf *c)
{
    strv_free(&c->keys);
    strv_free(&c->values);
}

const char *conf_get(const struct conf *c, const char *key)
{
    for (size_t i = c->keys.n; i-- > 0;) {
        if (!strcmp(c->keys.v[i], key))
            return c->values.v[i];
    }
    return NULL;
}

static char *trimmed(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return strndup(s, n);
}

int conf_parse(const char *text, struct conf *out, struct berr *err)
{
    *out = (struct conf){0};
    unsigned lineno = 0;
    for (const char *line = text; *line;) {
        const char *end = strchrnul(line, '\n');
        lineno++;
        _cleanup_free_ char *l = trimmed(line, (size_t)(end - line));
        line = *end ? end + 1 : end;
        if (!l)
            abort();
        if (*l == '\0' || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            conf_free(out);
            return berr_set(err, BERR_USAGE, "line %u: not key=value: %s", lineno, l);
        }
        strv_push_owned(&out->keys, trimmed(l, (size_t)(eq - l)));
        strv_push_owned(&out->values, trimmed(eq + 1, strlen(eq + 1)));
    }
    return 0;
}

static int check_owned_by_root(const char *path, struct berr *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return berr_errno(err, "stat %s", path);
    if (st.st_uid != 0)
        return berr_set(err, BERR_FAILED, "%s must be owned by root, but is owned by %u", path,
                        (unsigned)st.st_uid);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return berr_set(err, BERR_FAILED, "%s must not be group or world writable, but is %03o",
                        path, (unsigned)(st.st_mode & 07777));
    return 0;
}

int conf_check_trusted(const char *path, struct berr *err)
{
    _cleanup_free_ char *real = realpath(path, NULL);
    if (!real)
        return berr_errno(err, "resolve %s", path);
    /* the file, then each directory up to (not including) "/" */
    for (char *p = real; strcmp(p, "/") != 0; p = dirname(p)) {
        if (check_owned_by_root(p, err) < 0)
            return -1;
    }
    return 0;
}

char *conf_berth_path_at(const char *exe, const char *bindir, const char *sysconfdir)
{
    _cleanup_free_ char *copy = xstrdup(exe);
    char *dir = dirname(copy);
    if (!strcmp(dir, bindir))
        return xasprintf("%s/berth/" CONF_BERTH_FILE, sysconfdir);
    _cleanup_free_ char *bincopy = xstrdup(dir);
    const char *prefix = dirname(bincopy);
    if (!strcmp(prefix, "/usr") || !strcmp(prefix, "/"))
        return xstrdup("/etc/berth/" CONF_BERTH_FILE);
    return xasprintf("%s/etc/berth/" CONF_BERTH_FILE, prefix);
}

char *conf_berth_path(const char *exe)
{
    return conf_berth_path_at(exe, BERTH_BINDIR, BERTH_SYSCONFDIR);
}

void berth_conf_free(struct berth_conf *c)
{
    free(c->root);
    free(c->runroot);
    free(c->cgroup_parent);
    free(c->seccomp_profile);
    strv_free(&c->insecure_registries);
    strv_free(&c->registry_mirrors);
    strv_free(&c->certs_dirs);
    *c = (struct berth_conf){0};
}

int conf_check_seccomp_profile(const char *what, const char *value, struct berr *err)
{
    if (value[0] == '/' || !strcmp(value, "builtin") || !strcmp(value, "unconfined"))
        return 0;
    return berr_set(err, BERR_USAGE,
                    "%s must be an absolute path, \"builtin\" or \"unconfined\": %s", what, value);
}

int conf_check_cgroup_parent(const char *what, const char *value, struct berr *err)
{
    if (value[0] == '/')
        return 0;
    return berr_set(err, BERR_USAGE, "%s must be an absolute path: %s", what, value);
}

static int take_path(const struct conf *c, const char *key, char **out, struct berr *err)
{
    const char *v = conf_get(c, key);
    if (!v)
        return 0;
    if (v[0] != '/')
        return berr_set(err, BERR_USAGE, "%s must be an absolute path: %s", key, v);
    *out = xstrdup(v);
    return 0;
}

static int read_trusted(const char *path, struct conf *out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    if (conf_check_trusted(path, err) < 0 ||
        read_file_at(AT_FDCWD, path, 64 << 10, &text, NULL, err) < 0)
        return -1;
    return conf_parse(text, out, err);
}

/* "a, b,c" → [a, b, c]; empty items dropped */
static void take_list(const struct conf *c, const char *key, const char *def, struct strv *out)
{
    const char *v = conf_get(c, key);
    _cleanup_free_ char *copy = xstrdup(v ? v : def);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        _cleanup_free_ char *item = trimmed(t, strlen(t));
        if (item && *item)
            strv_push(out, item);
    }
}

static int take_registry_keys(const struct conf *c, struct berth_conf *out, struct berr *err)
{
    take_list(c, "insecure-registries", "", &out->insecure_registries);
    take_list(c, "registry-mirrors", "", &out->registry_mirrors);
    take_list(c, "certs-dirs", CONF_DEFAULT_CERTS_DIRS, &out->certs_dirs);
    for (size_t i = 0; i < out->certs_dirs.n; i++) {
        if (out->certs_dirs.v[i][0] != '/')
            return berr_set(err, BERR_USAGE, "certs-dirs must be absolute paths: %s",
                            out->certs_dirs.v[i]);
    }
    out->max_downloads = CONF_DEFAULT_DOWNLOADS;
    const char *v = conf_get(c, "max-concurrent-downloads");
    long long n;
    if (v && parse_long(v, 1, 64, &n) < 0)
        return berr_set(err, BERR_USAGE, "max-concurrent-downloads must be 1 to 64: %s", v);
    if (v)
        out->max_downloads = (int)n;
    return 0;
}

int conf_berth_read(const char *exe, struct berth_conf *out, struct berr *err)
{
    _cleanup_free_ char *path = conf_berth_path(exe);
    return conf_berth_read_file(path, out, err);
}

int conf_berth_read_file(const char *path, struct berth_conf *out, struct berr *err)
{
    static const char *const known[] = {"root",
                                        "runroot",
                                        "cgroup-parent",
                                        "seccomp-profile",
                                        "insecure-registries",
                                        "registry-mirrors",
                                        "certs-dirs",
                                        "max-concurrent-downloads"};
    *out = (struct berth_conf){0};
    struct conf c;
    if (read_trusted(path, &c, err) < 0) {
        if (err->errnum == ENOENT) { /* no berth.conf: the defaults */
            struct conf none = {0};
            return take_registry_keys(&none, out, err);
        }
        return berr_wrap(err, "%s", path);
    }
    for (size_t i = 0; i < c.keys.n; i++) {
        bool ok = false;
        for (size_t k = 0; k < ARRAY_SIZE(known); k++)
            ok = ok || !strcmp(c.keys.v[i], known[k]);
        if (!ok) {
            berr_set(err, BERR_USAGE, "%s: unknown key %s", path, c.keys.v[i]);
            conf_free(&c);
            return -1;
        }
    }
    const char *seccomp = conf_get(&c, "seccomp-profile");
    int rc = take_path(&c, "root", &out->root, err) < 0 ||
                     take_path(&c, "runroot", &out->runroot, err) < 0 ||
                     take_path(&c, "cgroup-parent", &out->cgroup_parent, err) < 0 ||
                     (seccomp && conf_check_seccomp_profile("seccomp-profile", seccomp, err) < 0) ||
                     take_registry_keys(&c, out, err) < 0
                 ? berr_wrap(err, "%s", path)
                 : 0;
    if (rc == 0 && seccomp)
        out->seccomp_profile = xstrdup(seccomp);
    conf_free(&c);
    if (rc < 0)
        berth_conf_free(out);
    return rc;
}
