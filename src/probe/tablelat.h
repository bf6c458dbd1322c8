/* tablelat: the per-table time of the netfilter tables of one network
 * namespace, from fentry/fexit programs on the functions that run a table:
 * ipt_do_table (iptables-legacy) and nft_do_chain (nft and iptables-nft).
 * This header holds the types shared by the BPF side (tablelat.bpf.c) and
 * the loader (tablelat.c), and the loader's API: open on one namespace,
 * read the time per (hook, table) since the last read, close. It needs
 * fentry, which some kernels refuse (lockdown, LSM, no BPF trampolines):
 * then open fails and says why, and the caller does without the split. */
#ifndef NFCOST_TABLELAT_H
#define NFCOST_TABLELAT_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define TABLELAT_NAME_LEN 32     /* xt_table's name room (XT_TABLE_MAXNAMELEN) */
#define TABLELAT_MAX_TABLES 32   /* (hook, table) pairs kept */
#define TABLELAT_MAX_INFLIGHT 4096 /* table calls between entry and exit at once */
#define TABLELAT_XT 0            /* family of an ipt_do_table table (not an NFPROTO_*) */

/* One table on one hook. family: TABLELAT_XT for iptables-legacy, else the
 * nft table's NFPROTO_* family (1 inet, 2 ip, ...). */
struct tablelat_key {
	__u32 hook;
	__u32 family;
	char name[TABLELAT_NAME_LEN];
};

/* Per CPU: the calls of the table timed, and their total time. */
struct tablelat_val {
	__u64 calls;
	__u64 ns;
};

/* An entry in flight: one table call for one skb on one hook. Tables of one
 * hook run one after another, never inside each other (nft_do_chain follows
 * jumps with a stack of its own, not by calling itself), so this is unique
 * among the calls in flight; a softirq that runs a table for another packet
 * in the middle of ours has another skb. */
struct tablelat_start_key {
	__u64 skb;
	__u32 hook;
	__u32 xt; /* 1: ipt_do_table, 0: nft_do_chain */
};

/* Counters of what could not be timed (per CPU, array index). */
enum { TABLELAT_LOST_ROOM, TABLELAT_LOST_UNMATCHED, TABLELAT_LOST_N };

#ifndef __BPF__
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/nfhook.h"

struct tablelat;

/* The time of one table on one hook over a read's interval. label: the
 * iptables table ("filter") or the nft family and table ("inet fw"). */
struct tablelat_part {
	enum nfhook hook;
	char label[TABLELAT_NAME_LEN + 8];
	uint64_t calls;
	uint64_t ns;
};

/* Loads and attaches the programs for the tables of netns_path (a network
 * namespace file; NULL: our own), IPv4 hooks. Only the functions of
 * modules already loaded are traced: load the rule set first. NULL with one
 * line in err when it cannot ("fentry refused (EPERM: ...)"). */
struct tablelat *tablelat_open(const char *netns_path, struct nf_error *err);
/* The time per (hook, table) since the previous read (or the open), up to
 * max parts, in no particular order; *lost (may be NULL) gets the calls
 * that could not be timed. The number of parts, or -errno. */
int tablelat_read(struct tablelat *t, struct tablelat_part *out, int max, uint64_t *lost);
/* Detaches and frees everything. NULL is fine. */
void tablelat_close(struct tablelat *t);
/* BPF programs of this tracer loaded anywhere on the machine (their names
 * start with TABLELAT_PROG_PREFIX), or -1 when they cannot be listed: how
 * a test sees that a close left nothing behind. */
int tablelat_count_loaded(void);
#define TABLELAT_PROG_PREFIX "nfc_tl_"
#endif

#endif
