/* metrics: what `nfcost watch` exposes, as plain data, and its Prometheus
 * text exposition (format 0.0.4). It owns the metric names, labels, help
 * lines, units (seconds) and the histogram's buckets; the data in it are
 * cumulative since the watch began (counters never go down: windows are
 * added, never replaced). Pure: no kernel, no socket, no file; the watch
 * loop (experiments/watch.c) fills it, and serves or writes the text. */
#ifndef NFCOST_METRICS_H
#define NFCOST_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/hist.h"
#include "probe/window.h"
#include "util/util.h"

/* The histogram's upper bounds: 1-2-5 steps from 100 ns to 10 ms (and
 * +Inf). The probe's histogram slots are finer (12.5 %); a slot counts in
 * the first bucket its whole range fits under. */
#define METRICS_BUCKETS 16
extern const double metrics_bucket_le_s[METRICS_BUCKETS];

#define METRICS_LABEL 64

/* One series of nfcost_hook_latency_seconds: the packets timed (sampled)
 * in one hook of one family, of one traffic class. */
struct metrics_latency {
	char hook[METRICS_LABEL], family[METRICS_LABEL], klass[METRICS_LABEL];
	uint64_t slots[HIST_SLOTS]; /* the probe's slots, added up */
	uint64_t count, sum_ns;
};

/* Per hook and family: every packet (not only the sampled ones), and the
 * packets a hook dropped, stole or queued (seen on the samples, times
 * sample_every: exact with --sample 1, an estimate otherwise). */
struct metrics_hook {
	char hook[METRICS_LABEL], family[METRICS_LABEL];
	uint64_t packets, drops;
};

/* nfcost_table_latency_seconds: time between two per-table brackets. */
struct metrics_table {
	char hook[METRICS_LABEL], table[METRICS_LABEL];
	uint64_t count, sum_ns;
};

/* nfcost_rules: one chain's rule count now (a gauge). */
struct metrics_rules {
	char table[METRICS_LABEL], chain[METRICS_LABEL], family[METRICS_LABEL],
		backend[METRICS_LABEL];
	long rules;
};

#define METRICS_MAX_LATENCY 48
#define METRICS_MAX_HOOKS 16
#define METRICS_MAX_TABLES 64

struct metrics {
	/* nfcost_build_info / nfcost_tracer_info labels */
	char version[METRICS_LABEL], kernel[METRICS_LABEL];
	char tracer[METRICS_LABEL], netns[METRICS_LABEL];
	unsigned int sample_every; /* one packet in N timed */
	struct metrics_latency lat[METRICS_MAX_LATENCY];
	int n_lat;
	struct metrics_hook hooks[METRICS_MAX_HOOKS];
	int n_hooks;
	struct metrics_table tables[METRICS_MAX_TABLES];
	int n_tables;
	struct metrics_rules *rules; /* owned: metrics_set_rules */
	size_t n_rules;
	bool rules_known;            /* false: the last count failed */
	double probe_overhead_s;     /* per packet; < 0: not known */
	uint64_t lost_total;         /* probe starts never matched by an end */
	uint64_t scrapes_total;      /* not exposed by metrics_render: the caller's */
};

/* Zeroes m and sets the labels that never change. */
void metrics_init(struct metrics *m, const char *version, const char *kernel,
		  const char *tracer, const char *netns, unsigned int sample_every);
/* The series for these labels, created (zeroed) on first use; NULL when
 * the table is full. */
struct metrics_latency *metrics_latency_series(struct metrics *m, const char *hook,
					       const char *family, const char *klass);
struct metrics_hook *metrics_hook_series(struct metrics *m, const char *hook,
					 const char *family);
struct metrics_table *metrics_table_series(struct metrics *m, const char *hook,
					   const char *table);
/* Adds one window's histogram, count and sum to a series. */
void metrics_latency_add(struct metrics_latency *s, const uint64_t slots[HIST_SLOTS],
			 uint64_t count, uint64_t sum_ns);
/* Adds what a window says about the hooks in mask (bit 1 << enum nfhook):
 * per hook and class its latency histogram (labels: nfhook_option's hook
 * name, probe_class_name's class), per hook its packets and drops, and the
 * probe's lost starts. -1 when a series table is full. */
int metrics_add_window(struct metrics *m, const struct probe_window *w, unsigned int mask,
		       const char *family);
/* Adds a window's per-table parts (probe_opts split_priorities): part k
 * of hook h as table names[k], counted on the packets timed there. */
int metrics_add_parts(struct metrics *m, const struct probe_window *w, unsigned int mask,
		      const char *const names[], int n_parts);
/* Replaces the rule counts (copied). */
void metrics_set_rules(struct metrics *m, const struct metrics_rules *r, size_t n);
void metrics_free(struct metrics *m);

/* The text exposition of m into out (appended). */
void metrics_render(const struct metrics *m, struct buf *out);
/* The cumulative bucket counts of a series: b[i] packets at or under
 * metrics_bucket_le_s[i]; the +Inf bucket is s->count. */
void metrics_buckets(const struct metrics_latency *s, uint64_t b[METRICS_BUCKETS]);
/* Label value escaping of the text format (\\, \", \n) into out. */
void metrics_escape(const char *in, char *out, size_t len);

#endif
