/* Unit tests of src/traffic/flow.c, the flow specs of `nfcost profile`:
 * built against it and util alone (no sockets, no root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "traffic/flow.h"

static void test_valid(void **state)
{
	struct flow_spec f;
	char why[256];

	(void)state;
	assert_true(flow_parse("tcp:198.18.0.2:443", &f, why, sizeof(why)));
	assert_false(f.udp);
	assert_string_equal(f.dst, "198.18.0.2");
	assert_string_equal(f.src, "");
	assert_int_equal(f.port, 443);
	assert_int_equal(f.size, 0);
	assert_string_equal(f.text, "tcp:198.18.0.2:443");
	assert_true(flow_parse("udp:198.19.0.9>240.0.0.1:53", &f, why, sizeof(why)));
	assert_true(f.udp);
	assert_string_equal(f.src, "198.19.0.9");
	assert_string_equal(f.dst, "240.0.0.1");
	assert_int_equal(f.size, FLOW_DEFAULT_UDP_SIZE);
	assert_string_equal(f.text, "udp:198.19.0.9>240.0.0.1:53:64");
	assert_true(flow_parse("udp:240.0.0.1:53:1400", &f, why, sizeof(why)));
	assert_int_equal(f.size, 1400);
	/* Any real address is fine: it lives only inside the namespaces. */
	assert_true(flow_parse("tcp:10.1.2.3>192.0.2.10:443", &f, why, sizeof(why)));
}

static void test_invalid(void **state)
{
	const char *bad[] = {
		"", "tcp", "tcp:198.18.0.2", "icmp:198.18.0.2:1", "tcp:198.18.0.2:0",
		"tcp:198.18.0.2:65536", "tcp:198.18.0.2:443:64", "udp:240.0.0.1:53:8",
		"udp:240.0.0.1:53:70000", "tcp:198.18.0.300:443", "tcp:127.0.0.1:443",
		"tcp:224.0.0.1:443", "tcp:255.255.255.255:1", "tcp:0.0.0.0:1",
		"tcp:198.18.0.1:443",       /* the client's own link address as destination */
		"tcp:198.18.1.2:443",       /* the router's */
		"tcp:240.0.0.1>240.0.0.1:1", "tcp:198.18.0.2:443:", "tcp::198.18.0.2:443",
		"tcp:198.18.0.2:+443", "tcp:198.18.0.2: 443", "udp:240.0.0.1:53:64:1",
		"tcp:>198.18.0.2:443",
	};
	struct flow_spec f;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (flow_parse(bad[i], &f, why, sizeof(why)))
			fail_msg("accepted '%s'", bad[i]);
		assert_true(strlen(why) > 10);
		assert_null(strchr(why, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
