#include "experiments/overhead.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "experiments/experiment.h"
#include "results/results.h"
#include "testbed/testbed.h"
#include "traffic/traffic.h"
#include "util/util.h"

/* A port nothing listens on: the server's stack answers with a rate-limited
 * ICMP error, the same work with and without the probe. */
#define OVERHEAD_PORT 9
#define OVERHEAD_SIZE 16

/* The CPU time of this thread so far, in ns. The datagrams are sent from
 * it, and everything a datagram costs on its way through the testbed's
 * hooks runs in its send: the client's hooks in the syscall, the veth peer's
 * receive in the softirq its bottom-half enable runs (charged to the task
 * without IRQ time accounting). Other work on the machine does not count,
 * as it did with the machine's busy time: cpuidle's idle time is only
 * brought up to date when a CPU leaves idle, and /proc/stat counts 10 ms
 * ticks, and both gave negative costs under load. */
static bool busy_now(double *ns)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return false;
	*ns = (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
	return true;
}

/* One burst: the sender's CPU ns per datagram and datagrams per second. */
static int burst(const char *cli_netns, double *cpu_ns, double *rate, struct nf_error *err)
{
	long sent = 0, eperm;
	double t0, t1, b0, b1;

	if (!busy_now(&b0))
		return nf_fail(err, EXIT_RUNTIME, "cannot read this thread's CPU time");
	/* Chunks until the run's time is up: a long chain makes every
	 * datagram slow, and the run must stay short. */
	t0 = t1 = now_monotonic();
	while (t1 - t0 < OVERHEAD_RUN_S) {
		long n;
		if (traffic_udp_burst(cli_netns, TESTBED_SRV_ADDR, OVERHEAD_PORT, OVERHEAD_CHUNK,
				      OVERHEAD_SIZE, &n, &eperm, err))
			return -1;
		sent += n;
		t1 = now_monotonic();
	}
	if (!busy_now(&b1) || sent <= 0 || t1 <= t0)
		return nf_fail(err, EXIT_RUNTIME, "cannot read this thread's CPU time");
	*cpu_ns = (b1 - b0) / (double)sent;
	*rate = (double)sent / (t1 - t0);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int overhead_measure(struct probe *p, const char *cli_netns, struct overhead *o,
		     struct nf_error *err)
{
	double off[OVERHEAD_PAIRS], on[OVERHEAD_PAIRS], diff[OVERHEAD_PAIRS];
	double r_off = 0, r_on = 0, cpu, rate;
	struct nf_error ignored = { 0 };

	memset(o, 0, sizeof(*o));
	/* Without first, then with: a pair is two neighbours in time, so a
	 * drift of the machine's speed cancels in its difference. */
	for (int i = 0; i < OVERHEAD_PAIRS; i++) {
		if (probe_pause(p, true, err))
			return -1;
		if (burst(cli_netns, &cpu, &rate, err)) {
			probe_pause(p, false, &ignored); /* the burst's failure is the news */
			return -1;
		}
		off[i] = cpu;
		r_off += 1 / rate;
		if (probe_pause(p, false, err) || burst(cli_netns, &cpu, &rate, err))
			return -1;
		on[i] = cpu;
		r_on += 1 / rate;
		diff[i] = on[i] - off[i];
	}
	/* Datagrams a rule dropped left their starts behind (nfhook): once
	 * they are stale, a window read here takes them, so that they do not
	 * count as drops in the caller's next window. */
	struct probe_window w;
	struct timespec pause = { .tv_nsec = 150000000 }; /* > HOOKLAT_STALE_NS */
	nanosleep(&pause, NULL);
	probe_read_window(p, &w);
	o->pairs = OVERHEAD_PAIRS;
	/* Many short pairs: a pair's two runs are neighbours in time, and the
	 * median of 15 differences shrugs off the runs whose receive work went
	 * to the other CPU (ksoftirqd). Three pairs of 0.4 s gave -30 ns once. */
	o->ns = median(diff, OVERHEAD_PAIRS);
	o->cpu_ns_without = median(off, OVERHEAD_PAIRS);
	o->cpu_ns_with = median(on, OVERHEAD_PAIRS);
	o->rate_without = OVERHEAD_PAIRS / r_off;
	o->rate_with = OVERHEAD_PAIRS / r_on;
	return 0;
}

int overhead_sweep_point(struct experiment *e, struct run_meta *m, bool largest,
			 struct nf_error *err)
{
	struct overhead o;
	double ratio;

	if (overhead_measure(experiment_probe_mut(e), experiment_cli_netns(e), &o, err))
		return nf_error_prefix(err, "measuring the probe's own cost failed: ");
	ratio = o.rate_without > 0 ? o.rate_with / o.rate_without : 0;
	m->overhead_measured = true;
	if (largest) {
		m->overhead_largest_rules = experiment_rules(e);
		m->overhead_largest_ns = o.ns;
		m->overhead_largest_rate_ratio = ratio;
	} else {
		m->probe_overhead_ns = o.ns;
		m->overhead_rate_ratio = ratio;
	}
	return 0;
}
