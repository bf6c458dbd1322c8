/* A user's rule set: reading, describing, loading, flushing, the kernel's
 * base chains, samples. The fixes live in ruleset_fix.c. */
#include "rules/ruleset.h"
#include "rules/ruleset_internal.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/util.h"

/* A rule set bigger than this is not a saved firewall but a mistake. */
#define RULESET_MAX_BYTES (512UL << 20)

void rs_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* A program's messages as one line: lines joined with "; ", iptables'
 * "Try `... -h'" advice left out. */
void rs_one_line(const char *msg, char *line, size_t len)
{
	size_t o = 0;

	line[0] = '\0';
	for (const char *l = msg ? msg : ""; *l && o + 1 < len;) {
		size_t n = strcspn(l, "\n");
		while (n && isspace((unsigned char)l[n - 1]))
			n--;
		if (n && strncmp(l, "Try `", 5))
			o += (size_t)snprintf(line + o, len - o, "%s%.*s", o ? "; " : "", (int)n, l);
		l += strcspn(l, "\n");
		if (*l)
			l++;
	}
}

/* --- libnftables inside a namespace --- */

/* nft's error: its first line, "FILE:L:C-C: Error: ..." made "line L,
 * column C-C: Error: ...", and the source line it quotes. */
static void nft_error_line(const char *err, const char *file, char *line, size_t len)
{
	char first[512] = "", src[256] = "";
	const char *p = err ? err : "";
	size_t n = strcspn(p, "\n");

	snprintf(first, sizeof(first), "%.*s", (int)n, p);
	if (p[n]) {
		const char *s = p + n + 1;
		s += strspn(s, " \t");
		snprintf(src, sizeof(src), "%.*s", (int)strcspn(s, "\n"), s);
	}
	size_t fl = file ? strlen(file) : 0;
	if (fl && !strncmp(first, file, fl) && first[fl] == ':') {
		char *loc = first + fl + 1;
		unsigned l = 0;
		int used = 0;
		if (sscanf(loc, "%u:%n", &l, &used) == 1) {
			char rest[512];
			snprintf(rest, sizeof(rest), "%s", loc + used);
			snprintf(first, sizeof(first), "line %u, column %s", l, rest);
		}
	}
	snprintf(line, len, "%s%s%s%s", first[0] ? first : "the transaction failed",
		 src[0] ? " (in: " : "", src, src[0] ? ")" : "");
}

/* as_file: the text goes in as a file (a memfd), so that nft's errors name
 * its line; else as a command buffer. */
static int nft_exec(const char *netns_path, const char *cmd, bool optimize, bool as_file,
		    struct buf *out, char *why, size_t len)
{
	struct nft_ctx *nft;
	int saved = -1, rc, fd = -1;
	char path[64] = "";

	if (netns_path && netns_enter(netns_path, &saved)) {
		rs_why(why, len, "cannot enter %s: %s", netns_path, strerror(errno));
		return EXIT_RUNTIME;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		netns_leave(saved);
		rs_why(why, len, "libnftables: cannot create a context");
		return EXIT_RUNTIME;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (optimize)
		nft_ctx_set_optimize(nft, NFT_OPTIMIZE_ENABLED);
	if (as_file && (fd = memfd_create("ruleset", MFD_CLOEXEC)) >= 0) {
		size_t n = strlen(cmd), w = 0;
		while (w < n) {
			ssize_t k = write(fd, cmd + w, n - w);
			if (k <= 0)
				break;
			w += (size_t)k;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		rc = w == n ? nft_run_cmd_from_filename(nft, path) : -1;
	} else {
		rc = nft_run_cmd_from_buffer(nft, cmd);
	}
	if (rc == 0 && out) {
		const char *o = nft_ctx_get_output_buffer(nft);
		/* The optimizer reports what it merged on the output: only a
		 * listing is wanted there. */
		if (!optimize)
			buf_append(out, o, strlen(o));
	} else if (rc != 0) {
		char line[1024];
		nft_error_line(nft_ctx_get_error_buffer(nft), path[0] ? path : NULL, line,
			       sizeof(line));
		rs_why(why, len, "nft: %s", line);
	}
	if (fd >= 0)
		close(fd);
	nft_ctx_free(nft);
	netns_leave(saved);
	return rc ? EXIT_USAGE : EXIT_OK;
}

int rs_nft(const char *netns_path, const char *cmd, bool optimize, struct buf *out,
	   char *why, size_t len)
{
	return nft_exec(netns_path, cmd, optimize, false, out, why, len);
}

int rs_nft_load(const char *netns_path, const char *text, bool optimize, char *why, size_t len)
{
	return nft_exec(netns_path, text, optimize, true, NULL, why, len);
}

/* Runs argv in the namespace; EXIT_USAGE with the program's messages when it
 * fails, EXIT_RUNTIME when it cannot run. */
int rs_run(const char *netns_path, char *const argv[], const char *input, size_t in_len,
	   struct buf *out, char *why, size_t len)
{
	struct buf err = { 0 };
	int rc = run_program(netns_path, argv, input, in_len, out, &err);

	if (rc < 0) {
		rs_why(why, len, errno == ENOENT ? "%s is not installed: run scripts/install-deps.sh"
						 : "cannot run %s: %s", argv[0], strerror(errno));
		buf_free(&err);
		return EXIT_RUNTIME;
	}
	if (rc != 0) {
		char line[1024];
		rs_one_line(err.data, line, sizeof(line));
		/* iptables-restore names itself ("iptables-restore v1.8.9 (legacy): ...") */
		bool named = !strncmp(line, argv[0], strlen(argv[0])) ||
			     !strncmp(line, "iptables-restore", 16);
		rs_why(why, len, "%s%s%s", named ? "" : argv[0], named ? "" : ": ",
		       line[0] ? line : "failed with no message");
		buf_free(&err);
		return EXIT_USAGE;
	}
	buf_free(&err);
	return EXIT_OK;
}

/* --- describing --- */

static const char *skip_space(const char *s)
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

/* The next whitespace-separated word of s into w; returns what follows. */
const char *rs_word(const char *s, char *w, size_t len)
{
	size_t n;

	s = skip_space(s);
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
	if (!c) {
		nf_err("out of memory");
		abort();
	}
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

/* Calls fn for every line of text (without its newline, in a scratch copy). */
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
	const char *p = skip_space(line);

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
		nft_rule(w, skip_space(q));
		w->chain = NULL;
	} else if (!strcmp(obj, "set") || !strcmp(obj, "map")) {
		w->rs->n_sets++;
	}
}

static void nft_desc_line(char *line, void *arg)
{
	struct nft_walk *w = arg;
	char *p = (char *)skip_space(line);
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
		char kw[16], fam[16], table[32];
		const char *q = rs_word(p, kw, sizeof(kw));
		if (!strcmp(kw, "table") && bal > 0) {
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
		} else {
			nft_command(w, p);
			if (bal > 0 && w->depth < 16) /* "add chain ... {" over several lines: skip */
				w->stack[w->depth++] = K_OTHER;
		}
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
	l = skip_space(l);
	return !*l || *l == '\n' || *l == '#';
}

/* The first line that says something, for recognising the format. */
static const char *first_statement(const char *text, const char **comment_seen)
{
	for (const char *p = text; *p;) {
		if (!is_comment_or_blank(p))
			return skip_space(p);
		if (comment_seen && strstr(p, "ip6tables") && strstr(p, "ip6tables") < p + strcspn(p, "\n"))
			*comment_seen = p;
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return NULL;
}

static void digest_of(const char *text, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) || n != 32) {
		hex[0] = '\0';
		return;
	}
	for (unsigned i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

/* An iptables-save address with a ':' is IPv6: ip6tables-save text. */
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

int rs_describe(struct ruleset *rs, char *why, size_t len)
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
	digest_of(rs->text, rs->len, rs->digest);
	(void)why;
	(void)len;
	return EXIT_OK;
}

int ruleset_read_text(const char *text, struct ruleset *rs, char *why, size_t len)
{
	const char *ip6 = NULL, *first;

	memset(rs, 0, sizeof(*rs));
	rs->family = AF_INET;
	first = first_statement(text, &ip6);
	if (!first) {
		rs_why(why, len, "the rule set is empty: give an iptables-save or nft list ruleset text");
		return EXIT_USAGE;
	}
	if (*first == '*' || *first == ':' || !strncmp(first, "-A ", 3) || starts_word(first, "COMMIT")) {
		rs->format = RULESET_IPTABLES;
		if (ip6 || ipt_has_ipv6(text)) {
			rs_why(why, len, "this is an ip6tables rule set: nfcost profiles IPv4 rule sets "
					 "(iptables-save or nft) only");
			return EXIT_USAGE;
		}
	} else {
		static const char *const nft_words[] = { "table", "add", "insert", "flush", "define",
							 "include", "create", "delete", "destroy",
							 "replace", "list", "reset" };
		bool nft = false;
		for (size_t i = 0; i < sizeof(nft_words) / sizeof(nft_words[0]); i++)
			nft |= starts_word(first, nft_words[i]);
		if (!nft) {
			rs_why(why, len, "not a rule set: the first line (%.40s) is neither iptables-save "
					 "(*table, :CHAIN, -A) nor nft (table, add, flush ...) syntax",
			       first);
			return EXIT_USAGE;
		}
		rs->format = RULESET_NFT;
	}
	rs->len = strlen(text);
	rs->text = strdup(text);
	if (!rs->text) {
		rs_why(why, len, "out of memory");
		return EXIT_RUNTIME;
	}
	return rs_describe(rs, why, len);
}

int ruleset_read_file(const char *path, struct ruleset *rs, char *why, size_t len)
{
	struct buf b = { 0 };
	char chunk[65536];
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t n;
	int rc;

	memset(rs, 0, sizeof(*rs));
	if (!f) {
		rs_why(why, len, "cannot read the rule set %s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (memchr(chunk, '\0', n)) {
			rs_why(why, len, "%s is not a text file: give an iptables-save or nft list "
					 "ruleset text", strcmp(path, "-") ? path : "stdin");
			rc = EXIT_USAGE;
			goto out;
		}
		if (b.len + n > RULESET_MAX_BYTES) {
			rs_why(why, len, "%s is larger than %lu MB: not a rule set nfcost takes", path,
			       RULESET_MAX_BYTES >> 20);
			rc = EXIT_USAGE;
			goto out;
		}
		buf_append(&b, chunk, n);
	}
	if (ferror(f)) {
		rs_why(why, len, "cannot read the rule set %s: %s", path, strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	rc = ruleset_read_text(b.data ? b.data : "", rs, why, len);
out:
	if (f != stdin)
		fclose(f);
	buf_free(&b);
	return rc;
}

/* --- the host, read only --- */

/* Drops the lines that are only comments (the save tools' dates, nft's
 * warnings about iptables-nft's tables). */
static void strip_comment_lines(struct buf *b)
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

static int count_prefixed(const char *text, const char *prefix)
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

int ruleset_read_host(struct ruleset *rs, char *note, size_t notelen, char *why, size_t len)
{
	struct buf legacy = { 0 }, ipt = { 0 }, nft = { 0 };
	char tables[512] = "", err[256];
	int rc;

	memset(rs, 0, sizeof(*rs));
	/* Only reads: iptables-legacy-save lists the tables the kernel already
	 * has (and none when ip_tables is not loaded), iptables-nft-save and
	 * `list ruleset` are netlink dumps. */
	if (read_small_file("/proc/self/net/ip_tables_names", tables, sizeof(tables)) > 0 &&
	    tables[0]) {
		char *argv[] = { "iptables-legacy-save", NULL };
		if ((rc = rs_run(NULL, argv, NULL, 0, &legacy, why, len)))
			goto out;
	}
	if (program_exists("iptables-nft-save")) {
		char *argv[] = { "iptables-nft-save", NULL };
		if ((rc = rs_run(NULL, argv, NULL, 0, &ipt, why, len)))
			goto out;
	}
	if ((rc = rs_nft(NULL, "list ruleset", false, &nft, err, sizeof(err)))) {
		rs_why(why, len, "cannot list the host's nft rule set: %s", err);
		goto out;
	}
	strip_comment_lines(&legacy);
	strip_comment_lines(&ipt);
	strip_comment_lines(&nft);

	/* nft's listing holds iptables-nft's tables too; it is the native rule
	 * set when it has tables iptables-nft-save does not show. */
	struct ruleset n_rs = { 0 }, i_rs = { 0 }, l_rs = { 0 };
	int n_native_tables = 0;
	if (nft.len && !ruleset_read_text(nft.data, &n_rs, err, sizeof(err))) {
		n_native_tables = n_rs.n_tables;
		for (const char *p = ipt.data; p && (p = strstr(p, "\n*")); p++)
			n_native_tables--;
		if (ipt.data && ipt.data[0] == '*')
			n_native_tables--;
	}
	int l_rules = legacy.len && !ruleset_read_text(legacy.data, &l_rs, err, sizeof(err))
			      ? l_rs.n_rules : -1;
	int i_rules = ipt.len && !ruleset_read_text(ipt.data, &i_rs, err, sizeof(err))
			      ? i_rs.n_rules : -1;
	int n_rules = n_native_tables > 0 ? n_rs.n_rules - (i_rules > 0 ? i_rules : 0) : -1;
	const char *took;
	struct buf *pick;

	if (n_rules >= 0 && n_rules >= i_rules && n_rules >= l_rules) {
		took = "nft list ruleset";
		pick = &nft;
	} else if (i_rules >= 0 && i_rules >= l_rules) {
		took = "iptables-nft-save";
		pick = &ipt;
	} else if (l_rules >= 0) {
		took = "iptables-legacy-save";
		pick = &legacy;
	} else {
		/* No rules anywhere: what the host does is what an empty filter
		 * table with ACCEPT policies does, the baseline any rule set adds
		 * to. Profile that, and say so. */
		static const char empty[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
					    ":OUTPUT ACCEPT [0:0]\nCOMMIT\n";
		snprintf(note, notelen, "the host has no rules (iptables-legacy-save, iptables-nft-save "
			 "and nft list ruleset are all empty): profiled as an empty filter table "
			 "with ACCEPT policies");
		ruleset_free(&n_rs), ruleset_free(&i_rs), ruleset_free(&l_rs);
		rc = ruleset_read_text(empty, rs, why, len);
		goto out;
	}
	snprintf(note, notelen, "took %s (the source with the most rules: legacy %d, iptables-nft %d, "
		 "native nft %d)%s", took, l_rules < 0 ? 0 : l_rules, i_rules < 0 ? 0 : i_rules,
		 n_rules < 0 ? 0 : n_rules,
		 (l_rules > 0) + (i_rules > 0) + (n_rules > 0) > 1
			 ? "; the other sources' rules are left out of the profile" : "");
	ruleset_free(&n_rs), ruleset_free(&i_rs), ruleset_free(&l_rs);
	rc = ruleset_read_text(pick->data, rs, why, len);
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
			run_program(netns_path, argv, NULL, 0, NULL, NULL);
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
}

int ruleset_load(const char *netns_path, const struct ruleset *rs, enum rules_backend backend,
		 char *why, size_t len)
{
	bool was_empty = ruleset_namespace_empty(netns_path);
	char msg[1024] = "";
	int rc;

	if (rs->format == RULESET_IPTABLES && backend != BACKEND_IPTABLES_NFT &&
	    backend != BACKEND_IPTABLES_LEGACY) {
		rs_why(why, len, "an iptables-save rule set loads with --backend iptables-nft or "
				 "iptables-legacy, not %s", rules_backend_name(backend));
		return EXIT_USAGE;
	}
	if (rs->ipset_text) {
		char *argv[] = { "ipset", "restore", NULL };
		if ((rc = rs_run(netns_path, argv, rs->ipset_text, strlen(rs->ipset_text), NULL, msg,
				 sizeof(msg)))) {
			rs_why(why, len, "the ipsets do not load: %s", msg);
			destroy_sets(netns_path, rs->ipset_text);
			return rc;
		}
	}
	if (rs->format == RULESET_IPTABLES) {
		char *argv[] = { (char *)ipt_program(backend), "--wait", NULL };
		rc = rs_run(netns_path, argv, rs->text, rs->len, NULL, msg, sizeof(msg));
	} else {
		rc = rs_nft_load(netns_path, rs->text, false, msg, sizeof(msg));
	}
	if (rc) {
		rs_why(why, len, "the rule set does not load: %s", msg);
		/* iptables-restore commits table by table: an error in the nat
		 * table leaves filter loaded. Take all of it away again. */
		if (was_empty) {
			char ignored[256];
			ruleset_flush(netns_path, ignored, sizeof(ignored));
		}
		if (rs->ipset_text)
			destroy_sets(netns_path, rs->ipset_text);
	}
	return rc;
}

/* The legacy tables the namespace has (they exist once anything used them). */
static int legacy_tables(const char *netns_path, char *names, size_t len)
{
	int saved;
	long n;

	names[0] = '\0';
	if (netns_enter(netns_path, &saved))
		return -1;
	n = read_small_file("/proc/self/net/ip_tables_names", names, len);
	netns_leave(saved);
	if (n < 0)
		names[0] = '\0';
	return 0;
}

int ruleset_flush(const char *netns_path, char *why, size_t len)
{
	char names[512], msg[512];
	int rc;

	if (legacy_tables(netns_path, names, sizeof(names))) {
		rs_why(why, len, "cannot enter %s: %s", netns_path, strerror(errno));
		return EXIT_RUNTIME;
	}
	/* Legacy tables stay until the namespace goes: empty them, delete their
	 * user chains, and set their built-in chains' policies back to ACCEPT. */
	if (names[0]) {
		struct buf text = { 0 };
		for (char *t = strtok(names, "\n"); t; t = strtok(NULL, "\n")) {
			buf_printf(&text, "*%s\n", t);
			for (size_t i = 0; i < sizeof(ipt_builtin) / sizeof(ipt_builtin[0]); i++)
				if (!strcmp(ipt_builtin[i].table, t))
					buf_printf(&text, ":%s ACCEPT [0:0]\n", ipt_builtin[i].chain);
			buf_printf(&text, "COMMIT\n");
		}
		char *argv[] = { "iptables-legacy-restore", "--wait", NULL };
		rc = rs_run(netns_path, argv, text.data, text.len, NULL, msg, sizeof(msg));
		buf_free(&text);
		if (rc) {
			rs_why(why, len, "cannot flush the legacy tables: %s", msg);
			return EXIT_RUNTIME;
		}
	}
	if ((rc = rs_nft(netns_path, "flush ruleset", false, NULL, msg, sizeof(msg)))) {
		rs_why(why, len, "cannot flush the nft rule set: %s", msg);
		return EXIT_RUNTIME;
	}
	if (program_exists("ipset")) {
		char *argv[] = { "ipset", "destroy", NULL };
		if (rs_run(netns_path, argv, NULL, 0, NULL, msg, sizeof(msg))) {
			rs_why(why, len, "cannot destroy the ipsets: %s", msg);
			return EXIT_RUNTIME;
		}
	}
	return EXIT_OK;
}

bool ruleset_namespace_empty(const char *netns_path)
{
	struct buf out = { 0 };
	char names[512], msg[256];
	bool empty = true;

	if (rs_nft(netns_path, "list ruleset", false, &out, msg, sizeof(msg)) || out.len)
		empty = false;
	out.len = 0;
	if (empty && !legacy_tables(netns_path, names, sizeof(names)) && names[0]) {
		char *argv[] = { "iptables-legacy-save", NULL };
		if (rs_run(netns_path, argv, NULL, 0, &out, msg, sizeof(msg)) ||
		    count_prefixed(out.data, "-A ") || strstr(out.data ? out.data : "", " DROP [") ||
		    count_prefixed(out.data, ":") >
			    (int)(sizeof(ipt_builtin) / sizeof(ipt_builtin[0])))
			empty = false;
		/* user chains: ":NAME - [0:0]" */
		if (out.data && strstr(out.data, " - ["))
			empty = false;
	}
	out.len = 0;
	if (empty && program_exists("ipset")) {
		char *argv[] = { "ipset", "list", "-n", NULL };
		if (rs_run(netns_path, argv, NULL, 0, &out, msg, sizeof(msg)) || out.len)
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
			struct ruleset_chain **out, int *n, char *why, size_t len)
{
	struct ruleset k = { 0 };
	const struct ruleset *src = rs;
	struct buf listing = { 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if (rs->format == RULESET_NFT || b != BACKEND_IPTABLES_LEGACY) {
		/* nf_tables holds both nft's and iptables-nft's: its listing is the truth. */
		char msg[512];
		if ((rc = rs_nft(netns_path, "list ruleset", false, &listing, msg, sizeof(msg)))) {
			rs_why(why, len, "cannot list the loaded rule set: %s", msg);
			return EXIT_RUNTIME;
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
	return EXIT_OK;
}

/* --- samples --- */

struct sampler {
	struct ruleset_sample *s;
	size_t n, max;
};

/* The first usable address of "a.b.c.d[/len]": the address itself for a
 * host (/32, /31 or none), the network's first host otherwise. */
static bool first_address(const char *spec, char *out, size_t len)
{
	char a[64];
	unsigned b[4], plen = 32;
	int used = 0;

	snprintf(a, sizeof(a), "%s", spec);
	char *slash = strchr(a, '/');
	if (slash) {
		*slash = '\0';
		if (sscanf(slash + 1, "%u", &plen) != 1 || plen > 32)
			return false;
	}
	if (sscanf(a, "%u.%u.%u.%u%n", &b[0], &b[1], &b[2], &b[3], &used) != 4 || a[used] ||
	    b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255)
		return false;
	uint32_t v = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	uint32_t mask = plen ? 0xffffffffu << (32 - plen) : 0;
	v &= mask;
	if (plen < 31)
		v += 1;
	snprintf(out, len, "%u.%u.%u.%u", v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255);
	return true;
}

static void add_sample(struct sampler *sm, int proto, const char *src, const char *dst,
		       unsigned dport, const char *origin)
{
	struct ruleset_sample *s;

	if (sm->n >= sm->max)
		return;
	s = realloc(sm->s, sizeof(*s) * (sm->n + 1));
	if (!s) /* out of memory: fewer samples, which the check reports as its count */
		return;
	sm->s = s;
	s = &sm->s[sm->n];
	memset(s, 0, sizeof(*s));
	s->proto = proto;
	if (src && !first_address(src, s->src, sizeof(s->src)))
		return;
	if (dst && !first_address(dst, s->dst, sizeof(s->dst)))
		return;
	s->dport = proto == IPPROTO_ICMP ? 0 : (unsigned short)(dport ? dport : 443);
	snprintf(s->origin, sizeof(s->origin), "%s", origin);
	sm->n++;
}

static int proto_number(const char *p)
{
	if (!strcmp(p, "udp") || !strcmp(p, "17"))
		return IPPROTO_UDP;
	if (!strcmp(p, "icmp") || !strcmp(p, "1"))
		return IPPROTO_ICMP;
	return IPPROTO_TCP;
}

static void ipt_sample_line(char *line, void *arg)
{
	struct sampler *sm = arg;
	char w[128], src[64] = "", dst[64] = "", proto[16] = "tcp";
	unsigned dport = 0;
	bool neg = false;
	const char *p = skip_space(line);

	if (strncmp(p, "-A ", 3))
		return;
	for (const char *q = p; *(q = skip_space(q));) {
		q = rs_word(q, w, sizeof(w));
		if (!strcmp(w, "!")) {
			neg = true;
			continue;
		}
		char v[128];
		if (!strcmp(w, "-d") || !strcmp(w, "--destination") || !strcmp(w, "--dst-range") ||
		    !strcmp(w, "-s") || !strcmp(w, "--source") || !strcmp(w, "--src-range")) {
			q = rs_word(q, v, sizeof(v));
			v[strcspn(v, "-")] = '\0'; /* a range's first address */
			if (!neg)
				snprintf(w[1] == 'd' || w[2] == 'd' ? dst : src, 64, "%s", v);
		} else if (!strcmp(w, "-p") || !strcmp(w, "--protocol")) {
			q = rs_word(q, v, sizeof(v));
			if (!neg)
				snprintf(proto, sizeof(proto), "%s", v);
		} else if (!strcmp(w, "--dport") || !strcmp(w, "--dports") ||
			   !strcmp(w, "--destination-port") || !strcmp(w, "--destination-ports")) {
			q = rs_word(q, v, sizeof(v));
			if (!neg)
				dport = (unsigned)strtoul(v, NULL, 10);
		}
		neg = false;
	}
	if (!dst[0] && !src[0])
		return;
	add_sample(sm, proto_number(proto), src[0] ? src : NULL, dst[0] ? dst : NULL, dport, p);
}

/* After "ip daddr" (or saddr): a value, a prefix, or an anonymous set
 * (every element); a concatenation's elements "addr . port". */
static void nft_sample_rule(struct ruleset_chain *c, const char *rule, void *arg)
{
	struct sampler *sm = arg;
	char proto[16] = "tcp", w[64];
	unsigned dport = 0;
	const char *p;
	bool concat_port = false;
	bool is_dst = true;

	(void)c;
	if ((p = strstr(rule, "ip protocol ")))
		rs_word(p + 12, proto, sizeof(proto));
	if ((p = strstr(rule, "meta l4proto ")))
		rs_word(p + 13, proto, sizeof(proto));
	for (const char *k = rule; (k = strstr(k, "dport ")); k++) {
		if (k > rule + 4 && !strncmp(k - 4, "tcp ", 4))
			snprintf(proto, sizeof(proto), "tcp");
		else if (k > rule + 4 && !strncmp(k - 4, "udp ", 4))
			snprintf(proto, sizeof(proto), "udp");
		rs_word(k + 6, w, sizeof(w));
		if (w[0] != '{')
			dport = (unsigned)strtoul(w, NULL, 10);
		else
			dport = (unsigned)strtoul(skip_space(k + 7), NULL, 10);
		break;
	}
	if (strstr(rule, "icmp type") || !strcmp(proto, "icmp"))
		snprintf(proto, sizeof(proto), "icmp");
	p = strstr(rule, "ip daddr ");
	if (!p) {
		p = strstr(rule, "ip saddr ");
		is_dst = false;
	}
	if (!p)
		return;
	p += 9;
	if (!strncmp(p, "!= ", 3) || *p == '@' || !strncmp(p, "vmap @", 6))
		return;
	if (!strncmp(p, ". ", 2)) { /* ip daddr . tcp dport { a . p, ... } */
		concat_port = strstr(p, "dport") != NULL;
		p = strchr(p, '{');
		if (!p)
			return;
	}
	if (!strncmp(p, "vmap ", 5))
		p += 5;
	int proto_n = proto_number(proto);
	if (*p != '{') {
		rs_word(p, w, sizeof(w));
		add_sample(sm, proto_n, is_dst ? NULL : w, is_dst ? w : NULL, dport, rule);
		return;
	}
	for (p++; *p && *p != '}';) {
		size_t n = strcspn(p, ",}");
		char el[128];
		snprintf(el, sizeof(el), "%.*s", (int)(n < sizeof(el) ? n : sizeof(el) - 1), p);
		char *e = (char *)skip_space(el);
		char *colon = strstr(e, " : ");
		if (colon)
			*colon = '\0';
		unsigned port = dport;
		char *dot = strstr(e, " . ");
		if (dot) {
			*dot = '\0';
			if (concat_port)
				port = (unsigned)strtoul(dot + 3, NULL, 10);
		}
		e[strcspn(e, " \t")] = '\0';
		/* a range "a-b": its first address */
		e[strcspn(e, "-")] = '\0';
		if (*e)
			add_sample(sm, proto_n, is_dst ? NULL : e, is_dst ? e : NULL, port, rule);
		p += n;
		if (*p == ',')
			p++;
	}
}

int ruleset_samples(const struct ruleset *rs, struct ruleset_sample **out, size_t *n, size_t max)
{
	/* Every rule's sample first, then max of them spread evenly over the
	 * rule set, so a rewrite that breaks rules anywhere is likely caught. */
	struct sampler sm = { .max = RULESET_MAX_SAMPLES };

	if (rs->format == RULESET_IPTABLES) {
		rs_lines(rs->text, ipt_sample_line, &sm);
	} else {
		struct ruleset scratch = { .format = RULESET_NFT };
		rs_nft_walk(&scratch, rs->text, nft_sample_rule, &sm);
		free(scratch.chains);
	}
	if (sm.n > max) {
		for (size_t i = 0; i < max; i++)
			sm.s[i] = sm.s[i * sm.n / max];
		sm.n = max;
	}
	if (!sm.n) {
		free(sm.s);
		sm.s = NULL;
	}
	*out = sm.s;
	*n = sm.n;
	return 0;
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
