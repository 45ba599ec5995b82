/* The runtime spec's hooks, run by berth-oci with the container's state JSON on their stdin:
 * prestart, createRuntime and poststart, poststop in berth-oci's namespaces; createContainer
 * and startContainer in the container's (entered as `berth join` enters them, from the init).
 * Each in a child of berth-oci, killed when its timeout passes. runtime/bundleconf.c checked their
 * form. */
#include "oci.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((noreturn)) void hook_child(const struct oci_cli *cli, yajl_val h, int in_fd,
                                                 pid_t join_pid)
{
    if (dup2(in_fd, 0) < 0)
        _exit(127);
    const char *path = json_get_str(h, "path");
    struct strv args = {0}, env = {0};
    json_get_strv(h, "args", &args);
    json_get_strv(h, "env", &env);
    if (args.n == 0)
        strv_push(&args, path);
    clearenv();
    for (size_t i = 0; i < env.n; i++)
        putenv(env.v[i]);
    if (!join_pid) {
        execv(path, args.v);
        fprintf(stderr, "berth-oci: hook %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    struct join_spec spec = {.target_pid = join_pid, .argv = args, .program = path};
    struct berr err = {0};
    int status = 0;
    if (runtime_join(&cli->paths, &spec, &status, &err) < 0) {
        fprintf(stderr, "berth-oci: hook %s: %s\n", path, err.msg);
        _exit(127);
    }
    _exit(status);
}

static int run_one(const struct oci_cli *cli, const char *kind, yajl_val h, const char *state,
                   pid_t join_pid, struct berr *err)
{
    const char *path = json_get_str(h, "path");
    yajl_val t = json_get(h, "timeout");
    /* poll takes an int of milliseconds: seconds times 1000 wrapped past 24 days */
    long long secs = t ? YAJL_GET_INTEGER(t) : -1;
    int timeout_ms = secs < 0 ? -1 : secs > INT_MAX / 1000 ? INT_MAX : (int)secs * 1000;
    /* a file, not a pipe: the state holds the bundle's annotations, which may be more than a
     * pipe's buffer, and a hook need not read it all (or at all) */
    _cleanup_close_ int in = memfd_create("hook-state", MFD_CLOEXEC);
    if (in < 0 || write_all(in, state, strlen(state)) < 0 || lseek(in, 0, SEEK_SET) < 0)
        return berr_errno(err, "hook %s: state", path);
    pid_t pid = fork();
    if (pid == 0)
        hook_child(cli, h, in, join_pid);
    if (pid < 0)
        return berr_errno(err, "fork");
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r = 0;
    do {
        r = pidfd >= 0 ? poll(&p, 1, timeout_ms) : 1;
    } while (r < 0 && errno == EINTR);
    if (pidfd >= 0)
        close(pidfd);
    if (r == 0)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return berr_set(err, BERR_FAILED, "%s hook %s: timed out after %lld s", kind, path,
                        (long long)YAJL_GET_INTEGER(t));
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        return berr_set(err, BERR_FAILED, "%s hook %s: %s %d", kind, path,
                        WIFEXITED(status) ? "exited with status" : "killed by signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

int oci_hooks_run(const struct oci_cli *cli, const char *kind, yajl_val description,
                  const char *state, pid_t join_pid, struct berr *err)
{
    yajl_val list = json_get(json_get(description, "hooks"), kind);
    for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
        if (run_one(cli, kind, list->u.array.values[i], state, join_pid, err) < 0)
            return -1;
    }
    return 0;
}

bool oci_has_hooks(yajl_val description, const char *kind)
{
    yajl_val list = json_get(json_get(description, "hooks"), kind);
    return YAJL_IS_ARRAY(list) && list->u.array.len > 0;
}
