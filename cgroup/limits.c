/* docker's parsing of the resource flags and dockerd's checks of the whole set, with their
 * messages. Exact integer arithmetic on the decimal text: docker
 * parses --cpus as a big.Rat, so no floating point may round a value into or out of range. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <string.h>

void cgroup_limits_free(struct cgroup_limits *l)
{
    free(l->cpuset_cpus);
    free(l->cpuset_mems);
    *l = (struct cgroup_limits){0};
}

long long limits_cpus_quota(long long nano_cpus)
{
    /* nano * 100000 / 1e9 without the overflow of the product */
    return nano_cpus / 10000;
}

long long limits_memory_swap(const struct cgroup_limits *l)
{
    if (l->memory > 0 && l->memory_swap == 0)
        return l->memory > LLONG_MAX / 2 ? LLONG_MAX : 2 * l->memory;
    return l->memory_swap;
}

long long limits_cpu_shares(long long shares)
{
    if (shares < 0)
        return 2;
    return shares > 262144 ? 262144 : shares;
}

/* as v1.c and v2.c write them */
void cgroup_limits_resolve(const struct cgroup_limits *l, struct cgroup_resources *out)
{
    *out = (struct cgroup_resources){0};
    if (l->cpu_shares != 0)
        out->cpu_shares = limits_cpu_shares(l->cpu_shares);
    if (l->nano_cpus > 0) {
        out->cpu_quota = limits_cpus_quota(l->nano_cpus);
        out->cpu_period = LIMITS_CPUS_PERIOD;
    } else {
        out->cpu_quota = l->cpu_quota < 0 ? -1 : l->cpu_quota;
        out->cpu_period = l->cpu_period;
    }
    if (l->memory > 0) {
        out->memory_limit = l->memory;
        long long swap = limits_memory_swap(l);
        out->memory_swap = swap < 0 ? -1 : swap;
    }
    out->pids_limit = l->pids_limit < 0 ? -1 : l->pids_limit;
}

/* ---- --cpus: big.Rat.SetString, times 1e9 ------------------------------------------------ */

enum rat_result { RAT_OK, RAT_SYNTAX, RAT_TOO_PRECISE };

typedef unsigned __int128 u128;
#define U128_MAX (~(u128)0)

static long long clamp_signed(u128 mag, bool neg)
{
    if (mag > (u128)LLONG_MAX)
        return neg ? LLONG_MIN : LLONG_MAX;
    return neg ? -(long long)mag : (long long)mag;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
}

/* An integer as Go's Int.SetString(s, 0) reads one: 0x, 0o, 0b or a leading 0 (octal) select
 * the base. Saturates at U128_MAX (*big set). */
static bool parse_go_int(const char *s, size_t n, u128 *out, bool *big)
{
    unsigned base = 10;
    if (n >= 2 && s[0] == '0') {
        char p = (char)tolower((unsigned char)s[1]);
        if (p == 'x' || p == 'o' || p == 'b') {
            base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
            s += 2;
            n -= 2;
        } else {
            base = 8;
        }
    }
    if (n == 0)
        return false;
    u128 v = 0;
    *big = false;
    for (size_t i = 0; i < n; i++) {
        int d = digit_value(s[i]);
        if (d >= (int)base)
            return false;
        if (v > (U128_MAX - (unsigned)d) / base)
            *big = true;
        v = *big ? U128_MAX : v * base + (unsigned)d;
    }
    *out = v;
    return true;
}

static u128 gcd128(u128 a, u128 b)
{
    while (b) {
        u128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* "a/b": nano = a * 1e9 / b, which is an integer only when b (reduced) divides 1e9. */
static enum rat_result fraction_nano(const char *s, const char *slash, long long *nano)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    u128 a, b;
    bool abig, bbig;
    if (!parse_go_int(s, (size_t)(slash - s), &a, &abig) ||
        !parse_go_int(slash + 1, strlen(slash + 1), &b, &bbig) || b == 0)
        return RAT_SYNTAX;
    if (a == 0) {
        *nano = 0;
        return RAT_OK;
    }
    if (bbig) /* beyond 128 bits: treated as not dividing 1e9 */
        return RAT_TOO_PRECISE;
    u128 g = gcd128(a, b);
    a /= g;
    b /= g;
    if (1000000000 % b != 0)
        return RAT_TOO_PRECISE;
    u128 mul = 1000000000 / b;
    *nano = clamp_signed(abig || a > U128_MAX / mul ? U128_MAX : a * mul, neg);
    return RAT_OK;
}

/* A decimal: [+-] digits [. digits] [e|E [+-] digits]. The value is M × 10^k with M the
 * digits without the point; it is a whole number of nano-CPUs exactly when, once M's
 * trailing zeros are moved into k, 9 + k is not negative. */
static enum rat_result decimal_nano(const char *s, long long *nano)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    const char *int_start = s;
    size_t int_len = strspn(s, "0123456789");
    s += int_len;
    const char *frac_start = s, *frac_end = s;
    if (*s == '.') {
        frac_start = ++s;
        s += strspn(s, "0123456789");
        frac_end = s;
    }
    size_t frac_len = (size_t)(frac_end - frac_start);
    if (int_len + frac_len == 0)
        return RAT_SYNTAX;
    long long exp = 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        bool eneg = *s == '-';
        if (*s == '-' || *s == '+')
            s++;
        size_t elen = strspn(s, "0123456789");
        if (elen == 0)
            return RAT_SYNTAX;
        for (size_t i = 0; i < elen; i++) {
            if (exp > 100000000) /* beyond big.Rat's own limit below anyway */
                break;
            exp = exp * 10 + (s[i] - '0');
        }
        s += elen;
        exp = eneg ? -exp : exp;
    }
    if (*s)
        return RAT_SYNTAX;

    /* the significant digits: M without its leading zeros, trailing zeros counted apart */
    char digits[128];
    size_t nd = 0, trailing_zeros = 0, total = 0;
    bool overflow_digits = false;
    for (int part = 0; part < 2; part++) {
        const char *p = part ? frac_start : int_start;
        size_t len = part ? frac_len : int_len;
        for (size_t i = 0; i < len; i++, total++) {
            if (nd == 0 && p[i] == '0')
                continue;
            if (p[i] == '0') {
                trailing_zeros++;
                continue;
            }
            /* a nonzero digit: the zeros seen since the last one are inside M */
            for (; trailing_zeros; trailing_zeros--) {
                if (nd < sizeof(digits))
                    digits[nd] = '0';
                else
                    overflow_digits = true;
                nd++;
            }
            if (nd < sizeof(digits))
                digits[nd] = p[i];
            else
                overflow_digits = true;
            nd++;
        }
    }
    if (nd == 0) { /* big.Rat special-cases zero before looking at the exponent */
        *nano = 0;
        return RAT_OK;
    }
    /* big.Rat refuses decimal exponents beyond 1e6 (after the point's contribution) */
    long long exp5 = exp - (long long)frac_len;
    if (exp5 > 1000000 || exp5 < -1000000)
        return RAT_SYNTAX;
    long long k = 9 + exp5 + (long long)trailing_zeros;
    if (k < 0)
        return RAT_TOO_PRECISE;
    /* M × 10^k: more than 38 digits cannot be an int64 */
    if (overflow_digits || (long long)nd + k > 38) {
        *nano = neg ? LLONG_MIN : LLONG_MAX;
        return RAT_OK;
    }
    u128 v = 0;
    for (size_t i = 0; i < nd; i++)
        v = v * 10 + (unsigned)(digits[i] - '0');
    for (long long i = 0; i < k; i++)
        v *= 10;
    *nano = clamp_signed(v, neg);
    return RAT_OK;
}

int cgroup_parse_cpus(const char *s, long long *nano, struct berr *err)
{
    const char *slash = strchr(s, '/');
    enum rat_result r = slash ? fraction_nano(s, slash, nano) : decimal_nano(s, nano);
    if (r == RAT_SYNTAX)
        return berr_set(err, BERR_USAGE,
                        "invalid argument \"%s\" for \"--cpus\" flag: failed to parse %s as a "
                        "rational number",
                        s, s);
    if (r == RAT_TOO_PRECISE)
        return berr_set(err, BERR_USAGE,
                        "invalid argument \"%s\" for \"--cpus\" flag: value is too precise", s);
    return 0;
}

/* ---- sizes: go-units RAMInBytes ----------------------------------------------------------- */

/* docker 20.10's go-units: ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$, the number through
 * ParseFloat, times a binary multiple, truncated. */
int cgroup_parse_bytes(const char *flag, const char *s, long long *bytes, struct berr *err)
{
    if (strstr(flag, "memory-swap") && !strcmp(s, "-1")) {
        *bytes = -1;
        return 0;
    }
    const char *p = s;
    size_t int_len = strspn(p, "0123456789");
    if (int_len == 0)
        goto invalid;
    p += int_len;
    const char *frac = NULL;
    size_t frac_len = 0, groups = 0;
    while (*p == '.' && isdigit((unsigned char)p[1])) {
        if (!frac) {
            frac = p + 1;
            frac_len = strspn(frac, "0123456789");
        }
        p++;
        p += strspn(p, "0123456789");
        groups++;
    }
    const char *num_end = p;
    if (*p == ' ')
        p++;
    unsigned shift = 0;
    static const char units[] = "kmgtp";
    const char *u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
    if (u) {
        shift = 10 * (unsigned)(u - units + 1);
        p++;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    if (*p)
        goto invalid;
    if (groups > 1)
        return berr_set(err, BERR_USAGE,
                        "invalid argument \"%s\" for \"%s\" flag: strconv.ParseFloat: parsing "
                        "\"%.*s\": invalid syntax",
                        s, flag, (int)(num_end - s), s);

    u128 whole = 0;
    for (size_t i = 0; i < int_len; i++) {
        whole = whole * 10 + (unsigned)(s[i] - '0');
        if (whole > (u128)LLONG_MAX)
            goto too_big;
    }
    whole <<= shift;
    /* the fraction's share, truncated: 19 digits are more than a float64 holds */
    u128 f = 0, scale = 1;
    for (size_t i = 0; i < frac_len && i < 19; i++) {
        f = f * 10 + (unsigned)(frac[i] - '0');
        scale *= 10;
    }
    whole += (f << shift) / scale;
    if (whole > (u128)LLONG_MAX)
        goto too_big;
    *bytes = (long long)whole;
    return 0;

too_big:
invalid:
    return berr_set(err, BERR_USAGE, "invalid argument \"%s\" for \"%s\" flag: invalid size: '%s'",
                    s, flag, s);
}

/* ---- cpuset lists: docker's parsers.ParseUintList --------------------------------------- */

struct uint_set {
    unsigned char *bits;
    long max; /* highest member, -1 when empty */
};

static void uint_set_free(struct uint_set *u)
{
    free(u->bits);
    u->bits = NULL;
}

static bool uint_set_has(const struct uint_set *u, long v)
{
    return v <= u->max && (u->bits[v / 8] & (1u << (v % 8)));
}

/* Go's strconv.Atoi: optional sign, decimal digits, within int64. */
static bool go_atoi(const char *s, size_t n, long long *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    const char *d = buf + (buf[0] == '+' || buf[0] == '-');
    if (!*d || strspn(d, "0123456789") != strlen(d))
        return false;
    errno = 0;
    *out = strtoll(buf, NULL, 10);
    return errno == 0;
}

/* Members up to this many are stored; docker's own cap for requests is 8192 or the host's. */
#define UINT_SET_LIMIT (1L << 22)

/* 0: parsed; -1: "invalid format: <val>"; -2: "value of out range, maximum is <maximum>"
 * (docker's wording). maximum 0 = none. */
static int parse_uint_list(const char *val, long maximum, struct uint_set *out)
{
    *out = (struct uint_set){.bits = xcalloc(1, 1), .max = -1};
    if (!*val)
        return 0;
    const char *p = val;
    for (;;) {
        size_t len = strcspn(p, ",");
        const char *dash = memchr(p, '-', len);
        long long lo, hi;
        if (!dash) {
            if (!go_atoi(p, len, &lo))
                return -1;
            hi = lo;
        } else {
            if (!go_atoi(p, (size_t)(dash - p), &lo) ||
                !go_atoi(dash + 1, len - (size_t)(dash - p) - 1, &hi) || hi < lo)
                return -1;
        }
        if (maximum != 0 && hi > maximum)
            return -2;
        if (lo < 0 || hi >= UINT_SET_LIMIT)
            return -1;
        if (hi > out->max) {
            out->bits = xrealloc(out->bits, (size_t)hi / 8 + 1);
            size_t old = out->max < 0 ? 0 : (size_t)out->max / 8 + 1;
            memset(out->bits + old, 0, (size_t)hi / 8 + 1 - old);
            out->max = (long)hi;
        }
        for (long long v = lo; v <= hi; v++)
            out->bits[v / 8] |= (unsigned char)(1u << (v % 8));
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

/* sysinfo.isCpusetListAvailable, with dockerd's messages. */
static int check_cpuset(const char *provided, const char *available, const char *what,
                        const char *noun, struct berr *err)
{
    struct uint_set have, want;
    long maximum = 8192;
    if (parse_uint_list(available, 0, &have) < 0) {
        uint_set_free(&have);
        return berr_set(err, BERR_FAILED, "cannot parse the host's cpuset %s \"%s\"", what,
                        available);
    }
    if (have.max > maximum)
        maximum = have.max;
    int r = parse_uint_list(provided, maximum, &want);
    if (r == -1)
        berr_set(err, BERR_USAGE, "Invalid value %s for cpuset %s: invalid format: %s", provided,
                 what, provided);
    else if (r == -2)
        berr_set(err, BERR_USAGE,
                 "Invalid value %s for cpuset %s: value of out range, maximum is %ld", provided,
                 what, maximum);
    for (long v = 0; r == 0 && v <= want.max; v++) {
        if (uint_set_has(&want, v) && !uint_set_has(&have, v))
            r = berr_set(err, BERR_USAGE,
                         "Requested %s are not available - requested %s, available: %s", noun,
                         provided, available);
    }
    uint_set_free(&have);
    uint_set_free(&want);
    return r < 0 ? -1 : 0;
}

/* ---- dockerd's checks (verifyPlatformContainerResources, after adaptContainerSettings) --- */

int limits_check_with(const struct cgroup_limits *l, const struct cgroup_host_caps *h,
                      struct berr *err)
{
    long long swap = limits_memory_swap(l);
    if (l->memory != 0 && l->memory < 6 * 1024 * 1024)
        return berr_set(err, BERR_USAGE, "Minimum memory limit allowed is 6MB");
    if (l->memory > 0 && swap > 0 && swap < l->memory)
        return berr_set(err, BERR_USAGE,
                        "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (l->memory == 0 && swap > 0)
        return berr_set(err, BERR_USAGE,
                        "You should always set the Memory limit when using "
                        "Memoryswap limit, see usage");
    if (l->nano_cpus > 0 && l->cpu_period > 0)
        return berr_set(err, BERR_USAGE,
                        "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    if (l->nano_cpus > 0 && l->cpu_quota > 0)
        return berr_set(err, BERR_USAGE,
                        "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    if (l->nano_cpus < 0 || l->nano_cpus > h->ncpus * 1000000000LL)
        return berr_set(
            err, BERR_USAGE,
            "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available", h->ncpus,
            h->ncpus);
    if (l->cpu_period != 0 && (l->cpu_period < 1000 || l->cpu_period > 1000000))
        return berr_set(err, BERR_USAGE,
                        "CPU cfs period can not be less than 1ms (i.e. 1000) or "
                        "larger than 1s (i.e. 1000000)");
    if (l->cpu_quota > 0 && l->cpu_quota < 1000)
        return berr_set(err, BERR_USAGE, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    if (l->cpuset_cpus && check_cpuset(l->cpuset_cpus, h->cpus, "cpus", "CPUs", err) < 0)
        return -1;
    if (l->cpuset_mems && check_cpuset(l->cpuset_mems, h->mems, "mems", "memory nodes", err) < 0)
        return -1;
    return 0;
}

/* Go's runtime.NumCPU: the CPUs this process may run on. */
static long usable_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static char *read_trimmed(const char *dir, const char *name)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct berr ignored;
    char *text = NULL;
    if (fd < 0 || read_fd_all(fd, 1 << 16, &text, NULL, &ignored) < 0)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    return text;
}

/* A cpuset root's two sets: a v1 hierarchy's own files, a unified root's effective ones. False,
 * both NULL, when dir is -1 or either cannot be read. */
static bool cpusets_at(int dir, const char *where, bool v1, char **cpus, char **mems)
{
    struct berr ignored = {0};
    *cpus = *mems = NULL;
    if (dir >= 0 &&
        cg_read(dir, where, v1 ? "cpuset.cpus" : "cpuset.cpus.effective", cpus, &ignored) == 0 &&
        cg_read(dir, where, v1 ? "cpuset.mems" : "cpuset.mems.effective", mems, &ignored) == 0)
        return true;
    free(*cpus);
    free(*mems);
    *cpus = *mems = NULL;
    return false;
}

/* Where usual hosts mount that root (cg_open_mounted_root), without reading mountinfo:
 * --cpuset-cpus is in every Storm worker's flags. */
static bool usual_cpusets(char **cpus, char **mems)
{
    _cleanup_close_ int v1 = cg_open_mounted_root("/sys/fs/cgroup/cpuset", CGROUP_SUPER_MAGIC);
    if (v1 >= 0)
        return cpusets_at(v1, "/sys/fs/cgroup/cpuset", true, cpus, mems);
    _cleanup_close_ int v2 = cg_open_mounted_root("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC);
    return cpusets_at(v2, "/sys/fs/cgroup", false, cpus, mems);
}

/* What dockerd's sysinfo reads: the cpuset hierarchy's root (v1), the v2 root's effective
 * sets, or with no cpuset controller the kernel's online lists. */
static void host_cpusets(char **cpus, char **mems)
{
    struct cgroup_hosts hosts = {0};
    struct berr ignored;
    if (usual_cpusets(cpus, mems))
        return;
    if (cgroup_detect(&hosts, &ignored) == 0) {
        for (size_t i = 0; i < hosts.n; i++) {
            const struct cgroup_mount *m = &hosts.mounts[i];
            bool v1 = !m->v2 && cg_has_controller(m->controllers, "cpuset");
            if (!v1 && !(m->v2 && hosts.layout == CGROUP_V2))
                continue;
            _cleanup_close_ int fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (cpusets_at(fd, m->path, v1, cpus, mems))
                break;
        }
        cgroup_hosts_free(&hosts);
    }
    if (!*cpus) {
        *cpus = read_trimmed("/sys/devices/system/cpu", "online");
        *mems = read_trimmed("/sys/devices/system/node", "online");
    }
    if (!*cpus)
        *cpus = xasprintf("0-%ld", usable_cpus() - 1);
    if (!*mems)
        *mems = xstrdup("0");
}

int cgroup_limits_check(const struct cgroup_limits *l, struct berr *err)
{
    _cleanup_free_ char *cpus = NULL;
    _cleanup_free_ char *mems = NULL;
    if (l->cpuset_cpus || l->cpuset_mems)
        host_cpusets(&cpus, &mems);
    struct cgroup_host_caps h = {
        .ncpus = usable_cpus(), .cpus = cpus ? cpus : "", .mems = mems ? mems : ""};
    return limits_check_with(l, &h, err);
}
