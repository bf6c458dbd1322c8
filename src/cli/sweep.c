/* `nfcost sweep`: the lab's main experiment as one command. */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "results/report.h"
#include "results/results.h"
#include "experiments/sweep.h"
#include "util/util.h"

enum { OPT_RULES = 1000, OPT_TRAFFIC, OPT_SIZE, OPT_RATE, OPT_REPEAT, OPT_VERDICT, OPT_HIT,
       OPT_PACKETS, OPT_UPDATES, OPT_PRECISION, OPT_BUDGET };

#define SWEEP_DEFAULT_BUDGET_S 600
/* The largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP). */
#define UDP_MAX_PAYLOAD 65507

static const struct argp_option sweep_options[] = {
	{ "rules", OPT_RULES, "SPEC", 0,
	  "Rule counts to measure: START:STOP:STEP (default 0:3000:100), START:STOP:xF "
	  "(log-spaced: START, START*F, ...) or a list A,B,C", 0 },
	{ "duration", 'd', "SECS", 0, "Traffic per step in seconds (default 5)", 0 },
	{ "repeat", OPT_REPEAT, "N", 0,
	  "Rounds (default 1): with N >= 2, every round visits the rule counts in a fresh random "
	  "order and loads each count in one transaction (flush and load)", 0 },
	{ "precision", OPT_PRECISION, "PCT", 0,
	  "Add rounds until the slope's 95% CI half-width is at most PCT % of the slope "
	  "(0 < PCT < 100), or until --budget ends", 0 },
	{ "budget", OPT_BUDGET, "SECS", 0,
	  "With --precision: end within SECS seconds, plus one step at most: no round starts "
	  "that would end later, a round that would is cut at the budget (default 600)", 0 },
	{ "seed", 'S', "N", 0,
	  "Seed of the random orders: rule counts per round, backends per rule count "
	  "(default: from the clock; the JSON records the one used)", 0 },
	{ "backend", OPT_EXP_BACKEND, "B", 0,
	  "iptables-nft (default), iptables-legacy, nft, nft-set, ipset", 0 },
	{ "shape", OPT_EXP_SHAPE, "S", 0, "addr, addr-port (default), multiport, bpf, lab", 0 },
	{ "traffic", OPT_TRAFFIC, "tcp|udp", 0, "Traffic kind (default tcp)", 0 },
	{ "size", OPT_SIZE, "BYTES", 0, "Bytes per write (UDP: datagram payload)", 0 },
	{ "streams", OPT_EXP_STREAMS, "N", 0,
	  "Parallel streams (iperf3 -P) for packet rates one stream cannot make (default 1)", 0 },
	{ "rate", OPT_RATE, "BITS", 0, "UDP target rate in bit/s, K/M/G suffix (default unlimited)", 0 },
	{ "hook", OPT_EXP_HOOK, "output|input|forward", 0,
	  "Hook to fill and measure (default output; forward: through a router namespace)", 0 },
	{ "tracer", OPT_EXP_TRACER, "T", 0, "auto (default), fentry, kprobe, nfhook", 0 },
	{ "sample", OPT_EXP_SAMPLE, "N", 0,
	  "Time one packet in N (default 16; 1: every packet). Latencies come from the timed "
	  "packets, rates and CPU per packet from every packet", 0 },
	{ "out", OPT_EXP_OUT, "DIR", 0, "Output directory (default results/<command>-<UTC timestamp>)", 0 },
	{ "offload", OPT_EXP_OFFLOAD, "on|off|on,off", 0,
	  "TSO, GSO and GRO on the testbed's veths (default: as the kernel sets them, on); "
	  "off: one skb per wire packet, as on a router; on,off (sweep): both, each in a "
	  "testbed of its own, in a random order at every rule count, compared in report.md", 0 },
	{ "no-plot", OPT_EXP_NO_PLOT, NULL, 0, "Do not draw the figure", 0 },
	{ "verdict", OPT_VERDICT, "drop|accept", 0, "The rules' verdict (default drop)", 0 },
	{ "hit-traffic", OPT_HIT, NULL, 0,
	  "A last rule matches the test traffic; with drop, UDP datagrams are sent and "
	  "counted where they stop", 0 },
	{ "packets", OPT_PACKETS, "N", 0, "--hit-traffic with drop: datagrams per step (default 1000)", 0 },
	{ "updates", OPT_UPDATES, "N", 0,
	  "At every step, time adding and deleting one rule N times each, one transaction "
	  "each (updates.csv; default 5, 0: off)", 0 },
	{ 0 }
};

static bool parse_rate(const char *s, uint64_t *out)
{
	return parse_rate_bps(s, 1e12, out);
}

#define SWEEP_MAX_STEPS 10000

/* Appends c to the counts; false when there would be too many. */
static bool push_count(struct sweep_args *a, long c)
{
	if (a->n_counts >= SWEEP_MAX_STEPS)
		return false;
	a->counts[a->n_counts++] = c;
	return true;
}

/* --rules: START:STOP:STEP (even steps), START:STOP:xF (START, START*F, ...
 * up to STOP: log-spaced), or a list A,B,C,... (ascending). Fills a->counts;
 * a->step is the spacing of even steps, else 0. NULL, or what is wrong. */
static const char *parse_rules_spec(const char *s, struct sweep_args *a)
{
	char *buf = strdup(s), *save = NULL, *p, *q;
	const char *bad = NULL;
	long start, stop, step, f, c;

	free(a->counts);
	a->counts = calloc(SWEEP_MAX_STEPS, sizeof(long));
	a->n_counts = 0;
	a->step = 0;
	if (!buf || !a->counts) {
		free(buf);
		return "out of memory";
	}
	if (strchr(buf, ',')) { /* a list */
		size_t len = strlen(buf);
		if (buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,"))
			bad = "a list has a count between every two commas";
		for (p = strtok_r(buf, ",", &save); p && !bad; p = strtok_r(NULL, ",", &save)) {
			if (!parse_long(p, 0, RULES_MAX_COUNT, &c))
				bad = "each count of a list is a whole number from 0 to 1000000";
			else if (a->n_counts && c <= a->counts[a->n_counts - 1])
				bad = "the counts of a list must grow from left to right";
			else if (!push_count(a, c))
				bad = "at most 10000 counts";
		}
	} else if ((p = strchr(buf, ':')) && (*p++ = '\0', q = strchr(p, ':'))) {
		*q++ = '\0';
		if (!parse_long(buf, 0, RULES_MAX_COUNT, &start) ||
		    !parse_long(p, 0, RULES_MAX_COUNT, &stop) || stop < start)
			bad = "START and STOP are whole numbers, 0 <= START <= STOP <= 1000000";
		else if (*q == 'x') { /* geometric */
			if (!parse_long(q + 1, 2, 1000, &f) || start < 1)
				bad = "START:STOP:xF takes START >= 1 and a whole factor F from 2 to 1000";
			for (c = start; !bad && c <= stop; c *= f)
				if (!push_count(a, c))
					bad = "at most 10000 counts";
		} else if (!parse_long(q, 1, RULES_MAX_COUNT, &step)) {
			bad = "STEP is a whole number from 1 to 1000000";
		} else if ((stop - start) / step + 1 > SWEEP_MAX_STEPS) {
			bad = "that makes more than 10000 steps: use a larger STEP";
		} else {
			a->step = step;
			for (c = start; c <= stop; c += step)
				push_count(a, c);
		}
	} else {
		bad = "use START:STOP:STEP, START:STOP:xFACTOR or a list A,B,C";
	}
	free(buf);
	if (!bad && a->n_counts == 0)
		bad = "no rule count to measure";
	if (!bad) {
		a->start = a->counts[0];
		a->stop = a->counts[a->n_counts - 1];
	}
	return bad;
}

/* --offload on, off, or both as on,off / off,on (measured in that order of
 * preference: the first is the one report.md's main sections describe). */
static void parse_offloads(const char *arg, struct sweep_args *a)
{
	if (!strcmp(arg, "on") || !strcmp(arg, "off")) {
		a->cfg.offload = !strcmp(arg, "on") ? OFFLOAD_ON : OFFLOAD_OFF;
		a->n_offloads = 1;
	} else if (!strcmp(arg, "on,off") || !strcmp(arg, "off,on")) {
		a->offloads[0] = arg[1] == 'n' ? OFFLOAD_ON : OFFLOAD_OFF;
		a->offloads[1] = arg[1] == 'n' ? OFFLOAD_OFF : OFFLOAD_ON;
		a->cfg.offload = a->offloads[0];
		a->n_offloads = 2;
	} else {
		usage_fail("--offload takes on or off, or both as on,off (sweep), got '%s'", arg);
	}
}

/* What the options say together, once all are read: exits 2 with one line
 * on a combination that does not go. */
static void check_combination(const struct sweep_args *a)
{
	if (a->is_compare && a->backend_set)
		usage_fail("compare takes its backends from --backends: drop --backend");
	/* Drop mode's datagrams are UDP too (sweep_args_finish). */
	if ((a->cfg.traffic.udp || (a->cfg.hit_traffic && !a->cfg.accept)) &&
	    a->cfg.traffic.size > UDP_MAX_PAYLOAD)
		usage_fail("--size with UDP takes at most %d bytes (the largest UDP payload "
			   "over IPv4), got %d", UDP_MAX_PAYLOAD, a->cfg.traffic.size);
	if (a->cfg.traffic.rate_bps && !a->cfg.traffic.udp)
		usage_fail("--rate goes with --traffic udp");
	if (a->cfg.hit_traffic && !a->cfg.accept && a->is_compare)
		usage_fail("--hit-traffic with the drop verdict is a sweep mode, not a compare one");
	if (a->cfg.hit_packets && !(a->cfg.hit_traffic && !a->cfg.accept))
		usage_fail("--packets goes with --hit-traffic and the drop verdict");
	if (a->precision_pct > 0 && a->repeat_set)
		usage_fail("--precision chooses the number of rounds itself: drop --repeat "
			   "(or --precision)");
	if (a->budget_set && !(a->precision_pct > 0))
		usage_fail("--budget goes with --precision PCT");
	if (a->n_offloads > 1 && a->is_compare)
		usage_fail("compare measures one offload setting: give --offload on or off "
			   "(nfcost sweep --offload on,off compares the two)");
	if (a->n_offloads > 1 && a->cfg.hit_traffic && !a->cfg.accept)
		usage_fail("--offload on,off measures traffic, not drop mode's datagrams: "
			   "give one setting with --hit-traffic");
}

/* The options of a run in rounds (--repeat, --precision, --budget, --seed):
 * false when key is none of them. */
static bool rounds_option(int key, char *arg, struct sweep_args *a)
{
	long v;

	switch (key) {
	case OPT_REPEAT:
		if (!parse_long(arg, 1, 1000, &v))
			usage_fail("--repeat takes a whole number from 1 to 1000, got '%s'", arg);
		a->repeat = (int)v;
		a->repeat_set = true;
		return true;
	case OPT_PRECISION: {
		char *end;
		errno = 0;
		double pct = strtod(arg, &end);
		if (errno || end == arg || *end || !(pct > 0 && pct < 100))
			usage_fail("--precision takes a percentage above 0 and below 100, got '%s'", arg);
		a->precision_pct = pct;
		return true;
	}
	case OPT_BUDGET:
		if (!parse_long(arg, 1, 7 * 86400, &v))
			usage_fail("--budget takes whole seconds from 1 to 604800, got '%s'", arg);
		a->budget_s = (double)v;
		a->budget_set = true;
		return true;
	case 'S':
		if (!parse_long(arg, 0, 4294967295L, &v))
			usage_fail("--seed takes a whole number from 0 to 4294967295, got '%s'", arg);
		a->seed = (unsigned int)v;
		a->seed_set = true;
		return true;
	}
	return false;
}

static error_t sweep_parse(int key, char *arg, struct argp_state *state)
{
	struct sweep_args *a = state->input;
	long v;

	switch (key) {
	case OPT_RULES: {
		const char *bad = parse_rules_spec(arg, a);
		if (bad)
			usage_fail("--rules takes START:STOP:STEP, START:STOP:xF or a list A,B,C "
				   "(%s), got '%s'", bad, arg);
		break;
	}
	case 'd':
		if (!parse_long(arg, 1, 86400, &v))
			usage_fail("-d takes whole seconds from 1 to 86400, got '%s'", arg);
		a->cfg.traffic.duration_s = (int)v;
		break;
	case OPT_TRAFFIC:
		if (strcmp(arg, "tcp") && strcmp(arg, "udp"))
			usage_fail("--traffic takes tcp or udp, got '%s'", arg);
		a->cfg.traffic.udp = !strcmp(arg, "udp");
		break;
	case OPT_SIZE:
		if (!parse_long(arg, 16, 1 << 20, &v))
			usage_fail("--size takes bytes from 16 to 1048576, got '%s'", arg);
		a->cfg.traffic.size = (int)v;
		break;
	case OPT_RATE:
		if (!parse_rate(arg, &a->cfg.traffic.rate_bps))
			usage_fail("--rate takes bits per second (e.g. 500M), got '%s'", arg);
		break;
	case OPT_VERDICT:
		if (strcmp(arg, "drop") && strcmp(arg, "accept"))
			usage_fail("--verdict takes drop or accept, got '%s'", arg);
		a->cfg.accept = !strcmp(arg, "accept");
		break;
	case OPT_HIT:
		a->cfg.hit_traffic = true;
		break;
	case OPT_UPDATES:
		if (!parse_long(arg, 0, RULES_UPDATE_MAX_REPS, &v))
			usage_fail("--updates takes a whole number from 0 to %d, got '%s'",
				   RULES_UPDATE_MAX_REPS, arg);
		a->update_reps = (int)v;
		break;
	case OPT_PACKETS:
		if (!parse_long(arg, 1, 10000000, &v))
			usage_fail("--packets takes a whole number from 1 to 10000000, got '%s'", arg);
		a->cfg.hit_packets = (int)v;
		break;
	case OPT_EXP_OFFLOAD:
		parse_offloads(arg, a);
		break;
	case ARGP_KEY_ARG:
		usage_fail("%s takes options only, got '%s'", a->is_compare ? "compare" : "sweep", arg);
		break;
	case OPT_EXP_BACKEND:
		a->backend_set = true;
		arg_backend(arg, &a->cfg.backend);
		break;
	case ARGP_KEY_END:
		check_combination(a);
		break;
	default:
		return rounds_option(key, arg, a) ||
		       arg_experiment_option(key, arg, &a->cfg, &a->out, &a->no_plot)
			? 0 : ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp sweep_options_argp = { sweep_options, sweep_parse, NULL, NULL, NULL, NULL, NULL };

void sweep_args_defaults(struct sweep_args *a)
{
	memset(a, 0, sizeof(*a));
	a->start = 0;
	a->stop = 3000;
	a->step = 100;
	a->repeat = 1;
	a->budget_s = SWEEP_DEFAULT_BUDGET_S;
	a->update_reps = 5;
	a->cfg.backend = BACKEND_IPTABLES_NFT;
	a->cfg.shape = SHAPE_ADDR_PORT;
	a->cfg.hook = NFHOOK_LOCAL_OUT;
	a->cfg.tracer = TRACER_AUTO;
	a->cfg.sample_every = PROBE_SAMPLE_DEFAULT;
	a->cfg.traffic.duration_s = 5;
	a->cfg.traffic.interval_s = 1.0;
	a->cfg.hit_packets = 0; /* set to the default when the mode is on */
}

void sweep_args_plan(const struct sweep_args *a, const char *dir, struct sweep_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->counts = a->counts;
	p->n_counts = a->n_counts;
	p->step = a->step;
	p->repeat = a->repeat;
	p->precision_pct = a->precision_pct;
	p->budget_s = a->budget_s;
	p->seed = a->seed_set ? a->seed : (unsigned int)time(NULL) ^ (unsigned int)getpid();
	p->update_reps = a->update_reps;
	p->cfg = a->cfg;
	p->no_plot = a->no_plot;
	p->dir = dir;
	p->backends[0] = a->cfg.backend;
	p->n_backends = 1;
	p->n_offloads = a->n_offloads;
	memcpy(p->offloads, a->offloads, sizeof(p->offloads));
}

int sweep_args_finish(struct sweep_args *a, const char *kind, struct outdir *d)
{
	const char *why = a->counts ? NULL : parse_rules_spec("0:3000:100", a);
	if (why) { /* the lab's default counts */
		nf_err("--rules: %s", why);
		return EXIT_RUNTIME;
	}
	if (!a->is_compare && !rules_shape_supported(a->cfg.backend, a->cfg.shape, &why)) {
		nf_err("shape %s with backend %s: %s", rules_shape_name(a->cfg.shape),
		       rules_backend_name(a->cfg.backend), why);
		return EXIT_USAGE;
	}
	if (a->cfg.hit_traffic && !a->cfg.accept) {
		/* TCP cannot connect through the chain: the datagrams are nfcost's own. */
		a->cfg.traffic.udp = true;
		if (!a->cfg.hit_packets)
			a->cfg.hit_packets = 1000;
	}
	return open_output_dir(a->out, kind, d);
}

void print_rounds(const struct sweep_outcome *out)
{
	const struct rounds_outcome *o = &out->rounds;

	for (int b = 0; b < out->n; b++) {
		const struct round_stats *s = &out->rstats[b];
		char spread[64] = "no spread from one round";
		if (isfinite(s->sd) && isfinite(s->cv))
			snprintf(spread, sizeof(spread), "SD %.2f, CV %.1f %%", s->sd, 100 * s->cv);
		printf("%s%s%d round(s): slope per round mean %.2f ns/rule, %s; "
		       "pooled 95%% CI half-width %.1f %% of the slope\n",
		       out->n > 1 ? out->per[b].name : "", out->n > 1 ? ": " : "", o->rounds, s->mean,
		       spread, s->half_width_pct);
	}
	if (o->precision_mode)
		printf("precision %.4g %%: %s (stopped by: %s) after %.1f s of the %.0f s budget\n",
		       o->precision_pct, o->precision_reached ? "reached" : "NOT reached",
		       o->stop_reason, o->time_used_s, o->budget_s);
	if (o->cut_steps)
		printf("the budget cut round %d after %d step(s): they are kept in the CSV and "
		       "the pooled fit\n", o->rounds + 1, o->cut_steps);
}

int cmd_sweep(int argc, char **argv)
{
	static const struct argp argp = {
		sweep_options, sweep_parse, NULL,
		"Grow a rule set in steps in a testbed of its own (baseline with an empty "
		"chain, then +STEP rules per step, each step one transaction); at every step "
		"measure throughput and cwnd with iperf3 and the per-packet time in the "
		"netfilter hooks with eBPF. Writes sweep.csv, sweep.json, iperf/, sweep.png "
		"and report.md.\v"
		"Examples:\n"
		"  nfcost sweep                                  # the lab: 0..3000 by 100\n"
		"  nfcost sweep --rules 0:2000:500 -d 1 --backend iptables-legacy\n"
		"  nfcost sweep --traffic udp --size 64 --out /tmp/udp\n"
		"  nfcost sweep --rules 0:2000:1000 -d 2 --offload on,off   # per skb and per wire packet",
		NULL, NULL, NULL
	};
	struct sweep_args a;
	struct sweep_plan plan;
	struct sweep_outcome out;
	struct outdir od;
	const char *dir = od.path;
	int rc;

	sweep_args_defaults(&a);
	command_parse(&argp, argc, argv, &a);
	if ((rc = require_root("nfcost sweep")) || (rc = sweep_args_finish(&a, "sweep", &od))) {
		free(a.counts);
		return rc;
	}
	sweep_args_plan(&a, dir, &plan);
	plan.outdir = &od;
	struct nf_error err = { 0 };
	rc = sweep_run(&plan, &out, &err) ? nf_error_report(&err) : EXIT_OK;
	free(a.counts);
	const struct sweep_summary *sum = &out.per[0].sum;
	if (out.meta.shape && sum->fit_ok)
		printf("slope %.2f ns/rule (95%% CI %.2f..%.2f), R² %.3f, intercept %.0f ns\n",
		       sum->fit.slope, sum->fit.slope_ci95_lo, sum->fit.slope_ci95_hi, sum->fit.r2,
		       sum->fit.intercept);
	for (int b = 0; out.meta.shape && out.n > 1 && b < out.n; b++) {
		const struct sweep_summary *s = &out.per[b].sum;
		if (s->fit_ok && s->seg_fit_ok)
			printf("offload %-3s %.2f ns/rule per skb, %.3f ns/rule per wire packet, "
			       "%.1f wire packets per skb\n", out.per[b].name, s->fit.slope,
			       s->seg_fit.slope, s->segments_per_packet);
	}
	if (out.meta.shape && out.rounds.rounds)
		print_rounds(&out);
	if (out.meta.shape)
		printf("sweep: %ld step(s) in %.1f s%s; report: %s/report.md\n", out.steps_done,
		       out.meta.wall_s, out.meta.interrupted ? " (interrupted)" : "", dir);
	sweep_outcome_free(&out);
	/* Failed before its first step (no testbed, no probe, a resource
	 * limit): nothing was measured, so nothing is left behind. */
	if (rc && !out.meta.shape)
		outdir_discard(&od);
	outdir_close(&od);
	return rc;
}
