/* berth-oci's terminal (process.terminal with --console-socket), made by the init as runc's
 * is: a pty of the container's own devpts instance, whose slave becomes the init's stdio and
 * controlling terminal and whose master goes to the console socket's listener (conmon, or any
 * caller), which is the only side that ever holds it. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* runc's message with the master: the name of the file it was opened as */
#define CONSOLE_NAME "/dev/ptmx"

int console_setup(int console_fd, struct berr *err)
{
    /* after pivot_root: the container's /dev/ptmx, the pts/ptmx of its new devpts instance,
     * so that the slave is a /dev/pts/N the container sees */
    _cleanup_close_ int master = open(CONSOLE_NAME, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return berr_errno(err, "terminal: open " CONSOLE_NAME);
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
        return berr_errno(err, "terminal: unlock the pty");
    /* the slave by the master's fd, never by a path the container's /dev could redirect */
    _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return berr_errno(err, "terminal: open the pty's slave");
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return berr_errno(err, "terminal: stdio");
    if (ioctl(0, TIOCSCTTY, 0) < 0)
        return berr_errno(err, "terminal: make it the controlling terminal");
    if (send_with_fds(console_fd, CONSOLE_NAME, strlen(CONSOLE_NAME), &master, 1) < 0)
        return berr_errno(err, "terminal: send the pty's master to the console socket");
    return 0;
}
