#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Every error is one line, also when it quotes a user's value: control
 * bytes are written as C escapes (\n, \t, \r, \xHH). */
void nf_verr(const char *fmt, va_list ap)
{
	char stack[512], *msg = stack;
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(stack, sizeof(stack), fmt, cp);
	va_end(cp);
	if (n < 0) {
		fputs("nfcost: (unprintable error message)\n", stderr);
		return;
	}
	if ((size_t)n >= sizeof(stack)) {
		msg = malloc((size_t)n + 1);
		if (!msg) {
			fputs("nfcost: out of memory while reporting an error\n", stderr);
			return;
		}
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	}
	/* Not struct buf: its out-of-memory path reports through here. */
	char ostack[2048], *out = ostack, *w;
	size_t need = 8 + 4 * (size_t)n + 2;
	if (need > sizeof(ostack) && !(out = malloc(need))) {
		fputs("nfcost: out of memory while reporting an error\n", stderr);
		if (msg != stack)
			free(msg);
		return;
	}
	w = out + sprintf(out, "nfcost: ");
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			*w++ = (char)*p;
		else if (*p == '\n')
			w += sprintf(w, "\\n");
		else if (*p == '\t')
			w += sprintf(w, "\\t");
		else if (*p == '\r')
			w += sprintf(w, "\\r");
		else
			w += sprintf(w, "\\x%02x", *p);
	}
	*w++ = '\n';
	*w = '\0';
	fputs(out, stderr); /* one write: stderr is unbuffered */
	if (out != ostack)
		free(out);
	if (msg != stack)
		free(msg);
}

void nf_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nf_verr(fmt, ap);
	va_end(ap);
}

static void buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		nf_err("out of memory");
		abort();
	}
	b->data = p;
	b->cap = cap;
}

void buf_append(struct buf *b, const char *data, size_t len)
{
	buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool program_exists(const char *name)
{
	const char *path = getenv("PATH");
	char cand[PATH_MAX];

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, path, name) < (int)sizeof(cand) &&
		    access(cand, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

double now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The shape every number on our command line has: an optional '-' (only
 * where negative values are allowed), then a decimal digit. This turns away
 * what strtol/strtod would skip or accept silently: leading whitespace, '+',
 * "-0" for a count, "inf", "nan", hex. A fraction may start with its point. */
static bool number_start_ok(const char *s, bool negative_ok, bool fraction_ok)
{
	if (!s)
		return false;
	if (*s == '-') {
		if (!negative_ok)
			return false;
		s++;
	}
	if (*s == '.' && fraction_ok) /* ".5" */
		s++;
	return *s >= '0' && *s <= '9';
}

bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!number_start_ok(s, min < 0, false))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* strtod and its checks, ending at *end instead of the string's end. */
static bool parse_double_prefix(const char *s, double min, double max, double *out, char **end)
{
	double v;

	if (!number_start_ok(s, min < 0, true) || strpbrk(s, "xX"))
		return false;
	errno = 0;
	v = strtod(s, end);
	if (errno || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!parse_double_prefix(s, min, max, &v, &end) || *end)
		return false;
	*out = v;
	return true;
}

bool parse_rate_bps(const char *s, double max, uint64_t *out)
{
	char *end;
	double v, mult = 1;

	if (!parse_double_prefix(s, 0, INFINITY, &v, &end))
		return false;
	switch (*end) {
	case 'k': case 'K': mult = 1e3; end++; break;
	case 'm': case 'M': mult = 1e6; end++; break;
	case 'g': case 'G': mult = 1e9; end++; break;
	default: break;
	}
	/* Compare before converting: a double beyond uint64_t is undefined. */
	if (*end || !(v * mult <= max) || v * mult > 1.8e19)
		return false;
	*out = (uint64_t)llround(v * mult);
	return true;
}

int require_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	/* Callers name the command ("nfcost sweep"); the line starts "nfcost:" already. */
	if (!strncmp(what, "nfcost ", 7))
		what += 7;
	nf_err("%s needs root (network namespaces, BPF and netfilter rules): run it with sudo", what);
	return EXIT_USAGE;
}

int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

long read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

bool kernel_has_symbol(const char *sym)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256];
	bool found = false;

	if (!f)
		return false;
	/* "ADDR TYPE NAME [MODULE]" */
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", name) == 1 && !strcmp(name, sym);
	fclose(f);
	return found;
}

bool open_files_ensure(long need, long *limit)
{
	/* Enough for every probe, restore pipe and socket; more is never taken. */
	const rlim_t enough = 4096;
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r))
		return true;
	if (r.rlim_cur < enough && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max < enough ? r.rlim_max : enough;
		(void)setrlimit(RLIMIT_NOFILE, &r);
		(void)getrlimit(RLIMIT_NOFILE, &r);
	}
	*limit = (long)r.rlim_cur;
	return r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= (rlim_t)need;
}

const char *errno_limit_hint(int e)
{
	if (e == EMFILE || e == ENFILE)
		return " (the open-file limit, ulimit -n, is reached: raise it, e.g. ulimit -n 4096)";
	if (e == ENOMEM)
		return " (out of memory, or the address-space limit, ulimit -v, is too low: raise it)";
	return "";
}
