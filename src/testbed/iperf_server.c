#include "testbed/iperf_server.h"

#include <stdint.h> /* iperf_api.h uses uint64_t without including it */
#include <iperf_api.h>

int testbed_iperf_server_run(const char *bind_addr, int port)
{
	for (;;) {
		struct iperf_test *test = iperf_new_test();
		if (!test || iperf_defaults(test) < 0)
			return 1;
		iperf_set_test_role(test, 's');
		iperf_set_test_server_port(test, port);
		iperf_set_test_bind_address(test, bind_addr);
		/* A fresh test per client: libiperf's reset leaves state behind
		 * after an aborted client, a new test object does not. */
		int rc = iperf_run_server(test);
		iperf_free_test(test);
		if (rc < -1) /* bind failed and the like: nothing to retry */
			return 1;
	}
}
