// SPDX-License-Identifier: GPL-2.0
/* tablelat: per-table time in the netfilter hooks of one namespace, with
 * fentry/fexit on the functions that run one table: ipt_do_table
 * (iptables-legacy) and nft_do_chain (nft, iptables-nft). See tablelat.h.
 * Signatures as 6.1 and later share them:
 *   unsigned int ipt_do_table(void *priv, struct sk_buff *skb,
 *                             const struct nf_hook_state *state)
 *     priv is the struct xt_table
 *   unsigned int nft_do_chain(struct nft_pktinfo *pkt, void *priv)
 *     priv is the base chain's struct nft_chain
 * Field offsets are relocated by CO-RE; the argument order is not. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "probe/tablelat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_netns = 0; /* ns.inum of the measured namespace */
const volatile __u32 targ_pf = 2;    /* NFPROTO_IPV4 */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TABLELAT_MAX_TABLES);
	__type(key, struct tablelat_key);
	__type(value, struct tablelat_val);
} tables SEC(".maps");

/* Start times of the table calls in flight. Keyed, not a per-CPU stack: a
 * task may be preempted or migrate between entry and exit (the trampoline
 * keeps migration off only while our programs run). LRU, so entries whose
 * exit was skipped cannot fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TABLELAT_MAX_INFLIGHT);
	__type(key, struct tablelat_start_key);
	__type(value, __u64);
} tl_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TABLELAT_LOST_N);
	__type(key, __u32);
	__type(value, __u64);
} tl_lost SEC(".maps");

static __always_inline void count_lost(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&tl_lost, &why);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline bool wanted(const struct nf_hook_state *state, __u32 *hook)
{
	__u32 h = BPF_CORE_READ(state, hook);

	if (h >= 5 || BPF_CORE_READ(state, pf) != targ_pf)
		return false;
	if (BPF_CORE_READ(state, net, ns.inum) != targ_netns)
		return false;
	*hook = h;
	return true;
}

static __always_inline void start(__u64 skb, __u32 hook, __u32 xt)
{
	struct tablelat_start_key k = { .skb = skb, .hook = hook, .xt = xt };
	__u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&tl_starts, &k, &ts, BPF_ANY);
}

/* The call's time into (hook, table); k.name/family filled by the caller. */
static __always_inline void end(__u64 skb, __u32 xt, struct tablelat_key *k)
{
	struct tablelat_start_key sk = { .skb = skb, .hook = k->hook, .xt = xt };
	struct tablelat_val *v, zero = {};
	__u64 now = bpf_ktime_get_ns(), *ts, d;

	ts = bpf_map_lookup_elem(&tl_starts, &sk);
	if (!ts) {
		count_lost(TABLELAT_LOST_UNMATCHED); /* or in flight when we attached */
		return;
	}
	d = now - *ts;
	bpf_map_delete_elem(&tl_starts, &sk);
	v = bpf_map_lookup_elem(&tables, k);
	if (!v) {
		bpf_map_update_elem(&tables, k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&tables, k);
		if (!v) {
			count_lost(TABLELAT_LOST_ROOM);
			return;
		}
	}
	/* Atomic: a softirq on this CPU may add in the middle of our add. */
	__sync_fetch_and_add(&v->calls, 1);
	__sync_fetch_and_add(&v->ns, d);
}

SEC("fentry/ipt_do_table")
int BPF_PROG(nfc_tl_ipt_in, void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	__u32 hook;

	if (wanted(state, &hook))
		start((__u64)skb, hook, 1);
	return 0;
}

SEC("fexit/ipt_do_table")
int BPF_PROG(nfc_tl_ipt_out, void *priv, struct sk_buff *skb, const struct nf_hook_state *state,
	     unsigned int ret)
{
	struct tablelat_key k = { .family = TABLELAT_XT };
	const struct xt_table *table = priv;

	if (!wanted(state, &k.hook))
		return 0;
	bpf_core_read_str(k.name, sizeof(k.name), &table->name);
	end((__u64)skb, 1, &k);
	return 0;
}

SEC("fentry/nft_do_chain")
int BPF_PROG(nfc_tl_nft_in, struct nft_pktinfo *pkt, void *priv)
{
	__u32 hook;

	if (wanted(BPF_CORE_READ(pkt, state), &hook))
		start((__u64)BPF_CORE_READ(pkt, skb), hook, 0);
	return 0;
}

SEC("fexit/nft_do_chain")
int BPF_PROG(nfc_tl_nft_out, struct nft_pktinfo *pkt, void *priv, unsigned int ret)
{
	struct tablelat_key k = {};
	const struct nft_chain *chain = priv;
	struct nft_table *table;
	const char *name;

	if (!wanted(BPF_CORE_READ(pkt, state), &k.hook))
		return 0;
	table = BPF_CORE_READ(chain, table);
	k.family = BPF_CORE_READ_BITFIELD_PROBED(table, family);
	name = BPF_CORE_READ(table, name);
	bpf_probe_read_kernel_str(k.name, sizeof(k.name), name);
	end((__u64)BPF_CORE_READ(pkt, skb), 0, &k);
	return 0;
}
