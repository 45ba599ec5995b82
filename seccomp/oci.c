/* A flattened profile in OCI runtime-spec's form (linux.seccomp): what another runtime would
 * compile into the same filter berth loads. berth itself loads its own BPF (cache.c); this
 * form is the container's description of it. */
#include "internal.h"

#include <ctype.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>

/* OCI's action name and, for SCMP_ACT_ERRNO, the errno; false for one OCI cannot name. */
static bool action_name(uint32_t a, const char **name, long long *errno_ret)
{
    *errno_ret = -1;
    switch (a & SECCOMP_RET_ACTION_FULL) {
    case SCMP_ACT_ALLOW:
        *name = "SCMP_ACT_ALLOW";
        return true;
    case SCMP_ACT_LOG:
        *name = "SCMP_ACT_LOG";
        return true;
    case SCMP_ACT_KILL_THREAD:
        *name = "SCMP_ACT_KILL_THREAD";
        return true;
    case SCMP_ACT_KILL_PROCESS:
        *name = "SCMP_ACT_KILL_PROCESS";
        return true;
    case SCMP_ACT_TRAP:
        *name = "SCMP_ACT_TRAP";
        return true;
    case SECCOMP_RET_ERRNO:
        *name = "SCMP_ACT_ERRNO";
        *errno_ret = a & SECCOMP_RET_DATA;
        return true;
    case SECCOMP_RET_TRACE:
        *name = "SCMP_ACT_TRACE";
        return true;
    case SECCOMP_RET_USER_NOTIF:
        *name = "SCMP_ACT_NOTIFY";
        return true;
    default:
        return false;
    }
}

static const char *op_name(unsigned op)
{
    switch ((enum scmp_compare)op) {
    case SCMP_CMP_NE:
        return "SCMP_CMP_NE";
    case SCMP_CMP_LT:
        return "SCMP_CMP_LT";
    case SCMP_CMP_LE:
        return "SCMP_CMP_LE";
    case SCMP_CMP_EQ:
        return "SCMP_CMP_EQ";
    case SCMP_CMP_GE:
        return "SCMP_CMP_GE";
    case SCMP_CMP_GT:
        return "SCMP_CMP_GT";
    case SCMP_CMP_MASKED_EQ:
        return "SCMP_CMP_MASKED_EQ";
    default:
        return NULL;
    }
}

static void gen_u64(yajl_gen g, const char *key, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    json_str(g, key);
    yajl_gen_number(g, buf, (size_t)n);
}

static void gen_flags(yajl_gen g, unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } known[] = {
        {SECCOMP_FILTER_FLAG_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC"},
        {SECCOMP_FILTER_FLAG_LOG, "SECCOMP_FILTER_FLAG_LOG"},
        {SECCOMP_FILTER_FLAG_SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
    };
    if (!flags)
        return;
    json_str(g, "flags");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
        if (flags & known[i].bit)
            json_str(g, known[i].name);
    }
    yajl_gen_array_close(g);
}

static int gen_rule(yajl_gen g, const struct seccomp_rule *r, struct berr *err)
{
    const char *action;
    long long errno_ret;
    if (!action_name(r->action, &action, &errno_ret))
        return berr_set(err, BERR_FAILED, "seccomp action %#x has no OCI name", r->action);
    yajl_gen_map_open(g);
    json_key_strv(g, "names", &r->names);
    json_key_str(g, "action", action);
    if (errno_ret >= 0)
        json_key_int(g, "errnoRet", errno_ret);
    if (r->nargs) {
        json_str(g, "args");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < r->nargs; i++) {
            const char *op = op_name(r->args[i].op);
            if (!op)
                return berr_set(err, BERR_FAILED, "seccomp operator %u has no OCI name",
                                r->args[i].op);
            yajl_gen_map_open(g);
            json_key_int(g, "index", r->args[i].index);
            gen_u64(g, "value", r->args[i].value);
            gen_u64(g, "valueTwo", r->args[i].value_two);
            json_key_str(g, "op", op);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
    }
    yajl_gen_map_close(g);
    return 0;
}

int seccomp_profile_gen_oci(const struct seccomp_profile *p, yajl_gen g, struct berr *err)
{
    const char *def;
    long long errno_ret;
    if (!action_name(p->default_action, &def, &errno_ret))
        return berr_set(err, BERR_FAILED, "seccomp default action %#x has no OCI name",
                        p->default_action);
    yajl_gen_map_open(g);
    json_key_str(g, "defaultAction", def);
    if (errno_ret >= 0)
        json_key_int(g, "defaultErrnoRet", errno_ret);
    if (p->arches.n) {
        json_str(g, "architectures");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < p->arches.n; i++) {
            _cleanup_free_ char *up = xasprintf("SCMP_ARCH_%s", p->arches.v[i]);
            for (char *c = up; *c; c++)
                *c = (char)toupper((unsigned char)*c);
            json_str(g, up);
        }
        yajl_gen_array_close(g);
    }
    gen_flags(g, p->flags);
    json_str(g, "syscalls");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < p->nrules; i++) {
        if (gen_rule(g, &p->rules[i], err) < 0)
            return -1;
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return 0;
}
