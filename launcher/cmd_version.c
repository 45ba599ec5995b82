#include "launcher.h"

#include <seccomp.h>
#include <sys/utsname.h>

int cmd_version(struct cli *cli, int argc, char **argv)
{
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth version", "Show the berth version information", NULL, 0, argc,
                       argv, &args, &code))
        return code;
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
