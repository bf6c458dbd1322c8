#include "experiments/experiment.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

enum testbed_side experiment_rules_side(enum nfhook h)
{
	return h == NFHOOK_LOCAL_IN ? TESTBED_SRV : h == NFHOOK_FORWARD ? TESTBED_RTR : TESTBED_CLI;
}

int experiment_setup(struct experiment *e, const struct experiment_config *cfg,
		     const char *name_prefix)
{
	char why[512];
	int rc;

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	testbed_unique_name(name_prefix, e->testbed, sizeof(e->testbed));
	/* FORWARD sees only packets a namespace routes on: that takes a router
	 * between the two ends, where the rules and the probe go. */
	rc = cfg->hook == NFHOOK_FORWARD ? testbed_up_routed(e->testbed, true)
				       : testbed_up(e->testbed, true);
	if (rc)
		return rc;
	e->testbed_made = true;
	testbed_netns_path(e->testbed, TESTBED_CLI, e->cli_netns, sizeof(e->cli_netns));
	testbed_netns_path(e->testbed, experiment_rules_side(cfg->hook), e->rules_netns,
			   sizeof(e->rules_netns));
	e->target = (struct rules_target){
		.netns_path = e->rules_netns, .backend = cfg->backend, .shape = cfg->shape,
		.hook = cfg->hook, .accept = cfg->accept,
		.hit_addr = cfg->hit_traffic ? TESTBED_SRV_ADDR : NULL,
	};
	/* Drop mode watches every hook, to say at which one the path ends. */
	bool drop_mode = cfg->hit_traffic && !cfg->accept;
	struct probe_opts po = {
		.tracer = cfg->tracer,
		.netns_path = e->rules_netns,
		.hook = drop_mode ? NFHOOK_ALL : cfg->hook,
		.by_comm = false,
	};
	/* Step 0 is an empty chain (with the hit rule, if any), not a missing one. */
	if ((rc = rules_prepare(&e->target))) {
		experiment_teardown(e);
		return rc;
	}
	e->probe = probe_open(&po, why, sizeof(why));
	if (!e->probe) {
		nf_err("%s", why);
		experiment_teardown(e);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int experiment_grow(struct experiment *e, long rules, double *ms)
{
	int rc;

	*ms = 0;
	if (rules <= e->rules)
		return EXIT_OK;
	if ((rc = rules_add(&e->target, rules - e->rules, ms)))
		return rc;
	e->rules = rules;
	return EXIT_OK;
}

int experiment_measure(struct experiment *e, struct step_row *row, struct traffic_result *res)
{
	struct probe_window w;
	char err[256];
	int rc;

	if (testbed_server_ensure(e->testbed) < 0) {
		nf_err("the iperf3 server in %s cannot be (re)started", e->testbed);
		return EXIT_RUNTIME;
	}
	/* Close whatever the window held so far: it must cover this run only. */
	if ((rc = probe_read_window(e->probe, &w))) {
		nf_err("reading the probe failed: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	if (traffic_run_once(e->cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
			     &e->cfg.traffic, res, err, sizeof(err))) {
		/* The server may have died since the check: restart it and run the
		 * step once more, in a fresh window. */
		if (stop_requested || testbed_server_ensure(e->testbed) < 0 ||
		    probe_read_window(e->probe, &w) ||
		    traffic_run_once(e->cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
				     &e->cfg.traffic, res, err, sizeof(err))) {
			nf_err("traffic at %ld rules failed: %s", e->rules, err);
			return EXIT_RUNTIME;
		}
	}
	if ((rc = probe_read_window(e->probe, &w))) {
		nf_err("reading the probe failed: %s", strerror(-rc));
		traffic_result_free(res);
		return EXIT_RUNTIME;
	}
	row->throughput_mbps = res->bits_per_second / 1e6;
	row->cwnd_kb = res->mean_cwnd_bytes / 1000.0;
	row->retransmits = res->retransmits;
	row->packets = w.count;
	row->lat_avg_ns = w.avg_ns;
	row->lat_p50_ns = w.p50_ns;
	row->lat_p99_ns = w.p99_ns;
	return EXIT_OK;
}

int experiment_measure_drops(struct experiment *e, struct step_row *row, struct step_drops *d)
{
	struct probe_window w;
	int rc;

	memset(d, 0, sizeof(*d));
	d->rules = e->rules;
	if ((rc = probe_read_window(e->probe, &w))) {
		nf_err("reading the probe failed: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	if (traffic_udp_burst(e->cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
			      e->cfg.hit_packets, e->cfg.traffic.size, &d->sent, &d->send_eperm)) {
		nf_err("cannot send UDP from %s: %s", e->cli_netns, strerror(errno));
		return EXIT_RUNTIME;
	}
	/* A dropped packet's start is counted lost once it is older than the
	 * probe's staleness limit: wait that long before closing the window. */
	usleep(150 * 1000);
	if ((rc = probe_read_window(e->probe, &w))) {
		nf_err("reading the probe failed: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		d->entered[h] = w.entered_hook[h];
		d->lost[h] = w.lost_hook[h];
	}
	row->packets = w.count;
	row->lat_avg_ns = w.avg_ns;
	row->lat_p50_ns = w.p50_ns;
	row->lat_p99_ns = w.p99_ns;
	return EXIT_OK;
}

void experiment_teardown(struct experiment *e)
{
	probe_close(e->probe);
	e->probe = NULL;
	if (e->testbed_made) {
		testbed_down(e->testbed, true);
		e->testbed_made = false;
	}
}
