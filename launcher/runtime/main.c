/* berth-runtime: the monitor that starts a container on the host's network, and the
 * container's init until its execve (runtime/monitor.c picks it). A program of its own so that
 * each such start skips what berth's own exec costs: the dynamic loader, and most of the image
 * store's libraries with their start-up probes. */
#include "runtime/runtime.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], RUNTIME_MONITOR_COMMAND))
        return runtime_monitor_serve(argc, argv);
    fprintf(stderr, RUNTIME_PROGRAM ": berth's own, started by berth run: not a command\n");
    return 125;
}
