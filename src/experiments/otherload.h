/* otherload: the machine's other load during a step, so that load that
 * starts in the middle of a run is seen (environment.c looks only before
 * it). It is the CPU time of every process outside this run (not this
 * process, not its descendants such as the iperf3 server and client, and
 * no kernel thread: the run's own packets are partly handled in
 * ksoftirqd), from /proc/PID/stat: the utime + stime each process added
 * during the step, all of it for one that started in it. A process that
 * ended within the step is not seen (its parent's cutime would charge a
 * long-lived child's whole life to the step it was reaped in): a lower
 * bound. */
#ifndef NFCOST_OTHERLOAD_H
#define NFCOST_OTHERLOAD_H

#include <stdbool.h>
#include <stddef.h>

struct otherload_proc;

/* What was running at the start of a step. */
struct otherload {
	double t;                      /* monotonic seconds */
	struct otherload_proc *procs;  /* sorted by pid */
	size_t n;
	bool ok;
};

/* Takes the start mark (o->ok false when /proc cannot be read). */
void otherload_begin(struct otherload *o);
/* The other processes' CPU time since the mark, in % of all the machine's
 * CPUs over the same wall time (100: every CPU busy with other work); NAN
 * when unknown. Frees the mark. */
double otherload_end(struct otherload *o);

#endif
