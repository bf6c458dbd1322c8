/* Unit tests of the pure parts of src/probe/probe.c (tracer and family names,
 * the reasons of probe_why.c, the options probe_open refuses before loading)
 * and of the window text results/report.c prints (the block of
 * docs/formats.md, the log2 histogram within 80 columns). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/resource.h>

#include "probe/probe.h"
#include "probe/probe_internal.h"
#include "results/report.h"
#include "util/util.h"
#include "window_samples.h"

static void test_tracer_names(void **state)
{
	enum probe_tracer t;

	(void)state;
	for (int i = 0; i < TRACER_COUNT; i++) {
		assert_true(probe_tracer_parse(probe_tracer_name((enum probe_tracer)i), &t));
		assert_int_equal(t, i);
	}
	assert_string_equal(probe_tracer_name(TRACER_NFHOOK), "nfhook");
	assert_false(probe_tracer_parse("bpftrace", &t));
	assert_false(probe_tracer_parse("", &t));
}

static void test_family_names(void **state)
{
	enum probe_family f = PROBE_IPV6;

	(void)state;
	assert_true(probe_family_parse("ipv4", &f));
	assert_int_equal(f, PROBE_IPV4);
	assert_true(probe_family_parse("IPv6", &f));
	assert_int_equal(f, PROBE_IPV6);
	assert_string_equal(probe_family_name(PROBE_IPV6), "ipv6");
	assert_string_equal(probe_family_name(PROBE_IPV4), "ipv4");
	assert_false(probe_family_parse("inet", &f));
	assert_false(probe_family_parse("", &f));
}

static char *capture_window(const struct probe_window *w, int by)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	report_print_window(f, w, 10.0, "LOCAL_OUT", "nfcost-x-cli", "nfhook", by);
	fclose(f);
	return text;
}

static void assert_matches(const char *text, const char *re)
{
	regex_t r;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&r, text, 0, NULL, 0))
		fail_msg("'%s' does not match /%s/", text, re);
	regfree(&r);
}

static void test_print_window(void **state)
{
	struct probe_window w;
	char *text;

	(void)state;
	memset(&w, 0, sizeof(w));
	add_samples(&w, 512, 1000);
	w.unmatched = 3;
	w.hook_count[NFHOOK_LOCAL_OUT] = 1000;
	w.n_comms = 2;
	strcpy(w.comms[0].comm, "iperf3");
	w.comms[0].count = 900;
	strcpy(w.comms[1].comm, "ksoftirqd/0");
	w.comms[1].count = 100;
	probe_window_compute(&w);

	text = capture_window(&w, PROBE_BY_NONE);
	assert_matches(text, "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9] t=10\\.0s LOCAL_OUT nfcost-x-cli "
			     "via nfhook\n"
			     "  count 1000 avg 512 ns p50 [0-9]+ ns p90 [0-9]+ ns p99 [0-9]+ ns "
			     "unmatched 3\n\n$");
	free(text);

	text = capture_window(&w, PROBE_BY_COMM);
	assert_matches(text, "unmatched 3\n  iperf3 900\n  ksoftirqd/0 100\n\n$");
	free(text);

	text = capture_window(&w, PROBE_BY_HOOK);
	assert_matches(text, "unmatched 3\n  LOCAL_OUT 1000\n\n$");
	free(text);

	/* Lost packets: a hook that timed none still shows; the first two
	 * lines stay as they were. */
	w.lost_hook[NFHOOK_LOCAL_OUT] = 7;
	w.lost_hook[NFHOOK_POST_ROUTING] = 1000;
	text = capture_window(&w, PROBE_BY_HOOK);
	assert_matches(text, "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9] t=10\\.0s LOCAL_OUT nfcost-x-cli "
			     "via nfhook\n"
			     "  count 1000 avg 512 ns p50 [0-9]+ ns p90 [0-9]+ ns p99 [0-9]+ ns "
			     "unmatched 3\n"
			     "  LOCAL_OUT 1000 lost 7\n  POST_ROUTING 0 lost 1000\n\n$");
	free(text);
	text = capture_window(&w, PROBE_BY_NONE); /* without --by hook: not shown */
	assert_matches(text, "unmatched 3\n\n$");
	free(text);
}

static void test_print_hist(void **state)
{
	uint64_t hist[HIST_SLOTS] = { 0 };
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;
	int rows = 0;
	uint64_t sum = 0;

	(void)state;
	f = open_memstream(&text, &len);
	report_print_hist(f, hist);
	fclose(f);
	assert_string_equal(text, ""); /* empty: nothing */
	free(text);

	hist[hist_slot(300)] = 5000;
	hist[hist_slot(310)] += 7;
	hist[hist_slot(40000)] = 12;
	hist[hist_slot(UINT64_MAX)] = 1; /* the widest numbers still fit */
	f = open_memstream(&text, &len);
	report_print_hist(f, hist);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long lo, hi, n;
		assert_true(strlen(line) <= 80);
		if (sscanf(line, " %llu -> %llu : %llu", &lo, &hi, &n) == 3) {
			rows++;
			sum += n;
			assert_true(lo <= hi);
		}
	}
	assert_int_equal(sum, 5000 + 7 + 12 + 1);
	assert_true(rows > 3);
	free(text);
}

static void test_netns_label(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(probe_netns_label("/run/netns/nfcost-x-cli", buf, sizeof(buf)),
			    "nfcost-x-cli");
	assert_string_equal(probe_netns_label("/proc/1/ns/net", buf, sizeof(buf)), "net");
}

/* Resource limits are named with the limit to raise, never as a missing
 * kernel feature; options the probe refuses are usage errors. */
static void test_limits_named(void **state)
{
	struct nf_error e = { 0 };
	struct rlimit old, big;

	(void)state;
	probe_explain_errno(TRACER_NFHOOK, "load", EMFILE, &e);
	assert_non_null(strstr(e.msg, "EMFILE"));
	assert_non_null(strstr(e.msg, "ulimit -n"));
	assert_null(strstr(e.msg, "kernel lacks"));
	assert_true(probe_failed_on_limit());
	probe_explain_errno(TRACER_NFHOOK, "netfilter link", EINVAL, &e);
	assert_non_null(strstr(e.msg, "kernel lacks BPF netfilter links"));
	assert_false(probe_failed_on_limit());
	assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
	big = old;
	big.rlim_cur = (rlim_t)1 << 40; /* finite, and far more than this test uses */
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < big.rlim_cur)
		big.rlim_cur = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_AS, &big), 0);
	probe_explain_errno(TRACER_FENTRY, "load", ENOMEM, &e);
	assert_non_null(strstr(e.msg, "ulimit -v"));
	probe_explain_errno(TRACER_FENTRY, "load", ESRCH, &e); /* libbpf's, out of memory */
	assert_non_null(strstr(e.msg, "ulimit -v"));
	assert_true(probe_errno_is_limit(ESRCH));
	assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
	if (old.rlim_cur == RLIM_INFINITY)
		assert_false(probe_errno_is_limit(ESRCH));
	/* more descriptors than any limit allows */
	assert_int_equal(probe_check_fd_room(1 << 30, &e), -1);
	assert_non_null(strstr(e.msg, "too many open files"));
	assert_non_null(strstr(e.msg, "ulimit -n"));
	assert_int_equal(probe_check_fd_room(1, &e), 0);
}

static void test_open_refuses_bad_options(void **state)
{
	struct probe_opts o = { .tracer = TRACER_NFHOOK, .hook = NFHOOK_LOCAL_OUT,
				.sample_every = PROBE_SAMPLE_MAX + 1 };
	struct nf_error e = { 0 };
	int splits[2] = { 10, 5 };

	(void)state;
	assert_null(probe_open(&o, &e));
	assert_int_equal(e.status, EXIT_USAGE);
	assert_non_null(strstr(e.msg, "sampling one packet in"));
	o.sample_every = 1;
	o.split_priorities = splits;
	o.n_splits = 2;
	memset(&e, 0, sizeof(e));
	assert_null(probe_open(&o, &e));
	assert_int_equal(e.status, EXIT_USAGE);
	assert_non_null(strstr(e.msg, "strictly ascending"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracer_names),
		cmocka_unit_test(test_family_names),
		cmocka_unit_test(test_print_window),
		cmocka_unit_test(test_print_hist),
		cmocka_unit_test(test_netns_label),
		cmocka_unit_test(test_limits_named),
		cmocka_unit_test(test_open_refuses_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
