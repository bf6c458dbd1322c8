/* Unit tests of src/traffic/conn.c and conn_server.c: the --size and
 * workload parsers, and real crr and rr runs on loopback in this namespace
 * (no root: the server is a child process on 127.0.0.1): transactions
 * complete with none failed, rr beats crr, a port where nothing listens is
 * an error that counts its refusals, a server that cannot listen says why,
 * and a stopped server is gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "traffic/conn.h"
#include "util/util.h"

static void test_parse(void **state)
{
	struct nf_error err = { 0 };
	enum conn_mode m;
	size_t req, resp;

	(void)state;
	assert_true(conn_mode_parse("crr", &m));
	assert_int_equal(m, CONN_CRR);
	assert_true(conn_mode_parse("rr", &m));
	assert_int_equal(m, CONN_RR);
	assert_false(conn_mode_parse("tcp_crr", &m));
	assert_int_equal(conn_size_parse("1", &req, &resp, &err), 0);
	assert_int_equal(req, 1);
	assert_int_equal(resp, 1);
	assert_int_equal(conn_size_parse("100:65536", &req, &resp, &err), 0);
	assert_int_equal(req, 100);
	assert_int_equal(resp, 65536);
	const char *bad[] = { "0", "1:0", "65537", "1:65537", "", ":", "1:", "x", "-1", "1:2:3", "1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(conn_size_parse(bad[i], &req, &resp, &err), -1);
		assert_int_equal(err.status, EXIT_USAGE);
		assert_non_null(strstr(err.msg, "--size"));
	}
}

/* A port nothing listens on now (bound, read, released). */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void spec(struct conn_spec *s, enum conn_mode m, uint16_t port)
{
	conn_spec_defaults(s);
	s->mode = m;
	snprintf(s->dst, sizeof(s->dst), "127.0.0.1");
	s->port = port;
	s->duration_s = 0.3;
}

static void test_loopback_runs(void **state)
{
	struct nf_error err = { 0 };
	struct conn_spec s;
	struct conn_result crr, rr;
	uint16_t port = free_port();
	pid_t pid;

	(void)state;
	assert_int_equal(conn_server_start(NULL, "127.0.0.1", port, 1, 1, &pid, &err), 0);
	spec(&s, CONN_CRR, port);
	s.streams = 2;
	assert_int_equal(conn_run(&s, &crr, &err), 0);
	assert_true(crr.transactions > 0);
	assert_int_equal(crr.failed, 0);
	assert_true(crr.tps > 0);
	assert_true(crr.p50_us > 0 && crr.p50_us <= crr.p99_us && crr.p99_us <= crr.max_us);
	assert_int_equal(crr.samples, crr.transactions);
	spec(&s, CONN_RR, port);
	assert_int_equal(conn_run(&s, &rr, &err), 0);
	assert_int_equal(rr.failed, 0);
	assert_true(rr.tps > crr.tps / 2); /* one stream against two */
	assert_int_equal(conn_server_stop(pid, &err), 0);
	assert_int_equal(kill(pid, 0), -1);

	/* the server gone: refused, an error that names the cause */
	spec(&s, CONN_CRR, port);
	memset(&err, 0, sizeof(err));
	assert_int_equal(conn_run(&s, &crr, &err), -1);
	assert_int_equal(err.status, EXIT_RUNTIME);
	assert_non_null(strstr(err.msg, "nothing listens"));
	assert_int_equal(crr.transactions, 0);
	assert_true(crr.refused > 0);
	assert_int_equal(crr.failed, crr.refused);
}

static void test_bad_server_and_spec(void **state)
{
	struct nf_error err = { 0 };
	struct conn_spec s;
	struct conn_result r;
	pid_t pid;

	(void)state;
	/* 192.0.2.1 is no address of this host: bind fails, the child says so */
	assert_int_equal(conn_server_start(NULL, "192.0.2.1", 5201, 1, 1, &pid, &err), -1);
	assert_int_equal(err.status, EXIT_RUNTIME);
	assert_non_null(strstr(err.msg, "cannot listen"));
	assert_int_equal(pid, -1);
	assert_int_equal(conn_server_start(NULL, "no-address", 5201, 1, 1, &pid, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	spec(&s, CONN_CRR, 9);
	s.streams = 0;
	assert_int_equal(conn_run(&s, &r, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	spec(&s, CONN_CRR, 9);
	s.req = CONN_SIZE_MAX + 1;
	assert_int_equal(conn_run(&s, &r, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	spec(&s, CONN_CRR, 9);
	s.netns = "/run/netns/nfcost-no-such-namespace";
	assert_int_equal(conn_run(&s, &r, &err), -1);
	assert_int_equal(err.status, EXIT_RUNTIME);
	assert_non_null(strstr(err.msg, "namespace"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_loopback_runs),
		cmocka_unit_test(test_bad_server_and_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
