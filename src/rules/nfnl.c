#include "rules/nfnl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/netns.h"

struct mnl_socket *nfnl_socket_in(const char *netns_path, struct nf_error *err)
{
	/* Made there (util/netns.h), used from here. */
	int fd = netns_socket(netns_path, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct mnl_socket *nl = fd < 0 ? NULL : mnl_socket_fdopen(fd);
	int e = errno;

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(nl); /* closes fd too */
		nl = NULL;
	} else if (!nl && fd >= 0) {
		close(fd);
	}
	if (!nl)
		nf_fail(err, EXIT_RUNTIME, "cannot open a netfilter netlink socket in %s: %s",
			netns_path ? netns_path : "this namespace", strerror(e));
	return nl;
}
