/* Unit tests of src/results/rounds.c: per-round slopes and their spread
 * from rows built by hand, where the answers are exact. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/rounds.h"

static void assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, tol);
}

/* Round r (1..3) costs 100 + (r + 1) * rules ns: slopes 2, 3 and 4 over 0,
 * 500, 1000 rules, the rows in a scrambled order as rounds write them. */
static size_t three_rounds(struct step_row *rows)
{
	static const long counts[3][3] = { { 1000, 0, 500 }, { 500, 1000, 0 }, { 0, 500, 1000 } };
	size_t n = 0;

	for (int r = 1; r <= 3; r++)
		for (int i = 0; i < 3; i++) {
			long c = counts[r - 1][i];
			rows[n++] = (struct step_row){ .rules = c, .repeat = r, .packets = 1000,
						       .lat_avg_ns = 100 + (double)(r + 1) * (double)c };
		}
	return n;
}

static void test_slopes_and_spread(void **state)
{
	struct step_row rows[9];
	struct round_stats s;
	size_t n = three_rounds(rows);

	(void)state;
	rounds_summarize(rows, n, 3, &s);
	assert_int_equal(s.rounds, 3);
	assert_int_equal(s.n_slopes, 3);
	assert_close(s.slopes[0], 2, 1e-12);
	assert_close(s.slopes[1], 3, 1e-12);
	assert_close(s.slopes[2], 4, 1e-12);
	assert_close(s.mean, 3, 1e-12);
	assert_close(s.sd, 1, 1e-12);          /* sample SD of 2, 3, 4 */
	assert_close(s.cv, 1.0 / 3, 1e-12);
	/* the same counts in every round: the pooled slope is their mean */
	assert_close(s.pooled_slope, 3, 1e-12);
	assert_true(s.half_width_pct > 0 && isfinite(s.half_width_pct));
	assert_true(rounds_precise(&s, s.half_width_pct + 1e-9));
	assert_false(rounds_precise(&s, s.half_width_pct * 0.99));
}

/* Exact lines with one slope: no spread, and a CI of zero width. */
static void test_identical_rounds(void **state)
{
	struct step_row rows[9];
	struct round_stats s;
	size_t n = three_rounds(rows);

	(void)state;
	for (size_t i = 0; i < n; i++)
		rows[i].lat_avg_ns = 100 + 5.0 * (double)rows[i].rules;
	rounds_summarize(rows, n, 3, &s);
	assert_close(s.sd, 0, 1e-9);
	assert_close(s.cv, 0, 1e-9);
	assert_close(s.half_width_pct, 0, 1e-6);
	assert_true(rounds_precise(&s, 0.001));
}

/* A step without packets has no latency; a round left with one count has
 * no slope of its own, and the spread is of the others. */
static void test_missing_and_undefined(void **state)
{
	struct step_row rows[9];
	struct round_stats s;
	size_t n = three_rounds(rows);

	(void)state;
	for (size_t i = 0; i < n; i++)
		if (rows[i].repeat == 2 && rows[i].rules != 0) {
			rows[i].packets = 0;
			rows[i].lat_avg_ns = 1e9; /* must not count */
		}
	rounds_summarize(rows, n, 3, &s);
	assert_true(isnan(s.slopes[1]));
	assert_int_equal(s.n_slopes, 2);
	assert_close(s.mean, 3, 1e-12);
	assert_close(s.sd, sqrt(2), 1e-12);
	/* one round only: no spread */
	rounds_summarize(rows, 3, 1, &s);
	assert_int_equal(s.n_slopes, 1);
	assert_true(isnan(s.sd) && isnan(s.cv));
	/* no rows at all */
	rounds_summarize(rows, 0, 0, &s);
	assert_true(isnan(s.mean) && isnan(s.pooled_slope) && isnan(s.half_width_pct));
	assert_false(rounds_precise(&s, 50));
}

static void test_json_and_report(void **state)
{
	struct step_row rows[9];
	struct round_stats s[2];
	size_t n = three_rounds(rows);
	char text[4096];
	const char *names[2] = { "nft", "nft-set" };

	(void)state;
	rounds_summarize(rows, n, 3, &s[0]);
	rounds_summarize(rows, 3, 1, &s[1]); /* round 1 only: sd null */
	json_object *j = rounds_stats_json(&s[0]), *v;
	assert_true(json_object_object_get_ex(j, "slopes_ns_per_rule", &v));
	assert_int_equal(json_object_array_length(v), 3);
	assert_true(json_object_object_get_ex(j, "slope_cv", &v));
	assert_close(json_object_get_double(v), 1.0 / 3, 1e-12);
	json_object_put(j);
	j = rounds_stats_json(&s[1]);
	assert_true(json_object_object_get_ex(j, "slope_sd_ns_per_rule", &v));
	assert_null(v);
	json_object_put(j);

	struct rounds_outcome o = { .rounds = 3, .seed = 7, .precision_mode = true,
				    .precision_pct = 5, .budget_s = 120, .precision_reached = false,
				    .stop_reason = "budget" };
	FILE *f = fmemopen(text, sizeof(text), "w");
	assert_non_null(f);
	fputs("# before\n", f);
	rounds_report(f, &o, names, "backend", s, 2);
	assert_false(ferror(f));
	fclose(f);
	text[sizeof(text) - 1] = '\0';
	assert_non_null(strstr(text, "# before\n")); /* appended, not replaced */
	assert_non_null(strstr(text, "## How precise is the slope?"));
	assert_non_null(strstr(text, "**Not reached** (stopped by: budget)"));
	assert_non_null(strstr(text, "| nft | 2.00, 3.00, 4.00 | 3.00 | 1.00 | 33.3 % |"));
	assert_non_null(strstr(text, "| nft-set | 2.00 | 2.00 | n/a | n/a |"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slopes_and_spread),
		cmocka_unit_test(test_identical_rounds),
		cmocka_unit_test(test_missing_and_undefined),
		cmocka_unit_test(test_json_and_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
