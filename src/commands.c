#include "commands.h"

#include <argp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "probe.h"
#include "rules.h"
#include "testbed.h"
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

	va_start(ap, fmt);
	nf_verr(fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

void arg_backend(const char *arg, enum rules_backend *out)
{
	if (!rules_backend_parse(arg, out))
		usage_fail("unknown backend '%s': use %s", arg, rules_backend_names());
}

void arg_shape(const char *arg, enum rules_shape *out)
{
	if (!rules_shape_parse(arg, out))
		usage_fail("unknown shape '%s': use %s", arg, rules_shape_names());
}

void arg_tracer(const char *arg, enum probe_tracer *out)
{
	if (!probe_tracer_parse(arg, out))
		usage_fail("unknown tracer '%s': use auto, fentry, kprobe or nfhook", arg);
}

void arg_hook(const char *arg, enum rules_hook *out)
{
	if (!rules_hook_parse(arg, out))
		usage_fail("unknown hook '%s': use output, input or forward", arg);
}

void arg_testbed_name(const char *arg, const char **out)
{
	if (!testbed_name_valid(arg))
		usage_fail("invalid testbed name '%s': use 1 to %d letters, digits or '_'", arg,
			   TESTBED_NAME_MAX);
	*out = arg;
}
