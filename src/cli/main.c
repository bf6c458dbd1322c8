/* main: `nfcost COMMAND ...` dispatch. Each command lives in its own file. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/commands.h"
#include "util/util.h"
#include "version.h"

const char *argp_program_version = "nfcost " NFCOST_VERSION;
const char *argp_program_bug_address = "the nfcost issue tracker";

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "testbed", cmd_testbed, "up|down|status an isolated client/server namespace pair" },
	{ "rules", cmd_rules, "add|count|flush rules in a testbed (one transaction per add)" },
	{ "trace", cmd_trace, "per-packet time in the netfilter hooks, every interval" },
	{ "sweep", cmd_sweep, "grow a rule set in steps, measure latency and throughput" },
	{ "live", cmd_live, "inject rules during one long run (time series)" },
	{ "compare", cmd_compare, "the same sweep for several backends" },
	{ "profile", cmd_profile, "what a given rule set costs, per table, and what each fix saves" },
	{ "watch", cmd_watch, "serve a namespace's hook latency as Prometheus metrics" },
	{ "compile", cmd_compile, "compile a pcap expression to xt_bpf bytecode" },
	{ "cleanup", cmd_cleanup, "remove everything earlier runs left behind" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: nfcost COMMAND [OPTION...]\n"
		   "What does each netfilter rule cost every packet, and what does that do\n"
		   "to throughput?\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`nfcost COMMAND --help` shows a command's options.\n");
}

/* NFCOST_RUSAGE=1: the peak memory of nfcost itself and of the largest
 * program it ran (a restore tool), for benchmarks and the scale tests. */
static int report_rusage(int rc)
{
	struct rusage self, kids;

	if (getenv("NFCOST_RUSAGE") && !getrusage(RUSAGE_SELF, &self) &&
	    !getrusage(RUSAGE_CHILDREN, &kids))
		fprintf(stderr, "nfcost: peak RSS %ld KB, largest child %ld KB\n", self.ru_maxrss,
			kids.ru_maxrss);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		nf_err("no command given: run 'nfcost --help' for the list");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s\n", argp_program_version);
		return EXIT_OK;
	}
	argp_err_exit_status = EXIT_USAGE;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return report_rusage(commands[i].run(argc - 1, argv + 1));
	nf_err("unknown command '%s': run 'nfcost --help' for the list", argv[1]);
	return EXIT_USAGE;
}
