/* The growth verdict a report gives for a sweep's summary, and what
 * report.md says of a chain whose rules cost more in its longer part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/report.h"

static struct sweep_summary summary(size_t n, double slope, double lo, double hi, double r2,
				    bool quad, double base)
{
	struct sweep_summary s = { .rows = n, .fit_ok = true, .min_rules = 0, .max_rules = 2000,
				   .baseline_lat_ns = base };

	s.fit.n = n;
	s.fit.slope = slope;
	s.fit.slope_ci95_lo = lo;
	s.fit.slope_ci95_hi = hi;
	s.fit.r2 = r2;
	s.fit.quad_significant = quad;
	s.baseline_p50_ns = s.max_rules_p50_ns = NAN; /* no medians unless a test sets them */
	return s;
}

static void test_verdicts(void **state)
{
	struct sweep_summary s;

	(void)state;
	s = summary(5, 30, 29, 31, 0.999, false, 400);
	assert_string_equal(report_growth_verdict(&s), "linear");
	s = summary(5, 30, 29, 31, 0.95, true, 400);
	assert_string_equal(report_growth_verdict(&s), "mostly linear");
	s = summary(31, 57, 50, 64, 0.80, true, 600);
	assert_string_equal(report_growth_verdict(&s), "growing, not linear");
	/* a set: 0.01 ns/rule over 2000 rules against a 500 ns empty chain */
	s = summary(5, 0.01, -0.1, 0.12, 0.3, false, 500);
	assert_string_equal(report_growth_verdict(&s), "flat");
	/* 300 ns over the range, the interval reaches 0, less than the base: flat */
	s = summary(3, 0.15, -0.2, 0.5, 0.6, false, 480);
	assert_string_equal(report_growth_verdict(&s), "flat");
	/* a chain with one noisy step (df 1): the interval reaches 0, but it grows
	 * 60 us against a 400 ns base, so it is not flat */
	s = summary(3, 30, -5, 65, 0.97, false, 400);
	assert_string_equal(report_growth_verdict(&s), "linear");
	/* a set whose last step caught interrupts: the average grew 560 ns over a
	 * 500 ns base, the median barely moved */
	s = summary(3, 0.28, -2.0, 2.6, 0.7, false, 500);
	assert_string_equal(report_growth_verdict(&s), "growing, not linear");
	s.baseline_p50_ns = 340;
	s.max_rules_p50_ns = 390;
	assert_string_equal(report_growth_verdict(&s), "flat");
	/* a chain: the median grows with the average */
	s = summary(3, 30, -5, 65, 0.97, false, 400);
	s.baseline_p50_ns = 300;
	s.max_rules_p50_ns = 56000;
	assert_string_equal(report_growth_verdict(&s), "linear");
	/* two points: any line fits, no interval */
	s = summary(2, 18, NAN, NAN, 1.0, false, 400);
	assert_string_equal(report_growth_verdict(&s), "growing");
	s = summary(2, 0.01, NAN, NAN, 1.0, false, 900);
	assert_string_equal(report_growth_verdict(&s), "flat");
	s.fit_ok = false;
	assert_string_equal(report_growth_verdict(&s), "undetermined");
}

/* report.md of a sweep with summary s (and updates u, or NULL) into buf. */
static void write_report_with(const struct sweep_summary *s, const struct report_updates *u,
			      char *buf, size_t len)
{
	struct run_meta m = { .cpus = 2, .backend = "iptables-nft", .shape = "addr-port",
			      .hook = "output", .tracer = "nfhook", .matches_per_rule = 3,
			      .repeat = 1, .start = 0, .stop = 2000, .step = 500 };
	struct step_row rows[1] = { { .rules = 0, .repeat = 1 } };
	struct report_sweep_data r = { .meta = &m, .sum = s, .rows = rows, .n = 1, .updates = u };
	FILE *f = fmemopen(buf, len, "w");

	assert_non_null(f);
	report_sweep(f, &r);
	assert_false(ferror(f));
	fclose(f);
	buf[len - 1] = '\0';
}

static void write_report(const struct sweep_summary *s, char *buf, size_t len)
{
	write_report_with(s, NULL, buf, len);
}

static void test_half_slopes_text(void **state)
{
	static char text[1 << 16];
	struct sweep_summary s;

	(void)state;
	s = summary(31, 57, 53, 60, 0.975, true, 371);
	s.fit.quad_coef = 0.01;
	s.mid_rules = 1500;
	s.slope_lower_half = 46.2;
	s.slope_upper_half = 68.9;
	s.knee_rules = -1;
	s.cwnd_corr = NAN;
	write_report(&s, text, sizeof(text));
	assert_non_null(strstr(text, "**Mostly linearly.**"));
	assert_non_null(strstr(text, "46.20 ns per rule up to 1500 rules, 68.90 ns beyond (+49 %)"));
	assert_non_null(strstr(text, "Rules cost more in the longer chain"));
	assert_null(strstr(text, "each rule adds a fixed cost"));
	/* and a straight line keeps the plain answer */
	s = summary(5, 30, 29, 31, 0.999, false, 400);
	s.knee_rules = -1;
	s.cwnd_corr = NAN;
	write_report(&s, text, sizeof(text));
	assert_non_null(strstr(text, "**Yes, linearly.**"));
	assert_non_null(strstr(text, "each rule adds a fixed cost"));
}

/* With no python3 the warning names the reason (it once printed none),
 * and report_plot prints nothing itself. */
static void test_plot_without_python(void **state)
{
	char dir[] = "/tmp/nfcost-plot-XXXXXX", path[64];
	struct nf_error warn = { 0 }, err = { 0 };
	struct outdir d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(outdir_open(&d, path, "sweep", &err), 0);
	setenv("NFCOST_PYTHON", "/nonexistent/python3", 1);
	/* the tests run from the source tree's top (tests/run.sh) */
	setenv("NFCOST_PLOT", "scripts/plot_results.py", 1);
	int rc = report_plot("sweep", &d, &warn);
	unsetenv("NFCOST_PYTHON");
	unsetenv("NFCOST_PLOT");
	assert_int_equal(rc, -1);
	assert_non_null(strstr(warn.msg, "no figure drawn: python3 not found"));
	assert_null(strchr(warn.msg, '\n')); /* one line */
	outdir_close(&d);
	/* the figure was claimed as nfcost's: the next run removes it (there is none) */
	assert_int_equal(outdir_open(&d, path, "sweep", &err), 0);
	outdir_close(&d);
	snprintf(path, sizeof(path), "%s/out/.nfcost", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/out", dir);
	rmdir(path);
	rmdir(dir);
}

static struct sweep_summary cpu_summary(double hook, double hlo, double hhi, double cpu,
					double clo, double chi)
{
	struct sweep_summary s = summary(5, hook, hlo, hhi, 0.999, false, 400);

	s.knee_rules = -1;
	s.cwnd_corr = NAN;
	s.segments_per_packet = NAN;
	s.cpu_fit_ok = true;
	s.cpu_fit.slope = cpu;
	s.cpu_fit.slope_ci95_lo = clo;
	s.cpu_fit.slope_ci95_hi = chi;
	return s;
}

/* Issue 21's demo: 80 ns in the hooks (76..83) against 70 ns total
 * (47..94): the intervals overlap, so the hooks account for all of it
 * within the precision; never "the rest is elsewhere" beside 112 %. */
static void test_cpu_share_overlap(void **state)
{
	static char text[1 << 16];
	struct sweep_summary s = cpu_summary(79.5, 76, 83, 70.6, 47, 94);

	(void)state;
	write_report(&s, text, sizeof(text));
	assert_non_null(strstr(text, "(95 % CI 47.00..94.00), against 79.50 ns in the hooks "
				     "(95 % CI 76.00..83.00)"));
	assert_non_null(strstr(text, "the hooks account for all of it within the measurement's "
				     "precision"));
	assert_null(strstr(text, "elsewhere"));
}

/* The total's interval above the hooks': the rest is spent elsewhere. */
static void test_cpu_share_rest_elsewhere(void **state)
{
	static char text[1 << 16];
	struct sweep_summary s = cpu_summary(40, 38, 42, 100, 90, 110);

	(void)state;
	write_report(&s, text, sizeof(text));
	assert_non_null(strstr(text, "the hooks account for 40 % of what a rule costs; the rest, "
				     "60.00 ns, is spent elsewhere in the stack"));
	assert_null(strstr(text, "within the measurement's precision"));
}

/* The total's interval below the hooks': the figures disagree, said so. */
static void test_cpu_share_contradiction(void **state)
{
	static char text[1 << 16];
	struct sweep_summary s = cpu_summary(80, 78, 82, 50, 45, 55);

	(void)state;
	write_report(&s, text, sizeof(text));
	assert_non_null(strstr(text, "the hooks account for more than the whole machine spent "
				     "(160 %)"));
	assert_null(strstr(text, "elsewhere in the stack"));
	assert_null(strstr(text, "within the measurement's precision"));
}

/* No interval (two steps): the share is given, not judged. */
static void test_cpu_share_no_interval(void **state)
{
	static char text[1 << 16];
	struct sweep_summary s = cpu_summary(40, NAN, NAN, 100, NAN, NAN);

	(void)state;
	s.fit.n = 2;
	write_report(&s, text, sizeof(text));
	assert_non_null(strstr(text, "the hooks account for 40 % of it, but two steps give no "
				     "interval"));
	assert_null(strstr(text, "elsewhere in the stack"));
	/* and a total that does not grow says so */
	s = cpu_summary(40, 38, 42, -1, -3, 1);
	write_report(&s, text, sizeof(text));
	assert_non_null(strstr(text, "did not grow with the rules (-1.00 ns per rule)"));
}

/* Issue 20 item 14: a growing delete column and a flat add column give two
 * verdicts, each said (the demo's shape: deleting 21.7 ms -> 46.1 ms). */
static void test_update_verdicts(void **state)
{
	static char text[1 << 16];
	struct update_row rows[7];
	struct report_updates u = { rows, 7, { 0 } };
	struct sweep_summary s = summary(5, 30, 29, 31, 0.999, false, 400);

	(void)state;
	s.knee_rules = -1;
	s.cwnd_corr = NAN;
	for (int i = 0; i < 7; i++)
		rows[i] = (struct update_row){ .rules = i * 500, .reps = 5,
					       .add_ms = 5.0 + (i % 2 ? 0.2 : -0.2),
					       .delete_ms = 21.7 + 24.4 * i / 6.0 + (i % 2 ? 0.5 : -0.5) };
	results_summarize_updates(rows, 7, &u.sum);
	assert_false(u.sum.add.grows);
	assert_true(u.sum.del.grows);
	assert_true(u.sum.add.exponent == 0);
	assert_true(u.sum.del.exponent > 0.5);
	write_report_with(&s, &u, text, sizeof(text));
	assert_non_null(strstr(text, "**Adding one rule stays about constant.**"));
	assert_non_null(strstr(text, "**Deleting one rule grows with the rule set.** 21.20 ms at "
				     "0 rules, 45.60 ms at 3000"));
	assert_null(strstr(text, "O(1)"));
	assert_non_null(strstr(text, "(O(n))"));
	/* both flat: the O(1) answer */
	for (int i = 0; i < 7; i++)
		rows[i].delete_ms = 3.0 + (i % 2 ? 0.1 : -0.1);
	results_summarize_updates(rows, 7, &u.sum);
	write_report_with(&s, &u, text, sizeof(text));
	assert_non_null(strstr(text, "**Deleting one rule stays about constant.**"));
	assert_non_null(strstr(text, "touches only itself (O(1))"));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_verdicts),
					    cmocka_unit_test(test_plot_without_python),
					    cmocka_unit_test(test_half_slopes_text),
					    cmocka_unit_test(test_cpu_share_overlap),
					    cmocka_unit_test(test_cpu_share_rest_elsewhere),
					    cmocka_unit_test(test_cpu_share_contradiction),
					    cmocka_unit_test(test_cpu_share_no_interval),
					    cmocka_unit_test(test_update_verdicts) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
