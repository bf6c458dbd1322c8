/* Rule rendering: the exact text each backend's transaction gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rules/rules.h"

static char *render(enum rules_backend b, enum rules_shape s, long first, long n, bool base)
{
	static struct buf out;
	struct rules_target t = { .netns_path = "/nonexistent", .backend = b, .shape = s,
				  .hook = NFHOOK_LOCAL_OUT,
				  .bpf_bytecode = "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0" };

	buf_free(&out);
	rules_render(&t, first, n, base, &out);
	return out.data;
}

static void test_iptables(void **state)
{
	(void)state;
	assert_string_equal(render(BACKEND_IPTABLES_LEGACY, SHAPE_ADDR, 0, 2, false),
			    "*filter\n-A OUTPUT -d 240.0.0.1/32 -j DROP\n"
			    "-A OUTPUT -d 240.0.0.2/32 -j DROP\nCOMMIT\n");
	/* address last: test packets to port 443 run all three checks */
	assert_string_equal(render(BACKEND_IPTABLES_NFT, SHAPE_ADDR_PORT, 10, 1, false),
			    "*filter\n-A OUTPUT -p tcp -m tcp --dport 443 -m iprange "
			    "--dst-range 240.0.0.11 -j DROP\nCOMMIT\n");
	assert_non_null(strstr(render(BACKEND_IPTABLES_NFT, SHAPE_MULTIPORT, 0, 1, false),
			       "-m multiport --dports 443,1443,2443,3443,4443,5443,6443,7443 "
			       "-m iprange --dst-range 240.0.0.1 -j DROP"));
	assert_non_null(strstr(render(BACKEND_IPTABLES_LEGACY, SHAPE_BPF, 0, 1, false),
			       "-A OUTPUT -m bpf --bytecode \"4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\" -j DROP"));
	/* lab: the lab's own rule, the address in the rule header */
	assert_string_equal(render(BACKEND_IPTABLES_LEGACY, SHAPE_LAB, 0, 1, false),
			    "*filter\n-A OUTPUT -d 240.0.0.1/32 -p tcp -m tcp --dport 443 -j DROP\n"
			    "COMMIT\n");
}

static void test_nft(void **state)
{
	const char *txt = render(BACKEND_NFT, SHAPE_ADDR_PORT, 0, 1, false);

	(void)state;
	assert_non_null(strstr(txt, "add table ip nfcost\n"));
	assert_non_null(strstr(txt, "type filter hook output priority 0;"));
	assert_non_null(strstr(txt, "add rule ip nfcost output tcp dport 443 ip daddr 240.0.0.1 drop\n"));
	assert_non_null(strstr(render(BACKEND_NFT, SHAPE_LAB, 0, 1, false),
			       "add rule ip nfcost output ip daddr 240.0.0.1 tcp dport 443 drop\n"));
	txt = render(BACKEND_NFT_SET, SHAPE_ADDR, 0, 1500, true);
	assert_non_null(strstr(txt, "add rule ip nfcost_set output ip daddr @blocked drop\n"));
	/* 1500 elements: two add element lines in the one transaction */
	assert_non_null(strstr(txt, "{ 240.0.0.1, 240.0.0.2,"));
	assert_non_null(strstr(strstr(txt, "add element") + 1, "add element ip nfcost_set blocked { 240.0.3.233"));
	txt = render(BACKEND_NFT_SET, SHAPE_ADDR, 1500, 1, false);
	assert_null(strstr(txt, "add rule"));
}

static void test_ipset(void **state)
{
	const char *txt = render(BACKEND_IPSET, SHAPE_ADDR, 0, 2, true);

	(void)state;
	assert_string_equal(txt, "create nfcost-blocked hash:ip family inet hashsize 1024 "
				 "maxelem 2000000 -exist\nadd nfcost-blocked 240.0.0.1\n"
				 "add nfcost-blocked 240.0.0.2\n");
}

static void test_hit_rule(void **state)
{
	struct rules_target t = { .netns_path = "/x", .backend = BACKEND_IPTABLES_LEGACY,
				  .shape = SHAPE_ADDR, .hook = NFHOOK_LOCAL_OUT,
				  .hit_addr = "198.18.0.2" };
	struct buf out = { 0 };

	(void)state;
	/* first transaction: the rules, then the hit rule last */
	rules_render(&t, 0, 1, true, &out);
	assert_string_equal(out.data, "*filter\n-A OUTPUT -d 240.0.0.1/32 -j DROP\n"
				      "-A OUTPUT -d 198.18.0.2/32 -j DROP\nCOMMIT\n");
	buf_free(&out);
	/* later ones go in before it, so it stays last */
	t.accept = true;
	rules_render(&t, 1, 2, false, &out);
	assert_string_equal(out.data, "*filter\n-I OUTPUT 2 -d 240.0.0.2/32 -j ACCEPT\n"
				      "-I OUTPUT 3 -d 240.0.0.3/32 -j ACCEPT\nCOMMIT\n");
	buf_free(&out);
	/* nft: a base chain of its own, after ours */
	t.backend = BACKEND_NFT;
	t.accept = false;
	rules_render(&t, 0, 1, true, &out);
	assert_non_null(strstr(out.data, "add chain ip nfcost output_hit { type filter hook "
					 "output priority 1;"));
	assert_non_null(strstr(out.data, "add rule ip nfcost output_hit ip daddr 198.18.0.2 drop\n"));
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iptables),
		cmocka_unit_test(test_nft), cmocka_unit_test(test_ipset),
		cmocka_unit_test(test_hit_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
