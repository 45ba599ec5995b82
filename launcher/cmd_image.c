/* berth import, images, tag, rmi and `image <sub>`: the image store's commands, with docker's
 * texts and exit codes. rmi and prune learn which images containers use from the state root
 * and pass that to image/ as plain data. */
#include "image/image.h"
#include "formatter.h"
#include "launcher.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

/* A file is opened as the caller: its rights, not berth's, decide what it may import. */
static int open_input(const struct cli *cli, const char *path, struct berr *err)
{
    if (!strcmp(path, "-")) {
        int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? berr_errno(err, "standard input") : fd;
    }
    return ident_open(cli->caller, path, O_RDONLY, 0, err);
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
    _cleanup_close_ int fd = open_input(cli, args.v[0], &err);
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

/* docker's image context: the fields --format may name, and their column titles */
static int image_row_object(const struct image_summary *row, bool no_trunc, time_t now,
                            yajl_val *out, struct berr *err)
{
    char id[80], ago[64], since[80], created_at[96], size[32];
    snprintf(id, sizeof(id), no_trunc ? "sha256:%s" : "%.12s", row->id);
    human_duration(difftime(now, row->created.tv_sec), ago, sizeof(ago));
    snprintf(since, sizeof(since), "%s ago", ago);
    fmt_go_time(row->created.tv_sec, created_at, sizeof(created_at));
    human_size((double)row->size, size, sizeof(size));
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "ID", id);
    json_key_str(g, "Repository", row->repository);
    json_key_str(g, "Tag", row->tag);
    json_key_str(g, "Digest", row->digest[0] ? row->digest : "<none>");
    json_key_str(g, "CreatedSince", since);
    json_key_str(g, "CreatedAt", created_at);
    json_key_str(g, "Size", size);
    yajl_gen_map_close(g);
    return json_gen_parse(g, out, err);
}

static int render_images(const char *format, bool no_trunc, const struct image_summary *rows,
                         size_t n, struct strbuf *out, struct berr *err)
{
    bool table;
    _cleanup_free_ char *text = fmt_template_text(format, &table);
    _cleanup_tmpl_ struct tmpl *t = NULL;
    if (tmpl_parse(text, &t, err) < 0)
        return berr_wrap(err, "Template parsing error");
    _cleanup_strbuf_ struct strbuf body = {0};
    strbuf_add(&body, "", 0);
    if (table) {
        yajl_val h = NULL;
        int rc = json_parse("{\"ID\":\"IMAGE ID\",\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\","
                            "\"Digest\":\"DIGEST\",\"CreatedSince\":\"CREATED\","
                            "\"CreatedAt\":\"CREATED AT\",\"Size\":\"SIZE\"}",
                            &h, err);
        if (rc == 0 && tmpl_execute_header(t, h, &body, err) < 0)
            rc = berr_wrap(err, "Template parsing error");
        yajl_tree_free(h);
        if (rc < 0)
            return -1;
        strbuf_add(&body, "\n", 1);
    }
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        yajl_val obj = NULL;
        int rc = image_row_object(&rows[i], no_trunc, now, &obj, err);
        if (rc == 0 && tmpl_execute(t, obj, &body, err) < 0)
            rc = berr_wrap(err, "Template parsing error");
        yajl_tree_free(obj);
        if (rc < 0)
            return -1;
        strbuf_add(&body, "\n", 1);
    }
    if (table)
        fmt_tabwrite(out, body.s);
    else
        strbuf_add(out, body.s, body.len);
    return 0;
}

int cmd_images(struct cli *cli, int argc, char **argv)
{
    bool quiet = false, no_trunc = false, digests = false;
    _cleanup_free_ char *format = NULL;
    const struct opt opts[] = {
        {"quiet", 'q', OPT_BOOL, &quiet, "Only show image IDs", NULL},
        {"no-trunc", 0, OPT_BOOL, &no_trunc, "Don't truncate output", NULL},
        {"digests", 0, OPT_BOOL, &digests, "Show digests", NULL},
        {"format", 0, OPT_STRING, &format, "Pretty-print images using a Go template", NULL},
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
    _cleanup_strbuf_ struct strbuf out = {0}; /* before the first goto: fail is in its scope */
    if (image_store_open(cli_root(cli), &store, &err) < 0)
        goto fail;
    int rc = image_list(&store, &rows, &n, &err);
    image_store_close(&store);
    if (rc < 0)
        goto fail;
    /* docker's CLI: the default table and -q are templates too; --format wins over -q */
    if (!format || !*format || !strcmp(format, "table")) {
        free(format);
        format = xstrdup(quiet     ? "{{.ID}}"
                         : digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
                                     "{{.CreatedSince}}\t{{.Size}}"
                                   : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t"
                                     "{{.Size}}");
    }
    rc = render_images(format, no_trunc, rows, n, &out, &err);
    image_summaries_free(rows, n);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    fwrite(out.s ? out.s : "", 1, out.len, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
fail:
    report_error(cli, &err);
    return 1;
}

int cmd_tag(struct cli *cli, int argc, char **argv)
{
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", NULL, 0, argc, argv,
                       &args, &code))
        return code;
    if (args.n != 2) {
        berr_set(&err, BERR_USAGE, "\"berth tag\" requires exactly 2 arguments.");
        report_error(cli, &err);
        return 1;
    }
    _cleanup_free_ char *norm = NULL;
    if (image_normalize_ref(args.v[1], &norm, &err) < 0) {
        fprintf(stderr, "Error parsing reference: \"%s\" is not a valid repository/tag: %s\n",
                args.v[1], err.msg);
        return 1;
    }
    struct image_store store;
    if (image_store_open(cli_root(cli), &store, &err) < 0) {
        report_error(cli, &err);
        return 1;
    }
    int rc = image_tag(&store, args.v[0], args.v[1], &err);
    image_store_close(&store);
    if (rc < 0) {
        report_daemon_error(&err);
        return 1;
    }
    return 0;
}

/* Which image each container of the state root was made from. A container that cannot be
 * read fails the call: removing images on a partial list could take one still in use. Every
 * container counts, also those a handed-over caller cannot see. */
static int image_users(struct cli *cli, struct image_user **out, size_t *n, struct berr *err)
{
    struct runtime_paths paths;
    cli_paths(cli, &paths);
    paths.caller = NULL;
    *out = NULL;
    *n = 0;
    struct container_info *infos;
    size_t count;
    if (runtime_inspect_all(&paths, &infos, &count, NULL, err) < 0)
        return -1;
    *out = xcalloc(count ? count : 1, sizeof(**out));
    for (size_t i = 0; i < count; i++) {
        const char *image = json_get_str(infos[i].config, "Image");
        if (image && str_has_prefix(image, "sha256:") && strlen(image) == 71) {
            struct image_user *u = &(*out)[(*n)++];
            snprintf(u->image, sizeof(u->image), "%s", image + 7);
            snprintf(u->container, sizeof(u->container), "%s", infos[i].id);
            u->running = infos[i].running;
        }
    }
    container_infos_free(infos, count);
    return 0;
}

/* The image store and its users, for the commands that remove images. */
static int open_store_and_users(struct cli *cli, struct image_store *store,
                                struct image_user **users, size_t *n, struct berr *err)
{
    if (image_users(cli, users, n, err) < 0)
        return -1;
    if (image_store_open(cli_root(cli), store, err) < 0) {
        free(*users);
        return -1;
    }
    return 0;
}

static int rmi(struct cli *cli, const char *usage, int argc, char **argv)
{
    bool force = false, no_prune = false;
    const struct opt opts[] = {
        {"force", 'f', OPT_BOOL, &force, "Force removal of the image", NULL},
        {"no-prune", 0, OPT_BOOL, &no_prune, "Do not delete untagged parents", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, usage, "Remove one or more images", opts, ARRAY_SIZE(opts), argc, argv,
                       &args, &code))
        return code;
    if (args.n < 1) {
        berr_set(&err, BERR_USAGE, "\"berth rmi\" requires at least 1 argument.");
        report_error(cli, &err);
        return 1;
    }
    struct image_store store;
    struct image_user *users;
    size_t nusers;
    if (open_store_and_users(cli, &store, &users, &nusers, &err) < 0) {
        report_error(cli, &err);
        return 1;
    }
    code = 0;
    for (size_t i = 0; i < args.n; i++) {
        _cleanup_strv_ struct strv msgs = {0};
        int rc = image_remove(&store, args.v[i], force, users, nusers, &msgs, &err);
        for (size_t j = 0; j < msgs.n; j++)
            printf("%s\n", msgs.v[j]);
        if (rc < 0) {
            fflush(stdout);
            report_daemon_error(&err);
            code = 1;
        }
    }
    free(users);
    image_store_close(&store);
    return code;
}

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
    return rmi(cli, "berth rmi [OPTIONS] IMAGE [IMAGE...]", argc, argv);
}

static int prune(struct cli *cli, int argc, char **argv)
{
    bool all = false, force = false;
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &all, "Remove all unused images, not just dangling ones", NULL},
        {"force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth image prune [OPTIONS]", "Remove unused images", opts,
                       ARRAY_SIZE(opts), argc, argv, &args, &code))
        return code;
    if (!force) {
        printf("WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
               all ? "images without at least one container associated to them"
                   : "dangling images");
        fflush(stdout);
        char answer[16] = "";
        if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
            return 0;
    }
    struct image_store store;
    struct image_user *users;
    size_t nusers;
    if (open_store_and_users(cli, &store, &users, &nusers, &err) < 0) {
        report_error(cli, &err);
        return 1;
    }
    _cleanup_strv_ struct strv msgs = {0};
    unsigned long long reclaimed = 0;
    int rc = image_prune(&store, all, users, nusers, &msgs, &reclaimed, &err);
    free(users);
    image_store_close(&store);
    if (msgs.n) {
        printf("Deleted Images:\n");
        for (size_t i = 0; i < msgs.n; i++)
            printf("%s\n", msgs.v[i]);
        printf("\n");
    }
    char size[32];
    human_size((double)reclaimed, size, sizeof(size));
    printf("Total reclaimed space: %s\n", size);
    if (rc < 0) {
        fflush(stdout);
        report_daemon_error(&err);
        return 1;
    }
    return 0;
}

/* `berth image COMMAND`: docker's management command names for the same operations. */
int cmd_image(struct cli *cli, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(struct cli *, int, char **);
    } subs[] = {{"ls", cmd_images},
                {"list", cmd_images},
                {"load", cmd_load},
                {"save", cmd_image_save},
                {"inspect", cmd_image_inspect},
                {"import", cmd_import},
                {"tag", cmd_tag},
                {"rm", cmd_rmi},
                {"remove", cmd_rmi},
                {"prune", prune}};
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(argc < 1 ? stderr : stdout,
                "\nUsage:  berth image COMMAND\n\nManage images\n\nCommands:\n  import  "
                "Import a tarball\n  inspect Display detailed information on one or more images\n  "
                "load    Load an image from a tar archive or STDIN\n  ls      "
                "List images\n  prune   Remove unused images\n  rm      Remove one or more "
                "images\n  save    Save one or more images to a tar archive\n  tag     Create a "
                "tag TARGET_IMAGE that refers to SOURCE_IMAGE\n");
        return argc < 1 ? 1 : 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
        if (strcmp(subs[i].name, argv[0]) == 0)
            return subs[i].fn(cli, argc - 1, argv + 1);
    }
    fprintf(stderr, "berth: 'image %s' is not a berth command.\nSee 'berth image --help'\n",
            argv[0]);
    return 1;
}
