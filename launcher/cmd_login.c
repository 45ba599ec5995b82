/* berth login / logout: docker's `login [-u USER] [-p PASS | --password-stdin] [SERVER]` and
 * `logout [SERVER]`. The credentials are checked against the registry as docker checks them
 * (GET /v2/ with them, the token flow included) and kept as docker keeps them (config.json,
 * or the credential helper it names for the registry), so a login made by docker works for
 * berth and the other way round. A caller handed over by a setuid launcher is refused: its
 * credentials file would be written by root with root's rights. */
#include "launcher.h"
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <termios.h>

#define SECRET_MAX 4096

/* "https://host:5000/v2/" → "host:5000"; docker.io's names → "docker.io" */
static char *server_domain(const char *server)
{
    const char *s = server;
    if (str_has_prefix(s, "https://"))
        s += 8;
    else if (str_has_prefix(s, "http://"))
        s += 7;
    char *d = strndup(s, strcspn(s, "/"));
    if (!strcmp(d, "index.docker.io") || !strcmp(d, "registry-1.docker.io")) {
        free(d);
        d = xstrdup("docker.io");
    }
    return d;
}

static char *read_line(FILE *in, bool echo)
{
    struct termios old, quiet;
    bool restore = false;
    if (!echo && tcgetattr(fileno(in), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(fileno(in), TCSAFLUSH, &quiet) == 0;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, in);
    if (restore) {
        tcsetattr(fileno(in), TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static int config_file(struct cli *cli, char **path, char **text, struct berr *err)
{
    (void)cli;
    *path = registry_config_path(getenv("DOCKER_CONFIG"), getenv("HOME"), getuid());
    *text = NULL;
    if (read_file_at(AT_FDCWD, *path, 1 << 20, text, NULL, err) < 0 && err->errnum != ENOENT)
        return -1;
    return 0;
}

static int config_write(const char *path, const char *text, struct berr *err)
{
    _cleanup_free_ char *copy = xstrdup(path);
    const char *dir = dirname(copy);
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(err, "open %s", dir);
    _cleanup_free_ char *cp2 = xstrdup(path);
    return write_file_atomic_at(dfd, basename(cp2), text, strlen(text), 0600, err);
}

static bool refuse_handed_over(struct cli *cli, const char *what, int *code)
{
    if (!cli->caller)
        return false;
    struct berr err = {0};
    berr_set(&err, BERR_FAILED,
             "%s: a caller handed over by a setuid launcher has no credentials of its own here",
             what);
    report_error(cli, &err);
    *code = 1;
    return true;
}

int cmd_login(struct cli *cli, int argc, char **argv)
{
    char *user = NULL, *pass = NULL;
    bool pass_stdin = false;
    const struct opt opts[] = {
        {"password", 'p', OPT_STRING, &pass, "Password", NULL},
        {"password-stdin", 0, OPT_BOOL, &pass_stdin, "Take the password from stdin", NULL},
        {"username", 'u', OPT_STRING, &user, "Username", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    _cleanup_free_ char *domain = NULL, *path = NULL, *text = NULL, *updated = NULL;
    _cleanup_free_ char *helper = NULL;
    struct registry_opts o = {0};
    int code;
    if (!parse_command(cli, "berth login [OPTIONS] [SERVER]",
                       "Log in to a registry.\nIf no server is specified, the default is defined "
                       "by the daemon.",
                       opts, ARRAY_SIZE(opts), argc, argv, &args, &code))
        goto out;
    code = 1;
    if (refuse_handed_over(cli, "login", &code))
        goto out;
    if (args.n > 1) {
        berr_set(&err, BERR_USAGE, "\"berth login\" requires at most 1 argument.");
        goto fail;
    }
    if (pass && pass_stdin) {
        berr_set(&err, BERR_USAGE, "--password and --password-stdin are mutually exclusive");
        goto fail;
    }
    if (pass_stdin) {
        if (!user) {
            berr_set(&err, BERR_USAGE, "Must provide --username with --password-stdin");
            goto fail;
        }
        _cleanup_free_ char *in = NULL;
        size_t len = 0;
        if (read_fd_all(STDIN_FILENO, SECRET_MAX, &in, &len, &err) < 0)
            goto fail;
        in[strcspn(in, "\r\n")] = '\0';
        pass = steal_ptr(&in);
    }
    if (pass && !pass_stdin)
        fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
                        "--password-stdin.\n");
    if (!user || !pass) {
        if (!isatty(STDIN_FILENO)) {
            berr_set(&err, BERR_FAILED,
                     "Error: Cannot perform an interactive login from a non TTY device");
            goto fail;
        }
        if (!user) {
            fprintf(stderr, "Username: ");
            user = read_line(stdin, true);
        }
        if (user && !pass) {
            fprintf(stderr, "Password: ");
            pass = read_line(stdin, false);
        }
        if (!user || !*user) {
            berr_set(&err, BERR_FAILED, "Error: Non-null Username Required");
            goto fail;
        }
    }
    domain = server_domain(args.n ? args.v[0] : "docker.io");
    if (cli_registry_opts(cli, domain, false, &o, &err) < 0)
        goto fail;
    o.auth.user = xstrdup(user);
    o.auth.pass = xstrdup(pass ? pass : "");
    if (registry_login(&o, domain, &err) < 0) {
        _cleanup_free_ char *m = xstrdup(err.msg);
        berr_set(&err, BERR_FAILED, "Error response from daemon: %s", m);
        goto fail;
    }
    /* with a helper for this registry the secret is the helper's, as docker keeps it */
    bool has_entry;
    if (config_file(cli, &path, &text, &err) < 0 ||
        registry_store_helper(text, domain, &helper, &has_entry, &err) < 0 ||
        (helper && registry_helper_store(helper, registry_auth_key(domain), user, pass ? pass : "",
                                         &err) < 0) ||
        registry_auths_update(text, domain, user,
                              helper ? NULL
                              : pass ? pass
                                     : "",
                              &updated, &err) < 0 ||
        config_write(path, updated, &err) < 0)
        goto fail;
    printf("Login Succeeded\n");
    code = 0;
    goto out;
fail:
    report_error(cli, &err);
out:
    registry_opts_free(&o);
    free(user);
    if (pass)
        explicit_bzero(pass, strlen(pass));
    free(pass);
    if (updated)
        explicit_bzero(updated, strlen(updated));
    return code;
}

int cmd_logout(struct cli *cli, int argc, char **argv)
{
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    _cleanup_free_ char *domain = NULL, *path = NULL, *text = NULL, *updated = NULL;
    int code;
    if (!parse_command(cli, "berth logout [SERVER]",
                       "Log out from a registry.\nIf no server is specified, the default is "
                       "defined by the daemon.",
                       NULL, 0, argc, argv, &args, &code))
        return code;
    code = 1;
    if (refuse_handed_over(cli, "logout", &code))
        return code;
    if (args.n > 1) {
        berr_set(&err, BERR_USAGE, "\"berth logout\" requires at most 1 argument.");
        report_error(cli, &err);
        return code;
    }
    const char *server = args.n ? args.v[0] : "docker.io";
    domain = server_domain(server);
    _cleanup_free_ char *helper = NULL;
    bool had;
    if (config_file(cli, &path, &text, &err) < 0 ||
        registry_store_helper(text, domain, &helper, &had, &err) < 0) {
        report_error(cli, &err);
        return code;
    }
    /* docker's test: an auths entry, which a helper's login leaves empty */
    const char *shown = strcmp(domain, "docker.io") ? domain : registry_auth_key(domain);
    if (!had) {
        printf("Not logged in to %s\n", shown);
        return 0;
    }
    printf("Removing login credentials for %s\n", shown);
    struct berr herr = {0};
    if (helper && registry_helper_erase(helper, registry_auth_key(domain), &herr) < 0)
        fprintf(stderr, "WARNING: could not erase credentials: %s\n", herr.msg);
    if (registry_auths_update(text, domain, NULL, NULL, &updated, &err) < 0 ||
        config_write(path, updated, &err) < 0) {
        report_error(cli, &err);
        return code;
    }
    return 0;
}
