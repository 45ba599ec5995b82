/* berth load's progress bar, as docker's: drawn on stdout when stdout is a terminal (a pseudo-
 * terminal here), redrawn in place at most 10 times a second, left finished above the "Loaded
 * image" line, never wider than the terminal; absent with -q, when stdout is not a terminal,
 * and erased when the load fails. */
#include "harness.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LAYER_BYTES (24u << 20)
#define REF "it/tty:1"
#define LOADED "Loaded image: " REF

static void tar_add(struct archive *a, const char *name, const char *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    cr_assert_geq(archive_write_header(a, e), ARCHIVE_WARN, "%s", archive_error_string(a));
    cr_assert_eq(archive_write_data(a, data, len), (la_ssize_t)len);
    archive_entry_free(e);
}

static struct archive *tar_writer(struct h_buf *w)
{
    *w = (struct h_buf){0};
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    cr_assert_eq(archive_write_open(a, w, NULL, h_buf_write, NULL), ARCHIVE_OK);
    return a;
}

static void tar_close(struct archive *a)
{
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* A layer holding one file of incompressible bytes (xorshift), big enough for several redraws. */
static char *big_layer(size_t *len)
{
    char *data = xmalloc(LAYER_BYTES);
    unsigned long long x = 88172645463325252ULL;
    for (size_t i = 0; i < LAYER_BYTES; i += sizeof(x)) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(data + i, &x, sizeof(x));
    }
    struct h_buf w;
    struct archive *a = tar_writer(&w);
    tar_add(a, "big", data, LAYER_BYTES);
    tar_close(a);
    free(data);
    *len = w.len;
    return w.p;
}

/* A docker ≤ 24 save archive of REF with that layer, under the test's temp dir. With
 * bad_diff_id, the config lists a diff-id the layer does not have: the load fails after
 * reading it. */
static char *tty_archive(bool bad_diff_id)
{
    size_t llen;
    _cleanup_free_ char *layer = big_layer(&llen);
    char hex[65];
    sha256_hex(layer, llen, hex);
    if (bad_diff_id)
        memset(hex, 'a', 64);
    _cleanup_free_ char *config =
        xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
                  hex);
    char chex[65];
    sha256_hex(config, strlen(config), chex);
    _cleanup_free_ char *cname = xasprintf("%s.json", chex);
    _cleanup_free_ char *manifest = xasprintf(
        "[{\"Config\":\"%s\",\"RepoTags\":[\"" REF "\"],\"Layers\":[\"l/layer.tar\"]}]", cname);
    struct h_buf w;
    struct archive *a = tar_writer(&w);
    tar_add(a, "l/layer.tar", layer, llen);
    tar_add(a, cname, config, strlen(config));
    tar_add(a, "manifest.json", manifest, strlen(manifest));
    tar_close(a);
    char *path = h_path("tty-%d.tar", bad_diff_id);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0, "%s", path);
    cr_assert_eq(write_all(fd, w.p, w.len), 0);
    close(fd);
    free(w.p);
    return path;
}

struct tty_run {
    int status;
    char *tty;  /* what the terminal showed (stdout, and stderr unless piped) */
    char *pipe; /* stderr or stdout when put on a pipe instead */
    double secs;
};

enum piped { PIPE_NONE, PIPE_STDOUT, PIPE_STDERR };

/* false at the end (EOF, or EIO on a pty's master once the last slave fd is closed) */
static bool drain(int fd, struct h_buf *into)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0)
        return n < 0 && errno == EINTR;
    h_buf_write(NULL, into, buf, (size_t)n);
    return true;
}

static char *text_of(struct h_buf *w)
{
    h_buf_write(NULL, w, "", 1);
    return w->p;
}

/* Read the terminal's master side and the pipe until both end. */
static void collect(int master, int pfd, pid_t pid, struct tty_run *r)
{
    struct h_buf tty = {0}, pip = {0};
    struct pollfd fds[2] = {{.fd = master, .events = POLLIN}, {.fd = pfd, .events = POLLIN}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        int n = poll(fds, 2, 60000);
        cr_assert_gt(n, 0, "berth load hangs on a terminal");
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            if (!drain(fds[i].fd, i ? &pip : &tty))
                fds[i].fd = -1;
        }
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->tty = text_of(&tty);
    r->pipe = text_of(&pip);
}

/* berth --root R --runroot S load -i archive [-q] with its stdio on a fresh pseudo-terminal of
 * cols columns, except the stream named by piped. */
static void load_on_tty(const char *archive, bool quiet, unsigned short cols, enum piped piped,
                        struct tty_run *r)
{
    const char *berth = getenv("BERTH_IT_BERTH");
    cr_assert_not_null(berth, "BERTH_IT_BERTH unset: the PRE_ALL hook did not run");
    _cleanup_free_ char *root = h_path("root");
    const char *argv[] = {berth,  "--root", root,    "--runroot",         h_runroot(),
                          "load", "-i",     archive, quiet ? "-q" : NULL, NULL};
    struct winsize ws = {.ws_row = 40, .ws_col = cols};
    int master, slave, p[2];
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, &ws), 0, "openpty: %s", strerror(errno));
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        for (int fd = 0; fd <= 2; fd++)
            dup2((fd == 1 && piped == PIPE_STDOUT) || (fd == 2 && piped == PIPE_STDERR) ? p[1]
                                                                                        : slave,
                 fd);
        execv(berth, (char *const *)argv);
        _exit(127);
    }
    close(slave);
    close(p[1]);
    collect(master, p[0], pid, r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    close(master);
    close(p[0]);
}

static void tty_run_free(struct tty_run *r)
{
    free(r->tty);
    free(r->pipe);
}

/* The redraws: the pieces of out between carriage returns that hold a bar, erase sequences
 * removed. */
static size_t frames_of(const char *out, struct strv *frames)
{
    _cleanup_free_ char *copy = xstrdup(out);
    char *save = NULL;
    for (char *s = strtok_r(copy, "\r\n", &save); s; s = strtok_r(NULL, "\r\n", &save)) {
        char *k;
        while ((k = strstr(s, "\033[K")))
            memmove(k, k + 3, strlen(k + 3) + 1);
        if (str_has_prefix(s, "Loading layers") || str_has_prefix(s, "Reading archive"))
            strv_push(frames, s);
    }
    return frames->n;
}

/* "40.01MB" → bytes, as go-units writes them (decimal units); -1 when not a size. */
static double parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    static const char *units[] = {"B", "kB", "MB", "GB"};
    double mul = 1;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++, mul *= 1000) {
        if (str_has_prefix(end, units[i]))
            return v * mul;
    }
    return -1;
}

Test(load, tty_shows_a_bar_that_ends_full_above_the_loaded_line)
{
    _cleanup_free_ char *archive = tty_archive(false);
    struct tty_run r;
    load_on_tty(archive, false, 120, PIPE_NONE, &r);
    cr_assert_eq(r.status, 0, "berth load failed on a terminal:\n%s", r.tty);
    cr_assert(strstr(r.tty, "\rLoading layers ["), "no bar:\n%s", r.tty);
    cr_expect(str_has_prefix(r.tty + strlen(r.tty) - strlen(LOADED "\r\n"), LOADED "\r\n"),
              "does not end with the loaded line:\n%s", r.tty);
    _cleanup_strv_ struct strv frames = {0};
    cr_assert_gt(frames_of(r.tty, &frames), 0);
    /* the last redraw is the finished bar, docker's 50 cells: "[===…===>]  25.2MB/25.2MB" */
    const char *last = frames.v[frames.n - 1];
    cr_expect(strstr(last, "[==================================================>]"),
              "last redraw is not a full bar: %s", last);
    char done[32], total[32], rate[32];
    cr_assert_eq(sscanf(strchr(last, ']') + 1, " %31[^/]/%31s %31s", done, total, rate), 3, "%s",
                 last);
    cr_expect_str_eq(done, total, "finished bar shows %s of %s", done, total);
    double bytes = parse_size(total);
    cr_expect(bytes > LAYER_BYTES && bytes < LAYER_BYTES * 1.01, "total %s", total);
    /* the rate: bytes over the time the layers took, which is less than the whole run */
    cr_assert(str_has_prefix(rate + strlen(rate) - 2, "/s"), "no rate in %s", last);
    double per_s = parse_size(rate);
    cr_expect(per_s >= bytes / r.secs * 0.9, "rate %s, but %.0f bytes took %.3fs", rate, bytes,
              r.secs);
    tty_run_free(&r);
}

/* a load calls back per 256 kB: without a rate limit, ~100 redraws for this archive */
Test(load, tty_bar_redraws_at_most_ten_times_a_second)
{
    _cleanup_free_ char *archive = tty_archive(false);
    struct tty_run r;
    load_on_tty(archive, false, 120, PIPE_NONE, &r);
    cr_assert_eq(r.status, 0, "%s", r.tty);
    _cleanup_strv_ struct strv frames = {0};
    size_t n = frames_of(r.tty, &frames);
    /* first draw and the final one come on top of the timed ones */
    cr_expect_leq((double)n, r.secs * 10 + 2, "%zu redraws in %.3fs", n, r.secs);
    tty_run_free(&r);
}

/* a line as wide as the terminal wraps, and \r then redraws only its second half */
Test(load, tty_bar_fits_a_narrow_terminal)
{
    _cleanup_free_ char *archive = tty_archive(false);
    for (unsigned short cols = 30; cols <= 90; cols += 30) {
        struct tty_run r;
        load_on_tty(archive, false, cols, PIPE_NONE, &r);
        cr_assert_eq(r.status, 0, "%s", r.tty);
        _cleanup_strv_ struct strv frames = {0};
        cr_assert_gt(frames_of(r.tty, &frames), 0, "no bar at %u columns:\n%s", cols, r.tty);
        for (size_t i = 0; i < frames.n; i++)
            cr_expect_lt(strlen(frames.v[i]), cols, "%zu-char line on %u columns: %s",
                         strlen(frames.v[i]), cols, frames.v[i]);
        tty_run_free(&r);
        _cleanup_free_ char *root = h_path("root");
        h_remove_tree(root);
    }
}

Test(load, tty_with_quiet_prints_only_the_loaded_line)
{
    _cleanup_free_ char *archive = tty_archive(false);
    struct tty_run r;
    load_on_tty(archive, true, 120, PIPE_NONE, &r);
    cr_assert_eq(r.status, 0, "%s", r.tty);
    cr_expect_str_eq(r.tty, LOADED "\r\n");
    tty_run_free(&r);
}

Test(load, without_a_terminal_prints_only_the_loaded_line)
{
    _cleanup_free_ char *archive = tty_archive(false);
    struct h_result r;
    _cleanup_free_ char *root = h_path("root");
    struct h_opts o = {.root = root};
    h_berth(&r, &o, "load", "-i", archive, NULL);
    h_assert_status(&r, 0);
    cr_expect_str_eq(r.out, LOADED "\n");
    cr_expect_str_eq(r.err, "");
}

/* as docker's CLI: the bar belongs to stdout, so `berth load | cat` shows none, even with
 * stderr on the terminal */
Test(load, stdout_on_a_pipe_shows_no_bar_on_the_terminal)
{
    _cleanup_free_ char *archive = tty_archive(false);
    struct tty_run r;
    load_on_tty(archive, false, 120, PIPE_STDOUT, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.tty, r.pipe);
    cr_expect_str_eq(r.pipe, LOADED "\n");
    cr_expect_str_eq(r.tty, "");
    tty_run_free(&r);
}

/* a failed load erases its bar: the terminal is left with the error alone */
Test(load, tty_bar_is_erased_when_the_load_fails)
{
    _cleanup_free_ char *archive = tty_archive(true);
    struct tty_run r;
    load_on_tty(archive, false, 120, PIPE_STDERR, &r);
    cr_assert_eq(r.status, 1, "%s", r.tty);
    cr_expect(strstr(r.pipe, "diff"), "error does not name the diff-id: %s", r.pipe);
    cr_assert(strstr(r.tty, "Loading layers"), "no bar before the failure:\n%s", r.tty);
    cr_expect(str_has_prefix(r.tty + strlen(r.tty) - 4, "\r\033[K"), "bar left on screen:\n%s",
              r.tty);
    cr_expect_null(strstr(r.tty, "Loaded image"));
    tty_run_free(&r);
}
