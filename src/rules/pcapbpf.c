#include "rules/pcapbpf.h"

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

/* Our errors are one line; libpcap's messages normally are too, but make sure. */
static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int pcapbpf_compile(const char *expr, int linktype, struct bpf_program *prog, char *err,
		    size_t errlen)
{
	/* 65535 is nfbpf_compile's and tcpdump's snaplen: it is the k of
	 * "ret #65535", so the output matches theirs instruction for instruction. */
	pcap_t *p;

	/* libpcap takes "" (or blanks) as "match every packet": as a DROP rule
	 * that would take the whole chain down, so it is never what was meant. */
	if (!expr || !expr[strspn(expr, " \t\n\r\f\v")]) {
		snprintf(err, errlen, "an empty pcap expression matches every packet: give the "
			 "packets to match, e.g. 'udp dst port 53' (or 'ip' for all IPv4)");
		return EXIT_USAGE;
	}
	p = pcap_open_dead(linktype, 65535);
	if (!p) {
		snprintf(err, errlen, "libpcap could not open a dead capture handle (out of memory?)");
		return EXIT_RUNTIME;
	}
	/* Netmask unknown, as nfbpf_compile: only 'ip broadcast' needs one, and
	 * there is no interface here to take it from. */
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad pcap expression '%.300s': %s", expr, pcap_geterr(p));
		one_line(err);
		pcap_close(p);
		return EXIT_USAGE;
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

int pcapbpf_compile_xt(const char *expr, int linktype, struct bpf_program *prog, char *err,
		       size_t errlen)
{
	int rc = pcapbpf_compile(expr, linktype, prog, err, errlen);

	if (rc)
		return rc;
	if (prog->bf_len > PCAPBPF_XT_MAX_INSNS) {
		snprintf(err, errlen,
			 "pcap expression '%.300s' compiles to %u instructions, xt_bpf takes at "
			 "most %d: simplify it",
			 expr, prog->bf_len, PCAPBPF_XT_MAX_INSNS);
		pcap_freecode(prog);
		return EXIT_USAGE;
	}
	return 0;
}

int pcapbpf_bytecode(const char *expr, int linktype, char **out, char *err, size_t errlen)
{
	struct bpf_program prog;
	struct buf b = { 0 };
	int rc = pcapbpf_compile_xt(expr, linktype, &prog, err, errlen);

	*out = NULL;
	if (rc)
		return rc;
	pcapbpf_format_bytecode(&prog, &b);
	pcap_freecode(&prog);
	*out = b.data;
	return 0;
}
