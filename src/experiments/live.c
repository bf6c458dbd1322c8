#include "experiments/live.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "results/report.h"
#include "results/results.h"
#include "util/util.h"

static void sleep_until(double t)
{
	double d = t - now_monotonic();

	if (d > 0) {
		struct timespec ts = { (time_t)d, (long)((d - floor(d)) * 1e9) };
		nanosleep(&ts, NULL); /* a signal ends it early, on purpose */
	}
}

/* The files of a live run, written as it goes. */
struct live_files {
	struct outfile text, csv, inj;
	struct nf_error err;   /* the first write that failed */
};

/* One probe window into bpf_results.txt and bpf_windows.csv. */
struct window_sink {
	struct live_files *f;
	const char *hook, *netns, *tracer;
};

static int close_window(struct experiment *e, const struct window_sink *s, double t_start,
			double t_end, bool keep_if_empty)
{
	struct probe_window w;
	int err = experiment_read_window(e, &w);

	/* A window that could not be read is no data: stop, never write zeros. */
	if (err) {
		nf_err("cannot read the probe's statistics: %s", strerror(-err));
		return EXIT_RUNTIME;
	}
	if (!keep_if_empty && !w.count)
		return EXIT_OK;
	report_print_window(s->f->text.f, &w, t_start, s->hook, s->netns, s->tracer, PROBE_BY_NONE);
	if (outfile_flush(&s->f->text, &s->f->err) ||
	    results_window_csv_row(&s->f->csv, t_start, t_end, s->hook, &w, &s->f->err))
		return EXIT_RUNTIME;
	return EXIT_OK;
}

/* Opens the files a live run writes as it goes. */
static int open_files(struct outdir *d, struct live_files *f)
{
	if (outfile_open(&f->text, d, "bpf_results.txt", &f->err) ||
	    results_window_csv_open(&f->csv, d, "bpf_windows.csv", &f->err) ||
	    outfile_open(&f->inj, d, "injection.csv", &f->err))
		return -1;
	fprintf(f->inj.f, "time_s,rules\n");
	return outfile_flush(&f->inj, &f->err);
}

/* iperf3's JSON of the run; keeps the first failure. */
static int save_json(struct outdir *d, const char *json, struct live_files *f)
{
	struct nf_error e = { 0 };

	json = json ? json : "";
	if (outfile_write(d, "iperf_results.json", json, strlen(json), &e) == 0)
		return 0;
	if (!f->err.status)
		f->err = e;
	return -1;
}

/* Puts them in place; keeps the first failure. */
static int commit_files(struct live_files *f)
{
	struct outfile *all[3] = { &f->text, &f->csv, &f->inj };
	int rc = 0;

	for (int i = 0; i < 3; i++) {
		struct nf_error e = { 0 };
		if (outfile_commit(all[i], &e)) {
			rc = -1;
			if (!f->err.status)
				f->err = e;
		}
	}
	return rc;
}

/* One batch of injection: `inject_rate` rules (or what is left) in one
 * transaction, its time in injection.csv and in out. */
static int inject_batch(const struct live_plan *p, struct experiment *e, struct live_files *f,
			double at, struct live_outcome *out, double *batch_ms_sum)
{
	long left = p->rules - out->injected;
	long batch = p->inject_rate < left ? p->inject_rate : left;
	double ms;
	int rc;

	if ((rc = experiment_grow(e, out->injected + batch, &ms)))
		return rc;
	out->injected += batch;
	out->batches++;
	*batch_ms_sum += ms;
	out->batch_ms_max = ms > out->batch_ms_max ? ms : out->batch_ms_max;
	fprintf(f->inj.f, "%.3f,%ld\n", at, out->injected);
	return outfile_flush(&f->inj, &f->err) ? EXIT_RUNTIME : EXIT_OK;
}

/* While the client runs: batches once a second from inject_at_s, so the
 * rate holds and every batch is one transaction whose duration we record,
 * and a probe window every interval_s; then the last, shorter window. */
static int live_loop(const struct live_plan *p, struct experiment *e, struct traffic_run *run,
		     const struct window_sink *sink, double t0, struct live_outcome *out)
{
	double next_probe = t0 + p->interval_s, window_start = 0;
	double next_inject = t0 + p->inject_at_s;
	double end = t0 + p->duration_s + 10; /* iperf3 needs a moment to report */
	double batch_ms_sum = 0;
	int rc = EXIT_OK;

	while (!stop_requested && !traffic_done(run) && now_monotonic() < end && rc == EXIT_OK) {
		double next = next_probe < next_inject ? next_probe : next_inject;
		if (next > now_monotonic() + 0.2)
			next = now_monotonic() + 0.2; /* notice the client's end promptly */
		sleep_until(next);
		double now = now_monotonic();
		if (now >= next_inject && out->injected < p->rules) {
			if ((rc = inject_batch(p, e, sink->f, now - t0, out, &batch_ms_sum)))
				break;
			next_inject += 1.0;
		}
		if (out->injected >= p->rules)
			next_inject = INFINITY;
		if (now >= next_probe) {
			rc = close_window(e, sink, window_start, now - t0, true);
			window_start = now - t0;
			next_probe += p->interval_s;
		}
	}
	if (stop_requested || rc)
		traffic_stop(run);
	/* The last, shorter window: keep it if it holds something. */
	if (rc == EXIT_OK && now_monotonic() - t0 - window_start >= p->interval_s / 2)
		rc = close_window(e, sink, window_start, now_monotonic() - t0, false);
	if (out->batches)
		out->batch_ms_mean = batch_ms_sum / (double)out->batches;
	return rc;
}

int live_run(const struct live_plan *p, struct live_outcome *out)
{
	struct live_files f = { 0 };
	struct nf_error warn = { 0 };
	struct experiment *e = NULL;
	struct traffic_run *run = NULL;
	struct traffic_result res;
	struct nf_error err = { 0 };
	int rc = EXIT_OK;

	memset(out, 0, sizeof(*out));
	if (open_files(p->outdir, &f)) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	catch_stop_signals();
	if ((rc = experiment_setup(&e, &p->cfg, "lv")))
		goto out;
	struct window_sink sink = {
		.f = &f, .hook = nfhook_name(p->cfg.hook), .netns = experiment_rules_netns_name(e),
		.tracer = probe_tracer_name(probe_tracer(experiment_probe(e))),
	};
	nf_err("live run of %d s in %s via %s: %ld %s rules at %ld/s from %.0f s; writing %s", p->duration_s, sink.netns, sink.tracer, p->rules,
		rules_backend_name(p->cfg.backend), p->inject_rate, p->inject_at_s, p->dir);

	struct probe_window w;
	if (experiment_read_window(e, &w)) { /* the first window starts with the run */
		nf_err("cannot read the probe's statistics");
		rc = EXIT_RUNTIME;
		goto out;
	}
	double t0 = now_monotonic();
	if (!(run = experiment_traffic_start(e))) {
		nf_err("cannot start the iperf3 client: %s", strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = live_loop(p, e, run, &sink, t0, out);
	if (traffic_finish(run, &res, &err)) {
		nf_err("the traffic run failed: %s", err.msg);
		rc = rc ? rc : EXIT_RUNTIME;
	} else {
		out->measured = true;
		out->intervals = res.n_intervals;
		out->mean_mbps = res.bits_per_second / 1e6;
		if (save_json(p->outdir, res.json, &f))
			rc = rc ? rc : EXIT_RUNTIME;
		traffic_result_free(&res);
	}
out:
	experiment_teardown(e);
	if (commit_files(&f))
		rc = rc ? rc : EXIT_RUNTIME;
	if (f.err.status) /* the first write that failed: one line */
		nf_error_report(&f.err);
	out->interrupted = stop_requested != 0;
	if (!p->no_plot && (rc == EXIT_OK || out->interrupted) && out->measured &&
	    report_plot("live", p->outdir, &warn))
		nf_err("warning: %s", warn.msg);
	if (out->interrupted) {
		nf_err("live run interrupted by a signal; what was measured is in %s", p->dir);
		rc = rc ? rc : EXIT_RUNTIME;
	}
	return rc;
}
