/* sweep: the stepwise experiment that sweep and compare share, written once
 * (sweep.c; the rounds and the budget's clock in sweep_rounds.c):
 * for each rule count (baseline first), for each arm in a random order,
 * grow the rule set in one transaction and measure (traffic with the probe
 * window open, or drop mode's datagrams), then the cost of changing one
 * rule at that size; rows go to the CSVs as they come; then the summaries,
 * the JSON, the figure and report.md. With REPEAT >= 2 or a precision
 * target the run goes in rounds instead: each round visits every count in
 * a fresh random order and loads the exact count in one transaction (flush
 * and load), so drift favours no count; see sweep_rounds_mode. A sweep with
 * --offload on,off measures both settings the way compare measures
 * backends: its "arms" are the settings, one testbed each. */
#ifndef NFCOST_SWEEP_H
#define NFCOST_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "experiments/experiment.h"
#include "results/load.h"
#include "results/report.h"
#include "results/rounds.h"
#include "util/outfile.h"

/* An arm is what a run measures side by side, each in a testbed of its
 * own: a backend in compare, an offload setting in a sweep with --offload
 * on,off, else the sweep's one backend. The per-arm arrays below are
 * indexed by arm. */
#define SWEEP_MAX_ARMS BACKEND_COUNT

struct sweep_plan {
	const long *counts;  /* the rule counts to measure: ascending, no repeats */
	size_t n_counts;
	long step;           /* their spacing when even (for the record), else 0 */
	int repeat;
	int update_reps;     /* the cost of changing one rule: medians of this many; 0 off */
	struct experiment_config cfg;          /* cfg.backend is ignored: see backends */
	enum rules_backend backends[BACKEND_COUNT]; /* compare's arms; a sweep's one backend */
	int n_backends;
	bool compare;        /* compare.csv/.json (backend column), else sweep.* */
	/* sweep --offload on,off: one testbed per setting (cfg.offload is then
	 * ignored), visited in a random order at every rule count as compare
	 * visits backends; n_offloads 0 or 1: the one setting of cfg.offload. */
	enum offload offloads[2];
	int n_offloads;
	bool no_plot;
	const char *dir;     /* the output directory's name, for messages */
	struct outdir *outdir; /* ... open: every file goes through it (results/sweepout.h) */
	unsigned int seed;   /* the random orders: backends per rule count, counts per round */
	/* --precision: add rounds until the pooled slope's 95 % CI half-width is
	 * at most precision_pct % of it, or the next round would end after
	 * budget_s seconds; 0: off (repeat rounds). */
	double precision_pct, budget_s;
};

struct sweep_outcome {
	int n;                                  /* arms measured */
	struct report_backend per[SWEEP_MAX_ARMS]; /* per arm: its name and summary */
	struct step_row *rows[SWEEP_MAX_ARMS];
	size_t n_rows[SWEEP_MAX_ARMS];
	struct update_row *updates[SWEEP_MAX_ARMS];
	size_t n_updates[SWEEP_MAX_ARMS];
	struct update_summary update_sum[SWEEP_MAX_ARMS];
	long steps_done;
	struct run_meta meta;
	bool figure;                            /* the plot was drawn */
	/* Rounds (repeat >= 2 or --precision; else rounds.rounds is 0). */
	struct rounds_outcome rounds;
	struct round_stats *rstats;             /* [n], from the rows */
	struct round_visit *visits;             /* in the order they happened */
	size_t n_visits;
	struct step_load *load;                 /* every row's other load (meta.load) */
};

/* Does the plan go in rounds (repeat >= 2 or a precision target)? */
bool sweep_rounds_mode(const struct sweep_plan *p);

/* Runs the plan and writes every file. 0, or -1 with err (util/error.h;
 * an interrupted run is EXIT_RUNTIME with its rows kept). Progress and
 * warnings go to stderr as the run goes; the error is the caller's to say. */
int sweep_run(const struct sweep_plan *p, struct sweep_outcome *out, struct nf_error *err);
void sweep_outcome_free(struct sweep_outcome *out);

#endif
