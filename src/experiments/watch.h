/* watch: `nfcost watch`'s engine. It attaches the probe to the hooks of one
 * namespace (it only observes: it never writes a rule), and every interval
 * adds the probe's windows into cumulative metrics (results/metrics.h),
 * counts the namespace's rules (rules/chaincount.h), and hands the
 * exposition to the HTTP server (httpd.h) and/or writes it to a textfile
 * atomically, until SIGINT/SIGTERM (exit 0) or the namespace disappears
 * (exit 1). Rule reloads need nothing: the probe's programs sit on the
 * hooks, not in a table, so they stay attached and the next count shows the
 * new rules. */
#ifndef NFCOST_WATCH_H
#define NFCOST_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/probe.h"
#include "util/error.h"

/* From Prometheus's registry of exporter default ports (the wiki page
 * "Default port allocations"): its 9100-9999 range is full, so a port
 * outside it that the page does not list. */
#define WATCH_DEFAULT_PORT 10412
#define WATCH_DEFAULT_ADDR "127.0.0.1"
#define WATCH_DEFAULT_INTERVAL_S 5.0
/* Default --hook: every hook a packet of this host can pass. */
#define WATCH_ALL_HOOKS ((1u << NFHOOK_COUNT) - 1)
#define WATCH_ALL_FAMILIES ((1u << PROBE_IPV4) | (1u << PROBE_IPV6))
/* --tables: brackets between iptables' standard table priorities (raw
 * -300, conntrack -200, mangle -150, dnat -100, filter 0, security 50,
 * snat 100); the parts are named in watch.c. */
#define WATCH_TABLE_SPLITS 4

struct watch_config {
	const char *netns_path;   /* NULL: the namespace we run in */
	const char *listen_addr;  /* NULL: do not serve (textfile only) */
	uint16_t port;
	unsigned int sample_every; /* one packet in N timed (1: every one) */
	unsigned int hooks;        /* bit (1 << enum nfhook) per hook watched */
	unsigned int families;     /* bit (1 << enum probe_family) per family */
	enum probe_tracer tracer;
	const char *textfile;      /* NULL: none */
	bool tables;               /* per-table brackets (nfhook only) */
	double interval_s;
	const char *version;       /* nfcost's, for nfcost_build_info */
	const char *ready_file;    /* written "PID PORT" once serving (tests) */
};

/* Runs until a stop signal (0) or a failure (-1 with err). The caller
 * installs the stop-signal handler (util's catch_stop_signals). */
int watch_run(const struct watch_config *cfg, struct nf_error *err);

#endif
