/* berth save: docker's `save [-o FILE] IMAGE...`. The archive goes to FILE, made with the
 * caller's rights (as load -i reads as the caller), or to stdout unless that is a terminal. */
#include "image/image.h"
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

struct output {
    const struct cli *cli;
    const char *path; /* NULL: stdout */
    int fd;
};

/* Called once the images are found and packed: a failed save leaves no file behind when the
 * images were not there to begin with, as docker's CLI makes its file only once the daemon
 * answers. */
static int open_output(void *ctx, struct berr *err)
{
    struct output *o = ctx;
    if (!o->path) {
        o->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        return o->fd < 0 ? berr_errno(err, "standard output") : o->fd;
    }
    o->fd = ident_open(o->cli->caller, o->path, O_WRONLY | O_CREAT | O_TRUNC, 0666, err);
    if (o->fd < 0)
        return berr_wrap(err, "failed to save image");
    return o->fd;
}

int cmd_save(struct cli *cli, int argc, char **argv)
{
    _cleanup_free_ char *output = NULL;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &output, "Write to a file, instead of STDOUT", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth save [OPTIONS] IMAGE [IMAGE...]",
                       "Save one or more images to a tar archive (streamed to STDOUT by default)",
                       opts, ARRAY_SIZE(opts), argc, argv, &args, &code))
        return code;
    if (args.n < 1) {
        berr_set(&err, BERR_USAGE, "\"berth save\" requires at least 1 argument.");
        report_error(cli, &err);
        return 1;
    }
    if ((!output || !*output) && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
        return 1;
    }
    struct output out = {.cli = cli, .path = output && *output ? output : NULL, .fd = -1};
    struct image_store store;
    int rc = image_store_open(cli_root(cli), &store, &err);
    if (rc == 0) {
        rc = image_save(&store, &args, open_output, &out, &err);
        image_store_close(&store);
    }
    if (out.fd >= 0 && close(out.fd) < 0 && rc == 0)
        rc = berr_errno(&err, "write %s", out.path ? out.path : "standard output");
    if (rc < 0) {
        if (err.kind == BERR_NOT_FOUND) {
            report_daemon_error(&err);
        } else {
            report_error(cli, &err);
        }
        return 1;
    }
    return 0;
}
