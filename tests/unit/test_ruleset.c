/* Unit tests of src/rules/ruleset.c and ruleset_fix.c without a kernel:
 * format detection, counting, the ipset and established-first rewrites,
 * samples, fix-list parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/ruleset.h"
#include "util/util.h"

#include "ruleset_fixtures.h"

static void test_detect_and_count_iptables(void **state)
{
	struct ruleset rs;
	struct nf_error err = { 0 };
	const struct ruleset_chain *c;

	(void)state;
	assert_int_equal(ruleset_read_text(IPT, &rs, &err), 0);
	assert_int_equal(rs.format, RULESET_IPTABLES);
	assert_int_equal(rs.n_tables, 2);
	assert_int_equal(rs.n_rules, 9);
	assert_int_equal(rs.n_chains, 6);
	assert_int_equal(strlen(rs.digest), 64);
	assert_non_null(c = chain(&rs, "nat", "OUTPUT"));
	assert_int_equal(c->hook, NFHOOK_LOCAL_OUT);
	assert_int_equal(c->priority, -100);
	assert_non_null(c = chain(&rs, "nat", "FWD"));
	assert_int_equal(c->hook, RULESET_HOOK_USER);
	assert_non_null(c = chain(&rs, "filter", "OUTPUT"));
	assert_int_equal(c->rules, 7);
	assert_int_equal(c->priority, 0);
	/* the same text twice: the same digest; one byte more: another */
	struct ruleset again;
	char *more = malloc(sizeof(IPT) + 1);
	snprintf(more, sizeof(IPT) + 1, "%s\n", IPT);
	assert_int_equal(ruleset_read_text(more, &again, &err), 0);
	assert_string_not_equal(again.digest, rs.digest);
	ruleset_free(&again);
	free(more);
	ruleset_free(&rs);
}

static void test_refused(void **state)
{
	struct ruleset rs;
	struct nf_error err = { 0 };

	(void)state;
	assert_int_equal(ruleset_read_text("", &rs, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(ruleset_read_text("hello world\n", &rs, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "neither"));
	assert_int_equal(ruleset_read_text("*filter\n-A INPUT -s 2001:db8::1/128 -j DROP\nCOMMIT\n",
					   &rs, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "ip6tables"));
	assert_int_equal(ruleset_read_file("/nonexistent/rules", &rs, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
}

static void test_fix_list(void **state)
{
	bool f[FIX_COUNT];
	enum ruleset_fix x;

	(void)state;
	assert_true(ruleset_fix_parse_list("all", f));
	for (int i = 0; i < FIX_COUNT; i++)
		assert_true(f[i]);
	assert_true(ruleset_fix_parse_list("ipset,flowtable", f));
	assert_false(f[FIX_NFT_OPTIMIZE]);
	assert_true(f[FIX_IPSET]);
	assert_false(f[FIX_ESTABLISHED_FIRST]);
	assert_true(f[FIX_FLOWTABLE]);
	assert_false(ruleset_fix_parse_list("ipset,", f));
	assert_false(ruleset_fix_parse_list("", f));
	assert_false(ruleset_fix_parse_list("ipset,bogus", f));
	for (int i = 0; i < FIX_COUNT; i++) {
		assert_true(ruleset_fix_parse(ruleset_fix_name((enum ruleset_fix)i), &x));
		assert_int_equal(x, i);
	}
}

static void test_ipset_rewrite(void **state)
{
	struct ruleset rs, fixed;
	struct nf_error err = { 0 };
	char note[512];

	(void)state;
	assert_int_equal(ruleset_read_text(IPT, &rs, &err), 0);
	/* 1,2 (a run of two: too short), the udp rule, then 3,4 and the /24: one run */
	assert_int_equal(ruleset_fix(&rs, FIX_IPSET, NULL, NULL, 0, &fixed, note, sizeof(note), &err), 0);
	assert_non_null(fixed.ipset_text);
	assert_non_null(strstr(fixed.ipset_text, "create nfcost_fix_1 hash:net"));
	assert_non_null(strstr(fixed.ipset_text, "add nfcost_fix_1 240.0.1.0/24"));
	assert_null(strstr(fixed.ipset_text, "240.0.0.1/32"));
	const char *a = strstr(fixed.text, "-A OUTPUT -d 240.0.0.2/32 -j DROP\n");
	const char *u = strstr(fixed.text, "-A OUTPUT -p udp -d 240.0.0.9/32 -j DROP\n");
	const char *m = strstr(fixed.text, "-A OUTPUT -m set --match-set nfcost_fix_1 dst -j DROP\n");
	const char *s = strstr(fixed.text, "-A OUTPUT -s 240.0.0.5/32 -j ACCEPT\n");
	/* order kept: the merged rule stands where its run stood */
	assert_non_null(a);
	assert_non_null(u);
	assert_non_null(m);
	assert_non_null(s);
	assert_true(a < u && u < m && m < s);
	assert_int_equal(fixed.n_rules, rs.n_rules - 2);
	assert_int_equal(fixed.n_sets, 1);
	ruleset_free(&fixed);
	ruleset_free(&rs);

	/* all hosts: hash:ip; nft input: does not apply */
	assert_int_equal(ruleset_read_text("*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 240.0.0.1/32 -j DROP\n"
					   "-A OUTPUT -d 240.0.0.2/32 -j DROP\n-A OUTPUT -d 240.0.0.3/32 -j DROP\nCOMMIT\n",
					   &rs, &err), 0);
	assert_int_equal(ruleset_fix(&rs, FIX_IPSET, NULL, NULL, 0, &fixed, note, sizeof(note), &err), 0);
	assert_non_null(strstr(fixed.ipset_text, "hash:ip family"));
	assert_int_equal(fixed.n_rules, 1);
	ruleset_free(&fixed);
	ruleset_free(&rs);
	assert_int_equal(ruleset_read_text(NFT, &rs, &err), 0);
	assert_int_equal(ruleset_fix(&rs, FIX_IPSET, NULL, NULL, 0, &fixed, note, sizeof(note), &err), 1);
	ruleset_free(&rs);
	/* negated addresses are never merged */
	assert_int_equal(ruleset_read_text("*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT ! -d 240.0.0.1/32 -j DROP\n"
					   "-A OUTPUT ! -d 240.0.0.2/32 -j DROP\n-A OUTPUT ! -d 240.0.0.3/32 -j DROP\nCOMMIT\n",
					   &rs, &err), 0);
	assert_int_equal(ruleset_fix(&rs, FIX_IPSET, NULL, NULL, 0, &fixed, note, sizeof(note), &err), 1);
	ruleset_free(&rs);
}

static void test_established_first(void **state)
{
	struct ruleset rs, fixed;
	struct nf_error err = { 0 };
	char note[512];

	(void)state;
	assert_int_equal(ruleset_read_text(IPT, &rs, &err), 0);
	assert_int_equal(ruleset_fix(&rs, FIX_ESTABLISHED_FIRST, NULL, NULL, 0, &fixed, note,
				     sizeof(note), &err), 0);
	assert_int_equal(fixed.n_rules, rs.n_rules + 3);
	const char *ct = strstr(fixed.text, "-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
	assert_non_null(ct);
	assert_true(ct < strstr(fixed.text, "-A OUTPUT -d 240.0.0.1/32"));
	assert_true(ct > strstr(fixed.text, "*filter"));
	assert_non_null(strstr(note, "verdicts change"));
	ruleset_free(&fixed);
	ruleset_free(&rs);

	assert_int_equal(ruleset_read_text(NFT, &rs, &err), 0);
	assert_int_equal(ruleset_fix(&rs, FIX_ESTABLISHED_FIRST, NULL, NULL, 0, &fixed, note,
				     sizeof(note), &err), 0);
	/* input and fwd are filter chains; nat's post is not */
	assert_int_equal(fixed.n_rules, rs.n_rules + 2);
	const char *in = strstr(fixed.text, "policy drop;\n\t\tct state established,related accept\n"
					    "\t\tip saddr @blocked drop");
	assert_non_null(in);
	ruleset_free(&fixed);
	ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_and_count_iptables),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_fix_list),
		cmocka_unit_test(test_ipset_rewrite),
		cmocka_unit_test(test_established_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
