/* conn_server: the server side of the connection workloads (see conn.h):
 * one process, one epoll loop over the listening socket and every open
 * connection; it answers each REQ bytes read with RESP bytes and closes a
 * connection when its client does (crr clients reset theirs: conn.h). The
 * same server serves crr and rr. */
#include "traffic/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

struct peer {
	size_t got;     /* bytes of the current request read so far */
	size_t to_send; /* bytes of answers not yet written */
};

struct server {
	int ep, lfd;
	size_t req, resp;
	struct peer *peers; /* indexed by fd */
	size_t n_peers;
	char *buf;
};

static void peer_close(struct server *s, int fd)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

static int peer_slot(struct server *s, int fd)
{
	if ((size_t)fd < s->n_peers)
		return 0;
	size_t n = s->n_peers ? s->n_peers : 1024;
	while (n <= (size_t)fd)
		n *= 2;
	struct peer *p = realloc(s->peers, n * sizeof(*p));
	if (!p)
		return -1;
	memset(p + s->n_peers, 0, (n - s->n_peers) * sizeof(*p));
	s->peers = p;
	s->n_peers = n;
	return 0;
}

static void accept_all(struct server *s)
{
	for (;;) {
		int one = 1, fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or out of descriptors until peers close */
		if (peer_slot(s, fd)) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		s->peers[fd] = (struct peer){ 0 };
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev))
			close(fd);
	}
}

/* Writes what is owed; 0 when done or blocked, -1 when the peer is gone. */
static int flush_answers(struct server *s, int fd)
{
	struct peer *p = &s->peers[fd];

	while (p->to_send) {
		size_t chunk = p->to_send < CONN_SIZE_MAX ? p->to_send : CONN_SIZE_MAX;
		ssize_t n = send(fd, s->buf, chunk, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = fd };
			epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
			return 0;
		}
		if (n <= 0)
			return -1;
		p->to_send -= (size_t)n;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
	return 0;
}

static void serve_peer(struct server *s, int fd, uint32_t events)
{
	struct peer *p = &s->peers[fd];
	bool done = false;

	if (events & EPOLLIN) {
		for (;;) {
			ssize_t n = recv(fd, s->buf, CONN_SIZE_MAX, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0) {
				done = true;
				break;
			}
			p->got += (size_t)n;
			while (p->got >= s->req) {
				p->got -= s->req;
				p->to_send += s->resp;
			}
		}
	}
	if (!done && p->to_send && flush_answers(s, fd))
		done = true;
	if (done || (events & (EPOLLERR | EPOLLHUP)))
		peer_close(s, fd);
}

static int serve(int lfd, size_t req, size_t resp)
{
	struct server s = { .lfd = lfd, .req = req, .resp = resp };
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, events[256];

	s.buf = calloc(1, CONN_SIZE_MAX);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!s.buf || s.ep < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, lfd, &ev))
		return 1;
	for (;;) {
		int n = epoll_wait(s.ep, events, 256, -1);
		if (n < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			if (events[i].data.fd == lfd)
				accept_all(&s);
			else
				serve_peer(&s, events[i].data.fd, events[i].events);
		}
	}
}

static int listen_on(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4096)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The child: into the namespace, listen, tell the parent (an errno, 0 for
 * listening) through fd 3, serve until killed. */
static void server_child(int report, const char *netns, const char *addr, uint16_t port,
			 size_t req, size_t resp)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), e = 0, lfd = -1;

	if (report != 3) {
		dup2(report, 3);
		report = 3;
	}
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	/* Inherit nothing else: a BPF link or a pipe held here would outlive
	 * its owner. */
	close_range(4, ~0U, 0);
	setsid();
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (netns) {
		int ns = open(netns, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWNET))
			e = errno ? errno : EINVAL;
		if (ns >= 0)
			close(ns);
	}
	if (!e && (lfd = listen_on(addr, port)) < 0)
		e = errno;
	if (write(report, &e, sizeof(e)) != sizeof(e) || e)
		_exit(1);
	close(report);
	_exit(serve(lfd, req, resp));
}

int conn_server_start(const char *netns, const char *addr, uint16_t port, size_t req, size_t resp,
		      pid_t *pid, struct nf_error *err)
{
	struct in_addr a;
	int p[2], e = -1;

	if (inet_pton(AF_INET, addr, &a) != 1 || !port)
		return nf_fail(err, EXIT_USAGE, "'%s:%u' is not an IPv4 address and port to listen on", addr, port);
	if (req < 1 || req > CONN_SIZE_MAX || resp < 1 || resp > CONN_SIZE_MAX)
		return nf_fail(err, EXIT_USAGE, "--size: requests and responses are 1..%d bytes", CONN_SIZE_MAX);
	if (pipe2(p, O_CLOEXEC))
		return nf_fail(err, EXIT_RUNTIME, "pipe: %s", strerror(errno));
	*pid = fork();
	if (*pid < 0) {
		close(p[0]);
		close(p[1]);
		return nf_fail(err, EXIT_RUNTIME, "fork: %s", strerror(errno));
	}
	if (*pid == 0) {
		close(p[0]);
		server_child(p[1], netns, addr, port, req, resp);
	}
	close(p[1]);
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	ssize_t n = poll(&pf, 1, 10000) == 1 ? read(p[0], &e, sizeof(e)) : 0;
	close(p[0]);
	if (n == sizeof(e) && e == 0)
		return 0;
	conn_server_stop(*pid, NULL);
	*pid = -1;
	if (n != sizeof(e))
		return nf_fail(err, EXIT_RUNTIME, "the connection server for %s:%u did not start", addr, port);
	return nf_fail(err, EXIT_RUNTIME, "the connection server cannot listen on %s:%u%s%s: %s", addr, port,
		       netns ? " in " : "", netns ? netns : "", strerror(e));
}

int conn_server_stop(pid_t pid, struct nf_error *err)
{
	if (pid <= 0)
		return nf_fail(err, EXIT_USAGE, "no connection server PID to stop");
	if (kill(pid, SIGKILL) && errno == ESRCH) {
		waitpid(pid, NULL, WNOHANG);
		return 0;
	}
	/* Our child: reap it. Not ours: wait until it is gone. */
	for (int i = 0; i < 200; i++) {
		pid_t w = waitpid(pid, NULL, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD && kill(pid, 0) != 0))
			return 0;
		usleep(10 * 1000);
	}
	return nf_fail(err, EXIT_RUNTIME, "the connection server (PID %d) is still there 2 s after SIGKILL",
		       (int)pid);
}
