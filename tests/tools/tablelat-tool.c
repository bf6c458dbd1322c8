/* tablelat-tool: drives src/probe/tablelat.c without the CLI, for
 * tests/integration/22-tablelat.sh (where fentry is refused) and
 * tests/vmtest/guest-tests.sh (where it loads):
 *   run NETNS SECS   open on NETNS, wait SECS, read: one line per (hook,
 *                    table) "part HOOK LABEL CALLS NS" and "lost N"; close,
 *                    then wait (5 s at most) until none of the tracer's
 *                    programs is loaded anywhere: "left N" (0 expected)
 *   watch NETNS      open on NETNS; for each line "SECS" on stdin: wait
 *                    SECS, read, print the parts as run does and "done";
 *                    "open" once attached; at the end of stdin close, and "left N" as run does
 *                    (one attachment for several intervals, with the
 *                    caller changing rules between them)
 *   count            the tracer's programs loaded anywhere now
 * Errors: one "nfcost: " line, exit 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/probe.h"
#include "probe/tablelat.h"
#include "util/util.h"

static void print_parts(struct tablelat *t)
{
	struct tablelat_part parts[TABLELAT_MAX_TABLES];
	uint64_t lost = 0;
	int n = tablelat_read(t, parts, TABLELAT_MAX_TABLES, &lost);

	if (n < 0) {
		nf_err("cannot read the table times: %s", strerror(-n));
		return;
	}
	for (int i = 0; i < n; i++)
		printf("part %s %s %llu %llu\n", nfhook_option(parts[i].hook), parts[i].label,
		       (unsigned long long)parts[i].calls, (unsigned long long)parts[i].ns);
	printf("lost %llu\n", (unsigned long long)lost);
}

/* secs < 0: intervals from stdin (watch). */
static int run(const char *netns, double secs)
{
	struct tablelat *t;
	struct nf_error err = { 0 };
	char line[64];
	int left;

	probe_set_verbose(false);
	t = tablelat_open(netns, &err);
	if (!t) {
		nf_err("%s", err.msg);
		return 1;
	}
	if (secs >= 0) {
		usleep((useconds_t)(secs * 1e6));
		print_parts(t);
	} else {
		setvbuf(stdout, NULL, _IOLBF, 0);
		tablelat_read(t, NULL, 0, NULL); /* intervals start at the first line */
		printf("open\n");
		while (fgets(line, sizeof(line), stdin)) {
			usleep((useconds_t)(atof(line) * 1e6));
			print_parts(t);
			printf("done\n");
		}
	}
	tablelat_close(t);
	/* The kernel frees programs a moment after their last reference. */
	for (int i = 0; i < 50 && (left = tablelat_count_loaded()) > 0; i++)
		usleep(100000);
	printf("left %d\n", left);
	return left == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "run"))
		return run(argv[2], atof(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "watch"))
		return run(argv[2], -1);
	if (argc == 2 && !strcmp(argv[1], "count")) {
		int n = tablelat_count_loaded();
		printf("%d\n", n);
		return n < 0;
	}
	nf_err("usage: tablelat-tool run NETNS SECS | watch NETNS | count");
	return 2;
}
