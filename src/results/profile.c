/* profile.json and profile.md of `nfcost profile` (results/profile.h). */
#include "results/profile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static json_object *hook_json(const struct profile_hook *h)
{
	json_object *o = json_object_new_object(), *parts = json_object_new_array();

	json_object_object_add(o, "hook", json_object_new_string(nfhook_option(h->hook)));
	json_object_object_add(o, "reply", json_object_new_boolean(h->reply));
	json_object_object_add(o, "packets", json_object_new_int64((int64_t)h->packets));
	json_object_object_add(o, "segments", json_object_new_int64((int64_t)h->segments));
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)h->dropped));
	json_object_object_add(o, "ns_per_packet", num_or_null(h->ns_per_packet));
	for (int i = 0; i < h->n_parts; i++) {
		const struct profile_part *p = &h->parts[i];
		json_object *po = json_object_new_object();
		json_object_object_add(po, "label", json_object_new_string(p->label));
		json_object_object_add(po, "from", json_object_new_int(p->prio_from));
		json_object_object_add(po, "to", json_object_new_int(p->prio_to));
		json_object_object_add(po, "ns_per_packet", num_or_null(p->ns_per_packet));
		json_object_object_add(po, "share", num_or_null(p->share));
		json_object_array_add(parts, po);
	}
	json_object_object_add(o, "parts", parts);
	return o;
}

static json_object *flow_json(const struct profile_flow *f)
{
	json_object *o = json_object_new_object(), *hooks = json_object_new_array();

	json_object_object_add(o, "flow", json_object_new_string(f->flow));
	json_object_object_add(o, "verdict", json_object_new_string(f->verdict));
	json_object_object_add(o, "measured", json_object_new_boolean(f->measured));
	json_object_object_add(o, "error", str_or_null(f->error));
	json_object_object_add(o, "throughput_mbps", f->measured ? num_or_null(f->throughput_mbps) : NULL);
	json_object_object_add(o, "packets_per_s", f->measured ? num_or_null(f->packets_per_s) : NULL);
	json_object_object_add(o, "ns_per_packet", f->measured ? num_or_null(f->ns_per_packet) : NULL);
	json_object_object_add(o, "ns_per_segment", f->measured ? num_or_null(f->ns_per_segment) : NULL);
	for (int i = 0; i < f->n_hooks; i++)
		json_object_array_add(hooks, hook_json(&f->hooks[i]));
	json_object_object_add(o, "hooks", hooks);
	return o;
}

static json_object *variant_json(const struct profile_variant *v, bool original)
{
	json_object *o = json_object_new_object(), *flows = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "applied", json_object_new_boolean(v->applied));
	json_object_object_add(o, "note", str_or_null(v->note));
	json_object_object_add(o, "file", str_or_null(v->file));
	json_object_object_add(o, "ipset_file", str_or_null(v->ipset_file));
	json_object_object_add(o, "backend", str_or_null(v->backend));
	json_object_object_add(o, "rules", v->applied ? json_object_new_int(v->n_rules) : NULL);
	json_object_object_add(o, "chains", v->applied ? json_object_new_int(v->n_chains) : NULL);
	json_object_object_add(o, "sets", v->applied ? json_object_new_int(v->n_sets) : NULL);
	json_object_object_add(o, "speedup", v->applied ? num_or_null(v->speedup) : NULL);
	if (original || !v->applied) {
		json_object_object_add(o, "verdict_check", NULL);
	} else {
		json_object *vc = json_object_new_object(), *d = json_object_new_array();
		json_object_object_add(vc, "samples", json_object_new_int(v->samples));
		json_object_object_add(vc, "equal", json_object_new_boolean(v->verdicts_equal));
		for (int i = 0; i < v->n_diffs; i++) {
			json_object *e = json_object_new_object();
			json_object_object_add(e, "packet", json_object_new_string(v->diffs[i].packet));
			json_object_object_add(e, "origin", json_object_new_string(v->diffs[i].origin));
			json_object_object_add(e, "original", json_object_new_string(v->diffs[i].original));
			json_object_object_add(e, "fixed", json_object_new_string(v->diffs[i].fixed));
			json_object_array_add(d, e);
		}
		json_object_object_add(vc, "differences", d);
		json_object_object_add(o, "verdict_check", vc);
	}
	for (int i = 0; i < v->n_flows; i++)
		json_object_array_add(flows, flow_json(&v->flows[i]));
	json_object_object_add(o, "flows", flows);
	return o;
}

static json_object *profile_json(const struct profile_result *r)
{
	json_object *o = results_meta_json(&r->meta), *rs = json_object_new_object();
	json_object *br = json_object_new_array(), *vs = json_object_new_array();

	/* A profile has no rule-count plan or shape: those keys of the shared
	 * metadata would only mislead. */
	json_object_object_del(o, "rules");
	json_object_object_del(o, "shape");
	json_object_object_del(o, "matches_per_rule");
	json_object_object_add(rs, "source", json_object_new_string(r->source));
	json_object_object_add(rs, "format", json_object_new_string(r->format));
	json_object_object_add(rs, "sha256", json_object_new_string(r->digest));
	json_object_object_add(rs, "rules", json_object_new_int(r->n_rules));
	json_object_object_add(rs, "chains", json_object_new_int(r->n_chains));
	json_object_object_add(rs, "sets", json_object_new_int(r->n_sets));
	json_object_object_add(rs, "tables", json_object_new_int(r->n_tables));
	json_object_object_add(o, "ruleset", rs);
	json_object_object_add(o, "hook", json_object_new_string(r->hook));
	json_object_object_add(o, "namespace", json_object_new_string(r->netns_side));
	json_object_object_add(o, "iface", str_or_null(r->iface));
	for (int i = 0; i < r->n_brackets; i++)
		json_object_array_add(br, json_object_new_int(r->brackets[i]));
	json_object_object_add(o, "brackets", br);
	for (int i = 0; i < r->n_variants; i++)
		json_object_array_add(vs, variant_json(&r->variants[i], i == 0));
	json_object_object_add(o, "variants", vs);
	return o;
}

void profile_result_free(struct profile_result *r)
{
	for (int i = 0; i < r->n_variants; i++) {
		free(r->variants[i].flows);
		free(r->variants[i].diffs);
	}
	free(r->variants);
	r->variants = NULL;
	r->n_variants = 0;
}

/* --- profile.md --- */

/* "123 µs" / "850 ns": per-packet times span six decades. */
static const char *fmt_ns(double ns, char *buf, size_t len)
{
	if (!isfinite(ns))
		snprintf(buf, len, "n/a");
	else if (ns >= 1e6)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns >= 1e4)
		snprintf(buf, len, "%.1f µs", ns / 1e3);
	else
		snprintf(buf, len, "%.0f ns", ns);
	return buf;
}

static const struct profile_hook *measured_hook(const struct profile_flow *f, const char *hook)
{
	for (int i = 0; i < f->n_hooks; i++)
		if (!f->hooks[i].reply && !strcmp(nfhook_option(f->hooks[i].hook), hook))
			return &f->hooks[i];
	return NULL;
}

static void write_parts(FILE *f, const struct profile_hook *h)
{
	char a[32];

	for (int i = 0; i < h->n_parts; i++) {
		const struct profile_part *p = &h->parts[i];
		fprintf(f, "| %s | %s | %.1f %% |\n", p->label[0] ? p->label : "(probe only)",
			fmt_ns(p->ns_per_packet, a, sizeof(a)), 100 * p->share);
	}
}

/* The settings of the run, as a list. */
static void write_profile_header(FILE *f, const struct profile_result *r)
{
	const struct profile_variant *orig = &r->variants[0];

	fprintf(f, "# nfcost profile: %s\n\n", r->source);
	fprintf(f, "- rule set: %s format, %d rules in %d chains and %d tables, %d sets "
		   "(sha256 %.12s…)\n", r->format, r->n_rules, r->n_chains, r->n_tables, r->n_sets,
		r->digest);
	fprintf(f, "- loaded with %s into the testbed's %s namespace; measured hook **%s**%s%s\n",
		orig->backend ? orig->backend : "?", r->netns_side, r->hook,
		r->iface[0] ? ", interface renamed to " : "", r->iface);
	fprintf(f, "- kernel %s, %d CPUs (%s); tracer %s%s%s\n", r->meta.kernel, r->meta.cpus,
		r->meta.cpu_model, r->meta.tracer, r->meta.tracer_note[0] ? ": " : "",
		r->meta.tracer_note);
	fprintf(f, "- %d s of traffic per flow and rule set; started %s, took %.0f s\n",
		r->meta.traffic.duration_s, r->meta.started_utc, r->meta.wall_s);
	if (r->meta.overhead_measured)
		fprintf(f, "- the probe's own cost, measured with its programs (brackets "
			   "included) detached and attached in the emptied namespace: %.0f ns per packet (16-byte UDP at %.0f %% of its rate without "
			   "the probe); every time below includes it\n", r->meta.probe_overhead_ns,
			100 * r->meta.overhead_rate_ratio);
	if (r->meta.env.warnings[0])
		fprintf(f, "- **warning**: %s\n", r->meta.env.warnings);
}

/* One flow through the original: its time, its hook's parts, other hooks. */
static void write_flow(FILE *f, const struct profile_result *r, const struct profile_flow *fl)
{
	const struct profile_hook *h = measured_hook(fl, r->hook);
	char a[32], b[32];

	fprintf(f, "### %s: %s\n\n", fl->flow, fl->verdict);
	if (!fl->measured) {
		fprintf(f, "Not measured: %s\n\n", fl->error);
		return;
	}
	fprintf(f, "%s per packet in the %s hook (%s per wire packet); %.1f Mbit/s, "
		   "%.0f packets/s.\n\n", fmt_ns(fl->ns_per_packet, a, sizeof(a)), r->hook,
		fmt_ns(fl->ns_per_segment, b, sizeof(b)), fl->throughput_mbps, fl->packets_per_s);
	if (h && h->n_parts) {
		const struct profile_part *top = &h->parts[0];
		for (int k = 1; k < h->n_parts; k++)
			if (h->parts[k].ns_per_packet > top->ns_per_packet)
				top = &h->parts[k];
		fprintf(f, "**%s** takes the time: %.1f %% of the %s hook.\n\n",
			top->label[0] ? top->label : "the probe itself", 100 * top->share, r->hook);
		fprintf(f, "| part of the %s hook | per packet | share |\n|---|---:|---:|\n",
			r->hook);
		write_parts(f, h);
		if (h->n_parts > 1 && !h->parts[0].label[0])
			fprintf(f, "\nEach part includes one probe program's own cost: the first "
				   "row is that cost alone (%s), so a table's own share is its "
				   "time less about that much.\n", fmt_ns(h->parts[0].ns_per_packet, a,
									  sizeof(a)));
		fputc('\n', f);
	}
	for (int k = 0; k < fl->n_hooks; k++)
		if (&fl->hooks[k] != h && fl->hooks[k].packets)
			fprintf(f, "- also %s%s: %s per packet over %llu packets\n",
				nfhook_option(fl->hooks[k].hook),
				fl->hooks[k].reply ? " (return traffic)" : "",
				fmt_ns(fl->hooks[k].ns_per_packet, a, sizeof(a)),
				(unsigned long long)fl->hooks[k].packets);
	fputc('\n', f);
}

/* The fixes' table: one row per measured variant. */
static void write_fix_table(FILE *f, const struct profile_result *r)
{
	const struct profile_variant *orig = &r->variants[0];
	char a[32];

	fprintf(f, "## What each fix saves\n\n| fix | rules | sets |");
	for (int i = 0; i < orig->n_flows; i++)
		fprintf(f, " %s |", orig->flows[i].flow);
	fprintf(f, " speed-up | verdicts |\n|---|---:|---:|");
	for (int i = 0; i < orig->n_flows; i++)
		fprintf(f, "---:|");
	fprintf(f, "---:|---|\n");
	for (int v = 0; v < r->n_variants; v++) {
		const struct profile_variant *x = &r->variants[v];
		if (!x->applied)
			continue;
		fprintf(f, "| %s | %d | %d |", x->name, x->n_rules, x->n_sets);
		for (int i = 0; i < x->n_flows; i++)
			fprintf(f, " %s |", x->flows[i].measured
					   ? fmt_ns(x->flows[i].ns_per_packet, a, sizeof(a)) : "n/a");
		if (v == 0)
			fprintf(f, " 1× | (reference) |\n");
		else
			fprintf(f, " %.1f× | %s |\n", x->speedup,
				x->verdicts_equal ? "same" : "**differ**");
	}
	fputc('\n', f);
}

/* Each fix in words, and the answer: the fastest that keeps every verdict. */
static void write_fixes(FILE *f, const struct profile_result *r)
{
	const struct profile_variant *best = NULL;

	write_fix_table(f, r);
	for (int v = 1; v < r->n_variants; v++) {
		const struct profile_variant *x = &r->variants[v];
		if (!x->applied) {
			fprintf(f, "- **%s** was not measured: %s\n", x->name, x->note);
			continue;
		}
		fprintf(f, "- **%s**: %.1f× faster; %d packets checked, verdicts %s", x->name,
			x->speedup, x->samples, x->verdicts_equal ? "identical" : "DIFFERENT");
		if (x->note[0])
			fprintf(f, ". %s", x->note);
		fprintf(f, ". Rule set: `%s`%s%s%s\n", x->file, x->ipset_file[0] ? " (restore `" : "",
			x->ipset_file, x->ipset_file[0] ? "` first)" : "");
		for (int d = 0; d < x->n_diffs; d++)
			fprintf(f, "  - %s (from `%s`): original %s, fixed %s\n", x->diffs[d].packet,
				x->diffs[d].origin, x->diffs[d].original, x->diffs[d].fixed);
		if (x->verdicts_equal && isfinite(x->speedup) && (!best || x->speedup > best->speedup))
			best = x;
	}
	if (best)
		fprintf(f, "\n**Answer:** %s keeps every verdict and makes the rule set %.1f× "
			   "cheaper per packet; apply `%s`.\n", best->name, best->speedup, best->file);
	else
		fprintf(f, "\n**Answer:** no fix both keeps every verdict and was measured.\n");
}

void report_profile(FILE *f, const struct profile_result *r)
{
	write_profile_header(f, r);
	fprintf(f, "\n## What the rule set costs each flow\n\n");
	for (int i = 0; i < r->variants[0].n_flows; i++)
		write_flow(f, r, &r->variants[0].flows[i]);
	if (r->n_variants > 1)
		write_fixes(f, r);
}

int results_write_profile(struct outdir *d, const struct profile_result *r,
			  struct nf_error *err)
{
	struct outfile o;

	if (results_write_json(d, "profile.json", profile_json(r), err) ||
	    outfile_open(&o, d, "profile.md", err))
		return -1;
	report_profile(o.f, r);
	return outfile_commit(&o, err);
}
