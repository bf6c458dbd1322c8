#include "results/offload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/analysis.h"

/* The slope of the whole machine's CPU time per wire packet against rules,
 * fitted on the rows' own cpu_ns_per_segment (the wire packets per skb of
 * TCP move with the rule count: dividing the per-skb slope by their mean
 * would blur that). NAN without a fit. */
static double cpu_per_segment_slope(const struct offload_arm *a)
{
	double *x = calloc(a->n ? a->n : 1, sizeof(double)), *y = calloc(a->n ? a->n : 1, sizeof(double));
	struct linear_fit fit;
	double slope = NAN;
	size_t m = 0;

	if (x && y) {
		for (size_t i = 0; i < a->n; i++)
			if (a->rows[i].packets && a->rows[i].segments &&
			    isfinite(a->rows[i].cpu_ns_per_segment)) {
				x[m] = (double)a->rows[i].rules;
				y[m++] = a->rows[i].cpu_ns_per_segment;
			}
		if (analysis_linear_fit(x, y, m, &fit) == 0)
			slope = fit.slope;
	}
	free(x);
	free(y);
	return slope;
}

static double ratio(double num, double den)
{
	return isfinite(num) && isfinite(den) && den > 0 ? num / den : NAN;
}

void offload_compare(const struct offload_arm *on, const struct offload_arm *off,
		     struct offload_comparison *c)
{
	const struct sweep_summary *a = on->sum, *b = off->sum;

	c->segs_on = a->segments_per_packet;
	c->segs_off = b->segments_per_packet;
	c->skb_slope_ratio = a->fit_ok && b->fit_ok ? ratio(b->fit.slope, a->fit.slope) : NAN;
	c->seg_slope_ratio = a->seg_fit_ok && b->seg_fit_ok ? ratio(b->seg_fit.slope, a->seg_fit.slope)
							    : NAN;
	c->cpu_seg_on = cpu_per_segment_slope(on);
	c->cpu_seg_off = cpu_per_segment_slope(off);
	c->cpu_seg_ratio = ratio(c->cpu_seg_off, c->cpu_seg_on);
	/* The chain's own share of a packet at the largest count (the slope
	 * times the rules: the probe's and the empty hook's cost are in the
	 * intercept), and how many such walks one CPU does per second. */
	double chain_ns = b->fit_ok && b->max_rules > 0 ? b->fit.slope * (double)b->max_rules : NAN;
	c->chain_us_off = chain_ns > 0 ? chain_ns / 1000 : NAN;
	c->router_pps = chain_ns > 0 ? 1e9 / chain_ns : NAN;
}

/* The arms named "on" and "off", or false when the run has not both. */
static bool find_arms(const struct offload_arm *arms, int n, const struct offload_arm **on,
		      const struct offload_arm **off)
{
	*on = *off = NULL;
	for (int i = 0; i < n; i++) {
		if (!strcmp(arms[i].name, "on"))
			*on = &arms[i];
		else if (!strcmp(arms[i].name, "off"))
			*off = &arms[i];
	}
	return *on && *off;
}

json_object *offload_json(const struct offload_arm *arms, int n)
{
	json_object *o = json_object_new_object(), *order = json_object_new_array();
	const struct offload_arm *on, *off;

	for (int i = 0; i < n; i++) {
		json_object_array_add(order, json_object_new_string(arms[i].name));
		json_object_object_add(o, arms[i].name, results_summary_json(arms[i].sum));
	}
	json_object_object_add(o, "order", order);
	if (find_arms(arms, n, &on, &off)) {
		struct offload_comparison c;
		json_object *j = json_object_new_object();
		offload_compare(on, off, &c);
		json_object_object_add(j, "segments_per_packet_on", num_or_null(c.segs_on));
		json_object_object_add(j, "segments_per_packet_off", num_or_null(c.segs_off));
		json_object_object_add(j, "slope_per_packet_off_over_on", num_or_null(c.skb_slope_ratio));
		json_object_object_add(j, "slope_per_segment_off_over_on", num_or_null(c.seg_slope_ratio));
		json_object_object_add(j, "cpu_slope_ns_per_rule_per_segment_on", num_or_null(c.cpu_seg_on));
		json_object_object_add(j, "cpu_slope_ns_per_rule_per_segment_off", num_or_null(c.cpu_seg_off));
		json_object_object_add(j, "chain_us_per_packet_off", num_or_null(c.chain_us_off));
		json_object_object_add(j, "chain_packets_per_s_off", num_or_null(c.router_pps));
		json_object_object_add(o, "comparison", j);
	}
	return o;
}

/* The mean of a row field over an arm's timed rows at `rules` (NAN: none). */
static double mean_at(const struct offload_arm *a, long rules, double (*get)(const struct step_row *))
{
	double sum = 0;
	size_t k = 0;

	for (size_t i = 0; i < a->n; i++)
		if (a->rows[i].rules == rules && a->rows[i].packets && isfinite(get(&a->rows[i]))) {
			sum += get(&a->rows[i]);
			k++;
		}
	return k ? sum / (double)k : NAN;
}

static double get_lat(const struct step_row *r) { return r->lat_avg_ns; }
static double get_seg(const struct step_row *r) { return r->segments ? r->lat_per_segment_ns : NAN; }
static double get_mbps(const struct step_row *r) { return r->throughput_mbps; }
static double get_segs(const struct step_row *r)
{
	return r->segments ? (double)r->segments / (double)r->packets : NAN;
}

/* "%.Nf" of v, or "n/a". */
static const char *fmt(char *buf, size_t len, double v, int decimals)
{
	if (isfinite(v))
		snprintf(buf, len, "%.*f", decimals, v);
	else
		snprintf(buf, len, "n/a");
	return buf;
}

/* A slope with its 95 % CI when it has one. */
static const char *fmt_slope(char *buf, size_t len, const struct sweep_summary *s)
{
	if (!s->fit_ok)
		snprintf(buf, len, "n/a");
	else if (isfinite(s->fit.slope_ci95_lo))
		snprintf(buf, len, "%.2f (%.2f..%.2f)", s->fit.slope, s->fit.slope_ci95_lo,
			 s->fit.slope_ci95_hi);
	else
		snprintf(buf, len, "%.2f", s->fit.slope);
	return buf;
}

/* The table of both settings, per rule count. */
static void write_steps(FILE *f, const struct offload_arm *on, const struct offload_arm *off)
{
	long prev = -1;
	char b[8][32];

	fprintf(f, "| rules | per skb, on (ns) | per skb, off (ns) | per wire packet, on (ns) "
		   "| per wire packet, off (ns) | wire packets per skb, on | Mbit/s, on "
		   "| Mbit/s, off |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	/* The counts ascending, each once (rows come in the order measured). */
	for (;;) {
		long next = -1;
		for (int k = 0; k < 2; k++) {
			const struct offload_arm *a = k ? off : on;
			for (size_t i = 0; i < a->n; i++)
				if (a->rows[i].rules > prev && (next < 0 || a->rows[i].rules < next))
					next = a->rows[i].rules;
		}
		if (next < 0)
			break;
		fprintf(f, "| %ld | %s | %s | %s | %s | %s | %s | %s |\n", next,
			fmt(b[0], 32, mean_at(on, next, get_lat), 0),
			fmt(b[1], 32, mean_at(off, next, get_lat), 0),
			fmt(b[2], 32, mean_at(on, next, get_seg), 1),
			fmt(b[3], 32, mean_at(off, next, get_seg), 1),
			fmt(b[4], 32, mean_at(on, next, get_segs), 1),
			fmt(b[5], 32, mean_at(on, next, get_mbps), 0),
			fmt(b[6], 32, mean_at(off, next, get_mbps), 0));
		prev = next;
	}
	fprintf(f, "\n");
}

/* The side-by-side table of the two settings. */
static void write_table(FILE *f, const struct sweep_summary *a, const struct sweep_summary *z,
			const struct offload_comparison *cp)
{
	struct offload_comparison c = *cp;
	char b[8][64];

	fprintf(f, "| | offload on | offload off |\n|---|---:|---:|\n");
	fprintf(f, "| wire packets per skb | %s | %s |\n", fmt(b[0], 64, c.segs_on, 1),
		fmt(b[1], 64, c.segs_off, 2));
	fprintf(f, "| per skb: ns per rule (95 %% CI) | %s | %s |\n", fmt_slope(b[2], 64, a),
		fmt_slope(b[3], 64, z));
	fprintf(f, "| per wire packet: ns per rule | %s | %s |\n",
		fmt(b[4], 64, a->seg_fit_ok ? a->seg_fit.slope : NAN, 3),
		fmt(b[5], 64, z->seg_fit_ok ? z->seg_fit.slope : NAN, 3));
	fprintf(f, "| total CPU per skb: ns per rule | %s | %s |\n",
		fmt(b[6], 64, a->cpu_fit_ok ? a->cpu_fit.slope : NAN, 2),
		fmt(b[7], 64, z->cpu_fit_ok ? z->cpu_fit.slope : NAN, 2));
	fprintf(f, "| total CPU per wire packet: ns per rule | %s | %s |\n",
		fmt(b[0], 64, c.cpu_seg_on, 3), fmt(b[1], 64, c.cpu_seg_off, 3));
	fprintf(f, "| throughput at %ld rules (Mbit/s) | %s | %s |\n\n", a->max_rules,
		fmt(b[2], 64, a->max_rules_mbps, 0), fmt(b[3], 64, z->max_rules_mbps, 0));
}

void offload_report(FILE *f, const struct run_meta *m, const struct offload_arm *arms, int n)
{
	const struct offload_arm *on, *off;
	struct offload_comparison c;

	fprintf(f, "\n## Offload on and off\n\n");
	if (!find_arms(arms, n, &on, &off)) {
		fprintf(f, "Only one offload setting was measured: nothing to compare.\n");
		return;
	}
	offload_compare(on, off, &c);
	const struct sweep_summary *a = on->sum, *z = off->sum;
	fprintf(f, "Every rule count was measured with TSO, GSO and GRO on and with them off on "
		   "the testbed's veths, each setting in a testbed of its own, in a random order "
		   "at every rule count (so drift favours neither). The sections above are for "
		   "offload **%s**, the first one named.\n\n", arms[0].name);
	write_table(f, a, z, &c);
	/* Per skb: one walk of the chain per skb, whatever it carries. */
	if (isfinite(c.skb_slope_ratio)) {
		bool same = c.skb_slope_ratio >= 0.5 && c.skb_slope_ratio <= 2;
		fprintf(f, "**Per skb, %s.** The hooks see skbs, and an skb walks the chain once, "
			   "whether it carries one wire packet or a GSO skb's %.0f: %.2f ns per rule "
			   "with offload on, %.2f with it off (off/on %.2f×). ",
			same ? "the chain costs about the same" : "the slopes differ",
			isfinite(c.segs_on) ? c.segs_on : 0, a->fit.slope, z->fit.slope,
			c.skb_slope_ratio);
		if (same)
			fprintf(f, "What differs between the settings is how many wire packets "
				   "share that walk.\n\n");
		else
			fprintf(f, "The walk itself does not explain more than a factor of two: "
				   "look for load during the run (--repeat) or a rule set outgrowing "
				   "a CPU cache at one packet rate and not the other.\n\n");
	}
	/* Per wire packet: the walk is shared by the skb's segments. */
	if (isfinite(c.seg_slope_ratio) && isfinite(c.segs_on) && isfinite(c.segs_off)) {
		fprintf(f, "**Per wire packet, the chain costs %.0f× as much with offload off.** "
			   "With offload on one skb carried %.1f wire packets on average and walked "
			   "the chain once for all of them, so each wire packet paid %.3f ns per "
			   "rule; with offload off every wire packet is an skb of its own (%.2f per "
			   "skb) and pays the whole walk, %.3f ns per rule. The wire packets per skb "
			   "predict a factor of %.0f.", c.seg_slope_ratio, c.segs_on,
			a->seg_fit.slope, c.segs_off, z->seg_fit.slope, c.segs_on / c.segs_off);
		if (isfinite(c.cpu_seg_ratio) && c.cpu_seg_on > 0)
			fprintf(f, " The whole machine's CPU time per wire packet grew by %.3f ns "
				   "per rule with offload on and %.3f ns with it off (%.0f×).",
				c.cpu_seg_on, c.cpu_seg_off, c.cpu_seg_ratio);
		fprintf(f, "\n\n");
	}
	/* The router: every packet a router forwards is an skb of its own. */
	if (isfinite(c.chain_us_off) && isfinite(c.router_pps)) {
		double mpps = c.router_pps / 1e6;
		/* A 64-byte frame takes 84 bytes of the wire (preamble and gap). */
		double gbit = c.router_pps * 84 * 8 / 1e9;
		fprintf(f, "**What it means for a router.** A router forwards packets it did not "
			   "build: a flow of small packets, or packets of many flows, gives GRO "
			   "nothing to merge, and every packet walks the chain on its own: the "
			   "offload-off column is what a router pays. At %ld rules the chain alone "
			   "takes %.2f µs of every packet, so one CPU can walk it for at most "
			   "%.3g million packets per second (%.3g Gbit/s of 64-byte frames), before "
			   "the rest of forwarding. A host sending bulk TCP with offload on pays "
			   "the same walk once per %.0f wire packets. Rules that every packet "
			   "walks in order cost a router in proportion to the packet rate; a set "
			   "(nft-set, ipset) answers in one lookup.\n\n", z->max_rules,
			c.chain_us_off, mpps, gbit, isfinite(c.segs_on) ? c.segs_on : 0);
	}
	write_steps(f, on, off);
	fprintf(f, "Per step: sweep.csv (column `offload`); per setting: sweep.json "
		   "(\"offloads\"). %s traffic, %d s per step.\n",
		m->traffic.udp ? "UDP" : "TCP", m->traffic.duration_s);
}
