/* Who is asking, and what berth may do for them.
 *
 * berth does the container work itself and needs root. It is run by root, or by a setuid
 * launcher: Storm's worker-launcher execs `docker.binary` with a real uid of 0 and the worker
 * user as effective uid, as it would the docker client, which only talks to dockerd. A real
 * uid of 0 can become root again at will, so berth takes root back; what the launcher meant by
 * the effective uid, berth keeps as its caller, as docker's daemon keeps its client apart:
 * files the caller names are opened as the caller, it sees and acts on its own containers
 * only, and nothing it controls (environment, signals, umask, limits, store flags) steers the
 * root process. Anyone else who is not root is told, once, that berth needs root. */
#include "conf/conf.h"
#include "launcher.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

extern char **environ;

#define SAFE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A closed 0, 1 or 2 would be taken by the next open, and berth's output would land in it. */
void stdio_open_missing(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", O_RDWR);
        if (n != fd) /* /dev/null missing or not the lowest free: no safe place for output */
            abort();
    }
}

static int become_root(struct berr *err)
{
    if (setresuid(0, 0, 0) < 0 || setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0)
        return berr_errno(err, "take root back from the setuid launcher");
    return 0;
}

static void reset_signals(void)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL); /* glibc's reserved signals refuse: harmless */
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The limits a service of this host starts with: pid 1's. A hard limit the caller lowered
 * comes back only where the kernel lets root raise it (CAP_SYS_RESOURCE); elsewhere it stays
 * as low as the caller made it, with the soft limit up to it. */
static void reset_rlimits(void)
{
    for (int r = 0; r < RLIM_NLIMITS; r++) {
        struct rlimit want, cur;
        if (prlimit(1, (enum __rlimit_resource)r, NULL, &want) < 0 ||
            getrlimit((enum __rlimit_resource)r, &cur) < 0)
            continue;
        if (setrlimit((enum __rlimit_resource)r, &want) == 0)
            continue;
        if (want.rlim_max > cur.rlim_max)
            want.rlim_max = cur.rlim_max;
        if (want.rlim_cur > want.rlim_max)
            want.rlim_cur = want.rlim_max;
        setrlimit((enum __rlimit_resource)r, &want);
    }
}

void process_state_reset(void)
{
    reset_signals();
    umask(022);
    reset_rlimits();
}

/* The caller's environment stays readable for docker's `-e NAME` (its own values, for its own
 * container); berth's own environment, and what anything it runs inherits, is rebuilt. */
static void replace_environment(struct cli *cli)
{
    for (char **e = environ; e && *e; e++)
        strv_push(&cli->caller_env, *e);
    clearenv();
    setenv("PATH", SAFE_PATH, 1);
}

int caller_take(struct cli *cli, struct berr *err)
{
    stdio_open_missing();
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) < 0)
        return berr_errno(err, "getresuid");
    cli->root_caller = r == 0 && e == 0;
    if (r != 0 || e == 0)
        return 0;
    cli->caller = xcalloc(1, sizeof(*cli->caller));
    if (ident_with_own_groups(cli->caller, geteuid(), getegid(), err) < 0 || become_root(err) < 0)
        return -1;
    cli->root_caller = false;
    process_state_reset();
    replace_environment(cli);
    return 0;
}

void caller_free(struct cli *cli)
{
    if (cli->caller)
        ident_free(cli->caller);
    free(cli->caller);
    cli->caller = NULL;
    strv_free(&cli->caller_env);
    free(cli->root), free(cli->runroot);
    cli->root = cli->runroot = NULL;
    free(cli->cgroup_parent), free(cli->seccomp_profile);
    cli->cgroup_parent = cli->seccomp_profile = NULL;
}

const char *cli_getenv(const struct cli *cli, const char *name)
{
    if (!cli->caller)
        return getenv(name);
    size_t n = strlen(name);
    for (size_t i = 0; i < cli->caller_env.n; i++) {
        const char *kv = cli->caller_env.v[i];
        if (!strncmp(kv, name, n) && kv[n] == '=')
            return kv + n + 1;
    }
    return NULL;
}

/* The installed path, also in the berth re-executed from a read-only clone of its binary. */
static char *self_exe(void)
{
    _cleanup_free_ char *dir = runtime_install_dir();
    return dir ? xasprintf("%s/berth", dir) : NULL;
}

int cli_reexec_readonly(const struct cli *cli, struct berr *err)
{
    if (!cli->caller)
        return runtime_reexec_readonly(environ, NULL, err);
    /* replayed as the launcher handed it over: the caller's environment and ids */
    char *none[] = {NULL};
    return runtime_reexec_readonly(cli->caller_env.n ? cli->caller_env.v : none, cli->caller, err);
}

/* A BERTH_* default for root's own berth: NULL when unset or empty, or for a handed-over
 * caller, whose environment steers nothing. */
static const char *env_default(const struct cli *cli, const char *name)
{
    const char *v = cli->caller ? NULL : getenv(name);
    return v && *v ? v : NULL;
}

/* run's defaults: BERTH_CGROUP_PARENT and BERTH_SECCOMP_PROFILE over berth.conf (run's flags
 * come first, in cmd_run) */
static int resolve_run_defaults(struct cli *cli, struct berth_conf *conf, struct berr *err)
{
    const char *cg = env_default(cli, "BERTH_CGROUP_PARENT");
    const char *sc = env_default(cli, "BERTH_SECCOMP_PROFILE");
    if ((cg && conf_check_cgroup_parent("BERTH_CGROUP_PARENT", cg, err) < 0) ||
        (sc && conf_check_seccomp_profile("BERTH_SECCOMP_PROFILE", sc, err) < 0))
        return -1;
    cli->cgroup_parent = cg ? xstrdup(cg) : steal_ptr(&conf->cgroup_parent);
    cli->seccomp_profile = sc ? xstrdup(sc) : steal_ptr(&conf->seccomp_profile);
    return 0;
}

int cli_conf(const struct cli *cli, struct berth_conf *out, struct berr *err)
{
    const char *env = cli->caller ? NULL : getenv("BERTH_CONF");
    if (env && *env)
        return conf_berth_read_file(env, out, err);
    _cleanup_free_ char *exe = self_exe();
    if (exe)
        return conf_berth_read(exe, out, err);
    *out = (struct berth_conf){0};
    return conf_berth_read_file("/nonexistent/berth.conf", out, err);
}

/* The store paths and run's defaults: flag > environment > berth.conf > default for root;
 * berth.conf > default for anyone else, whose flags and environment are refused or ignored
 * (cli_admit). */
static int resolve_settings(struct cli *cli, struct berr *err)
{
    struct berth_conf conf = {0};
    if (cli_conf(cli, &conf, err) < 0)
        return -1;
    const char *env_root = cli->caller ? NULL : getenv("BERTH_ROOT");
    const char *env_runroot = cli->caller ? NULL : getenv("BERTH_RUNROOT");
    const char *root = cli->global.root        ? cli->global.root
                       : env_root && *env_root ? env_root
                       : conf.root             ? conf.root
                                               : CONF_DEFAULT_ROOT;
    const char *runroot = cli->global.runroot           ? cli->global.runroot
                          : env_runroot && *env_runroot ? env_runroot
                          : conf.runroot                ? conf.runroot
                                                        : CONF_DEFAULT_RUNROOT;
    cli->root = xstrdup(root);
    cli->runroot = xstrdup(runroot);
    int rc = resolve_run_defaults(cli, &conf, err);
    berth_conf_free(&conf);
    return rc;
}

/* docker's client exits 125 from run (and create) when it cannot reach the daemon, 1 else. */
static int unreachable_code(const struct cli *cli)
{
    return cli->command && !strcmp(cli->command, "run") ? 125 : 1;
}

bool cli_admit(struct cli *cli, int *code)
{
    struct berr err = {0};
    if (cli->caller && (cli->global.root || cli->global.runroot))
        berr_set(&err, BERR_USAGE,
                 "--root and --runroot are root's: a caller handed over by a setuid launcher "
                 "uses the stores of berth.conf");
    else if (resolve_settings(cli, &err) < 0)
        ;
    else if (cli->needs_root && !cli->root_caller && !cli->caller)
        berr_set(&err, BERR_FAILED,
                 "permission denied while trying to reach berth's stores %s and %s: berth %s "
                 "runs as root (uid %u is not) or through a setuid launcher",
                 cli->runroot, cli->root, cli->command ? cli->command : "", (unsigned)getuid());
    else
        return true;
    fprintf(stderr, "berth: %s\n", err.msg);
    *code = err.kind == BERR_USAGE ? 125 : unreachable_code(cli);
    return false;
}
