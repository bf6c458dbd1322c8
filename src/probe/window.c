#include "probe/window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_comm(const void *a, const void *b)
{
	const struct probe_comm *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

void probe_window_keep_top_comms(struct probe_window *w, struct probe_comm *comms, size_t n)
{
	qsort(comms, n, sizeof(*comms), cmp_comm);
	w->n_comms = 0;
	for (size_t i = 0; i < n; i++) {
		if (w->n_comms < PROBE_COMMS)
			w->comms[w->n_comms++] = comms[i];
		else
			w->comm_other += comms[i].count;
	}
}

/* 1.96 standard errors: the normal approximation, fair from a few dozen
 * samples on (a window has thousands). */
static double ci95(uint64_t n, const uint64_t hist[HIST_SLOTS], double mean)
{
	return n > 1 ? 1.96 * hist_stddev(hist, mean) / sqrt((double)n) : 0;
}

void probe_window_compute(struct probe_window *w)
{
	w->avg_ns = w->count ? (double)w->sum_ns / (double)w->count : 0;
	w->avg_ci95_ns = ci95(w->count, w->hist, w->avg_ns);
	w->p50_ns = hist_quantile(w->hist, 0.50);
	w->p90_ns = hist_quantile(w->hist, 0.90);
	w->p99_ns = hist_quantile(w->hist, 0.99);
	if (!w->count)
		w->min_ns = w->max_ns = 0;
}

static void class_add(struct probe_class_stats *total, const struct probe_class_stats *s)
{
	total->count += s->count;
	total->sum_ns += s->sum_ns;
	for (int i = 0; i < HIST_SLOTS; i++)
		total->hist[i] += s->hist[i];
}

void probe_window_add(struct probe_window *total, const struct probe_window *w)
{
	struct probe_comm comms[2 * PROBE_COMMS];
	size_t n = 0;

	if (w->count && (!total->count || w->min_ns < total->min_ns))
		total->min_ns = w->min_ns;
	if (w->max_ns > total->max_ns)
		total->max_ns = w->max_ns;
	total->seconds += w->seconds;
	total->count += w->count;
	total->sum_ns += w->sum_ns;
	total->segments += w->segments;
	total->packets += w->packets;
	if (!total->sample_every)
		total->sample_every = w->sample_every;
	total->unmatched += w->unmatched;
	total->dropped += w->dropped;
	total->comm_other += w->comm_other;
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		total->hook_count[h] += w->hook_count[h];
		total->entered_hook[h] += w->entered_hook[h];
		total->lost_hook[h] += w->lost_hook[h];
		total->hook_sum_ns[h] += w->hook_sum_ns[h];
		total->hook_segments[h] += w->hook_segments[h];
		total->packets_hook[h] += w->packets_hook[h];
		for (int c = 0; c < PROBE_CLASSES; c++)
			class_add(&total->cls[c][h], &w->cls[c][h]);
		for (int k = 0; k <= PROBE_MAX_SPLITS; k++)
			total->part_sum_ns[h][k] += w->part_sum_ns[h][k];
	}
	for (int i = 0; i < HIST_SLOTS; i++)
		total->hist[i] += w->hist[i];
	/* Merge the two top lists by name. */
	for (int i = 0; i < total->n_comms; i++)
		comms[n++] = total->comms[i];
	for (int i = 0; i < w->n_comms; i++) {
		size_t j;
		for (j = 0; j < n && strcmp(comms[j].comm, w->comms[i].comm); j++)
			;
		if (j < n)
			comms[j].count += w->comms[i].count;
		else
			comms[n++] = w->comms[i];
	}
	probe_window_keep_top_comms(total, comms, n);
	probe_window_compute(total);
}

const char *probe_class_name(enum probe_class c)
{
	static const char *const names[PROBE_CLASSES] = { "first", "established", "reply" };

	return (unsigned)c < PROBE_CLASSES ? names[c] : "?";
}

void probe_window_class(const struct probe_window *w, enum probe_class c, unsigned int hooks,
			struct probe_class_stats *out)
{
	memset(out, 0, sizeof(*out));
	if ((unsigned)c >= PROBE_CLASSES)
		return;
	for (int h = 0; h < NFHOOK_COUNT; h++)
		if (hooks & (1u << h))
			class_add(out, &w->cls[c][h]);
}

double probe_class_avg_ns(const struct probe_class_stats *s)
{
	return s->count ? (double)s->sum_ns / (double)s->count : 0;
}

double probe_class_ci95_ns(const struct probe_class_stats *s)
{
	return ci95(s->count, s->hist, probe_class_avg_ns(s));
}

double probe_class_quantile_ns(const struct probe_class_stats *s, double q)
{
	return hist_quantile(s->hist, q);
}
