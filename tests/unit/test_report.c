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

/* report.md of a sweep with summary s, read back into buf. */
static void write_report(const struct sweep_summary *s, char *buf, size_t len)
{
	char dir[] = "/tmp/nfcost-test-report-XXXXXX", path[128];
	struct run_meta m = { .cpus = 2, .backend = "iptables-nft", .shape = "addr-port",
			      .hook = "output", .tracer = "nfhook", .matches_per_rule = 3,
			      .repeat = 1, .start = 0, .stop = 2000, .step = 500 };
	struct step_row rows[1] = { { .rules = 0, .repeat = 1 } };
	FILE *f;
	size_t n;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(report_write_sweep(dir, &m, s, rows, 1, false, NULL, NULL), 0);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	remove(path);
	rmdir(dir);
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

/* With no python3 the warning names the reason (it once printed none). */
static void test_plot_without_python(void **state)
{
	char dir[] = "/tmp/nfcost-plot-XXXXXX", out[] = "/tmp/nfcost-err-XXXXXX", line[512] = "";
	int fd = mkstemp(out), saved = dup(2);
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(fd >= 0 && saved >= 0);
	setenv("NFCOST_PYTHON", "/nonexistent/python3", 1);
	/* the tests run from the source tree's top (tests/run.sh) */
	setenv("NFCOST_PLOT", "scripts/plot_results.py", 1);
	fflush(stderr);
	dup2(fd, 2);
	int rc = report_plot("sweep", dir);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unsetenv("NFCOST_PYTHON");
	unsetenv("NFCOST_PLOT");
	assert_int_equal(rc, -1);
	f = fdopen(fd, "r");
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "no figure drawn: python3 not found"));
	assert_null(fgets(line, sizeof(line), f)); /* one line */
	fclose(f);
	remove(out);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_verdicts),
					    cmocka_unit_test(test_plot_without_python),
					    cmocka_unit_test(test_half_slopes_text) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
