/* watch: see watch.h. One probe per watched hook (a probe's window has one
 * histogram, and the metrics are per hook); the windows are added up into
 * struct metrics, which only grows, so counters stay monotonic however
 * often the exposition is read. */
#include "experiments/watch.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "experiments/httpd.h"
#include "results/metrics.h"
#include "rules/chaincount.h"
#include "util/netns.h"
#include "util/util.h"

/* The brackets of --tables and the parts between them. */
static const int table_splits[WATCH_TABLE_SPLITS] = { -250, -175, -50, 25 };
static const char *const table_parts[WATCH_TABLE_SPLITS + 1] = {
	"raw", "conntrack", "mangle_dnat", "filter", "security_snat",
};

struct watch {
	const struct watch_config *cfg;
	struct probe *probes[2 * NFHOOK_COUNT];
	unsigned int mask_of[2 * NFHOOK_COUNT]; /* the hooks each probe measures */
	enum probe_family family_of[2 * NFHOOK_COUNT];
	int n_probes;
	struct metrics *m;
	struct probe_window *win; /* large (a histogram per class and hook) */
	struct httpd *httpd;
	uint64_t netns_ino;
	char netns_label[256];
	uint64_t bpf_run_ns, packets; /* at the last interval: for the probe's cost */
};

/* Every hook: one probe on all of them (with fentry/kprobe one program on
 * nf_hook_slow, not five). A subset: one probe per hook listed, so the
 * others carry no program. */
static int open_probes(struct watch *w, struct nf_error *err)
{
	for (int f = PROBE_IPV4; f <= PROBE_IPV6; f++) {
		if (!(w->cfg->families & (1u << f)))
			continue;
		for (int h = 0; h <= NFHOOK_COUNT; h++) {
			unsigned int mask = h == NFHOOK_ALL ? WATCH_ALL_HOOKS : 1u << h;
			struct probe_opts o = {
				.tracer = w->cfg->tracer, .netns_path = w->cfg->netns_path,
				.hook = (enum nfhook)h, .family = (enum probe_family)f,
				.sample_every = w->cfg->sample_every,
				.split_priorities = w->cfg->tables ? table_splits : NULL,
				.n_splits = w->cfg->tables ? WATCH_TABLE_SPLITS : 0,
			};
			struct probe *p;

			if (w->cfg->hooks == WATCH_ALL_HOOKS
				    ? h != NFHOOK_ALL
				    : h == NFHOOK_ALL || !(w->cfg->hooks & mask))
				continue;
			if (!(p = probe_open(&o, err)))
				return -1;
			w->probes[w->n_probes] = p;
			w->family_of[w->n_probes] = (enum probe_family)f;
			w->mask_of[w->n_probes++] = mask;
		}
	}
	return 0;
}

/* The run time the kernel has counted for the BPF programs this process
 * holds (the probe's: watch loads no others), with kernel.bpf_stats_enabled
 * on; 0 when it is off. The programs are found as this process's bpf-prog
 * file descriptors, so nothing of the probe's insides is needed. */
static uint64_t own_bpf_run_ns(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t ns = 0;
	char path[64], target[64];

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:bpf-prog"))
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(atoi(e->d_name), &info, &len))
			ns += info.run_time_ns;
	}
	closedir(d);
	return ns;
}

/* nfcost_probe_overhead_seconds: the probe programs' run time over the
 * packets through the watched hooks since the last interval. Left as it
 * was when no packet passed; unknown while the kernel keeps no run time. */
static void probe_overhead(struct watch *w)
{
	uint64_t ns = own_bpf_run_ns(), packets = 0;

	for (int i = 0; i < w->m->n_hooks; i++)
		packets += w->m->hooks[i].packets;
	if (ns > w->bpf_run_ns && packets > w->packets)
		w->m->probe_overhead_s = (double)(ns - w->bpf_run_ns) * 1e-9 /
					 (double)(packets - w->packets);
	w->bpf_run_ns = ns;
	w->packets = packets;
}

/* Every probe's window since the last read, added into the metrics. */
static int collect(struct watch *w, struct nf_error *err)
{
	for (int i = 0; i < w->n_probes; i++) {
		int e = probe_read_window(w->probes[i], w->win);
		if (e)
			return nf_fail(err, EXIT_RUNTIME, "cannot read the probe's statistics: %s",
				       strerror(-e));
		if (metrics_add_window(w->m, w->win, w->mask_of[i],
				       probe_family_name(w->family_of[i])) ||
		    (w->cfg->tables && metrics_add_parts(w->m, w->win, w->mask_of[i], table_parts,
							  WATCH_TABLE_SPLITS + 1)))
			return nf_fail(err, EXIT_RUNTIME, "too many metric series");
	}
	return 0;
}

/* The rule counts now; a failed count leaves nfcost_rules out of this
 * exposition rather than showing stale numbers. */
static void count_rules(struct watch *w)
{
	struct chain_count *cc;
	struct metrics_rules *r;
	struct nf_error e = { 0 };
	size_t n;

	if (chaincount_all(w->cfg->netns_path, &cc, &n, &e)) {
		w->m->rules_known = false;
		return;
	}
	if (!(r = calloc(n ? n : 1, sizeof(*r)))) {
		free(cc);
		w->m->rules_known = false;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(r[i].table, sizeof(r[i].table), "%s", cc[i].table);
		snprintf(r[i].chain, sizeof(r[i].chain), "%s", cc[i].chain);
		snprintf(r[i].family, sizeof(r[i].family), "%s", cc[i].family);
		snprintf(r[i].backend, sizeof(r[i].backend), "%s", cc[i].backend);
		r[i].rules = cc[i].rules;
	}
	metrics_set_rules(w->m, r, n);
	free(r);
	free(cc);
}

/* Writes text to path atomically: a temporary file beside it, renamed over
 * it, so node_exporter never reads half a file. */
static int write_textfile(const char *path, const struct buf *text, struct nf_error *err)
{
	char tmp[4096];
	int fd;
	ssize_t n = 0;

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s", tmp, strerror(errno));
	if (text->len)
		n = write(fd, text->data, text->len);
	if (n != (ssize_t)text->len || close(fd)) {
		int e = n < 0 ? errno : EIO;
		unlink(tmp);
		return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s", tmp, strerror(e));
	}
	if (rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return nf_fail(err, EXIT_RUNTIME, "cannot rename %s to %s: %s", tmp, path,
			       strerror(e));
	}
	return 0;
}

static int publish(struct watch *w, struct nf_error *err)
{
	struct buf text = { 0 };
	int rc = 0;

	metrics_render(w->m, &text);
	if (!text.data)
		return nf_fail(err, EXIT_RUNTIME, "out of memory");
	if (w->httpd)
		httpd_publish(w->httpd, text.data, text.len);
	if (w->cfg->textfile)
		rc = write_textfile(w->cfg->textfile, &text, err);
	buf_free(&text);
	return rc;
}

/* The watched namespace is gone when its path is, or names another one. */
static bool netns_gone(const struct watch *w)
{
	if (!w->cfg->netns_path)
		return false;
	return netns_inode(w->cfg->netns_path) != w->netns_ino;
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

static int write_ready(const struct watch *w, struct nf_error *err)
{
	FILE *f = fopen(w->cfg->ready_file, "we");

	if (!f || fprintf(f, "%d %u\n", (int)getpid(), (unsigned int)w->cfg->port) < 0 || fclose(f))
		return nf_fail(err, EXIT_RUNTIME, "cannot write the ready file %s: %s",
			       w->cfg->ready_file, strerror(errno));
	return 0;
}

/* Attaches, starts serving, and publishes the first (empty) exposition. */
static int watch_start(struct watch *w, struct nf_error *err)
{
	struct utsname u;
	char title[512];

	if (w->cfg->netns_path && !(w->netns_ino = netns_inode(w->cfg->netns_path)))
		return nf_fail(err, EXIT_USAGE, "no network namespace at %s", w->cfg->netns_path);
	probe_netns_label(w->cfg->netns_path, w->netns_label, sizeof(w->netns_label));
	/* The port first: taken, it fails before anything is attached. */
	if (w->cfg->listen_addr) {
		snprintf(title, sizeof(title), "nfcost %s: the netfilter hooks of network "
			 "namespace %s, every %g s.", w->cfg->version, w->netns_label,
			 w->cfg->interval_s);
		if (httpd_start(w->cfg->listen_addr, w->cfg->port, title, &w->httpd, err))
			return -1;
	}
	if (open_probes(w, err))
		return -1;
	uname(&u);
	metrics_init(w->m, w->cfg->version, u.release,
		     probe_tracer_name(probe_tracer(w->probes[0])), w->netns_label,
		     probe_sample_every(w->probes[0]));
	count_rules(w);
	if (publish(w, err))
		return -1;
	return w->cfg->ready_file ? write_ready(w, err) : 0;
}

/* One interval after another until a stop signal or a failure. */
static int watch_loop(struct watch *w, struct nf_error *err)
{
	double t0 = now_monotonic();

	for (long k = 1; !stop_requested; k++) {
		sleep_until(t0 + (double)k * w->cfg->interval_s);
		if (netns_gone(w))
			return nf_fail(err, EXIT_RUNTIME, "the watched network namespace %s is "
				       "gone: watch ends with it", w->cfg->netns_path);
		if (collect(w, err))
			return -1;
		probe_overhead(w);
		count_rules(w);
		if (publish(w, err))
			return -1;
	}
	return 0;
}

int watch_run(const struct watch_config *cfg, struct nf_error *err)
{
	struct watch w = { .cfg = cfg };
	int rc;

	w.m = calloc(1, sizeof(*w.m));
	w.win = calloc(1, sizeof(*w.win));
	if (!w.m || !w.win) {
		free(w.m);
		free(w.win);
		return nf_fail(err, EXIT_RUNTIME, "out of memory");
	}
	rc = watch_start(&w, err);
	if (rc == 0)
		rc = watch_loop(&w, err);
	/* Detach first: the probe's links are what must not outlive us. */
	for (int i = 0; i < w.n_probes; i++)
		probe_close(w.probes[i]);
	httpd_stop(w.httpd);
	metrics_free(w.m);
	free(w.m);
	free(w.win);
	return rc;
}
