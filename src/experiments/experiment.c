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

int experiment_bed_up(struct experiment_bed *bed, const char *name_prefix, enum nfhook hook,
		      struct nf_error *err)
{
	memset(bed, 0, sizeof(*bed));
	testbed_unique_name(name_prefix, bed->testbed, sizeof(bed->testbed));
	/* FORWARD sees only packets a namespace routes on: that takes a router
	 * between the two ends, where the rules and the probe go. */
	if (hook == NFHOOK_FORWARD ? testbed_up_routed(bed->testbed, err)
				   : testbed_up(bed->testbed, err))
		return -1;
	bed->up = true;
	bed->rules_side = experiment_rules_side(hook);
	testbed_netns_path(bed->testbed, TESTBED_CLI, bed->cli_netns, sizeof(bed->cli_netns));
	testbed_netns_path(bed->testbed, bed->rules_side, bed->rules_netns,
			   sizeof(bed->rules_netns));
	return 0;
}

int experiment_bed_down(struct experiment_bed *bed, struct nf_error *err)
{
	struct nf_error down = { 0 };
	int rc = 0;

	if (bed->up && testbed_down(bed->testbed, true, &down)) {
		if (!err->status)
			*err = down;
		rc = -1;
	}
	bed->up = false;
	return rc;
}

int experiment_setup(struct experiment **out, const struct experiment_config *cfg,
		     const char *name_prefix, struct nf_error *err)
{
	struct experiment *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e)
		return nf_fail(err, EXIT_RUNTIME, "out of memory setting up the experiment");
	e->cfg = *cfg;
	if (experiment_bed_up(&e->bed, name_prefix, cfg->hook, err)) {
		free(e);
		return -1;
	}
	if (cfg->offload != OFFLOAD_DEFAULT &&
	    testbed_set_offload(e->bed.testbed, cfg->offload == OFFLOAD_ON, err)) {
		experiment_teardown(e, err);
		return -1;
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
		/* Where a packet stops is seen only by following every one. */
		.sample_every = drop_mode ? 1 : cfg->sample_every,
	};
	/* Step 0 is an empty chain (with the hit rule, if any), not a missing one. */
	if (rules_prepare(&e->target, err) || !(e->probe = probe_open(&po, err))) {
		experiment_teardown(e, err);
		return -1;
	}
	*out = e;
	return 0;
}

int experiment_grow(struct experiment *e, long rules, double *ms, struct nf_error *err)
{
	*ms = 0;
	if (rules <= e->rules)
		return 0;
	if (rules_add(&e->target, e->rules, rules - e->rules, ms, NULL, err))
		return -1;
	e->rules = rules;
	return 0;
}

int experiment_load(struct experiment *e, long rules, double *ms, long *counted,
		    struct nf_error *err)
{
	if (rules_load(&e->target, rules, ms, err))
		return -1;
	e->rules = rules;
	/* What is in the kernel now, counted there: a load that left other
	 * rules behind would fit a wrong line without a sign. */
	if ((*counted = rules_count(&e->target, err)) < 0)
		return -1;
	if (*counted != rules)
		return nf_fail(err, EXIT_RUNTIME,
			       "after loading %ld rules, %s holds %ld: the load did not "
			       "replace the rule set", rules, e->bed.rules_netns, *counted);
	return 0;
}

/* The latency and per-wire-packet figures of a step from its window, and
 * the CPU time the whole machine spent during it (busy_ns, NAN when
 * unknown). Latencies come from the timed packets (the samples); CPU per
 * packet divides by every packet that crossed the hook, and the wire
 * packets of all of them are the samples' scaled by packets / samples. */
static void fill_latency(struct step_row *row, const struct probe_window *w, double busy_ns)
{
	double seen = (double)(w->packets ? w->packets : w->count);
	double segs_all = w->count ? (double)w->segments * seen / (double)w->count : 0;

	row->packets = w->count;
	row->packets_seen = (uint64_t)seen;
	row->sample_every = w->sample_every ? w->sample_every : 1;
	row->lat_avg_ns = w->avg_ns;
	row->lat_p50_ns = w->p50_ns;
	row->lat_p99_ns = w->p99_ns;
	row->lat_ci95_ns = w->count > 1 ? w->avg_ci95_ns : NAN;
	row->segments = w->segments;
	row->lat_per_segment_ns = w->segments ? (double)w->sum_ns / (double)w->segments : NAN;
	row->cpu_ns_per_packet = seen > 0 && isfinite(busy_ns) ? busy_ns / seen : NAN;
	row->cpu_ns_per_segment = segs_all > 0 && isfinite(busy_ns) ? busy_ns / segs_all : NAN;
}

static int read_window(struct experiment *e, struct probe_window *w, struct nf_error *err)
{
	int rc = probe_read_window(e->probe, w);

	return rc ? nf_fail(err, EXIT_RUNTIME, "reading the probe failed: %s", strerror(-rc)) : 0;
}

/* One traffic run in a fresh window. A failed run is tried once more: the
 * server may have died since the check; say why, or a flaky step hides. */
static int run_traffic(struct experiment *e, struct probe_window *w, struct cpustat *cpu0,
		       bool *have_cpu, struct traffic_result *res, struct nf_error *err)
{
	struct nf_error first = { 0 };

	for (int attempt = 0; attempt < 2; attempt++) {
		if (testbed_server_ensure(e->bed.testbed, NULL))
			return nf_fail(err, EXIT_RUNTIME,
				       "the iperf3 server in %s cannot be (re)started",
				       e->bed.testbed);
		/* Close whatever the window held so far: it must cover this run only. */
		if (read_window(e, w, err))
			return -1;
		*have_cpu = cpustat_read(cpu0);
		if (!traffic_run_once(e->bed.cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
				      &e->cfg.traffic, res, &first))
			return 0;
		if (stop_requested)
			break;
		if (attempt == 0)
			nf_err("warning: traffic at %ld rules failed (%s): running the step again",
			       e->rules, first.msg);
	}
	return nf_fail(err, EXIT_RUNTIME, "traffic at %ld rules failed: %s", e->rules, first.msg);
}

int experiment_measure(struct experiment *e, struct step_row *row, struct traffic_result *res,
		       struct nf_error *err)
{
	struct probe_window w;
	struct cpustat cpu0, cpu1;
	struct otherload other;
	bool have_cpu = false;

	otherload_begin(&other);
	if (run_traffic(e, &w, &cpu0, &have_cpu, res, err)) {
		otherload_end(&other);
		return -1;
	}
	have_cpu = have_cpu && cpustat_read(&cpu1);
	row->other_cpu_pct = otherload_end(&other);
	if (read_window(e, &w, err)) {
		traffic_result_free(res);
		return -1;
	}
	/* A testbed removed under a running step (nfcost cleanup --force, ip
	 * netns del) leaves numbers of nothing: fail the step, keep no row. */
	if (!testbed_exists(e->bed.testbed)) {
		traffic_result_free(res);
		return nf_fail(err, EXIT_RUNTIME,
			       "testbed %s vanished during the step at %ld rules (removed from "
			       "outside?): the step is not kept", e->bed.testbed, e->rules);
	}
	row->throughput_mbps = res->bits_per_second / 1e6;
	row->cwnd_kb = res->mean_cwnd_bytes / 1000.0;
	row->retransmits = res->retransmits;
	fill_latency(row, &w, have_cpu ? cpustat_busy_ns(&cpu0, &cpu1) : NAN);
	row->packets_per_s = w.seconds > 0 ? (double)row->packets_seen / w.seconds : NAN;
	return 0;
}

int experiment_measure_drops(struct experiment *e, struct step_row *row, struct step_drops *d,
			     struct nf_error *err)
{
	struct probe_window w;
	struct otherload other;

	memset(d, 0, sizeof(*d));
	d->rules = e->rules;
	if (read_window(e, &w, err))
		return -1;
	otherload_begin(&other);
	if (traffic_udp_burst(e->bed.cli_netns, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT,
			      e->cfg.hit_packets, e->cfg.traffic.size, &d->sent, &d->send_eperm,
			      err)) {
		otherload_end(&other);
		return -1;
	}
	/* A dropped packet's start is counted lost once it is older than the
	 * probe's staleness limit: wait that long before closing the window. */
	usleep(150 * 1000);
	row->other_cpu_pct = otherload_end(&other);
	if (read_window(e, &w, err))
		return -1;
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		d->entered[h] = w.entered_hook[h];
		d->lost[h] = w.lost_hook[h];
	}
	fill_latency(row, &w, NAN);
	row->packets_per_s = NAN;
	return 0;
}

int experiment_update_cost(struct experiment *e, int reps, struct update_row *row,
			   struct nf_error *err)
{
	row->rules = e->rules;
	row->reps = reps;
	return rules_update_cost(&e->target, e->rules, reps, &row->add_ms, &row->delete_ms, err);
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

int experiment_teardown(struct experiment *e, struct nf_error *err)
{
	int rc;

	if (!e)
		return 0;
	probe_close(e->probe);
	rc = experiment_bed_down(&e->bed, err);
	free(e);
	return rc;
}
