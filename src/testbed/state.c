/* state: who owns a testbed and which process is its iperf3 server, kept in
 * TESTBED_STATE_DIR/NAME (owner: "PID START COMMAND"; server.pid), and the
 * lock on TESTBED_STATE_DIR that makes claiming a name atomic. Every access
 * goes through directory fds opened with O_NOFOLLOW, so a symlink planted at
 * TESTBED_STATE_DIR or at NAME is never followed: root writes, reads and
 * deletes only inside directories nfcost made. Modes are set explicitly
 * (0755 directories, 0644 files), whatever the umask. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testbed/testbed_internal.h"
#include "util/util.h"

#define STATE_DIR_MODE 0755
#define STATE_FILE_MODE 0644

/* TESTBED_STATE_DIR's fd, made when create and missing; -1 with errno
 * (ELOOP or ENOTDIR: a symlink or not a directory). */
static int state_root_open(bool create)
{
	bool made = create && mkdir(TESTBED_STATE_DIR, STATE_DIR_MODE) == 0;
	int fd;

	if (create && !made && errno != EEXIST)
		return -1;
	fd = open(TESTBED_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && made)
		fchmod(fd, STATE_DIR_MODE);
	return fd;
}

/* NAME's directory under root; -1 with errno (ENOENT: none). */
static int state_dir_at(int root, const char *name)
{
	return openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int state_claim_dir(int root, const char *name, bool *made)
{
	int fd;

	*made = mkdirat(root, name, STATE_DIR_MODE) == 0;
	if (!*made && errno != EEXIST)
		return -1;
	fd = state_dir_at(root, name);
	if (fd >= 0 && *made)
		fchmod(fd, STATE_DIR_MODE);
	if (fd < 0 && *made) { /* swapped for something else meanwhile */
		int e = errno;
		unlinkat(root, name, AT_REMOVEDIR);
		*made = false;
		errno = e;
	}
	return fd;
}

/* NAME's state directory, opened for reading (no creation); -1 with errno. */
static int state_dir_open(const char *name)
{
	int root = state_root_open(false), fd;

	if (root < 0)
		return -1;
	fd = state_dir_at(root, name);
	int e = errno;
	close(root);
	errno = e;
	return fd;
}

int state_dir_check(const char *name)
{
	int fd = state_dir_open(name);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

long state_read(const char *name, const char *file, char *buf, size_t size)
{
	int dir = state_dir_open(name), fd;
	ssize_t n;

	if (dir < 0 || size == 0) {
		if (dir >= 0)
			close(dir);
		return -1;
	}
	fd = openat(dir, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dir);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (long)n;
}

/* Writes text as file in the directory dir: to file.tmp, then renamed over
 * file (a symlink there is replaced, never followed), mode STATE_FILE_MODE. */
static int state_write_at(int dir, const char *file, const char *text)
{
	char tmp[64];
	size_t len = strlen(text);
	int fd, e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    STATE_FILE_MODE);
	if (fd < 0)
		return -1;
	if (fchmod(fd, STATE_FILE_MODE) || write(fd, text, len) != (ssize_t)len) {
		e = errno ? errno : EIO;
		close(fd);
		goto fail;
	}
	if (close(fd)) {
		e = errno;
		goto fail;
	}
	if (renameat(dir, tmp, dir, file) == 0)
		return 0;
	e = errno;
fail:
	unlinkat(dir, tmp, 0);
	errno = e;
	return -1;
}

int state_write(const char *name, const char *file, const char *text)
{
	int dir = state_dir_open(name), rc;

	if (dir < 0)
		return -1;
	rc = state_write_at(dir, file, text);
	int e = errno;
	close(dir);
	errno = e;
	return rc;
}

void state_remove(const char *name)
{
	static const char *const files[] = { "server.pid", "owner", "server.pid.tmp",
					     "owner.tmp" /* a crash while writing */ };
	int root = state_root_open(false), dir;

	if (root < 0)
		return;
	dir = state_dir_at(root, name);
	if (dir >= 0) {
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			unlinkat(dir, files[i], 0);
		close(dir);
		/* Swapped for a symlink meanwhile: ENOTDIR, it stays. */
		unlinkat(root, name, AT_REMOVEDIR);
	}
	close(root);
}

/* Locks the directory itself (flock: no lock file to leave behind). Held
 * while a testbed's name is claimed and its owner recorded, and while
 * cleanup decides what to remove, so cleanup never sees a half-claimed
 * testbed and two creators never both pass the check. */
int state_lock(void)
{
	int fd = state_root_open(true);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot): with
 * the pid it names one process, even after the pid is reused. 0 if gone. */
static unsigned long long proc_start_time(pid_t pid)
{
	char p[64], txt[1024];
	unsigned long long start = 0;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (read_small_file(p, txt, sizeof(txt)) <= 0)
		return 0;
	/* comm (field 2) may hold spaces and parentheses: count from the last ')'. */
	char *f = strrchr(txt, ')');
	if (!f)
		return 0;
	f++;
	for (int field = 3; field < 22 && f; field++) /* f: the space before field 3 */
		f = strchr(f + 1, ' ');
	if (!f || sscanf(f, " %llu", &start) != 1)
		return 0;
	return start;
}

/* argv[1] of process pid (the nfcost command) into cmd, or "?". */
static void proc_command(pid_t pid, char *cmd, size_t cmdlen)
{
	char p[64], cl[256];
	long n;

	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
	n = read_small_file(p, cl, sizeof(cl));
	size_t first = n > 0 ? strlen(cl) : 0;
	snprintf(cmd, cmdlen, "%.60s", n > 0 && first + 1 < (size_t)n ? cl + first + 1 : "?");
}

/* Records this process as the owner of the testbed whose state directory
 * is dir: "PID START COMMAND". */
int state_owner_write(int dir)
{
	char cmd[64], line[128];

	proc_command(getpid(), cmd, sizeof(cmd));
	/* The command is one word in the record: no spaces. */
	for (char *c = cmd; *c; c++)
		if (*c == ' ' || *c == '\n')
			*c = '_';
	snprintf(line, sizeof(line), "%d %llu %s\n", (int)getpid(), proc_start_time(getpid()), cmd);
	return state_write_at(dir, "owner", line);
}

/* Is the process that made testbed name still running? Its pid and command
 * into *pid and cmd when so. */
bool state_owner_alive(const char *name, pid_t *pid, char *cmd, size_t cmdlen)
{
	char p[300], txt[128], c[64] = "?";
	long v;
	unsigned long long start;

	if (state_read(name, "owner", txt, sizeof(txt)) > 0) {
		char num[16];
		if (sscanf(txt, "%15s %llu %63s", num, &start, c) < 2 ||
		    !parse_long(num, 1, 1L << 30, &v))
			return false;
		if ((pid_t)v == getpid() || !start || proc_start_time((pid_t)v) != start)
			return false;
		*pid = (pid_t)v;
		snprintf(cmd, cmdlen, "%s", c);
		return true;
	}
	/* No record (made by an nfcost from before records): the iperf3 server
	 * is a child of the run that made the testbed, so a server whose parent
	 * is a live nfcost marks a run still going. After `testbed up` or a
	 * killed run the server's parent is init (or a subreaper), not nfcost. */
	pid_t srv = server_read_pid(name);
	char stat[1024], comm[32] = "";
	int ppid = 0;
	if (srv <= 0)
		return false;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)srv);
	if (read_small_file(p, stat, sizeof(stat)) <= 0 || !strrchr(stat, ')') ||
	    sscanf(strrchr(stat, ')') + 1, " %*c %d", &ppid) != 1 || ppid <= 1 || ppid == getpid())
		return false;
	snprintf(p, sizeof(p), "/proc/%d/comm", ppid);
	if (read_small_file(p, comm, sizeof(comm)) <= 0 || strcmp(comm, "nfcost\n"))
		return false;
	*pid = (pid_t)ppid;
	proc_command(*pid, cmd, cmdlen);
	return true;
}
