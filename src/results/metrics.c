/* metrics: see metrics.h. Names follow Prometheus's naming guide: the
 * nfcost_ prefix, base units (seconds), _total on counters, _info gauges of
 * 1 for build and tracer facts. */
#include "results/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double metrics_bucket_le_s[METRICS_BUCKETS] = {
	100e-9, 200e-9, 500e-9, 1e-6, 2e-6, 5e-6, 10e-6, 20e-6,
	50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3,
};

static void copy_label(char dst[METRICS_LABEL], const char *src)
{
	snprintf(dst, METRICS_LABEL, "%s", src ? src : "");
}

void metrics_init(struct metrics *m, const char *version, const char *kernel,
		  const char *tracer, const char *netns, unsigned int sample_every)
{
	memset(m, 0, sizeof(*m));
	copy_label(m->version, version);
	copy_label(m->kernel, kernel);
	copy_label(m->tracer, tracer);
	copy_label(m->netns, netns);
	m->sample_every = sample_every ? sample_every : 1;
	m->probe_overhead_s = -1;
}

struct metrics_latency *metrics_latency_series(struct metrics *m, const char *hook,
					       const char *family, const char *klass)
{
	struct metrics_latency *s;

	for (int i = 0; i < m->n_lat; i++) {
		s = &m->lat[i];
		if (!strcmp(s->hook, hook) && !strcmp(s->family, family) &&
		    !strcmp(s->klass, klass))
			return s;
	}
	if (m->n_lat == METRICS_MAX_LATENCY)
		return NULL;
	s = &m->lat[m->n_lat++];
	memset(s, 0, sizeof(*s));
	copy_label(s->hook, hook);
	copy_label(s->family, family);
	copy_label(s->klass, klass);
	return s;
}

struct metrics_hook *metrics_hook_series(struct metrics *m, const char *hook,
					 const char *family)
{
	struct metrics_hook *s;

	for (int i = 0; i < m->n_hooks; i++) {
		s = &m->hooks[i];
		if (!strcmp(s->hook, hook) && !strcmp(s->family, family))
			return s;
	}
	if (m->n_hooks == METRICS_MAX_HOOKS)
		return NULL;
	s = &m->hooks[m->n_hooks++];
	memset(s, 0, sizeof(*s));
	copy_label(s->hook, hook);
	copy_label(s->family, family);
	return s;
}

struct metrics_table *metrics_table_series(struct metrics *m, const char *hook,
					   const char *table)
{
	struct metrics_table *s;

	for (int i = 0; i < m->n_tables; i++) {
		s = &m->tables[i];
		if (!strcmp(s->hook, hook) && !strcmp(s->table, table))
			return s;
	}
	if (m->n_tables == METRICS_MAX_TABLES)
		return NULL;
	s = &m->tables[m->n_tables++];
	memset(s, 0, sizeof(*s));
	copy_label(s->hook, hook);
	copy_label(s->table, table);
	return s;
}

void metrics_latency_add(struct metrics_latency *s, const uint64_t slots[HIST_SLOTS],
			 uint64_t count, uint64_t sum_ns)
{
	for (unsigned int i = 0; i < HIST_SLOTS; i++)
		s->slots[i] += slots[i];
	s->count += count;
	s->sum_ns += sum_ns;
}

int metrics_add_window(struct metrics *m, const struct probe_window *w, unsigned int mask,
		       const char *family)
{
	uint64_t scale = w->sample_every ? w->sample_every : 1;

	for (int h = 0; h < NFHOOK_COUNT; h++) {
		const char *hook = nfhook_option((enum nfhook)h);
		struct metrics_hook *k;

		if (!(mask & (1u << h)))
			continue;
		if (!(k = metrics_hook_series(m, hook, family)))
			return -1;
		k->packets += w->packets_hook[h];
		k->drops += w->lost_hook[h] * scale;
		for (int c = 0; c < PROBE_CLASSES; c++) {
			const struct probe_class_stats *cs = &w->cls[c][h];
			struct metrics_latency *l = metrics_latency_series(
				m, hook, family, probe_class_name((enum probe_class)c));
			if (!l)
				return -1;
			/* The histogram's total, not cs->count: a histogram
			 * whose _count differs from its +Inf bucket is
			 * malformed. */
			metrics_latency_add(l, cs->hist, hist_total(cs->hist), cs->sum_ns);
		}
	}
	m->lost_total += w->unmatched;
	return 0;
}

int metrics_add_parts(struct metrics *m, const struct probe_window *w, unsigned int mask,
		      const char *const names[], int n_parts)
{
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		if (!(mask & (1u << h)))
			continue;
		for (int k = 0; k < n_parts && k <= PROBE_MAX_SPLITS; k++) {
			struct metrics_table *t = metrics_table_series(
				m, nfhook_option((enum nfhook)h), names[k]);
			if (!t)
				return -1;
			t->count += w->hook_count[h];
			t->sum_ns += w->part_sum_ns[h][k];
		}
	}
	return 0;
}

void metrics_set_rules(struct metrics *m, const struct metrics_rules *r, size_t n)
{
	struct metrics_rules *copy = n ? malloc(n * sizeof(*copy)) : NULL;

	if (n && !copy) {
		m->rules_known = false;
		return;
	}
	if (n)
		memcpy(copy, r, n * sizeof(*copy));
	free(m->rules);
	m->rules = copy;
	m->n_rules = n;
	m->rules_known = true;
}

void metrics_free(struct metrics *m)
{
	free(m->rules);
	m->rules = NULL;
	m->n_rules = 0;
}

void metrics_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	for (; *in && o + 1 < len; in++) {
		const char *rep = *in == '\\' ? "\\\\" : *in == '"' ? "\\\"" : *in == '\n' ? "\\n" : NULL;
		if (rep) {
			if (o + 2 >= len)
				break;
			out[o++] = rep[0];
			out[o++] = rep[1];
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

void metrics_buckets(const struct metrics_latency *s, uint64_t b[METRICS_BUCKETS])
{
	memset(b, 0, METRICS_BUCKETS * sizeof(b[0]));
	for (unsigned int i = 0; i < HIST_SLOTS; i++) {
		if (!s->slots[i])
			continue;
		/* The slot's largest value, in seconds: the slot counts under
		 * every bound that its whole range fits under. */
		double hi_s = (double)(hist_slot_high(i) - 1) * 1e-9;
		for (int k = 0; k < METRICS_BUCKETS; k++)
			if (hi_s <= metrics_bucket_le_s[k] * (1 + 1e-12))
				b[k] += s->slots[i];
	}
}

/* Text for a help and a type line. */
static void header(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped, as L("...") in the lines below. */
struct esc {
	char v[4][2 * METRICS_LABEL];
};
static const char *esc(struct esc *e, int i, const char *s)
{
	metrics_escape(s, e->v[i], sizeof(e->v[i]));
	return e->v[i];
}

static void render_info(const struct metrics *m, struct buf *out)
{
	struct esc e;

	header(out, "nfcost_build_info", "gauge",
	       "nfcost's version and the kernel it runs on; always 1.");
	buf_printf(out, "nfcost_build_info{version=\"%s\",kernel=\"%s\"} 1\n",
		   esc(&e, 0, m->version), esc(&e, 1, m->kernel));
	header(out, "nfcost_tracer_info", "gauge",
	       "The tracer that times the packets, the namespace watched and the sampling "
	       "(one packet in sample_every timed); always 1.");
	buf_printf(out, "nfcost_tracer_info{tracer=\"%s\",netns=\"%s\",sample_every=\"%u\"} 1\n",
		   esc(&e, 0, m->tracer), esc(&e, 1, m->netns), m->sample_every);
}

static void render_latency(const struct metrics *m, struct buf *out)
{
	uint64_t b[METRICS_BUCKETS];
	struct esc e;

	if (!m->n_lat)
		return;
	header(out, "nfcost_hook_latency_seconds", "histogram",
	       "Time a sampled packet spent in the netfilter hook (every hook function "
	       "registered there: the rules of every table), by traffic class.");
	for (int i = 0; i < m->n_lat; i++) {
		const struct metrics_latency *s = &m->lat[i];
		char labels[512];

		snprintf(labels, sizeof(labels), "hook=\"%s\",family=\"%s\",class=\"%s\"",
			 esc(&e, 0, s->hook), esc(&e, 1, s->family), esc(&e, 2, s->klass));
		metrics_buckets(s, b);
		for (int k = 0; k < METRICS_BUCKETS; k++)
			buf_printf(out, "nfcost_hook_latency_seconds_bucket{%s,le=\"%g\"} %llu\n",
				   labels, metrics_bucket_le_s[k], (unsigned long long)b[k]);
		buf_printf(out, "nfcost_hook_latency_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
			   labels, (unsigned long long)s->count);
		buf_printf(out, "nfcost_hook_latency_seconds_sum{%s} %.9f\n", labels,
			   (double)s->sum_ns * 1e-9);
		buf_printf(out, "nfcost_hook_latency_seconds_count{%s} %llu\n", labels,
			   (unsigned long long)s->count);
	}
}

/* One counter per hook series: field is packets or drops. */
static void render_hook_counter(const struct metrics *m, struct buf *out, const char *name,
				const char *help, size_t field)
{
	struct esc e;

	if (!m->n_hooks)
		return;
	header(out, name, "counter", help);
	for (int i = 0; i < m->n_hooks; i++) {
		const struct metrics_hook *s = &m->hooks[i];
		uint64_t v = *(const uint64_t *)((const char *)s + field);

		buf_printf(out, "%s{hook=\"%s\",family=\"%s\"} %llu\n", name,
			   esc(&e, 0, s->hook), esc(&e, 1, s->family), (unsigned long long)v);
	}
}

static void render_tables(const struct metrics *m, struct buf *out)
{
	struct esc e;

	if (!m->n_tables)
		return;
	header(out, "nfcost_table_latency_seconds", "summary",
	       "Time a sampled packet spent between the probe's brackets around one "
	       "table's priority in a hook.");
	for (int i = 0; i < m->n_tables; i++) {
		const struct metrics_table *s = &m->tables[i];
		const char *h = esc(&e, 0, s->hook), *t = esc(&e, 1, s->table);

		buf_printf(out, "nfcost_table_latency_seconds_sum{hook=\"%s\",table=\"%s\"} %.9f\n",
			   h, t, (double)s->sum_ns * 1e-9);
		buf_printf(out, "nfcost_table_latency_seconds_count{hook=\"%s\",table=\"%s\"} %llu\n",
			   h, t, (unsigned long long)s->count);
	}
}

static void render_rules(const struct metrics *m, struct buf *out)
{
	struct esc e;

	if (!m->rules_known)
		return;
	header(out, "nfcost_rules", "gauge",
	       "Rules in a chain of the watched namespace, counted every interval.");
	for (size_t i = 0; i < m->n_rules; i++) {
		const struct metrics_rules *r = &m->rules[i];

		buf_printf(out, "nfcost_rules{table=\"%s\",chain=\"%s\",family=\"%s\","
			   "backend=\"%s\"} %ld\n", esc(&e, 0, r->table), esc(&e, 1, r->chain),
			   esc(&e, 2, r->family), esc(&e, 3, r->backend), r->rules);
	}
}

void metrics_render(const struct metrics *m, struct buf *out)
{
	render_info(m, out);
	render_latency(m, out);
	render_hook_counter(m, out, "nfcost_hook_packets_total",
			    "Packets that entered the hook, every one (timed or not).",
			    offsetof(struct metrics_hook, packets));
	render_hook_counter(m, out, "nfcost_hook_drops_total",
			    "Packets that entered the hook and never left it: dropped, stolen "
			    "or queued (counted on the timed packets, times sample_every).",
			    offsetof(struct metrics_hook, drops));
	render_tables(m, out);
	render_rules(m, out);
	if (m->probe_overhead_s >= 0) {
		header(out, "nfcost_probe_overhead_seconds", "gauge",
		       "CPU time the probe's own programs add to a packet, on average.");
		buf_printf(out, "nfcost_probe_overhead_seconds %.9f\n", m->probe_overhead_s);
	}
	header(out, "nfcost_probe_lost_total", "counter",
	       "Starts the probe recorded and never matched with an end (its table "
	       "overflowed, or a packet left by a path it does not see).");
	buf_printf(out, "nfcost_probe_lost_total %llu\n", (unsigned long long)m->lost_total);
}
