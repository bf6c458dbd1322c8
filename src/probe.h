/* probe: owns the BPF side of nfcost: loading and attaching the hook-latency
 * programs for one tracer (fentry, kprobe or nfhook), choosing one for
 * --tracer auto and saying why the others were skipped, and reading the
 * per-window statistics (per-CPU counters and a log2/linear histogram, see
 * hist.h). It never decides what experiment runs. */
#ifndef NFCOST_PROBE_H
#define NFCOST_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"

enum probe_tracer { TRACER_AUTO, TRACER_FENTRY, TRACER_KPROBE, TRACER_NFHOOK, TRACER_COUNT };

/* NF_INET_* hook numbers, as the kernel numbers them. */
enum probe_hook {
	PROBE_PRE_ROUTING, PROBE_LOCAL_IN, PROBE_FORWARD, PROBE_LOCAL_OUT, PROBE_POST_ROUTING,
	PROBE_HOOKS
};

#define PROBE_COMMS 16 /* processes listed per window with --by comm */

struct probe_opts {
	enum probe_tracer tracer;
	const char *netns_path;  /* namespace to measure; NULL: the one we run in */
	enum probe_hook hook;    /* PROBE_LOCAL_OUT by default */
	bool by_comm;            /* count per process name */
};

struct probe_comm {
	char comm[16];
	uint64_t count;
};

/* One measurement window: everything since the previous read. */
struct probe_window {
	double seconds;              /* wall time the window covered */
	uint64_t count;              /* packets timed through the hook(s) */
	uint64_t sum_ns, min_ns, max_ns;
	uint64_t unmatched;          /* starts never matched by an end: drops, evictions */
	uint64_t hook_count[PROBE_HOOKS];
	uint64_t hist[HIST_SLOTS];
	double avg_ns, p50_ns, p90_ns, p99_ns;
	struct probe_comm comms[PROBE_COMMS];
	int n_comms;                 /* sorted by count, largest first */
};

struct probe;

bool probe_tracer_parse(const char *s, enum probe_tracer *out);
const char *probe_tracer_name(enum probe_tracer t);
bool probe_hook_parse(const char *s, enum probe_hook *out); /* "output", "LOCAL_OUT", ... */
const char *probe_hook_name(enum probe_hook h);             /* "LOCAL_OUT" */

/* Loads and attaches. On failure returns NULL and writes one line to why
 * (what failed and what to do). The first window starts now. */
struct probe *probe_open(const struct probe_opts *opts, char *why, size_t whylen);
/* The tracer that runs, and why the ones before it in auto order were skipped
 * ("fentry: load refused (EPERM) ...; kprobe: kernel has no kprobes"). */
enum probe_tracer probe_tracer(const struct probe *p);
const char *probe_selection_note(const struct probe *p);
/* Closes the current window into w and starts the next; no sample is lost
 * between windows. 0 or -errno. */
int probe_read_window(struct probe *p, struct probe_window *w);
/* Detaches and frees everything (also every BPF link). NULL is fine. */
void probe_close(struct probe *p);

#endif
