/* error: see error.h. */
#include "util/error.h"

#include <stdio.h>
#include <string.h>

#include "util/util.h"

int nf_vfail(struct nf_error *err, int status, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->status = status;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	/* One line: a message taken from a program's output must not break it. */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

int nf_fail(struct nf_error *err, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nf_vfail(err, status, fmt, ap);
	va_end(ap);
	return -1;
}

int nf_error_prefix(struct nf_error *err, const char *fmt, ...)
{
	char prefix[NF_ERROR_LEN], old[NF_ERROR_LEN];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(old, sizeof(old), "%s", err->msg);
	snprintf(err->msg, sizeof(err->msg), "%s%s", prefix, old);
	if (!err->status)
		err->status = EXIT_RUNTIME;
	return -1;
}

int nf_error_report(const struct nf_error *err)
{
	nf_err("%s", err->msg[0] ? err->msg : "failed, and said nothing about why (a bug: please report it)");
	return err->status ? err->status : EXIT_RUNTIME;
}
