#include "commands.h"

#include <argp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static FILE *devnull;

static error_t quiet_parent(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key == ARGP_KEY_INIT) {
		/* getopt already printed "nfcost: unrecognized option ..." as one
		 * line; argp's extra "Try ..." line goes nowhere. */
		if (devnull)
			state->err_stream = devnull;
		state->child_inputs[0] = state->input;
	}
	return ARGP_ERR_UNKNOWN;
}

int command_parse(const struct argp *argp, int argc, char **argv, void *input)
{
	struct argp_child children[] = { { argp, 0, NULL, 0 }, { 0 } };
	struct argp parent = { NULL, quiet_parent, NULL, NULL, children,
			       NULL, NULL };
	char *saved = argv[0];
	int err;

	if (!devnull)
		devnull = fopen("/dev/null", "we");
	argv[0] = "nfcost"; /* so messages start "nfcost:" */
	err = argp_parse(&parent, argc, argv, 0, NULL, input);
	argv[0] = saved;
	return err;
}

void usage_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("nfcost: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}
