/* berth load: docker's `load [-i FILE] [-q]`. The progress bar goes to stdout when it is a
 * terminal and -q is not given (docker's CLI sets quiet itself when stdout is not a terminal);
 * the "Loaded image" lines are printed either way. */
#include "image/image.h"
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#define BAR_MAX 50            /* docker's width */
#define BAR_MIN 10            /* narrower than this, the numbers alone */
#define REDRAW_NS 100000000LL /* at most 10 redraws a second: a load calls back per 256 kB */

/* One line redrawn in place. The rate is per phase (spooling a stream, then reading the
 * layers), so the time spent spooling does not drag down the layers' rate. */
struct bar {
    struct timespec phase_start, last;
    unsigned long long done, total;
    bool drawn;
};

static long long ns_between(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

/* Asked at every redraw, so a resized terminal gets a fitting line; 80 when unknown. */
static size_t terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
        return 80;
    return ws.ws_col;
}

/* docker's box: "[====>    ]", width+1 cells inside, the '>' at the filled end. */
static void format_box(char *out, size_t width, unsigned long long done, unsigned long long total)
{
    size_t fill = (size_t)((double)width * (double)(done > total ? total : done) / (double)total);
    out[0] = '[';
    for (size_t i = 0; i <= width; i++)
        out[i + 1] = i < fill ? '=' : i == fill ? '>' : ' ';
    out[width + 2] = ']';
    out[width + 3] = '\0';
}

/* The line, shorter than cols so that it never wraps (a wrapped line is redrawn as two). */
static void format_line(const struct bar *b, const struct timespec *now, size_t cols, char *out,
                        size_t outlen)
{
    double secs = (double)ns_between(&b->phase_start, now) / 1e9;
    char sdone[32], stotal[32], rate[32], tail[128];
    human_size((double)b->done, sdone, sizeof(sdone));
    human_size((double)b->done / (secs > 0.001 ? secs : 0.001), rate, sizeof(rate));
    if (b->total) {
        human_size((double)b->total, stotal, sizeof(stotal));
        snprintf(tail, sizeof(tail), "%8s/%s  %s/s", sdone, stotal, rate);
    } else {
        snprintf(tail, sizeof(tail), "%8s  %s/s", sdone, rate);
    }
    const char *label = b->total ? "Loading layers" : "Reading archive";
    size_t fixed = strlen(label) + strlen(" [>] ") + strlen(tail);
    size_t room = cols > fixed + 1 ? cols - 1 - fixed : 0;
    size_t width = room < BAR_MAX ? room : BAR_MAX;
    char box[BAR_MAX + 4];
    if (b->total && width >= BAR_MIN) {
        format_box(box, width, b->done, b->total);
        snprintf(out, outlen, "%s %s %s", label, box, tail);
    } else {
        snprintf(out, outlen, "%s %s", label, tail);
    }
    if (cols > 1 && strlen(out) >= cols)
        out[cols - 1] = '\0';
}

static void draw(struct bar *b, bool force)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!force && b->drawn && ns_between(&b->last, &now) < REDRAW_NS)
        return;
    b->last = now;
    b->drawn = true;
    char line[512];
    format_line(b, &now, terminal_width(), line, sizeof(line));
    /* one write per redraw, the old tail erased after the new text: no flicker */
    printf("\r%s\033[K", line);
    fflush(stdout);
}

static void on_progress(void *ctx, unsigned long long done, unsigned long long total)
{
    struct bar *b = ctx;
    bool new_phase = !b->drawn || total != b->total || done < b->done;
    if (new_phase)
        clock_gettime(CLOCK_MONOTONIC, &b->phase_start);
    b->done = done;
    b->total = total;
    draw(b, new_phase);
}

/* After the load: the finished bar stays (as docker's does) above the "Loaded image" lines; a
 * failed load's bar is erased so that only the error is left. */
static void finish_bar(struct bar *b, bool ok)
{
    if (!b->drawn)
        return;
    if (ok) {
        draw(b, true);
        printf("\n");
    } else {
        printf("\r\033[K");
    }
    fflush(stdout);
}

int cmd_load(struct cli *cli, int argc, char **argv)
{
    char *input = NULL;
    bool quiet = false;
    const struct opt opts[] = {
        {"input", 'i', OPT_STRING, &input, "Read from tar archive file, instead of STDIN", NULL},
        {"quiet", 'q', OPT_BOOL, &quiet, "Suppress the load output", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    /* declared before the first goto out: a cleanup variable jumped over is cleaned up all the
     * same, from whatever its stack slot held */
    _cleanup_close_ int fd = -1;
    _cleanup_strv_ struct strv messages = {0};
    int code;
    if (!parse_command(cli, "berth load [OPTIONS]", "Load an image from a tar archive or STDIN",
                       opts, ARRAY_SIZE(opts), argc, argv, &args, &code))
        goto out;
    code = 1;
    if (args.n) {
        berr_set(&err, BERR_USAGE, "\"berth load\" accepts no arguments.");
        report_error(cli, &err);
        goto out;
    }
    if (!input && isatty(STDIN_FILENO)) {
        fprintf(stderr, "requested load from stdin, but stdin is empty\n");
        goto out;
    }
    fd = input ? ident_open(cli->caller, input, O_RDONLY, 0, &err)
               : fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
        if (!input)
            berr_errno(&err, "open standard input");
        report_error(cli, &err);
        goto out;
    }
    struct bar bar = {0};
    struct image_load_opts lo = {0};
    if (!quiet && isatty(STDOUT_FILENO))
        lo = (struct image_load_opts){.progress = on_progress, .ctx = &bar};
    struct image_store store;
    int rc = image_store_open(cli_root(cli), &store, &err);
    if (rc == 0) {
        rc = image_load_archive(&store, fd, &lo, &messages, &err);
        image_store_close(&store);
    }
    finish_bar(&bar, rc == 0);
    if (rc < 0) {
        fflush(stdout);
        report_error(cli, &err);
        goto out;
    }
    for (size_t i = 0; i < messages.n; i++)
        printf("%s\n", messages.v[i]);
    code = 0;
out:
    free(input);
    return code;
}
