/* tablelat: loads tablelat.bpf.c's programs on the table functions the
 * kernel has (ipt_do_table, nft_do_chain), and turns its per-CPU sums into
 * the time per (hook, table) between two reads. See tablelat.h. */
#include "probe/tablelat.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tablelat.skel.h"
#include "util/netns.h"
#include "util/util.h"

/* The cumulative sums of one (hook, table) at the previous read. */
struct tl_seen {
	struct tablelat_key key;
	uint64_t calls, ns;
};

struct tablelat {
	struct tablelat_bpf *skel;
	int ncpu;
	struct tablelat_val *pcpu; /* one per possible CPU */
	struct tl_seen seen[TABLELAT_MAX_TABLES];
	int n_seen;
	uint64_t lost_seen;
};

static void explain(const char *what, int e, struct nf_error *err)
{
	const char *name = strerrorname_np(e), *hint = strerror(e);

	if (e == EPERM || e == EACCES)
		hint = geteuid() ? "tracing needs root"
				 : "fentry programs not permitted here, lockdown or LSM";
	nf_fail(err, EXIT_RUNTIME, "fentry refused (%s at %s: %s): no per-table times",
		name ? name : "?", what, hint);
}

struct tablelat *tablelat_open(const char *netns_path, struct nf_error *err)
{
	const char *path = netns_path ? netns_path : "/proc/self/ns/net";
	bool xt = kernel_has_symbol("ipt_do_table"), nft = kernel_has_symbol("nft_do_chain");
	struct tablelat *t;
	struct tablelat_bpf *s;
	uint64_t ino;
	int rc;

	ino = netns_inode(path);
	if (!ino) {
		nf_fail(err, EXIT_RUNTIME, "cannot open network namespace %s: %s", path,
			strerror(errno));
		return NULL;
	}
	if (!xt && !nft) {
		nf_fail(err, EXIT_RUNTIME, "neither ipt_do_table nor nft_do_chain is in "
			"/proc/kallsyms (ip_tables and nf_tables not loaded): no table to time");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t || (t->ncpu = libbpf_num_possible_cpus()) <= 0 ||
	    !(t->pcpu = calloc((size_t)t->ncpu, sizeof(*t->pcpu)))) {
		nf_fail(err, EXIT_RUNTIME, "out of memory for the per-table tracer");
		tablelat_close(t);
		return NULL;
	}
	s = t->skel = tablelat_bpf__open();
	if (!s) {
		nf_fail(err, EXIT_RUNTIME, "cannot open the BPF object: %s", strerror(errno));
		tablelat_close(t);
		return NULL;
	}
	s->rodata->targ_netns = (__u32)ino;
	/* A function of a module not loaded has no BTF to attach to. */
	bpf_program__set_autoload(s->progs.nfc_tl_ipt_in, xt);
	bpf_program__set_autoload(s->progs.nfc_tl_ipt_out, xt);
	bpf_program__set_autoload(s->progs.nfc_tl_nft_in, nft);
	bpf_program__set_autoload(s->progs.nfc_tl_nft_out, nft);
	if ((rc = tablelat_bpf__load(s))) {
		explain("load", -rc, err);
		tablelat_close(t);
		return NULL;
	}
	/* Exits first, so that no entry is left without its exit; an exit
	 * without its entry (a call in flight now) counts as unmatched. */
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		bool on;
	} order[] = {
		{ s->progs.nfc_tl_ipt_out, &s->links.nfc_tl_ipt_out, xt },
		{ s->progs.nfc_tl_nft_out, &s->links.nfc_tl_nft_out, nft },
		{ s->progs.nfc_tl_ipt_in, &s->links.nfc_tl_ipt_in, xt },
		{ s->progs.nfc_tl_nft_in, &s->links.nfc_tl_nft_in, nft },
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!order[i].on)
			continue;
		*order[i].link = bpf_program__attach_trace(order[i].prog);
		if (!*order[i].link) {
			rc = errno;
			*order[i].link = NULL;
			explain("attach", rc, err);
			tablelat_close(t);
			return NULL;
		}
	}
	return t;
}

static uint64_t read_lost(struct tablelat *t)
{
	uint64_t sum = 0, v[t->ncpu > 0 ? t->ncpu : 1];

	for (__u32 i = 0; i < TABLELAT_LOST_N; i++)
		if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.tl_lost), &i, v) == 0)
			for (int c = 0; c < t->ncpu; c++)
				sum += v[c];
	return sum;
}

static void label_of(const struct tablelat_key *k, char *buf, size_t len)
{
	static const char *const fam[] = { [1] = "inet", [2] = "ip", [3] = "arp", [5] = "netdev",
					   [7] = "bridge", [10] = "ip6" };
	char name[TABLELAT_NAME_LEN + 1];

	snprintf(name, sizeof(name), "%.*s", TABLELAT_NAME_LEN, k->name);
	if (k->family == TABLELAT_XT)
		snprintf(buf, len, "%s", name);
	else if (k->family < sizeof(fam) / sizeof(fam[0]) && fam[k->family])
		snprintf(buf, len, "%s %s", fam[k->family], name);
	else
		snprintf(buf, len, "family%u %s", k->family, name);
}

int tablelat_read(struct tablelat *t, struct tablelat_part *out, int max, uint64_t *lost)
{
	int fd = bpf_map__fd(t->skel->maps.tables), n = 0;
	struct tablelat_key key, next, *prev = NULL;
	uint64_t l;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		uint64_t calls = 0, ns = 0;
		struct tl_seen *seen = NULL;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, t->pcpu))
			continue; /* entries are never deleted: cannot happen */
		for (int c = 0; c < t->ncpu; c++) {
			calls += t->pcpu[c].calls;
			ns += t->pcpu[c].ns;
		}
		for (int i = 0; i < t->n_seen && !seen; i++)
			if (!memcmp(&t->seen[i].key, &key, sizeof(key)))
				seen = &t->seen[i];
		if (!seen) {
			if (t->n_seen == TABLELAT_MAX_TABLES)
				continue; /* the map holds no more than that */
			seen = &t->seen[t->n_seen++];
			memset(seen, 0, sizeof(*seen));
			seen->key = key;
		}
		if ((calls > seen->calls || ns > seen->ns) && n < max && key.hook < NFHOOK_COUNT) {
			out[n].hook = (enum nfhook)key.hook;
			label_of(&key, out[n].label, sizeof(out[n].label));
			out[n].calls = calls - seen->calls;
			out[n].ns = ns - seen->ns;
			n++;
		}
		seen->calls = calls;
		seen->ns = ns;
	}
	if (errno != ENOENT)
		return -errno;
	l = read_lost(t);
	if (lost)
		*lost = l - t->lost_seen;
	t->lost_seen = l;
	return n;
}

void tablelat_close(struct tablelat *t)
{
	if (!t)
		return;
	tablelat_bpf__destroy(t->skel);
	free(t->pcpu);
	free(t);
}

int tablelat_count_loaded(void)
{
	__u32 id = 0;
	int n = 0;

	while (bpf_prog_get_next_id(id, &id) == 0) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue; /* gone since: it does not count */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    !strncmp(info.name, TABLELAT_PROG_PREFIX, strlen(TABLELAT_PROG_PREFIX)))
			n++;
		close(fd);
	}
	return errno == ENOENT ? n : -1;
}
