/* registry/'s parsers of what a registry or a credentials file says: WWW-Authenticate
 * challenges, references, docker's config.json (lookup and rewrite), an index's manifests
 * list (platform choice), platforms. The first byte picks the parser; the rest is its text. */
#include "fuzz.h"
#include "registry/registry.h"

static void challenge(const char *text)
{
    struct registry_challenge c;
    struct berr err = {0};
    if (registry_parse_challenge(text, &c, &err) == 0) {
        if (!c.scheme)
            abort();
        registry_challenge_free(&c);
    }
}

static void reference(const char *text)
{
    struct registry_ref r;
    struct berr err = {0};
    if (registry_parse_ref(text, &r, &err) < 0)
        return;
    if (!r.domain || !r.repo || (!r.tag && !r.digest))
        abort();
    char *full = registry_full_name(&r);
    /* a full name reads back as itself */
    struct registry_ref again;
    if (registry_parse_ref(full, &again, &err) < 0 || strcmp(again.repo, r.repo) ||
        strcmp(again.domain, r.domain))
        abort();
    registry_ref_free(&again);
    free(full);
    registry_api_host(r.domain);
    registry_auth_key(r.domain);
    registry_ref_free(&r);
}

static void config_json(const char *text)
{
    struct registry_auth a;
    char *helper = NULL;
    struct berr err = {0};
    if (registry_auths_lookup(text, "docker.io", &a, &helper, &err) == 0) {
        registry_auth_free(&a);
        free(helper);
    }
    char *out = NULL;
    if (registry_auths_update(text, "h:5000", "u", "p", &out, &err) == 0) {
        /* what login wrote is found again */
        if (registry_auths_lookup(out, "h:5000", &a, &helper, &err) == 0) {
            if (!helper && (!a.user || strcmp(a.user, "u") || strcmp(a.pass, "p")))
                abort();
            registry_auth_free(&a);
            free(helper);
        }
        free(out);
    }
}

static void manifests(const char *text)
{
    yajl_val v = NULL;
    struct berr err = {0};
    if (json_parse(text, &v, &err) < 0)
        return;
    struct registry_platform p;
    registry_host_platform(&p);
    ssize_t i = registry_pick_manifest(json_get(v, "manifests"), &p);
    if (i >= 0 && (size_t)i >= json_get(v, "manifests")->u.array.len)
        abort();
    if (registry_parse_platform("linux/arm/v7", &p, &err) == 0)
        registry_pick_manifest(json_get(v, "manifests"), &p);
    yajl_tree_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    _cleanup_free_ char *text = fuzz_cstr(data + 1, size - 1);
    switch (data[0] % 5) {
    case 0:
        challenge(text);
        break;
    case 1:
        reference(text);
        break;
    case 2:
        config_json(text);
        break;
    case 3:
        manifests(text);
        break;
    default: {
        struct registry_platform p;
        struct berr err = {0};
        registry_parse_platform(text, &p, &err);
    }
    }
    return 0;
}
