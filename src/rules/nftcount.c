#include "rules/nftcount.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct tally {
	long n;
	int type;   /* the reply message counted (NFT_MSG_NEWRULE / NEWSETELEM) */
};

/* A rule dump answers one message per rule. */
static int count_rule(const struct nlmsghdr *nlh, void *data)
{
	struct tally *t = data;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == t->type)
		t->n++;
	return MNL_CB_OK;
}

/* A set element dump answers messages that each carry a list of elements. */
static int count_elements(const struct nlmsghdr *nlh, void *data)
{
	struct tally *t = data;
	const struct nlattr *attr, *elem;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != t->type)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(attr) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(elem, attr)
				t->n++;
	return MNL_CB_OK;
}

/* One dump request (type, with table and a chain or set name) answered in
 * the namespace at netns_path, each reply message passed to cb. */
static long dump_count(const char *netns_path, uint16_t type, uint16_t name_attr,
		       const char *table, const char *name, mnl_cb_t cb, int reply_type)
{
	/* The kernel fills a dump message up to the reader's buffer (32 KiB at
	 * most), and resumes each one by skipping the rules already sent: a
	 * large buffer means fewer, fuller rounds. */
	static char buf[65536];
	struct tally t = { 0, reply_type };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int saved, e, rc;
	ssize_t n;

	/* The socket belongs to the namespace it is made in. */
	if (netns_enter(netns_path, &saved)) {
		nf_err("cannot enter %s: %s", netns_path, strerror(errno));
		return -1;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	e = errno;
	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(nl);
		nl = NULL;
	}
	netns_leave(saved);
	if (!nl) {
		nf_err("cannot open a netfilter netlink socket in %s: %s", netns_path, strerror(e));
		return -1;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_IPV4, NLM_F_DUMP | NLM_F_ACK, seq);
	/* The kernel filters a rule dump by table and chain, and dumps one
	 * set's elements: the listing never leaves the kernel whole. */
	mnl_attr_put_strz(nlh, type == NFT_MSG_GETRULE ? NFTA_RULE_TABLE : NFTA_SET_ELEM_LIST_TABLE,
			  table);
	mnl_attr_put_strz(nlh, name_attr, name);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		nf_err("cannot ask nf_tables for %s: %s", name, strerror(errno));
		mnl_socket_close(nl);
		return -1;
	}
	rc = MNL_CB_OK;
	while (rc > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, cb, &t);
	e = errno;
	mnl_socket_close(nl);
	if (rc < 0) {
		if (e == ENOENT) /* no such table, chain or set: it holds nothing */
			return 0;
		nf_err("counting %s in table %s failed: %s", name, table, strerror(e));
		return -1;
	}
	return t.n;
}

long nftcount_rules(const char *netns_path, const char *table, const char *chain)
{
	return dump_count(netns_path, NFT_MSG_GETRULE, NFTA_RULE_CHAIN, table, chain, count_rule,
			  NFT_MSG_NEWRULE);
}

long nftcount_set_elements(const char *netns_path, const char *table, const char *set)
{
	return dump_count(netns_path, NFT_MSG_GETSETELEM, NFTA_SET_ELEM_LIST_SET, table, set,
			  count_elements, NFT_MSG_NEWSETELEM);
}
