#include "experiments/calibration.h"

#include <string.h>

#include "experiments/experiment.h"
#include "traffic/traffic.h"
#include "util/util.h"

int calibration_run(enum probe_tracer t, struct calibration *cal, struct nf_error *err)
{
	/* The sweep's own empty-chain step: the testbed, an empty
	 * iptables-legacy OUTPUT chain (naming it makes the filter table and
	 * its hook exist: without any hook nf_hook_slow() is never called and
	 * fentry/kprobe would have nothing to time), and the probe. */
	struct experiment_config cfg = {
		.backend = BACKEND_IPTABLES_LEGACY, .shape = SHAPE_ADDR, .hook = NFHOOK_LOCAL_OUT,
		.tracer = t, .traffic = { .udp = false, .duration_s = 2, .interval_s = 1 },
	};
	struct experiment *e = NULL;
	struct traffic_result res;
	struct step_row row = { 0 };
	int rc = -1;

	memset(cal, 0, sizeof(*cal));
	if (experiment_setup(&e, &cfg, "cal", err))
		return -1;
	memset(&res, 0, sizeof(res));
	if (experiment_measure(e, &row, &res, err))
		goto out;
	traffic_result_free(&res);
	if (!row.packets) {
		nf_fail(err, EXIT_RUNTIME, "calibration timed no packet: the %s tracer sees no "
			"traffic in the testbed",
			probe_tracer_name(probe_tracer(experiment_probe(e))));
		goto out;
	}
	cal->tracer = probe_tracer(experiment_probe(e));
	cal->empty_chain_avg_ns = row.lat_avg_ns;
	cal->empty_chain_p50_ns = row.lat_p50_ns;
	cal->packets = row.packets;
	if (overhead_measure(experiment_probe_mut(e), experiment_cli_netns(e), &cal->overhead, err))
		goto out;
	rc = 0;
out:
	if (experiment_teardown(e, err))
		rc = -1;
	return rc;
}
