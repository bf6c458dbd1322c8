/* sweep: the stepwise experiment (baseline, then +STEP rules at a time up to
 * STOP, traffic and probe window at every step) and its command-line options,
 * which `compare` shares. */
#ifndef NFCOST_SWEEP_H
#define NFCOST_SWEEP_H

#include <argp.h>
#include <stdbool.h>

#include "experiments/experiment.h"

struct sweep_args {
	long start, stop, step;
	int repeat;
	struct experiment_config cfg;
	const char *out;
	bool no_plot;
	const char *backends; /* compare: "B1,B2,..." */
	bool is_compare;
};

/* The options sweep and compare share, and their parser (input: sweep_args). */
extern const struct argp sweep_options_argp;
void sweep_args_defaults(struct sweep_args *a);
/* Resolves everything the options leave open (checks, output dir).
 * 0 or an exit status with one message line. */
int sweep_args_finish(struct sweep_args *a, const char *kind, char *out_dir, size_t len);
/* Number of rule counts in START:STOP:STEP. */
long sweep_steps(const struct sweep_args *a);
struct run_meta;
/* The run's settings and tracer (p may be NULL: none ran) into m. */
void sweep_fill_meta(struct run_meta *m, const struct sweep_args *a, const struct probe *p);
/* Keeps iperf3's JSON of one step as DIR/iperf/[BACKEND-]rules-N-rR.json. */
int sweep_save_iperf(const char *dir, const char *backend, const struct step_row *row,
		     const struct traffic_result *res);
/* Progress line on stderr when it is a terminal. */
void sweep_progress(long done, long total, const char *label, const struct step_row *r,
		    double started);

#endif
