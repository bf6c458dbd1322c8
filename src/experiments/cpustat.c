#include "experiments/cpustat.h"

#include <stdio.h>
#include <unistd.h>

#include "util/util.h"

bool cpustat_read(struct cpustat *c)
{
	unsigned long long v[8] = { 0 }, total = 0;
	double tick_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
	char text[512];

	if (read_small_file("/proc/stat", text, sizeof(text)) < 0 ||
	    sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) < 8)
		return false;
	for (int i = 0; i < 8; i++) /* guest time is counted in user already */
		total += v[i];
	c->total_ns = (double)total * tick_ns;
	c->busy_ns = (double)(total - v[3] - v[4]) * tick_ns;
	return true;
}

double cpustat_busy_ns(const struct cpustat *before, const struct cpustat *after)
{
	return after->busy_ns - before->busy_ns;
}
