#include "rules/nftcount.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <arpa/inet.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "rules/nfnl.h"
#include "rules/rulespec.h"
#include "util/util.h"

/* A rule dump answers one message per rule. */
static int count_rule(const struct nlmsghdr *nlh, void *data)
{
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE)
		(*(long *)data)++;
	return MNL_CB_OK;
}

/* The rules of a chain by a dump, counted as they are read. The kernel
 * filters the dump by table and chain, so the listing never leaves it
 * whole. */
static long dump_rules(const char *netns_path, const char *table, const char *chain,
		       struct nf_error *err)
{
	/* The kernel fills a dump message up to the reader's buffer (32 KiB at
	 * most), and resumes each one by skipping the rules already sent: a
	 * large buffer means fewer, fuller rounds. */
	static char buf[65536];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	long n_rules = 0;
	int e, rc;
	ssize_t n;

	if (!(nl = nfnl_socket_in(netns_path, err)))
		return -1;
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP | NLM_F_ACK, seq);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		nf_fail(err, EXIT_RUNTIME, "cannot ask nf_tables for %s: %s", chain, strerror(errno));
		mnl_socket_close(nl);
		return -1;
	}
	rc = MNL_CB_OK;
	while (rc > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, count_rule, &n_rules);
	e = errno;
	mnl_socket_close(nl);
	if (rc < 0) {
		if (e == ENOENT) /* no such table or chain: it holds nothing */
			return 0;
		return nf_fail(err, EXIT_RUNTIME, "counting %s in table %s failed: %s", chain, table,
			       strerror(e));
	}
	return n_rules;
}

/* The chain's use count from one GETCHAIN: every rule of a chain holds a
 * reference to it (nf_tables_newrule), and so does every jump or goto to
 * it; a base chain is never a jump target, so its use count is its rule
 * count. *use: that count; 0: a chain with none, -ENOENT: no such table or
 * chain, other < 0: error. */
static int chain_use(const char *netns_path, const char *table, const char *chain,
		     uint32_t *use, struct nf_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = nfnl_socket_in(netns_path, err);
	struct nftnl_chain *c = nftnl_chain_alloc();
	uint32_t seq = (uint32_t)time(NULL);
	struct nlmsghdr *nlh;
	int rc = -EIO;
	bool base = false, got = false;
	ssize_t n;

	if (!nl || !c) { /* no socket: nfnl_socket_in said why */
		if (c)
			nftnl_chain_free(c);
		if (nl)
			mnl_socket_close(nl);
		return nl ? -ENOMEM : -EBADF;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_IPV4, NLM_F_ACK, seq);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		mnl_socket_close(nl);
		return -errno;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		struct nlmsghdr *m = (struct nlmsghdr *)buf;
		int len = (int)n;
		bool done = false;

		for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
				rc = e->error;
				done = true;
			} else if (NFNL_MSG_TYPE(m->nlmsg_type) == NFT_MSG_NEWCHAIN &&
				   (c = nftnl_chain_alloc())) {
				if (nftnl_chain_nlmsg_parse(m, c) == 0 &&
				    nftnl_chain_is_set(c, NFTNL_CHAIN_USE)) {
					*use = nftnl_chain_get_u32(c, NFTNL_CHAIN_USE);
					base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
					got = true;
				}
				nftnl_chain_free(c);
			}
		}
		if (done)
			break;
	}
	mnl_socket_close(nl);
	if (rc == 0 && !got)
		rc = -EIO;
	if (rc == 0 && !base)
		rc = -EINVAL; /* a regular chain's use also counts jumps to it */
	return rc;
}

long nftcount_rules(const char *netns_path, const char *table, const char *chain,
		    struct nf_error *err)
{
	uint32_t use = 0;
	int rc = chain_use(netns_path, table, chain, &use, err);

	if (rc == 0)
		return (long)use;
	if (rc == -ENOENT)
		return 0;
	if (rc == -EBADF)
		return -1;
	/* Not a base chain, or no use count: count the rules one by one. */
	return dump_rules(netns_path, table, chain, err);
}

/* Is the element rules_address(index) in the set? 1, 0, or -1 on error. */
static int has_element(struct mnl_socket *nl, const char *table, const char *set, long index,
		       uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], addr[32];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;
	struct in_addr ip;
	ssize_t n;
	int rc = -1;

	rules_address(index, addr, sizeof(addr));
	if (!s || !e || inet_pton(AF_INET, addr, &ip) != 1) {
		if (e)
			nftnl_set_elem_free(e);
		if (s)
			nftnl_set_free(s);
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &ip.s_addr, sizeof(ip.s_addr));
	nftnl_set_elem_add(s, e);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4, NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	/* The element comes back, then the ACK; or an error: ENOENT, absent. */
	while (rc < 0 && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int r = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL);
		if (r >= 0 && r != MNL_CB_OK)
			rc = 1; /* MNL_CB_STOP: the ACK after the element */
		else if (r < 0)
			rc = errno == ENOENT ? 0 : -2;
	}
	return rc == -2 ? -1 : rc;
}

long nftcount_set_prefix(const char *netns_path, const char *table, const char *set,
			 struct nf_error *err)
{
	struct mnl_socket *nl = nfnl_socket_in(netns_path, err);
	uint32_t seq = (uint32_t)time(NULL);
	long lo = 0, hi = 1; /* element lo - 1 is there, hi is not (when lo > 0) */
	int has;

	if (!nl)
		return -1;
	if ((has = has_element(nl, table, set, 0, seq++)) <= 0) {
		mnl_socket_close(nl);
		/* No table or set answers ENOENT too: it holds nothing. */
		return has == 0 ? 0 : nf_fail(err, EXIT_RUNTIME, "cannot look up an element of "
					      "set %s", set);
	}
	/* Grow an upper bound, then halve the gap: about 2 log2(n) lookups. */
	while (hi <= RULES_MAX_COUNT * 2 && (has = has_element(nl, table, set, hi, seq++)) == 1) {
		lo = hi;
		hi *= 2;
	}
	lo++;
	while (has >= 0 && lo < hi) {
		long mid = lo + (hi - lo) / 2;
		if ((has = has_element(nl, table, set, mid, seq++)) == 1)
			lo = mid + 1;
		else
			hi = mid;
	}
	mnl_socket_close(nl);
	if (has < 0) {
		return nf_fail(err, EXIT_RUNTIME, "cannot look up an element of set %s", set);
	}
	return lo;
}
