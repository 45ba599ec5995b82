/* Speaking to one registry: TLS material as docker finds it, the /v2/ ping, the token and basic
 * auth flows, small GETs, and turning curl's and the registry's failures into one line. */
#include "registry/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <ctype.h>
#include <string.h>

#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define TOKEN_MAX (1u << 20)
#define CA_MAX (4u << 20)

void response_free(struct response *r)
{
    free(r->body);
    free(r->content_type);
    free(r->digest);
    *r = (struct response){0};
}

void session_close(struct session *s)
{
    free(s->domain);
    free(s->repo);
    free(s->base);
    free(s->cert_host);
    free(s->ca_blob);
    strv_free(&s->ca_paths);
    free(s->client_cert);
    free(s->client_key);
    if (s->authz)
        explicit_bzero(s->authz, strlen(s->authz));
    free(s->authz);
    curl_api_close(&s->api);
    *s = (struct session){0};
}

static void ca_append(struct session *s, const char *path)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct berr ignored;
    strv_push(&s->ca_paths, path);
    if (read_file_at(AT_FDCWD, path, CA_MAX, &text, &len, &ignored) < 0)
        return;
    s->ca_blob = xrealloc(s->ca_blob, s->ca_len + len + 2);
    memcpy(s->ca_blob + s->ca_len, text, len);
    s->ca_len += len;
    s->ca_blob[s->ca_len++] = '\n';
    s->ca_blob[s->ca_len] = '\0';
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && !strcmp(s + n - m, suffix);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* docker's convention: <dir>/<host[:port]>/ holds *.crt (CAs added to the system's), and
 * client pairs NAME.cert + NAME.key */
static void load_certs_dir(struct session *s, const char *dir)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, s->cert_host);
    strv_push(&s->ca_paths, path);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct strv names = {0};
    struct dirent *de;
    while ((de = readdir(d)))
        strv_push(&names, de->d_name);
    closedir(d);
    qsort(names.v, names.n, sizeof(char *), cmp_names);
    for (size_t i = 0; i < names.n; i++) {
        _cleanup_free_ char *file = xasprintf("%s/%s", path, names.v[i]);
        if (ends_with(names.v[i], ".crt")) {
            ca_append(s, file);
        } else if (ends_with(names.v[i], ".cert") && !s->client_cert) {
            _cleanup_free_ char *key = xasprintf("%.*s.key", (int)(strlen(file) - 5), file);
            if (access(key, R_OK) == 0) {
                s->client_cert = steal_ptr(&file);
                s->client_key = steal_ptr(&key);
            }
        }
    }
    strv_free(&names);
}

static bool is_insecure(const struct registry_opts *o, const char *host)
{
    return strv_contains(&o->insecure, host);
}

static void set_base(struct session *s, const char *host, bool http)
{
    free(s->base);
    free(s->cert_host);
    free(s->ca_blob);
    s->ca_blob = NULL;
    s->ca_len = 0;
    strv_free(&s->ca_paths);
    free(s->client_cert);
    free(s->client_key);
    s->client_cert = s->client_key = NULL;
    s->cert_host = xstrdup(host);
    s->base = xasprintf("%s://%s", http || is_insecure(s->opts, host) ? "http" : "https", host);
    ca_append(s, SYSTEM_CA_FILE);
    for (size_t i = 0; i < s->opts->certs_dirs.n; i++)
        load_certs_dir(s, s->opts->certs_dirs.v[i]);
}

void session_setup(const struct session *s, CURL *h, struct curl_slist **headers,
                   const char *accept)
{
    const struct curl_api *api = &s->api;
    api->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    api->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a stalled transfer fails instead of hanging: under 1 kB/s for 60 s */
    api->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    api->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    api->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    api->easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    api->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    api->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    api->easy_setopt(h, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
    if (s->ca_blob) {
        struct curl_blob blob = {.data = s->ca_blob, .len = s->ca_len, .flags = CURL_BLOB_COPY};
        api->easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (s->client_cert) {
        api->easy_setopt(h, CURLOPT_SSLCERT, s->client_cert);
        api->easy_setopt(h, CURLOPT_SSLKEY, s->client_key);
    }
    *headers = NULL;
    if (accept) {
        _cleanup_free_ char *a = xasprintf("Accept: %s", accept);
        *headers = api->slist_append(*headers, a);
    }
    if (s->authz)
        *headers = api->slist_append(*headers, s->authz);
    api->easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
}

/* ---- errors ----------------------------------------------------------------------------- */

int session_curl_error(const struct session *s, CURL *h, CURLcode rc, const char *url,
                       const char *curl_msg, struct berr *err)
{
    long os_errno = 0;
    s->api.easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    const char *why = curl_msg && *curl_msg ? curl_msg : s->api.easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return berr_set(err, BERR_FAILED, "Get \"%s\": lookup %s: no such host", url, s->cert_host);
    case CURLE_COULDNT_CONNECT:
        return berr_set(err, BERR_FAILED, "Get \"%s\": dial tcp %s: connect: %s", url, s->cert_host,
                        os_errno == ECONNREFUSED ? "connection refused"
                        : os_errno               ? strerror((int)os_errno)
                                                 : why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE: {
        _cleanup_free_ char *paths = strv_join(&s->ca_paths, ", ");
        return berr_set(err, BERR_FAILED, "Get \"%s\": tls: %s (CAs looked at: %s)", url, why,
                        paths);
    }
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: {
        /* with TLS 1.3 a server that refuses the client's certificate (or wants one) says so
         * only after the handshake: the first read fails, no HTTP status seen */
        long status = 0;
        s->api.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 0 && str_has_prefix(s->base, "https://")) {
            _cleanup_free_ char *paths = strv_join(&s->ca_paths, ", ");
            return berr_set(err, BERR_FAILED,
                            "Get \"%s\": tls: the registry ended the connection (%s); it may "
                            "want a client certificate%s%s (NAME.cert + NAME.key; looked at: %s)",
                            url, why, s->client_cert ? " other than " : "",
                            s->client_cert ? s->client_cert : "", paths);
        }
        return berr_set(err, BERR_FAILED, "Get \"%s\": %s", url, why);
    }
    default:
        return berr_set(err, BERR_FAILED, "Get \"%s\": %s", url, why);
    }
}

/* the registry's own error text: {"errors":[{"code":"...","message":"..."}]} */
static char *registry_message(const char *body)
{
    yajl_val doc = NULL;
    struct berr ignored;
    if (!body || json_parse(body, &doc, &ignored) < 0)
        return NULL;
    yajl_val errs = json_get(doc, "errors");
    char *out = NULL;
    if (YAJL_IS_ARRAY(errs) && errs->u.array.len) {
        const char *code = json_get_str(errs->u.array.values[0], "code");
        const char *msg = json_get_str(errs->u.array.values[0], "message");
        /* docker prints "manifest unknown: manifest unknown" for MANIFEST_UNKNOWN */
        if (msg && code) {
            out = xasprintf("%s: %s", code, msg);
            for (char *p = out; *p && *p != ':'; p++)
                *p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
        } else if (msg) {
            out = xstrdup(msg);
        }
    }
    yajl_tree_free(doc);
    return out;
}

int session_status_error(const struct session *s, long status, const char *what, const char *body,
                         struct berr *err)
{
    _cleanup_free_ char *msg = registry_message(body);
    if (status == 401 || status == 403)
        return berr_set(err, BERR_FAILED,
                        "pull access denied for %s/%s, repository does not exist or may require "
                        "'berth login': %s",
                        s->domain, s->repo,
                        msg             ? msg
                        : status == 401 ? "unauthorized: authentication required"
                                        : "denied: requested access to the resource is "
                                          "denied");
    if (status == 404)
        return berr_set(err, BERR_NOT_FOUND, "%s", msg ? msg : what);
    return berr_set(err, BERR_FAILED, "%s: HTTP %ld from %s%s%s", what, status, s->base,
                    msg ? ": " : "", msg ? msg : "");
}

/* ---- requests --------------------------------------------------------------------------- */

struct capture {
    struct response *r;
    size_t max;
    char *challenge;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct capture *c = ctx;
    size_t len = size * n;
    if (c->r->len + len > c->max) {
        c->r->over_cap = true;
        return 0;
    }
    c->r->body = xrealloc(c->r->body, c->r->len + len + 1);
    memcpy(c->r->body + c->r->len, data, len);
    c->r->len += len;
    c->r->body[c->r->len] = '\0';
    return len;
}

static char *header_value(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(line, name, n) || line[n] != ':')
        return NULL;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    return strndup(v, (size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    struct capture *c = ctx;
    size_t len = size * n;
    char *v;
    /* a redirect's headers come first: the last response's win */
    if ((v = header_value(line, len, "Content-Type"))) {
        free(c->r->content_type);
        c->r->content_type = v;
    } else if ((v = header_value(line, len, "Docker-Content-Digest"))) {
        free(c->r->digest);
        c->r->digest = v;
    } else if ((v = header_value(line, len, "WWW-Authenticate"))) {
        free(c->challenge);
        c->challenge = v;
    }
    return len;
}

static int request(struct session *s, const char *url, const char *accept, size_t max,
                   const struct registry_auth *basic, struct response *out, char **challenge,
                   struct berr *err)
{
    *out = (struct response){0};
    const struct curl_api *api = &s->api;
    struct capture c = {.r = out, .max = max};
    CURL *h = api->easy_init();
    if (!h)
        return berr_set(err, BERR_FAILED, "curl: cannot make a handle");
    struct curl_slist *headers = NULL;
    session_setup(s, h, &headers, accept);
    if (basic && basic->user) {
        /* the token endpoint: basic auth instead of the session's header */
        api->easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        api->easy_setopt(h, CURLOPT_USERNAME, basic->user);
        api->easy_setopt(h, CURLOPT_PASSWORD, basic->pass ? basic->pass : "");
    } else if (basic) {
        api->easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    }
    char msg[CURL_ERROR_SIZE] = "";
    api->easy_setopt(h, CURLOPT_ERRORBUFFER, msg);
    api->easy_setopt(h, CURLOPT_URL, url);
    api->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    api->easy_setopt(h, CURLOPT_WRITEDATA, &c);
    api->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    api->easy_setopt(h, CURLOPT_HEADERDATA, &c);
    CURLcode rc = api->easy_perform(h);
    api->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    int failed = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && out->over_cap)
                     ? 0
                     : session_curl_error(s, h, rc, url, msg, err);
    api->easy_cleanup(h);
    api->slist_free_all(headers);
    if (challenge)
        *challenge = c.challenge;
    else
        free(c.challenge);
    if (rc == CURLE_WRITE_ERROR && out->over_cap)
        return berr_set(err, BERR_FAILED, "%s: the response is over the %zu-byte cap", url, max);
    if (failed < 0) {
        response_free(out);
        return -1;
    }
    return 0;
}

static char *url_escape(const struct curl_api *api, const char *s)
{
    char *e = api->easy_escape(NULL, s, 0);
    char *out = xstrdup(e ? e : "");
    api->free(e);
    return out;
}

static char *basic_header(const struct registry_auth *a)
{
    _cleanup_free_ char *plain = xasprintf("%s:%s", a->user, a->pass ? a->pass : "");
    size_t n = strlen(plain);
    _cleanup_free_ char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
    explicit_bzero(plain, n);
    return xasprintf("Authorization: Basic %s", b64);
}

/* A 401's challenge answered: a bearer token from the realm (with basic credentials when there
 * are some), or basic auth itself. */
static int authenticate(struct session *s, const char *header, struct berr *err)
{
    struct registry_challenge ch;
    if (!header)
        return berr_set(err, BERR_FAILED, "%s: 401 without a WWW-Authenticate challenge", s->base);
    if (registry_parse_challenge(header, &ch, err) < 0)
        return berr_wrap(err, "%s", s->base);
    const struct registry_auth *a = &s->opts->auth;
    int rc = 0;
    free(s->authz);
    s->authz = NULL;
    if (!strcasecmp(ch.scheme, "basic")) {
        if (a->user)
            s->authz = basic_header(a);
        registry_challenge_free(&ch);
        return 0;
    }
    if (strcasecmp(ch.scheme, "bearer")) {
        rc = berr_set(err, BERR_FAILED, "%s: unsupported auth scheme %s", s->base, ch.scheme);
        registry_challenge_free(&ch);
        return rc;
    }
    _cleanup_free_ char *service = ch.service ? url_escape(&s->api, ch.service) : NULL;
    _cleanup_free_ char *scope =
        s->repo ? xasprintf("repository:%s:pull", s->repo) : (ch.scope ? xstrdup(ch.scope) : NULL);
    _cleanup_free_ char *scope_e = scope ? url_escape(&s->api, scope) : NULL;
    _cleanup_free_ char *url =
        xasprintf("%s%s%s%s%s%s", ch.realm, strchr(ch.realm, '?') ? "&" : "?",
                  service ? "service=" : "", service ? service : "",
                  scope_e ? (service ? "&scope=" : "scope=") : "", scope_e ? scope_e : "");
    registry_challenge_free(&ch);
    struct response r;
    if (request(s, url, NULL, TOKEN_MAX, a, &r, NULL, err) < 0)
        return berr_wrap(err, "token");
    if (r.status != 200) {
        long st = r.status;
        if ((st == 401 || st == 403) && a->user)
            rc = berr_set(err, BERR_FAILED,
                          "Get \"%s\": unauthorized: incorrect username or password "
                          "(run berth login %s)",
                          url, s->domain);
        else
            rc = session_status_error(s, st, "token", r.body, err);
        response_free(&r);
        return rc;
    }
    yajl_val doc = NULL;
    rc = json_parse(r.body, &doc, err);
    response_free(&r);
    if (rc < 0)
        return berr_wrap(err, "token from %s", url);
    const char *tok = json_get_str(doc, "token");
    if (!tok || !*tok)
        tok = json_get_str(doc, "access_token");
    if (tok && *tok)
        s->authz = xasprintf("Authorization: Bearer %s", tok);
    else
        rc = berr_set(err, BERR_FAILED, "token from %s: no token in the answer", url);
    yajl_tree_free(doc);
    return rc;
}

int session_get(struct session *s, const char *path, const char *accept, size_t max,
                struct response *out, struct berr *err)
{
    _cleanup_free_ char *url = xasprintf("%s%s", s->base, path);
    for (int attempt = 0;; attempt++) {
        char *challenge = NULL;
        if (request(s, url, accept, max, NULL, out, &challenge, err) < 0)
            return -1;
        if (out->status != 401 || attempt > 0 || !challenge ||
            (!s->authz && !s->opts->auth.user && strncasecmp(challenge, "bearer", 6))) {
            free(challenge);
            return 0;
        }
        response_free(out);
        int rc = authenticate(s, challenge, err);
        free(challenge);
        if (rc < 0)
            return -1;
    }
}

static int ping(struct session *s, struct berr *err)
{
    struct response r;
    if (session_get(s, "/v2/", NULL, 1 << 20, &r, err) < 0)
        return -1;
    long st = r.status;
    int rc = 0;
    if (st == 401 && s->opts->auth.user)
        rc = berr_set(err, BERR_FAILED,
                      "Get \"%s/v2/\": unauthorized: incorrect username or password", s->base);
    else if (st == 401 || st == 403)
        rc = session_status_error(s, st, "/v2/", r.body, err);
    else if (st >= 300 && st != 404)
        rc = session_status_error(s, st, "/v2/", r.body, err);
    response_free(&r);
    return rc;
}

int session_open(const struct registry_opts *opts, const char *domain, const char *repo,
                 struct session *s, struct berr *err)
{
    *s = (struct session){.opts = opts};
    if (curl_api_open(&s->api, err) < 0)
        return -1;
    s->domain = xstrdup(domain);
    s->repo = repo ? xstrdup(repo) : NULL;
    if (!strcmp(domain, "docker.io")) {
        for (size_t i = 0; i < opts->mirrors.n; i++) {
            const char *m = opts->mirrors.v[i];
            const char *host = str_has_prefix(m, "https://")  ? m + 8
                               : str_has_prefix(m, "http://") ? m + 7
                                                              : m;
            _cleanup_free_ char *h = strndup(host, strcspn(host, "/"));
            set_base(s, h, str_has_prefix(m, "http://"));
            struct berr ignored = {0};
            if (ping(s, &ignored) == 0)
                return 0;
            debugf("mirror %s: %s", m, ignored.msg);
            free(s->authz);
            s->authz = NULL;
        }
    }
    set_base(s, registry_api_host(domain), false);
    if (ping(s, err) < 0) {
        session_close(s);
        return -1;
    }
    return 0;
}

int registry_login(const struct registry_opts *opts, const char *domain, struct berr *err)
{
    struct session s;
    if (session_open(opts, domain, NULL, &s, err) < 0)
        return -1;
    /* as docker's: a registry that asks for no credentials accepts any (its /v2/ answered 200
     * without a challenge); one that asks took them or failed in session_open */
    session_close(&s);
    return 0;
}
