/* A flattened profile → BPF through libseccomp, as runc and crun map it: names libseccomp
 * does not know are skipped, rules whose action is the default are left out (libseccomp
 * refuses them), several conditions on one argument become one rule each. Then runc's ENOSYS
 * stub (patchbpf/enosys_linux.go) goes in front of libseccomp's program. */
#include "seccomp/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>

#define X32_SYSCALL_BIT 0x40000000u

void seccomp_filter_free(struct seccomp_filter *f)
{
    free(f->insns);
    free(f->warning);
    *f = (struct seccomp_filter){0};
}

void seccomp_report_free(struct seccomp_report *r)
{
    strv_free(&r->skipped);
    strv_free(&r->enosys);
    *r = (struct seccomp_report){0};
}

static bool listed(const struct strv *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i], s))
            return true;
    }
    return false;
}

static bool same_index_twice(const struct seccomp_rule *r)
{
    for (size_t i = 0; i < r->nargs; i++) {
        for (size_t j = i + 1; j < r->nargs; j++) {
            if (r->args[i].index == r->args[j].index)
                return true;
        }
    }
    return false;
}

static struct scmp_arg_cmp to_cmp(const struct seccomp_arg *a)
{
    return (struct scmp_arg_cmp){.arg = a->index,
                                 .op = (enum scmp_compare)a->op,
                                 .datum_a = a->value,
                                 .datum_b = a->value_two};
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r, int nr, const char *name,
                    struct berr *err)
{
    int rc = 0;
    if (r->nargs == 0) {
        rc = seccomp_rule_add_array(ctx, r->action, nr, 0, NULL);
    } else if (!same_index_twice(r)) {
        struct scmp_arg_cmp cmp[6];
        size_t n = 0;
        for (size_t i = 0; i < r->nargs && n < 6; i++)
            cmp[n++] = to_cmp(&r->args[i]);
        rc = seccomp_rule_add_array(ctx, r->action, nr, (unsigned)n, cmp);
    } else {
        /* libseccomp cannot AND two comparisons of one argument: OR them, as runc does */
        for (size_t i = 0; i < r->nargs && rc == 0; i++) {
            struct scmp_arg_cmp one = to_cmp(&r->args[i]);
            rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &one);
        }
    }
    if (rc < 0)
        return berr_errnum(err, -rc, "seccomp rule for %s", name);
    return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct seccomp_profile *p,
                     struct seccomp_report *rep, struct berr *err)
{
    for (size_t i = 0; i < p->nrules; i++) {
        const struct seccomp_rule *r = &p->rules[i];
        if (r->action == p->default_action) {
            rep->same_as_default++;
            continue;
        }
        for (size_t j = 0; j < r->names.n; j++) {
            int nr = seccomp_syscall_resolve_name(r->names.v[j]);
            if (nr == __NR_SCMP_ERROR) {
                if (!listed(&rep->skipped, r->names.v[j]))
                    strv_push(&rep->skipped, r->names.v[j]);
                continue;
            }
            if (add_rule(ctx, r, nr, r->names.v[j], err) < 0)
                return -1;
        }
    }
    return 0;
}

static int add_arches(scmp_filter_ctx ctx, const struct strv *arches, struct berr *err)
{
    for (size_t i = 0; i < arches->n; i++) {
        uint32_t a = seccomp_arch_resolve_name(arches->v[i]);
        int rc = seccomp_arch_add(ctx, a);
        if (rc < 0 && rc != -EEXIST)
            return berr_errnum(err, -rc, "seccomp architecture %s", arches->v[i]);
    }
    return 0;
}

/* libseccomp 2.5 has no export to memory: through a memfd. */
static int export_bpf(scmp_filter_ctx ctx, struct seccomp_filter *out, struct berr *err)
{
    _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "memfd_create");
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0)
        return berr_errnum(err, -rc, "export the seccomp filter");
    if (lseek(fd, 0, SEEK_SET) < 0)
        return berr_errno(err, "lseek");
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (read_fd_all(fd, 1 << 20, &buf, &len, err) < 0)
        return -1;
    if (len == 0 || len % sizeof(struct sock_filter))
        return berr_set(err, BERR_FAILED, "libseccomp exported %zu bytes of BPF", len);
    out->len = len / sizeof(struct sock_filter);
    out->insns = xmalloc(len);
    memcpy(out->insns, buf, len);
    return 0;
}

/* ---- the ENOSYS stub ----------------------------------------------------------------------- */

struct arch_max {
    uint32_t scmp; /* SCMP_ARCH_* == AUDIT_ARCH_* */
    const char *name;
    int max; /* largest syscall number the profile names on this arch, -1 when none */
};

static int largest_nr(const struct seccomp_profile *p, uint32_t arch)
{
    int max = -1;
    for (size_t i = 0; i < p->nrules; i++) {
        for (size_t j = 0; j < p->rules[i].names.n; j++) {
            int nr = seccomp_syscall_resolve_name_arch(arch, p->rules[i].names.v[j]);
            if (nr > max)
                max = nr;
        }
    }
    return max;
}

static size_t filter_arches(const struct seccomp_profile *p, struct arch_max *out, size_t cap)
{
    size_t n = 0;
    uint32_t native = seccomp_arch_native();
    out[n++] =
        (struct arch_max){.scmp = native, .name = native == SCMP_ARCH_X86_64 ? "x86_64" : "native"};
    for (size_t i = 0; i < p->arches.n && n < cap; i++) {
        uint32_t a = seccomp_arch_resolve_name(p->arches.v[i]);
        if (a != native)
            out[n++] = (struct arch_max){.scmp = a, .name = p->arches.v[i]};
    }
    for (size_t i = 0; i < n; i++)
        out[i].max = largest_nr(p, out[i].scmp);
    return n;
}

static struct sock_filter stmt(uint16_t code, uint32_t k)
{
    return (struct sock_filter)BPF_STMT(code, k);
}

static struct sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
    return (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/* In front of the program: per arch, "nr > largest → ERRNO(ENOSYS)", everything else falls
 * through to libseccomp's program unchanged. On x86_64 the x32 numbers (bit 30 set) share
 * the audit arch: they are compared with x32's largest when x32 is in the filter, else left
 * to libseccomp (whose bad-arch action applies). Returns the stub's length. */
enum stub_target { TO_ORIG, TO_ENOSYS };
struct stub_fix {
    size_t at;
    bool jt;
    enum stub_target to;
};

static size_t build_stub(const struct arch_max *am, size_t n, struct sock_filter *s,
                         struct seccomp_report *rep)
{
    int x32_max = -1;
    for (size_t i = 0; i < n; i++) {
        if (am[i].scmp == SCMP_ARCH_X32)
            x32_max = am[i].max;
    }
    size_t k = 0, nfix = 0;
    struct stub_fix fix[64];
    s[k++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    for (size_t i = 0; i < n; i++) {
        if (am[i].scmp == SCMP_ARCH_X32 || am[i].max < 0)
            continue;
        bool x86_64 = am[i].scmp == SCMP_ARCH_X86_64;
        bool x32_part = x86_64 && x32_max >= 0;
        /* after the arch test: load nr, [x32 test], compare, [x32 compare] */
        uint8_t body = (uint8_t)(2 + x86_64 + x32_part);
        s[k++] = jump(BPF_JMP | BPF_JEQ | BPF_K, am[i].scmp, 0, body);
        s[k++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        if (x86_64) {
            if (x32_part) {
                s[k++] = jump(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 1, 0);
            } else {
                fix[nfix++] = (struct stub_fix){k, true, TO_ORIG};
                s[k++] = jump(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 0);
            }
        }
        fix[nfix++] = (struct stub_fix){k, true, TO_ENOSYS};
        fix[nfix++] = (struct stub_fix){k, false, TO_ORIG};
        s[k++] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)am[i].max, 0, 0);
        strv_push_owned(&rep->enosys, xasprintf("%s > %d", am[i].name, am[i].max));
        if (x32_part) {
            fix[nfix++] = (struct stub_fix){k, true, TO_ENOSYS};
            fix[nfix++] = (struct stub_fix){k, false, TO_ORIG};
            s[k++] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)x32_max, 0, 0);
            strv_push_owned(&rep->enosys,
                            xasprintf("x32 > %d", (int)((unsigned)x32_max & ~X32_SYSCALL_BIT)));
        }
    }
    size_t orig = k;
    s[k++] = stmt(BPF_JMP | BPF_JA, 1); /* over the ENOSYS return, into the program */
    size_t enosys = k;
    s[k++] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    for (size_t i = 0; i < nfix; i++) {
        uint8_t off = (uint8_t)((fix[i].to == TO_ORIG ? orig : enosys) - fix[i].at - 1);
        if (fix[i].jt)
            s[fix[i].at].jt = off;
        else
            s[fix[i].at].jf = off;
    }
    return k;
}

static bool default_allows(uint32_t act)
{
    return act == SCMP_ACT_ALLOW || act == SCMP_ACT_LOG || act == SCMP_ACT_ERRNO(ENOSYS);
}

static void prepend_stub(const struct seccomp_profile *p, struct seccomp_filter *f,
                         struct seccomp_report *rep)
{
    if (default_allows(p->default_action))
        return;
    struct arch_max am[8];
    size_t n = filter_arches(p, am, ARRAY_SIZE(am));
    struct sock_filter stub[64];
    size_t k = build_stub(am, n, stub, rep);
    if (rep->enosys.n == 0)
        return;
    struct sock_filter *all = xmalloc((k + f->len) * sizeof(*all));
    memcpy(all, stub, k * sizeof(*all));
    memcpy(all + k, f->insns, f->len * sizeof(*all));
    free(f->insns);
    f->insns = all;
    f->len += k;
}

static char *warning_line(const struct strv *skipped)
{
    if (skipped->n == 0)
        return NULL;
    const struct scmp_version *v = seccomp_version();
    size_t cap = 256;
    for (size_t i = 0; i < skipped->n; i++)
        cap += strlen(skipped->v[i]) + 1;
    char *line = xmalloc(cap);
    int off = snprintf(line, cap,
                       "%zu syscall name%s unknown to libseccomp %u.%u.%u skipped:", skipped->n,
                       skipped->n == 1 ? "" : "s", v->major, v->minor, v->micro);
    for (size_t i = 0; i < skipped->n; i++)
        off += snprintf(line + off, cap - (size_t)off, " %s", skipped->v[i]);
    return line;
}

int seccomp_compile(const struct seccomp_profile *p, struct seccomp_filter *out,
                    struct seccomp_report *rep, struct berr *err)
{
    *out = (struct seccomp_filter){0};
    struct seccomp_report local = {0};
    if (!rep)
        rep = &local;
    if (p->disabled)
        return 0;
    scmp_filter_ctx ctx = seccomp_init(p->default_action);
    if (!ctx)
        return berr_set(err, BERR_FAILED, "seccomp_init: default action %#x refused",
                        p->default_action);
    /* no_new_privs is the spec's to set (runtime/), never libseccomp's */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    /* the binary tree (libseccomp ≥ 2.5); not fatal where missing, as in runc */
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    int rc = -1;
    if (add_arches(ctx, &p->arches, err) < 0 || add_rules(ctx, p, rep, err) < 0 ||
        export_bpf(ctx, out, err) < 0)
        goto out;
    out->flags = p->flags;
    prepend_stub(p, out, rep);
    if (out->len > BPF_MAXINSNS) {
        berr_set(err, BERR_USAGE, "seccomp filter of %zu instructions, the kernel takes %d",
                 out->len, BPF_MAXINSNS);
        goto out;
    }
    out->warning = warning_line(&rep->skipped);
    rc = 0;
out:
    seccomp_release(ctx);
    if (rc < 0)
        seccomp_filter_free(out);
    seccomp_report_free(&local);
    return rc;
}
