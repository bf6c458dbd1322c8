/* rules/render: the text of the rules nfcost generates, for each backend:
 * iptables-restore, nft and ipset restore input, the match text of one
 * rule, and the names of nfcost's tables and sets. Pure text: no kernel
 * I/O, so a unit test links it without kernel libraries (rules_render
 * itself is declared in rules.h). */
#ifndef NFCOST_RULES_RENDER_H
#define NFCOST_RULES_RENDER_H

#include <stdbool.h>

#include "rules/rulespec.h"
#include "util/nfhook.h"
#include "util/util.h"

#define NFT_TABLE "nfcost"
#define NFT_SET_TABLE "nfcost_set"
#define NFT_SET_NAME "blocked"
#define IPSET_NAME "nfcost-blocked"

void rules_render(const struct rules_target *t, long first, long count, bool need_base,
		  struct buf *out);
/* iptables match text of one rule of the shape (after "-A CHAIN"). */
void render_ipt_matches(const struct rules_target *t, const char *addr, struct buf *out);
/* nft match text of one rule (after "add rule ip TABLE CHAIN"). */
void render_nft_matches(const struct rules_target *t, const char *daddr, struct buf *out);
/* "add table" and "add chain" of the hook's base chain (idempotent). */
void render_nft_base(const char *table, enum nfhook hook, struct buf *out);
const char *render_ipt_verdict(const struct rules_target *t); /* ACCEPT / DROP */
const char *render_nft_verdict(const struct rules_target *t); /* accept / drop */
/* The iptables-restore text that appends (op "-A", with the hit rule when
 * the target has one) or deletes (op "-D") the rule matching the ipset. */
void render_ipset_rule(const struct rules_target *t, const char *op, struct buf *out);

#endif
