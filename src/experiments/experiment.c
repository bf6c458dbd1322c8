#include "experiments/experiment.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiments/cpustat.h"
#include "experiments/otherload.h"
#include "util/util.h"

struct experiment {
	struct experiment_config cfg;
	struct experiment_bed bed;
	struct rules_target target;
	struct probe *probe;
	long rules;              /* rules in place now */
};

enum testbed_side experiment_rules_side(enum nfhook h)
{
	return h == NFHOOK_LOCAL_IN ? TESTBED_SRV : h == NFHOOK_FORWARD ? TESTBED_RTR : TESTBED_CLI;
}

bool experiment_drop_mode(const struct experiment_config *cfg)
{
	return cfg->hit_traffic && !cfg->accept;
}

int experiment_bed_up(struct experiment_bed *bed, const char *name_prefix, enum nfhook hook)
{
	int rc;

	memset(bed, 0, sizeof(*bed));
	testbed_unique_name(name_prefix, bed->testbed, sizeof(bed->testbed));
	/* FORWARD sees only packets a namespace routes on: that takes a router
	 * between the two ends, where the rules and the probe go. */
	struct nf_error err = { 0 };
	rc = hook == NFHOOK_FORWARD ? testbed_up_routed(bed->testbed, &err)
				    : testbed_up(bed->testbed, &err);
	if (rc)
		return nf_error_report(&err);
	bed->up = true;
	bed->rules_side = experiment_rules_side(hook);
	testbed_netns_path(bed->testbed, TESTBED_CLI, bed->cli_netns, sizeof(bed->cli_netns));
	testbed_netns_path(bed->testbed, bed->rules_side, bed->rules_netns,
			   sizeof(bed->rules_netns));
	return EXIT_OK;
}

void experiment_bed_down(struct experiment_bed *bed)
{
	struct nf_error err = { 0 };

	if (bed->up && testbed_down(bed->testbed, true, &err))
		nf_error_report(&err);
	bed->up = false;
}

int experiment_setup(struct experiment **out, const struct experiment_config *cfg,
		     const char *name_prefix)
{
	struct experiment *e = calloc(1, sizeof(*e));
	int rc;

	*out = NULL;
	if (!e) {
		nf_err("out of memory setting up the experiment");
		return EXIT_RUNTIME;
	}
	e->cfg = *cfg;
	if ((rc = experiment_bed_up(&e->bed, name_prefix, cfg->hook))) {
		free(e);
		return rc;
	}
	struct nf_error tb_err = { 0 };
	if (cfg->offload != OFFLOAD_DEFAULT &&
	    testbed_set_offload(e->bed.testbed, cfg->offload == OFFLOAD_ON, &tb_err)) {
		nf_err("%s", tb_err.msg);
		experiment_teardown(e);
		return EXIT_RUNTIME;
	}
	e->target = (struct rules_target){
		.netns_path = e->bed.rules_netns, .backend = cfg->backend, .shape = cfg->shape,
		.hook = cfg->hook, .accept = cfg->accept,
		.hit_addr = cfg->hit_traffic ? TESTBED_SRV_ADDR : NULL,
	};
	/* Drop mode watches every hook, to say at which one the path ends. */
	bool drop_mode = experiment_drop_mode(cfg);
	struct probe_opts po = {
		.tracer = cfg->tracer,
		.netns_path = e->bed.rules_netns,
		.hook = drop_mode ? NFHOOK_ALL : cfg->hook,
		.by_comm = false,
	};
	/* Step 0 is an empty chain (with the hit rule, if any), not a missing one. */
	struct nf_error err = { 0 };
	if (rules_prepare(&e->target, &err)) {
		experiment_teardown(e);
		return nf_error_report(&err);
	}
	struct nf_error perr = { 0 };
	e->probe = probe_open(&po, &perr);
	if (!e->probe) {
		nf_err("%s", perr.msg);
		experiment_teardown(e);
		return EXIT_RUNTIME;
	}
	*out = e;
	return EXIT_OK;
}

int experiment_grow(struct experiment *e, long rules, double *ms)
{
	struct nf_error err = { 0 };

	*ms = 0;
	if (rules <= e->rules)
		return EXIT_OK;
	if (rules_add(&e->target, e->rules, rules - e->rules, ms, NULL, &err))
		return nf_error_report(&err);
	e->rules = rules;
	return EXIT_OK;
}

int experiment_load(struct experiment *e, long rules, double *ms, long *counted)
{
	struct nf_error err = { 0 };

	if (rules_load(&e->target, rules, ms, &err))
		return nf_error_report(&err);
	e->rules = rules;
	/* What is in the kernel now, counted there: a load that left other
	 * rules behind would fit a wrong line without a sign. */
	if ((*counted = rules_count(&e->target, &err)) < 0)
		return nf_error_report(&err);
	if (*counted != rules) {
		nf_err("after loading %ld rules, %s holds %ld: the load did not replace the rule set",
		       rules, e->bed.rules_netns, *counted);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* The per-wire-packet figures of a step from its window, and the CPU time
 * the whole machine spent during it (busy_ns, NAN when unknown). */
static void fill_per_segment(struct step_row *row, const struct probe_window *w, double busy_ns)
{
	row->segments = w->segments;
	row->lat_per_segment_ns = w->segments ? (double)w->sum_ns / (double)w->segments : NAN;
	row->cpu_ns_per_packet = w->count && isfinite(busy_ns) ? busy_ns / (double)w->count : NAN;
	row->cpu_ns_per_segment = w->segments && isfinite(busy_ns) ? busy_ns / (double)w->segments
								 : NAN;
}

int experiment_measure(struct experiment *e, struct step_row *row, struct traffic_result *res)
{
	struct probe_window w;
	struct nf_error err = { 0 };
	int rc;

	if (testbed_server_ensure(e->bed.testbed, NULL)) {
		nf_err("the iperf3 server in %s cannot be (re)started", e->bed.testbed);
		return EXIT_RUNTIME;
	}
	/* Close whatever the window held so far: it must cover this run only. */
	if ((rc = probe_read_window(e->probe, &w))) {
		nf_err("reading the probe failed: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	struct cpustat cpu0, cpu1;
	struct otherload other;
	otherload_begin(&other);
	bool have_cpu = cpustat_read(&cpu0);
	if (traffic_run_once(e->bed.cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
			     &e->cfg.traffic, res, &err)) {
		/* The server may have died since the check: restart it and run the
		 * step once more, in a fresh window. Say why, or a flaky step hides. */
		if (!stop_requested)
			nf_err("warning: traffic at %ld rules failed (%s): running the step again",
			       e->rules, err.msg);
		if (stop_requested || testbed_server_ensure(e->bed.testbed, NULL) ||
		    probe_read_window(e->probe, &w) || !(have_cpu = cpustat_read(&cpu0)) ||
		    traffic_run_once(e->bed.cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
				     &e->cfg.traffic, res, &err)) {
			nf_err("traffic at %ld rules failed: %s", e->rules, err.msg);
			otherload_end(&other);
			return EXIT_RUNTIME;
		}
	}
	have_cpu = have_cpu && cpustat_read(&cpu1);
	row->other_cpu_pct = otherload_end(&other);
	if ((rc = probe_read_window(e->probe, &w))) {
		nf_err("reading the probe failed: %s", strerror(-rc));
		traffic_result_free(res);
		return EXIT_RUNTIME;
	}
	/* A testbed removed under a running step (nfcost cleanup --force, ip
	 * netns del) leaves numbers of nothing: fail the step, keep no row. */
	if (!testbed_exists(e->bed.testbed)) {
		nf_err("testbed %s vanished during the step at %ld rules (removed from outside?): "
		       "the step is not kept", e->bed.testbed, e->rules);
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
	fill_per_segment(row, &w, have_cpu ? cpustat_busy_ns(&cpu0, &cpu1) : NAN);
	row->packets_per_s = w.seconds > 0 ? (double)w.count / w.seconds : NAN;
	return EXIT_OK;
}

int experiment_measure_drops(struct experiment *e, struct step_row *row, struct step_drops *d)
{
	struct probe_window w;
	struct nf_error err = { 0 };
	int rc;

	memset(d, 0, sizeof(*d));
	d->rules = e->rules;
	if ((rc = probe_read_window(e->probe, &w))) {
		nf_err("reading the probe failed: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	struct otherload other;
	otherload_begin(&other);
	if (traffic_udp_burst(e->bed.cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
			      e->cfg.hit_packets, e->cfg.traffic.size, &d->sent, &d->send_eperm,
			      &err)) {
		nf_err("%s", err.msg);
		otherload_end(&other);
		return EXIT_RUNTIME;
	}
	/* A dropped packet's start is counted lost once it is older than the
	 * probe's staleness limit: wait that long before closing the window. */
	usleep(150 * 1000);
	row->other_cpu_pct = otherload_end(&other);
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
	fill_per_segment(row, &w, NAN);
	row->packets_per_s = NAN;
	return EXIT_OK;
}

int experiment_update_cost(struct experiment *e, int reps, struct update_row *row)
{
	row->rules = e->rules;
	row->reps = reps;
	struct nf_error err = { 0 };
	if (rules_update_cost(&e->target, e->rules, reps, &row->add_ms, &row->delete_ms, &err))
		return nf_error_report(&err);
	return EXIT_OK;
}

int experiment_read_window(struct experiment *e, struct probe_window *w)
{
	return probe_read_window(e->probe, w);
}

struct traffic_run *experiment_traffic_start(struct experiment *e)
{
	return traffic_start(e->bed.cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT, &e->cfg.traffic);
}

long experiment_rules(const struct experiment *e)
{
	return e->rules;
}

const struct probe *experiment_probe(const struct experiment *e)
{
	return e ? e->probe : NULL;
}

struct probe *experiment_probe_mut(struct experiment *e)
{
	return e->probe;
}

const char *experiment_cli_netns(const struct experiment *e)
{
	return e->bed.cli_netns;
}

const char *experiment_rules_netns(const struct experiment *e)
{
	return e->bed.rules_netns;
}

const char *experiment_rules_netns_name(const struct experiment *e)
{
	const char *slash = strrchr(e->bed.rules_netns, '/');

	return slash ? slash + 1 : e->bed.rules_netns;
}

void experiment_teardown(struct experiment *e)
{
	if (!e)
		return;
	probe_close(e->probe);
	experiment_bed_down(&e->bed);
	free(e);
}
