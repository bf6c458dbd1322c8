/* ruleset_internal: what ruleset_text.c lends ruleset.c, ruleset_fix.c and
 * ruleset_samples.c (walking the text, the built-in chains); not for other
 * modules. */
#ifndef NFCOST_RULESET_INTERNAL_H
#define NFCOST_RULESET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/ruleset.h"
#include "util/error.h"
#include "util/util.h"

const char *rs_skip_space(const char *s);
/* The next whitespace-separated word of s into w; returns what follows. */
const char *rs_word(const char *s, char *w, size_t len);
/* Calls fn for every line of text (without its newline, in a scratch copy). */
void rs_lines(const char *text, void (*fn)(char *line, void *arg), void *arg);
bool rs_ipt_builtin(const char *table, const char *chain);
/* Appends ":CHAIN ACCEPT [0:0]" for each built-in chain of the iptables
 * table; the number of built-in chains of all tables when table is NULL. */
int rs_ipt_builtin_policies(const char *table, struct buf *out);
void rs_nft_walk(struct ruleset *rs, const char *text,
		 void (*on_rule)(struct ruleset_chain *c, const char *rule, void *arg), void *arg);
/* Fills rs's counts and chains from rs->text (and ipset_text); not its digest. */
void rs_describe(struct ruleset *rs);
/* rs->text's format, counts and chains (no digest, which needs libcrypto:
 * ruleset_read_text adds it). 0, or -1 with err (EXIT_USAGE: not a rule
 * set nfcost takes). */
int rs_parse_text(const char *text, struct ruleset *rs, struct nf_error *err);
/* The sha256 of rs->text into rs->digest (ruleset.c). */
void rs_digest(struct ruleset *rs);
/* Drops the lines that are only comments. */
void rs_strip_comment_lines(struct buf *b);
/* Lines of text that start with prefix. */
int rs_count_prefixed(const char *text, const char *prefix);

#endif
