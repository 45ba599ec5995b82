/* image/internal.h — shared between the files of image/, never included from elsewhere. */
#ifndef BERTH_IMAGE_INTERNAL_H
#define BERTH_IMAGE_INTERNAL_H

#include "image/image.h"

#include <archive.h>

/* A libarchive read result that may go on. ARCHIVE_RETRY ("Damaged tar archive", the reader
 * would skip to the next header it recognises) is a failure here: a damaged layer is refused. */
static inline bool la_ok(int r)
{
    return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

static inline const char *la_err(struct archive *a)
{
    const char *s = archive_error_string(a);
    return s ? s : "unknown error";
}

/* ---- store.c: directories, lock, blobs, refs ------------------------------------------- */

/* Open a directory of the store ("layers", "blobs/sha256", "tmp") with the given flags
 * (O_PATH or O_RDONLY, O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW are added). */
int image_store_dir(const struct image_store *store, const char *name, int flags, struct berr *err);
/* The same as a stream, for listing it. */
DIR *image_store_opendir(const struct image_store *store, const char *name, struct berr *err);

/* Take the writers' lock (flock on <root>/lock) and remove what a dead writer left in tmp/.
 * The lock is released by closing *lockfd. */
int image_store_lock(struct image_store *store, int *lockfd, struct berr *err);

/* Read blobs/sha256/<hex>, checking that its content still hashes to hex. */
int image_blob_read(const struct image_store *store, const char *hex, char **text, size_t *len,
                    struct berr *err);
/* Write a blob (content-addressed; an existing one is kept). *created says whether it was new. */
int image_blob_write(const struct image_store *store, const char *hex, const char *text, size_t len,
                     bool *created, struct berr *err);

/* refs.json in memory: parallel vectors, keys are normalised references. */
struct refmap {
    struct strv keys;
    struct strv ids;
};
int image_refs_load(const struct image_store *store, struct refmap *m, struct berr *err);
int image_refs_save(const struct image_store *store, const struct refmap *m, struct berr *err);
/* digests.json: image id → hex of the manifest it was loaded from (images --digests). Kept
 * apart from refs.json so that file keeps its format. */
int image_digests_load(const struct image_store *store, struct refmap *m, struct berr *err);
int image_digests_save(const struct image_store *store, const struct refmap *m, struct berr *err);
/* Drop the entries of ids, and of every config blobs/ no longer holds; digests.json is
 * rewritten (atomically) only when an entry goes. */
int image_digests_forget(const struct image_store *store, const struct strv *ids, struct berr *err);
const char *image_refs_get(const struct refmap *m, const char *key);
void image_refs_set(struct refmap *m, const char *key, const char *id);
void image_refs_free(struct refmap *m);

/* Bytes of regular files in layers/<hex>: the cached layers/<hex>.size, else counted. */
int image_layer_size(const struct image_store *store, const char *hex, unsigned long long *size,
                     struct berr *err);

/* ---- config.c ----------------------------------------------------------------------------- */

/* rootfs.diff_ids of a parsed config as bare hex, each checked (they become directory names). */
int image_config_diff_ids(yajl_val doc, struct strv *out, struct berr *err);
/* Parse config blob <hex id>: the document, its diff-ids and creation time (zero if absent). */
int image_read_config(const struct image_store *store, const char *id, yajl_val *doc,
                      struct strv *diff_ids, struct timespec *created, struct berr *err);
/* Load image <hex id> from its config blob; display_ref is stored in out->ref. */
int image_load(const struct image_store *store, const char *id, const char *display_ref,
               struct image *out, struct berr *err);

/* ---- store.c: refs ------------------------------------------------------------------------ */

/* 1 and the image id when key (a normalised reference) is in refs.json, 0 when it is not. */
int image_lookup_ref(const struct image_store *store, const char *key, char id[65],
                     struct berr *err);

/* ---- ref.c -------------------------------------------------------------------------------- */

/* A normalised key a tag may be made of: docker refuses the name "sha256" (also as
 * docker.io/library/sha256), as "sha256:<hex>" must stay an image id. BERR_USAGE with docker's
 * text. */
int image_check_tag_name(const char *key, struct berr *err);

/* ---- import.c: one layer from a (compressed) tar stream --------------------------------- */

/* The decompressed bytes of the input, hashed as they pass to the tar reader. After the input
 * ends, the tar reader is fed zeros up to the next 512-byte record (not hashed), so tars whose
 * writer never closed them still read; unpack checks that no file's data lies in those zeros. */
struct layer_stream {
    struct archive *outer;
    struct sha256_pipe *hash; /* NULL: the caller's digest of the raw bytes is the diff-id */
    const char *pending;      /* what outer gave and the tar reader has not had yet */
    size_t pending_len;
    unsigned long long real_bytes; /* decompressed bytes given to the tar reader so far */
    unsigned long long pad_left;   /* synthetic zeros still to give */
    bool eof;                      /* the real input has ended */
    char outer_err[512];
};

/* The layer that outer (filters set, raw format, opened, owned from here on) decompresses:
 * unpacked into tmp/<name>, or, with tmpfd < 0, only hashed. hex gets the diff-id; when
 * raw_hashed (the caller hashes the bytes outer reads) and the layer is not compressed, hex
 * is "": the caller's digest is the diff-id, and the bytes are not hashed twice. */
int image_layer_unpack_to_tmp(int tmpfd, const char *name, struct archive *outer, bool raw_hashed,
                              char hex[65], unsigned long long *size, struct berr *err);
/* A reader that only decompresses: every filter, the "raw" format. */
struct archive *image_outer_reader_new(void);
/* Publish tmp/<name> as layers/<hex> (an existing one is shared, the copy discarded);
 * *created tells whether this call made it. unpublish undoes a created one. */
int image_publish_layer(int tmpfd, const char *name, int layersfd, const char *hex,
                        unsigned long long size, bool *created, struct berr *err);
void image_unpublish_layer(int layersfd, const char *hex);

/* Import with the writers' lock already held; ref is normalised or NULL (untagged). */
int image_import_locked(struct image_store *store, int fd, const char *ref, char id_out[65],
                        struct berr *err);

/* ---- unpack.c ----------------------------------------------------------------------------- */

/* Unpack every entry of tar into the directory layerfd (O_PATH), converting whiteouts to
 * overlay's format. *size gets the bytes of regular files. */
/* The data of the entry a has just read, written into fd at its offsets (sparse files keep
 * their holes), never past size; each (if any) is told every block's length. */
int image_copy_data(struct archive *a, int fd, unsigned long long size,
                    void (*each)(void *ctx, size_t n), void *ctx, struct berr *err);
int image_unpack_layer(struct archive *tar, int layerfd, const struct layer_stream *src,
                       unsigned long long *size, struct berr *err);

/* ---- archive.c: the members of an archive being loaded ------------------------------------ */

/* Where a member's bytes are: pread(fd, off .. off+size). fd is closed by blob_loc_close when
 * owned (spooled members, files of a layout directory). */
struct blob_loc {
    int fd;
    bool own_fd;
    unsigned long long off, size;
};
void blob_loc_close(struct blob_loc *loc);

struct image_src;
/* An archive on fd: a directory (OCI layout), or a tar (maybe compressed). A seekable plain tar
 * is indexed in place; anything else is spooled member by member into tmp/ under names of
 * berth's own (a member's name is never used as a path). progress (may be NULL) sees the bytes
 * spooled. */
int image_src_open(int fd, int tmpfd,
                   void (*progress)(void *, unsigned long long, unsigned long long), void *ctx,
                   struct image_src **out, struct berr *err);
void image_src_free(struct image_src *src);
/* Find a regular member by its path in the archive; symlinks and hard links between members
 * are followed inside the archive only. 0 when found, ENOENT-kind error otherwise. */
int image_src_member(struct image_src *src, const char *path, struct blob_loc *loc,
                     struct berr *err);
bool image_src_has(struct image_src *src, const char *path);
/* A small member read whole (capped at max bytes), with its sha256. */
int image_src_read(struct image_src *src, const char *path, size_t max, char **text, size_t *len,
                   char hex[65], struct berr *err);

/* ---- manifest.c: what an archive says it holds ------------------------------------------- */

/* Expected content of a blob: digest (bare hex, "" when the format gives none) and size
 * (-1 when unknown). */
struct blob_ref {
    char *path; /* member path in the archive */
    char hex[65];
    long long size;
};

struct load_item {
    struct blob_ref config;
    struct blob_ref *layers; /* base first */
    size_t nlayers;
    struct strv tags; /* normalised references */
    char digest[65];  /* hex of the manifest (OCI layouts), "" when the format has none */
};

struct load_plan {
    struct load_item *items;
    size_t n;
};
void load_plan_free(struct load_plan *p);

/* docker save's manifest.json (both layouts); OCI layout: oci-layout + index.json → manifests.
 * Manifests and indexes are verified against their descriptors while planning. */
int image_plan_docker(struct image_src *src, struct load_plan *plan, struct berr *err);
int image_plan_oci(struct image_src *src, struct load_plan *plan, struct berr *err);
/* "docker.io/library/x:y" → "x:y", then normalised; BERR_USAGE when invalid or not a name a
 * tag may have (image_check_tag_name). */
int image_familiar_ref(const char *ref, char **out, struct berr *err);
/* Check len/hex against a blob_ref; the error names the blob. */
int image_blob_check(const struct blob_ref *want, const char *what, unsigned long long len,
                     const char *hex, struct berr *err);

/* ---- pack.c: an unpacked layer as a tar again ------------------------------------------ */

/* Layer <diff_id> as a canonical docker-format tar written to outfd; hex and size of the tar.
 * Packing what unpacking such a tar made gives the same bytes. */
int image_layer_pack(const struct image_store *store, const char *diff_id, int outfd, char hex[65],
                     unsigned long long *size, struct berr *err);

/* ---- elf.c -------------------------------------------------------------------------------- */

/* PT_INTERP (NULL when static) and DT_NEEDED names of the ELF file at host path. */
int image_elf_deps(const char *path, char **interp, struct strv *needed, struct berr *err);

#endif
