/* berth-oci's command line pieces that every command uses: its flags, its errors (on stderr
 * and, with --log, in the log file in runc's text or json form), JSON output, pid files. */
#include "oci.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

void oci_log_line(const struct oci_cli *cli, const char *level, const char *msg)
{
    if (!cli->log)
        return;
    FILE *f = fopen(cli->log, "ae");
    if (!f)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char t[40];
    format_rfc3339(&now, t);
    if (cli->log_json) {
        yajl_gen g = json_gen_new(false);
        yajl_gen_map_open(g);
        json_key_str(g, "level", level);
        json_key_str(g, "msg", msg);
        json_key_str(g, "time", t);
        yajl_gen_map_close(g);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        fprintf(f, "%.*s\n", (int)len, (const char *)buf);
        yajl_gen_free(g);
    } else {
        fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg);
    }
    fclose(f);
}

int oci_fail(const struct oci_cli *cli, const struct berr *err)
{
    fprintf(stderr, "berth-oci: %s\n", err->msg);
    oci_log_line(cli, "error", err->msg);
    return 1;
}

int oci_usage_error(const struct oci_cli *cli, const char *fmt, const char *arg)
{
    struct berr err = {0};
    berr_set(&err, BERR_USAGE, fmt, arg);
    return oci_fail(cli, &err);
}

void oci_print_gen(yajl_gen g, FILE *out)
{
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    fprintf(out, "%.*s\n", (int)len, (const char *)buf);
    yajl_gen_free(g);
}

/* "--flag value", "--flag=value" or "-f value": the value, advancing *i; NULL when not flag. */
const char *oci_opt_value(int argc, char **argv, int *i, const char *longname,
                          const char *shortname)
{
    const char *a = argv[*i];
    size_t ln = strlen(longname);
    if (!strncmp(a, longname, ln) && a[ln] == '=')
        return a + ln + 1;
    if ((!strcmp(a, longname) || (shortname && !strcmp(a, shortname))) && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

bool oci_is_flag(const char *a, const char *longname, const char *shortname)
{
    return !strcmp(a, longname) || (shortname && !strcmp(a, shortname));
}

int oci_write_pid_file(const char *path, pid_t pid, struct berr *err)
{
    /* runc writes it atomically, as its callers read it at once */
    _cleanup_free_ char *tmp = xasprintf("%s.berth-oci-tmp", path);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
    if (fd < 0 || write_all(fd, buf, (size_t)n) < 0 || rename(tmp, path) < 0) {
        berr_errno(err, "pid file %s", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int oci_connect_console(const char *path, struct berr *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return berr_set(err, BERR_USAGE, "--console-socket %s: path too long", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berr_errno(err, "--console-socket %s: socket", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        berr_errno(err, "--console-socket %s: connect", path);
        close(fd);
        return -1;
    }
    return fd;
}
