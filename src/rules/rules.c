/* rules: see rules.h. The text comes from render.c; the programs and
 * libnftables run through exec.h; nft's linear shapes and set elements
 * go as netlink batches (nftbatch.h) and are counted by nftcount.h. */
#include "rules/rules.h"

#include "rules/exec.h"
#include "rules/nftbatch.h"
#include "rules/nftcount.h"
#include "rules/pcapbpf.h"
#include "rules/render.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- running the programs --- */

/* A program of the backend's in the target's namespace; a failure is
 * nfcost's (EXIT_RUNTIME), prefixed with what it was doing. */
static int run(const struct rules_target *t, const char *what, char *const argv[],
	       const struct buf *input, struct buf *out, struct nf_error *err)
{
	int (*exec)(const char *, char *const[], const char *, size_t, struct buf *, int,
		    struct nf_error *) = rules_exec;

	if (input && input->len && !strncmp(argv[0], "iptables", 8) && strstr(argv[0], "-restore"))
		exec = rules_exec_restore;
	if (exec(t->netns_path, argv, input ? input->data : NULL, input ? input->len : 0, out,
		 EXIT_RUNTIME, err))
		return nf_error_prefix(err, "%s failed: ", what);
	return 0;
}

/* nft text nfcost wrote: a refusal is nfcost's failure, not the user's. */
static int nft(const struct rules_target *t, const char *text, unsigned int output_flags,
	       struct buf *out, struct nf_error *err)
{
	if (netns_nft(t->netns_path, text, 0, output_flags, out, err)) {
		if (err)
			err->status = EXIT_RUNTIME;
		return nf_error_prefix(err, "nft transaction failed: ");
	}
	return 0;
}

static char *restore_argv[BACKEND_COUNT][4] = {
	[BACKEND_IPTABLES_NFT] = { "iptables-nft-restore", "--noflush", "--wait", NULL },
	[BACKEND_IPTABLES_LEGACY] = { "iptables-legacy-restore", "--noflush", "--wait", NULL },
	[BACKEND_IPSET] = { "ipset", "restore", NULL, NULL },
};
static char *ipset_rule_argv[] = { "iptables-nft-restore", "--noflush", "--wait", NULL };

/* --- counting --- */

/* Rules in the hook's chain, only those with only_matching if given, never
 * the hit rule. */
static long ipt_count(const struct rules_target *t, bool legacy, const char *only_matching,
		      struct nf_error *err)
{
	char *argv[] = { legacy ? "iptables-legacy-save" : "iptables-nft-save", "-t", "filter", NULL };
	char hit[64] = "", prefix[32];
	struct buf out = { 0 };
	long n = 0;

	if (legacy && !rules_legacy_table_exists(t->netns_path, "filter"))
		return 0;
	/* iptables-nft keeps its rules in nf_tables (table ip filter): a dump
	 * counted as it is read, instead of iptables-nft-save's whole text. */
	if (!legacy && !only_matching && !t->hit_addr)
		return nftcount_rules(t->netns_path, "filter", nfhook_chain(t->hook), err);
	if (run(t, "listing the rules", argv, NULL, &out, err)) {
		buf_free(&out);
		return -1;
	}
	snprintf(prefix, sizeof(prefix), "-A %s ", nfhook_chain(t->hook));
	if (t->hit_addr)
		snprintf(hit, sizeof(hit), " -d %s/32 ", t->hit_addr);
	for (char *l = out.data; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(l, prefix, strlen(prefix)) &&
		    (!only_matching || strstr(l, only_matching)) && (!hit[0] || !strstr(l, hit)))
			n++;
		l = nl ? nl + 1 : NULL;
	}
	buf_free(&out);
	return n;
}

/* The set's entries and maxelem from `ipset list -t`: 1 when it exists, 0
 * when it does not, -1 with err when ipset cannot run. */
static int ipset_info(const struct rules_target *t, long *entries, long *maxelem,
		      struct nf_error *err)
{
	char *argv[] = { "ipset", "list", "-t", IPSET_NAME, NULL };
	struct buf out = { 0 };
	struct nf_error failed = { 0 };
	int exists = 0;

	*entries = *maxelem = 0;
	/* EXIT_USAGE marks "ran and failed": the set does not exist, so it
	 * holds nothing; EXIT_RUNTIME that ipset could not run. */
	if (rules_exec(t->netns_path, argv, NULL, 0, &out, EXIT_USAGE, &failed)) {
		if (failed.status == EXIT_RUNTIME)
			exists = nf_fail(err, EXIT_RUNTIME, "%s", failed.msg);
	} else {
		const char *p = out.data ? strstr(out.data, "Number of entries:") : NULL;
		const char *m = out.data ? strstr(out.data, " maxelem ") : NULL;
		*entries = p ? strtol(p + strlen("Number of entries:"), NULL, 10) : 0;
		*maxelem = m ? strtol(m + strlen(" maxelem "), NULL, 10) : 0;
		exists = 1;
	}
	buf_free(&out);
	return exists;
}

long rules_count(const struct rules_target *t, struct nf_error *err)
{
	long n, max;

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
		return ipt_count(t, false, NULL, err);
	case BACKEND_IPTABLES_LEGACY:
		return ipt_count(t, true, NULL, err);
	/* A netlink dump counted as it is read: constant memory at any size. */
	case BACKEND_NFT:
		return nftcount_rules(t->netns_path, NFT_TABLE, nfhook_option(t->hook), err);
	case BACKEND_NFT_SET:
		return nftcount_set_prefix(t->netns_path, NFT_SET_TABLE, NFT_SET_NAME, err);
	case BACKEND_IPSET:
		return ipset_info(t, &n, &max, err) < 0 ? -1 : n;
	default:
		return nf_fail(err, EXIT_USAGE, "unknown backend");
	}
}

/* --- checks before a change --- */

static int check_program(const struct rules_target *t, struct nf_error *err)
{
	const char *prog = rules_backend_program(t->backend);

	if (prog && !program_exists(prog))
		return nf_fail(err, EXIT_RUNTIME, "%s is not installed, the %s backend needs it: "
			       "run scripts/install-deps.sh", prog, rules_backend_name(t->backend));
	if (t->backend == BACKEND_IPSET && !program_exists("iptables-nft-restore"))
		return nf_fail(err, EXIT_RUNTIME, "iptables-nft-restore is not installed, the ipset "
			       "backend needs it: run scripts/install-deps.sh");
	return 0;
}

/* The bpf shape's rules carry bytecode: compiled from PCAPBPF_SHAPE_EXPR
 * (once per process) when the target names none; *t then points at copy. */
static int with_bytecode(const struct rules_target **t, struct rules_target *copy,
			 struct nf_error *err)
{
	static char *shape_bytecode;

	if ((*t)->shape != SHAPE_BPF || (*t)->bpf_bytecode)
		return 0;
	if (!shape_bytecode && pcapbpf_bytecode(PCAPBPF_SHAPE_EXPR, DLT_RAW, &shape_bytecode, err))
		return nf_error_prefix(err, "cannot compile the bpf shape's filter: ");
	*copy = **t;
	copy->bpf_bytecode = shape_bytecode;
	*t = copy;
	return 0;
}

/* What every change checks first: the shape fits the backend, its program
 * is there, the bpf shape has its bytecode (*t may then point at copy). */
static int change_checks(const struct rules_target **t, struct rules_target *copy,
			 struct nf_error *err)
{
	const char *why;

	if (!rules_shape_supported((*t)->backend, (*t)->shape, &why))
		return nf_fail(err, EXIT_USAGE, "shape %s with backend %s: %s",
			       rules_shape_name((*t)->shape), rules_backend_name((*t)->backend), why);
	if (check_program(*t, err) || with_bytecode(t, copy, err))
		return -1;
	return 0;
}

/* The rules added once (the set's rule, the hit rule) are missing. */
static bool base_missing(const struct rules_target *t)
{
	if (t->backend == BACKEND_NFT_SET)
		return nftcount_rules(t->netns_path, NFT_SET_TABLE, nfhook_option(t->hook), NULL) == 0;
	if (t->backend == BACKEND_IPSET)
		return ipt_count(t, false, "--match-set " IPSET_NAME " ", NULL) == 0;
	if (t->hit_addr && t->backend == BACKEND_NFT) {
		char chain[64];
		snprintf(chain, sizeof(chain), "%s_hit", nfhook_option(t->hook));
		return nftcount_rules(t->netns_path, NFT_TABLE, chain, NULL) == 0;
	}
	if (t->hit_addr) { /* iptables: a line with the hit address */
		struct rules_target all = *t;
		char hit[64];
		all.hit_addr = NULL;
		snprintf(hit, sizeof(hit), " -d %s/32 ", t->hit_addr);
		return ipt_count(&all, t->backend == BACKEND_IPTABLES_LEGACY, hit, NULL) == 0;
	}
	return false;
}

/* MemAvailable from /proc/meminfo in bytes, or 0 when unknown. */
static unsigned long long mem_available(void)
{
	char text[8192];
	const char *p;

	if (read_small_file("/proc/meminfo", text, sizeof(text)) < 0 ||
	    !(p = strstr(text, "MemAvailable:")))
		return 0;
	return strtoull(p + strlen("MemAvailable:"), NULL, 10) * 1024ULL;
}

/* Fail before the transaction, not after the machine ran out of memory. */
static int memory_fits(const struct rules_target *t, long count, const char *verb,
		       struct nf_error *err)
{
	unsigned long long need = rules_memory_estimate(t->backend, t->shape, count);
	unsigned long long avail = mem_available();

	if (avail && need > avail / 2)
		return nf_fail(err, EXIT_USAGE, "%s %ld %s rules in one transaction needs about "
			       "%llu MB and %llu MB are available: %s fewer at a time", verb, count,
			       rules_backend_name(t->backend), need >> 20, avail >> 20,
			       !strcmp(verb, "adding") ? "add" : "load");
	return 0;
}

/* --- ipset: all or nothing --- */

/* ipset restore is no transaction: it stops at the first element that
 * fails, keeping those before. What would not fit is refused up front, and
 * a failure still undone, so that an add is all or nothing. *exists:
 * whether the set is there already. */
static int ipset_fits(const struct rules_target *t, long count, bool *exists,
		      struct nf_error *err)
{
	long entries, maxelem;
	int e = ipset_info(t, &entries, &maxelem, err);

	if (e < 0)
		return -1;
	*exists = e == 1;
	if (*exists && maxelem > 0 && entries + count > maxelem)
		return nf_fail(err, EXIT_USAGE, "the ipset %s holds %ld elements and takes at most "
			       "%ld (its maxelem): %ld more do not fit; flush it first (nfcost rules "
			       "flush --backend ipset)", IPSET_NAME, entries, maxelem, count);
	return 0;
}

/* Deletes again the elements of body's lines before line upto (1-based;
 * 0: every line), which a failed `ipset restore` of body had added. */
static void ipset_undo(const struct rules_target *t, const char *body, long upto)
{
	static const char add[] = "add " IPSET_NAME " ";
	char *argv[] = { "ipset", "-exist", "restore", NULL };
	struct buf del = { 0 };
	long line = 1;

	for (const char *l = body; *l && (upto <= 0 || line < upto); line++) {
		size_t n = strcspn(l, "\n");
		if (!strncmp(l, add, strlen(add)))
			buf_printf(&del, "del %s %.*s\n", IPSET_NAME, (int)(n - strlen(add)),
				   l + strlen(add));
		l += n + (l[n] == '\n');
	}
	if (del.len)
		rules_exec(t->netns_path, argv, del.data, del.len, NULL, EXIT_RUNTIME, NULL);
	buf_free(&del);
}

static void ipset_destroy(const struct rules_target *t, const char *name)
{
	char *argv[] = { "ipset", "destroy", (char *)name, NULL };

	rules_exec(t->netns_path, argv, NULL, 0, NULL, EXIT_RUNTIME, NULL);
}

/* The rendered elements (text: rules_render's) into the set, and when
 * need_base the iptables rule that matches it. On failure nothing stays:
 * a set made here goes, a set that was there loses what was added. */
static int ipset_add(const struct rules_target *t, const struct buf *text, bool exists,
		     bool need_base, struct nf_error *err)
{
	struct buf body = { 0 }, rule = { 0 };
	/* A set that is there is taken as it is: no create line, whose
	 * parameters would have to match its own. */
	const char *from = exists ? strchr(text->data, '\n') + 1 : text->data;

	buf_append(&body, from, strlen(from));
	if (run(t, "adding the set elements", restore_argv[BACKEND_IPSET], &body, NULL, err)) {
		const char *at = err ? strstr(err->msg, "Error in line ") : NULL;
		long upto = at ? strtol(at + strlen("Error in line "), NULL, 10) : 0;
		if (err)
			snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
				 "; the set is as it was");
		if (exists)
			ipset_undo(t, body.data, upto);
		else
			ipset_destroy(t, IPSET_NAME);
		buf_free(&body);
		return -1;
	}
	if (need_base) {
		render_ipset_rule(t, "-A", &rule);
		if (run(t, "adding the set's iptables rule", ipset_rule_argv, &rule, NULL, err)) {
			if (exists) /* leave nothing half-applied */
				ipset_undo(t, body.data, 0);
			else
				ipset_destroy(t, IPSET_NAME);
			buf_free(&rule);
			buf_free(&body);
			return -1;
		}
	}
	buf_free(&rule);
	buf_free(&body);
	return 0;
}

/* --- adding --- */

/* nft-set's add: a set that does not exist yet is made first, empty,
 * through the text path (a sweep's step 0 does that on its own), then the
 * elements go as one netlink batch (libnftables would hold ~400 bytes per
 * element); if they fail, the table goes too, so nothing is left
 * half-applied. */
static int nft_set_add(const struct rules_target *t, long have, long count, bool need_base,
		       int *transactions, struct nf_error *err)
{
	struct buf text = { 0 };
	int rc = 0;

	if (need_base) {
		rules_render(t, have, 0, true, &text);
		rc = nft(t, text.data, 0, NULL, err);
		buf_free(&text);
		if (transactions)
			*transactions = 2;
	}
	if (rc == 0 && nftbatch_add_elements(t, NFT_SET_TABLE, NFT_SET_NAME, have, count, err)) {
		if (need_base)
			netns_nft(t->netns_path, "delete table ip " NFT_SET_TABLE "\n", 0, 0, NULL,
				  NULL);
		rc = -1;
	}
	return rc;
}

/* Which adds go as text (rendered before the clock starts): all but nft's
 * netlink batches. */
static bool add_as_text(const struct rules_target *t, long count)
{
	return !nftbatch_supported(t) && !(t->backend == BACKEND_NFT_SET && count > 0);
}

/* The transaction of an add whose checks passed; text: rules_render's,
 * when add_as_text. */
static int add_transaction(const struct rules_target *t, long have, long count, bool need_base,
			   bool set_exists, const struct buf *text, int *transactions,
			   struct nf_error *err)
{
	/* nft's linear shapes skip libnftables' parser: built as netlink
	 * messages, the same transaction costs a fraction (issue 2's target). */
	if (nftbatch_supported(t))
		return nftbatch_add(t, NFT_TABLE, have, count, need_base && t->hit_addr, err);
	if (t->backend == BACKEND_NFT_SET && count > 0)
		return nft_set_add(t, have, count, need_base, transactions, err);
	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
		return run(t, "applying the rules", restore_argv[t->backend], text, NULL, err);
	case BACKEND_NFT:
	case BACKEND_NFT_SET:
		return nft(t, text->data, 0, NULL, err);
	case BACKEND_IPSET:
		return ipset_add(t, text, set_exists, need_base, err);
	default:
		return nf_fail(err, EXIT_USAGE, "unknown backend");
	}
}

/* have < 0: count what is there first; else the caller knows (it added them).
 * prepare: with count 0, still make the table, chain, set and the rules
 * added once (see rules_prepare). */
static int add_rules(const struct rules_target *t, long have, long count, double *elapsed_ms,
		     bool prepare, int *transactions, struct nf_error *err)
{
	struct rules_target bpf_target;
	struct buf text = { 0 };
	bool need_base, set_exists = false;
	double t0;
	int rc;

	*elapsed_ms = 0;
	if (change_checks(&t, &bpf_target, err))
		return -1;
	if (have < 0 && (have = rules_count(t, err)) < 0)
		return -1;
	if (have + count > 0x0FFFFFFEL)
		return nf_fail(err, EXIT_USAGE, "240.0.0.0/4 has room for %ld rules: flush first",
			       0x0FFFFFFEL);
	need_base = base_missing(t);
	if (count == 0 && !(need_base && (t->hit_addr || prepare))) /* nothing is due */
		return 0;
	if (t->backend == BACKEND_IPSET && ipset_fits(t, count, &set_exists, err))
		return -1;
	if (add_as_text(t, count))
		rules_render(t, have, count, need_base, &text);
	t0 = now_monotonic();
	rc = add_transaction(t, have, count, need_base, set_exists, &text, transactions, err);
	*elapsed_ms = (now_monotonic() - t0) * 1000.0;
	buf_free(&text);
	return rc;
}

int rules_add(const struct rules_target *t, long have, long count, double *elapsed_ms,
	      int *transactions, struct nf_error *err)
{
	*elapsed_ms = 0;
	if (memory_fits(t, count, "adding", err))
		return -1;
	if (transactions)
		*transactions = 1;
	return add_rules(t, have, count, elapsed_ms, false, transactions, err);
}

/* --- loading --- */

/* ipset's own atomic replace: fill a fresh set, swap it in; on failure the
 * old set stays as it was and the new one goes. */
static int ipset_load(const struct rules_target *t, long count, struct nf_error *err)
{
	static const char add[] = "add " IPSET_NAME " ";
	struct buf rendered = { 0 }, text = { 0 };
	int rc;

	rules_render(t, 0, count, false, &rendered);
	buf_printf(&text, "create %s-new hash:ip family inet hashsize 1024 maxelem %ld -exist\n"
		   "flush %s-new\n", IPSET_NAME, 2 * RULES_MAX_COUNT, IPSET_NAME);
	for (char *l = rendered.data; l && *l;) { /* "add NAME ADDR" -> "add NAME-new ADDR" */
		char *nl = strchr(l, '\n');
		if (!strncmp(l, add, strlen(add)))
			buf_printf(&text, "add %s-new %.*s\n", IPSET_NAME,
				   (int)((nl ? nl : l + strlen(l)) - l - strlen(add)), l + strlen(add));
		l = nl ? nl + 1 : NULL;
	}
	buf_printf(&text, "swap %s-new %s\ndestroy %s-new\n", IPSET_NAME, IPSET_NAME, IPSET_NAME);
	rc = run(t, "loading the set elements", restore_argv[BACKEND_IPSET], &text, NULL, err);
	if (rc)
		ipset_destroy(t, IPSET_NAME "-new");
	buf_free(&rendered);
	buf_free(&text);
	return rc;
}

/* The flush-and-load transaction of rules_load, for a target whose base
 * (table, chain, set and its rule, hit rule) is in place. */
static int load_rules(const struct rules_target *t, long count, struct nf_error *err)
{
	struct buf rendered = { 0 }, text = { 0 };
	int rc;

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
		/* -F in the restore: the chain is emptied and refilled in one
		 * commit (legacy: one table replace; nft: one batch). The hit rule
		 * lives in the chain, so it is rendered again, last. */
		rules_render(t, 0, count, true, &rendered);
		buf_printf(&text, "*filter\n-F %s\n%s", nfhook_chain(t->hook),
			   rendered.data + strlen("*filter\n"));
		rc = run(t, "loading the rules", restore_argv[t->backend], &text, NULL, err);
		break;
	case BACKEND_NFT:
		if (nftbatch_supported(t)) {
			rc = nftbatch_replace(t, NFT_TABLE, count, false, err);
			break;
		}
		buf_printf(&text, "flush chain ip %s %s\n", NFT_TABLE, nfhook_option(t->hook));
		rules_render(t, 0, count, false, &text);
		rc = nft(t, text.data, 0, NULL, err);
		break;
	case BACKEND_NFT_SET:
		rc = nftbatch_replace_elements(t, NFT_SET_TABLE, NFT_SET_NAME, count, err);
		break;
	case BACKEND_IPSET:
		rc = ipset_load(t, count, err);
		break;
	default:
		rc = nf_fail(err, EXIT_USAGE, "unknown backend");
	}
	buf_free(&rendered);
	buf_free(&text);
	return rc;
}

int rules_load(const struct rules_target *t, long count, double *elapsed_ms,
	       struct nf_error *err)
{
	struct rules_target bpf_target;
	double t0;
	int rc;

	*elapsed_ms = 0;
	if (count < 0 || count > 0x0FFFFFFEL)
		return nf_fail(err, EXIT_USAGE, "240.0.0.0/4 has room for %ld rules, not %ld",
			       0x0FFFFFFEL, count);
	if (change_checks(&t, &bpf_target, err) || memory_fits(t, count, "loading", err))
		return -1;
	/* The parts added once come first, on their own: they are not the load. */
	if (base_missing(t) && rules_prepare(t, err))
		return -1;
	if (t->backend == BACKEND_NFT && !nftbatch_supported(t) && rules_prepare(t, err))
		return -1; /* the text path's flush needs the chain */
	t0 = now_monotonic();
	rc = load_rules(t, count, err);
	*elapsed_ms = (now_monotonic() - t0) * 1000.0;
	return rc;
}

int rules_prepare(const struct rules_target *t, struct nf_error *err)
{
	struct buf text = { 0 };
	double ms;
	int rc;

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
		if (check_program(t, err))
			return -1;
		/* Naming the built-in chain makes the table, and its hook, exist. */
		buf_printf(&text, "*filter\n:%s ACCEPT [0:0]\nCOMMIT\n", nfhook_chain(t->hook));
		rc = run(t, "creating the empty chain", restore_argv[t->backend], &text, NULL, err);
		break;
	case BACKEND_NFT:
		render_nft_base(NFT_TABLE, t->hook, &text);
		rc = nft(t, text.data, 0, NULL, err);
		break;
	default: /* sets: the table or iptables rule around an empty set */
		rc = add_rules(t, -1, 0, &ms, true, NULL, err);
		break;
	}
	buf_free(&text);
	if (rc == 0 && t->hit_addr)
		rc = add_rules(t, -1, 0, &ms, false, NULL, err);
	return rc;
}

/* --- flushing --- */

static int ipt_flush(const struct rules_target *t, struct nf_error *err)
{
	struct buf text = { 0 };
	int rc;

	if (t->backend == BACKEND_IPTABLES_NFT) {
		long n = ipt_count(t, false, NULL, err);
		if (n <= 0)
			return n < 0 ? -1 : 0;
		/* Dropping iptables-nft's table unregisters its hooks too, so the
		 * namespace is as it was. The ipset backend's rule lives there. */
		return nft(t, "delete table ip filter", 0, NULL, err);
	}
	if (!rules_legacy_table_exists(t->netns_path, "filter"))
		return 0;
	buf_printf(&text, "*filter\n-F %s\nCOMMIT\n", nfhook_chain(t->hook));
	rc = run(t, "flushing the rules", restore_argv[BACKEND_IPTABLES_LEGACY], &text, NULL, err);
	buf_free(&text);
	return rc;
}

static int ipset_flush(const struct rules_target *t, struct nf_error *err)
{
	long n, max;

	if (ipt_count(t, false, "--match-set " IPSET_NAME " ", NULL) > 0) {
		struct buf rule = { 0 };
		render_ipset_rule(t, "-D", &rule);
		int rc = run(t, "removing the set's iptables rule", ipset_rule_argv, &rule, NULL, err);
		buf_free(&rule);
		if (rc)
			return -1;
	}
	if (ipset_info(t, &n, &max, err) < 0)
		return -1;
	ipset_destroy(t, IPSET_NAME);
	return 0;
}

int rules_flush(const struct rules_target *t, struct nf_error *err)
{
	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
		return ipt_flush(t, err);
	case BACKEND_NFT:
	case BACKEND_NFT_SET:
		/* A missing table is already flushed. */
		netns_nft(t->netns_path,
			  t->backend == BACKEND_NFT ? "delete table ip " NFT_TABLE
						    : "delete table ip " NFT_SET_TABLE,
			  0, 0, NULL, NULL);
		return 0;
	case BACKEND_IPSET:
		return ipset_flush(t, err);
	default:
		return nf_fail(err, EXIT_USAGE, "unknown backend");
	}
}

/* --- the cost of changing one rule --- */

static double ms_since(double t0)
{
	return (now_monotonic() - t0) * 1000.0;
}

/* iptables and ipset: one restore program's run each way. */
static int update_restore(const struct rules_target *t, const char *addr, double *add_ms,
			  double *del_ms, struct nf_error *err)
{
	struct buf add = { 0 }, del = { 0 };
	const char *chain = nfhook_chain(t->hook);
	double t0;
	int rc;

	if (t->backend == BACKEND_IPSET) {
		buf_printf(&add, "add %s %s\n", IPSET_NAME, addr);
		buf_printf(&del, "del %s %s\n", IPSET_NAME, addr);
	} else {
		buf_printf(&add, "*filter\n-A %s", chain);
		render_ipt_matches(t, addr, &add);
		buf_printf(&add, " -j %s\nCOMMIT\n", render_ipt_verdict(t));
		buf_printf(&del, "*filter\n-D %s", chain);
		render_ipt_matches(t, addr, &del);
		buf_printf(&del, " -j %s\nCOMMIT\n", render_ipt_verdict(t));
	}
	t0 = now_monotonic();
	rc = run(t, "adding one rule", restore_argv[t->backend], &add, NULL, err);
	*add_ms = ms_since(t0);
	t0 = now_monotonic();
	if (rc == 0)
		rc = run(t, "deleting one rule", restore_argv[t->backend], &del, NULL, err);
	*del_ms = ms_since(t0);
	buf_free(&add);
	buf_free(&del);
	return rc;
}

/* nft text: the kernel echoes the new rule's handle; delete by handle, as
 * nft does. */
static int update_nft_text(const struct rules_target *t, const char *addr, double *add_ms,
			   double *del_ms, struct nf_error *err)
{
	struct buf add = { 0 }, del = { 0 }, out = { 0 };
	const char *handle;
	double t0;
	int rc;

	buf_printf(&add, "add rule ip %s %s", NFT_TABLE, nfhook_option(t->hook));
	render_nft_matches(t, addr, &add);
	buf_printf(&add, " %s\n", render_nft_verdict(t));
	t0 = now_monotonic();
	rc = nft(t, add.data, NFT_CTX_OUTPUT_ECHO | NFT_CTX_OUTPUT_HANDLE, &out, err);
	*add_ms = ms_since(t0);
	handle = out.data ? strstr(out.data, "# handle ") : NULL;
	if (rc == 0 && !handle)
		rc = nf_fail(err, EXIT_RUNTIME, "nft did not echo the new rule's handle");
	if (rc == 0) {
		buf_printf(&del, "delete rule ip %s %s handle %ld\n", NFT_TABLE,
			   nfhook_option(t->hook), strtol(handle + 9, NULL, 10));
		t0 = now_monotonic();
		rc = nft(t, del.data, 0, NULL, err);
		*del_ms = ms_since(t0);
	}
	buf_free(&add);
	buf_free(&del);
	buf_free(&out);
	return rc;
}

/* Adds the rule of index i and deletes it again, each as one transaction
 * of the backend's own kind (a restore program's run, an nft command, a
 * netlink batch, a set element), timing both. */
static int update_once(const struct rules_target *t, long i, double *add_ms, double *del_ms,
		       struct nf_error *err)
{
	char addr[32];
	double t0;
	uint64_t h = 0;
	int rc;

	rules_address(i, addr, sizeof(addr));
	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
	case BACKEND_IPSET:
		return update_restore(t, addr, add_ms, del_ms, err);
	case BACKEND_NFT:
		if (!nftbatch_supported(t))
			return update_nft_text(t, addr, add_ms, del_ms, err);
		/* One netlink batch each way, as the rules were added: the
		 * kernel's cost, not libnftables' cache of the whole set. */
		t0 = now_monotonic();
		rc = nftbatch_add_one(t, NFT_TABLE, i, &h, err);
		*add_ms = ms_since(t0);
		t0 = now_monotonic();
		if (rc == 0)
			rc = nftbatch_delete_rule(t, NFT_TABLE, h, err);
		*del_ms = ms_since(t0);
		return rc;
	case BACKEND_NFT_SET: /* one element, one netlink batch each way */
		t0 = now_monotonic();
		rc = nftbatch_set_element(t, NFT_SET_TABLE, NFT_SET_NAME, i, true, err);
		*add_ms = ms_since(t0);
		t0 = now_monotonic();
		if (rc == 0)
			rc = nftbatch_set_element(t, NFT_SET_TABLE, NFT_SET_NAME, i, false, err);
		*del_ms = ms_since(t0);
		return rc;
	default:
		return nf_fail(err, EXIT_USAGE, "unknown backend");
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int rules_update_cost(const struct rules_target *t, long have, int reps, double *add_ms,
		      double *del_ms, struct nf_error *err)
{
	double adds[RULES_UPDATE_MAX_REPS], dels[RULES_UPDATE_MAX_REPS];
	struct rules_target copy;

	if (reps < 1 || reps > RULES_UPDATE_MAX_REPS)
		return nf_fail(err, EXIT_USAGE, "the update cost takes 1 to %d repetitions, not %d",
			       RULES_UPDATE_MAX_REPS, reps);
	if (with_bytecode(&t, &copy, err))
		return -1;
	for (int r = 0; r < reps; r++)
		if (update_once(t, have, &adds[r], &dels[r], err))
			return -1;
	qsort(adds, (size_t)reps, sizeof(double), cmp_double);
	qsort(dels, (size_t)reps, sizeof(double), cmp_double);
	/* The median: one slow transaction (a page fault, a preemption) moves it little. */
	*add_ms = reps % 2 ? adds[reps / 2] : (adds[reps / 2 - 1] + adds[reps / 2]) / 2;
	*del_ms = reps % 2 ? dels[reps / 2] : (dels[reps / 2 - 1] + dels[reps / 2]) / 2;
	return 0;
}
