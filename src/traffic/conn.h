/* conn: the connection workloads, netperf's TCP_CRR and TCP_RR:
 *   crr: each transaction connects, sends REQ bytes, reads RESP bytes and
 *        closes (the first packet of every transaction is a new
 *        connection's, which conntrack, nat and `--ctstate NEW` rules see);
 *   rr:  requests and responses on one open connection per stream.
 * The client runs N streams (one thread each, blocking sockets: the
 * lightest loop, so that the client is not what is measured) inside a
 * network namespace, for a duration, and reports transactions/s, the
 * transaction latency's quantiles and the failed transactions by cause.
 * The matching server (conn_server.c) runs as its own process inside a
 * namespace, started and stopped by PID like the testbed's iperf3 server.
 *
 * Protocol: the client writes REQ bytes, the server answers each REQ bytes
 * read with RESP bytes. A crr client closes with a reset (SO_LINGER 0)
 * once it has the response: a graceful close leaves a TIME_WAIT socket per
 * transaction, which at thousands of connections per second exhausts the
 * client's ports (client closes first) or, on the server (server first),
 * turns away reused ports by PAWS (a 1 s SYN retransmission each, seen as
 * 1000x latency outliers through kube-proxy's random-fully masquerade).
 * Conntrack takes the next SYN on a reset tuple as a new connection.
 *
 * Owns the client's threads and sockets during conn_run, and the server
 * process between conn_server_start and conn_server_stop. Errors follow
 * util/error.h; nothing here prints. */
#ifndef NFCOST_CONN_H
#define NFCOST_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

enum conn_mode { CONN_CRR, CONN_RR };

#define CONN_SIZE_MAX 65536
#define CONN_STREAMS_MAX 1024
#define CONN_DEFAULT_TIMEOUT_S 2.0
/* Latency samples kept per run: exact below this, a uniform reservoir
 * sample of every transaction above it (each stream keeps its share). */
#define CONN_SAMPLES_MAX (1u << 20)

struct conn_spec {
	enum conn_mode mode;
	const char *netns;   /* the client's namespace (a path); NULL: this one */
	char dst[64];        /* IPv4 address */
	uint16_t port;
	size_t req, resp;    /* bytes, 1..CONN_SIZE_MAX */
	int streams;         /* parallel clients, 1..CONN_STREAMS_MAX */
	double duration_s;   /* > 0 */
	double timeout_s;    /* per connect, send or receive; 0: the default */
};

struct conn_result {
	uint64_t transactions; /* completed */
	uint64_t failed;       /* = refused + timeouts + resets + other */
	uint64_t refused, timeouts, resets, other;
	char first_failure[160]; /* what the first failed transaction met */
	double elapsed_s;
	double tps;              /* completed transactions per second */
	double avg_us, p50_us, p90_us, p99_us, max_us;
	uint64_t samples;        /* latencies the quantiles come from */
};

bool conn_mode_parse(const char *s, enum conn_mode *out);
const char *conn_mode_name(enum conn_mode m);
/* "REQ[:RESP]" (RESP defaults to REQ), each 1..CONN_SIZE_MAX bytes;
 * EXIT_USAGE errors that name the option as "--size". */
int conn_size_parse(const char *s, size_t *req, size_t *resp, struct nf_error *err);
/* Fills a spec with the defaults: crr, 1:1, one stream, 1 s. */
void conn_spec_defaults(struct conn_spec *s);

/* Runs the client. 0 with *res filled (failed transactions counted in it)
 * when at least one transaction completed; -1 (EXIT_RUNTIME) when none did,
 * naming the cause (nothing listening, unreachable, timeouts), *res still
 * filled; -1 (EXIT_USAGE) for a bad spec. */
int conn_run(const struct conn_spec *spec, struct conn_result *res, struct nf_error *err);

/* Starts the server as a child process in the namespace at netns (NULL:
 * this one), listening on addr:port and answering req bytes with resp
 * bytes (crr and rr alike); returns once it listens, with its PID. It has
 * its own session and inherits no file descriptor. */
int conn_server_start(const char *netns, const char *addr, uint16_t port, size_t req, size_t resp,
		      pid_t *pid, struct nf_error *err);
/* Kills the server by PID (SIGKILL) and waits until it is gone (reaped
 * when it is our child), at most 2 s. */
int conn_server_stop(pid_t pid, struct nf_error *err);

#endif
