/* results: owns the data of an experiment and its data files: the rows of
 * sweep.csv / compare.csv (struct step_row), updates.csv and drop mode's
 * counts (struct step_drops), the run's metadata (kernel, CPU, settings,
 * tracer and why), the summary (computed by analysis), their JSON, and the
 * probe windows as data. Every file is written through util/outfile.h.
 * Errors: util/error.h; nothing here prints. No I/O with the kernel beyond
 * reading uname and /proc/cpuinfo. */
#ifndef NFCOST_RESULTS_H
#define NFCOST_RESULTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/error.h"
#include "util/nfhook.h"
#include "util/outfile.h"
#include "probe/window.h"
#include "results/analysis.h"

/* The documented columns first, unchanged; new ones only ever after them. */
#define SWEEP_CSV_HEADER "rules,repeat,throughput_mbps,cwnd_kb,retransmits,packets," \
			 "lat_avg_ns,lat_p50_ns,lat_p99_ns,inject_ms,segments,lat_per_segment_ns," \
			 "cpu_ns_per_packet,cpu_ns_per_segment,packets_per_s,offload,other_cpu_pct," \
			 "packets_seen,sample_every,lat_ci95_ns"

/* One row of sweep.csv. */
struct step_row {
	long rules;
	int repeat;
	double throughput_mbps, cwnd_kb;
	long retransmits;
	uint64_t packets;       /* timed: the samples */
	double lat_avg_ns, lat_p50_ns, lat_p99_ns;
	double inject_ms;
	/* Per wire packet: the skbs above carried `segments` wire packets
	 * (TSO/GSO); the hook time and the whole machine's CPU time per skb
	 * and per wire packet (NAN: not measured). */
	uint64_t segments;
	double lat_per_segment_ns;
	double cpu_ns_per_packet, cpu_ns_per_segment;
	double packets_per_s;   /* skbs through the hook per second of traffic */
	/* The testbed's offloads in this step: "on", "off" or "default" (NULL:
	 * "default"); a sweep with --offload on,off has rows of both. */
	const char *offload;
	/* The machine's CPU time spent outside this run during the step, in %
	 * of all CPUs (experiments/otherload.h); NAN: not measured. */
	double other_cpu_pct;
	/* Sampling (--sample N): every packet that crossed the hook, one in
	 * sample_every of them timed (packets), and the half width of the 95 %
	 * confidence interval of lat_avg_ns those samples give (NAN: fewer
	 * than two). */
	uint64_t packets_seen;
	unsigned int sample_every;
	double lat_ci95_ns;
};

/* Where a drop-mode step's datagrams went (hit_traffic with drop). */
struct step_drops {
	long rules;
	long sent, send_eperm;          /* sendto() calls, and those refused with EPERM */
	uint64_t entered[NFHOOK_COUNT];  /* packets the probe saw enter each hook */
	uint64_t lost[NFHOOK_COUNT];     /* ... and never leave it (dropped there) */
};

/* One row of updates.csv: at `rules` rules, the medians of `reps` single-rule
 * transactions adding one more rule and deleting it again. */
struct update_row {
	long rules;
	double add_ms, delete_ms;
	int reps;
};
#define UPDATES_CSV_HEADER "rules,add_ms,delete_ms,reps"

/* How the cost of changing one rule grows with the rule set. */
struct update_summary {
	size_t rows;
	long min_rules, max_rules;
	struct update_trend add, del;   /* analysis_update_trend of each column */
};

/* The traffic settings a run used, as its data files record them. */
struct run_traffic {
	bool udp;
	int duration_s;
	int size;            /* bytes per write / UDP payload; 0: iperf3's default */
	uint64_t rate_bps;   /* UDP target rate; 0: unlimited */
	const char *offload; /* "default", "on", "off" */
	int streams;         /* parallel streams */
};

/* The conditions a run's figures depend on (issue: numbers a kernel engineer
 * trusts). Strings are empty and numbers negative when unknown. */
struct run_env {
	int bpf_jit;                  /* net.core.bpf_jit_enable */
	char governor[32];            /* cpufreq governor of CPU 0 */
	double cpu_mhz;               /* its current frequency */
	char smt[32];                 /* /sys/devices/system/cpu/smt/control */
	char mitigations[1536];       /* "name: state; ..." */
	char preempt[32];             /* the kernel's preemption model */
	char cmdline[1024];
	char iptables[64], nft[64], ipset[64];    /* the programs' own versions */
	char libbpf[32], libnftnl[32];            /* the libraries nfcost was built with */
	int nf_links_before;          /* BPF netfilter links attached before the run */
	int packet_sockets;           /* packet sockets in the measured namespace */
	double loadavg1;              /* 1-minute load average at the start */
	double busy_pct;              /* all CPUs' non-idle share over 0.3 s before the run */
	char warnings[1024];          /* what distorts the figures, "; "-separated */
};

struct step_load; /* results/load.h */

struct run_meta {
	char kernel[128];
	char cpu_model[128];
	int cpus;
	char started_utc[32];
	double wall_s;
	const char *backend, *shape, *hook, *tracer;
	unsigned int sample_every; /* the probe timed one packet in this many (0: unset) */
	int matches_per_rule;
	char tracer_note[512];
	struct run_traffic traffic;
	int repeat;
	long start, stop, step;  /* step 0: the counts are not evenly spaced */
	const long *counts;      /* every rule count measured, ascending */
	size_t n_counts;
	bool calibrated;
	double calibration_ns;   /* empty-chain average: the probe's own cost */
	/* What the probe adds to every packet, measured with and without it
	 * (experiments/overhead.h) at the empty chain and at the largest step:
	 * busy CPU ns per datagram, and datagram rate with / without. */
	bool overhead_measured;
	double probe_overhead_ns, overhead_rate_ratio;           /* empty chain */
	long overhead_largest_rules;
	double overhead_largest_ns, overhead_largest_rate_ratio; /* largest step */
	bool interrupted;        /* stopped by SIGINT/SIGTERM before the plan ended */
	struct run_env env;
	/* The other load of every step (results/load.h), in the JSON's
	 * "other_load"; NULL: none measured. */
	const struct step_load *load;
	size_t n_load;
};

struct sweep_summary {
	size_t rows;
	bool fit_ok;
	struct linear_fit fit;   /* lat_avg_ns against rules */
	double ns_per_match;
	long knee_rules;         /* -1: throughput never stayed below the baseline */
	double cwnd_corr;        /* NAN when undefined (UDP, constant) */
	long min_rules, max_rules;
	double baseline_mbps, max_rules_mbps;   /* means at the smallest / largest count */
	double baseline_cwnd_kb, max_rules_cwnd_kb;
	double baseline_lat_ns, max_rules_lat_ns;
	double baseline_p50_ns, max_rules_p50_ns; /* medians: blind to rare spikes */
	/* The fit's slope over each half of the rule range (split at mid_rules,
	 * whose steps count in both): does a rule cost the same in a short
	 * chain as in a long one? NAN when a half has fewer than two counts. */
	long mid_rules;
	double slope_lower_half, slope_upper_half;
	/* latency = baseline + c rules^k: k, the growth exponent (1 linear, 0
	 * flat, 2 quadratic), from log(latency - baseline) against log(rules).
	 * A chain whose latency does not grow beyond its noise is flat: k = 0
	 * with no interval. NAN when undetermined. */
	double growth_exponent, growth_exponent_lo, growth_exponent_hi;
	/* Per wire packet: wire packets per skb (mean over the steps), and the
	 * hook time per wire packet against rules. */
	double segments_per_packet;         /* NAN when not measured */
	bool seg_fit_ok;
	struct linear_fit seg_fit;
	/* The whole machine's CPU time per skb against rules: what each rule
	 * costs in all, inside the hooks and out. */
	bool cpu_fit_ok;
	struct linear_fit cpu_fit;
};

/* Fills the machine part of the metadata (kernel, CPU, start time). */
void results_meta_init(struct run_meta *m);

/* Opens file in d (sweep.csv, compare.csv or updates.csv: util/outfile.h)
 * and writes its header, with "backend," first if asked. Rows are flushed
 * one by one; outfile_commit puts the file in place. 0 or -1 with err. */
int results_csv_open(struct outfile *o, struct outdir *d, const char *file, bool with_backend,
		     struct nf_error *err);
int results_csv_row(struct outfile *o, const char *backend, const struct step_row *r,
		    struct nf_error *err);
int results_updates_row(struct outfile *o, const char *backend, const struct update_row *r,
			struct nf_error *err);
json_object *results_updates_json(const struct update_row *rows, size_t n,
				  const struct update_summary *s);

json_object *results_meta_json(const struct run_meta *m);
json_object *results_summary_json(const struct sweep_summary *s);
/* Drop mode's totals: {"sent", "send_eperm", "cut_at", "by_hook": {HOOK: {"entered", "lost"}}}. */
json_object *results_drops_json(const struct step_drops *d);
/* The hook where most datagrams were lost, or -1 when none was. */
int results_cut_hook(const struct step_drops *d);
/* JSON null for what was not measured (NAN, inf) or is unknown (NULL, ""). */
json_object *num_or_null(double v);
json_object *str_or_null(const char *s);
/* Writes obj as d/name (pretty) and drops the reference. 0 or -1 with err. */
int results_write_json(struct outdir *d, const char *name, json_object *obj,
		       struct nf_error *err);

/* What a probe window's JSON is labelled with (trace --json). */
struct window_labels {
	const char *tracer, *note, *netns, *hook, *family;
	enum nfhook traced;   /* the traced hook; NFHOOK_ALL: all five */
	int by;               /* enum probe_by: per-process or per-hook counts */
	bool hist;            /* the histogram's non-empty slots */
	bool calibrated;      /* with the empty-chain calibration: */
	const char *cal_tracer;
	double cal_avg_ns, cal_p50_ns;
	uint64_t cal_packets;
	double cal_overhead_ns, cal_overhead_rate_ratio;
	const int *splits;    /* trace --split: the priorities, n_splits of them */
	int n_splits;
};
/* One window as trace --json prints it (docs/formats.md). */
json_object *results_window_json(const struct probe_window *w, double t_start,
				 const struct window_labels *l);

#define WINDOW_CSV_HEADER "t_start_s,t_end_s,hook,packets,lat_avg_ns,lat_p50_ns,lat_p99_ns,unmatched"
/* live's bpf_windows.csv: the probe windows as data, one row per window,
 * times relative to the start of the run; latencies empty without packets. */
int results_window_csv_open(struct outfile *o, struct outdir *d, const char *file,
			    struct nf_error *err);
int results_window_csv_row(struct outfile *o, double t_start_s, double t_end_s, const char *hook,
			   const struct probe_window *w, struct nf_error *err);

#endif
