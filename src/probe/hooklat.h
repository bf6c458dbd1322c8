/* hooklat: the types and limits shared by the hook-latency BPF programs
 * (hooklat.bpf.c) and the probe module that loads them (probe.c): the per-CPU
 * statistics of one window, the keys of the in-flight maps and the per-task
 * return stack of the kprobe tracer. Included by both sides, so it only uses
 * __u* types. */
#ifndef NFCOST_HOOKLAT_H
#define NFCOST_HOOKLAT_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#include "probe/hist.h"

#define HOOKLAT_HOOKS 5           /* NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING */
#define HOOKLAT_BUFS 2            /* statistics double buffer, see probe.c */
#define HOOKLAT_MAX_INFLIGHT 16384 /* packets between entry and exit at once */
#define HOOKLAT_MAX_COMMS 1024    /* process names per window buffer */
#define HOOKLAT_MAX_TASKS 8192    /* tasks with a kprobe return stack */
#define HOOKLAT_MAX_DEPTH 8       /* nested nf_hook_slow calls per task (power of 2) */
#define HOOKLAT_COMM_LEN 16
/* nfhook: the per-table brackets. At most HOOKLAT_MAX_SPLITS programs sit
 * between the first and the last one of a hook, which cuts a packet's time
 * in the hook into up to HOOKLAT_MAX_SPLITS + 1 parts (probe.h's
 * PROBE_MAX_SPLITS is the same number). */
#define HOOKLAT_MAX_SPLITS 8
#define HOOKLAT_PART_ROOM 16      /* >= HOOKLAT_MAX_SPLITS + 1, power of 2 */
/* nfhook: in-flight packets live in a direct-mapped table of this many
 * slots (power of 2), indexed by a hash of (skb, hook). */
#define HOOKLAT_SLOTS 4096
/* Array sizes are powers of two so the BPF side can bound an index with a
 * mask, which every verifier version follows (a compare on a copy of the
 * register is lost on older ones, such as 6.1's). */
#define HOOKLAT_HOOK_ROOM 8
#define HOOKLAT_HIST_ROOM 512
#if HIST_SLOTS > HOOKLAT_HIST_ROOM
#error "HOOKLAT_HIST_ROOM must hold HIST_SLOTS"
#endif
/* Ends that find no start this soon after attaching belong to packets that
 * were already inside the hooks when the start program was attached. */
#define HOOKLAT_GRACE_NS 10000000ULL
/* No packet spends this long in the hooks: a start this old was dropped. */
#define HOOKLAT_STALE_NS 100000000ULL

/* The classes of a timed packet (probe/window.h's enum probe_class), and
 * conntrack's ctinfo values they are read from (enum ip_conntrack_info). */
#define HOOKLAT_CLASS_FIRST 0
#define HOOKLAT_CLASS_ESTABLISHED 1
#define HOOKLAT_CLASS_REPLY 2
#define HOOKLAT_CLASSES 3
#define HOOKLAT_CLASS_ROOM 4      /* power of 2 >= HOOKLAT_CLASSES */
#define HOOKLAT_CT_NEW 2          /* IP_CT_NEW */
#define HOOKLAT_CT_IS_REPLY 3     /* IP_CT_IS_REPLY: this and above (but 7) reply */
#define HOOKLAT_CT_UNTRACKED 7    /* IP_CT_UNTRACKED */
/* The per-CPU sampling state keeps one countdown per hook: a start that
 * counts its hook's countdown to 0 is timed, and draws the next gap at
 * random from 1 .. 2N - 1 (mean N), so that no periodic pattern of the
 * traffic (a connection's SYN always the 3rd packet) can line up with it. */

/* One CPU's statistics of one window. min_ns starts at ~0 (user space resets
 * it), everything else at 0. The time of the timed packets is kept per class
 * and hook (struct hooklat_lat); user space adds it up. */
struct hooklat_stats {
	__u64 min_ns;
	__u64 max_ns;
	__u64 unmatched;  /* starts without end, ends without start */
	__u64 dropped;    /* fentry/kprobe: verdict drop, stolen or queued */
	__u64 comm_lost;  /* timed packets the comm map had no room for */
	__u64 hook_count[HOOKLAT_HOOK_ROOM]; /* timed; [HOOKLAT_HOOKS..] stay 0 */
	/* nfhook with splits: per hook, part k's time of the timed packets
	 * (the parts of one packet add up to its time in the hook). */
	__u64 part_ns[HOOKLAT_HOOK_ROOM][HOOKLAT_PART_ROOM];
	/* Per hook, like hook_count: starts recorded, and packets that entered
	 * and never left (nfhook: a start overwritten by a new one; fentry and
	 * kprobe: a verdict other than 1). Stale starts are user space's. */
	__u64 entered_hook[HOOKLAT_HOOK_ROOM];
	__u64 lost_hook[HOOKLAT_HOOK_ROOM];
	/* Per hook, wire packets the timed skbs carry beyond one each: a
	 * GSO/TSO skb holds gso_segs, any other one. */
	__u64 extra_segs[HOOKLAT_HOOK_ROOM];
};

/* One CPU's timed packets of one class on one hook in one window: the
 * element (buf * HOOKLAT_CLASS_ROOM + class) * HOOKLAT_HOOK_ROOM + hook of
 * the lat map (a per-CPU array; one element per class and hook keeps each
 * under the per-CPU value size limit). */
#define HOOKLAT_LAT_ENTRIES (HOOKLAT_BUFS * HOOKLAT_CLASS_ROOM * HOOKLAT_HOOK_ROOM)
struct hooklat_lat {
	__u64 count;
	__u64 sum_ns;
	__u64 hist[HOOKLAT_HIST_ROOM]; /* hist.h slots; [HIST_SLOTS..] stay 0 */
};

/* One CPU's running counts, never reset (user space takes differences
 * between windows, so counting every packet needs no look at cur_buf):
 * every packet that entered each hook, timed or not, and the sampling
 * countdowns. word: nfhook's scratch for the skb's address (skb_bits). */
struct hooklat_seen_hook {
	__u64 packets;
	__u32 countdown;
	__u32 pad;
};
/* A hook's count and countdown share a cache line: an unsampled packet
 * touches that one line of the map. */
struct hooklat_seen {
	struct hooklat_seen_hook hook[HOOKLAT_HOOK_ROOM];
	__u64 word;
};

/* nfhook: one in-flight packet in one hook. key is the skb's address with
 * the hook number in its low 3 bits (an sk_buff is at least 8-byte
 * aligned), 0 when the slot is free; ts[k] is when bracket k saw the packet
 * (bracket 0: the first program, 1..n: the splits). Claimed and freed with
 * atomic exchanges on key, by the programs and by user space's reaper
 * (the map is mmapped), so a start is counted lost exactly once. Padded to
 * two cache lines so that CPUs timing different packets do not share one. */
struct hooklat_slot {
	__u64 key;
	__u64 ts[HOOKLAT_MAX_SPLITS + 1];
	__u64 pad[6];
};

/* In-flight start of one packet in one hook (fentry). */
struct hooklat_start_key {
	__u64 skb;
	__u32 hook;
	__u32 pad;
};

struct hooklat_comm_key {
	__u32 buf;
	char comm[HOOKLAT_COMM_LEN];
};

/* kprobe: one nf_hook_slow call a task has entered and not yet left.
 * ts == 0: a call that is not traced (other namespace, hook or family);
 * it is pushed anyway so that its return pops the right frame. */
struct hooklat_frame {
	__u64 ts;
	__u64 skb;   /* read again at the return, to class the packet */
	__u32 hook;
	__u32 segs;  /* the skb's wire packets, read at entry */
};

struct hooklat_task_stack {
	__u32 depth;
	__u32 pad;
	struct hooklat_frame f[HOOKLAT_MAX_DEPTH];
};

#endif
