/* `nfcost rules add|count|flush`. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "rules/rules.h"
#include "testbed/testbed.h"
#include "util/util.h"

struct rules_args {
	const char *action;
	const char *name;
	long count;
	bool count_set, backend_set;
	enum rules_backend backend;
	enum rules_shape shape;
	enum nfhook hook;
};

static const struct argp_option rules_options[] = {
	{ "count", 'c', "N", 0, "add: how many rules (0..1000000)", 0 },
	{ "shape", 's', "SHAPE", 0, "addr|addr-port|multiport|bpf|lab (default addr-port)", 0 },
	{ "backend", 'b', "BACKEND", 0,
	  "iptables-nft|iptables-legacy|nft|nft-set|ipset (default iptables-nft; "
	  "flush without it flushes every backend)", 0 },
	{ "hook", 'k', "HOOK", 0, "output (cli side, default), input (srv side) or forward (the router of a --routed testbed)", 0 },
	{ "name", 'n', "NAME", 0, "Testbed name (default " TESTBED_DEFAULT_NAME ")", 0 },
	{ 0 }
};

static error_t rules_parse(int key, char *arg, struct argp_state *state)
{
	struct rules_args *a = state->input;

	switch (key) {
	case 'c':
		if (!parse_long(arg, 0, RULES_MAX_COUNT, &a->count))
			usage_fail("--count must be a whole number from 0 to %ld, got '%s'",
				   RULES_MAX_COUNT, arg);
		a->count_set = true;
		break;
	case 's':
		arg_shape(arg, &a->shape);
		break;
	case 'b':
		arg_backend(arg, &a->backend);
		a->backend_set = true;
		break;
	case 'k':
		arg_hook(arg, &a->hook);
		break;
	case 'n':
		arg_testbed_name(arg, &a->name);
		break;
	case ARGP_KEY_ARG:
		if (a->action)
			usage_fail("rules takes one action (add, count or flush), got '%s' too", arg);
		if (strcmp(arg, "add") && strcmp(arg, "count") && strcmp(arg, "flush"))
			usage_fail("unknown rules action '%s': use add, count or flush", arg);
		a->action = arg;
		break;
	case ARGP_KEY_END:
		if (!a->action)
			usage_fail("rules needs an action: nfcost rules add|count|flush");
		if (!strcmp(a->action, "add") && !a->count_set)
			usage_fail("rules add needs --count N");
		if (strcmp(a->action, "add") && a->count_set)
			usage_fail("--count goes with 'rules add' only");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The namespace that holds the rules of a.hook in testbed a.name, into
 * nspath. 0 or an exit status (one line printed). */
static int rules_netns(const struct rules_args *a, char *nspath, size_t len)
{
	if (!testbed_exists(a->name)) {
		nf_err("testbed '%s' does not exist: create it with 'nfcost testbed up%s%s'", a->name,
		       strcmp(a->name, TESTBED_DEFAULT_NAME) ? " --name " : "",
		       strcmp(a->name, TESTBED_DEFAULT_NAME) ? a->name : "");
		return EXIT_USAGE;
	}
	if (a->hook == NFHOOK_FORWARD && !testbed_routed(a->name)) {
		nf_err("testbed '%s' has no router for --hook forward: make one with "
		       "'nfcost testbed up --routed --name %s'", a->name, a->name);
		return EXIT_USAGE;
	}
	testbed_netns_path(a->name, experiment_rules_side(a->hook), nspath, len);
	return EXIT_OK;
}

/* Flushes the chosen backend, or every installed one. */
static int flush_rules(const struct rules_args *a, struct rules_target *t,
		       struct nf_error *err)
{
	for (int b = 0; b < BACKEND_COUNT; b++) {
		if (a->backend_set && b != (int)a->backend)
			continue;
		t->backend = (enum rules_backend)b;
		if (!a->backend_set && rules_backend_program(t->backend) &&
		    !program_exists(rules_backend_program(t->backend)))
			continue; /* a backend that is not installed has nothing to flush */
		if (rules_flush(t, err))
			return -1;
	}
	return 0;
}

int cmd_rules(int argc, char **argv)
{
	static const struct argp argp = {
		rules_options, rules_parse, "add|count|flush",
		"Add rules that never match the test traffic (destinations in 240.0.0.0/4) "
		"to a testbed, as ONE transaction per call, after the rules already there; "
		"count them; or flush them.\v"
		"Examples:\n"
		"  nfcost rules add --count 1000 --backend iptables-legacy\n"
		"  nfcost rules add --count 500 --shape addr --backend nft\n"
		"  nfcost rules count --backend iptables-legacy\n"
		"  nfcost rules flush",
		NULL, NULL, NULL
	};
	struct rules_args a = { .shape = SHAPE_ADDR_PORT, .backend = BACKEND_IPTABLES_NFT,
				.hook = NFHOOK_LOCAL_OUT };
	struct nf_error err = { 0 };
	char nspath[256];
	int rc;

	command_parse(&argp, argc, argv, &a);
	if (!a.name)
		a.name = TESTBED_DEFAULT_NAME;
	if ((rc = require_root("nfcost rules")))
		return rc;
	if ((rc = rules_netns(&a, nspath, sizeof(nspath))))
		return rc;
	struct rules_target t = {
		.netns_path = nspath, .backend = a.backend, .shape = a.shape, .hook = a.hook,
	};

	if (!strcmp(a.action, "add")) {
		double ms;
		int tx;
		long have = rules_count(&t, &err);
		if (have < 0 || rules_add(&t, have, a.count, &ms, &tx, &err))
			return nf_error_report(&err);
		/* All of it is there or none (rolled back), so no recount. */
		long total = have + a.count;
		printf("added %ld %s rules (%s) to %s %s in %s: %.1f ms; %ld in all\n",
		       a.count, rules_backend_name(a.backend), rules_shape_name(a.shape),
		       nspath + strlen(TESTBED_NETNS_DIR) + 1, nfhook_option(a.hook),
		       tx == 1 ? "one transaction" : "two transactions (the set, then its elements)",
		       ms, total);
		return EXIT_OK;
	}
	if (!strcmp(a.action, "count")) {
		long n = rules_count(&t, &err);
		if (n < 0)
			return nf_error_report(&err);
		printf("%ld\n", n);
		return EXIT_OK;
	}
	if (flush_rules(&a, &t, &err))
		return nf_error_report(&err);
	printf("flushed %s rules in %s\n", a.backend_set ? rules_backend_name(a.backend) : "all",
	       nspath + strlen(TESTBED_NETNS_DIR) + 1);
	return EXIT_OK;
}
