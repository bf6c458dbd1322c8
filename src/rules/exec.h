/* rules/exec: how rules/ acts on a namespace, for the generated rules
 * (rules.c) and a user's rule set (ruleset.c, ruleset_fix.c) alike: a
 * backend's program run there with its input from memory and under
 * util/netns.h's deadline, libnftables there, the legacy tables it has;
 * every failure one line in a struct nf_error. */
#ifndef NFCOST_RULES_EXEC_H
#define NFCOST_RULES_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"
#include "util/netns.h"
#include "util/util.h"

/* Runs argv in the namespace (NULL: this one), stdin from input, stdout
 * into out (may be NULL). 0, or -1 with err: EXIT_RUNTIME when it is not
 * installed, cannot start or outlives the deadline; fail_status when it
 * ran and failed, with its messages as one line (named after the program
 * unless the line names it, as iptables-restore's do). */
int rules_exec(const char *netns_path, char *const argv[], const char *input, size_t input_len,
	       struct buf *out, int fail_status, struct nf_error *err);

/* rules_exec for iptables-restore and its kin, which read a file named as
 * their last argument: the input goes into a memfd that the program reads
 * at its own pace instead of a pipe nfcost must keep refilling (on a busy
 * machine every refill waits for nfcost to be scheduled again). */
int rules_exec_restore(const char *netns_path, char *const argv[], const char *input,
		       size_t input_len, struct buf *out, int fail_status, struct nf_error *err);

/* The legacy (ip_tables) tables the namespace has, one name a line, read
 * from /proc: asking iptables-legacy would create them, and with them
 * hooks that cost every packet. 0, or -1 with err (cannot enter it). */
int rules_legacy_tables(const char *netns_path, char *names, size_t len, struct nf_error *err);
/* Does the legacy table `table` exist there? */
bool rules_legacy_table_exists(const char *netns_path, const char *table);

#endif
