/* probe: loads one tracer of hooklat.bpf.c and attaches it (the windows
 * are probe_read.c's, the reasons a tracer cannot run probe_why.c's). See
 * probe.h. */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe_internal.h"
#include "hooklat.skel.h" /* named here too: the Makefile finds skeleton users by it */
#include "util/netns.h"
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
_Static_assert(PROBE_CLASSES == HOOKLAT_CLASSES && PROBE_CLASS_FIRST == HOOKLAT_CLASS_FIRST &&
	       PROBE_CLASS_ESTABLISHED == HOOKLAT_CLASS_ESTABLISHED &&
	       PROBE_CLASS_REPLY == HOOKLAT_CLASS_REPLY, "one class order, two names");

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

static int attach_nfhook(struct probe *p, const struct probe_opts *o, struct nf_error *e)
{
	int first = bpf_program__fd(p->skel->progs.nfc_nf_first);
	int last = bpf_program__fd(p->skel->progs.nfc_nf_last);
	uint32_t mask = hook_mask(o->hook), pf = family_nfproto(o->family);
	int saved = -1, err = 0;

	/* A netfilter link lives in the namespace it is created in. */
	if (o->netns_path && netns_enter(o->netns_path, &saved))
		return nf_fail(e, EXIT_RUNTIME, "cannot enter network namespace %s: %s",
			       o->netns_path, strerror(errno));
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
	if (err)
		return probe_explain_errno(TRACER_NFHOOK, "netfilter link", err, e);
	return 0;
}

static int attach_pair(struct probe *p, enum probe_tracer t, struct nf_error *e)
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
	return probe_explain_errno(t, "attach", errno, e);
}

/* Which programs load, with which type, and the map sizes the chosen
 * tracer needs (the others stay tiny). */
static void choose_programs(struct hooklat_bpf *s, enum probe_tracer t, int n_splits,
			    bool by_comm)
{
	struct bpf_program *nf[2] = { s->progs.nfc_nf_first, s->progs.nfc_nf_last };

	bpf_program__set_autoload(s->progs.nfc_fentry, t == TRACER_FENTRY);
	bpf_program__set_autoload(s->progs.nfc_fexit, t == TRACER_FENTRY);
	bpf_program__set_autoload(s->progs.nfc_kprobe, t == TRACER_KPROBE);
	bpf_program__set_autoload(s->progs.nfc_kretprobe, t == TRACER_KPROBE);
	for (int i = 0; i < 2 + PROBE_MAX_SPLITS; i++) {
		struct bpf_program *prog = i < 2 ? nf[i] : split_prog(s, i - 2);

		bpf_program__set_autoload(prog, t == TRACER_NFHOOK && (i < 2 || i - 2 < n_splits));
		bpf_program__set_type(prog, NFC_PROG_TYPE_NETFILTER);
		bpf_program__set_expected_attach_type(prog,
						      (enum bpf_attach_type)NFC_ATTACH_NETFILTER);
	}
	if (t != TRACER_KPROBE)
		bpf_map__set_max_entries(s->maps.kstack, 1);
	if (t != TRACER_FENTRY)
		bpf_map__set_max_entries(s->maps.starts, 1);
	if (t != TRACER_NFHOOK)
		bpf_map__set_max_entries(s->maps.slots, 1);
	if (!by_comm)
		bpf_map__set_max_entries(s->maps.comms, 1);
}

/* nfhook: the reaper frees stale slots with the same atomic exchange the
 * programs use, so it works on the map's own memory. */
static int map_slots(struct probe *p, struct nf_error *e)
{
	p->slots_len = sizeof(struct hooklat_slot) * HOOKLAT_SLOTS;
	p->slots = mmap(NULL, p->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(p->skel->maps.slots), 0);
	if (p->slots != MAP_FAILED)
		return 0;
	p->slots = NULL;
	return probe_explain_errno(TRACER_NFHOOK, "mapping the in-flight table", errno, e);
}

/* Loads and attaches tracer t into p; -1 with a reason (without the
 * tracer's name) in e. */
static int try_tracer(struct probe *p, enum probe_tracer t, const struct probe_opts *o,
		      uint32_t netns_ino, const struct btf *btf, int btf_errno,
		      struct nf_error *e)
{
	struct hooklat_bpf *s;
	struct timespec ts;
	int err;

	probe_forget_verifier();
	if (probe_precheck(t, btf, btf_errno, e))
		return -1;
	s = p->skel = hooklat_bpf__open();
	if (!s)
		return probe_explain_errno(t, "opening the BPF object", errno, e);
	s->rodata->targ_netns = netns_ino;
	s->rodata->targ_hooks = hook_mask(o->hook);
	s->rodata->targ_pf = family_nfproto(o->family);
	s->rodata->by_comm = o->by_comm;
	s->rodata->n_splits = t == TRACER_NFHOOK ? (__u32)p->n_splits : 0;
	s->rodata->sample_every = p->sample_every;
	choose_programs(s, t, p->n_splits, o->by_comm);
	err = hooklat_bpf__load(s);
	if (err) {
		probe_explain_errno(t, "load", -err, e);
		goto fail;
	}
	if ((err = probe_reset_buf(p, 0)) || (err = probe_reset_buf(p, 1))) {
		probe_explain_errno(t, "resetting the statistics maps", -err, e);
		goto fail;
	}
	if (t == TRACER_NFHOOK && map_slots(p, e))
		goto fail;
	if (t == TRACER_NFHOOK ? attach_nfhook(p, o, e) : attach_pair(p, t, e))
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->bss->armed_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	p->tracer = t;
	return 0;
fail:
	unload(p);
	return -1;
}

int probe_pause(struct probe *p, bool paused, struct nf_error *e)
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
	rc = p->tracer == TRACER_NFHOOK ? attach_nfhook(p, &o, e) : attach_pair(p, p->tracer, e);
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
static int check_splits(const struct probe_opts *o, struct nf_error *e)
{
	if (o->n_splits == 0)
		return 0;
	if (o->n_splits < 0 || o->n_splits > PROBE_MAX_SPLITS || !o->split_priorities)
		return nf_fail(e, EXIT_USAGE, "%d split priorities: give 1 to %d", o->n_splits,
			       PROBE_MAX_SPLITS);
	if (o->tracer != TRACER_NFHOOK && o->tracer != TRACER_AUTO)
		return nf_fail(e, EXIT_USAGE, "per-table brackets (split priorities) need the "
			       "nfhook tracer, not %s: use --tracer nfhook",
			       probe_tracer_name(o->tracer));
	for (int i = 0; i < o->n_splits; i++) {
		long long v = o->split_priorities[i];

		if (v <= (long long)NFC_PRI_FIRST + 1 || v >= (long long)NFC_PRI_LAST - 1)
			return nf_fail(e, EXIT_USAGE, "split priority %lld is not strictly between "
				       "%d and %d (the probe's first and last programs)", v,
				       NFC_PRI_FIRST + 1, NFC_PRI_LAST - 1);
		if (i && v <= o->split_priorities[i - 1])
			return nf_fail(e, EXIT_USAGE, "split priorities must be strictly ascending "
				       "(%d then %lld)", o->split_priorities[i - 1], v);
	}
	return 0;
}

/* A struct probe with the options copied in and the per-CPU buffers, or
 * NULL with the reason in e. */
static struct probe *probe_alloc(const struct probe_opts *o, struct nf_error *e)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (!p) {
		nf_fail(e, EXIT_RUNTIME, "out of memory for the probe");
		return NULL;
	}
	p->sync_outer = p->sync_inner = -1;
	p->n_splits = o->n_splits;
	p->sample_every = o->sample_every > 1 ? o->sample_every : 1;
	if (o->netns_path) {
		snprintf(p->netns_path, sizeof(p->netns_path), "%s", o->netns_path);
		p->netns_path_or_null = p->netns_path;
	}
	p->hook = o->hook;
	p->family = o->family;
	for (int i = 0; i < o->n_splits; i++) {
		p->splits[i] = o->split_priorities[i];
		p->split_hooks[i] = o->split_hooks ? o->split_hooks[i] : ~0u;
	}
	p->ncpu = libbpf_num_possible_cpus();
	if (p->ncpu <= 0 || !(p->pcpu = calloc((size_t)p->ncpu, sizeof(*p->pcpu))) ||
	    !(p->lat = calloc((size_t)p->ncpu, sizeof(*p->lat))) ||
	    !(p->seen = calloc((size_t)p->ncpu, sizeof(*p->seen)))) {
		nf_fail(e, EXIT_RUNTIME, "cannot size the per-CPU buffers: %s",
			p->ncpu <= 0 ? strerror(-p->ncpu) : "out of memory");
		probe_close(p);
		return NULL;
	}
	return p;
}

/* An array of maps only serves to make the kernel wait for an RCU grace
 * period when its slot is written (probe_read.c). */
static int make_sync_maps(struct probe *p, struct nf_error *e)
{
	struct bpf_map_create_opts mopts = { .sz = sizeof(mopts) };
	__u32 zero = 0;

	p->sync_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfc_sync_in", 4, 4, 1, NULL);
	mopts.inner_map_fd = (__u32)p->sync_inner;
	if (p->sync_inner >= 0)
		p->sync_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "nfc_sync", 4, 4, 1, &mopts);
	if (p->sync_outer < 0 ||
	    bpf_map_update_elem(p->sync_outer, &zero, &p->sync_inner, BPF_ANY))
		return probe_explain_errno(TRACER_AUTO, "creating BPF maps", errno, e);
	return 0;
}

/* --tracer auto: the first tracer that loads and attaches, the others'
 * reasons in p->note. A resource limit stops the search: every tracer
 * would hit it, and the kernel is not what lacks something. */
static int try_auto(struct probe *p, const struct probe_opts *o, uint32_t ino,
		    const struct btf *btf, int btf_errno, struct nf_error *e)
{
	struct nf_error why = { 0 };

	for (int t = TRACER_FENTRY; t < TRACER_COUNT; t++) {
		if (p->n_splits && t != TRACER_NFHOOK) {
			append_note(p->note, sizeof(p->note), (enum probe_tracer)t,
				    "no per-table brackets (split priorities)");
			continue;
		}
		errno = 0;
		if (try_tracer(p, (enum probe_tracer)t, o, ino, btf, btf_errno, &why) == 0)
			return 0;
		if (probe_failed_on_limit())
			return nf_fail(e, EXIT_RUNTIME, "%s", why.msg);
		append_note(p->note, sizeof(p->note), (enum probe_tracer)t, why.msg);
	}
	return nf_fail(e, EXIT_RUNTIME, "no tracer works on this kernel: %s", p->note);
}

/* The reason an explicitly chosen tracer failed, with what to try instead
 * (unless a resource limit, which no other tracer escapes). */
static void explicit_failed(enum probe_tracer t, struct nf_error *e)
{
	char reason[NF_ERROR_LEN];

	snprintf(reason, sizeof(reason), "%s", e->msg);
	nf_fail(e, EXIT_RUNTIME, "tracer %s cannot run here: %s%s", probe_tracer_name(t), reason,
		probe_failed_on_limit() ? ""
		: t == TRACER_NFHOOK ? "; use --tracer fentry or kprobe"
				     : "; use --tracer nfhook (or auto)");
}

struct probe *probe_open(const struct probe_opts *opts, struct nf_error *e)
{
	struct probe *p;
	struct btf *btf;
	uint64_t ino;
	int btf_errno, rc;

	probe_install_print();
	if (opts->tracer >= TRACER_COUNT || opts->hook > NFHOOK_ALL) {
		nf_fail(e, EXIT_USAGE, "invalid probe options (tracer %d, hook %d)",
			(int)opts->tracer, (int)opts->hook);
		return NULL;
	}
	if (opts->sample_every > PROBE_SAMPLE_MAX) {
		nf_fail(e, EXIT_USAGE, "sampling one packet in %u: give 1 to %u",
			opts->sample_every, PROBE_SAMPLE_MAX);
		return NULL;
	}
	if (check_splits(opts, e))
		return NULL;
	ino = netns_inode(opts->netns_path ? opts->netns_path : "/proc/self/ns/net");
	if (!ino) {
		nf_fail(e, EXIT_RUNTIME, "cannot open network namespace %s: %s",
			opts->netns_path ? opts->netns_path : "/proc/self/ns/net", strerror(errno));
		return NULL;
	}
	/* Maps, programs, BTF and libbpf's probes (~14), and the links. */
	if (probe_check_fd_room(14 + (2 + opts->n_splits) * (opts->hook == NFHOOK_ALL ? 5 : 1), e))
		return NULL;
	if (!(p = probe_alloc(opts, e)))
		return NULL;
	if (make_sync_maps(p, e)) {
		probe_close(p);
		return NULL;
	}
	errno = 0;
	btf = btf__load_vmlinux_btf();
	btf_errno = btf ? 0 : (errno ? errno : ENOENT);
	if (opts->tracer == TRACER_AUTO)
		rc = try_auto(p, opts, (uint32_t)ino, btf, btf_errno, e);
	else if ((rc = try_tracer(p, opts->tracer, opts, (uint32_t)ino, btf, btf_errno, e)))
		explicit_failed(opts->tracer, e);
	btf__free(btf);
	if (rc) {
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

unsigned int probe_sample_every(const struct probe *p)
{
	return p->sample_every;
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
	free(p->lat);
	free(p->seen);
	free(p->stale);
	free(p);
}
