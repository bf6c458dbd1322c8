#include "cli/commands.h"

#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/probe.h"
#include "rules/rules.h"
#include "testbed/testbed.h"
#include "util/util.h"

static FILE *devnull;
static char command_name[64];

enum { OPT_USAGE = 0x1000 };

/* Our own --help, --usage and --version (ARGP_NO_HELP drops argp's): argp's
 * would print "Usage: nfcost [OPTION...]", naming the program after argv[0],
 * which must stay "nfcost" for getopt's messages. */
static const struct argp_option help_options[] = {
	{ "help", '?', NULL, 0, "Give this help list", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Give a short usage message", 0 },
	{ "version", 'V', NULL, 0, "Print program version", -1 },
	{ 0 }
};

static error_t quiet_parent(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		/* getopt already printed "nfcost: unrecognized option ..." as one
		 * line; argp's extra "Try ..." line goes nowhere. */
		if (devnull)
			state->err_stream = devnull;
		state->child_inputs[0] = state->input;
		return 0;
	case '?':
		state->name = command_name;
		argp_state_help(state, state->out_stream, ARGP_HELP_STD_HELP);
		return 0;
	case OPT_USAGE:
		state->name = command_name;
		argp_state_help(state, state->out_stream, ARGP_HELP_USAGE | ARGP_HELP_EXIT_OK);
		return 0;
	case 'V':
		printf("%s\n", argp_program_version);
		exit(EXIT_OK);
	}
	return ARGP_ERR_UNKNOWN;
}

/* getopt prints an unknown option as it was given; one with a control byte
 * (a newline) would make that message two lines, so such an option is
 * refused here, quoted by nf_err, before getopt sees it. */
static void refuse_control_bytes(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		size_t name = strcspn(argv[i], "=");
		if (argv[i][0] != '-')
			continue;
		for (size_t k = 0; k < name; k++)
			if ((unsigned char)argv[i][k] < 0x20 || argv[i][k] == 0x7f)
				usage_fail("unrecognized option '%.*s': run '%s --help'", (int)name,
					   argv[i], command_name);
	}
}

int command_parse(const struct argp *argp, int argc, char **argv, void *input)
{
	struct argp_child children[] = { { argp, 0, NULL, 0 }, { 0 } };
	struct argp parent = { help_options, quiet_parent, NULL, NULL, children,
			       NULL, NULL };
	char *saved = argv[0];
	int err;

	if (!devnull)
		devnull = fopen("/dev/null", "we");
	snprintf(command_name, sizeof(command_name), "nfcost %s", saved);
	refuse_control_bytes(argc, argv);
	argv[0] = "nfcost"; /* so messages start "nfcost:" */
	err = argp_parse(&parent, argc, argv, ARGP_NO_HELP, NULL, input);
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

void arg_hook(const char *arg, enum nfhook *out)
{
	if (!nfhook_parse(arg, out) || !nfhook_fillable(*out))
		usage_fail("unknown hook '%s': use output, input or forward", arg);
}

void arg_testbed_name(const char *arg, const char **out)
{
	if (!testbed_name_valid(arg))
		usage_fail("invalid testbed name '%s': use 1 to %d letters, digits or '_'", arg,
			   TESTBED_NAME_MAX);
	*out = arg;
}

bool arg_experiment_option(int key, char *arg, struct experiment_config *cfg, const char **out,
			   bool *no_plot)
{
	switch (key) {
	case OPT_EXP_BACKEND:
		arg_backend(arg, &cfg->backend);
		return true;
	case OPT_EXP_SHAPE:
		arg_shape(arg, &cfg->shape);
		return true;
	case OPT_EXP_TRACER:
		arg_tracer(arg, &cfg->tracer);
		return true;
	case OPT_EXP_HOOK:
		arg_hook(arg, &cfg->hook);
		return true;
	case OPT_EXP_OUT:
		/* "" would put the files at the root: "" + "/iperf" is "/iperf". */
		if (!*arg)
			usage_fail("--out needs a directory name, got an empty one: give e.g. "
				   "--out results/run1");
		*out = arg;
		return true;
	case OPT_EXP_NO_PLOT:
		*no_plot = true;
		return true;
	case OPT_EXP_STREAMS: {
		long v;
		if (!parse_long(arg, 1, 128, &v))
			usage_fail("--streams takes a whole number from 1 to 128, got '%s'", arg);
		cfg->traffic.streams = (int)v;
		return true;
	}
	case OPT_EXP_SAMPLE: {
		long v;
		if (!parse_long(arg, 1, PROBE_SAMPLE_MAX, &v))
			usage_fail("--sample takes a whole number from 1 to %d (one packet in N "
				   "timed), got '%s'", PROBE_SAMPLE_MAX, arg);
		cfg->sample_every = (unsigned int)v;
		return true;
	}
	case OPT_EXP_OFFLOAD:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			usage_fail("--offload takes on or off, got '%s'", arg);
		cfg->offload = !strcmp(arg, "on") ? OFFLOAD_ON : OFFLOAD_OFF;
		return true;
	}
	return false;
}

int open_output_dir(const char *out, const char *command, struct outdir *d)
{
	struct nf_error err = { 0 };
	long limit;

	if (!open_files_ensure(NFCOST_OPEN_FILES_NEEDED, &limit)) {
		nf_err("the open-file limit (ulimit -n) is %ld and nfcost needs %d: raise it, "
		       "e.g. ulimit -n 4096", limit, NFCOST_OPEN_FILES_NEEDED);
		return EXIT_RUNTIME;
	}
	if (outdir_open(d, out, command, &err))
		return nf_error_report(&err);
	if (d->cleared)
		printf("%s: removed the %d file%s of an earlier nfcost run there\n", d->path,
		       d->cleared, d->cleared == 1 ? "" : "s");
	return EXIT_OK;
}

void parse_netns_arg(const char *arg, char *buf, size_t len)
{
	if (!*arg)
		usage_fail("--netns needs a namespace name or path");
	if (strchr(arg, '/'))
		snprintf(buf, len, "%s", arg);
	else
		snprintf(buf, len, "%s/%s", TESTBED_NETNS_DIR, arg);
	if (access(buf, F_OK))
		usage_fail("no network namespace %s (%s): 'ip netns list' shows the named ones",
			   buf, strerror(errno));
}
