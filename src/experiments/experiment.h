/* experiment: what sweep, compare and live share: a testbed of their own, the
 * probe attached in the namespace where the rules go, the rule target, and
 * one measured step (grow the rule set in one transaction, then traffic with
 * the probe window open). It knows no experiment's plan: the commands do. */
#ifndef NFCOST_EXPERIMENT_H
#define NFCOST_EXPERIMENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "probe/probe.h"
#include "results/results.h"
#include "rules/rules.h"
#include "testbed/testbed.h"
#include "traffic/traffic.h"

struct experiment_config {
	enum rules_backend backend;
	enum rules_shape shape;
	enum nfhook hook;
	enum probe_tracer tracer;
	struct traffic_opts traffic;
	bool accept;          /* the rules' verdict */
	bool hit_traffic;     /* a last rule matches the test traffic */
	int hit_packets;      /* hit_traffic with drop: UDP datagrams per step */
};

struct experiment {
	struct experiment_config cfg;
	char testbed[TESTBED_NAME_MAX + 1];
	char rules_netns[256];   /* where the rules and the probe go */
	char cli_netns[256];     /* where the traffic starts */
	struct rules_target target;
	struct probe *probe;
	long rules;              /* rules in place now */
	bool testbed_made;
};

/* The one map from a hook to the testbed side whose namespace holds its
 * rules: output -> cli, input -> srv, forward -> rtr (a routed testbed). */
enum testbed_side experiment_rules_side(enum nfhook h);
/* Makes a fresh testbed (name from prefix; routed for NFHOOK_FORWARD, rules
 * and probe then in its rtr namespace) and attaches the probe. 0 or an
 * exit status (message printed); on failure nothing is left behind. */
int experiment_setup(struct experiment *e, const struct experiment_config *cfg,
		     const char *name_prefix);
/* Grows the rule set to `rules` in one transaction; *ms: its duration. */
int experiment_grow(struct experiment *e, long rules, double *ms);
/* One traffic run with the probe window open around it. Fills row (but
 * rules/repeat/inject_ms, which the caller sets); *res keeps iperf3's output
 * (free it with traffic_result_free). 0 or an exit status. */
int experiment_measure(struct experiment *e, struct step_row *row, struct traffic_result *res);
/* Drop mode: sends hit_packets UDP datagrams to the server with the probe
 * window open around them, and says where they were stopped. */
int experiment_measure_drops(struct experiment *e, struct step_row *row, struct step_drops *d);
/* Detaches the probe and removes the testbed. Safe to call twice. */
void experiment_teardown(struct experiment *e);

#endif
