#include "launcher.h"

#include <string.h>

int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcmp(s, yes[i]))
            return *out = true, 0;
        if (!strcmp(s, no[i]))
            return *out = false, 0;
    }
    return -1;
}

static const struct opt *find_long(const struct opt *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
            return &opts[i];
    }
    return NULL;
}

static const struct opt *find_short(const struct opt *opts, size_t n, char c)
{
    for (size_t i = 0; i < n; i++) {
        if (opts[i].shorthand == c)
            return &opts[i];
    }
    return NULL;
}

static bool takes_value(const struct opt *o)
{
    return o->kind == OPT_STRING || o->kind == OPT_LIST || o->kind == OPT_UNSUPPORTED;
}

static int store(const struct opt *o, const char *flag, const char *value, struct berr *err)
{
    if (o->seen)
        *o->seen = true;
    switch (o->kind) {
    case OPT_BOOL: {
        bool b = true;
        if (value && parse_bool(value, &b) < 0)
            return berr_set(err, BERR_USAGE,
                            "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
                            "\"%s\": invalid syntax",
                            value, flag, value);
        *(bool *)o->dest = b;
        return 0;
    }
    case OPT_STRING:
        free(*(char **)o->dest);
        *(char **)o->dest = xstrdup(value);
        return 0;
    case OPT_LIST:
        strv_push((struct strv *)o->dest, value);
        return 0;
    case OPT_UNSUPPORTED:
    case OPT_UNSUPPORTED_BOOL:
        break;
    }
    return berr_set(err, BERR_USAGE, "%s is not supported by berth yet", flag);
}

static const struct opt global_table[] = {
    {"root", 0, OPT_STRING, NULL, "Data root (images, layers)", NULL},
    {"runroot", 0, OPT_STRING, NULL, "State root (containers)", NULL},
    {"help", 0, OPT_BOOL, NULL, "Print usage", NULL},
};

/* The command's options plus the global ones, pointing at this cli. */
static struct opt *merged_table(const struct opt *opts, size_t n, struct cli *cli, size_t *out_n)
{
    struct opt *all = xcalloc(n + ARRAY_SIZE(global_table), sizeof(*all));
    if (n) /* commands without options pass NULL */
        memcpy(all, opts, n * sizeof(*opts));
    void *dests[] = {&cli->global.root, &cli->global.runroot, &cli->global.help};
    for (size_t i = 0; i < ARRAY_SIZE(global_table); i++) {
        all[n + i] = global_table[i];
        all[n + i].dest = dests[i];
    }
    *out_n = n + ARRAY_SIZE(global_table);
    return all;
}

static int parse_long_flag(const struct opt *opts, size_t n, int argc, char **argv, int *i,
                           struct berr *err)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct opt *o = find_long(opts, n, arg, len);
    if (!o)
        return berr_set(err, BERR_USAGE, "unknown flag: --%.*s", (int)len, arg);
    _cleanup_free_ char *flag = xasprintf("--%s", o->name);
    if (eq || !takes_value(o))
        return store(o, flag, eq ? eq + 1 : NULL, err);
    if (*i + 1 >= argc)
        return berr_set(err, BERR_USAGE, "flag needs an argument: --%s", o->name);
    return store(o, flag, argv[++*i], err);
}

/* -abc: bools combine; a flag taking a value takes the rest of the word or the next one. */
static int parse_short_flags(const struct opt *opts, size_t n, int argc, char **argv, int *i,
                             struct berr *err)
{
    const char *word = argv[*i];
    for (const char *p = word + 1; *p; p++) {
        const struct opt *o = find_short(opts, n, *p);
        if (!o)
            return berr_set(err, BERR_USAGE, "unknown shorthand flag: '%c' in %s", *p, word);
        char flag[3] = {'-', *p, '\0'};
        if (!takes_value(o)) {
            const char *val = p[1] == '=' ? p + 2 : NULL;
            if (store(o, flag, val, err) < 0)
                return -1;
            if (val)
                return 0;
            continue;
        }
        if (p[1])
            return store(o, flag, p[1] == '=' ? p + 2 : p + 1, err);
        if (*i + 1 >= argc)
            return berr_set(err, BERR_USAGE, "flag needs an argument: '%c' in %s", *p, word);
        return store(o, flag, argv[++*i], err);
    }
    return 0;
}

int opts_parse(const struct opt *opts, size_t nopts, struct cli *cli, int argc, char **argv,
               bool interspersed, struct strv *args, struct berr *err)
{
    size_t n = 0;
    _cleanup_free_ struct opt *all = merged_table(opts, nopts, cli, &n);
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        int rc = 0;
        if (a[0] == '-' && a[1] == '-')
            rc = parse_long_flag(all, n, argc, argv, &i, err);
        else if (a[0] == '-' && a[1])
            rc = parse_short_flags(all, n, argc, argv, &i, err);
        else if (interspersed)
            strv_push(args, a);
        else
            break;
        if (rc < 0)
            return -1;
    }
    for (; i < argc; i++)
        strv_push(args, argv[i]);
    return 0;
}

void print_usage(FILE *out, const char *usage, const char *summary, const struct opt *opts,
                 size_t nopts)
{
    fprintf(out, "\nUsage:  %s\n\n%s\n", usage, summary);
    if (!nopts)
        return;
    fprintf(out, "\nOptions:\n");
    for (size_t i = 0; i < nopts; i++) {
        const struct opt *o = &opts[i];
        if (o->kind == OPT_UNSUPPORTED || o->kind == OPT_UNSUPPORTED_BOOL)
            continue;
        char left[64];
        const char *type = o->kind == OPT_LIST ? " list" : o->kind == OPT_STRING ? " string" : "";
        if (o->shorthand)
            snprintf(left, sizeof(left), "  -%c, --%s%s", o->shorthand, o->name, type);
        else
            snprintf(left, sizeof(left), "      --%s%s", o->name, type);
        fprintf(out, "%-32s %s\n", left, o->help);
    }
}
