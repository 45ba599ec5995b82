/* The pure parts: references, WWW-Authenticate challenges, platforms. */
#include "registry/registry.h"

#include <ctype.h>
#include <string.h>
#include <sys/utsname.h>

void registry_ref_free(struct registry_ref *r)
{
    free(r->domain);
    free(r->repo);
    free(r->tag);
    free(r->digest);
    *r = (struct registry_ref){0};
}

static bool is_domain(const char *s, size_t n)
{
    return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9));
}

static bool valid_repo(const char *s)
{
    if (!*s || strlen(s) > 255)
        return false;
    for (const char *p = s; *p; p++) {
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("._-/", *p)))
            return false;
    }
    return s[0] != '/' && s[strlen(s) - 1] != '/' && !strstr(s, "//");
}

static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!(isalnum((unsigned char)s[i]) || strchr("._-", s[i])))
            return false;
    }
    return true;
}

static bool valid_digest(const char *s)
{
    if (!str_has_prefix(s, "sha256:") || strlen(s) != 7 + 64)
        return false;
    for (const char *p = s + 7; *p; p++) {
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    }
    return true;
}

int registry_parse_ref(const char *ref, struct registry_ref *out, struct berr *err)
{
    *out = (struct registry_ref){0};
    _cleanup_free_ char *s = xstrdup(ref);
    char *at = strchr(s, '@');
    if (at) {
        *at = '\0';
        if (!valid_digest(at + 1))
            return berr_set(err, BERR_USAGE, "invalid reference format: %s", ref);
        out->digest = xstrdup(at + 1);
    }
    char *slash = strrchr(s, '/');
    char *colon = strrchr(slash ? slash : s, ':');
    if (colon) {
        *colon = '\0';
        if (!valid_tag(colon + 1)) {
            registry_ref_free(out);
            return berr_set(err, BERR_USAGE, "invalid reference format: %s", ref);
        }
        out->tag = xstrdup(colon + 1);
    } else if (!out->digest) {
        out->tag = xstrdup("latest");
    }
    const char *first_end = strchr(s, '/');
    const char *path = s;
    if (first_end && is_domain(s, (size_t)(first_end - s))) {
        out->domain = strndup(s, (size_t)(first_end - s));
        path = first_end + 1;
    } else {
        out->domain = xstrdup("docker.io");
    }
    if (!strcmp(out->domain, "index.docker.io")) {
        free(out->domain);
        out->domain = xstrdup("docker.io");
    }
    if (!strcmp(out->domain, "docker.io") && !strchr(path, '/'))
        out->repo = xasprintf("library/%s", path);
    else
        out->repo = xstrdup(path);
    if (!valid_repo(out->repo)) {
        bool upper = false;
        for (const char *p = path; *p; p++)
            upper |= isupper((unsigned char)*p);
        registry_ref_free(out);
        return berr_set(err, BERR_USAGE,
                        upper ? "invalid reference format: repository name must be lowercase"
                              : "invalid reference format: %s",
                        ref);
    }
    return 0;
}

const char *registry_api_host(const char *domain)
{
    return strcmp(domain, "docker.io") ? domain : "registry-1.docker.io";
}

const char *registry_auth_key(const char *domain)
{
    return strcmp(domain, "docker.io") ? domain : "https://index.docker.io/v1/";
}

char *registry_full_name(const struct registry_ref *r)
{
    if (r->tag)
        return xasprintf("%s/%s:%s", r->domain, r->repo, r->tag);
    return xasprintf("%s/%s@%s", r->domain, r->repo, r->digest);
}

const char *registry_ref_tag_or_digest(const struct registry_ref *r)
{
    return r->tag ? r->tag : r->digest;
}

/* ---- WWW-Authenticate (RFC 7235): scheme, then key=value or key="quoted" pairs ------------ */

void registry_challenge_free(struct registry_challenge *c)
{
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    *c = (struct registry_challenge){0};
}

int registry_parse_challenge(const char *header, struct registry_challenge *out, struct berr *err)
{
    *out = (struct registry_challenge){0};
    const char *p = header;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, " \t");
    if (n == 0)
        return berr_set(err, BERR_FAILED, "empty WWW-Authenticate header");
    out->scheme = strndup(p, n);
    p += n;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t kn = strcspn(p, "= \t,");
        _cleanup_free_ char *key = strndup(p, kn);
        p += kn;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=') {
            registry_challenge_free(out);
            return berr_set(err, BERR_FAILED, "WWW-Authenticate: parameter %s without a value",
                            key);
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        char *val = xmalloc(strlen(p) + 1);
        size_t vn = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                val[vn++] = *p++;
            }
            if (*p != '"') {
                free(val);
                registry_challenge_free(out);
                return berr_set(err, BERR_FAILED, "WWW-Authenticate: unterminated quote");
            }
            p++;
        } else {
            while (*p && *p != ',' && *p != ' ' && *p != '\t')
                val[vn++] = *p++;
        }
        val[vn] = '\0';
        char **slot = !strcasecmp(key, "realm")     ? &out->realm
                      : !strcasecmp(key, "service") ? &out->service
                      : !strcasecmp(key, "scope")   ? &out->scope
                                                    : NULL;
        if (slot) {
            free(*slot);
            *slot = val;
        } else {
            free(val);
        }
    }
    if (!strcasecmp(out->scheme, "bearer") && !out->realm) {
        registry_challenge_free(out);
        return berr_set(err, BERR_FAILED, "WWW-Authenticate: Bearer challenge without a realm");
    }
    return 0;
}

/* ---- platforms ------------------------------------------------------------------------- */

static void copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void registry_host_platform(struct registry_platform *out)
{
    static const struct {
        const char *uname, *arch, *variant;
    } map[] = {
        {"x86_64", "amd64", ""},    {"aarch64", "arm64", "v8"}, {"armv7l", "arm", "v7"},
        {"armv6l", "arm", "v6"},    {"i686", "386", ""},        {"i386", "386", ""},
        {"ppc64le", "ppc64le", ""}, {"s390x", "s390x", ""},     {"riscv64", "riscv64", ""},
    };
    *out = (struct registry_platform){0};
    copy(out->os, sizeof(out->os), "linux");
    struct utsname u;
    const char *machine = uname(&u) == 0 ? u.machine : "x86_64";
    copy(out->arch, sizeof(out->arch), machine);
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (!strcmp(machine, map[i].uname)) {
            copy(out->arch, sizeof(out->arch), map[i].arch);
            copy(out->variant, sizeof(out->variant), map[i].variant);
        }
    }
}

int registry_parse_platform(const char *s, struct registry_platform *out, struct berr *err)
{
    *out = (struct registry_platform){0};
    _cleanup_free_ char *c = xstrdup(s);
    char *arch = strchr(c, '/');
    if (!arch || !arch[1] || arch == c)
        return berr_set(err, BERR_USAGE, "invalid platform %s: want os/arch[/variant]", s);
    *arch++ = '\0';
    char *variant = strchr(arch, '/');
    if (variant)
        *variant++ = '\0';
    if (strlen(c) >= sizeof(out->os) || strlen(arch) >= sizeof(out->arch) ||
        (variant && (strlen(variant) >= sizeof(out->variant) || strchr(variant, '/'))))
        return berr_set(err, BERR_USAGE, "invalid platform %s", s);
    copy(out->os, sizeof(out->os), c);
    copy(out->arch, sizeof(out->arch), arch);
    if (variant)
        copy(out->variant, sizeof(out->variant), variant);
    /* containerd's normalisation: arm64's variant is v8 unless named */
    if (!strcmp(out->arch, "arm64") && !out->variant[0])
        copy(out->variant, sizeof(out->variant), "v8");
    return 0;
}

static bool variant_equal(const char *want, const char *have, const char *arch)
{
    if (!have || !*have)
        have = !strcmp(arch, "arm64") ? "v8" : "";
    return !strcmp(want, have);
}

ssize_t registry_pick_manifest(yajl_val manifests, const struct registry_platform *p)
{
    if (!YAJL_IS_ARRAY(manifests))
        return -1;
    ssize_t loose = -1;
    for (size_t i = 0; i < manifests->u.array.len; i++) {
        yajl_val d = manifests->u.array.values[i];
        yajl_val plat = json_get(d, "platform");
        const char *os = json_get_str(plat, "os"), *arch = json_get_str(plat, "architecture");
        if (!os || !arch || strcmp(os, p->os) || strcmp(arch, p->arch))
            continue;
        const char *variant = json_get_str(plat, "variant");
        if (!p->variant[0] || variant_equal(p->variant, variant, p->arch))
            return (ssize_t)i;
        if ((!variant || !*variant) && loose < 0)
            loose = (ssize_t)i;
    }
    return loose;
}
