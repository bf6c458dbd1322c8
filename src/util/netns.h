/* netns: acting inside a network namespace, in one place: entering and
 * leaving it, running a program there with stdin from memory and under a
 * deadline, running libnftables there, reading a file of its /proc/net and
 * opening a socket that lives there. rules/, testbed/, probe/ and traffic/
 * use these rather than calling setns() themselves. A namespace is named by
 * a path (a /run/netns file or /proc/PID/ns/net); NULL means this one. */
#ifndef NFCOST_NETNS_H
#define NFCOST_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/util.h"

/* Enters the network namespace at path; *saved gets an fd of the current
 * one (path NULL: nothing is entered and *saved is -1). */
int netns_enter(const char *path, int *saved);
/* Goes back to the namespace saved by netns_enter and closes it. */
void netns_leave(int saved);
/* Inode number of the network namespace at path, 0 when there is none. */
uint64_t netns_inode(const char *path);

/* How long a program run by netns_run may take unless told otherwise:
 * generous, since loading 100k rules takes seconds on a slow machine. */
#define NETNS_RUN_TIMEOUT_S 300.0

/* Runs argv[0] (searched in PATH, no shell) in the namespace at netns_path,
 * stdin from input, stdout/stderr collected into out/err (either may be
 * NULL). A program still running after timeout_s seconds is killed
 * (SIGKILL) and reaped. Returns its exit status (128 + signal when a signal
 * ended it), or -1 with errno set: ENOENT when it is not installed,
 * ETIMEDOUT when the deadline killed it, else why it could not start. */
int netns_run(const char *netns_path, char *const argv[], const char *input, size_t input_len,
	      double timeout_s, struct buf *out, struct buf *err);
/* netns_run with NETNS_RUN_TIMEOUT_S. */
int run_program(const char *netns_path, char *const argv[], const char *input,
		size_t input_len, struct buf *out, struct buf *err);

/* libnftables in a namespace. */
enum netns_nft_flags {
	NETNS_NFT_OPTIMIZE = 1 << 0, /* nft -o: merge rules into sets/maps */
	NETNS_NFT_AS_FILE = 1 << 1,  /* the text goes in as a file, so nft's
				      * errors name its line and column */
};
/* Runs text (nft syntax) in one transaction. output_flags are libnftables'
 * NFT_CTX_OUTPUT_* flags for a listing into out (may be NULL). On failure
 * err gets "nft: line L, column C: Error: ... (in: <source line>)" with
 * EXIT_USAGE (nft refused the text) or EXIT_RUNTIME (could not run it).
 * The optimizer's report of what it merged is not put into out. */
int netns_nft(const char *netns_path, const char *text, unsigned int flags,
	      unsigned int output_flags, struct buf *out, struct nf_error *err);

/* Reads a small file as seen from inside the namespace (e.g.
 * "/proc/self/net/ip_tables_names") into buf; returns its length or -1. */
long netns_read_file(const char *netns_path, const char *path, char *buf, size_t size);
/* A socket created inside the namespace (it stays there once we leave);
 * -1 with errno set. */
int netns_socket(const char *netns_path, int domain, int type, int protocol);

/* A program's stderr as one line: lines joined with "; ", blank lines and
 * iptables' "Try `... -h'" advice left out. */
void netns_one_line(const char *msg, char *line, size_t len);

#endif
