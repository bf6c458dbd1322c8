/* analysis: the numbers a sweep is judged by, computed from its rows with no
 * I/O: least-squares fit of latency against rule count (with R², a 95 %
 * confidence interval of the slope and a test of a quadratic term), the
 * throughput knee, correlations, the growth exponent, and the summaries of
 * a run's rows (results_summarize) and of its update costs
 * (results_summarize_updates); the row and summary types are results.h's. */
#ifndef NFCOST_ANALYSIS_H
#define NFCOST_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

struct linear_fit {
	size_t n;
	double intercept, slope;       /* y = intercept + slope * x */
	double r2;
	double slope_ci95_lo, slope_ci95_hi; /* Student t, n - 2 degrees of freedom */
	/* y = a + b x + c x²: is c significantly non-zero (partial F test, 5 %)? */
	double quad_coef, quad_p_value;
	bool quad_significant;
};

/* Ordinary least squares over n points; needs n >= 2 and two distinct x.
 * 0, or -1 when the fit is undefined (then *fit is zeroed). With n < 4 the
 * quadratic test is skipped (p = 1, not significant). */
int analysis_linear_fit(const double *x, const double *y, size_t n, struct linear_fit *fit);

/* The growth exponent k of y = baseline + c x^k: the least-squares line of
 * log(y - baseline) against log(x) over the points with x > 0 and
 * y > baseline (fit->slope is k, with its 95 % CI). 0, or -1 when fewer than
 * two such points with distinct x remain. */
int analysis_power_fit(const double *x, const double *y, size_t n, double baseline,
		       struct linear_fit *fit);

/* Pearson correlation of x and y; NAN when undefined (n < 2 or a constant). */
double analysis_correlation(const double *x, const double *y, size_t n);

/* Throughput knee. rows: n pairs (rules[i], tput[i]) in any order, several
 * repeats per rule count allowed. The baseline is the rows at the smallest
 * rule count: its mean m and its spread s (sample standard deviation, 0 for
 * one row). The knee is the smallest rule count r above the baseline's such
 * that, for r and every larger rule count, the mean throughput is below
 * m * (1 - max(0.05, 3 * s / m)). Returns r, or -1 when throughput never
 * stays below that line. */
long analysis_throughput_knee(const double *rules, const double *tput, size_t n);

/* How the cost of one kind of change (adding or deleting one rule) grows
 * with the rule set, judged from a fit over every step. */
struct update_trend {
	double ms_min, ms_max;          /* at the smallest and the largest count */
	bool fit_ok;
	struct linear_fit fit;          /* ms against rules */
	double exponent;                /* ms = a + c rules^k; 0 when it stays constant,
					 * NAN when undetermined */
	bool grows;
};

/* The trend of y (ms) against x (rules) over n steps. It grows when, over
 * the range of x, the fitted line rises by more than a fifth of its value
 * at the smallest x, and (with three steps or more) the slope's 95 % CI
 * lies above zero; then exponent is the k of y = b + c x^k with b just
 * under the smallest y. ms_min / ms_max are y at the smallest / largest x. */
void analysis_update_trend(const double *x, const double *y, size_t n, struct update_trend *t);

struct step_row;
struct sweep_summary;
struct update_row;
struct update_summary;
/* The summary of a run's rows (results.h). */
void results_summarize(const struct step_row *rows, size_t n, int matches_per_rule,
		       struct sweep_summary *s);
/* Adding and deleting one rule, each judged by analysis_update_trend. */
void results_summarize_updates(const struct update_row *rows, size_t n, struct update_summary *s);

/* Student t quantile for a two-sided 95 % interval with df degrees of freedom. */
double analysis_t95(int df);

#endif
