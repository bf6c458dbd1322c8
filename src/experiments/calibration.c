#include "experiments/calibration.h"

#include <string.h>

#include "testbed/testbed.h"
#include "traffic/traffic.h"
#include "util/util.h"

int calibration_run(enum probe_tracer t, struct calibration *cal, char *why, size_t whylen)
{
	struct traffic_opts topts = { .udp = false, .duration_s = 2, .interval_s = 1 };
	struct probe_opts popts = { .tracer = t, .hook = NFHOOK_LOCAL_OUT };
	struct traffic_result res;
	struct probe_window w;
	char name[TESTBED_NAME_MAX + 1], cli[256];
	struct probe *p = NULL;
	int rc = -1, err;

	memset(cal, 0, sizeof(*cal));
	testbed_unique_name("cal", name, sizeof(name));
	struct nf_error tb_err = { 0 };
	if (testbed_up(name, &tb_err)) {
		snprintf(why, whylen, "%s", tb_err.msg);
		return -1;
	}
	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	/* The empty chain: listing it makes the kernel instantiate the legacy
	 * filter table in this namespace, so its hooks run for every packet.
	 * Without any hook nf_hook_slow() is never called and fentry/kprobe
	 * would have nothing to time. */
	char *list[] = { "iptables-legacy", "-w", "-n", "-L", "OUTPUT", NULL };
	bool table = run_program(cli, list, NULL, 0, NULL, NULL) == 0;
	popts.netns_path = cli;
	struct nf_error perr = { 0 };
	p = probe_open(&popts, &perr);
	if (!p) {
		snprintf(why, whylen, "%s", perr.msg);
		goto out;
	}
	if ((err = probe_read_window(p, &w))) /* the window starts with the traffic */
		goto read_fail;
	memset(&res, 0, sizeof(res));
	if (traffic_run_once(cli, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT, &topts, &res, &tb_err)) {
		snprintf(why, whylen, "calibration traffic failed: %s", tb_err.msg);
		goto out;
	}
	traffic_result_free(&res);
	if ((err = probe_read_window(p, &w)))
		goto read_fail;
	if (!w.count) {
		snprintf(why, whylen, "calibration timed no packet: the %s tracer sees no "
			 "traffic in the testbed%s", probe_tracer_name(probe_tracer(p)),
			 table ? "" : " (iptables-legacy could not make an empty filter table)");
		goto out;
	}
	cal->tracer = probe_tracer(p);
	cal->empty_chain_avg_ns = w.avg_ns;
	cal->empty_chain_p50_ns = w.p50_ns;
	cal->packets = w.count;
	if (overhead_measure(p, cli, &cal->overhead, why, whylen))
		goto out;
	rc = 0;
	goto out;
read_fail:
	snprintf(why, whylen, "cannot read the probe's statistics: %s", strerror(-err));
out:
	probe_close(p);
	if (testbed_down(name, true, &tb_err))
		nf_err("%s", tb_err.msg);
	return rc;
}
