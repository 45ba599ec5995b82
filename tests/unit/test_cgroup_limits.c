/* docker's parsing of --cpus and the size flags, and dockerd's checks of the whole set, with a
 * fake host (2 CPUs, cpus 0-1, mems 0) so the messages are the same on every machine. */
#include "cgroup/internal.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

TestSuite(cgroup_limits);

static long long cpus(const char *s)
{
    struct berr err = {0};
    long long nano = -12345;
    cr_assert_eq(cgroup_parse_cpus(s, &nano, &err), 0, "--cpus=%s: %s", s, err.msg);
    return nano;
}

static void cpus_fails(const char *s, const char *want)
{
    struct berr err = {0};
    long long nano = 0;
    cr_assert_eq(cgroup_parse_cpus(s, &nano, &err), -1, "--cpus=%s parsed as %lld", s, nano);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(err.kind, BERR_USAGE);
}

Test(cgroup_limits, cpus_are_exact_nano_cpus_and_quota_is_truncated)
{
    cr_assert_eq(cpus("2.6"), 2600000000LL);
    cr_assert_eq(limits_cpus_quota(cpus("2.6")), 260000);
    cr_assert_eq(cpus("0.333333333"), 333333333LL);
    cr_assert_eq(limits_cpus_quota(cpus("0.333333333")), 33333);
    cr_assert_eq(cpus("1.5"), 1500000000LL);
    cr_assert_eq(limits_cpus_quota(cpus("1.5")), 150000);
    cr_assert_eq(cpus("2"), 2000000000LL);
    cr_assert_eq(limits_cpus_quota(cpus("2")), 200000);
    cr_assert_eq(cpus("0.01"), 10000000LL);
    cr_assert_eq(limits_cpus_quota(cpus("0.01")), 1000);
}

Test(cgroup_limits, cpus_zero_is_no_limit)
{
    cr_assert_eq(cpus("0"), 0);
    cr_assert_eq(cpus("0.0"), 0);
    cr_assert_eq(cpus("-0"), 0);
    cr_assert_eq(cpus("0e999999999"), 0, "big.Rat takes zero before the exponent");
}

Test(cgroup_limits, cpus_take_exponents_and_big_rat_forms)
{
    cr_assert_eq(cpus("1.0E-4"), 100000);
    cr_assert_eq(limits_cpus_quota(cpus("1.0E-4")), 10, "parsed, but below the kernel's 1000");
    cr_assert_eq(cpus("15e-1"), 1500000000LL);
    cr_assert_eq(cpus("1e-9"), 1);
    cr_assert_eq(cpus(".5"), 500000000LL);
    cr_assert_eq(cpus("1."), 1000000000LL);
    cr_assert_eq(cpus("+1.25"), 1250000000LL);
    cr_assert_eq(cpus("0.5000000000000"), 500000000LL, "trailing zeros are not precision");
    cr_assert_eq(cpus("3/2"), 1500000000LL);
    cr_assert_eq(cpus("-1/4"), -250000000LL);
    cr_assert_eq(cpus("010/4"), 2000000000LL, "Go reads a leading 0 in a fraction as octal");
}

Test(cgroup_limits, cpus_negative_parse_and_are_refused_by_the_range_check)
{
    cr_assert_eq(cpus("-1"), -1000000000LL);
    struct cgroup_limits l = {.nano_cpus = cpus("-1")};
    struct cgroup_host_caps h = {.ncpus = 2, .cpus = "0-1", .mems = "0"};
    struct berr err = {0};
    cr_assert_eq(limits_check_with(&l, &h, &err), -1);
    cr_assert_str_eq(err.msg,
                     "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
}

Test(cgroup_limits, cpus_bad_text_has_dockers_messages)
{
    cpus_fails("abc", "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a "
                      "rational number");
    cpus_fails("", "invalid argument \"\" for \"--cpus\" flag: failed to parse  as a rational "
                   "number");
    cpus_fails("1.5x", "invalid argument \"1.5x\" for \"--cpus\" flag: failed to parse 1.5x as a "
                       "rational number");
    cpus_fails("1e", "invalid argument \"1e\" for \"--cpus\" flag: failed to parse 1e as a "
                     "rational number");
    cpus_fails(" 1", "invalid argument \" 1\" for \"--cpus\" flag: failed to parse  1 as a "
                     "rational number");
    cpus_fails("1/0", "invalid argument \"1/0\" for \"--cpus\" flag: failed to parse 1/0 as a "
                      "rational number");
    cpus_fails("1/3e0", "invalid argument \"1/3e0\" for \"--cpus\" flag: failed to parse 1/3e0 "
                        "as a rational number");
    cpus_fails("1e-9999999", "invalid argument \"1e-9999999\" for \"--cpus\" flag: failed to "
                             "parse 1e-9999999 as a rational number");
}

Test(cgroup_limits, cpus_beyond_nine_decimals_are_too_precise)
{
    cpus_fails("0.0000000001",
               "invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too precise");
    cpus_fails("1.0000000001",
               "invalid argument \"1.0000000001\" for \"--cpus\" flag: value is too precise");
    cpus_fails("1e-10", "invalid argument \"1e-10\" for \"--cpus\" flag: value is too precise");
    cpus_fails("1/3", "invalid argument \"1/3\" for \"--cpus\" flag: value is too precise");
}

Test(cgroup_limits, cpus_too_large_for_int64_saturate_into_the_range_error)
{
    cr_assert_eq(cpus("1e30"), LLONG_MAX);
    cr_assert_eq(cpus("-1e30"), LLONG_MIN);
}

/* ---- sizes ---------------------------------------------------------------------------- */

static long long bytes(const char *s)
{
    struct berr err = {0};
    long long b = -12345;
    cr_assert_eq(cgroup_parse_bytes("--memory", s, &b, &err), 0, "--memory=%s: %s", s, err.msg);
    return b;
}

static void bytes_fail(const char *s, const char *want)
{
    struct berr err = {0};
    long long b = 0;
    cr_assert_eq(cgroup_parse_bytes("--memory", s, &b, &err), -1, "--memory=%s parsed as %lld", s,
                 b);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(err.kind, BERR_USAGE);
}

Test(cgroup_limits, sizes_are_binary_multiples_case_insensitive)
{
    cr_assert_eq(bytes("1024"), 1024);
    cr_assert_eq(bytes("10b"), 10);
    cr_assert_eq(bytes("1k"), 1024);
    cr_assert_eq(bytes("1K"), 1024);
    cr_assert_eq(bytes("1kb"), 1024);
    cr_assert_eq(bytes("1KiB"), 1024);
    cr_assert_eq(bytes("512m"), 512LL << 20);
    cr_assert_eq(bytes("512M"), 512LL << 20);
    cr_assert_eq(bytes("1g"), 1LL << 30);
    cr_assert_eq(bytes("1GB"), 1LL << 30);
    cr_assert_eq(bytes("2t"), 2LL << 40);
    cr_assert_eq(bytes("1p"), 1LL << 50);
    cr_assert_eq(bytes("1 m"), 1LL << 20);
    cr_assert_eq(bytes("0"), 0);
}

Test(cgroup_limits, sizes_with_decimals_are_truncated)
{
    cr_assert_eq(bytes("1.5g"), 1610612736LL);
    cr_assert_eq(bytes("0.5k"), 512);
    cr_assert_eq(bytes("1.1g"), 1181116006LL);
    cr_assert_eq(bytes("0.3m"), 314572);
    cr_assert_eq(bytes("1.9"), 1);
}

Test(cgroup_limits, bad_sizes_have_dockers_messages)
{
    bytes_fail("abc", "invalid argument \"abc\" for \"--memory\" flag: invalid size: 'abc'");
    bytes_fail("-1", "invalid argument \"-1\" for \"--memory\" flag: invalid size: '-1'");
    bytes_fail("1x", "invalid argument \"1x\" for \"--memory\" flag: invalid size: '1x'");
    bytes_fail("1.", "invalid argument \"1.\" for \"--memory\" flag: invalid size: '1.'");
    bytes_fail("1mm", "invalid argument \"1mm\" for \"--memory\" flag: invalid size: '1mm'");
    bytes_fail("", "invalid argument \"\" for \"--memory\" flag: invalid size: ''");
    bytes_fail("1.2.3m", "invalid argument \"1.2.3m\" for \"--memory\" flag: "
                         "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax");
    bytes_fail("99999999p",
               "invalid argument \"99999999p\" for \"--memory\" flag: invalid size: '99999999p'");
}

Test(cgroup_limits, memory_swap_takes_minus_one)
{
    struct berr err = {0};
    long long b = 0;
    cr_assert_eq(cgroup_parse_bytes("--memory-swap", "-1", &b, &err), 0, "%s", err.msg);
    cr_assert_eq(b, -1);
}

/* ---- dockerd's checks ------------------------------------------------------------------ */

static const struct cgroup_host_caps two_cpus = {.ncpus = 2, .cpus = "0-1", .mems = "0"};

static void check_ok(const struct cgroup_limits *l)
{
    struct berr err = {0};
    cr_assert_eq(limits_check_with(l, &two_cpus, &err), 0, "%s", err.msg);
}

static void check_fails(const struct cgroup_limits *l, const char *want)
{
    struct berr err = {0};
    cr_assert_eq(limits_check_with(l, &two_cpus, &err), -1, "accepted, want: %s", want);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(err.kind, BERR_USAGE);
}

Test(cgroup_limits, cpus_up_to_the_host_count_pass)
{
    check_ok(&(struct cgroup_limits){0});
    check_ok(&(struct cgroup_limits){.nano_cpus = 2000000000LL});
    check_ok(&(struct cgroup_limits){.nano_cpus = 1500000000LL});
    check_ok(&(struct cgroup_limits){.nano_cpus = 100000}); /* 1.0E-4: the kernel refuses it */
}

Test(cgroup_limits, cpus_beyond_the_host_count_are_refused)
{
    const char *want = "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available";
    check_fails(&(struct cgroup_limits){.nano_cpus = 2600000000LL}, want);
    check_fails(&(struct cgroup_limits){.nano_cpus = 3000000000LL}, want);
    check_fails(&(struct cgroup_limits){.nano_cpus = 2000000001LL}, want);
    struct cgroup_host_caps eight = {.ncpus = 8, .cpus = "0-7", .mems = "0"};
    struct berr err = {0};
    struct cgroup_limits l = {.nano_cpus = 9000000000LL};
    cr_assert_eq(limits_check_with(&l, &eight, &err), -1);
    cr_assert_str_eq(err.msg,
                     "Range of CPUs is from 0.01 to 8.00, as there are only 8 CPUs available");
}

Test(cgroup_limits, cpus_conflict_with_period_and_quota)
{
    check_fails(&(struct cgroup_limits){.nano_cpus = 1000000000LL, .cpu_period = 50000},
                "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    check_fails(&(struct cgroup_limits){.nano_cpus = 1000000000LL, .cpu_quota = 50000},
                "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    check_ok(&(struct cgroup_limits){.nano_cpus = 1000000000LL, .cpu_quota = -1});
}

Test(cgroup_limits, period_and_quota_ranges)
{
    check_ok(&(struct cgroup_limits){.cpu_period = 1000, .cpu_quota = 1000});
    check_ok(&(struct cgroup_limits){.cpu_period = 1000000, .cpu_quota = -1});
    const char *period = "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                         "(i.e. 1000000)";
    check_fails(&(struct cgroup_limits){.cpu_period = 999}, period);
    check_fails(&(struct cgroup_limits){.cpu_period = 1000001}, period);
    check_fails(&(struct cgroup_limits){.cpu_quota = 999},
                "CPU cfs quota can not be less than 1ms (i.e. 1000)");
}

Test(cgroup_limits, memory_minimum_and_swap_rules)
{
    check_ok(&(struct cgroup_limits){.memory = 6 << 20});
    check_fails(&(struct cgroup_limits){.memory = 1 << 20}, "Minimum memory limit allowed is 6MB");
    check_fails(&(struct cgroup_limits){.memory = (6 << 20) - 1},
                "Minimum memory limit allowed is 6MB");
    check_ok(&(struct cgroup_limits){.memory = 64 << 20, .memory_swap = 64 << 20});
    check_ok(&(struct cgroup_limits){.memory = 64 << 20, .memory_swap = -1});
    check_fails(&(struct cgroup_limits){.memory = 64 << 20, .memory_swap = 32 << 20},
                "Minimum memoryswap limit should be larger than memory limit, see usage");
    check_fails(&(struct cgroup_limits){.memory_swap = 32 << 20},
                "You should always set the Memory limit when using Memoryswap limit, see usage");
    check_ok(&(struct cgroup_limits){.memory_swap = -1});
}

Test(cgroup_limits, swap_defaults_to_twice_the_memory)
{
    cr_assert_eq(limits_memory_swap(&(struct cgroup_limits){.memory = 100 << 20}), 200 << 20);
    cr_assert_eq(
        limits_memory_swap(&(struct cgroup_limits){.memory = 100 << 20, .memory_swap = -1}), -1);
    cr_assert_eq(limits_memory_swap(&(struct cgroup_limits){0}), 0);
}

Test(cgroup_limits, cpu_shares_are_clamped_like_dockerd)
{
    cr_assert_eq(limits_cpu_shares(-5), 2);
    cr_assert_eq(limits_cpu_shares(1), 1);
    cr_assert_eq(limits_cpu_shares(1024), 1024);
    cr_assert_eq(limits_cpu_shares(1 << 20), 262144);
}

Test(cgroup_limits, cpusets_within_the_host_pass)
{
    check_ok(&(struct cgroup_limits){.cpuset_cpus = "0"});
    check_ok(&(struct cgroup_limits){.cpuset_cpus = "0,1", .cpuset_mems = "0"});
    check_ok(&(struct cgroup_limits){.cpuset_cpus = "0-1"});
    check_ok(&(struct cgroup_limits){.cpuset_cpus = ""});
}

Test(cgroup_limits, cpusets_with_bad_syntax_are_refused)
{
    check_fails(&(struct cgroup_limits){.cpuset_cpus = "a"},
                "Invalid value a for cpuset cpus: invalid format: a");
    check_fails(&(struct cgroup_limits){.cpuset_cpus = "1-0"},
                "Invalid value 1-0 for cpuset cpus: invalid format: 1-0");
    check_fails(&(struct cgroup_limits){.cpuset_cpus = "0,"},
                "Invalid value 0, for cpuset cpus: invalid format: 0,");
    check_fails(&(struct cgroup_limits){.cpuset_cpus = "-1"},
                "Invalid value -1 for cpuset cpus: invalid format: -1");
    check_fails(&(struct cgroup_limits){.cpuset_mems = "x"},
                "Invalid value x for cpuset mems: invalid format: x");
    check_fails(&(struct cgroup_limits){.cpuset_cpus = "0-9000"},
                "Invalid value 0-9000 for cpuset cpus: value of out range, maximum is 8192");
}

Test(cgroup_limits, cpusets_outside_the_host_are_refused)
{
    check_fails(&(struct cgroup_limits){.cpuset_cpus = "2"},
                "Requested CPUs are not available - requested 2, available: 0-1");
    check_fails(&(struct cgroup_limits){.cpuset_cpus = "0,5-6"},
                "Requested CPUs are not available - requested 0,5-6, available: 0-1");
    check_fails(&(struct cgroup_limits){.cpuset_mems = "1"},
                "Requested memory nodes are not available - requested 1, available: 0");
}

Test(cgroup_limits, the_real_host_check_counts_this_machines_cpus)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    struct berr err = {0};
    struct cgroup_limits l = {.nano_cpus = (n + 1) * 1000000000LL};
    cr_assert_eq(cgroup_limits_check(&l, &err), -1);
    cr_assert(strstr(err.msg, "Range of CPUs is from 0.01 to"), "%s", err.msg);
    l.nano_cpus = 1000000000LL;
    l.cpuset_cpus = "0";
    l.cpuset_mems = "0";
    cr_assert_eq(cgroup_limits_check(&l, &err), 0, "%s", err.msg);
    l.cpuset_cpus = "4095";
    cr_assert_eq(cgroup_limits_check(&l, &err), -1);
    cr_assert(strstr(err.msg, "Requested CPUs are not available - requested 4095"), "%s", err.msg);
}

Test(cgroup_limits, free_clears_the_strings)
{
    struct cgroup_limits l = {
        .cpuset_cpus = xstrdup("0"), .cpuset_mems = xstrdup("0"), .memory = 1};
    cgroup_limits_free(&l);
    cr_assert_null(l.cpuset_cpus);
    cr_assert_eq(l.memory, 0);
}
