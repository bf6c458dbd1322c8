/* error: the one error convention below cli/. A function that can fail
 * returns 0 on success, or -1 after filling a struct nf_error with one line
 * that says what went wrong and what to do, and the exit status it calls for
 * (EXIT_USAGE for bad input, EXIT_RUNTIME for a runtime failure). Nothing
 * below cli/ prints an error: cli/ (and main) print err->msg once, with
 * nf_err, and return err->status. A caller that adds context prefixes it
 * (nf_error_prefix), so the line still reads as one sentence. */
#ifndef NFCOST_ERROR_H
#define NFCOST_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define NF_ERROR_LEN 1024

struct nf_error {
	int status;             /* 0 until set; then EXIT_USAGE or EXIT_RUNTIME */
	char msg[NF_ERROR_LEN]; /* one line, no "nfcost: " prefix, no newline */
};

/* Fills err (when not NULL) and returns -1, so a failure is one statement:
 *   return nf_fail(err, EXIT_RUNTIME, "cannot open %s: %s", p, strerror(errno)); */
int nf_fail(struct nf_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int nf_vfail(struct nf_error *err, int status, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Puts "<prefix>" before the message already in err; returns -1. */
int nf_error_prefix(struct nf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* cli/: prints err's line with nf_err and returns its status (EXIT_RUNTIME
 * when a failing callee forgot to set one). */
int nf_error_report(const struct nf_error *err);

#endif
