/* conn-tool: drives src/traffic/conn.c and src/rules/kubeproxy.c for
 * tests/integration/30-connections.sh and bench/connections.sh, without
 * the CLI (wiring them into sweep/compare/profile comes later):
 *   render iptables|nft N [endpoints=E] [position=first|middle|last]
 *          [ip=CLUSTERIP] [ep=ADDR:PORT,...] [update]
 *          kube-proxy's rule set for N Services (update: the partial sync
 *          that adds one more) on stdout, its counts on stderr
 *   server NETNS ADDR PORT REQ[:RESP]          starts a server, prints its PID
 *   stop PID                                   kills it, waits until gone
 *   run NETNS crr|rr DST PORT REQ[:RESP] STREAMS SECONDS
 *          the client; prints "key value" lines (tps, p50_us, failed, ...)
 * NETNS is a path (/run/netns/NAME) or "-" for this namespace. Errors: one
 * "nfcost: " line, exit 2 for bad input, 1 for a runtime failure (a run in
 * which no transaction completed prints its counts first). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/kubeproxy.h"
#include "traffic/conn.h"
#include "util/error.h"
#include "util/util.h"

static int usage(void)
{
	nf_err("usage: conn-tool render iptables|nft N [endpoints=E] [position=P] [ip=A] [ep=A:P,...] [update] | "
	       "server NETNS ADDR PORT REQ[:RESP] | stop PID | "
	       "run NETNS crr|rr DST PORT REQ[:RESP] STREAMS SECONDS");
	return EXIT_USAGE;
}

static const char *netns_arg(const char *s)
{
	return strcmp(s, "-") ? s : NULL;
}

static int parse_addr(const char *s, uint32_t *out, struct nf_error *err)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return nf_fail(err, EXIT_USAGE, "'%s' is not an IPv4 address", s);
	*out = ntohl(a.s_addr);
	return 0;
}

static int parse_endpoints(char *list, struct kp_config *c, struct nf_error *err)
{
	c->n_measured = 0;
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');
		long port;
		if (!colon || c->n_measured >= KP_MAX_ENDPOINTS)
			return nf_fail(err, EXIT_USAGE, "ep= takes ADDR:PORT[,ADDR:PORT...] (at most %d)",
				       KP_MAX_ENDPOINTS);
		*colon = '\0';
		if (!parse_long(colon + 1, 1, 65535, &port))
			return nf_fail(err, EXIT_USAGE, "'%s' is not a port", colon + 1);
		struct kp_endpoint *e = &c->measured[c->n_measured++];
		e->port = (uint16_t)port;
		if (parse_addr(tok, &e->addr, err))
			return -1;
	}
	return 0;
}

static int render_option(char *arg, struct kp_config *c, bool *update, struct nf_error *err)
{
	long v;

	if (!strcmp(arg, "update"))
		*update = true;
	else if (!strncmp(arg, "endpoints=", 10)) {
		if (!parse_long(arg + 10, 0, 1000, &v))
			return nf_fail(err, EXIT_USAGE, "endpoints= takes a count");
		c->endpoints = (int)v;
	} else if (!strncmp(arg, "position=", 9)) {
		if (!kp_position_parse(arg + 9, &c->position))
			return nf_fail(err, EXIT_USAGE, "unknown Service position '%s': first, middle or last", arg + 9);
	} else if (!strncmp(arg, "ip=", 3))
		return parse_addr(arg + 3, &c->measured_ip, err);
	else if (!strncmp(arg, "ep=", 3))
		return parse_endpoints(arg + 3, c, err);
	else
		return nf_fail(err, EXIT_USAGE, "unknown render option '%s'", arg);
	return 0;
}

static int render(int argc, char **argv, struct nf_error *err)
{
	struct kp_config c;
	struct kp_counts n;
	struct buf out = { 0 };
	enum kp_mode m;
	bool update = false;
	long services;

	if (argc < 4)
		return nf_fail(err, EXIT_USAGE, "render needs a mode and a Service count");
	if (!strcmp(argv[2], "iptables"))
		m = KP_IPTABLES;
	else if (!strcmp(argv[2], "nft"))
		m = KP_NFT;
	else
		return nf_fail(err, EXIT_USAGE, "unknown kube-proxy mode '%s': iptables or nft", argv[2]);
	if (!parse_long(argv[3], 0, KP_MAX_SERVICES, &services))
		return nf_fail(err, EXIT_USAGE, "'%s' is not a Service count (0..%ld)", argv[3], KP_MAX_SERVICES);
	kp_config_defaults(&c);
	c.services = services;
	for (int i = 4; i < argc; i++)
		if (render_option(argv[i], &c, &update, err))
			return -1;
	int rc = update ? kp_render_update(&c, m, &out, &n, err) : kp_render(&c, m, &out, &n, err);
	if (rc)
		return -1;
	fwrite(out.data, 1, out.len, stdout);
	fprintf(stderr, "rules %ld chains %ld elements %ld measured %ld\n", n.rules, n.chains, n.elements,
		kp_measured_index(&c));
	buf_free(&out);
	return 0;
}

static int server(int argc, char **argv, struct nf_error *err)
{
	size_t req, resp;
	long port;
	pid_t pid;

	if (argc != 6)
		return nf_fail(err, EXIT_USAGE, "server NETNS ADDR PORT REQ[:RESP]");
	if (!parse_long(argv[4], 1, 65535, &port))
		return nf_fail(err, EXIT_USAGE, "'%s' is not a port", argv[4]);
	if (conn_size_parse(argv[5], &req, &resp, err))
		return -1;
	if (conn_server_start(netns_arg(argv[2]), argv[3], (uint16_t)port, req, resp, &pid, err))
		return -1;
	printf("%d\n", (int)pid);
	return 0;
}

static void print_result(const struct conn_spec *sp, const struct conn_result *r)
{
	printf("mode %s\nstreams %d\ntransactions %llu\nelapsed_s %.3f\ntps %.1f\n", conn_mode_name(sp->mode),
	       sp->streams, (unsigned long long)r->transactions, r->elapsed_s, r->tps);
	printf("avg_us %.1f\np50_us %.1f\np90_us %.1f\np99_us %.1f\nmax_us %.1f\nsamples %llu\n", r->avg_us,
	       r->p50_us, r->p90_us, r->p99_us, r->max_us, (unsigned long long)r->samples);
	printf("failed %llu\nrefused %llu\ntimeouts %llu\nresets %llu\nother %llu\n",
	       (unsigned long long)r->failed, (unsigned long long)r->refused, (unsigned long long)r->timeouts,
	       (unsigned long long)r->resets, (unsigned long long)r->other);
	if (r->first_failure[0])
		printf("first_failure %s\n", r->first_failure);
	fflush(stdout);
}

static int run(int argc, char **argv, struct nf_error *err)
{
	struct conn_spec sp;
	struct conn_result r;
	long port, streams;
	double secs;

	if (argc != 9)
		return nf_fail(err, EXIT_USAGE, "run NETNS crr|rr DST PORT REQ[:RESP] STREAMS SECONDS");
	conn_spec_defaults(&sp);
	sp.netns = netns_arg(argv[2]);
	if (!conn_mode_parse(argv[3], &sp.mode))
		return nf_fail(err, EXIT_USAGE, "unknown workload '%s': crr or rr", argv[3]);
	snprintf(sp.dst, sizeof(sp.dst), "%s", argv[4]);
	if (!parse_long(argv[5], 1, 65535, &port))
		return nf_fail(err, EXIT_USAGE, "'%s' is not a port", argv[5]);
	sp.port = (uint16_t)port;
	if (conn_size_parse(argv[6], &sp.req, &sp.resp, err))
		return -1;
	if (!parse_long(argv[7], 1, CONN_STREAMS_MAX, &streams))
		return nf_fail(err, EXIT_USAGE, "--streams must be 1..%d", CONN_STREAMS_MAX);
	if (!parse_double(argv[8], 0.001, 86400, &secs))
		return nf_fail(err, EXIT_USAGE, "'%s' is not a duration in seconds", argv[8]);
	sp.streams = (int)streams;
	sp.duration_s = secs;
	int rc = conn_run(&sp, &r, err);
	if (!rc || err->status == EXIT_RUNTIME)
		print_result(&sp, &r);
	return rc;
}

int main(int argc, char **argv)
{
	struct nf_error err = { 0 };
	int rc;

	if (argc < 2)
		return usage();
	catch_stop_signals();
	if (!strcmp(argv[1], "render"))
		rc = render(argc, argv, &err);
	else if (!strcmp(argv[1], "server"))
		rc = server(argc, argv, &err);
	else if (!strcmp(argv[1], "run"))
		rc = run(argc, argv, &err);
	else if (!strcmp(argv[1], "stop") && argc == 3) {
		long pid;
		if (!parse_long(argv[2], 1, 1L << 30, &pid))
			return usage();
		rc = conn_server_stop((pid_t)pid, &err);
	} else
		return usage();
	return rc ? nf_error_report(&err) : 0;
}
