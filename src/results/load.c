#include "results/load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "results/results.h"

static int distorted(const struct step_load *s)
{
	return isfinite(s->other_cpu_pct) && s->other_cpu_pct >= LOAD_DISTORTS_PCT;
}

void load_warning(const struct step_load *s, size_t n, const char *what, char *buf, size_t len)
{
	size_t hit = 0, o = 0, named = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		hit += distorted(&s[i]);
	if (!hit || !len)
		return;
	o = (size_t)snprintf(buf, len, "other work took %.0f %% of the CPUs or more during %zu of "
				       "%zu %s, whose throughput and hook times it distorts (",
			     LOAD_DISTORTS_PCT, hit, n, what);
	for (size_t i = 0; i < n && o < len; i++) {
		if (!distorted(&s[i]))
			continue;
		if (named == 8) {
			o += (size_t)snprintf(buf + o, len - o, ", and %zu more", hit - named);
			break;
		}
		o += (size_t)snprintf(buf + o, len - o, "%s%s: %.0f %%", named ? ", " : "",
				      s[i].label, s[i].other_cpu_pct);
		named++;
	}
	if (o < len)
		snprintf(buf + o, len - o, "): measure again on a quieter machine");
}

json_object *load_json(const struct step_load *s, size_t n)
{
	json_object *o = json_object_new_object(), *steps = json_object_new_array();
	json_object *bad = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "step", json_object_new_string(s[i].label));
		json_object_object_add(x, "other_cpu_pct", num_or_null(s[i].other_cpu_pct));
		json_object_array_add(steps, x);
		if (distorted(&s[i]))
			json_object_array_add(bad, json_object_new_string(s[i].label));
	}
	json_object_object_add(o, "distorts_at_pct", json_object_new_double(LOAD_DISTORTS_PCT));
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "distorted", bad);
	return o;
}
