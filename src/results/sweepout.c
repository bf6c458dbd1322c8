/* sweepout: see sweepout.h. */
#include "results/sweepout.h"

#include <string.h>

#include "results/offload.h"
#include "util/util.h"

#define SWEEPOUT_ARMS_MAX 16    /* more than the backends there are */

/* Keeps the first failure in f->err; returns -1 for a failure, else 0. */
static int keep(struct sweep_files *f, int rc, const struct nf_error *e)
{
	if (rc && !f->err.status)
		f->err = *e;
	return rc ? -1 : 0;
}

int sweep_files_open(struct sweep_files *f, struct outdir *d, bool compare, bool updates,
		     bool drops)
{
	struct nf_error e = { 0 };

	memset(f, 0, sizeof(*f));
	f->d = d;
	f->compare = compare;
	if (keep(f, results_csv_open(&f->csv, d, compare ? "compare.csv" : "sweep.csv", compare,
				     &e), &e) ||
	    (updates && keep(f, results_csv_open(&f->updates, d, "updates.csv", compare, &e), &e)) ||
	    keep(f, outdir_mkdir(d, "iperf", &e), &e))
		return -1;
	if (drops) {
		if (keep(f, outfile_open(&f->drops, d, "drops.csv", &e), &e))
			return -1;
		fprintf(f->drops.f, "rules,repeat,sent,send_eperm,hook,entered,lost\n");
		return keep(f, outfile_flush(&f->drops, &e), &e);
	}
	return 0;
}

int sweep_files_row(struct sweep_files *f, const char *label, const struct step_row *r)
{
	struct nf_error e = { 0 };

	return keep(f, results_csv_row(&f->csv, label, r, &e), &e);
}

int sweep_files_update(struct sweep_files *f, const char *label, const struct update_row *u)
{
	struct nf_error e = { 0 };

	return keep(f, results_updates_row(&f->updates, label, u, &e), &e);
}

int sweep_files_drops(struct sweep_files *f, const struct step_drops *d, int repeat)
{
	struct nf_error e = { 0 };

	for (int h = 0; h < NFHOOK_COUNT; h++)
		if (d->entered[h] || d->lost[h])
			fprintf(f->drops.f, "%ld,%d,%ld,%ld,%s,%llu,%llu\n", d->rules, repeat, d->sent,
				d->send_eperm, nfhook_name((enum nfhook)h),
				(unsigned long long)d->entered[h], (unsigned long long)d->lost[h]);
	return keep(f, outfile_flush(&f->drops, &e), &e);
}

int sweep_files_iperf(struct sweep_files *f, const char *label, const struct step_row *row,
		      const char *json)
{
	struct nf_error e = { 0 };
	char rel[256];

	snprintf(rel, sizeof(rel), "iperf/%s%srules-%07ld-r%d.json", label ? label : "",
		 label ? "-" : "", row->rules, row->repeat);
	json = json ? json : "{}\n";
	return keep(f, outfile_write(f->d, rel, json, strlen(json), &e), &e);
}

int sweep_files_commit(struct sweep_files *f)
{
	struct outfile *all[3] = { &f->csv, &f->updates, &f->drops };
	struct nf_error e = { 0 };
	int rc = 0;

	for (int i = 0; i < 3; i++)
		rc |= keep(f, outfile_commit(all[i], &e), &e);
	return rc;
}

/* --- sweep.json / compare.json --- */

/* {ARM: its rounds' statistics} and {ARM: its update costs}. */
static json_object *rounds_per_arm(const struct sweep_output *v)
{
	json_object *per = json_object_new_object();

	for (int b = 0; b < v->n; b++)
		json_object_object_add(per, v->per[b].name, rounds_stats_json(&v->rstats[b]));
	return per;
}

static json_object *updates_per_arm(const struct sweep_output *v)
{
	json_object *per = json_object_new_object();

	for (int b = 0; b < v->n; b++)
		json_object_object_add(per, v->per[b].name,
				       results_updates_json(v->updates[b], v->n_updates[b],
							    &v->update_sum[b]));
	return per;
}

/* A visit of a round as JSON. */
static json_object *visit_json(const struct sweep_output *v, const struct round_visit *x)
{
	json_object *o = json_object_new_object();

	if (v->compare)
		json_object_object_add(o, "backend", json_object_new_string(v->per[x->backend].name));
	else if (v->offload_arms)
		json_object_object_add(o, "offload", json_object_new_string(v->per[x->backend].name));
	json_object_object_add(o, "rules", json_object_new_int64(x->rules));
	json_object_object_add(o, "counted", json_object_new_int64(x->counted));
	json_object_object_add(o, "load_ms", json_object_new_double(x->load_ms));
	return o;
}

/* "rounds": how the rounds went, each visit in its order, and the
 * per-round slopes (per backend in compare, per setting with offloads). */
static json_object *rounds_json(const struct sweep_output *v)
{
	const struct rounds_outcome *o = v->rounds;
	json_object *j = v->compare ? json_object_new_object() : rounds_stats_json(&v->rstats[0]);
	json_object *visits = json_object_new_array(), *round = NULL;

	json_object_object_add(j, "rounds", json_object_new_int(o->rounds));
	json_object_object_add(j, "seed", json_object_new_int64(o->seed));
	json_object_object_add(j, "stop_reason", json_object_new_string(o->stop_reason));
	if (o->precision_mode) {
		json_object_object_add(j, "precision_pct", json_object_new_double(o->precision_pct));
		json_object_object_add(j, "budget_s", json_object_new_double(o->budget_s));
		json_object_object_add(j, "precision_reached",
				       json_object_new_boolean(o->precision_reached));
	}
	if (v->compare) /* else the top level is the first setting's */
		json_object_object_add(j, "backends", rounds_per_arm(v));
	else if (v->offload_arms)
		json_object_object_add(j, "offloads", rounds_per_arm(v));
	for (size_t i = 0; i < v->n_visits; i++) {
		if (!i || v->visits[i].round != v->visits[i - 1].round)
			json_object_array_add(visits, round = json_object_new_array());
		json_object_array_add(round, visit_json(v, &v->visits[i]));
	}
	json_object_object_add(j, "visits", visits);
	return j;
}

/* The two settings of an offload sweep as results/offload.h takes them. */
static void offload_arms_of(const struct sweep_output *v, struct offload_arm arms[2])
{
	for (int b = 0; b < 2 && b < v->n; b++)
		arms[b] = (struct offload_arm){ .name = v->per[b].name, .sum = &v->per[b].sum,
						.rows = v->rows[b], .n = v->n_rows[b] };
}

static json_object *sweep_json(const struct sweep_output *v)
{
	json_object *j = results_meta_json(v->meta);

	if (v->compare) {
		json_object *per = json_object_new_object();
		for (int b = 0; b < v->n; b++)
			json_object_object_add(per, v->per[b].name,
					       results_summary_json(&v->per[b].sum));
		/* The seed the order was drawn from, as given: the run can be redone. */
		json_object_object_add(j, "random_seed", json_object_new_int64(v->seed));
		json_object_object_add(j, "backends", per);
		if (v->update_reps)
			json_object_object_add(j, "updates", updates_per_arm(v));
	} else {
		json_object_object_add(j, "analysis", results_summary_json(&v->per[0].sum));
		json_object_object_add(j, "verdict",
				       json_object_new_string(v->accept ? "accept" : "drop"));
		json_object_object_add(j, "hit_traffic", json_object_new_boolean(v->hit_traffic));
		if (v->drops)
			json_object_object_add(j, "drops", results_drops_json(v->drops));
		if (v->update_reps)
			json_object_object_add(j, "updates",
					       results_updates_json(v->updates[0], v->n_updates[0],
								    &v->update_sum[0]));
		if (v->offload_arms) {
			struct offload_arm arms[2];
			offload_arms_of(v, arms);
			json_object_object_add(j, "offloads", offload_json(arms, v->n));
		}
	}
	if (v->rounds_mode) {
		if (!v->compare) /* compare records it already */
			json_object_object_add(j, "random_seed", json_object_new_int64(v->seed));
		json_object_object_add(j, "rounds", rounds_json(v));
	}
	return j;
}

/* --- report.md --- */

static void write_report(FILE *f, const struct sweep_output *v, bool figure)
{
	const char *names[SWEEPOUT_ARMS_MAX];
	struct offload_arm arms[2];

	if (v->compare) {
		report_compare(f, v->meta, v->per, v->n, figure);
	} else {
		struct report_updates u = { v->updates[0], v->n_updates[0], v->update_sum[0] };
		struct report_sweep_data r = { .meta = v->meta, .sum = &v->per[0].sum,
					       .rows = v->rows[0], .n = v->n_rows[0],
					       .figure = figure, .drops = v->drops,
					       .updates = v->update_reps ? &u : NULL };
		report_sweep(f, &r);
	}
	if (!v->compare && v->offload_arms) {
		offload_arms_of(v, arms);
		offload_report(f, v->meta, arms, v->n);
	}
	if (v->rounds_mode) {
		for (int b = 0; b < v->n && b < SWEEPOUT_ARMS_MAX; b++)
			names[b] = v->per[b].name;
		rounds_report(f, v->rounds, v->compare || v->offload_arms ? names : NULL,
			      v->compare ? "backend" : "offload", v->rstats, v->n);
	}
}

int sweep_files_finish(struct sweep_files *f, const struct sweep_output *v, bool *figure)
{
	const char *kind = v->compare ? "compare" : "sweep";
	struct nf_error e = { 0 };
	struct outfile rep;
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "%s.json", kind);
	rc = keep(f, results_write_json(f->d, name, sweep_json(v), &e), &e);
	/* The figure is drawn from the files above, already in place. */
	*figure = !v->no_plot && v->steps_done > 0 &&
		  report_plot(kind, f->d, &f->plot_warning) == 0;
	if (keep(f, outfile_open(&rep, f->d, "report.md", &e), &e))
		return -1;
	write_report(rep.f, v, *figure);
	return keep(f, outfile_commit(&rep, &e), &e) | rc;
}
