/* berth inspect: docker's container inspect object, built from what the runtime wrote at
 * create (config.json) and the live state, printed as a JSON array or through a template. */
#include "launcher.h"
#include "runtime/runtime.h"
#include "template.h"

#include <string.h>

/* Copy a parsed JSON value into a generator. */
/* Go's RFC3339Nano: trailing zeros of the fraction dropped; the zero time when unset. */
static void docker_time(const struct timespec *ts, char out[40])
{
    if (ts->tv_sec == 0) {
        snprintf(out, 40, "0001-01-01T00:00:00Z");
        return;
    }
    format_rfc3339(ts, out);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    size_t end = strlen(out) - 1; /* the 'Z' */
    while (end > (size_t)(dot - out) + 1 && out[end - 1] == '0')
        end--;
    if (end == (size_t)(dot - out) + 1) /* all zeros: no fraction at all */
        end--;
    memmove(out + end, "Z", 2);
}

static void gen_time(yajl_gen g, const char *key, const struct timespec *ts)
{
    char buf[40];
    docker_time(ts, buf);
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
        docker_time(&info->created, buf);
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

/* Find ref and build its object; docker's "No such object" when it does not exist. */
static int inspect_one(const struct runtime_paths *paths, const char *ref, bool typed,
                       yajl_val *out, struct berr *err)
{
    char id[65];
    if (runtime_find(paths, ref, id, err) < 0) {
        if (err->kind == BERR_NOT_FOUND)
            berr_set(err, BERR_NOT_FOUND, "Error: No such %s: %s", typed ? "container" : "object",
                     ref);
        return -1;
    }
    struct container_info info = {0};
    if (runtime_inspect(paths, id, &info, err) < 0) {
        if (err->kind == BERR_NOT_FOUND) /* removed since runtime_find saw it */
            berr_set(err, BERR_NOT_FOUND, "Error: No such %s: %s", typed ? "container" : "object",
                     ref);
        return -1;
    }
    int rc = build_object(&info, out, err);
    container_info_free(&info);
    return rc;
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

int cmd_inspect(struct cli *cli, int argc, char **argv)
{
    _cleanup_free_ char *format = NULL, *type = NULL;
    const struct opt opts[] = {
        {"format", 'f', OPT_STRING, &format, "Format the output using the given Go template", NULL},
        {"type", 0, OPT_STRING, &type, "Return JSON for specified type (only \"container\")", NULL},
        {"size", 's', OPT_UNSUPPORTED_BOOL, NULL, "Display total file sizes", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth inspect [OPTIONS] NAME|ID [NAME|ID...]",
                       "Return low-level information on containers", opts, ARRAY_SIZE(opts), argc,
                       argv, &args, &code))
        return code;
    if (args.n < 1) {
        berr_set(&err, BERR_USAGE, "\"berth inspect\" requires at least 1 argument.");
        report_error(cli, &err);
        return 1;
    }
    if (type && *type && strcmp(type, "container")) {
        static const char *const docker_types[] = {
            "config", "image", "network", "node", "plugin", "secret", "service", "task", "volume"};
        bool docker_knows = false;
        for (size_t i = 0; i < ARRAY_SIZE(docker_types); i++)
            docker_knows |= !strcmp(type, docker_types[i]);
        if (docker_knows)
            berr_set(&err, BERR_FAILED, "inspect --type %s: berth inspects containers only", type);
        else
            berr_set(&err, BERR_FAILED, "\"%s\" is not a valid value for --type", type);
        report_error(cli, &err);
        return 1;
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
        if (inspect_one(&paths, args.v[i], type && *type, &obj, &err) < 0) {
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
