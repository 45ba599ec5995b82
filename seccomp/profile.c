/* Parsing a docker-format profile and flattening it as dockerd does before any runtime sees
 * it (moby/profiles seccomp_linux.go setupSeccomp): archMap picked for the native arch,
 * each rule kept or dropped by its excludes then its includes (arches, caps in the bounding
 * set, minKernel as major.minor), name/names merged, actions and operators mapped. */
#include "seccomp/internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/utsname.h>
#include <yajl/yajl_tree.h>

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

uint64_t seccomp_cap_bit(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++) {
        if (!strcmp(cap_names[i], name))
            return SECCOMP_CAP(i);
    }
    return 0;
}

/* dockerd's goToNative[runtime.GOARCH] and the libseccomp arch its archMap entry names. */
static const char *native_go_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "x86";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

static const char *const go_to_scmp[][2] = {
    {"amd64", "SCMP_ARCH_X86_64"}, {"arm64", "SCMP_ARCH_AARCH64"},
    {"x86", "SCMP_ARCH_X86"},      {"ppc64le", "SCMP_ARCH_PPC64LE"},
    {"s390x", "SCMP_ARCH_S390X"},  {"riscv64", "SCMP_ARCH_RISCV64"},
};

static const char *scmp_arch_of(const char *go)
{
    for (size_t i = 0; i < ARRAY_SIZE(go_to_scmp); i++) {
        if (!strcmp(go_to_scmp[i][0], go))
            return go_to_scmp[i][1];
    }
    return "";
}

/* ---- values ------------------------------------------------------------------------------ */

struct ctx {
    const char *name;
    const char *text; /* the profile with its '#' lines blanked, valid JSON */
    size_t len;
    const struct seccomp_target *t;
    int kmajor, kminor;
    struct berr *err;
};

/* A bad value, named by its JSON path ("" for the top level) and found again in the text for
 * its line and column: a missing key points at the object that lacks it. */
static int bad(struct ctx *c, const char *path, const char *why, const char *what)
{
    size_t line, col;
    line_col(c->text, locate_value(c->text, c->len, path), &line, &col);
    return berr_set(c->err, BERR_USAGE, "seccomp profile %s: line %zu, column %zu: %s%s%s%s",
                    c->name, line, col, path, *path ? ": " : "", why, what);
}

static int get_strings(struct ctx *c, yajl_val v, const char *path, struct strv *out)
{
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return bad(c, path, "not an array of strings", "");
    for (size_t i = 0; i < v->u.array.len; i++) {
        if (!YAJL_IS_STRING(v->u.array.values[i])) {
            _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
            return bad(c, p, "not a string", "");
        }
        strv_push(out, YAJL_GET_STRING(v->u.array.values[i]));
    }
    return 0;
}

static int get_string(struct ctx *c, yajl_val v, const char *path, const char **out)
{
    *out = NULL;
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_STRING(v))
        return bad(c, path, "not a string", "");
    *out = YAJL_GET_STRING(v);
    return 0;
}

/* Unsigned 64-bit from the number's own text: yajl's long long stops at 2^63. */
static int get_u64(struct ctx *c, yajl_val v, const char *path, uint64_t max, uint64_t *out,
                   bool *present)
{
    *out = 0;
    if (present)
        *present = false;
    if (!v || YAJL_IS_NULL(v))
        return 0;
    const char *s = YAJL_IS_NUMBER(v) ? YAJL_GET_NUMBER(v) : NULL;
    char *end = NULL;
    errno = 0;
    unsigned long long n = s && *s != '-' ? strtoull(s, &end, 10) : 0;
    if (!s || *s == '-' || errno || !end || *end || n > max)
        return bad(c, path, "not an unsigned integer in range", "");
    *out = n;
    if (present)
        *present = true;
    return 0;
}

static bool in_list(const struct strv *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i], s))
            return true;
    }
    return false;
}

/* ---- actions, operators, arches, flags ---------------------------------------------------- */

static int parse_action(struct ctx *c, const char *path, const char *a, uint64_t errno_ret,
                        bool has_errno, uint32_t *out)
{
    static const struct {
        const char *name;
        uint32_t act;
    } plain[] = {
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
        {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD}, /* runc's mapping */
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    };
    if (!a)
        return bad(c, path, "missing", "");
    if (!strcmp(a, "SCMP_ACT_ERRNO")) {
        *out = SCMP_ACT_ERRNO(has_errno ? (uint32_t)errno_ret : EPERM);
        return 0;
    }
    if (!strcmp(a, "SCMP_ACT_TRACE")) {
        *out = SCMP_ACT_TRACE(has_errno ? (uint32_t)errno_ret : EPERM);
        return 0;
    }
    if (has_errno)
        return bad(c, path, "errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ",
                   a);
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
        if (!strcmp(plain[i].name, a)) {
            *out = plain[i].act;
            return 0;
        }
    }
    if (!strcmp(a, "SCMP_ACT_NOTIFY"))
        return bad(c, path, "not supported by berth (no seccomp agent): ", a);
    return bad(c, path, "unknown action ", a);
}

static int parse_op(struct ctx *c, const char *path, const char *op, unsigned *out)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; op && i < ARRAY_SIZE(ops); i++) {
        if (!strcmp(ops[i].name, op)) {
            *out = ops[i].op;
            return 0;
        }
    }
    return op ? bad(c, path, "unknown operator ", op) : bad(c, path, "missing", "");
}

void seccomp_action_name(uint32_t a, char *buf, size_t n)
{
    uint32_t data = a & SECCOMP_RET_DATA;
    switch (a & SECCOMP_RET_ACTION_FULL) {
    case SCMP_ACT_ALLOW:
        snprintf(buf, n, "SCMP_ACT_ALLOW");
        break;
    case SCMP_ACT_LOG:
        snprintf(buf, n, "SCMP_ACT_LOG");
        break;
    case SCMP_ACT_KILL_THREAD:
        snprintf(buf, n, "SCMP_ACT_KILL_THREAD");
        break;
    case SCMP_ACT_KILL_PROCESS:
        snprintf(buf, n, "SCMP_ACT_KILL_PROCESS");
        break;
    case SCMP_ACT_TRAP:
        snprintf(buf, n, "SCMP_ACT_TRAP");
        break;
    case SECCOMP_RET_ERRNO:
        snprintf(buf, n, "SCMP_ACT_ERRNO(%u)", data);
        break;
    case SECCOMP_RET_TRACE:
        snprintf(buf, n, "SCMP_ACT_TRACE(%u)", data);
        break;
    default:
        snprintf(buf, n, "%#x", a);
    }
}

const char *seccomp_op_name(unsigned op)
{
    switch ((enum scmp_compare)op) {
    case SCMP_CMP_NE:
        return "!=";
    case SCMP_CMP_LT:
        return "<";
    case SCMP_CMP_LE:
        return "<=";
    case SCMP_CMP_EQ:
        return "==";
    case SCMP_CMP_GE:
        return ">=";
    case SCMP_CMP_GT:
        return ">";
    case SCMP_CMP_MASKED_EQ:
        return "&";
    default:
        return "?";
    }
}

/* "SCMP_ARCH_X86_64" → "x86_64", the name libseccomp resolves. */
static int arch_name(struct ctx *c, const char *path, const char *a, struct strv *out)
{
    const char *s = str_has_prefix(a, "SCMP_ARCH_") ? a + strlen("SCMP_ARCH_") : a;
    _cleanup_free_ char *low = xstrdup(s);
    for (char *p = low; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    if (seccomp_arch_resolve_name(low) == 0)
        return bad(c, path, "unknown architecture ", a);
    if (!in_list(out, low))
        strv_push(out, low);
    return 0;
}

static int parse_arches(struct ctx *c, yajl_val root, struct strv *out)
{
    _cleanup_strv_ struct strv list = {0};
    yajl_val map = json_get(root, "archMap");
    yajl_val arches = json_get(root, "architectures");
    if (get_strings(c, arches, "architectures", &list) < 0)
        return -1;
    bool has_map = map && !YAJL_IS_NULL(map) && (!YAJL_IS_ARRAY(map) || map->u.array.len);
    if (list.n && has_map)
        return bad(c, "archMap", "'architectures' and 'archMap' were both specified", "");
    for (size_t i = 0; i < list.n; i++) {
        char p[48];
        snprintf(p, sizeof(p), "architectures[%zu]", i);
        if (arch_name(c, p, list.v[i], out) < 0)
            return -1;
    }
    if (!has_map)
        return 0;
    if (!YAJL_IS_ARRAY(map))
        return bad(c, "archMap", "not an array", "");
    const char *native = scmp_arch_of(c->t->arch);
    for (size_t i = 0; i < map->u.array.len; i++) {
        yajl_val e = map->u.array.values[i];
        const char *a = NULL;
        _cleanup_strv_ struct strv subs = {0};
        char arch[48], sub[64];
        snprintf(arch, sizeof(arch), "archMap[%zu].architecture", i);
        snprintf(sub, sizeof(sub), "archMap[%zu].subArchitectures", i);
        if (get_string(c, json_get(e, "architecture"), arch, &a) < 0 ||
            get_strings(c, json_get(e, "subArchitectures"), sub, &subs) < 0)
            return -1;
        if (!a || strcmp(a, native))
            continue;
        if (arch_name(c, arch, a, out) < 0)
            return -1;
        for (size_t j = 0; j < subs.n; j++) {
            char p[96];
            snprintf(p, sizeof(p), "%s[%zu]", sub, j);
            if (arch_name(c, p, subs.v[j], out) < 0)
                return -1;
        }
    }
    return 0;
}

static int parse_flags(struct ctx *c, yajl_val root, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned flag;
    } known[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", 0}, /* berth loads before execve, single-threaded */
        {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
        {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 0}, /* only for notify, which berth refuses */
    };
    _cleanup_strv_ struct strv list = {0};
    yajl_val v = json_get(root, "flags");
    if (get_strings(c, v, "flags", &list) < 0)
        return -1;
    /* crun's default when the profile names none: no forced speculative-store mitigation */
    *out = v && YAJL_IS_ARRAY(v) ? 0 : SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    for (size_t i = 0; i < list.n; i++) {
        size_t k = 0;
        while (k < ARRAY_SIZE(known) && strcmp(known[k].name, list.v[i]))
            k++;
        if (k == ARRAY_SIZE(known)) {
            char p[48];
            snprintf(p, sizeof(p), "flags[%zu]", i);
            return bad(c, p, "unknown flag ", list.v[i]);
        }
        *out |= known[k].flag;
    }
    return 0;
}

/* ---- includes / excludes ------------------------------------------------------------------- */

/* "major.minor" as moby's KernelVersion accepts it. */
static int parse_min_kernel(struct ctx *c, const char *path, yajl_val v, bool *present, int *maj,
                            int *min)
{
    const char *s;
    *present = false;
    if (get_string(c, v, path, &s) < 0)
        return -1;
    if (!s || !*s)
        return 0;
    char tail;
    if (sscanf(s, "%d.%d%c", maj, min, &tail) != 2 || *maj < 0 || *min < 0)
        return bad(c, path, "invalid kernel version, expected <kernel>.<major>: ", s);
    *present = true;
    return 0;
}

static bool kernel_at_least(const struct ctx *c, int maj, int min)
{
    return c->kmajor > maj || (c->kmajor == maj && c->kminor >= min);
}

static uint64_t cap_names_mask(const struct strv *l, bool *unknown)
{
    uint64_t m = 0;
    *unknown = false;
    for (size_t i = 0; i < l->n; i++) {
        uint64_t b = seccomp_cap_bit(l->v[i]);
        if (!b)
            *unknown = true;
        m |= b;
    }
    return m;
}

/* dockerd: excludes first (any listed arch, any cap held, kernel >= minKernel drops the
 * rule), then includes (the arch listed, every cap held, kernel >= minKernel keep it). A cap
 * name unknown here is never held, as a string absent from dockerd's list. */
static int rule_applies(struct ctx *c, yajl_val rule, const char *path, bool *keep)
{
    *keep = false;
    const char *which[2] = {"excludes", "includes"};
    for (int w = 0; w < 2; w++) {
        yajl_val f = json_get(rule, which[w]);
        if (!f || YAJL_IS_NULL(f))
            continue;
        _cleanup_free_ char *p = xasprintf("%s.%s", path, which[w]);
        if (!YAJL_IS_OBJECT(f))
            return bad(c, p, "not an object", "");
        _cleanup_strv_ struct strv arches = {0}, caps = {0};
        bool has_kernel, unknown;
        int maj = 0, min = 0;
        _cleanup_free_ char *pa = xasprintf("%s.arches", p);
        _cleanup_free_ char *pc = xasprintf("%s.caps", p);
        _cleanup_free_ char *pk = xasprintf("%s.minKernel", p);
        if (get_strings(c, json_get(f, "arches"), pa, &arches) < 0 ||
            get_strings(c, json_get(f, "caps"), pc, &caps) < 0 ||
            parse_min_kernel(c, pk, json_get(f, "minKernel"), &has_kernel, &maj, &min) < 0)
            return -1;
        bool arch_in = in_list(&arches, c->t->arch);
        uint64_t want = cap_names_mask(&caps, &unknown);
        if (w == 0) {
            if ((arches.n && arch_in) || (want & c->t->caps) ||
                (has_kernel && kernel_at_least(c, maj, min)))
                return 0;
        } else {
            if ((arches.n && !arch_in) || unknown || (want & c->t->caps) != want ||
                (has_kernel && !kernel_at_least(c, maj, min)))
                return 0;
        }
    }
    *keep = true;
    return 0;
}

/* ---- rules --------------------------------------------------------------------------------- */

static void rule_free(struct seccomp_rule *r)
{
    strv_free(&r->names);
    free(r->args);
}

static int parse_args(struct ctx *c, yajl_val v, const char *rule_path, struct seccomp_rule *r)
{
    _cleanup_free_ char *path = xasprintf("%s.args", rule_path);
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return bad(c, path, "not an array", "");
    r->args = xcalloc(v->u.array.len ? v->u.array.len : 1, sizeof(*r->args));
    for (size_t i = 0; i < v->u.array.len; i++) {
        yajl_val a = v->u.array.values[i];
        char p[4][128];
        static const char *const keys[] = {"index", "value", "valueTwo", "op"};
        for (int k = 0; k < 4; k++)
            snprintf(p[k], sizeof(p[k]), "%s[%zu].%s", path, i, keys[k]);
        if (!YAJL_IS_OBJECT(a)) {
            _cleanup_free_ char *elem = xasprintf("%s[%zu]", path, i);
            return bad(c, elem, "not an object", "");
        }
        struct seccomp_arg *x = &r->args[r->nargs++];
        uint64_t index;
        const char *op;
        if (get_u64(c, json_get(a, "index"), p[0], 5, &index, NULL) < 0 ||
            get_u64(c, json_get(a, "value"), p[1], UINT64_MAX, &x->value, NULL) < 0 ||
            get_u64(c, json_get(a, "valueTwo"), p[2], UINT64_MAX, &x->value_two, NULL) < 0 ||
            get_string(c, json_get(a, "op"), p[3], &op) < 0 || parse_op(c, p[3], op, &x->op) < 0)
            return -1;
        x->index = (unsigned)index;
    }
    return 0;
}

static int parse_rule(struct ctx *c, yajl_val v, size_t i, struct seccomp_profile *out)
{
    _cleanup_free_ char *path = xasprintf("syscalls[%zu]", i);
    if (!YAJL_IS_OBJECT(v))
        return bad(c, path, "not an object", "");
    bool keep;
    if (rule_applies(c, v, path, &keep) < 0)
        return -1;
    struct seccomp_rule r = {0};
    const char *one = NULL, *action = NULL;
    uint64_t errno_ret;
    bool has_errno;
    char p[4][96];
    static const char *const keys[] = {"names", "name", "errnoRet", "action"};
    for (int k = 0; k < 4; k++)
        snprintf(p[k], sizeof(p[k]), "%s.%s", path, keys[k]);
    if (get_strings(c, json_get(v, "names"), p[0], &r.names) < 0 ||
        get_string(c, json_get(v, "name"), p[1], &one) < 0 ||
        get_u64(c, json_get(v, "errnoRet"), p[2], 0xffff, &errno_ret, &has_errno) < 0 ||
        get_string(c, json_get(v, "action"), p[3], &action) < 0 ||
        parse_action(c, p[3], action, errno_ret, has_errno, &r.action) < 0 ||
        parse_args(c, json_get(v, "args"), path, &r) < 0)
        goto fail;
    if (one && *one && r.names.n) {
        bad(c, p[1], "use either 'name' or 'names', not both", "");
        goto fail;
    }
    if (one && *one)
        strv_push(&r.names, one);
    if (!keep || r.names.n == 0) {
        rule_free(&r);
        return 0;
    }
    out->rules = xrealloc(out->rules, (out->nrules + 1) * sizeof(*out->rules));
    out->rules[out->nrules++] = r;
    return 0;
fail:
    rule_free(&r);
    return -1;
}

static int flatten(struct ctx *c, yajl_val root, struct seccomp_profile *out)
{
    if (!YAJL_IS_OBJECT(root))
        return bad(c, "", "the profile is not a JSON object", "");
    const char *def = NULL;
    yajl_val calls = json_get(root, "syscalls");
    if (get_string(c, json_get(root, "defaultAction"), "defaultAction", &def) < 0)
        return -1;
    if (calls && !YAJL_IS_NULL(calls) && !YAJL_IS_ARRAY(calls))
        return bad(c, "syscalls", "not an array", "");
    size_t n = calls && YAJL_IS_ARRAY(calls) ? calls->u.array.len : 0;
    if ((!def || !*def) && n == 0) {
        out->disabled = true;
        return 0;
    }
    uint64_t errno_ret;
    bool has_errno;
    if (get_u64(c, json_get(root, "defaultErrnoRet"), "defaultErrnoRet", 0xffff, &errno_ret,
                &has_errno) < 0 ||
        parse_action(c, "defaultAction", def, errno_ret, has_errno, &out->default_action) < 0 ||
        parse_arches(c, root, &out->arches) < 0 || parse_flags(c, root, &out->flags) < 0)
        return -1;
    out->nrules_in = n;
    for (size_t i = 0; i < n; i++) {
        if (parse_rule(c, calls->u.array.values[i], i, out) < 0)
            return -1;
    }
    return 0;
}

static void running_kernel(int *maj, int *min)
{
    struct utsname u;
    *maj = *min = 0;
    if (uname(&u) == 0 && sscanf(u.release, "%d.%d", maj, min) != 2)
        *maj = *min = 0;
}

int seccomp_profile_load(const char *name, const char *text, size_t len,
                         const struct seccomp_target *t, struct seccomp_profile *out,
                         struct berr *err)
{
    *out = (struct seccomp_profile){0};
    struct seccomp_target target = *t;
    if (!target.arch)
        target.arch = native_go_arch();
    struct ctx c = {.name = name, .t = &target, .err = err};
    if (t->kernel_major || t->kernel_minor) {
        c.kmajor = t->kernel_major;
        c.kminor = t->kernel_minor;
    } else {
        running_kernel(&c.kmajor, &c.kminor);
    }
    _cleanup_free_ char *blanked = blank_comment_lines(text, len);
    if (json_check_depth(blanked, len, err) < 0) {
        err->kind = BERR_USAGE;
        return berr_wrap(err, "seccomp profile %s", name);
    }
    if (check_json_syntax(name, blanked, len, err) < 0)
        return -1;
    c.text = blanked;
    c.len = len;
    yajl_val root = NULL;
    if (json_parse(blanked, &root, err) < 0) {
        err->kind = BERR_USAGE;
        return berr_wrap(err, "seccomp profile %s", name);
    }
    int rc = flatten(&c, root, out);
    yajl_tree_free(root);
    if (rc < 0)
        seccomp_profile_free(out);
    return rc;
}

void seccomp_profile_free(struct seccomp_profile *p)
{
    for (size_t i = 0; i < p->nrules; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    strv_free(&p->arches);
    *p = (struct seccomp_profile){0};
}
