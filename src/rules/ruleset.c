/* rules/ruleset: a user's rule set and the kernel: reading it (a file,
 * stdin, or the host's own, read-only), its digest, loading it into a
 * namespace as one transaction, flushing a namespace of every backend's
 * tables, and the base chains the kernel has after loading. Its text is
 * ruleset_text.c's, its samples ruleset_samples.c's, its fixes
 * ruleset_fix.c's; programs and libnftables run through rules/exec.h. */
#include "rules/ruleset.h"
#include "rules/ruleset_internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/exec.h"
#include "util/util.h"

/* A rule set bigger than this is not a saved firewall but a mistake. */
#define RULESET_MAX_BYTES (512UL << 20)

void rs_digest(struct ruleset *rs)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	rs->digest[0] = '\0';
	if (!EVP_Digest(rs->text, rs->len, md, &n, EVP_sha256(), NULL) || n != 32)
		return;
	for (unsigned i = 0; i < n; i++)
		sprintf(rs->digest + 2 * i, "%02x", md[i]);
}

int ruleset_read_text(const char *text, struct ruleset *rs, struct nf_error *err)
{
	if (rs_parse_text(text, rs, err))
		return -1;
	rs_digest(rs);
	return 0;
}

/* A program nfcost runs on a user's rule set: its refusal is the user's
 * (EXIT_USAGE). */
static int rs_run(const char *netns_path, char *const argv[], const char *input, size_t in_len,
		  struct buf *out, struct nf_error *err)
{
	return rules_exec(netns_path, argv, input, in_len, out, EXIT_USAGE, err);
}

int ruleset_read_file(const char *path, struct ruleset *rs, struct nf_error *err)
{
	struct buf b = { 0 };
	char chunk[65536];
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	const char *name = strcmp(path, "-") ? path : "stdin";
	size_t n;
	int rc = -1;

	memset(rs, 0, sizeof(*rs));
	if (!f)
		return nf_fail(err, EXIT_USAGE, "cannot read the rule set %s: %s", path,
			       strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (memchr(chunk, '\0', n)) {
			nf_fail(err, EXIT_USAGE, "%s is not a text file: give an iptables-save or nft "
				"list ruleset text", name);
			goto out;
		}
		if (b.len + n > RULESET_MAX_BYTES) {
			nf_fail(err, EXIT_USAGE, "%s is larger than %lu MB: not a rule set nfcost takes",
				path, RULESET_MAX_BYTES >> 20);
			goto out;
		}
		buf_append(&b, chunk, n);
	}
	if (ferror(f))
		nf_fail(err, EXIT_USAGE, "cannot read the rule set %s: %s", path, strerror(errno));
	else
		rc = ruleset_read_text(b.data ? b.data : "", rs, err);
out:
	if (f != stdin)
		fclose(f);
	buf_free(&b);
	return rc;
}

/* --- the host, read only --- */

/* The host's three listings, comment lines dropped. Only reads:
 * iptables-legacy-save lists the tables the kernel already has (and none
 * when ip_tables is not loaded), iptables-nft-save and `list ruleset` are
 * netlink dumps. */
static int host_listings(struct buf *legacy, struct buf *ipt, struct buf *nft,
			 struct nf_error *err)
{
	char tables[512];

	if (rules_legacy_tables(NULL, tables, sizeof(tables), err))
		return -1;
	if (tables[0]) {
		char *argv[] = { "iptables-legacy-save", NULL };
		if (rs_run(NULL, argv, NULL, 0, legacy, err))
			return -1;
	}
	if (program_exists("iptables-nft-save")) {
		char *argv[] = { "iptables-nft-save", NULL };
		if (rs_run(NULL, argv, NULL, 0, ipt, err))
			return -1;
	}
	if (netns_nft(NULL, "list ruleset", 0, 0, nft, err))
		return nf_error_prefix(err, "cannot list the host's nft rule set: ");
	rs_strip_comment_lines(legacy);
	rs_strip_comment_lines(ipt);
	rs_strip_comment_lines(nft);
	return 0;
}

/* The rules in a listing, -1 when it is empty or not a rule set. */
static int rules_in(const struct buf *listing, int *tables)
{
	struct ruleset r = { 0 };
	int n = -1;

	if (listing->len && !rs_parse_text(listing->data, &r, NULL)) {
		n = r.n_rules;
		if (tables)
			*tables = r.n_tables;
	}
	ruleset_free(&r);
	return n;
}

/* Which of the three listings to profile: the one with the most rules,
 * NULL when none has any; note says which and why. */
static const struct buf *host_pick(const struct buf *legacy, const struct buf *ipt,
				   const struct buf *nft, char *note, size_t notelen)
{
	int nft_tables = 0;
	int l_rules = rules_in(legacy, NULL), i_rules = rules_in(ipt, NULL);
	int all_rules = rules_in(nft, &nft_tables);
	const struct buf *pick = NULL;
	const char *took = "";

	/* nft's listing holds iptables-nft's tables too; it is the native rule
	 * set when it has tables iptables-nft-save does not show. */
	for (const char *p = ipt->data; p && (p = strstr(p, "\n*")); p++)
		nft_tables--;
	if (ipt->data && ipt->data[0] == '*')
		nft_tables--;
	int n_rules = all_rules >= 0 && nft_tables > 0 ? all_rules - (i_rules > 0 ? i_rules : 0) : -1;

	if (n_rules >= 0 && n_rules >= i_rules && n_rules >= l_rules)
		pick = nft, took = "nft list ruleset";
	else if (i_rules >= 0 && i_rules >= l_rules)
		pick = ipt, took = "iptables-nft-save";
	else if (l_rules >= 0)
		pick = legacy, took = "iptables-legacy-save";
	if (pick)
		snprintf(note, notelen, "took %s (the source with the most rules: legacy %d, "
			 "iptables-nft %d, native nft %d)%s", took, l_rules < 0 ? 0 : l_rules,
			 i_rules < 0 ? 0 : i_rules, n_rules < 0 ? 0 : n_rules,
			 (l_rules > 0) + (i_rules > 0) + (n_rules > 0) > 1
				 ? "; the other sources' rules are left out of the profile" : "");
	return pick;
}

int ruleset_read_host(struct ruleset *rs, char *note, size_t notelen, struct nf_error *err)
{
	struct buf legacy = { 0 }, ipt = { 0 }, nft = { 0 };
	const struct buf *pick;
	int rc = -1;

	memset(rs, 0, sizeof(*rs));
	if (host_listings(&legacy, &ipt, &nft, err))
		goto out;
	if ((pick = host_pick(&legacy, &ipt, &nft, note, notelen))) {
		rc = ruleset_read_text(pick->data, rs, err);
	} else {
		/* No rules anywhere: what the host does is what an empty filter
		 * table with ACCEPT policies does, the baseline any rule set adds
		 * to. Profile that, and say so. */
		static const char empty[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
					    ":OUTPUT ACCEPT [0:0]\nCOMMIT\n";
		snprintf(note, notelen, "the host has no rules (iptables-legacy-save, iptables-nft-save "
			 "and nft list ruleset are all empty): profiled as an empty filter table "
			 "with ACCEPT policies");
		rc = ruleset_read_text(empty, rs, err);
	}
out:
	buf_free(&legacy);
	buf_free(&ipt);
	buf_free(&nft);
	return rc;
}

/* --- loading and flushing --- */

static const char *ipt_program(enum rules_backend b)
{
	return b == BACKEND_IPTABLES_LEGACY ? "iptables-legacy-restore" : "iptables-nft-restore";
}

/* The set names an `ipset restore` text creates. */
static void destroy_sets(const char *netns_path, const char *ipset_text)
{
	char name[64];

	for (const char *p = ipset_text; p && *p;) {
		if (!strncmp(p, "create ", 7)) {
			rs_word(p + 7, name, sizeof(name));
			char *argv[] = { "ipset", "destroy", name, NULL };
			rs_run(netns_path, argv, NULL, 0, NULL, NULL);
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
}

int ruleset_load(const char *netns_path, const struct ruleset *rs, enum rules_backend backend,
		 struct nf_error *err)
{
	bool was_empty = ruleset_namespace_empty(netns_path);
	int rc;

	if (rs->format == RULESET_IPTABLES && backend != BACKEND_IPTABLES_NFT &&
	    backend != BACKEND_IPTABLES_LEGACY)
		return nf_fail(err, EXIT_USAGE, "an iptables-save rule set loads with --backend "
			       "iptables-nft or iptables-legacy, not %s", rules_backend_name(backend));
	if (rs->ipset_text) {
		char *argv[] = { "ipset", "restore", NULL };
		if (rs_run(netns_path, argv, rs->ipset_text, strlen(rs->ipset_text), NULL, err)) {
			destroy_sets(netns_path, rs->ipset_text);
			return nf_error_prefix(err, "the ipsets do not load: ");
		}
	}
	if (rs->format == RULESET_IPTABLES) {
		char *argv[] = { (char *)ipt_program(backend), "--wait", NULL };
		rc = rs_run(netns_path, argv, rs->text, rs->len, NULL, err);
	} else {
		rc = netns_nft(netns_path, rs->text, NETNS_NFT_AS_FILE, 0, NULL, err);
	}
	if (rc) {
		nf_error_prefix(err, "the rule set does not load: ");
		/* iptables-restore commits table by table: an error in the nat
		 * table leaves filter loaded. Take all of it away again. */
		if (was_empty)
			ruleset_flush(netns_path, NULL);
		if (rs->ipset_text)
			destroy_sets(netns_path, rs->ipset_text);
	}
	return rc;
}

/* Legacy tables stay until the namespace goes: empty them, delete their
 * user chains, and set their built-in chains' policies back to ACCEPT. */
static int flush_legacy(const char *netns_path, struct nf_error *err)
{
	char names[512];
	struct buf text = { 0 };
	int rc;

	if (rules_legacy_tables(netns_path, names, sizeof(names), err))
		return -1;
	if (!names[0])
		return 0;
	for (char *t = strtok(names, "\n"); t; t = strtok(NULL, "\n")) {
		buf_printf(&text, "*%s\n", t);
		rs_ipt_builtin_policies(t, &text);
		buf_printf(&text, "COMMIT\n");
	}
	char *argv[] = { "iptables-legacy-restore", "--wait", NULL };
	rc = rs_run(netns_path, argv, text.data, text.len, NULL, err);
	buf_free(&text);
	return rc ? nf_error_prefix(err, "cannot flush the legacy tables: ") : 0;
}

int ruleset_flush(const char *netns_path, struct nf_error *err)
{
	if (flush_legacy(netns_path, err))
		goto failed;
	if (netns_nft(netns_path, "flush ruleset", 0, 0, NULL, err)) {
		nf_error_prefix(err, "cannot flush the nft rule set: ");
		goto failed;
	}
	if (program_exists("ipset")) {
		char *argv[] = { "ipset", "destroy", NULL };
		if (rs_run(netns_path, argv, NULL, 0, NULL, err)) {
			nf_error_prefix(err, "cannot destroy the ipsets: ");
			goto failed;
		}
	}
	return 0;
failed: /* nfcost's own namespace that cannot be emptied: not the user's doing */
	if (err)
		err->status = EXIT_RUNTIME;
	return -1;
}

bool ruleset_namespace_empty(const char *netns_path)
{
	struct buf out = { 0 };
	char names[512];
	bool empty = true;

	if (netns_nft(netns_path, "list ruleset", 0, 0, &out, NULL) || out.len)
		empty = false;
	out.len = 0;
	if (empty && !rules_legacy_tables(netns_path, names, sizeof(names), NULL) && names[0]) {
		char *argv[] = { "iptables-legacy-save", NULL };
		if (rs_run(netns_path, argv, NULL, 0, &out, NULL) ||
		    rs_count_prefixed(out.data, "-A ") || strstr(out.data ? out.data : "", " DROP [") ||
		    rs_count_prefixed(out.data, ":") > rs_ipt_builtin_policies(NULL, NULL))
			empty = false;
		/* user chains: ":NAME - [0:0]" */
		if (out.data && strstr(out.data, " - ["))
			empty = false;
	}
	out.len = 0;
	if (empty && program_exists("ipset")) {
		char *argv[] = { "ipset", "list", "-n", NULL };
		if (rs_run(netns_path, argv, NULL, 0, &out, NULL) || out.len)
			empty = false;
	}
	buf_free(&out);
	return empty;
}

/* --- the kernel's base chains --- */

static int cmp_chain(const void *a, const void *b)
{
	const struct ruleset_chain *x = a, *y = b;

	if (x->hook != y->hook)
		return x->hook - y->hook;
	return (x->priority > y->priority) - (x->priority < y->priority);
}

int ruleset_base_chains(const char *netns_path, const struct ruleset *rs, enum rules_backend b,
			struct ruleset_chain **out, int *n, struct nf_error *err)
{
	struct ruleset k = { 0 };
	const struct ruleset *src = rs;
	struct buf listing = { 0 };

	*out = NULL;
	*n = 0;
	if (rs->format == RULESET_NFT || b != BACKEND_IPTABLES_LEGACY) {
		/* nf_tables holds both nft's and iptables-nft's: its listing is the truth. */
		if (netns_nft(netns_path, "list ruleset", 0, 0, &listing, err)) {
			if (err)
				err->status = EXIT_RUNTIME;
			return nf_error_prefix(err, "cannot list the loaded rule set: ");
		}
		k.format = RULESET_NFT;
		k.text = listing.data ? listing.data : (char *)"";
		rs_nft_walk(&k, k.text, NULL, NULL);
		src = &k;
	}
	for (int i = 0; i < src->n_chain_entries; i++) {
		if (src->chains[i].hook < 0)
			continue;
		struct ruleset_chain *c = realloc(*out, sizeof(*c) * (size_t)(*n + 1));
		if (!c)
			abort();
		*out = c;
		c[(*n)++] = src->chains[i];
	}
	if (*n)
		qsort(*out, (size_t)*n, sizeof(**out), cmp_chain);
	free(k.chains);
	buf_free(&listing);
	return 0;
}
