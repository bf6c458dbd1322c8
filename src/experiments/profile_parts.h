/* profile_parts: what runs between the probe's brackets when a profile
 * splits a hook's time by table. The tables (nft: base chains) of a loaded
 * rule set become components by priority, conntrack and defrag among them
 * when the rule set uses them; a bracket goes just before each; part k of
 * a hook runs from bracket k to bracket k+1 and is labelled with what runs
 * there. Pure: no kernel I/O. */
#ifndef NFCOST_PROFILE_PARTS_H
#define NFCOST_PROFILE_PARTS_H

#include <limits.h>
#include <stdbool.h>

#include "results/profile.h"
#include "rules/ruleset.h"
#include "util/nfhook.h"

#define PRI_FIRST_BRACKET (INT_MIN + 1)
#define PRI_LAST_BRACKET (INT_MAX - 1)

/* What runs between two brackets: a table (or an nft table's base chains)
 * at one priority, on the hooks in the mask. */
struct component {
	int prio;
	unsigned int hooks;
	char label[64];
};

/* The hooks a packet of the flow crosses in the measured namespace on its
 * way to the server, in order (at most 3); the others see the reply. */
int parts_path_hooks(enum nfhook measured, enum nfhook out[3]);
bool parts_on_path(enum nfhook measured, enum nfhook h);
/* The tables of the loaded rule set as components, by priority (at most
 * max); how many. */
int parts_components(const struct ruleset *rs, const struct ruleset_chain *chains, int n,
		  struct component *c, int max);
/* The brackets' priorities (splits) and the hooks each is linked on, at
 * most PROFILE_MAX_PARTS - 1; how many. */
int parts_brackets(const struct component *c, int nc, int *splits, unsigned int *hooks);
/* Part k of hook h: false when bracket k+1 is not linked on h (the next
 * part holds its time); else fills part's brackets and label. */
bool parts_label(const struct component *c, int nc, const int *splits,
		const unsigned int *hooks, int n_splits, enum nfhook h, int k,
		struct profile_part *part);

#endif
