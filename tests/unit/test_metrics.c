/* Unit tests of src/results/metrics.c (watch's Prometheus exposition):
 * buckets from the probe's slots, counters that only add up, label
 * escaping, and the text format's rules that promtool also checks (one
 * HELP/TYPE per family, cumulative buckets ending in +Inf = _count).
 * Built against metrics, hist, nfhook and util alone: no kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/metrics.h"

static struct metrics *new_metrics(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	metrics_init(m, "1.2.3", "6.1.0", "nfhook", "host", 64);
	return m;
}

/* A window with n samples of v ns each, of class c, in hook h, sampled one
 * in 64. */
static void fill_window(struct probe_window *w, enum nfhook h, enum probe_class c, uint64_t n,
			uint64_t v)
{
	memset(w, 0, sizeof(*w));
	w->sample_every = 64;
	w->cls[c][h].hist[hist_slot(v)] = n;
	w->cls[c][h].count = n;
	w->cls[c][h].sum_ns = n * v;
	w->packets_hook[h] = n * 64;
	w->lost_hook[h] = 2;
	w->unmatched = 1;
}

/* A window is large (a histogram per class and hook): on the heap. */
static struct probe_window *new_window(void)
{
	struct probe_window *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	return w;
}

static void test_buckets(void **state)
{
	struct metrics *m = new_metrics();
	struct metrics_latency *s = metrics_latency_series(m, "output", "ipv4", "all");
	uint64_t slots[HIST_SLOTS] = { 0 }, b[METRICS_BUCKETS];

	(void)state;
	slots[hist_slot(50)] = 3;      /* under 100 ns */
	slots[hist_slot(150)] = 5;     /* 100..200 ns */
	slots[hist_slot(3000)] = 7;    /* 2..5 us */
	slots[hist_slot(50000000)] = 1; /* 50 ms: only +Inf */
	metrics_latency_add(s, slots, 16, 0);
	assert_string_equal(s->klass, "all");
	metrics_buckets(s, b);
	assert_int_equal(b[0], 3);
	assert_int_equal(b[1], 8);
	assert_int_equal(b[4], 8);
	assert_int_equal(b[5], 15);
	assert_int_equal(b[METRICS_BUCKETS - 1], 15);
	for (int k = 1; k < METRICS_BUCKETS; k++)
		assert_true(b[k] >= b[k - 1]);
	assert_true(metrics_bucket_le_s[0] <= 100e-9);
	assert_true(metrics_bucket_le_s[METRICS_BUCKETS - 1] >= 10e-3);
	metrics_free(m);
	free(m);
}

static void test_counters_accumulate(void **state)
{
	struct metrics *m = new_metrics();
	struct probe_window *w = new_window();
	const unsigned int out = 1u << NFHOOK_LOCAL_OUT, in = 1u << NFHOOK_LOCAL_IN;

	(void)state;
	fill_window(w, NFHOOK_LOCAL_OUT, PROBE_CLASS_ESTABLISHED, 10, 1000);
	assert_int_equal(metrics_add_window(m, w, out, "ipv4"), 0);
	fill_window(w, NFHOOK_LOCAL_OUT, PROBE_CLASS_ESTABLISHED, 4, 2000);
	assert_int_equal(metrics_add_window(m, w, out, "ipv4"), 0);
	fill_window(w, NFHOOK_LOCAL_OUT, PROBE_CLASS_FIRST, 1, 9000);
	assert_int_equal(metrics_add_window(m, w, out, "ipv4"), 0);
	assert_int_equal(m->n_hooks, 1);
	assert_int_equal(m->hooks[0].packets, 15 * 64);
	assert_int_equal(m->hooks[0].drops, 6 * 64); /* samples' drops, scaled */
	assert_int_equal(m->lost_total, 3);
	/* One series per class, whether or not it saw a packet. */
	assert_int_equal(m->n_lat, PROBE_CLASSES);
	struct metrics_latency *est = metrics_latency_series(m, "output", "ipv4", "established");
	struct metrics_latency *first = metrics_latency_series(m, "output", "ipv4", "first");
	struct metrics_latency *reply = metrics_latency_series(m, "output", "ipv4", "reply");
	assert_int_equal(m->n_lat, PROBE_CLASSES);
	assert_int_equal(est->count, 14);
	assert_int_equal(est->sum_ns, 10 * 1000 + 4 * 2000);
	assert_int_equal(first->count, 1);
	assert_int_equal(reply->count, 0);
	/* Hooks outside the mask are left out; another hook is another series. */
	fill_window(w, NFHOOK_LOCAL_IN, PROBE_CLASS_REPLY, 1, 1000);
	metrics_add_window(m, w, out, "ipv4");
	assert_int_equal(m->n_hooks, 1);
	assert_int_equal(reply->count, 0);
	metrics_add_window(m, w, in | out, "ipv4");
	assert_int_equal(m->n_hooks, 2);
	assert_string_equal(m->hooks[1].hook, "input");
	assert_int_equal(metrics_latency_series(m, "input", "ipv4", "reply")->count, 1);
	free(w);
	metrics_free(m);
	free(m);
}

static void test_table_parts(void **state)
{
	static const char *const names[] = { "raw", "filter", "rest" };
	struct metrics *m = new_metrics();
	struct probe_window *w = new_window();

	(void)state;
	w->hook_count[NFHOOK_LOCAL_OUT] = 7;
	w->part_sum_ns[NFHOOK_LOCAL_OUT][0] = 100;
	w->part_sum_ns[NFHOOK_LOCAL_OUT][1] = 5000;
	w->part_sum_ns[NFHOOK_LOCAL_OUT][2] = 40;
	w->hook_count[NFHOOK_LOCAL_IN] = 3; /* not in the mask */
	assert_int_equal(metrics_add_parts(m, w, 1u << NFHOOK_LOCAL_OUT, names, 3), 0);
	assert_int_equal(metrics_add_parts(m, w, 1u << NFHOOK_LOCAL_OUT, names, 3), 0);
	assert_int_equal(m->n_tables, 3);
	assert_string_equal(m->tables[1].hook, "output");
	assert_string_equal(m->tables[1].table, "filter");
	assert_int_equal(m->tables[1].count, 14);
	assert_int_equal(m->tables[1].sum_ns, 10000);
	free(w);
	metrics_free(m);
	free(m);
}

static void test_escape(void **state)
{
	char out[32];

	(void)state;
	metrics_escape("a\"b\\c\nd", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	metrics_escape("abcdef", out, 4);
	assert_string_equal(out, "abc");
	metrics_escape("\"\"\"", out, 4); /* never half an escape */
	assert_string_equal(out, "\\\"");
}

/* Counts lines of text that start with prefix. */
static int lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		n += !strncmp(l, prefix, len);
	return n;
}

static void test_render(void **state)
{
	struct metrics *m = new_metrics();
	struct metrics_rules r[2] = {
		{ "filter", "OUTPUT", "ipv4", "iptables-nft", 3000 },
		{ "t\"x", "c", "inet", "nft", 0 },
	};
	struct probe_window *w = new_window();
	struct buf out = { 0 };

	(void)state;
	fill_window(w, NFHOOK_LOCAL_OUT, PROBE_CLASS_ESTABLISHED, 10, 1500);
	metrics_add_window(m, w, 1u << NFHOOK_LOCAL_OUT, "ipv4");
	free(w);
	metrics_set_rules(m, r, 2);
	metrics_table_series(m, "output", "filter")->count = 5;
	m->probe_overhead_s = 80e-9;
	metrics_render(m, &out);
	assert_non_null(out.data);
	assert_int_equal(lines_starting(out.data, "# TYPE nfcost_hook_latency_seconds histogram"), 1);
	assert_int_equal(lines_starting(out.data, "nfcost_hook_latency_seconds_bucket{"),
			 PROBE_CLASSES * (METRICS_BUCKETS + 1));
	assert_non_null(strstr(out.data, "nfcost_hook_latency_seconds_bucket{hook=\"output\","
				 "family=\"ipv4\",class=\"established\",le=\"+Inf\"} 10\n"));
	assert_non_null(strstr(out.data, "nfcost_hook_latency_seconds_count{hook=\"output\","
				 "family=\"ipv4\",class=\"established\"} 10\n"));
	assert_non_null(strstr(out.data, "nfcost_hook_latency_seconds_sum{hook=\"output\","
				 "family=\"ipv4\",class=\"established\"} 0.000015000\n"));
	assert_non_null(strstr(out.data, "nfcost_hook_latency_seconds_count{hook=\"output\","
				 "family=\"ipv4\",class=\"first\"} 0\n"));
	assert_non_null(strstr(out.data, "nfcost_probe_lost_total 1\n"));
	assert_non_null(strstr(out.data, "le=\"1e-07\"} 0\n"));
	assert_non_null(strstr(out.data, "le=\"2e-06\"} 10\n"));
	assert_non_null(strstr(out.data, "nfcost_hook_packets_total{hook=\"output\",family=\"ipv4\"} 640\n"));
	assert_non_null(strstr(out.data, "nfcost_rules{table=\"filter\",chain=\"OUTPUT\","
				 "family=\"ipv4\",backend=\"iptables-nft\"} 3000\n"));
	assert_non_null(strstr(out.data, "table=\"t\\\"x\""));
	assert_non_null(strstr(out.data, "nfcost_probe_overhead_seconds 0.000000080\n"));
	assert_non_null(strstr(out.data, "nfcost_build_info{version=\"1.2.3\",kernel=\"6.1.0\"} 1\n"));
	assert_non_null(strstr(out.data, "sample_every=\"64\""));
	assert_int_equal(lines_starting(out.data, "# TYPE "), lines_starting(out.data, "# HELP "));
	assert_int_equal(out.data[out.len - 1], '\n');
	buf_free(&out);
	metrics_free(m);
	free(m);
}

static void test_unknown_left_out(void **state)
{
	struct metrics *m = new_metrics();
	struct buf out = { 0 };

	(void)state;
	metrics_render(m, &out);
	/* Nothing measured yet: no empty families, no overhead, no rules. */
	assert_null(strstr(out.data, "nfcost_hook_latency_seconds"));
	assert_null(strstr(out.data, "nfcost_probe_overhead_seconds"));
	assert_null(strstr(out.data, "nfcost_rules"));
	assert_null(strstr(out.data, "nfcost_hook_packets_total"));
	assert_non_null(strstr(out.data, "nfcost_tracer_info{"));
	buf_free(&out);
	metrics_free(m);
	free(m);
}

static void test_series_table_full(void **state)
{
	struct metrics *m = new_metrics();
	char name[16];

	(void)state;
	for (int i = 0; i < METRICS_MAX_HOOKS; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		assert_non_null(metrics_hook_series(m, name, "ipv4"));
	}
	assert_null(metrics_hook_series(m, "one-more", "ipv4"));
	assert_non_null(metrics_hook_series(m, "h3", "ipv4")); /* existing ones still found */
	metrics_free(m);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_counters_accumulate),
		cmocka_unit_test(test_table_parts),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_unknown_left_out),
		cmocka_unit_test(test_series_table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
