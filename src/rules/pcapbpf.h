/* pcapbpf: owns turning a pcap filter expression into classic BPF with
 * libpcap, and writing the program out in the two forms people use: the
 * `iptables -m bpf --bytecode` argument (what iptables' nfbpf_compile prints)
 * and the `tcpdump -d` listing. No kernel I/O, no root needed. */
#ifndef NFCOST_PCAPBPF_H
#define NFCOST_PCAPBPF_H

#include <stdbool.h>
#include <stddef.h>

#include <pcap/pcap.h>

#include "util/error.h"
#include "util/util.h"

/* The bpf shape's default expression, the pcap twin of addr-port's
 * `-p tcp -d X --dport 443`. The test traffic is 198.18.0.1 -> 198.18.0.2
 * (TCP or UDP, port 443: TESTBED_IPERF_PORT), which the destination net
 * alone rules out; the protocol and port tests come first so that a test
 * TCP packet runs most of the program (11 of 15 instructions with libpcap
 * 1.10) before it is rejected. "ip and" keeps the program IPv4-only
 * (without it libpcap adds an IPv6 branch on DLT_RAW). */
#define PCAPBPF_SHAPE_EXPR "ip and tcp dst port 443 and dst net 240.0.0.0/4"

/* The longest program xt_bpf accepts (XT_BPF_MAX_NUM_INSTR). */
#define PCAPBPF_XT_MAX_INSNS 64

/* Link types `nfcost compile --linktype` takes. xt_bpf sees packets from
 * the IP header on, hence raw (DLT_RAW) by default. */
bool pcapbpf_linktype_parse(const char *name, int *linktype);
const char *pcapbpf_linktype_names(void);

/* How much of an expression nfcost hands to libpcap. Its optimizer's time
 * grows steeply with the program (200 `port N` terms: ~1 s, 300: ~4 s, 699:
 * 44 s, 999: minutes), and bison's stack ends near 10,000 open parentheses
 * ("memory exhausted"). A program xt_bpf runs holds at most 64 tests, so
 * these bounds refuse nothing that could load. */
#define PCAPBPF_MAX_TERMS 128   /* primitives joined by and/or */
#define PCAPBPF_MAX_DEPTH 100   /* parentheses open at once */
#define PCAPBPF_MAX_BYTES 8192

/* Compiles expr for linktype (DLT_RAW, DLT_EN10MB), optimized, snaplen
 * 65535, netmask unknown, as nfbpf_compile does. 0 on success (free prog
 * with pcap_freecode); -1 with err EXIT_USAGE when libpcap rejects the
 * expression, it is empty (libpcap would match every packet) or over the
 * bounds above, EXIT_RUNTIME when libpcap cannot even start. */
int pcapbpf_compile(const char *expr, int linktype, struct bpf_program *prog,
		    struct nf_error *err);
/* pcapbpf_compile, plus EXIT_USAGE (nothing to free) when the program is
 * longer than xt_bpf takes: what `nfcost compile` prints, in either form,
 * must load. */
int pcapbpf_compile_xt(const char *expr, int linktype, struct bpf_program *prog,
		       struct nf_error *err);

/* Appends "N,code jt jf k,code jt jf k,..." (no newline), the form
 * `iptables -m bpf --bytecode` parses and nfbpf_compile prints. */
void pcapbpf_format_bytecode(const struct bpf_program *prog, struct buf *out);

/* Appends one line per instruction, byte for byte what `tcpdump -d`
 * prints (libpcap's bpf_image, each line ending in '\n'). */
void pcapbpf_format_listing(const struct bpf_program *prog, struct buf *out);

/* The --bytecode string of expr, for the bpf rule shape: *out is malloc'd
 * (the caller frees it). Same return values as pcapbpf_compile, plus
 * EXIT_USAGE when the program is longer than xt_bpf takes. */
int pcapbpf_bytecode(const char *expr, int linktype, char **out, struct nf_error *err);

#endif
