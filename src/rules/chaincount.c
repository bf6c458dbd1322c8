/* chaincount: see chaincount.h. */
#include "rules/chaincount.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/netns.h"

/* The kernel fills a dump message up to the reader's buffer: a large
 * one means fewer rounds. */
#define DUMP_BUF 65536

struct chain_list {
	struct chain_count *v;
	size_t n, cap;
	bool oom;
};

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_IPV4: return "ipv4";
	case NFPROTO_IPV6: return "ipv6";
	case NFPROTO_INET: return "inet";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	default: return "other";
	}
}

static uint32_t family_number(const char *name)
{
	static const uint32_t nums[] = { NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET, NFPROTO_ARP,
					 NFPROTO_BRIDGE, NFPROTO_NETDEV };
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (!strcmp(family_name(nums[i]), name))
			return nums[i];
	return NFPROTO_UNSPEC;
}

/* iptables-nft makes tables named as iptables' own, in families ip, ip6,
 * arp and bridge; its base chains are named as iptables' (upper case). */
static const char *guess_backend(const char *family, const char *table)
{
	static const char *const xt_tables[] = { "filter", "nat", "mangle", "raw", "security",
						 "broute" };
	if (!strcmp(family, "inet") || !strcmp(family, "netdev"))
		return "nft";
	for (size_t i = 0; i < sizeof(xt_tables) / sizeof(xt_tables[0]); i++)
		if (!strcmp(table, xt_tables[i]))
			return "iptables-nft";
	return "nft";
}

static int on_chain(const struct nlmsghdr *nlh, void *data)
{
	struct chain_list *l = data;
	struct nftnl_chain *c;
	struct chain_count *cc;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWCHAIN || l->oom)
		return MNL_CB_OK;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct chain_count *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->oom = true;
			return MNL_CB_OK;
		}
		l->v = v;
		l->cap = cap;
	}
	if (!(c = nftnl_chain_alloc()))
		return MNL_CB_OK;
	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 && nftnl_chain_is_set(c, NFTNL_CHAIN_NAME)) {
		cc = &l->v[l->n++];
		memset(cc, 0, sizeof(*cc));
		snprintf(cc->family, sizeof(cc->family), "%s",
			 family_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY)));
		snprintf(cc->table, sizeof(cc->table), "%s", nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
		snprintf(cc->chain, sizeof(cc->chain), "%s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
		cc->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
		cc->rules = nftnl_chain_is_set(c, NFTNL_CHAIN_USE)
			? (long)nftnl_chain_get_u32(c, NFTNL_CHAIN_USE) : -1;
		cc->backend = guess_backend(cc->family, cc->table);
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int on_rule(const struct nlmsghdr *nlh, void *data)
{
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE)
		(*(long *)data)++;
	return MNL_CB_OK;
}

/* Sends nlh and runs cb over the dump's answer. 0, or -errno. */
static int dump(struct mnl_socket *nl, struct nlmsghdr *nlh, char *buf, mnl_cb_t cb,
		void *data)
{
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	int rc = MNL_CB_OK;
	ssize_t n = 0;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while (rc > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, DUMP_BUF)) > 0)
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	if (rc < 0 || n < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* A regular chain's use count also holds the jumps to it: its rules are
 * counted from a dump of that chain alone (the kernel filters it). */
static int count_rules(struct mnl_socket *nl, char *buf, struct chain_count *cc, uint32_t seq)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE,
						     (uint16_t)family_number(cc->family),
						     NLM_F_DUMP | NLM_F_ACK, seq);
	long n = 0;
	int rc;

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, cc->table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, cc->chain);
	rc = dump(nl, nlh, buf, on_rule, &n);
	if (rc == -ENOENT) { /* deleted between the two dumps */
		cc->rules = 0;
		return 0;
	}
	cc->rules = n;
	return rc;
}

static struct mnl_socket *open_nfnl(const char *netns_path, struct nf_error *err)
{
	int fd = netns_socket(netns_path, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct mnl_socket *nl;

	if (fd < 0) {
		nf_fail(err, EXIT_RUNTIME, "cannot open a netfilter socket in %s: %s",
			netns_path ? netns_path : "this namespace", strerror(errno));
		return NULL;
	}
	if (!(nl = mnl_socket_fdopen(fd)) || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		nf_fail(err, EXIT_RUNTIME, "cannot bind a netfilter socket: %s", strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		else
			close(fd);
		return NULL;
	}
	return nl;
}

int chaincount_all(const char *netns_path, struct chain_count **out, size_t *n,
		   struct nf_error *err)
{
	struct chain_list l = { 0 };
	uint32_t seq = (uint32_t)time(NULL);
	struct mnl_socket *nl;
	char *buf = malloc(DUMP_BUF);
	int rc;

	*out = NULL;
	*n = 0;
	if (!buf)
		return nf_fail(err, EXIT_RUNTIME, "out of memory");
	if (!(nl = open_nfnl(netns_path, err))) {
		free(buf);
		return -1;
	}
	rc = dump(nl, nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC,
					    NLM_F_DUMP | NLM_F_ACK, seq++),
		  buf, on_chain, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		if ((!l.v[i].base && l.v[i].rules > 0) || l.v[i].rules < 0)
			rc = count_rules(nl, buf, &l.v[i], seq++);
	mnl_socket_close(nl);
	free(buf);
	if (rc == 0 && l.oom)
		rc = -ENOMEM;
	if (rc) {
		free(l.v);
		return nf_fail(err, EXIT_RUNTIME, "cannot count the rules in %s: %s",
			       netns_path ? netns_path : "this namespace", strerror(-rc));
	}
	*out = l.v;
	*n = l.n;
	return 0;
}
