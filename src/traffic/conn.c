/* conn: the client side of the connection workloads; see conn.h. */
#include "traffic/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/netns.h"
#include "util/util.h"

bool conn_mode_parse(const char *s, enum conn_mode *out)
{
	if (s && !strcmp(s, "crr"))
		*out = CONN_CRR;
	else if (s && !strcmp(s, "rr"))
		*out = CONN_RR;
	else
		return false;
	return true;
}

const char *conn_mode_name(enum conn_mode m)
{
	return m == CONN_CRR ? "crr" : "rr";
}

static int size_part(const char *s, size_t *out, struct nf_error *err)
{
	long v;

	if (!parse_long(s, 0, 1L << 40, &v))
		return nf_fail(err, EXIT_USAGE, "--size: '%s' is not a byte count (REQ[:RESP], 1..%d)", s,
			       CONN_SIZE_MAX);
	if (v < 1 || v > CONN_SIZE_MAX)
		return nf_fail(err, EXIT_USAGE, "--size: %ld bytes is out of range: a request or response is 1..%d bytes (64 KiB)",
			       v, CONN_SIZE_MAX);
	*out = (size_t)v;
	return 0;
}

int conn_size_parse(const char *s, size_t *req, size_t *resp, struct nf_error *err)
{
	char copy[64];

	if (!s || strlen(s) >= sizeof(copy))
		return nf_fail(err, EXIT_USAGE, "--size takes REQ[:RESP] in bytes, e.g. 1:1 or 100:8192");
	snprintf(copy, sizeof(copy), "%s", s);
	char *colon = strchr(copy, ':');
	if (colon)
		*colon = '\0';
	if (size_part(copy, req, err))
		return -1;
	if (!colon) {
		*resp = *req;
		return 0;
	}
	return size_part(colon + 1, resp, err);
}

void conn_spec_defaults(struct conn_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = CONN_CRR;
	s->req = s->resp = 1;
	s->streams = 1;
	s->duration_s = 1.0;
	s->timeout_s = CONN_DEFAULT_TIMEOUT_S;
}

/* --- one stream --- */

enum failure { F_REFUSED, F_TIMEOUT, F_RESET, F_OTHER };

/* The streams start together once all are in the namespace. */
struct start {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;
	int go; /* 1: run, -1: give up before starting */
};

struct stream {
	const struct conn_spec *spec;
	struct sockaddr_in sa;
	struct timeval tv;         /* the per-call timeout */
	struct start *start;
	double end;                /* when this stream stopped */
	int setup_errno;           /* could not enter the namespace */
	uint64_t ok, fail[4];
	char first_failure[160];
	uint64_t *lat;             /* reservoir of latencies, ns */
	size_t n_lat, cap;
	uint64_t sum_ns, max_ns;
	uint64_t rng;
	char *buf;
	pthread_t tid;
};


static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum failure classify(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return F_REFUSED;
	case EAGAIN:
	case EINPROGRESS:
	case ETIMEDOUT:
		return F_TIMEOUT;
	case 0: /* the peer closed before the whole response */
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
		return F_RESET;
	default:
		return F_OTHER;
	}
}

static void failed(struct stream *s, const char *what, int e)
{
	s->fail[classify(e)]++;
	if (!s->first_failure[0])
		snprintf(s->first_failure, sizeof(s->first_failure), "%s: %s", what,
			 e ? strerror(e) : "closed by the peer before the whole response");
}

static void record(struct stream *s, uint64_t ns)
{
	s->ok++;
	s->sum_ns += ns;
	if (ns > s->max_ns)
		s->max_ns = ns;
	if (s->n_lat < s->cap) {
		s->lat[s->n_lat++] = ns;
		return;
	}
	/* Reservoir sampling (xorshift64): every transaction equally likely. */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	uint64_t j = s->rng % s->ok;
	if (j < s->cap)
		s->lat[j] = ns;
}

/* 0, or the errno that stopped it (0 stays 0 only on success: an early
 * EOF is reported as ECONNRESET's class through classify(0)). */
static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, char *p, size_t len, bool *eof)
{
	*eof = false;
	while (len) {
		ssize_t n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0) {
			*eof = true;
			return 0;
		}
		len -= (size_t)n;
	}
	return 0;
}

/* A connected socket, or -1 after counting the failure. */
static int open_connection(struct stream *s)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		failed(s, "socket", errno);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &s->tv, sizeof(s->tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &s->tv, sizeof(s->tv));
	/* rr: no Nagle wait behind the previous answer's ACK. crr's request is
	 * a fresh connection's first segment, which Nagle never holds. */
	if (s->spec->mode == CONN_RR)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&s->sa, sizeof(s->sa))) {
		failed(s, "connect", errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* One request and its response on fd: 0, or -1 after counting why not. */
static int exchange(struct stream *s, int fd)
{
	bool eof;
	int e = send_all(fd, s->buf, s->spec->req);

	if (e) {
		failed(s, "send", e);
		return -1;
	}
	e = recv_all(fd, s->buf, s->spec->resp, &eof);
	if (e || eof) {
		failed(s, "receive", e);
		return -1;
	}
	return 0;
}

static void crr_once(struct stream *s)
{
	static const struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	uint64_t t0 = now_ns();
	int fd = open_connection(s);

	if (fd < 0)
		return;
	int bad = exchange(s, fd);
	/* A reset, not a FIN: no TIME_WAIT on either side (conn.h). */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(fd);
	if (!bad)
		record(s, now_ns() - t0);
}

static void run_stream(struct stream *s, uint64_t deadline)
{
	int fd = -1;

	while (now_ns() < deadline && !stop_requested) {
		if (s->spec->mode == CONN_CRR) {
			crr_once(s);
			continue;
		}
		if (fd < 0 && (fd = open_connection(s)) < 0)
			continue;
		uint64_t t0 = now_ns();
		if (exchange(s, fd)) {
			close(fd);
			fd = -1;
			continue;
		}
		record(s, now_ns() - t0);
	}
	if (fd >= 0)
		close(fd);
}

static void *stream_main(void *arg)
{
	struct stream *s = arg;
	int saved = -1;

	if (netns_enter(s->spec->netns, &saved))
		s->setup_errno = errno ? errno : EINVAL;
	pthread_mutex_lock(&s->start->lock);
	s->start->ready++;
	pthread_cond_broadcast(&s->start->cond);
	while (!s->start->go)
		pthread_cond_wait(&s->start->cond, &s->start->lock);
	int go = s->start->go;
	pthread_mutex_unlock(&s->start->lock);
	if (go > 0 && !s->setup_errno)
		run_stream(s, now_ns() + (uint64_t)(s->spec->duration_s * 1e9));
	s->end = now_monotonic();
	netns_leave(saved);
	return NULL;
}

/* --- the run --- */

static int check_spec(const struct conn_spec *sp, struct sockaddr_in *sa, struct nf_error *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(sp->port);
	if (inet_pton(AF_INET, sp->dst, &sa->sin_addr) != 1 || !sp->port)
		return nf_fail(err, EXIT_USAGE, "'%s:%u' is not an IPv4 address and port", sp->dst, sp->port);
	if (sp->req < 1 || sp->req > CONN_SIZE_MAX || sp->resp < 1 || sp->resp > CONN_SIZE_MAX)
		return nf_fail(err, EXIT_USAGE, "--size: requests and responses are 1..%d bytes", CONN_SIZE_MAX);
	if (sp->streams < 1 || sp->streams > CONN_STREAMS_MAX)
		return nf_fail(err, EXIT_USAGE, "--streams must be 1..%d", CONN_STREAMS_MAX);
	if (!(sp->duration_s > 0) || sp->duration_s > 86400 || sp->timeout_s < 0)
		return nf_fail(err, EXIT_USAGE, "the duration must be > 0 s (and at most a day)");
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double quantile_us(const uint64_t *v, size_t n, double q)
{
	if (!n)
		return 0;
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	double f = pos - (double)i, x = (double)v[i];
	if (i + 1 < n)
		x += f * ((double)v[i + 1] - x);
	return x / 1e3;
}

/* Adds the streams' counts and latencies into res. */
static int merge(struct stream *st, int n, struct conn_result *res, struct nf_error *err)
{
	size_t total = 0, k = 0;
	uint64_t sum = 0, max = 0;

	for (int i = 0; i < n; i++) {
		res->transactions += st[i].ok;
		res->refused += st[i].fail[F_REFUSED];
		res->timeouts += st[i].fail[F_TIMEOUT];
		res->resets += st[i].fail[F_RESET];
		res->other += st[i].fail[F_OTHER];
		if (!res->first_failure[0] && st[i].first_failure[0])
			snprintf(res->first_failure, sizeof(res->first_failure), "%s", st[i].first_failure);
		total += st[i].n_lat;
		sum += st[i].sum_ns;
		max = st[i].max_ns > max ? st[i].max_ns : max;
	}
	res->failed = res->refused + res->timeouts + res->resets + res->other;
	uint64_t *all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return nf_fail(err, EXIT_RUNTIME, "out of memory for %zu latency samples", total);
	for (int i = 0; i < n; i++) {
		memcpy(all + k, st[i].lat, st[i].n_lat * sizeof(*all));
		k += st[i].n_lat;
	}
	qsort(all, total, sizeof(*all), cmp_u64);
	res->samples = total;
	res->p50_us = quantile_us(all, total, 0.50);
	res->p90_us = quantile_us(all, total, 0.90);
	res->p99_us = quantile_us(all, total, 0.99);
	res->max_us = (double)max / 1e3;
	res->avg_us = res->transactions ? (double)sum / (double)res->transactions / 1e3 : 0;
	free(all);
	return 0;
}

static int streams_alloc(const struct conn_spec *sp, const struct sockaddr_in *sa, struct stream *st,
			 struct start *start, struct nf_error *err)
{
	double t = sp->timeout_s > 0 ? sp->timeout_s : CONN_DEFAULT_TIMEOUT_S;
	size_t cap = CONN_SAMPLES_MAX / (size_t)sp->streams;

	for (int i = 0; i < sp->streams; i++) {
		struct stream *s = &st[i];
		s->spec = sp;
		s->sa = *sa;
		s->tv.tv_sec = (time_t)t;
		s->tv.tv_usec = (suseconds_t)((t - (double)(time_t)t) * 1e6);
		s->start = start;
		s->cap = cap ? cap : 1;
		s->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)(i + 1);
		s->lat = malloc(s->cap * sizeof(*s->lat));
		s->buf = calloc(1, CONN_SIZE_MAX);
		if (!s->lat || !s->buf)
			return nf_fail(err, EXIT_RUNTIME, "out of memory for %d streams", sp->streams);
	}
	return 0;
}

/* Starts the threads, lets them go together, waits for them. Returns how
 * many ran; -1 when none could be created. */
static int streams_run(struct stream *st, int n, struct start *start, double *t0)
{
	int created = 0;

	for (; created < n; created++)
		if (pthread_create(&st[created].tid, NULL, stream_main, &st[created]))
			break;
	pthread_mutex_lock(&start->lock);
	while (start->ready < created)
		pthread_cond_wait(&start->cond, &start->lock);
	*t0 = now_monotonic();
	start->go = created == n ? 1 : -1;
	pthread_cond_broadcast(&start->cond);
	pthread_mutex_unlock(&start->lock);
	for (int i = 0; i < created; i++)
		pthread_join(st[i].tid, NULL);
	return created == n ? n : -1;
}

static int no_success(const struct conn_spec *sp, const struct conn_result *r, struct nf_error *err)
{
	const char *hint = r->refused == r->failed ? ": nothing listens there (is the server running?)"
			   : r->timeouts ? ": no answer (a rule drops the packets, or no route?)"
					 : "";
	return nf_fail(err, EXIT_RUNTIME,
		       "no %s transaction to %s:%u completed in %.1f s: %llu failed (%llu refused, %llu timed out, "
		       "%llu reset, %llu other; first: %s)%s",
		       conn_mode_name(sp->mode), sp->dst, sp->port, r->elapsed_s, (unsigned long long)r->failed,
		       (unsigned long long)r->refused, (unsigned long long)r->timeouts,
		       (unsigned long long)r->resets, (unsigned long long)r->other,
		       r->first_failure[0] ? r->first_failure : "none", hint);
}

int conn_run(const struct conn_spec *sp, struct conn_result *res, struct nf_error *err)
{
	struct sockaddr_in sa;
	struct start start = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	double t0 = 0, t1 = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (check_spec(sp, &sa, err))
		return -1;
	struct stream *st = calloc((size_t)sp->streams, sizeof(*st));
	if (!st)
		return nf_fail(err, EXIT_RUNTIME, "out of memory for %d streams", sp->streams);
	if (streams_alloc(sp, &sa, st, &start, err))
		goto out;
	if (streams_run(st, sp->streams, &start, &t0) < 0) {
		nf_fail(err, EXIT_RUNTIME, "cannot start %d client threads: %s", sp->streams, strerror(EAGAIN));
		goto out;
	}
	for (int i = 0; i < sp->streams; i++) {
		if (st[i].setup_errno) {
			nf_fail(err, EXIT_RUNTIME, "cannot enter network namespace %s: %s", sp->netns,
				strerror(st[i].setup_errno));
			goto out;
		}
		t1 = st[i].end > t1 ? st[i].end : t1;
	}
	if (merge(st, sp->streams, res, err))
		goto out;
	res->elapsed_s = t1 - t0;
	res->tps = res->elapsed_s > 0 ? (double)res->transactions / res->elapsed_s : 0;
	rc = res->transactions ? 0 : no_success(sp, res, err);
out:
	for (int i = 0; i < sp->streams; i++) {
		free(st[i].lat);
		free(st[i].buf);
	}
	free(st);
	return rc;
}
