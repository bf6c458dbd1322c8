/* probe_why: why a tracer cannot run here, in one line: what the kernel
 * lacks, what forbids it, or which resource limit to raise. Also keeps
 * libbpf quiet, but for the verifier's verdict that a reason may quote. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe/probe_internal.h"
#include "hooklat.skel.h" /* named here too: the Makefile finds skeleton users by it */
#include "util/util.h"

static bool verbose;
static bool print_installed;
/* The verifier's verdict from the last failed load (its log's last line),
 * kept even when quiet so that the reason can say it. */
static char verifier_said[200];
/* Whether the last reason given was a resource limit (probe_why.h). */
static bool limit_hit;

static void keep_verifier_verdict(const char *msg)
{
	const char *end = strstr(msg, "-- END PROG LOAD LOG --"), *p, *line;

	if (!strstr(msg, "BEGIN PROG LOAD LOG") || !end)
		return;
	/* Walk back over the statistics lines to the error. */
	for (p = end; p > msg;) {
		const char *stop = p;
		while (stop > msg && stop[-1] == '\n')
			stop--;
		line = stop;
		while (line > msg && line[-1] != '\n')
			line--;
		if (stop == line)
			return;
		if (strncmp(line, "processed ", 10) && strncmp(line, "verification time", 17)) {
			snprintf(verifier_said, sizeof(verifier_said), "%.*s", (int)(stop - line), line);
			return;
		}
		p = line;
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;
	char *msg = NULL;

	if (verbose)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_WARN) {
		va_copy(copy, ap);
		if (vasprintf(&msg, fmt, copy) >= 0) {
			keep_verifier_verdict(msg);
			free(msg);
		}
		va_end(copy);
	}
	return 0;
}

void probe_set_verbose(bool on)
{
	verbose = on;
	libbpf_set_print(libbpf_print);
	print_installed = true;
}

void probe_install_print(void)
{
	if (!print_installed)
		probe_set_verbose(false);
}

void probe_forget_verifier(void)
{
	verifier_said[0] = '\0';
	limit_hit = false;
}

bool probe_failed_on_limit(void)
{
	return limit_hit;
}

/* Under an address-space limit (ulimit -v), libbpf's allocations fail and
 * some of its failures come out as ESRCH ("no BTF found") rather than ENOMEM. */
static bool as_limited(void)
{
	struct rlimit r;

	return getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY;
}

bool probe_errno_is_limit(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || (e == ESRCH && as_limited());
}

int probe_check_fd_room(int need, struct nf_error *err)
{
	struct rlimit r;
	struct dirent *d;
	DIR *dir;
	long open_fds = 0;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur == RLIM_INFINITY)
		return 0;
	if (!(dir = opendir("/proc/self/fd"))) {
		if (errno != EMFILE && errno != ENFILE)
			return 0; /* cannot tell: let the load say */
		return probe_explain_errno(TRACER_AUTO, "opening files", errno, err);
	}
	while ((d = readdir(dir)))
		open_fds += d->d_name[0] != '.';
	closedir(dir);
	open_fds--; /* the directory's own */
	if ((long long)r.rlim_cur - open_fds >= need)
		return 0;
	/* libbpf's feature probes fail with EMFILE first and then the load
	 * with EINVAL, as if the kernel lacked something: say it before. */
	limit_hit = true;
	return nf_fail(err, EXIT_RUNTIME, "too many open files: %ld of the limit of %llu are "
		       "open and the probe needs %d more (ulimit -n); raise it, e.g. ulimit -n 4096",
		       open_fds, (unsigned long long)r.rlim_cur, need);
}

/* What a resource errno means and which limit to raise. */
static void limit_hint(int e, char *buf, size_t len)
{
	struct rlimit r;

	if (e == EMFILE && getrlimit(RLIMIT_NOFILE, &r) == 0)
		snprintf(buf, len, "too many open files: the limit is %llu (ulimit -n); raise it, "
			 "e.g. ulimit -n 4096", (unsigned long long)r.rlim_cur);
	else if (e == ENFILE)
		snprintf(buf, len, "the system's table of open files is full (fs.file-max); "
			 "close files or raise fs.file-max");
	else if ((e == ENOMEM || e == ESRCH) && getrlimit(RLIMIT_AS, &r) == 0 &&
		 r.rlim_cur != RLIM_INFINITY)
		snprintf(buf, len, "out of memory under an address-space limit of %llu KiB "
			 "(ulimit -v); raise it, e.g. ulimit -v unlimited",
			 (unsigned long long)r.rlim_cur / 1024);
	else if (e == ENOMEM)
		snprintf(buf, len, "out of memory for the BPF maps (free memory, or the "
			 "cgroup's memory.max)");
	else
		snprintf(buf, len, "%s", strerror(e));
}

static void kernel_release(char *buf, size_t len)
{
	struct utsname u;

	snprintf(buf, len, "%s", uname(&u) ? "unknown" : u.release);
}

static int no_btf(int btf_errno, struct nf_error *err)
{
	const char *path = "/sys/kernel/btf/vmlinux";
	char hint[256];

	limit_hit = probe_errno_is_limit(btf_errno);
	if (access(path, F_OK))
		return nf_fail(err, EXIT_RUNTIME, "no kernel BTF (%s missing: the kernel needs "
			       "CONFIG_DEBUG_INFO_BTF)", path);
	limit_hint(btf_errno, hint, sizeof(hint));
	return nf_fail(err, EXIT_RUNTIME, "cannot read the kernel's BTF %s (%s: %s)", path,
		       strerrorname_np(btf_errno) ? strerrorname_np(btf_errno) : "?", hint);
}

int probe_precheck(enum probe_tracer t, const struct btf *btf, int btf_errno,
		   struct nf_error *err)
{
	char rel[128];

	if (!btf)
		return no_btf(btf_errno, err);
	switch (t) {
	case TRACER_FENTRY:
		if (btf__find_by_name_kind(btf, "nf_hook_slow", BTF_KIND_FUNC) < 0)
			return nf_fail(err, EXIT_RUNTIME, "missing symbol (nf_hook_slow is not in "
				       "the kernel's BTF)");
		return 0;
	case TRACER_KPROBE:
		if (access("/sys/bus/event_source/devices/kprobe", F_OK) &&
		    access("/sys/kernel/tracing/kprobe_events", F_OK) &&
		    access("/sys/kernel/debug/tracing/kprobe_events", F_OK))
			return nf_fail(err, EXIT_RUNTIME, "kernel has no kprobe support "
				       "(/sys/bus/event_source/devices/kprobe missing)");
		if (!kernel_has_symbol("nf_hook_slow"))
			return nf_fail(err, EXIT_RUNTIME, "missing symbol (nf_hook_slow is not in "
				       "/proc/kallsyms)");
		return 0;
	case TRACER_NFHOOK:
		if (btf__find_by_name_kind(btf, "bpf_nf_ctx", BTF_KIND_STRUCT) < 0) {
			kernel_release(rel, sizeof(rel));
			return nf_fail(err, EXIT_RUNTIME, "kernel too old (BPF netfilter programs "
				       "need Linux >= 6.4, this is %s)", rel);
		}
		return 0;
	default:
		return nf_fail(err, EXIT_RUNTIME, "not a tracer");
	}
}

int probe_explain_errno(enum probe_tracer t, const char *what, int e, struct nf_error *err)
{
	const char *name = strerrorname_np(e), *hint = strerror(e);
	char buf[sizeof(verifier_said) + 64];

	limit_hit = probe_errno_is_limit(e);
	if (limit_hit) {
		limit_hint(e, buf, sizeof(buf));
		hint = buf;
	} else if (e == EACCES && verifier_said[0]) {
		snprintf(buf, sizeof(buf), "verifier: %s", verifier_said);
		hint = buf;
	} else if (e == EPERM || e == EACCES) {
		if (geteuid() != 0)
			hint = "tracing needs root";
		else if (t == TRACER_FENTRY)
			hint = "fentry programs not permitted here, lockdown or LSM";
		else if (t == TRACER_KPROBE)
			hint = "kprobes not permitted here, lockdown or LSM";
		else
			hint = "BPF not permitted here, lockdown or LSM";
	} else if (e == EINVAL && t == TRACER_NFHOOK) {
		hint = "kernel lacks BPF netfilter links";
	}
	return nf_fail(err, EXIT_RUNTIME, "%s refused (%s: %s)", what, name ? name : "?", hint);
}
