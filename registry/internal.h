/* registry/internal.h — between the files of registry/, never included from elsewhere. */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

#include "registry/registry.h"

#include <curl/curl.h>

/* libcurl's functions, from dlopen (curl.c) */
struct curl_api {
    void *lib;
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    char *(*easy_escape)(CURL *, const char *, int);
    void (*free)(void *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
};
int curl_api_open(struct curl_api *api, struct berr *err);
void curl_api_close(struct curl_api *api);

/* One registry spoken to for one repository: where, with which TLS material, and the
 * Authorization header earned so far. */
struct session {
    const struct registry_opts *opts;
    struct curl_api api;
    char *domain, *repo;
    char *base;      /* "https://host[:port]" (or http:// for an insecure registry) */
    char *cert_host; /* the certs.d directory name: host[:port] */
    char *ca_blob;   /* system CAs + certs.d CAs, PEM */
    size_t ca_len;
    struct strv ca_paths; /* every CA file or directory looked at, for a TLS error */
    char *client_cert, *client_key;
    char *authz; /* "Authorization: ..." or NULL */
};

/* Ping /v2/ (mirrors of docker.io first), earning a token or basic auth on a 401. */
int session_open(const struct registry_opts *opts, const char *domain, const char *repo,
                 struct session *s, struct berr *err);
void session_close(struct session *s);
/* TLS, timeouts and the Authorization header on a handle; headers is the list to free after. */
void session_setup(const struct session *s, CURL *h, struct curl_slist **headers,
                   const char *accept);
/* A small GET (body capped at max, else an error naming what): status, body, and the
 * Content-Type and Docker-Content-Digest headers (may be NULL). 401 once → auth, retried. */
struct response {
    long status;
    char *body;
    size_t len;
    char *content_type, *digest;
    bool over_cap;
};
int session_get(struct session *s, const char *path, const char *accept, size_t max,
                struct response *out, struct berr *err);
void response_free(struct response *r);
/* A transfer's failure as one line: what was asked, and why (names the CA paths for TLS). */
int session_curl_error(const struct session *s, CURL *h, CURLcode rc, const char *url,
                       const char *curl_msg, struct berr *err);
/* The error for an HTTP status: 401/403 say to log in, 404 what is unknown. */
int session_status_error(const struct session *s, long status, const char *what, const char *body,
                         struct berr *err);

#endif
