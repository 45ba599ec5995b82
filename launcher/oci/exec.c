/* berth-oci exec: a process in a container, from the command line or from a runtime-spec
 * process (--process FILE), of which berth-oci takes only what berth's exec applies. */
#include "oci.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* exec --process FILE: a runtime-spec process; only what berth's exec applies */
static bool same_names(yajl_val a, yajl_val b)
{
    size_t na = YAJL_IS_ARRAY(a) ? a->u.array.len : 0, nb = YAJL_IS_ARRAY(b) ? b->u.array.len : 0;
    for (size_t i = 0; i < na + nb; i++) {
        yajl_val x = i < na ? a->u.array.values[i] : b->u.array.values[i - na];
        yajl_val other = i < na ? b : a;
        size_t no = i < na ? nb : na;
        bool found = false;
        for (size_t j = 0; !found && j < no; j++) {
            const char *y = YAJL_GET_STRING(other->u.array.values[j]);
            const char *xs = YAJL_GET_STRING(x);
            found = xs && y && !strcmp(xs, y);
        }
        if (!found)
            return false;
    }
    return true;
}

/* berth's exec gives the process the container's capabilities: a process.json may only say
 * the same */
static int check_caps(yajl_val want, yajl_val have, const char *path, struct berr *err)
{
    static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable",
                                       "ambient"};
    for (size_t i = 0; want && i < ARRAY_SIZE(sets); i++) {
        if (!same_names(json_get(want, sets[i]), json_get(have, sets[i])))
            return berr_set(err, BERR_FAILED,
                            "--process %s: capabilities.%s: berth-oci's exec applies the "
                            "container's",
                            path, sets[i]);
    }
    return 0;
}

static int read_process(const char *path, yajl_val container, struct exec_spec *spec,
                        struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    yajl_val p = NULL;
    if (read_file_at(AT_FDCWD, path, 4 << 20, &text, NULL, err) < 0 ||
        json_parse(text, &p, err) < 0)
        return berr_wrap(err, "--process %s", path);
    static const char *const keys[] = {"terminal", "user",         "args",    "env",
                                       "cwd",      "capabilities", "rlimits", NULL};
    int rc = 0;
    for (size_t i = 0; YAJL_IS_OBJECT(p) && i < p->u.object.len && rc == 0; i++) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], p->u.object.keys[i]))
            k++;
        if (!keys[k])
            rc = berr_set(err, BERR_FAILED, "--process %s: %s: berth-oci's exec does not apply it",
                          path, p->u.object.keys[i]);
    }
    if (rc == 0)
        rc = check_caps(json_get(p, "capabilities"),
                        json_get(json_get(container, "process"), "capabilities"), path, err);
    /* the limits cross the exec: set on berth-oci itself, which the process descends from */
    _cleanup_free_ char *where = xasprintf("--process %s", path);
    if (rc == 0)
        rc = runtime_oci_rlimits(json_get(p, "rlimits"), getpid(), where, err);
    if (rc == 0 && YAJL_IS_TRUE(json_get(p, "terminal")))
        rc =
            berr_set(err, BERR_FAILED, "--process %s: terminal: berth-oci gives no terminal", path);
    if (rc == 0) {
        json_get_strv(p, "args", &spec->cmd);
        json_get_strv(p, "env", &spec->env);
        const char *cwd = json_get_str(p, "cwd");
        spec->workdir = cwd && *cwd ? xstrdup(cwd) : NULL;
        yajl_val user = json_get(p, "user");
        yajl_val uid = json_get(user, "uid"), gid = json_get(user, "gid");
        if (uid && YAJL_IS_INTEGER(uid))
            spec->user = gid && YAJL_IS_INTEGER(gid)
                             ? xasprintf("%lld:%lld", YAJL_GET_INTEGER(uid), YAJL_GET_INTEGER(gid))
                             : xasprintf("%lld", YAJL_GET_INTEGER(uid));
    }
    yajl_tree_free(p);
    return rc;
}

int oci_cmd_exec(const struct oci_cli *cli, int argc, char **argv)
{
    struct exec_spec spec = {.interactive = true};
    const char *id = NULL, *process = NULL, *pid_file = NULL;
    pid_t detached = 0;
    struct berr err = {0};
    int i = 1;
    for (; i < argc && !id; i++) {
        const char *v;
        if ((v = oci_opt_value(argc, argv, &i, "--process", "-p")))
            process = v;
        else if ((v = oci_opt_value(argc, argv, &i, "--env", "-e")))
            strv_push(&spec.env, v);
        else if ((v = oci_opt_value(argc, argv, &i, "--cwd", NULL)))
            spec.workdir = xstrdup(v);
        else if ((v = oci_opt_value(argc, argv, &i, "--user", "-u")))
            spec.user = xstrdup(v);
        else if ((v = oci_opt_value(argc, argv, &i, "--pid-file", NULL)))
            pid_file = v;
        else if (oci_is_flag(argv[i], "--detach", "-d"))
            spec.detached_pid = &detached;
        else if (oci_is_flag(argv[i], "--tty", "-t"))
            return oci_usage_error(cli, "%s: berth-oci gives no terminal", argv[i]);
        else if (oci_opt_value(argc, argv, &i, "--console-socket", NULL))
            return oci_usage_error(cli, "%s: berth-oci gives no terminal", "--console-socket");
        else if (argv[i][0] == '-')
            return oci_usage_error(cli, "unknown flag %s", argv[i]);
        else
            id = argv[i];
    }
    int rc = 1, status = 0;
    char id64[65];
    if (!id) {
        rc = oci_usage_error(cli, "%s: a container id is required", argv[0]);
        goto out;
    }
    if (pid_file && !spec.detached_pid) {
        rc = oci_usage_error(cli, "--pid-file %s: only with --detach", pid_file);
        goto out;
    }
    if (process) {
        struct runtime_oci_state st;
        if (runtime_oci_state(&cli->paths, id, &st, &err) < 0) {
            rc = oci_fail(cli, &err);
            goto out;
        }
        int prc = read_process(process, st.description, &spec, &err);
        runtime_oci_state_free(&st);
        if (prc < 0) {
            rc = oci_fail(cli, &err);
            goto out;
        }
    }
    for (; i < argc && !process; i++)
        strv_push(&spec.cmd, argv[i]);
    if (runtime_oci_find(&cli->paths, id, id64, &err) < 0 ||
        runtime_exec(&cli->paths, id64, &spec, &status, &err) < 0) {
        rc = oci_fail(cli, &err);
        goto out;
    }
    rc = spec.detached_pid ? 0 : status;
    if (pid_file && oci_write_pid_file(pid_file, detached, &err) < 0) {
        kill(detached, SIGKILL);
        rc = oci_fail(cli, &err);
    }
out:
    strv_free(&spec.cmd);
    strv_free(&spec.env);
    free(spec.user);
    free(spec.workdir);
    return rc;
}
