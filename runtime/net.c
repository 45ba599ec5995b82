/* lo in a container's own network namespace, over rtnetlink with libmnl.
 *
 * libmnl is loaded here, when a lo is brought up, and never linked: every exec of berth loaded
 * it before (~0.15 ms here), twice on each container's start path (the caller and its
 * monitor), and most starts never bring up a lo (Storm's workers run --net=host). The init
 * loads it before pivot_root, from the host's libraries, as the dynamic linker did. */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <time.h>

#define LIBMNL "libmnl.so.0"

struct mnl_api {
    void *lib; /* NULL: not loaded yet */
    __typeof__(mnl_nlmsg_put_header) *put_header;
    __typeof__(mnl_nlmsg_put_extra_header) *put_extra_header;
    __typeof__(mnl_socket_open2) *open2;
    __typeof__(mnl_socket_bind) *bind;
    __typeof__(mnl_socket_get_portid) *get_portid;
    __typeof__(mnl_socket_sendto) *sendto;
    __typeof__(mnl_socket_recvfrom) *recvfrom;
    __typeof__(mnl_cb_run) *cb_run;
    __typeof__(mnl_socket_close) *close;
};

#define SYM(field, name) DL_SYM(struct mnl_api, field, name)

static const struct dl_sym mnl_syms[] = {
    SYM(put_header, "mnl_nlmsg_put_header"),  SYM(put_extra_header, "mnl_nlmsg_put_extra_header"),
    SYM(open2, "mnl_socket_open2"),           SYM(bind, "mnl_socket_bind"),
    SYM(get_portid, "mnl_socket_get_portid"), SYM(sendto, "mnl_socket_sendto"),
    SYM(recvfrom, "mnl_socket_recvfrom"),     SYM(cb_run, "mnl_cb_run"),
    SYM(close, "mnl_socket_close"),
};

/* Bound once per process, and kept: loaded by the process that clones the init
 * (net_preload), it is the init's copy too, which then looks nothing up. */
static struct mnl_api mnl;

static int mnl_api_open(struct berr *err)
{
    if (mnl.lib)
        return 0;
    void *lib = dlopen(LIBMNL, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return berr_set(err, BERR_FAILED, "bring up lo: berth needs %s (Debian: libmnl0): %s",
                        LIBMNL, dlerror());
    const char *missing = dl_bind(lib, mnl_syms, ARRAY_SIZE(mnl_syms), &mnl);
    if (missing) {
        dlclose(lib);
        return berr_set(err, BERR_FAILED, "bring up lo: %s has no %s", LIBMNL, missing);
    }
    mnl.lib = lib;
    return 0;
}

static void net_preload(void)
{
    struct berr ignored = {0};
    (void)mnl_api_open(&ignored);
}

/* In a fresh network namespace lo exists but is down; bring it up over rtnetlink. */
static int net_loopback_up(struct berr *err)
{
    if (mnl_api_open(err) < 0)
        return -1;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl.put_header(buf);
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = (unsigned)time(NULL);
    struct ifinfomsg *ifm = mnl.put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = 1; /* lo is always index 1 in a new namespace */
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;

    struct mnl_socket *nl = mnl.open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl)
        return berr_errno(err, "open rtnetlink");
    int rc = -1;
    if (mnl.bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        berr_errno(err, "bind rtnetlink");
        goto out;
    }
    unsigned portid = mnl.get_portid(nl);
    if (mnl.sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        berr_errno(err, "send RTM_NEWLINK");
        goto out;
    }
    ssize_t n = mnl.recvfrom(nl, buf, sizeof(buf));
    if (n < 0 || mnl.cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0) {
        berr_errno(err, "bring up lo");
        goto out;
    }
    rc = 0;
out:
    mnl.close(nl);
    return rc;
}

void runtime_net_with_libmnl(void)
{
    static const struct net_backend libmnl = {.preload = net_preload,
                                              .loopback_up = net_loopback_up};
    net_backend = &libmnl;
}
