/* flowaddr: a user's flow inside the testbed, for nfcost profile: the
 * flow's addresses given to the sides that own them, host and default
 * routes through the testbed (and its router), interfaces renamed as the
 * user's rule set names them. See testbed.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testbed/testbed_internal.h"
#include "util/util.h"

const char *testbed_ifname(enum testbed_side side, bool toward_srv)
{
	if (side == TESTBED_RTR)
		return toward_srv ? RTR_SRV_IFNAME : RTR_CLI_IFNAME;
	return side == TESTBED_CLI ? CLI_IFNAME : SRV_IFNAME;
}

/* addr/32 on loopback in nspath (already there: fine). */
static int local_add_in(const char *nspath, const char *addr)
{
	return rtnl_addr_add_in(nspath, "lo", addr, 32) && errno != EEXIST ? -1 : 0;
}

/* A host route to dst via gw in nspath (already there: fine). */
static int host_route_in(const char *nspath, const char *dst, const char *gw, const char *src)
{
	return rtnl_route_add_in(nspath, dst, 32, gw, src) && errno != EEXIST ? -1 : 0;
}

int testbed_add_flow_addresses(const char *name, const char *src, const char *dst,
			       struct nf_error *err)
{
	char cli[256], srv[256], rtr[256];
	bool routed = testbed_routed(name);
	const char *cli_addr = routed ? TESTBED_ROUTED_CLI_ADDR : TESTBED_CLI_ADDR;
	const char *step;

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	testbed_netns_path(name, TESTBED_RTR, rtr, sizeof(rtr));
	if (!src)
		src = cli_addr;
	/* The addresses become the hosts' own; the host routes make each side
	 * reach the other's through the testbed's links, and the client's
	 * route names src so connections start from it. On loopback: a host
	 * owns an address whatever interface holds it, and lo keeps its name
	 * when --iface renames the veth. */
	step = "give the server side the flow's destination address";
	if (strcmp(dst, TESTBED_SRV_ADDR) && local_add_in(srv, dst))
		goto fail;
	step = "give the client side the flow's source address";
	if (strcmp(src, cli_addr) && local_add_in(cli, src))
		goto fail;
	step = "route the destination from the client side";
	if ((strcmp(dst, TESTBED_SRV_ADDR) || strcmp(src, cli_addr)) &&
	    host_route_in(cli, dst, routed ? TESTBED_RTR_CLI_ADDR : TESTBED_SRV_ADDR, src))
		goto fail;
	step = "route the source from the server side";
	if (strcmp(src, cli_addr) &&
	    host_route_in(srv, src, routed ? TESTBED_RTR_SRV_ADDR : TESTBED_CLI_ADDR, NULL))
		goto fail;
	step = "route the flow through the router";
	if (routed && ((strcmp(dst, TESTBED_SRV_ADDR) && host_route_in(rtr, dst, TESTBED_SRV_ADDR, NULL)) ||
		       (strcmp(src, cli_addr) && host_route_in(rtr, src, TESTBED_ROUTED_CLI_ADDR, NULL))))
		goto fail;
	return 0;
fail:
	return nf_fail(err, EXIT_RUNTIME, "cannot %s (%s -> %s): %s", step, src, dst,
		       strerror(errno));
}

int testbed_route_any(const char *name, struct nf_error *err)
{
	char cli[256], srv[256], rtr[256];
	bool routed = testbed_routed(name);

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	testbed_netns_path(name, TESTBED_RTR, rtr, sizeof(rtr));
	/* Default routes toward the other side: the client's through the
	 * router already exists in a routed testbed. */
	if ((!routed && rtnl_route_add_in(cli, NULL, 0, TESTBED_SRV_ADDR, NULL) && errno != EEXIST) ||
	    (routed && rtnl_route_add_in(rtr, NULL, 0, TESTBED_SRV_ADDR, NULL) && errno != EEXIST) ||
	    (rtnl_route_add_in(srv, NULL, 0, TESTBED_CLI_ADDR, NULL) && errno != EEXIST))
		return nf_fail(err, EXIT_RUNTIME, "cannot add the testbed's default routes: %s",
			       strerror(errno));
	return 0;
}

int testbed_add_local_address(const char *name, enum testbed_side side, const char *addr,
			      struct nf_error *err)
{
	char ns[256];

	testbed_netns_path(name, side, ns, sizeof(ns));
	if (local_add_in(ns, addr))
		return nf_fail(err, EXIT_RUNTIME, "cannot add %s to %s: %s", addr, ns,
			       strerror(errno));
	return 0;
}

int testbed_rename_iface(const char *name, enum testbed_side side, bool toward_srv,
			 const char *newname, struct nf_error *err)
{
	char ns[256];
	const char *old = testbed_ifname(side, toward_srv);
	struct rtnl r;
	int ret;

	testbed_netns_path(name, side, ns, sizeof(ns));
	if (rtnl_open(&r, ns))
		return nf_fail(err, EXIT_RUNTIME, "cannot enter %s: %s", ns, strerror(errno));
	/* IPv4 drops the routes through a link while it is down for the
	 * rename: rename before the flow's routes are added. */
	ret = rtnl_link_rename(&r, old, newname);
	rtnl_close(&r);
	if (ret)
		return nf_fail(err, EXIT_RUNTIME, "cannot rename %s to %s in %s: %s", old, newname,
			       ns, strerror(errno));
	return 0;
}
