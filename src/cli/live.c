/* `nfcost live`: one long traffic run while rules are injected at a steady
 * rate; the probe reports every interval (the lab's time-series figure). */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "experiments/experiment.h"
#include "results/report.h"
#include "results/results.h"
#include "util.h"

struct live_args {
	int duration_s;
	double inject_at_s;
	long rules;
	long inject_rate;
	double interval_s;
	struct experiment_config cfg;
	const char *out;
	bool no_plot;
};

enum { OPT_INJECT_AT = 1000, OPT_INJECT_RATE, OPT_RULES };

static const struct argp_option live_options[] = {
	{ "duration", 'd', "SECS", 0, "Length of the traffic run (default 300)", 0 },
	{ "interval", 'i', "SECS", 0, "Probe report interval (default 10)", 0 },
	{ "inject-at", OPT_INJECT_AT, "SECS", 0, "Start injecting at this time (default 30)", 0 },
	{ "inject-rate", OPT_INJECT_RATE, "RULES_PER_S", 0, "Injection rate (default 100)", 0 },
	{ "rules", OPT_RULES, "N", 0, "Rules to inject in all (default 6000)", 0 },
	{ "backend", OPT_EXP_BACKEND, "B", 0, "iptables-nft (default), iptables-legacy, nft, nft-set, ipset", 0 },
	{ "shape", OPT_EXP_SHAPE, "S", 0, "addr, addr-port (default), multiport, bpf", 0 },
	{ "tracer", OPT_EXP_TRACER, "T", 0, "auto (default), fentry, kprobe, nfhook", 0 },
	{ "hook", OPT_EXP_HOOK, "output|input|forward", 0, "Hook to fill and measure (default output)", 0 },
	{ "out", OPT_EXP_OUT, "DIR", 0, "Output directory (default results/live-<UTC timestamp>)", 0 },
	{ "no-plot", OPT_EXP_NO_PLOT, NULL, 0, "Do not draw results.png", 0 },
	{ 0 }
};

static error_t live_parse(int key, char *arg, struct argp_state *state)
{
	struct live_args *a = state->input;
	long v;

	switch (key) {
	case 'd':
		if (!parse_long(arg, 2, 86400, &v))
			usage_fail("-d takes whole seconds from 2 to 86400, got '%s'", arg);
		a->duration_s = (int)v;
		break;
	case 'i':
		if (!parse_double(arg, 0.1, 3600, &a->interval_s))
			usage_fail("-i takes seconds from 0.1 to 3600, got '%s'", arg);
		break;
	case OPT_INJECT_AT:
		if (!parse_double(arg, 0, 86400, &a->inject_at_s))
			usage_fail("--inject-at takes seconds from 0, got '%s'", arg);
		break;
	case OPT_INJECT_RATE:
		if (!parse_long(arg, 1, RULES_MAX_COUNT, &a->inject_rate))
			usage_fail("--inject-rate takes rules per second from 1 to %ld, got '%s'",
				   RULES_MAX_COUNT, arg);
		break;
	case OPT_RULES:
		if (!parse_long(arg, 0, RULES_MAX_COUNT, &a->rules))
			usage_fail("--rules takes a whole number from 0 to %ld, got '%s'",
				   RULES_MAX_COUNT, arg);
		break;
	case ARGP_KEY_ARG:
		usage_fail("live takes options only, got '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (a->inject_at_s >= a->duration_s)
			usage_fail("--inject-at (%g s) must come before the end of the run (-d %d)",
				   a->inject_at_s, a->duration_s);
		break;
	default:
		return arg_experiment_option(key, arg, &a->cfg, &a->out, &a->no_plot)
			? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void sleep_until(double t)
{
	double d = t - now_monotonic();

	if (d > 0) {
		struct timespec ts = { (time_t)d, (long)((d - floor(d)) * 1e9) };
		nanosleep(&ts, NULL); /* a signal ends it early, on purpose */
	}
}

static FILE *open_in(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "we");
}

int cmd_live(int argc, char **argv)
{
	static const struct argp argp = {
		live_options, live_parse, NULL,
		"One long iperf3 run (one-second intervals) in a testbed of its own while "
		"rules are injected at a steady rate during a window, each batch one "
		"transaction; the probe reports the hook latency every interval. Writes "
		"iperf_results.json, bpf_results.txt, injection.csv and results.png.\v"
		"Examples:\n"
		"  nfcost live                        # 300 s, 6000 rules at 100/s from 30 s\n"
		"  nfcost live -d 60 --inject-at 10 --rules 2000 --inject-rate 200 -i 2",
		NULL, NULL, NULL
	};
	struct live_args a = {
		.duration_s = 300, .inject_at_s = 30, .rules = 6000, .inject_rate = 100,
		.interval_s = 10,
		.cfg = { .backend = BACKEND_IPTABLES_NFT, .shape = SHAPE_ADDR_PORT,
			 .hook = NFHOOK_LOCAL_OUT, .tracer = TRACER_AUTO,
			 .traffic = { .interval_s = 1.0 } },
	};
	struct experiment e;
	struct traffic_run *run;
	struct traffic_result res;
	char dir[4096], err[256];
	FILE *bpf = NULL, *inj = NULL;
	int rc;

	command_parse(&argp, argc, argv, &a);
	if ((rc = require_root("nfcost live")))
		return rc;
	a.cfg.traffic.duration_s = a.duration_s;
	const char *why;
	if (!rules_shape_supported(a.cfg.backend, a.cfg.shape, &why)) {
		nf_err("shape %s with backend %s: %s", rules_shape_name(a.cfg.shape),
		       rules_backend_name(a.cfg.backend), why);
		return EXIT_USAGE;
	}
	if (a.out) {
		snprintf(dir, sizeof(dir), "%s", a.out);
	} else {
		results_default_dir("live", dir, sizeof(dir));
	}
	if (mkdir_p(dir) || !(bpf = open_in(dir, "bpf_results.txt")) ||
	    !(inj = open_in(dir, "injection.csv"))) {
		nf_err("cannot write into %s: %s", dir, strerror(errno));
		if (bpf)
			fclose(bpf);
		return EXIT_RUNTIME;
	}
	fprintf(inj, "time_s,rules\n");
	catch_stop_signals();
	if ((rc = experiment_setup(&e, &a.cfg, "lv"))) {
		fclose(bpf);
		fclose(inj);
		return rc;
	}
	const char *tracer = probe_tracer_name(probe_tracer(e.probe));
	const char *hook = nfhook_name(a.cfg.hook);
	const char *ns = strrchr(e.rules_netns, '/') + 1;
	fprintf(stderr, "nfcost: live run of %d s in %s via %s: %ld %s rules at %ld/s from %.0f s; "
		"writing %s\n", a.duration_s, ns, tracer, a.rules, rules_backend_name(a.cfg.backend),
		a.inject_rate, a.inject_at_s, dir);

	struct probe_window w;
	probe_read_window(e.probe, &w); /* the window starts with the run */
	double t0 = now_monotonic();
	run = traffic_start(e.cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT, &a.cfg.traffic);
	if (!run) {
		nf_err("cannot start the iperf3 client: %s", strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	/* Batches once a second: rate rules each, so the rate holds and every
	 * batch is one transaction whose duration we record. */
	double next_probe = t0 + a.interval_s, window_start = 0;
	double next_inject = t0 + a.inject_at_s;
	double end = t0 + a.duration_s + 10; /* iperf3 needs a moment to report */
	long injected = 0, batches = 0;
	double batch_ms_sum = 0, batch_ms_max = 0;
	while (!stop_requested && !traffic_done(run) && now_monotonic() < end) {
		double next = next_probe < next_inject ? next_probe : next_inject;
		if (next > now_monotonic() + 0.2)
			next = now_monotonic() + 0.2; /* notice the client's end promptly */
		sleep_until(next);
		double now = now_monotonic();
		if (now >= next_inject && injected < a.rules && rc == EXIT_OK) {
			long batch = a.inject_rate < a.rules - injected ? a.inject_rate : a.rules - injected;
			double ms;
			if ((rc = experiment_grow(&e, injected + batch, &ms))) {
				traffic_stop(run);
				break;
			}
			injected += batch;
			batches++;
			batch_ms_sum += ms;
			batch_ms_max = ms > batch_ms_max ? ms : batch_ms_max;
			fprintf(inj, "%.3f,%ld\n", now - t0, injected);
			fflush(inj);
			next_inject += 1.0;
		}
		if (injected >= a.rules)
			next_inject = INFINITY;
		if (now >= next_probe) {
			probe_read_window(e.probe, &w);
			report_print_window(bpf, &w, window_start, hook, ns, tracer, PROBE_BY_NONE);
			fflush(bpf);
			window_start = now - t0;
			next_probe += a.interval_s;
		}
	}
	if (stop_requested)
		traffic_stop(run);
	/* The last, shorter window: keep it if it holds something. */
	probe_read_window(e.probe, &w);
	if (w.count > 0 && w.seconds >= a.interval_s / 2)
		report_print_window(bpf, &w, window_start, hook, ns, tracer, PROBE_BY_NONE);
	if (traffic_finish(run, &res, err, sizeof(err))) {
		nf_err("the traffic run failed: %s", err);
		rc = rc ? rc : EXIT_RUNTIME;
	} else {
		FILE *f = open_in(dir, "iperf_results.json");
		if (!f || fputs(res.json, f) < 0) {
			nf_err("cannot write %s/iperf_results.json: %s", dir, strerror(errno));
			rc = rc ? rc : EXIT_RUNTIME;
		}
		if (f)
			fclose(f);
		printf("live: %zu one-second intervals, mean %.0f Mbit/s, %ld rules injected\n",
		       res.n_intervals, res.bits_per_second / 1e6, injected);
		/* What the injector cost the run: one transaction per batch. */
		if (batches)
			printf("live: %ld batches, one transaction each: mean %.1f ms, max %.1f ms\n",
			       batches, batch_ms_sum / (double)batches, batch_ms_max);
		traffic_result_free(&res);
	}
out:
	experiment_teardown(&e);
	fclose(bpf);
	fclose(inj);
	if (!a.no_plot && rc == EXIT_OK)
		report_plot("live", dir);
	printf("live: files in %s%s\n", dir, stop_requested ? " (interrupted)" : "");
	/* Interrupted: what was measured is on disk, but the run is not whole. */
	return rc == EXIT_OK && stop_requested ? EXIT_RUNTIME : rc;
}
