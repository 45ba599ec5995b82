/* berth-monitor: what run -d's monitor becomes once its container runs (runtime/reaper.c).
 * A program of its own so that each running container costs only this small address space. */
#include "runtime/runtime.h"

int main(int argc, char **argv)
{
    return runtime_monitor_main(argc, argv);
}
