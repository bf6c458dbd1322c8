/* `nfcost profile`: what a given rule set costs the flows you name, which
 * table takes the time, and what each standard fix would save, with the
 * verdicts checked; measured in a testbed, never on the host. */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "experiments/profile.h"
#include "results/profile.h"
#include "results/results.h"
#include "util/util.h"

#define PROFILE_MAX_FLOWS 16
#define PROFILE_MAX_CANDIDATES 4

struct profile_args {
	const char *ruleset;
	bool from_host;
	struct flow_spec flows[PROFILE_MAX_FLOWS];
	int n_flows;
	enum nfhook hook;
	enum rules_backend backend;
	bool backend_set;
	bool fixes[FIX_COUNT];
	bool fix_set;
	long duration_s;
	long samples;
	const char *iface;
	enum probe_tracer tracer;
	const char *out;
	bool no_plot;
	const char *candidates[PROFILE_MAX_CANDIDATES];
	int n_candidates;
};

enum { OPT_FLOW = 1000, OPT_FIX, OPT_FROM_HOST, OPT_IFACE, OPT_SAMPLES, OPT_CANDIDATE };

static const struct argp_option profile_options[] = {
	{ "flow", OPT_FLOW, "SPEC", 0,
	  "A flow to measure, repeatable: tcp:[SRC>]DST:PORT or udp:[SRC>]DST:PORT[:SIZE] "
	  "(default tcp:198.18.0.2:443)", 0 },
	{ "from-host", OPT_FROM_HOST, NULL, 0,
	  "Profile a copy of this machine's own rule set (read only)", 0 },
	{ "hook", OPT_EXP_HOOK, "output|input|forward", 0,
	  "Where the rule set sits: the client (output, default), the server (input) or a "
	  "router between them (forward)", 0 },
	{ "backend", OPT_EXP_BACKEND, "B", 0,
	  "What loads iptables-save text: iptables-nft (default) or iptables-legacy", 0 },
	{ "fix", OPT_FIX, "LIST", 0,
	  "Fixes to measure: all (default), none, or nft-optimize,ipset,established-first,flowtable", 0 },
	{ "candidate", OPT_CANDIDATE, "FILE", 0,
	  "A rewrite of your own, measured and verdict-checked like a fix (repeatable)", 0 },
	{ "duration", 'd', "SECS", 0, "Traffic per flow and rule set (default 3)", 0 },
	{ "iface", OPT_IFACE, "NAME", 0,
	  "Name the measured namespace's interface as the rule set expects", 0 },
	{ "samples", OPT_SAMPLES, "N", 0,
	  "Packets built from the rule set for the verdict check (default 1000)", 0 },
	{ "tracer", OPT_EXP_TRACER, "T", 0, "auto (default), fentry, kprobe, nfhook", 0 },
	{ "out", OPT_EXP_OUT, "DIR", 0, "Output directory (default results/profile-<UTC timestamp>)", 0 },
	{ "no-plot", OPT_EXP_NO_PLOT, NULL, 0, "Do not draw the figure", 0 },
	{ 0 }
};

static bool iface_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || !strcmp(s, "lo") || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] == '/' || s[i] == ':' || s[i] > '~')
			return false;
	return true;
}

static error_t profile_parse(int key, char *arg, struct argp_state *state)
{
	struct profile_args *a = state->input;
	struct experiment_config cfg = { .hook = a->hook, .tracer = a->tracer,
					 .backend = a->backend };
	char why[256];
	long v;

	switch (key) {
	case OPT_FLOW:
		if (a->n_flows >= PROFILE_MAX_FLOWS)
			usage_fail("at most %d --flow options", PROFILE_MAX_FLOWS);
		if (!flow_parse(arg, &a->flows[a->n_flows], why, sizeof(why)))
			usage_fail("%s", why);
		a->n_flows++;
		break;
	case OPT_CANDIDATE:
		if (a->n_candidates >= PROFILE_MAX_CANDIDATES)
			usage_fail("at most %d --candidate options", PROFILE_MAX_CANDIDATES);
		if (!arg[0] || !strcmp(arg, "-"))
			usage_fail("--candidate takes a file name (stdin is for the rule set itself)");
		a->candidates[a->n_candidates++] = arg;
		break;
	case OPT_FROM_HOST:
		a->from_host = true;
		break;
	case OPT_FIX:
		if (!strcmp(arg, "none"))
			memset(a->fixes, 0, sizeof(a->fixes));
		else if (!ruleset_fix_parse_list(arg, a->fixes))
			usage_fail("unknown fix in '%s': use all, none, or a list of nft-optimize, "
				   "ipset, established-first, flowtable", arg);
		a->fix_set = strcmp(arg, "all") != 0;
		break;
	case 'd':
		if (!parse_long(arg, 1, 3600, &a->duration_s))
			usage_fail("-d takes seconds from 1 to 3600, got '%s'", arg);
		break;
	case OPT_SAMPLES:
		if (!parse_long(arg, 0, 10000, &v))
			usage_fail("--samples takes a whole number from 0 to 10000, got '%s'", arg);
		a->samples = v;
		break;
	case OPT_IFACE:
		if (!iface_valid(arg))
			usage_fail("--iface takes an interface name of 1 to 15 printable characters "
				   "without '/', ':' or spaces (not lo), got '%s'", arg);
		a->iface = arg;
		break;
	case ARGP_KEY_ARG:
		if (a->ruleset)
			usage_fail("profile takes one rule set, got '%s' too", arg);
		a->ruleset = arg;
		break;
	case ARGP_KEY_END:
		if (!a->ruleset == !a->from_host)
			usage_fail("name one rule set: a file in iptables-save or nft format, '-' for "
				   "stdin, or --from-host");
		if (a->backend_set && a->backend != BACKEND_IPTABLES_NFT &&
		    a->backend != BACKEND_IPTABLES_LEGACY && a->backend != BACKEND_NFT)
			usage_fail("--backend for a rule set is iptables-nft, iptables-legacy or nft");
		if (a->fix_set && a->fixes[FIX_FLOWTABLE] && a->hook != NFHOOK_FORWARD)
			usage_fail("the flowtable fix is for --hook forward only (a flowtable "
				   "offloads forwarded flows)");
		break;
	default:
		if (!arg_experiment_option(key, arg, &cfg, &a->out, &a->no_plot))
			return ARGP_ERR_UNKNOWN;
		if (key == OPT_EXP_BACKEND)
			a->backend_set = true;
		a->hook = cfg.hook;
		a->tracer = cfg.tracer;
		a->backend = cfg.backend;
	}
	return 0;
}

/* "candidate-NAME" from the file's name: letters, digits, '.', '-', '_'
 * only, since it names files under fixes/. */
static void candidate_name(const char *path, int i, char *buf, size_t len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = (size_t)snprintf(buf, len, "candidate-");

	for (const char *p = base; *p && n + 1 < len && *p != '.'; p++)
		buf[n++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ? *p : '_');
	buf[n] = '\0';
	if (n == strlen("candidate-"))
		snprintf(buf, len, "candidate-%d", i + 1);
}

static void print_summary(const struct profile_result *r, const char *dir)
{
	const struct profile_variant *o = &r->variants[0];

	for (int i = 0; i < o->n_flows; i++) {
		const struct profile_flow *f = &o->flows[i];
		if (f->measured)
			printf("profile: %s: %s, %.0f ns per packet in %s, %.1f Mbit/s\n", f->flow,
			       f->verdict, f->ns_per_packet, r->hook, f->throughput_mbps);
		else
			printf("profile: %s: %s, not measured: %s\n", f->flow, f->verdict, f->error);
	}
	for (int v = 1; v < r->n_variants; v++) {
		const struct profile_variant *x = &r->variants[v];
		if (!x->applied)
			printf("profile: %s: not measured: %s\n", x->name, x->note);
		else
			printf("profile: %s: %.1fx faster, verdicts %s (%d packets)\n", x->name,
			       x->speedup, x->verdicts_equal ? "identical" : "DIFFER", x->samples);
	}
	printf("profile: files in %s\n", dir);
}

/* The rule set and the candidates, read and checked against --backend.
 * 0 or an exit status (one line printed); rs and cands are freed by the
 * caller either way. */
static int read_rulesets(const struct profile_args *a, struct ruleset *rs, char *note,
			 size_t note_len, struct ruleset *cands,
			 char (*cand_names)[40])
{
	const char *what = a->from_host ? "the host's rule set" : a->ruleset;
	struct nf_error err = { 0 };

	if (a->from_host ? ruleset_read_host(rs, note, note_len, &err)
			 : ruleset_read_file(a->ruleset, rs, &err))
		return nf_error_report(&err);
	if (rs->format == RULESET_NFT && a->backend_set && a->backend != BACKEND_NFT) {
		nf_err("%s is in nft format: it loads with nft, not %s (leave --backend out)", what,
		       rules_backend_name(a->backend));
		return EXIT_USAGE;
	}
	if (rs->format == RULESET_IPTABLES && a->backend == BACKEND_NFT) {
		nf_err("%s is in iptables-save format: load it with --backend iptables-nft or "
		       "iptables-legacy", what);
		return EXIT_USAGE;
	}
	for (int c = 0; c < a->n_candidates; c++) {
		if (ruleset_read_file(a->candidates[c], &cands[c], &err)) {
			nf_error_prefix(&err, "--candidate: ");
			return nf_error_report(&err);
		}
		if (cands[c].format == RULESET_IPTABLES && rs->format == RULESET_NFT) {
			nf_err("--candidate %s is iptables-save text but the rule set is nft: give "
			       "the candidate in nft format too", a->candidates[c]);
			return EXIT_USAGE;
		}
		candidate_name(a->candidates[c], c, cand_names[c], sizeof(cand_names[c]));
	}
	return EXIT_OK;
}

static const struct argp profile_argp = {
	profile_options, profile_parse, "RULESET",
	"Loads a saved rule set (iptables-save or nft list ruleset format, '-' for stdin, "
	"or a copy of this machine's with --from-host) into a testbed of its own, in one "
	"transaction, and measures what it costs the flows you name: time per packet in "
	"each hook, split by table, and throughput. Then measures each fix in its place "
	"(nft-optimize, ipset, established-first, flowtable) on the same flows and checks "
	"that the fix keeps every verdict. Writes profile.json, profile.md, profile.png "
	"and the fixed rule sets under fixes/. Nothing is written to the firewall of the "
	"namespace nfcost runs in.\v"
	"Examples:\n"
	"  nfcost profile examples/bloated-chain.rules\n"
	"  nfcost profile --from-host --flow tcp:10.0.0.5>10.0.0.1:22 --fix none\n"
	"  iptables-save | nfcost profile - --hook input --flow udp:198.18.0.2:53",
	NULL, NULL, NULL
};

/* Opens the output directory and runs the plan; a rule set that does not
 * load takes back what was written and made. */
static int run_profile(const struct profile_args *a, struct profile_plan *plan,
		       struct profile_result *res, struct outdir *od, struct nf_error *err)
{
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = open_output_dir(a->out, "profile", od)))
		return rc;
	plan->dir = od->path;
	plan->outdir = od;
	catch_stop_signals();
	if (!profile_run(plan, res, err))
		return EXIT_OK;
	if (err->status == EXIT_USAGE && !(res->n_variants && res->variants[0].applied))
		outdir_discard(od);
	return err->status ? err->status : EXIT_RUNTIME;
}

int cmd_profile(int argc, char **argv)
{
	struct profile_args a = {
		.hook = NFHOOK_LOCAL_OUT, .backend = BACKEND_IPTABLES_NFT, .duration_s = 3,
		.samples = 1000, .tracer = TRACER_AUTO,
	};
	struct ruleset rs = { 0 }, cands[PROFILE_MAX_CANDIDATES] = { { 0 } };
	char cand_names[PROFILE_MAX_CANDIDATES][40];
	const char *cand_name_ptrs[PROFILE_MAX_CANDIDATES];
	struct profile_result res = { 0 };
	struct outdir od = { .fd = -1, .marker_fd = -1 };
	const char *dir = od.path;
	char note[1024] = "", source[1100];
	int rc;

	ruleset_fix_parse_list("all", a.fixes);
	command_parse(&profile_argp, argc, argv, &a);
	if (!a.fix_set && a.hook != NFHOOK_FORWARD)
		a.fixes[FIX_FLOWTABLE] = false; /* "all" means all that apply here */
	if ((rc = require_root("nfcost profile")) ||
	    (rc = read_rulesets(&a, &rs, note, sizeof(note), cands, cand_names)))
		goto out;
	for (int c = 0; c < a.n_candidates; c++)
		cand_name_ptrs[c] = cand_names[c];
	if (a.n_flows == 0) {
		char w[64];
		flow_parse("tcp:198.18.0.2:443", &a.flows[0], w, sizeof(w));
		a.n_flows = 1;
	}
	if (a.from_host)
		snprintf(source, sizeof(source), "host: %s", note);
	else
		snprintf(source, sizeof(source), "%s", a.ruleset);
	struct profile_plan plan = {
		.rs = &rs, .source = source,
		.backend = rs.format == RULESET_NFT ? BACKEND_NFT : a.backend,
		.hook = a.hook, .flows = a.flows, .n_flows = a.n_flows,
		.duration_s = (int)a.duration_s, .iface = a.iface, .tracer = a.tracer,
		.max_samples = (int)a.samples, .no_plot = a.no_plot,
		.candidates = cands, .candidate_names = cand_name_ptrs,
		.n_candidates = a.n_candidates,
	};
	memcpy(plan.fixes, a.fixes, sizeof(plan.fixes));
	struct nf_error err = { 0 };
	rc = run_profile(&a, &plan, &res, &od, &err);
	if (res.n_variants && res.variants[0].applied)
		print_summary(&res, dir);
	if (err.status) /* after the summary: an interrupted run says where it is */
		nf_error_report(&err);
	profile_result_free(&res);
out:
	for (int c = 0; c < a.n_candidates; c++)
		ruleset_free(&cands[c]);
	ruleset_free(&rs);
	outdir_close(&od);
	return rc;
}
