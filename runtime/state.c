#include "internal.h"

#include <string.h>

static const char *status_name(enum container_status s)
{
    switch (s) {
    case STATUS_CREATED:
        return "created";
    case STATUS_RUNNING:
        return "running";
    case STATUS_EXITED:
        return "exited";
    }
    return "unknown";
}

static void key_time(yajl_gen g, const char *key, const struct timespec *ts)
{
    char buf[40] = "0001-01-01T00:00:00Z";
    if (ts->tv_sec)
        format_rfc3339(ts, buf);
    json_key_str(g, key, buf);
}

/* The container's record, written whole (temp file + rename) on every change. */
int state_write(int dirfd, const struct container_spec *spec, const struct container_state *st,
                struct berr *err)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "Id", st->id);
    _cleanup_free_ char *name = xasprintf("/%s", st->name);
    json_key_str(g, "Name", name);
    key_time(g, "Created", &st->created);
    json_key_str(g, "Image", spec->image_ref);
    json_key_str(g, "ImageID", spec->image_id);
    json_str(g, "State");
    yajl_gen_map_open(g);
    json_key_str(g, "Status", status_name(st->status));
    json_key_int(g, "Pid", st->pid);
    json_key_int(g, "ExitCode", st->exit_code);
    key_time(g, "StartedAt", &st->started);
    key_time(g, "FinishedAt", &st->finished);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    int rc = write_file_atomic_at(dirfd, "state.json", buf, len, 0600, err);
    yajl_gen_free(g);
    return rc;
}
