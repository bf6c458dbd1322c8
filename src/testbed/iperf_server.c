/* iperf_server: the testbed's iperf3 server: the libiperf loop that serves
 * one test after another, and the process that runs it in the srv
 * namespace (started, checked, restarted, ended; its pid in server.pid).
 * testbed_down ends it with every other process in the testbed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h> /* iperf_api.h uses uint64_t without including it */
#include <iperf_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testbed/testbed_internal.h"
#include "util/util.h"

/* Serves iperf3 tests on bind_addr:port in the current namespace, one
 * after another; returns only on a fatal error (its exit status). */
static int iperf_loop(const char *bind_addr, int port)
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

pid_t server_read_pid(const char *name)
{
	char txt[32];
	long pid;

	if (state_read(name, "server.pid", txt, sizeof(txt)) <= 0)
		return -1;
	txt[strcspn(txt, "\n")] = '\0';
	return parse_long(txt, 1, 1L << 30, &pid) ? (pid_t)pid : -1;
}

static bool server_alive(const char *name, pid_t pid)
{
	char srv[256], p[64];

	if (pid <= 0)
		return false;
	/* Reap it if it is our own child that died. */
	if (waitpid(pid, NULL, WNOHANG) == pid)
		return false;
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	/* Same netns as the testbed's srv side: it is our server, not a reused pid. */
	return netns_inode(p) && netns_inode(p) == ns_mounted_inode(srv);
}

pid_t testbed_server_pid(const char *name)
{
	pid_t pid = server_read_pid(name);

	return server_alive(name, pid) ? pid : -1;
}

/* Forks an iperf3 server on addr:port inside the srv namespace. */
static pid_t server_spawn(const char *name, const char *addr, int port)
{
	char srv[256];
	pid_t pid;

	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	pid = fork();
	if (pid != 0)
		return pid;
	int saved, null = open("/dev/null", O_RDWR);
	if (netns_enter(srv, &saved))
		_exit(1);
	/* Its own session, so a Ctrl-C on the terminal reaches only us, and
	 * we stop the server ourselves, in order. */
	setsid();
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	/* Inherit nothing else: a BPF link fd held here would outlive its owner. */
	close_range(3, ~0U, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	_exit(iperf_loop(addr, port));
}

static pid_t server_start(const char *name)
{
	char txt[32];
	pid_t pid = server_spawn(name, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT);

	if (pid < 0)
		return -1;
	snprintf(txt, sizeof(txt), "%d\n", (int)pid);
	state_write(name, "server.pid", txt);
	return pid;
}

/* 0 once a socket listens on addr:port in the srv namespace, within 1 s. */
static int wait_listening_at(const char *name, const char *addr, int port)
{
	char srv[256];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;

	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	inet_pton(AF_INET, addr, &sa.sin_addr);
	/* Probe by bind: EADDRINUSE means a socket listens on the port. A connect
	 * would be taken by iperf3 as a client and disturb it. SO_REUSEADDR makes
	 * Linux ignore the closed tests' TIME_WAIT sockets on the port (they
	 * would fake a listener); only a LISTEN socket still conflicts. */
	for (int i = 0; i < 50; i++) {
		int fd = netns_socket(srv, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		int in_use = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno == EADDRINUSE;
		close(fd);
		if (in_use)
			return 0;
		usleep(20 * 1000);
	}
	return -1;
}

static void server_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	/* Our child: reap it. Not ours (started by an earlier `testbed up`):
	 * wait until it is gone. Either way for at most 2 s. */
	for (int i = 0; i < 200; i++) {
		pid_t w = waitpid(pid, NULL, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD && kill(pid, 0) != 0))
			return;
		usleep(10 * 1000);
	}
}

int testbed_server_ensure(const char *name, struct nf_error *err)
{
	pid_t pid = server_read_pid(name);

	/* Alive is not enough: a server between two tests has no listener for a
	 * moment, and a killed one still looks alive while it exits. Wait for the
	 * listener; a server that never shows one is replaced. */
	if (server_alive(name, pid)) {
		if (!wait_listening_at(name, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT))
			return 0;
		server_kill(pid);
	}
	pid = server_start(name);
	if (pid < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot start the iperf3 server of testbed '%s': %s",
			       name, strerror(errno));
	if (wait_listening_at(name, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT)) {
		server_kill(pid);
		return nf_fail(err, EXIT_RUNTIME, "the iperf3 server of testbed '%s' did not listen "
			       "on " TESTBED_SRV_ADDR ":%d within 1 s", name, TESTBED_IPERF_PORT);
	}
	return 0;
}

int testbed_server_start_at(const char *name, const char *addr, int port, struct nf_error *err)
{
	pid_t pid;

	if (!strcmp(addr, TESTBED_SRV_ADDR) && port == TESTBED_IPERF_PORT)
		return testbed_server_ensure(name, err);
	pid = server_spawn(name, addr, port);
	if (pid < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot start an iperf3 server on %s:%d: %s", addr,
			       port, strerror(errno));
	if (wait_listening_at(name, addr, port)) {
		server_kill(pid);
		return nf_fail(err, EXIT_RUNTIME, "no iperf3 server listened on %s:%d in the testbed",
			       addr, port);
	}
	return 0;
}
