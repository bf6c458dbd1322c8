/* analysis: least squares, the quadratic-term test, correlation and the
 * throughput knee. The statistics are GSL's (fits, t and F distributions);
 * every function checks its input first so that a sweep with missing or odd
 * rows yields the documented "undefined" values instead of garbage. */
#include "results/analysis.h"

#include <stddef.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

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

/* --- the summaries of a run (results.h's types) --- */

void analysis_update_trend(const double *x, const double *y, size_t n, struct update_trend *t)
{
	size_t lo = 0, hi = 0;
	struct linear_fit pf;

	memset(t, 0, sizeof(*t));
	t->exponent = NAN;
	if (n == 0)
		return;
	for (size_t i = 1; i < n; i++) {
		lo = x[i] < x[lo] ? i : lo;
		hi = x[i] > x[hi] ? i : hi;
	}
	t->ms_min = y[lo];
	t->ms_max = y[hi];
	if (!(t->fit_ok = analysis_linear_fit(x, y, n, &t->fit) == 0))
		return;
	/* The line's rise over the range against its own value at the start:
	 * one step's noise moves an endpoint, not a fit over every step. */
	double rise = t->fit.slope * (x[hi] - x[lo]);
	double start = t->fit.intercept + t->fit.slope * x[lo];
	bool ci_above = n < 3 || !isfinite(t->fit.slope_ci95_lo) || t->fit.slope_ci95_lo > 0;
	t->grows = rise > 0.2 * fabs(start) && ci_above;
	double floor = INFINITY;
	for (size_t i = 0; i < n; i++)
		floor = fmin(floor, y[i]);
	/* The exponent of the growth above the cheapest step's cost. */
	if (!t->grows)
		t->exponent = 0;
	else if (analysis_power_fit(x, y, n, floor - 0.001 * fabs(floor), &pf) == 0)
		t->exponent = pf.slope;
}

void results_summarize_updates(const struct update_row *rows, size_t n, struct update_summary *s)
{
	double *x = calloc(n ? n : 1, sizeof(double)), *a = calloc(n ? n : 1, sizeof(double));
	double *d = calloc(n ? n : 1, sizeof(double));

	memset(s, 0, sizeof(*s));
	s->rows = n;
	s->add.exponent = s->del.exponent = NAN;
	if (x && a && d && n) {
		s->min_rules = s->max_rules = rows[0].rules;
		for (size_t i = 0; i < n; i++) {
			x[i] = (double)rows[i].rules;
			a[i] = rows[i].add_ms;
			d[i] = rows[i].delete_ms;
			s->min_rules = rows[i].rules < s->min_rules ? rows[i].rules : s->min_rules;
			s->max_rules = rows[i].rules > s->max_rules ? rows[i].rules : s->max_rules;
		}
		analysis_update_trend(x, a, n, &s->add);
		analysis_update_trend(x, d, n, &s->del);
	}
	free(x);
	free(a);
	free(d);
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
