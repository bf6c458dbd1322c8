// SPDX-License-Identifier: GPL-2.0
/* hooklat: the kernel side of the probe: per-packet time spent in the
 * netfilter hooks, three ways (user space loads exactly one of them):
 *   fentry  fentry/fexit on nf_hook_slow
 *   kprobe  kprobe/kretprobe on nf_hook_slow
 *   nfhook  BPF_PROG_TYPE_NETFILTER programs, linked at the first and
 *           the last priority of a hook inside the measured namespace, and
 *           optionally at split priorities between them (per-table brackets)
 * Every tracer feeds the same per-CPU window statistics (hooklat.h), counts
 * every packet that enters a measured hook, times one in sample_every, and
 * classes each timed packet at the end of its hook (first packet of a
 * connection, established, reply). An unsampled packet claims nothing, so
 * its end finds no claim and returns at once: that is all it costs. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "probe/hooklat.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u32 targ_netns = 0;    /* ns.inum of the measured namespace */
const volatile __u32 targ_hooks = 1 << 3; /* bit per NF_INET_* hook (LOCAL_OUT) */
const volatile __u32 targ_pf = 2;       /* NFPROTO_IPV4 */
const volatile bool by_comm = false;
const volatile __u32 n_splits = 0;      /* nfhook: split programs linked */
const volatile __u32 sample_every = 1;  /* time one packet in N (1: every one) */

/* Written by user space while attached: the statistics buffer programs add
 * to (flipped once per window), and when the last program was attached. */
__u32 cur_buf = 0;
__u64 armed_ns = 0;
/* With sampling: packets claimed (nfhook slots, fentry starts) and not yet
 * released. Each claim is released exactly once, by whoever wins the atomic
 * exchange on it (its end, a start that reuses the slot, user space's
 * reaper), so while it is 0 no end can have a claim, and an end returns
 * without touching the in-flight table: most ends, at one sample in N. It
 * is written at sampled packets only, so the line stays in every CPU's
 * cache most of the time. */
__u64 inflight = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOOKLAT_BUFS);
	__type(key, __u32);
	__type(value, struct hooklat_stats);
} stats SEC(".maps");

/* The timed packets per buffer, class and hook (hooklat.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOOKLAT_LAT_ENTRIES);
	__type(key, __u32);
	__type(value, struct hooklat_lat);
} lat SEC(".maps");

/* Every packet, and the sampling countdowns (hooklat.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hooklat_seen);
} seen SEC(".maps");

/* fentry: start times by (skb, hook): a softirq that runs a hook for another
 * packet on the same CPU in the middle of ours has another key. LRU, so
 * starts of packets that never reach the end (drops) cannot fill it up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HOOKLAT_MAX_INFLIGHT);
	__type(key, struct hooklat_start_key);
	__type(value, __u64);
} starts SEC(".maps");

/* nfhook: the in-flight packets, a direct-mapped table indexed by a hash of
 * (skb, hook) and shared by all CPUs (hooklat.h, struct hooklat_slot).
 * Not per-CPU: a task may be preempted inside the hooks and finish them on
 * another CPU. Not a hash map: its update and delete took most of the
 * probe's cost (bench/probe.sh). A softirq that times another packet in
 * the middle of ours, or a REJECT that sends one from inside a hook, uses
 * another slot; a dropped packet leaves its slot claimed until a new start
 * lands there or user space reaps it as stale, and either counts it lost
 * once. Two packets in flight at once in the same slot (about one in
 * HOOKLAT_SLOTS / in-flight packets) cost one of them its timing: the
 * other's end finds the key changed and counts unmatched. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, HOOKLAT_SLOTS);
	__type(key, __u32);
	__type(value, struct hooklat_slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, HOOKLAT_BUFS * HOOKLAT_MAX_COMMS);
	__type(key, struct hooklat_comm_key);
	__type(value, __u64);
} comms SEC(".maps");

/* kprobe only: kretprobe gets no arguments, so every task keeps a stack of
 * the nf_hook_slow calls it is inside of, keyed by its task_struct (not its
 * pid: the idle tasks of all CPUs share pid 0). Calls of one task can only
 * nest through interrupts on the CPU it runs on, and the interrupting call
 * returns before the interrupted one resumes, so one task's calls return in
 * LIFO order even when the task migrates between them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HOOKLAT_MAX_TASKS);
	__type(key, __u64);
	__type(value, struct hooklat_task_stack);
} kstack SEC(".maps");

static __always_inline struct hooklat_stats *cur_stats(__u32 *buf)
{
	*buf = cur_buf & (HOOKLAT_BUFS - 1);
	return bpf_map_lookup_elem(&stats, buf);
}

/* Counts a packet that entered hook, and says whether to time it: one in
 * sample_every, at random gaps (hooklat.h). The count is atomic, since a
 * softirq on this CPU may enter the same hook in the middle of ours; the
 * countdown needs no atomic: a lost step only moves the next sample. */
static __always_inline bool take_sample(struct hooklat_seen *sn, __u32 hook)
{
	__u32 left;

	hook &= HOOKLAT_HOOK_ROOM - 1;
	__sync_fetch_and_add(&sn->hook[hook].packets, 1);
	if (sample_every <= 1)
		return true;
	left = sn->hook[hook].countdown;
	if (left > 1) {
		sn->hook[hook].countdown = left - 1;
		return false;
	}
	sn->hook[hook].countdown = 1 + bpf_get_prandom_u32() % (2 * sample_every - 1);
	return true;
}

static __always_inline bool sample_here(__u32 hook)
{
	__u32 zero = 0;
	struct hooklat_seen *sn = bpf_map_lookup_elem(&seen, &zero);

	return sn && take_sample(sn, hook);
}

/* Does the TCP segment whose network header is at net carry SYN without
 * ACK? The headers up to TCP's flags come in one read when the IPv4 header
 * has no options (the common case). */
static __always_inline bool tcp_syn_only(unsigned char *net)
{
	struct {
		union {
			struct iphdr ip;
			struct ipv6hdr ip6;
		};
		__u8 tcp[14]; /* up to the flags of a TCP header right behind */
	} h;
	__u32 thoff;
	__u8 flags;

	if (targ_pf == 10) { /* NFPROTO_IPV6: TCP right after the fixed header */
		if (bpf_probe_read_kernel(&h, sizeof(h.ip6) + 14, net) || h.ip6.nexthdr != 6)
			return false;
		return (h.tcp[13] & 0x12) == 0x02;
	}
	if (bpf_probe_read_kernel(&h, sizeof(h.ip) + 14, net) || h.ip.protocol != 6 ||
	    (h.ip.frag_off & bpf_htons(0x1fff)))
		return false;
	thoff = (__u32)h.ip.ihl * 4;
	if (thoff == sizeof(h.ip))
		flags = ((__u8 *)&h)[sizeof(h.ip) + 13];
	else if (bpf_probe_read_kernel(&flags, 1, net + (thoff & 0x3f) + 13))
		return false;
	return (flags & 0x12) == 0x02; /* SYN 0x02, ACK 0x10 */
}

/* The class from conntrack's word in the skb (_nfct: ctinfo in the low 3
 * bits, the conntrack above them) when conntrack has seen the packet, else
 * a TCP SYN without ACK is a first packet and anything else established (a
 * reply cannot be told without conntrack). */
static __always_inline __u32 class_of(unsigned long nfct, unsigned char *net)
{
	__u32 info = nfct & 7;

	if (nfct & ~7UL) {
		if (info == HOOKLAT_CT_NEW)
			return HOOKLAT_CLASS_FIRST;
		if (info >= HOOKLAT_CT_IS_REPLY && info != HOOKLAT_CT_UNTRACKED)
			return HOOKLAT_CLASS_REPLY;
		return HOOKLAT_CLASS_ESTABLISHED;
	}
	return tcp_syn_only(net) ? HOOKLAT_CLASS_FIRST : HOOKLAT_CLASS_ESTABLISHED;
}

/* fentry/kprobe: the class of the packet in skb (an untrusted pointer). */
static __always_inline __u32 classify(struct sk_buff *skb)
{
	unsigned long nfct = 0;

	if (bpf_core_field_exists(skb->_nfct))
		nfct = BPF_CORE_READ(skb, _nfct);
	return class_of(nfct, BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header));
}

static __always_inline void count_unmatched(__u64 n)
{
	__u32 buf;
	struct hooklat_stats *s = cur_stats(&buf);

	if (s)
		__sync_fetch_and_add(&s->unmatched, n);
}

/* An end without a start: its start was evicted or skipped (the kernel
 * skips a program that would recurse on one CPU), unless the packet was
 * already in the hooks when we attached. */
static __always_inline void count_orphan(__u64 now)
{
	__u64 armed = armed_ns;

	if (armed && now > armed + HOOKLAT_GRACE_NS)
		count_unmatched(1);
}

/* A verdict other than 1 (fentry/kprobe): the packet never left hook. */
static __always_inline void count_dropped(__u32 hook)
{
	__u32 buf;
	struct hooklat_stats *s = cur_stats(&buf);

	if (!s)
		return;
	__sync_fetch_and_add(&s->dropped, 1);
	__sync_fetch_and_add(&s->lost_hook[hook & (HOOKLAT_HOOK_ROOM - 1)], 1);
}

static __always_inline void count_entered(__u32 hook)
{
	__u32 buf;
	struct hooklat_stats *s = cur_stats(&buf);

	if (s)
		__sync_fetch_and_add(&s->entered_hook[hook & (HOOKLAT_HOOK_ROOM - 1)], 1);
}

/* nfhook: a start overwritten before its end, so its packet never left. */
static __always_inline void count_lost_start(__u32 hook)
{
	__u32 buf;
	struct hooklat_stats *s = cur_stats(&buf);

	if (!s)
		return;
	__sync_fetch_and_add(&s->unmatched, 1);
	__sync_fetch_and_add(&s->lost_hook[hook & (HOOKLAT_HOOK_ROOM - 1)], 1);
}

/* *p = min(*p, v) or max, safe against a softirq on this CPU that updates
 * *p between our read and our write (cmpxchg, BPF ISA v3). A failed swap
 * means a nested update went in; a few retries settle it. */
static __always_inline void store_extreme(__u64 *p, __u64 v, bool is_max)
{
	for (int i = 0; i < 4; i++) {
		__u64 old = *p;

		if (is_max ? v <= old : v >= old)
			return;
		if (__sync_val_compare_and_swap(p, old, v) == old)
			return;
	}
}

/* Adds one timed packet. Every update is atomic because a softirq on this
 * CPU may record in the middle of an interrupted task's update. */
/* Wire packets in an skb: gso_segs of a GSO/TSO skb (from its shared info
 * at head + end), else 1; a GSO skb whose count is not set yet is its
 * length over the segment size. */
static __always_inline __u32 skb_segs(struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u32 end = BPF_CORE_READ(skb, end), len = BPF_CORE_READ(skb, len);
	struct skb_shared_info *sh = (struct skb_shared_info *)(head + end);
	__u16 segs = BPF_CORE_READ(sh, gso_segs), size = BPF_CORE_READ(sh, gso_size);

	if (segs)
		return segs;
	if (size)
		return (len + size - 1) / size;
	return 1;
}

static __always_inline void record_in(struct hooklat_stats *s, __u32 buf, __u64 delta,
				      __u32 hook, __u32 segs, __u32 cls);

static __always_inline void record(__u64 delta, __u32 hook, __u32 segs, __u32 cls)
{
	struct hooklat_stats *s;
	__u32 buf;

	s = cur_stats(&buf);
	if (!s)
		return;
	record_in(s, buf, delta, hook, segs, cls);
}

/* The statistics part of record(), for a buffer already looked up. */
static __always_inline void record_in(struct hooklat_stats *s, __u32 buf, __u64 delta,
				      __u32 hook, __u32 segs, __u32 cls)
{
	struct hooklat_comm_key ck = {};
	struct hooklat_lat *l;
	__u64 one = 1, *cnt;
	unsigned int slot;
	__u32 idx;

	hook &= HOOKLAT_HOOK_ROOM - 1;
	idx = ((buf & (HOOKLAT_BUFS - 1)) * HOOKLAT_CLASS_ROOM + (cls & (HOOKLAT_CLASS_ROOM - 1))) *
	      HOOKLAT_HOOK_ROOM + hook;
	__sync_fetch_and_add(&s->hook_count[hook], 1);
	if (segs > 1) /* GSO/TSO only: the common case costs no atomic */
		__sync_fetch_and_add(&s->extra_segs[hook], segs - 1);
	store_extreme(&s->min_ns, delta, false);
	store_extreme(&s->max_ns, delta, true);
	l = bpf_map_lookup_elem(&lat, &idx);
	if (l) {
		__sync_fetch_and_add(&l->count, 1);
		__sync_fetch_and_add(&l->sum_ns, delta);
		slot = hist_slot(delta); /* < HIST_SLOTS: the mask only informs the verifier */
		__sync_fetch_and_add(&l->hist[slot & (HOOKLAT_HIST_ROOM - 1)], 1);
	}

	if (!by_comm)
		return;
	ck.buf = buf;
	bpf_get_current_comm(ck.comm, sizeof(ck.comm));
	cnt = bpf_map_lookup_elem(&comms, &ck);
	if (cnt) {
		__sync_fetch_and_add(cnt, 1);
		return;
	}
	/* A new name; if another context inserted it first, add to that. */
	if (bpf_map_update_elem(&comms, &ck, &one, BPF_NOEXIST) == 0)
		return;
	cnt = bpf_map_lookup_elem(&comms, &ck);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		__sync_fetch_and_add(&s->comm_lost, 1);
}

/* overwrite_lost: an overwritten start means a packet that never left the
 * hook (nfhook, where drops leave starts behind); with fentry it only means
 * a skipped fexit, since drops are seen there as verdicts. */
static __always_inline void start(__u64 skb, __u32 hook, bool overwrite_lost)
{
	struct hooklat_start_key key = { .skb = skb, .hook = hook };
	__u64 ts = bpf_ktime_get_ns();

	/* The key is still there: that packet never reached the end (dropped
	 * or stolen, or its end was skipped), and its skb is being reused. */
	if (bpf_map_update_elem(&starts, &key, &ts, BPF_NOEXIST)) {
		if (overwrite_lost)
			count_lost_start(hook);
		else
			count_unmatched(1);
		if (bpf_map_update_elem(&starts, &key, &ts, BPF_ANY))
			return;
	} else if (sample_every > 1) {
		__sync_fetch_and_add(&inflight, 1);
	}
	count_entered(hook);
}

/* ret: nf_hook_slow's verdict, 1 when the packet may continue; < 0 when a
 * hook dropped it, 0 when one stole or queued it. */
static __always_inline void end(struct sk_buff *skbp, __u32 hook, int ret)
{
	__u64 skb = (__u64)skbp;
	struct hooklat_start_key key = { .skb = skb, .hook = hook };
	__u64 now, *tsp;

	if (sample_every > 1 && !inflight)
		return;
	tsp = bpf_map_lookup_elem(&starts, &key);
	if (!tsp) {
		/* Sampling leaves most ends without a start: not a loss. */
		if (sample_every <= 1)
			count_orphan(bpf_ktime_get_ns());
		return;
	}
	now = bpf_ktime_get_ns();
	if (ret == 1)
		record(now - *tsp, hook, skb_segs(skbp), classify(skbp));
	else
		count_dropped(hook);
	if (bpf_map_delete_elem(&starts, &key) == 0 && sample_every > 1)
		__sync_fetch_and_sub(&inflight, 1);
}

/* Is this call one we measure? Its hook number goes to *hook. */
static __always_inline bool wanted(struct nf_hook_state *state, __u32 *hook)
{
	__u32 h = BPF_CORE_READ(state, hook);

	if (h >= HOOKLAT_HOOKS || !(targ_hooks & (1u << h)))
		return false;
	if (BPF_CORE_READ(state, pf) != targ_pf)
		return false;
	if (BPF_CORE_READ(state, net, ns.inum) != targ_netns)
		return false;
	*hook = h;
	return true;
}

/* --- fentry/fexit --- */

SEC("fentry/nf_hook_slow")
int BPF_PROG(nfc_fentry, struct sk_buff *skb, struct nf_hook_state *state)
{
	__u32 hook;

	if (wanted(state, &hook) && sample_here(hook))
		start((__u64)skb, hook, false);
	return 0;
}

SEC("fexit/nf_hook_slow")
int BPF_PROG(nfc_fexit, struct sk_buff *skb, struct nf_hook_state *state,
	     const struct nf_hook_entries *e, unsigned int s, int ret)
{
	__u32 hook;

	if (wanted(state, &hook))
		end(skb, hook, ret);
	return 0;
}

/* --- kprobe/kretprobe --- */

SEC("kprobe/nf_hook_slow")
int BPF_KPROBE(nfc_kprobe, struct sk_buff *skb, struct nf_hook_state *state)
{
	__u64 task = bpf_get_current_task();
	struct hooklat_task_stack *st, fresh = {};
	__u32 hook = 0, d;
	bool w = wanted(state, &hook) && sample_here(hook);

	st = bpf_map_lookup_elem(&kstack, &task);
	if (!st) {
		bpf_map_update_elem(&kstack, &task, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&kstack, &task);
		if (!st)
			return 0; /* the return finds an empty stack and says so */
	}
	d = st->depth;
	if (d >= HOOKLAT_MAX_DEPTH) {
		/* Only returns the kernel missed (more calls in flight than
		 * the kretprobe's maxactive) leave frames behind: drop them. */
		__u64 lost = 0;
#pragma unroll
		for (int i = 0; i < HOOKLAT_MAX_DEPTH; i++)
			lost += st->f[i].ts != 0;
		if (lost)
			count_unmatched(lost);
		d = 0;
	}
	d &= HOOKLAT_MAX_DEPTH - 1;
	st->f[d].hook = hook;
	st->depth = d + 1;
	st->f[d].segs = w ? skb_segs(skb) : 0;
	st->f[d].skb = (__u64)skb;
	st->f[d].ts = w ? bpf_ktime_get_ns() : 0;
	if (w)
		count_entered(hook);
	return 0;
}

SEC("kretprobe/nf_hook_slow")
int BPF_KRETPROBE(nfc_kretprobe, int ret)
{
	__u64 task = bpf_get_current_task(), now = bpf_ktime_get_ns(), ts, skb;
	struct hooklat_task_stack *st;
	__u32 d, hook, segs;

	st = bpf_map_lookup_elem(&kstack, &task);
	if (!st || st->depth == 0) {
		count_orphan(now);
		return 0;
	}
	d = (st->depth - 1) & (HOOKLAT_MAX_DEPTH - 1);
	ts = st->f[d].ts;
	hook = st->f[d].hook;
	segs = st->f[d].segs;
	skb = st->f[d].skb;
	st->depth = d;
	if (!ts)
		return 0;
	if (ret == 1)
		record(now - ts, hook, segs, classify((struct sk_buff *)skb));
	else
		count_dropped(hook);
	return 0;
}

/* --- BPF netfilter programs ---
 * libbpf 1.1 has no netfilter section, so these sit in "socket" and user
 * space sets their type (BPF_PROG_TYPE_NETFILTER) before loading them. A
 * packet a hook drops never reaches the last program: its slot stays
 * claimed and is counted lost when a start reuses it or user space reaps
 * it. ctx->skb is a trusted kernel pointer: its fields are read directly
 * (a BPF_CORE_READ is a helper call each). */

/* The skb's address as a number: the verifier allows no shift or mask on
 * a pointer, and refuses a spilled pointer read back in parts. A pointer
 * stored in a map value reads back as a plain scalar (privileged programs
 * may see addresses): this CPU's scratch word (seen's). A softirq that
 * interrupts between the store and the load stores its own skb there: the
 * compare sees it, and a helper's copy (slower, but never wrong) is taken. */
static __always_inline __u64 skb_bits(struct bpf_nf_ctx *ctx, struct hooklat_seen *sn)
{
	struct sk_buff *skb = ctx->skb;
	__u64 *w = &sn->word, v = 0;

	*(struct sk_buff **)w = skb;
	v = *(volatile __u64 *)w;
	if ((void *)v == (void *)skb)
		return v;
	bpf_probe_read_kernel(&v, sizeof(v), &ctx->skb);
	return v;
}

static __always_inline struct hooklat_seen *this_cpu_seen(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&seen, &zero);
}

/* The slot of (skb, hook), and its key. */
static __always_inline struct hooklat_slot *nf_slot(struct bpf_nf_ctx *ctx,
						    struct hooklat_seen *sn, __u32 hook,
						    __u64 *key)
{
	__u64 skb = skb_bits(ctx, sn);
	__u32 idx;

	*key = skb | hook;
	/* Fibonacci hashing: sk_buffs come from one slab, so their
	 * addresses share their low bits. */
	idx = (__u32)(((skb >> 6) * 0x9E3779B97F4A7C15ULL) >> 52) ^ hook;
	idx &= HOOKLAT_SLOTS - 1;
	return bpf_map_lookup_elem(&slots, &idx);
}

/* segs of skb_segs() without the helper calls, but one: the shared info is
 * not a trusted pointer. gso_size and gso_segs are neighbours in every
 * kernel; one read takes both. */
static __always_inline __u32 nf_skb_segs(struct sk_buff *skb)
{
	struct skb_shared_info *sh = (struct skb_shared_info *)(skb->head + skb->end);
	struct { __u16 size, segs; } g = {};

	if (!skb->data_len)
		return 1; /* linear: a GSO skb always has pages or a frag list */
	bpf_probe_read_kernel(&g, sizeof(g), &sh->gso_size);
	if (g.segs)
		return g.segs;
	if (g.size)
		return (skb->len + g.size - 1) / g.size;
	return 1;
}

static __always_inline __u32 nf_hook_of(struct bpf_nf_ctx *ctx)
{
	return ctx->state->hook & (HOOKLAT_HOOK_ROOM - 1);
}

/* classify() for nfhook's trusted skb: its fields are plain loads. */
static __always_inline __u32 nf_classify(struct sk_buff *skb)
{
	unsigned long nfct = 0;

	if (bpf_core_field_exists(skb->_nfct))
		nfct = skb->_nfct;
	return class_of(nfct, skb->head + skb->network_header);
}

SEC("socket")
int nfc_nf_first(struct bpf_nf_ctx *ctx)
{
	struct hooklat_seen *sn = this_cpu_seen();
	__u32 hook = nf_hook_of(ctx), buf;
	struct hooklat_stats *s;
	struct hooklat_slot *sl;
	__u64 key, old;

	if (!sn || !take_sample(sn, hook))
		return 1;
	sl = nf_slot(ctx, sn, hook, &key);
	if (!sl)
		return 1;
	sl->ts[0] = bpf_ktime_get_ns();
	/* Later brackets a dropped packet left behind must not count for
	 * this one: a zero is a bracket not passed (see nfc_nf_last). */
	if (n_splits) {
#pragma unroll
		for (int k = 1; k <= HOOKLAT_MAX_SPLITS; k++)
			if (k <= n_splits)
				sl->ts[k] = 0;
	}
	old = __sync_lock_test_and_set(&sl->key, key);
	if (sample_every > 1 && !old)
		__sync_fetch_and_add(&inflight, 1);
	s = cur_stats(&buf);
	if (!s)
		return 1;
	__sync_fetch_and_add(&s->entered_hook[hook], 1);
	/* The slot was still claimed: that packet never reached the end
	 * (dropped or stolen, or its end was skipped), or it is still in
	 * flight and shares the slot (rare, see slots). */
	if (old) {
		__sync_fetch_and_add(&s->unmatched, 1);
		__sync_fetch_and_add(&s->lost_hook[old & (HOOKLAT_HOOK_ROOM - 1)], 1);
	}
	return 1; /* NF_ACCEPT */
}

/* Bracket k (1..HOOKLAT_MAX_SPLITS) between the first and the last. */
static __always_inline int nf_split(struct bpf_nf_ctx *ctx, int k)
{
	struct hooklat_seen *sn;
	struct hooklat_slot *sl;
	__u64 key;

	if (sample_every > 1 && !inflight)
		return 1; /* first, so an unsampled packet costs one load */
	sn = this_cpu_seen();
	if (!sn)
		return 1;
	sl = nf_slot(ctx, sn, nf_hook_of(ctx), &key);
	if (sl && sl->key == key)
		sl->ts[k] = bpf_ktime_get_ns();
	return 1;
}

#define NF_SPLIT(k) \
	SEC("socket") int nfc_nf_split##k(struct bpf_nf_ctx *ctx) { return nf_split(ctx, k); }
NF_SPLIT(1) NF_SPLIT(2) NF_SPLIT(3) NF_SPLIT(4) NF_SPLIT(5) NF_SPLIT(6) NF_SPLIT(7) NF_SPLIT(8)

SEC("socket")
int nfc_nf_last(struct bpf_nf_ctx *ctx)
{
	struct hooklat_seen *sn;
	__u32 hook, buf;
	struct hooklat_stats *s;
	struct hooklat_slot *sl;
	__u64 key, now, t0, prev;

	if (sample_every > 1 && !inflight)
		return 1; /* first, so an unsampled packet costs one load */
	sn = this_cpu_seen();
	if (!sn)
		return 1;
	hook = nf_hook_of(ctx);
	sl = nf_slot(ctx, sn, hook, &key);
	if (!sl)
		return 1;
	if (sl->key != key) {
		/* Sampling leaves most ends without a start: not a loss. */
		if (sample_every <= 1)
			count_orphan(bpf_ktime_get_ns());
		return 1;
	}
	now = bpf_ktime_get_ns();
	t0 = sl->ts[0];
	/* Free the slot, unless a start (or the reaper) took it since. */
	if (__sync_val_compare_and_swap(&sl->key, key, 0) != key)
		return 1;
	if (sample_every > 1)
		__sync_fetch_and_sub(&inflight, 1);
	s = cur_stats(&buf);
	if (!s)
		return 1;
	if (n_splits) {
		/* Part k: bracket k to bracket k+1. A bracket not passed (0)
		 * or out of order is clamped into [previous bracket, now], so
		 * the parts of one packet always add up to its total. */
		prev = t0;
#pragma unroll
		for (int k = 1; k <= HOOKLAT_MAX_SPLITS + 1; k++) {
			__u64 t = now;

			if (k > n_splits + 1)
				break;
			if (k <= n_splits && k <= HOOKLAT_MAX_SPLITS) {
				t = sl->ts[k];
				if (t < prev)
					t = prev;
				if (t > now)
					t = now;
			}
			__sync_fetch_and_add(&s->part_ns[hook][(k - 1) & (HOOKLAT_PART_ROOM - 1)],
					     t - prev);
			prev = t;
		}
	}
	record_in(s, buf, now - t0, hook, nf_skb_segs(ctx->skb), nf_classify(ctx->skb));
	return 1; /* NF_ACCEPT */
}
