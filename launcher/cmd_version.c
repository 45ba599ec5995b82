#include "launcher.h"

#include <seccomp.h>
#include <sys/utsname.h>

int cmd_version(struct cli *cli, int argc, char **argv)
{
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    if (opts_parse(NULL, 0, cli, argc, argv, true, &args, &err) < 0) {
        report_error(cli, &err);
        return 125;
    }
    if (cli->global.help) {
        print_usage(stdout, "berth version", "Show the berth version information", NULL, 0);
        return 0;
    }
    struct utsname u;
    uname(&u);
    const struct scmp_version *sv = seccomp_version();
    printf("Client:\n");
    printf(" Version:           %s\n", BERTH_VERSION);
    printf(" API version:       1.41 (docker CLI compatible subset)\n");
    printf(" OS/Arch:           linux/%s\n", u.machine);
    printf(" Kernel:            %s\n", u.release);
    printf(" libseccomp:        %u.%u.%u\n", sv->major, sv->minor, sv->micro);
    return 0;
}
