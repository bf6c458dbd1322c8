/* chaincount: every chain of every nf_tables table in a namespace, with
 * its rule count, for `nfcost watch`'s nfcost_rules gauge. Cheap at 100k
 * rules: one chain dump, where a base chain's use count is its rule count
 * (as nftcount.c), and a rule dump (counted as it is read, never kept)
 * only for the regular chains that hold any. Which tool made a table is a
 * guess from its names (iptables-nft's tables carry iptables' table and
 * chain names); iptables-legacy's tables are not nf_tables and not here. */
#ifndef NFCOST_CHAINCOUNT_H
#define NFCOST_CHAINCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct chain_count {
	char family[16];   /* "ipv4", "ipv6", "inet", "arp", "bridge", "netdev" */
	char table[64], chain[64];
	const char *backend; /* "iptables-nft" or "nft" */
	long rules;
	bool base;         /* hooked into netfilter */
};

/* Counts into *out (allocated, free() it), *n of them. 0, or -1 with err
 * (EXIT_RUNTIME), e.g. when the namespace is gone. */
int chaincount_all(const char *netns_path, struct chain_count **out, size_t *n,
		   struct nf_error *err);

#endif
