/* reach: the testbed's reachability check, a real TCP handshake from the
 * cli namespace to the srv namespace (through the router when there is
 * one), on sockets made inside each. See testbed_internal.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testbed/testbed_internal.h"
#include "util/netns.h"

/* One non-blocking connect from a fresh socket in cli, waited for 100 ms:
 * 0 when it completed; else -1 with *last_err the error seen (0: none yet),
 * or -2 when no socket could be made there. */
static int try_connect(const char *cli, const struct sockaddr_in *sa, int *last_err)
{
	int fd = netns_socket(cli, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ret = -1;

	if (fd < 0)
		return -2;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EINPROGRESS) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int soerr = 0;
		socklen_t l = sizeof(soerr);
		if (poll(&p, 1, 100) == 1 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l)) {
			if (soerr == 0)
				ret = 0;
			else
				*last_err = soerr;
		}
	} else {
		*last_err = errno;
	}
	close(fd);
	return ret;
}

int reach_check(const char *name, char *why, size_t whylen)
{
	char cli[256], srv[256];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int lfd, ret = -1, last_err = 0;

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	lfd = netns_socket(srv, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		snprintf(why, whylen, "no socket in %s: %s", srv, strerror(errno));
		return -1;
	}
	inet_pton(AF_INET, TESTBED_SRV_ADDR, &sa.sin_addr);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen)) {
		snprintf(why, whylen, "cannot listen on " TESTBED_SRV_ADDR " in %s: %s", srv,
			 strerror(errno));
		close(lfd);
		return -1;
	}
	/* The link may need a moment after coming up; retry for up to 3 s. */
	for (int attempt = 0; attempt < 30 && ret; attempt++) {
		ret = try_connect(cli, &sa, &last_err);
		if (ret == -2) {
			snprintf(why, whylen, "no socket in %s: %s", cli, strerror(errno));
			break;
		}
		if (ret)
			usleep(100 * 1000);
	}
	if (ret == -1)
		snprintf(why, whylen, "no TCP handshake within 3 s (%s)",
			 last_err ? strerror(last_err) : "no answer: the SYN got no reply");
	close(lfd);
	return ret ? -1 : 0;
}
