/* `nfcost testbed up|down|status` and `nfcost cleanup`. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "testbed/testbed.h"
#include "util/error.h"
#include "util/util.h"

struct testbed_args {
	const char *action;
	const char *name;
	bool routed;
};

enum { OPT_ROUTED = 1000 };

static const struct argp_option testbed_options[] = {
	{ "name", 'n', "NAME", 0, "Testbed name (default " TESTBED_DEFAULT_NAME ")", 0 },
	{ "routed", OPT_ROUTED, NULL, 0,
	  "up: put a router namespace nfcost-NAME-rtr between cli (" TESTBED_ROUTED_CLI_ADDR
	  ") and srv, as --hook forward experiments use", 0 },
	{ 0 }
};

static error_t testbed_parse(int key, char *arg, struct argp_state *state)
{
	struct testbed_args *a = state->input;

	switch (key) {
	case 'n':
		arg_testbed_name(arg, &a->name);
		break;
	case OPT_ROUTED:
		a->routed = true;
		break;
	case ARGP_KEY_ARG:
		if (a->action)
			usage_fail("testbed takes one action (up, down or status), got '%s' too", arg);
		if (strcmp(arg, "up") && strcmp(arg, "down") && strcmp(arg, "status"))
			usage_fail("unknown testbed action '%s': use up, down or status", arg);
		a->action = arg;
		break;
	case ARGP_KEY_END:
		if (!a->action)
			usage_fail("testbed needs an action: nfcost testbed up|down|status [--name NAME]");
		if (a->routed && strcmp(a->action, "up"))
			usage_fail("--routed goes with 'testbed up' only");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* What `testbed up` made, in one line. */
static void print_up(const char *name, bool routed)
{
	int pid = (int)testbed_server_pid(name);

	if (routed)
		printf("testbed %s up: nfcost-%s-cli (%s) <-> nfcost-%s-rtr (%s, %s, forwarding) "
		       "<-> nfcost-%s-srv (%s), iperf3 server pid %d\n", name, name,
		       TESTBED_ROUTED_CLI_ADDR, name, TESTBED_RTR_CLI_ADDR, TESTBED_RTR_SRV_ADDR,
		       name, TESTBED_SRV_ADDR, pid);
	else
		printf("testbed %s up: nfcost-%s-cli (%s) <-> nfcost-%s-srv (%s), "
		       "iperf3 server pid %d\n", name, name, TESTBED_CLI_ADDR, name,
		       TESTBED_SRV_ADDR, pid);
}

int cmd_testbed(int argc, char **argv)
{
	static const struct argp argp = {
		testbed_options, testbed_parse, "up|down|status",
		"Build, inspect or remove an isolated testbed: namespaces nfcost-NAME-cli "
		"and nfcost-NAME-srv joined by a veth pair (" TESTBED_CLI_ADDR " <-> "
		TESTBED_SRV_ADDR "), with an iperf3 server on the srv side.\v"
		"Examples:\n"
		"  nfcost testbed up                # testbed 'lab'\n"
		"  nfcost testbed up --name t1      # a second one\n"
		"  nfcost testbed up --routed --name r1  # cli <-> rtr <-> srv\n"
		"  nfcost testbed status\n"
		"  nfcost testbed down --name t1",
		NULL, NULL, NULL
	};
	struct testbed_args a = { NULL, NULL, false };
	struct nf_error err = { 0 };
	int rc;

	command_parse(&argp, argc, argv, &a);
	if (!strcmp(a.action, "status") && a.name == NULL) {
		if ((rc = require_root("nfcost testbed status")))
			return rc;
		return testbed_status(NULL, stdout, &err) ? nf_error_report(&err) : EXIT_OK;
	}
	if (!a.name)
		a.name = TESTBED_DEFAULT_NAME;
	if ((rc = require_root("nfcost testbed")))
		return rc;
	if (!strcmp(a.action, "up")) {
		if ((a.routed ? testbed_up_routed : testbed_up)(a.name, &err))
			return nf_error_report(&err);
		print_up(a.name, a.routed);
		return EXIT_OK;
	}
	if (!strcmp(a.action, "down")) {
		if (testbed_down(a.name, false, &err))
			return nf_error_report(&err);
		printf("testbed %s down\n", a.name);
		return EXIT_OK;
	}
	return testbed_status(a.name, stdout, &err) ? nf_error_report(&err) : EXIT_OK;
}

enum { OPT_FORCE = 1001 };

static const struct argp_option cleanup_options[] = {
	{ "force", OPT_FORCE, NULL, 0,
	  "Also remove the testbeds of nfcost runs that are still going (they fail)", 0 },
	{ 0 }
};

static error_t cleanup_parse(int key, char *arg, struct argp_state *state)
{
	bool *force = state->input;

	if (key == OPT_FORCE) {
		*force = true;
		return 0;
	}
	if (key == ARGP_KEY_ARG)
		usage_fail("cleanup takes no arguments, got '%s'", arg);
	return ARGP_ERR_UNKNOWN;
}

int cmd_cleanup(int argc, char **argv)
{
	static const struct argp argp = {
		cleanup_options, cleanup_parse, NULL,
		"Remove every nfcost-* namespace, link and process that earlier runs "
		"left behind (also after a crash or SIGKILL), and say what was removed. "
		"The testbeds of nfcost runs still going (sweep, compare, live) are "
		"skipped and named, unless --force.",
		NULL, NULL, NULL
	};
	struct nf_error err = { 0 };
	bool force = false;
	int rc;

	command_parse(&argp, argc, argv, &force);
	if ((rc = require_root("nfcost cleanup")))
		return rc;
	return testbed_cleanup(stdout, force, &err) ? nf_error_report(&err) : EXIT_OK;
}
