/* docker's default device policy, one table for both drivers: v1 writes it into devices.deny
 * and devices.allow; v2 has no devices controller, so the same rules become a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's cgroup. Without it a
 * container on a v2 host that holds CAP_MKNOD (docker's default set) could make and open a
 * node of the host's disk in its /dev (a tmpfs, which cannot be nodev). */
#include "internal.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ANY CGROUP_DEV_ANY
#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)
/* the table's access bits are the kernel's, so the program tests them as they are */
_Static_assert(CGROUP_DEV_MKNOD == (unsigned)BPF_DEVCG_ACC_MKNOD &&
                   CGROUP_DEV_READ == (unsigned)BPF_DEVCG_ACC_READ &&
                   CGROUP_DEV_WRITE == (unsigned)BPF_DEVCG_ACC_WRITE,
               "device access bits");

/* dockerd's rules (deny all, the basic nodes, deny fuse), then the ones runc appends
 * (AllowedDevices: mknod of any node, /dev/full, pts, ptmx, tun), in order; those both
 * lists allow are listed once. Later rules win, as with runc's eBPF emulation of v1. */
const struct cgroup_dev_rule cgroup_dev_rules[] = {
    {false, 'a', ANY, ANY, ACC_ALL},
    {true, 'c', 1, 5, ACC_ALL},     /* /dev/zero */
    {true, 'c', 1, 3, ACC_ALL},     /* /dev/null */
    {true, 'c', 1, 9, ACC_ALL},     /* /dev/urandom */
    {true, 'c', 1, 8, ACC_ALL},     /* /dev/random */
    {true, 'c', 5, 0, ACC_ALL},     /* /dev/tty */
    {true, 'c', 5, 1, ACC_ALL},     /* /dev/console */
    {false, 'c', 10, 229, ACC_ALL}, /* /dev/fuse */
    {true, 'c', ANY, ANY, BPF_DEVCG_ACC_MKNOD},
    {true, 'b', ANY, ANY, BPF_DEVCG_ACC_MKNOD},
    {true, 'c', 1, 7, ACC_ALL},     /* /dev/full */
    {true, 'c', 136, ANY, ACC_ALL}, /* /dev/pts/N */
    {true, 'c', 5, 2, ACC_ALL},     /* /dev/ptmx */
    {true, 'c', 10, 200, ACC_ALL},  /* /dev/net/tun */
};
const size_t cgroup_ndev_rules = ARRAY_SIZE(cgroup_dev_rules);

/* ---- v1 ------------------------------------------------------------------------------------ */

static void format_number(char *out, size_t len, int n)
{
    if (n == ANY)
        snprintf(out, len, "*");
    else
        snprintf(out, len, "%d", n);
}

/* "c 1:5 rwm", or "a" for every device */
static void format_v1_rule(const struct cgroup_dev_rule *r, char *out, size_t len)
{
    if (r->type == 'a') {
        snprintf(out, len, "a");
        return;
    }
    char major[16], minor[16], acc[4];
    format_number(major, sizeof(major), r->major);
    format_number(minor, sizeof(minor), r->minor);
    size_t n = 0;
    if (r->access & BPF_DEVCG_ACC_READ)
        acc[n++] = 'r';
    if (r->access & BPF_DEVCG_ACC_WRITE)
        acc[n++] = 'w';
    if (r->access & BPF_DEVCG_ACC_MKNOD)
        acc[n++] = 'm';
    acc[n] = '\0';
    snprintf(out, len, "%c %s:%s %s", r->type, major, minor, acc);
}

/* Each write(2) to devices.allow or devices.deny is one rule, whatever went through the same
 * descriptor before: one open of each file for the whole table, not one per rule. */
int cg_devices_v1(int dirfd, const char *where, struct berr *err)
{
    _cleanup_close_ int deny = -1;
    _cleanup_close_ int allow = -1;
    for (size_t i = 0; i < cgroup_ndev_rules; i++) {
        const struct cgroup_dev_rule *r = &cgroup_dev_rules[i];
        char line[64];
        format_v1_rule(r, line, sizeof(line));
        if (cg_write_through(r->allow ? &allow : &deny, dirfd, where,
                             r->allow ? "devices.allow" : "devices.deny", line, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- v2: the rules as eBPF ---------------------------------------------------------------- */

#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV_REG(dst, src) INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND_IMM(dst, imm) INSN(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_IMM(dst, imm) INSN(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers after the prologue: the request's access bits, type, major and minor. */
enum { R_CTX = 1, R_ACCESS = 2, R_TYPE = 3, R_MAJOR = 4, R_MINOR = 5, R_TMP = 6 };

static size_t emit_prologue(struct bpf_insn *p)
{
    size_t n = 0;
    p[n++] = LDX_W(R_ACCESS, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, access_type));
    p[n++] = MOV_REG(R_TYPE, R_ACCESS);
    p[n++] = AND_IMM(R_TYPE, 0xffff);
    p[n++] = RSH_IMM(R_ACCESS, 16);
    p[n++] = LDX_W(R_MAJOR, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, major));
    p[n++] = LDX_W(R_MINOR, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, minor));
    return n;
}

static bool matches_everything(const struct cgroup_dev_rule *r)
{
    return r->type == 'a' && r->major == ANY && r->minor == ANY && r->access == ACC_ALL;
}

/* One rule: every test that fails jumps past the block; the end returns the verdict. A
 * request matches when its type and numbers do and every access bit it asks is the rule's.
 * Returns the instructions written into p. */
static size_t emit_rule(const struct cgroup_dev_rule *r, struct bpf_insn *p)
{
    struct bpf_insn tests[6];
    size_t t = 0;
    if (r->type != 'a')
        tests[t++] = JNE_IMM(R_TYPE, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
    if (r->access != ACC_ALL) {
        tests[t++] = MOV_REG(R_TMP, R_ACCESS);
        tests[t++] = AND_IMM(R_TMP, (int)(~r->access & ACC_ALL));
        tests[t++] = JNE_IMM(R_TMP, 0, 0);
    }
    if (r->major != ANY)
        tests[t++] = JNE_IMM(R_MAJOR, r->major, 0);
    if (r->minor != ANY)
        tests[t++] = JNE_IMM(R_MINOR, r->minor, 0);
    size_t len = t + 2;
    for (size_t i = 0; i < t; i++) {
        p[i] = tests[i];
        if (BPF_CLASS(p[i].code) == BPF_JMP)
            p[i].off = (short)(len - (i + 1)); /* to the next block */
    }
    p[t] = MOV_IMM(0, r->allow ? 1 : 0);
    p[t + 1] = EXIT();
    return len;
}

size_t cg_devices_program(struct bpf_insn **out)
{
    /* a prologue, at most 8 instructions per rule, a default */
    struct bpf_insn *p = xcalloc(8 + 8 * cgroup_ndev_rules, sizeof(*p));
    size_t n = emit_prologue(p);
    bool ended = false;
    /* the last matching rule decides: test them from the last */
    for (size_t i = cgroup_ndev_rules; i > 0 && !ended; i--) {
        n += emit_rule(&cgroup_dev_rules[i - 1], p + n);
        ended = matches_everything(&cgroup_dev_rules[i - 1]); /* nothing after it is reachable */
    }
    if (!ended) {
        p[n++] = MOV_IMM(0, 0);
        p[n++] = EXIT();
    }
    *out = p;
    return n;
}

static int bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, char *log, size_t log_size)
{
    union bpf_attr attr = {0};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
    if (log) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
        attr.log_level = 1;
    }
    return bpf(BPF_PROG_LOAD, &attr);
}

static int load_program(const char *where, struct berr *err)
{
    struct bpf_insn *insns;
    size_t n = cg_devices_program(&insns);
    int fd = prog_load(insns, n, NULL, 0);
    if (fd >= 0) {
        free(insns);
        return fd;
    }
    int saved = errno;
    /* again with the verifier's log, for the message only: logging slows every load */
    char log[4096] = "";
    if (saved != EPERM && saved != ENOSYS)
        (void)prog_load(insns, n, log, sizeof(log));
    free(insns);
    log[strcspn(log, "\n")] = '\0';
    return berr_errnum(err, saved, "device policy for %s: load the BPF program%s%s", where,
                       log[0] ? ": " : "", log);
}

int cg_devices_v2(int dirfd, const char *where, struct berr *err)
{
    _cleanup_close_ int prog = load_program(where, err);
    if (prog < 0)
        return -1;
    /* ALLOW_MULTI: an ancestor's program still runs, and every one must allow */
    union bpf_attr attr = {0};
    attr.target_fd = (uint32_t)dirfd;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &attr) < 0)
        return berr_errno(err, "device policy for %s: attach the BPF program", where);
    return 0; /* the cgroup holds the program until it is removed */
}
