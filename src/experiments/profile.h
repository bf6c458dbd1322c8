/* experiments/profile: `nfcost profile`: a user's rule set in a testbed of
 * its own (never the namespace nfcost runs in), loaded in one transaction
 * into the namespace of the measured hook; the user's flows with their real
 * addresses; the probe with brackets between the tables, so each hook's
 * time splits by table; then each fix loaded in its place and measured on
 * the same flows, with the verdicts of the flows and of packets built from
 * the rule set compared against the original's. */
#ifndef NFCOST_EXPERIMENTS_PROFILE_H
#define NFCOST_EXPERIMENTS_PROFILE_H

#include "util/outfile.h"
#include <stdbool.h>

#include "probe/probe.h"
#include "results/profile.h"
#include "rules/ruleset.h"
#include "traffic/flow.h"

struct profile_plan {
	const struct ruleset *rs;
	const char *source;           /* for the outputs: the path, "-", "host: ..." */
	enum rules_backend backend;   /* loads iptables text (nft text: always nft) */
	enum nfhook hook;             /* NFHOOK_LOCAL_OUT, NFHOOK_LOCAL_IN or NFHOOK_FORWARD */
	const struct flow_spec *flows;
	int n_flows;
	bool fixes[FIX_COUNT];
	/* Rule sets of the user's own making (--candidate): measured and
	 * verdict-checked like the fixes, named by their files. */
	const struct ruleset *candidates;
	const char *const *candidate_names;
	int n_candidates;
	int duration_s;               /* traffic per flow and rule set */
	const char *iface;            /* rename the measured namespace's interface; NULL: keep */
	enum probe_tracer tracer;
	int max_samples;              /* packets built from the rule set for the verdict check */
	const char *dir;       /* the output directory's name, for messages */
	struct outdir *outdir; /* ... open: every file goes through it (util/outfile.h) */
	bool no_plot;
};

/* Runs the plan and writes profile.json, profile.md, profile.png and
 * fixes/ into plan->dir. out is filled (free with profile_result_free).
 * 0, or -1 with err (util/error.h): EXIT_USAGE when the rule set does not
 * load (the loader's message), else EXIT_RUNTIME; an interrupted run says
 * where what was measured is. Nothing of the testbed is left either way. */
int profile_run(const struct profile_plan *plan, struct profile_result *out,
		struct nf_error *err);

#endif
