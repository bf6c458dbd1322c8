/* The testbed's iperf3 server loop (libiperf), private to src/testbed/. */
#ifndef NFCOST_TESTBED_IPERF_SERVER_H
#define NFCOST_TESTBED_IPERF_SERVER_H

/* Serves iperf3 tests on bind_addr:port in the current namespace, one after
 * another; returns only on a fatal error (its exit status). */
int testbed_iperf_server_run(const char *bind_addr, int port);

#endif
