/* What the files of src/testbed/ share, private to that folder:
 *   netnsfs.c       the /run/netns entries: names, telling a namespace nfcost
 *                   made from anything else, creating and removing them
 *   state.c         the owner record and server.pid under /run/nfcost, and
 *                   the lock that makes claiming a name atomic
 *   rtnl.c          links, addresses, routes and offloads in a namespace:
 *                   rtnetlink through libmnl and ethtool ioctls
 *   reach.c         the reachability check: a TCP handshake cli -> srv
 *   iperf_server.c  the iperf3 server: its libiperf loop and its process
 *   testbed.c       up, down, status, cleanup, offloads
 *   flowaddr.c      a user's flow inside the testbed (nfcost profile) */
#ifndef NFCOST_TESTBED_INTERNAL_H
#define NFCOST_TESTBED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "testbed/testbed.h"
#include "util/error.h"

#define CLI_IFNAME "nfcost-cli"
#define SRV_IFNAME "nfcost-srv"
/* The router's two ends (at most 15 characters, IFNAMSIZ). */
#define RTR_CLI_IFNAME "nfcost-rtr-c"
#define RTR_SRV_IFNAME "nfcost-rtr-s"

/* --- netnsfs.c --- */

/* What a /run/netns entry is, looked at without following a symlink. Only
 * a namespace bind mount (nsfs) is ever entered, unmounted, removed or
 * counted as ours; anything else (a symlink, a directory, a plain file,
 * even the empty one a crash between creating and mounting would leave) is
 * left alone and named, for whoever made it to remove. */
enum ns_entry { NS_ABSENT, NS_MOUNTED, NS_FOREIGN };

/* *ino (when not NULL) gets the namespace's inode for NS_MOUNTED, and *fd
 * (when not NULL) an O_PATH fd on it (else -1): entering the namespace
 * through "/proc/self/fd/N" cannot be diverted by a symlink put at path
 * after this look. */
enum ns_entry ns_entry_open(const char *path, uint64_t *ino, int *fd);
enum ns_entry ns_entry_kind(const char *path);
/* The inode of the namespace mounted at path; 0 when none is. */
uint64_t ns_mounted_inode(const char *path);
/* Is any of the testbed's /run/netns entries there, of whatever kind? */
bool testbed_name_taken(const char *name);
/* Makes TESTBED_NETNS_DIR a shared mount, as iproute2 does. */
int netnsfs_prepare(void);
/* A new namespace bind-mounted at path (O_EXCL: EEXIST when taken). */
int netnsfs_create(const char *path);
/* Unmounts and unlinks an entry ns_entry_open found ours. */
int netnsfs_remove(const char *path);
/* Turns IPv4 forwarding on in the namespace at path only. */
int netnsfs_enable_forwarding(const char *path);

/* --- state.c --- */

/* Locks TESTBED_STATE_DIR (made 0755 if missing, never through a
 * symlink); the fd, also the directory's for state_claim_dir. -1 with
 * errno. Closing it unlocks. */
int state_lock(void);
void state_unlock(int fd);
/* NAME's state directory under the locked root, made (0755) if missing;
 * *made says whether it was. -1 with errno: ELOOP or ENOTDIR when NAME is a
 * symlink or not a directory. */
int state_claim_dir(int root, const char *name, bool *made);
/* Records this process as the owner, in the directory state_claim_dir gave. */
int state_owner_write(int dir);
/* Is the process that made testbed name still running? Its pid and command
 * into *pid and cmd when so. */
bool state_owner_alive(const char *name, pid_t *pid, char *cmd, size_t cmdlen);
/* 0 when NAME's state directory is a real one, -1 with errno otherwise
 * (ENOENT: there is none). */
int state_dir_check(const char *name);
/* Reads file of NAME's state directory (NUL-terminated): length, or -1. */
long state_read(const char *name, const char *file, char *buf, size_t size);
/* Writes file into NAME's state directory (through a temporary name, mode
 * 0644); the directory must exist. */
int state_write(const char *name, const char *file, const char *text);
/* Removes NAME's state directory and nfcost's files in it; a symlink or
 * anything not a directory there is left alone. */
void state_remove(const char *name);

/* --- rtnl.c --- */

/* An rtnetlink socket and an ioctl socket made inside one namespace: every
 * request on them acts there, without entering it. */
struct rtnl {
	struct mnl_socket *nl;
	int ioctl_fd;
	unsigned int seq, portid;
};
int rtnl_open(struct rtnl *r, const char *nspath);
void rtnl_close(struct rtnl *r);
/* The veth pair ifname (here) / peer_ifname (moved to peer_ns_fd). */
int rtnl_veth_create(struct rtnl *r, const char *ifname, const char *peer_ifname,
		     int peer_ns_fd);
int rtnl_link_up(struct rtnl *r, const char *ifname);
int rtnl_link_delete(struct rtnl *r, const char *ifname);
/* Renames a link (taken down for it, then up again under its new name). */
int rtnl_link_rename(struct rtnl *r, const char *ifname, const char *newname);
/* addr/prefixlen on ifname. */
int rtnl_addr_add(struct rtnl *r, const char *ifname, const char *addr, int prefixlen);
/* A route in the main table to dst/prefixlen (NULL: the default route) via
 * gw, as `ip route add` makes it; src (may be NULL) is its preferred source. */
int rtnl_route_add(struct rtnl *r, const char *dst, int prefixlen, const char *gw,
		   const char *src);
/* TSO, GSO and GRO on or off, and the GSO segment limit to match. */
int rtnl_set_offload(struct rtnl *r, const char *ifname, bool on);
/* One step in the namespace at nspath: opens, runs, closes; errno kept. */
int rtnl_addr_add_in(const char *nspath, const char *ifname, const char *addr, int prefixlen);
int rtnl_route_add_in(const char *nspath, const char *dst, int prefixlen, const char *gw,
		      const char *src);

/* --- reach.c --- */

/* 0 when a TCP handshake cli -> srv completes within 3 s; else -1 with
 * what went wrong in why. */
int reach_check(const char *name, char *why, size_t whylen);

/* --- iperf_server.c --- */

/* The pid recorded in server.pid, or -1. */
pid_t server_read_pid(const char *name);

#endif
