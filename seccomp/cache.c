/* Compile once: the BPF for a (profile, caps, arch, kernel, libseccomp, berth) tuple lives in
 * <data root>/seccomp/<sha256 of the tuple>.bpf, and later starts only read and check it.
 * Loading is one seccomp(2) call. The cache keeps the SECCOMP_CACHE_MAX entries used last.
 *
 * Entries are written to a temporary name and renamed, and removed only by unlink: a start
 * that opened one reads it whole even while another process evicts it, and a start that
 * finds none compiles again. So concurrent starts never load a partial file, whatever the
 * interleaving; the worst a race costs is one compile more. */
#include "seccomp/seccomp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#define FILTER_MAGIC "BERTHBPF"
#define FILTER_FORMAT 1u

/* On disk, native byte order (the file never leaves this machine). sha256 covers everything
 * after the header: the instructions, then warning_len bytes of warning. */
struct filter_header {
    char magic[8];
    uint32_t format;
    uint32_t flags;
    uint32_t len; /* instructions */
    uint32_t warning_len;
    char sha256[64];
};

static void content_digest(const struct seccomp_filter *f, char out[65])
{
    struct sha256_stream *s = sha256_stream_new();
    if (f->len)
        sha256_stream_update(s, f->insns, f->len * sizeof(*f->insns));
    if (f->warning)
        sha256_stream_update(s, f->warning, strlen(f->warning));
    sha256_stream_final(s, out);
}

/* For the --debug lines: what seccomp costs a start, measured in place. */
static long long elapsed_us(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000LL + (now.tv_nsec - since->tv_nsec) / 1000;
}

int seccomp_filter_write_at(int dirfd, const char *name, const struct seccomp_filter *f,
                            struct berr *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t wlen = f->warning ? strlen(f->warning) : 0;
    size_t ilen = f->len * sizeof(*f->insns);
    struct filter_header h = {.format = FILTER_FORMAT,
                              .flags = f->flags,
                              .len = (uint32_t)f->len,
                              .warning_len = (uint32_t)wlen};
    memcpy(h.magic, FILTER_MAGIC, sizeof(h.magic));
    char digest[65];
    content_digest(f, digest);
    memcpy(h.sha256, digest, sizeof(h.sha256));
    size_t total = sizeof(h) + ilen + wlen;
    _cleanup_free_ char *buf = xmalloc(total);
    memcpy(buf, &h, sizeof(h));
    if (ilen)
        memcpy(buf + sizeof(h), f->insns, ilen);
    if (wlen)
        memcpy(buf + sizeof(h) + ilen, f->warning, wlen);
    if (write_file_atomic_at(dirfd, name, buf, total, 0600, err) < 0)
        return -1;
    debugf("seccomp: filter %s written in %lld us", name, elapsed_us(&t0));
    return 0;
}

static int corrupt(struct berr *err, const char *name, const char *why)
{
    return berr_set(err, BERR_FAILED, "seccomp filter %s is damaged: %s", name, why);
}

static int read_filter_fd(int fd, const char *name, struct seccomp_filter *out, struct berr *err)
{
    *out = (struct seccomp_filter){0};
    _cleanup_free_ char *buf = NULL;
    size_t total = 0;
    size_t max = sizeof(struct filter_header) + BPF_MAXINSNS * sizeof(struct sock_filter) + 65536;
    if (read_fd_all(fd, max + 1, &buf, &total, err) < 0)
        return berr_wrap(err, "%s", name);
    struct filter_header h;
    if (total < sizeof(h))
        return corrupt(err, name, "shorter than its header");
    memcpy(&h, buf, sizeof(h));
    if (memcmp(h.magic, FILTER_MAGIC, sizeof(h.magic)) || h.format != FILTER_FORMAT)
        return corrupt(err, name, "not a berth filter file of this format");
    /* length 0: a profile that disables seccomp, recorded for exec */
    if (h.len > BPF_MAXINSNS || h.warning_len > 65536 ||
        total != sizeof(h) + h.len * sizeof(struct sock_filter) + h.warning_len)
        return corrupt(err, name, "length does not match its header");
    struct seccomp_filter f = {.len = h.len, .flags = h.flags};
    f.insns = xmalloc(h.len ? h.len * sizeof(*f.insns) : 1);
    if (h.len)
        memcpy(f.insns, buf + sizeof(h), h.len * sizeof(*f.insns));
    if (h.warning_len) {
        f.warning = xmalloc(h.warning_len + 1);
        memcpy(f.warning, buf + sizeof(h) + h.len * sizeof(*f.insns), h.warning_len);
        f.warning[h.warning_len] = '\0';
    }
    char digest[65];
    content_digest(&f, digest);
    if (memcmp(digest, h.sha256, sizeof(h.sha256)) ||
        (f.warning && strlen(f.warning) != h.warning_len)) {
        seccomp_filter_free(&f);
        return corrupt(err, name, "checksum mismatch");
    }
    *out = f;
    return 0;
}

int seccomp_filter_read_at(int dirfd, const char *name, struct seccomp_filter *out,
                           struct berr *err)
{
    *out = (struct seccomp_filter){0};
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0)
        return berr_errno(err, "open %s", name);
    return read_filter_fd(fd, name, out, err);
}

/* ---- the cache ------------------------------------------------------------------------------ */

static void update_str(struct sha256_stream *s, const char *str)
{
    sha256_stream_update(s, str, strlen(str) + 1);
}

void seccomp_cache_name(const struct seccomp_source *src, uint64_t caps, char out[70])
{
    struct sha256_stream *s = sha256_stream_new();
    const struct scmp_version *v = seccomp_version();
    struct utsname u = {0};
    uname(&u);
    char buf[128];
    update_str(s, "berth-seccomp-cache-1");
    update_str(s, BERTH_VERSION);
    snprintf(buf, sizeof(buf), "libseccomp %u.%u.%u arch %u caps %016llx", v->major, v->minor,
             v->micro, seccomp_arch_native(), (unsigned long long)caps);
    update_str(s, buf);
    /* minKernel rules depend on the running kernel */
    update_str(s, u.machine);
    update_str(s, u.release);
    const char *text = src->text ? src->text : seccomp_default_profile;
    size_t len = src->text ? src->len : strlen(seccomp_default_profile);
    snprintf(buf, sizeof(buf), "%s %zu", src->text ? "profile" : "builtin", len);
    update_str(s, buf);
    sha256_stream_update(s, text, len);
    char hex[65];
    sha256_stream_final(s, hex);
    snprintf(out, 70, "%s.bpf", hex);
}

static int open_cache_dir(const char *data_root, struct berr *err)
{
    _cleanup_close_ int root = open(data_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return berr_errno(err, "open data root %s", data_root);
    /* made on the first start only: every later one just opens it */
    int fd = openat(root, "seccomp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(root, "seccomp", 0700) < 0 && errno != EEXIST)
            return berr_errno(err, "create %s/seccomp", data_root);
        fd = openat(root, "seccomp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return berr_errno(err, "open %s/seccomp", data_root);
    return fd;
}

static const char *source_name(const struct seccomp_source *src)
{
    return !src->text ? "(built-in default)" : src->name ? src->name : "(unnamed)";
}

static int load_source(const struct seccomp_source *src, uint64_t caps, struct seccomp_profile *out,
                       struct berr *err)
{
    bool builtin = !src->text;
    const char *text = builtin ? seccomp_default_profile : src->text;
    size_t len = builtin ? strlen(seccomp_default_profile) : src->len;
    struct seccomp_target t = {.caps = caps};
    return seccomp_profile_load(source_name(src), text, len, &t, out, err);
}

static int compile_source(const struct seccomp_source *src, uint64_t caps,
                          struct seccomp_filter *out, struct berr *err)
{
    bool builtin = !src->text;
    const char *name = source_name(src);
    struct seccomp_profile p;
    if (load_source(src, caps, &p, err) < 0)
        return -1;
    int rc = seccomp_compile(&p, out, NULL, err);
    seccomp_profile_free(&p);
    if (rc < 0)
        return berr_wrap(err, "seccomp profile %s", name);
    if (builtin) {
        /* the default names calls newer than this libseccomp on purpose: no warning */
        free(out->warning);
        out->warning = NULL;
    } else if (out->warning) {
        char *w = xasprintf("seccomp profile %s: %s", name, out->warning);
        free(out->warning);
        out->warning = w;
    }
    return 0;
}

/* The OCI form of an entry's profile (seccomp_oci_get) lives beside it, and goes with it. */
static void oci_cache_name(const char bpf_name[70], char out[80])
{
    snprintf(out, 80, "%.64s.oci.json", bpf_name);
}

/* ---- keeping the cache small ------------------------------------------------------------- */

/* An entry's mtime is when a start last used it: the clock of the LRU eviction. Refreshed on
 * the fd the hit has open, and only when a minute old, so that a host starting many
 * containers a second does not write the inode at each start. */
static void mark_used(int fd)
{
    struct stat st;
    struct timespec now;
    if (fstat(fd, &st) == 0 && clock_gettime(CLOCK_REALTIME, &now) == 0 &&
        now.tv_sec - st.st_mtim.tv_sec < 60 && now.tv_sec >= st.st_mtim.tv_sec)
        return;
    (void)futimens(fd, NULL);
}

static int read_and_mark_used(int dir, const char *name, struct seccomp_filter *out,
                              struct berr *err)
{
    _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0)
        return berr_errno(err, "open %s", name);
    if (read_filter_fd(fd, name, out, err) < 0)
        return -1;
    mark_used(fd);
    return 0;
}

struct cache_entry {
    char name[70];
    struct timespec mtime;
};

/* "<64 hex>.bpf": an entry; anything else in the folder is not the cache's to count. */
static bool is_entry_name(const char *n)
{
    if (strlen(n) != 68 || strcmp(n + 64, ".bpf"))
        return false;
    for (int i = 0; i < 64; i++) {
        if (!strchr("0123456789abcdef", n[i]))
            return false;
    }
    return true;
}

/* write_file_atomic_at's ".<name>.tmp.<pid>" of a writer that died before its rename. An hour
 * old: a live writer renames within milliseconds. */
static bool is_stale_temp(const char *n, const struct stat *st, time_t now)
{
    return n[0] == '.' && (strstr(n, ".bpf.tmp.") || strstr(n, ".oci.json.tmp.")) &&
           now - st->st_mtim.tv_sec > 3600;
}

static int older_first(const void *a, const void *b)
{
    const struct cache_entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The entries in dir, with their mtimes; stale temporary files removed on the way. */
static size_t list_entries(int dir, struct cache_entry **out)
{
    *out = NULL;
    struct berr err = {0};
    /* dir is O_PATH: a stream needs the folder opened for reading */
    _cleanup_closedir_ DIR *d =
        dir_from_fd(openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "seccomp cache", &err);
    if (!d)
        return 0;
    time_t now = time(NULL);
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st;
        if (fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (is_stale_temp(e->d_name, &st, now))
            (void)unlinkat(dir, e->d_name, 0);
        if (!is_entry_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 2 * SECCOMP_CACHE_MAX;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        memcpy((*out)[n].name, e->d_name, 69); /* is_entry_name: 68 characters */
        (*out)[n++].mtime = st.st_mtim;
    }
    return n;
}

/* Least recently used first, down to SECCOMP_CACHE_MAX, never the entry just written. Runs
 * only after a compile, which costs far more than this scan. An entry another start touches
 * meanwhile may still go: that start has it open already, the next one compiles again. */
static void evict_beyond_limit(int dir, const char *keep)
{
    _cleanup_free_ struct cache_entry *all = NULL;
    size_t n = list_entries(dir, &all);
    if (n <= SECCOMP_CACHE_MAX)
        return;
    qsort(all, n, sizeof(*all), older_first);
    for (size_t i = 0, excess = n - SECCOMP_CACHE_MAX; i < n && excess > 0; i++) {
        if (!strcmp(all[i].name, keep))
            continue;
        if (unlinkat(dir, all[i].name, 0) < 0 && errno != ENOENT)
            continue;
        char oci[80];
        oci_cache_name(all[i].name, oci);
        (void)unlinkat(dir, oci, 0);
        excess--;
        debugf("seccomp: cache entry %s evicted", all[i].name);
    }
}

/* ---- the filter for a start ----------------------------------------------------------------- */

/* An entry of the cache: its key, hashed once, and the cache directory (-1: no cache). */
struct entry {
    char name[70];
    int dir;
};

static void entry_open(const char *data_root, const struct seccomp_source *src, uint64_t caps,
                       struct entry *e)
{
    seccomp_cache_name(src, caps, e->name);
    struct berr cerr = {0};
    e->dir = data_root ? open_cache_dir(data_root, &cerr) : -1;
    if (data_root && e->dir < 0)
        debugf("seccomp: no cache: %s", cerr.msg);
}

static void entry_close(struct entry *e)
{
    if (e->dir >= 0)
        close(e->dir);
    e->dir = -1;
}

static int filter_get(const struct entry *e, const struct seccomp_source *src, uint64_t caps,
                      struct seccomp_filter *out, struct berr *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    *out = (struct seccomp_filter){0};
    struct berr cerr = {0};
    if (e->dir >= 0) {
        if (read_and_mark_used(e->dir, e->name, out, &cerr) == 0) {
            debugf("seccomp: cached filter %s read in %lld us", e->name, elapsed_us(&t0));
            return 0;
        }
        if (cerr.errnum != ENOENT)
            debugf("seccomp: %s; rebuilding it", cerr.msg);
    }
    if (compile_source(src, caps, out, err) < 0)
        return -1;
    debugf("seccomp: filter compiled in %lld us", elapsed_us(&t0));
    /* a profile that disables seccomp is cheap to parse again: nothing cached */
    if (e->dir < 0 || out->len == 0)
        return 0;
    if (seccomp_filter_write_at(e->dir, e->name, out, &cerr) < 0)
        debugf("seccomp: cache not written: %s", cerr.msg);
    else
        evict_beyond_limit(e->dir, e->name);
    return 0;
}

int seccomp_filter_get(const char *data_root, const struct seccomp_source *src, uint64_t caps,
                       struct seccomp_filter *out, struct berr *err)
{
    struct entry e;
    entry_open(data_root, src, caps, &e);
    int rc = filter_get(&e, src, caps, out, err);
    entry_close(&e);
    return rc;
}

/* Flattening a profile costs a start about 0.2 ms (the built-in one, measured with perf stat
 * on `berth run --rm`), more than reading what the last start made of it: the OCI form is
 * cached beside the filter, under the same key, "<key>.oci.json". */
static int read_cached_oci(int dir, const char *name, char **out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file_at(dir, name, 16 << 20, &text, &len, err) < 0 ||
        json_check_object(text, len, err) < 0)
        return -1;
    *out = steal_ptr(&text);
    return 0;
}

static int make_oci(const struct seccomp_source *src, uint64_t caps, char **text, struct berr *err)
{
    *text = NULL;
    struct seccomp_profile p;
    if (load_source(src, caps, &p, err) < 0)
        return -1;
    int rc = 0;
    if (!p.disabled) {
        yajl_gen g = json_gen_new(false);
        rc = seccomp_profile_gen_oci(&p, g, err);
        if (rc == 0)
            *text = json_gen_take(g, NULL);
        else
            yajl_gen_free(g);
    }
    seccomp_profile_free(&p);
    return rc < 0 ? berr_wrap(err, "seccomp profile %s", source_name(src)) : 0;
}

static int oci_get(const struct entry *e, const struct seccomp_source *src, uint64_t caps,
                   char **out, struct berr *err)
{
    *out = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char name[80];
    oci_cache_name(e->name, name);
    struct berr cerr = {0};
    if (e->dir >= 0) {
        if (read_cached_oci(e->dir, name, out, &cerr) == 0) {
            debugf("seccomp: cached OCI form %s read in %lld us", name, elapsed_us(&t0));
            return 0;
        }
        if (cerr.errnum != ENOENT)
            debugf("seccomp: %s; rebuilding it", cerr.msg);
    }
    _cleanup_free_ char *text = NULL;
    if (make_oci(src, caps, &text, err) < 0)
        return -1;
    if (!text) /* a profile that disables seccomp */
        return 0;
    debugf("seccomp: OCI form made in %lld us", elapsed_us(&t0));
    if (e->dir >= 0 && write_file_atomic_at(e->dir, name, text, strlen(text), 0600, &cerr) < 0)
        debugf("seccomp: OCI form not cached: %s", cerr.msg);
    *out = steal_ptr(&text);
    return 0;
}

int seccomp_oci_get(const char *data_root, const struct seccomp_source *src, uint64_t caps,
                    char **out, struct berr *err)
{
    struct entry e;
    entry_open(data_root, src, caps, &e);
    int rc = oci_get(&e, src, caps, out, err);
    entry_close(&e);
    return rc;
}

int seccomp_get(const char *data_root, const struct seccomp_source *src, uint64_t caps,
                struct seccomp_filter *filter, char **oci, struct berr *err)
{
    struct entry e;
    entry_open(data_root, src, caps, &e);
    *oci = NULL;
    int rc = filter_get(&e, src, caps, filter, err);
    if (rc == 0 && (rc = oci_get(&e, src, caps, oci, err)) < 0)
        seccomp_filter_free(filter);
    entry_close(&e);
    return rc;
}

/* ---- loading -------------------------------------------------------------------------------- */

int seccomp_filter_load(const struct seccomp_filter *f, struct berr *err)
{
    if (!f || f->len == 0)
        return 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct sock_fprog prog = {.len = (unsigned short)f->len, .filter = f->insns};
    unsigned flags = f->flags;
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0 && errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_SPEC_ALLOW)) {
        /* kernels before 4.17 lack the flag: load without it, as crun does */
        flags &= ~(unsigned)SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    }
    if (rc < 0)
        return berr_errno(err, "load the seccomp filter");
    debugf("seccomp: filter of %zu instructions loaded in %lld us", f->len, elapsed_us(&t0));
    return 0;
}
