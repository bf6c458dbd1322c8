#include "results/report.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

#ifndef NFCOST_DATADIR
#define NFCOST_DATADIR "/usr/local/share/nfcost"
#endif

void report_counts(const struct run_meta *m, char *buf, size_t len)
{
	size_t o = 0;

	if (m->step > 0 || m->n_counts == 0) {
		snprintf(buf, len, "%ld..%ld in steps of %ld", m->start, m->stop, m->step);
		return;
	}
	for (size_t i = 0; i < m->n_counts && o + 24 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%ld", i ? ", " : "", m->counts[i]);
	if (o + 24 >= len)
		snprintf(buf + o, len - o, ", ...");
}

const char *report_growth_verdict(const struct sweep_summary *s)
{
	double growth, base;

	if (!s->fit_ok)
		return "undetermined";
	/* Flat: over the whole range the average grows by less than a tenth of the
	 * empty chain's (at least 1 ns), or the slope's interval reaches zero
	 * while the growth stays below the empty chain's own time. The second
	 * guard matters with few steps: one noisy step widens the interval of a
	 * chain that clearly grows. */
	growth = s->fit.slope * (double)(s->max_rules - s->min_rules);
	base = isfinite(s->baseline_lat_ns) ? fabs(s->baseline_lat_ns) : 0;
	if (growth < fmax(1.0, 0.1 * base) ||
	    (isfinite(s->fit.slope_ci95_lo) && s->fit.slope_ci95_lo <= 0 && growth < base))
		return "flat";
	/* An interrupt landing inside the hooks adds tens of µs to one packet and
	 * can lift a step's average; the median ignores it. A median that stays
	 * within a quarter of the empty chain's is flat whatever the averages say. */
	if (isfinite(s->baseline_p50_ns) && isfinite(s->max_rules_p50_ns) && s->baseline_p50_ns > 0 &&
	    s->max_rules_p50_ns - s->baseline_p50_ns < fmax(1.0, 0.25 * s->baseline_p50_ns))
		return "flat";
	if (s->fit.n < 3) /* any two points lie on a line */
		return "growing";
	if (s->fit.r2 >= 0.9 && !s->fit.quad_significant)
		return "linear";
	if (s->fit.r2 >= 0.9)
		return "mostly linear";
	return "growing, not linear";
}

/* Ends the "mostly linear" paragraph: how the cost per rule differs
 * between the short and the long chain, and the likely reasons. */
static void write_half_slopes(FILE *f, const struct sweep_summary *s)
{
	double lo = s->slope_lower_half, hi = s->slope_upper_half;

	if (!isfinite(lo) || !isfinite(hi) || lo <= 0 || hi <= 0) {
		fprintf(f, ", but the cost per rule is not quite constant.\n\n");
		return;
	}
	fprintf(f, ", but a rule does not cost the same everywhere: %.2f ns per rule up to "
		   "%ld rules, %.2f ns beyond (%+.0f %%). ", lo, s->mid_rules, hi,
		100.0 * (hi / lo - 1));
	if (hi > lo)
		fprintf(f, "Rules cost more in the longer chain: once the rule set outgrows "
			   "the CPU caches, more of the walk waits for memory. Load that grew "
			   "during the run would look the same: --repeat tells the two "
			   "apart.\n\n");
	else
		fprintf(f, "Rules cost less in the longer chain, which the walk itself does "
			   "not explain: look for load or frequency changes early in the run "
			   "(--repeat, longer -d).\n\n");
}

static void fmt_opt(char *buf, size_t len, double v, const char *unit)
{
	if (isfinite(v))
		snprintf(buf, len, "%.1f %s", v, unit);
	else
		snprintf(buf, len, "n/a");
}

/* Drop mode: the path of the test datagrams ends at a hook, not at the server. */
static void write_drops(FILE *f, const struct step_drops *d)
{
	int cut = results_cut_hook(d);

	fprintf(f, "## Where is the path cut?\n\n");
	fprintf(f, "The last rule matches the test traffic with DROP. %ld UDP datagrams were sent; "
		   "sendto() refused %ld with EPERM, the sign of a drop in OUTPUT.\n\n", d->sent,
		d->send_eperm);
	if (cut < 0)
		fprintf(f, "The probe saw no packet stop in a hook.\n\n");
	else
		fprintf(f, "**At %s**: %llu packets entered it and never left (they walked every "
			   "rule and the last one dropped them).\n\n", nfhook_name(cut),
			(unsigned long long)d->lost[cut]);
	fprintf(f, "| hook | entered | never left |\n|---|---:|---:|\n");
	for (int h = 0; h < NFHOOK_COUNT; h++)
		fprintf(f, "| %s | %llu | %llu |\n", nfhook_name(h),
			(unsigned long long)d->entered[h], (unsigned long long)d->lost[h]);
	fprintf(f, "\nPer step: drops.csv.\n\n");
}

/* Total CPU: the hooks' share of a rule's cost, with both intervals, and
 * only what they support: where they overlap the hooks account for all of
 * it within the precision; "the rest is elsewhere" only where the total's
 * interval lies above the hooks'. */
static void write_total_cpu(FILE *f, const struct sweep_summary *s)
{
	const struct linear_fit *c = &s->cpu_fit, *h = &s->fit;

	if (!s->cpu_fit_ok)
		return;
	if (!s->fit_ok || c->slope <= 0) {
		fprintf(f, "**Total CPU.** The whole machine's CPU time per skb did not grow with "
			   "the rules (%.2f ns per rule).\n\n", c->slope);
		return;
	}
	fprintf(f, "**Total CPU.** The whole machine spent %.2f ns more CPU time per skb for "
		   "each rule (95 %% CI %.2f..%.2f), against %.2f ns in the hooks (95 %% CI "
		   "%.2f..%.2f): ", c->slope, c->slope_ci95_lo, c->slope_ci95_hi, h->slope,
		h->slope_ci95_lo, h->slope_ci95_hi);
	if (!isfinite(c->slope_ci95_lo) || !isfinite(h->slope_ci95_lo))
		fprintf(f, "the hooks account for %.0f %% of it, but two steps give no interval "
			   "to judge that share by: measure more steps.\n\n",
			100.0 * h->slope / c->slope);
	else if (c->slope_ci95_lo > h->slope_ci95_hi)
		fprintf(f, "the hooks account for %.0f %% of what a rule costs; the rest, "
			   "%.2f ns, is spent elsewhere in the stack (cache and TLB pressure on the "
			   "rest of the path, the sender's and receiver's own work per packet).\n\n",
			100.0 * h->slope / c->slope, c->slope - h->slope);
	else if (c->slope_ci95_hi < h->slope_ci95_lo)
		fprintf(f, "the hooks account for more than the whole machine spent (%.0f %%), "
			   "beyond both intervals, which no path through the stack explains: the "
			   "two figures disagree (the probe's own cost per rule in the hooks' "
			   "figure, or load that changed between them); repeat the run "
			   "(--repeat, longer -d).\n\n", 100.0 * h->slope / c->slope);
	else
		fprintf(f, "the intervals overlap, so the hooks account for all of it within the "
			   "measurement's precision (their slope is %.0f %% of the total's).\n\n",
			100.0 * h->slope / c->slope);
}

/* Per skb and per wire packet, and the hooks' share of the total CPU cost. */
static void write_per_segment_and_cpu(FILE *f, const struct sweep_summary *s)
{
	if (isfinite(s->segments_per_packet) && s->seg_fit_ok) {
		if (s->segments_per_packet > 1.5)
			fprintf(f, "**Per skb and per wire packet.** The probe times skbs: with "
				   "TSO/GSO one skb carried %.1f wire packets on average here, so per "
				   "wire packet each rule costs %.3f ns. Traffic of small packets (one "
				   "skb per packet, as a router forwards them) pays the per-skb figure, "
				   "%.2f ns per rule, on every packet.\n\n", s->segments_per_packet,
				s->seg_fit.slope, s->fit.slope);
		else
			fprintf(f, "**Per skb and per wire packet.** Every skb was one wire packet "
				   "(%.2f on average), so the figures above are per packet on the wire "
				   "too.\n\n", s->segments_per_packet);
	}
	write_total_cpu(f, s);
}

/* One kind of change (adding or deleting one rule): what its fit says. */
static void write_trend(FILE *f, const char *what, const struct update_trend *t,
			const struct update_summary *s)
{
	char ci[64] = "no interval from two steps";

	if (!t->fit_ok) {
		fprintf(f, "**%s one rule**: no fit (%.2f ms at %ld rules, %.2f ms at %ld).\n\n",
			what, t->ms_min, s->min_rules, t->ms_max, s->max_rules);
		return;
	}
	if (isfinite(t->fit.slope_ci95_lo))
		snprintf(ci, sizeof(ci), "95 %% CI %.2f..%.2f", 1000 * t->fit.slope_ci95_lo,
			 1000 * t->fit.slope_ci95_hi);
	fprintf(f, "**%s one rule %s.** %.2f ms at %ld rules, %.2f ms at %ld (median of each "
		   "step); the fit over all %zu steps %s %.2f ms per 1000 rules (%s)", what,
		t->grows ? "grows with the rule set" : "stays about constant", t->ms_min,
		s->min_rules, t->ms_max, s->max_rules, s->rows, t->grows ? "rises" : "moves",
		1000 * t->fit.slope, ci);
	if (t->grows && isfinite(t->exponent))
		fprintf(f, ", growing as rules^%.2f above the cheapest step's cost", t->exponent);
	fprintf(f, ".\n\n");
}

/* "How does the cost of changing one rule grow?": a verdict for adding and
 * one for deleting, each from a fit over every step, and a table. */
static void write_updates(FILE *f, const struct run_meta *m, const struct report_updates *u)
{
	const struct update_summary *s = &u->sum;
	const char *b = m->backend ? m->backend : "";

	fprintf(f, "## How does the cost of changing one rule grow with the rule set?\n\n");
	if (s->rows < 2 || s->min_rules == s->max_rules) {
		fprintf(f, "Measured at one rule count only: nothing to compare.\n\n");
	} else {
		write_trend(f, "Adding", &s->add, s);
		write_trend(f, "Deleting", &s->del, s);
		if (!s->add.grows && !s->del.grows)
			fprintf(f, "A change touches only itself (O(1)), whatever the rule set "
				   "holds.\n\n");
		else
			fprintf(f, "%s\n\n", !strcmp(b, "iptables-legacy")
				? "iptables-legacy replaces the whole table in every transaction, so "
				  "one change costs in proportion to the table (O(n))."
				: !strcmp(b, "nft") || !strcmp(b, "iptables-nft")
				? "nf_tables rebuilds the array of a chain's rules (its blob) in every "
				  "commit that changes the chain, so a change costs in proportion to "
				  "the chain (O(n)); a set element does not touch the chain."
				: "The transaction's cost grows with what it touches.");
	}
	fprintf(f, "| rules | add one (ms) | delete one (ms) |\n|---:|---:|---:|\n");
	for (size_t i = 0; i < u->n; i++)
		fprintf(f, "| %ld | %.2f | %.2f |\n", u->rows[i].rules, u->rows[i].add_ms,
			u->rows[i].delete_ms);
	fprintf(f, "\nEach figure is the median of %d transactions, each its own (updates.csv).\n\n",
		u->n ? u->rows[0].reps : 0);
}

/* The settings a sweep ran with, as a list. */
static void write_sweep_header(FILE *f, const struct run_meta *m)
{
	char counts[256];

	fprintf(f, "# nfcost sweep: %s, %s rules, %s hook\n\n", m->backend, m->shape, m->hook);
	fprintf(f, "- kernel %s, %d CPUs (%s)\n", m->kernel, m->cpus, m->cpu_model);
	fprintf(f, "- tracer **%s**%s%s\n", m->tracer, m->tracer_note[0] ? ": " : "", m->tracer_note);
	fprintf(f, "- traffic: %s, %d s per step, %d repeat(s)%s\n", m->traffic.udp ? "UDP" : "TCP",
		m->traffic.duration_s, m->repeat, m->traffic.size ? ", sized writes" : "");
	if (m->traffic.size)
		fprintf(f, "- write size %d bytes\n", m->traffic.size);
	if (m->traffic.offload && strchr(m->traffic.offload, ','))
		fprintf(f, "- offloads (TSO, GSO, GRO) on and off, each in a testbed of its own: the "
			   "sections below are for offload **%.*s**; \"Offload on and off\" compares "
			   "the two\n", (int)strcspn(m->traffic.offload, ","), m->traffic.offload);
	else if (m->traffic.offload && strcmp(m->traffic.offload, "default"))
		fprintf(f, "- offloads (TSO, GSO, GRO) %s on the testbed's veths\n",
			m->traffic.offload);
	report_counts(m, counts, sizeof(counts));
	fprintf(f, "- rules %s, %d match callback(s) per rule\n", counts, m->matches_per_rule);
	if (m->calibrated)
		fprintf(f, "- probe cost (empty chain, %s): %.0f ns per packet; it is part of the "
			   "intercept, not of the slope\n", m->tracer, m->calibration_ns);
	if (m->sample_every > 1)
		fprintf(f, "- sampling: the probe timed one packet in %u (--sample %u); latencies "
			   "come from the timed packets (sweep.csv `packets`, with the 95 %% CI of "
			   "their mean in `lat_ci95_ns`), packet rates and CPU per packet from every "
			   "packet (`packets_seen`)\n", m->sample_every, m->sample_every);
	if (m->overhead_measured)
		fprintf(f, "- probe overhead (probe_overhead_ns, measured with and without the probe, "
			   "16-byte UDP): %.0f ns of CPU per packet at the empty chain (datagrams/s "
			   "with/without %.3f), %.0f ns at %ld rules (%.3f)\n", m->probe_overhead_ns,
			m->overhead_rate_ratio, m->overhead_largest_ns, m->overhead_largest_rules,
			m->overhead_largest_rate_ratio);
	if (m->env.warnings[0])
		fprintf(f, "- **warning**: %s\n", m->env.warnings);
	fprintf(f, "- started %s, took %.0f s%s\n\n", m->started_utc, m->wall_s,
		m->interrupted ? " (interrupted: the rows below are what was measured)" : "");
}

/* The answer to "linear?" in words, by verdict. */
static void write_verdict(FILE *f, const struct sweep_summary *s, const char *verdict)
{
	bool linear = !strcmp(verdict, "linear");

	if (linear || !strcmp(verdict, "mostly linear")) {
		fprintf(f, "**%s.** Every packet walks the chain rule by rule until it "
			   "reaches the policy: the evaluation is sequential, O(n) in the "
			   "number of rules", linear ? "Yes, linearly" : "Mostly linearly");
		if (linear)
			fprintf(f, ", and each rule adds a fixed cost.\n\n");
		else
			write_half_slopes(f, s);
	} else if (!strcmp(verdict, "flat")) {
		fprintf(f, "**No, it stays flat.** The cost does not depend on the number "
			   "of entries: one lookup (a set or hash, O(1)) replaces the walk.\n\n");
	} else if (!strcmp(verdict, "growing")) {
		fprintf(f, "**It grows**, by %.2f ns per rule between the two rule counts "
			   "measured; two steps cannot tell a line from a curve: measure "
			   "more steps.\n\n", s->fit.slope);
	} else {
		fprintf(f, "**It grows with the rule count, but not along one straight "
			   "line.** The slope's interval excludes zero, yet the steps scatter "
			   "around the line (R² = %.2f)%s. Jumps in the per-packet time come "
			   "from something besides the walk itself: other load on the "
			   "machine, or the rule set outgrowing a CPU cache. Repeat the run "
			   "(--repeat, longer -d) to tell the two apart: load moves between "
			   "runs, a cache limit stays at the same rule count.\n\n", s->fit.r2,
			s->fit.quad_significant ? " and a quadratic term fits significantly "
						  "better" : "");
	}
}

/* "Does hook latency grow linearly?" and "What does each rule cost?". */
static void write_latency(FILE *f, const struct run_meta *m, const struct sweep_summary *s,
			  bool drops)
{
	char ci[64] = "none with two steps";

	fprintf(f, "## Does hook latency grow linearly with the rule count?\n\n");
	if (drops && !s->fit_ok) {
		fprintf(f, "No packet left the hooks, so none was timed.\n\n");
		return;
	}
	if (!s->fit_ok) {
		fprintf(f, "Too few steps with packets to fit a line.\n\n");
		return;
	}
	if (isfinite(s->fit.slope_ci95_lo))
		snprintf(ci, sizeof(ci), "%.2f..%.2f ns", s->fit.slope_ci95_lo, s->fit.slope_ci95_hi);
	fprintf(f, "Fit over %zu steps: latency = %.0f ns + %.2f ns × rules "
		   "(95 %% CI of the slope %s), R² = %.3f; a quadratic term is "
		   "%ssignificant (p = %.2g).\n\n", s->rows, s->fit.intercept, s->fit.slope,
		ci, s->fit.r2, s->fit.quad_significant ? "" : "not ", s->fit.quad_p_value);
	write_verdict(f, s, report_growth_verdict(s));
	fprintf(f, "## What does each rule cost?\n\n");
	fprintf(f, "%.2f ns per rule per packet, %.2f ns per match callback "
		   "(%d per %s rule). %ld rules add %.1f µs to every packet.\n\n",
		s->fit.slope, s->ns_per_match, m->matches_per_rule, m->shape, s->max_rules,
		s->fit.slope * (double)s->max_rules / 1000.0);
	write_per_segment_and_cpu(f, s);
	if (!strcmp(m->shape, "lab"))
		fprintf(f, "The lab's rule `-p tcp -d X --dport 443` names the address "
			   "first. iptables tests the protocol and the address in the rule "
			   "header, before any match callback, so a packet to another "
			   "address leaves each rule after that one test, and this shape "
			   "costs about what `addr` costs; nft stops at the failed `ip daddr` "
			   "too. Three checks per rule happen only when the address is tested "
			   "last (`--shape addr-port`): compare the two with one sweep each, "
			   "or `nfcost compare` per shape.\n\n");
}

/* "At what rule count does throughput degrade?" and the cwnd's answer. */
static void write_throughput(FILE *f, const struct run_meta *m, const struct sweep_summary *s)
{
	char a[64], b[64];

	fprintf(f, "## At what rule count does throughput visibly degrade?\n\n");
	fmt_opt(a, sizeof(a), s->baseline_mbps, "Mbit/s");
	fmt_opt(b, sizeof(b), s->max_rules_mbps, "Mbit/s");
	if (s->knee_rules >= 0)
		fprintf(f, "From **%ld rules** on, throughput stays below the baseline by more "
			   "than max(5 %%, 3× the baseline's spread). Baseline (%ld rules) %s, at "
			   "%ld rules %s (%+.0f %%).\n\n", s->knee_rules, s->min_rules, a, s->max_rules,
			b, 100.0 * (s->max_rules_mbps / s->baseline_mbps - 1));
	else
		fprintf(f, "Not within this range: throughput never stayed below the baseline by "
			   "more than max(5 %%, 3× its spread). Baseline (%ld rules) %s, at %ld rules "
			   "%s (%+.0f %%).\n\n", s->min_rules, a, s->max_rules, b,
			100.0 * (s->max_rules_mbps / s->baseline_mbps - 1));
	/* At kube-proxy scale the link can be all but idle: say so, since a
	 * figure of a few Mbit/s is easy to misread as a broken run. */
	if (s->baseline_mbps > 0 && s->max_rules_mbps < 0.02 * s->baseline_mbps)
		fprintf(f, "At %ld rules the link is **nearly idle**: %s, %.2f %% of the empty "
			   "chain's throughput. Every packet spends so long in the hooks that the "
			   "sender rarely gets to send; the figure is measured, not a failed "
			   "run.\n\n", s->max_rules, b, 100.0 * s->max_rules_mbps / s->baseline_mbps);
	fprintf(f, "## Does the congestion window change the same way?\n\n");
	if (m->traffic.udp)
		fprintf(f, "UDP has no congestion window.\n\n");
	else if (!isfinite(s->cwnd_corr))
		fprintf(f, "The congestion window did not vary enough to correlate.\n\n");
	else
		fprintf(f, "cwnd went from %.0f KB to %.0f KB; its correlation with throughput "
			   "across the steps is r = %.2f: %s.\n\n", s->baseline_cwnd_kb,
			s->max_rules_cwnd_kb, s->cwnd_corr,
			s->cwnd_corr > 0.7 ? "it moves with throughput" :
			s->cwnd_corr < -0.7 ? "it moves against throughput" :
			"it does not follow throughput closely");
}

void report_sweep(FILE *f, const struct report_sweep_data *r)
{
	const struct step_row *rows = r->rows;

	write_sweep_header(f, r->meta);
	if (r->drops)
		write_drops(f, r->drops);
	write_latency(f, r->meta, r->sum, r->drops != NULL);
	if (!r->drops)
		write_throughput(f, r->meta, r->sum);
	if (r->updates && r->updates->n)
		write_updates(f, r->meta, r->updates);
	if (r->figure)
		fprintf(f, "## Figure\n\n![latency and throughput against rules](sweep.png)\n\n");
	fprintf(f, "## Steps\n\n| rules | Mbit/s | cwnd KB | retr | packets | avg ns | p50 ns "
		   "| p99 ns | inject ms |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < r->n; i++)
		fprintf(f, "| %ld | %.0f | %.0f | %ld | %llu | %.0f | %.0f | %.0f | %.1f |\n",
			rows[i].rules, rows[i].throughput_mbps, rows[i].cwnd_kb, rows[i].retransmits,
			(unsigned long long)rows[i].packets, rows[i].lat_avg_ns, rows[i].lat_p50_ns,
			rows[i].lat_p99_ns, rows[i].inject_ms);
	fprintf(f, "\nData: sweep.csv, sweep.json, iperf/ (iperf3's JSON of every step). "
		   "Redraw the figure with `/usr/bin/python3 scripts/plot_results.py sweep DIR`.\n");
}

/* compare's table: one line per backend; lo/hi get the backends with the
 * lowest and the highest latency at the largest count. */
static void write_compare_table(FILE *f, const struct run_meta *m,
				const struct report_backend *cb, int nb, int *lo, int *hi)
{
	fprintf(f, "| backend | growth | ns/rule (95 %% CI) | ns/match | R² | latency at %ld "
		   "rules | Mbit/s at %ld |\n|---|---|---:|---:|---:|---:|---:|\n", m->stop, m->stop);
	for (int i = 0; i < nb; i++) {
		const struct sweep_summary *s = &cb[i].sum;
		if (!s->fit_ok) {
			fprintf(f, "| %s | undetermined | | | | | |\n", cb[i].name);
			continue;
		}
		char ci[64] = "n/a: two steps";
		if (isfinite(s->fit.slope_ci95_lo))
			snprintf(ci, sizeof(ci), "%.2f..%.2f", s->fit.slope_ci95_lo, s->fit.slope_ci95_hi);
		fprintf(f, "| %s | %s | %.2f (%s) | %.2f | %.3f | %.0f ns | %.0f |\n",
			cb[i].name, report_growth_verdict(s), s->fit.slope, ci,
			s->ns_per_match, s->fit.r2, s->max_rules_lat_ns, s->max_rules_mbps);
		if (*lo < 0 || s->max_rules_lat_ns < cb[*lo].sum.max_rules_lat_ns)
			*lo = i;
		if (*hi < 0 || s->max_rules_lat_ns > cb[*hi].sum.max_rules_lat_ns)
			*hi = i;
	}
	fprintf(f, "\n");
}

/* One line per backend: what its growth says about its lookup. */
static void write_compare_verdicts(FILE *f, const struct report_backend *cb, int nb)
{
	for (int i = 0; i < nb; i++) {
		const char *v = cb[i].sum.fit_ok ? report_growth_verdict(&cb[i].sum) : "undetermined";
		if (!strcmp(v, "flat"))
			fprintf(f, "- **%s stays flat**: one lookup, whatever the number of entries "
				   "(O(1)).\n", cb[i].name);
		else if (!strcmp(v, "linear") || !strcmp(v, "mostly linear"))
			fprintf(f, "- **%s grows linearly**: every packet walks the chain rule by "
				   "rule (O(n)), %.2f ns per rule.\n", cb[i].name,
				cb[i].sum.fit.slope);
		else if (!strcmp(v, "growing"))
			fprintf(f, "- **%s grows**, %.2f ns per rule between the two rule counts "
				   "(measure more steps to tell a line from a curve).\n",
				cb[i].name, cb[i].sum.fit.slope);
		else if (!strcmp(v, "growing, not linear"))
			fprintf(f, "- **%s grows with the rule count**, about %.2f ns per rule, but "
				   "not along one straight line (R² %.2f).\n",
				cb[i].name, cb[i].sum.fit.slope, cb[i].sum.fit.r2);
	}
}

void report_compare(FILE *f, const struct run_meta *m, const struct report_backend *cb, int nb,
		    bool fig)
{
	char counts[256];
	int lo = -1, hi = -1;

	fprintf(f, "# nfcost compare: %s rules, %s hook\n\n", m->shape, m->hook);
	fprintf(f, "- kernel %s, %d CPUs (%s)\n- tracer **%s**%s%s\n", m->kernel, m->cpus,
		m->cpu_model, m->tracer, m->tracer_note[0] ? ": " : "", m->tracer_note);
	report_counts(m, counts, sizeof(counts));
	fprintf(f, "- %s traffic, %d s per step, %d repeat(s); rules %s; steps of "
		   "the backends interleaved in a random order per rule count\n",
		m->traffic.udp ? "UDP" : "TCP", m->traffic.duration_s, m->repeat, counts);
	fprintf(f, "- took %.0f s%s\n\n", m->wall_s, m->interrupted ? " (interrupted)" : "");
	write_compare_table(f, m, cb, nb, &lo, &hi);
	write_compare_verdicts(f, cb, nb);
	if (lo >= 0 && hi >= 0 && lo != hi && cb[lo].sum.max_rules_lat_ns > 0)
		fprintf(f, "\nAt %ld rules a packet spends %.1f× as long in the hooks with %s as "
			   "with %s (%.0f ns against %.0f ns).\n", cb[hi].sum.max_rules,
			cb[hi].sum.max_rules_lat_ns / cb[lo].sum.max_rules_lat_ns,
			cb[hi].name, cb[lo].name,
			cb[hi].sum.max_rules_lat_ns, cb[lo].sum.max_rules_lat_ns);
	if (fig)
		fprintf(f, "\n![latency and throughput per backend](compare.png)\n");
	fprintf(f, "\nData: compare.csv, compare.json, iperf/. Redraw with "
		   "`/usr/bin/python3 scripts/plot_results.py compare DIR`.\n");
}

/* The plot script: $NFCOST_PLOT, beside the binary's source tree, or installed. */
static bool find_plot_script(char *buf, size_t len)
{
	char exe[PATH_MAX];
	const char *env = getenv("NFCOST_PLOT");
	ssize_t n;

	if (env && access(env, R_OK) == 0) {
		snprintf(buf, len, "%s", env);
		return true;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* build/nfcost or build/x/nfcost in a source tree; PREFIX/bin/nfcost
		 * installed under another PREFIX than it was built for */
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
			snprintf(buf, len, "%s/scripts/plot_results.py", exe);
			if (access(buf, R_OK) == 0)
				return true;
			if (up != 1)
				continue;
			snprintf(buf, len, "%s/share/nfcost/plot_results.py", exe);
			if (access(buf, R_OK) == 0)
				return true;
		}
	}
	snprintf(buf, len, "%s/plot_results.py", NFCOST_DATADIR);
	return access(buf, R_OK) == 0;
}

/* The figure each kind of run draws (the plot script's default names). */
static const char *figure_name(const char *kind)
{
	return !strcmp(kind, "live") ? "results.png" : !strcmp(kind, "compare") ? "compare.png"
	       : !strcmp(kind, "profile") ? "profile.png" : "sweep.png";
}

int report_plot(const char *kind, struct outdir *d, struct nf_error *warning)
{
	char script[PATH_MAX];
	/* Debian's python3 has Debian's matplotlib; a python3 earlier in PATH may not. */
	const char *python = getenv("NFCOST_PYTHON") ? getenv("NFCOST_PYTHON") : "/usr/bin/python3";
	struct buf err = { 0 };
	int rc;

	if (!find_plot_script(script, sizeof(script)))
		return nf_fail(warning, EXIT_RUNTIME, "plot_results.py not found (set "
			       "NFCOST_PLOT): no figure drawn");
	/* The figure is nfcost's file too: the next run into d removes it. */
	if (outdir_claim(d, figure_name(kind), warning))
		return -1;
	char *argv[] = { (char *)python, script, (char *)kind, d->path, NULL };
	rc = run_program(NULL, argv, NULL, 0, NULL, &err);
	if (rc != 0) {
		const char *msg = err.data ? err.data : "", *reason = msg, *p;
		char status[64];
		/* the script's own one-line message is its last line */
		for (p = msg; *p; p++)
			if (*p == '\n' && p[1])
				reason = p + 1;
		if (rc < 0) {
			reason = "python3 not found (apt-get install python3-matplotlib)";
		} else if (!*reason) {
			snprintf(status, sizeof(status), "the plot script exited %d without a message", rc);
			reason = status;
		}
		nf_fail(warning, EXIT_RUNTIME, "no figure drawn: %.*s", (int)strcspn(reason, "\n"),
			reason);
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	return 0;
}

/* --- human-readable probe windows (trace, live's bpf_results.txt) --- */

void report_print_window(FILE *f, const struct probe_window *w, double t_start_s,
			const char *hook, const char *netns, const char *tracer, int by)
{
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
	fprintf(f, "%s t=%.1fs %s %s via %s\n", clock, t_start_s, hook, netns, tracer);
	fprintf(f, "  count %llu avg %.0f ns p50 %.0f ns p90 %.0f ns p99 %.0f ns unmatched %llu\n",
		(unsigned long long)w->count, w->avg_ns, w->p50_ns, w->p90_ns, w->p99_ns,
		(unsigned long long)w->unmatched);
	if (by == PROBE_BY_COMM) {
		for (int i = 0; i < w->n_comms; i++)
			fprintf(f, "  %s %llu\n", w->comms[i].comm,
				(unsigned long long)w->comms[i].count);
		if (w->comm_other)
			fprintf(f, "  (other) %llu\n", (unsigned long long)w->comm_other);
	} else if (by == PROBE_BY_HOOK) {
		for (int h = 0; h < NFHOOK_COUNT; h++) {
			if (!w->hook_count[h] && !w->lost_hook[h])
				continue;
			fprintf(f, "  %s %llu", nfhook_name((enum nfhook)h), (unsigned long long)w->hook_count[h]);
			if (w->lost_hook[h])
				fprintf(f, " lost %llu", (unsigned long long)w->lost_hook[h]);
			fputc('\n', f);
		}
	}
	fputc('\n', f);
}

static void print_stars(FILE *f, uint64_t val, uint64_t max, int width)
{
	int n = max ? (int)((double)val * width / (double)max + 0.5) : 0;

	if (val && n == 0)
		n = 1; /* a non-empty bucket always shows */
	for (int i = 0; i < width; i++)
		fputc(i < n ? '*' : ' ', f);
}

void report_print_hist(FILE *f, const uint64_t hist[HIST_SLOTS])
{
	/* Sub-buckets summed into powers of two, the way bcc prints. */
	uint64_t log2[65] = { 0 }, max = 0;
	int lo = -1, hi = -1;

	for (unsigned int i = 0; i < HIST_SLOTS; i++) {
		uint64_t v = hist_slot_low(i);
		int b = v ? 64 - __builtin_clzll(v) : 0; /* v in [2^(b-1), 2^b) */
		log2[b] += hist[i];
	}
	for (int b = 0; b < 65; b++) {
		if (!log2[b])
			continue;
		if (lo < 0)
			lo = b;
		hi = b;
		if (log2[b] > max)
			max = log2[b];
	}
	if (lo < 0)
		return;
	/* Like bcc: wider numbers get a shorter bar, so lines stay in 80 columns. */
	int wide = hi > 33, width = wide ? 20 : 10, stars = wide ? 20 : 40;
	fprintf(f, "%*s%-*s : count    distribution\n", width, "", width + 4, "nsecs");
	for (int b = lo; b <= hi; b++) {
		unsigned long long low = b ? 1ULL << (b - 1) : 0;
		unsigned long long high = b ? (b == 64 ? UINT64_MAX : (1ULL << b) - 1) : 0;
		fprintf(f, "%*llu -> %-*llu : %-8llu |", width, low, width, high,
			(unsigned long long)log2[b]);
		print_stars(f, log2[b], max, stars);
		fprintf(f, "|\n");
	}
}
