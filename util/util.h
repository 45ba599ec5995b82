/* util — what every module shares: the error type, cleanup attributes, fd and file helpers
 * (everything relative to a directory fd, every fd O_CLOEXEC), in-root path resolution,
 * small JSON helpers over yajl, SHA-256 and random ids. Knows nothing of containers. */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- errors ---------------------------------------------------------------------------- */

/* What kind of failure, so a front end can pick docker's exit code without parsing text. */
enum berr_kind {
    BERR_FAILED = 0,    /* berth itself failed: 125 for run, 1 for other commands */
    BERR_NOT_FOUND,     /* no such container / image */
    BERR_CMD_NOT_FOUND, /* the container's command does not exist: 127 */
    BERR_CMD_NOT_EXEC,  /* the container's command cannot be executed: 126 */
    BERR_CONFLICT,      /* name in use, cidfile present */
    BERR_USAGE,         /* bad flag or argument */
    BERR_NOT_RUNNING,   /* the container is not running */
};

struct berr {
    int errnum; /* errno of the root cause, 0 when there is none */
    enum berr_kind kind;
    char msg[2048];
};

/* Each returns -1 so callers can write `return berr_errno(err, "open %s", p);`. */
int berr_set(struct berr *err, enum berr_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Message "<fmt>: <strerror(errno)>", errnum = errno. */
int berr_errno(struct berr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same with an explicit errno value. */
int berr_errnum(struct berr *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix context: "<fmt>: <previous message>". */
int berr_wrap(struct berr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- ownership ------------------------------------------------------------------------- */

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_close_ _cleanup_(close_fdp)
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_ _cleanup_(strv_freep)

void close_fdp(int *fd);
void freep(void *p);
void fclosep(FILE **f);

static inline void *steal_ptr_(void **p)
{
    void *v = *p;
    *p = NULL;
    return v;
}
#define steal_ptr(pp) steal_ptr_((void **)(pp))

static inline int steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not an error we can report usefully: abort. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- string vectors (NULL-terminated) -------------------------------------------------- */

struct strv {
    char **v;
    size_t n, cap;
};
void strv_push(struct strv *s, const char *str);
void strv_push_owned(struct strv *s, char *str);
bool strv_contains(const struct strv *s, const char *str);
void strv_free(struct strv *s);
void strv_freep(struct strv *s);
/* Index of the first "KEY=..." entry whose key equals that of kv (up to '='), or -1. */
ssize_t strv_find_env(const struct strv *s, const char *kv);
/* Replace the entry with the same key, or append. */
void strv_set_env(struct strv *s, const char *kv);
/* The entries with sep between them, malloc'd ("" for none). */
char *strv_join(const struct strv *s, const char *sep);

bool str_has_prefix(const char *s, const char *prefix);
/* Strict decimal parsing: the whole string, no sign unless allowed, within [min, max]. */
int parse_long(const char *s, long long min, long long max, long long *out);

/* ---- files ----------------------------------------------------------------------------- */

/* Read a whole (small) file into a NUL-terminated buffer, capped at max bytes. */
int read_file_at(int dirfd, const char *name, size_t max, char **out, size_t *len,
                 struct berr *err);
int read_fd_all(int fd, size_t max, char **out, size_t *len, struct berr *err);
int write_all(int fd, const void *buf, size_t len);
/* temp file + fsync-less rename in dirfd: readers see the old or the new content, never half. */
int write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                         struct berr *err);
/* The same in two steps, for a write whose moment matters: the temporary file made (and its
 * mode set) ahead, then written and renamed over name. A commit closes f, failed or not. */
struct atomic_file {
    int dirfd, fd; /* fd -1: nothing open */
    char name[256], tmp[256];
};
int atomic_file_open(int dirfd, const char *name, mode_t mode, struct atomic_file *f,
                     struct berr *err);
int atomic_file_commit(struct atomic_file *f, const void *buf, size_t len, struct berr *err);
/* Closed and unlinked without a write; nothing when f holds nothing. */
void atomic_file_discard(struct atomic_file *f);
/* mkdir -p of a host path we own (store roots). */
int mkdir_p(const char *path, mode_t mode, struct berr *err);
struct store_dir {
    const char *name; /* relative to the store root; NULL ends a layout */
    mode_t mode;
};
/* Set FD_CLOEXEC on every fd >= lowfd: close_range(CLOSE_RANGE_CLOEXEC), or on kernels
 * before 5.11 a walk of /proc/self/fd (checked to be procfs). */
int mark_cloexec_from(int lowfd, struct berr *err);
int mark_cloexec_by_procfs(int lowfd, struct berr *err); /* the fallback alone */
/* Close every fd >= 3 except those listed (order does not matter). */
void close_fds_except(const int *keep, size_t n);
/* One message of len bytes on a socket with descriptors fds[0..n) (SCM_RIGHTS), MSG_NOSIGNAL:
 * what sendmsg returns. */
ssize_t send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n);
/* One message into buf (len bytes at most), its descriptors (close-on-exec) into fds, *n of
 * them: what recvmsg returns, retried on EINTR; -1 with EMSGSIZE when more than max came. */
ssize_t recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *n);
/* Open a store root as O_PATH, making it (mkdir -p, mode) and the layout's directories when
 * missing. */
int open_store_root(const char *path, mode_t mode, const struct store_dir *layout,
                    struct berr *err);
/* A directory stream that owns fd (closed on failure too); fd < 0 is an error of the call
 * that made it (errno kept). */
DIR *dir_from_fd(int fd, const char *what, struct berr *err);
/* A stream over dirfd itself, through a CLOEXEC duplicate, so dirfd stays usable. */
DIR *dir_dup(int dirfd, const char *what, struct berr *err);
void closedirp(DIR **d);
#define _cleanup_closedir_ _cleanup_(closedirp)
/* Remove a directory tree below dirfd/name without following symlinks or crossing mounts. */
int remove_tree_at(int dirfd, const char *name, struct berr *err);
/* "/proc/self/fd/N": the file fd holds, for calls that take a path (mount, chmod, linkat,
 * inotify, reopening an O_PATH fd). */
#define PROC_FD_PATH_MAX 32
static inline void proc_fd_path(int fd, char out[PROC_FD_PATH_MAX])
{
    snprintf(out, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* ---- acting for a caller (ident.c) ---------------------------------------------------- */

/* A user berth acts for: a caller handed over by a setuid launcher. Files it names are opened
 * with its file-system ids and groups (NULL: with berth's own). */
struct ident {
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* owned */
    size_t ngroups;
};
void ident_free(struct ident *who);
/* uid and gid with the calling process's supplementary groups. */
int ident_with_own_groups(struct ident *who, uid_t uid, gid_t gid, struct berr *err);
/* Take who's file-system ids and groups until ident_leave (NULL: nothing). The process must
 * be root; between the two, only file-system calls made for who. */
int ident_enter(const struct ident *who, struct berr *err);
void ident_leave(const struct ident *who);
/* open(2) (O_CLOEXEC added) and a whole small file, with who's rights. */
int ident_open(const struct ident *who, const char *path, int flags, mode_t mode, struct berr *err);
int ident_read_file(const struct ident *who, const char *path, size_t max, char **out, size_t *len,
                    struct berr *err);

/* ---- in-root resolution ---------------------------------------------------------------- */

/* openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: symlinks and ".." never leave rootfd. */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* Make every missing directory of path inside rootfd (0755), return an O_PATH fd of the last.
 * A component that exists but is not a directory is ENOTDIR. */
int mkdir_p_in_root(int rootfd, const char *path, struct berr *err);
/* Split an absolute, cleaned path into its parent (opened in root, created if missing) and the
 * last component. The caller owns *parent_fd; *base points into path. */
int open_parent_in_root(int rootfd, const char *path, bool create, int *parent_fd,
                        const char **base, struct berr *err);
/* Lexically clean an absolute path: collapse "//", "." and ".." (".." at "/" stays "/"). */
char *path_clean(const char *path);
/* Would the lexical walk of path ever climb above where it starts? A leading "/" counts as
 * the start: "/../x" and "a/../../x" escape, "a/../x" does not. */
bool path_escapes(const char *path);
/* path with every symlink among its existing components replaced by its target, each resolved
 * inside rootfd (absolute targets from the root, ".." never above it), so that what is missing
 * can be made where the image's links point: docker's FollowSymlinkInScope. Clean, absolute,
 * malloc'd; NULL on error (ELOOP after 40 links). */
char *follow_in_root(int rootfd, const char *path, struct berr *err);

/* ---- host paths a user may have shaped (hostpath.c) ------------------------------------ */

/* An O_PATH fd of an absolute host path, resolved one component at a time from "/"
 * (openat with O_NOFOLLOW), following a symlink only when link_owner owns it: a link anyone
 * else planted is an error naming it and its owner. With make_dirs, missing components are
 * made (0755, mkdirat in the directory already resolved). The fd is what was checked, so
 * nothing can be swapped in between the check and its use. ELOOP after 40 links. */
int open_host_path(const char *path, uid_t link_owner, bool make_dirs, struct berr *err);

/* ---- identifiers and hashing ----------------------------------------------------------- */

/* 64 lowercase hex chars from getrandom, first 12 not all digits (docker's rule). */
int random_id(char out[65], struct berr *err);
/* s is 64 lowercase hex chars and nothing more: an id (random_id) or a digest (sha256_hex). */
bool is_hex64(const char *s);
/* hex of SHA-256 of buf. */
void sha256_hex(const void *buf, size_t len, char out[65]);
struct sha256_stream;
struct sha256_stream *sha256_stream_new(void);
void sha256_stream_update(struct sha256_stream *s, const void *buf, size_t len);
void sha256_stream_final(struct sha256_stream *s, char out[65]); /* frees s */
/* A sha256 computed by a second thread over buffers the caller fills in order (hashpipe.c):
 * take a buffer (of bufsize bytes), fill it, submit it; it stays unchanged until
 * PIPE_SLOTS - 1 more have been taken. final waits for the hasher and frees p. */
struct sha256_pipe;
struct sha256_pipe *sha256_pipe_new(size_t bufsize);
void *sha256_pipe_buffer(struct sha256_pipe *p);
void sha256_pipe_submit(struct sha256_pipe *p, size_t len);
void sha256_pipe_final(struct sha256_pipe *p, char out[65]);

/* ---- time ------------------------------------------------------------------------------ */

/* RFC 3339 with nanoseconds, UTC, as docker prints times: 2026-11-29T12:00:00.123456789Z */
void format_rfc3339(const struct timespec *ts, char out[40]);
/* Go's RFC3339Nano, as docker's JSON has times: trailing zeros of the fraction dropped; Go's
 * zero time (0001-01-01T00:00:00Z) for an unset one (tv_sec 0). */
void format_go_time(const struct timespec *ts, char out[40]);
int parse_rfc3339(const char *s, struct timespec *ts);
/* "2 minutes ago", "About an hour ago": docker's go-units HumanDuration. */
void human_duration(double seconds, char *out, size_t outlen);
/* "1.23MB", "45.6kB": docker's go-units HumanSize (decimal). */
void human_size(double bytes, char *out, size_t outlen);
/* go-units' HumanSizeWithPrecision: decimal units, %.*g with that many significant digits. */
void human_size_precision(double bytes, int digits, char *out, size_t outlen);

/* ---- JSON (yajl) ---------------------------------------------------------------------- */

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* yajl_tree_free, and whatever walks a tree (json_gen_value), recurse once per level of
 * nesting: a document of a few megabytes could nest deep enough to overflow the stack. Deeper
 * documents are refused as they are read, before any of that; nothing berth reads comes close
 * to this. */
#define JSON_MAX_DEPTH 1000
/* Refuses text whose arrays and objects nest deeper than JSON_MAX_DEPTH (brackets inside
 * strings do not count). A scan of the bytes, no parse: json_parse counts the nesting itself;
 * this is for a reader that must refuse the depth before its own pass over the text (the
 * seccomp profile's syntax check). */
int json_check_depth(const char *text, size_t len, struct berr *err);
/* Parse a document; on failure the message carries yajl's position text. Nesting deeper than
 * JSON_MAX_DEPTH is refused as it is read. */
int json_parse(const char *text, yajl_val *out, struct berr *err);
/* The same, with the value at skip (object keys from the root, NULL-terminated) kept as a null:
 * there, and never built. */
int json_parse_except(const char *text, const char *const *skip, yajl_val *out, struct berr *err);
/* Whether text is one JSON object and nothing else, strictly (no comments, valid UTF-8), as
 * any reader of it will parse it (depth included): yajl's parser with no tree built, a few
 * times cheaper than json_parse. For text that json_gen_verbatim then copies as it is. */
int json_check_object(const char *text, size_t len, struct berr *err);
/* Member of an object (NULL when absent or when v is not an object). */
yajl_val json_get(yajl_val obj, const char *key);
/* String member, or NULL. */
const char *json_get_str(yajl_val obj, const char *key);
/* Appends the strings of an array member; other types are skipped. */
void json_get_strv(yajl_val obj, const char *key, struct strv *out);
yajl_gen json_gen_new(bool pretty);
/* Ends with g (freed): its text as a NUL-terminated copy (*len without the NUL), parsed into
 * *out, or written to dirfd/name atomically (0600). */
char *json_gen_take(yajl_gen g, size_t *len);
int json_gen_parse(yajl_gen g, yajl_val *out, struct berr *err);
int json_gen_write_at(yajl_gen g, int dirfd, const char *name, struct berr *err);
/* The same into a file opened ahead (atomic_file_open); g freed, f closed. */
int json_gen_commit(yajl_gen g, struct atomic_file *f, struct berr *err);
void json_str(yajl_gen g, const char *s); /* NULL writes JSON null */
/* An array of prefix+each string: ["sha256:<hex>", ...] */
void json_prefixed_array(yajl_gen g, const char *prefix, const struct strv *v);
void json_key_str(yajl_gen g, const char *key, const char *val);
void json_key_int(yajl_gen g, const char *key, long long val);
void json_key_bool(yajl_gen g, const char *key, bool val);
void json_key_strv(yajl_gen g, const char *key, const struct strv *val); /* NULL → null */
void json_gen_value(yajl_gen g, yajl_val v); /* a parsed tree, as it is; NULL → null */
/* One value written as the text given, which json_check_object accepted: no tree built and
 * walked for a document berth already holds as text. */
void json_gen_verbatim(yajl_gen g, const char *json, size_t len);

/* ---- libraries loaded when first needed (dl.c) ----------------------------------------- */

/* A function of a dlopen'd library: its name, and where its address goes in a table of
 * function pointers. */
struct dl_sym {
    const char *name;
    size_t offset;
};
#define DL_SYM(type, field, sym)                                                                   \
    {                                                                                              \
        sym, offsetof(type, field)                                                                 \
    }
/* Each of syms looked up in lib and stored in table; the name of the first one lib lacks, or
 * NULL when it has them all. */
const char *dl_bind(void *lib, const struct dl_sym *syms, size_t n, void *table);

/* ---- debug ----------------------------------------------------------------------------- */

bool debug_enabled(void);
void debugf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- trace (BERTH_TRACE=1, util/trace.c) ------------------------------------------------ */

/* One line per phase on a copy of stderr: "berth-trace <pid> <role> <phase> <us since the
 * previous phase> <us since the process started> <CLOCK_MONOTONIC us>". trace_begin reads
 * BERTH_TRACE, once per process, after the environment of a handed-over caller is rebuilt;
 * everything else is a no-op unless it returned true. */
bool trace_begin(const char *role);
bool trace_begin_fd(const char *role, int fd); /* berth-monitor: the trace fd handed over */
bool trace_enabled(void);
int trace_fd(void); /* -1 when off */
void trace_role(const char *role);
void trace_child(const char *role); /* in a cloned child: its own role, pid and start */
void trace_phase(const char *phase);
void trace_end(void); /* closes the trace fd: a detached process must not hold the caller's */
/* From now on the lines go to fd, the old trace fd closed (fd < 0: the trace ends), kept in
 * memory until trace_end writes them at once: the file's writes stay out of the phases. */
void trace_move(int fd);
/* Copies the lines another process left in dirfd/name to this process's trace. */
void trace_relay(int dirfd, const char *name);
size_t trace_format(char *buf, size_t cap, pid_t pid, const char *role, const char *phase,
                    uint64_t delta_us, uint64_t since_start_us, uint64_t mono_us);

#endif
