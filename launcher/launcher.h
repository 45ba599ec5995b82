/* launcher — the `berth` front end: docker-style flag parsing, one file per subcommand, the
 * only place that prints errors and picks exit codes. Private to this folder. */
#ifndef BERTH_LAUNCHER_H
#define BERTH_LAUNCHER_H

#include "util/util.h"

enum opt_kind {
    OPT_BOOL,        /* --x, --x=true|false; never takes the next word */
    OPT_STRING,      /* --x v, --x=v; the last one wins */
    OPT_LIST,        /* repeatable, accumulates */
    OPT_UNSUPPORTED, /* a docker flag berth does not implement yet: refused, never ignored */
    OPT_UNSUPPORTED_BOOL,
};

struct opt {
    const char *name; /* long name, without "--" */
    char shorthand;   /* 0 when none */
    enum opt_kind kind;
    void *dest; /* bool *, char **, struct strv * */
    const char *help;
    bool *seen; /* optional: set when the flag appears */
};

/* Global options, accepted before or after the command name. */
struct global_opts {
    char *root;
    char *runroot;
    bool help;
};

struct cli {
    struct global_opts global;
    const char *command; /* "run", "images", ... */
};

/* Parse argv[0..argc) (argv[0] is the first word after the command name). Flags stop at the
 * first positional word when interspersed is false (run, exec), or at "--". Positional words
 * are collected in *args. Errors are pflag's texts, kind BERR_USAGE. */
int opts_parse(const struct opt *opts, size_t nopts, struct cli *cli, int argc, char **argv,
               bool interspersed, struct strv *args, struct berr *err);
/* Go's strconv.ParseBool. */
int parse_bool(const char *s, bool *out);

/* docker-style help: "Usage:  berth run [OPTIONS] ...", summary, the option table. */
void print_usage(FILE *out, const char *usage, const char *summary, const struct opt *opts,
                 size_t nopts);

/* Store paths with the flag > environment > default precedence. */
const char *cli_root(const struct cli *cli);
const char *cli_runroot(const struct cli *cli);

/* The common head of a command other than run: parse flags (interspersed), print --help or
 * the error. Returns true when the command should go on; otherwise *code is its exit code. */
bool parse_command(struct cli *cli, const char *usage, const char *summary, const struct opt *opts,
                   size_t nopts, int argc, char **argv, struct strv *args, int *code);

/* Print "berth: <msg>" (and the --help hint for usage errors) once, on stderr. */
void report_error(const struct cli *cli, const struct berr *err);

/* One entry point per subcommand: return the process exit code. */
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);

#endif
