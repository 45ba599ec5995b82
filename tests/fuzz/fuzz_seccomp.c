/* Seccomp profiles (--security-opt seccomp=FILE, Storm's storm.oci.seccomp.profile): parsed,
 * flattened against a container's capabilities, arch and kernel, and compiled to BPF. */
#include "fuzz.h"
#include "seccomp/seccomp.h"

/* docker's default capability set, and every capability (--cap-add=ALL) */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

static void load(const char *text, size_t len, const struct seccomp_target *t, bool compile)
{
    struct seccomp_profile p = {0};
    struct berr err = {0};
    if (seccomp_profile_load("fuzz.json", text, len, t, &p, &err) < 0)
        return;
    for (size_t i = 0; i < p.nrules; i++) {
        char name[64];
        seccomp_action_name(p.rules[i].action, name, sizeof(name));
        for (size_t a = 0; a < p.rules[i].nargs; a++)
            seccomp_op_name(p.rules[i].args[a].op);
    }
    if (compile && !p.disabled) {
        struct seccomp_filter f = {0};
        struct seccomp_report rep = {0};
        if (seccomp_compile(&p, &f, &rep, &err) == 0)
            seccomp_filter_free(&f);
        seccomp_report_free(&rep);
    }
    seccomp_profile_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t caps = 0;
    for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
        caps |= seccomp_cap_bit(default_caps[i]);
    struct seccomp_target docker = {
        .caps = caps, .arch = "amd64", .kernel_major = 5, .kernel_minor = 10};
    struct seccomp_target all = {
        .caps = ~UINT64_C(0), .arch = "arm64", .kernel_major = 4, .kernel_minor = 14};
    load((const char *)data, size, &docker, true);
    load((const char *)data, size, &all, false);
    return 0;
}
