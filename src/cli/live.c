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
#include "experiments/live.h"
#include "results/results.h"
#include "util/util.h"

struct live_args {
	int duration_s;
	double inject_at_s;
	long rules;
	long inject_rate;
	double interval_s;
	bool interval_set;    /* -i given: one as long as the run is refused */
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
	{ "streams", OPT_EXP_STREAMS, "N", 0, "Parallel TCP streams (iperf3 -P, default 1)", 0 },
	{ "backend", OPT_EXP_BACKEND, "B", 0, "iptables-nft (default), iptables-legacy, nft, nft-set, ipset", 0 },
	{ "shape", OPT_EXP_SHAPE, "S", 0, "addr, addr-port (default), multiport, bpf, lab", 0 },
	{ "tracer", OPT_EXP_TRACER, "T", 0, "auto (default), fentry, kprobe, nfhook", 0 },
	{ "sample", OPT_EXP_SAMPLE, "N", 0,
	  "Time one packet in N (default 16; 1: every packet). Latencies come from the timed "
	  "packets, rates and CPU per packet from every packet", 0 },
	{ "hook", OPT_EXP_HOOK, "output|input|forward", 0, "Hook to fill and measure (default output)", 0 },
	{ "out", OPT_EXP_OUT, "DIR", 0, "Output directory (default results/live-<UTC timestamp>)", 0 },
	{ "offload", OPT_EXP_OFFLOAD, "on|off", 0,
	  "TSO, GSO and GRO on the testbed's veths (default: as the kernel sets them, on); "
	  "off: one skb per wire packet, as on a router", 0 },
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
		a->interval_set = true;
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
		if (a->interval_set && a->interval_s >= a->duration_s)
			usage_fail("-i (%g s) must be shorter than the run (-d %d): the probe would "
				   "report no interval", a->interval_s, a->duration_s);
		break;
	default:
		return arg_experiment_option(key, arg, &a->cfg, &a->out, &a->no_plot)
			? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_live(int argc, char **argv)
{
	static const struct argp argp = {
		live_options, live_parse, NULL,
		"One long iperf3 run (one-second intervals) in a testbed of its own while "
		"rules are injected at a steady rate during a window, each batch one "
		"transaction; the probe reports the hook latency every interval. Writes "
		"iperf_results.json, bpf_results.txt, bpf_windows.csv, injection.csv and "
		"results.png.\v"
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
			 .traffic = { .interval_s = 1.0 }, .sample_every = PROBE_SAMPLE_DEFAULT },
	};
	struct live_plan plan;
	struct live_outcome out;
	struct outdir od;
	const char *dir = od.path;
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
	if ((rc = open_output_dir(a.out, "live", &od)))
		return rc;
	plan = (struct live_plan){
		.duration_s = a.duration_s, .inject_at_s = a.inject_at_s, .rules = a.rules,
		.inject_rate = a.inject_rate, .interval_s = a.interval_s, .cfg = a.cfg,
		.dir = dir, .outdir = &od, .no_plot = a.no_plot,
	};
	struct nf_error err = { 0 };
	rc = live_run(&plan, &out, &err) ? nf_error_report(&err) : EXIT_OK;
	if (out.measured)
		printf("live: %zu one-second intervals, mean %.0f Mbit/s, %ld rules injected\n",
		       out.intervals, out.mean_mbps, out.injected);
	/* What the injector cost the run: one transaction per batch. */
	if (out.batches)
		printf("live: %ld batches, one transaction each: mean %.1f ms, max %.1f ms\n",
		       out.batches, out.batch_ms_mean, out.batch_ms_max);
	printf("live: files in %s%s\n", dir, out.interrupted ? " (interrupted)" : "");
	outdir_close(&od);
	return rc;
}
