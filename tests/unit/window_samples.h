/* For the unit tests of probe windows: n packets of v ns each into w, as the
 * probe's programs would record them. */
#ifndef NFCOST_TEST_WINDOW_SAMPLES_H
#define NFCOST_TEST_WINDOW_SAMPLES_H

#include <stdint.h>

#include "probe/window.h"

static inline void add_samples(struct probe_window *w, uint64_t v, uint64_t n)
{
	w->hist[hist_slot(v)] += n;
	w->count += n;
	w->sum_ns += v * n;
	if (!w->min_ns || v < w->min_ns)
		w->min_ns = v;
	if (v > w->max_ns)
		w->max_ns = v;
}

#endif
