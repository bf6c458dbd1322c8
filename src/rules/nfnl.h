/* nfnl: a netfilter netlink socket made inside a network namespace (a
 * socket belongs to the namespace it is made in), for the nf_tables
 * batches (nftbatch.c) and counts (nftcount.c). */
#ifndef NFCOST_NFNL_H
#define NFCOST_NFNL_H

#include <libmnl/libmnl.h>

#include "util/error.h"

/* Opened (util/netns.h's netns_socket) and bound in the namespace at
 * netns_path; NULL with err when it cannot be. Close it with
 * mnl_socket_close. */
struct mnl_socket *nfnl_socket_in(const char *netns_path, struct nf_error *err);

#endif
