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
#include "util.h"

enum { OPT_RULES = 1000, OPT_TRAFFIC, OPT_SIZE, OPT_RATE, OPT_REPEAT, OPT_VERDICT, OPT_HIT,
       OPT_PACKETS };

static const struct argp_option sweep_options[] = {
	{ "rules", OPT_RULES, "START:STOP:STEP", 0, "Rule counts to measure (default 0:3000:100)", 0 },
	{ "duration", 'd', "SECS", 0, "Traffic per step in seconds (default 5)", 0 },
	{ "repeat", OPT_REPEAT, "N", 0, "Measurements per rule count (default 1)", 0 },
	{ "backend", OPT_EXP_BACKEND, "B", 0,
	  "iptables-nft (default), iptables-legacy, nft, nft-set, ipset", 0 },
	{ "shape", OPT_EXP_SHAPE, "S", 0, "addr, addr-port (default), multiport, bpf", 0 },
	{ "traffic", OPT_TRAFFIC, "tcp|udp", 0, "Traffic kind (default tcp)", 0 },
	{ "size", OPT_SIZE, "BYTES", 0, "Bytes per write (UDP: datagram payload)", 0 },
	{ "rate", OPT_RATE, "BITS", 0, "UDP target rate in bit/s, K/M/G suffix (default unlimited)", 0 },
	{ "hook", OPT_EXP_HOOK, "output|input|forward", 0,
	  "Hook to fill and measure (default output; forward: through a router namespace)", 0 },
	{ "tracer", OPT_EXP_TRACER, "T", 0, "auto (default), fentry, kprobe, nfhook", 0 },
	{ "out", OPT_EXP_OUT, "DIR", 0, "Output directory (default results/<command>-<UTC timestamp>)", 0 },
	{ "no-plot", OPT_EXP_NO_PLOT, NULL, 0, "Do not draw the figure", 0 },
	{ "verdict", OPT_VERDICT, "drop|accept", 0, "The rules' verdict (default drop)", 0 },
	{ "hit-traffic", OPT_HIT, NULL, 0,
	  "A last rule matches the test traffic; with drop, UDP datagrams are sent and "
	  "counted where they stop", 0 },
	{ "packets", OPT_PACKETS, "N", 0, "--hit-traffic with drop: datagrams per step (default 1000)", 0 },
	{ 0 }
};

static bool parse_rate(const char *s, uint64_t *out)
{
	return parse_rate_bps(s, 1e12, out);
}

static bool parse_rules_spec(const char *s, long *start, long *stop, long *step)
{
	char *buf = strdup(s), *a = buf, *b, *c;
	bool ok = false;

	/* Any length: the parts are checked by parse_long, not by a buffer. */
	if (!buf)
		return false;
	if ((b = strchr(a, ':')) && (*b++ = '\0', c = strchr(b, ':'))) {
		*c++ = '\0';
		ok = parse_long(a, 0, RULES_MAX_COUNT, start) &&
		     parse_long(b, 0, RULES_MAX_COUNT, stop) &&
		     parse_long(c, 1, RULES_MAX_COUNT, step) && *stop >= *start;
	}
	free(buf);
	return ok;
}

static error_t sweep_parse(int key, char *arg, struct argp_state *state)
{
	struct sweep_args *a = state->input;
	long v;

	switch (key) {
	case OPT_RULES:
		if (!parse_rules_spec(arg, &a->start, &a->stop, &a->step))
			usage_fail("--rules takes START:STOP:STEP with 0 <= START <= STOP <= %ld and "
				   "STEP >= 1, got '%s'", RULES_MAX_COUNT, arg);
		break;
	case 'd':
		if (!parse_long(arg, 1, 86400, &v))
			usage_fail("-d takes whole seconds from 1 to 86400, got '%s'", arg);
		a->cfg.traffic.duration_s = (int)v;
		break;
	case OPT_REPEAT:
		if (!parse_long(arg, 1, 1000, &v))
			usage_fail("--repeat takes a whole number from 1 to 1000, got '%s'", arg);
		a->repeat = (int)v;
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
	case OPT_PACKETS:
		if (!parse_long(arg, 1, 10000000, &v))
			usage_fail("--packets takes a whole number from 1 to 10000000, got '%s'", arg);
		a->cfg.hit_packets = (int)v;
		break;
	case ARGP_KEY_ARG:
		usage_fail("%s takes options only, got '%s'", a->is_compare ? "compare" : "sweep", arg);
		break;
	case ARGP_KEY_END:
		if (a->cfg.traffic.rate_bps && !a->cfg.traffic.udp)
			usage_fail("--rate goes with --traffic udp");
		if (a->cfg.hit_traffic && !a->cfg.accept && a->is_compare)
			usage_fail("--hit-traffic with the drop verdict is a sweep mode, not a compare one");
		if (a->cfg.hit_packets && !(a->cfg.hit_traffic && !a->cfg.accept))
			usage_fail("--packets goes with --hit-traffic and the drop verdict");
		break;
	default:
		return arg_experiment_option(key, arg, &a->cfg, &a->out, &a->no_plot)
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
	a->cfg.backend = BACKEND_IPTABLES_NFT;
	a->cfg.shape = SHAPE_ADDR_PORT;
	a->cfg.hook = HOOK_OUTPUT;
	a->cfg.tracer = TRACER_AUTO;
	a->cfg.traffic.duration_s = 5;
	a->cfg.traffic.interval_s = 1.0;
	a->cfg.hit_packets = 0; /* set to the default when the mode is on */
}

long sweep_steps(const struct sweep_args *a)
{
	return (a->stop - a->start) / a->step + 1;
}

int sweep_args_finish(struct sweep_args *a, const char *kind, char *out_dir, size_t len)
{
	char path[4096];

	if (sweep_steps(a) > 10000) {
		nf_err("--rules makes %ld steps; at most 10000: use a larger STEP", sweep_steps(a));
		return EXIT_USAGE;
	}
	const char *why;
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
	if (a->out) {
		snprintf(out_dir, len, "%s", a->out);
	} else {
		results_default_dir(kind, out_dir, len);
	}
	snprintf(path, sizeof(path), "%s/iperf", out_dir);
	if (mkdir_p(path)) {
		nf_err("cannot create %s: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

void sweep_fill_meta(struct run_meta *m, const struct sweep_args *a, const struct probe *p)
{
	m->shape = rules_shape_name(a->cfg.shape);
	m->hook = rules_hook_name(a->cfg.hook);
	m->matches_per_rule = rules_matches_per_rule(a->cfg.shape);
	m->tracer = p ? probe_tracer_name(probe_tracer(p)) : "none";
	if (p)
		snprintf(m->tracer_note, sizeof(m->tracer_note), "%s", probe_selection_note(p));
	m->traffic = a->cfg.traffic;
	m->repeat = a->repeat;
	m->start = a->start;
	m->stop = a->stop;
	m->step = a->step;
	m->interrupted = stop_requested != 0;
}

void sweep_progress(long done, long total, const char *label, const struct step_row *r,
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

int sweep_save_iperf(const char *dir, const char *backend, const struct step_row *row,
		     const struct traffic_result *res)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/iperf/%s%srules-%07ld-r%d.json", dir, backend ? backend : "",
		 backend ? "-" : "", row->rules, row->repeat);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fputs(res->json ? res->json : "{}\n", f);
	return fclose(f);
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
		"  nfcost sweep --traffic udp --size 64 --out /tmp/udp",
		NULL, NULL, NULL
	};
	struct sweep_args a;
	struct experiment e;
	struct run_meta meta;
	struct sweep_summary sum;
	struct step_row *rows = NULL;
	char dir[4096];
	FILE *csv = NULL;
	size_t n = 0;
	int rc;
	double t0 = now_monotonic();

	sweep_args_defaults(&a);
	command_parse(&argp, argc, argv, &a);
	if ((rc = require_root("nfcost sweep")))
		return rc;
	if ((rc = sweep_args_finish(&a, "sweep", dir, sizeof(dir))))
		return rc;
	rows = calloc((size_t)(sweep_steps(&a) * a.repeat), sizeof(*rows));
	csv = results_csv_open(dir, "sweep.csv", false);
	if (!rows || !csv) {
		nf_err("cannot write %s/sweep.csv: %s", dir, strerror(errno));
		free(rows);
		return EXIT_RUNTIME;
	}
	results_meta_init(&meta);
	catch_stop_signals();
	if ((rc = experiment_setup(&e, &a.cfg, "sw"))) {
		fclose(csv);
		free(rows);
		return rc;
	}
	fprintf(stderr, "nfcost: sweep %ld..%ld rules by %ld, %s %s, %s, tracer %s; writing %s\n",
		a.start, a.stop, a.step, rules_backend_name(a.cfg.backend),
		rules_shape_name(a.cfg.shape),
		a.cfg.hit_traffic && !a.cfg.accept ? "UDP datagrams into a dropping last rule" :
		a.cfg.traffic.udp ? "UDP" : "TCP",
		probe_tracer_name(probe_tracer(e.probe)), dir);

	long total = sweep_steps(&a) * a.repeat, done = 0;
	bool drop_mode = a.cfg.hit_traffic && !a.cfg.accept;
	FILE *drops_csv = NULL;
	struct step_drops drops_total = { 0 };
	if (drop_mode) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/drops.csv", dir);
		if ((drops_csv = fopen(p, "we")))
			fprintf(drops_csv, "rules,repeat,sent,send_eperm,hook,entered,lost\n");
	}
	for (long c = a.start; c <= a.stop && !stop_requested && rc == EXIT_OK; c += a.step) {
		double ms;
		if ((rc = experiment_grow(&e, c, &ms)))
			break;
		for (int r = 1; r <= a.repeat && !stop_requested; r++) {
			struct step_row row = { .rules = c, .repeat = r, .inject_ms = r == 1 ? ms : 0 };
			struct traffic_result res;
			if (drop_mode) {
				struct step_drops d;
				if ((rc = experiment_measure_drops(&e, &row, &d)))
					break;
				drops_total.sent += d.sent;
				drops_total.send_eperm += d.send_eperm;
				for (int h = 0; h < PROBE_HOOKS; h++) {
					drops_total.entered[h] += d.entered[h];
					drops_total.lost[h] += d.lost[h];
					if (drops_csv && (d.entered[h] || d.lost[h]))
						fprintf(drops_csv, "%ld,%d,%ld,%ld,%s,%llu,%llu\n", c, r,
							d.sent, d.send_eperm, probe_hook_name(h),
							(unsigned long long)d.entered[h],
							(unsigned long long)d.lost[h]);
				}
				if (drops_csv)
					fflush(drops_csv);
				results_csv_row(csv, NULL, &row);
				rows[n++] = row;
				sweep_progress(++done, total, NULL, &row, t0);
				continue;
			}
			if ((rc = experiment_measure(&e, &row, &res)))
				break;
			if (stop_requested) { /* cut short: not a full step */
				traffic_result_free(&res);
				break;
			}
			sweep_save_iperf(dir, NULL, &row, &res);
			traffic_result_free(&res);
			results_csv_row(csv, NULL, &row);
			rows[n++] = row;
			sweep_progress(++done, total, NULL, &row, t0);
		}
	}
	/* A probe that timed nothing is a failed measurement, not a flat line. */
	bool timed_any = false;
	for (size_t i = 0; i < n; i++)
		timed_any |= rows[i].packets > 0;
	if (n > 0 && !timed_any && !drop_mode && rc == EXIT_OK) {
		nf_err("the %s tracer timed no packet in any step: nothing was measured; "
		       "try another --tracer (nfhook needs kernel >= 6.4)",
		       probe_tracer_name(probe_tracer(e.probe)));
		rc = EXIT_RUNTIME;
	}
	/* The calibration is the empty chain's own step, when the plan has one. */
	for (size_t i = 0; i < n; i++)
		if (rows[i].rules == 0 && rows[i].packets) {
			meta.calibrated = true;
			meta.calibration_ns = rows[i].lat_avg_ns;
			break;
		}
	meta.backend = rules_backend_name(a.cfg.backend);
	sweep_fill_meta(&meta, &a, e.probe);
	experiment_teardown(&e);
	fclose(csv);
	if (drops_csv)
		fclose(drops_csv);
	if (stop_requested && isatty(2))
		fputc('\n', stderr);

	meta.wall_s = now_monotonic() - t0;
	results_summarize(rows, n, meta.matches_per_rule, &sum);
	json_object *j = results_meta_json(&meta);
	json_object_object_add(j, "analysis", results_summary_json(&sum));
	json_object_object_add(j, "verdict", json_object_new_string(a.cfg.accept ? "accept" : "drop"));
	json_object_object_add(j, "hit_traffic", json_object_new_boolean(a.cfg.hit_traffic));
	if (drop_mode)
		json_object_object_add(j, "drops", results_drops_json(&drops_total));
	char path[4096];
	snprintf(path, sizeof(path), "%s/sweep.json", dir);
	if (results_write_json(path, j)) {
		nf_err("cannot write %s: %s", path, strerror(errno));
		rc = rc ? rc : EXIT_RUNTIME;
	}
	bool fig = !a.no_plot && n > 0 && report_plot("sweep", dir) == 0;
	if (report_write_sweep(dir, &meta, &sum, rows, n, fig, drop_mode ? &drops_total : NULL)) {
		nf_err("cannot write %s/report.md: %s", dir, strerror(errno));
		rc = rc ? rc : EXIT_RUNTIME;
	}
	free(rows);
	meta.wall_s = now_monotonic() - t0;
	if (sum.fit_ok)
		printf("slope %.2f ns/rule (95%% CI %.2f..%.2f), R² %.3f, intercept %.0f ns\n",
		       sum.fit.slope, sum.fit.slope_ci95_lo, sum.fit.slope_ci95_hi, sum.fit.r2,
		       sum.fit.intercept);
	printf("sweep: %zu step(s) in %.1f s%s; report: %s/report.md\n", n, meta.wall_s,
	       meta.interrupted ? " (interrupted)" : "", dir);
	if (meta.interrupted && rc == EXIT_OK)
		rc = EXIT_RUNTIME;
	return rc;
}
