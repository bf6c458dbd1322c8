#include "traffic/traffic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <iperf_api.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

struct traffic_run {
	pid_t pid;
	int out_fd;
	bool udp;
	bool reaped;
	int status;
	struct buf out; /* JSON read so far: the pipe must not fill and stall the client */
};

int traffic_server_run(const char *bind_addr, int port)
{
	for (;;) {
		struct iperf_test *test = iperf_new_test();
		if (!test || iperf_defaults(test) < 0)
			return 1;
		iperf_set_test_role(test, 's');
		iperf_set_test_server_port(test, port);
		iperf_set_test_bind_address(test, bind_addr);
		/* A fresh test per client: libiperf's reset leaves state behind
		 * after an aborted client, a new test object does not. */
		int rc = iperf_run_server(test);
		iperf_free_test(test);
		if (rc < -1) /* bind failed and the like: nothing to retry */
			return 1;
	}
}

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
			 const struct traffic_opts *o, int out_fd)
{
	int ns = open(netns_path, O_RDONLY | O_CLOEXEC);
	struct iperf_test *test;

	if (ns < 0 || setns(ns, CLONE_NEWNET)) {
		dprintf(out_fd, "{\"error\":\"cannot enter %s: %s\"}\n", netns_path, strerror(errno));
		_exit(1);
	}
	dup2(out_fd, 1);
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
	iperf_set_test_connect_timeout(test, 3000);
	if (o->udp) {
		set_protocol(test, Pudp);
		iperf_set_test_rate(test, o->rate_bps); /* 0: as fast as it goes */
	}
	if (o->size > 0)
		iperf_set_test_blksize(test, o->size);
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
	int p[2];

	/* A socket pair, not a pipe: recv(MSG_DONTWAIT) lets us drain it while
	 * the client runs. */
	if (!run || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p)) {
		free(run);
		return NULL;
	}
	run->udp = opts->udp;
	fflush(NULL);
	run->pid = fork();
	if (run->pid < 0) {
		close(p[0]);
		close(p[1]);
		free(run);
		return NULL;
	}
	if (run->pid == 0) {
		close(p[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		client_child(netns_path, server_addr, port, opts, p[1]);
	}
	close(p[1]);
	run->out_fd = p[0];
	return run;
}

/* Reads what the pipe holds now without blocking; false at EOF. */
static bool drain_available(struct traffic_run *run)
{
	char tmp[16384];
	ssize_t n;

	while ((n = recv(run->out_fd, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			buf_append(&run->out, tmp, (size_t)n);
	return n != 0;
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
	if (run && run->pid > 0 && !run->reaped)
		kill(run->pid, SIGINT);
}

int traffic_finish(struct traffic_run *run, struct traffic_result *res, char *err, size_t errlen)
{
	struct buf out = run->out;
	char tmp[16384];
	ssize_t n;
	int status = 0, rc;

	memset(res, 0, sizeof(*res));
	while ((n = read(run->out_fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		buf_append(&out, tmp, (size_t)n);
	}
	close(run->out_fd);
	if (run->reaped)
		status = run->status;
	else
		while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR)
			;
	free(run);
	if (!out.len) {
		snprintf(err, errlen, "the iperf3 client printed nothing (status %d)", status);
		return -1;
	}
	rc = traffic_parse_json(out.data, res, err, errlen);
	if (rc)
		buf_free(&out);
	else
		res->json = out.data;
	return rc;
}

int traffic_run_once(const char *netns_path, const char *server_addr, int port,
		     const struct traffic_opts *opts, struct traffic_result *res, char *err,
		     size_t errlen)
{
	struct traffic_run *run = traffic_start(netns_path, server_addr, port, opts);

	if (!run) {
		snprintf(err, errlen, "cannot start the iperf3 client: %s", strerror(errno));
		return -1;
	}
	return traffic_finish(run, res, err, errlen);
}

int traffic_udp_burst(const char *netns_path, const char *server_addr, int port, int count,
		      int size, long *sent, long *eperm)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char payload[65507] = { 0 };
	int saved, fd;

	*sent = *eperm = 0;
	if (size <= 0)
		size = 64;
	if (size > (int)sizeof(payload))
		size = (int)sizeof(payload);
	if (inet_pton(AF_INET, server_addr, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	/* A socket belongs to the namespace it was made in, wherever it is used. */
	if (netns_enter(netns_path, &saved))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int e = errno;
	netns_leave(saved);
	if (fd < 0) {
		errno = e;
		return -1;
	}
	for (int i = 0; i < count; i++) {
		ssize_t n = sendto(fd, payload, (size_t)size, 0, (struct sockaddr *)&sa, sizeof(sa));
		(*sent)++;
		if (n < 0 && errno == EPERM)
			(*eperm)++;
	}
	close(fd);
	return 0;
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
	json_object *root = json_tokener_parse(json), *iv, *e;
	size_t n;

	memset(res, 0, sizeof(*res));
	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "iperf3 output is not JSON");
		json_object_put(root);
		return -1;
	}
	iv = jpath(root, "intervals", NULL);
	e = jpath(root, "error", NULL);
	/* A client stopped by SIGINT reports an "error" next to the intervals it
	 * measured: those are results. An error with nothing measured is not. */
	if (e && (!iv || !json_object_is_type(iv, json_type_array) ||
		  json_object_array_length(iv) == 0)) {
		snprintf(err, errlen, "iperf3: %s", json_object_get_string(e));
		json_object_put(root);
		return -1;
	}
	if (!iv || !json_object_is_type(iv, json_type_array)) {
		snprintf(err, errlen, "iperf3 JSON has no intervals");
		json_object_put(root);
		return -1;
	}
	n = json_object_array_length(iv);
	res->intervals = calloc(n ? n : 1, sizeof(*res->intervals));
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
