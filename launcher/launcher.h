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
    bool needs_root;     /* the command works on the stores or runs containers */
    bool root_caller;    /* run by root itself */
    /* Set when a setuid launcher handed berth over (real uid 0, effective uid a user): the user
     * berth acts for, and its environment (caller.c). */
    struct ident *caller;
    struct strv caller_env;
    char *root, *runroot; /* the store paths in force, from cli_admit */
    /* run's defaults in force (flag > BERTH_* > berth.conf), from cli_admit; NULL: berth's
     * built-in ones (RUNTIME_CGROUP_PARENT, the builtin profile) */
    char *cgroup_parent, *seccomp_profile;
};

/* Before anything else: fds 0-2 open, and a caller handed over by a setuid launcher taken
 * (root back, its ids kept, signals, umask, limits and environment reset). */
int caller_take(struct cli *cli, struct berr *err);
/* Process state a less trusted caller leaves behind, for a root process: fds 0-2 opened on
 * /dev/null when closed; signal dispositions and mask back to the defaults, umask 022, resource
 * limits pid 1's (within the hard limits; only root can read pid 1's). */
void stdio_open_missing(void);
void process_state_reset(void);
void caller_free(struct cli *cli);
/* After a command's flags are parsed: whether it may go on (store flags from a handed-over
 * caller and non-root callers of root's commands are refused, once, with docker's exit code
 * in *code), with the store paths resolved. */
bool cli_admit(struct cli *cli, int *code);
/* Before a command that enters a container reads anything: re-execute berth from a read-only
 * clone of its binary (runtime_reexec_readonly), a handed-over caller replayed as it came. */
int cli_reexec_readonly(const struct cli *cli, struct berr *err);
/* berth.conf: $BERTH_CONF for a caller that is not handed over (tests point berth at their
 * own), else the one beside the binary (conf_berth_path). */
struct berth_conf;
int cli_conf(const struct cli *cli, struct berth_conf *out, struct berr *err);
/* Pull ref into the store as `berth pull` does, its lines on out (run prints them on stderr);
 * quiet prints nothing. Set by berth's main (NULL in the worker-launcher, which has no
 * registry client linked in). Returns 0 or -1 with err set. */
extern int (*cli_pull_hook)(struct cli *cli, const char *ref, bool quiet, FILE *out,
                            struct berr *err);
/* The caller's environment variable (for -e NAME). */
const char *cli_getenv(const struct cli *cli, const char *name);

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

/* Store paths in force (flag > environment > berth.conf > default for root). */
const char *cli_root(const struct cli *cli);
const char *cli_runroot(const struct cli *cli);

/* The common head of a command other than run: parse flags (interspersed), print --help or
 * the error. Returns true when the command should go on; otherwise *code is its exit code. */
bool parse_command(struct cli *cli, const char *usage, const char *summary, const struct opt *opts,
                   size_t nopts, int argc, char **argv, struct strv *args, int *code);

/* docker's "Error response from daemon: <msg>" for what the daemon would have refused. */
void report_daemon_error(const struct berr *err);
/* Store paths for the runtime. */
struct runtime_paths;
void cli_paths(const struct cli *cli, struct runtime_paths *out);

/* Print "berth: <msg>" (and the --help hint for usage errors) once, on stderr. */
void report_error(const struct cli *cli, const struct berr *err);

/* -e K=V, or a bare K taken from the caller's environment (left out when unset): docker's rule. */
void cli_env_add(const struct cli *cli, struct strv *env, const char *kv);
/* docker's --env-file, read as the caller: one K=V or K per line, blank lines and '#' comments
 * skipped. */
int cli_env_file_read(const struct cli *cli, const char *path, struct strv *env, struct berr *err);

/* `berth run`'s command line up to a validated spec, as cmd_run reads it (run's flag table,
 * the spec built and checked by runtime_spec_validate) but without --help and cli_admit, and
 * touching nothing on the host but the files the flags name (--env-file, a seccomp profile):
 * no image store, no container. *detach gets -d. For the fuzz target and tests; spec is the
 * caller's to free (runtime_spec_free) whatever the outcome. */
struct container_spec;
int run_spec_from_argv(struct cli *cli, int argc, char **argv, struct container_spec *spec,
                       bool *detach, struct berr *err);

/* The same for `berth create` (run's flags but -d). */
int create_spec_from_argv(struct cli *cli, int argc, char **argv, struct container_spec *spec,
                          struct berr *err);

/* The image of spec->image_ref from the data root cli->root, its layers and config into spec
 * (what cmd_run does once the spec is validated). */
int run_attach_image(struct cli *cli, struct container_spec *spec, struct berr *err);

/* One entry point per subcommand: return the process exit code. */
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_load(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_image_save(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);
int cmd_image(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_inspect(struct cli *cli, int argc, char **argv);
int cmd_image_inspect(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_join(struct cli *cli, int argc, char **argv);
/* berth invoked as nsenter or berth-nsenter: util-linux nsenter's argv */
int cmd_nsenter(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_seccomp(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);
/* cmd_pull's work, for cli_pull_hook */
int pull_image(struct cli *cli, const char *ref, bool quiet, FILE *out, struct berr *err);
int pull_image_platform(struct cli *cli, const char *ref, const char *platform, bool quiet,
                        FILE *out, struct berr *err);
/* The registry client's options for domain: berth.conf's registry keys, BERTH_* overrides, the
 * host platform, and (with_creds) the caller's docker credentials for domain. */
struct registry_opts;
int cli_registry_opts(struct cli *cli, const char *domain, bool with_creds, struct registry_opts *o,
                      struct berr *err);

#endif
