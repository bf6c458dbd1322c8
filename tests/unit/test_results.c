/* Results: the CSV row format, the summary of a sweep's rows, and reading
 * iperf3's JSON (a real iperf3 -J file from tests/fixtures). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"
#include "traffic/traffic.h"

/* A step whose probe saw no packet has no latency: neither the fit nor the
 * baseline and largest-count averages may count it as 0 ns. */
static void test_summary_skips_rows_without_packets(void **state)
{
	struct step_row rows[5] = {
		{ .rules = 0, .repeat = 1, .packets = 1000, .lat_avg_ns = 400, .lat_p50_ns = 380 },
		{ .rules = 0, .repeat = 2, .packets = 0, .throughput_mbps = 5 },
		{ .rules = 1000, .repeat = 1, .packets = 1000, .lat_avg_ns = 4400, .lat_p50_ns = 4300 },
		{ .rules = 2000, .repeat = 1, .packets = 1000, .lat_avg_ns = 8400, .lat_p50_ns = 8300 },
		{ .rules = 2000, .repeat = 2, .packets = 0, .throughput_mbps = 7 },
	};
	struct sweep_summary s;

	(void)state;
	rows[0].throughput_mbps = 9;
	results_summarize(rows, 5, 1, &s);
	assert_true(s.fit_ok);
	assert_int_equal(s.fit.n, 3);
	assert_true(fabs(s.fit.slope - 4.0) < 1e-9);
	assert_true(fabs(s.baseline_lat_ns - 400) < 1e-9);
	assert_true(fabs(s.baseline_p50_ns - 380) < 1e-9);
	assert_true(fabs(s.max_rules_lat_ns - 8400) < 1e-9);
	/* throughput keeps every row */
	assert_true(fabs(s.baseline_mbps - 7) < 1e-9);
}

/* The growth exponent over log-spaced counts: linear 1, quadratic 2, a set
 * that does not grow 0. */
static void test_growth_exponent(void **state)
{
	const long counts[5] = { 0, 100, 1000, 10000, 100000 };
	struct step_row rows[5];
	struct sweep_summary s;

	(void)state;
	for (int shape = 0; shape < 3; shape++) {
		for (int i = 0; i < 5; i++) {
			double r = (double)counts[i];
			rows[i] = (struct step_row){ .rules = counts[i], .repeat = 1, .packets = 1000 };
			rows[i].lat_avg_ns = 500 + (shape == 0 ? 30 * r : shape == 1 ? 1e-3 * r * r
										  : (i % 2) * 3.0);
		}
		results_summarize(rows, 5, 1, &s);
		if (shape == 0) {
			assert_true(fabs(s.growth_exponent - 1) < 1e-6);
		} else if (shape == 1) {
			assert_true(fabs(s.growth_exponent - 2) < 1e-6);
		} else {
			assert_true(s.growth_exponent == 0);
			assert_true(isnan(s.growth_exponent_lo));
		}
	}
}

static void test_csv(void **state)
{
	char dir[] = "/tmp/nfcost-test-XXXXXX", path[256], line[512];
	struct step_row r = { 500, 2, 9321.5, 1234.5, 3, 45678, 2412.25, 2300, 3900, 12.5,
			      45678 * 30, 2412.25 / 30, 5000.5, 5000.5 / 30, 22839, NULL, 37.25,
			      45678 * 16, 16, 12.34 };
	struct step_row udp = r;
	struct nf_error err = { 0 };
	struct outdir d;
	struct outfile o;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(outdir_open(&d, dir, "sweep", &err), 0);
	assert_int_equal(results_csv_open(&o, &d, "sweep.csv", false, &err), 0);
	assert_int_equal(results_csv_row(&o, NULL, &r, &err), 0);
	udp.segments = 0;
	udp.lat_per_segment_ns = udp.cpu_ns_per_packet = udp.cpu_ns_per_segment = NAN;
	udp.packets_per_s = NAN;
	udp.offload = "off";
	udp.other_cpu_pct = NAN;
	udp.sample_every = 0; /* before sampling: every packet */
	udp.lat_ci95_ns = NAN;
	assert_int_equal(results_csv_row(&o, NULL, &udp, &err), 0);
	snprintf(path, sizeof(path), "%s/sweep.csv", dir);
	assert_null(fopen(path, "r")); /* not under its name until complete */
	assert_int_equal(outfile_commit(&o, &err), 0);
	outdir_close(&d);
	f = fopen(path, "r");
	assert_non_null(fgets(line, sizeof(line), f));
	/* The documented columns first, exactly; new ones after them. */
	assert_string_equal(line, "rules,repeat,throughput_mbps,cwnd_kb,retransmits,packets,"
				  "lat_avg_ns,lat_p50_ns,lat_p99_ns,inject_ms,segments,"
				  "lat_per_segment_ns,cpu_ns_per_packet,cpu_ns_per_segment,packets_per_s,offload,"
				  "other_cpu_pct,packets_seen,sample_every,lat_ci95_ns\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "500,2,9321.500,1234.5,3,45678,2412.2,2300.0,3900.0,12.50,"
				  "1370340,80.41,5000.50,166.68,22839.00,default,37.2,730848,16,12.3\n");
	/* Not measured: empty cells, not zeros. */
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "500,2,9321.500,1234.5,3,45678,2412.2,2300.0,3900.0,12.50,0,,,,,off,,"
				  "730848,1,\n");
	fclose(f);
	remove(path);
	snprintf(path, sizeof(path), "%s/.nfcost", dir);
	remove(path);
	remove(dir);
}

static void test_summary(void **state)
{
	struct step_row rows[6];
	struct sweep_summary s;

	(void)state;
	/* 400 ns + 4 ns/rule; throughput falls from 2000 rules on */
	for (int i = 0; i < 6; i++) {
		rows[i] = (struct step_row){ .rules = i * 500, .repeat = 1, .packets = 1000 };
		rows[i].lat_avg_ns = 400 + 4.0 * i * 500 + (i % 2 ? 3 : -3);
		rows[i].throughput_mbps = i < 4 ? 9000 + (i % 2) * 50 : 6000;
		rows[i].cwnd_kb = rows[i].throughput_mbps / 10;
	}
	results_summarize(rows, 6, 3, &s);
	assert_true(s.fit_ok);
	assert_true(fabs(s.fit.slope - 4.0) < 0.05);
	assert_true(fabs(s.ns_per_match - 4.0 / 3) < 0.02);
	assert_true(s.fit.r2 > 0.999);
	assert_int_equal(s.knee_rules, 2000);
	assert_true(s.cwnd_corr > 0.99);
	assert_int_equal(s.max_rules, 2500);
	assert_true(fabs(s.baseline_mbps - 9000) < 1e-9);
	/* a straight line costs the same per rule in both halves */
	assert_int_equal(s.mid_rules, 1250);
	assert_true(fabs(s.slope_lower_half - 4.0) < 0.1);
	assert_true(fabs(s.slope_upper_half - 4.0) < 0.1);
}

static void test_summary_half_slopes(void **state)
{
	struct step_row rows[7];
	struct sweep_summary s;

	(void)state;
	/* 40 ns/rule up to 1500 rules, 80 ns/rule beyond (a cache limit) */
	for (int i = 0; i < 7; i++) {
		long r = i * 500;
		rows[i] = (struct step_row){ .rules = r, .repeat = 1, .packets = 1000,
					     .throughput_mbps = 1000 };
		rows[i].lat_avg_ns = 400 + 40.0 * r + (r > 1500 ? 40.0 * (r - 1500) : 0);
	}
	results_summarize(rows, 7, 3, &s);
	assert_int_equal(s.mid_rules, 1500);
	assert_true(fabs(s.slope_lower_half - 40) < 1e-6);
	assert_true(fabs(s.slope_upper_half - 80) < 1e-6);
	/* one step per half: no slope */
	results_summarize(rows, 2, 3, &s);
	assert_true(isnan(s.slope_lower_half) && isnan(s.slope_upper_half));
	results_summarize(rows, 0, 3, &s);
	assert_false(s.fit_ok);
	assert_true(isnan(s.slope_lower_half));
}

static void test_iperf_json(void **state)
{
	struct traffic_result r;
	char err[256];
	FILE *f = fopen("tests/fixtures/live/iperf_results.json", "r");
	static char json[1 << 20];
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(json, 1, sizeof(json) - 1, f);
	fclose(f);
	json[n] = '\0';
	assert_int_equal(traffic_parse_json(json, &r, err, sizeof(err)), 0);
	assert_true(r.n_intervals >= 10);
	assert_true(r.bits_per_second > 1e6);
	assert_true(r.mean_cwnd_bytes > 1000);
	assert_true(r.intervals[0].snd_cwnd_bytes > 0);
	assert_true(r.intervals[1].start_s > r.intervals[0].start_s);
	traffic_result_free(&r);
	/* cut short, as SIGINT leaves it: no "end" */
	json[n / 2] = '\0';
	assert_int_equal(traffic_parse_json(json, &r, err, sizeof(err)), -1);
	assert_int_equal(traffic_parse_json("{\"error\": \"unable to connect\"}", &r, err,
					    sizeof(err)), -1);
	assert_string_equal(err, "iperf3: unable to connect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv), cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_skips_rows_without_packets),
		cmocka_unit_test(test_growth_exponent),
		cmocka_unit_test(test_summary_half_slopes),
		cmocka_unit_test(test_iperf_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
