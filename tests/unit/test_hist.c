/* Unit tests of src/probe/hist.{c,h}: the slot layout shared with the BPF
 * programs (every 64-bit value has exactly one slot whose bounds contain it,
 * each slot at most 12.5 % wide) and quantiles read back from it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe/hist.h"

/* low(slot(v)) <= v < high(slot(v)). The last slot's true upper bound is
 * 2^64, which uint64_t cannot hold; hist_slot_high saturates it to
 * UINT64_MAX, so there the upper bound is inclusive. */
static void check_value(uint64_t v)
{
	unsigned int s = hist_slot(v);
	uint64_t lo, hi;

	if (s >= HIST_SLOTS)
		fail_msg("value %llu: slot %u out of range", (unsigned long long)v, s);
	lo = hist_slot_low(s);
	hi = hist_slot_high(s);
	if (lo > v)
		fail_msg("value %llu: slot %u low %llu", (unsigned long long)v, s,
			 (unsigned long long)lo);
	if (s == HIST_SLOTS - 1 ? (hi != UINT64_MAX) : !(v < hi))
		fail_msg("value %llu: slot %u high %llu", (unsigned long long)v, s,
			 (unsigned long long)hi);
}

static uint64_t rng_state = 0x243F6A8885A308D3ULL;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void test_log2(void **state)
{
	(void)state;
	for (unsigned int k = 0; k < 64; k++) {
		uint64_t p = 1ULL << k;
		assert_int_equal(hist_log2(p), k);
		if (k > 0)
			assert_int_equal(hist_log2(p - 1), k - 1);
		assert_int_equal(hist_log2(p | (p - 1)), k);
	}
	assert_int_equal(hist_log2(UINT64_MAX), 63);
}

static void test_small_values_exact(void **state)
{
	(void)state;
	/* Values below HIST_SUB own one slot each. */
	for (uint64_t v = 0; v < HIST_SUB; v++) {
		assert_int_equal(hist_slot(v), v);
		assert_int_equal(hist_slot_low((unsigned int)v), v);
		assert_int_equal(hist_slot_high((unsigned int)v), v + 1);
	}
	assert_int_equal(hist_slot(HIST_SUB), HIST_SUB);
}

static void test_value_in_slot_bounds(void **state)
{
	(void)state;
	for (uint64_t v = 0; v <= 100000; v++)
		check_value(v);
	for (unsigned int k = 0; k < 64; k++) {
		uint64_t p = 1ULL << k;
		check_value(p - 1);
		check_value(p);
		check_value(p + 1);
		check_value(p | (p >> 1));
		check_value(p | (p - 1));
	}
	check_value(1ULL << 63);
	check_value(UINT64_MAX);
	check_value(UINT64_MAX - 1);
	/* Random values of every magnitude. */
	for (int i = 0; i < 200000; i++)
		check_value(rng_next() >> (i % 64));
	assert_int_equal(hist_slot(UINT64_MAX), HIST_SLOTS - 1);
	assert_int_equal(hist_slot(1ULL << 63), HIST_SLOTS - HIST_SUB);
}

static void test_slots_tile_the_range(void **state)
{
	(void)state;
	/* Slots are contiguous, non-empty and map back to themselves at both
	 * ends, so no value falls between two slots or into two. */
	assert_int_equal(hist_slot_low(0), 0);
	for (unsigned int s = 0; s < HIST_SLOTS; s++) {
		uint64_t lo = hist_slot_low(s), hi = hist_slot_high(s);

		assert_true(lo < hi);
		assert_int_equal(hist_slot(lo), s);
		if (s + 1 < HIST_SLOTS) {
			assert_int_equal(hi, hist_slot_low(s + 1));
			assert_int_equal(hist_slot(hi - 1), s);
			assert_int_equal(hist_slot(hi), s + 1);
		} else {
			assert_true(hi == UINT64_MAX);
			assert_int_equal(hist_slot(hi), s);
		}
		if (s > 0)
			assert_int_equal(hist_slot(lo - 1), s - 1);
	}
}

static void test_relative_width(void **state)
{
	(void)state;
	for (unsigned int s = HIST_SUB; s < HIST_SLOTS; s++) {
		uint64_t lo = hist_slot_low(s), hi = hist_slot_high(s);
		/* The last slot's width is one short of 2^60 due to saturation. */
		uint64_t width = hi - lo + (s == HIST_SLOTS - 1);

		if (width > lo / HIST_SUB)
			fail_msg("slot %u [%llu, %llu): wider than 12.5 %%", s,
				 (unsigned long long)lo, (unsigned long long)hi);
	}
}

/* ---- quantiles ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted values. */
static double true_quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	if (rank < 1)
		rank = 1;
	return (double)sorted[rank - 1];
}

static void check_quantiles(uint64_t *values, size_t n)
{
	static const double qs[] = { 0.5, 0.9, 0.99 };
	uint64_t counts[HIST_SLOTS] = { 0 };

	for (size_t i = 0; i < n; i++)
		counts[hist_slot(values[i])]++;
	assert_int_equal(hist_total(counts), n);
	qsort(values, n, sizeof(*values), cmp_u64);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = true_quantile(values, n, qs[i]);
		double got = hist_quantile(counts, qs[i]);

		if (!(fabs(got - want) <= want / HIST_SUB))
			fail_msg("q %.2f: got %.1f, true %.1f", qs[i], got, want);
	}
	/* The extremes stay inside the slots of the smallest/largest value. */
	assert_true(hist_quantile(counts, 0) >= (double)hist_slot_low(hist_slot(values[0])));
	assert_true(hist_quantile(counts, 1) <= (double)hist_slot_high(hist_slot(values[n - 1])));
	/* Out-of-range q is clamped. */
	assert_true(hist_quantile(counts, -1) == hist_quantile(counts, 0));
	assert_true(hist_quantile(counts, 2) == hist_quantile(counts, 1));
}

static void test_quantile_uniform(void **state)
{
	size_t n = 100000;
	uint64_t *v = malloc(n * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = i + 1;
	check_quantiles(v, n);
	free(v);
}

static void test_quantile_constant(void **state)
{
	uint64_t v[500];
	uint64_t counts[HIST_SLOTS] = { 0 };

	(void)state;
	for (size_t i = 0; i < 500; i++)
		v[i] = 1000;
	check_quantiles(v, 500);
	/* A small constant sits in an exact slot: every quantile is exact. */
	counts[hist_slot(5)] = 42;
	assert_true(hist_quantile(counts, 0.5) == 5.0);
	assert_true(hist_quantile(counts, 0.99) == 5.0);
	assert_true(hist_quantile(counts, 1) == 5.0);
	/* One sample, large: within its slot. */
	memset(counts, 0, sizeof(counts));
	counts[hist_slot(123456789)] = 1;
	assert_true(fabs(hist_quantile(counts, 0.5) - 123456789) <= 123456789.0 / HIST_SUB);
}

static void test_quantile_bimodal(void **state)
{
	/* 70 % fast packets around 100..300 ns, 30 % slow ones around
	 * 40..60 us: p50 must come from the first mode, p90/p99 from the
	 * second, not from the empty gap between them. */
	size_t n = 10000;
	uint64_t *v = malloc(n * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = i < 7000 ? 100 + i % 200 : 40000 + (i * 7919) % 20000;
	check_quantiles(v, n);
	free(v);
}

static void test_quantile_random_magnitudes(void **state)
{
	/* Log-uniform values spanning 1 ns .. 1 s. */
	size_t n = 50000;
	uint64_t *v = malloc(n * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		double e = (double)(rng_next() >> 11) / 9007199254740992.0 * 9;
		v[i] = (uint64_t)pow(10, e);
	}
	check_quantiles(v, n);
	free(v);
}

static void test_quantile_empty(void **state)
{
	uint64_t counts[HIST_SLOTS] = { 0 };

	(void)state;
	assert_int_equal(hist_total(counts), 0);
	assert_true(hist_quantile(counts, 0) == 0);
	assert_true(hist_quantile(counts, 0.5) == 0);
	assert_true(hist_quantile(counts, 0.99) == 0);
	assert_true(hist_quantile(counts, 1) == 0);
}

static void test_quantile_extreme_values(void **state)
{
	uint64_t counts[HIST_SLOTS] = { 0 };

	(void)state;
	counts[hist_slot(UINT64_MAX)] = 3;
	counts[hist_slot(0)] = 1;
	assert_true(hist_quantile(counts, 0.25) == 0);
	assert_true(hist_quantile(counts, 1) <= (double)UINT64_MAX);
	assert_true(hist_quantile(counts, 0.5) >= (double)hist_slot_low(HIST_SLOTS - 1));
}

/* hist_stddev against the exact standard deviation of the same values:
 * within the slots' width. */
static void test_stddev(void **state)
{
	uint64_t h[HIST_SLOTS];
	double sum = 0, ss = 0, mean, exact;
	int n = 0;

	(void)state;
	memset(h, 0, sizeof(h));
	assert_true(hist_stddev(h, 0) == 0);
	for (uint64_t v = 200; v < 20000; v += 37) {
		h[hist_slot(v)]++;
		sum += (double)v;
		n++;
	}
	mean = sum / n;
	for (uint64_t v = 200; v < 20000; v += 37)
		ss += ((double)v - mean) * ((double)v - mean);
	exact = sqrt(ss / (n - 1));
	assert_true(fabs(hist_stddev(h, mean) - exact) < 0.07 * exact);
	memset(h, 0, sizeof(h));
	h[hist_slot(5)] = 10; /* exact slots: no spread */
	assert_true(hist_stddev(h, 5) == 0);
	h[hist_slot(5)] = 1;
	assert_true(hist_stddev(h, 5) == 0); /* one value */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log2),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_value_in_slot_bounds),
		cmocka_unit_test(test_slots_tile_the_range),
		cmocka_unit_test(test_relative_width),
		cmocka_unit_test(test_quantile_uniform),
		cmocka_unit_test(test_quantile_constant),
		cmocka_unit_test(test_quantile_bimodal),
		cmocka_unit_test(test_quantile_random_magnitudes),
		cmocka_unit_test(test_quantile_empty),
		cmocka_unit_test(test_quantile_extreme_values),
		cmocka_unit_test(test_stddev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
