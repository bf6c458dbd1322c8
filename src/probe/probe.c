/* probe: loads one tracer of hooklat.bpf.c, attaches it, and turns its
 * per-CPU statistics into windows. See probe.h.
 *
 * Windows lose no sample: the BPF programs add to buffer cur_buf (0 or 1).
 * To close a window we flip cur_buf, then wait for an RCU grace period (an
 * update of an array-of-maps makes the kernel call synchronize_rcu(), and
 * every BPF program runs inside an RCU read-side section), so no program
 * that read the old index is still running; then the old buffer is read and
 * zeroed while the programs fill the other one. */
#include "probe/probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probe/hooklat.h"
#include "hooklat.skel.h"
#include "util/util.h"

/* Newer than Debian's 6.1 uapi headers (kernel >= 6.4). */
#define NFC_PROG_TYPE_NETFILTER 32
#define NFC_ATTACH_NETFILTER 45
#define NFC_NFPROTO_IPV4 2
#define NFC_NFPROTO_IPV6 10
#define NFC_PRI_FIRST (-2147483647 - 1)
#define NFC_PRI_LAST 2147483647

_Static_assert(PROBE_MAX_SPLITS == HOOKLAT_MAX_SPLITS, "one limit, two names");
_Static_assert(HOOKLAT_MAX_SPLITS + 1 <= HOOKLAT_PART_ROOM, "parts fit");

struct probe {
	enum probe_tracer tracer;
	struct hooklat_bpf *skel;
	int nf_links[(2 + PROBE_MAX_SPLITS) * NFHOOK_COUNT];
	int n_nf_links;
	int splits[PROBE_MAX_SPLITS], n_splits;
	unsigned int split_hooks[PROBE_MAX_SPLITS]; /* hooks each split is linked on */
	/* What attaching needs again after probe_pause. */
	char netns_path[512];
	const char *netns_path_or_null;
	enum nfhook hook;
	enum probe_family family;
	struct hooklat_slot *slots; /* nfhook: the slots map, mmapped */
	size_t slots_len;
	int sync_outer, sync_inner; /* for the grace period, see the top */
	int ncpu;
	struct hooklat_stats *pcpu; /* one per possible CPU */
	struct hooklat_start_key *stale; /* room for every key of starts */
	double window_start;
	char note[512];
};

static const char *const tracer_names[TRACER_COUNT] = { "auto", "fentry", "kprobe", "nfhook" };

bool probe_tracer_parse(const char *s, enum probe_tracer *out)
{
	for (int t = 0; t < TRACER_COUNT; t++)
		if (!strcmp(s, tracer_names[t])) {
			*out = (enum probe_tracer)t;
			return true;
		}
	return false;
}

const char *probe_tracer_name(enum probe_tracer t)
{
	return (unsigned)t < TRACER_COUNT ? tracer_names[t] : "?";
}

bool probe_family_parse(const char *s, enum probe_family *out)
{
	if (!strcasecmp(s, "ipv4") || !strcmp(s, "4"))
		*out = PROBE_IPV4;
	else if (!strcasecmp(s, "ipv6") || !strcmp(s, "6"))
		*out = PROBE_IPV6;
	else
		return false;
	return true;
}

const char *probe_family_name(enum probe_family f)
{
	return f == PROBE_IPV6 ? "ipv6" : "ipv4";
}

static uint32_t family_nfproto(enum probe_family f)
{
	return f == PROBE_IPV6 ? NFC_NFPROTO_IPV6 : NFC_NFPROTO_IPV4;
}

/* --- libbpf messages --- */

static bool verbose;
static bool print_installed;
/* The verifier's verdict from the last failed load (its log's last line),
 * kept even when quiet so that the reason can say it. */
static char verifier_said[200];

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

/* --- why a tracer cannot run here --- */

static void kernel_release(char *buf, size_t len)
{
	struct utsname u;

	snprintf(buf, len, "%s", uname(&u) ? "unknown" : u.release);
}

/* Checks what can be known without loading; 0 or -1 with a reason. */
static int precheck(enum probe_tracer t, const struct btf *btf, char *why, size_t len)
{
	char rel[128];

	if (!btf) {
		snprintf(why, len, "no kernel BTF (/sys/kernel/btf/vmlinux missing: the kernel "
			 "needs CONFIG_DEBUG_INFO_BTF)");
		return -1;
	}
	switch (t) {
	case TRACER_FENTRY:
		if (btf__find_by_name_kind(btf, "nf_hook_slow", BTF_KIND_FUNC) < 0) {
			snprintf(why, len, "missing symbol (nf_hook_slow is not in the kernel's BTF)");
			return -1;
		}
		return 0;
	case TRACER_KPROBE:
		if (access("/sys/bus/event_source/devices/kprobe", F_OK) &&
		    access("/sys/kernel/tracing/kprobe_events", F_OK) &&
		    access("/sys/kernel/debug/tracing/kprobe_events", F_OK)) {
			snprintf(why, len, "kernel has no kprobe support "
				 "(/sys/bus/event_source/devices/kprobe missing)");
			return -1;
		}
		if (!kernel_has_symbol("nf_hook_slow")) {
			snprintf(why, len, "missing symbol (nf_hook_slow is not in /proc/kallsyms)");
			return -1;
		}
		return 0;
	case TRACER_NFHOOK:
		if (btf__find_by_name_kind(btf, "bpf_nf_ctx", BTF_KIND_STRUCT) < 0) {
			kernel_release(rel, sizeof(rel));
			snprintf(why, len, "kernel too old (BPF netfilter programs need Linux >= 6.4, "
				 "this is %s)", rel);
			return -1;
		}
		return 0;
	default:
		snprintf(why, len, "not a tracer");
		return -1;
	}
}

static void explain_errno(enum probe_tracer t, const char *what, int err, char *why, size_t len)
{
	const char *name = strerrorname_np(err), *hint = strerror(err);
	char said[sizeof(verifier_said) + 32];

	if (err == EACCES && verifier_said[0]) {
		snprintf(said, sizeof(said), "verifier: %s", verifier_said);
		hint = said;
	} else if (err == EPERM || err == EACCES) {
		if (geteuid() != 0)
			hint = "tracing needs root";
		else if (t == TRACER_FENTRY)
			hint = "fentry programs not permitted here, lockdown or LSM";
		else if (t == TRACER_KPROBE)
			hint = "kprobes not permitted here, lockdown or LSM";
		else
			hint = "BPF not permitted here, lockdown or LSM";
	} else if (err == EINVAL && t == TRACER_NFHOOK) {
		hint = "kernel lacks BPF netfilter links";
	}
	snprintf(why, len, "%s refused (%s: %s)", what, name ? name : "?", hint);
}

/* --- loading --- */

static uint32_t hook_mask(enum nfhook h)
{
	return h == NFHOOK_ALL ? (1u << NFHOOK_COUNT) - 1 : 1u << h;
}

static int nf_link_create(int prog_fd, uint32_t pf, unsigned int hooknum, int priority)
{
	/* union bpf_attr's link_create with its netfilter member (6.4). */
	struct {
		__u32 prog_fd, target_fd, attach_type, flags;
		__u32 pf, hooknum;
		__s32 priority;
		__u32 nf_flags;
	} attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = NFC_ATTACH_NETFILTER;
	attr.pf = pf;
	attr.hooknum = hooknum;
	attr.priority = priority;
	return (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
}

/* Resets one statistics buffer on every CPU. */
static int reset_buf(struct probe *p, __u32 buf)
{
	memset(p->pcpu, 0, sizeof(*p->pcpu) * (size_t)p->ncpu);
	for (int c = 0; c < p->ncpu; c++)
		p->pcpu[c].min_ns = UINT64_MAX;
	return bpf_map_update_elem(bpf_map__fd(p->skel->maps.stats), &buf, p->pcpu, BPF_ANY)
		? -errno : 0;
}

static void detach_all(struct probe *p)
{
	/* Start programs first, so nothing new begins while ends still run. */
	for (int i = p->n_nf_links - 1; i >= 0; i--)
		close(p->nf_links[i]);
	p->n_nf_links = 0;
	if (p->skel) {
		bpf_link__destroy(p->skel->links.nfc_fentry);
		bpf_link__destroy(p->skel->links.nfc_kprobe);
		bpf_link__destroy(p->skel->links.nfc_fexit);
		bpf_link__destroy(p->skel->links.nfc_kretprobe);
		p->skel->links.nfc_fentry = p->skel->links.nfc_kprobe = NULL;
		p->skel->links.nfc_fexit = p->skel->links.nfc_kretprobe = NULL;
	}
}

static void unload(struct probe *p)
{
	detach_all(p);
	if (p->slots)
		munmap(p->slots, p->slots_len);
	p->slots = NULL;
	hooklat_bpf__destroy(p->skel);
	p->skel = NULL;
}

/* The split programs, bracket 1..PROBE_MAX_SPLITS at [0..]. */
static struct bpf_program *split_prog(struct hooklat_bpf *s, int i)
{
	struct bpf_program *progs[PROBE_MAX_SPLITS] = {
		s->progs.nfc_nf_split1, s->progs.nfc_nf_split2, s->progs.nfc_nf_split3,
		s->progs.nfc_nf_split4, s->progs.nfc_nf_split5, s->progs.nfc_nf_split6,
		s->progs.nfc_nf_split7, s->progs.nfc_nf_split8,
	};
	return progs[i];
}

static int attach_nfhook(struct probe *p, const struct probe_opts *o, char *why, size_t len)
{
	int first = bpf_program__fd(p->skel->progs.nfc_nf_first);
	int last = bpf_program__fd(p->skel->progs.nfc_nf_last);
	uint32_t mask = hook_mask(o->hook), pf = family_nfproto(o->family);
	int saved = -1, err = 0;

	/* A netfilter link lives in the namespace it is created in. */
	if (o->netns_path && netns_enter(o->netns_path, &saved)) {
		snprintf(why, len, "cannot enter network namespace %s: %s", o->netns_path,
			 strerror(errno));
		return -1;
	}
	/* Ends before starts (the last bracket, the splits from the last
	 * one down, then the first), so that no start is left without its
	 * end; a split that finds no start does nothing. */
	for (int pass = 0; pass < 2 + p->n_splits && !err; pass++)
		for (unsigned int h = 0; h < NFHOOK_COUNT && !err; h++) {
			int split = p->n_splits - pass, fd; /* pass 1..n: split index + 1 */

			if (!(mask & (1u << h)))
				continue;
			if (pass > 0 && split >= 0 && pass <= p->n_splits &&
			    !(p->split_hooks[split] & (1u << h)))
				continue;
			if (pass == 0)
				fd = nf_link_create(last, pf, h, NFC_PRI_LAST - 1);
			else if (split >= 0 && pass <= p->n_splits)
				fd = nf_link_create(bpf_program__fd(split_prog(p->skel, split)), pf,
						    h, p->splits[split]);
			else
				fd = nf_link_create(first, pf, h, NFC_PRI_FIRST + 1);
			if (fd < 0)
				err = errno;
			else
				p->nf_links[p->n_nf_links++] = fd;
		}
	if (saved >= 0)
		netns_leave(saved);
	if (err) {
		explain_errno(TRACER_NFHOOK, "netfilter link", err, why, len);
		return -1;
	}
	return 0;
}

static int attach_pair(struct probe *p, enum probe_tracer t, char *why, size_t len)
{
	struct hooklat_bpf *s = p->skel;
	struct bpf_link *l;

	/* The return side first: a call entered before its entry probe was
	 * attached must not pop a frame (kprobe) or leave a start (fentry). */
	if (t == TRACER_FENTRY) {
		l = bpf_program__attach_trace(s->progs.nfc_fexit);
		if (!l)
			goto fail;
		s->links.nfc_fexit = l;
		l = bpf_program__attach_trace(s->progs.nfc_fentry);
		if (!l)
			goto fail;
		s->links.nfc_fentry = l;
	} else {
		l = bpf_program__attach_kprobe(s->progs.nfc_kretprobe, true, "nf_hook_slow");
		if (!l)
			goto fail;
		s->links.nfc_kretprobe = l;
		l = bpf_program__attach_kprobe(s->progs.nfc_kprobe, false, "nf_hook_slow");
		if (!l)
			goto fail;
		s->links.nfc_kprobe = l;
	}
	return 0;
fail:
	explain_errno(t, "attach", errno, why, len);
	return -1;
}

/* Loads and attaches tracer t into p; -1 with a reason (without the
 * tracer's name) in why. */
static int try_tracer(struct probe *p, enum probe_tracer t, const struct probe_opts *o,
		      uint32_t netns_ino, const struct btf *btf, char *why, size_t len)
{
	struct hooklat_bpf *s;
	struct timespec ts;
	int err;

	if (precheck(t, btf, why, len))
		return -1;
	verifier_said[0] = '\0';
	s = p->skel = hooklat_bpf__open();
	if (!s) {
		snprintf(why, len, "cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	s->rodata->targ_netns = netns_ino;
	s->rodata->targ_hooks = hook_mask(o->hook);
	s->rodata->targ_pf = family_nfproto(o->family);
	s->rodata->by_comm = o->by_comm;
	s->rodata->n_splits = t == TRACER_NFHOOK ? (__u32)p->n_splits : 0;
	bpf_program__set_autoload(s->progs.nfc_fentry, t == TRACER_FENTRY);
	bpf_program__set_autoload(s->progs.nfc_fexit, t == TRACER_FENTRY);
	bpf_program__set_autoload(s->progs.nfc_kprobe, t == TRACER_KPROBE);
	bpf_program__set_autoload(s->progs.nfc_kretprobe, t == TRACER_KPROBE);
	bpf_program__set_autoload(s->progs.nfc_nf_first, t == TRACER_NFHOOK);
	bpf_program__set_autoload(s->progs.nfc_nf_last, t == TRACER_NFHOOK);
	for (int i = 0; i < PROBE_MAX_SPLITS; i++) {
		struct bpf_program *sp = split_prog(s, i);

		bpf_program__set_autoload(sp, t == TRACER_NFHOOK && i < p->n_splits);
		bpf_program__set_type(sp, NFC_PROG_TYPE_NETFILTER);
		bpf_program__set_expected_attach_type(sp,
						      (enum bpf_attach_type)NFC_ATTACH_NETFILTER);
	}
	if (t == TRACER_NFHOOK) {
		bpf_program__set_type(s->progs.nfc_nf_first, NFC_PROG_TYPE_NETFILTER);
		bpf_program__set_type(s->progs.nfc_nf_last, NFC_PROG_TYPE_NETFILTER);
		bpf_program__set_expected_attach_type(s->progs.nfc_nf_first,
						      (enum bpf_attach_type)NFC_ATTACH_NETFILTER);
		bpf_program__set_expected_attach_type(s->progs.nfc_nf_last,
						      (enum bpf_attach_type)NFC_ATTACH_NETFILTER);
	}
	/* Maps the chosen tracer never touches stay tiny. */
	if (t != TRACER_KPROBE)
		bpf_map__set_max_entries(s->maps.kstack, 1);
	if (t != TRACER_FENTRY)
		bpf_map__set_max_entries(s->maps.starts, 1);
	if (t != TRACER_NFHOOK)
		bpf_map__set_max_entries(s->maps.slots, 1);
	if (!o->by_comm)
		bpf_map__set_max_entries(s->maps.comms, 1);

	err = hooklat_bpf__load(s);
	if (err) {
		explain_errno(t, "load", -err, why, len);
		goto fail;
	}
	if ((err = reset_buf(p, 0)) || (err = reset_buf(p, 1))) {
		snprintf(why, len, "cannot reset the statistics map: %s", strerror(-err));
		goto fail;
	}
	if (t == TRACER_NFHOOK) {
		/* The reaper frees stale slots with the same atomic exchange
		 * the programs use, so it works on the map's own memory. */
		p->slots_len = sizeof(struct hooklat_slot) * HOOKLAT_SLOTS;
		p->slots = mmap(NULL, p->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				bpf_map__fd(s->maps.slots), 0);
		if (p->slots == MAP_FAILED) {
			p->slots = NULL;
			snprintf(why, len, "cannot map the in-flight table: %s", strerror(errno));
			goto fail;
		}
	}
	if (t == TRACER_NFHOOK ? attach_nfhook(p, o, why, len) : attach_pair(p, t, why, len))
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->bss->armed_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	p->tracer = t;
	return 0;
fail:
	unload(p);
	return -1;
}

int probe_pause(struct probe *p, bool paused, char *why, size_t whylen)
{
	struct probe_opts o = { .netns_path = p->netns_path_or_null, .hook = p->hook,
				.family = p->family };
	int rc;

	if (paused) {
		detach_all(p);
		return 0;
	}
	if (p->n_nf_links || p->skel->links.nfc_fentry || p->skel->links.nfc_kprobe)
		return 0; /* attached */
	rc = p->tracer == TRACER_NFHOOK ? attach_nfhook(p, &o, why, whylen)
					: attach_pair(p, p->tracer, why, whylen);
	if (rc)
		detach_all(p);
	return rc;
}

static void append_note(char *note, size_t len, enum probe_tracer t, const char *reason)
{
	size_t n = strlen(note);

	snprintf(note + n, len - n, "%s%s: %s", n ? "; " : "", probe_tracer_name(t), reason);
}

/* Split priorities: nfhook only, at most PROBE_MAX_SPLITS, strictly
 * ascending and strictly between the first and the last bracket. */
static int check_splits(const struct probe_opts *o, char *why, size_t len)
{
	if (o->n_splits == 0)
		return 0;
	if (o->n_splits < 0 || o->n_splits > PROBE_MAX_SPLITS || !o->split_priorities) {
		snprintf(why, len, "%d split priorities: give 1 to %d", o->n_splits,
			 PROBE_MAX_SPLITS);
		return -1;
	}
	if (o->tracer != TRACER_NFHOOK && o->tracer != TRACER_AUTO) {
		snprintf(why, len, "per-table brackets (split priorities) need the nfhook "
			 "tracer, not %s: use --tracer nfhook", probe_tracer_name(o->tracer));
		return -1;
	}
	for (int i = 0; i < o->n_splits; i++) {
		long long v = o->split_priorities[i];

		if (v <= (long long)NFC_PRI_FIRST + 1 || v >= (long long)NFC_PRI_LAST - 1) {
			snprintf(why, len, "split priority %lld is not strictly between %d and %d "
				 "(the probe's first and last programs)", v, NFC_PRI_FIRST + 1,
				 NFC_PRI_LAST - 1);
			return -1;
		}
		if (i && v <= o->split_priorities[i - 1]) {
			snprintf(why, len, "split priorities must be strictly ascending "
				 "(%d then %lld)", o->split_priorities[i - 1], v);
			return -1;
		}
	}
	return 0;
}

struct probe *probe_open(const struct probe_opts *opts, char *why, size_t whylen)
{
	struct bpf_map_create_opts mopts = { .sz = sizeof(mopts) };
	struct probe *p;
	struct btf *btf;
	uint64_t ino;
	char reason[256];
	__u32 zero = 0;

	if (!print_installed)
		probe_set_verbose(false);
	if (opts->tracer >= TRACER_COUNT || opts->hook > NFHOOK_ALL) {
		snprintf(why, whylen, "invalid probe options");
		return NULL;
	}
	if (check_splits(opts, why, whylen))
		return NULL;
	ino = netns_inode(opts->netns_path ? opts->netns_path : "/proc/self/ns/net");
	if (!ino) {
		snprintf(why, whylen, "cannot open network namespace %s: %s",
			 opts->netns_path ? opts->netns_path : "/proc/self/ns/net", strerror(errno));
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	p->sync_outer = p->sync_inner = -1;
	p->n_splits = opts->n_splits;
	if (opts->netns_path) {
		snprintf(p->netns_path, sizeof(p->netns_path), "%s", opts->netns_path);
		p->netns_path_or_null = p->netns_path;
	}
	p->hook = opts->hook;
	p->family = opts->family;
	for (int i = 0; i < opts->n_splits; i++) {
		p->splits[i] = opts->split_priorities[i];
		p->split_hooks[i] = opts->split_hooks ? opts->split_hooks[i] : ~0u;
	}
	p->ncpu = libbpf_num_possible_cpus();
	if (p->ncpu <= 0 || !(p->pcpu = calloc((size_t)p->ncpu, sizeof(*p->pcpu)))) {
		snprintf(why, whylen, "cannot size the per-CPU buffers");
		free(p);
		return NULL;
	}

	/* An array of maps only serves to make the kernel wait for an RCU
	 * grace period when its slot is written. */
	p->sync_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfc_sync_in", 4, 4, 1, NULL);
	mopts.inner_map_fd = (__u32)p->sync_inner;
	if (p->sync_inner >= 0)
		p->sync_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "nfc_sync", 4, 4, 1, &mopts);
	if (p->sync_outer < 0 ||
	    bpf_map_update_elem(p->sync_outer, &zero, &p->sync_inner, BPF_ANY)) {
		int e = errno;
		snprintf(why, whylen, "cannot create BPF maps: %s%s", strerror(e),
			 e == EPERM ? " (tracing needs root)" : "");
		probe_close(p);
		return NULL;
	}

	btf = btf__load_vmlinux_btf();
	if (opts->tracer == TRACER_AUTO) {
		for (int t = TRACER_FENTRY; t < TRACER_COUNT; t++) {
			if (p->n_splits && t != TRACER_NFHOOK) {
				append_note(p->note, sizeof(p->note), (enum probe_tracer)t,
					    "no per-table brackets (split priorities)");
				continue;
			}
			if (try_tracer(p, (enum probe_tracer)t, opts, (uint32_t)ino, btf, reason,
				       sizeof(reason)) == 0)
				break;
			append_note(p->note, sizeof(p->note), (enum probe_tracer)t, reason);
		}
		if (!p->skel)
			snprintf(why, whylen, "no tracer works on this kernel: %s", p->note);
	} else if (try_tracer(p, opts->tracer, opts, (uint32_t)ino, btf, reason,
			      sizeof(reason))) {
		snprintf(why, whylen, "tracer %s cannot run here: %s; %s",
			 probe_tracer_name(opts->tracer), reason,
			 opts->tracer == TRACER_NFHOOK ? "use --tracer fentry or kprobe"
						       : "use --tracer nfhook (or auto)");
	}
	btf__free(btf);
	if (!p->skel) {
		probe_close(p);
		return NULL;
	}
	p->window_start = now_monotonic();
	return p;
}

enum probe_tracer probe_tracer(const struct probe *p)
{
	return p->tracer;
}

const char *probe_selection_note(const struct probe *p)
{
	return p->note;
}

/* --- windows --- */

static int read_comms(struct probe *p, __u32 buf, struct probe_window *w)
{
	int fd = bpf_map__fd(p->skel->maps.comms);
	size_t max = bpf_map__max_entries(p->skel->maps.comms), n = 0;
	struct hooklat_comm_key *keys = calloc(max, sizeof(*keys)), cur, next;
	struct probe_comm *comms = calloc(max, sizeof(*comms));
	__u64 *vals = calloc((size_t)p->ncpu, sizeof(*vals));
	bool have = false;
	int err = 0;

	if (!keys || !comms || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* Collect first, delete after: deleting while walking restarts the walk. */
	while (n < max && bpf_map_get_next_key(fd, have ? &cur : NULL, &next) == 0) {
		if (next.buf == buf)
			keys[n++] = next;
		cur = next;
		have = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], vals))
			continue;
		memcpy(comms[i].comm, keys[i].comm, sizeof(comms[i].comm));
		comms[i].comm[sizeof(comms[i].comm) - 1] = '\0';
		for (int c = 0; c < p->ncpu; c++)
			comms[i].count += vals[c];
		bpf_map_delete_elem(fd, &keys[i]);
	}
	probe_window_keep_top_comms(w, comms, n);
out:
	free(keys);
	free(comms);
	free(vals);
	return err;
}

/* Starts older than HOOKLAT_STALE_NS belong to packets that never reached
 * the end (a hook dropped them, or the end was skipped): count and remove
 * them, so that drops show up within a window even when nothing reuses the
 * skb. A start the BPF side replaces between our lookup and delete makes
 * its packet an end without start, counted once more: rare and harmless.
 * nfhook: each also counts in lost_hook[] of the key's hook, since there a
 * stale start is a packet the hook never let out (fentry sees drops as
 * verdicts: its stale starts are skipped fexits, not lost packets). */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* nfhook: frees the slots claimed longer than HOOKLAT_STALE_NS ago. A start
 * writes ts[0] before it claims the slot, so a slot read as (key, old ts)
 * and still holding key at the exchange was not claimed again since: the
 * exchange fails when a start (which counts the old packet itself) or an
 * end took it first, and each lost packet counts once. */
static uint64_t reap_stale_slots(struct probe *p, uint64_t lost_hook[NFHOOK_COUNT])
{
	uint64_t now = now_ns(), n = 0;

	for (size_t i = 0; i < HOOKLAT_SLOTS; i++) {
		struct hooklat_slot *sl = &p->slots[i];
		uint64_t key = __atomic_load_n(&sl->key, __ATOMIC_ACQUIRE), ts;

		if (!key)
			continue;
		ts = __atomic_load_n(&sl->ts[0], __ATOMIC_ACQUIRE);
		if (ts + HOOKLAT_STALE_NS >= now)
			continue;
		if (!__atomic_compare_exchange_n(&sl->key, &key, 0, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		n++;
		if ((key & 7) < NFHOOK_COUNT)
			lost_hook[key & 7]++;
	}
	return n;
}

static uint64_t reap_stale(struct probe *p, uint64_t lost_hook[NFHOOK_COUNT])
{
	int fd = bpf_map__fd(p->skel->maps.starts);
	size_t max = bpf_map__max_entries(p->skel->maps.starts), n = 0;
	struct hooklat_start_key cur, next;
	struct timespec ts;
	bool have = false;
	__u64 now, start;

	if (p->tracer == TRACER_KPROBE)
		return 0; /* returns see drops; stale frames are reaped in BPF */
	if (p->tracer == TRACER_NFHOOK)
		return reap_stale_slots(p, lost_hook);
	if (!p->stale && !(p->stale = calloc(max, sizeof(*p->stale))))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	while (n < max && bpf_map_get_next_key(fd, have ? &cur : NULL, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &start) == 0 && start + HOOKLAT_STALE_NS < now)
			p->stale[n++] = next;
		cur = next;
		have = true;
	}
	for (size_t i = 0; i < n; i++) {
		bpf_map_delete_elem(fd, &p->stale[i]);
		if (p->tracer == TRACER_NFHOOK && p->stale[i].hook < NFHOOK_COUNT)
			lost_hook[p->stale[i].hook]++;
	}
	return n;
}

int probe_peek_hooks(struct probe *p, uint64_t entered[NFHOOK_COUNT],
		     uint64_t passed[NFHOOK_COUNT])
{
	__u32 cur = p->skel->bss->cur_buf & 1;

	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.stats), &cur, p->pcpu))
		return -errno;
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		entered[h] = passed[h] = 0;
		for (int c = 0; c < p->ncpu; c++) {
			entered[h] += p->pcpu[c].entered_hook[h];
			passed[h] += p->pcpu[c].hook_count[h];
		}
	}
	return 0;
}

int probe_read_window(struct probe *p, struct probe_window *w)
{
	__u32 old, zero = 0;
	double now;
	int err;

	memset(w, 0, sizeof(*w));
	now = now_monotonic();
	old = p->skel->bss->cur_buf & 1;
	__atomic_store_n(&p->skel->bss->cur_buf, old ^ 1, __ATOMIC_SEQ_CST);
	if (bpf_map_update_elem(p->sync_outer, &zero, &p->sync_inner, BPF_ANY))
		return -errno;
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.stats), &old, p->pcpu))
		return -errno;
	w->seconds = now - p->window_start;
	p->window_start = now;
	w->min_ns = UINT64_MAX;
	for (int c = 0; c < p->ncpu; c++) {
		const struct hooklat_stats *s = &p->pcpu[c];
		uint64_t count = 0;

		for (int h = 0; h < NFHOOK_COUNT; h++) {
			count += s->hook_count[h];
			w->hook_sum_ns[h] += s->hook_sum_ns[h];
			w->hook_segments[h] += s->hook_count[h] + s->extra_segs[h];
			w->segments += s->hook_count[h] + s->extra_segs[h];
			for (int k = 0; k <= p->n_splits; k++)
				w->part_sum_ns[h][k] += s->part_ns[h][k];
		}
		w->count += count;
		if (count && s->min_ns < w->min_ns)
			w->min_ns = s->min_ns;
		if (s->max_ns > w->max_ns)
			w->max_ns = s->max_ns;
		w->unmatched += s->unmatched;
		w->dropped += s->dropped;
		w->comm_other += s->comm_lost;
		for (int h = 0; h < NFHOOK_COUNT; h++) {
			w->hook_count[h] += s->hook_count[h];
			w->entered_hook[h] += s->entered_hook[h];
			w->lost_hook[h] += s->lost_hook[h];
		}
		for (int i = 0; i < HIST_SLOTS; i++)
			w->hist[i] += s->hist[i];
	}
	for (int h = 0; h < NFHOOK_COUNT; h++) {
		w->sum_ns += w->hook_sum_ns[h];
		if (!p->n_splits)
			w->part_sum_ns[h][0] = w->hook_sum_ns[h];
	}
	if ((err = reset_buf(p, old)))
		return err;
	w->unmatched += reap_stale(p, w->lost_hook);
	if (p->skel->rodata->by_comm && (err = read_comms(p, old, w)))
		return err;
	probe_window_compute(w);
	return 0;
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	unload(p);
	if (p->sync_outer >= 0)
		close(p->sync_outer);
	if (p->sync_inner >= 0)
		close(p->sync_inner);
	free(p->pcpu);
	free(p->stale);
	free(p);
}

/* --- output --- */

const char *probe_netns_label(const char *netns_path, char *buf, size_t len)
{
	uint64_t self, init;

	if (netns_path) {
		const char *slash = strrchr(netns_path, '/');
		snprintf(buf, len, "%s", slash && slash[1] ? slash + 1 : netns_path);
		return buf;
	}
	self = netns_inode("/proc/self/ns/net");
	init = netns_inode("/proc/1/ns/net");
	if (self && self == init)
		snprintf(buf, len, "host");
	else
		snprintf(buf, len, "net:[%llu]", (unsigned long long)self);
	return buf;
}

int probe_count_netfilter_links(void)
{
	/* BPF_LINK_TYPE_NETFILTER (6.4); Debian's 6.1 uapi headers lack it. */
	const __u32 link_type_netfilter = 10;
	__u32 id = 0;
	int n = 0;

	while (bpf_link_get_next_id(id, &id) == 0) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue; /* gone since: it does not count */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == link_type_netfilter)
			n++;
		close(fd);
	}
	return errno == ENOENT ? n : -1;
}
