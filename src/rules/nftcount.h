/* nftcount: counts what an nf_tables chain or set holds with a few netlink
 * queries, in constant memory: the rules of a chain (its use count, or a
 * dump counted as it is read), the elements of a set nfcost filled (a
 * search by single lookups). Never renders the rule set. */
#ifndef NFCOST_NFTCOUNT_H
#define NFCOST_NFTCOUNT_H

#include "util/error.h"

/* Rules in chain `chain` of table ip `table` in the namespace at
 * netns_path: a base chain's use count (one query), else a dump counted as
 * it is read; 0 when the table or chain does not exist; -1 on error (err). */
long nftcount_rules(const char *netns_path, const char *table, const char *chain,
		    struct nf_error *err);

/* The elements of a set that nfcost filled: they are rules_address(0),
 * rules_address(1), ... without a gap, so the count is the first index that
 * is missing, found by about 2 log2(n) single-element lookups instead of a
 * dump (which the kernel resumes by walking the set from its start: O(n²)).
 * 0 when the set does not exist; -1 on error (err). */
long nftcount_set_prefix(const char *netns_path, const char *table, const char *set,
			 struct nf_error *err);

#endif
