#include "rules/rules.h"

#include "rules/nftbatch.h"
#include "rules/nftcount.h"
#include "rules/pcapbpf.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFT_TABLE "nfcost"
#define NFT_SET_TABLE "nfcost_set"
#define NFT_SET_NAME "blocked"
#define IPSET_NAME "nfcost-blocked"

static void multiport_list(char *buf, size_t len, const char *sep)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < RULES_MULTIPORT_PORTS && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? sep : "",
				      RULES_BLOCKED_PORT + 1000 * i);
}

/* iptables match text for one rule of the shape (after "-A CHAIN"). */
static void ipt_matches(const struct rules_target *t, const char *addr, struct buf *out)
{
	char ports[128];

	switch (t->shape) {
	case SHAPE_ADDR:
		buf_printf(out, " -d %s/32", addr);
		break;
	case SHAPE_ADDR_PORT:
		buf_printf(out, " -p tcp -m tcp --dport %d -m iprange --dst-range %s",
			   RULES_BLOCKED_PORT, addr);
		break;
	case SHAPE_MULTIPORT:
		multiport_list(ports, sizeof(ports), ",");
		buf_printf(out, " -p tcp -m multiport --dports %s -m iprange --dst-range %s", ports,
			   addr);
		break;
	case SHAPE_LAB:
		/* The lab's rule as written: -d lives in the rule header. */
		buf_printf(out, " -d %s/32 -p tcp -m tcp --dport %d", addr, RULES_BLOCKED_PORT);
		break;
	case SHAPE_BPF:
		/* The program itself holds the never-matching test; a -d here would
		 * reject packets before xt_bpf ever ran. */
		buf_printf(out, " -m bpf --bytecode \"%s\"", t->bpf_bytecode);
		break;
	default:
		break;
	}
}

static void nft_matches(const struct rules_target *t, const char *daddr, struct buf *out)
{
	char ports[128];

	/* nft evaluates in the order written: the address last, as in iptables,
	 * but for the lab's own rule, which names it first. */
	if (t->shape == SHAPE_LAB) {
		buf_printf(out, " ip daddr %s tcp dport %d", daddr, RULES_BLOCKED_PORT);
		return;
	}
	if (t->shape == SHAPE_ADDR_PORT) {
		buf_printf(out, " tcp dport %d", RULES_BLOCKED_PORT);
	} else if (t->shape == SHAPE_MULTIPORT) {
		multiport_list(ports, sizeof(ports), ", ");
		buf_printf(out, " tcp dport { %s }", ports);
	}
	buf_printf(out, " ip daddr %s", daddr);
}

static void nft_base(const char *table, enum nfhook hook, struct buf *out)
{
	/* "add" is idempotent: the table and chain stay if they exist. */
	buf_printf(out, "add table ip %s\n", table);
	buf_printf(out, "add chain ip %s %s { type filter hook %s priority 0; policy accept; }\n",
		   table, nfhook_option(hook), nfhook_option(hook));
}

static const char *ipt_verdict(const struct rules_target *t)
{
	return t->accept ? "ACCEPT" : "DROP";
}

static const char *nft_verdict(const struct rules_target *t)
{
	return t->accept ? "accept" : "drop";
}

/* nft keeps the hit rule in a base chain of its own that runs after ours
 * (priority 1), so it stays the last rule whatever we add later. */
static void nft_hit(const struct rules_target *t, const char *table, bool need_base,
		    struct buf *out)
{
	if (!t->hit_addr || !need_base)
		return;
	buf_printf(out, "add chain ip %s %s_hit { type filter hook %s priority 1; policy accept; }\n",
		   table, nfhook_option(t->hook), nfhook_option(t->hook));
	buf_printf(out, "add rule ip %s %s_hit ip daddr %s %s\n", table, nfhook_option(t->hook),
		   t->hit_addr, nft_verdict(t));
}

void rules_render(const struct rules_target *t, long first, long count, bool need_base,
		  struct buf *out)
{
	char addr[32];

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
		buf_printf(out, "*filter\n");
		for (long i = first; i < first + count; i++) {
			rules_address(i, addr, sizeof(addr));
			/* Once the hit rule is there, new rules go in before it. */
			if (t->hit_addr && !need_base)
				buf_printf(out, "-I %s %ld", nfhook_chain(t->hook), i + 1);
			else
				buf_printf(out, "-A %s", nfhook_chain(t->hook));
			ipt_matches(t, addr, out);
			buf_printf(out, " -j %s\n", ipt_verdict(t));
		}
		if (t->hit_addr && need_base)
			buf_printf(out, "-A %s -d %s/32 -j %s\n", nfhook_chain(t->hook), t->hit_addr,
				   ipt_verdict(t));
		buf_printf(out, "COMMIT\n");
		break;
	case BACKEND_NFT:
		nft_base(NFT_TABLE, t->hook, out);
		nft_hit(t, NFT_TABLE, need_base, out);
		for (long i = first; i < first + count; i++) {
			rules_address(i, addr, sizeof(addr));
			buf_printf(out, "add rule ip %s %s", NFT_TABLE, nfhook_option(t->hook));
			nft_matches(t, addr, out);
			buf_printf(out, " %s\n", nft_verdict(t));
		}
		break;
	case BACKEND_NFT_SET:
		nft_base(NFT_SET_TABLE, t->hook, out);
		nft_hit(t, NFT_SET_TABLE, need_base, out);
		buf_printf(out, "add set ip %s %s { type ipv4_addr; }\n", NFT_SET_TABLE, NFT_SET_NAME);
		if (need_base) {
			buf_printf(out, "add rule ip %s %s", NFT_SET_TABLE, nfhook_option(t->hook));
			nft_matches(t, "@" NFT_SET_NAME, out);
			buf_printf(out, " %s\n", nft_verdict(t));
		}
		/* Elements in chunks: one transaction still, but no giant line. */
		for (long i = first; i < first + count; i += 1000) {
			buf_printf(out, "add element ip %s %s { ", NFT_SET_TABLE, NFT_SET_NAME);
			for (long j = i; j < first + count && j < i + 1000; j++) {
				rules_address(j, addr, sizeof(addr));
				buf_printf(out, "%s%s", j > i ? ", " : "", addr);
			}
			buf_printf(out, " }\n");
		}
		break;
	case BACKEND_IPSET:
		buf_printf(out, "create %s hash:ip family inet hashsize 1024 maxelem %ld -exist\n",
			   IPSET_NAME, 2 * RULES_MAX_COUNT);
		for (long i = first; i < first + count; i++) {
			rules_address(i, addr, sizeof(addr));
			buf_printf(out, "add %s %s\n", IPSET_NAME, addr);
		}
		break;
	default:
		break;
	}
}

/* The single iptables rule that matches the ipset, in iptables-restore form. */
static void ipset_rule(const struct rules_target *t, const char *op, struct buf *out)
{
	char ports[128];

	buf_printf(out, "*filter\n%s %s", op, nfhook_chain(t->hook));
	switch (t->shape) {
	case SHAPE_ADDR_PORT:
	case SHAPE_LAB:
		buf_printf(out, " -p tcp -m tcp --dport %d -m set --match-set %s dst",
			   RULES_BLOCKED_PORT, IPSET_NAME);
		break;
	case SHAPE_MULTIPORT:
		multiport_list(ports, sizeof(ports), ",");
		buf_printf(out, " -p tcp -m multiport --dports %s -m set --match-set %s dst", ports,
			   IPSET_NAME);
		break;
	default:
		buf_printf(out, " -m set --match-set %s dst", IPSET_NAME);
		break;
	}
	buf_printf(out, " -j %s\n", ipt_verdict(t));
	if (t->hit_addr && !strcmp(op, "-A"))
		buf_printf(out, "-A %s -d %s/32 -j %s\n", nfhook_chain(t->hook), t->hit_addr,
			   ipt_verdict(t));
	buf_printf(out, "COMMIT\n");
}

/* --- running the programs --- */

static void first_line(const struct buf *b, char *line, size_t len)
{
	const char *s = b->data ? b->data : "";
	size_t n = strcspn(s, "\n");

	snprintf(line, len, "%.*s", (int)(n < len ? n : len - 1), s);
}

static int run_or_report(const char *what, const struct rules_target *t, char *const argv[],
			 const struct buf *input, struct buf *out)
{
	struct buf err = { 0 };
	char line[256];
	int rc = run_program(t->netns_path, argv, input ? input->data : NULL,
			     input ? input->len : 0, out, &err);

	if (rc < 0) {
		if (errno == ENOENT)
			nf_err("%s is not installed: run scripts/install-deps.sh (or apt-get install %s)",
			       argv[0], t->backend == BACKEND_IPSET ? "ipset" : "iptables");
		else
			nf_err("cannot run %s: %s", argv[0], strerror(errno));
		buf_free(&err);
		return EXIT_RUNTIME;
	}
	if (rc != 0) {
		first_line(&err, line, sizeof(line));
		nf_err("%s failed (%s, exit %d): %s", what, argv[0], rc, line[0] ? line : "no message");
		buf_free(&err);
		return EXIT_RUNTIME;
	}
	buf_free(&err);
	return EXIT_OK;
}

static int nft_run(const char *netns_path, const char *cmd, unsigned int flags, struct buf *out,
		   bool quiet_errors)
{
	struct nft_ctx *nft;
	int saved, rc;

	if (netns_enter(netns_path, &saved)) {
		nf_err("cannot enter %s: %s", netns_path, strerror(errno));
		return EXIT_RUNTIME;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		netns_leave(saved);
		nf_err("libnftables: cannot create a context");
		return EXIT_RUNTIME;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (flags)
		nft_ctx_output_set_flags(nft, flags);
	rc = nft_run_cmd_from_buffer(nft, cmd);
	if (rc == 0 && out) {
		const char *o = nft_ctx_get_output_buffer(nft);
		buf_append(out, o, strlen(o));
	} else if (rc != 0 && !quiet_errors) {
		char line[256];
		struct buf e = { 0 };
		const char *msg = nft_ctx_get_error_buffer(nft);
		buf_append(&e, msg, strlen(msg));
		first_line(&e, line, sizeof(line));
		nf_err("nft transaction failed: %s", line[0] ? line : "no message");
		buf_free(&e);
	}
	nft_ctx_free(nft);
	netns_leave(saved);
	return rc ? EXIT_RUNTIME : EXIT_OK;
}

/* Does the legacy filter table exist in the namespace? Asking iptables-legacy
 * would create it, and with it hooks that cost every packet. */
static bool legacy_table_exists(const char *netns_path)
{
	char names[512] = "";
	int saved;
	bool found = false;

	if (netns_enter(netns_path, &saved))
		return false;
	if (read_small_file("/proc/self/net/ip_tables_names", names, sizeof(names)) > 0)
		for (char *l = strtok(names, "\n"); l; l = strtok(NULL, "\n"))
			found |= !strcmp(l, "filter");
	netns_leave(saved);
	return found;
}

/* Rules in the hook's chain, only those with only_matching if given, never
 * the hit rule. */
static long ipt_count(const struct rules_target *t, bool legacy, const char *only_matching)
{
	char hit[64] = "";
	char *argv[] = { legacy ? "iptables-legacy-save" : "iptables-nft-save", "-t", "filter", NULL };
	struct buf out = { 0 };
	char prefix[32];
	long n = 0;

	if (legacy && !legacy_table_exists(t->netns_path))
		return 0;
	/* iptables-nft keeps its rules in nf_tables (table ip filter): a dump
	 * counted as it is read, instead of iptables-nft-save's whole text. */
	if (!legacy && !only_matching && !t->hit_addr)
		return nftcount_rules(t->netns_path, "filter", nfhook_chain(t->hook));
	if (run_or_report("listing the rules", t, argv, NULL, &out)) {
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
 * when it does not, -1 when ipset cannot run (printed). */
static int ipset_info(const struct rules_target *t, long *entries, long *maxelem)
{
	char *argv[] = { "ipset", "list", "-t", IPSET_NAME, NULL };
	struct buf out = { 0 }, err = { 0 };
	int rc = run_program(t->netns_path, argv, NULL, 0, &out, &err), exists = 0;

	*entries = *maxelem = 0;
	if (rc < 0) {
		nf_err("ipset is not installed: run scripts/install-deps.sh (or apt-get install ipset)");
		exists = -1;
	} else if (rc == 0) { /* nonzero: the set does not exist, so it holds nothing */
		const char *p = out.data ? strstr(out.data, "Number of entries:") : NULL;
		const char *m = out.data ? strstr(out.data, " maxelem ") : NULL;
		*entries = p ? strtol(p + strlen("Number of entries:"), NULL, 10) : 0;
		*maxelem = m ? strtol(m + strlen(" maxelem "), NULL, 10) : 0;
		exists = 1;
	}
	buf_free(&out);
	buf_free(&err);
	return exists;
}

static long ipset_count(const struct rules_target *t)
{
	long n, max;

	return ipset_info(t, &n, &max) < 0 ? -1 : n;
}

long rules_count(const struct rules_target *t)
{

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
		return ipt_count(t, false, NULL);
	case BACKEND_IPTABLES_LEGACY:
		return ipt_count(t, true, NULL);
	/* A netlink dump counted as it is read: constant memory at any size. */
	case BACKEND_NFT:
		return nftcount_rules(t->netns_path, NFT_TABLE, nfhook_option(t->hook));
	case BACKEND_NFT_SET:
		return nftcount_set_prefix(t->netns_path, NFT_SET_TABLE, NFT_SET_NAME);
	case BACKEND_IPSET:
		return ipset_count(t);
	default:
		return -1;
	}
}

static int check_program(const struct rules_target *t)
{
	const char *prog = rules_backend_program(t->backend);

	if (prog && !program_exists(prog)) {
		nf_err("%s is not installed, the %s backend needs it: run scripts/install-deps.sh",
		       prog, rules_backend_name(t->backend));
		return EXIT_RUNTIME;
	}
	if (t->backend == BACKEND_IPSET && !program_exists("iptables-nft-restore")) {
		nf_err("iptables-nft-restore is not installed, the ipset backend needs it: "
		       "run scripts/install-deps.sh");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* prepare: with count 0, still make the table, chain, set and the rules
 * added once (see rules_prepare). */
/* The bpf shape's rules carry bytecode: compiled from PCAPBPF_SHAPE_EXPR
 * (once per process) when the target names none; *t then points at copy. */
static int with_bytecode(const struct rules_target **t, struct rules_target *copy)
{
	static char *shape_bytecode;
	struct nf_error err = { 0 };

	if ((*t)->shape != SHAPE_BPF || (*t)->bpf_bytecode)
		return EXIT_OK;
	if (!shape_bytecode &&
	    pcapbpf_bytecode(PCAPBPF_SHAPE_EXPR, DLT_RAW, &shape_bytecode, &err)) {
		nf_err("cannot compile the bpf shape's filter: %s", err.msg);
		return err.status;
	}
	*copy = **t;
	copy->bpf_bytecode = shape_bytecode;
	*t = copy;
	return EXIT_OK;
}

/* The rules added once (the set's rule, the hit rule) are missing. */
static bool base_missing(const struct rules_target *t)
{
	if (t->backend == BACKEND_NFT_SET)
		return nftcount_rules(t->netns_path, NFT_SET_TABLE, nfhook_option(t->hook)) == 0;
	if (t->backend == BACKEND_IPSET)
		return ipt_count(t, false, "--match-set " IPSET_NAME " ") == 0;
	if (t->hit_addr && t->backend == BACKEND_NFT) {
		char chain[64];
		snprintf(chain, sizeof(chain), "%s_hit", nfhook_option(t->hook));
		return nftcount_rules(t->netns_path, NFT_TABLE, chain) == 0;
	}
	if (t->hit_addr) { /* iptables: a line with the hit address */
		struct rules_target all = *t;
		char hit[64];
		all.hit_addr = NULL;
		snprintf(hit, sizeof(hit), " -d %s/32 ", t->hit_addr);
		return ipt_count(&all, t->backend == BACKEND_IPTABLES_LEGACY, hit) == 0;
	}
	return false;
}

/* ipset restore is no transaction: it stops at the first element that
 * fails, keeping those before. What would not fit is refused up front, and
 * a failure still undone, so that an add is all or nothing. *exists:
 * whether the set is there already. */
static int ipset_fits(const struct rules_target *t, long count, bool *exists)
{
	long entries, maxelem;
	int e = ipset_info(t, &entries, &maxelem);

	if (e < 0)
		return EXIT_RUNTIME;
	*exists = e == 1;
	if (*exists && maxelem > 0 && entries + count > maxelem) {
		nf_err("the ipset %s holds %ld elements and takes at most %ld (its maxelem): %ld more "
		       "do not fit; flush it first (nfcost rules flush --backend ipset)", IPSET_NAME,
		       entries, maxelem, count);
		return EXIT_USAGE;
	}
	return EXIT_OK;
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
		run_program(t->netns_path, argv, del.data, del.len, NULL, NULL);
	buf_free(&del);
}

/* The rendered elements (text: rules_render's) into the set, and when
 * need_base the iptables rule that matches it. On failure nothing stays:
 * a set made here goes, a set that was there loses what was added. */
static int ipset_add(const struct rules_target *t, const struct buf *text, bool exists,
		     bool need_base)
{
	char *argv[] = { "ipset", "restore", NULL };
	char *destroy[] = { "ipset", "destroy", IPSET_NAME, NULL };
	struct buf err = { 0 };
	char line[256];
	/* A set that is there is taken as it is: no create line, whose
	 * parameters would have to match its own. */
	const char *body = exists ? strchr(text->data, '\n') + 1 : text->data;
	int rc = run_program(t->netns_path, argv, body, strlen(body), NULL, &err);

	if (rc != 0) {
		const char *at = err.data ? strstr(err.data, "Error in line ") : NULL;
		first_line(&err, line, sizeof(line));
		if (rc < 0)
			nf_err("cannot run ipset: %s", strerror(errno));
		else
			nf_err("adding the set elements failed (ipset, exit %d): %s; the set is as it "
			       "was", rc, line[0] ? line : "no message");
		if (exists)
			ipset_undo(t, body, at ? strtol(at + strlen("Error in line "), NULL, 10) : 0);
		else
			run_program(t->netns_path, destroy, NULL, 0, NULL, NULL);
		buf_free(&err);
		return EXIT_RUNTIME;
	}
	buf_free(&err);
	if (need_base) {
		struct buf rule = { 0 };
		char *ipt[] = { "iptables-nft-restore", "--noflush", "--wait", NULL };
		ipset_rule(t, "-A", &rule);
		rc = run_or_report("adding the set's iptables rule", t, ipt, &rule, NULL);
		buf_free(&rule);
		if (rc && !exists) /* leave nothing half-applied */
			run_program(t->netns_path, destroy, NULL, 0, NULL, NULL);
		else if (rc)
			ipset_undo(t, body, 0);
	}
	return rc;
}

/* have < 0: count what is there first; else the caller knows (it added them). */
static int add_rules(const struct rules_target *t, long have, long count, double *elapsed_ms,
		     bool prepare, int *transactions)
{
	struct buf text = { 0 };
	bool need_base = false;
	int rc;
	double t0;
	const char *why;

	*elapsed_ms = 0;
	if (!rules_shape_supported(t->backend, t->shape, &why)) {
		nf_err("shape %s with backend %s: %s", rules_shape_name(t->shape),
		       rules_backend_name(t->backend), why);
		return EXIT_USAGE;
	}
	if ((rc = check_program(t)))
		return rc;
	struct rules_target bpf_target;
	if ((rc = with_bytecode(&t, &bpf_target)))
		return rc;
	if (have < 0 && (have = rules_count(t)) < 0)
		return EXIT_RUNTIME;
	if (have + count > 0x0FFFFFFEL) {
		nf_err("240.0.0.0/4 has room for %ld rules: flush first", 0x0FFFFFFEL);
		return EXIT_USAGE;
	}
	need_base = base_missing(t);
	if (count == 0 && !(need_base && (t->hit_addr || prepare))) /* nothing is due */
		return EXIT_OK;
	bool set_exists = false;
	if (t->backend == BACKEND_IPSET && (rc = ipset_fits(t, count, &set_exists)))
		return rc;
	/* nft's linear shapes skip libnftables' parser: built as netlink
	 * messages, the same transaction costs a fraction (issue 2's target). */
	bool batch = nftbatch_supported(t);
	/* Set elements likewise: libnftables would hold ~400 bytes per element.
	 * A set that does not exist yet is made first, empty, through the text
	 * path (a sweep's step 0 does that on its own); if its elements then
	 * fail, the table goes too, so nothing is left half-applied. */
	bool elem_batch = t->backend == BACKEND_NFT_SET && count > 0;
	if (elem_batch && need_base)
		rules_render(t, have, 0, true, &text);
	else if (!batch && !elem_batch)
		rules_render(t, have, count, need_base, &text);

	t0 = now_monotonic();
	if (batch) /* built, sent and acknowledged as one netlink batch */
		rc = nftbatch_add(t, NFT_TABLE, have, count, need_base && t->hit_addr);
	else if (elem_batch) {
		rc = text.len ? nft_run(t->netns_path, text.data, 0, NULL, false) : EXIT_OK;
		if (transactions && text.len)
			*transactions = 2;
		if (rc == EXIT_OK &&
		    (rc = nftbatch_add_elements(t, NFT_SET_TABLE, NFT_SET_NAME, have, count)) &&
		    need_base)
			nft_run(t->netns_path, "delete table ip " NFT_SET_TABLE "\n", 0, NULL, true);
	} else switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY: {
		char *argv[] = { (char *)rules_backend_program(t->backend), "--noflush", "--wait", NULL };
		rc = run_or_report("applying the rules", t, argv, &text, NULL);
		break;
	}
	case BACKEND_NFT:
	case BACKEND_NFT_SET:
		rc = nft_run(t->netns_path, text.data, 0, NULL, false);
		break;
	case BACKEND_IPSET:
		rc = ipset_add(t, &text, set_exists, need_base);
		break;
	default:
		rc = EXIT_USAGE;
	}
	*elapsed_ms = (now_monotonic() - t0) * 1000.0;
	buf_free(&text);
	return rc;
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

int rules_add(const struct rules_target *t, long have, long count, double *elapsed_ms,
	      int *transactions)
{
	unsigned long long need = rules_memory_estimate(t->backend, t->shape, count);
	unsigned long long avail = mem_available();

	/* Fail before the transaction, not after the machine ran out of memory. */
	if (avail && need > avail / 2) {
		nf_err("adding %ld %s rules in one transaction needs about %llu MB and %llu MB are "
		       "available: add fewer at a time", count, rules_backend_name(t->backend),
		       need >> 20, avail >> 20);
		return EXIT_USAGE;
	}
	if (transactions)
		*transactions = 1;
	return add_rules(t, have, count, elapsed_ms, false, transactions);
}

/* The flush-and-load transaction of rules_load, for a target whose base
 * (table, chain, set and its rule, hit rule) is in place. */
static int load_rules(const struct rules_target *t, long count)
{
	struct buf rendered = { 0 }, text = { 0 };
	const char *chain = nfhook_chain(t->hook);
	int rc;

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY: {
		/* -F in the restore: the chain is emptied and refilled in one
		 * commit (legacy: one table replace; nft: one batch). The hit rule
		 * lives in the chain, so it is rendered again, last. */
		char *argv[] = { (char *)rules_backend_program(t->backend), "--noflush", "--wait", NULL };
		rules_render(t, 0, count, true, &rendered);
		buf_printf(&text, "*filter\n-F %s\n%s", chain, rendered.data + strlen("*filter\n"));
		rc = run_or_report("loading the rules", t, argv, &text, NULL);
		break;
	}
	case BACKEND_NFT:
		if (nftbatch_supported(t)) {
			rc = nftbatch_replace(t, NFT_TABLE, count, false);
			break;
		}
		buf_printf(&text, "flush chain ip %s %s\n", NFT_TABLE, nfhook_option(t->hook));
		rules_render(t, 0, count, false, &text);
		rc = nft_run(t->netns_path, text.data, 0, NULL, false);
		break;
	case BACKEND_NFT_SET:
		rc = nftbatch_replace_elements(t, NFT_SET_TABLE, NFT_SET_NAME, count);
		break;
	case BACKEND_IPSET: {
		/* ipset's own atomic replace: fill a fresh set, swap it in. */
		char *argv[] = { "ipset", "restore", NULL };
		char *destroy[] = { "ipset", "destroy", IPSET_NAME "-new", NULL };
		rules_render(t, 0, count, false, &rendered);
		buf_printf(&text, "create %s-new hash:ip family inet hashsize 1024 maxelem %ld -exist\n"
			   "flush %s-new\n", IPSET_NAME, 2 * RULES_MAX_COUNT, IPSET_NAME);
		/* the rendered lines name IPSET_NAME: "add NAME ADDR" */
		for (char *l = rendered.data; l && *l;) {
			char *nl = strchr(l, '\n');
			if (!strncmp(l, "add " IPSET_NAME " ", strlen("add " IPSET_NAME " ")))
				buf_printf(&text, "add %s-new %.*s\n", IPSET_NAME,
					   (int)((nl ? nl : l + strlen(l)) - l - strlen("add " IPSET_NAME " ")),
					   l + strlen("add " IPSET_NAME " "));
			l = nl ? nl + 1 : NULL;
		}
		buf_printf(&text, "swap %s-new %s\ndestroy %s-new\n", IPSET_NAME, IPSET_NAME,
			   IPSET_NAME);
		rc = run_or_report("loading the set elements", t, argv, &text, NULL);
		if (rc) /* the old set stays as it was; the new one goes */
			run_program(t->netns_path, destroy, NULL, 0, NULL, NULL);
		break;
	}
	default:
		rc = EXIT_USAGE;
	}
	buf_free(&rendered);
	buf_free(&text);
	return rc;
}

int rules_load(const struct rules_target *t, long count, double *elapsed_ms)
{
	unsigned long long need = rules_memory_estimate(t->backend, t->shape, count);
	unsigned long long avail = mem_available();
	struct rules_target bpf_target;
	const char *why;
	double t0;
	int rc;

	*elapsed_ms = 0;
	if (!rules_shape_supported(t->backend, t->shape, &why)) {
		nf_err("shape %s with backend %s: %s", rules_shape_name(t->shape),
		       rules_backend_name(t->backend), why);
		return EXIT_USAGE;
	}
	if (count < 0 || count > 0x0FFFFFFEL) {
		nf_err("240.0.0.0/4 has room for %ld rules, not %ld", 0x0FFFFFFEL, count);
		return EXIT_USAGE;
	}
	if (avail && need > avail / 2) {
		nf_err("loading %ld %s rules in one transaction needs about %llu MB and %llu MB are "
		       "available: load fewer", count, rules_backend_name(t->backend), need >> 20,
		       avail >> 20);
		return EXIT_USAGE;
	}
	if ((rc = check_program(t)) || (rc = with_bytecode(&t, &bpf_target)))
		return rc;
	/* The parts added once come first, on their own: they are not the load. */
	if (base_missing(t) && (rc = rules_prepare(t)))
		return rc;
	if (t->backend == BACKEND_NFT && !nftbatch_supported(t) && (rc = rules_prepare(t)))
		return rc; /* the text path's flush needs the chain */
	t0 = now_monotonic();
	rc = load_rules(t, count);
	*elapsed_ms = (now_monotonic() - t0) * 1000.0;
	return rc;
}

int rules_prepare(const struct rules_target *t)
{
	struct buf text = { 0 };
	double ms;
	int rc;

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY: {
		char *argv[] = { (char *)rules_backend_program(t->backend), "--noflush", "--wait", NULL };
		if ((rc = check_program(t)))
			return rc;
		/* Naming the built-in chain makes the table, and its hook, exist. */
		buf_printf(&text, "*filter\n:%s ACCEPT [0:0]\nCOMMIT\n", nfhook_chain(t->hook));
		rc = run_or_report("creating the empty chain", t, argv, &text, NULL);
		break;
	}
	case BACKEND_NFT:
		nft_base(NFT_TABLE, t->hook, &text);
		rc = nft_run(t->netns_path, text.data, 0, NULL, false);
		break;
	default: /* sets: the table or iptables rule around an empty set */
		rc = add_rules(t, -1, 0, &ms, true, NULL);
		break;
	}
	buf_free(&text);
	if (rc == EXIT_OK && t->hit_addr)
		rc = add_rules(t, -1, 0, &ms, false, NULL);
	return rc;
}

int rules_flush(const struct rules_target *t)
{
	char cmd[128];

	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY: {
		bool legacy = t->backend == BACKEND_IPTABLES_LEGACY;
		if (legacy ? !legacy_table_exists(t->netns_path) : ipt_count(t, false, NULL) <= 0)
			return EXIT_OK;
		if (!legacy) {
			/* Dropping iptables-nft's table unregisters its hooks too, so the
			 * namespace is as it was. The ipset backend's rule lives there. */
			snprintf(cmd, sizeof(cmd), "delete table ip filter");
			return nft_run(t->netns_path, cmd, 0, NULL, false);
		}
		struct buf text = { 0 };
		char *argv[] = { "iptables-legacy-restore", "--noflush", "--wait", NULL };
		buf_printf(&text, "*filter\n-F %s\nCOMMIT\n", nfhook_chain(t->hook));
		int rc = run_or_report("flushing the rules", t, argv, &text, NULL);
		buf_free(&text);
		return rc;
	}
	case BACKEND_NFT:
	case BACKEND_NFT_SET:
		snprintf(cmd, sizeof(cmd), "delete table ip %s",
			 t->backend == BACKEND_NFT ? NFT_TABLE : NFT_SET_TABLE);
		/* A missing table is already flushed. */
		nft_run(t->netns_path, cmd, 0, NULL, true);
		return EXIT_OK;
	case BACKEND_IPSET: {
		if (ipt_count(t, false, "--match-set " IPSET_NAME " ") > 0) {
			struct buf rule = { 0 };
			char *ipt[] = { "iptables-nft-restore", "--noflush", "--wait", NULL };
			ipset_rule(t, "-D", &rule);
			int rc = run_or_report("removing the set's iptables rule", t, ipt, &rule, NULL);
			buf_free(&rule);
			if (rc)
				return rc;
		}
		if (ipset_count(t) < 0)
			return EXIT_RUNTIME;
		char *destroy[] = { "ipset", "destroy", IPSET_NAME, NULL };
		run_program(t->netns_path, destroy, NULL, 0, NULL, NULL);
		return EXIT_OK;
	}
	default:
		return EXIT_USAGE;
	}
}

/* --- the cost of changing one rule --- */

/* Adds the rule of index i and deletes it again, each as one transaction
 * of the backend's own kind (a restore program's run, an nft command, a set
 * element), timing both. 0 or an exit status. */
static int update_once(const struct rules_target *t, long i, double *add_ms, double *del_ms)
{
	struct buf add = { 0 }, del = { 0 }, out = { 0 };
	char addr[32], *handle;
	const char *chain = nfhook_chain(t->hook);
	double t0;
	int rc = EXIT_OK;

	rules_address(i, addr, sizeof(addr));
	switch (t->backend) {
	case BACKEND_IPTABLES_NFT:
	case BACKEND_IPTABLES_LEGACY:
	case BACKEND_IPSET: {
		char *ipt[] = { (char *)rules_backend_program(t->backend), "--noflush", "--wait", NULL };
		char *ipset[] = { "ipset", "restore", NULL };
		char *const *argv = t->backend == BACKEND_IPSET ? ipset : ipt;
		if (t->backend == BACKEND_IPSET) {
			buf_printf(&add, "add %s %s\n", IPSET_NAME, addr);
			buf_printf(&del, "del %s %s\n", IPSET_NAME, addr);
		} else {
			buf_printf(&add, "*filter\n-A %s", chain);
			ipt_matches(t, addr, &add);
			buf_printf(&add, " -j %s\nCOMMIT\n", ipt_verdict(t));
			buf_printf(&del, "*filter\n-D %s", chain);
			ipt_matches(t, addr, &del);
			buf_printf(&del, " -j %s\nCOMMIT\n", ipt_verdict(t));
		}
		t0 = now_monotonic();
		rc = run_or_report("adding one rule", t, argv, &add, NULL);
		*add_ms = (now_monotonic() - t0) * 1000.0;
		t0 = now_monotonic();
		if (rc == EXIT_OK)
			rc = run_or_report("deleting one rule", t, argv, &del, NULL);
		*del_ms = (now_monotonic() - t0) * 1000.0;
		break;
	}
	case BACKEND_NFT:
		if (nftbatch_supported(t)) {
			/* One netlink batch each way, as the rules were added: the
			 * kernel's cost, not libnftables' cache of the whole set. */
			uint64_t h = 0;
			t0 = now_monotonic();
			rc = nftbatch_add_one(t, NFT_TABLE, i, &h);
			*add_ms = (now_monotonic() - t0) * 1000.0;
			t0 = now_monotonic();
			if (rc == EXIT_OK)
				rc = nftbatch_delete_rule(t, NFT_TABLE, h);
			*del_ms = (now_monotonic() - t0) * 1000.0;
			break;
		}
		buf_printf(&add, "add rule ip %s %s", NFT_TABLE, nfhook_option(t->hook));
		nft_matches(t, addr, &add);
		buf_printf(&add, " %s\n", nft_verdict(t));
		/* The kernel echoes the new rule's handle: delete by handle, as nft does. */
		t0 = now_monotonic();
		rc = nft_run(t->netns_path, add.data, NFT_CTX_OUTPUT_ECHO | NFT_CTX_OUTPUT_HANDLE,
			     &out, false);
		*add_ms = (now_monotonic() - t0) * 1000.0;
		handle = out.data ? strstr(out.data, "# handle ") : NULL;
		if (rc == EXIT_OK && !handle) {
			nf_err("nft did not echo the new rule's handle");
			rc = EXIT_RUNTIME;
		}
		if (rc == EXIT_OK) {
			buf_printf(&del, "delete rule ip %s %s handle %ld\n", NFT_TABLE,
				   nfhook_option(t->hook), strtol(handle + 9, NULL, 10));
			t0 = now_monotonic();
			rc = nft_run(t->netns_path, del.data, 0, NULL, false);
			*del_ms = (now_monotonic() - t0) * 1000.0;
		}
		break;
	case BACKEND_NFT_SET: /* one element, one netlink batch each way */
		t0 = now_monotonic();
		rc = nftbatch_set_element(t, NFT_SET_TABLE, NFT_SET_NAME, i, true);
		*add_ms = (now_monotonic() - t0) * 1000.0;
		t0 = now_monotonic();
		if (rc == EXIT_OK)
			rc = nftbatch_set_element(t, NFT_SET_TABLE, NFT_SET_NAME, i, false);
		*del_ms = (now_monotonic() - t0) * 1000.0;
		break;
	default:
		rc = EXIT_USAGE;
	}
	buf_free(&add);
	buf_free(&del);
	buf_free(&out);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int rules_update_cost(const struct rules_target *t, long have, int reps, double *add_ms,
		      double *del_ms)
{
	double adds[RULES_UPDATE_MAX_REPS], dels[RULES_UPDATE_MAX_REPS];
	struct rules_target copy;
	int rc;

	if (reps < 1 || reps > RULES_UPDATE_MAX_REPS)
		return EXIT_USAGE;
	if ((rc = with_bytecode(&t, &copy)))
		return rc;
	for (int r = 0; r < reps; r++)
		if ((rc = update_once(t, have, &adds[r], &dels[r])))
			return rc;
	qsort(adds, (size_t)reps, sizeof(double), cmp_double);
	qsort(dels, (size_t)reps, sizeof(double), cmp_double);
	/* The median: one slow transaction (a page fault, a preemption) moves it little. */
	*add_ms = reps % 2 ? adds[reps / 2] : (adds[reps / 2 - 1] + adds[reps / 2]) / 2;
	*del_ms = reps % 2 ? dels[reps / 2] : (dels[reps / 2 - 1] + dels[reps / 2]) / 2;
	return EXIT_OK;
}
