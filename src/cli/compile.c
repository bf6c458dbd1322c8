/* `nfcost compile [-d] [--linktype raw|ethernet] 'pcap expression'`. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "rules/pcapbpf.h"
#include "util/util.h"

struct compile_args {
	bool dump;
	int linktype;
	struct buf expr; /* the expression words joined by spaces, as tcpdump does */
	int words;
};

static const struct argp_option compile_options[] = {
	{ "dump", 'd', NULL, 0, "Print a listing in the format of `tcpdump -d` instead", 0 },
	{ "linktype", 'y', "TYPE", 0,
	  "raw (IP packets, what xt_bpf sees; default) or ethernet", 0 },
	{ 0 }
};

static error_t compile_parse(int key, char *arg, struct argp_state *state)
{
	struct compile_args *a = state->input;

	switch (key) {
	case 'd':
		a->dump = true;
		break;
	case 'y':
		if (!pcapbpf_linktype_parse(arg, &a->linktype))
			usage_fail("unknown link type '%s': use %s", arg, pcapbpf_linktype_names());
		break;
	case ARGP_KEY_ARG:
		buf_printf(&a->expr, "%s%s", a->words++ ? " " : "", arg);
		break;
	case ARGP_KEY_END:
		if (!a->words)
			usage_fail("compile needs a pcap expression, e.g. nfcost compile 'udp dst port 53'");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_compile(int argc, char **argv)
{
	static const struct argp argp = {
		compile_options, compile_parse, "'PCAP EXPRESSION'",
		"Compile a pcap filter expression with libpcap (optimized) and print it as "
		"`iptables -m bpf --bytecode` takes it, \"N,code jt jf k,...\", as iptables' "
		"nfbpf_compile does; with -d, as `tcpdump -d` lists it. Several words are "
		"joined by spaces. Needs no privileges.\v"
		"Examples:\n"
		"  nfcost compile 'udp dst port 53'\n"
		"  bc=$(nfcost compile udp dst port 53)\n"
		"  iptables -A OUTPUT -m bpf --bytecode \"$bc\" -j DROP\n"
		"  nfcost compile -d --linktype ethernet 'tcp port 443'",
		NULL, NULL, NULL
	};
	struct compile_args a = { .linktype = DLT_RAW };
	struct bpf_program prog;
	struct buf out = { 0 };
	struct nf_error err = { 0 };
	int rc;

	command_parse(&argp, argc, argv, &a);
	if (a.dump) {
		rc = pcapbpf_compile_xt(a.expr.data, a.linktype, &prog, &err);
		if (!rc) {
			pcapbpf_format_listing(&prog, &out);
			pcap_freecode(&prog);
		}
	} else {
		char *bc = NULL;
		rc = pcapbpf_bytecode(a.expr.data, a.linktype, &bc, &err);
		if (!rc) {
			buf_printf(&out, "%s\n", bc);
			free(bc);
		}
	}
	buf_free(&a.expr);
	if (rc)
		return nf_error_report(&err);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	if (fflush(stdout) != 0) {
		nf_err("could not write the program to stdout");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
