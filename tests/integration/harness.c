/* harness — running berth, reading the probe, host-side checks. Images: harness_image.c. */
#include "harness.h"

#include "util/util.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* criterion runs each test in its own process and gives .init/.fini no argument: the test's
 * places live here, set by h_suite_init, for that one process. */
static struct {
    char *tmp, *runroot, *data_root, *probe;
} ctx;

/* ---- suite fixtures -------------------------------------------------------------------- */

void h_suite_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *skip = getenv("BERTH_IT_SKIP");
    if (skip)
        cr_skip_test("%s", skip);
    const char *data = getenv("BERTH_IT_DATA");
    cr_assert(data, "BERTH_IT_DATA unset: the PRE_ALL hook did not run");
    _cleanup_free_ char *err_path = xasprintf("%s/setup-error", data);
    _cleanup_free_ char *setup_err = h_read_file(err_path);
    cr_assert(!setup_err, "test image could not be built: %s", setup_err);

    char tmpl[] = "/tmp/berth-it.XXXXXX";
    cr_assert(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    ctx.tmp = xstrdup(tmpl);
    ctx.runroot = xasprintf("%s/run", tmpl);
    ctx.data_root = xasprintf("%s/root", data);
    ctx.probe = xstrdup(getenv("BERTH_IT_PROBE"));
}

/* Detached containers a test left running (a failed assertion skips its own cleanup) must not
 * outlive it: force-remove whatever the runroot still lists. */
static void remove_leftover_containers(void)
{
    _cleanup_free_ char *ids = h_state_entries("containers");
    if (!*ids)
        return;
    struct h_result r;
    struct h_opts o = {.timeout_s = 30};
    struct strv args = {0};
    strv_push(&args, "rm");
    strv_push(&args, "-f");
    char *save = NULL;
    for (char *id = strtok_r(ids, " ", &save); id; id = strtok_r(NULL, " ", &save))
        strv_push(&args, id);
    h_berthv(&r, &o, (const char *const *)args.v);
    strv_free(&args);
}

void h_suite_fini(void)
{
    if (!ctx.tmp)
        return;
    h_dockerd_stop();
    remove_leftover_containers();
    h_detach_mounts_under(ctx.tmp);
    h_remove_tree(ctx.tmp);
    free(ctx.tmp);
    ctx.tmp = NULL;
}

const char *h_tmp(void)
{
    return ctx.tmp;
}

const char *h_runroot(void)
{
    return ctx.runroot;
}

const char *h_data_root(void)
{
    return ctx.data_root;
}

const char *h_probe_bin(void)
{
    return ctx.probe;
}

char *h_beside_berth(const char *name)
{
    const char *berth = getenv("BERTH");
    return xasprintf("%.*s/%s", (int)(strrchr(berth, '/') - berth), berth, name);
}

char *h_path(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *rel = NULL;
    if (vasprintf(&rel, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *p = xasprintf("%s/%s", ctx.tmp, rel[0] == '/' ? rel + 1 : rel);
    free(rel);
    return p;
}

/* ---- spawning -------------------------------------------------------------------------- */

static char **spawn_env(const struct h_opts *o)
{
    struct strv env = {0};
    for (char **e = environ; e && *e; e++) {
        /* tests pass the roots as flags; a stray variable must not point at a real store */
        if (str_has_prefix(*e, "BERTH_ROOT=") || str_has_prefix(*e, "BERTH_RUNROOT="))
            continue;
        strv_push(&env, *e);
    }
    for (const char *const *e = o && o->env ? o->env : NULL; e && *e; e++)
        strv_set_env(&env, *e);
    if (!env.v)
        strv_push(&env, "PATH=/usr/bin:/bin");
    return env.v;
}

static void proc_failed(struct h_proc *p, const char *what, int errnum)
{
    p->pid = -errnum;
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errnum));
}

static void spawn(struct h_proc *p, const struct h_opts *o, const char *const *argv)
{
    *p = (struct h_proc){.pid = -1, .out_fd = -1, .err_fd = -1, .in_fd = -1};
    p->input = o ? o->input : NULL;
    p->timeout_s = o && o->timeout_s ? o->timeout_s : 60;
    int outp[2], errp[2], inp[2] = {-1, -1};
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        (p->input && pipe2(inp, O_CLOEXEC) < 0))
        return proc_failed(p, "pipe", errno);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (p->input)
        posix_spawn_file_actions_adddup2(&fa, inp[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, o && o->input_file ? o->input_file : "/dev/null",
                                         O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);

    /* berth gets 0-2 and, when a test asks, one more open fd as fd 3; criterion's own fds
     * stay out. */
    int extra = -1;
    if (o && o->inherit_fd > 2) {
        extra = fcntl(o->inherit_fd, F_DUPFD_CLOEXEC, 100);
        posix_spawn_file_actions_adddup2(&fa, extra, 3);
        posix_spawn_file_actions_addclosefrom_np(&fa, 4);
    } else {
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    }

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    char **env = spawn_env(o);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (extra >= 0)
        close(extra);
    close(outp[1]);
    close(errp[1]);
    if (inp[0] >= 0)
        close(inp[0]);
    p->out_fd = outp[0];
    p->err_fd = errp[0];
    p->in_fd = inp[1];
    if (rc != 0) {
        close(p->out_fd);
        close(p->err_fd);
        if (p->in_fd >= 0)
            close(p->in_fd);
        return proc_failed(p, argv[0], rc);
    }
    p->pid = pid;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    *buf = xrealloc(*buf, *len + n + 1);
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

double h_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void collect(struct h_proc *p, struct h_result *r)
{
    *r = (struct h_result){.status = -1, .out = xstrdup(""), .err = xstrdup("")};
    if (p->pid <= 0) {
        char *msg = xasprintf("harness: could not start: %s\n", strerror(-p->pid));
        append(&r->err, &r->err_len, msg, strlen(msg));
        free(msg);
        return;
    }
    if (p->in_fd >= 0) {
        /* inputs are small: one write, then EOF; EPIPE just means berth did not read */
        (void)!write(p->in_fd, p->input, strlen(p->input));
        close(p->in_fd);
        p->in_fd = -1;
    }
    double deadline = h_now_s() + p->timeout_s;
    bool out_open = true, err_open = true, timed_out = false;
    char buf[65536];
    while (out_open || err_open) {
        struct pollfd pfd[2] = {{.fd = out_open ? p->out_fd : -1, .events = POLLIN},
                                {.fd = err_open ? p->err_fd : -1, .events = POLLIN}};
        double left = deadline - h_now_s();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int n = poll(pfd, 2, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = read(pfd[i].fd, buf, sizeof(buf));
            if (got > 0 && i == 0)
                append(&r->out, &r->out_len, buf, (size_t)got);
            else if (got > 0)
                append(&r->err, &r->err_len, buf, (size_t)got);
            else if (got == 0 || errno != EINTR) {
                if (i == 0)
                    out_open = false;
                else
                    err_open = false;
            }
        }
    }
    int status = 0;
    while (!timed_out) {
        pid_t w = waitpid(p->pid, &status, WNOHANG);
        if (w == p->pid)
            break;
        if (h_now_s() > deadline)
            timed_out = true;
        else
            usleep(10000);
    }
    if (timed_out) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        char *msg = xasprintf("\n[harness: killed after %d s]\n", p->timeout_s);
        append(&r->err, &r->err_len, msg, strlen(msg));
        free(msg);
        r->status = -1;
    } else if (WIFEXITED(status)) {
        r->status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r->status = 128 + WTERMSIG(status);
    }
    close(p->out_fd);
    close(p->err_fd);
}

void h_execv(struct h_result *r, const struct h_opts *o, const char *const *argv)
{
    struct h_proc p;
    spawn(&p, o, argv);
    collect(&p, r);
}

static const char **berth_argv(const struct h_opts *o, const char *const *args)
{
    size_t n = 0;
    while (args[n])
        n++;
    const char **argv = xcalloc(n + 6, sizeof(char *));
    argv[0] = getenv("BERTH_IT_BERTH");
    argv[1] = "--root";
    argv[2] = o && o->root ? o->root : ctx.data_root;
    argv[3] = "--runroot";
    argv[4] = o && o->runroot ? o->runroot : ctx.runroot;
    for (size_t i = 0; i < n; i++)
        argv[5 + i] = args[i];
    return argv;
}

void h_berth_start(struct h_proc *p, const struct h_opts *o, const char *const *args)
{
    const char **argv = berth_argv(o, args);
    spawn(p, o, argv);
    free(argv);
}

void h_berth_finish(struct h_proc *p, struct h_result *r)
{
    collect(p, r);
}

int h_race_for_a_name(const char *const *args, int n, char winner[65])
{
    struct h_proc *p = xcalloc((size_t)n, sizeof(*p));
    for (int i = 0; i < n; i++)
        h_berth_start(&p[i], NULL, args);
    int won = 0;
    for (int i = 0; i < n; i++) {
        struct h_result r;
        h_berth_finish(&p[i], &r);
        if (r.status == 0) {
            won++;
            snprintf(winner, 65, "%.64s", r.out);
        } else {
            cr_expect(r.status == 125 && strstr(r.err, "already in use"), "run %d: exit %d: %s", i,
                      r.status, r.err);
        }
    }
    free(p);
    return won;
}

void h_berthv(struct h_result *r, const struct h_opts *o, const char *const *args)
{
    struct h_proc p;
    h_berth_start(&p, o, args);
    collect(&p, r);
}

void h_berth(struct h_result *r, const struct h_opts *o, ...)
{
    struct strv args = {0};
    va_list ap;
    va_start(ap, o);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        strv_push(&args, a);
    va_end(ap);
    if (!args.v)
        strv_push(&args, "--help");
    h_berthv(r, o, (const char *const *)args.v);
    strv_free(&args);
}

/* ---- probe output ---------------------------------------------------------------------- */

size_t h_get_all(const struct h_result *r, const char *key, char ***vals)
{
    struct strv out = {0};
    size_t klen = strlen(key);
    for (const char *line = r->out; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=')
            strv_push_owned(&out, strndup(line + klen + 1, len - klen - 1));
        line = end ? end + 1 : line + len;
    }
    *vals = out.v;
    return out.n;
}

char *h_get(const struct h_result *r, const char *key)
{
    char **vals;
    size_t n = h_get_all(r, key, &vals);
    char *v = n ? xstrdup(vals[0]) : NULL;
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
    return v;
}

const char *h_val(const struct h_result *r, const char *key)
{
    char *v = h_get(r, key);
    return v ? v : "(missing)";
}

char *h_env(const struct h_result *r, const char *name)
{
    char **vals;
    size_t n = h_get_all(r, "env", &vals);
    size_t len = strlen(name);
    char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (!found && strncmp(vals[i], name, len) == 0 && vals[i][len] == '=')
            found = xstrdup(vals[i] + len + 1);
    return found;
}

bool h_has_word(const char *list, const char *word)
{
    size_t len = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, " ,");
        if (n == len && strncmp(p, word, len) == 0)
            return true;
        p += n;
        p += strspn(p, " ,");
    }
    return false;
}

static bool all_in(const char *a, const char *b)
{
    char *copy = xstrdup(a), *save = NULL;
    bool ok = true;
    for (char *w = strtok_r(copy, " ", &save); w && ok; w = strtok_r(NULL, " ", &save))
        ok = h_has_word(b, w);
    free(copy);
    return ok;
}

bool h_same_set(const char *a, const char *b)
{
    return a && b && all_in(a, b) && all_in(b, a);
}

bool h_get_mount(const struct h_result *r, const char *path, struct h_mount *m)
{
    char *key = xasprintf("mount:%s", path);
    char *v = h_get(r, key);
    free(key);
    if (!v || strcmp(v, "none") == 0)
        return false;
    char *save = NULL;
    char *fstype = strtok_r(v, " ", &save);
    char *opts = strtok_r(NULL, " ", &save);
    char *super = strtok_r(NULL, " ", &save);
    m->fstype = fstype ? fstype : "";
    m->opts = opts ? opts : "";
    m->super = super ? super : "";
    return true;
}

void h_probe_masked_dir(struct strv *args, const char *dir, const char *name)
{
    strv_push(args, "ls");
    strv_push(args, dir);
    const char *writes[] = {"mkdir", "write"};
    for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
        strv_push(args, writes[i]);
        strv_push_owned(args, xasprintf("%s/%s", dir, name));
    }
}

void h_assert_masked_dir(const struct h_result *r, const char *dir, const char *name)
{
    _cleanup_free_ char *lk = xasprintf("ls:%s", dir);
    _cleanup_free_ char *mk = xasprintf("mkdir:%s/%s", dir, name);
    _cleanup_free_ char *wk = xasprintf("write:%s/%s", dir, name);
    h_assert_val(r, lk, "");
    h_assert_val(r, mk, "EROFS");
    h_assert_val(r, wk, "EROFS");
}

/* ---- host side ------------------------------------------------------------------------- */

char *h_host_ns(const char *name)
{
    char path[64], buf[128];
    snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

bool h_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

void h_mkdirs(const char *path, mode_t mode)
{
    struct berr err = {0};
    cr_assert(mkdir_p(path, mode, &err) == 0, "mkdir -p %s: %s", path, err.msg);
    chmod(path, mode);
}

void h_write_file(const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
    cr_assert(write_all(fd, content, strlen(content)) == 0, "write %s", path);
    close(fd);
    chmod(path, mode);
}

char *h_read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = xstrdup("");
    size_t len = 0;
    char chunk[8192];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        append(&buf, &len, chunk, (size_t)n);
    close(fd);
    return buf;
}

/* pid's argv, NUL-separated, in buf; its length, 0 when unreadable */
static size_t read_cmdline(pid_t pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return (size_t)n;
}

static bool has_arg(const char *buf, size_t n, const char *arg, bool substring)
{
    for (const char *a = buf; a < buf + n; a += strlen(a) + 1) {
        if (substring ? strstr(a, arg) != NULL : strcmp(a, arg) == 0)
            return true;
    }
    return false;
}

bool h_cmdline_has(pid_t pid, const char *arg, bool substring)
{
    char buf[8192];
    size_t n = read_cmdline(pid, buf, sizeof(buf));
    return has_arg(buf, n, arg, substring);
}

static bool cmdline_matches(pid_t pid, const char *argv0, const char *token)
{
    char buf[8192];
    size_t n = read_cmdline(pid, buf, sizeof(buf));
    return n && (!argv0 || strcmp(buf, argv0) == 0) && has_arg(buf, n, token, false);
}

pid_t h_process_matching(bool (*match)(pid_t pid, const void *arg), const void *arg)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while (d && (e = readdir(d)) && !found) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end == '\0' && pid > 0 && match((pid_t)pid, arg))
            found = (pid_t)pid;
    }
    if (d)
        closedir(d);
    return found;
}

/* pid, or a process above it, is ancestor: run -d's monitor (`berth __monitor FD`) and what
 * it clones name no container on their command line until berth-monitor does. */
static bool descends_from(pid_t pid, pid_t ancestor)
{
    for (int depth = 0; depth < 8 && pid > 1; depth++) {
        if (pid == ancestor)
            return true;
        if (!h_proc_stat(pid, NULL, &pid))
            return false;
    }
    return false;
}

struct stalled_want {
    char comm[16];
    pid_t started;
    const char *token;
};

static bool is_stalled(pid_t pid, const void *arg)
{
    const struct stalled_want *w = arg;
    _cleanup_free_ char *cpath = xasprintf("/proc/%d/comm", (int)pid);
    _cleanup_free_ char *comm = h_read_file(cpath);
    return comm && strcspn(comm, "\n") == strlen(w->comm) &&
           !strncmp(comm, w->comm, strlen(w->comm)) &&
           ((w->token && h_cmdline_has(pid, w->token, false)) ||
            (w->started > 0 && descends_from(pid, w->started)));
}

pid_t h_find_stalled(const char *point, pid_t started, const char *token)
{
    struct stalled_want w = {.started = started, .token = token};
    snprintf(w.comm, sizeof(w.comm), "stall-%s", point);
    double deadline = h_now_s() + 20;
    while (h_now_s() < deadline) {
        pid_t found = h_process_matching(is_stalled, &w);
        if (found)
            return found;
        usleep(20000);
    }
    cr_assert_fail("no process stalled at %s (token %s, below %d)", point, token ? token : "-",
                   (int)started);
    return 0;
}

struct cmdline_want {
    const char *argv0, *token;
};

static bool cmdline_wanted(pid_t pid, const void *arg)
{
    const struct cmdline_want *w = arg;
    return cmdline_matches(pid, w->argv0, w->token);
}

static pid_t process_now(const char *argv0, const char *token)
{
    return h_process_matching(cmdline_wanted, &(struct cmdline_want){argv0, token});
}

pid_t h_find_process(const char *argv0, const char *token, int timeout_s)
{
    double deadline = h_now_s() + timeout_s;
    while (h_now_s() < deadline) {
        pid_t found = process_now(argv0, token);
        if (found)
            return found;
        usleep(20000);
    }
    return 0;
}

bool h_process_gone(const char *argv0, const char *token, int timeout_s)
{
    double deadline = h_now_s() + timeout_s;
    while (process_now(argv0, token)) {
        if (h_now_s() >= deadline)
            return false;
        usleep(20000);
    }
    return true;
}

bool h_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_free_ char *stat = h_read_file(path);
    /* the command name, in parentheses, may hold spaces and parentheses: the last ')' ends it */
    const char *paren = stat ? strrchr(stat, ')') : NULL;
    char st = 0;
    int parent = 0;
    if (!paren || sscanf(paren + 1, " %c %d", &st, &parent) != 2)
        return false;
    if (state)
        *state = st;
    if (ppid)
        *ppid = (pid_t)parent;
    return true;
}

bool h_proc_running(pid_t pid)
{
    char st;
    return h_proc_stat(pid, &st, NULL) && st != 'Z' && st != 'X';
}

bool h_proc_exits_within(pid_t pid, int timeout_s)
{
    double deadline = h_now_s() + timeout_s;
    while (h_proc_running(pid) && h_now_s() < deadline)
        usleep(10 * 1000);
    return !h_proc_running(pid);
}

bool h_holds_fd_to(pid_t pid, const char *what)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    bool found = false;
    struct dirent *de;
    size_t n = strlen(what);
    while (d && !found && (de = readdir(d))) {
        char target[128] = "";
        found = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1) > 0 &&
                !strncmp(target, what, n) && (target[n] == '\0' || target[n] == ':');
    }
    if (d)
        closedir(d);
    return found;
}

/* ---- nothing left behind --------------------------------------------------------------- */

void h_own_mount_namespace(void)
{
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
}

void h_hide_libmnl(void)
{
    void *lib = dlopen("libmnl.so.0", RTLD_NOW);
    cr_assert_not_null(lib, "%s", dlerror());
    struct link_map *map = NULL;
    cr_assert_eq(dlinfo(lib, RTLD_DI_LINKMAP, &map), 0, "%s", dlerror());
    _cleanup_free_ char *file = realpath(map->l_name, NULL);
    cr_assert_not_null(file, "realpath %s: %s", map->l_name, strerror(errno));
    h_own_mount_namespace();
    cr_assert_eq(mount("/dev/null", file, NULL, MS_BIND, NULL), 0, "hide %s: %s", file,
                 strerror(errno));
}

void h_assert_no_monitor_left(void)
{
    cr_assert(h_process_gone(NULL, "__monitor", 5),
              "a monitor of the refused run is still running");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void snapshot_dir(int dirfd, const char *rel, char **buf, size_t *len)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    struct strv names = {0};
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            strv_push(&names, e->d_name);
    if (names.n)
        qsort(names.v, names.n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < names.n; i++) {
        struct stat st;
        if (fstatat(dirfd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        char *path = xasprintf("%s/%s", rel, names.v[i]);
        /* directory sizes vary with history, not content; mtimes catch added entries */
        char *line = xasprintf("%s %o %u:%u %lld %lld.%09ld\n", path, (unsigned)st.st_mode,
                               (unsigned)st.st_uid, (unsigned)st.st_gid,
                               S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size,
                               (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        append(buf, len, line, strlen(line));
        free(line);
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, names.v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                snapshot_dir(sub, path, buf, len);
        }
        free(path);
    }
    strv_free(&names);
    closedir(d);
}

char *h_tree_snapshot(const char *dir)
{
    char *buf = xstrdup("");
    size_t len = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return xasprintf("(%s: %s)\n", dir, strerror(errno));
    snapshot_dir(fd, "", &buf, &len);
    return buf;
}

char *h_layers_snapshot(void)
{
    _cleanup_free_ char *dir = xasprintf("%s/layers", ctx.data_root);
    return h_tree_snapshot(dir);
}

char *h_state_entries(const char *sub)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", ctx.runroot, sub);
    DIR *d = opendir(dir);
    char *out = xstrdup("");
    size_t len = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (len)
            append(&out, &len, " ", 1);
        append(&out, &len, e->d_name, strlen(e->d_name));
    }
    if (d)
        closedir(d);
    return out;
}

char *h_mounts_mentioning(const char *needle)
{
    _cleanup_free_ char *info = h_read_file("/proc/self/mountinfo");
    char *out = NULL;
    size_t len = 0;
    for (char *line = info, *end; line && *line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (strstr(line, needle)) {
            if (!out)
                out = xstrdup("");
            append(&out, &len, line, strlen(line));
            append(&out, &len, "\n", 1);
        }
        if (!end)
            break;
    }
    return out;
}

void h_assert_no_mounts_left(void)
{
    char *m = h_mounts_mentioning(ctx.tmp);
    cr_assert(!m, "host mounts left under the test's temp dir:\n%s", m);
    m = h_mounts_mentioning(ctx.data_root);
    cr_assert(!m, "host mounts left that use the data root:\n%s", m);
}

char *h_first_difference(const char *have, const char *want)
{
    const char *a = have, *b = want;
    while (*a && *a == *b) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        if (!na || !nb || na - a != nb - b || strncmp(a, b, (size_t)(na - a)) != 0)
            break;
        a = na + 1;
        b = nb + 1;
    }
    if (!*a && !*b)
        return NULL;
    return xasprintf("have: %.*s\nwant: %.*s", (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
}

void h_assert_nothing_left(const char *layers_before)
{
    h_assert_no_mounts_left();
    char *c = h_state_entries("containers");
    cr_assert_str_empty(c, "state left under %s/containers: %s", ctx.runroot, c);
    char *n = h_state_entries("names");
    cr_assert_str_empty(n, "names left under %s/names: %s", ctx.runroot, n);
    if (layers_before) {
        _cleanup_free_ char *now = h_layers_snapshot();
        _cleanup_free_ char *diff = h_first_difference(now, layers_before);
        cr_assert(!diff, "the data root's layers/ changed; first difference:\n%s", diff);
    }
}

/* ---- cleanup --------------------------------------------------------------------------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

void h_detach_mounts_under(const char *dir)
{
    size_t dlen = strlen(dir);
    for (int round = 0; round < 8; round++) {
        _cleanup_free_ char *info = h_read_file("/proc/self/mountinfo");
        struct strv points = {0};
        for (char *line = info, *end; line && *line; line = end + 1) {
            end = strchr(line, '\n');
            if (!end)
                break;
            *end = '\0';
            char *save = NULL, *f = strtok_r(line, " ", &save);
            for (int i = 0; f && i < 4; i++)
                f = strtok_r(NULL, " ", &save);
            if (!f)
                continue;
            unescape(f);
            if (strncmp(f, dir, dlen) == 0 && (f[dlen] == '/' || f[dlen] == '\0'))
                strv_push(&points, f);
        }
        if (!points.n)
            return;
        for (size_t i = points.n; i-- > 0;) /* later mounts sit on top */
            umount2(points.v[i], MNT_DETACH);
        strv_free(&points);
    }
}

void h_remove_tree(const char *dir)
{
    struct berr err = {0};
    if (remove_tree_at(AT_FDCWD, dir, &err) < 0)
        fprintf(stderr, "harness: remove %s: %s\n", dir, err.msg);
}

char *h_run_detached(const char *name, const char *const *probe_args)
{
    const char *args[24] = {"run", "-d", "--name", name, H_IMAGE, "/probe"};
    size_t n = 6;
    for (; probe_args && *probe_args; probe_args++)
        args[n++] = *probe_args;
    args[n] = NULL;
    struct h_result r;
    h_berthv(&r, NULL, args);
    h_assert_status(&r, 0);
    cr_assert_eq(r.out_len, 65, "run -d printed %zu bytes: %s", r.out_len, r.out);
    cr_assert_eq(r.out[64], '\n');
    cr_assert_eq(strspn(r.out, "0123456789abcdef"), 64, "not an id: %s", r.out);
    r.out[64] = '\0';
    return r.out;
}

ssize_t h_buf_write(struct archive *a, void *data, const void *buf, size_t n)
{
    (void)a;
    struct h_buf *w = data;
    w->p = xrealloc(w->p, w->len + n);
    memcpy(w->p + w->len, buf, n);
    w->len += n;
    return (ssize_t)n;
}

void h_collect(pid_t pid, int fd, int timeout_s, struct h_result *r)
{
    *r = (struct h_result){.err = xstrdup("")};
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    double deadline = h_now_s() + timeout_s;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int left = (int)((deadline - h_now_s()) * 1000);
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            break;
        if (len + 1024 > cap)
            buf = xrealloc(buf, cap *= 2);
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    int st = 0;
    if (h_now_s() >= deadline) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        r->status = -1;
    } else {
        waitpid(pid, &st, 0);
        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    r->out = buf;
    r->out_len = len;
}

char *h_last_line(const char *out)
{
    char *copy = xstrdup(out);
    size_t n = strlen(copy);
    while (n && strchr(" \n\t\r", copy[n - 1]))
        copy[--n] = '\0';
    char *nl = strrchr(copy, '\n');
    char *line = xstrdup(nl ? nl + 1 : copy);
    free(copy);
    return line;
}

void h_snapshot_without_mtimes(char *snap)
{
    char *w = snap;
    for (char *line = snap; *line;) {
        char *end = line + strcspn(line, "\n");
        char *last = end;
        while (last > line && last[-1] != ' ')
            last--;
        size_t keep = (size_t)(last - line);
        memmove(w, line, keep);
        w += keep;
        *w++ = '\n';
        line = *end ? end + 1 : end;
    }
    *w = '\0';
}
