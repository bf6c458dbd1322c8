/* `nfcost compare`: the same sweep for several backends, each in a testbed of
 * its own, steps interleaved in a random order per rule count so that drift
 * on a noisy machine favours no backend. */
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

struct compare_backend {
	enum rules_backend backend;
	struct experiment e;
	bool ready;
	struct step_row *rows;
	size_t n;
	struct sweep_summary sum;
};

static error_t compare_parse(int key, char *arg, struct argp_state *state)
{
	struct sweep_args *a = state->input;

	switch (key) {
	case 'B':
		a->backends = arg;
		break;
	case ARGP_KEY_INIT:
		state->child_inputs[0] = a;
		break;
	case ARGP_KEY_END:
		if (!a->backends)
			usage_fail("compare needs --backends B1,B2,... (from %s)", rules_backend_names());
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int parse_backends(const char *list, enum rules_backend *out, int *n)
{
	char buf[256], *save = NULL;

	*n = 0;
	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		enum rules_backend b;
		if (!rules_backend_parse(tok, &b)) {
			nf_err("unknown backend '%s' in --backends: use %s", tok, rules_backend_names());
			return -1;
		}
		for (int i = 0; i < *n; i++)
			if (out[i] == b) {
				nf_err("backend '%s' is named twice in --backends", tok);
				return -1;
			}
		if (*n == BACKEND_COUNT)
			return -1;
		out[(*n)++] = b;
	}
	if (*n < 1) {
		nf_err("--backends is empty: name at least one of %s", rules_backend_names());
		return -1;
	}
	return 0;
}

static void write_report(const char *dir, const struct run_meta *m, struct compare_backend *cb,
			 int nb, bool fig)
{
	char path[4096];
	FILE *f;
	int lo = -1, hi = -1;

	snprintf(path, sizeof(path), "%s/report.md", dir);
	if (!(f = fopen(path, "we"))) {
		nf_err("cannot write %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "# nfcost compare: %s rules, %s hook\n\n", m->shape, m->hook);
	fprintf(f, "- kernel %s, %d CPUs (%s)\n- tracer **%s**%s%s\n", m->kernel, m->cpus,
		m->cpu_model, m->tracer, m->tracer_note[0] ? ": " : "", m->tracer_note);
	fprintf(f, "- %s traffic, %d s per step, %d repeat(s); rules %ld..%ld by %ld; steps of "
		   "the backends interleaved in a random order per rule count\n",
		m->traffic.udp ? "UDP" : "TCP", m->traffic.duration_s, m->repeat, m->start,
		m->stop, m->step);
	fprintf(f, "- took %.0f s%s\n\n", m->wall_s, m->interrupted ? " (interrupted)" : "");
	fprintf(f, "| backend | growth | ns/rule (95 %% CI) | ns/match | R² | latency at %ld "
		   "rules | Mbit/s at %ld |\n|---|---|---:|---:|---:|---:|---:|\n", m->stop, m->stop);
	for (int i = 0; i < nb; i++) {
		struct sweep_summary *s = &cb[i].sum;
		if (!s->fit_ok) {
			fprintf(f, "| %s | undetermined | | | | | |\n", rules_backend_name(cb[i].backend));
			continue;
		}
		char ci[64] = "n/a: two steps";
		if (isfinite(s->fit.slope_ci95_lo))
			snprintf(ci, sizeof(ci), "%.2f..%.2f", s->fit.slope_ci95_lo, s->fit.slope_ci95_hi);
		fprintf(f, "| %s | %s | %.2f (%s) | %.2f | %.3f | %.0f ns | %.0f |\n",
			rules_backend_name(cb[i].backend), report_growth_verdict(s), s->fit.slope, ci,
			s->ns_per_match, s->fit.r2, s->max_rules_lat_ns, s->max_rules_mbps);
		if (lo < 0 || s->max_rules_lat_ns < cb[lo].sum.max_rules_lat_ns)
			lo = i;
		if (hi < 0 || s->max_rules_lat_ns > cb[hi].sum.max_rules_lat_ns)
			hi = i;
	}
	fprintf(f, "\n");
	for (int i = 0; i < nb; i++) {
		const char *v = cb[i].sum.fit_ok ? report_growth_verdict(&cb[i].sum) : "undetermined";
		if (!strcmp(v, "flat"))
			fprintf(f, "- **%s stays flat**: one lookup, whatever the number of entries "
				   "(O(1)).\n", rules_backend_name(cb[i].backend));
		else if (!strcmp(v, "linear") || !strcmp(v, "mostly linear"))
			fprintf(f, "- **%s grows linearly**: every packet walks the chain rule by "
				   "rule (O(n)), %.2f ns per rule.\n", rules_backend_name(cb[i].backend),
				cb[i].sum.fit.slope);
		else if (!strcmp(v, "growing"))
			fprintf(f, "- **%s grows**, %.2f ns per rule between the two rule counts "
				   "(measure more steps to tell a line from a curve).\n",
				rules_backend_name(cb[i].backend), cb[i].sum.fit.slope);
		else if (!strcmp(v, "growing, not linear"))
			fprintf(f, "- **%s grows with the rule count**, about %.2f ns per rule, but "
				   "not along one straight line (R² %.2f).\n",
				rules_backend_name(cb[i].backend), cb[i].sum.fit.slope, cb[i].sum.fit.r2);
	}
	if (lo >= 0 && hi >= 0 && lo != hi && cb[lo].sum.max_rules_lat_ns > 0)
		fprintf(f, "\nAt %ld rules a packet spends %.1f× as long in the hooks with %s as "
			   "with %s (%.0f ns against %.0f ns).\n", cb[hi].sum.max_rules,
			cb[hi].sum.max_rules_lat_ns / cb[lo].sum.max_rules_lat_ns,
			rules_backend_name(cb[hi].backend), rules_backend_name(cb[lo].backend),
			cb[hi].sum.max_rules_lat_ns, cb[lo].sum.max_rules_lat_ns);
	if (fig)
		fprintf(f, "\n![latency and throughput per backend](compare.png)\n");
	fprintf(f, "\nData: compare.csv, compare.json, iperf/. Redraw with "
		   "`/usr/bin/python3 scripts/plot_results.py compare DIR`.\n");
	fclose(f);
}

int cmd_compare(int argc, char **argv)
{
	static const struct argp_option options[] = {
		{ "backends", 'B', "B1,B2,...", 0,
		  "Backends to compare: iptables-nft, iptables-legacy, nft, nft-set, ipset", 0 },
		{ 0 }
	};
	static const struct argp_child children[] = { { &sweep_options_argp, 0, NULL, 0 }, { 0 } };
	static const struct argp argp = {
		options, compare_parse, "--backends B1,B2,...",
		"Run the same sweep for several backends, each in a fresh testbed, with the "
		"steps interleaved in a random order per rule count. Writes compare.csv, "
		"compare.json, compare.png and report.md.\v"
		"Examples:\n"
		"  nfcost compare --backends iptables-legacy,nft-set --rules 0:2000:1000 -d 1\n"
		"  nfcost compare --backends iptables-nft,iptables-legacy,nft,nft-set,ipset",
		children, NULL, NULL
	};
	struct sweep_args a;
	struct compare_backend cb[BACKEND_COUNT];
	enum rules_backend list[BACKEND_COUNT];
	struct run_meta meta;
	char dir[4096], path[4096];
	FILE *csv;
	int nb, rc;
	double t0 = now_monotonic();
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();

	sweep_args_defaults(&a);
	a.is_compare = true;
	command_parse(&argp, argc, argv, &a);
	if (parse_backends(a.backends, list, &nb))
		return EXIT_USAGE;
	for (int i = 0; i < nb; i++) {
		const char *why;
		if (!rules_shape_supported(list[i], a.cfg.shape, &why)) {
			nf_err("shape %s with backend %s: %s", rules_shape_name(a.cfg.shape),
			       rules_backend_name(list[i]), why);
			return EXIT_USAGE;
		}
	}
	if ((rc = require_root("nfcost compare")))
		return rc;
	if ((rc = sweep_args_finish(&a, "compare", dir, sizeof(dir))))
		return rc;
	if (!(csv = results_csv_open(dir, "compare.csv", true))) {
		nf_err("cannot write %s/compare.csv: %s", dir, strerror(errno));
		return EXIT_RUNTIME;
	}
	results_meta_init(&meta);
	catch_stop_signals();
	memset(cb, 0, sizeof(cb));
	for (int i = 0; i < nb && rc == EXIT_OK && !stop_requested; i++) {
		struct experiment_config cfg = a.cfg;
		cfg.backend = cb[i].backend = list[i];
		cb[i].rows = calloc((size_t)(sweep_steps(&a) * a.repeat), sizeof(struct step_row));
		if (!cb[i].rows) {
			rc = EXIT_RUNTIME;
			break;
		}
		rc = experiment_setup(&cb[i].e, &cfg, "cmp");
		cb[i].ready = rc == EXIT_OK;
	}
	if (rc == EXIT_OK && !stop_requested)
		fprintf(stderr, "nfcost: compare %d backends, %ld..%ld rules by %ld, tracer %s; "
			"writing %s\n", nb, a.start, a.stop, a.step,
			probe_tracer_name(probe_tracer(cb[0].e.probe)), dir);

	long total = sweep_steps(&a) * a.repeat * nb, done = 0;
	int order[BACKEND_COUNT];
	for (long c = a.start; c <= a.stop && rc == EXIT_OK && !stop_requested; c += a.step) {
		for (int i = 0; i < nb; i++)
			order[i] = i;
		for (int i = nb - 1; i > 0; i--) { /* Fisher-Yates */
			int j = (int)(rand_r(&seed) % (unsigned int)(i + 1)), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (int k = 0; k < nb && rc == EXIT_OK && !stop_requested; k++) {
			struct compare_backend *b = &cb[order[k]];
			const char *name = rules_backend_name(b->backend);
			double ms;
			if ((rc = experiment_grow(&b->e, c, &ms)))
				break;
			for (int r = 1; r <= a.repeat && !stop_requested; r++) {
				struct step_row row = { .rules = c, .repeat = r, .inject_ms = r == 1 ? ms : 0 };
				struct traffic_result res;
				if ((rc = experiment_measure(&b->e, &row, &res)))
					break;
				if (stop_requested) {
					traffic_result_free(&res);
					break;
				}
				sweep_save_iperf(dir, name, &row, &res);
				traffic_result_free(&res);
				results_csv_row(csv, name, &row);
				b->rows[b->n++] = row;
				sweep_progress(++done, total, name, &row, t0);
			}
		}
	}
	sweep_fill_meta(&meta, &a, cb[0].ready ? cb[0].e.probe : NULL);
	for (int i = 0; i < nb; i++)
		if (cb[i].ready)
			experiment_teardown(&cb[i].e);
	fclose(csv);
	meta.wall_s = now_monotonic() - t0;

	json_object *j = results_meta_json(&meta), *per = json_object_new_object();
	for (int i = 0; i < nb; i++) {
		results_summarize(cb[i].rows, cb[i].n, meta.matches_per_rule, &cb[i].sum);
		json_object_object_add(per, rules_backend_name(cb[i].backend),
				       results_summary_json(&cb[i].sum));
	}
	json_object_object_add(j, "random_seed", json_object_new_int64(seed));
	json_object_object_add(j, "backends", per);
	snprintf(path, sizeof(path), "%s/compare.json", dir);
	if (results_write_json(path, j)) {
		nf_err("cannot write %s: %s", path, strerror(errno));
		rc = rc ? rc : EXIT_RUNTIME;
	}
	bool fig = !a.no_plot && done > 0 && report_plot("compare", dir) == 0;
	write_report(dir, &meta, cb, nb, fig);
	for (int i = 0; i < nb; i++) {
		if (cb[i].sum.fit_ok)
			printf("%-16s %8.2f ns/rule  R² %.3f  %s\n", rules_backend_name(cb[i].backend),
			       cb[i].sum.fit.slope, cb[i].sum.fit.r2, report_growth_verdict(&cb[i].sum));
		free(cb[i].rows);
	}
	printf("compare: %ld step(s) in %.1f s%s; report: %s/report.md\n", done,
	       now_monotonic() - t0, meta.interrupted ? " (interrupted)" : "", dir);
	if (meta.interrupted && rc == EXIT_OK)
		rc = EXIT_RUNTIME;
	return rc;
}
