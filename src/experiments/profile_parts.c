#include "experiments/profile_parts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The hooks a packet of the flow crosses in the measured namespace on its
 * way to the server, in order; the others see the reply direction. */
int parts_path_hooks(enum nfhook measured, enum nfhook out[3])
{
	if (measured == NFHOOK_LOCAL_IN) {
		out[0] = NFHOOK_PRE_ROUTING;
		out[1] = NFHOOK_LOCAL_IN;
		return 2;
	}
	if (measured == NFHOOK_FORWARD) {
		out[0] = NFHOOK_PRE_ROUTING;
		out[1] = NFHOOK_FORWARD;
		out[2] = NFHOOK_POST_ROUTING;
		return 3;
	}
	out[0] = NFHOOK_LOCAL_OUT;
	out[1] = NFHOOK_POST_ROUTING;
	return 2;
}

bool parts_on_path(enum nfhook measured, enum nfhook h)
{
	enum nfhook p[3];
	int n = parts_path_hooks(measured, p);

	for (int i = 0; i < n; i++)
		if (p[i] == h)
			return true;
	return false;
}

/* Does the rule set make the kernel track connections (conntrack at -200,
 * defragmentation at -400 in PREROUTING and OUTPUT)? */
static bool uses_conntrack(const struct ruleset *rs)
{
	static const char *const marks[] = { "conntrack", "--state", "ct state", "ct status",
					     "*nat", "type nat", "DNAT", "SNAT", "MASQUERADE",
					     "REDIRECT", "flowtable", "ct mark", "CONNMARK" };

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(rs->text, marks[i]))
			return true;
	return false;
}

static void add_component(struct component *c, int *n, int max, int prio, int hook,
			  const char *label)
{
	for (int i = 0; i < *n; i++)
		if (c[i].prio == prio && !strcmp(c[i].label, label)) {
			c[i].hooks |= 1u << hook;
			return;
		}
	for (int i = 0; i < *n; i++)
		if (c[i].prio == prio) { /* two tables at one priority: one part */
			if (!strstr(c[i].label, label) && strlen(c[i].label) + strlen(label) + 4 <
								 sizeof(c[i].label)) {
				strcat(c[i].label, " + ");
				strcat(c[i].label, label);
			}
			c[i].hooks |= 1u << hook;
			return;
		}
	if (*n >= max)
		return;
	c[*n].prio = prio;
	c[*n].hooks = 1u << hook;
	snprintf(c[*n].label, sizeof(c[*n].label), "%s", label);
	(*n)++;
}

static int cmp_component(const void *a, const void *b)
{
	const struct component *x = a, *y = b;
	return (x->prio > y->prio) - (x->prio < y->prio);
}

/* The tables of the loaded rule set as components, by priority. */
int parts_components(const struct ruleset *rs, const struct ruleset_chain *chains, int n,
			 struct component *c, int max)
{
	int nc = 0;

	for (int i = 0; i < n; i++) {
		char label[64];
		if (chains[i].hook < 0 || chains[i].hook >= NFHOOK_COUNT)
			continue;
		if (rs->format == RULESET_IPTABLES && !strcmp(chains[i].table, "nat"))
			snprintf(label, sizeof(label), "nat (%s)", chains[i].priority < 0 ? "dnat" : "snat");
		else if (rs->format == RULESET_IPTABLES)
			snprintf(label, sizeof(label), "%s", chains[i].table);
		else /* nft: each base chain is its own part */
			snprintf(label, sizeof(label), "%s %s %s", chains[i].family, chains[i].table,
				 chains[i].name);
		add_component(c, &nc, max, chains[i].priority, chains[i].hook, label);
	}
	if (uses_conntrack(rs)) {
		add_component(c, &nc, max, -200, NFHOOK_PRE_ROUTING, "conntrack");
		add_component(c, &nc, max, -200, NFHOOK_LOCAL_OUT, "conntrack");
		add_component(c, &nc, max, -400, NFHOOK_PRE_ROUTING, "defrag");
		add_component(c, &nc, max, -400, NFHOOK_LOCAL_OUT, "defrag");
	}
	qsort(c, (size_t)nc, sizeof(*c), cmp_component);
	return nc;
}

/* Brackets: one just before each component, linked on the hooks that
 * component is on (every bracket costs each packet of its hooks), so on
 * each hook the part before its first component is the probe's own time.
 * A bracket linked after a hook of equal priority runs after it, so P-1
 * separates P-1 and P too. Components beyond the bracket budget share the
 * last part; components of equal priority share a bracket. */
int parts_brackets(const struct component *c, int nc, int *splits, unsigned int *hooks)
{
	int n = 0;

	for (int i = 0; i < nc; i++) {
		int s = c[i].prio - 1;
		if (s <= PRI_FIRST_BRACKET || s >= PRI_LAST_BRACKET)
			continue;
		if (n && s <= splits[n - 1]) {
			hooks[n - 1] |= c[i].hooks;
			continue;
		}
		if (n == PROFILE_MAX_PARTS - 1)
			break;
		splits[n] = s;
		hooks[n++] = c[i].hooks;
	}
	return n;
}

/* Part k of hook h runs from bracket k to bracket k+1 (bracket 0 the
 * first program, n_splits+1 the last); where bracket k+1 is not linked on
 * h the part is 0 and the next one holds its time (false: skip it). Fills
 * the part's brackets as linked on h and what runs between them. */
bool parts_label(const struct component *c, int nc, const int *splits,
		       const unsigned int *hooks, int n_splits, enum nfhook h, int k,
		       struct profile_part *part)
{
	int from_k = -1;

	if (k < n_splits && !(hooks[k] & (1u << h)))
		return false;
	for (int j = k - 1; j >= 0 && from_k < 0; j--)
		if (hooks[j] & (1u << h))
			from_k = j;
	part->prio_from = from_k < 0 ? PRI_FIRST_BRACKET : splits[from_k];
	part->prio_to = k == n_splits ? PRI_LAST_BRACKET : splits[k];
	part->label[0] = '\0';
	for (int i = 0; i < nc; i++) {
		/* A bracket at s runs before a component at P exactly when s < P. */
		bool after_from = from_k < 0 || splits[from_k] < c[i].prio;
		bool before_to = k == n_splits || splits[k] >= c[i].prio;
		if (!(c[i].hooks & (1u << h)) || !after_from || !before_to)
			continue;
		size_t l = strlen(part->label);
		snprintf(part->label + l, sizeof(part->label) - l, "%s%s", l ? " + " : "", c[i].label);
	}
	return true;
}

