/* traffic: owns one iperf3 measurement through libiperf: one client run
 * from the cli namespace, in a child process so that libiperf's globals and
 * exits stay out of nfcost, bounded in time and never outliving nfcost.
 * Results come from iperf3's JSON via json-c. (The server is the testbed's:
 * src/testbed/iperf_server.c.) Sockets and the client process enter the
 * testbed's namespace only through util/netns.h. */
#ifndef NFCOST_TRAFFIC_H
#define NFCOST_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct traffic_opts {
	bool udp;
	int duration_s;      /* >= 1 */
	int size;            /* bytes per write / UDP payload; 0: iperf3's default */
	uint64_t rate_bps;   /* UDP target rate; 0: unlimited */
	double interval_s;   /* iperf3 reporting interval */
	int streams;         /* parallel streams (iperf3 -P); 0 or 1: one */
};

struct traffic_interval {
	double start_s, end_s;
	double bits_per_second;
	double snd_cwnd_bytes; /* TCP: first stream's cwnd; UDP: 0 */
	long retransmits;      /* TCP only */
	long packets;          /* UDP only */
};

struct traffic_result {
	struct traffic_interval *intervals;
	size_t n_intervals;
	double bits_per_second;  /* sender's average over the run */
	double mean_cwnd_bytes;  /* average of the intervals' cwnd (TCP) */
	long retransmits;
	long packets;            /* UDP datagrams sent */
	char *json;              /* iperf3's own JSON, as it printed it */
};

struct traffic_run;

/* Starts one client run toward server_addr from the namespace at netns_path. */
struct traffic_run *traffic_start(const char *netns_path, const char *server_addr, int port,
				  const struct traffic_opts *opts);
/* Has the client process ended (successfully or not)? Does not block. */
bool traffic_done(struct traffic_run *run);
/* Asks a running client to stop early; it still reports what it measured. */
void traffic_stop(struct traffic_run *run);
/* Waits for the run to end and fills res. 0 on success; -1 with err filled
 * (util/error.h). Bounded: a client past its duration plus a margin is killed; on
 * stop_requested the client is asked to stop (as by traffic_stop) and
 * killed if it does not within a few seconds. A killed client, one ended by
 * a signal, or one without its JSON is an error, never an empty result;
 * partial results (JSON with an "error" next to intervals) count only after
 * a stop was asked. libiperf's stderr lines go into err on a failure; on
 * success they are warnings, said as one "nfcost: iperf3: ..." line (the
 * one thing traffic/ prints: nothing failed). */
int traffic_finish(struct traffic_run *run, struct traffic_result *res, struct nf_error *err);
/* Both in one call. */
int traffic_run_once(const char *netns_path, const char *server_addr, int port,
		     const struct traffic_opts *opts, struct traffic_result *res,
		     struct nf_error *err);

/* Sends count UDP datagrams of size bytes (0: 64) to server_addr:port from
 * the namespace at netns_path, as fast as sendto() returns. *sent: calls
 * made; *eperm: calls refused with EPERM, the sign of a drop in OUTPUT.
 * 0, or -1 with err filled when no socket could be made there. */
int traffic_udp_burst(const char *netns_path, const char *server_addr, int port, int count,
		      int size, long *sent, long *eperm, struct nf_error *err);

/* Sends one packet from the namespace at netns_path, from src (NULL or "":
 * as the routes choose) to dst:port: proto IPPROTO_UDP a 64-byte datagram,
 * IPPROTO_TCP a SYN, IPPROTO_ICMP an echo request (both on a raw socket:
 * the SYN is no connect(), so a server on that port never accepts it).
 * Returns the socket, to close once the packet's fate was read, or -1 with
 * errno (a socket, as netns_socket gives one; the caller words the reason
 * into its verdict). A send refused with EPERM (dropped in OUTPUT) is a
 * sent packet. */
int traffic_send_one(const char *netns_path, int proto, const char *src, const char *dst,
		     int port);

/* Parses iperf3 JSON (exposed for the unit tests, whose buffer it keeps).
 * 0, or -1 with a reason in err. */
int traffic_parse_json(const char *json, struct traffic_result *res, char *err, size_t errlen);
void traffic_result_free(struct traffic_result *res);

#endif
