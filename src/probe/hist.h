/* hist: the latency histogram layout shared by the BPF programs and user
 * space: log2 buckets split into HIST_SUB linear sub-buckets, so any value is
 * placed within 1/HIST_SUB (12.5 %) of its true size. Values below HIST_SUB
 * get one exact slot each. Included by *.bpf.c, so the slot function stays
 * branch-light and loop-free. */
#ifndef NFCOST_HIST_H
#define NFCOST_HIST_H

#define HIST_SUB_BITS 3
#define HIST_SUB (1 << HIST_SUB_BITS)
/* Slots for every 64-bit value: exact slots, then (64 - SUB_BITS) octaves. */
#define HIST_SLOTS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

#ifndef __BPF__
#include <linux/types.h>
#endif

static inline unsigned int hist_log2(__u64 v)
{
	unsigned int r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static inline unsigned int hist_slot(__u64 v)
{
	unsigned int lg;

	if (v < HIST_SUB)
		return (unsigned int)v;
	lg = hist_log2(v);
	return (lg - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned int)((v >> (lg - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

#ifndef __BPF__
#include <stddef.h>
#include <stdint.h>
/* Smallest value that lands in slot. */
uint64_t hist_slot_low(unsigned int slot);
/* One past the largest value that lands in slot. */
uint64_t hist_slot_high(unsigned int slot);
/* Value at quantile q (0..1) of the counts, interpolated linearly inside the
 * slot that holds it; 0 when the histogram is empty. */
double hist_quantile(const uint64_t counts[HIST_SLOTS], double q);
uint64_t hist_total(const uint64_t counts[HIST_SLOTS]);
/* Standard deviation of the values around mean, each taken at the middle
 * of its slot (exact slots: the value); 0 with fewer than two values. */
double hist_stddev(const uint64_t counts[HIST_SLOTS], double mean);
#endif

#endif
