/* berth load: docker's `load [-i FILE] [-q]`. The progress bar goes to stdout when it is a
 * terminal and -q is not given (docker's CLI sets quiet itself when stdout is not a terminal);
 * the "Loaded image" lines are printed either way. */
#include "image/image.h"
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#define BAR_WIDTH 40
#define REDRAW_NS 100000000LL

struct bar {
    struct timespec start, last;
    bool drawn;
};

static long long ns_between(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

static void draw(struct bar *b, unsigned long long done, unsigned long long total, bool force)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!force && b->drawn && ns_between(&b->last, &now) < REDRAW_NS)
        return;
    b->last = now;
    b->drawn = true;
    double secs = (double)ns_between(&b->start, &now) / 1e9;
    char sdone[32], stotal[32], rate[32];
    human_size((double)done, sdone, sizeof(sdone));
    human_size(secs > 0 ? (double)done / secs : 0, rate, sizeof(rate));
    char line[BAR_WIDTH + 3];
    if (total) {
        size_t fill =
            (size_t)((double)BAR_WIDTH * (double)(done > total ? total : done) / (double)total);
        line[0] = '[';
        for (size_t i = 0; i < BAR_WIDTH; i++)
            line[i + 1] = i < fill ? '=' : i == fill ? '>' : ' ';
        line[BAR_WIDTH + 1] = ']';
        line[BAR_WIDTH + 2] = '\0';
        human_size((double)total, stotal, sizeof(stotal));
        printf("\rLoading layers %s %s/%s %s/s\033[K", line, sdone, stotal, rate);
    } else {
        printf("\rReading archive %s %s/s\033[K", sdone, rate);
    }
    fflush(stdout);
}

static void on_progress(void *ctx, unsigned long long done, unsigned long long total)
{
    draw(ctx, done, total, false);
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
    _cleanup_close_ int fd = -1;
    if (!input && isatty(STDIN_FILENO)) {
        fprintf(stderr, "requested load from stdin, but stdin is empty\n");
        goto out;
    }
    fd = input ? open(input, O_RDONLY | O_CLOEXEC) : fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
        berr_errno(&err, "open %s", input ? input : "standard input");
        report_error(cli, &err);
        goto out;
    }
    struct bar bar = {0};
    clock_gettime(CLOCK_MONOTONIC, &bar.start);
    struct image_load_opts lo = {0};
    if (!quiet && isatty(STDOUT_FILENO))
        lo = (struct image_load_opts){.progress = on_progress, .ctx = &bar};
    struct image_store store;
    _cleanup_strv_ struct strv messages = {0};
    int rc = image_store_open(cli_root(cli), &store, &err);
    if (rc == 0) {
        rc = image_load_archive(&store, fd, &lo, &messages, &err);
        image_store_close(&store);
    }
    if (bar.drawn)
        printf("\n");
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
