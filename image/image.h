/* image — the image store under the data root: references (name:tag → image id), verified
 * blobs (image configs), layers unpacked once by diff-id in overlay's format, import of plain
 * rootfs tars, the built-in default image, listing. Every path taken from an archive is
 * resolved inside the layer being written; nothing is ever written outside it. Knows nothing of
 * containers, namespaces or cgroups.
 *
 * Store layout (data root):
 *   blobs/sha256/<hex>      image configs (and later manifests), content-addressed
 *   layers/<diff-id hex>/   one unpacked layer; published by rename, so a present dir is whole
 *   refs.json               {"name:tag": "<config hex>", ...}, replaced atomically
 *   digests.json            {"<config hex>": "<manifest hex>", ...}, images loaded from OCI
 *                           layouts (images --digests); written before refs.json, an
 *                           entry dropped after it with the image's last tag or its config
 *   tmp/                    unpack in progress (removed on start-up of the next writer)
 *   pull/                   the registry client's: partial/<hex> blobs an interrupted pull
 *                           left (continued by the next pull with an HTTP range), and the
 *                           OCI layout of a pull in progress, loaded from there; not under
 *                           tmp/, which the next writer's start-up empties
 */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include "util/util.h"

#include <time.h>

#define IMAGE_DEFAULT_REF "berth/worker:latest"

struct image_store {
    int rootfd; /* O_PATH|O_DIRECTORY of the data root */
    char *root; /* its absolute path (overlay lowerdir= needs paths) */
};

/* Open (creating if missing) the store at root. */
int image_store_open(const char *root, struct image_store *store, struct berr *err);
void image_store_close(struct image_store *store);
/* layers/<diff hex> is there (a pull need not fetch that layer) */
bool image_has_layer(const struct image_store *store, const char *diff_hex);
/* O_PATH fd of <root>/pull (see above), for the registry client. */
int image_store_pull_dir(const struct image_store *store, struct berr *err);

/* What the image's config says about running it. */
struct image_config {
    struct strv env;
    struct strv entrypoint;
    struct strv cmd;
    char *workdir; /* NULL when unset */
    char *user;    /* NULL when unset */
    char *stop_signal;
};

struct image {
    char id[65];        /* hex sha256 of the config blob */
    char *ref;          /* normalised reference it was found by */
    struct strv layers; /* absolute paths of the unpacked layer dirs, bottom layer first */
    struct image_config config;
};

/* docker's normalisation: "busybox" → "busybox:latest", "host:5000/a/b" → "host:5000/a/b:latest";
 * a digest reference (name@sha256:...) is kept. Invalid references → BERR_USAGE. */
int image_normalize_ref(const char *ref, char **out, struct berr *err);

/* Find an image by reference, by full or short (≥ 1 char unique prefix) id, or "sha256:<id>".
 * The default image is built on first need. Unknown → BERR_NOT_FOUND with docker's text:
 * "Unable to find image 'X' locally". */
int image_resolve(struct image_store *store, const char *ref, struct image *out, struct berr *err);
/* Only the id ref names, the image not loaded (its layers may be missing), and the default
 * image not built: for tag and rmi, which hold the store lock that building it would take
 * again (flock on a second open of the lock file waits for ever). */
int image_resolve_id(struct image_store *store, const char *ref, char id[65], struct berr *err);
void image_free(struct image *img);

/* `berth import`: read a plain rootfs tar (optionally gzip/zstd/xz compressed, detected from
 * its bytes) from fd, unpack it as one layer, write a config, tag it ref. id_out gets the image
 * id. Nothing is registered unless everything succeeded. */
int image_import(struct image_store *store, int fd, const char *ref, char id_out[65],
                 struct berr *err);

/* A layer unpacked while its blob downloads (prefetch.c): a thread reads the blob through fd
 * as the writer appends to it (image_prefetch_grown: the bytes written so far, from offset 0)
 * and unpacks it into dirfd/<name> with the safe unpacker. image_prefetch_end says the blob is
 * complete (and verified: the thread reads it to its end) or abandoned (the thread stops);
 * image_prefetch_finish waits for the thread and frees p: 0 with the directory's name, the
 * diff-id it hashed to and its size, for image_load_opts.prefetched; the directory is the
 * caller's to remove when unused, also after a failure (the name is set then too). fd and
 * dirfd stay open until then. */
struct image_prefetch;
struct image_prefetched {
    char name[65];
    char diff[65];
    unsigned long long size;
};
int image_prefetch_start(int dirfd, int fd, struct image_prefetch **out, struct berr *err);
void image_prefetch_grown(struct image_prefetch *p, unsigned long long bytes);
void image_prefetch_end(struct image_prefetch *p, bool complete);
int image_prefetch_finish(struct image_prefetch *p, struct image_prefetched *out, struct berr *err);

struct image_load_opts {
    /* called as layer bytes are read (and as a stream is spooled): bytes so far, and the
     * total when known (0 otherwise); NULL for none */
    void (*progress)(void *ctx, unsigned long long done, unsigned long long total);
    void *ctx;
    /* hex of the manifest digest to record for the (one) image loaded, instead of the
     * layout's: a registry names a multi-platform image by its index's digest, which docker
     * shows; NULL for the archive's own */
    const char *repo_digest;
    /* a layer blob the archive lacks is no error when the store has the layer its config names
     * (a registry pull skips what the store has, as docker's "Already exists") */
    bool present_layers_may_be_absent;
    /* layers unpacked already (image_prefetch_finish's) in prefetched_dirfd, on the same
     * filesystem as the store: a layer whose config names one's diff-id is adopted (moved into
     * layers/ at registering) instead of unpacked again; its blob is still checked against its
     * size and digest. Those not adopted stay where they are. */
    const struct image_prefetched *prefetched;
    size_t nprefetched;
    int prefetched_dirfd;
};

/* `berth load`: fd is a `docker save` tar (legacy or OCI flavour), an OCI layout tar, or an
 * OCI layout directory (an O_DIRECTORY fd); the tar may be compressed. Every blob's size and
 * digest and every layer's diff-id are checked before anything is registered; layers the store
 * has are not unpacked again. *messages gets docker's lines, in order: "The image X already
 * exists, renaming the old one with ID sha256:... to empty string", "Loaded image: name:tag",
 * "Loaded image ID: sha256:...". */
int image_load_archive(struct image_store *store, int fd, const struct image_load_opts *opts,
                       struct strv *messages, struct berr *err);

/* docker's image inspect object (docker 20.10's fields) for the image ref names, found as
 * image_resolve_id finds it (an unknown one: BERR_NOT_FOUND). RepoDigests are
 * "repository@sha256:<manifest>" for each repository tagged with it, when digests.json has
 * its manifest. */
int image_inspect(struct image_store *store, const char *ref, yajl_val *out, struct berr *err);

/* `berth save`: the images refs name (a tag; a repository without a tag: all its tags; an id:
 * no tag) as one archive in docker 25's layout (manifest.json, repositories, and an OCI
 * layout), layers packed again from the store. An image whose packed layers differ from its
 * diff-ids is written with a config naming the new ones (so under a new id; save.c says why).
 * open_out is called once everything is resolved and packed, and gives the fd to write to. */
int image_save(struct image_store *store, const struct strv *refs,
               int (*open_out)(void *ctx, struct berr *err), void *ctx, struct berr *err);

/* `berth tag SOURCE TARGET`: SOURCE found as image_resolve finds it, TARGET normalised. */
int image_tag(struct image_store *store, const char *source, const char *target, struct berr *err);

/* A container and the image it was made from, as the launcher read them from the state root
 * (image/ knows nothing of containers). */
struct image_user {
    char image[65];     /* image id, hex */
    char container[65]; /* container id */
    bool running;
};

/* `berth rmi [-f] REF`: docker's rules — a tag is untagged; the image goes with its last tag
 * or when named by id; refused (BERR_CONFLICT, docker's "conflict: ..." texts) while a
 * container uses it (a stopped one only without force). Layers no image needs any more go.
 * *messages gets "Untagged: x" / "Deleted: sha256:..." lines. */
int image_remove(struct image_store *store, const char *ref, bool force,
                 const struct image_user *users, size_t nusers, struct strv *messages,
                 struct berr *err);

/* `berth image prune [-a]`: untagged images (with all, every image) no container uses, then
 * every layer and blob nothing refers to. *messages: "untagged: x", "deleted: sha256:...". */
int image_prune(struct image_store *store, bool all, const struct image_user *users, size_t nusers,
                struct strv *messages, unsigned long long *reclaimed, struct berr *err);

/* Build berth/worker:latest from the host (busybox-static applets, /bin/bash and the libraries
 * it needs, /etc/passwd and /etc/group with root, nobody and worker 1000) if it is missing. */
int image_ensure_default(struct image_store *store, struct berr *err);

struct image_summary {
    char *repository; /* "<none>" when untagged */
    char *tag;        /* "<none>" when untagged */
    char id[65];
    struct timespec created;
    unsigned long long size; /* bytes of the unpacked layers */
    char digest[72];         /* "sha256:<manifest hex>" when loaded from an OCI layout, else "" */
};

/* One row per (reference, image), newest first, as `docker images` lists them. */
int image_list(struct image_store *store, struct image_summary **out, size_t *n, struct berr *err);
void image_summaries_free(struct image_summary *rows, size_t n);

#endif
