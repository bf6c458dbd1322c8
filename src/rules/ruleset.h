/* rules/ruleset: a user's saved rule set: reading it (file, stdin, or the
 * host's own, read-only), describing it (format, digest, tables, chains,
 * rules, sets), loading it into a namespace as one transaction, flushing a
 * namespace of every backend's tables, and rewriting it into the standard
 * fixes (nft-optimize, ipset, established-first, flowtable). The format is
 * recognised by content: iptables-save text (either variant: the backend
 * chooses which loader takes it) or `nft list ruleset` / `nft -f` text.
 * IPv4 only: ip6tables-save text is refused with a line saying so.
 * ruleset.c does the kernel's part; ruleset_text.c (describing) and
 * ruleset_samples.c work on the text alone; ruleset_fix.c the fixes. */
#ifndef NFCOST_RULESET_H
#define NFCOST_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/rulespec.h"
#include "util/error.h"

enum ruleset_format { RULESET_IPTABLES, RULESET_NFT };
enum ruleset_fix { FIX_NFT_OPTIMIZE, FIX_IPSET, FIX_ESTABLISHED_FIRST, FIX_FLOWTABLE, FIX_COUNT };

/* hook: the chain's netfilter hook (enum nfhook) for a base chain of family
 * ip or inet (iptables: the built-in chains); RULESET_HOOK_USER for a user
 * chain; RULESET_HOOK_OTHER for a base chain nfcost does not measure
 * (netdev/bridge/arp/ip6 families, ingress). */
#define RULESET_HOOK_USER (-1)
#define RULESET_HOOK_OTHER (-2)
struct ruleset_chain {
	char family[16]; /* "ip", "inet", ... (iptables: "ip") */
	char table[32];
	char name[64];
	char type[16];   /* base chains: "filter", "nat", "route"; user chains: "" */
	int hook;
	int priority;
	int rules;
};

struct ruleset {
	enum ruleset_format format;
	int family;            /* AF_INET */
	char *text;            /* the rule set (iptables-save or nft syntax), NUL-terminated */
	size_t len;
	char *ipset_text;      /* FIX_IPSET only: the `ipset restore` input, else NULL */
	char digest[65];       /* sha256 of text, hex */
	int n_rules, n_chains, n_sets, n_tables;
	struct ruleset_chain *chains; /* base and user chains, in the text's order */
	int n_chain_entries;
};

/* Reading: 0, or -1 with err (EXIT_USAGE: not a rule set we take;
 * EXIT_RUNTIME: could not read). path "-" = stdin. */
int ruleset_read_file(const char *path, struct ruleset *rs, struct nf_error *err);
int ruleset_read_text(const char *text, struct ruleset *rs, struct nf_error *err);
/* The host's rule set, read-only, in the namespace nfcost was started in
 * (iptables-legacy-save, iptables-nft-save, nft list ruleset: the one that
 * holds rules; when several do, the one with the most, and note says which
 * it took, why, and what it left out; when none holds a rule, an empty
 * filter table with ACCEPT policies, which is what the host does). Writes
 * nothing anywhere. */
int ruleset_read_host(struct ruleset *rs, char *note, size_t notelen, struct nf_error *err);

/* Loads rs into the namespace at netns_path with the backend
 * (BACKEND_IPTABLES_NFT / BACKEND_IPTABLES_LEGACY for iptables text; nft
 * text always via libnftables, one transaction). rs->ipset_text first
 * (ipset restore), then the rules. On failure: -1 with err, EXIT_USAGE with
 * the loader's own message and line number, and when the namespace held no rule
 * set before, everything loaded is removed again (iptables-restore commits
 * per table, so a later table's error would otherwise leave earlier ones). */
int ruleset_load(const char *netns_path, const struct ruleset *rs, enum rules_backend backend,
		 struct nf_error *err);
/* Removes every table of every backend from that namespace: nft's (which
 * include iptables-nft's), iptables-legacy's rules and user chains (the
 * kernel keeps an empty legacy table until the namespace goes), ipsets.
 * 0, or -1 with err. */
int ruleset_flush(const char *netns_path, struct nf_error *err);
/* Does the namespace hold any nft table, legacy rule or ipset? */
bool ruleset_namespace_empty(const char *netns_path);

/* The base chains (hook >= 0) as the kernel has them after loading (nft and
 * iptables-nft: read back from the kernel's own listing; iptables-legacy:
 * rs's chains with the standard table priorities raw -300, mangle -150,
 * nat -100 (PREROUTING, OUTPUT) / 100 (INPUT, POSTROUTING), filter 0,
 * security 50), sorted by hook then priority. *out is malloc'd (free()).
 * 0, or -1 with err. */
int ruleset_base_chains(const char *netns_path, const struct ruleset *rs, enum rules_backend b,
			struct ruleset_chain **out, int *n, struct nf_error *err);

/* The fixed rule set. scratch_netns: a namespace the function may use to
 * run nft's optimizer (load + list; flushed before and after).
 * devices: the interfaces a flowtable names. Returns 0; 1 when the fix does
 * not apply (note says why, e.g. "no rules differ in one address only",
 * "flowtable applies to the forward hook only"); otherwise -1 with err.
 * On 0 note may still say something the user must know (e.g.
 * established-first changes what a rule set dropping established traffic
 * does). nft-optimize and flowtable on iptables input give nft text
 * (iptables-restore-translate). */
int ruleset_fix(const struct ruleset *orig, enum ruleset_fix fix, const char *scratch_netns,
		const char *const *devices, int n_devices, struct ruleset *fixed,
		char *note, size_t notelen, struct nf_error *err);
const char *ruleset_fix_name(enum ruleset_fix f);            /* "nft-optimize", ... */
/* "all", or names separated by commas; false on an unknown or empty name. */
bool ruleset_fix_parse_list(const char *list, bool out[FIX_COUNT]);
/* "ipset" -> FIX_IPSET; false when unknown. */
bool ruleset_fix_parse(const char *name, enum ruleset_fix *out);

/* Sample packets that exercise the rule set: for every rule that names a
 * destination (or else a source) address, one packet to (from) that address
 * (the network's first usable address for a prefix; every element of an
 * anonymous nft set) with the rule's protocol and port (TCP 443 when it
 * names none; ICMP when it names icmp). src/dst are "" when the rule does
 * not name them. At most max samples, spread evenly over the rule set when
 * it has more; *out malloc'd (free()). Returns 0. */
struct ruleset_sample {
	int proto; /* IPPROTO_TCP/UDP/ICMP */
	char src[64];
	char dst[64];
	unsigned short dport;
	char origin[160]; /* the rule it comes from (its text, cut) */
};
#define RULESET_MAX_SAMPLES 1000000
int ruleset_samples(const struct ruleset *rs, struct ruleset_sample **out, size_t *n, size_t max);

const char *ruleset_format_name(enum ruleset_format f); /* "iptables", "nft" */
void ruleset_free(struct ruleset *rs);

#endif
