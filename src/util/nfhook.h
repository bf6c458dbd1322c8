/* nfhook: the netfilter hook vocabulary every stage shares: the five
 * NF_INET_* hooks, numbered as the kernel numbers them; their names in output
 * ("LOCAL_OUT"), in options ("output") and as iptables chains ("OUTPUT");
 * and which of them nfcost fills with rules. A leaf: it includes nothing of
 * nfcost's, so rules, probe and results can all speak of hooks. */
#ifndef NFCOST_NFHOOK_H
#define NFCOST_NFHOOK_H

#include <stdbool.h>

enum nfhook {
	NFHOOK_PRE_ROUTING, NFHOOK_LOCAL_IN, NFHOOK_FORWARD, NFHOOK_LOCAL_OUT,
	NFHOOK_POST_ROUTING, NFHOOK_COUNT
};
/* As a hook to trace: all five ("all", named "ALL"). */
#define NFHOOK_ALL NFHOOK_COUNT

/* "output", "LOCAL_OUT", "local_out", ..., "all" (NFHOOK_ALL); any case. */
bool nfhook_parse(const char *s, enum nfhook *out);
/* "LOCAL_OUT"; NFHOOK_ALL: "ALL"; anything else "?". */
const char *nfhook_name(enum nfhook h);
/* The option spelling and nft chain name: "output", "input", "forward",
 * "prerouting", "postrouting". */
const char *nfhook_option(enum nfhook h);
/* The iptables built-in chain of the filter table: "OUTPUT", ... */
const char *nfhook_chain(enum nfhook h);
/* The hooks a rule set of nfcost's goes into: output, input, forward. */
bool nfhook_fillable(enum nfhook h);

#endif
