/* berth-oci's front end (launcher/oci/): the command line, and the hooks it runs. */
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

/* The hooks of kind listed in the container's description, in order, each given state (the
 * state JSON) on its stdin; in the namespaces of join_pid's container, or ours when 0. The
 * first that fails (exit status, signal, timeout) stops the rest. */
int oci_hooks_run(const struct oci_cli *cli, const char *kind, yajl_val description,
                  const char *state, pid_t join_pid, struct berr *err);
bool oci_has_hooks(yajl_val description, const char *kind);

#endif
