/* The rounds of a sweep or compare (--repeat N >= 2, --precision): see
 * sweep_internal.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/sweep_internal.h"
#include "util/util.h"

/* Room for `rounds` rounds of every arm's rows. */
static int rows_for_rounds(const struct sweep_plan *p, struct sweep_outcome *out, int rounds,
			   struct nf_error *err)
{
	size_t cap = p->n_counts * (size_t)rounds;

	for (int b = 0; b < out->n; b++) {
		struct step_row *r = realloc(out->rows[b], cap * sizeof(*r));
		if (!r)
			return nf_fail(err, EXIT_RUNTIME, "out of memory for %zu rows", cap);
		out->rows[b] = r;
	}
	struct round_visit *v = realloc(out->visits, cap * (size_t)out->n * sizeof(*v));
	if (!v)
		return nf_fail(err, EXIT_RUNTIME, "out of memory for %zu rows", cap);
	out->visits = v;
	return 0;
}

/* After a round of a precision run: is every arm's pooled slope
 * precise enough (two rounds at least, so that a spread exists)? */
static bool round_precise(const struct sweep_plan *p, struct sweep_outcome *out, int round)
{
	bool all = round >= 2;

	for (int b = 0; b < out->n && all; b++) {
		rounds_summarize(out->rows[b], out->n_rows[b], round, &out->rstats[b]);
		all = rounds_precise(&out->rstats[b], p->precision_pct);
	}
	return all;
}

/* The clock of a precision run: the rounds must end by `deadline` (the
 * budget from the run's start, less what the run still does after them:
 * the probe's cost at the largest count and the teardown, as long as their
 * twins took at the start, and one load), judged by the slowest round and
 * the slowest step so far, so that a slower machine or new load does not
 * carry the run past the budget. */
struct round_clock {
	double deadline;
	double slowest_round, slowest_step, slowest_load;
};

/* Would `need` more seconds (and a load back to the largest count) end
 * after the deadline? Never without a budget (--repeat). */
static bool past_budget(const struct sweep_plan *p, const struct round_clock *c, double need)
{
	return p->precision_pct > 0 && now_monotonic() + need + c->slowest_load > c->deadline;
}

/* One visit of round `round`: load count c into arm b, measure, and (in
 * the first round) the cost of changing one rule. */
static int visit_one(const struct sweep_plan *p, struct experiment **e, int b, long c, int round,
		     struct sweep_files *f, struct step_drops *drops_total,
		     struct sweep_outcome *out, long total, double t0, struct round_clock *clk,
		     struct nf_error *err)
{
	struct round_visit v = { .round = round, .backend = b, .rules = c };
	double started = now_monotonic();
	int rc;

	if ((rc = experiment_load(e[b], c, &v.load_ms, &v.counted, err)))
		return rc;
	out->visits[out->n_visits++] = v;
	struct step_row row = { .rules = c, .repeat = round, .inject_ms = v.load_ms };
	size_t before = out->n_rows[b];
	rc = measure_one(p, e[b], b, &row, f, drops_total, out, err);
	if (out->n_rows[b] > before)
		progress(++out->steps_done, total, arm_label(p, out, b), &row, t0);
	if (rc == 0 && round == 1)
		rc = measure_update(p, e[b], b, f, out, err);
	clk->slowest_step = fmax(clk->slowest_step, now_monotonic() - started);
	clk->slowest_load = fmax(clk->slowest_load, v.load_ms / 1000);
	return rc;
}

/* One round: every count once in a fresh random order (shared by the arms,
 * whose order is drawn per count as in a plain run). A precision run stops
 * before a step that would end after the deadline: the round is then cut,
 * its complete steps kept (*cut set). */
static int run_round(const struct sweep_plan *p, struct experiment **e, int round,
		     unsigned int *seed, int *corder, struct sweep_files *f,
		     struct step_drops *drops_total, struct sweep_outcome *out, double t0,
		     struct round_clock *clk, bool *cut, struct nf_error *err)
{
	long total = (long)p->n_counts * out->n * (p->precision_pct > 0 ? round : p->repeat);
	int border[SWEEP_MAX_ARMS], rc = EXIT_OK;

	shuffle(corder, (int)p->n_counts, seed);
	for (size_t ci = 0; ci < p->n_counts && !stop_requested && rc == EXIT_OK; ci++) {
		long c = p->counts[corder[ci]];
		shuffle(border, out->n, seed);
		for (int k = 0; k < out->n && rc == EXIT_OK && !stop_requested; k++) {
			if (out->steps_done && past_budget(p, clk, clk->slowest_step)) {
				*cut = true;
				return EXIT_OK;
			}
			rc = visit_one(p, e, border[k], c, round, f, drops_total, out, total, t0,
				       clk, err);
		}
	}
	return rc;
}

/* The rounds: each visits every count once and loads the exact count in
 * one transaction before it measures; the cost of changing one rule is
 * measured in the first round only. A precision run stops once
 * round_precise holds, or before a round that would end after the budget
 * (judged by the slowest round so far), or cuts a round at the budget. */
int sweep_run_rounds(const struct sweep_plan *p, struct experiment **e, struct sweep_files *f,
		      struct step_drops *drops_total, struct sweep_outcome *out, double t0,
		      double tail_s, struct nf_error *err)
{
	int max_rounds = p->precision_pct > 0 ? ROUNDS_MAX : p->repeat, rc = EXIT_OK;
	int *corder = malloc(p->n_counts * sizeof(int));
	struct rounds_outcome *o = &out->rounds;
	struct round_clock clk = { .deadline = t0 + p->budget_s - tail_s };
	unsigned int seed = p->seed;
	bool cut = false;

	o->seed = p->seed;
	o->precision_mode = p->precision_pct > 0;
	o->precision_pct = p->precision_pct;
	o->budget_s = p->budget_s;
	o->stop_reason = p->precision_pct > 0 ? "max_rounds" : "rounds";
	if (!corder)
		return nf_fail(err, EXIT_RUNTIME, "out of memory for %zu rule counts", p->n_counts);
	for (int round = 1; round <= max_rounds; round++) {
		double started = now_monotonic();
		if (round > 1 && past_budget(p, &clk, clk.slowest_round)) {
			o->stop_reason = "budget";
			break;
		}
		if (stop_requested || (rc = rows_for_rounds(p, out, round, err)))
			break;
		rc = run_round(p, e, round, &seed, corder, f, drops_total, out, t0, &clk, &cut, err);
		if (rc || stop_requested)
			break;
		if (cut) {
			o->stop_reason = "budget";
			o->cut_steps = (int)(out->n_visits - (size_t)(round - 1) * p->n_counts *
								   (size_t)out->n);
			break;
		}
		o->rounds = round;
		clk.slowest_round = fmax(clk.slowest_round, now_monotonic() - started);
		if (p->precision_pct > 0 && round_precise(p, out, round)) {
			o->precision_reached = true;
			o->stop_reason = "precision";
			break;
		}
	}
	if (stop_requested)
		o->stop_reason = "interrupted";
	else if (rc)
		o->stop_reason = "failed";
	free(corder);
	return rc;
}

/* The rounds' summaries from the rows, the JSON's part, report.md's section. */
void sweep_summarize_rounds(const struct sweep_plan *p, struct sweep_outcome *out)
{
	struct rounds_outcome *o = &out->rounds;
	bool precise = o->rounds >= 2;

	for (int b = 0; b < out->n; b++) {
		rounds_summarize(out->rows[b], out->n_rows[b], o->rounds, &out->rstats[b]);
		precise = precise && rounds_precise(&out->rstats[b], p->precision_pct);
	}
	/* A round the budget cut adds its steps to the pooled fit: it may have
	 * brought the half-width to the target after all. */
	if (o->precision_mode && !strcmp(o->stop_reason, "budget"))
		o->precision_reached = precise;
	o->time_used_s = out->meta.wall_s;
	out->meta.repeat = o->rounds;
}

