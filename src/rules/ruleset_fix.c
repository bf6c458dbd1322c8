/* The standard fixes of a user's rule set, each a rewrite of its text:
 * nft-optimize (nft's own optimizer, via a scratch namespace), ipset
 * (consecutive rules that differ in one address only become one -m set
 * rule), established-first (conntrack's established/related accept first
 * in every filter base chain), flowtable (established forwarded flows
 * offloaded to an nft flowtable). */
#include "rules/ruleset.h"
#include "rules/ruleset_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/exec.h"

/* A run shorter than this stays as it is: a set for two rules buys nothing. */
#define IPSET_MIN_RUN 3
#define FLOWTABLE_NAME "nfcost_ft"

static const char *const fix_names[FIX_COUNT] = {
	"nft-optimize", "ipset", "established-first", "flowtable",
};

const char *ruleset_fix_name(enum ruleset_fix f)
{
	return f >= 0 && f < FIX_COUNT ? fix_names[f] : "?";
}

bool ruleset_fix_parse(const char *name, enum ruleset_fix *out)
{
	for (int i = 0; i < FIX_COUNT; i++)
		if (!strcmp(name, fix_names[i])) {
			*out = (enum ruleset_fix)i;
			return true;
		}
	return false;
}

bool ruleset_fix_parse_list(const char *list, bool out[FIX_COUNT])
{
	char name[64];
	bool any = false;

	for (int i = 0; i < FIX_COUNT; i++)
		out[i] = false;
	if (!list || !*list)
		return false;
	if (!strcmp(list, "all")) {
		for (int i = 0; i < FIX_COUNT; i++)
			out[i] = true;
		return true;
	}
	for (const char *p = list;;) {
		size_t n = strcspn(p, ",");
		enum ruleset_fix f;
		if (n == 0 || n >= sizeof(name))
			return false;
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (!ruleset_fix_parse(name, &f))
			return false;
		out[f] = any = true;
		p += n;
		if (!*p)
			break;
		p++;
	}
	return any;
}

/* --- the text as lines --- */

struct lines {
	char **l;
	size_t n;
};

static void push_line(char *line, void *arg)
{
	struct lines *ls = arg;
	char **l = realloc(ls->l, sizeof(*l) * (ls->n + 1));

	if (!l || !(l[ls->n] = strdup(line)))
		abort();
	ls->l = l;
	ls->n++;
}

static void free_lines(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->l[i]);
	free(ls->l);
}

/* The rewritten text (and ipset text) become fixed, described; the
 * buffers' memory is the rule set's then. Returns 0. */
static int finish_fixed(struct ruleset *fixed, enum ruleset_format format, struct buf *text,
			struct buf *ipset)
{
	memset(fixed, 0, sizeof(*fixed));
	fixed->format = format;
	fixed->family = 2; /* AF_INET */
	fixed->text = text->data ? text->data : strdup("");
	fixed->len = strlen(fixed->text);
	fixed->ipset_text = ipset && ipset->len ? ipset->data : NULL;
	if (ipset && !ipset->len)
		buf_free(ipset);
	/* the buffers' memory is the rule set's now */
	*text = (struct buf){ 0 };
	if (ipset)
		*ipset = (struct buf){ 0 };
	rs_describe(fixed);
	rs_digest(fixed);
	return 0;
}

/* --- ipset --- */

struct tok {
	size_t off, len;
};

/* Whitespace-separated tokens of s (a quoted string is one token). */
static size_t tokenize(const char *s, struct tok *t, size_t max)
{
	size_t n = 0, i = 0;

	while (s[i] && n < max) {
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		if (!s[i])
			break;
		size_t start = i;
		bool q = false;
		while (s[i] && (q || (s[i] != ' ' && s[i] != '\t'))) {
			if (s[i] == '"')
				q = !q;
			i++;
		}
		t[n].off = start;
		t[n].len = i - start;
		n++;
	}
	return n;
}

static bool tok_is(const char *s, const struct tok *t, const char *w)
{
	return t->len == strlen(w) && !strncmp(s + t->off, w, t->len);
}

/* "a.b.c.d" or "a.b.c.d/len": its prefix length, or -1 when not IPv4. */
static int ipv4_prefix(const char *s, size_t len)
{
	char a[64];
	unsigned b[4], plen = 32;
	int used = 0;

	if (len >= sizeof(a))
		return -1;
	snprintf(a, sizeof(a), "%.*s", (int)len, s);
	char *slash = strchr(a, '/');
	if (slash) {
		*slash = '\0';
		if (sscanf(slash + 1, "%u%n", &plen, &used) != 1 || slash[1 + used] || plen > 32)
			return -1;
	}
	if (sscanf(a, "%u.%u.%u.%u%n", &b[0], &b[1], &b[2], &b[3], &used) != 4 || a[used] ||
	    b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255)
		return -1;
	return (int)plen;
}

#define MAX_TOKS 128

/* Rules i and j differ in exactly one token, an address after -s or -d
 * (not negated): its index, else -1. */
static int one_address_diff(const char *a, const struct tok *ta, size_t na, const char *b,
			    const struct tok *tb, size_t nb)
{
	int diff = -1;

	if (na != nb || na < 4)
		return -1;
	for (size_t k = 0; k < na; k++) {
		if (ta[k].len == tb[k].len && !strncmp(a + ta[k].off, b + tb[k].off, ta[k].len))
			continue;
		if (diff >= 0)
			return -1;
		diff = (int)k;
	}
	if (diff < 2)
		return -1;
	const struct tok *opt = &ta[diff - 1];
	if (!tok_is(a, opt, "-d") && !tok_is(a, opt, "-s") && !tok_is(a, opt, "--destination") &&
	    !tok_is(a, opt, "--source"))
		return -1;
	if (tok_is(a, &ta[diff - 2], "!"))
		return -1;
	int pa = ipv4_prefix(a + ta[diff].off, ta[diff].len);
	int pb = ipv4_prefix(b + tb[diff].off, tb[diff].len);
	if (pa <= 0 || pb <= 0)
		return -1;
	return diff;
}

static int fix_ipset(const struct ruleset *orig, struct ruleset *fixed, char *note, size_t notelen)
{
	struct lines ls = { 0 };
	struct buf text = { 0 }, ipset = { 0 };
	struct tok ta[MAX_TOKS], tb[MAX_TOKS];
	int sets = 0;
	long merged = 0;

	if (orig->format != RULESET_IPTABLES) {
		snprintf(note, notelen, "the ipset fix is for iptables rule sets (nft's own sets: "
			 "nft-optimize)");
		return 1;
	}
	rs_lines(orig->text, push_line, &ls);
	for (size_t i = 0; i < ls.n;) {
		const char *a = ls.l[i];
		size_t na = strncmp(a, "-A ", 3) ? 0 : tokenize(a, ta, MAX_TOKS);
		size_t j = i + 1;
		int k = -1;

		if (na && na < MAX_TOKS) {
			for (; j < ls.n; j++) {
				const char *b = ls.l[j];
				if (strncmp(b, "-A ", 3))
					break;
				size_t nb = tokenize(b, tb, MAX_TOKS);
				int d = one_address_diff(a, ta, na, b, tb, nb);
				if (d < 0 || (k >= 0 && d != k))
					break;
				k = d;
			}
		}
		if (k < 0 || j - i < IPSET_MIN_RUN) {
			buf_printf(&text, "%s\n", a);
			i++;
			continue;
		}
		/* rules [i, j) become one: hash:ip when all are hosts */
		bool hosts = true;
		for (size_t r = i; r < j; r++) {
			size_t nb = tokenize(ls.l[r], tb, MAX_TOKS);
			(void)nb;
			hosts &= ipv4_prefix(ls.l[r] + tb[k].off, tb[k].len) == 32;
		}
		char name[32];
		snprintf(name, sizeof(name), "nfcost_fix_%d", ++sets);
		buf_printf(&ipset, "create %s %s family inet hashsize 1024 maxelem %zu\n", name,
			   hosts ? "hash:ip" : "hash:net", j - i > 65536 ? 2 * (j - i) : 65536);
		for (size_t r = i; r < j; r++) {
			tokenize(ls.l[r], tb, MAX_TOKS);
			buf_printf(&ipset, "add %s %.*s -exist\n", name, (int)tb[k].len,
				   ls.l[r] + tb[k].off);
		}
		bool dst = tok_is(a, &ta[k - 1], "-d") || tok_is(a, &ta[k - 1], "--destination");
		buf_printf(&text, "%.*s-m set --match-set %s %s%s\n", (int)ta[k - 1].off, a, name,
			   dst ? "dst" : "src", a + ta[k].off + ta[k].len);
		merged += (long)(j - i);
		i = j;
	}
	free_lines(&ls);
	if (!sets) {
		buf_free(&text);
		buf_free(&ipset);
		snprintf(note, notelen, "no run of %d or more consecutive rules differs in one address "
			 "only", IPSET_MIN_RUN);
		return 1;
	}
	int rc = finish_fixed(fixed, RULESET_IPTABLES, &text, &ipset);
	snprintf(note, notelen, "%ld rules in %d runs became %d -m set rules (%d rules -> %d)",
		 merged, sets, sets, orig->n_rules, fixed->n_rules);
	return rc;
}

/* --- established-first --- */

#define CT_IPT "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
#define CT_NFT "ct state established,related accept"
#define CT_NOTE "verdicts change for established and related packets that the original " \
		"drops or rejects in a filter base chain: they are now accepted first"

static int fix_established_ipt(const struct ruleset *orig, struct ruleset *fixed, char *note,
			       size_t notelen)
{
	struct lines ls = { 0 };
	struct buf text = { 0 };
	char table[32] = "", chain[64];
	bool pending = false;
	int added = 0;
	char decl[3][64];
	int n_decl = 0;

	rs_lines(orig->text, push_line, &ls);
	for (size_t i = 0; i < ls.n; i++) {
		const char *l = ls.l[i];
		if (l[0] == '*') {
			snprintf(table, sizeof(table), "%s", l + 1);
			pending = !strcmp(table, "filter");
			n_decl = 0;
		} else if (pending && l[0] == ':') {
			rs_word(l + 1, chain, sizeof(chain));
			if (rs_ipt_builtin("filter", chain) && n_decl < 3)
				snprintf(decl[n_decl++], sizeof(decl[0]), "%s", chain);
		} else if (pending && l[0] != '#' && l[0]) {
			/* the first rule or COMMIT of the filter table: ours go first */
			for (int d = 0; d < n_decl; d++, added++)
				buf_printf(&text, "-A %s " CT_IPT "\n", decl[d]);
			pending = false;
		}
		buf_printf(&text, "%s\n", l);
	}
	free_lines(&ls);
	if (!added) {
		buf_free(&text);
		snprintf(note, notelen, "the rule set has no filter table with a built-in chain");
		return 1;
	}
	snprintf(note, notelen, "%d rule%s added first (%s): " CT_NOTE, added, added > 1 ? "s" : "",
		 CT_IPT);
	return finish_fixed(fixed, RULESET_IPTABLES, &text, NULL);
}

struct nft_est {
	struct buf text;
	int depth;
	char family[16], table[32], chain[64];
	bool in_chain;
	int added;
	struct buf tail; /* commands for chains declared in command style */
};

static bool measurable_family(const char *f)
{
	return !strcmp(f, "ip") || !strcmp(f, "inet");
}

static int balance(const char *s)
{
	int n = 0;
	bool q = false;

	for (; *s && !(*s == '#' && !q); s++) {
		if (*s == '"')
			q = !q;
		else if (!q)
			n += (*s == '{') - (*s == '}');
	}
	return n;
}

static void nft_est_line(char *line, void *arg)
{
	struct nft_est *e = arg;
	const char *p = line + strspn(line, " \t");
	char w[16], a[32], b[32], c[64];

	buf_printf(&e->text, "%s\n", line);
	if (e->depth == 0) {
		const char *q = rs_word(p, w, sizeof(w));
		if (!strcmp(w, "table")) {
			q = rs_word(q, a, sizeof(a));
			rs_word(q, b, sizeof(b));
			if (!strcmp(b, "{")) /* "table name {" */
				snprintf(e->family, sizeof(e->family), "ip"),
					snprintf(e->table, sizeof(e->table), "%s", a);
			else
				snprintf(e->family, sizeof(e->family), "%s", a),
					snprintf(e->table, sizeof(e->table), "%s", b);
		} else if (!strcmp(w, "add") || !strcmp(w, "create")) {
			q = rs_word(q, w, sizeof(w));
			if (!strcmp(w, "chain") && strstr(q, "type filter hook")) {
				q = rs_word(q, a, sizeof(a));
				q = rs_word(q, b, sizeof(b));
				rs_word(q, c, sizeof(c));
				if (measurable_family(a)) {
					buf_printf(&e->tail, "insert rule %s %s %s " CT_NFT "\n", a, b, c);
					e->added++;
				}
			}
		}
	} else if (e->depth == 1) {
		const char *q = rs_word(p, w, sizeof(w));
		if (!strcmp(w, "chain"))
			rs_word(q, e->chain, sizeof(e->chain));
	} else if (e->depth == 2 && !strncmp(p, "type filter hook", 16) &&
		   measurable_family(e->family)) {
		buf_printf(&e->text, "\t\t" CT_NFT "\n");
		e->added++;
	}
	e->depth += balance(p);
	if (e->depth < 0)
		e->depth = 0;
}

static int fix_established_nft(const struct ruleset *orig, struct ruleset *fixed, char *note,
			       size_t notelen)
{
	struct nft_est e = { 0 };

	rs_lines(orig->text, nft_est_line, &e);
	if (!e.added) {
		buf_free(&e.text);
		buf_free(&e.tail);
		snprintf(note, notelen, "the rule set has no filter base chain of family ip or inet");
		return 1;
	}
	if (e.tail.len)
		buf_append(&e.text, e.tail.data, e.tail.len);
	buf_free(&e.tail);
	snprintf(note, notelen, "%d rule%s added first (%s): " CT_NOTE, e.added,
		 e.added > 1 ? "s" : "", CT_NFT);
	return finish_fixed(fixed, RULESET_NFT, &e.text, NULL);
}

/* --- nft: translating iptables, the optimizer --- */

/* iptables-save text as nft commands (iptables-restore-translate), in the
 * scratch namespace (it never touches the kernel, but nothing runs in
 * ours). counters: keep the translator's `counter` in every rule (iptables
 * always counts); nft's optimizer merges no rule that has one. 0; 1 with
 * note when a rule has no translation; else an exit status. */
static int translate(const struct ruleset *orig, const char *netns, bool counters, struct buf *out,
		     char *note, size_t notelen, struct nf_error *err)
{
	char *argv[] = { "iptables-restore-translate", "-f", "/dev/stdin", NULL };
	struct buf raw = { 0 };
	struct nf_error failed = { 0 };

	if (rules_exec(netns, argv, orig->text, orig->len, &raw, EXIT_USAGE, &failed)) {
		buf_free(&raw);
		if (failed.status == EXIT_USAGE) { /* it ran and refused the text */
			snprintf(note, notelen, "iptables-restore-translate cannot translate the rule "
				 "set: %s", failed.msg);
			return 1;
		}
		return nf_fail(err, failed.status, "%s", failed.msg);
	}
	struct lines ls = { 0 };
	rs_lines(raw.data ? raw.data : "", push_line, &ls);
	buf_free(&raw);
	for (size_t i = 0; i < ls.n; i++) {
		char *l = ls.l[i];
		if (l[0] == '#') {
			/* the translator's own header and footer, or a rule it cannot translate */
			if (strncmp(l, "# Translated by", 15) && strncmp(l, "# Completed on", 14)) {
				snprintf(note, notelen, "iptables-restore-translate has no nft for: %s",
					 l + 2);
				free_lines(&ls);
				buf_free(out);
				return 1;
			}
			continue;
		}
		if (!counters && !strncmp(l, "add rule ", 9)) {
			char *c;
			while ((c = strstr(l, " counter ")))
				memmove(c, c + 8, strlen(c + 8) + 1);
		}
		buf_printf(out, "%s\n", l);
	}
	free_lines(&ls);
	return 0;
}

static void strip_comments(struct buf *b)
{
	struct lines ls = { 0 };

	rs_lines(b->data ? b->data : "", push_line, &ls);
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	for (size_t i = 0; i < ls.n; i++)
		if (ls.l[i][0] != '#')
			buf_printf(b, "%s\n", ls.l[i]);
	free_lines(&ls);
}

/* nft's optimizer merges the rules of chain blocks only, not `add rule`
 * commands: load the text as it is, list it (blocks), and load that
 * listing with the optimizer on; *optimized gets its listing. The scratch
 * namespace is flushed before and after. */
static int run_optimizer(const char *scratch, const char *nft, struct buf *optimized,
			 struct nf_error *err)
{
	struct buf listed = { 0 };
	int rc;

	if (ruleset_flush(scratch, err))
		return -1;
	rc = netns_nft(scratch, nft, NETNS_NFT_AS_FILE, 0, NULL, err) ||
	     netns_nft(scratch, "list ruleset", 0, 0, &listed, err) ||
	     ruleset_flush(scratch, err) ||
	     netns_nft(scratch, listed.data ? listed.data : "", NETNS_NFT_AS_FILE | NETNS_NFT_OPTIMIZE,
		       0, NULL, err) ||
	     netns_nft(scratch, "list ruleset", 0, 0, optimized, err) ? -1 : 0;
	buf_free(&listed);
	if (rc) {
		ruleset_flush(scratch, NULL);
		if (err)
			err->status = EXIT_RUNTIME;
		return nf_error_prefix(err, "nft's optimizer: ");
	}
	return ruleset_flush(scratch, err);
}

static int fix_nft_optimize(const struct ruleset *orig, const char *scratch, struct ruleset *fixed,
			    char *note, size_t notelen, struct nf_error *err)
{
	struct buf nft = { 0 }, optimized = { 0 };
	int rc;

	if (!scratch)
		return nf_fail(err, EXIT_RUNTIME, "nft-optimize needs a scratch namespace to run "
			       "nft's optimizer in");
	if (orig->format == RULESET_IPTABLES) {
		if ((rc = translate(orig, scratch, false, &nft, note, notelen, err)))
			return rc;
	} else {
		buf_append(&nft, orig->text, orig->len);
	}
	if ((rc = run_optimizer(scratch, nft.data ? nft.data : "", &optimized, err))) {
		if (orig->format == RULESET_IPTABLES && err)
			snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
				 " (in the translation of the iptables rules)");
		goto out;
	}
	strip_comments(&optimized);
	rc = finish_fixed(fixed, RULESET_NFT, &optimized, NULL);
	if (!rc)
		snprintf(note, notelen, "%s%d rules -> %d with nft's optimizer%s",
			 orig->format == RULESET_IPTABLES
				 ? "translated to nft (iptables-restore-translate, without per-rule "
				   "counters); " : "",
			 orig->n_rules, fixed->n_rules,
			 fixed->n_rules == orig->n_rules ? " (it merged nothing)" : "");
out:
	buf_free(&nft);
	buf_free(&optimized);
	return rc;
}

/* --- flowtable --- */

/* A kernel without CONFIG_NF_FLOW_TABLE refuses any flowtable with
 * ENOENT: found in the scratch namespace, said as a note rather than as a
 * load error later. */
static bool flowtables_missing(const char *scratch)
{
	struct nf_error probe = { 0 };
	bool missing;

	if (!scratch)
		return false;
	missing = netns_nft(scratch, "add table ip nfcost_ftprobe\n"
			    "add flowtable ip nfcost_ftprobe ft { hook ingress priority filter; }\n",
			    0, 0, NULL, &probe) && strstr(probe.msg, "No such file or directory");
	netns_nft(scratch, "delete table ip nfcost_ftprobe\n", 0, 0, NULL, NULL);
	return missing;
}

/* One flowtable, and its rule in one chain of src, appended to text: the
 * forward filter chain of table "filter" when there is one (where the
 * forwarding policy lives, as nft's wiki places it), else the first. A
 * device can be in one flowtable only. where gets the chain; false when
 * there is none. */
static bool add_flowtable(const struct ruleset *src, const char *const *devices, int n_devices,
			  struct buf *text, char *where, size_t wlen)
{
	const struct ruleset_chain *pick = NULL;

	for (int i = 0; i < src->n_chain_entries; i++) {
		const struct ruleset_chain *c = &src->chains[i];
		if (c->hook != NFHOOK_FORWARD || strcmp(c->type, "filter") ||
		    !measurable_family(c->family))
			continue;
		if (!pick || (!strcmp(c->table, "filter") && strcmp(pick->table, "filter")))
			pick = c;
	}
	if (!pick)
		return false;
	snprintf(where, wlen, "%s %s %s", pick->family, pick->table, pick->name);
	buf_printf(text, "add flowtable %s %s " FLOWTABLE_NAME
		   " { hook ingress priority filter; devices = { ", pick->family, pick->table);
	for (int d = 0; d < n_devices; d++)
		buf_printf(text, "%s%s", d ? ", " : "", devices[d]);
	buf_printf(text, " }; }\n");
	buf_printf(text, "insert rule %s %s %s meta l4proto { tcp, udp } flow add @"
		   FLOWTABLE_NAME "\n", pick->family, pick->table, pick->name);
	return true;
}

static int fix_flowtable(const struct ruleset *orig, const char *scratch,
			 const char *const *devices, int n_devices, struct ruleset *fixed,
			 char *note, size_t notelen, struct nf_error *err)
{
	struct ruleset nft_rs = { 0 };
	const struct ruleset *src = orig;
	struct buf text = { 0 };
	char where[128] = "";
	bool forward = false;
	int rc;

	if (n_devices < 1)
		return nf_fail(err, EXIT_USAGE, "a flowtable needs the forward path's interfaces "
			       "(none given)");
	for (int i = 0; i < orig->n_chain_entries; i++)
		forward |= orig->chains[i].hook == NFHOOK_FORWARD &&
			   !strcmp(orig->chains[i].type, "filter");
	if (!forward) {
		snprintf(note, notelen, "flowtable applies to the forward hook only: the rule set has "
			 "no filter chain there");
		return 1;
	}
	if (flowtables_missing(scratch)) {
		snprintf(note, notelen, "this kernel has no nft flowtables (CONFIG_NF_FLOW_TABLE "
			 "is not set): the flowtable fix cannot be measured here");
		return 1;
	}
	if (orig->format == RULESET_IPTABLES) {
		if ((rc = translate(orig, scratch, true, &text, note, notelen, err)) ||
		    (rc = finish_fixed(&nft_rs, RULESET_NFT, &text, NULL)))
			return rc;
		src = &nft_rs;
	}
	buf_append(&text, src->text, src->len);
	if (text.len && text.data[text.len - 1] != '\n')
		buf_append(&text, "\n", 1);
	bool added = add_flowtable(src, devices, n_devices, &text, where, sizeof(where));
	ruleset_free(&nft_rs);
	if (!added) {
		buf_free(&text);
		snprintf(note, notelen, "flowtable applies to the forward hook only: no filter chain "
			 "of family ip or inet there");
		return 1;
	}
	rc = finish_fixed(fixed, RULESET_NFT, &text, NULL);
	snprintf(note, notelen, "%sestablished TCP/UDP flows are offloaded to flowtable " FLOWTABLE_NAME
		 " (in forward chain %s): once offloaded, their packets skip the forward hook's "
		 "rules, so a rule set that would drop a flow's later packets no longer does",
		 orig->format == RULESET_IPTABLES
			 ? "translated to nft (iptables has no flowtable; iptables-restore-translate); "
			 : "",
		 where);
	return rc;
}

int ruleset_fix(const struct ruleset *orig, enum ruleset_fix fix, const char *scratch_netns,
		const char *const *devices, int n_devices, struct ruleset *fixed,
		char *note, size_t notelen, struct nf_error *err)
{
	memset(fixed, 0, sizeof(*fixed));
	note[0] = '\0';
	switch (fix) {
	case FIX_NFT_OPTIMIZE:
		return fix_nft_optimize(orig, scratch_netns, fixed, note, notelen, err);
	case FIX_IPSET:
		return fix_ipset(orig, fixed, note, notelen);
	case FIX_ESTABLISHED_FIRST:
		return orig->format == RULESET_IPTABLES
			       ? fix_established_ipt(orig, fixed, note, notelen)
			       : fix_established_nft(orig, fixed, note, notelen);
	case FIX_FLOWTABLE:
		return fix_flowtable(orig, scratch_netns, devices, n_devices, fixed, note, notelen,
				     err);
	default:
		return nf_fail(err, EXIT_USAGE, "unknown fix %d", (int)fix);
	}
}
