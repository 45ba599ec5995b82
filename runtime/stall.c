/* BERTH_TEST_STALL=<point>: crash tests stop berth at a named step and kill it there. */
#include "internal.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* One getenv per point reached. Reading the variable once per process would save nothing: the
 * points lie in different processes (front end, monitor, init, berth-monitor, stop, rm) and each
 * reaches one or two of them. It would also be a value taken before launcher/caller.c cleans
 * the environment of a caller handed over by a setuid launcher; read here, after that, getenv
 * returns NULL for such a caller, so no user can stop a root process at one of these points.
 *
 * The stalled process renames itself "stall-<point>" (its comm, 15 bytes) so that a test finds
 * it among berth's processes, whose command lines all look alike before the monitor's exec. A
 * namespace's pid 1 ignores the SIGSTOP it sends itself (no handler can be installed for it),
 * so the container's init waits in pause() for the test's SIGKILL instead. */
void runtime_test_stall(const char *point)
{
    const char *v = getenv("BERTH_TEST_STALL");
    if (!v || strcmp(v, point) != 0)
        return;
    char comm[16];
    snprintf(comm, sizeof(comm), "stall-%s", point);
    prctl(PR_SET_NAME, comm, 0, 0, 0);
    raise(SIGSTOP);
    while (getpid() == 1)
        pause();
}
