/* ruleset_internal: what ruleset.c lends ruleset_fix.c (running the
 * loaders, walking the text); not for other modules. */
#ifndef NFCOST_RULESET_INTERNAL_H
#define NFCOST_RULESET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/ruleset.h"
#include "util/util.h"

void rs_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rs_one_line(const char *msg, char *line, size_t len);
/* libnftables in the namespace (NULL: this one); out gets the output of a
 * listing. EXIT_USAGE with nft's message when the command fails. */
int rs_nft(const char *netns_path, const char *cmd, bool optimize, struct buf *out,
	   char *why, size_t len);
/* A rule set's text through libnftables as a file, so that an error
 * names its line ("line 4, column 25-25: Error: ..."). */
int rs_nft_load(const char *netns_path, const char *text, bool optimize, char *why, size_t len);
/* A program in the namespace; EXIT_USAGE with its messages when it fails,
 * EXIT_RUNTIME when it cannot run. */
int rs_run(const char *netns_path, char *const argv[], const char *input, size_t in_len,
	   struct buf *out, char *why, size_t len);
const char *rs_word(const char *s, char *w, size_t len);
void rs_lines(const char *text, void (*fn)(char *line, void *arg), void *arg);
bool rs_ipt_builtin(const char *table, const char *chain);
void rs_nft_walk(struct ruleset *rs, const char *text,
		 void (*on_rule)(struct ruleset_chain *c, const char *rule, void *arg), void *arg);
/* Fills rs's counts, chains and digest from rs->text (and ipset_text). */
int rs_describe(struct ruleset *rs, char *why, size_t len);

#endif
