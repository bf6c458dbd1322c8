/* sweep_internal: what sweep.c (the step loop, one pass) and
 * sweep_rounds.c (the rounds: --repeat N >= 2 and --precision, with the
 * budget's clock) share. Private to experiments/. */
#ifndef NFCOST_SWEEP_INTERNAL_H
#define NFCOST_SWEEP_INTERNAL_H

#include "experiments/sweep.h"
#include "results/sweepout.h" /* struct sweep_files: the files of a run in progress */

/* What names arm b in the iperf/ files and the progress line: the backend
 * in compare, "offload-on" / "offload-off", or NULL for a sweep's one arm. */
const char *arm_label(const struct sweep_plan *p, const struct sweep_outcome *out, int b);
/* Progress line on stderr when it is a terminal. */
void progress(long done, long total, const char *label, const struct step_row *r, double started);
/* order = 0..n-1 in a random order drawn from *seed (Fisher-Yates). */
void shuffle(int *order, int n, unsigned int *seed);
/* One measurement of arm b at its current rule count: a row in the CSV
 * and in out, or -1 with err (nothing kept). A write that failed is in
 * f->err (the run reports it at its end). */
int measure_one(const struct sweep_plan *p, struct experiment *e, int b, struct step_row *row,
		struct sweep_files *f, struct step_drops *drops_total, struct sweep_outcome *out,
		struct nf_error *err);
/* The cost of changing one rule at b's current size: a row in updates.csv. */
int measure_update(const struct sweep_plan *p, struct experiment *e, int b,
		   struct sweep_files *f, struct sweep_outcome *out, struct nf_error *err);

/* The rounds (sweep_rounds.c): each visits every count once in a fresh
 * random order and loads the exact count in one transaction; a precision
 * run stops at the target or the budget. tail_s: what the run does after
 * the rounds, kept from the budget. 0, or -1 with err. */
int sweep_run_rounds(const struct sweep_plan *p, struct experiment **e, struct sweep_files *f,
		     struct step_drops *drops_total, struct sweep_outcome *out, double t0,
		     double tail_s, struct nf_error *err);
/* The rounds' statistics from the rows, and whether a budget-stopped run
 * met its target anyway. */
void sweep_summarize_rounds(const struct sweep_plan *p, struct sweep_outcome *out);

#endif
