/* The spec of a container as `run` gives it: freed, checked as docker checks it, and what
 * docker derives from it before anything runs (the command, the base environment). */
#include "internal.h"

#include <string.h>

void runtime_spec_free(struct container_spec *spec)
{
    free(spec->name);
    free(spec->image_ref);
    free(spec->image_id);
    strv_free(&spec->layers);
    strv_free(&spec->image_env);
    strv_free(&spec->image_entrypoint);
    strv_free(&spec->image_cmd);
    free(spec->image_workdir);
    free(spec->image_user);
    strv_free(&spec->entrypoint);
    strv_free(&spec->cmd);
    strv_free(&spec->env);
    free(spec->user);
    strv_free(&spec->group_add);
    free(spec->workdir);
    free(spec->hostname);
    free(spec->cidfile);
    free(spec->cgroup_parent);
    cgroup_limits_free(&spec->limits);
    strv_free(&spec->cap_add);
    strv_free(&spec->cap_drop);
    for (size_t i = 0; i < spec->nbinds; i++)
        mount_bind_free(&spec->binds[i]);
    free(spec->binds);
    free(spec->seccomp_path);
    free(spec->seccomp_profile);
    *spec = (struct container_spec){0};
}

static bool name_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '_' || c == '.' || c == '-');
}

bool runtime_name_valid(const char *name)
{
    if (*name == '/')
        name++;
    if (strlen(name) < 2)
        return false;
    for (const char *p = name; *p; p++) {
        if (!name_char(*p, p == name))
            return false;
    }
    return true;
}

/* RFC 1123 label characters, as sethostname and resolvers expect. */
static bool hostname_valid(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 64)
        return false;
    for (const char *p = h; *p; p++) {
        if (!name_char(*p, false) || *p == '_')
            return false;
    }
    return true;
}

int spec_check(const struct container_spec *spec, struct berr *err)
{
    if (spec->name && !runtime_name_valid(spec->name))
        return berr_set(err, BERR_USAGE,
                        "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                        spec->name);
    if (spec->workdir && spec->workdir[0] != '/')
        return berr_set(err, BERR_USAGE,
                        "the working directory '%s' is invalid, it needs to be an absolute path",
                        spec->workdir);
    if (spec->hostname && !hostname_valid(spec->hostname))
        return berr_set(err, BERR_USAGE, "invalid hostname format: %s", spec->hostname);
    struct cap_set caps;
    if (caps_effective_set(&spec->cap_add, &spec->cap_drop, &caps, err) < 0 ||
        cgroup_limits_check(&spec->limits, err) < 0)
        return -1;
    if (spec->cgroup_parent && cgroup_parent_check(spec->cgroup_parent, err) < 0)
        return -1;
    for (size_t i = 0; i < spec->env.n; i++) {
        const char *eq = strchr(spec->env.v[i], '=');
        if (!eq || eq == spec->env.v[i])
            return berr_set(err, BERR_USAGE, "invalid environment variable: %s", spec->env.v[i]);
    }
    return 0;
}

int runtime_spec_validate(struct container_spec *spec, struct berr *err)
{
    if (spec_check(spec, err) < 0)
        return -1;
    spec->validated = true;
    return 0;
}

void spec_base_env(const struct container_spec *spec, struct strv *env)
{
    ssize_t p = strv_find_env(&spec->image_env, "PATH");
    strv_push(env, p >= 0 ? spec->image_env.v[p] : "PATH=" DEFAULT_PATH);
    for (size_t i = 0; i < spec->image_env.n; i++)
        strv_set_env(env, spec->image_env.v[i]);
    for (size_t i = 0; i < spec->env.n; i++)
        strv_set_env(env, spec->env.v[i]);
}

/* docker's Path and Args: the first word of Entrypoint+Cmd and the rest */
void spec_command(const struct container_spec *s, struct strv *argv)
{
    const struct strv *ep = s->entrypoint_set ? &s->entrypoint : &s->image_entrypoint;
    const struct strv *cmd = s->cmd.n ? &s->cmd : s->entrypoint_set ? NULL : &s->image_cmd;
    for (size_t i = 0; i < ep->n; i++)
        strv_push(argv, ep->v[i]);
    for (size_t i = 0; cmd && i < cmd->n; i++)
        strv_push(argv, cmd->v[i]);
}

void spec_process_env(const struct container_spec *spec, const char *hostname, const char *home,
                      struct strv *env)
{
    struct strv base = {0};
    spec_base_env(spec, &base);
    strv_push(env, base.v[0]);
    strv_push_owned(env, xasprintf("HOSTNAME=%s", hostname));
    for (size_t i = 1; i < base.n; i++)
        strv_set_env(env, base.v[i]);
    strv_free(&base);
    if (strv_find_env(env, "HOME") < 0)
        strv_push_owned(env, xasprintf("HOME=%s", home ? home : "/"));
}

char *spec_workdir(const struct container_spec *s)
{
    return path_clean(s->workdir ? s->workdir : s->image_workdir ? s->image_workdir : "/");
}
