/* load: the machine's other load during a run's steps (measured by
 * experiments/otherload.h): the steps it distorts, named in a warning
 * line, and sweep.json's / profile.json's "other_load". No kernel I/O. */
#ifndef NFCOST_LOAD_H
#define NFCOST_LOAD_H

#include <json-c/json.h>
#include <stddef.h>

/* Other work on a quarter of the machine's CPUs or more takes time from
 * the traffic and the hooks: a step with that much is named. */
#define LOAD_DISTORTS_PCT 25.0

/* One step: what names it ("500 rules, round 1") and its other load in %
 * of all CPUs (NAN: not measured). */
struct step_load {
	char label[80];
	double other_cpu_pct;
};

/* The warning naming every step at LOAD_DISTORTS_PCT or more (at most the
 * first eight, then how many more), no ';' in it; "" when there is none.
 * what: the steps' name in the text ("steps", "flows"). */
void load_warning(const struct step_load *s, size_t n, const char *what, char *buf,
		  size_t len);
/* {"distorts_at_pct", "steps": [{"step", "other_cpu_pct"}], "distorted": [label, ...]} */
json_object *load_json(const struct step_load *s, size_t n);

#endif
