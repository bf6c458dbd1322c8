/* window: one measurement window of the hook-latency probe as plain data
 * (counts, sums, extremes, per-hook counts, the histogram, the top process
 * names) and its arithmetic: percentiles from the histogram, adding windows
 * into a run total. Pure: no libbpf, no kernel; probe.c fills windows, the
 * results stage prints and stores them. */
#ifndef NFCOST_WINDOW_H
#define NFCOST_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "util/nfhook.h"
#include "probe/hist.h"

#define PROBE_COMMS 16 /* processes listed per window with --by comm */
#define PROBE_MAX_SPLITS 8 /* nfhook: split priorities per hook (probe_opts) */

struct probe_comm {
	char comm[16];
	uint64_t count;
};

/* What a timed packet was to conntrack, decided at the end of its hook:
 * the first packet of a connection (conntrack's state NEW, or a TCP SYN
 * without ACK that conntrack has not seen), a packet of an established or
 * related connection in its original direction (also any other packet
 * conntrack has not seen), or one in the reply direction. */
enum probe_class { PROBE_CLASS_FIRST, PROBE_CLASS_ESTABLISHED, PROBE_CLASS_REPLY, PROBE_CLASSES };

/* The timed packets (samples) of one class on one hook. */
struct probe_class_stats {
	uint64_t count;            /* samples timed */
	uint64_t sum_ns;           /* their time in the hook */
	uint64_t hist[HIST_SLOTS]; /* hist.h slots of that time */
};

/* One measurement window: everything since the previous read. The
 * latency fields (count, sum_ns, hist, avg/p50/p90/p99, hook_count,
 * hook_sum_ns, part_sum_ns, cls) hold the timed packets, the samples: one
 * packet in sample_every; packets and packets_hook count every packet. */
struct probe_window {
	double seconds;              /* wall time the window covered */
	uint64_t count;              /* samples: packets timed through the hook(s) */
	uint64_t sum_ns, min_ns, max_ns;
	uint64_t segments;           /* wire packets those skbs carried (GSO/TSO) */
	uint64_t unmatched;          /* starts never matched by an end: drops, evictions */
	uint64_t hook_count[NFHOOK_COUNT];
	uint64_t hist[HIST_SLOTS];
	double avg_ns, p50_ns, p90_ns, p99_ns;
	/* Half width of the 95 % confidence interval of avg_ns (normal
	 * approximation, standard deviation from hist): avg_ns +- avg_ci95_ns.
	 * 0 with fewer than two samples. */
	double avg_ci95_ns;
	struct probe_comm comms[PROBE_COMMS];
	int n_comms;                 /* sorted by count, largest first */
	/* Added by the probe module: */
	uint64_t dropped;            /* fentry/kprobe: a hook dropped, stole or queued
				      * the packet (not timed); nfhook sees those as
				      * unmatched */
	uint64_t comm_other;         /* by_comm: packets of processes beyond comms[] */
	/* Per NF_INET_* hook (enum nfhook): packets whose start was
	 * recorded in this window, and packets that entered the hook and never
	 * left it: nfhook: starts never ended (stale or overwritten; not the
	 * ends without start of unmatched); fentry/kprobe: verdict drop,
	 * stolen or queued (as dropped). */
	uint64_t entered_hook[NFHOOK_COUNT];
	uint64_t lost_hook[NFHOOK_COUNT];
	/* Per hook: the time of the packets timed there (sum_ns is their
	 * sum), and its parts between the per-table brackets (probe_opts
	 * split_priorities): part k is bracket k to bracket k+1, bracket 0
	 * the first program, bracket n_splits+1 the last. Only packets that
	 * reach the last program count, so for every hook the parts add up
	 * exactly to hook_sum_ns[h]; without splits part 0 is the whole. */
	uint64_t hook_sum_ns[NFHOOK_COUNT];
	uint64_t hook_segments[NFHOOK_COUNT]; /* wire packets, as segments, per hook */
	uint64_t part_sum_ns[NFHOOK_COUNT][PROBE_MAX_SPLITS + 1];
	/* Sampling (probe_opts sample_every): one packet in sample_every is
	 * timed (1: every packet). packets_hook[h] counts every packet that
	 * entered hook h in this window, timed or not; packets is their sum.
	 * With sampling, entered_hook and lost_hook count samples only. */
	unsigned int sample_every;
	uint64_t packets;
	uint64_t packets_hook[NFHOOK_COUNT];
	/* Per class and hook: the samples' count, time and histogram. Over
	 * the classes they add up to hook_count[h] and hook_sum_ns[h]; over
	 * classes and hooks to count, sum_ns and hist. */
	struct probe_class_stats cls[PROBE_CLASSES][NFHOOK_COUNT];
};

/* What the indented lines of a printed window list. */
enum probe_by { PROBE_BY_NONE, PROBE_BY_COMM, PROBE_BY_HOOK, PROBE_BY_CLASS };

/* avg/p50/p90/p99 and avg_ci95_ns from count, sum and hist (min/max
 * zeroed when empty). */
void probe_window_compute(struct probe_window *w);
/* Adds w to total (a zeroed window to begin with), for run summaries. */
void probe_window_add(struct probe_window *total, const struct probe_window *w);
/* Sorts comms (n of them) and keeps the PROBE_COMMS largest in w; the rest
 * count in w->comm_other. */
void probe_window_keep_top_comms(struct probe_window *w, struct probe_comm *comms, size_t n);

/* The class's name for output: "first", "established", "reply". */
const char *probe_class_name(enum probe_class c);
/* One class's statistics over the hooks in the mask (bit 1 << enum nfhook;
 * NFHOOK_ALL_MASK: every hook) added into *out. */
#define NFHOOK_ALL_MASK ((1u << NFHOOK_COUNT) - 1)
void probe_window_class(const struct probe_window *w, enum probe_class c, unsigned int hooks,
			struct probe_class_stats *out);
/* Of a class_stats: the mean (ns), the half width of its 95 % confidence
 * interval, and quantile q (0..1) from the histogram; 0 when empty. */
double probe_class_avg_ns(const struct probe_class_stats *s);
double probe_class_ci95_ns(const struct probe_class_stats *s);
double probe_class_quantile_ns(const struct probe_class_stats *s, double q);

#endif
