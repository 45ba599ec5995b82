/* profile-docker-container <wid> <cmdfile> and profile-oci-container <pid> <cmdfile>: Storm's
 * profiling through berth's join, no nsenter binary. The shell enters the container's mount
 * and pid namespaces as the <user> (its uid and primary gid, no other groups) and reads `umask
 * 0027; <profiler> <line>` on its stdin, as upstream feeds nsenter's shell; the profiler path is
 * resolved in the container. Exit 0 once the shell was started, whatever it did, as upstream. */
#include "launcher/worker-launcher/wl.h"
#include "runtime/runtime.h"

#include <limits.h>
#include <sched.h>
#include <string.h>

static const char *profiler_path(const struct wl *wl)
{
    const char *profiler = conf_get(&wl->cfg, "worker.profiler.script.path");
    if (!profiler)
        fprintf(stderr, "ATTENTION: worker.profiler.script.path is not set in the "
                        "configuration\n");
    return profiler;
}

/* the shell in container id (checked against its record), or without one in the container
 * whose init is pid */
static int profile_join(struct wl *wl, const char *id, pid_t pid, const char *cmdfile)
{
    const char *profiler = profiler_path(wl);
    if (!profiler)
        return WL_FAILED;
    struct runtime_paths paths = {.runroot = wl->runroot, .root = wl->root, .caller = &wl->user};
    struct berr err = {0};
    _cleanup_free_ char *line = NULL;
    int rc = wl_read_first_line(&wl->launcher, cmdfile, &line);
    if (rc)
        return rc;
    _cleanup_free_ char *script = xasprintf("umask 0027; %s %s\nexit\n", profiler, line);
    /* written whole before the shell reads it: a pipe holds PIPE_BUF at least, a longer line
     * would block the root process for ever */
    if (strlen(script) > PIPE_BUF) {
        fprintf(stderr, "The profiler command of %s is longer than %d bytes\n", cmdfile, PIPE_BUF);
        return WL_ERROR_READING_FILE;
    }
    int p[2];
    if (pipe(p) < 0)
        return WL_FAILED;
    if ((size_t)write(p[1], script, strlen(script)) != strlen(script)) {
        fprintf(stderr, "Could not hand the profiler command over: %m\n");
        close(p[0]), close(p[1]);
        return WL_FAILED;
    }
    close(p[1]);
    if (dup2(p[0], 0) < 0)
        return WL_FAILED;
    close(p[0]);
    struct join_spec s = {.container = id,
                          .target_pid = pid,
                          .namespaces = CLONE_NEWNS | CLONE_NEWPID,
                          .set_uid = true,
                          .set_gid = true,
                          .uid = wl->user.uid,
                          .gid = wl->user.gid,
                          /* the user gains nothing from a setuid file of the image */
                          .no_new_privs = true,
                          .program = "/bin/sh"};
    strv_push(&s.argv, "sh");
    printf("command is join --target %d --mount --pid --setuid %u --setgid %u /bin/sh\n", (int)pid,
           (unsigned)wl->user.uid, (unsigned)wl->user.gid);
    fflush(stdout);
    int status = 0;
    if (runtime_join(&paths, &s, &status, &err) < 0)
        fprintf(stderr, "%s\n", err.msg);
    strv_free(&s.argv);
    return 0;
}

int wl_profile_docker_container(struct wl *wl, const char *wid, const char *cmdfile)
{
    if (!profiler_path(wl))
        return WL_FAILED;
    struct runtime_paths paths = {.runroot = wl->runroot, .root = wl->root, .caller = &wl->user};
    struct berr err = {0};
    char id[65];
    struct container_info info = {0};
    printf("Inspecting docker container...\n");
    if (runtime_find(&paths, wid, id, &err) < 0 || runtime_inspect(&paths, id, &info, &err) < 0 ||
        info.pid <= 0) {
        fprintf(stderr, "%s\n", err.msg[0] ? err.msg : "the container is not running");
        container_info_free(&info);
        return WL_UNABLE_TO_EXECUTE_CONTAINER_SCRIPT;
    }
    printf("The pid of the container is %d.\n", (int)info.pid);
    pid_t pid = info.pid;
    container_info_free(&info);
    return profile_join(wl, id, pid, cmdfile);
}

/* upstream enters any pid it is given; here only the init of one of the <user>'s OCI
 * containers (run-oci-container's) */
int wl_profile_oci_container(struct wl *wl, const char *pid_arg, const char *cmdfile)
{
    long long pid = 0;
    if (parse_long(pid_arg, 1, INT32_MAX, &pid) < 0) {
        fprintf(stderr, "Invalid container pid %s\n", pid_arg);
        return WL_UNABLE_TO_EXECUTE_CONTAINER_SCRIPT;
    }
    struct runtime_paths paths = {.runroot = wl->runroot, .root = wl->root, .caller = &wl->user};
    if (!wl_oci_pid_is_init(&paths, (pid_t)pid)) {
        fprintf(stderr, "Process %lld is not the init of a container of %s\n", pid, wl->user_name);
        return WL_UNABLE_TO_EXECUTE_CONTAINER_SCRIPT;
    }
    return profile_join(wl, NULL, (pid_t)pid, cmdfile);
}
