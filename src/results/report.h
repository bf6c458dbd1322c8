/* report: owns what a person reads after an experiment: report.md, which
 * answers the lab's questions with the run's own numbers (written into a
 * stream: results/sweepout.h puts it in its file), and the call of
 * scripts/plot_results.py that draws the figures from the data files. */
#ifndef NFCOST_REPORT_H
#define NFCOST_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/window.h"
#include "results/results.h"

/* The cost of changing one rule, per step, and its summary. */
struct report_updates {
	const struct update_row *rows;
	size_t n;
	struct update_summary sum;
};
/* What report.md of a sweep says: drops: drop mode's totals, or NULL;
 * updates: the update cost per step, or NULL; figure: sweep.png exists. */
struct report_sweep_data {
	const struct run_meta *meta;
	const struct sweep_summary *sum;
	const struct step_row *rows;
	size_t n;
	bool figure;
	const struct step_drops *drops;
	const struct report_updates *updates;
};
void report_sweep(FILE *f, const struct report_sweep_data *r);

/* One backend's part of a compare run. */
struct report_backend {
	const char *name;
	struct sweep_summary sum;
};
/* compare's report.md: a table of the backends and what each one's growth
 * says about its lookup. */
void report_compare(FILE *f, const struct run_meta *m, const struct report_backend *cb, int nb,
		    bool fig);

/* Runs `python plot_results.py KIND DIR` on d, whose figure it records as
 * nfcost's (util/outfile.h). 0 when the figure was drawn; otherwise -1 with
 * warning filled (why, what to do): a missing figure never fails a
 * measurement, so the caller prints it as a warning. */
int report_plot(const char *kind, struct outdir *d, struct nf_error *warning);

/* The rule counts of a run for a sentence: "0..3000 in steps of 100", or
 * the list ("0, 100, 1000, 10000") when they are not evenly spaced. */
void report_counts(const struct run_meta *m, char *buf, size_t len);

/* The verdict on a fit, one of six: "undetermined" (no fit), "flat",
 * "growing" (two counts only), "linear", "mostly linear" (a significant
 * quadratic term), "growing, not linear" (R² below 0.9). */
const char *report_growth_verdict(const struct sweep_summary *s);

/* One block of docs/formats.md ("trace text output"), blank line after:
 *   19:30:12 t=10.0s LOCAL_OUT nfcost-x-cli via nfhook
 *     count 123456 avg 512 ns p50 480 ns p90 700 ns p99 1200 ns unmatched 0
 * plus, for by (enum probe_by), one "  NAME COUNT" line per process or hook;
 * a hook's line ends in " lost N" when N packets never left it.
 * The clock is the local time of the call. */
void report_print_window(FILE *f, const struct probe_window *w, double t_start_s,
			const char *hook, const char *netns, const char *tracer, int by);
/* bcc-style log2 histogram of hist in ns, 78 columns. Prints nothing when empty. */
void report_print_hist(FILE *f, const uint64_t hist[HIST_SLOTS]);

#endif
