/* berth save: docker's `save [-o FILE] IMAGE...`. The archive goes to stdout unless that is a
 * terminal, or to FILE as docker's CLI writes it: into a temporary file (0600) beside it,
 * renamed over it once whole, so a failed save leaves FILE as it was. The temporary file is
 * unnamed (O_TMPFILE) until then, so a save killed half-way (Ctrl-C) leaves no file either;
 * a file system without O_TMPFILE gets a named one. Both are made with a handed-over caller's
 * rights (as load -i reads as the caller). */
#include "image/image.h"
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct output {
    const struct cli *cli;
    const char *path; /* NULL: stdout */
    char *tmp;        /* the temporary file's name beside path; NULL when writing path itself */
    bool unnamed;     /* fd is an O_TMPFILE file, given the name tmp only when whole */
    int fd;
};

/* path exists and is not a regular file (/dev/null, a fifo): written in place, never renamed
 * over, which would replace the device node */
static int is_special(const struct output *o, bool *special, struct berr *err)
{
    if (ident_enter(o->cli->caller, err) < 0)
        return -1;
    struct stat st;
    int rc = stat(o->path, &st);
    int saved = errno;
    ident_leave(o->cli->caller);
    if (rc < 0 && saved != ENOENT)
        return berr_errnum(err, saved, "failed to save image: stat %s", o->path);
    *special = rc == 0 && !S_ISREG(st.st_mode);
    return 0;
}

/* Called once the images are found and packed: an unknown image makes no file, as docker's CLI
 * makes its file only once the daemon answers. */
static int open_output(void *ctx, struct berr *err)
{
    struct output *o = ctx;
    if (!o->path) {
        o->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        return o->fd < 0 ? berr_errno(err, "standard output") : o->fd;
    }
    bool special = false;
    if (is_special(o, &special, err) < 0)
        return -1;
    if (special) {
        o->fd = ident_open(o->cli->caller, o->path, O_WRONLY | O_TRUNC, 0, err);
    } else {
        char id[65];
        if (random_id(id, err) < 0)
            return -1;
        _cleanup_free_ char *copy = xstrdup(o->path);
        const char *dir = dirname(copy);
        o->tmp = xasprintf("%s/.berth_temp_%.16s", dir, id);
        struct berr unnamed_err = {0};
        o->fd = ident_open(o->cli->caller, dir, O_TMPFILE | O_WRONLY, 0600, &unnamed_err);
        o->unnamed = o->fd >= 0;
        if (o->fd < 0 && unnamed_err.errnum != EOPNOTSUPP && unnamed_err.errnum != EISDIR)
            *err = unnamed_err;
        else if (o->fd < 0) /* no O_TMPFILE in this file system (EISDIR: before Linux 3.11) */
            o->fd = ident_open(o->cli->caller, o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0600, err);
        if (o->fd < 0) {
            free(o->tmp);
            o->tmp = NULL;
        }
    }
    return o->fd < 0 ? berr_wrap(err, "failed to save image") : o->fd;
}

/* The unnamed file under name; through /proc, as linkat's AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH, which a caller's file-system ids do not have. */
static int link_unnamed(int fd, const char *name)
{
    char proc[PROC_FD_PATH_MAX];
    proc_fd_path(fd, proc);
    return linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

/* Close the output; the temporary file becomes path when ok, and goes otherwise. */
static int finish_output(struct output *o, bool ok, struct berr *err)
{
    int rc = 0;
    bool entered = false, named = o->tmp && !o->unnamed;
    if (o->tmp) {
        struct berr e = {0};
        entered = ident_enter(o->cli->caller, &e) == 0;
        if (!entered && ok) {
            *err = e;
            rc = -1;
        }
    }
    if (entered && ok && o->unnamed) {
        if (link_unnamed(o->fd, o->tmp) < 0)
            rc = berr_errno(err, "failed to save image: link %s", o->tmp);
        named = rc == 0;
    }
    if (o->fd >= 0 && close(o->fd) < 0 && ok && rc == 0)
        rc = berr_errno(err, "write %s", o->path ? o->path : "standard output");
    o->fd = -1;
    if (entered) {
        if (ok && rc == 0 && rename(o->tmp, o->path) < 0)
            rc = berr_errno(err, "failed to save image: rename to %s", o->path);
        if (named && (!ok || rc < 0))
            unlink(o->tmp);
        ident_leave(o->cli->caller);
    }
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

static int save(struct cli *cli, int argc, char **argv, bool image_command)
{
    _cleanup_free_ char *output = NULL;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &output, "Write to a file, instead of STDOUT", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli,
                       image_command ? "berth image save [OPTIONS] IMAGE [IMAGE...]"
                                     : "berth save [OPTIONS] IMAGE [IMAGE...]",
                       "Save one or more images to a tar archive (streamed to STDOUT by default)",
                       opts, ARRAY_SIZE(opts), argc, argv, &args, &code))
        return code;
    if (args.n < 1) {
        berr_set(&err, BERR_USAGE, "\"%s\" requires at least 1 argument.",
                 image_command ? "berth image save" : "berth save");
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
    if (finish_output(&out, rc == 0, &err) < 0)
        rc = -1;
    if (rc < 0) {
        if (err.kind == BERR_NOT_FOUND)
            report_daemon_error(&err);
        else
            report_error(cli, &err);
        return 1;
    }
    return 0;
}

int cmd_save(struct cli *cli, int argc, char **argv)
{
    return save(cli, argc, argv, false);
}

int cmd_image_save(struct cli *cli, int argc, char **argv)
{
    return save(cli, argc, argv, true);
}
