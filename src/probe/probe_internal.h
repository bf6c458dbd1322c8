/* probe_internal: what the probe module's own files share (probe.c loads
 * and attaches, probe_read.c turns the maps into windows, probe_why.c says
 * why a tracer cannot run). Not for use outside src/probe/. */
#ifndef NFCOST_PROBE_INTERNAL_H
#define NFCOST_PROBE_INTERNAL_H

#include <bpf/btf.h>

#include "probe/hooklat.h"
#include "probe/probe.h"
#include "hooklat.skel.h"

struct probe {
	enum probe_tracer tracer;
	struct hooklat_bpf *skel;
	int nf_links[(2 + PROBE_MAX_SPLITS) * NFHOOK_COUNT];
	int n_nf_links;
	int splits[PROBE_MAX_SPLITS], n_splits;
	unsigned int split_hooks[PROBE_MAX_SPLITS]; /* hooks each split is linked on */
	unsigned int sample_every;                  /* 1: every packet */
	/* What attaching needs again after probe_pause. */
	char netns_path[512];
	const char *netns_path_or_null;
	enum nfhook hook;
	enum probe_family family;
	struct hooklat_slot *slots; /* nfhook: the slots map, mmapped */
	size_t slots_len;
	int sync_outer, sync_inner; /* for the grace period, see probe_read.c */
	int ncpu;
	struct hooklat_stats *pcpu; /* one per possible CPU */
	struct hooklat_lat *lat;    /* one per possible CPU */
	struct hooklat_seen *seen;  /* one per possible CPU */
	uint64_t seen_before[NFHOOK_COUNT]; /* packets counted up to the last window */
	struct hooklat_start_key *stale; /* room for every key of starts */
	double window_start;
	char note[512];
};

/* probe_why.c */
/* Installs the libbpf message filter (quiet unless verbose). */
void probe_install_print(void);
/* Forgets the verifier's last verdict and the last limit hit, before a
 * tracer is tried. */
void probe_forget_verifier(void);
/* Whether the last reason given (probe_precheck, probe_explain_errno) was
 * a resource limit (probe_errno_is_limit). */
bool probe_failed_on_limit(void);
/* What can be known without loading: 0, or -1 with the reason in err
 * (btf_errno: errno of the failed BTF load, when btf is NULL). */
int probe_precheck(enum probe_tracer t, const struct btf *btf, int btf_errno,
		   struct nf_error *err);
/* "<what> refused (ENAME: what it means here)" for errno e. */
int probe_explain_errno(enum probe_tracer t, const char *what, int e, struct nf_error *err);
/* Whether need more files can be opened under RLIMIT_NOFILE: 0, or -1
 * with the limit to raise in err. */
int probe_check_fd_room(int need, struct nf_error *err);
/* A failure that comes from a resource limit (open files, memory), not
 * from what the kernel supports: another tracer would fail the same way. */
bool probe_errno_is_limit(int e);

/* probe_read.c */
/* Zeroes one statistics buffer (stats and lat) on every CPU; 0 or -errno. */
int probe_reset_buf(struct probe *p, __u32 buf);

#endif
