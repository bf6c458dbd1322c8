/* analysis: least squares, the quadratic-term test, correlation and the
 * throughput knee. The statistics are GSL's (fits, t and F distributions);
 * every function checks its input first so that a sweep with missing or odd
 * rows yields the documented "undefined" values instead of garbage. */
#include "results/analysis.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double analysis_t95(int df)
{
	return df < 1 ? NAN : gsl_cdf_tdist_Pinv(0.975, (double)df);
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

/* The quadratic-term test: the residual sum of squares of y = a + b u + c u²
 * (GSL's least squares, truncated SVD) against the line's, a partial F
 * test with 1 and n - 3 degrees of freedom. x is standardised first
 * (u = (x - mean) / rms) so u² keeps its precision for large rule counts;
 * the F test is invariant to that. */
static void quad_test(const double *x, const double *y, size_t n, double xm, double sxx,
		      double sse_lin, double ymax, struct linear_fit *fit)
{
	double sx = sqrt(sxx / (double)n), sse_q, f;
	gsl_multifit_linear_workspace *w;
	gsl_matrix *X;
	gsl_vector *yv, *c;
	gsl_matrix *cov;
	size_t rank = 0;

	fit->quad_coef = 0;
	fit->quad_p_value = 1;
	fit->quad_significant = false;
	if (n < 4)
		return;
	X = gsl_matrix_alloc(n, 3);
	yv = gsl_vector_alloc(n);
	c = gsl_vector_alloc(3);
	cov = gsl_matrix_alloc(3, 3);
	w = gsl_multifit_linear_alloc(n, 3);
	if (!X || !yv || !c || !cov || !w)
		goto out; /* cannot test: report "not significant" */
	for (size_t i = 0; i < n; i++) {
		double u = (x[i] - xm) / sx;
		gsl_matrix_set(X, i, 0, 1);
		gsl_matrix_set(X, i, 1, u);
		gsl_matrix_set(X, i, 2, u * u);
		gsl_vector_set(yv, i, y[i]);
	}
	/* Only two distinct x: u² is a combination of 1 and u, so c is not
	 * identifiable and the fit has rank 2. */
	if (gsl_multifit_linear_tsvd(X, yv, 1e-10, c, cov, &sse_q, &rank, w) || rank < 3)
		goto out;
	fit->quad_coef = gsl_vector_get(c, 2) / (sx * sx);
	/* A line that fits to rounding error leaves nothing for u² to explain;
	 * testing rounding noise against rounding noise would be random. */
	if (sse_lin <= (double)n * (1e-12 * ymax) * (1e-12 * ymax))
		goto out;
	if (sse_q > sse_lin)
		sse_q = sse_lin; /* a third term can only lower it: rounding */
	f = sse_q > 0 ? (sse_lin - sse_q) / (sse_q / (double)(n - 3)) : (double)INFINITY;
	fit->quad_p_value = isinf(f) ? 0 : gsl_cdf_fdist_Q(f, 1, (double)(n - 3));
	fit->quad_significant = fit->quad_p_value < 0.05;
out:
	gsl_multifit_linear_free(w);
	gsl_matrix_free(cov);
	gsl_vector_free(c);
	gsl_vector_free(yv);
	gsl_matrix_free(X);
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
	double xm, ym, sxx, sxy, syy, a, b, cov00, cov01, cov11, sse, ymax = 0;

	if (!fit)
		return -1;
	memset(fit, 0, sizeof(*fit));
	if (!x || !y || n < 2 || !all_finite(x, n) || !all_finite(y, n) || all_equal(x, n))
		return -1;
	/* GSL's default handler aborts the process; its status codes suffice. */
	gsl_set_error_handler_off();
	centred_sums(x, y, n, &xm, &ym, &sxx, &sxy, &syy);
	if (gsl_fit_linear(x, 1, y, 1, n, &a, &b, &cov00, &cov01, &cov11, &sse) ||
	    !(sxx > 0) || !isfinite(sxx) || !isfinite(syy) || !isfinite(b) || !isfinite(a))
		return -1; /* overflow or underflow in the sums */
	for (size_t i = 0; i < n; i++)
		if (fabs(y[i]) > ymax)
			ymax = fabs(y[i]);
	fit->n = n;
	fit->slope = b;
	fit->intercept = a;
	/* Constant y: the horizontal line explains it completely. */
	fit->r2 = syy > 0 ? 1 - sse / syy : 1;
	fit->r2 = fit->r2 < 0 ? 0 : fit->r2 > 1 ? 1 : fit->r2;
	if (n > 2) {
		/* cov11 is the slope's variance, sse / (n - 2) / Sxx */
		double t = analysis_t95(n - 2 > 1000000000 ? 1000000000 : (int)(n - 2));
		fit->slope_ci95_lo = b - t * sqrt(cov11);
		fit->slope_ci95_hi = b + t * sqrt(cov11);
	} else {
		/* Two points leave no degrees of freedom for the error. */
		fit->slope_ci95_lo = NAN;
		fit->slope_ci95_hi = NAN;
	}
	quad_test(x, y, n, xm, sxx, sse, ymax, fit);
	return 0;
}

int analysis_power_fit(const double *x, const double *y, size_t n, double baseline,
		       struct linear_fit *fit)
{
	double *lx = malloc((n ? n : 1) * sizeof(double)), *ly = malloc((n ? n : 1) * sizeof(double));
	size_t m = 0;
	int rc = -1;

	if (fit)
		memset(fit, 0, sizeof(*fit));
	if (lx && ly && x && y && fit && isfinite(baseline)) {
		for (size_t i = 0; i < n; i++)
			if (x[i] > 0 && isfinite(y[i]) && y[i] > baseline) {
				lx[m] = log(x[i]);
				ly[m++] = log(y[i] - baseline);
			}
		rc = analysis_linear_fit(lx, ly, m, fit);
	}
	free(lx);
	free(ly);
	return rc;
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
