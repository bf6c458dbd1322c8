/* cpustat: the whole machine's CPU time from /proc/stat (all CPUs), busy
 * (every state but idle and iowait) and in all, in ns: what a step cost in
 * CPU beside what it spent in the hooks. */
#ifndef NFCOST_CPUSTAT_H
#define NFCOST_CPUSTAT_H

#include <stdbool.h>

struct cpustat {
	double busy_ns, total_ns;
};

bool cpustat_read(struct cpustat *c);
/* Busy ns between two reads. */
double cpustat_busy_ns(const struct cpustat *before, const struct cpustat *after);

#endif
