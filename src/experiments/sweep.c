#include "experiments/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiments/environment.h"
#include "experiments/sweep_internal.h"
#include "results/load.h"
#include "experiments/overhead.h"
#include "util/util.h"

static const char *offload_name(enum offload o)
{
	return o == OFFLOAD_ON ? "on" : o == OFFLOAD_OFF ? "off" : "default";
}

/* Does the plan measure both offload settings, one testbed each? */
static bool offload_arms(const struct sweep_plan *p)
{
	return !p->compare && p->n_offloads > 1;
}

/* The offload setting of arm b (a backend in compare, a setting in a sweep
 * with --offload on,off, else the one arm). */
static enum offload arm_offload(const struct sweep_plan *p, int b)
{
	return offload_arms(p) ? p->offloads[b] : p->cfg.offload;
}

/* What names arm b in the iperf/ files and the progress line: the backend
 * in compare, "offload-on" / "offload-off", or NULL for a sweep's one arm. */
const char *arm_label(const struct sweep_plan *p, const struct sweep_outcome *out, int b)
{
	if (p->compare)
		return out->per[b].name;
	if (offload_arms(p))
		return arm_offload(p, b) == OFFLOAD_ON ? "offload-on" : "offload-off";
	return NULL;
}

/* Progress line on stderr when it is a terminal. */
void progress(long done, long total, const char *label, const struct step_row *r,
		     double started)
{
	double elapsed = now_monotonic() - started;
	double left = done ? elapsed / (double)done * (double)(total - done) : 0;

	if (!isatty(2))
		return;
	fprintf(stderr, "\r\033[K[%ld/%ld] %s%s%ld rules: %.0f ns, %.0f Mbit/s, ~%.0f s left",
		done, total, label ? label : "", label ? " " : "", r->rules, r->lat_avg_ns,
		r->throughput_mbps, left);
	if (done == total)
		fputc('\n', stderr);
}

static void fill_meta(struct run_meta *m, const struct sweep_plan *p, const struct probe *probe)
{
	m->backend = p->compare ? NULL : rules_backend_name(p->backends[0]);
	m->shape = rules_shape_name(p->cfg.shape);
	m->hook = nfhook_option(p->cfg.hook);
	m->matches_per_rule = rules_matches_per_rule(p->cfg.shape);
	m->tracer = probe ? probe_tracer_name(probe_tracer(probe)) : "none";
	if (probe) {
		snprintf(m->tracer_note, sizeof(m->tracer_note), "%s", probe_selection_note(probe));
		m->sample_every = probe_sample_every(probe);
	}
	m->traffic = (struct run_traffic){ .udp = p->cfg.traffic.udp,
					   .duration_s = p->cfg.traffic.duration_s,
					   .size = p->cfg.traffic.size,
					   .rate_bps = p->cfg.traffic.rate_bps,
					   .streams = p->cfg.traffic.streams,
					   .offload = !offload_arms(p) ? offload_name(p->cfg.offload)
						      : p->offloads[0] == OFFLOAD_ON ? "on,off"
										     : "off,on" };
	m->repeat = p->repeat;
	m->start = p->counts[0];
	m->stop = p->counts[p->n_counts - 1];
	m->step = p->step;
	m->counts = p->counts;
	m->n_counts = p->n_counts;
	m->interrupted = stop_requested != 0;
}

void shuffle(int *order, int n, unsigned int *seed)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
		int j = (int)(rand_r(seed) % (unsigned int)(i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}


static void add_drops(struct step_drops *total, const struct step_drops *d)
{
	total->sent += d->sent;
	total->send_eperm += d->send_eperm;
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		total->entered[h] += d->entered[h];
		total->lost[h] += d->lost[h];
	}
}

int measure_one(const struct sweep_plan *p, struct experiment *e, int b, struct step_row *row,
		struct sweep_files *f, struct step_drops *drops_total, struct sweep_outcome *out,
		struct nf_error *err)
{
	const char *label = arm_label(p, out, b);
	struct traffic_result res;
	int rc;

	row->offload = offload_name(arm_offload(p, b));
	if (experiment_drop_mode(&p->cfg)) {
		struct step_drops d;
		if (experiment_measure_drops(e, row, &d, err))
			return -1;
		add_drops(drops_total, &d);
		if (sweep_files_drops(f, &d, row->repeat))
			return -1;
	} else {
		if (experiment_measure(e, row, &res, err))
			return -1;
		if (stop_requested) { /* cut short: not a full step */
			traffic_result_free(&res);
			return 0;
		}
		rc = sweep_files_iperf(f, label, row, res.json);
		traffic_result_free(&res);
		if (rc)
			return -1;
	}
	if (sweep_files_row(f, p->compare ? label : NULL, row))
		return -1;
	out->rows[b][out->n_rows[b]++] = *row;
	return 0;
}

int measure_update(const struct sweep_plan *p, struct experiment *e, int b,
		   struct sweep_files *f, struct sweep_outcome *out, struct nf_error *err)
{
	struct update_row u;

	/* The cost of a transaction does not depend on the veths' offloads:
	 * an offload sweep measures it in its first setting's testbed only. */
	if (!p->update_reps || stop_requested || (offload_arms(p) && b != 0))
		return 0;
	if (experiment_update_cost(e, p->update_reps, &u, err))
		return -1;
	if (sweep_files_update(f, p->compare ? out->per[b].name : NULL, &u))
		return -1;
	out->updates[b][out->n_updates[b]++] = u;
	return 0;
}

/* A probe that timed nothing is a failed measurement, not a flat line. */
static int check_timed(const struct sweep_plan *p, const struct sweep_outcome *out,
		       const char *tracer, struct nf_error *err)
{
	for (int b = 0; b < out->n; b++) {
		bool timed = false;
		for (size_t i = 0; i < out->n_rows[b]; i++)
			timed |= out->rows[b][i].packets > 0;
		if (out->n_rows[b] && !timed && !experiment_drop_mode(&p->cfg))
			return nf_fail(err, EXIT_RUNTIME,
				       "the %s tracer timed no packet in any step: nothing was "
				       "measured; try another --tracer (nfhook needs kernel >= 6.4)",
				       tracer);
	}
	return 0;
}

/* Every row's other load, named by arm, count and round, into meta.load;
 * the steps it distorts into the environment's warnings (report.md,
 * the JSON) and on stderr. */
static void record_load(const struct sweep_plan *p, struct sweep_outcome *out)
{
	size_t n = 0, total = 0;
	char warning[sizeof(out->meta.env.warnings)];

	for (int b = 0; b < out->n; b++)
		total += out->n_rows[b];
	if (!total || !(out->load = calloc(total, sizeof(*out->load))))
		return;
	for (int b = 0; b < out->n; b++)
		for (size_t i = 0; i < out->n_rows[b]; i++) {
			const struct step_row *r = &out->rows[b][i];
			const char *arm = arm_label(p, out, b);
			char round[32] = "";
			if (p->repeat > 1 || sweep_rounds_mode(p))
				snprintf(round, sizeof(round), " %s %d",
					 sweep_rounds_mode(p) ? "round" : "repeat", r->repeat);
			snprintf(out->load[n].label, sizeof(out->load[n].label), "%s%s%ld rules%s",
				 arm ? arm : "", arm ? " " : "", r->rules, round);
			out->load[n++].other_cpu_pct = r->other_cpu_pct;
		}
	out->meta.load = out->load;
	out->meta.n_load = n;
	load_warning(out->load, n, "steps", warning, sizeof(warning));
	if (warning[0]) {
		environment_warn(&out->meta.env, "%s", warning);
		nf_err("warning: %s", warning);
	}
}

/* --- rounds: --repeat N >= 2 and --precision --- */

bool sweep_rounds_mode(const struct sweep_plan *p)
{
	return p->repeat >= 2 || p->precision_pct > 0;
}

/* sweep.json / compare.json, the figure and report.md (results/sweepout.h);
 * a failure is in f->err. */
static int write_outputs(const struct sweep_plan *p, struct sweep_outcome *out,
			 struct sweep_files *f, const struct step_drops *drops)
{
	struct sweep_output v = {
		.compare = p->compare, .offload_arms = offload_arms(p),
		.rounds_mode = sweep_rounds_mode(p), .no_plot = p->no_plot,
		.accept = p->cfg.accept, .hit_traffic = p->cfg.hit_traffic, .seed = p->seed,
		.update_reps = p->update_reps, .n = out->n, .meta = &out->meta, .per = out->per,
		.rows = out->rows, .n_rows = out->n_rows, .updates = out->updates,
		.n_updates = out->n_updates, .update_sum = out->update_sum, .drops = drops,
		.steps_done = out->steps_done, .rounds = &out->rounds, .rstats = out->rstats,
		.visits = out->visits, .n_visits = out->n_visits,
	};
	int rc = sweep_files_finish(f, &v, &out->figure);

	if (f->plot_warning.status)
		nf_err("warning: %s", f->plot_warning.msg);
	return rc ? -1 : 0;
}

/* Room for the plan's rows, named arms. */
static int sweep_alloc(const struct sweep_plan *p, struct sweep_outcome *out,
		       struct nf_error *err)
{
	long steps = (long)p->n_counts;

	memset(out, 0, sizeof(*out));
	results_meta_init(&out->meta);
	out->n = offload_arms(p) ? p->n_offloads : p->n_backends;
	if (sweep_rounds_mode(p) && !(out->rstats = calloc((size_t)out->n, sizeof(*out->rstats))))
		return nf_fail(err, EXIT_RUNTIME, "out of memory for the rounds' statistics");
	for (int b = 0; b < out->n; b++) {
		out->per[b].name = offload_arms(p) ? offload_name(p->offloads[b])
						   : rules_backend_name(p->backends[b]);
		out->rows[b] = calloc((size_t)(steps * p->repeat), sizeof(struct step_row));
		out->updates[b] = calloc((size_t)steps, sizeof(struct update_row));
		if (!out->rows[b] || !out->updates[b])
			return nf_fail(err, EXIT_RUNTIME, "out of memory for %ld rows",
				       steps * p->repeat);
	}
	return 0;
}

/* The line that says what runs, and the environment's warnings. */
static void announce(const struct sweep_plan *p, const struct sweep_outcome *out,
		     const char *tracer)
{
	long first = p->counts[0], last = p->counts[p->n_counts - 1];
	char counts[64];

	if (stop_requested)
		return;
	if (p->step > 0)
		snprintf(counts, sizeof(counts), "%ld..%ld rules by %ld", first, last, p->step);
	else
		snprintf(counts, sizeof(counts), "%zu rule count%s from %ld to %ld", p->n_counts,
			 p->n_counts == 1 ? "" : "s", first, last);
	if (p->compare)
		nf_err("compare %d backends, %s, tracer %s; writing %s", out->n, counts, tracer,
		       p->dir);
	else
		nf_err("sweep %s, %s %s, %s%s, tracer %s; writing %s",
			counts, rules_backend_name(p->backends[0]), rules_shape_name(p->cfg.shape),
			experiment_drop_mode(&p->cfg) ? "UDP datagrams into a dropping last rule" :
			p->cfg.traffic.udp ? "UDP" : "TCP",
			offload_arms(p) ? ", offload on and off" : "", tracer, p->dir);
	if (out->meta.env.warnings[0])
		nf_err("warning: %s", out->meta.env.warnings);
}

/* One testbed per arm (a backend, or an offload setting). */
static int setup_arms(const struct sweep_plan *p, struct sweep_outcome *out,
		      struct experiment **e, struct nf_error *err)
{
	for (int b = 0; b < out->n && !stop_requested; b++) {
		struct experiment_config cfg = p->cfg;
		cfg.backend = p->compare ? p->backends[b] : p->backends[0];
		cfg.offload = arm_offload(p, b);
		if (experiment_setup(&e[b], &cfg, p->compare ? "cmp" : "sw", err))
			return -1;
	}
	return 0;
}

/* A run in one pass: every count in ascending order, the arms in a random
 * order per count (drift on a noisy machine then favours none), each
 * grown by one transaction and measured `repeat` times. */
static int run_plain(const struct sweep_plan *p, struct experiment **e, struct sweep_files *f,
		     struct step_drops *drops_total, struct sweep_outcome *out, double t0,
		     struct nf_error *err)
{
	long total = (long)p->n_counts * p->repeat * out->n;
	unsigned int seed = p->seed;
	int order[SWEEP_MAX_ARMS], rc = EXIT_OK;

	for (size_t ci = 0; ci < p->n_counts && !stop_requested && rc == EXIT_OK; ci++) {
		long c = p->counts[ci];
		shuffle(order, out->n, &seed);
		for (int k = 0; k < out->n && rc == EXIT_OK && !stop_requested; k++) {
			int b = order[k];
			double ms;
			if ((rc = experiment_grow(e[b], c, &ms, err)))
				break;
			for (int r = 1; r <= p->repeat && !stop_requested && rc == EXIT_OK; r++) {
				struct step_row row = { .rules = c, .repeat = r,
							.inject_ms = r == 1 ? ms : 0 };
				size_t before = out->n_rows[b];
				rc = measure_one(p, e[b], b, &row, f, drops_total, out, err);
				if (out->n_rows[b] > before)
					progress(++out->steps_done, total, arm_label(p, out, b),
						 &row, t0);
			}
			if (rc == EXIT_OK)
				rc = measure_update(p, e[b], b, f, out, err);
		}
	}
	return rc;
}

/* After the steps: the probe's cost at the largest count, the check that
 * the probe timed something, and the calibration (the empty chain's own
 * step, when the plan has one). */
static int after_steps(const struct sweep_plan *p, struct experiment **e,
		       struct sweep_outcome *out, const char *tracer, int rc, struct nf_error *err)
{
	if (rc == EXIT_OK && out->steps_done > 0 && !stop_requested) {
		long largest = p->counts[p->n_counts - 1], counted;
		double ms;
		/* Rounds end at whatever count their order visited last. */
		if (experiment_rules(e[0]) != largest)
			rc = experiment_load(e[0], largest, &ms, &counted, err);
		if (rc == EXIT_OK)
			rc = overhead_sweep_point(e[0], &out->meta, true, err);
	}
	if (rc == EXIT_OK && out->steps_done > 0)
		rc = check_timed(p, out, tracer, err);
	for (size_t i = 0; i < out->n_rows[0]; i++)
		if (out->rows[0][i].rules == 0 && out->rows[0][i].packets) {
			out->meta.calibrated = true;
			out->meta.calibration_ns = out->rows[0][i].lat_avg_ns;
			break;
		}
	return rc;
}

/* The first failure of a run is its error: a write's (in f->err) when
 * nothing failed before it. */
static int take_files_error(const struct sweep_files *f, struct nf_error *err)
{
	if (f->err.status && !err->status)
		*err = f->err;
	return f->err.status ? -1 : 0;
}

/* The summaries and every file; an interrupted run is a failure that says
 * where its measurements are. */
static int sweep_finish(const struct sweep_plan *p, struct sweep_outcome *out,
			struct sweep_files *f, const struct step_drops *drops, double t0, int rc,
			struct nf_error *err)
{
	out->meta.wall_s = now_monotonic() - t0;
	for (int b = 0; b < out->n; b++) {
		results_summarize(out->rows[b], out->n_rows[b], out->meta.matches_per_rule,
				  &out->per[b].sum);
		results_summarize_updates(out->updates[b], out->n_updates[b], &out->update_sum[b]);
	}
	if (sweep_rounds_mode(p))
		sweep_summarize_rounds(p, out);
	if (write_outputs(p, out, f, experiment_drop_mode(&p->cfg) ? drops : NULL))
		rc = -1;
	if (take_files_error(f, err))
		rc = -1;
	/* The signal is the news: whatever failed after it failed because of it. */
	if (out->meta.interrupted) {
		long total = (long)p->n_counts * p->repeat * out->n;
		rc = nf_fail(err, EXIT_RUNTIME,
			     "%s interrupted by a signal after %ld of %ld measurements; what was "
			     "measured is in %s", p->compare ? "compare" : "sweep", out->steps_done,
			     total, p->dir);
	}
	return rc ? -1 : 0;
}

int sweep_run(const struct sweep_plan *p, struct sweep_outcome *out, struct nf_error *err)
{
	struct experiment *e[SWEEP_MAX_ARMS] = { 0 };
	struct sweep_files files = { 0 };
	struct step_drops drops_total = { 0 };
	double t0 = now_monotonic();
	int rc;

	if ((rc = sweep_alloc(p, out, err)))
		goto out;
	if (sweep_files_open(&files, p->outdir, p->compare, p->update_reps > 0,
			     experiment_drop_mode(&p->cfg))) {
		rc = -1;
		goto out;
	}
	catch_stop_signals();
	environment_collect(&out->meta.env); /* before our own programs attach */
	if ((rc = setup_arms(p, out, e, err)))
		goto out;
	const char *tracer = e[0] ? probe_tracer_name(probe_tracer(experiment_probe(e[0]))) : "";
	environment_finish(&out->meta.env, e[0] ? experiment_rules_netns(e[0]) : NULL);
	announce(p, out, tracer);
	if (!stop_requested) /* the probe's own cost, before any rule (overhead.h) */
		rc = overhead_sweep_point(e[0], &out->meta, false, err);
	/* What the run does after its rounds takes about as long as its twins
	 * before them: the probe's cost again, the teardown as the setup. */
	double tail_s = now_monotonic() - t0;
	if (!stop_requested && rc == 0)
		rc = sweep_rounds_mode(p)
			     ? sweep_run_rounds(p, e, &files, &drops_total, out, t0, tail_s, err)
			     : run_plain(p, e, &files, &drops_total, out, t0, err);
	rc = after_steps(p, e, out, tracer, rc, err);
	fill_meta(&out->meta, p, experiment_probe(e[0]));
	record_load(p, out);
out:
	for (int b = 0; b < SWEEP_MAX_ARMS; b++)
		if (experiment_teardown(e[b], err))
			rc = -1;
	sweep_files_commit(&files); /* what was measured is kept, also on a failure */
	if (stop_requested && isatty(2))
		fputc('\n', stderr);
	if (!out->meta.shape) { /* setup failed before the plan began */
		if (take_files_error(&files, err))
			rc = -1;
		return rc ? -1 : 0;
	}
	return sweep_finish(p, out, &files, &drops_total, t0, rc, err);
}

void sweep_outcome_free(struct sweep_outcome *out)
{
	for (int b = 0; b < SWEEP_MAX_ARMS; b++) {
		free(out->rows[b]);
		free(out->updates[b]);
		out->rows[b] = NULL;
		out->updates[b] = NULL;
	}
	free(out->rstats);
	free(out->visits);
	free(out->load);
	out->load = NULL;
	out->rstats = NULL;
	out->visits = NULL;
}
