/* berth-oci's init pid file: the init of a container that runs without a monitor, recorded by
 * create (bundle.c) as its pid and start time, and whether it still lives, which the store's
 * status (store.c) and berth-oci's state (bundle.c) both ask. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define INIT_PID_FILE "init.pid"

/* field 22 of /proc/<pid>/stat: when the process started, which a reused pid does not share */
static unsigned long long start_time(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_free_ char *text = NULL;
    struct berr ignored;
    if (read_file_at(AT_FDCWD, path, 4096, &text, NULL, &ignored) < 0)
        return 0;
    const char *p = strrchr(text, ')'); /* the command may hold spaces and parentheses */
    unsigned long long t = 0;
    for (int field = 2; p && *p && field < 22; p++)
        field += *p == ' ';
    if (p && sscanf(p, "%llu", &t) != 1)
        t = 0;
    return t;
}

static pid_t read_init_pid(int dirfd, unsigned long long *started)
{
    _cleanup_free_ char *text = NULL;
    struct berr ignored;
    int pid = 0;
    *started = 0;
    if (read_file_at(dirfd, INIT_PID_FILE, 64, &text, NULL, &ignored) < 0 ||
        sscanf(text, "%d %llu", &pid, started) != 2 || pid <= 0)
        return 0;
    return (pid_t)pid;
}

int oci_init_record(int dirfd, pid_t pid, struct berr *err)
{
    char buf[48];
    int len = snprintf(buf, sizeof(buf), "%d %llu", (int)pid, start_time(pid));
    return write_file_atomic_at(dirfd, INIT_PID_FILE, buf, (size_t)len, 0600, err);
}

bool oci_init_alive(int dirfd, pid_t *pid_out)
{
    unsigned long long started;
    pid_t pid = read_init_pid(dirfd, &started);
    bool alive = pid > 0 && started && start_time(pid) == started;
    /* a zombie is not running: its state is Z (field 3) */
    if (alive) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        _cleanup_free_ char *text = NULL;
        struct berr ignored;
        const char *p = read_file_at(AT_FDCWD, path, 4096, &text, NULL, &ignored) == 0
                            ? strrchr(text, ')')
                            : NULL;
        alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
    }
    if (pid_out)
        *pid_out = alive ? pid : 0;
    return alive;
}
