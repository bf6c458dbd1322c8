/* commands: one entry point per `nfcost COMMAND`; each parses its own
 * arguments (argp) and returns the process exit status (0, 1 or 2). */
#ifndef NFCOST_COMMANDS_H
#define NFCOST_COMMANDS_H

#include <stdbool.h>

#include "experiments/experiment.h"
#include "experiments/sweep.h"
#include "probe/probe.h"
#include "rules/rules.h"

int cmd_testbed(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_watch(int argc, char **argv);

struct argp;
struct argp_state;
/* argp_parse for a command, so that every usage error is ONE line on stderr
 * ("nfcost: ...") and exit 2; argv[0] is the command's name. */
int command_parse(const struct argp *argp, int argc, char **argv, void *input);
/* A usage error found while parsing: one line, exit 2. */
void usage_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* --netns NAME|PATH (trace, watch): a name is one under /run/netns; the
 * namespace must exist. The path into buf; usage_fail otherwise. */
void parse_netns_arg(const char *arg, char *buf, size_t len);

/* Option values several commands take; each exits 2 with one line on junk. */
void arg_backend(const char *arg, enum rules_backend *out);
void arg_shape(const char *arg, enum rules_shape *out);
void arg_tracer(const char *arg, enum probe_tracer *out);
void arg_hook(const char *arg, enum nfhook *out);
void arg_testbed_name(const char *arg, const char **out);

/* Keys of the options sweep, compare, live and profile share (each lists
 * those it takes in its own argp_option table, with its own help text). */
enum {
	OPT_EXP_BACKEND = 0x2000, OPT_EXP_SHAPE, OPT_EXP_TRACER, OPT_EXP_HOOK, OPT_EXP_OUT,
	OPT_EXP_NO_PLOT, OPT_EXP_OFFLOAD, OPT_EXP_STREAMS, OPT_EXP_SAMPLE
};
/* Parses one of those options into cfg, *out or *no_plot; false when key is
 * not one of them. */
bool arg_experiment_option(int key, char *arg, struct experiment_config *cfg, const char **out,
			   bool *no_plot);

/* The options sweep and compare share (cli/sweep.c). */
struct sweep_args {
	long start, stop, step;   /* step 0: the counts are not evenly spaced */
	long *counts;             /* --rules: every count, ascending (allocated) */
	size_t n_counts;
	int repeat;
	int update_reps;      /* --updates */
	struct experiment_config cfg;
	const char *out;
	bool no_plot;
	const char *backends; /* compare: "B1,B2,..." */
	unsigned int seed;    /* --seed: the random orders (backends, rounds) */
	bool seed_set;
	bool repeat_set;      /* --repeat was given */
	bool backend_set;     /* --backend was given (compare refuses it) */
	double precision_pct; /* --precision: target CI half-width in % of the slope; 0 off */
	double budget_s;      /* --budget: with --precision, seconds at most */
	bool budget_set;
	bool is_compare;
	enum offload offloads[2]; /* --offload on,off (or off,on): both, in this order */
	int n_offloads;           /* 2 with both; else cfg.offload holds the one */
};
extern const struct argp sweep_options_argp;
void sweep_args_defaults(struct sweep_args *a);
/* Resolves everything the options leave open (checks, output dir, opened
 * into d). 0 or an exit status with one message line. */
int sweep_args_finish(struct sweep_args *a, const char *kind, struct outdir *d);
/* The plan of one sweep (one backend: a->cfg.backend) into p; it borrows
 * a->counts (free that after the run). */
void sweep_args_plan(const struct sweep_args *a, const char *dir, struct sweep_plan *p);
/* Open files a run takes at most (testbed sockets, probe maps and links,
 * restore pipes, iperf3, outputs), with room to spare: measured, a sweep
 * needs 36. */
#define NFCOST_OPEN_FILES_NEEDED 64
/* Opens a run's output directory (util/outfile.h): --out, or NULL for a
 * new results/COMMAND-<UTC second>; says on stdout when it removed an
 * earlier run's files. Before that it makes sure the open-file limit holds
 * a run (open_files_ensure), so a low ulimit -n fails here, with nothing
 * created. 0 or an exit status with one message line. */
int open_output_dir(const char *out, const char *command, struct outdir *d);
/* The rounds' figures of a run in rounds on stdout (sweep, compare). */
void print_rounds(const struct sweep_outcome *out);

#endif
