/* tablelat-tool: drives src/probe/tablelat.c without the CLI, for
 * tests/integration/22-tablelat.sh (where fentry is refused) and
 * tests/vmtest/guest-tests.sh (where it loads):
 *   run NETNS SECS   open on NETNS, wait SECS, read: one line per (hook,
 *                    table) "part HOOK LABEL CALLS NS" and "lost N"; close,
 *                    then wait (5 s at most) until none of the tracer's
 *                    programs is loaded anywhere: "left N" (0 expected)
 *   count            the tracer's programs loaded anywhere now
 * Errors: one "nfcost: " line, exit 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/probe.h"
#include "probe/tablelat.h"
#include "util/util.h"

static int run(const char *netns, double secs)
{
	struct tablelat_part parts[TABLELAT_MAX_TABLES];
	struct tablelat *t;
	char why[512];
	uint64_t lost = 0;
	int n, left;

	probe_set_verbose(false);
	t = tablelat_open(netns, why, sizeof(why));
	if (!t) {
		nf_err("%s", why);
		return 1;
	}
	usleep((useconds_t)(secs * 1e6));
	n = tablelat_read(t, parts, TABLELAT_MAX_TABLES, &lost);
	tablelat_close(t);
	if (n < 0) {
		nf_err("cannot read the table times: %s", strerror(-n));
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("part %s %s %llu %llu\n", nfhook_option(parts[i].hook), parts[i].label,
		       (unsigned long long)parts[i].calls, (unsigned long long)parts[i].ns);
	printf("lost %llu\n", (unsigned long long)lost);
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
	if (argc == 2 && !strcmp(argv[1], "count")) {
		int n = tablelat_count_loaded();
		printf("%d\n", n);
		return n < 0;
	}
	nf_err("usage: tablelat-tool run NETNS SECS | count");
	return 2;
}
