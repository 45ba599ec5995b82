/* berth seccomp check: what a docker-format profile becomes for a container with the given
 * capabilities on this machine, for operators writing profiles. Nothing is cached or loaded. */
#include "launcher.h"
#include "runtime/runtime.h"
#include "seccomp/seccomp.h"

#include <fcntl.h>
#include <string.h>

static const char check_usage[] = "berth seccomp check [OPTIONS] FILE";
static const char check_summary[] =
    "Validate a seccomp profile and print what it becomes (rules kept, names skipped, default "
    "action)";

static void print_args(const struct seccomp_rule *r)
{
    for (size_t i = 0; i < r->nargs; i++) {
        const struct seccomp_arg *a = &r->args[i];
        if (!strcmp(seccomp_op_name(a->op), "&"))
            printf(" %sarg%u & %#llx == %#llx", i ? "and " : "if ", a->index,
                   (unsigned long long)a->value, (unsigned long long)a->value_two);
        else
            printf(" %sarg%u %s %#llx", i ? "and " : "if ", a->index, seccomp_op_name(a->op),
                   (unsigned long long)a->value);
    }
}

static void print_profile(const char *path, const struct seccomp_profile *p,
                          const struct seccomp_filter *f, const struct seccomp_report *rep)
{
    char act[64];
    printf("profile: %s\n", path);
    if (p->disabled) {
        printf("no defaultAction and no syscalls: no filter (unconfined)\n");
        return;
    }
    seccomp_action_name(p->default_action, act, sizeof(act));
    printf("default action: %s\n", act);
    printf("architectures:%s", p->arches.n ? "" : " native only");
    for (size_t i = 0; i < p->arches.n; i++)
        printf(" %s", p->arches.v[i]);
    printf("\nrules: %zu in the profile, %zu kept\n", p->nrules_in, p->nrules);
    for (size_t i = 0; i < p->nrules; i++) {
        const struct seccomp_rule *r = &p->rules[i];
        seccomp_action_name(r->action, act, sizeof(act));
        printf("  %s%s:", act, r->action == p->default_action ? " (the default: left out)" : "");
        for (size_t j = 0; j < r->names.n; j++)
            printf(" %s", r->names.v[j]);
        print_args(r);
        printf("\n");
    }
    printf("names skipped (unknown to libseccomp):");
    for (size_t i = 0; i < rep->skipped.n; i++)
        printf(" %s", rep->skipped.v[i]);
    printf("%s\nENOSYS for syscall numbers:", rep->skipped.n ? "" : " none");
    for (size_t i = 0; i < rep->enosys.n; i++)
        printf("%s %s", i ? "," : "", rep->enosys.v[i]);
    printf("%s\nBPF: %zu instructions\n", rep->enosys.n ? "" : " none", f->len);
}

int cmd_seccomp(struct cli *cli, int argc, char **argv)
{
    _cleanup_strv_ struct strv cap_add = {0}, cap_drop = {0}, args = {0};
    const struct opt opts[] = {
        {"cap-add", 0, OPT_LIST, &cap_add, "Capabilities the container would be given", NULL},
        {"cap-drop", 0, OPT_LIST, &cap_drop, "Capabilities the container would lose", NULL},
    };
    int code = 0;
    if (!parse_command(cli, check_usage, check_summary, opts, ARRAY_SIZE(opts), argc, argv, &args,
                       &code))
        return code;
    struct berr err = {0};
    if (args.n != 2 || strcmp(args.v[0], "check")) {
        berr_set(&err, BERR_USAGE, "\"berth seccomp\" takes: check FILE");
        report_error(cli, &err);
        return 125;
    }
    const char *path = args.v[1];
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    uint64_t caps = 0;
    struct seccomp_profile p = {0};
    struct seccomp_filter f = {0};
    struct seccomp_report rep = {0};
    code = 1;
    if (runtime_cap_bounding(&cap_add, &cap_drop, &caps, &err) < 0)
        goto fail;
    if (ident_read_file(cli->caller, path, 16 << 20, &text, &len, &err) < 0) {
        berr_wrap(&err, "opening seccomp profile failed");
        goto fail;
    }
    struct seccomp_target t = {.caps = caps};
    if (seccomp_profile_load(path, text, len, &t, &p, &err) < 0 ||
        seccomp_compile(&p, &f, &rep, &err) < 0)
        goto fail;
    print_profile(path, &p, &f, &rep);
    code = 0;
    goto out;
fail:
    report_error(cli, &err);
out:
    seccomp_profile_free(&p);
    seccomp_filter_free(&f);
    seccomp_report_free(&rep);
    return code;
}
