/* live: the lab's time-series experiment: one long iperf3 run in a testbed
 * of its own while rules are injected at a steady rate (one transaction per
 * batch, one batch a second), the probe closing a window every interval.
 * Writes iperf_results.json, bpf_results.txt (the lab's text), bpf_windows.csv
 * (the same windows as data), injection.csv and, unless told not to,
 * results.png. */
#ifndef NFCOST_LIVE_H
#define NFCOST_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "experiments/experiment.h"
#include "util/outfile.h"

struct live_plan {
	int duration_s;
	double inject_at_s;
	long rules;
	long inject_rate;      /* rules per second */
	double interval_s;     /* probe window */
	struct experiment_config cfg;
	const char *dir;       /* the output directory's name, for messages */
	struct outdir *outdir; /* ... open: every file goes through it */
	bool no_plot;
};

struct live_outcome {
	bool measured;         /* the traffic run ended with its JSON */
	size_t intervals;      /* iperf3's */
	double mean_mbps;
	long injected, batches;
	double batch_ms_mean, batch_ms_max;
	bool interrupted;
};

/* 0, or -1 with err (util/error.h). What was measured is on
 * disk also when the run fails or is interrupted; while the run goes, each
 * file is under a temporary name (util/outfile.h) and takes its own name
 * when the run ends. */
int live_run(const struct live_plan *p, struct live_outcome *out, struct nf_error *err);

#endif
