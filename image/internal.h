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

bool image_is_hex64(const char *s);

/* Open a directory of the store ("layers", "blobs/sha256", "tmp") with the given flags
 * (O_PATH or O_RDONLY, O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW are added). */
int image_store_dir(const struct image_store *store, const char *name, int flags, struct berr *err);

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
const char *image_refs_get(const struct refmap *m, const char *key);
void image_refs_set(struct refmap *m, const char *key, const char *id);
void image_refs_free(struct refmap *m);

/* Bytes of regular files in layers/<hex>: the cached layers/<hex>.size, else counted. */
int image_layer_size(const struct image_store *store, const char *hex, unsigned long long *size,
                     struct berr *err);

/* ---- resolve.c ---------------------------------------------------------------------------- */

/* Load image <hex id> from its config blob; display_ref is stored in out->ref. */
int image_load(const struct image_store *store, const char *id, const char *display_ref,
               struct image *out, struct berr *err);
/* 1 and the image id when key (a normalised reference) is in refs.json, 0 when it is not. */
int image_lookup_ref(const struct image_store *store, const char *key, char id[65],
                     struct berr *err);

/* ---- import.c: one layer from a (compressed) tar stream --------------------------------- */

/* The decompressed bytes of the input, hashed as they pass to the tar reader. After the input
 * ends, the tar reader is fed zeros up to the next 512-byte record (not hashed), so tars whose
 * writer never closed them still read; unpack checks that no file's data lies in those zeros. */
struct layer_stream {
    struct archive *outer;
    struct sha256_stream *hash;
    unsigned long long real_bytes; /* decompressed bytes read so far */
    unsigned long long pad_left;   /* synthetic zeros still to give */
    bool eof;                      /* the real input has ended */
    char outer_err[512];
};

/* Import with the writers' lock already held; ref is normalised or NULL (untagged). */
int image_import_locked(struct image_store *store, int fd, const char *ref, char id_out[65],
                        struct berr *err);

/* ---- unpack.c ----------------------------------------------------------------------------- */

/* Unpack every entry of tar into the directory layerfd (O_PATH), converting whiteouts to
 * overlay's format. *size gets the bytes of regular files. */
int image_unpack_layer(struct archive *tar, int layerfd, const struct layer_stream *src,
                       unsigned long long *size, struct berr *err);

/* ---- elf.c -------------------------------------------------------------------------------- */

/* PT_INTERP (NULL when static) and DT_NEEDED names of the ELF file at host path. */
int image_elf_deps(const char *path, char **interp, struct strv *needed, struct berr *err);

#endif
