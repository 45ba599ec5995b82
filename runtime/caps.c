#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

/* docker's default capability set (daemon/pkg/oci/caps/defaults.go) */
static const cap_value_t default_caps[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

static void set_bit(struct cap_set *s, cap_value_t c)
{
    s->bits[c / 32] |= 1u << (c % 32);
}

static void clear_bit(struct cap_set *s, cap_value_t c)
{
    s->bits[c / 32] &= ~(1u << (c % 32));
}

static bool has_bit(const struct cap_set *s, cap_value_t c)
{
    return s->bits[c / 32] & (1u << (c % 32));
}

uint64_t caps_mask(const struct cap_set *s)
{
    return (uint64_t)s->bits[0] | (uint64_t)s->bits[1] << 32;
}

int runtime_cap_normalize(const char *name, char **out, struct berr *err)
{
    _cleanup_free_ char *up = xstrdup(name);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (!strcmp(up, "ALL")) {
        *out = steal_ptr(&up);
        return 0;
    }
    char *full = str_has_prefix(up, "CAP_") ? xstrdup(up) : xasprintf("CAP_%s", up);
    cap_value_t v;
    if (cap_from_name(full, &v) < 0 || v > CAP_LAST_CAP) {
        berr_set(err, BERR_USAGE, "unknown capability: \"%s\"", full);
        free(full);
        return -1;
    }
    *out = full;
    return 0;
}

static int apply_list(struct cap_set *s, const struct strv *l, bool add, struct berr *err)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i], "ALL"))
            continue;
        cap_value_t v;
        if (cap_from_name(l->v[i], &v) < 0)
            return berr_set(err, BERR_USAGE, "unknown capability: \"%s\"", l->v[i]);
        if (add)
            set_bit(s, v);
        else
            clear_bit(s, v);
    }
    return 0;
}

int caps_effective_set(const struct strv *add, const struct strv *drop, struct cap_set *out,
                       struct berr *err)
{
    *out = (struct cap_set){0};
    if (strv_contains(add, "ALL")) {
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
            set_bit(out, c);
        return apply_list(out, drop, false, err);
    }
    if (strv_contains(drop, "ALL"))
        return apply_list(out, add, true, err);
    for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
        set_bit(out, default_caps[i]);
    if (apply_list(out, add, true, err) < 0)
        return -1;
    return apply_list(out, drop, false, err);
}

int caps_drop_bounding(const struct cap_set *keep, struct berr *err)
{
    /* the running kernel may know more capabilities than our headers */
    int last = (int)cap_max_bits() - 1;
    for (int c = 0; c <= last; c++) {
        if (c <= CAP_LAST_CAP && has_bit(keep, c))
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            return berr_errno(err, "drop capability %d from the bounding set", c);
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return berr_errno(err, "keep capabilities across setuid");
    return 0;
}

int caps_apply(const struct cap_set *keep, struct berr *err)
{
    cap_t c = cap_init();
    if (!c)
        return berr_errno(err, "cap_init");
    for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
        if (!has_bit(keep, v))
            continue;
        cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
        cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
    }
    /* inheritable stays empty (CVE-2022-24769) */
    int rc = cap_set_proc(c);
    cap_free(c);
    if (rc < 0)
        return berr_errno(err, "set capabilities");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return berr_errno(err, "clear ambient capabilities");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return berr_errno(err, "clear keepcaps");
    return 0;
}

int runtime_cap_bounding(const struct strv *add, const struct strv *drop, uint64_t *out,
                         struct berr *err)
{
    _cleanup_strv_ struct strv a = {0}, d = {0};
    const struct strv *in[2] = {add, drop};
    struct strv *norm[2] = {&a, &d};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; in[k] && i < in[k]->n; i++) {
            char *c = NULL;
            if (runtime_cap_normalize(in[k]->v[i], &c, err) < 0)
                return -1;
            strv_push_owned(norm[k], c);
        }
    }
    struct cap_set s;
    if (caps_effective_set(&a, &d, &s, err) < 0)
        return -1;
    *out = caps_mask(&s);
    return 0;
}
