/* Unit tests of src/probe/window.c (the window arithmetic) and src/nfhook.c
 * (the hook vocabulary). Built against those files alone: no libbpf, no
 * kernel, no root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "util/nfhook.h"
#include "probe/window.h"
#include "window_samples.h"

static void test_hook_names(void **state)
{
	enum nfhook h;

	(void)state;
	assert_true(nfhook_parse("output", &h));
	assert_int_equal(h, NFHOOK_LOCAL_OUT);
	assert_true(nfhook_parse("LOCAL_OUT", &h));
	assert_int_equal(h, NFHOOK_LOCAL_OUT);
	assert_true(nfhook_parse("input", &h));
	assert_int_equal(h, NFHOOK_LOCAL_IN);
	assert_true(nfhook_parse("prerouting", &h));
	assert_int_equal(h, NFHOOK_PRE_ROUTING);
	assert_true(nfhook_parse("all", &h));
	assert_int_equal(h, NFHOOK_ALL);
	for (int i = 0; i <= NFHOOK_COUNT; i++) {
		assert_true(nfhook_parse(nfhook_name((enum nfhook)i), &h));
		assert_int_equal(h, i);
	}
	assert_string_equal(nfhook_name(NFHOOK_POST_ROUTING), "POST_ROUTING");
	assert_false(nfhook_parse("egress", &h));
}

static void test_hook_spellings(void **state)
{
	(void)state;
	assert_string_equal(nfhook_option(NFHOOK_LOCAL_OUT), "output");
	assert_string_equal(nfhook_chain(NFHOOK_LOCAL_OUT), "OUTPUT");
	assert_string_equal(nfhook_chain(NFHOOK_FORWARD), "FORWARD");
	assert_true(nfhook_fillable(NFHOOK_LOCAL_IN));
	assert_false(nfhook_fillable(NFHOOK_PRE_ROUTING));
	assert_false(nfhook_fillable(NFHOOK_ALL));
	assert_string_equal(nfhook_name((enum nfhook)42), "?");
}

static void test_window_compute(void **state)
{
	struct probe_window w;

	(void)state;
	memset(&w, 0, sizeof(w));
	probe_window_compute(&w);
	assert_true(w.avg_ns == 0 && w.p50_ns == 0 && w.p99_ns == 0);
	assert_int_equal(w.min_ns, 0);

	add_samples(&w, 400, 900);
	add_samples(&w, 10000, 100);
	probe_window_compute(&w);
	assert_true(w.avg_ns > 1359.99 && w.avg_ns < 1360.01); /* (400*900 + 10000*100) / 1000 */
	/* 90 % of the packets took 400 ns: p50 in 400's slot, p99 in 10000's. */
	assert_true(w.p50_ns >= (double)hist_slot_low(hist_slot(400)) &&
		    w.p50_ns < (double)hist_slot_high(hist_slot(400)));
	assert_true(w.p99_ns >= (double)hist_slot_low(hist_slot(10000)) &&
		    w.p99_ns < (double)hist_slot_high(hist_slot(10000)));
	assert_true(w.p90_ns <= w.p99_ns);
}

static void test_window_add(void **state)
{
	struct probe_window a, b, total;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&total, 0, sizeof(total));
	add_samples(&a, 300, 10);
	a.seconds = 1;
	a.unmatched = 2;
	a.hook_count[NFHOOK_LOCAL_OUT] = 10;
	a.entered_hook[NFHOOK_LOCAL_OUT] = 12;
	a.lost_hook[NFHOOK_LOCAL_OUT] = 2;
	a.n_comms = 2;
	strcpy(a.comms[0].comm, "iperf3");
	a.comms[0].count = 7;
	strcpy(a.comms[1].comm, "ksoftirqd/0");
	a.comms[1].count = 3;
	add_samples(&b, 700, 30);
	b.seconds = 0.5;
	b.dropped = 1;
	b.hook_count[NFHOOK_LOCAL_OUT] = 30;
	b.entered_hook[NFHOOK_LOCAL_OUT] = 31;
	b.lost_hook[NFHOOK_LOCAL_OUT] = 1;
	b.entered_hook[NFHOOK_POST_ROUTING] = 5;
	b.lost_hook[NFHOOK_POST_ROUTING] = 5;
	b.n_comms = 1;
	strcpy(b.comms[0].comm, "ksoftirqd/0");
	b.comms[0].count = 30;
	probe_window_compute(&a);
	probe_window_compute(&b);

	probe_window_add(&total, &a);
	probe_window_add(&total, &b);
	assert_int_equal(total.count, 40);
	assert_int_equal(total.sum_ns, 300 * 10 + 700 * 30);
	assert_int_equal(total.min_ns, 300);
	assert_int_equal(total.max_ns, 700);
	assert_int_equal(total.unmatched, 2);
	assert_int_equal(total.dropped, 1);
	assert_int_equal(total.hook_count[NFHOOK_LOCAL_OUT], 40);
	assert_int_equal(total.entered_hook[NFHOOK_LOCAL_OUT], 43);
	assert_int_equal(total.lost_hook[NFHOOK_LOCAL_OUT], 3);
	assert_int_equal(total.entered_hook[NFHOOK_POST_ROUTING], 5);
	assert_int_equal(total.lost_hook[NFHOOK_POST_ROUTING], 5);
	for (int h = 0; h < NFHOOK_COUNT; h++)
		if (h != NFHOOK_LOCAL_OUT && h != NFHOOK_POST_ROUTING)
			assert_true(!total.entered_hook[h] && !total.lost_hook[h]);
	assert_true(total.seconds > 1.49 && total.seconds < 1.51);
	assert_true(total.avg_ns > 599.99 && total.avg_ns < 600.01);
	assert_int_equal(hist_total(total.hist), 40);
	/* Merged by name, largest first. */
	assert_int_equal(total.n_comms, 2);
	assert_string_equal(total.comms[0].comm, "ksoftirqd/0");
	assert_int_equal(total.comms[0].count, 33);
	assert_string_equal(total.comms[1].comm, "iperf3");
	assert_int_equal(total.comms[1].count, 7);
}

/* Per-table brackets: hook sums and their parts add up window by window,
 * per hook and per part, and the parts of a hook keep adding up to its sum. */
static void test_window_add_parts(void **state)
{
	struct probe_window a, b, total;
	const uint64_t pa[3] = { 100, 250, 50 }, pb[3] = { 7, 0, 1993 };

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&total, 0, sizeof(total));
	for (int k = 0; k < 3; k++) {
		a.part_sum_ns[NFHOOK_LOCAL_OUT][k] = pa[k];
		a.hook_sum_ns[NFHOOK_LOCAL_OUT] += pa[k];
		b.part_sum_ns[NFHOOK_LOCAL_OUT][k] = pb[k];
		b.hook_sum_ns[NFHOOK_LOCAL_OUT] += pb[k];
	}
	b.part_sum_ns[NFHOOK_PRE_ROUTING][0] = b.hook_sum_ns[NFHOOK_PRE_ROUTING] = 42;
	b.part_sum_ns[NFHOOK_POST_ROUTING][PROBE_MAX_SPLITS] = 9;
	b.hook_sum_ns[NFHOOK_POST_ROUTING] = 9;
	probe_window_add(&total, &a);
	probe_window_add(&total, &b);
	assert_int_equal(total.hook_sum_ns[NFHOOK_LOCAL_OUT], 400 + 2000);
	assert_int_equal(total.part_sum_ns[NFHOOK_LOCAL_OUT][0], 107);
	assert_int_equal(total.part_sum_ns[NFHOOK_LOCAL_OUT][1], 250);
	assert_int_equal(total.part_sum_ns[NFHOOK_LOCAL_OUT][2], 2043);
	assert_int_equal(total.hook_sum_ns[NFHOOK_PRE_ROUTING], 42);
	assert_int_equal(total.part_sum_ns[NFHOOK_POST_ROUTING][PROBE_MAX_SPLITS], 9);
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		uint64_t sum = 0;
		for (int k = 0; k <= PROBE_MAX_SPLITS; k++)
			sum += total.part_sum_ns[h][k];
		assert_int_equal(sum, total.hook_sum_ns[h]);
	}
	assert_int_equal(total.hook_sum_ns[NFHOOK_FORWARD], 0);
}

static void test_window_add_keeps_top_comms(void **state)
{
	struct probe_window w, total;

	(void)state;
	memset(&total, 0, sizeof(total));
	for (int round = 0; round < 2; round++) {
		memset(&w, 0, sizeof(w));
		w.n_comms = PROBE_COMMS;
		for (int i = 0; i < PROBE_COMMS; i++) {
			/* round 0: p0..p15, round 1: p8..p23 */
			snprintf(w.comms[i].comm, sizeof(w.comms[i].comm), "p%d", i + 8 * round);
			w.comms[i].count = 100 + (uint64_t)(i + 8 * round);
		}
		probe_window_add(&total, &w);
	}
	assert_int_equal(total.n_comms, PROBE_COMMS);
	uint64_t listed = 0;
	for (int i = 0; i < total.n_comms; i++) {
		listed += total.comms[i].count;
		if (i)
			assert_true(total.comms[i - 1].count >= total.comms[i].count);
	}
	/* Everything is accounted for: listed plus other. */
	uint64_t all = 0;
	for (int i = 0; i < 24; i++)
		all += 100 + (uint64_t)i + (i >= 8 && i < 16 ? 100 + (uint64_t)i : 0);
	assert_int_equal(listed + total.comm_other, all);
	/* p8..p15 were seen twice: they lead. */
	assert_string_equal(total.comms[0].comm, "p15");
}

/* Samples of one class on one hook: n values of v ns. */
static void put(struct probe_window *w, enum probe_class c, enum nfhook h, uint64_t n, uint64_t v)
{
	w->cls[c][h].count += n;
	w->cls[c][h].sum_ns += n * v;
	w->cls[c][h].hist[hist_slot(v)] += n;
}

static void test_window_classes(void **state)
{
	struct probe_window w, total;
	struct probe_class_stats s;

	(void)state;
	memset(&w, 0, sizeof(w));
	put(&w, PROBE_CLASS_FIRST, NFHOOK_LOCAL_OUT, 10, 5000);
	put(&w, PROBE_CLASS_FIRST, NFHOOK_POST_ROUTING, 10, 3000);
	put(&w, PROBE_CLASS_ESTABLISHED, NFHOOK_LOCAL_OUT, 1000, 300);
	put(&w, PROBE_CLASS_REPLY, NFHOOK_LOCAL_IN, 500, 400);
	probe_window_class(&w, PROBE_CLASS_FIRST, NFHOOK_ALL_MASK, &s);
	assert_int_equal(s.count, 20);
	assert_true(probe_class_avg_ns(&s) == 4000);
	probe_window_class(&w, PROBE_CLASS_FIRST, 1u << NFHOOK_LOCAL_OUT, &s);
	assert_int_equal(s.count, 10);
	assert_true(probe_class_avg_ns(&s) == 5000);
	/* p50 within the slot of 5000 (12.5 %) */
	assert_true(probe_class_quantile_ns(&s, 0.5) >= 5000 * 0.875 &&
		    probe_class_quantile_ns(&s, 0.5) <= 5000 * 1.125);
	assert_true(probe_class_ci95_ns(&s) < 5000 * 0.125); /* one value: only the slot's width */
	probe_window_class(&w, PROBE_CLASS_REPLY, 1u << NFHOOK_LOCAL_OUT, &s);
	assert_int_equal(s.count, 0);
	assert_true(probe_class_avg_ns(&s) == 0 && probe_class_ci95_ns(&s) == 0);
	assert_string_equal(probe_class_name(PROBE_CLASS_FIRST), "first");
	assert_string_equal(probe_class_name(PROBE_CLASS_ESTABLISHED), "established");
	assert_string_equal(probe_class_name(PROBE_CLASS_REPLY), "reply");
	assert_string_equal(probe_class_name(PROBE_CLASSES), "?");
	/* Adding windows adds classes, packets and keeps the sampling. */
	w.sample_every = 16;
	w.packets = 16 * 1520;
	w.packets_hook[NFHOOK_LOCAL_OUT] = w.packets;
	memset(&total, 0, sizeof(total));
	probe_window_add(&total, &w);
	probe_window_add(&total, &w);
	probe_window_class(&total, PROBE_CLASS_ESTABLISHED, NFHOOK_ALL_MASK, &s);
	assert_int_equal(s.count, 2000);
	assert_int_equal(total.packets, 2 * 16 * 1520);
	assert_int_equal(total.packets_hook[NFHOOK_LOCAL_OUT], 2 * 16 * 1520);
	assert_int_equal(total.sample_every, 16);
}

/* The CI of the mean shrinks with the square root of the samples and grows
 * with their spread. */
static void test_window_ci(void **state)
{
	struct probe_window a, b, c;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 100; i++) { /* 100 samples from 100 to 10000 ns */
		uint64_t v = 100 + 100 * (uint64_t)i;
		a.count++; a.sum_ns += v; a.hist[hist_slot(v)]++;
		for (int k = 0; k < 4; k++) {
			b.count++; b.sum_ns += v; b.hist[hist_slot(v)]++;
		}
		v = 5000 + (uint64_t)i; /* narrow: 5000..5099 */
		c.count++; c.sum_ns += v; c.hist[hist_slot(v)]++;
	}
	probe_window_compute(&a);
	probe_window_compute(&b);
	probe_window_compute(&c);
	assert_true(a.avg_ci95_ns > 0);
	/* 4x the samples: half the width (within the histogram's rounding) */
	assert_true(b.avg_ci95_ns > 0.45 * a.avg_ci95_ns && b.avg_ci95_ns < 0.55 * a.avg_ci95_ns);
	/* sd of 100..10000 uniform ~2900: 1.96 * 2900 / 10 ~ 570 */
	assert_true(a.avg_ci95_ns > 450 && a.avg_ci95_ns < 700);
	assert_true(c.avg_ci95_ns < a.avg_ci95_ns / 5);
	memset(&c, 0, sizeof(c));
	c.count = 1; c.sum_ns = 700; c.hist[hist_slot(700)] = 1;
	probe_window_compute(&c);
	assert_true(c.avg_ci95_ns == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook_names),
		cmocka_unit_test(test_hook_spellings),
		cmocka_unit_test(test_window_compute),
		cmocka_unit_test(test_window_add),
		cmocka_unit_test(test_window_add_parts),
		cmocka_unit_test(test_window_add_keeps_top_comms),
		cmocka_unit_test(test_window_classes),
		cmocka_unit_test(test_window_ci),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
