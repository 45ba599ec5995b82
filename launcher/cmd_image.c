#include "image/image.h"
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

static int open_input(const char *path, struct berr *err)
{
    if (!strcmp(path, "-")) {
        int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? berr_errno(err, "standard input") : fd;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "open %s", path);
    return fd;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth import FILE|- [REPOSITORY[:TAG]]",
                       "Import the contents from a tarball to create a filesystem image", NULL, 0,
                       argc, argv, &args, &code))
        return code;
    if (args.n < 1 || args.n > 2) {
        berr_set(&err, BERR_USAGE, "\"berth import\" requires 1 or 2 arguments.");
        report_error(cli, &err);
        return 1;
    }
    struct image_store store;
    if (image_store_open(cli_root(cli), &store, &err) < 0) {
        report_error(cli, &err);
        return 1;
    }
    _cleanup_close_ int fd = open_input(args.v[0], &err);
    char id[65];
    int rc = fd < 0 ? -1 : image_import(&store, fd, args.n > 1 ? args.v[1] : NULL, id, &err);
    image_store_close(&store);
    if (rc < 0) {
        report_error(cli, &err);
        return 1;
    }
    printf("sha256:%s\n", id);
    return 0;
}

int cmd_images(struct cli *cli, int argc, char **argv)
{
    bool quiet = false, no_trunc = false;
    const struct opt opts[] = {
        {"quiet", 'q', OPT_BOOL, &quiet, "Only show image IDs", NULL},
        {"no-trunc", 0, OPT_BOOL, &no_trunc, "Don't truncate output", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth images [OPTIONS]", "List images", opts, ARRAY_SIZE(opts), argc,
                       argv, &args, &code))
        return code;
    struct image_store store;
    struct image_summary *rows = NULL;
    size_t n = 0;
    if (image_store_open(cli_root(cli), &store, &err) < 0)
        goto fail;
    int rc = image_list(&store, &rows, &n, &err);
    image_store_close(&store);
    if (rc < 0)
        goto fail;
    if (!quiet)
        printf("%-40s %-10s %-14s %-16s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (size_t i = 0; i < n; i++) {
        char id[80];
        snprintf(id, sizeof(id), no_trunc ? "sha256:%s" : "%.12s", rows[i].id);
        if (quiet) {
            printf("%s\n", id);
            continue;
        }
        char ago[64], created[80], size[32];
        human_duration(difftime(now.tv_sec, rows[i].created.tv_sec), ago, sizeof(ago));
        snprintf(created, sizeof(created), "%s ago", ago);
        human_size((double)rows[i].size, size, sizeof(size));
        printf("%-40s %-10s %-14s %-16s %s\n", rows[i].repository, rows[i].tag, id, created, size);
    }
    image_summaries_free(rows, n);
    return 0;
fail:
    report_error(cli, &err);
    return 1;
}
