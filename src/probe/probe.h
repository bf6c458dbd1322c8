/* probe: owns the BPF side of nfcost: loading and attaching the hook-latency
 * programs for one tracer (fentry, kprobe or nfhook), choosing one for
 * --tracer auto and saying why the others were skipped, and reading the
 * per-window statistics (per-CPU counters and a log2/linear histogram, see
 * hist.h), the text formats of a window, and the empty-chain calibration of
 * the probe's own cost. It never decides what experiment runs. */
#ifndef NFCOST_PROBE_H
#define NFCOST_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe/hist.h"

enum probe_tracer { TRACER_AUTO, TRACER_FENTRY, TRACER_KPROBE, TRACER_NFHOOK, TRACER_COUNT };

/* NF_INET_* hook numbers, as the kernel numbers them. As a hook to trace,
 * PROBE_HOOKS means all five ("all", named "ALL"). */
enum probe_hook {
	PROBE_PRE_ROUTING, PROBE_LOCAL_IN, PROBE_FORWARD, PROBE_LOCAL_OUT, PROBE_POST_ROUTING,
	PROBE_HOOKS
};

#define PROBE_COMMS 16 /* processes listed per window with --by comm */

/* The protocol family whose hooks are measured (netfilter keeps one set of
 * hooks per family). */
enum probe_family { PROBE_IPV4, PROBE_IPV6 };

struct probe_opts {
	enum probe_tracer tracer;
	const char *netns_path;  /* namespace to measure; NULL: the one we run in */
	enum probe_hook hook;    /* PROBE_LOCAL_OUT by default */
	enum probe_family family; /* PROBE_IPV4 by default */
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
	/* Added by the probe module: */
	uint64_t dropped;            /* fentry/kprobe: a hook dropped, stole or queued
				      * the packet (not timed); nfhook sees those as
				      * unmatched */
	uint64_t comm_other;         /* by_comm: packets of processes beyond comms[] */
	/* Per NF_INET_* hook (enum probe_hook): packets whose start was
	 * recorded in this window, and packets that entered the hook and never
	 * left it: nfhook: starts never ended (stale or overwritten; not the
	 * ends without start of unmatched); fentry/kprobe: verdict drop,
	 * stolen or queued (as dropped). */
	uint64_t entered_hook[PROBE_HOOKS];
	uint64_t lost_hook[PROBE_HOOKS];
};

/* What the indented lines of a printed window list. */
enum probe_by { PROBE_BY_NONE, PROBE_BY_COMM, PROBE_BY_HOOK };

struct probe;

bool probe_tracer_parse(const char *s, enum probe_tracer *out);
const char *probe_tracer_name(enum probe_tracer t);
bool probe_hook_parse(const char *s, enum probe_hook *out); /* "output", "LOCAL_OUT", ... */
const char *probe_hook_name(enum probe_hook h);             /* "LOCAL_OUT" */
bool probe_family_parse(const char *s, enum probe_family *out); /* "ipv4", "ipv6" */
const char *probe_family_name(enum probe_family f);            /* "ipv4" */

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
/* Detaches and frees everything (also every BPF link). NULL is fine.
 * Links and programs are file descriptors (close-on-exec): a forked child
 * that does not exec keeps them attached until it exits. */
void probe_close(struct probe *p);

/* libbpf's own messages: all on stderr when on, none when off (the default
 * once a probe is opened). */
void probe_set_verbose(bool on);

/* avg/p50/p90/p99 from count, sum and hist (min/max zeroed when empty). */
void probe_window_compute(struct probe_window *w);
/* Adds w to total (a zeroed window to begin with), for run summaries. */
void probe_window_add(struct probe_window *total, const struct probe_window *w);

/* The namespace's name for output: the basename of netns_path, or "host"
 * for the initial namespace when netns_path is NULL. */
const char *probe_netns_label(const char *netns_path, char *buf, size_t len);
/* One block of docs/formats.md ("trace text output"), blank line after:
 *   19:30:12 t=10.0s LOCAL_OUT nfcost-x-cli via nfhook
 *     count 123456 avg 512 ns p50 480 ns p90 700 ns p99 1200 ns unmatched 0
 * plus, for by (enum probe_by), one "  NAME COUNT" line per process or hook;
 * a hook's line ends in " lost N" when N packets never left it.
 * The clock is the local time of the call. */
void probe_print_window(FILE *f, const struct probe_window *w, double t_start_s,
			const char *hook, const char *netns, const char *tracer, int by);
/* bcc-style log2 histogram of hist in ns, 78 columns. Prints nothing when empty. */
void probe_print_hist(FILE *f, const uint64_t hist[HIST_SLOTS]);

/* Empty-chain calibration: builds a temporary testbed with an empty
 * iptables-legacy filter table on the client side, traces its LOCAL_OUT with
 * tracer t during 2 s of TCP traffic, removes the testbed. The average
 * is the fixed time the tracer itself adds to (and measures in) every
 * packet. 0, or -1 with one line in why (empty when the testbed module
 * already printed the reason). */
struct probe_calibration {
	enum probe_tracer tracer;    /* the one that ran (auto resolved) */
	double empty_chain_avg_ns, empty_chain_p50_ns;
	uint64_t packets;
};
int probe_calibrate_ex(enum probe_tracer t, struct probe_calibration *cal, char *why,
		       size_t whylen);
int probe_calibrate(enum probe_tracer t, double *empty_chain_avg_ns, char *why, size_t len);

#endif
