/* rounds: the spread of a run measured in rounds (sweep --repeat N or
 * --precision): every round visits every rule count once, so each round
 * has a slope of its own. From the rows (repeat = round) it computes the
 * per-round slopes, their mean, standard deviation and coefficient of
 * variation, and how wide the pooled fit's 95 % CI is against its slope;
 * and it writes them as JSON and as report.md's section. No kernel I/O. */
#ifndef NFCOST_ROUNDS_H
#define NFCOST_ROUNDS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results/results.h"

#define ROUNDS_MAX 1000

struct round_stats {
	int rounds;                  /* rounds 1..rounds of the rows */
	double slopes[ROUNDS_MAX];   /* round r's OLS slope at [r - 1]; NAN: no fit */
	int n_slopes;                /* finite slopes among them */
	double mean, sd, cv;         /* of the finite slopes; sd, cv NAN with fewer than two */
	/* The pooled fit (every row of every round): its slope and the CI's
	 * half-width in % of |slope|; NAN when undefined. */
	double pooled_slope, half_width_pct;
};

/* From rows (any order; repeat is the round, 1..rounds). */
void rounds_summarize(const struct step_row *rows, size_t n, int rounds, struct round_stats *s);

/* Is the pooled slope's 95 % CI half-width at most pct % of the slope? */
bool rounds_precise(const struct round_stats *s, double pct);

/* {"slopes_ns_per_rule": [...], "slope_mean_ns_per_rule", "slope_sd_ns_per_rule",
 *  "slope_cv", "pooled_slope_ns_per_rule", "ci95_half_width_pct"} */
json_object *rounds_stats_json(const struct round_stats *s);

/* How a run of rounds ended and why (stop_reason: "rounds" for --repeat,
 * "precision", "budget", "max_rounds", "interrupted", "failed"). */
struct rounds_outcome {
	int rounds;
	unsigned int seed;
	bool precision_mode;
	double precision_pct, budget_s;
	bool precision_reached;
	const char *stop_reason;
	int cut_steps;      /* budget: the complete steps of the round it cut (kept) */
	double time_used_s; /* the run's wall time */
};

/* One visit of a round: backend (or offload setting) b loaded `rules`
 * (`counted` in the kernel afterwards) in load_ms. */
struct round_visit {
	int round, backend;
	long rules, counted;
	double load_ms;
};

/* report.md's section on the rounds, written to f. names[i] labels
 * stats[i] (NULL for a sweep's one backend), in a column titled `what`
 * ("backend", "offload"). */
void rounds_report(FILE *f, const struct rounds_outcome *o, const char *const *names,
		   const char *what, const struct round_stats *stats, int n);

#endif
