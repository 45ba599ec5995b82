/* seccomp — docker-format seccomp profiles: parse them (yajl), flatten includes/excludes
 * against a container's capabilities, arch and kernel exactly as dockerd does, compile the
 * result with libseccomp into BPF (with runc's ENOSYS stub for syscalls newer than the
 * profile), keep that BPF in a cache under the data root, and load it with seccomp(2).
 * Holds berth's built-in default profile. Knows nothing of containers, namespaces or the
 * order of a start: runtime/ decides when to load (last, before execve). */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include "util/util.h"

#include <linux/filter.h>
#include <stdint.h>

/* ---- capabilities --------------------------------------------------------------------------
 * Capabilities travel as a bitmask: bit n is capability number n of linux/capability.h
 * (CAP_CHOWN is bit 0, CAP_SYS_ADMIN bit 21). It is the container's bounding set, which
 * dockerd compares includes.caps and excludes.caps with. */
#define SECCOMP_CAP(n) (UINT64_C(1) << (n))
/* Bit of "CAP_X" (upper case, with the prefix); 0 when the name is unknown. */
uint64_t seccomp_cap_bit(const char *name);

/* What a profile is flattened against. */
struct seccomp_target {
    uint64_t caps;
    const char *arch; /* Go arch name as dockerd compares it ("amd64"); NULL: berth's own */
    int kernel_major; /* with kernel_minor; 0 (both): the running kernel, from uname */
    int kernel_minor;
};

/* ---- a profile after flattening ------------------------------------------------------------ */

struct seccomp_arg {
    unsigned index;     /* 0..5 */
    unsigned op;        /* enum scmp_compare */
    uint64_t value;     /* for SCMP_CMP_MASKED_EQ: the mask */
    uint64_t value_two; /* for SCMP_CMP_MASKED_EQ: the datum */
};

struct seccomp_rule {
    struct strv names;
    uint32_t action; /* kernel SECCOMP_RET_* value, errno/trace data folded in */
    struct seccomp_arg *args;
    size_t nargs;
};

struct seccomp_profile {
    bool disabled;              /* no defaultAction and no syscalls: no filter (dockerd's rule) */
    uint32_t default_action;    /* as seccomp_rule.action */
    struct strv arches;         /* libseccomp arch names ("x86_64", "x86", "x32"); empty: native */
    unsigned flags;             /* SECCOMP_FILTER_FLAG_* to load with */
    struct seccomp_rule *rules; /* the rules kept, in the profile's order */
    size_t nrules;
    size_t nrules_in; /* rules in the profile before flattening */
};

/* Parse text (len bytes; leading lines starting with '#' are skipped, as in Storm's shipped
 * example) and flatten it against t. name is used in messages (the path). A malformed
 * profile is BERR_USAGE: "seccomp profile NAME: line L, column C: ..." for JSON syntax, and for
 * a bad value its line, column and JSON path: "...: line 12, column 17: syscalls[3].action:
 * unknown action SCMP_ACT_FOO" (a missing key: the line and column of the object lacking it). */
int seccomp_profile_load(const char *name, const char *text, size_t len,
                         const struct seccomp_target *t, struct seccomp_profile *out,
                         struct berr *err);
void seccomp_profile_free(struct seccomp_profile *p);

/* "SCMP_ACT_ERRNO(1)", "SCMP_ACT_ALLOW", ... for an action value; "==", "&=="... for an op. */
void seccomp_action_name(uint32_t action, char *buf, size_t n);
const char *seccomp_op_name(unsigned op);

/* berth's built-in default profile (JSON, docker's format), used when no profile is given. */
extern const char seccomp_default_profile[];

/* ---- compiling --------------------------------------------------------------------------- */

/* A BPF program ready for seccomp(2), with the flags to load it with. */
struct seccomp_filter {
    struct sock_filter *insns;
    size_t len;
    unsigned flags;
    char *warning; /* one line for the caller to print (names skipped), or NULL */
};
void seccomp_filter_free(struct seccomp_filter *f);

/* What compiling saw, for the warning line and `berth seccomp check`. */
struct seccomp_report {
    struct strv skipped;    /* names libseccomp does not know, each once, in order */
    size_t same_as_default; /* rules left out because their action is the default action */
    struct strv enosys;     /* per arch: "x86_64 > 334", the numbers that get ENOSYS */
};
void seccomp_report_free(struct seccomp_report *r);

/* libseccomp → BPF: binary tree layout where available, no_new_privs left to the caller,
 * and unless the default action allows, a stub in front that answers ENOSYS for syscall
 * numbers above the largest one the profile names (per arch), so that libc falls back from
 * calls the profile predates (clone3 → clone). rep may be NULL. */
int seccomp_compile(const struct seccomp_profile *p, struct seccomp_filter *out,
                    struct seccomp_report *rep, struct berr *err);

/* ---- the cache and loading ---------------------------------------------------------------- */

/* A filter file: a header (magic, format, flags, length, SHA-256 of what follows), the
 * instructions, the warning. Written atomically; a read checks everything, so a truncated or
 * damaged file is an error (BERR_FAILED), never a filter. A missing one keeps ENOENT. */
int seccomp_filter_write_at(int dirfd, const char *name, const struct seccomp_filter *f,
                            struct berr *err);
int seccomp_filter_read_at(int dirfd, const char *name, struct seccomp_filter *out,
                           struct berr *err);

/* Where a profile comes from. */
struct seccomp_source {
    const char *name; /* the profile's path, for messages; NULL with text NULL: built-in */
    const char *text; /* its bytes as read; NULL: berth's built-in default profile */
    size_t len;
};

/* The filter for (profile bytes, caps, arch, kernel, libseccomp and berth versions): from
 * <data_root>/seccomp/<sha256>.bpf when present and intact, else flattened, compiled and
 * written there (a damaged file is replaced). A profile that disables seccomp gives
 * out->len 0. data_root NULL: no cache. A cache that cannot be written is not an error.
 * A hit refreshes the entry's mtime (at most once a minute); a write removes the least
 * recently used entries beyond SECCOMP_CACHE_MAX. */
#define SECCOMP_CACHE_MAX 64
int seccomp_filter_get(const char *data_root, const struct seccomp_source *src, uint64_t caps,
                       struct seccomp_filter *out, struct berr *err);
/* The cache file name for these inputs ("<64 hex>.bpf"), as seccomp_filter_get uses it. */
void seccomp_cache_name(const struct seccomp_source *src, uint64_t caps, char out[70]);

/* The flattened profile as OCI runtime-spec's linux.seccomp object, generated into g: the
 * names, actions (errnoRet for SCMP_ACT_ERRNO) and argument tests that seccomp_compile turns
 * into BPF. An action or operator OCI has no name for is BERR_FAILED. */
int seccomp_profile_gen_oci(const struct seccomp_profile *p, yajl_gen g, struct berr *err);
/* The same for the profile seccomp_filter_get compiles for these inputs, as JSON text that
 * json_check_object accepts (*out, NULL when the profile disables seccomp; free it). Cached
 * beside the filter, under the same key, and evicted with it; data_root NULL: no cache. */
int seccomp_oci_get(const char *data_root, const struct seccomp_source *src, uint64_t caps,
                    char **out, struct berr *err);
/* Both for one start: the key hashed and the cache opened once. On failure neither is kept. */
int seccomp_get(const char *data_root, const struct seccomp_source *src, uint64_t caps,
                struct seccomp_filter *filter, char **oci, struct berr *err);

/* seccomp(SECCOMP_SET_MODE_FILTER). No allocation: safe in a cloned child just before
 * execve. Needs no_new_privs or CAP_SYS_ADMIN. A filter of length 0 loads nothing. */
int seccomp_filter_load(const struct seccomp_filter *f, struct berr *err);

#endif
