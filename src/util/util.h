/* util: what every stage shares and no stage owns: error lines, exit codes,
 * a growable buffer, and number parsing for the command line. Acting inside
 * a network namespace is util/netns.h's; the error convention util/error.h's. */
#ifndef NFCOST_UTIL_H
#define NFCOST_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nfcost_exit { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* One line on stderr: "nfcost: <message>\n". */
void nf_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nf_verr(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

struct buf {
	char *data; /* always NUL-terminated once anything was appended */
	size_t len, cap;
};
void buf_append(struct buf *b, const char *data, size_t len);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* Set by SIGINT/SIGTERM once catch_stop_signals ran; long loops check it. */
extern volatile sig_atomic_t stop_requested;
/* Installs the handler that sets stop_requested, without SA_RESTART, so a
 * sleep or a wait returns early and the caller stops promptly. */
void catch_stop_signals(void);

bool program_exists(const char *name);
/* Is the function in the running kernel or a module it has loaded
 * (/proc/kallsyms)? */
bool kernel_has_symbol(const char *sym);
double now_monotonic(void);
/* Strict parses of a whole command-line value into [min, max]; false on
 * junk, range or overflow. Decimal only: no leading whitespace or '+', no
 * '-' at all when min >= 0 (so no "-0" count), no inf/nan/hex. */
bool parse_long(const char *s, long min, long max, long *out);
bool parse_double(const char *s, double min, double max, double *out);
/* A rate in bits per second, a number as parse_double takes it with an
 * optional K, M or G (10^3, 10^6, 10^9; either case): "500M", "1.5G".
 * From 0 to max. */
bool parse_rate_bps(const char *s, double max, uint64_t *out);
/* exit 2 with a message unless we run as root (namespaces, BPF, rules). */
int require_root(const char *what);
/* What a resource limit behind errno e means for the user, as a clause to
 * append to a message ("" for any other errno): EMFILE names ulimit -n,
 * ENOMEM ulimit -v, each with the way to raise it. */
const char *errno_limit_hint(int e);
/* Raises the soft open-file limit towards the hard one (as a server does at
 * start) so that a run does not fail half-way at a low default. true when
 * the limit now holds need files; false with the limit in *limit when even
 * the hard limit is under need. */
bool open_files_ensure(long need, long *limit);
/* Creates dir and its parents (mode 0755). */
int mkdir_p(const char *dir);
/* Reads a whole small file (e.g. from /proc) into buf; returns length or -1. */
long read_small_file(const char *path, char *buf, size_t size);

/* Most callers of util also act in a namespace. */
#include "util/netns.h"

#endif
