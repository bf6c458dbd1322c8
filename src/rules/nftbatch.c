#include "rules/nftbatch.h"

#include "rules/nfnl.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Headroom before each message: libnftnl writes attributes unchecked, and
 * our largest message (an addr-port rule) is 368 bytes. */
#define MSG_ROOM 2048
/* Offset of the IPv4 destination address, as nft's "ip daddr" loads it. */
#define IPV4_DADDR_OFFSET 16
#define TCP_DPORT_OFFSET 2

/* The transaction being built: netlink messages back to back, the sequence
 * numbers telling them apart in the kernel's answers. */
struct batch {
	char *data;
	size_t len, cap;
	uint32_t seq_base, next_seq;
	uint32_t rules_seq;  /* sequence number of the first rule message */
	long first;          /* rules_address index of that rule */
	uint32_t last_seq;   /* the last message before BATCH_END */
	size_t last_off;     /* and where it starts */
	uint64_t handle;     /* the handle of a rule the kernel echoed, or 0 */
	long per_msg;        /* set elements per message (0: one rule each) */
};

/* Makes room for one more message. The memory is zeroed: libmnl leaves
 * attribute padding as it finds it, and the kernel should get no junk. */
static bool room(struct batch *b, size_t hint)
{
	size_t cap = b->cap ? b->cap : hint > MSG_ROOM ? hint : MSG_ROOM;
	char *d;

	if (b->cap - b->len >= MSG_ROOM)
		return true;
	while (cap - b->len < MSG_ROOM)
		cap *= 2;
	if (!(d = realloc(b->data, cap)))
		return false;
	memset(d + b->cap, 0, cap - b->cap);
	b->data = d;
	b->cap = cap;
	return true;
}

/* Starts a message at the end of the batch; nlmsg_len says where it ends
 * once its payload is built (always 4-aligned: mnl pads every attribute). */
static struct nlmsghdr *msg_start(struct batch *b, uint16_t type, uint16_t flags)
{
	if (!room(b, 0))
		return NULL;
	b->last_seq = b->next_seq;
	b->last_off = b->len;
	return nftnl_nlmsg_build_hdr(b->data + b->len, type, NFPROTO_IPV4, flags, b->next_seq++);
}

static void msg_end(struct batch *b, struct nlmsghdr *nlh)
{
	b->len += nlh->nlmsg_len;
}

static bool expr_add(struct nftnl_rule *r, struct nftnl_expr **out, const char *name)
{
	if (!(*out = nftnl_expr_alloc(name)))
		return false;
	nftnl_rule_add_expr(r, *out);
	return true;
}

/* [ payload load len b @ base + offset => reg 1 ] */
static bool payload_add(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e;

	if (!expr_add(r, &e, "payload"))
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	return true;
}

/* [ cmp eq reg 1 data ]: data as long as what was loaded, as nft sends it. */
static bool cmp_add(struct nftnl_rule *r, struct nftnl_expr **out, const void *data,
		    uint32_t len)
{
	if (!expr_add(r, out, "cmp"))
		return false;
	nftnl_expr_set_u32(*out, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(*out, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	return nftnl_expr_set(*out, NFTNL_EXPR_CMP_DATA, data, len) == 0;
}

/* One rule as nft compiles rules.c's text "[tcp dport 443] ip daddr X
 * drop|accept": for tcp dport, nft's implicit "meta l4proto tcp" first, and
 * the address test last. *addr_cmp: where each rule's address goes. */
static struct nftnl_rule *rule_template(const char *table, const char *chain, bool addr_port,
					bool accept, struct nftnl_expr **addr_cmp)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;
	uint8_t proto = IPPROTO_TCP;
	uint16_t port = htons(RULES_BLOCKED_PORT);
	uint32_t any = 0;
	bool ok;

	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	ok = !nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table) &&
	     !nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	if (ok && addr_port) {
		ok = expr_add(r, &e, "meta");
		if (ok) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
			nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
		}
		ok = ok && cmp_add(r, &e, &proto, sizeof(proto)) &&
		     payload_add(r, NFT_PAYLOAD_TRANSPORT_HEADER, TCP_DPORT_OFFSET, sizeof(port)) &&
		     cmp_add(r, &e, &port, sizeof(port));
	}
	ok = ok && payload_add(r, NFT_PAYLOAD_NETWORK_HEADER, IPV4_DADDR_OFFSET, sizeof(any)) &&
	     cmp_add(r, addr_cmp, &any, sizeof(any)) && expr_add(r, &e, "immediate");
	if (!ok) {
		nftnl_rule_free(r);
		return NULL;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, accept ? NF_ACCEPT : NF_DROP);
	return r;
}

/* "add rule": NLM_F_APPEND puts it after the chain's rules, as nft does. */
static bool put_rule(struct batch *b, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);

	if (!nlh)
		return false;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	msg_end(b, nlh);
	return true;
}

/* "add table ip T" (NLM_F_CREATE without EXCL: an existing one stays). */
static bool put_table(struct batch *b, const char *table)
{
	struct nftnl_table *tb = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	bool ok = tb && !nftnl_table_set_str(tb, NFTNL_TABLE_NAME, table) &&
		  (nlh = msg_start(b, NFT_MSG_NEWTABLE, NLM_F_CREATE));

	if (ok) {
		nftnl_table_set_u32(tb, NFTNL_TABLE_FLAGS, 0);
		nftnl_table_nlmsg_build_payload(nlh, tb);
		msg_end(b, nlh);
	}
	nftnl_table_free(tb);
	return ok;
}

_Static_assert((int)NFHOOK_LOCAL_OUT == (int)NF_INET_LOCAL_OUT && (int)NFHOOK_LOCAL_IN == (int)NF_INET_LOCAL_IN &&
	       (int)NFHOOK_FORWARD == (int)NF_INET_FORWARD, "enum nfhook numbers hooks as the kernel does");

/* "add chain ip T C { type filter hook H priority P; policy accept; }" */
static bool put_chain(struct batch *b, const char *table, const char *chain,
		      enum nfhook hook, int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	bool ok = c && !nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table) &&
		  !nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain) &&
		  !nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") &&
		  (nlh = msg_start(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE));

	if (ok) {
		/* enum nfhook numbers the hooks as the kernel does */
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		nftnl_chain_nlmsg_build_payload(nlh, c);
		msg_end(b, nlh);
	}
	nftnl_chain_free(c);
	return ok;
}

static bool set_addr(struct nftnl_expr *cmp, const char *addr)
{
	struct in_addr a;

	return inet_pton(AF_INET, addr, &a) == 1 &&
	       nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &a.s_addr, sizeof(a.s_addr)) == 0;
}

/* "flush chain ip T C": a DELRULE naming the chain and no rule. */
static bool put_flush_chain(struct batch *b, const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	bool ok = r && !nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table) &&
		  !nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) &&
		  (nlh = msg_start(b, NFT_MSG_DELRULE, 0));

	if (ok) {
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		msg_end(b, nlh);
	}
	if (r)
		nftnl_rule_free(r);
	return ok;
}

/* flush: the chain's rules go first, in the same transaction (replace). */
static bool build(struct batch *b, const struct rules_target *t, const char *table, long first,
		  long count, bool with_hit, bool flush)
{
	const char *chain = nfhook_option(t->hook);
	char hit_chain[64], addr[32];
	struct nftnl_rule *r;
	struct nftnl_expr *cmp;
	struct nlmsghdr *nlh;
	bool ok;

	/* An addr-port rule message is 368 bytes: one allocation in the end. */
	if (!room(b, (size_t)(count + 16) * 384))
		return false;
	nlh = nftnl_batch_begin(b->data + b->len, b->next_seq++);
	msg_end(b, nlh);
	/* The same messages as the text path's transaction, in its order. */
	if (!put_table(b, table) || !put_chain(b, table, chain, t->hook, 0))
		return false;
	if (with_hit) {
		snprintf(hit_chain, sizeof(hit_chain), "%s_hit", chain);
		if (!put_chain(b, table, hit_chain, t->hook, 1) ||
		    !(r = rule_template(table, hit_chain, false, t->accept, &cmp)))
			return false;
		ok = set_addr(cmp, t->hit_addr) && put_rule(b, r);
		nftnl_rule_free(r);
		if (!ok)
			return false;
	}
	if (flush && !put_flush_chain(b, table, chain))
		return false;
	/* One rule object, its address changed per message. */
	if (!(r = rule_template(table, chain, t->shape == SHAPE_ADDR_PORT, t->accept, &cmp)))
		return false;
	b->rules_seq = b->next_seq;
	b->first = first;
	ok = true;
	for (long i = first; ok && i < first + count; i++) {
		rules_address(i, addr, sizeof(addr));
		ok = set_addr(cmp, addr) && put_rule(b, r);
	}
	nftnl_rule_free(r);
	/* Only the last message asks for an ACK: errors come back anyway, and
	 * the kernel answers once the whole batch is committed or aborted, so
	 * this ACK is the sign that all answers are in. */
	if (!ok || !room(b, 0))
		return false;
	((struct nlmsghdr *)(b->data + b->last_off))->nlmsg_flags |= NLM_F_ACK;
	nlh = nftnl_batch_end(b->data + b->len, b->next_seq++);
	msg_end(b, nlh);
	return true;
}

static void describe(const struct batch *b, uint32_t seq, char *buf, size_t len)
{
	char addr[32];
	long i;

	if (seq == b->seq_base) { /* the kernel answers a failed commit on BATCH_BEGIN */
		snprintf(buf, len, "the commit");
		return;
	}
	if (seq - b->seq_base < b->rules_seq - b->seq_base) {
		snprintf(buf, len, "the table, chain or hit rule");
		return;
	}
	i = b->first + (long)(seq - b->rules_seq) * (b->per_msg ? b->per_msg : 1);
	rules_address(i, addr, sizeof(addr));
	if (b->per_msg)
		snprintf(buf, len, "the elements from number %ld (%s)", i + 1, addr);
	else
		snprintf(buf, len, "rule %ld (ip daddr %s)", i + 1, addr);
}

/* Reads the kernel's answers. Sending the batch ran the whole transaction
 * (netlink hands it to nfnetlink in our sendmsg), so every answer is queued
 * already and a non-blocking read that finds none has seen them all. The
 * kernel sends an error for each message that failed (plus one on
 * BATCH_BEGIN for a failed commit) before the last message's ACK; with any
 * error it has rolled the whole batch back. */
static int read_answers(int fd, struct batch *b, struct nf_error *err)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE]; /* an error echoes its ~300-byte message */
	int first_err = 0, lost = 0;
	uint32_t err_seq = 0;
	bool acked = false;
	char what[96];

	while (!acked) {
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			lost = errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
			break;
		}
		len = (int)n;
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE &&
			    nlh->nlmsg_type != NLMSG_ERROR) { /* an echoed rule (NLM_F_ECHO) */
				struct nftnl_rule *r = nftnl_rule_alloc();
				if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0)
					b->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
				if (r)
					nftnl_rule_free(r);
				continue;
			}
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue; /* nothing else was asked for */
			if (e->error && !first_err) {
				first_err = -e->error;
				err_seq = e->msg.nlmsg_seq;
			}
			if (e->msg.nlmsg_seq == b->last_seq)
				acked = true;
		}
	}
	if (first_err) {
		describe(b, err_seq, what, sizeof(what));
		return nf_fail(err, EXIT_RUNTIME, "nft transaction failed at %s: %s%s; nothing was "
			       "added", what, strerror(first_err), lost ? " (and more errors)" : "");
	}
	if (!acked) {
		return nf_fail(err, EXIT_RUNTIME, "nft transaction: no acknowledgement from the "
			       "kernel (%s); nothing was added", lost ? strerror(lost) : "batch aborted");
	}
	return 0;
}

static int send_batch(struct batch *b, const char *netns_path, struct nf_error *err)
{
	struct mnl_socket *nl;
	int size = (int)b->len, rc;
	ssize_t sent;

	if (b->len > (size_t)(1 << 30))
		return nf_fail(err, EXIT_RUNTIME, "nft transaction of %zu bytes is too large for one "
			       "netlink message", b->len);
	if (!(nl = nfnl_socket_in(netns_path, err)))
		return -1;
	/* The batch is one transaction only if it is one message: let the send
	 * buffer hold all of it (we are root; nft does the same). */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	sent = mnl_socket_sendto(nl, b->data, b->len);
	if (sent < 0 || (size_t)sent != b->len) {
		nf_fail(err, EXIT_RUNTIME, "cannot send the nft transaction (%zu bytes): %s", b->len,
			sent < 0 ? strerror(errno) : "short send");
		mnl_socket_close(nl);
		return -1;
	}
	rc = read_answers(mnl_socket_get_fd(nl), b, err);
	mnl_socket_close(nl);
	return rc;
}

bool nftbatch_supported(const struct rules_target *t)
{
	return t->backend == BACKEND_NFT && (t->shape == SHAPE_ADDR || t->shape == SHAPE_ADDR_PORT);
}

static int add_or_replace(const struct rules_target *t, const char *table, long first,
			  long count, bool with_hit, bool flush, struct nf_error *err)
{
	struct batch b = { 0 };
	struct in_addr a;
	int rc;

	if (with_hit && inet_pton(AF_INET, t->hit_addr, &a) != 1) {
		return nf_fail(err, EXIT_USAGE, "hit address '%s' is not an IPv4 address",
			       t->hit_addr);
	}
	/* A fresh socket gets only our answers, so any numbering works; the
	 * clock's, as nft's, tells runs apart in a netlink trace. */
	b.seq_base = b.next_seq = (uint32_t)time(NULL);
	if (!build(&b, t, table, first, count, with_hit, flush)) {
		free(b.data);
		return nf_fail(err, EXIT_RUNTIME, "cannot build the nft transaction: out of memory");
	}
	rc = send_batch(&b, t->netns_path, err);
	free(b.data);
	return rc;
}

int nftbatch_add(const struct rules_target *t, const char *table, long first, long count,
		 bool with_hit, struct nf_error *err)
{
	return add_or_replace(t, table, first, count, with_hit, false, err);
}

int nftbatch_replace(const struct rules_target *t, const char *table, long count, bool with_hit,
		     struct nf_error *err)
{
	return add_or_replace(t, table, 0, count, with_hit, true, err);
}

/* --- set elements: many per message, all in one batch --- */

#define ELEMS_PER_MSG 1024

/* One NEWSETELEM message with the elements [first, first + n). */
static bool put_elems(struct batch *b, const char *table, const char *set, long first, long n)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	char addr[32];
	bool ok = s && !nftnl_set_set_str(s, NFTNL_SET_TABLE, table) &&
		  !nftnl_set_set_str(s, NFTNL_SET_NAME, set);

	for (long i = first; ok && i < first + n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		struct in_addr ip;
		rules_address(i, addr, sizeof(addr));
		ok = e && inet_pton(AF_INET, addr, &ip) == 1 &&
		     !nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &ip.s_addr, sizeof(ip.s_addr));
		if (ok)
			nftnl_set_elem_add(s, e);
		else if (e)
			nftnl_set_elem_free(e);
	}
	/* A message of 1024 elements is ~40 KB: room for it, not for the set. */
	if (ok && b->cap - b->len < 64 * 1024) {
		size_t cap = b->cap * 2 > b->len + 128 * 1024 ? b->cap * 2 : b->len + 128 * 1024;
		char *d = realloc(b->data, cap);
		if ((ok = d != NULL)) {
			memset(d + b->cap, 0, cap - b->cap);
			b->data = d;
			b->cap = cap;
		}
	}
	if (ok) {
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
		b->last_seq = b->next_seq;
		b->last_off = b->len;
		nlh = nftnl_nlmsg_build_hdr(b->data + b->len, NFT_MSG_NEWSETELEM, NFPROTO_IPV4,
					    NLM_F_CREATE, b->next_seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		msg_end(b, nlh);
	}
	if (s)
		nftnl_set_free(s);
	return ok;
}

/* "flush set ip T S": a DELSETELEM naming the set and no element. */
static bool put_flush_set(struct batch *b, const char *table, const char *set)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	bool ok = s && !nftnl_set_set_str(s, NFTNL_SET_TABLE, table) &&
		  !nftnl_set_set_str(s, NFTNL_SET_NAME, set) &&
		  (nlh = msg_start(b, NFT_MSG_DELSETELEM, 0));

	if (ok) {
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		msg_end(b, nlh);
	}
	if (s)
		nftnl_set_free(s);
	return ok;
}

/* flush: the set is emptied first, in the same transaction (replace). */
static int add_elements(const struct rules_target *t, const char *table, const char *set,
			long first, long count, bool flush, struct nf_error *err)
{
	struct batch b = { 0 };
	struct nlmsghdr *nlh;
	bool ok;
	int rc;

	b.seq_base = b.next_seq = (uint32_t)time(NULL);
	b.per_msg = ELEMS_PER_MSG;
	b.first = first;
	ok = room(&b, 0) && (nlh = nftnl_batch_begin(b.data + b.len, b.next_seq++));
	if (ok)
		msg_end(&b, nlh);
	if (ok && flush)
		ok = put_flush_set(&b, table, set);
	b.rules_seq = b.next_seq;
	for (long i = first; ok && i < first + count; i += ELEMS_PER_MSG)
		ok = put_elems(&b, table, set, i,
			       first + count - i < ELEMS_PER_MSG ? first + count - i : ELEMS_PER_MSG);
	if (ok && (count > 0 || flush) && room(&b, 0)) {
		((struct nlmsghdr *)(b.data + b.last_off))->nlmsg_flags |= NLM_F_ACK;
		nlh = nftnl_batch_end(b.data + b.len, b.next_seq++);
		msg_end(&b, nlh);
		rc = send_batch(&b, t->netns_path, err);
	} else {
		rc = ok && count == 0 ? 0 : nf_fail(err, EXIT_RUNTIME, "cannot build the nft "
						     "transaction: out of memory");
	}
	free(b.data);
	return rc;
}

int nftbatch_add_elements(const struct rules_target *t, const char *table, const char *set,
			  long first, long count, struct nf_error *err)
{
	return add_elements(t, table, set, first, count, false, err);
}

int nftbatch_replace_elements(const struct rules_target *t, const char *table, const char *set,
			      long count, struct nf_error *err)
{
	return add_elements(t, table, set, 0, count, true, err);
}

/* --- single changes: the cost of changing one rule --- */

/* BATCH_BEGIN, the one message put(b, arg) adds (with flags added to its
 * own), BATCH_END; sent and acknowledged in the target's namespace. */
static int one_change(const struct rules_target *t, bool (*put)(struct batch *, const void *),
		      const void *arg, uint16_t flags, uint64_t *handle, struct nf_error *err)
{
	struct batch b = { 0 };
	struct nlmsghdr *nlh;
	bool built = false;
	int rc = -1;

	b.seq_base = b.next_seq = (uint32_t)time(NULL);
	if (room(&b, 0) && (nlh = nftnl_batch_begin(b.data + b.len, b.next_seq++))) {
		msg_end(&b, nlh);
		b.rules_seq = b.next_seq;
		if (put(&b, arg) && room(&b, 0)) {
			((struct nlmsghdr *)(b.data + b.last_off))->nlmsg_flags |= NLM_F_ACK | flags;
			nlh = nftnl_batch_end(b.data + b.len, b.next_seq++);
			msg_end(&b, nlh);
			built = true;
			rc = send_batch(&b, t->netns_path, err);
		}
	}
	if (!built) /* send_batch said why; a batch never built has not */
		nf_fail(err, EXIT_RUNTIME, "cannot build the nft change: out of memory");
	if (rc == 0 && handle && !(*handle = b.handle))
		rc = nf_fail(err, EXIT_RUNTIME, "nf_tables did not echo the new rule's handle");
	free(b.data);
	return rc;
}

struct rule_arg {
	const struct rules_target *t;
	const char *table;
	long index;
	uint64_t handle;
};

static bool put_new_rule(struct batch *b, const void *arg)
{
	const struct rule_arg *a = arg;
	char addr[32];
	struct nftnl_expr *cmp;
	struct nftnl_rule *r = rule_template(a->table, nfhook_option(a->t->hook),
					     a->t->shape == SHAPE_ADDR_PORT, a->t->accept, &cmp);
	bool ok;

	if (!r)
		return false;
	rules_address(a->index, addr, sizeof(addr));
	ok = set_addr(cmp, addr) && put_rule(b, r);
	nftnl_rule_free(r);
	return ok;
}

static bool put_del_rule(struct batch *b, const void *arg)
{
	const struct rule_arg *a = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	bool ok = r && !nftnl_rule_set_str(r, NFTNL_RULE_TABLE, a->table) &&
		  !nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, nfhook_option(a->t->hook)) &&
		  (nlh = msg_start(b, NFT_MSG_DELRULE, 0));

	if (ok) {
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, a->handle);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		msg_end(b, nlh);
	}
	if (r)
		nftnl_rule_free(r);
	return ok;
}

int nftbatch_add_one(const struct rules_target *t, const char *table, long index,
		     uint64_t *handle, struct nf_error *err)
{
	struct rule_arg a = { t, table, index, 0 };

	return one_change(t, put_new_rule, &a, NLM_F_ECHO, handle, err);
}

int nftbatch_delete_rule(const struct rules_target *t, const char *table, uint64_t handle,
			 struct nf_error *err)
{
	struct rule_arg a = { t, table, 0, handle };

	return one_change(t, put_del_rule, &a, 0, NULL, err);
}

struct elem_arg {
	const char *table, *set;
	long index;
	bool add;
};

static bool put_elem(struct batch *b, const void *arg)
{
	const struct elem_arg *a = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;
	struct in_addr ip;
	char addr[32];
	bool ok;

	rules_address(a->index, addr, sizeof(addr));
	ok = s && e && inet_pton(AF_INET, addr, &ip) == 1 &&
	     !nftnl_set_set_str(s, NFTNL_SET_TABLE, a->table) &&
	     !nftnl_set_set_str(s, NFTNL_SET_NAME, a->set) &&
	     !nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &ip.s_addr, sizeof(ip.s_addr));
	if (ok) {
		nftnl_set_elem_add(s, e);
		e = NULL; /* the set owns it now */
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
		ok = (nlh = msg_start(b, a->add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
				      a->add ? NLM_F_CREATE : 0)) != NULL;
		if (ok) {
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			msg_end(b, nlh);
		}
	}
	if (e) /* libnftnl's free functions take no NULL */
		nftnl_set_elem_free(e);
	if (s)
		nftnl_set_free(s);
	return ok;
}

int nftbatch_set_element(const struct rules_target *t, const char *table, const char *set,
			 long index, bool add, struct nf_error *err)
{
	struct elem_arg a = { table, set, index, add };

	return one_change(t, put_elem, &a, 0, NULL, err);
}
