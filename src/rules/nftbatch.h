/* nftbatch: owns the nft backend's fast add path. For linear rules of the
 * addr and addr-port shapes it builds the table, the base chain, the hit
 * chain and rule when due, and the rules themselves directly as nf_tables
 * netlink messages with libnftnl, with the bytecode nft generates for
 * rules.c's rule text, and commits them with libmnl as ONE batch
 * (NFNL_MSG_BATCH_BEGIN ... END: one transaction), skipping libnftables'
 * parser and evaluator. Everything else stays with rules.c's text path. */
#ifndef NFCOST_NFTBATCH_H
#define NFCOST_NFTBATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "rules/rulespec.h"
#include "util/error.h"

/* Can nftbatch_add build this target's rules? (nft backend, addr or addr-port) */
bool nftbatch_supported(const struct rules_target *t);

/* Appends rules [first, first+count) (addresses from rules_address) to chain
 * <hook> of table ip <table>, making the table and chain if missing, and
 * with_hit: chain <hook>_hit (priority 1) with the rule for t->hit_addr.
 * All in one transaction: either all of it is there afterwards or none.
 * 0, or -1 with err (EXIT_RUNTIME). */
int nftbatch_add(const struct rules_target *t, const char *table, long first, long count,
		 bool with_hit, struct nf_error *err);

/* Replaces the rules of chain <hook> with rules [0, count): the table and
 * chains as nftbatch_add makes them, then a flush of the chain, then the
 * rules, all in ONE transaction. 0, or -1 with err. */
int nftbatch_replace(const struct rules_target *t, const char *table, long count, bool with_hit,
		     struct nf_error *err);

/* Adds the set elements rules_address(first .. first + count - 1) to set
 * `set` of table ip `table`, which exists: 1024 elements a message, all in
 * ONE batch (one transaction), without libnftables' parser and its memory.
 * 0, or -1 with err. */
int nftbatch_add_elements(const struct rules_target *t, const char *table, const char *set,
			  long first, long count, struct nf_error *err);

/* Empties the set and adds the elements of indexes [0, count), in ONE
 * transaction. 0, or -1 with err. */
int nftbatch_replace_elements(const struct rules_target *t, const char *table, const char *set,
			      long count, struct nf_error *err);

/* One change as its own transaction, for the cost of changing one rule:
 * append the rule of that index (as nftbatch_add would make it; *handle:
 * the handle the kernel gave it), delete a rule by handle, or add/delete
 * the element of that index in a set. 0, or -1 with err. */
int nftbatch_add_one(const struct rules_target *t, const char *table, long index,
		     uint64_t *handle, struct nf_error *err);
int nftbatch_delete_rule(const struct rules_target *t, const char *table, uint64_t handle,
			 struct nf_error *err);
int nftbatch_set_element(const struct rules_target *t, const char *table, const char *set,
			 long index, bool add, struct nf_error *err);

#endif
