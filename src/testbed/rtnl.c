/* rtnl: links, addresses, routes and offloads inside one namespace. The
 * rtnetlink socket (libmnl) and the ioctl socket are made inside the
 * namespace (netns_socket), so every request acts there without this
 * process staying in it. See testbed_internal.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testbed/testbed_internal.h"
#include "util/netns.h"

int rtnl_open(struct rtnl *r, const char *nspath)
{
	int fd = netns_socket(nspath, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), e;

	memset(r, 0, sizeof(*r));
	r->ioctl_fd = -1;
	if (fd < 0)
		return -1;
	r->nl = mnl_socket_fdopen(fd);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (unsigned int)time(NULL);
	r->ioctl_fd = netns_socket(nspath, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->ioctl_fd < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	if (r->nl)
		mnl_socket_close(r->nl); /* closes fd too */
	else
		close(fd);
	r->nl = NULL;
	errno = e;
	return -1;
}

void rtnl_close(struct rtnl *r)
{
	int e = errno;

	if (r->nl)
		mnl_socket_close(r->nl);
	if (r->ioctl_fd >= 0)
		close(r->ioctl_fd);
	r->nl = NULL;
	r->ioctl_fd = -1;
	errno = e;
}

/* Sends one request and reads its acknowledgement: 0, or -1 with the
 * kernel's errno. */
static int rtnl_talk(struct rtnl *r, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_seq = ++r->seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, r->seq, r->portid, NULL, NULL) < 0 ? -1 : 0;
}

/* The index of ifname in the socket's namespace; 0 with errno when none. */
static unsigned int rtnl_ifindex(struct rtnl *r, const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	return ioctl(r->ioctl_fd, SIOCGIFINDEX, &ifr) ? 0 : (unsigned int)ifr.ifr_ifindex;
}

int rtnl_veth_create(struct rtnl *r, const char *ifname, const char *peer_ifname,
		     int peer_ns_fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm, *peer;
	struct nlattr *linkinfo, *data, *peer_nest;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	peer = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer));
	peer->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_ifname);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return rtnl_talk(r, nlh);
}

/* An RTM_* link message about ifname in buf: the header, the ifinfomsg
 * (returned, for flags), the name; the caller adds what it changes. */
static struct ifinfomsg *link_msg(char *buf, uint16_t type, const char *ifname,
				  struct nlmsghdr **nlh)
{
	struct ifinfomsg *ifm;

	*nlh = mnl_nlmsg_put_header(buf);
	(*nlh)->nlmsg_type = type;
	(*nlh)->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(*nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(*nlh, IFLA_IFNAME, ifname);
	return ifm;
}

static int link_set_up(struct rtnl *r, const char *ifname, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm = link_msg(buf, RTM_NEWLINK, ifname, &nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return rtnl_talk(r, nlh);
}

int rtnl_link_up(struct rtnl *r, const char *ifname)
{
	return link_set_up(r, ifname, true);
}

int rtnl_link_delete(struct rtnl *r, const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	link_msg(buf, RTM_DELLINK, ifname, &nlh);
	return rtnl_talk(r, nlh);
}

int rtnl_link_rename(struct rtnl *r, const char *ifname, const char *newname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct ifreq ifr;
	unsigned int idx = rtnl_ifindex(r, ifname);
	int ret = -1, e;

	if (!idx)
		return -1;
	/* The kernel renames only a link that is down. */
	if (link_set_up(r, ifname, false) == 0) {
		ifm = link_msg(buf, RTM_NEWLINK, newname, &nlh);
		ifm->ifi_index = (int)idx;
		ret = rtnl_talk(r, nlh);
	}
	e = errno;
	/* Up again, whatever its name is now. */
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)idx;
	if (ioctl(r->ioctl_fd, SIOCGIFNAME, &ifr) == 0)
		link_set_up(r, ifr.ifr_name, true);
	errno = e;
	return ret;
}

int rtnl_addr_add(struct rtnl *r, const char *ifname, const char *addr, int prefixlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	struct in_addr in;
	unsigned int idx;

	if (inet_pton(AF_INET, addr, &in) != 1) {
		errno = EINVAL;
		return -1;
	}
	if (!(idx = rtnl_ifindex(r, ifname)))
		return -1;
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_index = idx;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(in), &in);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(in), &in);
	return rtnl_talk(r, nlh);
}

/* As `ip route add` would: protocol boot, scope universe. */
int rtnl_route_add(struct rtnl *r, const char *dst, int prefixlen, const char *gw,
		   const char *src)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct in_addr d, g, sa;

	if (inet_pton(AF_INET, gw, &g) != 1 || (dst && inet_pton(AF_INET, dst, &d) != 1) ||
	    (src && inet_pton(AF_INET, src, &sa) != 1)) {
		errno = EINVAL;
		return -1;
	}
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = dst ? (unsigned char)prefixlen : 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	if (dst)
		mnl_attr_put(nlh, RTA_DST, sizeof(d), &d);
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(g), &g);
	if (src)
		mnl_attr_put(nlh, RTA_PREFSRC, sizeof(sa), &sa);
	return rtnl_talk(r, nlh);
}

/* Sets one offload of ifname (legacy ethtool commands: every driver with
 * ethtool ops takes them, veth included). */
static int ethtool_set(struct rtnl *r, const char *ifname, uint32_t cmd, bool on)
{
	struct ethtool_value v = { .cmd = cmd, .data = on };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&v;
	return ioctl(r->ioctl_fd, SIOCETHTOOL, &ifr);
}

int rtnl_set_offload(struct rtnl *r, const char *ifname, bool on)
{
	static const uint32_t cmds[] = { ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (ethtool_set(r, ifname, cmds[c], on))
			return -1;
	/* TCP builds GSO skbs whatever the device's offloads (segmenting them
	 * only after the hooks); a device that takes one segment per skb makes
	 * it send one wire packet per skb. 65535: the kernel's GSO_MAX_SEGS,
	 * what a veth starts with. */
	link_msg(buf, RTM_NEWLINK, ifname, &nlh);
	mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SEGS, on ? 65535 : 1);
	if (rtnl_talk(r, nlh)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

int rtnl_addr_add_in(const char *nspath, const char *ifname, const char *addr, int prefixlen)
{
	struct rtnl r;
	int ret;

	if (rtnl_open(&r, nspath))
		return -1;
	ret = rtnl_addr_add(&r, ifname, addr, prefixlen);
	rtnl_close(&r);
	return ret;
}

int rtnl_route_add_in(const char *nspath, const char *dst, int prefixlen, const char *gw,
		      const char *src)
{
	struct rtnl r;
	int ret;

	if (rtnl_open(&r, nspath))
		return -1;
	ret = rtnl_route_add(&r, dst, prefixlen, gw, src);
	rtnl_close(&r);
	return ret;
}
