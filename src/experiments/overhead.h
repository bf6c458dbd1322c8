/* overhead: what the probe itself costs every packet, measured rather than
 * assumed. 16-byte UDP datagrams as fast as one sender sends them through
 * a testbed, alternately with the probe paused (its programs detached) and
 * attached, 15 short pairs; per run the sending thread's CPU time per
 * datagram (the whole path runs in its send, see overhead.c) and the datagram
 * rate. The difference of CPU time per datagram, with minus without (the
 * median over the pairs), is
 * probe_overhead_ns: the time the probe adds to every packet, which the
 * hook latencies it reports include. It builds no testbed: the caller's
 * probe must sit on the path from cli_netns to the server. */
#ifndef NFCOST_OVERHEAD_H
#define NFCOST_OVERHEAD_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/probe.h"

#define OVERHEAD_PAIRS 15
#define OVERHEAD_RUN_S 0.12   /* seconds per run */
#define OVERHEAD_CHUNK 2000   /* datagrams between two looks at the clock */

struct overhead {
	double ns;                          /* probe_overhead_ns */
	double cpu_ns_without, cpu_ns_with; /* busy CPU ns per datagram (medians) */
	double rate_without, rate_with;     /* datagrams per second, over all pairs */
	int pairs;
};

/* Measures with p (attached on entry and on return, also on failure when
 * possible). 0, or -1 with err (util/error.h). */
int overhead_measure(struct probe *p, const char *cli_netns, struct overhead *o,
		     struct nf_error *err);

struct experiment;
struct run_meta;
/* sweep/compare: measures with e's probe, in its testbed, at the rule count
 * it holds now, and fills m's overhead fields: the empty chain's unless
 * largest. 0, or -1 with err. */
int overhead_sweep_point(struct experiment *e, struct run_meta *m, bool largest,
			 struct nf_error *err);

#endif
