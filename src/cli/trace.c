/* `nfcost trace`: per-packet time in the netfilter hooks of one namespace,
 * one block (or JSON object) per interval, until -d ends or Ctrl-C. It only
 * observes: it never changes a firewall. */
#include <argp.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "experiments/calibration.h"
#include "probe/probe.h"
#include "results/report.h"
#include "results/results.h"
#include "testbed/testbed.h"
#include "util/outfile.h"
#include "util/util.h"

#define NFC_STR_(x) #x
#define NFC_STR(x) NFC_STR_(x)

enum {
	OPT_TRACER = 256, OPT_NETNS, OPT_HOOK, OPT_FAMILY, OPT_BY, OPT_HIST, OPT_JSON,
	OPT_CALIBRATE, OPT_READY_FILE, OPT_SPLIT, OPT_SAMPLE
};

struct trace_args {
	struct probe_opts popts;
	char netns_buf[512];
	double interval_s, duration_s; /* duration 0: until a signal */
	int by;
	bool hist, json, calibrate, verbose;
	const char *ready_file;
	int splits[PROBE_MAX_SPLITS];
};

static const struct argp_option trace_options[] = {
	{ "tracer", OPT_TRACER, "T", 0, "auto|fentry|kprobe|nfhook (default auto)", 0 },
	{ "interval", 'i', "SECS", 0, "Print every SECS seconds (default 1)", 0 },
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds (default: at Ctrl-C)", 0 },
	{ "netns", OPT_NETNS, "NAME|PATH", 0,
	  "Namespace to trace: /run/netns/NAME or a path (default: this one)", 0 },
	{ "hook", OPT_HOOK, "H", 0,
	  "prerouting|input|forward|output|postrouting|all (default output)", 0 },
	{ "family", OPT_FAMILY, "ipv4|ipv6", 0, "Protocol family of the hooks (default ipv4)", 0 },
	{ "by", OPT_BY, "comm|hook|class", 0,
	  "Also count packets per process name or per hook, or split the latency by "
	  "class (first packet of a connection, established, reply)", 0 },
	{ "sample", OPT_SAMPLE, "N", 0,
	  "Time one packet in N, count every one (default " NFC_STR(PROBE_SAMPLE_DEFAULT)
	  "; 1: time every packet)", 0 },
	{ "hist", OPT_HIST, NULL, 0, "Add a log2 histogram of the latency", 0 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per interval on stdout", 0 },
	{ "calibrate", OPT_CALIBRATE, NULL, 0,
	  "First measure the tracer's own cost on an empty chain (temporary testbed)", 0 },
	{ "split", OPT_SPLIT, "PRIO,...", 0,
	  "nfhook: also time the parts of each hook between these priorities "
	  "(per-table brackets, e.g. -250,-175,-50,25 between raw, mangle, nat, filter)", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages", 0 },
	{ "ready-file", OPT_READY_FILE, "PATH", OPTION_HIDDEN, "Written once attached", 0 },
	{ 0 }
};

/* --split: ascending priorities strictly between the probe's own first and
 * last programs (INT_MIN + 1 and INT_MAX - 1). */
static void parse_splits(const char *arg, struct trace_args *a)
{
	char buf[256], *save = NULL, *tok;
	long v;

	snprintf(buf, sizeof(buf), "%s", arg);
	a->popts.n_splits = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->popts.n_splits == PROBE_MAX_SPLITS)
			usage_fail("--split takes at most %d priorities, got '%s'",
				   PROBE_MAX_SPLITS, arg);
		if (!parse_long(tok, -2147483646L, 2147483646L, &v) || v <= -2147483646L ||
		    v >= 2147483646L)
			usage_fail("--split: '%s' is not a priority strictly between %d and %d",
				   tok, -2147483647, 2147483646);
		if (a->popts.n_splits && v <= a->splits[a->popts.n_splits - 1])
			usage_fail("--split priorities must be strictly ascending, got '%s'", arg);
		a->splits[a->popts.n_splits++] = (int)v;
	}
	if (!a->popts.n_splits)
		usage_fail("--split needs priorities, such as -250,-175,-50,25");
	a->popts.split_priorities = a->splits;
}

static error_t trace_parse(int key, char *arg, struct argp_state *state)
{
	struct trace_args *a = state->input;

	switch (key) {
	case OPT_TRACER:
		arg_tracer(arg, &a->popts.tracer);
		break;
	case 'i':
		if (!parse_double(arg, 0.1, 86400, &a->interval_s))
			usage_fail("-i takes seconds from 0.1 to 86400, got '%s'", arg);
		break;
	case 'd':
		if (!parse_double(arg, 0.1, 31536000, &a->duration_s))
			usage_fail("-d takes seconds from 0.1 up, got '%s'", arg);
		break;
	case OPT_NETNS:
		parse_netns_arg(arg, a->netns_buf, sizeof(a->netns_buf));
		a->popts.netns_path = a->netns_buf;
		break;
	case OPT_HOOK:
		if (!nfhook_parse(arg, &a->popts.hook))
			usage_fail("unknown hook '%s': use prerouting, input, forward, output, "
				   "postrouting or all", arg);
		break;
	case OPT_FAMILY:
		if (!probe_family_parse(arg, &a->popts.family))
			usage_fail("unknown family '%s': use ipv4 or ipv6", arg);
		break;
	case OPT_BY:
		if (!strcmp(arg, "comm"))
			a->by = PROBE_BY_COMM;
		else if (!strcmp(arg, "hook"))
			a->by = PROBE_BY_HOOK;
		else if (!strcmp(arg, "class"))
			a->by = PROBE_BY_CLASS;
		else
			usage_fail("--by takes comm, hook or class, got '%s'", arg);
		break;
	case OPT_SAMPLE: {
		long n;
		if (!parse_long(arg, 1, PROBE_SAMPLE_MAX, &n))
			usage_fail("--sample takes a whole number from 1 to %d (one packet in N "
				   "timed), got '%s'", PROBE_SAMPLE_MAX, arg);
		a->popts.sample_every = (unsigned int)n;
		break;
	}
	case OPT_HIST:
		a->hist = true;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_CALIBRATE:
		a->calibrate = true;
		break;
	case 'v':
		a->verbose = true;
		break;
	case OPT_READY_FILE:
		a->ready_file = arg;
		break;
	case OPT_SPLIT:
		parse_splits(arg, a);
		break;
	case ARGP_KEY_ARG:
		usage_fail("trace takes no arguments, got '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void catch_signals(void)
{
	/* Ctrl-C or SIGTERM: the sleep returns at once and we detach promptly. */
	catch_stop_signals();
	/* A closed pipe ends the run through a failed write, not a kill. */
	signal(SIGPIPE, SIG_IGN);
}

/* Prints first + text wrapped at 80 columns, continuation lines indented. */
static void print_folded(FILE *f, const char *first, const char *text, const char *indent)
{
	size_t col = strlen(first), ind = strlen(indent);
	bool line_start = true;

	fputs(first, f);
	while (*text) {
		size_t w = strcspn(text, " ");
		if (!line_start && col + 1 + w > 80) {
			fprintf(f, "\n%s", indent);
			col = ind;
			line_start = true;
		}
		if (!line_start) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)w, text);
		col += w;
		line_start = false;
		text += w;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

/* Written whole under a temporary name and renamed (util/outfile.h): a
 * reader sees it complete or not at all, and never writes through a link. */
static int write_ready_file(const char *path, const char *tracer, struct nf_error *err)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%d %s\n", (int)getpid(), tracer);

	return outfile_write_path(path, line, (size_t)n, err);
}

/* Sleeps until monotonic time t, or until SIGINT/SIGTERM. */
static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* What a trace prints its windows with. */
struct trace_view {
	const char *tracer, *hook, *netns;
	char hook_label[32];
	const struct calibration *cal;  /* NULL: no --calibrate */
	FILE *info;                     /* stdout, or stderr with --json */
};

/* The start line and one line per tracer skipped, folded at 80 columns. */
static void announce(const struct trace_args *a, const struct probe *p, struct trace_view *v)
{
	char start_line[512];

	/* IPv4 is what the testbed carries; only the other family is named. */
	snprintf(v->hook_label, sizeof(v->hook_label), "%s%s",
		 a->popts.family == PROBE_IPV6 ? "IPv6 " : "", v->hook);
	snprintf(start_line, sizeof(start_line),
		 "Tracing nf_hook_slow via %s in netns %s (%s)... Ctrl-C to stop.", v->tracer,
		 v->netns, v->hook_label);
	print_folded(v->info, "", start_line, "  ");
	const char *s = probe_selection_note(p);
	while (*s) { /* one skipped tracer per line: "fentry: why; kprobe: why" */
		char line[600];
		size_t n = strcspn(s, ";");
		snprintf(line, sizeof(line), "%.*s", (int)n, s);
		print_folded(v->info, "  skipped ", line, "    ");
		s += n;
		while (*s == ';' || *s == ' ')
			s++;
	}
	fflush(v->info);
}

/* The window's sampling and its classes, in the JSON object of a window. */
static void json_sampling(json_object *o, const struct probe_window *w)
{
	json_object *hooks = json_object_new_object(), *classes = json_object_new_object();

	json_object_object_add(o, "sample_every", json_object_new_int64(w->sample_every));
	json_object_object_add(o, "packets", json_object_new_int64((int64_t)w->packets));
	for (int h = 0; h < NFHOOK_COUNT; h++)
		if (w->packets_hook[h])
			json_object_object_add(hooks, nfhook_name((enum nfhook)h),
					       json_object_new_int64((int64_t)w->packets_hook[h]));
	json_object_object_add(o, "packets_by_hook", hooks);
	json_object_object_add(o, "avg_ci95_ns", json_object_new_double(w->avg_ci95_ns));
	for (int c = 0; c < PROBE_CLASSES; c++) {
		struct probe_class_stats s;
		json_object *j = json_object_new_object();

		probe_window_class(w, (enum probe_class)c, NFHOOK_ALL_MASK, &s);
		json_object_object_add(j, "count", json_object_new_int64((int64_t)s.count));
		json_object_object_add(j, "avg_ns", json_object_new_double(probe_class_avg_ns(&s)));
		json_object_object_add(j, "avg_ci95_ns",
				       json_object_new_double(probe_class_ci95_ns(&s)));
		json_object_object_add(j, "p50_ns",
				       json_object_new_double(probe_class_quantile_ns(&s, 0.5)));
		json_object_object_add(j, "p99_ns",
				       json_object_new_double(probe_class_quantile_ns(&s, 0.99)));
		json_object_object_add(classes, probe_class_name((enum probe_class)c), j);
	}
	json_object_object_add(o, "classes", classes);
}

/* The sampling line, and with --by class a line per class. */
static void print_sampling(FILE *f, const struct probe_window *w, int by)
{
	fprintf(f, "  packets %llu, 1 in %u timed: %llu, avg %.0f ns +- %.0f ns (95 %% CI)\n",
		(unsigned long long)w->packets, w->sample_every, (unsigned long long)w->count,
		w->avg_ns, w->avg_ci95_ns);
	if (by != PROBE_BY_CLASS)
		return;
	for (int c = 0; c < PROBE_CLASSES; c++) {
		struct probe_class_stats s;

		probe_window_class(w, (enum probe_class)c, NFHOOK_ALL_MASK, &s);
		fprintf(f, "  %-11s %llu avg %.0f ns p50 %.0f ns p99 %.0f ns\n",
			probe_class_name((enum probe_class)c), (unsigned long long)s.count,
			probe_class_avg_ns(&s), probe_class_quantile_ns(&s, 0.5),
			probe_class_quantile_ns(&s, 0.99));
	}
}

/* A window's text block (results' format) with the sampling lines put in
 * before the blank line that ends it. */
static void print_block(const struct trace_args *a, const struct trace_view *v,
			const struct probe_window *w, double t_start)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m) {
		report_print_window(stdout, w, t_start, v->hook_label, v->netns, v->tracer, a->by);
		return;
	}
	report_print_window(m, w, t_start, v->hook_label, v->netns, v->tracer, a->by);
	fclose(m);
	if (len && text[len - 1] == '\n' && len > 1 && text[len - 2] == '\n')
		len--;
	fwrite(text, 1, len, stdout);
	print_sampling(stdout, w, a->by);
	putchar('\n');
	free(text);
}

static void print_window(const struct trace_args *a, const struct probe *p,
			 const struct trace_view *v, const struct probe_window *w, double t_start)
{
	if (a->json) {
		const struct calibration *cal = v->cal;
		struct window_labels l = {
			.tracer = v->tracer, .note = probe_selection_note(p), .netns = v->netns,
			.hook = v->hook, .family = probe_family_name(a->popts.family),
			.traced = a->popts.hook, .by = a->by, .hist = a->hist,
			.calibrated = cal != NULL,
			.cal_tracer = cal ? probe_tracer_name(cal->tracer) : NULL,
			.cal_avg_ns = cal ? cal->empty_chain_avg_ns : 0,
			.cal_p50_ns = cal ? cal->empty_chain_p50_ns : 0,
			.cal_packets = cal ? cal->packets : 0,
			.cal_overhead_ns = cal ? cal->overhead.ns : 0,
			.cal_overhead_rate_ratio = cal && cal->overhead.rate_without > 0
				? cal->overhead.rate_with / cal->overhead.rate_without : 0,
			.splits = a->popts.split_priorities, .n_splits = a->popts.n_splits,
		};
		json_object *o = results_window_json(w, t_start, &l);
		json_sampling(o, w);
		printf("%s\n", json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	print_block(a, v, w, t_start);
	if (a->hist && w->count) {
		report_print_hist(stdout, w->hist);
		putchar('\n');
	}
}

/* Windows every interval until the duration ends, a signal comes or nobody
 * reads stdout any more; then the run's total. 0 or an exit status. */
static int trace_windows(const struct trace_args *a, struct probe *p, const struct trace_view *v)
{
	struct probe_window w, total;
	double t0 = now_monotonic(), end = a->duration_s > 0 ? t0 + a->duration_s : 0;
	double win_start = t0;
	int err;

	memset(&total, 0, sizeof(total));
	for (int k = 1;; k++) {
		double next = t0 + k * a->interval_s;
		bool last = false;
		if (end && next >= end) {
			next = end;
			last = true;
		}
		sleep_until(next);
		double now = now_monotonic();
		if (stop_requested)
			last = true;
		if ((err = probe_read_window(p, &w))) {
			nf_err("cannot read the probe's statistics: %s", strerror(-err));
			return EXIT_RUNTIME;
		}
		probe_window_add(&total, &w);
		print_window(a, p, v, &w, win_start - t0);
		win_start = now;
		if (fflush(stdout) || ferror(stdout))
			last = true; /* nobody reads us any more */
		if (last)
			break;
	}
	fprintf(v->info, "Detaching. %.1f s: count %llu avg %.0f ns p50 %.0f ns p99 %.0f ns "
		"unmatched %llu\n", now_monotonic() - t0, (unsigned long long)total.count,
		total.avg_ns, total.p50_ns, total.p99_ns, (unsigned long long)total.unmatched);
	return EXIT_OK;
}

int cmd_trace(int argc, char **argv)
{
	static const struct argp argp = {
		trace_options, trace_parse, NULL,
		"Measure the time every packet spends in the netfilter hooks of a network "
		"namespace (nf_hook_slow), with eBPF, and print it every interval: packet "
		"count, average, p50/p90/p99 and packets the hooks never let through. It "
		"only observes; it changes no firewall.\v"
		"Tracers: fentry (fentry/fexit on nf_hook_slow), kprobe (kprobe/kretprobe), "
		"nfhook (BPF netfilter programs at the first and last priority of the hook, "
		"Linux >= 6.4). auto takes the first that works and says why it skipped the "
		"others.\n\n"
		"Examples:\n"
		"  nfcost trace --netns nfcost-lab-cli          # the testbed's OUTPUT hook\n"
		"  nfcost trace --netns nfcost-lab-cli --by comm --hist\n"
		"  nfcost trace -i 1 -d 10 --json --netns nfcost-lab-cli\n"
		"  nfcost trace --family ipv6 --hook all --by hook  # this namespace's IPv6\n"
		"  nfcost trace --calibrate -d 5                # the tracer's own cost first",
		NULL, NULL, NULL
	};
	struct trace_args a = {
		.popts = { .tracer = TRACER_AUTO, .hook = NFHOOK_LOCAL_OUT,
			   .sample_every = PROBE_SAMPLE_DEFAULT },
		.interval_s = 1,
	};
	struct calibration cal;
	struct trace_view v = { 0 };
	struct nf_error perr = { 0 };
	struct probe *p;
	char netns[256];
	int rc;

	command_parse(&argp, argc, argv, &a);
	if (a.popts.n_splits && a.popts.tracer != TRACER_NFHOOK && a.popts.tracer != TRACER_AUTO)
		usage_fail("--split needs the nfhook tracer, not %s: use --tracer nfhook",
			   probe_tracer_name(a.popts.tracer));
	if ((rc = require_root("nfcost trace")))
		return rc;
	probe_set_verbose(a.verbose);
	a.popts.by_comm = a.by == PROBE_BY_COMM;
	v.info = a.json ? stderr : stdout; /* with --json, stdout carries only the windows */
	catch_signals();
	if (a.calibrate) {
		struct nf_error err = { 0 };
		if (calibration_run(a.popts.tracer, &cal, &err)) {
			nf_error_prefix(&err, "calibration failed: ");
			return nf_error_report(&err);
		}
		v.cal = &cal;
		fprintf(v.info, "Calibration: %s measures %.0f ns per packet on an empty chain "
			"(p50 %.0f ns, %llu packets)\n", probe_tracer_name(cal.tracer),
			cal.empty_chain_avg_ns, cal.empty_chain_p50_ns,
			(unsigned long long)cal.packets);
		fprintf(v.info, "Probe overhead: %.0f ns of CPU per packet (probe_overhead_ns; "
			"16-byte UDP, %.0f datagrams/s without the probe, %.0f with)\n",
			cal.overhead.ns, cal.overhead.rate_without, cal.overhead.rate_with);
		fflush(v.info);
		if (stop_requested)
			return EXIT_OK;
	}
	if (!(p = probe_open(&a.popts, &perr)))
		return nf_error_report(&perr);
	v.tracer = probe_tracer_name(probe_tracer(p));
	v.hook = nfhook_name(a.popts.hook);
	v.netns = probe_netns_label(a.popts.netns_path, netns, sizeof(netns));
	announce(&a, p, &v);
	struct nf_error err = { 0 };
	if (a.ready_file && write_ready_file(a.ready_file, v.tracer, &err)) {
		rc = nf_error_report(&err);
	} else {
		rc = trace_windows(&a, p, &v);
	}
	probe_close(p);
	return rc;
}
