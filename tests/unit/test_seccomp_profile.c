/* seccomp/: parsing docker-format profiles and flattening includes/excludes the way dockerd
 * does (caps in the bounding set, arch, minKernel as major.minor), and the refusals. */
#include "seccomp/seccomp.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>

#define SYS_ADMIN SECCOMP_CAP(21)
#define SYS_PTRACE SECCOMP_CAP(19)
#define SYS_CHROOT SECCOMP_CAP(18)

static int load(const char *text, const struct seccomp_target *t, struct seccomp_profile *p,
                struct berr *err)
{
    return seccomp_profile_load("p.json", text, strlen(text), t, p, err);
}

/* One rule for syscall "getpid" with the given includes/excludes JSON. */
static bool kept(const char *filter, uint64_t caps, const char *arch, int kmaj, int kmin)
{
    char *text = xasprintf("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
                           "[\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\", %s}]}",
                           filter);
    struct seccomp_target t = {
        .caps = caps, .arch = arch, .kernel_major = kmaj, .kernel_minor = kmin};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(load(text, &t, &p, &err), 0, "%s: %s", filter, err.msg);
    bool k = p.nrules == 1;
    seccomp_profile_free(&p);
    free(text);
    return k;
}

struct flatten_case {
    const char *filter;
    uint64_t caps;
    const char *arch;
    int kmaj, kmin;
    bool kept;
};

Test(seccomp_flatten, includes_and_excludes_table)
{
    static const struct flatten_case cases[] = {
        /* caps: includes needs every cap, excludes drops on any */
        {"\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}", SYS_ADMIN, "amd64", 6, 1, true},
        {"\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}", 0, "amd64", 6, 1, false},
        {"\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_SYS_PTRACE\"]}", SYS_ADMIN, "amd64", 6,
         1, false},
        {"\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_SYS_PTRACE\"]}",
         SYS_ADMIN | SYS_PTRACE, "amd64", 6, 1, true},
        {"\"includes\": {\"caps\": [\"CAP_NOT_A_CAP\"]}", ~UINT64_C(0), "amd64", 6, 1, false},
        {"\"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}", 0, "amd64", 6, 1, true},
        {"\"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}", SYS_ADMIN, "amd64", 6, 1, false},
        {"\"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_SYS_CHROOT\"]}", SYS_CHROOT, "amd64",
         6, 1, false},
        {"\"excludes\": {\"caps\": []}", SYS_ADMIN, "amd64", 6, 1, true},
        /* arches: Go names, compared with the native one */
        {"\"includes\": {\"arches\": [\"amd64\", \"x32\"]}", 0, "amd64", 6, 1, true},
        {"\"includes\": {\"arches\": [\"arm64\"]}", 0, "amd64", 6, 1, false},
        {"\"includes\": {\"arches\": [\"arm64\"]}", 0, "arm64", 6, 1, true},
        {"\"excludes\": {\"arches\": [\"amd64\"]}", 0, "amd64", 6, 1, false},
        {"\"excludes\": {\"arches\": [\"s390x\"]}", 0, "amd64", 6, 1, true},
        /* minKernel: major.minor only, >= */
        {"\"includes\": {\"minKernel\": \"4.8\"}", 0, "amd64", 4, 8, true},
        {"\"includes\": {\"minKernel\": \"4.8\"}", 0, "amd64", 4, 7, false},
        {"\"includes\": {\"minKernel\": \"4.8\"}", 0, "amd64", 3, 19, false},
        {"\"includes\": {\"minKernel\": \"4.8\"}", 0, "amd64", 5, 0, true},
        {"\"includes\": {\"minKernel\": \"5.10\"}", 0, "amd64", 5, 9, false},
        {"\"excludes\": {\"minKernel\": \"5.10\"}", 0, "amd64", 5, 10, false},
        {"\"excludes\": {\"minKernel\": \"5.10\"}", 0, "amd64", 5, 4, true},
        /* excludes checked first, both must pass */
        {"\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}, \"excludes\": {\"arches\": [\"amd64\"]}",
         SYS_ADMIN, "amd64", 6, 1, false},
        {"\"includes\": {\"arches\": [\"amd64\"]}, \"excludes\": {\"caps\": [\"CAP_SYS_PTRACE\"]}",
         SYS_ADMIN, "amd64", 6, 1, true},
        {"\"includes\": {}, \"excludes\": {}", 0, "amd64", 6, 1, true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct flatten_case *c = &cases[i];
        cr_expect_eq(kept(c->filter, c->caps, c->arch, c->kmaj, c->kmin), c->kept,
                     "case %zu: %s with caps %#llx arch %s kernel %d.%d: want %s", i, c->filter,
                     (unsigned long long)c->caps, c->arch, c->kmaj, c->kmin,
                     c->kept ? "kept" : "dropped");
    }
}

Test(seccomp_flatten, cap_names_map_to_their_numbers)
{
    cr_assert_eq(seccomp_cap_bit("CAP_CHOWN"), SECCOMP_CAP(0));
    cr_assert_eq(seccomp_cap_bit("CAP_SYS_ADMIN"), SECCOMP_CAP(21));
    cr_assert_eq(seccomp_cap_bit("CAP_CHECKPOINT_RESTORE"), SECCOMP_CAP(40));
    cr_assert_eq(seccomp_cap_bit("SYS_ADMIN"), 0, "names carry the CAP_ prefix");
}

Test(seccomp_flatten, arch_map_picks_the_native_entry_with_its_subarches)
{
    const char *text = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": ["
                       "{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": "
                       "[\"SCMP_ARCH_ARM\"]},"
                       "{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": "
                       "[\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}], \"syscalls\": []}";
    struct seccomp_target t = {.arch = "amd64", .kernel_major = 6, .kernel_minor = 1};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(load(text, &t, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.arches.n, 3);
    cr_assert_str_eq(p.arches.v[0], "x86_64");
    cr_assert_str_eq(p.arches.v[1], "x86");
    cr_assert_str_eq(p.arches.v[2], "x32");
    seccomp_profile_free(&p);
    t.arch = "arm64";
    cr_assert_eq(load(text, &t, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.arches.n, 2);
    cr_assert_str_eq(p.arches.v[0], "aarch64");
    seccomp_profile_free(&p);
}

Test(seccomp_flatten, actions_errno_and_args_are_mapped)
{
    const char *text =
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": ["
        "{\"name\": \"clone\", \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
        "\"value\": 2080505856, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
        "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\"},"
        "{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_KILL\"},"
        "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
        "\"value\": 18446744073709551615, \"op\": \"SCMP_CMP_EQ\"}]}]}";
    struct seccomp_target t = {.kernel_major = 6, .kernel_minor = 1};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(load(text, &t, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.default_action, SCMP_ACT_ERRNO(38));
    cr_assert_eq(p.nrules, 4);
    cr_assert_str_eq(p.rules[0].names.v[0], "clone", "the old single 'name'");
    cr_assert_eq(p.rules[0].args[0].op, SCMP_CMP_MASKED_EQ);
    cr_assert_eq(p.rules[0].args[0].value, 0x7C020000);
    cr_assert_eq(p.rules[1].action, SCMP_ACT_ERRNO(EPERM),
                 "errnoRet absent: EPERM, not the default's");
    cr_assert_eq(p.rules[2].action, SCMP_ACT_KILL_THREAD);
    cr_assert_eq(p.rules[3].args[0].value, UINT64_MAX);
    seccomp_profile_free(&p);
}

Test(seccomp_flatten, no_default_action_and_no_syscalls_disables)
{
    struct seccomp_target t = {.kernel_major = 6, .kernel_minor = 1};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(load("{}", &t, &p, &err), 0, "%s", err.msg);
    cr_assert(p.disabled);
    seccomp_profile_free(&p);
}

/* ---- refusals -------------------------------------------------------------------------------- */

static void refused(const char *text, const char *needle)
{
    struct seccomp_target t = {.kernel_major = 6, .kernel_minor = 1};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(load(text, &t, &p, &err), -1, "accepted: %s", text);
    cr_assert_eq(err.kind, BERR_USAGE);
    cr_assert(strstr(err.msg, needle), "\"%s\" not in: %s", needle, err.msg);
    cr_assert(str_has_prefix(err.msg, "seccomp profile p.json: "), "%s", err.msg);
}

Test(seccomp_parse, syntax_errors_name_line_and_column)
{
    refused("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [{\"names\": "
            "[\"read\"] \"action\": \"SCMP_ACT_ALLOW\"}]\n}\n",
            "line 3, column 35");
    refused("{\"a\": SCMP}", "line 1, column 7: lexical error");
    refused("{\n\"a\": 1,\n}", "line 3, column 1");
    refused("{\"a\": 1", "line 1, column 8: premature EOF");
    refused("", "line 1, column 1: premature EOF");
    refused("{} trailing", "line 1, column 4: trailing garbage");
    refused("/* comment */ {}", "line 1, column 1");
}

/* 4 Mi levels fit in the 16 MiB a profile may have; yajl's tree recursed once per level */
Test(seccomp_parse, deep_nesting_is_refused_without_a_crash)
{
    static const char head[] = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"x\": ";
    size_t depth = 4u << 20, n = strlen(head);
    _cleanup_free_ char *text = xmalloc(n + 2 * depth + 2);
    memcpy(text, head, n);
    memset(text + n, '[', depth);
    memset(text + n + depth, ']', depth);
    strcpy(text + n + 2 * depth, "}");
    refused(text, "nests too deeply");
}

Test(seccomp_parse, bad_values_name_their_json_path)
{
    refused("[]", "line 1, column 1: the profile is not a JSON object");
    refused("{\"defaultAction\": \"SCMP_ACT_NOPE\"}", "defaultAction: unknown action");
    refused("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", "not supported");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
            "errnoRet is only valid");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], "
            "\"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 0, \"op\": "
            "\"SCMP_CMP_EQ\"}]}]}",
            "syscalls[0].args[0].index");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], "
            "\"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 0, \"op\": "
            "\"SCMP_CMP_SIMILAR\"}]}]}",
            "syscalls[0].args[0].op: unknown operator");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": \"read\", "
            "\"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
            "either 'name' or 'names'");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86\"], "
            "\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
            "both specified");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
            "unknown architecture");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], "
            "\"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"four\"}}]}",
            "invalid kernel version");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": \"read\", "
            "\"action\": \"SCMP_ACT_ALLOW\"}]}",
            "syscalls[0].names: not an array of strings");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", 3], "
            "\"action\": \"SCMP_ACT_ALLOW\"}]}",
            "syscalls[0].names[1]: not a string");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}",
            "unknown flag");
}

/* The whole message, so that line, column and path are asserted exactly. */
static void refused_at(const char *text, const char *want)
{
    struct seccomp_target t = {.kernel_major = 6, .kernel_minor = 1};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(load(text, &t, &p, &err), -1, "accepted: %s", text);
    cr_assert_eq(err.kind, BERR_USAGE);
    cr_assert_str_eq(err.msg, want);
}

/* A profile laid out as people write them: one key or rule per line. */
#define HEAD "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n"

Test(seccomp_parse, bad_values_name_their_line_and_column)
{
    /* unknown action: at the value's opening quote */
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
                    "    {\"names\": [\"write\"],\n"
                    "     \"action\": \"SCMP_ACT_FOO\"}\n  ]\n}\n",
               "seccomp profile p.json: line 6, column 16: syscalls[1].action: unknown action "
               "SCMP_ACT_FOO");
    /* wrong type: a number where a string belongs */
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": 7}\n  ]\n}\n",
               "seccomp profile p.json: line 4, column 35: syscalls[0].action: not a string");
    /* unknown operator, deep in args */
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                    "     \"args\": [\n"
                    "       {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},\n"
                    "       {\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_ABOUT\"}]}\n  ]\n}\n",
               "seccomp profile p.json: line 7, column 39: syscalls[0].args[1].op: unknown "
               "operator SCMP_CMP_ABOUT");
    /* args that are not objects: at the element */
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [0]}\n"
                    "  ]\n}\n",
               "seccomp profile p.json: line 4, column 62: syscalls[0].args[0]: not an object");
    /* bad arch, bad minKernel, errnoRet misuse */
    refused_at("{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"architectures\": [\"SCMP_ARCH_X86\", "
               "\"SCMP_ARCH_VAX\"]}",
               "seccomp profile p.json: line 2, column 37: architectures[1]: unknown architecture "
               "SCMP_ARCH_VAX");
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                    "     \"includes\": {\"minKernel\": \"4.x\"}}\n  ]\n}\n",
               "seccomp profile p.json: line 5, column 32: syscalls[0].includes.minKernel: invalid "
               "kernel version, expected <kernel>.<major>: 4.x");
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}\n"
                    "  ]\n}\n",
               "seccomp profile p.json: line 4, column 35: syscalls[0].action: errnoRet is only "
               "valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");
    /* the top level */
    refused_at("\n  [1]", "seccomp profile p.json: line 2, column 3: the profile is not a JSON "
                          "object");
}

Test(seccomp_parse, missing_keys_point_at_the_object_lacking_them)
{
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
                    "    {\"names\": [\"write\"]}\n  ]\n}\n",
               "seccomp profile p.json: line 5, column 5: syscalls[1].action: missing");
    refused_at("\n {\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
               "seccomp profile p.json: line 2, column 2: defaultAction: missing");
    refused_at(HEAD "    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
                    "     \"args\": [{\"index\": 0, \"value\": 1}]}\n  ]\n}\n",
               "seccomp profile p.json: line 5, column 15: syscalls[0].args[0].op: missing");
}

/* Storm's layout: a licence in '#' lines above the JSON, counted as lines. A key seen twice
 * is read (and reported) at its first occurrence, as the tree parser reads it. */
Test(seccomp_parse, bad_values_after_leading_hash_lines_count_those_lines)
{
    refused_at("# Licensed to the Apache Software Foundation\n#\n\n# remove this line\n" HEAD
               "    {\"names\": [\"read\"],\n"
               "     \"action\": \"SCMP_ACT_NOPE\", \"action\": \"SCMP_ACT_ALLOW\"}\n  ]\n}\n",
               "seccomp profile p.json: line 9, column 16: syscalls[0].action: unknown action "
               "SCMP_ACT_NOPE");
    refused_at("# top\n  # indented\n{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": "
               "[\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_X\"]}",
               "seccomp profile p.json: line 3, column 74: flags[1]: unknown flag "
               "SECCOMP_FILTER_FLAG_X");
}

Test(seccomp_parse, leading_hash_lines_are_skipped_and_counted)
{
    const char *text = "# licence\n#\n\n# remove this line\n{\"defaultAction\": "
                       "\"SCMP_ACT_ERRNO\", \"syscalls\": []}\n";
    struct seccomp_target t = {.kernel_major = 6, .kernel_minor = 1};
    struct seccomp_profile p;
    struct berr err = {0};
    cr_assert_eq(load(text, &t, &p, &err), 0, "%s", err.msg);
    seccomp_profile_free(&p);
    /* a '#' inside the JSON is an error, at its own line */
    refused("# top\n{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n# inside\n\"syscalls\": []}",
            "line 3, column 1");
}

Test(seccomp_parse, storm_profile_as_shipped)
{
    const char *dir = getenv("BERTH_UT_FIXTURES");
    char *path = xasprintf("%s/storm-seccomp.json.example", dir ? dir : "tests/fixtures");
    char *text = NULL;
    size_t len = 0;
    struct berr err = {0};
    cr_assert_eq(read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, &err), 0,
                 "%s (run from the repository root)", err.msg);
    struct seccomp_target t = {.kernel_major = 6, .kernel_minor = 1};
    struct seccomp_profile p;
    cr_assert_eq(seccomp_profile_load(path, text, len, &t, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.default_action, SCMP_ACT_ERRNO(EPERM));
    cr_assert_eq(p.nrules, 7);
    cr_assert_eq(p.arches.n, 0, "no architectures: native only");
    cr_assert_eq(p.rules[0].names.n, 311);
    seccomp_profile_free(&p);
    free(text);
    free(path);
}
