/* rules/ruleset_samples: sample packets that exercise a user's rule set
 * (ruleset.h's ruleset_samples), from its text alone: pure, linked into
 * unit tests without kernel libraries. */
#include "rules/ruleset.h"
#include "rules/ruleset_internal.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

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
	const char *p = rs_skip_space(line);

	if (strncmp(p, "-A ", 3))
		return;
	for (const char *q = p; *(q = rs_skip_space(q));) {
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
			dport = (unsigned)strtoul(rs_skip_space(k + 7), NULL, 10);
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
		char *e = (char *)rs_skip_space(el);
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

