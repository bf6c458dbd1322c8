/* rules: owns the rule sets nfcost measures: rendering N rules of a shape for
 * a backend (destinations in 240.0.0.0/4, so they never match test traffic),
 * with the address test last: the test traffic goes to TCP port 443, so it
 * passes the protocol and port tests and every rule runs all of its checks
 * (addr-port: -p tcp, --dport 443, then -m iprange for the address, since
 * iptables would test a plain -d before any match callback),
 * applying them as ONE transaction appended after the rules already there,
 * counting and flushing them. Programs are execvp'd with their input piped
 * from memory (no shell, no temp files); nft goes through libnftables, and
 * its linear addr/addr-port rules as one libnftnl batch (nftbatch.h). */
#ifndef NFCOST_RULES_H
#define NFCOST_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum rules_backend {
	BACKEND_IPTABLES_NFT,
	BACKEND_IPTABLES_LEGACY,
	BACKEND_NFT,
	BACKEND_NFT_SET,
	BACKEND_IPSET,
	BACKEND_COUNT
};

enum rules_shape { SHAPE_ADDR, SHAPE_ADDR_PORT, SHAPE_MULTIPORT, SHAPE_BPF, SHAPE_COUNT };

enum rules_hook { HOOK_OUTPUT, HOOK_INPUT, HOOK_FORWARD, HOOK_COUNT };

#define RULES_MAX_COUNT 1000000L
#define RULES_MULTIPORT_PORTS 8
#define RULES_BLOCKED_PORT 443

struct rules_target {
	const char *netns_path;     /* where the rules go */
	enum rules_backend backend;
	enum rules_shape shape;
	enum rules_hook hook;
	const char *bpf_bytecode;   /* SHAPE_BPF: "N,c t f k,..." as xt_bpf takes it;
				     * NULL: PCAPBPF_SHAPE_EXPR compiled */
	bool accept;                /* the rules' verdict: ACCEPT, not DROP */
	/* Non-NULL: one more rule, always the last one a packet meets, matches
	 * this destination (the test traffic) with the verdict; rules_count
	 * leaves it out. */
	const char *hit_addr;
};

bool rules_backend_parse(const char *s, enum rules_backend *out);
const char *rules_backend_name(enum rules_backend b);
bool rules_shape_parse(const char *s, enum rules_shape *out);
const char *rules_shape_name(enum rules_shape s);
bool rules_hook_parse(const char *s, enum rules_hook *out);
const char *rules_hook_name(enum rules_hook h);
/* The list of valid names, "a|b|c", for messages. */
const char *rules_backend_names(void);
const char *rules_shape_names(void);
/* Match callbacks one rule of this shape runs per packet (addr-port: 3). */
int rules_matches_per_rule(enum rules_shape s);
/* The external program a backend needs, or NULL (nft: libnftables). */
const char *rules_backend_program(enum rules_backend b);
/* Does the backend support the shape? false with a reason. */
bool rules_shape_supported(enum rules_backend b, enum rules_shape s, const char **why);

/* Destination address of rule number index (0-based) in 240.0.0.0/4. */
void rules_address(long index, char *buf, size_t len);

/* The text of one transaction that appends rules [first, first+count)
 * for the target's backend: iptables-restore, nft -f or ipset restore input. */
void rules_render(const struct rules_target *t, long first, long count, bool need_base,
		  struct buf *out);

/* Appends count rules as one transaction. *elapsed_ms: how long it took.
 * 0, or an exit status with one message line printed. */
int rules_add(const struct rules_target *t, long count, double *elapsed_ms);
/* Makes the empty chain exist (table, base chain, empty set and its rule,
 * and the hit rule if any), so that 0 rules is a chain every packet enters:
 * an empty-chain baseline, also for tracers that only see registered hooks. */
int rules_prepare(const struct rules_target *t);
/* How many rules (set elements for nft-set/ipset) the backend holds; -1 on error (printed). */
long rules_count(const struct rules_target *t);
/* Removes the backend's rules from the target namespace. 0 or an exit status. */
int rules_flush(const struct rules_target *t);

#endif
