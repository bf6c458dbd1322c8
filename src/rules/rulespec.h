/* rulespec: the rules' vocabulary, a leaf that needs no kernel: backends
 * and shapes (names, parsing, what each supports and costs in checks), the
 * description of a rule target, and the addresses rule number i tests
 * (240.0.0.0/4, which no host uses, so a rule never matches test traffic).
 * rules.c applies rule sets; nftbatch.c builds nft's; both speak this. */
#ifndef NFCOST_RULESPEC_H
#define NFCOST_RULESPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "util/nfhook.h"

enum rules_backend {
	BACKEND_IPTABLES_NFT,
	BACKEND_IPTABLES_LEGACY,
	BACKEND_NFT,
	BACKEND_NFT_SET,
	BACKEND_IPSET,
	BACKEND_COUNT
};

/* lab: the lab's literal `-p tcp -d X --dport 443` (nft: `ip daddr X tcp
 * dport 443`): the address is tested FIRST. In iptables the protocol and
 * address live in the rule header, tested before any match callback, so a
 * packet to another address leaves the rule at once and lab costs what addr
 * costs; in nft the address expression fails first too. addr-port tests the
 * address last, so every packet runs all three checks of every rule. */
enum rules_shape { SHAPE_ADDR, SHAPE_ADDR_PORT, SHAPE_MULTIPORT, SHAPE_BPF, SHAPE_LAB, SHAPE_COUNT };


#define RULES_MAX_COUNT 1000000L
#define RULES_MULTIPORT_PORTS 8
#define RULES_BLOCKED_PORT 443

struct rules_target {
	const char *netns_path;     /* where the rules go */
	enum rules_backend backend;
	enum rules_shape shape;
	enum nfhook hook;
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
/* The list of valid names, "a|b|c", for messages. */
const char *rules_backend_names(void);
const char *rules_shape_names(void);
/* Match callbacks one rule of this shape runs per packet (addr-port: 3). */
int rules_matches_per_rule(enum rules_shape s);
/* The external program a backend needs, or NULL (nft: libnftables). */
const char *rules_backend_program(enum rules_backend b);
/* Does the backend support the shape? false with a reason. */
bool rules_shape_supported(enum rules_backend b, enum rules_shape s, const char **why);

/* Peak memory, in bytes, that one transaction of count rules takes (nfcost
 * and the backend's own tool together), measured per backend and rounded up. */
unsigned long long rules_memory_estimate(enum rules_backend b, enum rules_shape s, long count);

/* Destination address of rule number index (0-based) in 240.0.0.0/4. */
void rules_address(long index, char *buf, size_t len);

#endif
