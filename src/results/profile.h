/* results/profile: the data of one `nfcost profile` run (a user's rule set,
 * its flows, where in each hook the time went, and every fix beside the
 * original with its verdict check) and its files: profile.json and
 * profile.md. Plain data: the experiments stage fills it; nothing here
 * touches the kernel. */
#ifndef NFCOST_RESULTS_PROFILE_H
#define NFCOST_RESULTS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results/results.h"
#include "util/nfhook.h"

#define PROFILE_MAX_PARTS 9   /* brackets split a hook into at most this many parts */

/* One part of a hook: the time between two brackets, and what the kernel
 * runs there (a table, conntrack, an nft base chain, or nothing). */
struct profile_part {
	char label[96];        /* "filter", "conntrack", "nat (dnat)", "inet/fw chain out", "" */
	int prio_from, prio_to; /* the brackets around it (INT_MIN+1 / INT_MAX-1 at the ends) */
	double ns_per_packet;
	double share;          /* of the hook's time, 0..1 */
};

/* One hook the flow's packets crossed in the measured namespace. */
struct profile_hook {
	enum nfhook hook;
	bool reply;            /* crossed by the reply direction (the flow's return traffic) */
	uint64_t packets;      /* skbs timed through it */
	uint64_t segments;
	uint64_t dropped;      /* entered it and never left */
	double ns_per_packet;
	int n_parts;
	struct profile_part parts[PROFILE_MAX_PARTS];
};

/* A flow through one rule set. */
struct profile_flow {
	char flow[64];         /* the canonical spec (traffic/flow.h) */
	char verdict[64];      /* "passed", "dropped in output", "not seen" */
	bool measured;         /* false: the traffic did not run (error says why) */
	char error[256];
	double throughput_mbps;
	double packets_per_s;
	double ns_per_packet;  /* in the measured hook, per skb */
	double ns_per_segment; /* ... per wire packet */
	int n_hooks;
	struct profile_hook hooks[NFHOOK_COUNT];
};

/* A packet whose verdict differs between the original and a fix. */
struct profile_diff {
	char packet[96];       /* "udp 198.18.0.1>240.0.0.7:53" */
	char origin[160];      /* the rule the sample comes from, or the flow */
	char original[64], fixed[64];
};

/* The original rule set, or one fix of it. */
struct profile_variant {
	char name[32];         /* "original", "nft-optimize", "ipset", "established-first", "flowtable" */
	bool applied;          /* false: the fix does not apply here (note says why) */
	char note[512];        /* caveats: "changes what a rule set that drops established traffic does" */
	char file[256];        /* its rule set, relative to the output directory */
	char ipset_file[256];  /* ipset: the sets to restore first; else "" */
	const char *backend;   /* what loaded it */
	int n_rules, n_chains, n_sets;
	struct profile_flow *flows;
	int n_flows;
	double speedup;        /* original ns_per_packet / this one's, over the flows (geometric mean) */
	/* The verdict check against the original (fixes only). */
	int samples;           /* packets compared: the flows plus samples of the rule set */
	bool verdicts_equal;
	struct profile_diff *diffs;
	int n_diffs;
};

struct profile_result {
	struct run_meta meta;  /* kernel, CPU, tracer, hook, traffic, environment */
	char source[512];      /* the file, "-", or what --from-host read */
	const char *format;    /* "iptables-save" or "nft" */
	char digest[65];       /* sha256 of the rule set as read */
	int n_rules, n_chains, n_sets, n_tables;
	const char *hook;      /* the measured hook: "output", "input", "forward" */
	char netns_side[8];    /* "cli", "srv", "rtr" */
	char iface[32];        /* --iface, or "" */
	int brackets[PROFILE_MAX_PARTS - 1]; /* the split priorities used */
	int n_brackets;
	struct profile_variant *variants; /* [0] is the original */
	int n_variants;
};

/* profile.json (docs/formats.md) and profile.md into d. 0 or -1 with err. */
int results_write_profile(struct outdir *d, const struct profile_result *r,
			  struct nf_error *err);
/* profile.md: the answers in words. */
void report_profile(FILE *f, const struct profile_result *r);
void profile_result_free(struct profile_result *r);

#endif
