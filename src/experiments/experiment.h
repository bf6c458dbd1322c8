/* experiment: what sweep, compare and live share: a testbed of their own, the
 * probe attached in the namespace where the rules go, the rule target, and
 * one measured step (grow the rule set in one transaction, then traffic with
 * the probe window open). It knows no experiment's plan: sweep.c and live.c
 * do. The struct is private: callers hold a pointer and use the accessors,
 * as iperf3's iperf_api.h does with its test. */
#ifndef NFCOST_EXPERIMENT_H
#define NFCOST_EXPERIMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/probe.h"
#include "results/results.h"
#include "rules/rules.h"
#include "testbed/testbed.h"
#include "traffic/traffic.h"

/* The testbed's segmentation offloads: as the kernel made them, or set. */
enum offload { OFFLOAD_DEFAULT, OFFLOAD_ON, OFFLOAD_OFF };

struct experiment_config {
	enum rules_backend backend;
	enum rules_shape shape;
	enum nfhook hook;
	enum probe_tracer tracer;
	struct traffic_opts traffic;
	bool accept;          /* the rules' verdict */
	bool hit_traffic;     /* a last rule matches the test traffic */
	int hit_packets;      /* hit_traffic with drop: UDP datagrams per step */
	enum offload offload; /* TSO/GSO/GRO on the testbed's veths */
	/* The probe times one packet in sample_every (probe_opts; 0 or 1:
	 * every packet). Drop mode follows every packet whatever this says. */
	unsigned int sample_every;
};

struct experiment;

/* The testbed every experiment starts from (sweep, compare and live
 * through experiment_setup, profile and calibration directly): a fresh
 * testbed named from a prefix, routed for the forward hook, and the
 * namespaces its traffic starts in and its rules (and probe) go into. */
struct experiment_bed {
	char testbed[TESTBED_NAME_MAX + 1];
	char cli_netns[256];         /* where the traffic starts */
	char rules_netns[256];       /* where the rules and the probe go */
	enum testbed_side rules_side;
	bool up;
};
/* Every function below that can fail returns 0, or -1 with err filled
 * (util/error.h); nothing here prints an error. */

/* Nothing is left on failure. */
int experiment_bed_up(struct experiment_bed *bed, const char *name_prefix, enum nfhook hook,
		      struct nf_error *err);
/* Removes the testbed (when up). A failure to remove it is recorded in err
 * unless err already holds an earlier failure (that one is the news). */
int experiment_bed_down(struct experiment_bed *bed, struct nf_error *err);

/* The one map from a hook to the testbed side whose namespace holds its
 * rules: output -> cli, input -> srv, forward -> rtr (a routed testbed). */
enum testbed_side experiment_rules_side(enum nfhook h);
/* Drop mode: the last rule drops the test traffic, so nfcost sends its own
 * datagrams and counts where they stop. */
bool experiment_drop_mode(const struct experiment_config *cfg);
/* Makes a fresh testbed (name from prefix; routed for NFHOOK_FORWARD, rules
 * and probe then in its rtr namespace) and attaches the probe. On failure
 * nothing is left behind. */
int experiment_setup(struct experiment **e, const struct experiment_config *cfg,
		     const char *name_prefix, struct nf_error *err);
/* Grows the rule set to `rules` in one transaction; *ms: its duration. */
int experiment_grow(struct experiment *e, long rules, double *ms, struct nf_error *err);
/* Replaces the rule set with exactly `rules` rules in one transaction
 * (rules_load: flush and load), whatever was there; *ms: its duration;
 * *counted: the rules counted in the kernel afterwards (equal to rules, or
 * the call fails). */
int experiment_load(struct experiment *e, long rules, double *ms, long *counted,
		    struct nf_error *err);
/* One traffic run with the probe window open around it. Fills row (but
 * rules/repeat/inject_ms, which the caller sets); *res keeps iperf3's output
 * (free it with traffic_result_free; nothing to free on failure). */
int experiment_measure(struct experiment *e, struct step_row *row, struct traffic_result *res,
		       struct nf_error *err);
/* Drop mode: sends hit_packets UDP datagrams to the server with the probe
 * window open around them, and says where they were stopped. */
int experiment_measure_drops(struct experiment *e, struct step_row *row, struct step_drops *d,
			    struct nf_error *err);
/* The cost of changing one rule at the current size (rules_update_cost). */
int experiment_update_cost(struct experiment *e, int reps, struct update_row *row,
			   struct nf_error *err);
/* Closes the probe's current window into w (see probe_read_window). */
int experiment_read_window(struct experiment *e, struct probe_window *w);
/* Starts one client run through the testbed (live: the long run). */
struct traffic_run *experiment_traffic_start(struct experiment *e);
/* Rules in place now. */
long experiment_rules(const struct experiment *e);
/* The probe that runs, or NULL before setup. */
const struct probe *experiment_probe(const struct experiment *e);
/* The same, to pause it (probe_pause, experiments/overhead.h). */
struct probe *experiment_probe_mut(struct experiment *e);
/* Path of the client namespace, where the traffic starts. */
const char *experiment_cli_netns(const struct experiment *e);
/* Path of the namespace holding the rules and the probe. */
const char *experiment_rules_netns(const struct experiment *e);
/* Name of the namespace holding the rules and the probe ("nfcost-x-cli"). */
const char *experiment_rules_netns_name(const struct experiment *e);
/* Detaches the probe, removes the testbed and frees e. NULL is fine. A
 * testbed that cannot be removed is recorded in err as experiment_bed_down
 * does. */
int experiment_teardown(struct experiment *e, struct nf_error *err);

#endif
