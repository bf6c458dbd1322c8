#include "results/rounds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/analysis.h"
#include "results/results.h"

void rounds_summarize(const struct step_row *rows, size_t n, int rounds, struct round_stats *s)
{
	double *x = calloc(n ? n : 1, sizeof(double)), *y = calloc(n ? n : 1, sizeof(double));
	struct linear_fit fit;
	double sum = 0, ss = 0;
	size_t m;

	memset(s, 0, sizeof(*s));
	s->mean = s->sd = s->cv = s->pooled_slope = s->half_width_pct = NAN;
	s->rounds = rounds < 0 ? 0 : rounds > ROUNDS_MAX ? ROUNDS_MAX : rounds;
	if (!x || !y)
		goto out;
	for (int r = 1; r <= s->rounds; r++) {
		m = 0;
		/* As the pooled fit: a step the probe saw no packet in has no latency. */
		for (size_t i = 0; i < n; i++)
			if (rows[i].repeat == r && rows[i].packets > 0) {
				x[m] = (double)rows[i].rules;
				y[m++] = rows[i].lat_avg_ns;
			}
		s->slopes[r - 1] = analysis_linear_fit(x, y, m, &fit) == 0 ? fit.slope : NAN;
		if (isfinite(s->slopes[r - 1])) {
			s->n_slopes++;
			sum += s->slopes[r - 1];
		}
	}
	if (s->n_slopes)
		s->mean = sum / s->n_slopes;
	if (s->n_slopes >= 2) {
		for (int r = 0; r < s->rounds; r++)
			if (isfinite(s->slopes[r]))
				ss += (s->slopes[r] - s->mean) * (s->slopes[r] - s->mean);
		s->sd = sqrt(ss / (s->n_slopes - 1));
		s->cv = s->mean != 0 ? s->sd / fabs(s->mean) : NAN;
	}
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].packets > 0) {
			x[m] = (double)rows[i].rules;
			y[m++] = rows[i].lat_avg_ns;
		}
	if (analysis_linear_fit(x, y, m, &fit) == 0) {
		s->pooled_slope = fit.slope;
		if (isfinite(fit.slope_ci95_hi) && fit.slope != 0)
			s->half_width_pct = 100.0 * (fit.slope_ci95_hi - fit.slope_ci95_lo) / 2 /
					    fabs(fit.slope);
	}
out:
	free(x);
	free(y);
}

bool rounds_precise(const struct round_stats *s, double pct)
{
	return isfinite(s->half_width_pct) && s->half_width_pct <= pct;
}

json_object *rounds_stats_json(const struct round_stats *s)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (int r = 0; r < s->rounds; r++)
		json_object_array_add(a, num_or_null(s->slopes[r]));
	json_object_object_add(o, "slopes_ns_per_rule", a);
	json_object_object_add(o, "slope_mean_ns_per_rule", num_or_null(s->mean));
	json_object_object_add(o, "slope_sd_ns_per_rule", num_or_null(s->sd));
	json_object_object_add(o, "slope_cv", num_or_null(s->cv));
	json_object_object_add(o, "pooled_slope_ns_per_rule", num_or_null(s->pooled_slope));
	json_object_object_add(o, "ci95_half_width_pct", num_or_null(s->half_width_pct));
	return o;
}

static void fmt(char *buf, size_t len, double v, const char *f)
{
	if (isfinite(v))
		snprintf(buf, len, f, v);
	else
		snprintf(buf, len, "n/a");
}

void rounds_report(FILE *f, const struct rounds_outcome *o, const char *const *names,
		   const char *what, const struct round_stats *stats, int n)
{
	char mean[32], sd[32], cv[32], hw[32];

	fprintf(f, "\n## How precise is the slope?\n\n");
	fprintf(f, "%d round(s); each visited every rule count once, in its own random order "
		   "(seed %u), and loaded the exact count in one transaction (flush and load), "
		   "so drift favours no count. The fit above pools every round.\n\n",
		o->rounds, o->seed);
	if (o->precision_mode)
		fprintf(f, "Target: a 95 %% CI half-width of at most %.4g %% of the slope, within "
			   "%.0f s. **%s** (stopped by: %s) after %.0f s. The half-width it got is "
			   "in the table below.%s\n\n", o->precision_pct, o->budget_s,
			o->precision_reached ? "Reached" : "Not reached", o->stop_reason,
			o->time_used_s, o->cut_steps ? " The budget cut the last round short: its "
			"complete steps are in the CSV and the pooled fit, not in the per-round "
			"slopes." : "");
	fprintf(f, "| %s%sslope per round, ns/rule | mean | SD | CV | pooled CI half-width |\n"
		   "|%s---|---:|---:|---:|---:|\n", names ? what : "", names ? " | " : "",
		names ? "---|" : "");
	for (int i = 0; i < n; i++) {
		const struct round_stats *s = &stats[i];
		if (names)
			fprintf(f, "| %s ", names[i]);
		fprintf(f, "| ");
		for (int r = 0; r < s->rounds; r++) {
			/* a long run's table stays readable: the first 20, then "..." */
			if (r == 20) {
				fprintf(f, " ...");
				break;
			}
			if (isfinite(s->slopes[r]))
				fprintf(f, "%s%.2f", r ? ", " : "", s->slopes[r]);
			else
				fprintf(f, "%sn/a", r ? ", " : "");
		}
		fmt(mean, sizeof(mean), s->mean, "%.2f");
		fmt(sd, sizeof(sd), s->sd, "%.2f");
		fmt(cv, sizeof(cv), s->cv * 100, "%.1f %%");
		fmt(hw, sizeof(hw), s->half_width_pct, "%.1f %%");
		fprintf(f, " | %s | %s | %s | %s |\n", mean, sd, cv, hw);
	}
	fprintf(f, "\nThe coefficient of variation (SD / mean of the per-round slopes) is the "
		   "run-to-run spread of one round's figure; the pooled CI narrows as rounds are "
		   "added. The per-round slopes are in %s (\"rounds\").\n",
		names ? "compare.json" : "sweep.json");
}
