/* The container's berth records: berth.json, written once at create with who made it and what
 * docker inspect shows of the creation, and state.json, replaced atomically at every change of
 * state. How to run the container is not here: that is config.json (oci.c). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

static const char *const status_names[] = {
    [STATUS_CREATED] = "created",
    [STATUS_RUNNING] = "running",
    [STATUS_EXITED] = "exited",
};

const char *state_status_name(enum container_status s)
{
    return status_names[s];
}

static void key_time(yajl_gen g, const char *key, const struct timespec *ts)
{
    char buf[40] = "0001-01-01T00:00:00Z";
    if (ts->tv_sec)
        format_rfc3339(ts, buf);
    json_key_str(g, key, buf);
}

static yajl_gen state_gen(const struct container_state *st)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_str(g, "Status", status_names[st->status]);
    json_key_bool(g, "Running", st->status == STATUS_RUNNING);
    json_key_int(g, "Pid", st->pid);
    json_key_int(g, "ExitCode", st->exit_code);
    json_key_str(g, "Error", st->error ? st->error : "");
    key_time(g, "StartedAt", &st->started);
    key_time(g, "FinishedAt", &st->finished);
    json_key_bool(g, "OOMKilled", false);
    yajl_gen_map_close(g);
    return g;
}

int state_write(int dirfd, const struct container_state *st, struct berr *err)
{
    return json_gen_write_at(state_gen(st), dirfd, STATE_FILE, err);
}

int state_write_ahead(struct atomic_file *f, const struct container_state *st, struct berr *err)
{
    return json_gen_commit(state_gen(st), f, err);
}

static void read_time(yajl_val v, const char *key, struct timespec *ts)
{
    const char *s = json_get_str(v, key);
    *ts = (struct timespec){0};
    if (s && !str_has_prefix(s, "0001-"))
        parse_rfc3339(s, ts);
}

static long long read_int(yajl_val v, const char *key)
{
    yajl_val n = json_get(v, key);
    return YAJL_IS_INTEGER(n) ? YAJL_GET_INTEGER(n) : 0;
}

int state_read(int dirfd, struct container_state *st, char **error, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    if (read_file_at(dirfd, STATE_FILE, 1 << 20, &text, NULL, err) < 0)
        return -1;
    yajl_val v;
    if (json_parse(text, &v, err) < 0)
        return berr_wrap(err, "state.json");
    const char *status = json_get_str(v, "Status");
    st->status = STATUS_CREATED;
    for (size_t i = 0; status && i < ARRAY_SIZE(status_names); i++) {
        if (!strcmp(status, status_names[i]))
            st->status = (enum container_status)i;
    }
    st->pid = (pid_t)read_int(v, "Pid");
    st->exit_code = (int)read_int(v, "ExitCode");
    read_time(v, "StartedAt", &st->started);
    read_time(v, "FinishedAt", &st->finished);
    const char *e = json_get_str(v, "Error");
    *error = xstrdup(e ? e : "");
    yajl_tree_free(v);
    return 0;
}

static int record_creator(int dirfd, uid_t *creator, struct berr *err)
{
    *creator = 0;
    yajl_val v;
    struct berr read_err = {0};
    if (record_read(dirfd, &v, &read_err) < 0) {
        if (read_err.errnum == ENOENT) /* made before berth recorded creators: root's */
            return 0;
        *err = read_err;
        return -1;
    }
    yajl_val n = json_get(v, "CreatorUid");
    bool ok = YAJL_IS_INTEGER(n) && YAJL_GET_INTEGER(n) >= 0 &&
              YAJL_GET_INTEGER(n) <= (long long)UINT32_MAX - 1;
    if (ok)
        *creator = (uid_t)YAJL_GET_INTEGER(n);
    yajl_tree_free(v);
    return ok ? 0 : berr_set(err, BERR_FAILED, RECORD_FILE ": no CreatorUid");
}

bool record_visible(int dirfd, const struct ident *caller, const char *id, struct berr *err)
{
    if (!caller)
        return true;
    uid_t creator;
    if (record_creator(dirfd, &creator, err) < 0) {
        berr_wrap(err, "container %.12s", id);
        return false;
    }
    if (creator == caller->uid)
        return true;
    berr_set(err, BERR_NOT_FOUND, "No such container: %s", id);
    return false;
}

static void key_strv_or_null(yajl_gen g, const char *key, const struct strv *v)
{
    json_key_strv(g, key, v->n ? v : NULL);
}

/* docker's Config as docker derives it from the flags and the image (the hostname is the
 * description's, added when rendered). */
static void write_config_section(yajl_gen g, const struct container_spec *s)
{
    json_str(g, "Config");
    yajl_gen_map_open(g);
    json_key_str(g, "User", s->user ? s->user : s->image_user ? s->image_user : "");
    json_key_bool(g, "AttachStdin", false);
    json_key_bool(g, "OpenStdin", s->interactive);
    struct strv env = {0};
    spec_base_env(s, &env);
    json_key_strv(g, "Env", &env);
    strv_free(&env);
    key_strv_or_null(g, "Cmd", s->cmd.n || s->entrypoint_set ? &s->cmd : &s->image_cmd);
    json_key_str(g, "Image", s->image_ref);
    json_key_str(g, "WorkingDir",
                 s->workdir         ? s->workdir
                 : s->image_workdir ? s->image_workdir
                                    : "");
    key_strv_or_null(g, "Entrypoint", s->entrypoint_set ? &s->entrypoint : &s->image_entrypoint);
    yajl_gen_map_close(g);
}

/* The flags as given, which the description's resolved values cannot tell back. */
static void write_given_flags(yajl_gen g, const struct container_spec *s)
{
    json_str(g, "HostConfig");
    yajl_gen_map_open(g);
    struct strv binds = {0};
    for (size_t i = 0; i < s->nbinds; i++)
        strv_push_owned(&binds, xasprintf("%s:%s%s", s->binds[i].source, s->binds[i].dest,
                                          s->binds[i].readonly ? ":ro" : ""));
    key_strv_or_null(g, "Binds", &binds);
    strv_free(&binds);
    json_key_bool(g, "AutoRemove", s->remove_on_exit);
    key_strv_or_null(g, "CapAdd", &s->cap_add);
    key_strv_or_null(g, "CapDrop", &s->cap_drop);
    key_strv_or_null(g, "GroupAdd", &s->group_add);
    struct strv secopt = {0};
    if (s->no_new_privs)
        strv_push(&secopt, "no-new-privileges");
    if (s->seccomp == RUNTIME_SECCOMP_UNCONFINED)
        strv_push(&secopt, "seccomp=unconfined");
    else if (s->seccomp == RUNTIME_SECCOMP_PROFILE)
        strv_push_owned(&secopt, xasprintf("seccomp=%s", s->seccomp_path));
    key_strv_or_null(g, "SecurityOpt", &secopt);
    strv_free(&secopt);
    const struct cgroup_limits *l = &s->limits;
    json_key_int(g, "NanoCpus", l->nano_cpus);
    json_key_int(g, "CpuPeriod", l->cpu_period);
    json_key_int(g, "CpuQuota", l->cpu_quota);
    json_key_int(g, "CpuShares", l->cpu_shares);
    json_key_str(g, "CpusetCpus", l->cpuset_cpus ? l->cpuset_cpus : "");
    json_key_str(g, "CpusetMems", l->cpuset_mems ? l->cpuset_mems : "");
    json_key_int(g, "Memory", l->memory);
    /* docker records the swap it applies: twice the memory when only --memory was given */
    json_key_int(g, "MemorySwap", l->memory_swap ? l->memory_swap : l->memory ? 2 * l->memory : 0);
    json_key_int(g, "PidsLimit", l->pids_limit);
    yajl_gen_map_close(g);
}

int record_write(int dirfd, uid_t creator, const struct container_spec *spec,
                 const struct container_state *st, struct berr *err)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_int(g, "CreatorUid", creator);
    json_key_str(g, "Name", st->name);
    key_time(g, "Created", &st->created);
    json_key_str(g, "ImageID", spec->image_id);
    write_given_flags(g, spec);
    write_config_section(g, spec);
    yajl_gen_map_close(g);
    return json_gen_write_at(g, dirfd, RECORD_FILE, err);
}

int record_read(int dirfd, yajl_val *out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    if (read_file_at(dirfd, RECORD_FILE, 4 << 20, &text, NULL, err) < 0)
        return -1;
    if (json_parse(text, out, err) < 0)
        return berr_wrap(err, RECORD_FILE);
    return 0;
}
