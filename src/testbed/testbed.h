/* testbed: owns the isolated test network: the namespaces nfcost-NAME-cli and
 * nfcost-NAME-srv (named as iproute2 names them, under /run/netns), the veth
 * pair between them (198.18.0.1/30 <-> 198.18.0.2/30), the iperf3 server
 * process in the srv namespace, and the removal of all of that, also after a
 * crashed run. A routed testbed (for the FORWARD hook) puts a third namespace,
 * nfcost-NAME-rtr, between them: cli 198.18.1.1/30 <-> 198.18.1.2/30 rtr
 * 198.18.0.1/30 <-> 198.18.0.2/30 srv, IPv4 forwarding on in rtr only; the
 * server keeps its address. It never touches the firewall of any namespace,
 * and never acts through a /run/netns or /run/nfcost entry it did not make.
 * The files that implement it are listed in testbed_internal.h. */
#ifndef NFCOST_TESTBED_H
#define NFCOST_TESTBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/error.h"

#define TESTBED_DEFAULT_NAME "lab"
#define TESTBED_NAME_MAX 32
#define TESTBED_CLI_ADDR "198.18.0.1"
#define TESTBED_SRV_ADDR "198.18.0.2"
#define TESTBED_PREFIXLEN 30
/* Routed testbed: the cli side moves to its own /30, the router takes
 * TESTBED_CLI_ADDR's place on the server's link. */
#define TESTBED_ROUTED_CLI_ADDR "198.18.1.1"
#define TESTBED_RTR_CLI_ADDR "198.18.1.2"   /* the router on the cli link */
#define TESTBED_RTR_SRV_ADDR "198.18.0.1"   /* the router on the srv link */
#define TESTBED_ROUTED_CLI_NET "198.18.1.0"
/* The lab's blocked port, served by a host no rule names: every packet passes
 * a rule's protocol and port tests and is only let go by the address test,
 * so it runs all of each rule's checks (see rules.h). */
#define TESTBED_IPERF_PORT 443
#define TESTBED_NETNS_DIR "/run/netns"
#define TESTBED_STATE_DIR "/run/nfcost"

enum testbed_side { TESTBED_CLI, TESTBED_SRV, TESTBED_RTR };

/* Letters, digits and '_' only, 1..TESTBED_NAME_MAX characters. */
bool testbed_name_valid(const char *name);
/* "/run/netns/nfcost-NAME-cli" (or -srv, -rtr) into buf. */
void testbed_netns_path(const char *name, enum testbed_side side, char *buf, size_t len);
/* "nfcost-NAME-cli" (or -srv, -rtr) into buf. */
void testbed_netns_name(const char *name, enum testbed_side side, char *buf, size_t len);
/* Is the testbed's cli namespace there (a namespace bind mount: a symlink
 * or a plain file of that name is no testbed)? */
bool testbed_exists(const char *name);
/* Does the testbed have the router namespace (made by testbed_up_routed)? */
bool testbed_routed(const char *name);
/* A name no existing testbed has, built from prefix and this process's pid. */
void testbed_unique_name(const char *prefix, char *buf, size_t len);

/* Every function that can fail returns 0, or -1 with err filled (util/
 * error.h: one line, EXIT_USAGE or EXIT_RUNTIME); none prints an error.
 *
 * Creates the testbed, checks a TCP connect cli->srv, starts the iperf3
 * server. On failure removes whatever it made. EXIT_USAGE when the name is
 * taken, also by a concurrent creator (the name is claimed atomically; a
 * loser removes nothing), or when TESTBED_STATE_DIR/NAME is a symlink (never
 * written through). The calling process is recorded as the owner
 * (TESTBED_STATE_DIR/NAME/owner: pid, start time, command; 0644, the
 * directory 0755): while it runs, testbed_cleanup leaves the testbed alone,
 * so a sweep or live run keeps its testbed; once it exits (`testbed up`)
 * the testbed is anybody's to remove. testbed_down removes the record. */
int testbed_up(const char *name, struct nf_error *err);
/* The same with nfcost-NAME-rtr routing between cli and srv; the TCP check
 * goes through the router. */
int testbed_up_routed(const char *name, struct nf_error *err);
/* Turns segmentation offloads (TSO, GSO, GRO) on or off on every veth end
 * of the testbed. Off, every skb is one wire packet, as on a router that
 * forwards small packets; on (the kernel's default for veth), TCP hands the
 * hooks skbs of tens of segments. */
int testbed_set_offload(const char *name, bool on, struct nf_error *err);
/* nfcost profile: a user's flow with its real addresses. dst becomes an
 * address of the srv side and src (NULL: the cli's own) one of the cli
 * side, with host routes between them through the testbed (and its router),
 * so a packet from src to dst crosses the namespaces as on the user's
 * machine. The namespaces are isolated: any address is safe in them. */
int testbed_add_flow_addresses(const char *name, const char *src, const char *dst,
			       struct nf_error *err);
/* Default routes from each side to the other (cli -> srv or the router,
 * rtr -> srv, srv -> its peer), so that packets to any address cross the
 * testbed: the verdict check sends to the addresses a rule set names. */
int testbed_route_any(const char *name, struct nf_error *err);
/* addr/32 on side's loopback: the side then owns it (sends from it, or
 * takes packets to it in). */
int testbed_add_local_address(const char *name, enum testbed_side side, const char *addr,
			      struct nf_error *err);
/* Starts an iperf3 server on addr:port in the srv namespace (the testbed's
 * own when that is 198.18.0.2:443) and waits until it listens.
 * testbed_down ends it with every other process in the testbed. */
int testbed_server_start_at(const char *name, const char *addr, int port, struct nf_error *err);
/* Restarts the testbed's iperf3 server if it is not running, or not
 * listening within 1 s. */
int testbed_server_ensure(const char *name, struct nf_error *err);
/* The pid of the testbed's running iperf3 server, or -1. */
pid_t testbed_server_pid(const char *name);
/* The testbed's interface of side that faces the server (toward_srv) or
 * the client; only the router has both. */
const char *testbed_ifname(enum testbed_side side, bool toward_srv);
/* Renames that interface, as a rule set that names interfaces expects
 * (call before testbed_add_flow_addresses). */
int testbed_rename_iface(const char *name, enum testbed_side side, bool toward_srv,
			 const char *newname, struct nf_error *err);
/* Removes everything of the testbed that is nfcost's (processes in it,
 * links, namespaces, state). A /run/netns or TESTBED_STATE_DIR entry of its
 * name that nfcost did not make (a symlink, a file) is left alone and the
 * call fails naming it. A testbed that does not exist is an EXIT_USAGE
 * failure, or nothing to do with missing_ok. */
int testbed_down(const char *name, bool missing_ok, struct nf_error *err);
/* Lists testbeds (all when name is NULL) and what is in them. */
int testbed_status(const char *name, FILE *out, struct nf_error *err);
/* Removes every nfcost-* testbed (namespaces, links, the processes in
 * them) whose owner is no longer running, and says on out what it removed
 * and what it skipped; with force, also those of running nfcost
 * processes. Entries nfcost did not make are never followed, unmounted or
 * deleted: named "skipped" on out, they are no failure. */
int testbed_cleanup(FILE *out, bool force, struct nf_error *err);

#endif
