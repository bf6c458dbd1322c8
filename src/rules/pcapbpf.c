#include "rules/pcapbpf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int dlt;
} linktypes[] = {
	{ "raw", DLT_RAW },
	{ "ethernet", DLT_EN10MB },
};

bool pcapbpf_linktype_parse(const char *name, int *linktype)
{
	for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++)
		if (!strcmp(name, linktypes[i].name)) {
			*linktype = linktypes[i].dlt;
			return true;
		}
	return false;
}

const char *pcapbpf_linktype_names(void) { return "raw|ethernet"; }

/* Is the word at s (of length n) one of libpcap's and/or operators? */
static bool joins_terms(const char *s, size_t n)
{
	return (n == 3 && !strncmp(s, "and", 3)) || (n == 2 && !strncmp(s, "or", 2)) ||
	       (n == 2 && (!strncmp(s, "&&", 2) || !strncmp(s, "||", 2)));
}

/* Refuses, before libpcap sees it, an expression whose compilation could
 * take minutes or hit the parser's own limits (pcapbpf.h). */
static int within_bounds(const char *expr, struct nf_error *err)
{
	size_t len = strlen(expr);
	int terms = 1, depth = 0, deepest = 0;

	for (const char *p = expr; *p;) {
		if (*p == '(' && ++depth > deepest)
			deepest = depth;
		else if (*p == ')')
			depth--;
		/* words: letters, or a run of & and | ("a&&b" is three words) */
		size_t n = isalpha((unsigned char)*p) ? strspn(p, "abcdefghijklmnopqrstuvwxyz")
						     : strspn(p, "&|");
		bool word = isalpha((unsigned char)*p);
		if (n && joins_terms(p, n) &&
		    (!word || ((p == expr || !isalnum((unsigned char)p[-1])) &&
			       !isalnum((unsigned char)p[n]))))
			terms++;
		p += n ? n : 1;
	}
	if (terms > PCAPBPF_MAX_TERMS)
		return nf_fail(err, EXIT_USAGE, "the pcap expression joins %d terms with and/or and "
			       "nfcost takes at most %d (xt_bpf runs at most %d instructions, and "
			       "libpcap's optimizer takes minutes on a few hundred): simplify it",
			       terms, PCAPBPF_MAX_TERMS, PCAPBPF_XT_MAX_INSNS);
	if (deepest > PCAPBPF_MAX_DEPTH)
		return nf_fail(err, EXIT_USAGE, "the pcap expression nests parentheses %d deep and "
			       "nfcost takes at most %d: simplify it", deepest, PCAPBPF_MAX_DEPTH);
	if (len > PCAPBPF_MAX_BYTES)
		return nf_fail(err, EXIT_USAGE, "the pcap expression is %zu bytes long and nfcost "
			       "takes at most %d (xt_bpf runs at most %d instructions): simplify it",
			       len, PCAPBPF_MAX_BYTES, PCAPBPF_XT_MAX_INSNS);
	return 0;
}

int pcapbpf_compile(const char *expr, int linktype, struct bpf_program *prog,
		    struct nf_error *err)
{
	/* 65535 is nfbpf_compile's and tcpdump's snaplen: it is the k of
	 * "ret #65535", so the output matches theirs instruction for instruction. */
	pcap_t *p;

	/* libpcap takes "" (or blanks) as "match every packet": as a DROP rule
	 * that would take the whole chain down, so it is never what was meant. */
	if (!expr || !expr[strspn(expr, " \t\n\r\f\v")])
		return nf_fail(err, EXIT_USAGE, "an empty pcap expression matches every packet: "
			       "give the packets to match, e.g. 'udp dst port 53' (or 'ip' for all "
			       "IPv4)");
	if (within_bounds(expr, err))
		return -1;
	p = pcap_open_dead(linktype, 65535);
	if (!p)
		return nf_fail(err, EXIT_RUNTIME,
			       "libpcap could not open a dead capture handle (out of memory?)");
	/* Netmask unknown, as nfbpf_compile: only 'ip broadcast' needs one, and
	 * there is no interface here to take it from. nf_fail makes libpcap's
	 * message one line. */
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		nf_fail(err, EXIT_USAGE, "bad pcap expression '%.300s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}

void pcapbpf_format_bytecode(const struct bpf_program *prog, struct buf *out)
{
	buf_printf(out, "%u", prog->bf_len);
	for (unsigned int i = 0; i < prog->bf_len; i++) {
		const struct bpf_insn *in = &prog->bf_insns[i];
		buf_printf(out, ",%u %u %u %u", in->code, in->jt, in->jf, in->k);
	}
}

void pcapbpf_format_listing(const struct bpf_program *prog, struct buf *out)
{
	/* tcpdump -d is bpf_dump(), which puts()s bpf_image() per instruction. */
	for (unsigned int i = 0; i < prog->bf_len; i++)
		buf_printf(out, "%s\n", bpf_image(&prog->bf_insns[i], (int)i));
}

int pcapbpf_compile_xt(const char *expr, int linktype, struct bpf_program *prog,
		       struct nf_error *err)
{
	if (pcapbpf_compile(expr, linktype, prog, err))
		return -1;
	if (prog->bf_len > PCAPBPF_XT_MAX_INSNS) {
		nf_fail(err, EXIT_USAGE, "pcap expression '%.300s' compiles to %u instructions, "
			"xt_bpf takes at most %d: simplify it", expr, prog->bf_len,
			PCAPBPF_XT_MAX_INSNS);
		pcap_freecode(prog);
		return -1;
	}
	return 0;
}

int pcapbpf_bytecode(const char *expr, int linktype, char **out, struct nf_error *err)
{
	struct bpf_program prog;
	struct buf b = { 0 };

	*out = NULL;
	if (pcapbpf_compile_xt(expr, linktype, &prog, err))
		return -1;
	pcapbpf_format_bytecode(&prog, &b);
	pcap_freecode(&prog);
	*out = b.data;
	return 0;
}
