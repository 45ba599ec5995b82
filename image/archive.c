/* The members of an archive being loaded: a directory (an OCI layout), or a tar whose members
 * are found by name, in any order (docker writes manifest.json after the layers).
 *
 * A plain tar in a regular file is indexed in place: a member is an offset and a size in it.
 * Anything else (stdin, a compressed tar) is spooled once into a private directory in the
 * store's tmp/, each member under a number: a name from the archive never becomes a path.
 * Symlinks and hard links between members are resolved lexically inside the archive. */
#include "image/internal.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LINK_HOPS 40

struct member {
    char *name; /* cleaned, without a leading '/' */
    char type;  /* 'f' file, 'l' symlink, 'h' hard link, 'd' other */
    char *link;
    unsigned long long off, size;
    long spool; /* spool file number, -1 when indexed in place */
};

struct image_src {
    int dirfd;   /* a layout directory, else -1 */
    int fd;      /* the tar indexed in place, else -1 */
    int tmpfd;   /* the store's tmp/ (spooling), else -1 */
    int spoolfd; /* tmp/<spool_name>, else -1 */
    char spool_name[65];
    struct member *m;
    size_t n, cap;
};

void blob_loc_close(struct blob_loc *loc)
{
    if (loc->own_fd && loc->fd >= 0)
        close(loc->fd);
    loc->fd = -1;
    loc->own_fd = false;
}

/* "./a//b/" → "a/b"; NULL when the name would climb above the archive's root. */
static char *clean_name(const char *name)
{
    if (path_escapes(name))
        return NULL;
    char *c = path_clean(name);
    memmove(c, c + 1, strlen(c));
    return c;
}

void image_src_free(struct image_src *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < src->n; i++) {
        free(src->m[i].name);
        free(src->m[i].link);
    }
    free(src->m);
    if (src->spoolfd >= 0) {
        close(src->spoolfd);
        struct berr ignored;
        remove_tree_at(src->tmpfd, src->spool_name, &ignored);
    }
    if (src->tmpfd >= 0)
        close(src->tmpfd);
    if (src->dirfd >= 0)
        close(src->dirfd);
    if (src->fd >= 0)
        close(src->fd);
    free(src);
}

static struct member *add_member(struct image_src *src, char *name)
{
    /* a later member of the same name replaces the earlier one, as tar -x would */
    for (size_t i = 0; i < src->n; i++) {
        if (strcmp(src->m[i].name, name) == 0) {
            free(src->m[i].name);
            free(src->m[i].link);
            src->m[i] = (struct member){.name = name, .spool = -1};
            return &src->m[i];
        }
    }
    if (src->n == src->cap) {
        src->cap = src->cap ? src->cap * 2 : 32;
        src->m = xrealloc(src->m, src->cap * sizeof(*src->m));
    }
    src->m[src->n] = (struct member){.name = name, .spool = -1};
    return &src->m[src->n++];
}

struct spool_progress {
    unsigned long long *total;
    void (*progress)(void *, unsigned long long, unsigned long long);
    void *ctx;
};

static void count_spooled(void *data, size_t n)
{
    struct spool_progress *sp = data;
    *sp->total += n;
    if (sp->progress)
        sp->progress(sp->ctx, *sp->total, 0);
}

static int spool_data(struct image_src *src, struct archive *a, struct member *m,
                      void (*progress)(void *, unsigned long long, unsigned long long), void *ctx,
                      unsigned long long *total, struct berr *err)
{
    m->spool = (long)(m - src->m); /* its slot: a repeated name reuses its first one */
    char num[32];
    snprintf(num, sizeof(num), "%ld", m->spool);
    unlinkat(src->spoolfd, num, 0);
    _cleanup_close_ int fd =
        openat(src->spoolfd, num, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return berr_errno(err, "spool member %s", m->name);
    struct spool_progress sp = {.total = total, .progress = progress, .ctx = ctx};
    if (image_copy_data(a, fd, m->size, count_spooled, &sp, err) < 0)
        return berr_wrap(err, "spool member %s", m->name);
    if (ftruncate(fd, (off_t)m->size) < 0)
        return berr_errno(err, "spool member %s", m->name);
    return 0;
}

static int make_spool(struct image_src *src, struct berr *err)
{
    if (random_id(src->spool_name, err) < 0)
        return -1;
    if (mkdirat(src->tmpfd, src->spool_name, 0700) < 0)
        return berr_errno(err, "mkdir tmp/%s", src->spool_name);
    src->spoolfd =
        openat(src->tmpfd, src->spool_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src->spoolfd < 0)
        return berr_errno(err, "open tmp/%s", src->spool_name);
    return 0;
}

/* in_place: the input is a regular file; it stays so only when it is not compressed. */
static int index_tar(struct image_src *src, struct archive *a, int fd, bool in_place,
                     void (*progress)(void *, unsigned long long, unsigned long long), void *ctx,
                     struct berr *err)
{
    unsigned long long total = 0;
    for (size_t count = 0;; count++) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            return count ? 0 : berr_set(err, BERR_FAILED, "invalid archive: it is empty");
        if (!la_ok(r))
            return berr_set(err, BERR_FAILED, "read archive: %s", la_err(a));
        if (count == 0) {
            in_place = in_place && archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE;
            if (in_place && (src->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return berr_errno(err, "dup input");
            if (!in_place && make_spool(src, err) < 0)
                return -1;
        }
        const char *raw = archive_entry_pathname(e);
        char *name = raw ? clean_name(raw) : NULL;
        if (!name || !*name) {
            debugf("load: archive member %s ignored", raw ? raw : "(unnamed)");
            free(name);
            continue;
        }
        struct member *m = add_member(src, name);
        const char *hard = archive_entry_hardlink(e);
        if (hard) {
            m->type = 'h';
            m->link = xstrdup(hard);
            continue;
        }
        if (archive_entry_filetype(e) == AE_IFLNK) {
            m->type = 'l';
            m->link = xstrdup(archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG) {
            m->type = 'd';
            continue;
        }
        m->type = 'f';
        la_int64_t size = archive_entry_size(e);
        if (size < 0)
            return berr_set(err, BERR_FAILED, "member %s: negative size", m->name);
        m->size = (unsigned long long)size;
        if (in_place && archive_entry_sparse_count(e) == 0) {
            /* after the header, the filter's position is where the member's data starts */
            m->off = (unsigned long long)archive_filter_bytes(a, 0);
            continue;
        }
        if (in_place)
            return berr_set(err, BERR_FAILED, "member %s: sparse files are not supported", m->name);
        if (spool_data(src, a, m, progress, ctx, &total, err) < 0)
            return -1;
    }
}

int image_src_open(int fd, int tmpfd,
                   void (*progress)(void *, unsigned long long, unsigned long long), void *ctx,
                   struct image_src **out, struct berr *err)
{
    struct image_src *src = xcalloc(1, sizeof(*src));
    src->dirfd = src->fd = src->tmpfd = src->spoolfd = -1;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? berr_errno(err, "stat input") : 0;
    if (rc == 0 && S_ISDIR(st.st_mode)) {
        src->dirfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        rc = src->dirfd < 0 ? berr_errno(err, "dup input") : 0;
    } else if (rc == 0) {
        src->tmpfd = fcntl(tmpfd, F_DUPFD_CLOEXEC, 3);
        rc = src->tmpfd < 0 ? berr_errno(err, "dup tmp") : 0;
        struct archive *a = archive_read_new();
        if (!a)
            abort();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (rc == 0 && archive_read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK)
            rc = berr_set(err, BERR_FAILED, "read archive: %s", la_err(a));
        if (rc == 0)
            rc = index_tar(src, a, fd, S_ISREG(st.st_mode), progress, ctx, err);
        archive_read_free(a);
    }
    if (rc < 0) {
        image_src_free(src);
        return -1;
    }
    *out = src;
    return 0;
}

static struct member *find(struct image_src *src, const char *name)
{
    for (size_t i = 0; i < src->n; i++) {
        if (strcmp(src->m[i].name, name) == 0)
            return &src->m[i];
    }
    return NULL;
}

/* Resolve path (cleaned) through the archive's symlinks and hard links, component by
 * component; NULL with err set when it leads nowhere or outside. */
static struct member *resolve(struct image_src *src, const char *path, int hops, struct berr *err)
{
    if (hops > MAX_LINK_HOPS) {
        berr_errnum(err, ELOOP, "archive member %s: too many links", path);
        return NULL;
    }
    size_t len = strlen(path);
    for (size_t i = 0; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        _cleanup_free_ char *prefix = strndup(path, i);
        if (!prefix)
            abort();
        struct member *m = find(src, prefix);
        if (!m)
            continue;
        if (m->type == 'f' && i == len)
            return m;
        if (m->type != 'l' && m->type != 'h')
            continue;
        /* symlink targets are relative to the link's directory, hard links to the root */
        const char *slash = strrchr(prefix, '/');
        _cleanup_free_ char *dir = m->type == 'l' && m->link[0] != '/' && slash
                                       ? strndup(prefix, (size_t)(slash - prefix))
                                       : xstrdup("");
        _cleanup_free_ char *joined = xasprintf("%s/%s%s", dir, m->link, path + i);
        _cleanup_free_ char *next = clean_name(joined);
        if (!next) {
            berr_set(err, BERR_FAILED, "archive member %s: link %s leads outside the archive", path,
                     m->link);
            return NULL;
        }
        return resolve(src, next, hops + 1, err);
    }
    berr_errnum(err, ENOENT, "archive has no file %s", path);
    return NULL;
}

int image_src_member(struct image_src *src, const char *path, struct blob_loc *loc,
                     struct berr *err)
{
    *loc = (struct blob_loc){.fd = -1};
    _cleanup_free_ char *name = clean_name(path);
    if (!name || !*name)
        return berr_set(err, BERR_FAILED, "archive path %s is outside the archive", path);
    if (src->dirfd >= 0) {
        _cleanup_free_ char *abs = xasprintf("/%s", name);
        int fd = open_in_root(src->dirfd, abs, O_RDONLY | O_NOFOLLOW, 0);
        if (fd < 0)
            return berr_errno(err, "open %s", name);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return berr_set(err, BERR_FAILED, "%s is not a regular file", name);
        }
        *loc = (struct blob_loc){.fd = fd, .own_fd = true, .size = (unsigned long long)st.st_size};
        return 0;
    }
    struct member *m = resolve(src, name, 0, err);
    if (!m)
        return -1;
    if (m->spool < 0) {
        *loc = (struct blob_loc){.fd = src->fd, .off = m->off, .size = m->size};
        return 0;
    }
    char num[32];
    snprintf(num, sizeof(num), "%ld", m->spool);
    int fd = openat(src->spoolfd, num, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "open spooled member %s", name);
    *loc = (struct blob_loc){.fd = fd, .own_fd = true, .size = m->size};
    return 0;
}

bool image_src_has(struct image_src *src, const char *path)
{
    struct blob_loc loc;
    struct berr ignored;
    if (image_src_member(src, path, &loc, &ignored) < 0)
        return false;
    blob_loc_close(&loc);
    return true;
}

int image_src_read(struct image_src *src, const char *path, size_t max, char **text, size_t *len,
                   char hex[65], struct berr *err)
{
    struct blob_loc loc;
    if (image_src_member(src, path, &loc, err) < 0)
        return -1;
    int rc = 0;
    if (loc.size > max)
        rc = berr_set(err, BERR_FAILED, "%s: larger than %zu bytes", path, max);
    char *buf = rc ? NULL : xmalloc(loc.size + 1);
    for (size_t done = 0; rc == 0 && done < loc.size;) {
        ssize_t n = pread(loc.fd, buf + done, loc.size - done, (off_t)(loc.off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = n < 0 ? berr_errno(err, "read %s", path)
                       : berr_set(err, BERR_FAILED, "read %s: archive is truncated", path);
        else
            done += (size_t)n;
    }
    blob_loc_close(&loc);
    if (rc < 0) {
        free(buf);
        return -1;
    }
    buf[loc.size] = '\0';
    sha256_hex(buf, loc.size, hex);
    *text = buf;
    *len = loc.size;
    return 0;
}
