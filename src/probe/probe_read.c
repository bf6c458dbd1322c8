/* probe_read: the probe's statistics maps turned into windows (window.h).
 *
 * Windows lose no sample: the BPF programs add to buffer cur_buf (0 or 1).
 * To close a window we flip cur_buf, then wait for an RCU grace period (an
 * update of an array-of-maps makes the kernel call synchronize_rcu(), and
 * every BPF program runs inside an RCU read-side section), so no program
 * that read the old index is still running; then the old buffer is read and
 * zeroed while the programs fill the other one. Every packet's count is a
 * running total instead (struct hooklat_seen): a window gets its growth. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe_internal.h"
#include "hooklat.skel.h" /* named here too: the Makefile finds skeleton users by it */
#include "util/netns.h"
#include "util/util.h"

static __u32 lat_index(__u32 buf, int cls, int hook)
{
	return (buf * HOOKLAT_CLASS_ROOM + (__u32)cls) * HOOKLAT_HOOK_ROOM + (__u32)hook;
}

int probe_reset_buf(struct probe *p, __u32 buf)
{
	int lat_fd = bpf_map__fd(p->skel->maps.lat);

	memset(p->pcpu, 0, sizeof(*p->pcpu) * (size_t)p->ncpu);
	for (int c = 0; c < p->ncpu; c++)
		p->pcpu[c].min_ns = UINT64_MAX;
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.stats), &buf, p->pcpu, BPF_ANY))
		return -errno;
	memset(p->lat, 0, sizeof(*p->lat) * (size_t)p->ncpu);
	for (int cls = 0; cls < HOOKLAT_CLASSES; cls++)
		for (int h = 0; h < HOOKLAT_HOOKS; h++) {
			__u32 idx = lat_index(buf, cls, h);

			if (bpf_map_update_elem(lat_fd, &idx, p->lat, BPF_ANY))
				return -errno;
		}
	return 0;
}

static int read_comms(struct probe *p, __u32 buf, struct probe_window *w)
{
	int fd = bpf_map__fd(p->skel->maps.comms);
	size_t max = bpf_map__max_entries(p->skel->maps.comms), n = 0;
	struct hooklat_comm_key *keys = calloc(max, sizeof(*keys)), cur, next;
	struct probe_comm *comms = calloc(max, sizeof(*comms));
	__u64 *vals = calloc((size_t)p->ncpu, sizeof(*vals));
	bool have = false;
	int err = 0;

	if (!keys || !comms || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* Collect first, delete after: deleting while walking restarts the walk. */
	while (n < max && bpf_map_get_next_key(fd, have ? &cur : NULL, &next) == 0) {
		if (next.buf == buf)
			keys[n++] = next;
		cur = next;
		have = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], vals))
			continue;
		memcpy(comms[i].comm, keys[i].comm, sizeof(comms[i].comm));
		comms[i].comm[sizeof(comms[i].comm) - 1] = '\0';
		for (int c = 0; c < p->ncpu; c++)
			comms[i].count += vals[c];
		bpf_map_delete_elem(fd, &keys[i]);
	}
	probe_window_keep_top_comms(w, comms, n);
out:
	free(keys);
	free(comms);
	free(vals);
	return err;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* nfhook: frees the slots claimed longer than HOOKLAT_STALE_NS ago: their
 * packets never reached the end (a hook dropped them), so that drops show
 * up within a window even when no start reuses the slot. A start writes
 * ts[0] before it claims the slot, so a slot read as (key, old ts) and still
 * holding key at the exchange was not claimed again since: the exchange
 * fails when a start (which counts the old packet itself) or an end took it
 * first, and each lost packet counts once, in lost_hook[] of its hook. */
static uint64_t reap_stale_slots(struct probe *p, uint64_t lost_hook[NFHOOK_COUNT])
{
	uint64_t now = now_ns(), n = 0;

	for (size_t i = 0; i < HOOKLAT_SLOTS; i++) {
		struct hooklat_slot *sl = &p->slots[i];
		uint64_t key = __atomic_load_n(&sl->key, __ATOMIC_ACQUIRE), ts;

		if (!key)
			continue;
		ts = __atomic_load_n(&sl->ts[0], __ATOMIC_ACQUIRE);
		if (ts + HOOKLAT_STALE_NS >= now)
			continue;
		if (!__atomic_compare_exchange_n(&sl->key, &key, 0, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		n++;
		if (p->sample_every > 1) /* a released claim (hooklat.bpf.c) */
			__atomic_fetch_sub(&p->skel->bss->inflight, 1, __ATOMIC_ACQ_REL);
		if ((key & 7) < NFHOOK_COUNT)
			lost_hook[key & 7]++;
	}
	return n;
}

/* fentry: starts older than HOOKLAT_STALE_NS are skipped fexits (drops are
 * verdicts there): counted unmatched and removed. A start the BPF side
 * replaces between our lookup and delete makes its packet an end without
 * start, counted once more: rare and harmless. */
static uint64_t reap_stale(struct probe *p, uint64_t lost_hook[NFHOOK_COUNT])
{
	int fd = bpf_map__fd(p->skel->maps.starts);
	size_t max = bpf_map__max_entries(p->skel->maps.starts), n = 0;
	struct hooklat_start_key cur, next;
	bool have = false;
	__u64 now, start;

	if (p->tracer == TRACER_KPROBE)
		return 0; /* returns see drops; stale frames are reaped in BPF */
	if (p->tracer == TRACER_NFHOOK)
		return reap_stale_slots(p, lost_hook);
	if (!p->stale && !(p->stale = calloc(max, sizeof(*p->stale))))
		return 0;
	now = now_ns();
	while (n < max && bpf_map_get_next_key(fd, have ? &cur : NULL, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &start) == 0 && start + HOOKLAT_STALE_NS < now)
			p->stale[n++] = next;
		cur = next;
		have = true;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &p->stale[i]) == 0 && p->sample_every > 1)
			__atomic_fetch_sub(&p->skel->bss->inflight, 1, __ATOMIC_ACQ_REL);
	return n;
}

int probe_peek_hooks(struct probe *p, uint64_t entered[NFHOOK_COUNT],
		     uint64_t passed[NFHOOK_COUNT])
{
	__u32 cur = p->skel->bss->cur_buf & 1;

	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.stats), &cur, p->pcpu))
		return -errno;
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		entered[h] = passed[h] = 0;
		for (int c = 0; c < p->ncpu; c++) {
			entered[h] += p->pcpu[c].entered_hook[h];
			passed[h] += p->pcpu[c].hook_count[h];
		}
	}
	return 0;
}

/* The per-CPU statistics of buffer old (already in p->pcpu) into w. */
static void add_stats(const struct probe *p, struct probe_window *w)
{
	w->min_ns = UINT64_MAX;
	for (int c = 0; c < p->ncpu; c++) {
		const struct hooklat_stats *s = &p->pcpu[c];
		uint64_t count = 0;

		for (int h = 0; h < NFHOOK_COUNT; h++) {
			count += s->hook_count[h];
			w->hook_count[h] += s->hook_count[h];
			w->hook_segments[h] += s->hook_count[h] + s->extra_segs[h];
			w->segments += s->hook_count[h] + s->extra_segs[h];
			w->entered_hook[h] += s->entered_hook[h];
			w->lost_hook[h] += s->lost_hook[h];
			for (int k = 0; k <= p->n_splits; k++)
				w->part_sum_ns[h][k] += s->part_ns[h][k];
		}
		w->count += count;
		if (count && s->min_ns < w->min_ns)
			w->min_ns = s->min_ns;
		if (s->max_ns > w->max_ns)
			w->max_ns = s->max_ns;
		w->unmatched += s->unmatched;
		w->dropped += s->dropped;
		w->comm_other += s->comm_lost;
	}
}

/* The timed packets per class and hook of buffer old into w, and their
 * sums per hook and over everything. */
static int add_lat(struct probe *p, __u32 old, struct probe_window *w)
{
	int fd = bpf_map__fd(p->skel->maps.lat);

	for (int cls = 0; cls < PROBE_CLASSES; cls++)
		for (int h = 0; h < NFHOOK_COUNT; h++) {
			struct probe_class_stats *cs = &w->cls[cls][h];
			__u32 idx = lat_index(old, cls, h);

			if (bpf_map_lookup_elem(fd, &idx, p->lat))
				return -errno;
			for (int c = 0; c < p->ncpu; c++) {
				cs->count += p->lat[c].count;
				cs->sum_ns += p->lat[c].sum_ns;
				for (int i = 0; i < HIST_SLOTS; i++)
					cs->hist[i] += p->lat[c].hist[i];
			}
			w->hook_sum_ns[h] += cs->sum_ns;
			w->sum_ns += cs->sum_ns;
			for (int i = 0; i < HIST_SLOTS; i++)
				w->hist[i] += cs->hist[i];
		}
	return 0;
}

/* Every packet counted since the last window (running totals). */
static int add_seen(struct probe *p, struct probe_window *w)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.seen), &zero, p->seen))
		return -errno;
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		uint64_t now = 0;

		for (int c = 0; c < p->ncpu; c++)
			now += p->seen[c].hook[h].packets;
		w->packets_hook[h] = now - p->seen_before[h];
		w->packets += w->packets_hook[h];
		p->seen_before[h] = now;
	}
	return 0;
}

int probe_read_window(struct probe *p, struct probe_window *w)
{
	__u32 old, zero = 0;
	double now;
	int err;

	memset(w, 0, sizeof(*w));
	now = now_monotonic();
	old = p->skel->bss->cur_buf & 1;
	__atomic_store_n(&p->skel->bss->cur_buf, old ^ 1, __ATOMIC_SEQ_CST);
	if (bpf_map_update_elem(p->sync_outer, &zero, &p->sync_inner, BPF_ANY))
		return -errno;
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.stats), &old, p->pcpu))
		return -errno;
	w->seconds = now - p->window_start;
	p->window_start = now;
	w->sample_every = p->sample_every;
	add_stats(p, w);
	if ((err = add_lat(p, old, w)) || (err = add_seen(p, w)))
		return err;
	if (!p->n_splits)
		for (int h = 0; h < NFHOOK_COUNT; h++)
			w->part_sum_ns[h][0] = w->hook_sum_ns[h];
	if ((err = probe_reset_buf(p, old)))
		return err;
	w->unmatched += reap_stale(p, w->lost_hook);
	if (p->skel->rodata->by_comm && (err = read_comms(p, old, w)))
		return err;
	probe_window_compute(w);
	return 0;
}

const char *probe_netns_label(const char *netns_path, char *buf, size_t len)
{
	uint64_t self, init;

	if (netns_path) {
		const char *slash = strrchr(netns_path, '/');
		snprintf(buf, len, "%s", slash && slash[1] ? slash + 1 : netns_path);
		return buf;
	}
	self = netns_inode("/proc/self/ns/net");
	init = netns_inode("/proc/1/ns/net");
	if (self && self == init)
		snprintf(buf, len, "host");
	else
		snprintf(buf, len, "net:[%llu]", (unsigned long long)self);
	return buf;
}

int probe_count_netfilter_links(void)
{
	/* BPF_LINK_TYPE_NETFILTER (6.4); Debian's 6.1 uapi headers lack it. */
	const __u32 link_type_netfilter = 10;
	__u32 id = 0;
	int n = 0;

	while (bpf_link_get_next_id(id, &id) == 0) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue; /* gone since: it does not count */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == link_type_netfilter)
			n++;
		close(fd);
	}
	return errno == ENOENT ? n : -1;
}
