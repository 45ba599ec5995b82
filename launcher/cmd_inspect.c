/* berth inspect and image inspect: docker's container inspect object, built from what the
 * runtime wrote at create (config.json) and the live state, or docker's image object from the
 * image store, printed as a JSON array or through a template. */
#include "image/image.h"
#include "launcher.h"
#include "runtime/runtime.h"
#include "template.h"

#include <string.h>

static void gen_time(yajl_gen g, const char *key, const struct timespec *ts)
{
    char buf[40];
    format_go_time(ts, buf);
    json_key_str(g, key, buf);
}

static void gen_state(yajl_gen g, const struct container_info *info)
{
    json_str(g, "State");
    yajl_gen_map_open(g);
    json_key_str(g, "Status", info->status);
    json_key_bool(g, "Running", info->running);
    json_key_bool(g, "Paused", false);
    json_key_bool(g, "Restarting", false);
    json_key_bool(g, "OOMKilled", false);
    json_key_bool(g, "Dead", false);
    json_key_int(g, "Pid", info->running ? info->pid : 0);
    json_key_int(g, "ExitCode", info->exit_code);
    json_key_str(g, "Error", info->error ? info->error : "");
    gen_time(g, "StartedAt", &info->started);
    gen_time(g, "FinishedAt", &info->finished);
    yajl_gen_map_close(g);
}

/* The image id docker shows at the top level: "sha256:<hex>". */
static void gen_image(yajl_gen g, yajl_val config)
{
    const char *id = json_get_str(config, "ImageID");
    const char *image = json_get_str(config, "Image");
    json_str(g, "Image");
    if (id && !str_has_prefix(id, "sha256:")) {
        _cleanup_free_ char *full = xasprintf("sha256:%s", id);
        json_str(g, full);
    } else {
        json_str(g, id ? id : image ? image : "");
    }
}

/* docker's InspectResponse order; what config.json does not have gets docker's value for a
 * container berth runs. */
enum field_src {
    FROM_CONFIG,
    KNOWN_STRING,
    KNOWN_INT,
    KNOWN_EMPTY_LIST,
    KNOWN_EMPTY_MAP,
    KNOWN_NULL,
    OPTIONAL,
    SPECIAL
};

static const struct {
    const char *key;
    enum field_src src;
    const char *value;
} fields[] = {
    {"Id", SPECIAL, NULL},
    {"Created", SPECIAL, NULL},
    {"Path", KNOWN_STRING, ""},
    {"Args", KNOWN_EMPTY_LIST, NULL},
    {"State", SPECIAL, NULL},
    {"Image", SPECIAL, NULL},
    {"ResolvConfPath", KNOWN_STRING, ""},
    {"HostnamePath", KNOWN_STRING, ""},
    {"HostsPath", KNOWN_STRING, ""},
    {"LogPath", KNOWN_STRING, ""},
    {"Name", SPECIAL, NULL},
    {"RestartCount", KNOWN_INT, "0"},
    {"Driver", KNOWN_STRING, "overlay2"},
    {"Platform", KNOWN_STRING, "linux"},
    {"MountLabel", KNOWN_STRING, ""},
    {"ProcessLabel", KNOWN_STRING, ""},
    {"AppArmorProfile", KNOWN_STRING, ""},
    {"ExecIDs", KNOWN_NULL, NULL},
    {"HostConfig", KNOWN_EMPTY_MAP, NULL},
    {"GraphDriver", OPTIONAL, NULL},
    {"Mounts", KNOWN_EMPTY_LIST, NULL},
    {"Config", KNOWN_EMPTY_MAP, NULL},
    {"NetworkSettings", OPTIONAL, NULL},
};

static bool known_key(const char *key)
{
    if (!strcmp(key, "ImageID")) /* berth's own name; docker shows it as Image */
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        if (!strcmp(fields[i].key, key))
            return true;
    }
    return false;
}

static void gen_special(yajl_gen g, const char *key, const struct container_info *info)
{
    if (!strcmp(key, "Id")) {
        json_key_str(g, "Id", info->id);
    } else if (!strcmp(key, "Created")) {
        const char *written = json_get_str(info->config, "Created");
        char buf[40];
        format_go_time(&info->created, buf);
        json_key_str(g, "Created", info->created.tv_sec == 0 && written ? written : buf);
    } else if (!strcmp(key, "State")) {
        gen_state(g, info);
    } else if (!strcmp(key, "Image")) {
        gen_image(g, info->config);
    } else if (!strcmp(key, "Name")) {
        _cleanup_free_ char *name = xasprintf("/%s", info->name ? info->name : "");
        json_key_str(g, "Name", name);
    }
}

/* The inspect object of one container, as a parsed tree. */
static int build_object(const struct container_info *info, yajl_val *out, struct berr *err)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const char *key = fields[i].key;
        yajl_val have = json_get(info->config, key);
        if (fields[i].src == SPECIAL) {
            gen_special(g, key, info);
            continue;
        }
        if (!have && fields[i].src == OPTIONAL)
            continue;
        json_str(g, key);
        if (have)
            json_gen_value(g, have);
        else if (fields[i].src == KNOWN_STRING)
            json_str(g, fields[i].value);
        else if (fields[i].src == KNOWN_INT)
            yajl_gen_integer(g, 0);
        else if (fields[i].src == KNOWN_EMPTY_LIST)
            yajl_gen_array_open(g), yajl_gen_array_close(g);
        else if (fields[i].src == KNOWN_EMPTY_MAP)
            yajl_gen_map_open(g), yajl_gen_map_close(g);
        else
            yajl_gen_null(g);
    }
    if (YAJL_IS_OBJECT(info->config)) {
        for (size_t i = 0; i < info->config->u.object.len; i++) {
            const char *key = info->config->u.object.keys[i];
            if (known_key(key))
                continue;
            json_str(g, key);
            json_gen_value(g, info->config->u.object.values[i]);
        }
    }
    yajl_gen_map_close(g);
    int rc = json_gen_parse(g, out, err);
    return rc < 0 ? berr_wrap(err, "container %.12s", info->id) : 0;
}

/* What inspect looks for: docker's --type. */
enum inspect_type { TYPE_ANY, TYPE_CONTAINER, TYPE_IMAGE };

static const char *type_word(enum inspect_type t)
{
    return t == TYPE_CONTAINER ? "container" : t == TYPE_IMAGE ? "image" : "object";
}

/* 1 with *out built, 0 when there is no such container, -1 on another failure. */
static int inspect_container(const struct runtime_paths *paths, const char *ref, yajl_val *out,
                             struct berr *err)
{
    char id[65];
    struct container_info info = {0};
    /* a container removed between the two steps is as absent as one never made */
    if (runtime_find(paths, ref, id, err) < 0 || runtime_inspect(paths, id, &info, err) < 0)
        return err->kind == BERR_NOT_FOUND ? 0 : -1;
    int rc = build_object(&info, out, err);
    container_info_free(&info);
    return rc < 0 ? -1 : 1;
}

/* The same for an image of the data root. */
static int inspect_image(const struct cli *cli, const char *ref, yajl_val *out, struct berr *err)
{
    struct image_store store;
    if (image_store_open(cli_root(cli), &store, err) < 0)
        return -1;
    int rc = image_inspect(&store, ref, out, err);
    image_store_close(&store);
    if (rc < 0)
        return err->kind == BERR_NOT_FOUND ? 0 : -1;
    return 1;
}

/* docker's order without --type: a container first, then an image; docker's "No such ..."
 * when neither is there. */
static int inspect_one(const struct cli *cli, const struct runtime_paths *paths, const char *ref,
                       enum inspect_type type, yajl_val *out, struct berr *err)
{
    int found = 0;
    if (type != TYPE_IMAGE)
        found = inspect_container(paths, ref, out, err);
    if (found == 0 && type != TYPE_CONTAINER)
        found = inspect_image(cli, ref, out, err);
    if (found == 0)
        berr_set(err, BERR_NOT_FOUND, "Error: No such %s: %s", type_word(type), ref);
    return found > 0 ? 0 : -1;
}

static void print_errors(const struct strv *errors)
{
    for (size_t i = 0; i < errors->n; i++)
        fprintf(stderr, "%s\n", errors->v[i]);
}

/* docker's messages where scripts may match them ("Error: No such object: X"); berth's own
 * failures as every command prints them. */
static void collect_error(struct strv *errors, const struct berr *err)
{
    if (err->kind == BERR_NOT_FOUND || str_has_prefix(err->msg, "Template parsing error: "))
        strv_push(errors, err->msg);
    else
        strv_push_owned(errors, xasprintf("berth: %s", err->msg));
}

static int inspect_main(struct cli *cli, int argc, char **argv, bool image_command)
{
    _cleanup_free_ char *format = NULL, *type = NULL;
    const struct opt opts[] = {
        {"format", 'f', OPT_STRING, &format, "Format the output using the given Go template", NULL},
        {"type", 0, OPT_STRING, &type, "Return JSON for specified type (container or image)", NULL},
        {"size", 's', OPT_UNSUPPORTED_BOOL, NULL, "Display total file sizes", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    const char *usage = image_command ? "berth image inspect [OPTIONS] IMAGE [IMAGE...]"
                                      : "berth inspect [OPTIONS] NAME|ID [NAME|ID...]";
    const char *summary = image_command ? "Display detailed information on one or more images"
                                        : "Return low-level information on containers or images";
    /* image inspect has no --type and no --size */
    if (!parse_command(cli, usage, summary, opts, image_command ? 1 : ARRAY_SIZE(opts), argc, argv,
                       &args, &code))
        return code;
    if (args.n < 1) {
        berr_set(&err, BERR_USAGE, "\"%s\" requires at least 1 argument.",
                 image_command ? "berth image inspect" : "berth inspect");
        report_error(cli, &err);
        return 1;
    }
    enum inspect_type t = image_command ? TYPE_IMAGE : TYPE_ANY;
    if (type && *type) {
        static const char *const docker_types[] = {"config", "network", "node", "plugin",
                                                   "secret", "service", "task", "volume"};
        bool docker_knows = false;
        for (size_t i = 0; i < ARRAY_SIZE(docker_types); i++)
            docker_knows |= !strcmp(type, docker_types[i]);
        if (!strcmp(type, "container"))
            t = TYPE_CONTAINER;
        else if (!strcmp(type, "image"))
            t = TYPE_IMAGE;
        else if (docker_knows)
            berr_set(&err, BERR_FAILED, "inspect --type %s: berth inspects containers and images",
                     type);
        else
            berr_set(&err, BERR_FAILED, "\"%s\" is not a valid value for --type", type);
        if (err.msg[0]) {
            report_error(cli, &err);
            return 1;
        }
    }
    _cleanup_tmpl_ struct tmpl *tmpl = NULL;
    if (format && *format && tmpl_parse(format, &tmpl, &err) < 0) {
        /* docker: StatusError 64, before looking anything up, nothing on stdout */
        fprintf(stderr, "Template parsing error: %s\n", err.msg);
        return 64;
    }

    struct runtime_paths paths;
    cli_paths(cli, &paths);
    _cleanup_strv_ struct strv errors = {0};
    _cleanup_strbuf_ struct strbuf out = {0};
    size_t found = 0;
    strbuf_add(&out, "[", 1);
    for (size_t i = 0; i < args.n; i++) {
        yajl_val obj = NULL;
        if (inspect_one(cli, &paths, args.v[i], t, &obj, &err) < 0) {
            collect_error(&errors, &err);
            continue;
        }
        if (!tmpl) {
            if (found)
                strbuf_add(&out, ",", 1);
            tmpl_write_json(&out, obj, NULL);
            found++;
        } else {
            _cleanup_strbuf_ struct strbuf line = {0};
            if (tmpl_execute(tmpl, obj, &line, &err) < 0) {
                strv_push_owned(&errors, xasprintf("Template parsing error: %s", err.msg));
            } else {
                strbuf_add(&line, "\n", 1);
                strbuf_add(&out, line.s, line.len);
                found++;
            }
        }
        yajl_tree_free(obj);
    }

    if (!tmpl) {
        strbuf_add(&out, "]", 1);
        yajl_val all = NULL;
        if (json_parse(out.s, &all, &err) < 0) { /* our own text: cannot happen */
            report_error(cli, &err);
            return 1;
        }
        _cleanup_strbuf_ struct strbuf pretty = {0};
        tmpl_write_json(&pretty, all, "    ");
        yajl_tree_free(all);
        printf("%s\n", pretty.s);
    } else {
        /* docker prints an empty line when no container rendered */
        printf("%s", found ? out.s + 1 : "\n");
    }
    fflush(stdout);
    print_errors(&errors);
    return errors.n ? 1 : 0;
}

int cmd_inspect(struct cli *cli, int argc, char **argv)
{
    return inspect_main(cli, argc, argv, false);
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv)
{
    return inspect_main(cli, argc, argv, true);
}
