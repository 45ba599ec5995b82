/* berth-monitor, the small program that keeps a started container: what of berth's
 * environment it gets, and the exec that hands it the container (open_berth_program finds
 * it). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void monitor_env_make(struct monitor_env *e)
{
    const char *debug = getenv("BERTH_DEBUG");
    const char *stall = getenv("BERTH_TEST_STALL");
    snprintf(e->debug, sizeof(e->debug), "BERTH_DEBUG=%s", debug ? debug : "");
    snprintf(e->stall, sizeof(e->stall), "BERTH_TEST_STALL=%s", stall ? stall : "");
    snprintf(e->trace, sizeof(e->trace), "BERTH_TRACE=");
    snprintf(e->trace_fd, sizeof(e->trace_fd), "BERTH_TRACE_FD=");
    if (trace_enabled()) {
        fcntl(trace_fd(), F_SETFD, 0);
        snprintf(e->trace, sizeof(e->trace), "BERTH_TRACE=1");
        snprintf(e->trace_fd, sizeof(e->trace_fd), "BERTH_TRACE_FD=%d", trace_fd());
    }
    char *v[] = {e->debug, e->stall, e->trace, e->trace_fd, NULL};
    memcpy(e->envp, v, sizeof(v));
}

/* fds and the held namespaces cross berth-monitor's exec, and only they (cross); after a failed
 * exec, they are close-on-exec again. */
static void let_cross_exec(const int *fds, size_t n, const int held[HELD_NS], bool cross)
{
    for (size_t i = 0; i < n + HELD_NS; i++) {
        int fd = i < n ? fds[i] : held[i - n];
        if (fd >= 0)
            fcntl(fd, F_SETFD, cross ? 0 : FD_CLOEXEC);
    }
}

void exec_monitor_program(struct container *c, bool remove, int out, int err_fd)
{
    /* Its fresh, small address space is what each running container costs for as long as it
     * runs; staying in the starting program keeps every page its start-up dirtied. */
    int prog = open_berth_program("berth-monitor", NULL);
    if (prog < 0) {
        debugf("no usable berth-monitor beside berth or in " BERTH_LIBEXECDIR
               ": monitoring in place");
        return;
    }
    const int fds[] = {c->runrootfd, c->dirfd, c->lockfd, out, err_fd};
    char nums[ARRAY_SIZE(fds)][16], held[HELD_NS_ARG_MAX];
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        snprintf(nums[i], sizeof(nums[i]), "%d", fds[i]);
    held_ns_format(c->held_ns, held);
    let_cross_exec(fds, ARRAY_SIZE(fds), c->held_ns, true);
    char pid[16], started[40];
    snprintf(pid, sizeof(pid), "%d", (int)c->st.pid);
    format_rfc3339(&c->st.started, started);
    char *argv[] = {"berth-monitor",
                    nums[0],
                    nums[1],
                    nums[2],
                    nums[3],
                    nums[4],
                    held,
                    pid,
                    c->st.id,
                    c->name,
                    started,
                    remove ? "1" : "0",
                    (char *)c->cgroup_parent,
                    (char *)c->cgroup_name,
                    NULL};
    struct monitor_env e;
    monitor_env_make(&e);
    trace_phase("exec-berth-monitor");
    fexecve(prog, argv, e.envp);
    debugf("exec berth-monitor: %s: monitoring in place", strerror(errno));
    let_cross_exec(fds, ARRAY_SIZE(fds), c->held_ns, false);
    if (trace_enabled())
        fcntl(trace_fd(), F_SETFD, FD_CLOEXEC);
    close(prog);
}
