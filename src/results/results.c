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

int results_csv_open(struct outfile *o, struct outdir *d, const char *file, bool with_backend,
		     struct nf_error *err)
{
	if (outfile_open(o, d, file, err))
		return -1;
	fprintf(o->f, "%s%s\n", with_backend ? "backend," : "",
		strcmp(file, "updates.csv") ? SWEEP_CSV_HEADER : UPDATES_CSV_HEADER);
	return outfile_flush(o, err);
}

int results_csv_row(struct outfile *o, const char *backend, const struct step_row *r,
		    struct nf_error *err)
{
	FILE *f = o->f;

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
	fprintf(f, ",%llu,%u,", (unsigned long long)r->packets_seen,
		r->sample_every ? r->sample_every : 1);
	if (isfinite(r->lat_ci95_ns))
		fprintf(f, "%.1f", r->lat_ci95_ns);
	fputc('\n', f);
	/* A row in the kernel survives a Ctrl-C or a crash in the next step. */
	return outfile_flush(o, err);
}

int results_updates_row(struct outfile *o, const char *backend, const struct update_row *r,
			struct nf_error *err)
{
	if (backend)
		fprintf(o->f, "%s,", backend);
	fprintf(o->f, "%ld,%.3f,%.3f,%d\n", r->rules, r->add_ms, r->delete_ms, r->reps);
	return outfile_flush(o, err);
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
	if (m->sample_every)
		json_object_object_add(o, "sample_every", json_object_new_int64(m->sample_every));
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

/* One kind of change's trend: "<what>_ms_per_1000_rules" and its CI,
 * "<what>_growth_exponent", "<what>_grows". */
static void trend_json(json_object *o, const char *what, const struct update_trend *t)
{
	char key[64];
	json_object *ci = json_object_new_array();

	snprintf(key, sizeof(key), "%s_ms_per_1000_rules", what);
	json_object_object_add(o, key, t->fit_ok ? num_or_null(t->fit.slope * 1000) : NULL);
	json_object_array_add(ci, t->fit_ok ? num_or_null(t->fit.slope_ci95_lo * 1000) : NULL);
	json_object_array_add(ci, t->fit_ok ? num_or_null(t->fit.slope_ci95_hi * 1000) : NULL);
	snprintf(key, sizeof(key), "%s_ms_per_1000_rules_ci95", what);
	json_object_object_add(o, key, ci);
	snprintf(key, sizeof(key), "%s_growth_exponent", what);
	json_object_object_add(o, key, num_or_null(t->exponent));
	snprintf(key, sizeof(key), "%s_grows", what);
	json_object_object_add(o, key, json_object_new_boolean(t->grows));
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
	trend_json(o, "add", &s->add);
	trend_json(o, "delete", &s->del);
	/* Either grows: a change costs more in a larger rule set. */
	json_object_object_add(o, "grows", json_object_new_boolean(s->add.grows || s->del.grows));
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

int results_write_json(struct outdir *d, const char *name, json_object *obj,
		       struct nf_error *err)
{
	const char *txt = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	struct outfile o;
	int rc = -1;

	if (outfile_open(&o, d, name, err) == 0) {
		fprintf(o.f, "%s\n", txt);
		rc = outfile_commit(&o, err);
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

/* Every traced hook, zeros included ("0 entered" is an answer too); the
 * time of the timed packets per hook, and with --split its parts between
 * the brackets (they add up to the hook's sum). */
static void window_hooks_json(json_object *o, const struct probe_window *w,
			      const struct window_labels *l)
{
	json_object *lost = json_object_new_object(), *entered = json_object_new_object();
	json_object *hsum = json_object_new_object(), *parts = NULL;

	/* filled below; the keys keep trace --json's order */
	json_object_object_add(o, "lost_by_hook", lost);
	json_object_object_add(o, "entered_by_hook", entered);
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
		json_object_object_add(lost, name, json_object_new_int64((int64_t)w->lost_hook[i]));
		json_object_object_add(entered, name,
				       json_object_new_int64((int64_t)w->entered_hook[i]));
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
}

/* Per process or per hook counts, the histogram, the calibration. */
static void window_extras_json(json_object *o, const struct probe_window *w,
			       const struct window_labels *l)
{
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
	json_object_object_add(o, "family", json_object_new_string(l->family));
	window_hooks_json(o, w, l);
	window_extras_json(o, w, l);
	return o;
}

int results_window_csv_open(struct outfile *o, struct outdir *d, const char *file,
			    struct nf_error *err)
{
	if (outfile_open(o, d, file, err))
		return -1;
	fprintf(o->f, "%s\n", WINDOW_CSV_HEADER);
	return outfile_flush(o, err);
}

int results_window_csv_row(struct outfile *o, double t_start_s, double t_end_s, const char *hook,
			   const struct probe_window *w, struct nf_error *err)
{
	FILE *f = o->f;

	fprintf(f, "%.3f,%.3f,%s,%llu,", t_start_s, t_end_s, hook, (unsigned long long)w->count);
	/* No packet, no latency: empty cells, not zeros. */
	if (w->count)
		fprintf(f, "%.1f,%.1f,%.1f,", w->avg_ns, w->p50_ns, w->p99_ns);
	else
		fputs(",,,", f);
	fprintf(f, "%llu\n", (unsigned long long)w->unmatched);
	return outfile_flush(o, err);
}
