#include "probe/hist.h"

#include <math.h>

uint64_t hist_slot_low(unsigned int slot)
{
	unsigned int octave, sub;

	if (slot < HIST_SUB)
		return slot;
	octave = slot / HIST_SUB - 1 + HIST_SUB_BITS;
	sub = slot % HIST_SUB;
	return (uint64_t)(HIST_SUB + sub) << (octave - HIST_SUB_BITS);
}

uint64_t hist_slot_high(unsigned int slot)
{
	if (slot + 1 >= HIST_SLOTS)
		return UINT64_MAX;
	return hist_slot_low(slot + 1);
}

uint64_t hist_total(const uint64_t counts[HIST_SLOTS])
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < HIST_SLOTS; i++)
		n += counts[i];
	return n;
}

double hist_quantile(const uint64_t counts[HIST_SLOTS], double q)
{
	uint64_t total = hist_total(counts), seen = 0;
	double rank;

	if (total == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)total;
	for (unsigned int i = 0; i < HIST_SLOTS; i++) {
		if (!counts[i])
			continue;
		if ((double)(seen + counts[i]) >= rank) {
			double lo = (double)hist_slot_low(i), hi = (double)hist_slot_high(i);
			double frac = (rank - (double)seen) / (double)counts[i];
			if (i < HIST_SUB) /* exact slots hold one value */
				return lo;
			return lo + frac * (hi - lo);
		}
		seen += counts[i];
	}
	return (double)hist_slot_low(HIST_SLOTS - 1);
}

double hist_stddev(const uint64_t counts[HIST_SLOTS], double mean)
{
	uint64_t n = 0;
	double ss = 0;

	for (unsigned int i = 0; i < HIST_SLOTS; i++) {
		double mid, d;

		if (!counts[i])
			continue;
		mid = i < HIST_SUB ? (double)i
				   : ((double)hist_slot_low(i) + (double)hist_slot_high(i)) / 2;
		d = mid - mean;
		ss += d * d * (double)counts[i];
		n += counts[i];
	}
	return n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
}
