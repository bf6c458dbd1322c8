/* Unit tests of src/rules/rulespec.c, the rules' vocabulary: built against
 * it alone (no libnftables, no libbpf, no root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rules/rulespec.h"

static void test_addresses(void **state)
{
	char a[32];

	(void)state;
	rules_address(0, a, sizeof(a));
	assert_string_equal(a, "240.0.0.1");
	rules_address(254, a, sizeof(a));
	assert_string_equal(a, "240.0.0.255");
	rules_address(255, a, sizeof(a));
	assert_string_equal(a, "240.0.1.0");
	rules_address(999999, a, sizeof(a));
	assert_string_equal(a, "240.15.66.64");
}

static void test_names(void **state)
{
	enum rules_backend b;
	enum rules_shape s;
	const char *why;

	(void)state;
	assert_true(rules_backend_parse("iptables", &b));
	assert_int_equal(b, BACKEND_IPTABLES_NFT);
	assert_false(rules_backend_parse("pf", &b));
	assert_true(rules_shape_parse("addr-port", &s));
	assert_int_equal(rules_matches_per_rule(s), 3);
	assert_false(rules_shape_supported(BACKEND_NFT, SHAPE_BPF, &why));
	assert_true(rules_shape_supported(BACKEND_IPTABLES_LEGACY, SHAPE_BPF, &why));
	for (int i = 0; i < BACKEND_COUNT; i++) {
		assert_true(rules_backend_parse(rules_backend_name((enum rules_backend)i), &b));
		assert_int_equal(b, i);
		assert_non_null(strstr(rules_backend_names(), rules_backend_name(b)));
	}
	assert_string_equal(rules_backend_program(BACKEND_IPTABLES_LEGACY),
			    "iptables-legacy-restore");
	assert_null(rules_backend_program(BACKEND_NFT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
