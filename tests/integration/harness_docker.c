/* A dockerd of the test's own (Debian's docker.io) for comparing with docker: its data root,
 * exec root, socket and pid file under the test's temporary dir, in a private mount namespace
 * (its overlay and shm mounts never reach the host's table), no iptables, no bridge, the
 * cgroupfs driver under a cgroup parent of the test's own, removed after it. It never pulls:
 * images come from `docker load`. Stopped by its pid when the test ends, failed or not
 * (h_suite_fini). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DOCKERD "/usr/sbin/dockerd"
#define DOCKER "/usr/bin/docker"

static pid_t dockerd_pid = -1;
static char *dockerd_dir;
static char *docker_env[2];

bool h_dockerd_available(void)
{
    return access(DOCKERD, X_OK) == 0 && access(DOCKER, X_OK) == 0;
}

void h_dockerd_start(void)
{
    cr_assert(dockerd_pid < 0, "one dockerd per test");
    h_cgroup_parent_init("berth-it-docker");
    dockerd_dir = h_path("dockerd");
    h_mkdirs(dockerd_dir, 0700);
    _cleanup_free_ char *conf = xasprintf("%s/daemon.json", dockerd_dir);
    h_write_file(conf, "{}\n", 0600); /* the host's /etc/docker/daemon.json is not read */
    _cleanup_free_ char *data = xasprintf("--data-root=%s/data", dockerd_dir);
    _cleanup_free_ char *exec = xasprintf("--exec-root=%s/exec", dockerd_dir);
    _cleanup_free_ char *host = xasprintf("unix://%s/docker.sock", dockerd_dir);
    _cleanup_free_ char *pidfile = xasprintf("--pidfile=%s/docker.pid", dockerd_dir);
    _cleanup_free_ char *config = xasprintf("--config-file=%s", conf);
    _cleanup_free_ char *cgparent = xasprintf("--cgroup-parent=%s", h_cgroup_parent());
    _cleanup_free_ char *log = xasprintf("%s/dockerd.log", dockerd_dir);
    docker_env[0] = xasprintf("DOCKER_CONFIG=%s/client", dockerd_dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        int nul = open("/dev/null", O_RDONLY);
        if (nul < 0 || dup2(nul, 0) < 0)
            _exit(127);
        closefrom(3);
        execl("/usr/bin/unshare", "unshare", "--mount", "--propagation", "private", DOCKERD, data,
              exec, "-H", host, pidfile, config, cgparent,
              "--exec-opt=native.cgroupdriver=cgroupfs", "--iptables=false", "--ip6tables=false",
              "--bridge=none", "--storage-driver=overlay2", (char *)NULL);
        _exit(127);
    }
    dockerd_pid = pid;
    for (int i = 0; i < 300; i++) {
        struct h_result r;
        h_docker(&r, "version", "--format", "{{.Server.Version}}", NULL);
        if (r.status == 0)
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            dockerd_pid = -1;
            _cleanup_free_ char *text = h_read_file(log);
            cr_assert_fail("dockerd exited (status %d): %s", st, text ? text : "");
        }
        usleep(100000);
    }
    _cleanup_free_ char *text = h_read_file(log);
    cr_assert_fail("dockerd did not answer in 30 s: %s", text ? text : "");
}

void h_docker(struct h_result *r, ...)
{
    const char *argv[32] = {DOCKER, "-H", NULL};
    _cleanup_free_ char *host = xasprintf("unix://%s/docker.sock", dockerd_dir);
    argv[2] = host;
    size_t n = 3;
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *)) && n < 31;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    struct h_opts o = {.env = (const char *const *)docker_env, .timeout_s = 120};
    h_execv(r, &o, argv);
}

void h_dockerd_stop(void)
{
    if (dockerd_pid < 0)
        return;
    kill(dockerd_pid, SIGTERM);
    int st;
    bool gone = false;
    for (int i = 0; i < 300 && !gone; i++) {
        gone = waitpid(dockerd_pid, &st, WNOHANG) == dockerd_pid;
        if (!gone)
            usleep(100000);
    }
    /* containerd and any shim are in dockerd's process group */
    kill(-dockerd_pid, SIGKILL);
    if (!gone)
        waitpid(dockerd_pid, &st, 0);
    dockerd_pid = -1;
    h_cgroup_parent_fini();
    free(docker_env[0]);
    docker_env[0] = NULL;
    free(dockerd_dir);
    dockerd_dir = NULL;
}
