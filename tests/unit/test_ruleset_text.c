/* Unit tests of rules/ruleset_text.c and ruleset_samples.c, linked alone
 * (the Makefile's PURE_test_ruleset_text: no libnftables, no libmnl, no
 * libcrypto, no kernel): format detection, counting tables, chains, rules
 * and sets in iptables-save and nft text, refusals, sample packets. */
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
#include "rules/ruleset_internal.h"
#include "util/util.h"

#include "ruleset_fixtures.h"

static void test_count_iptables(void **state)
{
	struct ruleset rs;
	struct nf_error err = { 0 };
	const struct ruleset_chain *c;

	(void)state;
	assert_int_equal(rs_parse_text(IPT, &rs, &err), 0);
	assert_int_equal(rs.format, RULESET_IPTABLES);
	assert_int_equal(rs.n_tables, 2);
	assert_int_equal(rs.n_rules, 9);
	assert_int_equal(rs.n_chains, 6);
	assert_string_equal(rs.digest, ""); /* the digest is ruleset.c's (libcrypto) */
	assert_non_null(c = chain(&rs, "nat", "OUTPUT"));
	assert_int_equal(c->hook, NFHOOK_LOCAL_OUT);
	assert_int_equal(c->priority, -100);
	assert_int_equal(chain(&rs, "nat", "FWD")->hook, RULESET_HOOK_USER);
	assert_int_equal(chain(&rs, "filter", "OUTPUT")->rules, 7);
	assert_true(rs_ipt_builtin("security", "FORWARD"));
	assert_false(rs_ipt_builtin("filter", "FWD"));
	ruleset_free(&rs);
}

static void test_detect_and_count_nft(void **state)
{
	struct ruleset rs;
	struct nf_error err = { 0 };
	const struct ruleset_chain *c;

	(void)state;
	assert_int_equal(rs_parse_text(NFT, &rs, &err), 0);
	assert_int_equal(rs.format, RULESET_NFT);
	assert_int_equal(rs.n_tables, 2);
	assert_int_equal(rs.n_sets, 1);
	assert_int_equal(rs.n_rules, 6);
	assert_int_equal(rs.n_chains, 4);
	assert_non_null(c = chain(&rs, "fw", "input"));
	assert_int_equal(c->hook, NFHOOK_LOCAL_IN);
	assert_int_equal(c->priority, 10);
	assert_string_equal(c->family, "inet");
	assert_non_null(c = chain(&rs, "fw", "fwd"));
	assert_int_equal(c->priority, -5);
	assert_int_equal(c->rules, 2);
	assert_non_null(c = chain(&rs, "nat", "post"));
	assert_int_equal(c->priority, 100);
	assert_string_equal(c->type, "nat");
	assert_int_equal(chain(&rs, "fw", "user")->hook, RULESET_HOOK_USER);
	ruleset_free(&rs);

	/* command style, as iptables-restore-translate writes it */
	assert_int_equal(rs_parse_text("add table ip filter\n"
					   "add chain ip filter OUTPUT { type filter hook output "
					   "priority 0; policy accept; }\n"
					   "add rule ip filter OUTPUT ip daddr 240.0.0.1 counter drop\n",
					   &rs, &err), 0);
	assert_int_equal(rs.n_rules, 1);
	assert_int_equal(rs.n_tables, 1);
	assert_int_equal(chain(&rs, "filter", "OUTPUT")->hook, NFHOOK_LOCAL_OUT);
	ruleset_free(&rs);
}

static bool has_sample(const struct ruleset_sample *s, size_t n, int proto, const char *src,
		       const char *dst, unsigned port)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].proto == proto && !strcmp(s[i].src, src) && !strcmp(s[i].dst, dst) &&
		    s[i].dport == port)
			return true;
	return false;
}

static void test_samples(void **state)
{
	struct ruleset rs;
	struct ruleset_sample *s;
	size_t n;
	struct nf_error err = { 0 };

	(void)state;
	assert_int_equal(rs_parse_text(IPT, &rs, &err), 0);
	assert_int_equal(ruleset_samples(&rs, &s, &n, 100), 0);
	assert_int_equal(n, 8); /* every rule naming an address; not the DNAT by port */
	assert_true(has_sample(s, n, IPPROTO_TCP, "", "198.18.0.2", 443));
	assert_true(has_sample(s, n, IPPROTO_UDP, "", "240.0.0.9", 443));
	assert_true(has_sample(s, n, IPPROTO_TCP, "", "240.0.1.1", 443)); /* a /24's first host */
	assert_true(has_sample(s, n, IPPROTO_TCP, "240.0.0.5", "", 443));
	struct ruleset_sample *all = s;
	/* Fewer than the rules: spread over the rule set, first and beyond. */
	assert_int_equal(ruleset_samples(&rs, &s, &n, 3), 0);
	assert_int_equal(n, 3);
	assert_string_equal(s[0].origin, all[0].origin);
	assert_string_equal(s[1].origin, all[8 / 3].origin);
	assert_string_equal(s[2].origin, all[2 * 8 / 3].origin);
	free(s);
	free(all);
	ruleset_free(&rs);

	assert_int_equal(rs_parse_text(NFT, &rs, &err), 0);
	assert_int_equal(ruleset_samples(&rs, &s, &n, 100), 0);
	assert_true(has_sample(s, n, IPPROTO_UDP, "", "240.0.0.7", 53));
	assert_true(has_sample(s, n, IPPROTO_UDP, "", "240.0.1.1", 53));
	assert_true(has_sample(s, n, IPPROTO_TCP, "", "240.0.2.2", 81));
	assert_int_equal(n, 4); /* @blocked is a named set: not expanded */
	free(s);
	ruleset_free(&rs);
}

static void test_refused(void **state)
{
	struct ruleset rs;
	struct nf_error err = { 0 };

	(void)state;
	assert_int_equal(rs_parse_text("# only a comment\n\n", &rs, &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(rs_parse_text("hello world\n", &rs, &err), -1);
	assert_non_null(strstr(err.msg, "neither"));
	assert_int_equal(rs_parse_text("*filter\n-A INPUT -s 2001:db8::1/128 -j DROP\nCOMMIT\n", &rs,
				       &err), -1);
	assert_non_null(strstr(err.msg, "ip6tables"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_iptables),
		cmocka_unit_test(test_detect_and_count_nft),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
