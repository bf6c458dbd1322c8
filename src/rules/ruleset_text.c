/* rules/ruleset_text: a user's rule set as text, without the kernel:
 * recognising its format, walking iptables-save and nft text (block style
 * and command style), counting its tables, chains, rules and sets, and the
 * standard iptables tables' built-in chains. Linked into unit tests alone
 * (no kernel libraries): see the Makefile's PURE_test_ruleset_text. */
#include "rules/ruleset.h"
#include "rules/ruleset_internal.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* --- describing --- */

const char *rs_skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static bool starts_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	return !strncmp(s, w, n) && (s[n] == '\0' || isspace((unsigned char)s[n]) || s[n] == '{');
}

const char *rs_word(const char *s, char *w, size_t len)
{
	size_t n;

	s = rs_skip_space(s);
	n = strcspn(s, " \t\r\n");
	snprintf(w, len, "%.*s", (int)(n < len ? n : len - 1), s);
	return s + n;
}

static struct ruleset_chain *add_chain(struct ruleset *rs, const char *family, const char *table,
				       const char *name)
{
	struct ruleset_chain *c;

	for (int i = 0; i < rs->n_chain_entries; i++) {
		c = &rs->chains[i];
		if (!strcmp(c->family, family) && !strcmp(c->table, table) && !strcmp(c->name, name))
			return c;
	}
	c = realloc(rs->chains, sizeof(*c) * (size_t)(rs->n_chain_entries + 1));
	if (!c) /* out of memory while describing: nothing sensible is left to do */
		abort();
	rs->chains = c;
	c = &rs->chains[rs->n_chain_entries++];
	memset(c, 0, sizeof(*c));
	snprintf(c->family, sizeof(c->family), "%s", family);
	snprintf(c->table, sizeof(c->table), "%s", table);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->hook = RULESET_HOOK_USER;
	return c;
}

/* iptables' built-in chains: the table's hooks and their priorities. */
static const struct {
	const char *table, *chain;
	int hook, priority;
	const char *type;
} ipt_builtin[] = {
	{ "raw", "PREROUTING", NFHOOK_PRE_ROUTING, -300, "filter" },
	{ "raw", "OUTPUT", NFHOOK_LOCAL_OUT, -300, "filter" },
	{ "mangle", "PREROUTING", NFHOOK_PRE_ROUTING, -150, "filter" },
	{ "mangle", "INPUT", NFHOOK_LOCAL_IN, -150, "filter" },
	{ "mangle", "FORWARD", NFHOOK_FORWARD, -150, "filter" },
	{ "mangle", "OUTPUT", NFHOOK_LOCAL_OUT, -150, "route" },
	{ "mangle", "POSTROUTING", NFHOOK_POST_ROUTING, -150, "filter" },
	{ "nat", "PREROUTING", NFHOOK_PRE_ROUTING, -100, "nat" },
	{ "nat", "INPUT", NFHOOK_LOCAL_IN, 100, "nat" },
	{ "nat", "OUTPUT", NFHOOK_LOCAL_OUT, -100, "nat" },
	{ "nat", "POSTROUTING", NFHOOK_POST_ROUTING, 100, "nat" },
	{ "filter", "INPUT", NFHOOK_LOCAL_IN, 0, "filter" },
	{ "filter", "FORWARD", NFHOOK_FORWARD, 0, "filter" },
	{ "filter", "OUTPUT", NFHOOK_LOCAL_OUT, 0, "filter" },
	{ "security", "INPUT", NFHOOK_LOCAL_IN, 50, "filter" },
	{ "security", "FORWARD", NFHOOK_FORWARD, 50, "filter" },
	{ "security", "OUTPUT", NFHOOK_LOCAL_OUT, 50, "filter" },
};

static void ipt_chain_kind(struct ruleset_chain *c)
{
	for (size_t i = 0; i < sizeof(ipt_builtin) / sizeof(ipt_builtin[0]); i++)
		if (!strcmp(ipt_builtin[i].table, c->table) && !strcmp(ipt_builtin[i].chain, c->name)) {
			c->hook = ipt_builtin[i].hook;
			c->priority = ipt_builtin[i].priority;
			snprintf(c->type, sizeof(c->type), "%s", ipt_builtin[i].type);
		}
}

bool rs_ipt_builtin(const char *table, const char *chain)
{
	for (size_t i = 0; i < sizeof(ipt_builtin) / sizeof(ipt_builtin[0]); i++)
		if (!strcmp(ipt_builtin[i].table, table) && !strcmp(ipt_builtin[i].chain, chain))
			return true;
	return false;
}

int rs_ipt_builtin_policies(const char *table, struct buf *out)
{
	int n = (int)(sizeof(ipt_builtin) / sizeof(ipt_builtin[0]));

	for (int i = 0; table && i < n; i++)
		if (!strcmp(ipt_builtin[i].table, table))
			buf_printf(out, ":%s ACCEPT [0:0]\n", ipt_builtin[i].chain);
	return n;
}

void rs_lines(const char *text, void (*fn)(char *line, void *arg), void *arg)
{
	struct buf l = { 0 };

	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		l.len = 0;
		buf_append(&l, p, n);
		fn(l.data, arg);
		p += n;
		if (*p)
			p++;
	}
	buf_free(&l);
}

struct ipt_desc {
	struct ruleset *rs;
	char table[32];
	char (*sets)[32];
	int n_sets;
};

static void ipt_desc_line(char *line, void *arg)
{
	struct ipt_desc *d = arg;
	char w[64], chain[64];
	const char *p = rs_skip_space(line);

	if (*p == '*') {
		snprintf(d->table, sizeof(d->table), "%s", p + 1);
		d->table[strcspn(d->table, " \t\r")] = '\0';
		d->rs->n_tables++;
	} else if (*p == ':') {
		rs_word(p + 1, chain, sizeof(chain));
		ipt_chain_kind(add_chain(d->rs, "ip", d->table, chain));
	} else if (!strncmp(p, "-A ", 3) || !strncmp(p, "-I ", 3) || !strncmp(p, "-N ", 3)) {
		bool rule = p[1] != 'N';
		rs_word(p + 3, chain, sizeof(chain));
		struct ruleset_chain *c = add_chain(d->rs, "ip", d->table, chain);
		ipt_chain_kind(c);
		if (rule) {
			c->rules++;
			d->rs->n_rules++;
		}
		for (const char *m = strstr(p, "--match-set "); m; m = strstr(m + 1, "--match-set ")) {
			rs_word(m + 12, w, sizeof(w));
			bool seen = false;
			for (int i = 0; i < d->n_sets; i++)
				seen |= !strcmp(d->sets[i], w);
			if (!seen) {
				d->sets = realloc(d->sets, sizeof(*d->sets) * (size_t)(d->n_sets + 1));
				if (!d->sets)
					abort();
				snprintf(d->sets[d->n_sets++], sizeof(*d->sets), "%s", w);
			}
		}
	}
}

/* --- nft text: block style (`nft list ruleset`) and command style (`nft -f` scripts) --- */

static int nft_priority(const char *s)
{
	static const struct { const char *name; int value; } names[] = {
		{ "raw", -300 }, { "mangle", -150 }, { "dstnat", -100 }, { "filter", 0 },
		{ "security", 50 }, { "srcnat", 100 }, { "out", 100 },
	};
	char w[32];
	int v = 0;

	s = rs_word(s, w, sizeof(w));
	w[strcspn(w, ";")] = '\0';
	if (isdigit((unsigned char)w[0]) || w[0] == '-')
		return atoi(w);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, w))
			v = names[i].value;
	s = rs_word(s, w, sizeof(w));
	if (!strcmp(w, "+") || !strcmp(w, "-")) {
		char n[32];
		rs_word(s, n, sizeof(n));
		v += (w[0] == '-' ? -1 : 1) * atoi(n);
	}
	return v;
}

/* "type filter hook input priority 0; policy accept;" into the chain. */
static void nft_chain_decl(struct ruleset_chain *c, const char *s)
{
	char w[32];
	const char *p = strstr(s, "type ");

	if (!p || !strstr(s, " hook "))
		return;
	rs_word(p + 5, c->type, sizeof(c->type));
	rs_word(strstr(s, " hook ") + 6, w, sizeof(w));
	w[strcspn(w, ";")] = '\0';
	c->hook = RULESET_HOOK_OTHER;
	if (!strcmp(c->family, "ip") || !strcmp(c->family, "inet")) {
		enum nfhook h;
		if (strcmp(w, "ingress") && strcmp(w, "egress") && nfhook_parse(w, &h) &&
		    h < NFHOOK_COUNT)
			c->hook = (int)h;
	}
	if ((p = strstr(s, " priority ")))
		c->priority = nft_priority(p + 10);
}

enum nft_ctx_kind { K_TABLE, K_CHAIN, K_OTHER, K_RULE };

struct nft_walk {
	struct ruleset *rs;
	/* called for every rule: its chain (NULL when unknown) and its text */
	void (*on_rule)(struct ruleset_chain *c, const char *rule, void *arg);
	void *arg;
	enum nft_ctx_kind stack[16];
	int depth;
	char family[16], table[32];
	struct ruleset_chain *chain;
	struct buf rule; /* a rule over several lines, until its braces close */
};

static int brace_balance(const char *s)
{
	int n = 0;
	bool q = false;

	for (; *s; s++) {
		if (*s == '"')
			q = !q;
		else if (!q && *s == '{')
			n++;
		else if (!q && *s == '}')
			n--;
		else if (!q && *s == '#')
			break; /* a comment to the line's end */
	}
	return n;
}

static void nft_rule(struct nft_walk *w, const char *text)
{
	w->rs->n_rules++;
	if (w->chain)
		w->chain->rules++;
	if (w->on_rule)
		w->on_rule(w->chain, text, w->arg);
}

/* "add rule ip filter OUTPUT ..." and its kin. */
static void nft_command(struct nft_walk *w, const char *p)
{
	char verb[16], obj[16], fam[16], table[32], name[64];
	const char *q = rs_word(p, verb, sizeof(verb));

	if (strcmp(verb, "add") && strcmp(verb, "insert") && strcmp(verb, "create") &&
	    strcmp(verb, "replace"))
		return; /* flush, delete, define, include, list: nothing to count */
	q = rs_word(q, obj, sizeof(obj));
	q = rs_word(q, fam, sizeof(fam));
	/* The family may be left out: ip then. */
	if (strcmp(fam, "ip") && strcmp(fam, "ip6") && strcmp(fam, "inet") && strcmp(fam, "arp") &&
	    strcmp(fam, "bridge") && strcmp(fam, "netdev")) {
		snprintf(table, sizeof(table), "%s", fam);
		snprintf(fam, sizeof(fam), "ip");
	} else {
		q = rs_word(q, table, sizeof(table));
	}
	if (!strcmp(obj, "table")) {
		w->rs->n_tables++;
		return;
	}
	q = rs_word(q, name, sizeof(name));
	if (!strcmp(obj, "chain")) {
		struct ruleset_chain *c = add_chain(w->rs, fam, table, name);
		nft_chain_decl(c, q);
	} else if (!strcmp(obj, "rule")) {
		w->chain = add_chain(w->rs, fam, table, name);
		/* "position N" / "handle N" / "index N" before the rule itself */
		char kw[16], num[32];
		const char *r = rs_word(q, kw, sizeof(kw));
		if (!strcmp(kw, "position") || !strcmp(kw, "handle") || !strcmp(kw, "index"))
			q = rs_word(r, num, sizeof(num));
		nft_rule(w, rs_skip_space(q));
		w->chain = NULL;
	} else if (!strcmp(obj, "set") || !strcmp(obj, "map")) {
		w->rs->n_sets++;
	}
}

/* A line outside any block: "table [family] name {" opens one, anything
 * else is a command ("add rule ..."). */
static void nft_top_line(struct nft_walk *w, const char *p, int bal)
{
	char kw[16], fam[16], table[32];
	const char *q = rs_word(p, kw, sizeof(kw));

	if (strcmp(kw, "table") || bal <= 0) {
		nft_command(w, p);
		if (bal > 0 && w->depth < 16) /* "add chain ... {" over several lines: skip */
			w->stack[w->depth++] = K_OTHER;
		return;
	}
	q = rs_word(q, fam, sizeof(fam));
	if (!strcmp(fam, "{") || brace_balance(fam)) /* "table name {": ip */
		snprintf(fam, sizeof(fam), "ip"), q = p + 6;
	q = rs_word(q, table, sizeof(table));
	if (!strcmp(table, "{")) { /* "table name {" */
		snprintf(table, sizeof(table), "%s", fam);
		snprintf(fam, sizeof(fam), "ip");
	}
	snprintf(w->family, sizeof(w->family), "%s", fam);
	snprintf(w->table, sizeof(w->table), "%s", table);
	w->rs->n_tables++;
	w->stack[w->depth++] = K_TABLE;
}

static void nft_desc_line(char *line, void *arg)
{
	struct nft_walk *w = arg;
	char *p = (char *)rs_skip_space(line);
	int bal = brace_balance(p);
	enum nft_ctx_kind top = w->depth ? w->stack[w->depth - 1] : K_OTHER;

	if (w->depth && top == K_RULE) { /* a rule's continuation */
		buf_printf(&w->rule, " %s", p);
		if (brace_balance(w->rule.data) <= 0) { /* its braces closed: the rule ends */
			w->depth--;
			nft_rule(w, w->rule.data);
		}
		return;
	}
	if (!*p || *p == '#')
		return;
	if (*p == '}') {
		if (w->depth) {
			if (w->stack[w->depth - 1] == K_CHAIN)
				w->chain = NULL;
			w->depth--;
		}
		return;
	}
	if (w->depth == 0) {
		nft_top_line(w, p, bal);
		return;
	}
	if (top == K_TABLE) {
		char kw[16], name[64];
		const char *q = rs_word(p, kw, sizeof(kw));
		rs_word(q, name, sizeof(name));
		if (!strcmp(kw, "chain")) {
			w->chain = add_chain(w->rs, w->family, w->table, name);
			if (bal > 0 && w->depth < 16)
				w->stack[w->depth++] = K_CHAIN;
			return;
		}
		if (!strcmp(kw, "set") || !strcmp(kw, "map"))
			w->rs->n_sets++;
		if (bal > 0 && w->depth < 16)
			w->stack[w->depth++] = K_OTHER;
		return;
	}
	if (top == K_CHAIN) {
		if (starts_word(p, "type") || starts_word(p, "policy") || starts_word(p, "comment") ||
		    starts_word(p, "devices") || starts_word(p, "device")) {
			if (w->chain)
				nft_chain_decl(w->chain, p);
			return;
		}
		if (bal > 0 && w->depth < 16) {
			w->rule.len = 0;
			buf_printf(&w->rule, "%s", p);
			w->stack[w->depth++] = K_RULE;
			return;
		}
		nft_rule(w, p);
		return;
	}
	/* inside a set, a map, or another object: only its braces matter */
	if (bal > 0 && w->depth < 16)
		w->stack[w->depth++] = K_OTHER;
	else if (bal < 0 && w->depth)
		w->depth--;
}

void rs_nft_walk(struct ruleset *rs, const char *text,
		 void (*on_rule)(struct ruleset_chain *c, const char *rule, void *arg), void *arg)
{
	struct nft_walk w = { .rs = rs, .on_rule = on_rule, .arg = arg };

	rs_lines(text, nft_desc_line, &w);
	buf_free(&w.rule);
}

/* --- reading --- */

static bool is_comment_or_blank(const char *l)
{
	l = rs_skip_space(l);
	return !*l || *l == '\n' || *l == '#';
}

/* The first line that says something, for recognising the format. */
static const char *first_statement(const char *text, const char **comment_seen)
{
	for (const char *p = text; *p;) {
		if (!is_comment_or_blank(p))
			return rs_skip_space(p);
		if (comment_seen && strstr(p, "ip6tables") && strstr(p, "ip6tables") < p + strcspn(p, "\n"))
			*comment_seen = p;
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return NULL;
}
static bool ipt_has_ipv6(const char *text)
{
	for (const char *p = text; (p = strstr(p, " -")); p++) {
		if ((p[2] == 's' || p[2] == 'd') && p[3] == ' ') {
			char w[80];
			rs_word(p + 4, w, sizeof(w));
			if (strchr(w, ':'))
				return true;
		}
	}
	return false;
}

void rs_describe(struct ruleset *rs)
{
	free(rs->chains);
	rs->chains = NULL;
	rs->n_chain_entries = rs->n_rules = rs->n_chains = rs->n_sets = rs->n_tables = 0;
	if (rs->format == RULESET_IPTABLES) {
		struct ipt_desc d = { .rs = rs, .table = "filter" };
		rs_lines(rs->text, ipt_desc_line, &d);
		rs->n_sets = d.n_sets;
		free(d.sets);
	} else {
		rs_nft_walk(rs, rs->text, NULL, NULL);
	}
	if (rs->ipset_text) {
		int n = 0;
		for (const char *p = rs->ipset_text; (p = strstr(p, "create ")); p++)
			if (p == rs->ipset_text || p[-1] == '\n')
				n++;
		rs->n_sets = n;
	}
	rs->n_chains = rs->n_chain_entries;
}

int rs_parse_text(const char *text, struct ruleset *rs, struct nf_error *err)
{
	const char *ip6 = NULL, *first;

	memset(rs, 0, sizeof(*rs));
	rs->family = AF_INET;
	first = first_statement(text, &ip6);
	if (!first) {
		return nf_fail(err, EXIT_USAGE, "the rule set is empty: give an iptables-save or nft "
			       "list ruleset text");
	}
	if (*first == '*' || *first == ':' || !strncmp(first, "-A ", 3) || starts_word(first, "COMMIT")) {
		rs->format = RULESET_IPTABLES;
		if (ip6 || ipt_has_ipv6(text)) {
			return nf_fail(err, EXIT_USAGE, "this is an ip6tables rule set: nfcost profiles "
				       "IPv4 rule sets (iptables-save or nft) only");
		}
	} else {
		static const char *const nft_words[] = { "table", "add", "insert", "flush", "define",
							 "include", "create", "delete", "destroy",
							 "replace", "list", "reset" };
		bool nft = false;
		for (size_t i = 0; i < sizeof(nft_words) / sizeof(nft_words[0]); i++)
			nft |= starts_word(first, nft_words[i]);
		if (!nft) {
			return nf_fail(err, EXIT_USAGE, "not a rule set: the first line (%.40s) is "
				       "neither iptables-save (*table, :CHAIN, -A) nor nft (table, add, "
				       "flush ...) syntax", first);
		}
		rs->format = RULESET_NFT;
	}
	rs->len = strlen(text);
	rs->text = strdup(text);
	if (!rs->text)
		return nf_fail(err, EXIT_RUNTIME, "out of memory");
	rs_describe(rs);
	return 0;
}

/* --- helpers of reading the host --- */

/* The save tools' dates, nft's warnings about iptables-nft's tables. */
void rs_strip_comment_lines(struct buf *b)
{
	size_t o = 0;

	for (size_t i = 0; b->data && i < b->len;) {
		size_t n = strcspn(b->data + i, "\n");
		bool keep = b->data[i] != '#';
		if (keep) {
			memmove(b->data + o, b->data + i, n);
			o += n;
			if (i + n < b->len)
				b->data[o++] = '\n';
		}
		i += n + (i + n < b->len);
	}
	if (b->data) {
		b->len = o;
		b->data[o] = '\0';
	}
}

int rs_count_prefixed(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);

	for (const char *p = text; p && *p;) {
		if (!strncmp(p, prefix, pl))
			n++;
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return n;
}
const char *ruleset_format_name(enum ruleset_format f)
{
	return f == RULESET_IPTABLES ? "iptables" : "nft";
}

void ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return;
	free(rs->text);
	free(rs->ipset_text);
	free(rs->chains);
	memset(rs, 0, sizeof(*rs));
}
