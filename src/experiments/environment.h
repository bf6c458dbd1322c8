/* environment: collects the conditions a run's figures depend on (BPF JIT,
 * CPU frequency and SMT, mitigations, preemption, kernel command line, the
 * tools' and libraries' versions, other BPF netfilter programs, packet
 * sockets in the measured namespace, load) and names what distorts them. */
#ifndef NFCOST_ENVIRONMENT_H
#define NFCOST_ENVIRONMENT_H

#include "results/results.h"

/* The machine's part, before anything of the run is attached. */
void environment_collect(struct run_env *env);
/* The measured namespace's part (packet sockets), once it exists; then
 * the warnings. netns_path NULL: none. */
void environment_finish(struct run_env *env, const char *netns_path);

/* Adds a warning of the run's own finding (e.g. load during its steps). */
void environment_warn(struct run_env *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
