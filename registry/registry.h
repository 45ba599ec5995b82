/* registry — a client of the registry HTTP API v2 (the OCI distribution spec) over libcurl:
 * references mapped to registry URLs as docker maps them, the bearer-token and basic auth
 * flows, docker's credentials file (config.json, credential helpers), TLS with the per-registry
 * certs.d directories, and pulling an image's manifest, config and layers into an OCI layout
 * directory, every blob checked against its size and sha256 as it streams. Registering what
 * was pulled is the image store's business (image_load_archive takes the layout); this module
 * knows nothing of the store, containers or the launcher. */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include "util/util.h"

/* A reference the way docker reads it: "busybox" is docker.io/library/busybox:latest,
 * "host:5000/a/b@sha256:..." names a registry by its first component when that has a '.' or a
 * ':' or is "localhost". */
struct registry_ref {
    char *domain; /* "docker.io", "host:5000" */
    char *repo;   /* "library/busybox" */
    char *tag;    /* NULL with a digest and no tag */
    char *digest; /* "sha256:<hex>" or NULL */
};
int registry_parse_ref(const char *ref, struct registry_ref *out, struct berr *err);
void registry_ref_free(struct registry_ref *r);
/* The host berth talks to: docker.io's API is at registry-1.docker.io. */
const char *registry_api_host(const char *domain);
/* "docker.io/library/busybox:latest" (docker's full name, what pull -q prints) */
char *registry_full_name(const struct registry_ref *r);
/* the tag, or the digest when there is no tag */
const char *registry_ref_tag_or_digest(const struct registry_ref *r);
/* The key of a domain in config.json: docker.io's is "https://index.docker.io/v1/". */
const char *registry_auth_key(const char *domain);

/* One WWW-Authenticate challenge: scheme "Bearer" or "Basic", and its parameters. */
struct registry_challenge {
    char *scheme, *realm, *service, *scope;
};
int registry_parse_challenge(const char *header, struct registry_challenge *out, struct berr *err);
void registry_challenge_free(struct registry_challenge *c);

/* The platform an image is chosen for: os/architecture[/variant] with Go's names. */
struct registry_platform {
    char os[32], arch[32], variant[16];
};
/* The host's, as docker chooses: linux, uname's machine in Go's names, arm's variant. */
void registry_host_platform(struct registry_platform *out);
/* "linux/arm64", "linux/arm/v7" */
int registry_parse_platform(const char *s, struct registry_platform *out, struct berr *err);
/* Index i of the manifest list / OCI index entry (a parsed "manifests" array) for p: the os
 * and architecture equal, the variant equal when both name one (an entry without a variant
 * is taken when no entry has p's). -1 when none. */
ssize_t registry_pick_manifest(yajl_val manifests, const struct registry_platform *p);

/* ---- credentials (creds.c) --------------------------------------------------------------- */

struct registry_auth {
    char *user, *pass; /* NULL when anonymous */
};
void registry_auth_free(struct registry_auth *a);
/* The config.json of the caller: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json
 * (home from the environment, else from the password database for uid). */
char *registry_config_path(const char *docker_config, const char *home, uid_t uid);
/* What config.json text says for domain: an "auths" entry (base64 "auth" of user:pass, or
 * "username"/"password"), or the helper to ask (credHelpers[domain], else credsStore) in
 * *helper. Neither: anonymous. */
int registry_auths_lookup(const char *text, const char *domain, struct registry_auth *out,
                          char **helper, struct berr *err);
/* Run docker-credential-<helper> get, the server on stdin, JSON {Username, Secret} out. */
int registry_helper_get(const char *helper, const char *server, struct registry_auth *out,
                        struct berr *err);
/* docker-credential-<helper> store, JSON {ServerURL, Username, Secret} on stdin. */
int registry_helper_store(const char *helper, const char *server, const char *user,
                          const char *secret, struct berr *err);
/* docker-credential-<helper> erase, the server on stdin. */
int registry_helper_erase(const char *helper, const char *server, struct berr *err);
/* Where login keeps domain's credentials, as docker decides: *helper gets credHelpers[domain],
 * else credsStore, else NULL (config.json itself); *has_entry whether an auths key names
 * domain (with a helper an empty entry, docker's record that a login was made). */
int registry_store_helper(const char *text, const char *domain, char **helper, bool *has_entry,
                          struct berr *err);
/* config.json text with domain's auths entry set (user non-NULL; pass NULL: an empty entry, the
 * credentials being a helper's) or removed (user NULL); other keys kept. */
int registry_auths_update(const char *text, const char *domain, const char *user, const char *pass,
                          char **out, struct berr *err);

/* ---- talking to a registry (http.c, pull.c) ---------------------------------------------- */

struct registry_opts {
    struct strv insecure;   /* domains spoken to over plain HTTP */
    struct strv mirrors;    /* docker.io mirrors, "https://host[:port]" or "host[:port]" */
    struct strv certs_dirs; /* "/etc/docker/certs.d", "/etc/berth/certs.d" */
    int parallel;           /* layers downloaded at once */
    long long max_rate;     /* bytes/s per layer transfer, 0 for no limit */
    struct registry_auth auth;
    struct registry_platform platform;
    /* docker's per-layer lines: id is the layer's short digest, status "Waiting",
     * "Downloading", "Verifying Checksum", "Download complete", "Already exists"; done and
     * total are bytes (total 0 when unknown) */
    void (*event)(void *ctx, const char *id, const char *status, unsigned long long done,
                  unsigned long long total);
    void *ctx;
    /* true when the caller has the image of this config (hex) already: its layers are not
     * fetched and registry_pull says so in up_to_date */
    bool (*have_image)(void *ctx, const char *config_hex);
    /* true when the caller has the layer of this diff-id (hex, from the config): it is not
     * downloaded (event "Already exists") and the layout lacks its blob */
    bool (*have_layer)(void *ctx, const char *diff_hex);
    /* a layer blob's transfer (re)starts writing fd, from offset 0 (what an earlier pull left
     * is in it already): the caller may read the blob as it grows, to unpack it meanwhile.
     * blob_grown: the bytes written so far; blob_end: the blob is complete and verified, or
     * not (nothing more comes through that handle, and fd may be closed after it). NULL for
     * none; blob_begin may return NULL. */
    void *(*blob_begin)(void *ctx, const char *hex, int fd);
    void (*blob_grown)(void *handle, unsigned long long bytes);
    void (*blob_end)(void *handle, bool verified);
};
void registry_opts_free(struct registry_opts *o);

/* Check the credentials in opts against domain (GET /v2/, the token flow included). */
int registry_login(const struct registry_opts *opts, const char *domain, struct berr *err);

struct registry_pulled {
    char digest[72]; /* "sha256:<hex>" of the manifest the reference names (a list's) */
    char config[65]; /* config hex */
    bool up_to_date; /* have_image said yes: no layout was written */
};
/* Pull ref into the directory dirfd/name (made here) as an OCI layout whose index.json names
 * the image by its full reference. Partial blobs are kept in dirfd/partial/<hex> and resumed
 * with HTTP ranges by the next pull; everything else under name is the caller's to remove. */
int registry_pull(const struct registry_opts *opts, const struct registry_ref *ref, int dirfd,
                  const char *name, struct registry_pulled *out, struct berr *err);

#endif
