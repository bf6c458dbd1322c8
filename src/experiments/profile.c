#include "experiments/profile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiments/environment.h"
#include "experiments/experiment.h"
#include "experiments/otherload.h"
#include "experiments/overhead.h"
#include "experiments/profile_parts.h"
#include "probe/tablelat.h"
#include "results/load.h"
#include "results/report.h"
#include "testbed/testbed.h"
#include "traffic/traffic.h"
#include "util/util.h"

/* How long the verdict check waits for one packet to cross the hooks. */
#define VERDICT_WAIT_US 20000

struct profile_ctx {
	const struct profile_plan *plan;
	/* bed.rules_netns: the measured namespace; bed.cli_netns: where every
	 * packet starts. */
	struct experiment_bed bed;
	char scratch[256];           /* a namespace fixes may use for nft's optimizer */
	struct ruleset_sample *samples;
	size_t n_samples;
	/* Per variant, the verdict of every flow and then every sample. */
	int n_verdicts;
	/* What the original's probe ran with, for the outputs. */
	enum probe_tracer tracer;
	char tracer_note[512];
	int brackets[PROFILE_MAX_PARTS - 1];
	int n_brackets;
	bool have_tracer;
	unsigned int bracket_hooks[PROFILE_MAX_PARTS - 1];
	struct overhead overhead;    /* the original's probe, brackets and all */
	bool have_overhead;
	/* Without brackets (a tracer other than nfhook): the per-table
	 * tracer when fentry loads, else NULL; see table_parts. */
	struct tablelat *tl;
	char tl_note[256];
	/* The machine's other load during every flow of every variant. */
	struct step_load *load;
	size_t n_load, cap_load;
};

static const char *loader_of(const struct ruleset *rs, enum rules_backend b)
{
	return rs->format == RULESET_NFT ? "nft" : rules_backend_name(b);
}

/* --- verdicts --- */

/* Sends one packet and says what the hooks of the measured namespace did
 * with it: "passed", "dropped in HOOK" or "not seen". The hooks' counts are
 * peeked before and after, until the packet has left the last hook of its
 * path or was dropped (the output path runs inside the send; input and
 * forward in a softirq soon after), for at most VERDICT_WAIT_US. A window
 * read would wait for an RCU grace period each time. */
static void verdict_of(struct profile_ctx *x, struct probe *p, int proto, const char *src,
		       const char *dst, int port, char *out, size_t len)
{
	uint64_t in0[NFHOOK_COUNT], out0[NFHOOK_COUNT], in1[NFHOOK_COUNT], out1[NFHOOK_COUNT];
	enum nfhook path[3];
	int n = parts_path_hooks(x->plan->hook, path), fd, dropped_at = -1;
	double deadline;

	if (probe_peek_hooks(p, in0, out0)) {
		snprintf(out, len, "not read (%s)", strerror(errno));
		return;
	}
	fd = traffic_send_one(x->bed.cli_netns, proto, src, dst, port);
	if (fd < 0) {
		snprintf(out, len, "not sent (%s)", strerror(errno));
		return;
	}
	deadline = now_monotonic() + VERDICT_WAIT_US / 1e6;
	for (;;) {
		if (probe_peek_hooks(p, in1, out1) == 0) {
			for (int i = 0; i < n && dropped_at < 0; i++)
				if (in1[path[i]] - in0[path[i]] > out1[path[i]] - out0[path[i]])
					dropped_at = (int)path[i];
			if (dropped_at >= 0 || out1[path[n - 1]] > out0[path[n - 1]])
				break;
		}
		if (now_monotonic() > deadline)
			break;
		usleep(200);
	}
	close(fd);
	/* A queued packet that no program takes is dropped: say so. */
	const char *text = x->plan->rs->text;
	bool queues = strstr(text, "-j NFQUEUE") || strstr(text, "-j QUEUE") || strstr(text, " queue ");
	if (dropped_at >= 0)
		snprintf(out, len, "dropped in %s%s", nfhook_option((enum nfhook)dropped_at),
			 queues ? " (by NFQUEUE? nothing listens)" : "");
	else
		snprintf(out, len, "%s", out1[path[n - 1]] > out0[path[n - 1]] ? "passed"
				 : in1[path[0]] > in0[path[0]] ? "not seen leaving"
							    : "not seen");
}

static int flow_proto(const struct flow_spec *f)
{
	return f->udp ? IPPROTO_UDP : IPPROTO_TCP;
}

static const char *proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "icmp";
}

/* --- one flow through one rule set --- */

/* Without brackets, the per-table tracer's time (fentry on ipt_do_table /
 * nft_do_chain) splits hook ph: a part per table it saw there, at the
 * table's priority when the rule set names it, then "other" (the hook's
 * time beyond its tables: the hook's own walk, conntrack, the tracers),
 * never negative. Both are per packet timed through the hook; the two
 * tracers' intervals end a moment apart. */
static void table_parts(struct profile_hook *ph, const struct component *c, int nc,
			const struct tablelat_part *tp, int n, uint64_t hook_ns)
{
	uint64_t tables_ns = 0;

	for (int i = 0; i < n && ph->n_parts < PROFILE_MAX_PARTS - 1; i++) {
		struct profile_part *pp = &ph->parts[ph->n_parts];
		const char *l = tp[i].label, *bare = strncmp(l, "ip ", 3) ? l : l + 3;
		size_t bl = strlen(bare);

		if (tp[i].hook != ph->hook)
			continue;
		snprintf(pp->label, sizeof(pp->label), "%s", l);
		pp->prio_from = pp->prio_to = 0;
		/* The rule set's name for it: iptables text loaded by
		 * iptables-nft shows here as "ip filter", nat as "nat (dnat)". */
		for (int j = 0; j < nc; j++)
			if ((c[j].hooks & (1u << ph->hook)) &&
			    (!strcmp(c[j].label, l) || !strcmp(c[j].label, bare) ||
			     (!strncmp(c[j].label, bare, bl) && !strncmp(c[j].label + bl, " (", 2)))) {
				snprintf(pp->label, sizeof(pp->label), "%s", c[j].label);
				pp->prio_from = pp->prio_to = c[j].prio;
				break;
			}
		tables_ns += tp[i].ns;
		pp->ns_per_packet = ph->packets ? (double)tp[i].ns / (double)ph->packets : NAN;
		pp->share = hook_ns ? (double)tp[i].ns / (double)hook_ns : NAN;
		ph->n_parts++;
	}
	struct profile_part *o = &ph->parts[ph->n_parts++];
	uint64_t other = hook_ns > tables_ns ? hook_ns - tables_ns : 0;
	snprintf(o->label, sizeof(o->label), "other");
	o->prio_from = PRI_FIRST_BRACKET;
	o->prio_to = PRI_LAST_BRACKET;
	o->ns_per_packet = ph->packets ? (double)other / (double)ph->packets : NAN;
	o->share = hook_ns ? (double)other / (double)hook_ns : NAN;
}

/* The other load during variant v's flow pf, for the outputs. */
static void note_load(struct profile_ctx *x, const struct profile_variant *v,
		      const struct profile_flow *pf, double pct)
{
	if (x->n_load == x->cap_load) {
		size_t cap = x->cap_load ? 2 * x->cap_load : 16;
		struct step_load *l = realloc(x->load, cap * sizeof(*l));
		if (!l)
			return;
		x->load = l;
		x->cap_load = cap;
	}
	snprintf(x->load[x->n_load].label, sizeof(x->load[0].label), "%s %s", v->name, pf->flow);
	x->load[x->n_load++].other_cpu_pct = pct;
}

/* A UDP flow: datagrams of its size as fast as they go for the plan's
 * duration from t0; its rate into pf. 0, or -1 with err filled. */
static int udp_flow(struct profile_ctx *x, const struct flow_spec *fs, struct profile_flow *pf,
		    double t0, struct nf_error *err)
{
	long sent = 0, total = 0, eperm;
	double secs;

	while (!stop_requested && now_monotonic() - t0 < x->plan->duration_s) {
		if (traffic_udp_burst(x->bed.cli_netns, fs->dst, fs->port, 256, fs->size, &sent, &eperm,
				      err))
			return -1;
		total += sent - eperm;
	}
	secs = now_monotonic() - t0;
	pf->packets_per_s = secs > 0 ? (double)total / secs : NAN;
	pf->throughput_mbps = secs > 0 ? (double)total * fs->size * 8 / secs / 1e6 : NAN;
	return 0;
}

static void measure_flow(struct profile_ctx *x, struct probe *p, const struct component *c,
			 int nc, const int *splits, const unsigned int *split_hooks, int n_splits,
			 const struct flow_spec *fs, struct profile_flow *pf, double *other_pct)
{
	const struct profile_plan *plan = x->plan;
	struct traffic_opts topts = { .udp = false, .duration_s = plan->duration_s, .interval_s = 1 };
	struct traffic_result res;
	struct probe_window w;
	struct tablelat_part tparts[TABLELAT_MAX_TABLES];
	double t0, secs;
	struct nf_error err = { 0 };
	int rc, n_tparts;

	snprintf(pf->flow, sizeof(pf->flow), "%s", fs->text);
	verdict_of(x, p, flow_proto(fs), fs->src[0] ? fs->src : NULL, fs->dst, fs->port,
		   pf->verdict, sizeof(pf->verdict));
	probe_read_window(p, &w);
	if (x->tl)
		tablelat_read(x->tl, tparts, TABLELAT_MAX_TABLES, NULL); /* starts its interval */
	struct otherload other;
	otherload_begin(&other);
	t0 = now_monotonic();
	memset(&res, 0, sizeof(res));
	if (fs->udp) {
		rc = udp_flow(x, fs, pf, t0, &err);
		secs = now_monotonic() - t0;
	} else {
		rc = traffic_run_once(x->bed.cli_netns, fs->dst, fs->port, &topts, &res, &err);
		secs = now_monotonic() - t0;
		pf->throughput_mbps = res.bits_per_second / 1e6;
		traffic_result_free(&res);
	}
	*other_pct = otherload_end(&other);
	probe_read_window(p, &w);
	n_tparts = x->tl ? tablelat_read(x->tl, tparts, TABLELAT_MAX_TABLES, NULL) : -1;
	if (rc) {
		pf->measured = false;
		snprintf(pf->error, sizeof(pf->error), "%s", err.msg);
		return;
	}
	pf->measured = true;
	enum nfhook measured = plan->hook;
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		if (!w.hook_count[h] && !w.entered_hook[h])
			continue;
		struct profile_hook *ph = &pf->hooks[pf->n_hooks++];
		ph->hook = (enum nfhook)h;
		ph->reply = plan->hook == NFHOOK_FORWARD ? false : !parts_on_path(plan->hook, ph->hook);
		ph->packets = w.hook_count[h];
		ph->segments = w.hook_segments[h];
		ph->dropped = w.entered_hook[h] > w.hook_count[h] ? w.entered_hook[h] - w.hook_count[h] : 0;
		ph->ns_per_packet = ph->packets ? (double)w.hook_sum_ns[h] / (double)ph->packets : NAN;
		if (n_tparts >= 0) /* no brackets: a part per table, from fentry */
			table_parts(ph, c, nc, tparts, n_tparts, w.hook_sum_ns[h]);
		else for (int k = 0; k <= n_splits; k++) {
			struct profile_part *pp = &ph->parts[ph->n_parts];
			if (!parts_label(c, nc, splits, split_hooks, n_splits, ph->hook, k, pp))
				continue;
			ph->n_parts++;
			pp->ns_per_packet = ph->packets ? (double)w.part_sum_ns[h][k] / (double)ph->packets
							: NAN;
			pp->share = w.hook_sum_ns[h] ? (double)w.part_sum_ns[h][k] / (double)w.hook_sum_ns[h]
						     : NAN;
		}
		if (ph->hook == measured) {
			pf->ns_per_packet = ph->ns_per_packet;
			pf->ns_per_segment = ph->segments ? (double)w.hook_sum_ns[h] / (double)ph->segments
							  : NAN;
			pf->packets_per_s = secs > 0 ? (double)ph->packets / secs : NAN;
		}
	}
	if (!pf->n_hooks)
		snprintf(pf->error, sizeof(pf->error), "the probe saw no packet of this flow");
}

/* --- one variant: load, measure, check --- */

/* A rule set's text as an output file (util/outfile.h). */
static int write_text(const struct profile_plan *plan, const char *file, const char *text,
		      struct nf_error *err)
{
	return outfile_write(plan->outdir, file, text, strlen(text), err);
}

/* The probe for one variant: brackets between its components when the
 * nfhook tracer can run (with another tracer a hook is one part, and the
 * per-table tracer splits it where it loads). NULL with why filled. */
static struct probe *open_variant_probe(struct profile_ctx *x, const struct component *comps,
					int nc, int *splits, unsigned int *split_hooks,
					int *n_splits, struct nf_error *err)
{
	const struct profile_plan *plan = x->plan;
	struct probe_opts popts = { .tracer = plan->tracer, .netns_path = x->bed.rules_netns, .hook = NFHOOK_ALL };
	struct probe *p;

	if (plan->tracer == TRACER_NFHOOK || plan->tracer == TRACER_AUTO) {
		*n_splits = parts_brackets(comps, nc, splits, split_hooks);
		popts.split_priorities = splits;
		popts.split_hooks = split_hooks;
		popts.n_splits = *n_splits;
		popts.tracer = TRACER_NFHOOK;
	}
	struct nf_error first = { 0 };
	p = probe_open(&popts, &first);
	if (!p && plan->tracer != TRACER_AUTO)
		*err = first;
	if (!p && plan->tracer == TRACER_AUTO) {
		/* No BPF netfilter links here: time whole hooks with what loads. */
		popts.tracer = TRACER_AUTO;
		popts.split_priorities = NULL;
		popts.split_hooks = NULL;
		popts.n_splits = *n_splits = 0;
		p = probe_open(&popts, err);
	}
	if (!p)
		return NULL;
	if (probe_tracer(p) != TRACER_NFHOOK) {
		struct nf_error tw = { 0 };
		x->tl = tablelat_open(x->bed.rules_netns, &tw);
		snprintf(x->tl_note, sizeof(x->tl_note), "tables: %s",
			 x->tl ? "fentry on ipt_do_table/nft_do_chain" : tw.msg);
	}
	return p;
}

/* Loads rs (the namespace is empty), measures every flow and the verdict
 * of every sample. -1 with err: EXIT_USAGE when rs does not load (the
 * loader's message), EXIT_RUNTIME on a failure of nfcost's own or a signal. */
static int run_variant(struct profile_ctx *x, const struct ruleset *rs, enum rules_backend b,
		       struct profile_variant *v, char (*verdicts)[64], struct nf_error *err)
{
	const struct profile_plan *plan = x->plan;
	struct ruleset_chain *chains = NULL;
	struct component comps[32];
	int splits[PROFILE_MAX_PARTS - 1], n_splits = 0, n_chains = 0, nc;
	unsigned int split_hooks[PROFILE_MAX_PARTS - 1];
	struct probe *p;

	if (ruleset_load(x->bed.rules_netns, rs, b, err) ||
	    ruleset_base_chains(x->bed.rules_netns, rs, b, &chains, &n_chains, err))
		return -1;
	nc = parts_components(rs, chains, n_chains, comps, (int)(sizeof(comps) / sizeof(comps[0])));
	free(chains);
	if (!(p = open_variant_probe(x, comps, nc, splits, split_hooks, &n_splits, err)))
		return -1;
	v->n_rules = rs->n_rules;
	v->n_chains = rs->n_chains;
	v->n_sets = rs->n_sets;
	v->backend = loader_of(rs, b);
	v->applied = true;
	v->n_flows = plan->n_flows;
	v->flows = calloc((size_t)plan->n_flows, sizeof(*v->flows));
	if (!v->flows) {
		probe_close(p);
		tablelat_close(x->tl);
		x->tl = NULL;
		return nf_fail(err, EXIT_RUNTIME, "out of memory");
	}
	for (int i = 0; i < plan->n_flows && !stop_requested; i++) {
		double other_pct;
		measure_flow(x, p, comps, nc, splits, split_hooks, n_splits, &plan->flows[i],
			     &v->flows[i], &other_pct);
		if (v->flows[i].measured)
			note_load(x, v, &v->flows[i], other_pct);
		snprintf(verdicts[i], 64, "%s", v->flows[i].verdict);
	}
	for (size_t s = 0; s < x->n_samples && !stop_requested; s++) {
		const struct ruleset_sample *sm = &x->samples[s];
		verdict_of(x, p, sm->proto, sm->src[0] ? sm->src : NULL, sm->dst, sm->dport,
			   verdicts[plan->n_flows + (int)s], 64);
	}
	if (!x->have_tracer) {
		x->have_tracer = true;
		x->tracer = probe_tracer(p);
		snprintf(x->tracer_note, sizeof(x->tracer_note), "%s%s%s", probe_selection_note(p),
			 x->tl_note[0] && probe_selection_note(p)[0] ? "; " : "", x->tl_note);
		memcpy(x->brackets, splits, sizeof(int) * (size_t)n_splits);
		memcpy(x->bracket_hooks, split_hooks, sizeof(unsigned int) * (size_t)n_splits);
		x->n_brackets = n_splits;
	}
	tablelat_close(x->tl);
	x->tl = NULL;
	probe_close(p);
	return stop_requested ? nf_fail(err, EXIT_RUNTIME, "interrupted by a signal") : 0;
}

static void compare_verdicts(struct profile_ctx *x, char (*orig)[64], char (*fixed)[64],
			     struct profile_variant *v)
{
	const struct profile_plan *plan = x->plan;

	v->samples = x->n_verdicts;
	v->verdicts_equal = true;
	v->diffs = calloc((size_t)x->n_verdicts, sizeof(*v->diffs));
	for (int i = 0; i < x->n_verdicts; i++) {
		if (!strcmp(orig[i], fixed[i]))
			continue;
		v->verdicts_equal = false;
		if (!v->diffs)
			continue;
		struct profile_diff *d = &v->diffs[v->n_diffs++];
		if (i < plan->n_flows) {
			snprintf(d->packet, sizeof(d->packet), "%s", plan->flows[i].text);
			snprintf(d->origin, sizeof(d->origin), "--flow");
		} else {
			const struct ruleset_sample *sm = &x->samples[i - plan->n_flows];
			snprintf(d->packet, sizeof(d->packet), "%s %s%s%s:%u", proto_name(sm->proto),
				 sm->src, sm->src[0] ? ">" : "", sm->dst, sm->dport);
			snprintf(d->origin, sizeof(d->origin), "%s", sm->origin);
		}
		snprintf(d->original, sizeof(d->original), "%s", orig[i]);
		snprintf(d->fixed, sizeof(d->fixed), "%s", fixed[i]);
	}
}

/* --- the testbed --- */

static bool address_usable(const char *a, bool as_src)
{
	char spec[96], why[160];
	struct flow_spec f;

	if (!a[0])
		return true;
	snprintf(spec, sizeof(spec), as_src ? "tcp:%s>240.0.0.1:1" : "tcp:%s:1", a);
	return flow_parse(spec, &f, why, sizeof(why));
}

static int setup(struct profile_ctx *x, struct nf_error *err)
{
	const struct profile_plan *plan = x->plan;
	enum testbed_side scratch_side;
	size_t kept = 0;

	if (experiment_bed_up(&x->bed, "pf", plan->hook, err))
		return nf_error_prefix(err, "profile: ");
	scratch_side = x->bed.rules_side == TESTBED_CLI ? TESTBED_SRV : TESTBED_CLI;
	testbed_netns_path(x->bed.testbed, scratch_side, x->scratch, sizeof(x->scratch));
	if (plan->iface && testbed_rename_iface(x->bed.testbed, x->bed.rules_side,
						x->bed.rules_side != TESTBED_SRV,
						plan->iface, err))
		goto fail;
	if (testbed_route_any(x->bed.testbed, err))
		goto fail;
	for (int i = 0; i < plan->n_flows; i++) {
		const struct flow_spec *f = &plan->flows[i];
		if (testbed_add_flow_addresses(x->bed.testbed, f->src[0] ? f->src : NULL, f->dst,
					       err))
			goto fail;
		if (!f->udp && testbed_server_start_at(x->bed.testbed, f->dst, f->port, err))
			goto fail;
	}
	/* Packets built from the rule set: their sources become the client's,
	 * and for the input hook their destinations the server's. */
	if (ruleset_samples(plan->rs, &x->samples, &x->n_samples, (size_t)plan->max_samples)) {
		nf_fail(err, EXIT_RUNTIME, "cannot build sample packets from the rule set");
		goto fail;
	}
	for (size_t i = 0; i < x->n_samples; i++) {
		struct ruleset_sample *s = &x->samples[i];
		if (!s->dst[0])
			snprintf(s->dst, sizeof(s->dst), "%s", TESTBED_SRV_ADDR);
		if (!address_usable(s->src, true) || !address_usable(s->dst, false) ||
		    !strcmp(s->src, s->dst))
			continue;
		if ((s->src[0] && strcmp(s->src, TESTBED_CLI_ADDR) &&
		     testbed_add_local_address(x->bed.testbed, TESTBED_CLI, s->src, err)) ||
		    (plan->hook == NFHOOK_LOCAL_IN && strcmp(s->dst, TESTBED_SRV_ADDR) &&
		     testbed_add_local_address(x->bed.testbed, TESTBED_SRV, s->dst, err)))
			goto fail;
		x->samples[kept++] = *s;
	}
	x->n_samples = kept;
	x->n_verdicts = plan->n_flows + (int)x->n_samples;
	return 0;
fail:
	return nf_error_prefix(err, "profile: ");
}

static int teardown(struct profile_ctx *x, struct nf_error *err)
{
	int rc = experiment_bed_down(&x->bed, err);

	free(x->samples);
	x->samples = NULL;
	return rc;
}

/* --- the run --- */

/* The flows' other load into the outputs; the flows it distorts into the
 * environment's warnings (profile.md, profile.json) and on stderr. */
static void record_load(struct profile_ctx *x, struct profile_result *out)
{
	char warning[sizeof(out->meta.env.warnings)];

	out->meta.load = x->load;
	out->meta.n_load = x->n_load;
	load_warning(x->load, x->n_load, "flows", warning, sizeof(warning));
	if (warning[0]) {
		environment_warn(&out->meta.env, "%s", warning);
		nf_err("warning: %s", warning);
	}
}

static double geometric_speedup(const struct profile_variant *orig, const struct profile_variant *v)
{
	double sum = 0;
	int n = 0;

	for (int i = 0; i < v->n_flows && i < orig->n_flows; i++) {
		double a = orig->flows[i].ns_per_packet, b = v->flows[i].ns_per_packet;
		if (orig->flows[i].measured && v->flows[i].measured && a > 0 && b > 0 &&
		    isfinite(a) && isfinite(b)) {
			sum += log(a / b);
			n++;
		}
	}
	return n ? exp(sum / n) : NAN;
}

static void fill_meta(struct profile_result *out, const struct profile_plan *plan,
		      const char *tracer_note, enum probe_tracer tracer)
{
	struct run_meta *m = &out->meta;

	m->backend = loader_of(plan->rs, plan->backend);
	m->shape = "profile";
	m->hook = nfhook_option(plan->hook);
	m->tracer = probe_tracer_name(tracer);
	snprintf(m->tracer_note, sizeof(m->tracer_note), "%s", tracer_note);
	m->traffic = (struct run_traffic){ .udp = false, .duration_s = plan->duration_s,
					   .offload = "default", .streams = 1 };
	m->repeat = 1;
	m->interrupted = stop_requested != 0;
}

static const char *fixed_file_name(const struct ruleset *rs, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "fixes/%s.%s", name, rs->format == RULESET_NFT ? "nft" : "rules");
	return buf;
}

/* A fix or a candidate in the original's place: its files, then flush,
 * load, measure, and the verdict check. A rule set that does not load is
 * reported in the variant, not as the run's failure. */
static int measure_replacement(struct profile_ctx *x, const struct profile_plan *plan,
			       const struct ruleset *rs, struct profile_variant *v,
			       const struct profile_variant *orig, char (*orig_verdicts)[64],
			       char (*verdicts)[64], struct nf_error *err)
{
	enum rules_backend b = rs->format == RULESET_NFT ? BACKEND_NFT : plan->backend;
	struct nf_error verr = { 0 };

	fixed_file_name(rs, v->name, v->file, sizeof(v->file));
	if (rs->ipset_text)
		snprintf(v->ipset_file, sizeof(v->ipset_file), "fixes/%s.ipset", v->name);
	if (write_text(plan, v->file, rs->text, err) ||
	    (rs->ipset_text && write_text(plan, v->ipset_file, rs->ipset_text, err)))
		return -1;
	if (isatty(2))
		fprintf(stderr, "nfcost: profile: measuring %s (%d rules, %d sets)\n", v->name,
			rs->n_rules, rs->n_sets);
	if (ruleset_flush(x->bed.rules_netns, err))
		return nf_error_prefix(err, "profile: ");
	int rc = run_variant(x, rs, b, v, verdicts, &verr);
	if (stop_requested) { /* half measured: not a result */
		v->applied = false;
		snprintf(v->note, sizeof(v->note), "interrupted before it was measured");
		return nf_fail(err, EXIT_RUNTIME, "profile interrupted by a signal");
	}
	if (rc && verr.status == EXIT_USAGE) { /* it does not load: the variant's note */
		v->applied = false;
		snprintf(v->note, sizeof(v->note), "%s", verr.msg);
		return ruleset_flush(x->bed.rules_netns, err);
	}
	if (rc) {
		*err = verr;
		return nf_error_prefix(err, "profile: %s: ", v->name);
	}
	compare_verdicts(x, orig_verdicts, verdicts, v);
	v->speedup = geometric_speedup(orig, v);
	return 0;
}

/* What the probe itself, with the original's brackets, adds to every
 * packet: measured in the emptied namespace, where a datagram is cheap
 * enough for the probe's share to stand out (through a 5000-rule chain a
 * 16-byte datagram costs ~30 us and the probe's ~1 us drowns in it). */
static void measure_overhead(struct profile_ctx *x)
{
	struct probe_opts o = { .tracer = x->tracer, .netns_path = x->bed.rules_netns, .hook = NFHOOK_ALL };
	struct nf_error perr = { 0 };
	struct probe *p = NULL;

	if (x->tracer == TRACER_NFHOOK && x->n_brackets) {
		o.split_priorities = x->brackets;
		o.split_hooks = x->bracket_hooks;
		o.n_splits = x->n_brackets;
	}
	/* Not measured is a warning: the profile itself stands without it. */
	if (ruleset_flush(x->bed.rules_netns, &perr) || !(p = probe_open(&o, &perr)) ||
	    overhead_measure(p, x->bed.cli_netns, &x->overhead, &perr))
		nf_err("warning: the probe's own cost was not measured: %s", perr.msg);
	else
		x->have_overhead = true;
	probe_close(p);
}

/* What the outputs say of the rule set and the plan, before anything runs;
 * room for the original and every fix and candidate. */
static void result_init(const struct profile_plan *plan, struct profile_result *out)
{
	int n_variants = 1 + plan->n_candidates;

	memset(out, 0, sizeof(*out));
	results_meta_init(&out->meta);
	environment_collect(&out->meta.env);
	snprintf(out->source, sizeof(out->source), "%s", plan->source);
	out->format = plan->rs->format == RULESET_NFT ? "nft" : "iptables-save";
	snprintf(out->digest, sizeof(out->digest), "%s", plan->rs->digest);
	out->n_rules = plan->rs->n_rules;
	out->n_chains = plan->rs->n_chains;
	out->n_sets = plan->rs->n_sets;
	out->n_tables = plan->rs->n_tables;
	out->hook = nfhook_option(plan->hook);
	if (plan->iface)
		snprintf(out->iface, sizeof(out->iface), "%s", plan->iface);
	for (int f = 0; f < FIX_COUNT; f++)
		n_variants += plan->fixes[f];
	out->variants = calloc((size_t)n_variants, sizeof(*out->variants));
}

/* Each fix, then each candidate, in the original's place (variants[0],
 * measured). 0, or -1 with err. */
static int measure_fixes(struct profile_ctx *x, struct profile_result *out,
			 char (*orig_verdicts)[64], char (*verdicts)[64], struct nf_error *err)
{
	const struct profile_plan *plan = x->plan;
	const struct profile_variant *orig = &out->variants[0];
	char note[512];
	int rc = EXIT_OK;

	/* Each fix in the original's place. */
	for (int f = 0; f < FIX_COUNT && !stop_requested; f++) {
		if (!plan->fixes[f])
			continue;
		struct profile_variant *v = &out->variants[out->n_variants++];
		struct ruleset fixed = { 0 };
		const char *dev[2] = { testbed_ifname(TESTBED_RTR, false),
				       testbed_ifname(TESTBED_RTR, true) };
		if (plan->iface)
			dev[1] = plan->iface;
		snprintf(v->name, sizeof(v->name), "%s", ruleset_fix_name((enum ruleset_fix)f));
		note[0] = '\0';
		struct nf_error ferr = { 0 };
		int fr = ruleset_fix(plan->rs, (enum ruleset_fix)f, x->scratch, dev,
				     plan->hook == NFHOOK_FORWARD ? 2 : 0, &fixed, note, sizeof(note),
				     &ferr);
		if (fr) {
			snprintf(v->note, sizeof(v->note), "%s", fr == 1 ? note : ferr.msg);
			ruleset_free(&fixed);
			continue;
		}
		snprintf(v->note, sizeof(v->note), "%s", note);
		rc = measure_replacement(x, plan, &fixed, v, orig, orig_verdicts, verdicts, err);
		ruleset_free(&fixed);
		if (rc)
			return rc;
	}
	for (int c = 0; c < plan->n_candidates && !stop_requested; c++) {
		struct profile_variant *v = &out->variants[out->n_variants++];
		snprintf(v->name, sizeof(v->name), "%s", plan->candidate_names[c]);
		if ((rc = measure_replacement(x, plan, &plan->candidates[c], v, orig, orig_verdicts,
					      verdicts, err)))
			return rc;
	}
	return EXIT_OK;
}

/* The probe's own cost, measured with the original's brackets, in meta. */
static void fill_overhead(const struct profile_ctx *x, struct run_meta *m)
{
	if (!x->have_overhead)
		return;
	m->overhead_measured = true;
	m->probe_overhead_ns = x->overhead.ns;
	m->overhead_rate_ratio = x->overhead.rate_without > 0
		? x->overhead.rate_with / x->overhead.rate_without : 0;
	m->overhead_largest_rules = 0;
	m->overhead_largest_ns = x->overhead.ns;
	m->overhead_largest_rate_ratio = m->overhead_rate_ratio;
}

/* The original: its file, then loaded and measured in the empty namespace. */
static int measure_original(struct profile_ctx *x, struct profile_result *out,
			    char (*orig_verdicts)[64], struct nf_error *err)
{
	const struct profile_plan *plan = x->plan;
	struct profile_variant *orig = &out->variants[0];

	snprintf(orig->name, sizeof(orig->name), "original");
	fixed_file_name(plan->rs, "original", orig->file, sizeof(orig->file));
	if (write_text(plan, orig->file, plan->rs->text, err))
		return -1;
	out->n_variants = 1;
	if (isatty(2))
		fprintf(stderr, "nfcost: profile: measuring the original (%d rules) in %s\n",
			plan->rs->n_rules, out->netns_side);
	if (run_variant(x, plan->rs, plan->backend, orig, orig_verdicts, err))
		/* A rule set that does not load says so in the loader's words. */
		return err->status == EXIT_USAGE ? -1 : nf_error_prefix(err, "profile: ");
	orig->speedup = 1;
	return 0;
}

/* The outputs of what was measured (the original at least). */
static int write_profile(struct profile_ctx *x, struct profile_result *out, double t0,
			 struct nf_error *err)
{
	const struct profile_plan *plan = x->plan;
	struct nf_error werr = { 0 };

	fill_meta(out, plan, x->tracer_note, x->tracer);
	fill_overhead(x, &out->meta);
	out->meta.wall_s = now_monotonic() - t0;
	record_load(x, out);
	memcpy(out->brackets, x->brackets, sizeof(x->brackets));
	out->n_brackets = x->n_brackets;
	if (results_write_profile(plan->outdir, out, &werr)) {
		if (!err->status)
			*err = werr;
		return -1;
	}
	if (!plan->no_plot && report_plot("profile", plan->outdir, &werr))
		nf_err("warning: %s", werr.msg);
	return 0;
}

int profile_run(const struct profile_plan *plan, struct profile_result *out,
		struct nf_error *err)
{
	struct profile_ctx x = { .plan = plan };
	char (*orig_verdicts)[64] = NULL, (*verdicts)[64] = NULL;
	double t0 = now_monotonic();
	int rc;

	result_init(plan, out);
	if (!out->variants)
		return nf_fail(err, EXIT_RUNTIME, "out of memory for the variants");
	if (outdir_mkdir(plan->outdir, "fixes", err))
		return -1;
	if ((rc = setup(&x, err)))
		goto done;
	snprintf(out->netns_side, sizeof(out->netns_side), "%s",
		 x.bed.rules_side == TESTBED_CLI ? "cli" : x.bed.rules_side == TESTBED_SRV ? "srv" : "rtr");
	environment_finish(&out->meta.env, x.bed.rules_netns);
	orig_verdicts = calloc((size_t)x.n_verdicts + 1, sizeof(*orig_verdicts));
	verdicts = calloc((size_t)x.n_verdicts + 1, sizeof(*verdicts));
	if (!orig_verdicts || !verdicts) {
		rc = nf_fail(err, EXIT_RUNTIME, "out of memory");
		goto done;
	}
	if ((rc = measure_original(&x, out, orig_verdicts, err)) ||
	    (rc = measure_fixes(&x, out, orig_verdicts, verdicts, err)))
		goto done;
	if (!stop_requested && x.have_tracer)
		measure_overhead(&x);
done:
	if (teardown(&x, err))
		rc = -1;
	free(orig_verdicts);
	free(verdicts);
	if (out->n_variants && out->variants[0].applied && write_profile(&x, out, t0, err))
		rc = -1;
	out->meta.load = NULL; /* x's, freed here */
	free(x.load);
	/* The signal is the news: whatever failed after it failed because of it. */
	if (stop_requested)
		rc = nf_fail(err, EXIT_RUNTIME, "profile interrupted: what was measured is in %s",
			     plan->dir);
	return rc ? -1 : 0;
}
