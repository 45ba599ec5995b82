/* bench-timer: the clock of `make bench` (bench/bench.sh). Runs commands without a shell,
 * interleaved, and prints each timed run in ns of CLOCK_MONOTONIC.
 *
 *   bench-timer runs RUNS WARMUP SPECFILE
 *       One spec per line, fields separated by tabs: NAME MODE BEFORE TIMED AFTER.
 *       BEFORE, TIMED and AFTER are command lists: argv words separated by spaces, commands
 *       separated by a ';' word, '-' for none; "%i" in a word becomes the run's number
 *       (unique over the whole invocation). Each iteration runs every spec once, in turn,
 *       starting one further along each time (so no spec is always first); for each: BEFORE
 *       untimed, a wait for the machine to settle (settle()), TIMED timed, AFTER untimed.
 *       Prints "NAME<TAB>NS" per timed run.
 *       MODE: "exit"    from the first spawn to the return of the last timed command;
 *             "reap"    the same, then until every process those commands left behind has
 *                       exited (a child that is a subreaper spawns them and times it);
 *             "stamp:PATH" the return of the last timed command minus the CLOCK_MONOTONIC
 *                       ns that the container wrote to PATH ("bench-timer stamp") at exit.
 *   bench-timer many N CMD...
 *       Spawns N copies of CMD ("%i" = 0..N-1) at once, prints the ns until all returned.
 *   bench-timer stamp PATH MS
 *       Sleeps MS ms, writes CLOCK_MONOTONIC ns to PATH, exits (runs inside containers:
 *       built static).
 *
 * A command that exits non-zero stops the timer with exit status 1. Children get stdin and
 * stdout on /dev/null, the timer's stderr. Paths must be absolute (no PATH search). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXWORDS 256

struct cmdlist {
    char *words[MAXWORDS]; /* NULL-separated commands, ends with two NULLs */
};

struct spec {
    char *name, *mode;
    struct cmdlist before, timed, after;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench-timer: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static void parse_list(char *s, struct cmdlist *l)
{
    int n = 0;
    if (strcmp(s, "-") == 0) {
        l->words[0] = l->words[1] = NULL;
        return;
    }
    for (char *w = strtok(s, " "); w; w = strtok(NULL, " ")) {
        if (n >= MAXWORDS - 2) {
            errno = E2BIG;
            die("command list");
        }
        l->words[n++] = strcmp(w, ";") == 0 ? NULL : w;
    }
    l->words[n] = l->words[n + 1] = NULL;
}

/* substitute "%i" in w by num; the result lives until the next call with the same slot */
static char *subst(const char *w, long num, char *buf, size_t len)
{
    const char *p = strstr(w, "%i");
    if (!p)
        return (char *)w;
    snprintf(buf, len, "%.*s%ld%s", (int)(p - w), w, num, p + 2);
    return buf;
}

static posix_spawn_file_actions_t fa;

static pid_t spawn(char **words, long num)
{
    static char bufs[MAXWORDS][4096];
    char *argv[MAXWORDS];
    int n = 0;
    for (; words[n]; n++)
        argv[n] = subst(words[n], num, bufs[n], sizeof bufs[n]);
    argv[n] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    if (rc) {
        errno = rc;
        die(argv[0]);
    }
    return pid;
}

static void check_status(const char *name, char **words, int st)
{
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return;
    fprintf(stderr, "bench-timer: %s: %s ", name, words[0]);
    for (int i = 1; words[i]; i++)
        fprintf(stderr, "%s ", words[i]);
    if (WIFEXITED(st))
        fprintf(stderr, "exited %d\n", WEXITSTATUS(st));
    else
        fprintf(stderr, "killed by signal %d\n", WTERMSIG(st));
    exit(1);
}

/* runs each command of the list in turn, waiting for each */
static void run_list(const char *name, struct cmdlist *l, long num)
{
    for (char **c = l->words; *c; c += 1) {
        int st;
        pid_t pid = spawn(c, num);
        if (waitpid(pid, &st, 0) < 0)
            die("waitpid");
        check_status(name, c, st);
        while (*c)
            c++;
    }
}

static int64_t time_reap(struct spec *s, long num)
{
    int fds[2];
    if (pipe(fds) < 0)
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(fds[0]);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
            die("PR_SET_CHILD_SUBREAPER");
        int64_t t0 = now_ns();
        run_list(s->name, &s->timed, num);
        while (wait(NULL) >= 0 || errno == EINTR)
            ;
        int64_t d = now_ns() - t0;
        if (write(fds[1], &d, sizeof d) != sizeof d)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    int64_t d;
    ssize_t got = read(fds[0], &d, sizeof d);
    close(fds[0]);
    int st;
    if (waitpid(pid, &st, 0) < 0)
        die("waitpid");
    if (got != sizeof d || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        exit(1);
    return d;
}

static int64_t time_spec(struct spec *s, long num)
{
    if (strcmp(s->mode, "reap") == 0)
        return time_reap(s, num);
    int64_t t0 = now_ns();
    run_list(s->name, &s->timed, num);
    int64_t t1 = now_ns();
    if (strncmp(s->mode, "stamp:", 6) == 0) {
        char buf[4096];
        const char *path = subst(s->mode + 6, num, buf, sizeof buf);
        FILE *f = fopen(path, "r");
        long long stamp;
        if (!f || fscanf(f, "%lld", &stamp) != 1)
            die(path);
        fclose(f);
        return t1 - stamp;
    }
    if (strcmp(s->mode, "exit") != 0) {
        errno = EINVAL;
        die(s->mode);
    }
    return t1 - t0;
}

/* Idle time of all CPUs in us, from cpuidle's per-state counters; -1 without cpuidle. */
static int64_t idle_us(void)
{
    int64_t sum = 0;
    bool any = false;
    for (int cpu = 0; cpu < 1024; cpu++) {
        bool cpu_seen = false;
        for (int st = 0; st < 16; st++) {
            char path[96];
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/time", cpu,
                     st);
            FILE *f = fopen(path, "r");
            if (!f)
                break;
            long long t;
            if (fscanf(f, "%lld", &t) == 1)
                sum += t;
            fclose(f);
            cpu_seen = any = true;
        }
        if (!cpu_seen && cpu > 0)
            break;
    }
    return any ? sum : -1;
}

/* Before each timed run, the machine settles: the previous run's cleanup leaves work behind
 * (RCU callbacks, cgroups going offline, dockerd's and containerd's own), which would be
 * charged to whichever runtime comes next. Waits until all CPUs were >= 95 % idle over a
 * SETTLE_WINDOW_MS window, for at most SETTLE_MAX_MS; a fixed SETTLE_WINDOW_MS without
 * cpuidle. */
#define SETTLE_WINDOW_MS 5
#define SETTLE_MAX_MS 200
static void settle(void)
{
    static long ncpu;
    if (!ncpu)
        ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct timespec w = {0, SETTLE_WINDOW_MS * 1000000L};
    int64_t deadline = now_ns() + SETTLE_MAX_MS * 1000000LL;
    do {
        int64_t i0 = idle_us(), t0 = now_ns();
        nanosleep(&w, NULL);
        int64_t i1 = idle_us(), t1 = now_ns();
        if (i0 < 0 || i1 < 0)
            return;
        if ((i1 - i0) * 1000 * 100 >= (t1 - t0) * ncpu * 95)
            return;
    } while (now_ns() < deadline);
}

static int cmd_runs(long runs, long warmup, const char *file)
{
    static struct spec specs[64];
    static char lines[64][16384];
    int n = 0;
    FILE *f = fopen(file, "r");
    if (!f)
        die(file);
    while (n < 64 && fgets(lines[n], sizeof lines[n], f)) {
        char *l = lines[n], *field[5];
        l[strcspn(l, "\n")] = 0;
        if (!*l)
            continue;
        for (int i = 0; i < 5; i++) {
            field[i] = strsep(&l, "\t");
            if (!field[i]) {
                errno = EINVAL;
                die("spec line needs 5 tab-separated fields");
            }
        }
        specs[n].name = field[0];
        specs[n].mode = field[1];
        parse_list(field[2], &specs[n].before);
        parse_list(field[3], &specs[n].timed);
        parse_list(field[4], &specs[n].after);
        n++;
    }
    fclose(f);
    long num = 0;
    for (long it = 0; it < warmup + runs; it++) {
        for (int k = 0; k < n; k++) {
            struct spec *s = &specs[(it + k) % n];
            num++;
            run_list(s->name, &s->before, num);
            settle();
            int64_t d = time_spec(s, num);
            run_list(s->name, &s->after, num);
            if (it >= warmup)
                printf("%s\t%lld\n", s->name, (long long)d);
        }
    }
    return 0;
}

static int cmd_many(long n, char **cmd)
{
    pid_t *pids = calloc(n, sizeof *pids);
    if (!pids)
        die("calloc");
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        pids[i] = spawn(cmd, i);
    for (long i = 0; i < n; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) < 0)
            die("waitpid");
        check_status("many", cmd, st);
    }
    printf("%lld\n", (long long)(now_ns() - t0));
    free(pids);
    return 0;
}

static int cmd_stamp(const char *path, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    /* the file made first: creating it (~0.3 ms on this machine's ext4) is not the exit */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%lld\n", (long long)now_ns());
    if (fd < 0 || write(fd, buf, len) != len)
        die(path);
    /* the stamp is the last thing before exit: close and go */
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "runs") == 0) {
        if (posix_spawn_file_actions_init(&fa) ||
            posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
            posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0))
            die("posix_spawn_file_actions");
        setvbuf(stdout, NULL, _IOLBF, 0);
        return cmd_runs(atol(argv[2]), atol(argv[3]), argv[4]);
    }
    if (argc >= 4 && strcmp(argv[1], "many") == 0) {
        if (posix_spawn_file_actions_init(&fa) ||
            posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
            posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0))
            die("posix_spawn_file_actions");
        return cmd_many(atol(argv[2]), argv + 3);
    }
    if (argc == 4 && strcmp(argv[1], "stamp") == 0)
        return cmd_stamp(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: bench-timer runs RUNS WARMUP SPECFILE | many N CMD... | "
                    "stamp PATH MS\n");
    return 2;
}
