/* `nfcost watch`: a namespace's netfilter hook latency as Prometheus
 * metrics, served on 127.0.0.1 (or --listen) and/or written to a textfile,
 * until SIGINT/SIGTERM. It only observes: it never writes a rule. */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "experiments/httpd.h"
#include "experiments/watch.h"
#include "testbed/testbed.h"
#include "util/util.h"
#include "version.h"

#define NF_STR2(x) #x
#define NF_STR(x) NF_STR2(x)

enum { OPT_NETNS = 256, OPT_LISTEN, OPT_SAMPLE, OPT_HOOK, OPT_TEXTFILE, OPT_TRACER,
       OPT_READY_FILE, OPT_TABLES, OPT_FAMILY };

struct watch_args {
	struct watch_config cfg;
	char netns_buf[512], addr[128];
	bool listen_set;
};

static const struct argp_option watch_options[] = {
	{ "netns", OPT_NETNS, "NAME|PATH", 0,
	  "Namespace to watch: /run/netns/NAME or a path (default: this one, the host's)", 0 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve /metrics here (default 127.0.0.1:10412; [::1]:PORT for IPv6)", 0 },
	{ "sample", OPT_SAMPLE, "N", 0, "Time one packet in N (default " 
	  NF_STR(PROBE_SAMPLE_DEFAULT) "; 1: every one); every packet is counted", 0 },
	{ "hook", OPT_HOOK, "LIST", 0,
	  "Hooks to watch, comma-separated: prerouting,input,forward,output,postrouting "
	  "or all (default all)", 0 },
	{ "family", OPT_FAMILY, "ipv4|ipv6|all", 0,
	  "Protocol families whose hooks are watched (default all: both)", 0 },
	{ "textfile", OPT_TEXTFILE, "PATH", 0,
	  "Also write the metrics to PATH every interval, atomically (node_exporter's "
	  "textfile collector: PATH ends in .prom); without --listen, serve nothing", 0 },
	{ "interval", 'i', "SECS", 0, "Seconds between two updates (default 5)", 0 },
	{ "tracer", OPT_TRACER, "T", 0, "auto|fentry|kprobe|nfhook (default auto)", 0 },
	{ "tables", OPT_TABLES, NULL, 0,
	  "nfhook: also time the parts of each hook between iptables' table priorities "
	  "(raw, conntrack, mangle and dnat, filter, security and snat); each bracket "
	  "costs every packet of its hook", 0 },
	{ "ready-file", OPT_READY_FILE, "PATH", OPTION_HIDDEN, "Written once serving", 0 },
	{ 0 }
};

static void parse_hooks(const char *arg, unsigned int *hooks)
{
	char buf[256], *save = NULL, *tok;
	enum nfhook h;

	snprintf(buf, sizeof(buf), "%s", arg);
	*hooks = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!nfhook_parse(tok, &h))
			usage_fail("unknown hook '%s' in --hook: use prerouting, input, forward, "
				   "output, postrouting or all", tok);
		*hooks |= h == NFHOOK_ALL ? WATCH_ALL_HOOKS : 1u << h;
	}
	if (!*hooks)
		usage_fail("--hook needs hooks, such as output,input");
}

static error_t watch_parse(int key, char *arg, struct argp_state *state)
{
	struct watch_args *a = state->input;
	struct nf_error err = { 0 };
	long n;

	switch (key) {
	case OPT_NETNS:
		parse_netns_arg(arg, a->netns_buf, sizeof(a->netns_buf));
		a->cfg.netns_path = a->netns_buf;
		break;
	case OPT_LISTEN:
		if (httpd_parse_listen(arg, a->addr, sizeof(a->addr), &a->cfg.port, &err))
			usage_fail("%s", err.msg);
		a->listen_set = true;
		break;
	case OPT_SAMPLE:
		if (!parse_long(arg, 1, PROBE_SAMPLE_MAX, &n))
			usage_fail("--sample takes a whole number from 1 to %d, got '%s'",
				   PROBE_SAMPLE_MAX, arg);
		a->cfg.sample_every = (unsigned int)n;
		break;
	case OPT_HOOK:
		parse_hooks(arg, &a->cfg.hooks);
		break;
	case OPT_TEXTFILE:
		if (!*arg)
			usage_fail("--textfile needs a path");
		a->cfg.textfile = arg;
		break;
	case 'i':
		if (!parse_double(arg, 0.1, 86400, &a->cfg.interval_s))
			usage_fail("-i takes seconds from 0.1 to 86400, got '%s'", arg);
		break;
	case OPT_TRACER:
		arg_tracer(arg, &a->cfg.tracer);
		break;
	case OPT_FAMILY: {
		enum probe_family f;
		if (!strcmp(arg, "all"))
			a->cfg.families = WATCH_ALL_FAMILIES;
		else if (probe_family_parse(arg, &f))
			a->cfg.families = 1u << f;
		else
			usage_fail("unknown family '%s': use ipv4, ipv6 or all", arg);
		break;
	}
	case OPT_TABLES:
		a->cfg.tables = true;
		break;
	case OPT_READY_FILE:
		a->cfg.ready_file = arg;
		break;
	case ARGP_KEY_ARG:
		usage_fail("watch takes no arguments, got '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	static const struct argp argp = {
		watch_options, watch_parse, NULL,
		"Watch the netfilter hooks of a network namespace and serve what they cost "
		"every packet as Prometheus metrics (GET /metrics): a latency histogram per "
		"hook, every packet counted, drops, the rules per chain, the probe's own "
		"losses. It only observes: it never writes a rule. Runs until SIGINT or "
		"SIGTERM, which detach everything (exit 0).\v"
		"Examples:\n"
		"  nfcost watch                                 # this host, 127.0.0.1:10412\n"
		"  nfcost watch --netns nfcost-lab-cli --hook output -i 1\n"
		"  nfcost watch --listen 0.0.0.0:10412          # for a Prometheus elsewhere\n"
		"  nfcost watch --textfile /var/lib/prometheus/node-exporter/nfcost.prom\n"
		"  curl -s 127.0.0.1:10412/metrics | grep nfcost_hook_packets_total",
		NULL, NULL, NULL
	};
	struct watch_args a = {
		.cfg = { .port = WATCH_DEFAULT_PORT, .sample_every = PROBE_SAMPLE_DEFAULT, .hooks = WATCH_ALL_HOOKS,
			 .families = WATCH_ALL_FAMILIES,
			 .tracer = TRACER_AUTO, .interval_s = WATCH_DEFAULT_INTERVAL_S,
			 .version = NFCOST_VERSION },
	};
	struct nf_error err = { 0 };
	int rc;

	command_parse(&argp, argc, argv, &a);
	if (a.cfg.tables && a.cfg.tracer != TRACER_NFHOOK && a.cfg.tracer != TRACER_AUTO)
		usage_fail("--tables needs the nfhook tracer, not %s: use --tracer nfhook",
			   probe_tracer_name(a.cfg.tracer));
	/* --textfile alone: no port opened (machines where none may be). */
	if (a.listen_set || !a.cfg.textfile)
		a.cfg.listen_addr = a.listen_set ? a.addr : WATCH_DEFAULT_ADDR;
	if ((rc = require_root("nfcost watch")))
		return rc;
	catch_stop_signals();
	signal(SIGPIPE, SIG_IGN);
	if (watch_run(&a.cfg, &err))
		return nf_error_report(&err);
	return EXIT_OK;
}
