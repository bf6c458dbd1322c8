/* Unit tests of src/results/analysis.c. Expected values for the noisy data sets were
 * computed independently with mpmath at 40 digits (normal equations for the
 * quadratic, mpmath's regularized incomplete beta for the t quantile and the
 * F p-value); Anscombe's quartet also has published answers (intercept 3.00,
 * slope 0.500, r 0.816). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <string.h>

#include "results/analysis.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, tol);
}

static void assert_rel(double got, double want, double rel)
{
	assert_close(got, want, fabs(want) * rel);
}

static bool fit_is_zero(const struct linear_fit *f)
{
	static const struct linear_fit zero;

	return memcmp(f, &zero, sizeof(zero)) == 0;
}

/* Deterministic normal noise (xorshift64* + Box-Muller), so the statistical
 * tests below are reproducible, not flaky. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static double rng_uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_normal(void)
{
	double u1 = rng_uniform(), u2 = rng_uniform();

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static const double ans_x[11] = { 10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5 };
static const double ans_y1[11] = { 8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68 };
static const double ans_y2[11] = { 9.14, 8.14, 8.74, 8.77, 9.26, 8.10, 6.13, 3.10, 9.13, 7.26, 4.74 };

/* ---- linear fit ---- */

static void test_fit_exact_line(void **state)
{
	double x[6] = { 0, 100, 200, 300, 400, 500 }, y[6];
	struct linear_fit f;

	(void)state;
	for (int i = 0; i < 6; i++)
		y[i] = 12.5 + 0.75 * x[i];
	assert_int_equal(analysis_linear_fit(x, y, 6, &f), 0);
	assert_int_equal(f.n, 6);
	assert_close(f.slope, 0.75, 1e-12);
	assert_close(f.intercept, 12.5, 1e-9);
	assert_close(f.r2, 1, 1e-12);
	/* No residual: the interval collapses onto the slope. */
	assert_close(f.slope_ci95_lo, 0.75, 1e-9);
	assert_close(f.slope_ci95_hi, 0.75, 1e-9);
	assert_false(f.quad_significant);
	assert_close(f.quad_p_value, 1, 0);
	assert_close(f.quad_coef, 0, 1e-12);
}

static void test_fit_noisy_line(void **state)
{
	static const double noise[10] = { 0.5, -0.3, 0.2, -0.6, 0.1, 0.4, -0.2, -0.1, 0.3, -0.4 };
	double x[10], y[10];
	struct linear_fit f;

	(void)state;
	for (int i = 0; i < 10; i++) {
		x[i] = i;
		y[i] = 2 + 3 * x[i] + noise[i];
	}
	assert_int_equal(analysis_linear_fit(x, y, 10, &f), 0);
	assert_rel(f.slope, 2.9763636363636364, 1e-12);
	assert_rel(f.intercept, 2.096363636363636, 1e-12);
	assert_rel(f.r2, 0.99841134591117174, 1e-12);
	assert_rel(f.slope_ci95_lo, 2.8795668371345476, 1e-9);
	assert_rel(f.slope_ci95_hi, 3.0731604355927253, 1e-9);
	assert_true(f.slope_ci95_lo < 3 && 3 < f.slope_ci95_hi);
	assert_rel(f.quad_coef, 0.003409090909090971, 1e-8);
	assert_rel(f.quad_p_value, 0.85266586123751867, 1e-8);
	assert_false(f.quad_significant);
}

static void test_fit_anscombe_linear(void **state)
{
	struct linear_fit f;

	(void)state;
	assert_int_equal(analysis_linear_fit(ans_x, ans_y1, 11, &f), 0);
	/* Published: y = 3.00 + 0.500 x, r² 0.67. */
	assert_rel(f.intercept, 3.0000909090909088, 1e-12);
	assert_rel(f.slope, 0.50009090909090913, 1e-12);
	assert_rel(f.r2, 0.66654245950877493, 1e-12);
	/* Slope standard error 0.1179 times t(9) = 2.262. */
	assert_rel(f.slope_ci95_lo, 0.23337013638518738, 1e-9);
	assert_rel(f.slope_ci95_hi, 0.76681168179663088, 1e-9);
	assert_rel(f.quad_coef, -0.031620046620046612, 1e-9);
	assert_rel(f.quad_p_value, 0.48664929789339443, 1e-8);
	assert_false(f.quad_significant);
}

static void test_fit_anscombe_quadratic(void **state)
{
	struct linear_fit f;

	(void)state;
	/* Anscombe II is an almost exact parabola that a line fits just as
	 * "well" (same slope, same r²): only the quadratic test tells. */
	assert_int_equal(analysis_linear_fit(ans_x, ans_y2, 11, &f), 0);
	assert_rel(f.slope, 0.5, 1e-12);
	assert_rel(f.intercept, 3.000909090909091, 1e-12);
	assert_rel(f.r2, 0.6662420337274843, 1e-12);
	assert_rel(f.slope_ci95_lo, 0.23314746710879343, 1e-9);
	assert_rel(f.slope_ci95_hi, 0.76685253289120658, 1e-9);
	assert_rel(f.quad_coef, -0.12671328671328672, 1e-9);
	assert_rel(f.quad_p_value, 1.9036403432950118e-24, 1e-5);
	assert_true(f.quad_significant);
}

static void test_fit_quadratic_large_x(void **state)
{
	double x[12], y[12];
	struct linear_fit f;

	(void)state;
	/* Rule counts up to 1e5 and nanosecond latencies growing with the
	 * square: x² reaches 1e10, which must not swamp the test. */
	for (int i = 0; i < 12; i++) {
		x[i] = 1000 + 9000.0 * i;
		y[i] = 800 + 0.02 * x[i] + 2e-7 * x[i] * x[i] + ((i % 3) - 1) * 5.0;
	}
	assert_int_equal(analysis_linear_fit(x, y, 12, &f), 0);
	assert_true(f.quad_significant);
	assert_true(f.quad_p_value < 1e-6);
	assert_rel(f.quad_coef, 2e-7, 0.05);

	/* Same x, a line with the same noise: no quadratic term. */
	for (int i = 0; i < 12; i++)
		y[i] = 800 + 0.02 * x[i] + ((i % 2) ? 5.0 : -5.0);
	assert_int_equal(analysis_linear_fit(x, y, 12, &f), 0);
	assert_false(f.quad_significant);
	assert_true(f.quad_p_value > 0.05);
	assert_true(f.slope_ci95_lo < 0.02 && 0.02 < f.slope_ci95_hi);
}

static void test_fit_exact_quadratic(void **state)
{
	double x[5] = { 1, 2, 3, 4, 5 }, y[5];
	struct linear_fit f;

	(void)state;
	for (int i = 0; i < 5; i++)
		y[i] = x[i] * x[i];
	assert_int_equal(analysis_linear_fit(x, y, 5, &f), 0);
	assert_close(f.slope, 6, 1e-12);
	assert_close(f.intercept, -7, 1e-12);
	assert_close(f.quad_coef, 1, 1e-9);
	assert_true(f.quad_p_value < 1e-9);
	assert_true(f.quad_significant);
}

static void test_fit_small_n(void **state)
{
	double x[3] = { 1, 2, 4 }, y[3] = { 3, 5, 8 };
	struct linear_fit f;

	(void)state;
	/* Two points: a line through them, no interval (0 df), no test. */
	assert_int_equal(analysis_linear_fit(x, y, 2, &f), 0);
	assert_int_equal(f.n, 2);
	assert_close(f.slope, 2, 1e-12);
	assert_close(f.intercept, 1, 1e-12);
	assert_close(f.r2, 1, 1e-12);
	assert_true(isnan(f.slope_ci95_lo) && isnan(f.slope_ci95_hi));
	assert_close(f.quad_p_value, 1, 0);
	assert_false(f.quad_significant);

	/* Three points: interval with t(1) = 12.706, quadratic test skipped
	 * even though three points fit a parabola exactly. */
	assert_int_equal(analysis_linear_fit(x, y, 3, &f), 0);
	/* mean x 7/3, mean y 16/3, Sxx 14/3, Sxy 23/3 -> b = 23/14. */
	assert_close(f.slope, 23.0 / 14, 1e-12);
	assert_close(f.intercept, 16.0 / 3 - 23.0 / 14 * 7 / 3, 1e-12);
	{
		double sse = 0, se;
		for (int i = 0; i < 3; i++) {
			double r = y[i] - f.intercept - f.slope * x[i];
			sse += r * r;
		}
		se = sqrt(sse / 1 / (14.0 / 3));
		assert_close(f.slope_ci95_lo, 23.0 / 14 - 12.7062047361747 * se, 1e-9);
		assert_close(f.slope_ci95_hi, 23.0 / 14 + 12.7062047361747 * se, 1e-9);
	}
	assert_close(f.quad_p_value, 1, 0);
	assert_false(f.quad_significant);
	assert_close(f.quad_coef, 0, 0);
}

static void test_fit_two_distinct_x(void **state)
{
	double x[6] = { 0, 0, 0, 1000, 1000, 1000 }, y[6] = { 10, 11, 9, 20, 21, 19 };
	struct linear_fit f;

	(void)state;
	/* Repeats at two rule counts: the line is defined, a quadratic is not
	 * identifiable, so the test must not claim anything. */
	assert_int_equal(analysis_linear_fit(x, y, 6, &f), 0);
	assert_close(f.slope, 0.01, 1e-12);
	assert_close(f.intercept, 10, 1e-9);
	assert_close(f.quad_p_value, 1, 0);
	assert_false(f.quad_significant);
	assert_true(f.slope_ci95_lo < 0.01 && f.slope_ci95_hi > 0.01);
}

static void test_fit_constant_y(void **state)
{
	double x[5] = { 1, 2, 3, 4, 5 }, y[5] = { 0.1, 0.1, 0.1, 0.1, 0.1 };
	struct linear_fit f;

	(void)state;
	assert_int_equal(analysis_linear_fit(x, y, 5, &f), 0);
	assert_close(f.slope, 0, 0);
	assert_close(f.intercept, 0.1, 0);
	assert_close(f.r2, 1, 0);
	assert_close(f.slope_ci95_lo, 0, 0);
	assert_close(f.slope_ci95_hi, 0, 0);
	assert_false(f.quad_significant);
}

static void test_fit_unsorted_same_as_sorted(void **state)
{
	double xs[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, ys[8] = { 1, 3.2, 4.9, 7.1, 9.3, 10.8, 13.2, 15 };
	double xu[8] = { 5, 0, 7, 2, 6, 1, 4, 3 }, yu[8];
	struct linear_fit a, b;

	(void)state;
	for (int i = 0; i < 8; i++)
		yu[i] = ys[(int)xu[i]];
	assert_int_equal(analysis_linear_fit(xs, ys, 8, &a), 0);
	assert_int_equal(analysis_linear_fit(xu, yu, 8, &b), 0);
	assert_close(b.slope, a.slope, 1e-12);
	assert_close(b.intercept, a.intercept, 1e-12);
	assert_close(b.r2, a.r2, 1e-12);
	assert_close(b.quad_p_value, a.quad_p_value, 1e-9);
}

static void test_fit_degenerate(void **state)
{
	double x[4] = { 1, 2, 3, 4 }, y[4] = { 2, 4, 6, 8 };
	double cx[4] = { 0.1, 0.1, 0.1, 0.1 };
	double nx[4] = { 1, NAN, 3, 4 }, ny[4] = { 2, 4, NAN, 8 }, iy[4] = { 2, INFINITY, 6, 8 };
	double big[4] = { 1e300, -1e300, 1e300, -1e300 };
	struct linear_fit f;

	(void)state;
	memset(&f, 0xA5, sizeof(f));
	assert_int_equal(analysis_linear_fit(x, y, 0, &f), -1);
	assert_true(fit_is_zero(&f));
	memset(&f, 0xA5, sizeof(f));
	assert_int_equal(analysis_linear_fit(x, y, 1, &f), -1);
	assert_true(fit_is_zero(&f));
	memset(&f, 0xA5, sizeof(f));
	assert_int_equal(analysis_linear_fit(cx, y, 4, &f), -1);
	assert_true(fit_is_zero(&f));
	memset(&f, 0xA5, sizeof(f));
	assert_int_equal(analysis_linear_fit(nx, y, 4, &f), -1);
	assert_true(fit_is_zero(&f));
	memset(&f, 0xA5, sizeof(f));
	assert_int_equal(analysis_linear_fit(x, ny, 4, &f), -1);
	assert_true(fit_is_zero(&f));
	memset(&f, 0xA5, sizeof(f));
	assert_int_equal(analysis_linear_fit(x, iy, 4, &f), -1);
	assert_true(fit_is_zero(&f));
	/* Sums that overflow are an undefined fit, not a crash or an inf. */
	memset(&f, 0xA5, sizeof(f));
	assert_int_equal(analysis_linear_fit(big, y, 4, &f), -1);
	assert_true(fit_is_zero(&f));
	assert_int_equal(analysis_linear_fit(NULL, y, 4, &f), -1);
	assert_int_equal(analysis_linear_fit(x, NULL, 4, &f), -1);
	assert_int_equal(analysis_linear_fit(x, y, 4, NULL), -1);
}

/* Over many simulated sweeps the 95 % interval must contain the true slope
 * about 95 % of the time, for large and tiny df alike, and the 5 %
 * quadratic test must reject a true line about 5 % of the time. */
static void coverage_run(size_t n, int trials, double *coverage, double *quad_rate)
{
	double x[64], y[64];
	int covered = 0, quad = 0;
	struct linear_fit f;

	for (int t = 0; t < trials; t++) {
		for (size_t i = 0; i < n; i++) {
			x[i] = 100.0 * (double)i;
			y[i] = 50 + 0.3 * x[i] + 4 * rng_normal();
		}
		assert_int_equal(analysis_linear_fit(x, y, n, &f), 0);
		covered += f.slope_ci95_lo <= 0.3 && 0.3 <= f.slope_ci95_hi;
		quad += f.quad_significant;
	}
	*coverage = (double)covered / trials;
	*quad_rate = (double)quad / trials;
}

static void test_fit_ci_coverage(void **state)
{
	double cov, qr;

	(void)state;
	/* 4000 trials: binomial sd 0.0034 at 95 %, 0.0034 at 5 %. */
	coverage_run(12, 4000, &cov, &qr);
	assert_close(cov, 0.95, 0.015);
	assert_close(qr, 0.05, 0.015);
	coverage_run(3, 4000, &cov, &qr); /* df = 1: t = 12.706 */
	assert_close(cov, 0.95, 0.015);
	assert_close(qr, 0, 0);
	coverage_run(4, 4000, &cov, &qr); /* df = 2 / F(1, 1) */
	assert_close(cov, 0.95, 0.015);
	assert_close(qr, 0.05, 0.015);
	coverage_run(60, 2000, &cov, &qr); /* df = 58: the expansion */
	assert_close(cov, 0.95, 0.02);
	assert_close(qr, 0.05, 0.02);
}

/* ---- t quantile ---- */

static void test_t95_textbook(void **state)
{
	(void)state;
	assert_close(analysis_t95(1), 12.706, 5e-4);
	assert_close(analysis_t95(2), 4.303, 5e-4);
	assert_close(analysis_t95(3), 3.182, 5e-4);
	assert_close(analysis_t95(5), 2.571, 5e-4);
	assert_close(analysis_t95(10), 2.228, 5e-4);
	assert_close(analysis_t95(20), 2.086, 5e-4);
	assert_close(analysis_t95(30), 2.042, 5e-4);
	assert_close(analysis_t95(40), 2.021, 5e-4);
	assert_close(analysis_t95(60), 2.000, 5e-4);
	assert_close(analysis_t95(120), 1.980, 5e-4);
	assert_close(analysis_t95(100000), 1.960, 5e-4);
	assert_close(analysis_t95(INT_MAX), 1.959964, 1e-6);
}

static void test_t95_precise(void **state)
{
	(void)state;
	/* mpmath inverse of the regularized incomplete beta, 15 digits. */
	assert_close(analysis_t95(1), 12.7062047361747, 1e-12);
	assert_close(analysis_t95(7), 2.36462425159279, 1e-12);
	assert_close(analysis_t95(30), 2.04227245630124, 1e-12);
	assert_close(analysis_t95(31), 2.03951344639641, 3e-8);
	assert_close(analysis_t95(40), 2.02107539030627, 1e-8);
	assert_close(analysis_t95(60), 2.00029782201426, 1e-9);
	assert_close(analysis_t95(100), 1.98397151852355, 1e-10);
	assert_close(analysis_t95(120), 1.97993040508244, 1e-10);
	assert_close(analysis_t95(1000), 1.96233908082641, 1e-13);
	assert_close(analysis_t95(1000000), 1.95996635681411, 1e-13);
}

static void test_t95_monotone_and_degenerate(void **state)
{
	(void)state;
	/* Strictly decreasing towards z, also across the table boundary. */
	for (int df = 1; df < 5000; df++)
		assert_true(analysis_t95(df + 1) < analysis_t95(df));
	assert_true(analysis_t95(5000) > 1.959963984540054);
	assert_true(isnan(analysis_t95(0)));
	assert_true(isnan(analysis_t95(-3)));
	assert_true(isnan(analysis_t95(INT_MIN)));
}

/* ---- correlation ---- */

static void test_correlation(void **state)
{
	double x[6] = { 1, 2, 3, 4, 5, 6 }, y[6], c[6] = { 3, 3, 3, 3, 3, 3 };
	double ix[4] = { 1, 2, 3, 4 }, iy[4] = { 1, -1, -1, 1 };
	double nx[3] = { 1, NAN, 3 };

	(void)state;
	for (int i = 0; i < 6; i++)
		y[i] = 7 + 2.5 * x[i];
	assert_close(analysis_correlation(x, y, 6), 1, 1e-12);
	for (int i = 0; i < 6; i++)
		y[i] = 7 - 0.001 * x[i];
	assert_close(analysis_correlation(x, y, 6), -1, 1e-12);
	/* Orthogonal after centring: exactly uncorrelated. */
	assert_close(analysis_correlation(ix, iy, 4), 0, 1e-15);
	assert_rel(analysis_correlation(ans_x, ans_y1, 11), 0.81642051634483986, 1e-12);
	assert_rel(analysis_correlation(ans_y1, ans_x, 11), 0.81642051634483986, 1e-12);

	assert_true(isnan(analysis_correlation(x, y, 1)));
	assert_true(isnan(analysis_correlation(x, y, 0)));
	assert_true(isnan(analysis_correlation(c, y, 6)));
	assert_true(isnan(analysis_correlation(x, c, 6)));
	assert_true(isnan(analysis_correlation(nx, x, 3)));
	assert_true(isnan(analysis_correlation(x, nx, 3)));
	assert_true(isnan(analysis_correlation(NULL, x, 3)));
}

static void test_correlation_independent_noise(void **state)
{
	double x[2000], y[2000];

	(void)state;
	for (int i = 0; i < 2000; i++) {
		x[i] = rng_normal();
		y[i] = rng_normal();
	}
	/* sd of r is 1/sqrt(n) = 0.022 */
	assert_close(analysis_correlation(x, y, 2000), 0, 0.09);
}

/* ---- throughput knee ---- */

static void test_knee_baseline_spread(void **state)
{
	/* Baseline mean 100, sd 10: the line is 100 * (1 - 0.3) = 70, so the
	 * 80 at 100 rules is noise and the knee is at 200. */
	double r[7] = { 0, 0, 0, 100, 200, 300, 400 };
	double t[7] = { 100, 110, 90, 80, 65, 60, 40 };

	(void)state;
	assert_int_equal(analysis_throughput_knee(r, t, 7), 200);
	/* Without the spread the 5 % floor applies (line 95). */
	{
		double t2[7] = { 100, 100, 100, 90, 65, 60, 40 };
		assert_int_equal(analysis_throughput_knee(r, t2, 7), 100);
	}
}

static void test_knee_line_exact(void **state)
{
	/* Baseline 112, 128, 144: mean 128, sample sd 16 (the population sd
	 * would be 13.06), so the line is 128 * (1 - 48 / 128) = 80 exactly in
	 * binary. A mean of exactly 80 (repeats 70 and 90) is not below it. */
	double r[8] = { 0, 0, 0, 100, 100, 200, 300, 300 };
	double t[8] = { 112, 128, 144, 70, 90, 79.9, 60, 80 };

	(void)state;
	assert_int_equal(analysis_throughput_knee(r, t, 8), 200);
}

static void test_knee_recovering_drop(void **state)
{
	/* A dip at 100 that recovers is not a knee. */
	double r[5] = { 0, 100, 200, 300, 400 };
	double t[5] = { 100, 80, 99, 98, 97 };
	/* ...but a later drop that stays is. */
	double t2[5] = { 100, 80, 99, 90, 85 };
	/* A dip, then recovery at the very end: none. */
	double t3[5] = { 100, 80, 70, 60, 100 };

	(void)state;
	assert_int_equal(analysis_throughput_knee(r, t, 5), -1);
	assert_int_equal(analysis_throughput_knee(r, t2, 5), 300);
	assert_int_equal(analysis_throughput_knee(r, t3, 5), -1);
}

static void test_knee_drop_stays(void **state)
{
	double r[6] = { 0, 1000, 2000, 3000, 4000, 5000 };
	double t[6] = { 9400, 9390, 9100, 8000, 6000, 3000 };

	(void)state;
	/* Line 8930: 9100 is above, 8000 and after below. */
	assert_int_equal(analysis_throughput_knee(r, t, 6), 3000);
	/* Only the last count drops: the knee is that count. */
	{
		double t2[6] = { 9400, 9390, 9380, 9370, 9360, 100 };
		assert_int_equal(analysis_throughput_knee(r, t2, 6), 5000);
	}
	/* Everything after the baseline is below: the first count after it. */
	{
		double t3[6] = { 9400, 100, 90, 80, 70, 60 };
		assert_int_equal(analysis_throughput_knee(r, t3, 6), 1000);
	}
}

static void test_knee_no_drop(void **state)
{
	double r[5] = { 0, 100, 200, 300, 400 };
	double t[5] = { 100, 101, 99, 96, 97 };

	(void)state;
	assert_int_equal(analysis_throughput_knee(r, t, 5), -1);
}

static void test_knee_unsorted_with_repeats(void **state)
{
	/* Same sweep as a sorted one, rows shuffled, three repeats per count;
	 * at 300 one repeat is above the line but the mean is below. */
	double r[15] = { 300, 100, 0, 400, 200, 0, 300, 400, 100, 200, 0, 200, 400, 300, 100 };
	double t[15] = { 97, 99, 101, 70, 80, 99, 80, 72, 100, 82, 100, 81, 71, 78, 98 };

	(void)state;
	/* m = 100, s = 1, line 95; means: 100 99, 200 81, 300 85, 400 71. */
	assert_int_equal(analysis_throughput_knee(r, t, 15), 200);
}

static void test_knee_degenerate(void **state)
{
	double r[4] = { 0, 100, 200, 300 }, t[4] = { 100, 50, 40, 30 };
	double only_base_r[3] = { 5, 5, 5 }, only_base_t[3] = { 10, 20, 30 };
	double zero_t[4] = { 0, 0, 0, 0 };
	double nan_r[5] = { 0, 100, NAN, 200, 300 }, nan_t[5] = { 100, 50, 100, 40, 30 };
	double nan_t2[5] = { 100, NAN, 50, 40, 30 };

	(void)state;
	assert_int_equal(analysis_throughput_knee(r, t, 0), -1);
	assert_int_equal(analysis_throughput_knee(r, t, 1), -1);
	assert_int_equal(analysis_throughput_knee(NULL, t, 4), -1);
	assert_int_equal(analysis_throughput_knee(r, NULL, 4), -1);
	assert_int_equal(analysis_throughput_knee(only_base_r, only_base_t, 3), -1);
	assert_int_equal(analysis_throughput_knee(r, zero_t, 4), -1);
	/* Rows with a missing value are left out, the rest still decide: a
	 * NaN throughput must not make the mean at 100 rules NaN. */
	assert_int_equal(analysis_throughput_knee(nan_r, nan_t, 5), 100);
	{
		double nr[5] = { 0, 100, 100, 200, 300 };
		assert_int_equal(analysis_throughput_knee(nr, nan_t2, 5), 100);
	}
	/* Baseline is the smallest count even when it is not 0. */
	{
		double r2[4] = { 300, 200, 100, 50 }, t2[4] = { 10, 10, 96, 100 };
		assert_int_equal(analysis_throughput_knee(r2, t2, 4), 200);
	}
}

/* The update-cost trend: a fit over every step, not one endpoint. */
static void test_update_trend(void **state)
{
	const double x[7] = { 0, 500, 1000, 1500, 2000, 2500, 3000 };
	double y[7];
	struct update_trend t;

	(void)state;
	/* flat with noise, one high endpoint: the old rule (max > 2 min) said
	 * "grows"; the fit over every step does not */
	for (int i = 0; i < 7; i++)
		y[i] = 5.0 + (i % 2 ? 0.4 : -0.4);
	y[6] = 10.0;
	analysis_update_trend(x, y, 7, &t);
	assert_false(t.grows);
	assert_true(t.exponent == 0);
	/* a line from 21.7 to 46.1 ms: grows, k about 1 */
	for (int i = 0; i < 7; i++)
		y[i] = 21.7 + 24.4 * x[i] / 3000 + (i % 2 ? 0.3 : -0.3);
	analysis_update_trend(x, y, 7, &t);
	assert_true(t.grows);
	assert_true(t.fit.slope_ci95_lo > 0);
	assert_true(t.exponent > 0.5 && t.exponent < 1.5);
	assert_true(fabs(t.ms_min - 21.4) < 1e-9 && fabs(t.ms_max - 45.8) < 1e-9);
	/* a rise of a tenth over the range: about constant, even if significant */
	for (int i = 0; i < 7; i++)
		y[i] = 10.0 + 1.0 * x[i] / 3000;
	analysis_update_trend(x, y, 7, &t);
	assert_false(t.grows);
	/* two steps: no interval, the rise decides */
	analysis_update_trend((const double[]){ 0, 1000 }, (const double[]){ 4, 9 }, 2, &t);
	assert_true(t.grows);
	analysis_update_trend((const double[]){ 0, 1000 }, (const double[]){ 4, 4.2 }, 2, &t);
	assert_false(t.grows);
	/* one step: no fit */
	analysis_update_trend(x, y, 1, &t);
	assert_false(t.fit_ok);
	assert_false(t.grows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_exact_line),
		cmocka_unit_test(test_fit_noisy_line),
		cmocka_unit_test(test_fit_anscombe_linear),
		cmocka_unit_test(test_fit_anscombe_quadratic),
		cmocka_unit_test(test_fit_quadratic_large_x),
		cmocka_unit_test(test_fit_exact_quadratic),
		cmocka_unit_test(test_fit_small_n),
		cmocka_unit_test(test_fit_two_distinct_x),
		cmocka_unit_test(test_fit_constant_y),
		cmocka_unit_test(test_fit_unsorted_same_as_sorted),
		cmocka_unit_test(test_fit_degenerate),
		cmocka_unit_test(test_fit_ci_coverage),
		cmocka_unit_test(test_t95_textbook),
		cmocka_unit_test(test_t95_precise),
		cmocka_unit_test(test_t95_monotone_and_degenerate),
		cmocka_unit_test(test_correlation),
		cmocka_unit_test(test_correlation_independent_noise),
		cmocka_unit_test(test_knee_baseline_spread),
		cmocka_unit_test(test_knee_line_exact),
		cmocka_unit_test(test_knee_recovering_drop),
		cmocka_unit_test(test_knee_drop_stays),
		cmocka_unit_test(test_knee_no_drop),
		cmocka_unit_test(test_knee_unsorted_with_repeats),
		cmocka_unit_test(test_knee_degenerate),
		cmocka_unit_test(test_update_trend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
