/* probe: owns the BPF side of nfcost: loading and attaching the hook-latency
 * programs for one tracer (fentry, kprobe or nfhook), choosing one for
 * --tracer auto and saying why the others were skipped, and reading the
 * per-window statistics (per-CPU counters and a log2/linear histogram, see
 * hist.h) into a struct probe_window (window.h). It never decides what
 * experiment runs, and never prints: failures come back as one line in a
 * struct nf_error (util/error.h). */
#ifndef NFCOST_PROBE_H
#define NFCOST_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe/window.h"
#include "util/error.h"

enum probe_tracer { TRACER_AUTO, TRACER_FENTRY, TRACER_KPROBE, TRACER_NFHOOK, TRACER_COUNT };

/* The sampling every command uses unless told otherwise (--sample N): one
 * packet in PROBE_SAMPLE_DEFAULT is timed, chosen so that the probe costs
 * at most ~100 ns per packet at the empty chain (docs/nfcost.8, OVERHEAD,
 * says how it was measured). Callers put it into probe_opts sample_every. */
#define PROBE_SAMPLE_DEFAULT 16
/* --sample's range. */
#define PROBE_SAMPLE_MAX 1000000

/* The protocol family whose hooks are measured (netfilter keeps one set of
 * hooks per family). */
enum probe_family { PROBE_IPV4, PROBE_IPV6 };

struct probe_opts {
	enum probe_tracer tracer;
	const char *netns_path;  /* namespace to measure; NULL: the one we run in */
	enum nfhook hook;    /* NFHOOK_LOCAL_OUT by default */
	enum probe_family family; /* PROBE_IPV4 by default */
	bool by_comm;            /* count per process name */
	/* nfhook only: per-table brackets. One more program is linked at
	 * each of these priorities on every measured hook, cutting a
	 * packet's time there into n_splits + 1 parts (probe_window
	 * part_sum_ns). Strictly ascending, each strictly between
	 * NF_IP_PRI_FIRST + 1 and NF_IP_PRI_LAST - 1, at most
	 * PROBE_MAX_SPLITS; probe_open refuses anything else, and any
	 * other tracer (auto then only tries nfhook). */
	const int *split_priorities;
	int n_splits;
	/* Optional, per split: the hooks (bit 1 << enum nfhook) it is linked
	 * on; NULL: every measured hook. Where a bracket is left off, its part
	 * is 0 and the next part holds that time: each bracket costs every
	 * packet of its hook, so a hook gets only the brackets it needs. */
	const unsigned int *split_hooks;
	/* Time one packet in sample_every (0 or 1: every packet; callers
	 * that want the default set PROBE_SAMPLE_DEFAULT). Every packet is
	 * still counted (probe_window packets_hook); an unsampled one claims
	 * nothing, so the end program returns at once. Drop accounting by
	 * entered_hook/lost_hook needs 1: only samples are followed there. */
	unsigned int sample_every;
};

struct probe;

bool probe_tracer_parse(const char *s, enum probe_tracer *out);
const char *probe_tracer_name(enum probe_tracer t);
bool probe_family_parse(const char *s, enum probe_family *out); /* "ipv4", "ipv6" */
const char *probe_family_name(enum probe_family f);            /* "ipv4" */

/* Loads and attaches. On failure returns NULL with one line in err (what
 * failed and what to do; EXIT_USAGE for options it refuses, else
 * EXIT_RUNTIME). The first window starts now. */
struct probe *probe_open(const struct probe_opts *opts, struct nf_error *err);
/* The tracer that runs, and why the ones before it in auto order were skipped
 * ("fentry: load refused (EPERM) ...; kprobe: kernel has no kprobes"). */
enum probe_tracer probe_tracer(const struct probe *p);
const char *probe_selection_note(const struct probe *p);
/* Closes the current window into w and starts the next; no sample is lost
 * between windows. 0 or -errno. */
int probe_read_window(struct probe *p, struct probe_window *w);
/* The open window's per-hook counts so far (packets timed that entered each
 * hook, and that left it), without closing it: no grace period, so cheap
 * enough to take around every single packet; only differences between two
 * peeks of one window mean anything. Needs sample_every 1 to see every
 * packet. 0 or -errno. */
int probe_peek_hooks(struct probe *p, uint64_t entered[NFHOOK_COUNT],
		     uint64_t passed[NFHOOK_COUNT]);
/* The sampling in force: 1 (every packet) or N (one in N). */
unsigned int probe_sample_every(const struct probe *p);
/* Detaches the programs (paused) or attaches them again, loaded programs and
 * statistics kept: for measuring what the probe itself costs the traffic.
 * 0, or -1 with one line in err. */
int probe_pause(struct probe *p, bool paused, struct nf_error *err);
/* Detaches and frees everything (also every BPF link). NULL is fine.
 * Links and programs are file descriptors (close-on-exec): a forked child
 * that does not exec keeps them attached until it exits. */
void probe_close(struct probe *p);

/* BPF netfilter links attached anywhere on the machine (they add to the
 * time in the hooks), or -1 when they cannot be listed. */
int probe_count_netfilter_links(void);
/* libbpf's own messages: all on stderr when on, none when off (the default
 * once a probe is opened). */
void probe_set_verbose(bool on);


/* The namespace's name for output: the basename of netns_path, or "host"
 * for the initial namespace when netns_path is NULL. */
const char *probe_netns_label(const char *netns_path, char *buf, size_t len);
#endif
