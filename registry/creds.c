/* docker's credentials file: {"auths": {"<server>": {"auth": base64("user:pass")}},
 * "credsStore": "NAME", "credHelpers": {"<server>": "NAME"}}. Existing docker logins are read
 * as they are; login writes the same shape, leaving every other key alone. */
#include "registry/registry.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define HELPER_OUT_MAX (64u << 10)

void registry_auth_free(struct registry_auth *a)
{
    free(a->user);
    if (a->pass)
        explicit_bzero(a->pass, strlen(a->pass));
    free(a->pass);
    *a = (struct registry_auth){0};
}

char *registry_config_path(const char *docker_config, const char *home, uid_t uid)
{
    if (docker_config && *docker_config)
        return xasprintf("%s/config.json", docker_config);
    if (!home || !*home) {
        struct passwd *pw = getpwuid(uid);
        home = pw ? pw->pw_dir : "/";
    }
    return xasprintf("%s/.docker/config.json", home);
}

static int split_auth(const char *b64, struct registry_auth *out, struct berr *err)
{
    size_t n = strlen(b64);
    _cleanup_free_ unsigned char *raw = xmalloc(n / 4 * 3 + 4);
    int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
    if (len < 0 || n % 4)
        return berr_set(err, BERR_FAILED, "config.json: an auth entry is not base64");
    /* EVP_DecodeBlock counts the padding's zero bytes */
    while (n && b64[n - 1] == '=' && len > 0)
        n--, len--;
    raw[len] = '\0';
    char *colon = strchr((char *)raw, ':');
    if (!colon || memchr(raw, '\0', (size_t)len))
        return berr_set(err, BERR_FAILED, "config.json: an auth entry is not user:password");
    out->user = strndup((char *)raw, (size_t)(colon - (char *)raw));
    out->pass = xstrdup(colon + 1);
    explicit_bzero(raw, (size_t)len);
    return 0;
}

/* docker finds an auths key by its host, so "https://host:5000/v2/" and "host:5000" match */
static bool key_names(const char *key, const char *domain)
{
    if (!strcmp(domain, "docker.io")) {
        return !strcmp(key, "https://index.docker.io/v1/") || !strcmp(key, "index.docker.io") ||
               !strcmp(key, "docker.io") || !strcmp(key, "registry-1.docker.io");
    }
    const char *k = key;
    if (str_has_prefix(k, "https://"))
        k += 8;
    else if (str_has_prefix(k, "http://"))
        k += 7;
    size_t n = strcspn(k, "/");
    return n == strlen(domain) && !strncmp(k, domain, n);
}

/* credHelpers' helper for domain, NULL when none is named */
static char *cred_helper_of(yajl_val doc, const char *domain)
{
    yajl_val helpers = json_get(doc, "credHelpers");
    for (size_t i = 0; YAJL_IS_OBJECT(helpers) && i < helpers->u.object.len; i++) {
        yajl_val v = helpers->u.object.values[i];
        if (key_names(helpers->u.object.keys[i], domain) && YAJL_IS_STRING(v))
            return xstrdup(v->u.string);
    }
    return NULL;
}

int registry_auths_lookup(const char *text, const char *domain, struct registry_auth *out,
                          char **helper, struct berr *err)
{
    *out = (struct registry_auth){0};
    *helper = NULL;
    yajl_val doc = NULL;
    if (json_parse(text, &doc, err) < 0)
        return berr_wrap(err, "config.json");
    int rc = 0;
    *helper = cred_helper_of(doc, domain);
    yajl_val auths = json_get(doc, "auths");
    for (size_t i = 0; !*helper && YAJL_IS_OBJECT(auths) && i < auths->u.object.len; i++) {
        if (!key_names(auths->u.object.keys[i], domain))
            continue;
        yajl_val e = auths->u.object.values[i];
        const char *auth = json_get_str(e, "auth");
        const char *user = json_get_str(e, "username"), *pass = json_get_str(e, "password");
        if (auth && *auth) {
            rc = split_auth(auth, out, err);
        } else if (user && pass) {
            out->user = xstrdup(user);
            out->pass = xstrdup(pass);
        }
        break;
    }
    const char *store = json_get_str(doc, "credsStore");
    if (rc == 0 && !*helper && !out->user && store && *store)
        *helper = xstrdup(store);
    yajl_tree_free(doc);
    return rc;
}

static bool helper_name_ok(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++) {
        if (!(isalnum((unsigned char)*p) || strchr("-_.", *p)))
            return false;
    }
    return true;
}

/* docker-credential-<helper> VERB with input on its stdin; its stdout in *text. */
static int run_helper(const char *helper, const char *verb, const char *input, char **text,
                      int *status, struct berr *err)
{
    *text = NULL;
    if (!helper_name_ok(helper))
        return berr_set(err, BERR_FAILED, "credential helper name %s is not allowed", helper);
    _cleanup_free_ char *prog = xasprintf("docker-credential-%s", helper);
    int in[2], outp[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return berr_errno(err, "pipe");
    if (pipe2(outp, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return berr_errno(err, "pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
        return berr_errno(err, "fork");
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        execlp(prog, prog, verb, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    /* a helper that ended without reading (not in PATH: its exec failed) is its exit status
     * below, not berth's death */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigaction(SIGPIPE, &ign, &old_pipe);
    (void)!write_all(in[1], input, strlen(input));
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(in[1]);
    size_t len = 0;
    int rc = read_fd_all(outp[0], HELPER_OUT_MAX, text, &len, err);
    close(outp[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        return berr_wrap(err, "%s", prog);
    return 0;
}

static int helper_failed(const char *helper, const char *verb, int status, const char *text,
                         struct berr *err)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return berr_set(err, BERR_FAILED, "docker-credential-%s %s: not found in PATH", helper,
                        verb);
    /* the helper's own words: its first line */
    int n = text ? (int)strcspn(text, "\n") : 0;
    return berr_set(err, BERR_FAILED, "docker-credential-%s %s: failed%s%.*s", helper, verb,
                    n ? ": " : "", n, n ? text : "");
}

int registry_helper_get(const char *helper, const char *server, struct registry_auth *out,
                        struct berr *err)
{
    *out = (struct registry_auth){0};
    _cleanup_free_ char *text = NULL;
    int status;
    if (run_helper(helper, "get", server, &text, &status, err) < 0)
        return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* "credentials not found" is anonymous access, as for docker */
        if (text && strstr(text, "credentials not found"))
            return 0;
        return helper_failed(helper, "get", status, text, err);
    }
    yajl_val doc = NULL;
    if (json_parse(text, &doc, err) < 0)
        return berr_wrap(err, "docker-credential-%s get", helper);
    const char *user = json_get_str(doc, "Username"), *secret = json_get_str(doc, "Secret");
    if (user && secret) {
        out->user = xstrdup(user);
        out->pass = xstrdup(secret);
    }
    yajl_tree_free(doc);
    return 0;
}

int registry_helper_store(const char *helper, const char *server, const char *user,
                          const char *secret, struct berr *err)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "ServerURL", server);
    json_key_str(g, "Username", user);
    json_key_str(g, "Secret", secret);
    yajl_gen_map_close(g);
    _cleanup_free_ char *input = json_gen_take(g, NULL);
    _cleanup_free_ char *text = NULL;
    int status;
    int rc = run_helper(helper, "store", input, &text, &status, err);
    explicit_bzero(input, strlen(input));
    if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = helper_failed(helper, "store", status, text, err);
    return rc;
}

int registry_helper_erase(const char *helper, const char *server, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    int status;
    if (run_helper(helper, "erase", server, &text, &status, err) < 0)
        return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return helper_failed(helper, "erase", status, text, err);
    return 0;
}

int registry_store_helper(const char *text, const char *domain, char **helper, bool *has_entry,
                          struct berr *err)
{
    *helper = NULL;
    *has_entry = false;
    if (!text || !*text)
        return 0;
    yajl_val doc = NULL;
    if (json_parse(text, &doc, err) < 0)
        return berr_wrap(err, "config.json");
    *helper = cred_helper_of(doc, domain);
    const char *store = json_get_str(doc, "credsStore");
    if (!*helper && store && *store)
        *helper = xstrdup(store);
    yajl_val auths = json_get(doc, "auths");
    for (size_t i = 0; YAJL_IS_OBJECT(auths) && i < auths->u.object.len; i++)
        *has_entry |= key_names(auths->u.object.keys[i], domain);
    yajl_tree_free(doc);
    return 0;
}

int registry_auths_update(const char *text, const char *domain, const char *user, const char *pass,
                          char **out, struct berr *err)
{
    yajl_val doc = NULL;
    if (text && *text && json_parse(text, &doc, err) < 0)
        return berr_wrap(err, "config.json");
    if (doc && !YAJL_IS_OBJECT(doc)) {
        yajl_tree_free(doc);
        return berr_set(err, BERR_FAILED, "config.json: not an object");
    }
    const char *key = registry_auth_key(domain);
    yajl_gen g = json_gen_new(true);
    yajl_gen_map_open(g);
    yajl_val auths = json_get(doc, "auths");
    json_str(g, "auths");
    yajl_gen_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(auths) && i < auths->u.object.len; i++) {
        if (key_names(auths->u.object.keys[i], domain))
            continue;
        json_str(g, auths->u.object.keys[i]);
        json_gen_value(g, auths->u.object.values[i]);
    }
    if (user && !pass) {
        /* the credentials are a helper's: docker keeps an empty entry, its record of a login */
        json_str(g, key);
        yajl_gen_map_open(g);
        yajl_gen_map_close(g);
    } else if (user) {
        _cleanup_free_ char *plain = xasprintf("%s:%s", user, pass);
        size_t n = strlen(plain);
        _cleanup_free_ char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
        explicit_bzero(plain, n);
        json_str(g, key);
        yajl_gen_map_open(g);
        json_key_str(g, "auth", b64);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    for (size_t i = 0; doc && i < doc->u.object.len; i++) {
        if (!strcmp(doc->u.object.keys[i], "auths"))
            continue;
        json_str(g, doc->u.object.keys[i]);
        json_gen_value(g, doc->u.object.values[i]);
    }
    yajl_gen_map_close(g);
    yajl_tree_free(doc);
    *out = json_gen_take(g, NULL);
    return 0;
}
