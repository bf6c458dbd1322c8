/* bench/probe_cost: probe_overhead_ns (experiments/overhead.c) for each
 * sampling given, on the LOCAL_OUT hook of one namespace, nfhook tracer:
 *   probe_cost NETNS_PATH N...
 * prints one line per N and round: "sample N probe_overhead_ns X cpu_without
 * Y cpu_with Z rate_ratio R". ROUNDS (env, default 3) rounds, the values
 * interleaved so that drift hits each alike. Built and run by bench/probe.sh
 * (against build/libnfcost.a); not part of nfcost. */
#include <stdio.h>
#include <stdlib.h>

#include "experiments/overhead.h"
#include "probe/probe.h"

static int one(const char *netns, unsigned int n)
{
	struct probe_opts o = { .tracer = TRACER_NFHOOK, .netns_path = netns,
				.hook = NFHOOK_LOCAL_OUT, .sample_every = n };
	struct nf_error err = { 0 };
	struct overhead ov;
	struct probe *p = probe_open(&o, &err);
	char why[512];

	if (!p) {
		fprintf(stderr, "probe_cost: %s\n", err.msg);
		return -1;
	}
	if (overhead_measure(p, netns, &ov, why, sizeof(why))) {
		fprintf(stderr, "probe_cost: %s\n", why);
		probe_close(p);
		return -1;
	}
	printf("sample %u probe_overhead_ns %.1f cpu_without %.1f cpu_with %.1f rate_ratio %.3f\n",
	       n, ov.ns, ov.cpu_ns_without, ov.cpu_ns_with,
	       ov.rate_without > 0 ? ov.rate_with / ov.rate_without : 0);
	fflush(stdout);
	probe_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 3;

	if (argc < 3) {
		fprintf(stderr, "usage: probe_cost NETNS_PATH N...\n");
		return 2;
	}
	for (int r = 0; r < rounds; r++)
		for (int i = 2; i < argc; i++)
			if (one(argv[1], (unsigned int)strtoul(argv[i], NULL, 10)))
				return 1;
	return 0;
}
