#include "experiments/environment.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "experiments/cpustat.h"
#include "probe/probe.h"
#include "util/util.h"

#ifndef NFCOST_LIBNFTNL_VERSION
#define NFCOST_LIBNFTNL_VERSION ""
#endif

/* The first line of a small file into buf ("" when unreadable). */
static void first_line_of(const char *path, char *buf, size_t len)
{
	char text[4096];

	buf[0] = '\0';
	if (read_small_file(path, text, sizeof(text)) >= 0)
		snprintf(buf, len, "%.*s", (int)strcspn(text, "\n"), text);
}

/* The first line a program prints for its version flag. */
static void program_version(const char *prog, const char *flag, char *buf, size_t len)
{
	char *argv[] = { (char *)prog, (char *)flag, NULL };
	struct buf out = { 0 };

	buf[0] = '\0';
	if (run_program(NULL, argv, NULL, 0, &out, NULL) == 0 && out.data)
		snprintf(buf, len, "%.*s", (int)strcspn(out.data, "\n"), out.data);
	buf_free(&out);
}

static void mitigations(char *buf, size_t len)
{
	static const char *const names[] = { "spectre_v1", "spectre_v2", "meltdown", "retbleed",
					     "spec_store_bypass", "mds", "srbds", "mmio_stale_data" };
	char path[256], state[256];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && o < len; i++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/vulnerabilities/%s", names[i]);
		first_line_of(path, state, sizeof(state));
		if (state[0])
			o += (size_t)snprintf(buf + o, len - o, "%s%s: %s", o ? "; " : "", names[i], state);
	}
}

/* How busy the machine is right now, in % of all CPUs, over 0.3 s. */
static double busy_now(void)
{
	struct cpustat a, b;

	if (!cpustat_read(&a))
		return -1;
	usleep(300 * 1000);
	if (!cpustat_read(&b) || b.total_ns <= a.total_ns)
		return -1;
	return 100.0 * cpustat_busy_ns(&a, &b) / (b.total_ns - a.total_ns);
}

void environment_collect(struct run_env *env)
{
	char text[256];
	struct utsname u;

	memset(env, 0, sizeof(*env));
	first_line_of("/proc/sys/net/core/bpf_jit_enable", text, sizeof(text));
	env->bpf_jit = text[0] ? atoi(text) : -1;
	first_line_of("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", env->governor,
		      sizeof(env->governor));
	first_line_of("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", text, sizeof(text));
	env->cpu_mhz = text[0] ? atof(text) / 1000.0 : -1;
	if (env->cpu_mhz < 0) { /* no cpufreq (VMs): what /proc/cpuinfo says */
		char info[8192];
		const char *p;
		if (read_small_file("/proc/cpuinfo", info, sizeof(info)) >= 0 &&
		    (p = strstr(info, "cpu MHz")) && (p = strchr(p, ':')))
			env->cpu_mhz = atof(p + 1);
	}
	first_line_of("/sys/devices/system/cpu/smt/control", env->smt, sizeof(env->smt));
	mitigations(env->mitigations, sizeof(env->mitigations));
	first_line_of("/proc/cmdline", env->cmdline, sizeof(env->cmdline));
	/* uname -v names the model: "PREEMPT_DYNAMIC", "PREEMPT_RT", "PREEMPT". */
	snprintf(env->preempt, sizeof(env->preempt), "none or voluntary");
	if (uname(&u) == 0) {
		if (strstr(u.version, "PREEMPT_RT"))
			snprintf(env->preempt, sizeof(env->preempt), "PREEMPT_RT");
		else if (strstr(u.version, "PREEMPT_DYNAMIC"))
			snprintf(env->preempt, sizeof(env->preempt), "PREEMPT_DYNAMIC");
		else if (strstr(u.version, "PREEMPT"))
			snprintf(env->preempt, sizeof(env->preempt), "PREEMPT");
	}
	program_version("iptables", "-V", env->iptables, sizeof(env->iptables));
	program_version("nft", "-v", env->nft, sizeof(env->nft));
	program_version("ipset", "-v", env->ipset, sizeof(env->ipset));
	snprintf(env->libbpf, sizeof(env->libbpf), "%s", libbpf_version_string());
	snprintf(env->libnftnl, sizeof(env->libnftnl), "%s", NFCOST_LIBNFTNL_VERSION);
	env->nf_links_before = probe_count_netfilter_links();
	first_line_of("/proc/loadavg", text, sizeof(text));
	env->loadavg1 = text[0] ? atof(text) : -1;
	env->busy_pct = busy_now();
	env->packet_sockets = -1;
}

/* Lines of /proc/net/packet seen from inside the namespace, less its header. */
static int count_packet_sockets(const char *netns_path)
{
	char text[65536];
	int saved, n = -1;
	long len;

	if (!netns_path || netns_enter(netns_path, &saved))
		return -1;
	/* /proc/self/net follows the caller's network namespace. */
	if ((len = read_small_file("/proc/self/net/packet", text, sizeof(text))) >= 0) {
		n = -1;
		for (long i = 0; i < len; i++)
			n += text[i] == '\n';
	}
	netns_leave(saved);
	return n;
}

void environment_warn(struct run_env *env, const char *fmt, ...)
{
	size_t o = strlen(env->warnings);
	va_list ap;

	if (o && o + 2 < sizeof(env->warnings))
		o += (size_t)snprintf(env->warnings + o, sizeof(env->warnings) - o, "; ");
	va_start(ap, fmt);
	if (o < sizeof(env->warnings))
		vsnprintf(env->warnings + o, sizeof(env->warnings) - o, fmt, ap);
	va_end(ap);
}

void environment_finish(struct run_env *env, const char *netns_path)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	env->packet_sockets = count_packet_sockets(netns_path);
	if (env->bpf_jit == 0)
		environment_warn(env, "the BPF JIT is off (net.core.bpf_jit_enable=0): the probe runs "
			  "interpreted and inflates every hook time");
	if (env->nf_links_before > 0)
		environment_warn(env, "%d other BPF netfilter program(s) were attached before the run: "
			  "their time counts in the hooks", env->nf_links_before);
	if (env->packet_sockets > 0)
		environment_warn(env, "%d packet socket(s) in the measured namespace (a capture?): every "
			  "packet is also copied to them", env->packet_sockets);
	/* Something else used half the machine just before the run. */
	if (env->busy_pct > 50)
		environment_warn(env, "the machine was busy before the run (%.0f %% of %ld CPUs): figures "
			  "vary more than on an idle machine", env->busy_pct, cpus);
}
