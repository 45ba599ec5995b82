/* Reference grammar and normalisation, after docker/distribution's reference package:
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path-component ("/" path-component)*
 * Unlike docker, no "docker.io/library/" is added: the name stays as the user wrote it. */
#include "image/internal.h"

#include <ctype.h>
#include <string.h>

#define NAME_MAX_TOTAL 255
#define TAG_MAX 128

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

/* [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t n, bool *upper)
{
    if (n == 0)
        return false;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == start) {
            if (i < n && isupper((unsigned char)s[i]))
                *upper = true;
            return false;
        }
        if (i == n)
            return true;
        /* separator */
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            if (isupper((unsigned char)s[i]))
                *upper = true;
            return false;
        }
        if (i == n)
            return false;
    }
}

/* host[:port], host := label("." label)* with labels [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?,
 * or an IPv6 address in brackets. */
static bool valid_domain(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        i = 1;
        while (i < n && (isxdigit((unsigned char)s[i]) || s[i] == ':'))
            i++;
        if (i == 1 || i >= n || s[i] != ']')
            return false;
        i++;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < n && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i < n && s[i] == ':') {
        size_t start = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/* [\w][\w.-]{0,127} */
static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool word = is_alnum(s[i]) || s[i] == '_';
        if (!word && (i == 0 || (s[i] != '.' && s[i] != '-')))
            return false;
    }
    return true;
}

/* algorithm ":" hex, sha256 with exactly 64 lowercase hex digits */
static bool valid_digest(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return false;
    for (const char *p = s; p < colon; p++) {
        if (!is_alnum(*p) && !strchr("-_+.", *p))
            return false;
    }
    if (!isalpha((unsigned char)s[0]))
        return false;
    const char *hex = colon + 1;
    if (strncmp(s, "sha256:", 7) == 0)
        return is_hex64(hex);
    size_t n = strlen(hex);
    if (n < 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)hex[i]))
            return false;
    }
    return true;
}

static int invalid(struct berr *err, const char *why)
{
    if (why)
        return berr_set(err, BERR_USAGE, "invalid reference format: %s", why);
    return berr_set(err, BERR_USAGE, "invalid reference format");
}

/* Is the part before the first '/' a registry host? (splitDockerDomain) */
static bool looks_like_domain(const char *s, size_t n)
{
    if (n == 9 && strncmp(s, "localhost", 9) == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' || s[i] == ':' || isupper((unsigned char)s[i]))
            return true;
    }
    return false;
}

int image_normalize_ref(const char *ref, char **out, struct berr *err)
{
    if (!ref || !*ref)
        return invalid(err, NULL);
    if (is_hex64(ref))
        return berr_set(err, BERR_USAGE,
                        "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
                        ref);
    _cleanup_free_ char *name = xstrdup(ref);
    char *digest = strchr(name, '@');
    if (digest) {
        *digest++ = '\0';
        if (!valid_digest(digest))
            return invalid(err, NULL);
    }
    char *tag = NULL;
    char *last_slash = strrchr(name, '/');
    char *colon = strrchr(last_slash ? last_slash : name, ':');
    if (colon) {
        *colon = '\0';
        tag = colon + 1;
        if (!valid_tag(tag))
            return invalid(err, NULL);
    }
    size_t len = strlen(name);
    if (len == 0)
        return invalid(err, NULL);
    if (len > NAME_MAX_TOTAL)
        return invalid(err, "repository name must not be more than 255 characters");

    const char *path = name;
    const char *first_slash = strchr(name, '/');
    if (first_slash && looks_like_domain(name, (size_t)(first_slash - name))) {
        if (!valid_domain(name, (size_t)(first_slash - name)))
            return invalid(err, NULL);
        path = first_slash + 1;
    }
    bool upper = false;
    for (const char *p = path;;) {
        const char *end = strchrnul(p, '/');
        if (!valid_path_component(p, (size_t)(end - p), &upper)) {
            if (upper)
                return berr_set(err, BERR_USAGE,
                                "invalid reference format: repository name (%s) must be "
                                "lowercase",
                                name);
            return invalid(err, NULL);
        }
        if (!*end)
            break;
        p = end + 1;
    }
    if (tag && digest)
        *out = xasprintf("%s:%s@%s", name, tag, digest);
    else if (digest)
        *out = xasprintf("%s@%s", name, digest);
    else
        *out = xasprintf("%s:%s", name, tag ? tag : "latest");
    return 0;
}

int image_check_tag_name(const char *key, struct berr *err)
{
    const char *name = key;
    if (str_has_prefix(name, "docker.io/"))
        name += strlen("docker.io/");
    if (str_has_prefix(name, "library/"))
        name += strlen("library/");
    /* the name ends at the tag's ':' or the digest's '@'; a port's ':' comes before a '/' */
    size_t len = strcspn(name, ":@");
    if (len == strlen("sha256") && strncmp(name, "sha256", len) == 0)
        return berr_set(err, BERR_USAGE,
                        "refusing to create an ambiguous tag using digest algorithm as name");
    return 0;
}
