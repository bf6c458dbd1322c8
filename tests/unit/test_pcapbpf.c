/* pcapbpf: bytecode and listing formats, errors, and that the bpf shape's
 * default expression rejects the test traffic (run through libpcap's own
 * BPF interpreter, bpf_filter). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rules/pcapbpf.h"

/* Known good from iptables' nfbpf_compile / `tcpdump -ddd` (libpcap 1.10):
 * the version nibble test, then accept or reject. */
static void test_bytecode_ip(void **state)
{
	struct nf_error err = { 0 };
	char *bc = NULL;

	(void)state;
	assert_int_equal(pcapbpf_bytecode("ip", DLT_RAW, &bc, &err), 0);
	assert_string_equal(bc, "5,48 0 0 0,84 0 0 240,21 0 1 64,6 0 0 65535,6 0 0 0");
	free(bc);
	assert_int_equal(pcapbpf_bytecode("ip", DLT_EN10MB, &bc, &err), 0);
	assert_string_equal(bc, "4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0");
	free(bc);
}

/* The count in front equals the number of instructions that follow. */
static void test_bytecode_udp53(void **state)
{
	struct nf_error err = { 0 };
	char *bc = NULL;

	(void)state;
	assert_int_equal(pcapbpf_bytecode("udp dst port 53", DLT_RAW, &bc, &err), 0);
	assert_non_null(bc);
	assert_int_equal(strncmp(bc, "19,48 0 0 0,", 12), 0);
	assert_null(strchr(bc, '\n'));
	int commas = 0;
	for (const char *p = bc; *p; p++)
		commas += *p == ',';
	assert_int_equal(commas, 19);
	assert_string_equal(strrchr(bc, ','), ",6 0 0 0");
	free(bc);
}

static void test_listing(void **state)
{
	struct bpf_program prog;
	struct buf out = { 0 };
	struct nf_error err = { 0 };

	(void)state;
	assert_int_equal(pcapbpf_compile("ip", DLT_RAW, &prog, &err), 0);
	pcapbpf_format_listing(&prog, &out);
	assert_string_equal(out.data, "(000) ldb      [0]\n"
				      "(001) and      #0xf0\n"
				      "(002) jeq      #0x40            jt 3\tjf 4\n"
				      "(003) ret      #65535\n"
				      "(004) ret      #0\n");
	buf_free(&out);
	pcap_freecode(&prog);
}

static void test_malformed(void **state)
{
	struct nf_error err = { 0 };
	char *bc = (char *)"untouched";

	(void)state;
	assert_int_equal(pcapbpf_bytecode("udp port 53 and", DLT_RAW, &bc, &err),
			 -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_null(bc);
	assert_non_null(strstr(err.msg, "syntax error"));
	assert_non_null(strstr(err.msg, "udp port 53 and"));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(pcapbpf_bytecode("tcp port 99999", DLT_RAW, &bc, &err),
			 -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_int_equal(pcapbpf_bytecode("ip broadcast", DLT_RAW, &bc, &err),
			 -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "netmask"));
}

/* More than xt_bpf's 64 instructions: an error, not bytecode iptables rejects. */
static void test_too_long(void **state)
{
	struct buf expr = { 0 };
	struct nf_error err = { 0 };
	char *bc = (char *)"untouched";

	(void)state;
	for (int i = 0; i < 40; i++)
		buf_printf(&expr, "%shost 10.0.0.%d", i ? " or " : "", i);
	assert_int_equal(pcapbpf_bytecode(expr.data, DLT_RAW, &bc, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_null(bc);
	assert_non_null(strstr(err.msg, "at most 64"));
	buf_free(&expr);
}

/* The bounds that keep libpcap's optimizer from taking minutes: what is
 * over them is refused at once, what is within them compiles to what the
 * same packets need. */
static void expect_refused(const struct buf *expr, const char *why)
{
	struct nf_error err = { 0 };
	char *bc = (char *)"untouched";

	assert_int_equal(pcapbpf_bytecode(expr->data, DLT_RAW, &bc, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_null(bc);
	assert_non_null(strstr(err.msg, why));
}

static void test_bounds(void **state)
{
	struct buf e = { 0 };
	struct nf_error err = { 0 };
	char *tcp = NULL, *bc = NULL;

	(void)state;
	assert_int_equal(pcapbpf_bytecode("tcp", DLT_RAW, &tcp, &err), 0);
	for (int i = 1; i < 1000; i++) /* issue 20's: 999 ports, once minutes */
		buf_printf(&e, "%sport %d", i > 1 ? " or " : "", i);
	expect_refused(&e, "joins 999 terms with and/or and nfcost takes at most 128");
	e.len = 0;
	buf_printf(&e, "ip");
	for (int i = 0; i < 3000; i++)
		buf_printf(&e, " and tcp");
	expect_refused(&e, "joins 3001 terms");
	e.len = 0;
	for (int i = 0; i < 5000; i++)
		buf_printf(&e, "(");
	buf_printf(&e, "tcp");
	for (int i = 0; i < 5000; i++)
		buf_printf(&e, ")");
	expect_refused(&e, "nests parentheses 5000 deep");
	e.len = 0;
	for (int i = 0; i < 9000; i++)
		buf_printf(&e, " ");
	buf_printf(&e, "tcp");
	expect_refused(&e, "9003 bytes long");
	/* At the bounds: 100 levels, 128 terms ("&&" and "||" count too)
	 * compile to exactly what "tcp" does. */
	e.len = 0;
	for (int i = 0; i < 100; i++)
		buf_printf(&e, "(");
	buf_printf(&e, "tcp");
	for (int i = 0; i < 100; i++)
		buf_printf(&e, ")");
	assert_int_equal(pcapbpf_bytecode(e.data, DLT_RAW, &bc, &err), 0);
	assert_string_equal(bc, tcp);
	free(bc);
	e.len = 0;
	buf_printf(&e, "tcp");
	for (int i = 1; i < 128; i++)
		buf_printf(&e, i % 2 ? " and tcp" : "&&tcp");
	assert_int_equal(pcapbpf_bytecode(e.data, DLT_RAW, &bc, &err), 0);
	assert_string_equal(bc, tcp);
	free(bc);
	buf_printf(&e, "||tcp");
	expect_refused(&e, "joins 129 terms");
	free(tcp);
	buf_free(&e);
}

static void test_linktype(void **state)
{
	int lt = -1;

	(void)state;
	assert_true(pcapbpf_linktype_parse("raw", &lt));
	assert_int_equal(lt, DLT_RAW);
	assert_true(pcapbpf_linktype_parse("ethernet", &lt));
	assert_int_equal(lt, DLT_EN10MB);
	assert_false(pcapbpf_linktype_parse("RAW", &lt));
	assert_false(pcapbpf_linktype_parse("wifi", &lt));
}

/* A 40-byte IPv4 packet (20 header + 20 transport bytes, ports first). */
static void packet(uint8_t pkt[40], uint8_t proto, const uint8_t dst[4], uint16_t dport)
{
	static const uint8_t src[4] = { 198, 18, 0, 1 };

	memset(pkt, 0, 40);
	pkt[0] = 0x45;
	pkt[3] = 40;
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, src, 4);
	memcpy(pkt + 16, dst, 4);
	pkt[20] = 0xc3; /* source port 50000 */
	pkt[21] = 0x50;
	pkt[22] = (uint8_t)(dport >> 8);
	pkt[23] = (uint8_t)dport;
}

static unsigned int run(const char *expr, const uint8_t pkt[40])
{
	struct bpf_program prog;
	struct nf_error err = { 0 };

	assert_int_equal(pcapbpf_compile(expr, DLT_RAW, &prog, &err), 0);
	unsigned int r = bpf_filter(prog.bf_insns, pkt, 40, 40);
	pcap_freecode(&prog);
	return r;
}

static void test_filters_packets(void **state)
{
	static const uint8_t srv[4] = { 198, 18, 0, 2 }, blocked[4] = { 240, 0, 0, 7 };
	uint8_t pkt[40];
	struct nf_error err = { 0 };
	char *bc = NULL;

	(void)state;
	packet(pkt, 17, srv, 53);
	assert_int_not_equal(run("udp dst port 53", pkt), 0);
	packet(pkt, 17, srv, 54);
	assert_int_equal(run("udp dst port 53", pkt), 0);

	/* The shape's expression fits xt_bpf, rejects the test traffic and
	 * matches what it names (so it is a real filter, not "ret #0"). */
	assert_int_equal(pcapbpf_bytecode(PCAPBPF_SHAPE_EXPR, DLT_RAW, &bc, &err), 0);
	assert_true(atoi(bc) <= PCAPBPF_XT_MAX_INSNS);
	free(bc);
	packet(pkt, 6, srv, 5201);
	assert_int_equal(run(PCAPBPF_SHAPE_EXPR, pkt), 0);
	packet(pkt, 17, srv, 5201);
	assert_int_equal(run(PCAPBPF_SHAPE_EXPR, pkt), 0);
	packet(pkt, 6, srv, 443);
	assert_int_equal(run(PCAPBPF_SHAPE_EXPR, pkt), 0);
	packet(pkt, 6, blocked, 443);
	assert_int_not_equal(run(PCAPBPF_SHAPE_EXPR, pkt), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytecode_ip),
		cmocka_unit_test(test_bytecode_udp53),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_linktype),
		cmocka_unit_test(test_filters_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
