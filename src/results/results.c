#include "results/results.h"
#include "results/load.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "version.h"

void results_default_dir(const char *kind, char *buf, size_t len)
{
	time_t now = time(NULL);
	char stamp[32];

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	snprintf(buf, len, "results/%s-%s", kind, stamp);
}

void results_meta_init(struct run_meta *m)
{
	struct utsname u;
	char line[512];
	FILE *f;
	time_t now = time(NULL);

	memset(m, 0, sizeof(*m));
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
	snprintf(m->cpu_model, sizeof(m->cpu_model), "unknown");
	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10))
			continue;
		char *v = strchr(line, ':');
		if (v) {
			v += strspn(v + 1, " \t") + 1;
			v[strcspn(v, "\n")] = '\0';
			snprintf(m->cpu_model, sizeof(m->cpu_model), "%s", v);
		}
		break;
	}
	if (f)
		fclose(f);
	m->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	strftime(m->started_utc, sizeof(m->started_utc), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

FILE *results_csv_open(const char *dir, const char *file, bool with_backend)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "we");
	if (!f)
		return NULL;
	fprintf(f, "%s%s\n", with_backend ? "backend," : "",
		strcmp(file, "updates.csv") ? SWEEP_CSV_HEADER : UPDATES_CSV_HEADER);
	fflush(f);
	return f;
}

void results_csv_row(FILE *f, const char *backend, const struct step_row *r)
{
	if (backend)
		fprintf(f, "%s,", backend);
	fprintf(f, "%ld,%d,%.3f,%.1f,%ld,%llu,%.1f,%.1f,%.1f,%.2f,%llu,", r->rules, r->repeat,
		r->throughput_mbps, r->cwnd_kb, r->retransmits, (unsigned long long)r->packets,
		r->lat_avg_ns, r->lat_p50_ns, r->lat_p99_ns, r->inject_ms,
		(unsigned long long)r->segments);
	/* Figures that were not measured are empty cells, not zeros. */
	const double tail[4] = { r->lat_per_segment_ns, r->cpu_ns_per_packet, r->cpu_ns_per_segment,
				 r->packets_per_s };
	for (int i = 0; i < 4; i++)
		if (isfinite(tail[i]) && (i || r->segments))
			fprintf(f, "%.2f,", tail[i]);
		else
			fputc(',', f);
	fprintf(f, "%s,", r->offload ? r->offload : "default");
	if (isfinite(r->other_cpu_pct))
		fprintf(f, "%.1f", r->other_cpu_pct);
	fputc('\n', f);
	/* A row on disk survives a Ctrl-C or a crash in the next step. */
	fflush(f);
}

void results_updates_row(FILE *f, const char *backend, const struct update_row *r)
{
	if (backend)
		fprintf(f, "%s,", backend);
	fprintf(f, "%ld,%.3f,%.3f,%d\n", r->rules, r->add_ms, r->delete_ms, r->reps);
	fflush(f);
}

void results_summarize_updates(const struct update_row *rows, size_t n, struct update_summary *s)
{
	double *x = calloc(n ? n : 1, sizeof(double)), *y = calloc(n ? n : 1, sizeof(double));
	struct linear_fit pf;

	memset(s, 0, sizeof(*s));
	s->rows = n;
	s->add_exponent = NAN;
	if (!x || !y || n == 0)
		goto out;
	s->min_rules = s->max_rules = rows[0].rules;
	for (size_t i = 0; i < n; i++) {
		x[i] = (double)rows[i].rules;
		y[i] = rows[i].add_ms;
		if (rows[i].rules <= s->min_rules) {
			s->min_rules = rows[i].rules;
			s->add_ms_min = rows[i].add_ms;
			s->delete_ms_min = rows[i].delete_ms;
		}
		if (rows[i].rules >= s->max_rules) {
			s->max_rules = rows[i].rules;
			s->add_ms_max = rows[i].add_ms;
			s->delete_ms_max = rows[i].delete_ms;
		}
	}
	s->fit_ok = analysis_linear_fit(x, y, n, &s->add_fit) == 0;
	s->grows = s->add_ms_max > 2 * s->add_ms_min;
	/* The exponent of the growth above the smallest count's cost. */
	if (s->grows && analysis_power_fit(x, y, n, s->add_ms_min * 0.999, &pf) == 0)
		s->add_exponent = pf.slope;
	else if (!s->grows)
		s->add_exponent = 0;
out:
	free(x);
	free(y);
}

/* Means of a column over the rows with rules == at. A row whose probe saw
 * no packet has no latency: latency columns skip it (the fit does too), so
 * a baseline is never an average that counts those rows as 0 ns. */
static double mean_at(const struct step_row *rows, size_t n, long at, size_t offset)
{
	bool latency = offset == offsetof(struct step_row, lat_avg_ns) ||
		       offset == offsetof(struct step_row, lat_p50_ns) ||
		       offset == offsetof(struct step_row, lat_p99_ns);
	double sum = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (rows[i].rules == at && !(latency && rows[i].packets == 0)) {
			sum += *(const double *)((const char *)&rows[i] + offset);
			k++;
		}
	return k ? sum / (double)k : NAN;
}

/* The slope over the points with x <= mid (upper: x >= mid); NAN when
 * undefined. Packs those points to the front of scratch copies. */
static double half_slope(const double *x, const double *y, size_t n, long mid, bool upper)
{
	double *hx = calloc(n ? n : 1, sizeof(double)), *hy = calloc(n ? n : 1, sizeof(double));
	struct linear_fit fit;
	double slope = NAN;
	size_t k = 0;

	if (hx && hy) {
		for (size_t i = 0; i < n; i++)
			if (upper ? x[i] >= (double)mid : x[i] <= (double)mid) {
				hx[k] = x[i];
				hy[k++] = y[i];
			}
		if (analysis_linear_fit(hx, hy, k, &fit) == 0)
			slope = fit.slope;
	}
	free(hx);
	free(hy);
	return slope;
}

/* The growth exponent (see struct sweep_summary). The baseline is the empty
 * chain's latency when measured, else the line's intercept. A chain the
 * report calls flat has exponent 0: log(noise) has no exponent to fit. */
static void growth_exponent(const struct step_row *rows, size_t n, struct sweep_summary *s)
{
	double base = s->min_rules == 0 && isfinite(s->baseline_lat_ns) ? s->baseline_lat_ns
		      : s->fit_ok ? s->fit.intercept : NAN;
	double *x = calloc(n ? n : 1, sizeof(double)), *y = calloc(n ? n : 1, sizeof(double));
	struct linear_fit pf;
	size_t m = 0;

	if (x && y && isfinite(base) && isfinite(s->max_rules_lat_ns)) {
		double growth = s->max_rules_lat_ns - base;
		double p50_growth = s->max_rules_p50_ns - s->baseline_p50_ns;
		/* Flat by the report's own tests: the average grows less than a
		 * tenth of the empty chain's, or not beyond its slope's interval,
		 * or the median less than a quarter (spikes lift averages). */
		if (growth < fmax(1.0, 0.1 * fabs(base)) ||
		    (s->fit_ok && s->fit.slope_ci95_lo <= 0 && growth < fabs(base)) ||
		    (isfinite(p50_growth) && s->baseline_p50_ns > 0 &&
		     p50_growth < fmax(1.0, 0.25 * s->baseline_p50_ns))) {
			s->growth_exponent = 0;
		} else {
			for (size_t i = 0; i < n; i++)
				if (rows[i].packets > 0) {
					x[m] = (double)rows[i].rules;
					y[m++] = rows[i].lat_avg_ns;
				}
			if (analysis_power_fit(x, y, m, base, &pf) == 0) {
				s->growth_exponent = pf.slope;
				s->growth_exponent_lo = pf.slope_ci95_lo;
				s->growth_exponent_hi = pf.slope_ci95_hi;
			}
		}
	}
	free(x);
	free(y);
}

/* The per-wire-packet and total-CPU fits (see struct sweep_summary). */
static void per_segment_and_cpu(const struct step_row *rows, size_t n, struct sweep_summary *s)
{
	double *x = calloc(n ? n : 1, sizeof(double)), *y = calloc(n ? n : 1, sizeof(double));
	double ratio = 0;
	size_t m = 0, k = 0;

	s->segments_per_packet = NAN;
	if (!x || !y)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (rows[i].packets && rows[i].segments && isfinite(rows[i].lat_per_segment_ns)) {
			x[m] = (double)rows[i].rules;
			y[m++] = rows[i].lat_per_segment_ns;
			ratio += (double)rows[i].segments / (double)rows[i].packets;
		}
	if (m) {
		s->segments_per_packet = ratio / (double)m;
		s->seg_fit_ok = analysis_linear_fit(x, y, m, &s->seg_fit) == 0;
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i].packets && isfinite(rows[i].cpu_ns_per_packet)) {
			x[k] = (double)rows[i].rules;
			y[k++] = rows[i].cpu_ns_per_packet;
		}
	s->cpu_fit_ok = analysis_linear_fit(x, y, k, &s->cpu_fit) == 0;
out:
	free(x);
	free(y);
}

void results_summarize(const struct step_row *rows, size_t n, int matches_per_rule,
		       struct sweep_summary *s)
{
	double *x = calloc(n ? n : 1, sizeof(double)), *lat = calloc(n ? n : 1, sizeof(double));
	double *tput = calloc(n ? n : 1, sizeof(double)), *cwnd = calloc(n ? n : 1, sizeof(double));
	size_t m = 0;

	memset(s, 0, sizeof(*s));
	s->rows = n;
	s->knee_rules = -1;
	s->cwnd_corr = NAN;
	s->slope_lower_half = s->slope_upper_half = NAN;
	s->growth_exponent = s->growth_exponent_lo = s->growth_exponent_hi = NAN;
	if (!x || !lat || !tput || !cwnd || n == 0)
		goto out;
	s->min_rules = s->max_rules = rows[0].rules;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].rules < s->min_rules)
			s->min_rules = rows[i].rules;
		if (rows[i].rules > s->max_rules)
			s->max_rules = rows[i].rules;
		x[i] = (double)rows[i].rules;
		tput[i] = rows[i].throughput_mbps;
		cwnd[i] = rows[i].cwnd_kb;
		/* A step the probe saw no packet in has no latency to fit. */
		if (rows[i].packets > 0) {
			lat[m] = rows[i].lat_avg_ns;
			x[m] = (double)rows[i].rules;
			m++;
		}
	}
	s->fit_ok = analysis_linear_fit(x, lat, m, &s->fit) == 0;
	if (s->fit_ok)
		s->ns_per_match = s->fit.slope / (matches_per_rule > 0 ? matches_per_rule : 1);
	s->mid_rules = (s->min_rules + s->max_rules) / 2;
	s->slope_lower_half = half_slope(x, lat, m, s->mid_rules, false);
	s->slope_upper_half = half_slope(x, lat, m, s->mid_rules, true);
	for (size_t i = 0; i < n; i++)
		x[i] = (double)rows[i].rules;
	s->knee_rules = analysis_throughput_knee(x, tput, n);
	s->cwnd_corr = analysis_correlation(cwnd, tput, n);
	s->baseline_mbps = mean_at(rows, n, s->min_rules, offsetof(struct step_row, throughput_mbps));
	s->max_rules_mbps = mean_at(rows, n, s->max_rules, offsetof(struct step_row, throughput_mbps));
	s->baseline_cwnd_kb = mean_at(rows, n, s->min_rules, offsetof(struct step_row, cwnd_kb));
	s->max_rules_cwnd_kb = mean_at(rows, n, s->max_rules, offsetof(struct step_row, cwnd_kb));
	s->baseline_lat_ns = mean_at(rows, n, s->min_rules, offsetof(struct step_row, lat_avg_ns));
	s->max_rules_lat_ns = mean_at(rows, n, s->max_rules, offsetof(struct step_row, lat_avg_ns));
	s->baseline_p50_ns = mean_at(rows, n, s->min_rules, offsetof(struct step_row, lat_p50_ns));
	s->max_rules_p50_ns = mean_at(rows, n, s->max_rules, offsetof(struct step_row, lat_p50_ns));
	growth_exponent(rows, n, s);
	per_segment_and_cpu(rows, n, s);
out:
	free(x);
	free(lat);
	free(tput);
	free(cwnd);
}

json_object *num_or_null(double v)
{
	return isfinite(v) ? json_object_new_double(v) : NULL;
}

json_object *str_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

static json_object *env_json(const struct run_env *e)
{
	json_object *o = json_object_new_object(), *w = json_object_new_array();
	char buf[sizeof(e->warnings)], *save = NULL;

	json_object_object_add(o, "bpf_jit", e->bpf_jit >= 0 ? json_object_new_int(e->bpf_jit) : NULL);
	json_object_object_add(o, "cpufreq_governor", str_or_null(e->governor));
	json_object_object_add(o, "cpu_mhz", e->cpu_mhz > 0 ? json_object_new_double(e->cpu_mhz) : NULL);
	json_object_object_add(o, "smt", str_or_null(e->smt));
	json_object_object_add(o, "mitigations", str_or_null(e->mitigations));
	json_object_object_add(o, "preemption", str_or_null(e->preempt));
	json_object_object_add(o, "kernel_cmdline", str_or_null(e->cmdline));
	json_object_object_add(o, "iptables_version", str_or_null(e->iptables));
	json_object_object_add(o, "nft_version", str_or_null(e->nft));
	json_object_object_add(o, "ipset_version", str_or_null(e->ipset));
	json_object_object_add(o, "libbpf_version", str_or_null(e->libbpf));
	json_object_object_add(o, "libnftnl_version", str_or_null(e->libnftnl));
	json_object_object_add(o, "other_bpf_netfilter_links",
			       e->nf_links_before >= 0 ? json_object_new_int(e->nf_links_before) : NULL);
	json_object_object_add(o, "packet_sockets_in_netns",
			       e->packet_sockets >= 0 ? json_object_new_int(e->packet_sockets) : NULL);
	json_object_object_add(o, "cpu_busy_pct_before",
			       e->busy_pct >= 0 ? json_object_new_double(e->busy_pct) : NULL);
	json_object_object_add(o, "loadavg_1min",
			       e->loadavg1 >= 0 ? json_object_new_double(e->loadavg1) : NULL);
	snprintf(buf, sizeof(buf), "%s", e->warnings);
	for (char *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save))
		json_object_array_add(w, json_object_new_string(t + strspn(t, " ")));
	json_object_object_add(o, "warnings", w);
	return o;
}

json_object *results_meta_json(const struct run_meta *m)
{
	json_object *o = json_object_new_object(), *t = json_object_new_object();
	json_object *r = json_object_new_object(), *c = json_object_new_object();

	json_object_object_add(o, "nfcost_version", json_object_new_string(NFCOST_VERSION));
	json_object_object_add(o, "kernel", json_object_new_string(m->kernel));
	json_object_object_add(o, "cpu_model", json_object_new_string(m->cpu_model));
	json_object_object_add(o, "cpus", json_object_new_int(m->cpus));
	json_object_object_add(o, "started_utc", json_object_new_string(m->started_utc));
	json_object_object_add(o, "wall_s", json_object_new_double(m->wall_s));
	json_object_object_add(o, "interrupted", json_object_new_boolean(m->interrupted));
	if (m->backend)
		json_object_object_add(o, "backend", json_object_new_string(m->backend));
	json_object_object_add(o, "shape", json_object_new_string(m->shape));
	json_object_object_add(o, "matches_per_rule", json_object_new_int(m->matches_per_rule));
	json_object_object_add(o, "hook", json_object_new_string(m->hook));
	json_object_object_add(o, "tracer", json_object_new_string(m->tracer));
	json_object_object_add(o, "tracer_note", json_object_new_string(m->tracer_note));
	json_object_object_add(t, "protocol", json_object_new_string(m->traffic.udp ? "udp" : "tcp"));
	json_object_object_add(t, "size", json_object_new_int(m->traffic.size));
	json_object_object_add(t, "rate_bps", json_object_new_int64((int64_t)m->traffic.rate_bps));
	json_object_object_add(t, "duration_s", json_object_new_int(m->traffic.duration_s));
	json_object_object_add(t, "streams", json_object_new_int(m->traffic.streams > 1 ? m->traffic.streams : 1));
	json_object_object_add(t, "offload", json_object_new_string(m->traffic.offload ? m->traffic.offload
										      : "default"));
	json_object_object_add(t, "repeat", json_object_new_int(m->repeat));
	json_object_object_add(o, "traffic", t);
	json_object_object_add(r, "start", json_object_new_int64(m->start));
	json_object_object_add(r, "stop", json_object_new_int64(m->stop));
	json_object_object_add(r, "step", m->step > 0 ? json_object_new_int64(m->step) : NULL);
	json_object *counts = json_object_new_array();
	for (size_t i = 0; i < m->n_counts; i++)
		json_object_array_add(counts, json_object_new_int64(m->counts[i]));
	json_object_object_add(r, "counts", counts);
	json_object_object_add(o, "rules", r);
	json_object_object_add(o, "environment", env_json(&m->env));
	if (m->load) /* results/load.h */
		json_object_object_add(o, "other_load", load_json(m->load, m->n_load));
	json_object_object_add(c, "empty_chain_avg_ns",
			       m->calibrated ? json_object_new_double(m->calibration_ns) : NULL);
	json_object_object_add(o, "calibration", c);
	json_object_object_add(o, "probe_overhead_ns", m->overhead_measured
			       ? json_object_new_double(m->probe_overhead_ns) : NULL);
	if (m->overhead_measured) {
		json_object *po = json_object_new_object();
		json_object_object_add(po, "empty_chain_ns", json_object_new_double(m->probe_overhead_ns));
		json_object_object_add(po, "empty_chain_rate_ratio",
				       json_object_new_double(m->overhead_rate_ratio));
		json_object_object_add(po, "largest_step_rules",
				       json_object_new_int64(m->overhead_largest_rules));
		json_object_object_add(po, "largest_step_ns",
				       json_object_new_double(m->overhead_largest_ns));
		json_object_object_add(po, "largest_step_rate_ratio",
				       json_object_new_double(m->overhead_largest_rate_ratio));
		json_object_object_add(o, "probe_overhead", po);
	}
	return o;
}

json_object *results_summary_json(const struct sweep_summary *s)
{
	json_object *a = json_object_new_object(), *ci = json_object_new_array();

	json_object_object_add(a, "rows", json_object_new_int64((int64_t)s->rows));
	json_object_object_add(a, "slope_ns_per_rule", s->fit_ok ? num_or_null(s->fit.slope) : NULL);
	json_object_array_add(ci, s->fit_ok ? num_or_null(s->fit.slope_ci95_lo) : NULL);
	json_object_array_add(ci, s->fit_ok ? num_or_null(s->fit.slope_ci95_hi) : NULL);
	json_object_object_add(a, "slope_ci95", ci);
	json_object_object_add(a, "intercept_ns", s->fit_ok ? num_or_null(s->fit.intercept) : NULL);
	json_object_object_add(a, "r2", s->fit_ok ? num_or_null(s->fit.r2) : NULL);
	json_object_object_add(a, "ns_per_match", s->fit_ok ? num_or_null(s->ns_per_match) : NULL);
	json_object_object_add(a, "quadratic_significant",
			       json_object_new_boolean(s->fit_ok && s->fit.quad_significant));
	json_object_object_add(a, "quadratic_p_value",
			       s->fit_ok ? num_or_null(s->fit.quad_p_value) : NULL);
	json_object_object_add(a, "split_at_rules", json_object_new_int64(s->mid_rules));
	json_object_object_add(a, "slope_lower_half_ns_per_rule", num_or_null(s->slope_lower_half));
	json_object_object_add(a, "slope_upper_half_ns_per_rule", num_or_null(s->slope_upper_half));
	json_object *gci = json_object_new_array();
	json_object_array_add(gci, num_or_null(s->growth_exponent_lo));
	json_object_array_add(gci, num_or_null(s->growth_exponent_hi));
	json_object_object_add(a, "growth_exponent", num_or_null(s->growth_exponent));
	json_object_object_add(a, "segments_per_packet", num_or_null(s->segments_per_packet));
	json_object_object_add(a, "slope_ns_per_rule_per_segment",
			       s->seg_fit_ok ? num_or_null(s->seg_fit.slope) : NULL);
	json_object *cci = json_object_new_array();
	json_object_array_add(cci, s->cpu_fit_ok ? num_or_null(s->cpu_fit.slope_ci95_lo) : NULL);
	json_object_array_add(cci, s->cpu_fit_ok ? num_or_null(s->cpu_fit.slope_ci95_hi) : NULL);
	json_object_object_add(a, "cpu_slope_ns_per_rule",
			       s->cpu_fit_ok ? num_or_null(s->cpu_fit.slope) : NULL);
	json_object_object_add(a, "cpu_slope_ci95", cci);
	/* The share of each rule's total CPU cost that the hooks account for. */
	json_object_object_add(a, "hook_share_of_cpu_slope",
			       s->fit_ok && s->cpu_fit_ok && s->cpu_fit.slope > 0
			       ? num_or_null(s->fit.slope / s->cpu_fit.slope) : NULL);
	json_object_object_add(a, "growth_exponent_ci95", gci);
	json_object_object_add(a, "throughput_knee_rules",
			       s->knee_rules >= 0 ? json_object_new_int64(s->knee_rules) : NULL);
	json_object_object_add(a, "cwnd_throughput_corr", num_or_null(s->cwnd_corr));
	json_object_object_add(a, "baseline_mbps", num_or_null(s->baseline_mbps));
	json_object_object_add(a, "max_rules_mbps", num_or_null(s->max_rules_mbps));
	json_object_object_add(a, "baseline_lat_ns", num_or_null(s->baseline_lat_ns));
	json_object_object_add(a, "max_rules_lat_ns", num_or_null(s->max_rules_lat_ns));
	return a;
}

json_object *results_updates_json(const struct update_row *rows, size_t n,
				  const struct update_summary *s)
{
	json_object *o = json_object_new_object(), *steps = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *u = json_object_new_object();
		json_object_object_add(u, "rules", json_object_new_int64(rows[i].rules));
		json_object_object_add(u, "add_ms", num_or_null(rows[i].add_ms));
		json_object_object_add(u, "delete_ms", num_or_null(rows[i].delete_ms));
		json_object_object_add(u, "reps", json_object_new_int(rows[i].reps));
		json_object_array_add(steps, u);
	}
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "add_ms_per_1000_rules",
			       s->fit_ok ? num_or_null(s->add_fit.slope * 1000) : NULL);
	json_object_object_add(o, "add_growth_exponent", num_or_null(s->add_exponent));
	json_object_object_add(o, "grows", json_object_new_boolean(s->grows));
	return o;
}

int results_cut_hook(const struct step_drops *d)
{
	int cut = -1;

	for (int h = 0; h < NFHOOK_COUNT; h++)
		if (d->lost[h] && (cut < 0 || d->lost[h] > d->lost[cut]))
			cut = h;
	return cut;
}

json_object *results_drops_json(const struct step_drops *d)
{
	json_object *o = json_object_new_object(), *by = json_object_new_object();
	int cut = results_cut_hook(d);

	json_object_object_add(o, "sent", json_object_new_int64(d->sent));
	json_object_object_add(o, "send_eperm", json_object_new_int64(d->send_eperm));
	json_object_object_add(o, "cut_at", cut >= 0 ? json_object_new_string(nfhook_name(cut)) : NULL);
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "entered", json_object_new_int64((int64_t)d->entered[h]));
		json_object_object_add(x, "lost", json_object_new_int64((int64_t)d->lost[h]));
		json_object_object_add(by, nfhook_name(h), x);
	}
	json_object_object_add(o, "by_hook", by);
	return o;
}

int results_write_json(const char *path, json_object *obj)
{
	const char *txt = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	FILE *f = fopen(path, "we");
	int rc = -1;

	if (f) {
		rc = fprintf(f, "%s\n", txt) < 0 ? -1 : 0;
		if (fclose(f))
			rc = -1;
	}
	json_object_put(obj);
	return rc;
}

/* --- probe windows as data (trace --json, live's bpf_windows.csv) --- */

/* A number of ns with one decimal, as printed. */
static json_object *json_ns(double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.1f", v);
	return json_object_new_double_s(v, s);
}

json_object *results_window_json(const struct probe_window *w, double t_start,
				 const struct window_labels *l)
{
	json_object *o = json_object_new_object();
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
	json_object_object_add(o, "type", json_object_new_string("interval"));
	json_object_object_add(o, "time", json_object_new_string(clock));
	json_object_object_add(o, "t_start_s", json_ns(t_start));
	json_object_object_add(o, "seconds", json_ns(w->seconds));
	json_object_object_add(o, "count", json_object_new_int64((int64_t)w->count));
	json_object_object_add(o, "segments", json_object_new_int64((int64_t)w->segments));
	json_object_object_add(o, "avg_ns", json_ns(w->avg_ns));
	json_object_object_add(o, "p50_ns", json_ns(w->p50_ns));
	json_object_object_add(o, "p90_ns", json_ns(w->p90_ns));
	json_object_object_add(o, "p99_ns", json_ns(w->p99_ns));
	json_object_object_add(o, "min_ns", json_object_new_int64((int64_t)w->min_ns));
	json_object_object_add(o, "max_ns", json_object_new_int64((int64_t)w->max_ns));
	json_object_object_add(o, "unmatched", json_object_new_int64((int64_t)w->unmatched));
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)w->dropped));
	json_object_object_add(o, "tracer", json_object_new_string(l->tracer));
	json_object_object_add(o, "tracer_note", json_object_new_string(l->note));
	json_object_object_add(o, "netns", json_object_new_string(l->netns));
	json_object_object_add(o, "hook", json_object_new_string(l->hook));
	json_object_object_add(o, "family",
			       json_object_new_string(l->family));
	/* Every traced hook, zeros included: "0 entered" is an answer too. */
	json_object *lost = json_object_new_object(), *entered = json_object_new_object();
	for (int i = 0; i < NFHOOK_COUNT; i++) {
		if (l->traced != NFHOOK_ALL && l->traced != (enum nfhook)i)
			continue;
		const char *name = nfhook_name((enum nfhook)i);
		json_object_object_add(lost, name, json_object_new_int64((int64_t)w->lost_hook[i]));
		json_object_object_add(entered, name,
				       json_object_new_int64((int64_t)w->entered_hook[i]));
	}
	json_object_object_add(o, "lost_by_hook", lost);
	json_object_object_add(o, "entered_by_hook", entered);
	/* The time of the timed packets per hook, and with --split its parts
	 * between the brackets (they add up to the hook's sum). */
	json_object *hsum = json_object_new_object(), *parts = NULL;
	if (l->n_splits) {
		json_object *sp = json_object_new_array();
		for (int k = 0; k < l->n_splits; k++)
			json_object_array_add(sp, json_object_new_int(l->splits[k]));
		json_object_object_add(o, "splits", sp);
		parts = json_object_new_object();
	}
	for (int i = 0; i < NFHOOK_COUNT; i++) {
		if (l->traced != NFHOOK_ALL && l->traced != (enum nfhook)i)
			continue;
		const char *name = nfhook_name((enum nfhook)i);
		json_object_object_add(hsum, name, json_object_new_uint64(w->hook_sum_ns[i]));
		if (!parts)
			continue;
		json_object *a = json_object_new_array();
		for (int k = 0; k <= l->n_splits && k <= PROBE_MAX_SPLITS; k++)
			json_object_array_add(a, json_object_new_uint64(w->part_sum_ns[i][k]));
		json_object_object_add(parts, name, a);
	}
	json_object_object_add(o, "sum_by_hook_ns", hsum);
	if (parts)
		json_object_object_add(o, "parts_by_hook_ns", parts);
	if (l->by == PROBE_BY_COMM) {
		json_object *c = json_object_new_object();
		for (int i = 0; i < w->n_comms; i++)
			json_object_object_add(c, w->comms[i].comm,
					       json_object_new_int64((int64_t)w->comms[i].count));
		if (w->comm_other)
			json_object_object_add(c, "(other)",
					       json_object_new_int64((int64_t)w->comm_other));
		json_object_object_add(o, "comms", c);
	} else if (l->by == PROBE_BY_HOOK) {
		json_object *h = json_object_new_object();
		for (int i = 0; i < NFHOOK_COUNT; i++)
			if (w->hook_count[i])
				json_object_object_add(h, nfhook_name((enum nfhook)i),
						       json_object_new_int64((int64_t)w->hook_count[i]));
		json_object_object_add(o, "hooks", h);
	}
	if (l->hist) {
		/* [low_ns, high_ns (exclusive), packets] for every non-empty slot */
		json_object *h = json_object_new_array();
		for (unsigned int i = 0; i < HIST_SLOTS; i++) {
			if (!w->hist[i])
				continue;
			json_object *b = json_object_new_array();
			json_object_array_add(b, json_object_new_uint64(hist_slot_low(i)));
			json_object_array_add(b, json_object_new_uint64(hist_slot_high(i)));
			json_object_array_add(b, json_object_new_uint64(w->hist[i]));
			json_object_array_add(h, b);
		}
		json_object_object_add(o, "hist", h);
	}
	if (l->calibrated) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "tracer", json_object_new_string(l->cal_tracer));
		json_object_object_add(c, "empty_chain_avg_ns", json_ns(l->cal_avg_ns));
		json_object_object_add(c, "empty_chain_p50_ns", json_ns(l->cal_p50_ns));
		json_object_object_add(c, "packets", json_object_new_int64((int64_t)l->cal_packets));
		json_object_object_add(c, "probe_overhead_ns", json_ns(l->cal_overhead_ns));
		json_object_object_add(c, "probe_overhead_rate_ratio",
				       json_object_new_double(l->cal_overhead_rate_ratio));
		json_object_object_add(o, "calibration", c);
	}
	return o;
}

FILE *results_window_csv_open(const char *dir, const char *file)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!(f = fopen(path, "we")))
		return NULL;
	fprintf(f, "%s\n", WINDOW_CSV_HEADER);
	fflush(f);
	return f;
}

int results_window_csv_row(FILE *f, double t_start_s, double t_end_s, const char *hook,
			   const struct probe_window *w)
{
	fprintf(f, "%.3f,%.3f,%s,%llu,", t_start_s, t_end_s, hook, (unsigned long long)w->count);
	/* No packet, no latency: empty cells, not zeros. */
	if (w->count)
		fprintf(f, "%.1f,%.1f,%.1f,", w->avg_ns, w->p50_ns, w->p99_ns);
	else
		fputs(",,,", f);
	fprintf(f, "%llu\n", (unsigned long long)w->unmatched);
	return fflush(f) || ferror(f) ? -1 : 0;
}
