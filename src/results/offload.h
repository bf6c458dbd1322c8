/* offload: a sweep measured with the testbed's segmentation offloads on AND
 * off (sweep --offload on,off): each setting's summary side by side, what
 * they say per skb and per wire packet, as sweep.json's "offloads" and as
 * report.md's section "Offload on and off". Pure data: no kernel I/O. */
#ifndef NFCOST_OFFLOAD_H
#define NFCOST_OFFLOAD_H

#include <json-c/json.h>
#include <stdio.h>

#include "results/results.h"

/* One setting's part of the run: its name ("on" or "off"), its summary and
 * its rows (in the order measured). */
struct offload_arm {
	const char *name;
	const struct sweep_summary *sum;
	const struct step_row *rows;
	size_t n;
};

/* What the two settings say together; NAN where a figure is missing. */
struct offload_comparison {
	double segs_on, segs_off;           /* wire packets per skb */
	double skb_slope_ratio;             /* per skb: off's slope / on's */
	double seg_slope_ratio;             /* per wire packet: off's slope / on's */
	double cpu_seg_on, cpu_seg_off;     /* total CPU per wire packet, ns per rule */
	double cpu_seg_ratio;               /* off / on */
	double chain_us_off;                /* off: µs per packet in the chain at the largest count */
	double router_pps;                  /* packets/s one CPU can walk that chain for */
};

/* From the arm named "on" and the one named "off" (either order). */
void offload_compare(const struct offload_arm *on, const struct offload_arm *off,
		     struct offload_comparison *c);

/* sweep.json's "offloads": {"order": ["on", "off"], "on": {analysis},
 * "off": {analysis}, "comparison": {...}}; arms in the order measured. */
json_object *offload_json(const struct offload_arm *arms, int n);

/* report.md's section "Offload on and off", written to f. */
void offload_report(FILE *f, const struct run_meta *m, const struct offload_arm *arms, int n);

#endif
