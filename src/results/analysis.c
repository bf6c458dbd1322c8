/* analysis: least squares, the quadratic-term test, correlation and the
 * throughput knee. Pure computation with libm only; every function checks its
 * input first so that a sweep with missing or odd rows yields the documented
 * "undefined" values instead of garbage. */
#include "results/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Two-sided 95 % Student t quantiles for df = 1..30 (computed with mpmath to
 * 15 digits). Small df is where asymptotic formulas fail, so a table is
 * exact where it matters most. */
static const double t95_table[30] = {
	12.7062047361747, 4.30265272974946, 3.18244630528371, 2.77644510519779,
	2.57058183563632, 2.44691185114497, 2.36462425159279, 2.30600413520417,
	2.26215716279821, 2.22813885198627, 2.20098516009164, 2.17881282966723,
	2.16036865646279, 2.14478668791780, 2.13144954555978, 2.11990529922125,
	2.10981557783332, 2.10092204024104, 2.09302405440831, 2.08596344726586,
	2.07961384472768, 2.07387306790403, 2.06865761041905, 2.06389856162803,
	2.05953855275330, 2.05552943864287, 2.05183051648029, 2.04840714179525,
	2.04522964213270, 2.04227245630124,
};

double analysis_t95(int df)
{
	/* Normal 97.5 % quantile. */
	const double z = 1.9599639845400542;
	double d, z2;

	if (df < 1)
		return NAN; /* no degrees of freedom: no interval */
	if (df <= 30)
		return t95_table[df - 1];
	/* Cornish-Fisher expansion of the t quantile in powers of 1/df (Abramowitz
	 * & Stegun 26.7.5); with four correction terms the absolute error is
	 * below 3e-8 at df = 31 and shrinks as df^-5 beyond. */
	d = (double)df;
	z2 = z * z;
	return z + z * (z2 + 1) / (4 * d) +
	       z * ((5 * z2 + 16) * z2 + 3) / (96 * d * d) +
	       z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / (384 * d * d * d) +
	       z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) /
		       (92160 * d * d * d * d);
}

/* One modified-Lentz update of the continued fraction with coefficient aa:
 * advances c and d and returns the factor the value is multiplied by. */
static double lentz_step(double aa, double *c, double *d)
{
	const double tiny = 1e-300;

	*d = 1 + aa * *d;
	if (fabs(*d) < tiny)
		*d = tiny;
	*c = 1 + aa / *c;
	if (fabs(*c) < tiny)
		*c = tiny;
	*d = 1 / *d;
	return *d * *c;
}

/* Continued fraction for the incomplete beta function (modified Lentz),
 * valid and fast for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	/* Convergence takes O(sqrt(max(a, b))) steps; the cap covers a, b up
	 * to ~1e7, i.e. any sweep this tool will ever fit. */
	for (int m = 1; m <= 20000; m++) {
		double m2 = 2.0 * m, aa, del;

		aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		h *= lentz_step(aa, &c, &d);
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		del = lentz_step(aa, &c, &d);
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

/* Regularized incomplete beta I_x(a, b) for a, b > 0. */
static double beta_reg(double a, double b, double x)
{
	double lbt;

	if (!(x > 0))
		return 0;
	if (x >= 1)
		return 1;
	lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	/* Use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) to stay in the region
	 * where the continued fraction converges quickly. */
	if (x < (a + 1) / (a + b + 2))
		return exp(lbt) * beta_cf(a, b, x) / a;
	return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

/* Upper tail P(F > f) of the F distribution with d1 and d2 degrees of
 * freedom: I_{d2/(d2 + d1 f)}(d2/2, d1/2). */
static double f_sf(double f, double d1, double d2)
{
	if (isnan(f))
		return 1;
	if (f <= 0)
		return 1;
	if (isinf(f))
		return 0;
	return beta_reg(d2 / 2, d1 / 2, d2 / (d2 + d1 * f));
}

/* Mean of v computed relative to v[0], so that constant data gives exactly
 * v[0] and exactly-zero deviations (a plain sum / n can be off by an ulp). */
static double shifted_mean(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i] - v[0];
	return v[0] + s / (double)n;
}

static bool all_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

static bool all_equal(const double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

/* The quadratic-term test, given the linear fit's residuals e. By
 * Frisch-Waugh, the coefficient of x² in y = a + b x + c x² equals the
 * regression of y on the part q of x² orthogonal to {1, x}, and adding the
 * term removes (q·e)² / (q·q) from the residual sum of squares. x is
 * standardised first (u = (x - mean) / rms) so x² does not lose precision
 * for large rule counts; the F test is invariant to that. */
static void quad_test(const double *x, const double *e, size_t n, double xm,
		      double sxx, double sse_lin, double ymax, struct linear_fit *fit)
{
	double sx = sqrt(sxx / (double)n), u2m = 0, qu = 0, qq = 0, qe = 0;
	double sse_q = 0, cu, f;
	double *q;

	fit->quad_coef = 0;
	fit->quad_p_value = 1;
	fit->quad_significant = false;
	if (n < 4)
		return;
	q = malloc(n * sizeof(*q));
	if (!q)
		return; /* cannot test: report "not significant" */
	for (size_t i = 0; i < n; i++) {
		double u = (x[i] - xm) / sx;
		q[i] = u * u;
		u2m += q[i];
	}
	u2m /= (double)n;
	/* q ⟂ 1 by centring; then remove its projection onto u (Σu² = n). */
	for (size_t i = 0; i < n; i++) {
		q[i] -= u2m;
		qu += q[i] * ((x[i] - xm) / sx);
	}
	qu /= (double)n;
	for (size_t i = 0; i < n; i++) {
		q[i] -= qu * ((x[i] - xm) / sx);
		qq += q[i] * q[i];
		qe += q[i] * e[i];
	}
	/* Only two distinct x: x² is a linear combination of 1 and x, so c is
	 * not identifiable (q is pure rounding noise; its entries are O(1)
	 * otherwise). */
	if (qq <= 1e-10 * (double)n) {
		free(q);
		return;
	}
	cu = qe / qq;
	for (size_t i = 0; i < n; i++) {
		double r = e[i] - cu * q[i];
		sse_q += r * r;
	}
	free(q);
	fit->quad_coef = cu / (sx * sx);
	/* A line that fits to rounding error leaves nothing for x² to explain;
	 * testing rounding noise against rounding noise would be random. */
	if (sse_lin <= (double)n * (1e-12 * ymax) * (1e-12 * ymax))
		return;
	f = sse_q > 0 ? (sse_lin - sse_q) / (sse_q / (double)(n - 3)) : (double)INFINITY;
	fit->quad_p_value = f_sf(f, 1, (double)(n - 3));
	fit->quad_significant = fit->quad_p_value < 0.05;
}

/* Means of x and y, and the sums of squares and products of their
 * deviations, which the fit and the correlation both start from. */
static void centred_sums(const double *x, const double *y, size_t n, double *xm, double *ym,
			 double *sxx, double *sxy, double *syy)
{
	*xm = shifted_mean(x, n);
	*ym = shifted_mean(y, n);
	*sxx = *sxy = *syy = 0;
	for (size_t i = 0; i < n; i++) {
		double dx = x[i] - *xm, dy = y[i] - *ym;
		*sxx += dx * dx;
		*sxy += dx * dy;
		*syy += dy * dy;
	}
}

int analysis_linear_fit(const double *x, const double *y, size_t n, struct linear_fit *fit)
{
	double xm, ym, sxx, sxy, syy, sse = 0, ymax = 0, b, a;
	double *e;

	if (!fit)
		return -1;
	memset(fit, 0, sizeof(*fit));
	if (!x || !y || n < 2 || !all_finite(x, n) || !all_finite(y, n) || all_equal(x, n))
		return -1;
	centred_sums(x, y, n, &xm, &ym, &sxx, &sxy, &syy);
	b = sxy / sxx;
	a = ym - b * xm;
	if (!(sxx > 0) || !isfinite(sxx) || !isfinite(syy) || !isfinite(sxy) ||
	    !isfinite(b) || !isfinite(a))
		return -1; /* overflow or underflow in the sums */
	e = malloc(n * sizeof(*e));
	if (!e)
		return -1;
	/* Residuals from centred values: more accurate than Syy - b Sxy. */
	for (size_t i = 0; i < n; i++) {
		e[i] = (y[i] - ym) - b * (x[i] - xm);
		sse += e[i] * e[i];
		if (fabs(y[i]) > ymax)
			ymax = fabs(y[i]);
	}
	fit->n = n;
	fit->slope = b;
	fit->intercept = a;
	/* Constant y: the horizontal line explains it completely. */
	fit->r2 = syy > 0 ? 1 - sse / syy : 1;
	if (fit->r2 < 0)
		fit->r2 = 0;
	if (fit->r2 > 1)
		fit->r2 = 1;
	if (n > 2) {
		double se = sqrt(sse / (double)(n - 2) / sxx);
		double t = analysis_t95(n - 2 > 1000000000 ? 1000000000 : (int)(n - 2));
		fit->slope_ci95_lo = b - t * se;
		fit->slope_ci95_hi = b + t * se;
	} else {
		/* Two points leave no degrees of freedom for the error. */
		fit->slope_ci95_lo = NAN;
		fit->slope_ci95_hi = NAN;
	}
	quad_test(x, e, n, xm, sxx, sse, ymax, fit);
	free(e);
	return 0;
}

double analysis_correlation(const double *x, const double *y, size_t n)
{
	double xm, ym, sxx, syy, sxy, r;

	if (!x || !y || n < 2 || !all_finite(x, n) || !all_finite(y, n) ||
	    all_equal(x, n) || all_equal(y, n))
		return NAN;
	centred_sums(x, y, n, &xm, &ym, &sxx, &sxy, &syy);
	if (!isfinite(sxx) || !isfinite(syy) || !isfinite(sxy) || !(sxx > 0) || !(syy > 0))
		return NAN; /* overflow or underflow in the sums */
	/* Separate square roots so the product cannot overflow. */
	r = sxy / (sqrt(sxx) * sqrt(syy));
	if (!isfinite(r))
		return NAN;
	return r > 1 ? 1 : r < -1 ? -1 : r;
}

struct knee_row {
	double rules, tput;
};

static int knee_row_cmp(const void *pa, const void *pb)
{
	const struct knee_row *a = pa, *b = pb;

	return (a->rules > b->rules) - (a->rules < b->rules);
}

long analysis_throughput_knee(const double *rules, const double *tput, size_t n)
{
	struct knee_row *rows;
	size_t m = 0, i, j, base_n;
	double base_mean = 0, base_ss = 0, s, rel, line;
	long knee = -1;

	if (!rules || !tput || n == 0)
		return -1;
	rows = malloc(n * sizeof(*rows));
	if (!rows)
		return -1;
	/* A row with a missing (non-finite) value is a failed measurement, not
	 * a zero: leave it out rather than let it decide the knee. */
	for (i = 0; i < n; i++)
		if (isfinite(rules[i]) && isfinite(tput[i]))
			rows[m++] = (struct knee_row){ rules[i], tput[i] };
	if (m == 0)
		goto out;
	qsort(rows, m, sizeof(*rows), knee_row_cmp);

	/* Baseline: every row at the smallest rule count. */
	for (base_n = 0; base_n < m && rows[base_n].rules == rows[0].rules; base_n++)
		base_mean += rows[base_n].tput;
	base_mean /= (double)base_n;
	for (i = 0; i < base_n; i++)
		base_ss += (rows[i].tput - base_mean) * (rows[i].tput - base_mean);
	s = base_n > 1 ? sqrt(base_ss / (double)(base_n - 1)) : 0;
	/* Without positive baseline throughput there is nothing to lose. */
	if (!(base_mean > 0))
		goto out;
	rel = 3 * s / base_mean;
	line = base_mean * (1 - (rel > 0.05 ? rel : 0.05));

	/* Walk the rule counts from the largest down: the knee is the last
	 * group reached while every group so far is below the line. */
	j = m;
	while (j > base_n) {
		size_t k = j;
		double sum = 0;

		while (k > base_n && rows[k - 1].rules == rows[j - 1].rules)
			sum += rows[--k].tput;
		if (!(sum / (double)(j - k) < line))
			break;
		knee = lround(rows[k].rules);
		j = k;
	}
out:
	free(rows);
	return knee;
}
