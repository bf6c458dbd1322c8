/* results: owns the data files of an experiment: sweep.csv / compare.csv rows,
 * the run's metadata (kernel, CPU, settings, tracer and why), the summary
 * computed from the rows through analysis, and sweep.json / compare.json.
 * No I/O with the kernel beyond reading uname and /proc/cpuinfo. */
#ifndef NFCOST_RESULTS_H
#define NFCOST_RESULTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results/analysis.h"
#include "experiments/experiment.h"

#define SWEEP_CSV_HEADER "rules,repeat,throughput_mbps,cwnd_kb,retransmits,packets," \
			 "lat_avg_ns,lat_p50_ns,lat_p99_ns,inject_ms"

struct run_meta {
	char kernel[128];
	char cpu_model[128];
	int cpus;
	char started_utc[32];
	double wall_s;
	const char *backend, *shape, *hook, *tracer;
	int matches_per_rule;
	char tracer_note[512];
	struct traffic_opts traffic;
	int repeat;
	long start, stop, step;
	bool calibrated;
	double calibration_ns;   /* empty-chain average: the probe's own cost */
	bool interrupted;        /* stopped by SIGINT/SIGTERM before the plan ended */
};

struct sweep_summary {
	size_t rows;
	bool fit_ok;
	struct linear_fit fit;   /* lat_avg_ns against rules */
	double ns_per_match;
	long knee_rules;         /* -1: throughput never stayed below the baseline */
	double cwnd_corr;        /* NAN when undefined (UDP, constant) */
	long min_rules, max_rules;
	double baseline_mbps, max_rules_mbps;   /* means at the smallest / largest count */
	double baseline_cwnd_kb, max_rules_cwnd_kb;
	double baseline_lat_ns, max_rules_lat_ns;
	double baseline_p50_ns, max_rules_p50_ns; /* medians: blind to rare spikes */
	/* The fit's slope over each half of the rule range (split at mid_rules,
	 * whose steps count in both): does a rule cost the same in a short
	 * chain as in a long one? NAN when a half has fewer than two counts. */
	long mid_rules;
	double slope_lower_half, slope_upper_half;
};

/* results/KIND-<UTC timestamp>: where a run writes when --out is not given. */
void results_default_dir(const char *kind, char *buf, size_t len);
/* Fills the machine part of the metadata (kernel, CPU, start time). */
void results_meta_init(struct run_meta *m);

/* Creates dir/file and writes the header (with "backend," first if asked). */
FILE *results_csv_open(const char *dir, const char *file, bool with_backend);
void results_csv_row(FILE *f, const char *backend, const struct step_row *r);

void results_summarize(const struct step_row *rows, size_t n, int matches_per_rule,
		       struct sweep_summary *s);

json_object *results_meta_json(const struct run_meta *m);
json_object *results_summary_json(const struct sweep_summary *s);
/* Drop mode's totals: {"sent", "send_eperm", "cut_at", "by_hook": {HOOK: {"entered", "lost"}}}. */
json_object *results_drops_json(const struct step_drops *d);
/* The hook where most datagrams were lost, or -1 when none was. */
int results_cut_hook(const struct step_drops *d);
/* Writes obj to path (pretty) and drops the reference. 0 or -1. */
int results_write_json(const char *path, json_object *obj);

#endif
