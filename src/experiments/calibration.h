/* calibration: the empty-chain measurement of a tracer's own cost. It
 * builds a testbed and runs traffic, so it belongs to the experiments, not
 * to the probe it measures. */
#ifndef NFCOST_CALIBRATION_H
#define NFCOST_CALIBRATION_H

#include <stddef.h>
#include <stdint.h>

#include "experiments/overhead.h"
#include "probe/probe.h"

/* Empty-chain calibration: an experiment (experiment.h) with an empty
 * iptables-legacy OUTPUT chain on the client side, as a sweep's step 0,
 * traced with tracer t during 2 s of TCP traffic, then removed. The
 * average is the fixed time the tracer itself adds to (and measures in)
 * every packet. 0, or -1 with err (util/error.h). */
struct calibration {
	enum probe_tracer tracer;    /* the one that ran (auto resolved) */
	double empty_chain_avg_ns, empty_chain_p50_ns;
	uint64_t packets;
	struct overhead overhead;    /* with and without the probe, empty chain */
};
int calibration_run(enum probe_tracer t, struct calibration *cal, struct nf_error *err);

#endif
