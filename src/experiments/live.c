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
			double t_end, bool keep_if_empty, struct nf_error *err)
{
	struct probe_window w;
	int rc = experiment_read_window(e, &w);

	/* A window that could not be read is no data: stop, never write zeros. */
	if (rc)
		return nf_fail(err, EXIT_RUNTIME, "cannot read the probe's statistics: %s",
			       strerror(-rc));
	if (!keep_if_empty && !w.count)
		return 0;
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
			double at, struct live_outcome *out, double *batch_ms_sum,
			struct nf_error *err)
{
	long left = p->rules - out->injected;
	long batch = p->inject_rate < left ? p->inject_rate : left;
	double ms;
	int rc;

	if ((rc = experiment_grow(e, out->injected + batch, &ms, err)))
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
		     const struct window_sink *sink, double t0, struct live_outcome *out,
		     struct nf_error *err)
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
			if ((rc = inject_batch(p, e, sink->f, now - t0, out, &batch_ms_sum, err)))
				break;
			next_inject += 1.0;
		}
		if (out->injected >= p->rules)
			next_inject = INFINITY;
		if (now >= next_probe) {
			rc = close_window(e, sink, window_start, now - t0, true, err);
			window_start = now - t0;
			next_probe += p->interval_s;
		}
	}
	if (stop_requested || rc)
		traffic_stop(run);
	/* The last, shorter window: keep it if it holds something. */
	if (rc == EXIT_OK && now_monotonic() - t0 - window_start >= p->interval_s / 2)
		rc = close_window(e, sink, window_start, now_monotonic() - t0, false, err);
	if (out->batches)
		out->batch_ms_mean = batch_ms_sum / (double)out->batches;
	return rc;
}

/* The client's run from its start to its result, with the loop between. */
static int live_traffic(const struct live_plan *p, struct experiment *e, struct live_files *f,
			struct live_outcome *out, struct nf_error *err)
{
	struct window_sink sink = {
		.f = f, .hook = nfhook_name(p->cfg.hook), .netns = experiment_rules_netns_name(e),
		.tracer = probe_tracer_name(probe_tracer(experiment_probe(e))),
	};
	struct traffic_run *run;
	struct traffic_result res;
	struct probe_window w;
	struct nf_error terr = { 0 };
	int rc;

	nf_err("live run of %d s in %s via %s: %ld %s rules at %ld/s from %.0f s; writing %s",
	       p->duration_s, sink.netns, sink.tracer, p->rules,
	       rules_backend_name(p->cfg.backend), p->inject_rate, p->inject_at_s, p->dir);
	if (experiment_read_window(e, &w)) /* the first window starts with the run */
		return nf_fail(err, EXIT_RUNTIME, "cannot read the probe's statistics");
	double t0 = now_monotonic();
	if (!(run = experiment_traffic_start(e)))
		return nf_fail(err, EXIT_RUNTIME, "cannot start the iperf3 client: %s%s",
			       strerror(errno), errno_limit_hint(errno));
	rc = live_loop(p, e, run, &sink, t0, out, err);
	if (traffic_finish(run, &res, &terr)) {
		if (!err->status)
			nf_fail(err, EXIT_RUNTIME, "the traffic run failed: %s", terr.msg);
		return -1;
	}
	out->measured = true;
	out->intervals = res.n_intervals;
	out->mean_mbps = res.bits_per_second / 1e6;
	if (save_json(p->outdir, res.json, f))
		rc = -1;
	traffic_result_free(&res);
	return rc ? -1 : 0;
}

int live_run(const struct live_plan *p, struct live_outcome *out, struct nf_error *err)
{
	struct live_files f = { 0 };
	struct nf_error warn = { 0 };
	struct experiment *e = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (open_files(p->outdir, &f))
		rc = -1;
	catch_stop_signals();
	if (!rc && !(rc = experiment_setup(&e, &p->cfg, "lv", err)))
		rc = live_traffic(p, e, &f, out, err);
	if (experiment_teardown(e, err))
		rc = -1;
	if (commit_files(&f))
		rc = -1;
	if (f.err.status) { /* the first write that failed */
		if (!err->status)
			*err = f.err;
		rc = -1;
	}
	out->interrupted = stop_requested != 0;
	if (!p->no_plot && (!rc || out->interrupted) && out->measured &&
	    report_plot("live", p->outdir, &warn))
		nf_err("warning: %s", warn.msg);
	/* The signal is the news: whatever failed after it failed because of it. */
	if (out->interrupted)
		rc = nf_fail(err, EXIT_RUNTIME,
			     "live run interrupted by a signal; what was measured is in %s", p->dir);
	return rc ? -1 : 0;
}
