#include "rules/nfnl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>

#include "util/util.h"

struct mnl_socket *nfnl_socket_in(const char *netns_path)
{
	struct mnl_socket *nl;
	int saved, e;

	if (netns_enter(netns_path, &saved)) {
		nf_err("cannot enter %s: %s", netns_path, strerror(errno));
		return NULL;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	e = errno;
	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(nl);
		nl = NULL;
	}
	/* Made there: now straight back to our own namespace. */
	netns_leave(saved);
	if (!nl)
		nf_err("cannot open a netfilter netlink socket in %s: %s", netns_path, strerror(e));
	return nl;
}
