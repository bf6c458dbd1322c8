/* Unit tests of src/rules/kubeproxy.c (kube-proxy's rule sets) and
 * src/rules/sha256.c, linked alone with util (no kernel, no libraries):
 * chain names equal those kube-proxy's own tests expect, rule and chain
 * counts grow as its layout says, the measured Service DNATs to the given
 * server, large cluster mode drops the comments, a partial sync holds only
 * the new Service's chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/kubeproxy.h"
#include "rules/sha256.h"

static void test_sha256_base32(void **state)
{
	uint8_t md[SHA256_LEN];
	char hex[65], b32[64];

	(void)state;
	sha256("abc", 3, md);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the padding spills into a second block. */
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256(two, strlen(two), md);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	base32_encode((const uint8_t *)"foobar", 6, b32, sizeof(b32));
	assert_string_equal(b32, "MZXW6YTBOI======");
	base32_encode((const uint8_t *)"f", 1, b32, sizeof(b32));
	assert_string_equal(b32, "MY======");
}

/* The names kube-proxy's proxier_test.go files expect for these inputs. */
static void test_kube_proxy_names(void **state)
{
	char name[320];

	(void)state;
	kp_iptables_chain("ns1/svc1:p80", "tcp", NULL, name, sizeof(name));
	assert_string_equal(name, "KUBE-SVC-XPGD46QRK7WJZT7O");
	kp_iptables_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80", name, sizeof(name));
	assert_string_equal(name, "KUBE-SEP-SXIVWICOYRO3J4NJ");
	kp_iptables_chain("ns4/svc4:p80", "tcp", NULL, name, sizeof(name));
	assert_string_equal(name, "KUBE-SVC-4SW47YFZTEDKD3PK");
	kp_iptables_chain("ns4/svc4:p80", "tcp", "10.180.0.4:80", name, sizeof(name));
	assert_string_equal(name, "KUBE-SEP-UKSFD7AGPMPPLUHC");
	kp_nft_chain("ns1", "svc1", "tcp", "p80", NULL, name, sizeof(name));
	assert_string_equal(name, "service-ULMVA6XW-ns1/svc1/tcp/p80");
	kp_nft_chain("ns1", "svc1", "tcp", "p80", "10.180.0.1/80", name, sizeof(name));
	assert_string_equal(name, "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80");
	kp_nft_chain("ns4", "svc4", "tcp", "p80", NULL, name, sizeof(name));
	assert_string_equal(name, "service-LAUZTJTB-ns4/svc4/tcp/p80");
	kp_nft_chain("ns4", "svc4", "tcp", "p80", "10.180.0.4/80", name, sizeof(name));
	assert_string_equal(name, "endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80");
}

static long count_lines(const char *text, const char *prefix)
{
	long n = 0;
	size_t len = strlen(prefix);

	for (const char *p = text; p && *p;) {
		if (!strncmp(p, prefix, len))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

static void config(struct kp_config *c, long services)
{
	kp_config_defaults(c);
	c->services = services;
	c->n_measured = 2;
	c->measured[0] = (struct kp_endpoint){ 0xC6120002, 5201 }; /* 198.18.0.2 */
	c->measured[1] = (struct kp_endpoint){ 0xC6120002, 5202 };
}

static void test_counts(void **state)
{
	const long ns[] = { 1, 3, 100 };
	struct kp_config c;

	(void)state;
	for (int k = 0; k < 3; k++) {
		struct buf ipt = { 0 }, nft = { 0 };
		struct kp_counts a, b;
		struct nf_error err = { 0 };
		long n = ns[k];

		config(&c, n);
		assert_int_equal(kp_render(&c, KP_IPTABLES, &ipt, &a, &err), 0);
		/* 15 filter + 8 nat rules, 6 + 4 chains; per Service of 2
		 * endpoints: 8 rules, 3 chains. */
		assert_int_equal(a.rules, 23 + 8 * n);
		assert_int_equal(a.chains, 10 + 3 * n);
		assert_int_equal(count_lines(ipt.data, "-A "), a.rules);
		assert_int_equal(count_lines(ipt.data, ":"), a.chains);
		assert_int_equal(count_lines(ipt.data, "-A KUBE-SERVICES -m comment --comment \"nfcost/"), n);
		assert_int_equal(count_lines(ipt.data, "COMMIT"), 2);
		assert_int_equal(kp_render(&c, KP_NFT, &nft, &b, &err), 0);
		assert_int_equal(b.rules, 23 + 6 * n);
		assert_int_equal(b.chains, 16 + 3 * n);
		assert_int_equal(b.elements, 1 + 2 * n);
		assert_int_equal(count_lines(nft.data, "add rule "), b.rules);
		assert_int_equal(count_lines(nft.data, "add chain "), b.chains);
		assert_int_equal(count_lines(nft.data, "add element ip kube-proxy service-ips "), n);
		buf_free(&ipt);
		buf_free(&nft);
	}
}

/* The measured Service: where position puts it, DNAT to the given server. */
static void test_measured(void **state)
{
	struct kp_config c;
	struct buf t = { 0 };
	struct nf_error err = { 0 };
	char svc[32], line[256];

	(void)state;
	config(&c, 3);
	c.measured_ip = 0xF0FFFFFE; /* 240.255.255.254 */
	assert_int_equal(kp_measured_index(&c), 2);
	assert_int_equal(kp_render(&c, KP_IPTABLES, &t, NULL, &err), 0);
	assert_non_null(strstr(t.data, "-m tcp -p tcp -j DNAT --to-destination 198.18.0.2:5201\n"));
	assert_non_null(strstr(t.data, "-m tcp -p tcp -j DNAT --to-destination 198.18.0.2:5202\n"));
	assert_non_null(strstr(t.data, "--probability 0.5000000000 -j KUBE-SEP-"));
	kp_iptables_chain("nfcost/measured:http", "tcp", NULL, svc, sizeof(svc));
	snprintf(line, sizeof(line), "-A KUBE-SERVICES -m comment --comment \"nfcost/measured:http cluster IP\" "
		 "-m tcp -p tcp -d 240.255.255.254 --dport 80 -j %s\n", svc);
	char *measured = strstr(t.data, line);
	assert_non_null(measured);
	/* last: after every other Service's KUBE-SERVICES rule */
	assert_null(strstr(measured, "-A KUBE-SERVICES -m comment --comment \"nfcost/svc-"));
	assert_non_null(strstr(t.data, "-d 240.0.0.1 --dport 80 -j KUBE-SVC-"));
	assert_non_null(strstr(t.data, "-j DNAT --to-destination 241.0.0.1:8080\n"));
	buf_free(&t);

	c.position = KP_FIRST;
	assert_int_equal(kp_render(&c, KP_NFT, &t, NULL, &err), 0);
	assert_non_null(strstr(t.data, "meta l4proto tcp dnat to 198.18.0.2:5201\n"));
	assert_non_null(strstr(t.data, "add element ip kube-proxy service-ips { 240.255.255.254 . tcp . 80 : goto service-"));
	assert_non_null(strstr(t.data, "numgen random mod 2 vmap { 0 : goto endpoint-"));
	/* first: its chains come before any other Service's */
	char *m = strstr(t.data, "/measured/tcp/http"), *other = strstr(t.data, "/svc-1/tcp/http");
	assert_non_null(m);
	assert_non_null(other);
	assert_true(m < other);
	buf_free(&t);
}

static void test_large_cluster_mode(void **state)
{
	struct kp_config c;
	struct buf t = { 0 };
	struct nf_error err = { 0 };

	(void)state;
	config(&c, 100); /* 200 endpoints: comments everywhere */
	assert_int_equal(kp_render(&c, KP_IPTABLES, &t, NULL, &err), 0);
	assert_non_null(strstr(t.data, " -m comment --comment nfcost/svc-1:http -s 241.0.0.3 -j KUBE-MARK-MASQ\n"));
	assert_non_null(strstr(t.data, "-m comment --comment \"nfcost/svc-1:http -> 241.0.0.3:8080\""));
	buf_free(&t);
	config(&c, 501); /* 1002 endpoints: kube-proxy drops SVC/SEP comments */
	assert_int_equal(kp_render(&c, KP_IPTABLES, &t, NULL, &err), 0);
	assert_null(strstr(t.data, "-m comment --comment nfcost/svc-1:http"));
	assert_null(strstr(t.data, " -> 241."));
	assert_non_null(strstr(t.data, "\"nfcost/svc-1:http cluster IP\""));
	assert_non_null(strstr(t.data, " -s 241.0.0.3 -j KUBE-MARK-MASQ\n"));
	buf_free(&t);
}

static void test_update(void **state)
{
	struct kp_config c;
	struct buf t = { 0 };
	struct kp_counts n;
	struct nf_error err = { 0 };

	(void)state;
	config(&c, 100);
	assert_int_equal(kp_render_update(&c, KP_IPTABLES, &t, &n, &err), 0);
	/* all of KUBE-SERVICES again, the new Service's chains only, no jumps */
	assert_int_equal(count_lines(t.data, "-A KUBE-SERVICES -m comment --comment \"nfcost/"), 101);
	assert_int_equal(count_lines(t.data, ":KUBE-SVC-"), 1);
	assert_int_equal(count_lines(t.data, ":KUBE-SEP-"), 2);
	assert_non_null(strstr(t.data, "-d 240.0.0.101 --dport 80 -j KUBE-SVC-"));
	assert_int_equal(count_lines(t.data, "-A INPUT"), 0);
	assert_int_equal(count_lines(t.data, "-A OUTPUT"), 0);
	assert_int_equal(n.chains, 10 + 3);
	buf_free(&t);
	assert_int_equal(kp_render_update(&c, KP_NFT, &t, &n, &err), 0);
	assert_int_equal(n.chains, 3);
	assert_int_equal(n.rules, 6);
	assert_int_equal(n.elements, 2);
	assert_int_equal(count_lines(t.data, "flush chain "), 3);
	assert_non_null(strstr(t.data, "add element ip kube-proxy service-ips { 240.0.0.101 . tcp . 80 : goto service-"));
	assert_null(strstr(t.data, "add table"));
	buf_free(&t);
}

static void test_three_endpoints_and_errors(void **state)
{
	struct kp_config c;
	struct buf t = { 0 };
	struct nf_error err = { 0 };
	enum kp_position p;

	(void)state;
	config(&c, 2);
	c.endpoints = 3;
	c.position = KP_FIRST;
	assert_int_equal(kp_render(&c, KP_IPTABLES, &t, NULL, &err), 0);
	assert_non_null(strstr(t.data, "--probability 0.3333333333 -j KUBE-SEP-"));
	assert_non_null(strstr(t.data, "--probability 0.5000000000 -j KUBE-SEP-"));
	buf_free(&t);
	assert_int_equal(kp_render(&c, KP_NFT, &t, NULL, &err), 0);
	assert_non_null(strstr(t.data, "numgen random mod 3 vmap { 0 : goto endpoint-"));
	buf_free(&t);

	c.endpoints = 0;
	assert_int_equal(kp_render(&c, KP_NFT, &t, NULL, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "--endpoints"));
	config(&c, 5);
	c.n_measured = 0;
	assert_int_equal(kp_render(&c, KP_IPTABLES, &t, NULL, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	config(&c, 0); /* no Service: kube-proxy's own chains, no endpoint needed */
	c.n_measured = 0;
	assert_int_equal(kp_render(&c, KP_IPTABLES, &t, NULL, &err), 0);
	assert_int_equal(count_lines(t.data, "-A "), 23);
	buf_free(&t);
	assert_true(kp_position_parse("middle", &p));
	assert_int_equal(p, KP_MIDDLE);
	assert_false(kp_position_parse("centre", &p));
	config(&c, 5);
	c.position = KP_MIDDLE;
	assert_int_equal(kp_measured_index(&c), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_base32),
		cmocka_unit_test(test_kube_proxy_names),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_measured),
		cmocka_unit_test(test_large_cluster_mode),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_three_endpoints_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
