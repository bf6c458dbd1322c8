/* flow: a flow a user names for `nfcost profile` ("tcp:DST:PORT",
 * "udp:DST:PORT[:SIZE]", optionally "SRC>" before DST): parsing and
 * checking it. Pure: no sockets, no kernel. */
#ifndef NFCOST_FLOW_H
#define NFCOST_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#define FLOW_DEFAULT_UDP_SIZE 64

struct flow_spec {
	bool udp;
	char src[16];   /* dotted quad, or "" for the testbed client's own address */
	char dst[16];
	int port;       /* 1..65535 */
	int size;       /* UDP payload bytes; TCP: 0 */
	char text[64];  /* canonical: "tcp:198.18.0.2:443", "udp:198.18.9.1>240.0.0.1:53:64" */
};

/* Parses spec into f. false with a one-line reason in why (what is wrong,
 * what a valid spec looks like). Addresses of the testbed's own links
 * (198.18.0.0/23, other than the server's 198.18.0.2 as destination and
 * the client's 198.18.0.1 as source) and addresses no host can have
 * (0/8, 127/8, multicast, broadcast) are refused. */
bool flow_parse(const char *spec, struct flow_spec *f, char *why, size_t whylen);

#endif
