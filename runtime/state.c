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

int state_write(int dirfd, const struct container_state *st, struct berr *err)
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
    return json_gen_write_at(g, dirfd, "state.json", err);
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
    if (read_file_at(dirfd, "state.json", 1 << 20, &text, NULL, err) < 0)
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
    _cleanup_free_ char *text = NULL;
    struct berr read_err = {0};
    if (read_file_at(dirfd, RECORD_FILE, 4 << 20, &text, NULL, &read_err) < 0) {
        if (read_err.errnum == ENOENT)
            return 0;
        *err = read_err;
        return -1;
    }
    yajl_val v;
    if (json_parse(text, &v, err) < 0)
        return berr_wrap(err, RECORD_FILE);
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

static void write_config_section(yajl_gen g, const struct container_spec *s, const char *hostname)
{
    json_str(g, "Config");
    yajl_gen_map_open(g);
    json_key_str(g, "Hostname", hostname);
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

static void write_host_config(yajl_gen g, const struct container_spec *s)
{
    json_str(g, "HostConfig");
    yajl_gen_map_open(g);
    struct strv binds = {0};
    for (size_t i = 0; i < s->nbinds; i++)
        strv_push_owned(&binds, xasprintf("%s:%s%s", s->binds[i].source, s->binds[i].dest,
                                          s->binds[i].readonly ? ":ro" : ""));
    key_strv_or_null(g, "Binds", &binds);
    strv_free(&binds);
    json_key_str(g, "NetworkMode", s->net == NET_HOST ? "host" : "none");
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
    json_key_bool(g, "ReadonlyRootfs", s->readonly_root);
    json_key_str(g, "CgroupParent", s->cgroup_parent ? s->cgroup_parent : RUNTIME_CGROUP_PARENT);
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
    json_key_int(g, "ShmSize", 67108864);
    yajl_gen_map_close(g);
}

static void write_mounts(yajl_gen g, const struct container_spec *s)
{
    json_str(g, "Mounts");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < s->nbinds; i++) {
        yajl_gen_map_open(g);
        json_key_str(g, "Type", "bind");
        json_key_str(g, "Source", s->binds[i].source);
        json_key_str(g, "Destination", s->binds[i].dest);
        json_key_str(g, "Mode", s->binds[i].readonly ? "ro" : "");
        json_key_bool(g, "RW", !s->binds[i].readonly);
        json_key_str(g, "Propagation", "rprivate");
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void write_docker(yajl_gen g, const struct container_spec *spec,
                         const struct container_state *st, const char *hostname,
                         const char *dir_path)
{
    json_str(g, "Docker");
    yajl_gen_map_open(g);
    json_key_str(g, "Id", st->id);
    key_time(g, "Created", &st->created);
    struct strv argv = {0};
    spec_command(spec, &argv);
    json_key_str(g, "Path", argv.n ? argv.v[0] : "");
    json_str(g, "Args");
    yajl_gen_array_open(g);
    for (size_t i = 1; i < argv.n; i++)
        json_str(g, argv.v[i]);
    yajl_gen_array_close(g);
    strv_free(&argv);
    _cleanup_free_ char *image_id = xasprintf("sha256:%s", spec->image_id);
    json_key_str(g, "Image", image_id);
    _cleanup_free_ char *name = xasprintf("/%s", st->name);
    json_key_str(g, "Name", name);
    static const char *const files[][2] = {{"ResolvConfPath", "resolv.conf"},
                                           {"HostnamePath", "hostname"},
                                           {"HostsPath", "hosts"},
                                           {"LogPath", LOG_FILE}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir_path, files[i][1]);
        json_key_str(g, files[i][0], path);
    }
    write_host_config(g, spec);
    write_mounts(g, spec);
    write_config_section(g, spec, hostname);
    yajl_gen_map_close(g);
}

int record_write(int dirfd, uid_t creator, const struct container_spec *spec,
                 const struct container_state *st, const char *hostname, const char *dir_path,
                 struct berr *err)
{
    yajl_gen g = json_gen_new(false);
    yajl_gen_map_open(g);
    json_key_int(g, "CreatorUid", creator);
    write_docker(g, spec, st, hostname, dir_path);
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
