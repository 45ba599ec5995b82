#include "internal.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <time.h>

/* In a fresh network namespace lo exists but is down; bring it up over rtnetlink. */
int net_loopback_up(struct berr *err)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = (unsigned)time(NULL);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = 1; /* lo is always index 1 in a new namespace */
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;

    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl)
        return berr_errno(err, "open rtnetlink");
    int rc = -1;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        berr_errno(err, "bind rtnetlink");
        goto out;
    }
    unsigned portid = mnl_socket_get_portid(nl);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        berr_errno(err, "send RTM_NEWLINK");
        goto out;
    }
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0 || mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0) {
        berr_errno(err, "bring up lo");
        goto out;
    }
    rc = 0;
out:
    mnl_socket_close(nl);
    return rc;
}
