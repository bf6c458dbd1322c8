/* sweepout: every file of a sweep or compare run, built and written here:
 * the CSVs as the rows come (sweep.csv / compare.csv, updates.csv,
 * drops.csv), iperf3's JSON of every step (iperf/), and once the run ends
 * sweep.json / compare.json, the figure and report.md (with the offload
 * and rounds sections). Every file goes through util/outfile.h, so none is
 * ever written through a symlink or left half written. The first failure
 * is kept in struct sweep_files's err; later writes are still tried, but
 * their failures are not added: a full disk is one message. Nothing here
 * prints. */
#ifndef NFCOST_SWEEPOUT_H
#define NFCOST_SWEEPOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "results/report.h"
#include "results/results.h"
#include "results/rounds.h"
#include "util/error.h"
#include "util/outfile.h"

struct sweep_files {
	struct outdir *d;
	bool compare;           /* compare.* with a backend column, else sweep.* */
	struct outfile csv, updates, drops;
	struct nf_error err;    /* the first failure; status 0 while there is none */
	struct nf_error plot_warning; /* why no figure was drawn, when none was */
};

/* What a finished run hands over to be written (experiments/sweep.c fills
 * it from its plan and outcome). Arrays hold n arms (backends in compare,
 * offload settings in a sweep with --offload on,off, else one). */
struct sweep_output {
	bool compare, offload_arms, rounds_mode, no_plot;
	bool accept, hit_traffic;       /* drop mode's verdict and traffic */
	unsigned int seed;
	int update_reps;
	int n;
	const struct run_meta *meta;
	const struct report_backend *per;
	struct step_row *const *rows;
	const size_t *n_rows;
	struct update_row *const *updates;
	const size_t *n_updates;
	const struct update_summary *update_sum;
	const struct step_drops *drops; /* drop mode's totals, else NULL */
	long steps_done;
	const struct rounds_outcome *rounds;
	const struct round_stats *rstats;       /* [n] when rounds_mode */
	const struct round_visit *visits;
	size_t n_visits;
};

/* Opens the CSVs of a run in d. 0 or -1 (f->err says why). */
int sweep_files_open(struct sweep_files *f, struct outdir *d, bool compare, bool updates,
		     bool drops);
/* A row of the CSV (label: the arm's name in compare, else NULL). */
int sweep_files_row(struct sweep_files *f, const char *label, const struct step_row *r);
int sweep_files_update(struct sweep_files *f, const char *label, const struct update_row *u);
/* Drop mode: one line per hook where the step's datagrams entered or were lost. */
int sweep_files_drops(struct sweep_files *f, const struct step_drops *d, int repeat);
/* iperf3's JSON of one step as iperf/[LABEL-]rules-N-rR.json. */
int sweep_files_iperf(struct sweep_files *f, const char *label, const struct step_row *row,
		      const char *json);
/* Puts the CSVs in place (or, after a failure, removes them). */
int sweep_files_commit(struct sweep_files *f);
/* sweep.json / compare.json, the figure, report.md; *figure says whether
 * the figure was drawn. 0 or -1 (f->err). */
int sweep_files_finish(struct sweep_files *f, const struct sweep_output *v, bool *figure);

#endif
