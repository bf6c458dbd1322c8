/* util: the strict number parsers every numeric option goes through, and
 * that every error line stays one line whatever it quotes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static void test_parse_long_accepts(void **state)
{
	long v = -1;

	(void)state;
	assert_true(parse_long("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(parse_long("10", 0, 10, &v));
	assert_int_equal(v, 10);
	assert_true(parse_long("-5", -10, 10, &v));
	assert_int_equal(v, -5);
	assert_true(parse_long("007", 0, 10, &v));
	assert_int_equal(v, 7);
}

static void test_parse_long_rejects(void **state)
{
	const char *bad[] = { "", " 5", "\t7", "5 ", "5\n", "+5", "-0", "-1", "11", "1.0",
			      "1e3", "0x10", "abc", "5x", "99999999999999999999999" };
	long v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(parse_long(bad[i], 0, 10, &v));
		assert_int_equal(v, 42); /* untouched on failure */
	}
	assert_false(parse_long(NULL, 0, 10, &v));
	/* A negative range still takes no '+' and no whitespace. */
	assert_false(parse_long("+1", -10, 10, &v));
	assert_false(parse_long(" -1", -10, 10, &v));
	assert_false(parse_long("-99999999999999999999999", LONG_MIN, 0, &v));
}

static void test_parse_double(void **state)
{
	const char *bad[] = { "", "nan", "NAN", "inf", "-inf", "infinity", " 1", "\t1", "1 ",
			      "+1", "-0", "-0.0", "0x1p3", ".", ".e1", "1e400", "1,5", "1.5s" };
	double v = 42;

	(void)state;
	assert_true(parse_double("0.25", 0, 10, &v));
	assert_true(v == 0.25);
	assert_true(parse_double("2e1", 0, 100, &v));
	assert_true(v == 20);
	assert_true(parse_double("-1.5", -2, 0, &v));
	assert_true(v == -1.5);
	assert_true(parse_double(".5", 0, 1, &v));
	assert_true(v == 0.5);
	v = 42;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(parse_double(bad[i], 0, DBL_MAX, &v));
		assert_true(v == 42);
	}
	assert_false(parse_double("10.5", 0, 10, &v));
	assert_false(parse_double("nan", -DBL_MAX, DBL_MAX, &v));
}

static void test_parse_rate(void **state)
{
	const char *bad[] = { "", "M", "nan", "infM", " 5M", "5M ", "+5M", "-0", "-1K", "5T",
			      "5MM", "5Mb", "0x10", "1e400", "2G" };
	uint64_t v = 42;

	(void)state;
	assert_true(parse_rate_bps("500M", 1e12, &v));
	assert_true(v == 500000000ULL);
	assert_true(parse_rate_bps("1.5g", 1e12, &v));
	assert_true(v == 1500000000ULL);
	assert_true(parse_rate_bps("64k", 1e12, &v));
	assert_true(v == 64000ULL);
	assert_true(parse_rate_bps("1000", 1e12, &v));
	assert_true(v == 1000ULL);
	assert_true(parse_rate_bps("0", 1e12, &v));
	assert_true(v == 0);
	assert_true(parse_rate_bps("1000G", 1e12, &v)); /* the limit itself */
	assert_true(v == 1000000000000ULL);
	assert_false(parse_rate_bps("1001G", 1e12, &v));
	/* Far beyond uint64_t: refused before any conversion (UBSan watches). */
	assert_false(parse_rate_bps("1e300G", 1e300, &v));
	v = 42;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(parse_rate_bps(bad[i], 1e9, &v));
		assert_true(v == 42);
	}
}

/* What nf_err writes, read back through a temporary file on fd 2. */
static char *captured_err(const char *fmt, const char *arg)
{
	char path[] = "/tmp/nfcost-test-util.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	static char got[8192];

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	nf_err(fmt, arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, got, sizeof(got) - 1, 0);
	close(fd);
	assert_true(n > 0);
	got[n] = '\0';
	return got;
}

static void test_err_one_line(void **state)
{
	(void)state;
	assert_string_equal(captured_err("unknown backend '%s'", "nft\nx"),
			    "nfcost: unknown backend 'nft\\nx'\n");
	assert_string_equal(captured_err("got '%s'", "1\t\r\x7f\x01"),
			    "nfcost: got '1\\t\\r\\x7f\\x01'\n");
	/* Printable bytes, UTF-8 among them, go through unchanged. */
	assert_string_equal(captured_err("name '%s'", "caf\xc3\xa9 ok"),
			    "nfcost: name 'caf\xc3\xa9 ok'\n");
	/* Longer than any fixed buffer inside: still whole, still one line. */
	char *long_arg = malloc(3001);
	memset(long_arg, 'a', 3000);
	long_arg[1500] = '\n';
	long_arg[3000] = '\0';
	char *got = captured_err("%s", long_arg);
	assert_int_equal(strlen(got), strlen("nfcost: ") + 3001 + 1);
	assert_ptr_equal(strchr(got, '\n'), got + strlen(got) - 1);
	free(long_arg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long_accepts),
		cmocka_unit_test(test_parse_long_rejects),
		cmocka_unit_test(test_parse_double),
		cmocka_unit_test(test_parse_rate),
		cmocka_unit_test(test_err_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
