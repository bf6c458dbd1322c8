#include "traffic/traffic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <iperf_api.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

struct traffic_run {
	pid_t pid;
	int out_fd, err_fd;  /* the client's stdout (JSON) and stderr; -1 once at EOF */
	bool udp;
	bool reaped;
	bool stop_sent;      /* traffic_stop asked it to end early */
	int status;
	int duration_s;
	double started, stop_at;
	struct buf out;      /* JSON read so far: the pipe must not fill and stall the client */
	struct buf err;      /* libiperf's own messages (warnings) */
	char netns_path[256];
};

/* Time the client may take beyond its duration: the 3 s connect timeout,
 * iperf3's end-of-test exchange and a loaded machine. */
#define CLIENT_MARGIN_S 12
/* How long a client asked to stop may take to print what it measured. */
#define STOP_GRACE_S 3.0

static struct iperf_test *client_test;

static void client_sigend(int sig)
{
	(void)sig;
	/* libiperf's own handler path: tell the server, print the JSON so far, exit. */
	if (client_test)
		iperf_got_sigend(client_test);
	_exit(1);
}

static void client_child(const char *netns_path, const char *server_addr, int port,
			 const struct traffic_opts *o, int out_fd, int err_fd)
{
	struct iperf_test *test;
	int saved;

	/* For good: this child only runs the client (close_range drops saved). */
	if (netns_enter(netns_path, &saved)) {
		dprintf(out_fd, "{\"error\":\"cannot enter %s: %s\"}\n", netns_path, strerror(errno));
		_exit(1);
	}
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	/* Keep no inherited fd (BPF links among them) past stdio. */
	close_range(3, ~0U, 0);
	test = iperf_new_test();
	if (!test || iperf_defaults(test) < 0)
		_exit(1);
	iperf_set_test_role(test, 'c');
	iperf_set_test_server_hostname(test, server_addr);
	iperf_set_test_server_port(test, port);
	iperf_set_test_duration(test, o->duration_s);
	iperf_set_test_reporter_interval(test, o->interval_s > 0 ? o->interval_s : 1.0);
	iperf_set_test_stats_interval(test, o->interval_s > 0 ? o->interval_s : 1.0);
	iperf_set_test_json_output(test, 1);
	if (o->streams > 1) /* several flows at once: a packet rate one stream cannot make */
		iperf_set_test_num_streams(test, o->streams);
	iperf_set_test_connect_timeout(test, 3000);
	if (o->udp) {
		set_protocol(test, Pudp);
		iperf_set_test_rate(test, o->rate_bps); /* 0: as fast as it goes */
	}
	if (o->size > 0)
		iperf_set_test_blksize(test, o->size);
	else if (o->udp) /* 0: the control connection's MSS, as iperf3 itself does for UDP;
			  * iperf_defaults' 128 KiB TCP block fits no datagram */
		iperf_set_test_blksize(test, 0);
	client_test = test;
	iperf_catch_sigend(client_sigend);
	/* On failure libiperf still prints JSON with an "error" member. */
	int rc = iperf_run_client(test);
	fflush(stdout);
	_exit(rc < 0 ? 1 : 0);
}

struct traffic_run *traffic_start(const char *netns_path, const char *server_addr, int port,
				  const struct traffic_opts *opts)
{
	struct traffic_run *run = calloc(1, sizeof(*run));
	pid_t parent = getpid();
	int p[2], e[2];

	if (!run)
		return NULL;
	/* A socket pair, not a pipe: recv(MSG_DONTWAIT) lets us drain it while
	 * the client runs. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p)) {
		free(run);
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e)) {
		close(p[0]);
		close(p[1]);
		free(run);
		return NULL;
	}
	run->udp = opts->udp;
	run->duration_s = opts->duration_s;
	snprintf(run->netns_path, sizeof(run->netns_path), "%s", netns_path);
	run->started = now_monotonic();
	fflush(NULL);
	run->pid = fork();
	if (run->pid < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		close(e[0]);
		close(e[1]);
		free(run);
		errno = err;
		return NULL;
	}
	if (run->pid == 0) {
		close(p[0]);
		close(e[0]);
		/* Never outlive nfcost, and never run (or spin) past the deadline
		 * even if nobody is left to enforce it: SIGALRM's default ends it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		alarm((unsigned int)(opts->duration_s + CLIENT_MARGIN_S + 5));
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		client_child(netns_path, server_addr, port, opts, p[1], e[1]);
	}
	close(p[1]);
	close(e[1]);
	run->out_fd = p[0];
	run->err_fd = e[0];
	return run;
}

/* Reads what fd holds now without blocking; closes it (-1) at EOF or error. */
static void drain_fd(int *fd, struct buf *b)
{
	char tmp[16384];
	ssize_t n;

	while (*fd >= 0) {
		n = recv(*fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			buf_append(b, tmp, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close(*fd);
		*fd = -1;
	}
}

static void drain_available(struct traffic_run *run)
{
	drain_fd(&run->out_fd, &run->out);
	drain_fd(&run->err_fd, &run->err);
}

bool traffic_done(struct traffic_run *run)
{
	drain_available(run);
	if (!run->reaped && waitpid(run->pid, &run->status, WNOHANG) == run->pid)
		run->reaped = true;
	return run->reaped;
}

void traffic_stop(struct traffic_run *run)
{
	if (!run || run->pid <= 0 || run->reaped || run->stop_sent)
		return;
	kill(run->pid, SIGINT);
	run->stop_sent = true;
	run->stop_at = now_monotonic();
}

/* libiperf's stderr as one line ("a; b"), for an error or a warning. */
static const char *stderr_text(struct traffic_run *run)
{
	struct buf *b = &run->err;
	size_t w = 0;

	if (!b->len)
		return "";
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];
		if (c == '\r')
			continue;
		if (c == '\n') {
			if (w && i + 1 < b->len)
				b->data[w++] = ';', b->data[w++] = ' ';
			continue;
		}
		b->data[w++] = c;
	}
	b->data[w] = '\0';
	b->len = w;
	return b->data;
}

/* Waits for the client's end: its output at EOF and the process reaped.
 * Bounded: on stop_requested it asks the client to stop, and a client that
 * overruns the deadline or the grace after a stop is killed (SIGKILL).
 * Returns NULL, or why the client was killed. */
static const char *wait_client(struct traffic_run *run, char *why, size_t whylen)
{
	double deadline = run->started + run->duration_s + CLIENT_MARGIN_S, killed_at = 0;
	bool killed = false;

	while (run->out_fd >= 0 || run->err_fd >= 0 || !run->reaped) {
		double now = now_monotonic();
		if (stop_requested && !run->stop_sent)
			traffic_stop(run);
		if (!killed && run->stop_sent && now > run->stop_at + STOP_GRACE_S) {
			snprintf(why, whylen, "did not stop within %.0f s of being asked", STOP_GRACE_S);
			killed = true;
		} else if (!killed && now > deadline) {
			snprintf(why, whylen, "did not finish within %d s (a %d s run)",
				 run->duration_s + CLIENT_MARGIN_S, run->duration_s);
			killed = true;
		}
		if (killed && !killed_at) {
			if (!run->reaped)
				kill(run->pid, SIGKILL); /* our own child, by its pid */
			killed_at = now;
		}
		/* A killed child's pipes reach EOF at once; if not (stuck in the
		 * kernel), give up on it rather than hang. */
		if (killed_at && now > killed_at + 5)
			break;
		struct pollfd p[2] = { { run->out_fd, POLLIN, 0 }, { run->err_fd, POLLIN, 0 } };
		if (run->out_fd >= 0 || run->err_fd >= 0)
			(void)poll(p, 2, 100); /* EINTR: the loop looks at stop_requested */
		else
			(void)poll(NULL, 0, 20);
		drain_available(run);
		if (!run->reaped && waitpid(run->pid, &run->status, WNOHANG) == run->pid)
			run->reaped = true;
	}
	return killed ? why : NULL;
}

static void run_free(struct traffic_run *run)
{
	if (run->out_fd >= 0)
		close(run->out_fd);
	if (run->err_fd >= 0)
		close(run->err_fd);
	buf_free(&run->err);
	free(run);
}

static int parse_json(const char *json, bool allow_partial, struct traffic_result *res,
		      struct nf_error *err);

int traffic_finish(struct traffic_run *run, struct traffic_result *res, struct nf_error *err)
{
	char why[128];
	const char *killed = wait_client(run, why, sizeof(why));
	struct buf out = run->out;
	struct nf_error e = { 0 };
	int status = run->status, rc = -1;

	memset(res, 0, sizeof(*res));
	const char *msgs = stderr_text(run);
	const char *sep = *msgs ? "; iperf3 said: " : "";
	if (killed) {
		nf_fail(&e, EXIT_RUNTIME, "the iperf3 client %s: killed it (signal %d)%s%s", killed,
			SIGKILL, sep, msgs);
	} else if (!run->reaped) {
		nf_fail(&e, EXIT_RUNTIME, "the iperf3 client could not be waited for%s%s", sep, msgs);
	} else if (WIFSIGNALED(status)) {
		nf_fail(&e, EXIT_RUNTIME, "the iperf3 client was killed (signal %d, %s)%s%s",
			WTERMSIG(status), strsignal(WTERMSIG(status)), sep, msgs);
	} else if (!out.len) {
		nf_fail(&e, EXIT_RUNTIME, "the iperf3 client printed nothing (exit status %d)%s%s",
			WEXITSTATUS(status), sep, msgs);
	} else {
		/* Partial results (an "error" next to intervals) only when we asked
		 * it to stop; otherwise something else ended it early. */
		rc = parse_json(out.data, run->stop_sent, res, &e);
		if (rc && *msgs) {
			size_t n = strlen(e.msg);
			snprintf(e.msg + n, sizeof(e.msg) - n, "%s%s", sep, msgs);
		} else if (!rc && *msgs) {
			/* A successful run's warnings (no error): said as they come. */
			nf_err("iperf3: %s", msgs);
		}
	}
	/* The likely why of a client that died from outside: its testbed went. */
	if (rc && access(run->netns_path, F_OK)) {
		size_t n = strlen(e.msg);
		snprintf(e.msg + n, sizeof(e.msg) - n, " (%s is gone: removed by 'nfcost cleanup "
			 "--force' or 'testbed down'?)", run->netns_path);
	}
	if (rc && err)
		*err = e;
	if (rc)
		buf_free(&out);
	else
		res->json = out.data;
	run_free(run);
	return rc;
}

int traffic_run_once(const char *netns_path, const char *server_addr, int port,
		     const struct traffic_opts *opts, struct traffic_result *res,
		     struct nf_error *err)
{
	struct traffic_run *run = traffic_start(netns_path, server_addr, port, opts);

	if (!run)
		return nf_fail(err, EXIT_RUNTIME, "cannot start the iperf3 client: %s%s",
			       strerror(errno), errno_limit_hint(errno));
	return traffic_finish(run, res, err);
}

int traffic_udp_burst(const char *netns_path, const char *server_addr, int port, int count,
		      int size, long *sent, long *eperm, struct nf_error *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char payload[65507] = { 0 };
	int fd;

	*sent = *eperm = 0;
	if (size <= 0)
		size = 64;
	if (size > (int)sizeof(payload))
		size = (int)sizeof(payload);
	if (inet_pton(AF_INET, server_addr, &sa.sin_addr) != 1)
		return nf_fail(err, EXIT_USAGE, "'%s' is no IPv4 address", server_addr);
	/* A socket belongs to the namespace it was made in, wherever it is used. */
	fd = netns_socket(netns_path, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot send datagrams from %s: %s%s", netns_path,
			       strerror(errno), errno_limit_hint(errno));
	for (int i = 0; i < count; i++) {
		ssize_t n = sendto(fd, payload, (size_t)size, 0, (struct sockaddr *)&sa, sizeof(sa));
		(*sent)++;
		if (n < 0 && errno == EPERM)
			(*eperm)++;
	}
	close(fd);
	return 0;
}

/* The Internet checksum of len bytes, added to sum (RFC 1071). */
static uint16_t inet_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The source address the routes give a packet to `to` (a connected UDP
 * socket sends nothing). */
static int route_source(const char *netns_path, const struct sockaddr_in *to,
			struct in_addr *src)
{
	struct sockaddr_in me;
	socklen_t l = sizeof(me);
	int fd = netns_socket(netns_path, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (fd < 0)
		return -1;
	if (!connect(fd, (const struct sockaddr *)to, sizeof(*to)) &&
	    !getsockname(fd, (struct sockaddr *)&me, &l)) {
		*src = me.sin_addr;
		rc = 0;
	}
	close(fd);
	return rc;
}

/* One TCP SYN or ICMP echo request, built here and sent on a raw socket:
 * a SYN from no socket never becomes a connection (the reply gets a RST),
 * so a server listening there never sees it. */
static int send_raw(const char *netns_path, int proto, const struct sockaddr_in *from,
		    const struct sockaddr_in *to)
{
	uint8_t pkt[20] = { 0 };
	size_t len;
	int fd = netns_socket(netns_path, AF_INET, SOCK_RAW | SOCK_CLOEXEC,
			      proto == IPPROTO_TCP ? IPPROTO_TCP : IPPROTO_ICMP);

	if (fd < 0)
		return -1;
	if (from->sin_addr.s_addr && bind(fd, (const struct sockaddr *)from, sizeof(*from)))
		goto fail;
	if (proto == IPPROTO_TCP) {
		/* The pseudo-header the checksum covers (RFC 793). */
		struct { uint32_t src, dst; uint8_t zero, proto; uint16_t len; } ph = {
			from->sin_addr.s_addr, to->sin_addr.s_addr, 0, IPPROTO_TCP, htons(20) };
		uint16_t sport = (uint16_t)(32768 + (getpid() ^ (int)time(NULL)) % 28000);
		uint32_t seq = (uint32_t)random(), sum = 0;
		len = 20;
		pkt[0] = (uint8_t)(sport >> 8);
		pkt[1] = (uint8_t)sport;
		memcpy(pkt + 2, &to->sin_port, 2);
		pkt[4] = (uint8_t)(seq >> 24), pkt[5] = (uint8_t)(seq >> 16);
		pkt[6] = (uint8_t)(seq >> 8), pkt[7] = (uint8_t)seq;
		pkt[12] = 5 << 4;   /* data offset: 5 words */
		pkt[13] = 0x02;     /* SYN */
		pkt[14] = 0xfa;     /* window 64240 */
		pkt[15] = 0xf0;
		const uint8_t *b = (const uint8_t *)&ph;
		for (size_t i = 0; i < sizeof(ph); i += 2)
			sum += (uint32_t)(b[i] << 8 | b[i + 1]);
		uint16_t c = inet_csum(pkt, len, sum);
		pkt[16] = (uint8_t)(c >> 8), pkt[17] = (uint8_t)c;
	} else {
		len = 16;
		pkt[0] = 8;     /* echo request */
		pkt[4] = 0x6e;  /* id "nf" */
		pkt[5] = 0x66;
		uint16_t c = inet_csum(pkt, len, 0);
		pkt[2] = (uint8_t)(c >> 8), pkt[3] = (uint8_t)c;
	}
	struct sockaddr_in dst = *to;
	dst.sin_port = 0;
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EPERM)
		goto fail; /* EPERM: the OUTPUT hook dropped it, a verdict */
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

int traffic_send_one(const char *netns_path, int proto, const char *src, const char *dst,
		     int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in from = { .sin_family = AF_INET };
	char payload[64] = { 0 };
	int fd = -1, e;

	if (inet_pton(AF_INET, dst, &to.sin_addr) != 1 ||
	    (src && src[0] && inet_pton(AF_INET, src, &from.sin_addr) != 1)) {
		errno = EINVAL;
		return -1;
	}
	/* Sockets belong to the namespace they were made in, wherever used. */
	if (proto == IPPROTO_UDP) {
		fd = netns_socket(netns_path, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && ((from.sin_addr.s_addr &&
				 bind(fd, (struct sockaddr *)&from, sizeof(from))) ||
				(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to,
					sizeof(to)) < 0 && errno != EPERM))) {
			e = errno;
			close(fd);
			errno = e;
			fd = -1;
		}
	} else if (from.sin_addr.s_addr || !route_source(netns_path, &to, &from.sin_addr)) {
		fd = send_raw(netns_path, proto, &from, &to);
	}
	return fd;
}

static json_object *jpath(json_object *o, const char *a, const char *b)
{
	json_object *x = NULL, *y = NULL;

	if (!o || !json_object_object_get_ex(o, a, &x))
		return NULL;
	if (!b)
		return x;
	return json_object_object_get_ex(x, b, &y) ? y : NULL;
}

static double jnum(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

int traffic_parse_json(const char *json, struct traffic_result *res, char *err, size_t errlen)
{
	struct nf_error e = { 0 };
	int rc = parse_json(json, true, res, &e);

	if (rc)
		snprintf(err, errlen, "%s", e.msg);
	return rc;
}

static int parse_json(const char *json, bool allow_partial, struct traffic_result *res,
		      struct nf_error *err)
{
	json_object *root = json_tokener_parse(json), *iv, *e;
	size_t n;

	memset(res, 0, sizeof(*res));
	if (!root || !json_object_is_type(root, json_type_object)) {
		nf_fail(err, EXIT_RUNTIME, "iperf3 output is not JSON");
		json_object_put(root);
		return -1;
	}
	iv = jpath(root, "intervals", NULL);
	e = jpath(root, "error", NULL);
	/* A client stopped by SIGINT reports an "error" next to the intervals it
	 * measured: those are results. An error with nothing measured is not. */
	if (e && (!allow_partial || !iv || !json_object_is_type(iv, json_type_array) ||
		  json_object_array_length(iv) == 0)) {
		nf_fail(err, EXIT_RUNTIME, "iperf3: %s", json_object_get_string(e));
		json_object_put(root);
		return -1;
	}
	if (!iv || !json_object_is_type(iv, json_type_array)) {
		nf_fail(err, EXIT_RUNTIME, "iperf3 JSON has no intervals");
		json_object_put(root);
		return -1;
	}
	n = json_object_array_length(iv);
	res->intervals = calloc(n ? n : 1, sizeof(*res->intervals));
	if (!res->intervals) {
		nf_fail(err, EXIT_RUNTIME, "out of memory for %zu iperf3 intervals", n);
		json_object_put(root);
		return -1;
	}
	double cwnd_sum = 0;
	size_t cwnd_n = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(iv, i);
		json_object *sum = jpath(it, "sum", NULL), *streams = jpath(it, "streams", NULL);
		json_object *s0 = streams ? json_object_array_get_idx(streams, 0) : NULL;
		struct traffic_interval *t = &res->intervals[res->n_intervals];
		if (!sum)
			continue;
		t->start_s = jnum(sum, "start");
		t->end_s = jnum(sum, "end");
		t->bits_per_second = jnum(sum, "bits_per_second");
		t->retransmits = (long)jnum(sum, "retransmits");
		t->packets = (long)jnum(sum, "packets");
		t->snd_cwnd_bytes = jnum(s0, "snd_cwnd");
		if (t->snd_cwnd_bytes > 0) {
			cwnd_sum += t->snd_cwnd_bytes;
			cwnd_n++;
		}
		res->n_intervals++;
	}
	json_object *end = jpath(root, "end", NULL);
	json_object *sent = jpath(end, "sum_sent", NULL);
	if (!sent) /* UDP reports one "sum" */
		sent = jpath(end, "sum", NULL);
	if (sent) {
		res->bits_per_second = jnum(sent, "bits_per_second");
		res->retransmits = (long)jnum(sent, "retransmits");
		res->packets = (long)jnum(sent, "packets");
	} else if (res->n_intervals) {
		/* cut short (SIGINT): average what the intervals say */
		for (size_t i = 0; i < res->n_intervals; i++) {
			res->bits_per_second += res->intervals[i].bits_per_second;
			res->retransmits += res->intervals[i].retransmits;
			res->packets += res->intervals[i].packets;
		}
		res->bits_per_second /= (double)res->n_intervals;
	}
	res->mean_cwnd_bytes = cwnd_n ? cwnd_sum / (double)cwnd_n : 0;
	json_object_put(root);
	return 0;
}

void traffic_result_free(struct traffic_result *res)
{
	free(res->intervals);
	free(res->json);
	memset(res, 0, sizeof(*res));
}
