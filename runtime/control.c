/* wait, stop, kill and rm: from any process, through the state store and a pidfd of pid 1. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>

#define KILL_WAIT_MS 10000

/* Until the monitor is done. With exit_code: *recorded says whether the monitor recorded the
 * exit, *exit_code is it (state.json alone: reading the whole container back, config.json too,
 * was a good part of `wait`'s wake-up). */
static int wait_monitor_done_at(const struct runtime_paths *paths, const char *id, bool *recorded,
                                int *exit_code, struct berr *err)
{
    _cleanup_(container_handle_close) struct container_handle h;
    if (container_handle_open(paths, id, &h, err) < 0 || lock_wait(h.lock, LOCK_SH, err) < 0)
        return -1;
    flock(h.lock, LOCK_UN);
    trace_phase("woken");
    struct container_state st = {0};
    _cleanup_free_ char *error = NULL;
    struct berr ignored = {0};
    *recorded =
        exit_code && state_read(h.dir, &st, &error, &ignored) == 0 && st.status == STATUS_EXITED;
    if (*recorded)
        *exit_code = st.exit_code;
    if (exit_code) {
        trace_phase("exit-read");
        trace_relay(h.dir, EXIT_TRACE_FILE);
    }
    return 0;
}

static int wait_monitor_done(const struct runtime_paths *paths, const char *id, struct berr *err)
{
    bool recorded;
    return wait_monitor_done_at(paths, id, &recorded, NULL, err);
}

int runtime_wait(const struct runtime_paths *paths, const char *id, int *exit_code,
                 struct berr *err)
{
    bool recorded = false;
    if (wait_monitor_done_at(paths, id, &recorded, exit_code, err) < 0)
        return -1;
    if (recorded)
        return 0;
    /* no exit on record (a monitor that died first): what inspect makes of it */
    struct container_info info;
    if (runtime_inspect(paths, id, &info, err) < 0)
        return -1;
    *exit_code = info.exit_code;
    container_info_free(&info);
    return 0;
}

int container_open_pid1(const struct runtime_paths *paths, const char *id,
                        struct container_info *info, struct berr *err)
{
    struct container_info local;
    struct container_info *in = info ? info : &local;
    if (runtime_inspect(paths, id, in, err) < 0)
        return -1;
    pid_t pid = in->pid;
    bool running = in->running && pid > 0;
    if (!info)
        container_info_free(&local);
    if (!running)
        return berr_set(err, BERR_NOT_RUNNING, "Container %s is not running", id);
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno == ESRCH)
        return berr_set(err, BERR_NOT_RUNNING, "Container %s is not running", id);
    if (fd < 0)
        return berr_errno(err, "open pid %d", (int)pid);
    struct container_info again;
    if (runtime_inspect(paths, id, &again, err) < 0) {
        close(fd);
        return -1;
    }
    running = again.running && again.pid == pid;
    container_info_free(&again);
    if (!running) {
        close(fd);
        return berr_set(err, BERR_NOT_RUNNING, "Container %s is not running", id);
    }
    return fd;
}

static bool exited_within(int pidfd, int timeout_ms)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

static int send_signal(int pidfd, int sig, struct berr *err)
{
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
        return berr_errno(err, "send signal %d", sig);
    return 0;
}

int runtime_kill(const struct runtime_paths *paths, const char *id, int sig, struct berr *err)
{
    _cleanup_close_ int pidfd = container_open_pid1(paths, id, NULL, err);
    if (pidfd < 0)
        return -1;
    if (send_signal(pidfd, sig, err) < 0)
        return -1;
    if (sig != SIGKILL)
        return 0;
    if (!exited_within(pidfd, KILL_WAIT_MS))
        return berr_set(err, BERR_FAILED, "container %.12s did not exit after SIGKILL", id);
    if (wait_monitor_done(paths, id, err) < 0)
        return -1;
    runtime_test_stall("killed"); /* rm -f: between the kill and the removal */
    return 0;
}

int runtime_stop(const struct runtime_paths *paths, const char *id, int sig, int timeout_s,
                 struct berr *err)
{
    _cleanup_close_ int pidfd = container_open_pid1(paths, id, NULL, err);
    if (pidfd < 0)
        return err->kind == BERR_NOT_RUNNING ? 0 : -1;
    if (send_signal(pidfd, sig, err) < 0)
        return -1;
    runtime_test_stall("stop");
    /* pid 1 ignores signals it has no handler for: SIGKILL after the grace period */
    if (!exited_within(pidfd, timeout_s < 0 ? -1 : timeout_s * 1000)) {
        if (send_signal(pidfd, SIGKILL, err) < 0)
            return -1;
        if (!exited_within(pidfd, KILL_WAIT_MS))
            return berr_set(err, BERR_FAILED, "container %.12s did not exit after SIGKILL", id);
    }
    return wait_monitor_done(paths, id, err);
}

/* the cgroups config.json's cgroupsPath names, for the container directory dirfd */
static int cgroups_at(int dirfd, const char *id, struct cgroup_set **out, struct berr *err)
{
    _cleanup_free_ char *parent = NULL, *name = NULL;
    if (oci_cgroups_read_at(dirfd, &parent, &name, err) < 0)
        return berr_wrap(err, "container %.12s", id);
    return cgroup_open(parent, name, out, err);
}

int runtime_container_cgroups(const struct runtime_paths *paths, const char *id,
                              struct cgroup_set **out, struct berr *err)
{
    _cleanup_(container_handle_close) struct container_handle h;
    if (container_handle_open(paths, id, &h, err) < 0)
        return -1;
    return cgroups_at(h.dir, id, out, err);
}

int runtime_remove(const struct runtime_paths *paths, const char *id, bool force, struct berr *err)
{
    struct container_info info;
    if (runtime_inspect(paths, id, &info, err) < 0)
        return -1;
    bool running = info.running;
    _cleanup_free_ char *name = xstrdup(info.name);
    container_info_free(&info);
    if (running && !force)
        return berr_set(err, BERR_CONFLICT,
                        "You cannot remove a running container %s. Stop the container before "
                        "attempting removal or force remove",
                        id);
    if (running && runtime_kill(paths, id, SIGKILL, err) < 0 && err->kind != BERR_NOT_RUNNING)
        return -1;
    _cleanup_(container_handle_close) struct container_handle h;
    /* the monitor records the exit and cleans up before it lets go of the lock, and of the
     * mounts lock once the mounts are gone */
    if (container_handle_open(paths, id, &h, err) < 0 || lock_wait(h.lock, LOCK_EX, err) < 0 ||
        mounts_lock_wait(h.lock, err) < 0)
        return -1;
    /* a monitor killed before its cleanup leaves the cgroups: rm -f takes them too */
    struct cgroup_set *cg = NULL;
    struct berr cg_err = {0};
    if (cgroups_at(h.dir, id, &cg, &cg_err) < 0)
        debugf("remove container %.12s: no cgroups: %s", id, cg_err.msg);
    else if (cgroup_destroy(cg, err) < 0)
        return berr_wrap(err, "remove container %.12s", id);
    return container_dir_remove(h.root, id, name, err);
}
