#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* What docker writes for a container without host networking. */
static const char default_hosts[] = "127.0.0.1\tlocalhost\n"
                                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                    "fe00::0\tip6-localnet\n"
                                    "ff00::0\tip6-mcastprefix\n"
                                    "ff02::1\tip6-allnodes\n"
                                    "ff02::2\tip6-allrouters\n";

static int copy_host_file(int dirfd, const char *host_path, const char *name, const char *fallback,
                          struct berr *err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    struct berr ignored;
    if (read_file_at(AT_FDCWD, host_path, 1 << 20, &buf, &len, &ignored) < 0) {
        buf = xstrdup(fallback);
        len = strlen(buf);
    }
    return write_file_atomic_at(dirfd, name, buf, len, 0644, err);
}

int etc_files_write(int dirfd, const char *hostname, enum net_mode net, struct berr *err)
{
    _cleanup_free_ char *hn = xasprintf("%s\n", hostname);
    if (write_file_atomic_at(dirfd, "hostname", hn, strlen(hn), 0644, err) < 0)
        return -1;
    /* with host networking docker copies the host's files as they are at creation */
    int rc = net == NET_HOST ? copy_host_file(dirfd, "/etc/hosts", "hosts", default_hosts, err)
                             : write_file_atomic_at(dirfd, "hosts", default_hosts,
                                                    strlen(default_hosts), 0644, err);
    if (rc < 0)
        return -1;
    return copy_host_file(dirfd, "/etc/resolv.conf", "resolv.conf", "", err);
}
