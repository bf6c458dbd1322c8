/* netns: see netns.h. */
#include "util/netns.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int netns_enter(const char *path, int *saved)
{
	int self, target;

	*saved = -1;
	if (!path)
		return 0;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -1;
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0 || setns(target, CLONE_NEWNET)) {
		int e = errno;
		if (target >= 0)
			close(target);
		close(self);
		errno = e;
		return -1;
	}
	close(target);
	*saved = self;
	return 0;
}

void netns_leave(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWNET)) {
		/* Staying in a test namespace would aim later work at the wrong place. */
		nf_err("cannot return to the original network namespace: %s", strerror(errno));
		abort();
	}
	close(saved);
}

uint64_t netns_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

/* --- running a program --- */

static void drain(int *fd, struct buf *b)
{
	char tmp[8192];
	ssize_t n = read(*fd, tmp, sizeof(tmp));

	if (n > 0) {
		if (b)
			buf_append(b, tmp, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
	}
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* The child: into the namespace, pipes onto 0/1/2, exec. On failure the
 * errno goes back through exec_fd, which exec would have closed. */
static void __attribute__((noreturn))
run_child(const char *netns_path, char *const argv[], const int in_p[2], const int out_p[2],
	  const int err_p[2], int exec_fd)
{
	int e;

	if (netns_path) {
		int ns = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWNET))
			goto fail;
	}
	signal(SIGPIPE, SIG_DFL);
	dup2(in_p[0], 0);
	dup2(out_p[1], 1);
	dup2(err_p[1], 2);
	execvp(argv[0], argv);
fail:
	e = errno;
	(void)!write(exec_fd, &e, sizeof(e));
	_exit(127);
}

/* Feeds stdin and drains both outputs together, so that no pipe can fill
 * up and stall, until all three close or the deadline passes. Returns false
 * when the deadline passed. */
static bool pump(int fds[3], const char *input, size_t input_len, double deadline,
		 struct buf *out, struct buf *err)
{
	size_t written = 0;

	if (!input || input_len == 0)
		close_all(&fds[0], 1);
	else
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
	while (fds[0] >= 0 || fds[1] >= 0 || fds[2] >= 0) {
		struct pollfd p[3] = { { fds[0], POLLOUT, 0 }, { fds[1], POLLIN, 0 },
				       { fds[2], POLLIN, 0 } };
		double left = deadline - now_monotonic();
		if (left <= 0)
			return false;
		int rc = poll(p, 3, (int)ceil(fmin(left, 3600) * 1000));
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0)
			continue;
		if (fds[0] >= 0 && p[0].revents) {
			ssize_t n = write(fds[0], input + written, input_len - written);
			if (n > 0)
				written += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input_len)
				close_all(&fds[0], 1);
		}
		if (fds[1] >= 0 && p[1].revents)
			drain(&fds[1], out);
		if (fds[2] >= 0 && p[2].revents)
			drain(&fds[2], err);
	}
	return true;
}

/* Waits for pid until the deadline, then kills it; its status, or -1 with
 * errno (ETIMEDOUT once killed). */
static int reap(pid_t pid, double deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_monotonic() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(1000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int netns_run(const char *netns_path, char *const argv[], const char *input, size_t input_len,
	      double timeout_s, struct buf *out, struct buf *err)
{
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };
	int exec_p[2] = { -1, -1 }, exec_errno = 0;
	double deadline = now_monotonic() + timeout_s;
	pid_t pid;

	if (pipe2(in_p, O_CLOEXEC) || pipe2(out_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC) ||
	    pipe2(exec_p, O_CLOEXEC)) {
		int e = errno;
		int all[8] = { in_p[0], in_p[1], out_p[0], out_p[1], err_p[0], err_p[1],
			       exec_p[0], exec_p[1] };
		close_all(all, 8);
		errno = e;
		return -1;
	}
	pid = fork();
	if (pid == 0)
		run_child(netns_path, argv, in_p, out_p, err_p, exec_p[1]);
	int child_ends[4] = { in_p[0], out_p[1], err_p[1], exec_p[1] };
	close_all(child_ends, 4);
	int fds[3] = { in_p[1], out_p[0], err_p[0] };
	if (pid < 0) {
		int e = errno;
		close_all(fds, 3);
		close(exec_p[0]);
		errno = e;
		return -1;
	}
	if (read(exec_p[0], &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
		close(exec_p[0]);
		close_all(fds, 3);
		reap(pid, deadline);
		errno = exec_errno;
		return -1;
	}
	close(exec_p[0]);
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	bool in_time = pump(fds, input, input_len, deadline, out, err);
	signal(SIGPIPE, old_pipe);
	close_all(fds, 3);
	return reap(pid, in_time ? deadline : 0);
}

int run_program(const char *netns_path, char *const argv[], const char *input,
		size_t input_len, struct buf *out, struct buf *err)
{
	return netns_run(netns_path, argv, input, input_len, NETNS_RUN_TIMEOUT_S, out, err);
}

void netns_one_line(const char *msg, char *line, size_t len)
{
	size_t o = 0;

	line[0] = '\0';
	for (const char *l = msg ? msg : ""; *l && o + 1 < len;) {
		size_t n = strcspn(l, "\n");
		while (n && isspace((unsigned char)l[n - 1]))
			n--;
		if (n && strncmp(l, "Try `", 5))
			o += (size_t)snprintf(line + o, len - o, "%s%.*s", o ? "; " : "", (int)n, l);
		l += strcspn(l, "\n");
		if (*l)
			l++;
	}
}

/* --- libnftables --- */

/* nft's error: its first line, "FILE:L:C-C: Error: ..." made "line L,
 * column C-C: Error: ...", and the source line it quotes. */
static void nft_error_line(const char *text, const char *file, char *line, size_t len)
{
	char first[512] = "", src[256] = "";
	const char *p = text ? text : "";
	size_t n = strcspn(p, "\n");

	snprintf(first, sizeof(first), "%.*s", (int)n, p);
	if (p[n]) {
		const char *s = p + n + 1;
		s += strspn(s, " \t");
		snprintf(src, sizeof(src), "%.*s", (int)strcspn(s, "\n"), s);
	}
	size_t fl = file ? strlen(file) : 0;
	if (fl && !strncmp(first, file, fl) && first[fl] == ':') {
		char *loc = first + fl + 1;
		unsigned l = 0;
		int used = 0;
		if (sscanf(loc, "%u:%n", &l, &used) == 1) {
			char rest[512];
			snprintf(rest, sizeof(rest), "%s", loc + used);
			snprintf(first, sizeof(first), "line %u, column %s", l, rest);
		}
	}
	snprintf(line, len, "%s%s%s%s", first[0] ? first : "the transaction failed",
		 src[0] ? " (in: " : "", src, src[0] ? ")" : "");
}

/* Runs text through nft from a memfd, so that its errors name the line;
 * path gets the name nft saw. */
static int nft_run_as_file(struct nft_ctx *nft, const char *text, char *path, size_t plen)
{
	int fd = memfd_create("ruleset", MFD_CLOEXEC);
	size_t n = strlen(text), w = 0;
	int rc;

	if (fd < 0)
		return nft_run_cmd_from_buffer(nft, text);
	while (w < n) {
		ssize_t k = write(fd, text + w, n - w);
		if (k <= 0)
			break;
		w += (size_t)k;
	}
	snprintf(path, plen, "/proc/self/fd/%d", fd);
	rc = w == n ? nft_run_cmd_from_filename(nft, path) : -1;
	close(fd);
	return rc;
}

int netns_nft(const char *netns_path, const char *text, unsigned int flags,
	      unsigned int output_flags, struct buf *out, struct nf_error *err)
{
	struct nft_ctx *nft;
	char path[64] = "";
	int saved, rc;

	if (netns_enter(netns_path, &saved))
		return nf_fail(err, EXIT_RUNTIME, "cannot enter %s: %s%s", netns_path,
			       strerror(errno), errno_limit_hint(errno));
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		netns_leave(saved);
		return nf_fail(err, EXIT_RUNTIME, "libnftables: cannot create a context");
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (output_flags)
		nft_ctx_output_set_flags(nft, output_flags);
	if (flags & NETNS_NFT_OPTIMIZE)
		nft_ctx_set_optimize(nft, NFT_OPTIMIZE_ENABLED);
	if (flags & NETNS_NFT_AS_FILE)
		rc = nft_run_as_file(nft, text, path, sizeof(path));
	else
		rc = nft_run_cmd_from_buffer(nft, text);
	if (rc == 0 && out && !(flags & NETNS_NFT_OPTIMIZE)) {
		const char *o = nft_ctx_get_output_buffer(nft);
		buf_append(out, o, strlen(o));
	} else if (rc != 0) {
		char line[NF_ERROR_LEN - 8];
		nft_error_line(nft_ctx_get_error_buffer(nft), path[0] ? path : NULL, line,
			       sizeof(line));
		nf_fail(err, EXIT_USAGE, "nft: %s", line);
	}
	nft_ctx_free(nft);
	netns_leave(saved);
	return rc ? -1 : 0;
}

/* --- files and sockets --- */

long netns_read_file(const char *netns_path, const char *path, char *buf, size_t size)
{
	int saved;
	long n;

	if (netns_enter(netns_path, &saved))
		return -1;
	n = read_small_file(path, buf, size);
	netns_leave(saved);
	return n;
}

int netns_socket(const char *netns_path, int domain, int type, int protocol)
{
	int saved, fd, e;

	if (netns_enter(netns_path, &saved))
		return -1;
	fd = socket(domain, type, protocol);
	e = errno;
	netns_leave(saved);
	errno = e;
	return fd;
}
