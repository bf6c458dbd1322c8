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
#include "util/util.h"

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
	char *buf = strdup(list), *save = NULL;
	int rc = 0;

	*n = 0;
	if (!buf) {
		nf_err("out of memory reading --backends");
		return -1;
	}
	for (char *tok = strtok_r(buf, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		enum rules_backend b;
		if (!rules_backend_parse(tok, &b)) {
			nf_err("unknown backend '%s' in --backends: use %s", tok, rules_backend_names());
			rc = -1;
			break;
		}
		for (int i = 0; i < *n && !rc; i++)
			if (out[i] == b) {
				nf_err("backend '%s' is named twice in --backends", tok);
				rc = -1;
			}
		if (!rc)
			out[(*n)++] = b; /* at most BACKEND_COUNT: none twice */
	}
	free(buf);
	if (!rc && *n < 1) {
		nf_err("--backends is empty: name at least one of %s", rules_backend_names());
		rc = -1;
	}
	return rc;
}

/* --backends into list, each able to take the shape. 0 or EXIT_USAGE. */
static int check_backends(const struct sweep_args *a, enum rules_backend *list, int *nb)
{
	if (parse_backends(a->backends, list, nb))
		return EXIT_USAGE;
	for (int i = 0; i < *nb; i++) {
		const char *why;
		if (!rules_shape_supported(list[i], a->cfg.shape, &why)) {
			nf_err("shape %s with backend %s: %s", rules_shape_name(a->cfg.shape),
			       rules_backend_name(list[i]), why);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
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
	struct sweep_plan plan;
	struct sweep_outcome out;
	struct outdir od;
	const char *dir = od.path;
	int nb, rc;

	sweep_args_defaults(&a);
	a.is_compare = true;
	command_parse(&argp, argc, argv, &a);
	enum rules_backend list[BACKEND_COUNT];
	if ((rc = check_backends(&a, list, &nb)) || (rc = require_root("nfcost compare")) ||
	    (rc = sweep_args_finish(&a, "compare", &od))) {
		free(a.counts);
		return rc;
	}
	sweep_args_plan(&a, dir, &plan);
	plan.outdir = &od;
	memcpy(plan.backends, list, sizeof(list));
	plan.n_backends = nb;
	plan.compare = true;
	struct nf_error err = { 0 };
	rc = sweep_run(&plan, &out, &err) ? nf_error_report(&err) : EXIT_OK;
	free(a.counts);
	for (int i = 0; i < out.n; i++)
		if (out.per[i].sum.fit_ok)
			printf("%-16s %8.2f ns/rule  R² %.3f  %s\n", out.per[i].name,
			       out.per[i].sum.fit.slope, out.per[i].sum.fit.r2,
			       report_growth_verdict(&out.per[i].sum));
	if (out.meta.shape && out.rounds.rounds)
		print_rounds(&out);
	if (out.meta.shape)
		printf("compare: %ld step(s) in %.1f s%s; report: %s/report.md\n", out.steps_done,
		       out.meta.wall_s, out.meta.interrupted ? " (interrupted)" : "", dir);
	sweep_outcome_free(&out);
	/* Failed before its first step (no testbed, no probe, a resource
	 * limit): nothing was measured, so nothing is left behind. */
	if (rc && !out.meta.shape)
		outdir_discard(&od);
	outdir_close(&od);
	return rc;
}
