/* berth-oci's front end (launcher/oci/): the command line, its commands, and the hooks it runs. */
#ifndef BERTH_LAUNCHER_OCI_H
#define BERTH_LAUNCHER_OCI_H

#include "runtime/runtime.h"

#include <fcntl.h>
#include <stdio.h>

struct oci_cli {
    const char *root;
    const char *log;
    bool log_json;
    struct runtime_paths paths;
};

/* ---- what every command uses (cli.c) ---- */
/* err on stderr and in the --log file; the exit status 1. */
int oci_fail(const struct oci_cli *cli, const struct berr *err);
/* A usage error, fmt taking arg, as oci_fail reports it. */
int oci_usage_error(const struct oci_cli *cli, const char *fmt, const char *arg);
/* A line at level in the --log file, when there is one. */
void oci_log_line(const struct oci_cli *cli, const char *level, const char *msg);
/* g's JSON and a newline on out; g is freed. */
void oci_print_gen(yajl_gen g, FILE *out);
/* "--flag value", "--flag=value" or "-f value": the value, advancing *i; NULL when not flag. */
const char *oci_opt_value(int argc, char **argv, int *i, const char *longname,
                          const char *shortname);
bool oci_is_flag(const char *a, const char *longname, const char *shortname);
/* pid in the file at path, written atomically. */
int oci_write_pid_file(const char *path, pid_t pid, struct berr *err);
/* A connection to the console socket at path (a listening unix stream socket). */
int oci_connect_console(const char *path, struct berr *err);

/* ---- the commands, argv[0] being the command's name; the exit status (commands.c, exec.c) */
int oci_cmd_create(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_start(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_run(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_state(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_kill(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_delete(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_pause(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_resume(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_list(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_ps(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_exec(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_spec(const struct oci_cli *cli, int argc, char **argv);
int oci_cmd_features(const struct oci_cli *cli, int argc, char **argv);

/* ---- hooks (hooks.c) ---- */
/* The hooks of kind listed in the container's description, in order, each given state (the
 * state JSON) on its stdin; in the namespaces of join_pid's container, or ours when 0. The
 * first that fails (exit status, signal, timeout) stops the rest. */
int oci_hooks_run(const struct oci_cli *cli, const char *kind, yajl_val description,
                  const char *state, pid_t join_pid, struct berr *err);
bool oci_has_hooks(yajl_val description, const char *kind);

#endif
