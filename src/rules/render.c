/* rules/render: see render.h. */
#include "rules/render.h"

#include <stdio.h>
#include <string.h>

static void multiport_list(char *buf, size_t len, const char *sep)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < RULES_MULTIPORT_PORTS && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? sep : "",
				      RULES_BLOCKED_PORT + 1000 * i);
}

/* iptables match text for one rule of the shape (after "-A CHAIN"). */
void render_ipt_matches(const struct rules_target *t, const char *addr, struct buf *out)
{
	char ports[128];

	switch (t->shape) {
	case SHAPE_ADDR:
		buf_printf(out, " -d %s/32", addr);
		break;
	case SHAPE_ADDR_PORT:
		buf_printf(out, " -p tcp -m tcp --dport %d -m iprange --dst-range %s",
			   RULES_BLOCKED_PORT, addr);
		break;
	case SHAPE_MULTIPORT:
		multiport_list(ports, sizeof(ports), ",");
		buf_printf(out, " -p tcp -m multiport --dports %s -m iprange --dst-range %s", ports,
			   addr);
		break;
	case SHAPE_LAB:
		/* The lab's rule as written: -d lives in the rule header. */
		buf_printf(out, " -d %s/32 -p tcp -m tcp --dport %d", addr, RULES_BLOCKED_PORT);
		break;
	case SHAPE_BPF:
		/* The program itself holds the never-matching test; a -d here would
		 * reject packets before xt_bpf ever ran. */
		buf_printf(out, " -m bpf --bytecode \"%s\"", t->bpf_bytecode);
		break;
	default:
		break;
	}
}

void render_nft_matches(const struct rules_target *t, const char *daddr, struct buf *out)
{
	char ports[128];

	/* nft evaluates in the order written: the address last, as in iptables,
	 * but for the lab's own rule, which names it first. */
	if (t->shape == SHAPE_LAB) {
		buf_printf(out, " ip daddr %s tcp dport %d", daddr, RULES_BLOCKED_PORT);
		return;
	}
	if (t->shape == SHAPE_ADDR_PORT) {
		buf_printf(out, " tcp dport %d", RULES_BLOCKED_PORT);
	} else if (t->shape == SHAPE_MULTIPORT) {
		multiport_list(ports, sizeof(ports), ", ");
		buf_printf(out, " tcp dport { %s }", ports);
	}
	buf_printf(out, " ip daddr %s", daddr);
}

void render_nft_base(const char *table, enum nfhook hook, struct buf *out)
{
	/* "add" is idempotent: the table and chain stay if they exist. */
	buf_printf(out, "add table ip %s\n", table);
	buf_printf(out, "add chain ip %s %s { type filter hook %s priority 0; policy accept; }\n",
		   table, nfhook_option(hook), nfhook_option(hook));
}

const char *render_ipt_verdict(const struct rules_target *t)
{
	return t->accept ? "ACCEPT" : "DROP";
}

const char *render_nft_verdict(const struct rules_target *t)
{
	return t->accept ? "accept" : "drop";
}

/* nft keeps the hit rule in a base chain of its own that runs after ours
 * (priority 1), so it stays the last rule whatever we add later. */
static void nft_hit(const struct rules_target *t, const char *table, bool need_base,
		    struct buf *out)
{
	if (!t->hit_addr || !need_base)
		return;
	buf_printf(out, "add chain ip %s %s_hit { type filter hook %s priority 1; policy accept; }\n",
		   table, nfhook_option(t->hook), nfhook_option(t->hook));
	buf_printf(out, "add rule ip %s %s_hit ip daddr %s %s\n", table, nfhook_option(t->hook),
		   t->hit_addr, render_nft_verdict(t));
}

void rules_render(const struct rules_target *t, long first, long count, bool need_base,
		  struct buf *out)
{
	char addr[32];

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
		buf_printf(out, "*filter\n");
		for (long i = first; i < first + count; i++) {
			rules_address(i, addr, sizeof(addr));
			/* Once the hit rule is there, new rules go in before it. */
			if (t->hit_addr && !need_base)
				buf_printf(out, "-I %s %ld", nfhook_chain(t->hook), i + 1);
			else
				buf_printf(out, "-A %s", nfhook_chain(t->hook));
			render_ipt_matches(t, addr, out);
			buf_printf(out, " -j %s\n", render_ipt_verdict(t));
		}
		if (t->hit_addr && need_base)
			buf_printf(out, "-A %s -d %s/32 -j %s\n", nfhook_chain(t->hook), t->hit_addr,
				   render_ipt_verdict(t));
		buf_printf(out, "COMMIT\n");
		break;
	case BACKEND_NFT:
		render_nft_base(NFT_TABLE, t->hook, out);
		nft_hit(t, NFT_TABLE, need_base, out);
		for (long i = first; i < first + count; i++) {
			rules_address(i, addr, sizeof(addr));
			buf_printf(out, "add rule ip %s %s", NFT_TABLE, nfhook_option(t->hook));
			render_nft_matches(t, addr, out);
			buf_printf(out, " %s\n", render_nft_verdict(t));
		}
		break;
	case BACKEND_NFT_SET:
		render_nft_base(NFT_SET_TABLE, t->hook, out);
		nft_hit(t, NFT_SET_TABLE, need_base, out);
		buf_printf(out, "add set ip %s %s { type ipv4_addr; }\n", NFT_SET_TABLE, NFT_SET_NAME);
		if (need_base) {
			buf_printf(out, "add rule ip %s %s", NFT_SET_TABLE, nfhook_option(t->hook));
			render_nft_matches(t, "@" NFT_SET_NAME, out);
			buf_printf(out, " %s\n", render_nft_verdict(t));
		}
		/* Elements in chunks: one transaction still, but no giant line. */
		for (long i = first; i < first + count; i += 1000) {
			buf_printf(out, "add element ip %s %s { ", NFT_SET_TABLE, NFT_SET_NAME);
			for (long j = i; j < first + count && j < i + 1000; j++) {
				rules_address(j, addr, sizeof(addr));
				buf_printf(out, "%s%s", j > i ? ", " : "", addr);
			}
			buf_printf(out, " }\n");
		}
		break;
	case BACKEND_IPSET:
		buf_printf(out, "create %s hash:ip family inet hashsize 1024 maxelem %ld -exist\n",
			   IPSET_NAME, 2 * RULES_MAX_COUNT);
		for (long i = first; i < first + count; i++) {
			rules_address(i, addr, sizeof(addr));
			buf_printf(out, "add %s %s\n", IPSET_NAME, addr);
		}
		break;
	default:
		break;
	}
}

/* The single iptables rule that matches the ipset, in iptables-restore form. */
void render_ipset_rule(const struct rules_target *t, const char *op, struct buf *out)
{
	char ports[128];

	buf_printf(out, "*filter\n%s %s", op, nfhook_chain(t->hook));
	switch (t->shape) {
	case SHAPE_ADDR_PORT:
	case SHAPE_LAB:
		buf_printf(out, " -p tcp -m tcp --dport %d -m set --match-set %s dst",
			   RULES_BLOCKED_PORT, IPSET_NAME);
		break;
	case SHAPE_MULTIPORT:
		multiport_list(ports, sizeof(ports), ",");
		buf_printf(out, " -p tcp -m multiport --dports %s -m set --match-set %s dst", ports,
			   IPSET_NAME);
		break;
	default:
		buf_printf(out, " -m set --match-set %s dst", IPSET_NAME);
		break;
	}
	buf_printf(out, " -j %s\n", render_ipt_verdict(t));
	if (t->hit_addr && !strcmp(op, "-A"))
		buf_printf(out, "-A %s -d %s/32 -j %s\n", nfhook_chain(t->hook), t->hit_addr,
			   render_ipt_verdict(t));
	buf_printf(out, "COMMIT\n");
}
