/* rules: owns the rule sets nfcost measures: rendering N rules of a shape for
 * a backend (destinations in 240.0.0.0/4, so they never match test traffic),
 * with the address test last: the test traffic goes to TCP port 443, so it
 * passes the protocol and port tests and every rule runs all of its checks
 * (addr-port: -p tcp, --dport 443, then -m iprange for the address, since
 * iptables would test a plain -d before any match callback),
 * applying them as ONE transaction appended after the rules already there,
 * counting and flushing them. Programs are execvp'd with their input piped
 * from memory (no shell, no temp files; rules/exec.h); nft goes through
 * libnftables, and its linear addr/addr-port rules as one libnftnl batch
 * (nftbatch.h). Errors: 0, or -1 with a struct nf_error (util/error.h). */
#ifndef NFCOST_RULES_H
#define NFCOST_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/rulespec.h"
#include "util/error.h"
#include "util/util.h"

/* The text of one transaction that appends rules [first, first+count)
 * for the target's backend: iptables-restore, nft -f or ipset restore input. */
void rules_render(const struct rules_target *t, long first, long count, bool need_base,
		  struct buf *out);

/* Appends count rules as one transaction. have: the rules there already,
 * when the caller knows (it put them there), else -1: they are counted
 * first. *elapsed_ms: how long the transaction took. *transactions (may be
 * NULL): 1, or 2 when a set had to be made first (nft-set's first add: the
 * empty set and its rule, then the elements as one netlink batch; if the
 * elements fail, the set goes too). All or nothing: on failure the rules
 * are as they were (an ipset add that would pass the set's maxelem is
 * refused first, and one that fails halfway undone). 0, or -1 with err. */
int rules_add(const struct rules_target *t, long have, long count, double *elapsed_ms,
	      int *transactions, struct nf_error *err);
/* Replaces the backend's rules with exactly rules [0, count) as ONE
 * transaction, whatever was there: iptables-restore --noflush with -F of
 * the chain, one nft batch that flushes the chain (or the set) and adds,
 * or for ipset a fresh set filled and swapped in (ipset restore). The
 * table, chain, set's rule and hit rule are made first when missing, on
 * their own. *elapsed_ms: the load's duration. 0, or -1 with err; on
 * failure the rules are as they were. */
int rules_load(const struct rules_target *t, long count, double *elapsed_ms,
	       struct nf_error *err);
/* Makes the empty chain exist (table, base chain, empty set and its rule,
 * and the hit rule if any), so that 0 rules is a chain every packet enters:
 * an empty-chain baseline, also for tracers that only see registered hooks.
 * 0, or -1 with err. */
int rules_prepare(const struct rules_target *t, struct nf_error *err);
/* How many rules (set elements for nft-set/ipset) the backend holds; -1 with err. */
long rules_count(const struct rules_target *t, struct nf_error *err);
#define RULES_UPDATE_MAX_REPS 101
/* The control-plane cost at the current size: reps times, add one more rule
 * (index have, so it is new) and delete it again, each its own transaction
 * by the backend's own method; the medians in ms. The rule set is as before
 * afterwards. 0, or -1 with err. */
int rules_update_cost(const struct rules_target *t, long have, int reps, double *add_ms,
		      double *del_ms, struct nf_error *err);
/* Removes the backend's rules from the target namespace. 0, or -1 with err. */
int rules_flush(const struct rules_target *t, struct nf_error *err);

#endif
