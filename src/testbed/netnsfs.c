/* netnsfs: the testbed's entries under /run/netns, the way iproute2 makes
 * them visible to `ip netns`: their names, telling a namespace nfcost made
 * from anything else found there (a symlink is never followed), creating
 * and removing them. See testbed_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "testbed/testbed_internal.h"
#include "util/netns.h"

static const char *side_suffix(enum testbed_side side)
{
	return side == TESTBED_CLI ? "cli" : side == TESTBED_SRV ? "srv" : "rtr";
}

bool testbed_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > TESTBED_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= 'A' && name[i] <= 'Z') &&
		    !(name[i] >= '0' && name[i] <= '9') && name[i] != '_')
			return false;
	return true;
}

void testbed_netns_name(const char *name, enum testbed_side side, char *buf, size_t len)
{
	snprintf(buf, len, "nfcost-%s-%s", name, side_suffix(side));
}

void testbed_netns_path(const char *name, enum testbed_side side, char *buf, size_t len)
{
	snprintf(buf, len, TESTBED_NETNS_DIR "/nfcost-%s-%s", name, side_suffix(side));
}

enum ns_entry ns_entry_open(const char *path, uint64_t *ino, int *fd_out)
{
	struct stat st;
	struct statfs sf;
	enum ns_entry kind = NS_FOREIGN;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (ino)
		*ino = 0;
	if (fd_out)
		*fd_out = -1;
	if (fd < 0)
		return errno == ENOENT ? NS_ABSENT : NS_FOREIGN;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && !fstatfs(fd, &sf) &&
	    sf.f_type == NSFS_MAGIC)
		kind = NS_MOUNTED;
	if (ino && kind == NS_MOUNTED)
		*ino = (uint64_t)st.st_ino;
	if (fd_out && kind == NS_MOUNTED)
		*fd_out = fd;
	else
		close(fd);
	return kind;
}

enum ns_entry ns_entry_kind(const char *path)
{
	return ns_entry_open(path, NULL, NULL);
}

uint64_t ns_mounted_inode(const char *path)
{
	uint64_t ino;

	return ns_entry_open(path, &ino, NULL) == NS_MOUNTED ? ino : 0;
}

bool testbed_exists(const char *name)
{
	char p[256];

	testbed_netns_path(name, TESTBED_CLI, p, sizeof(p));
	return ns_entry_kind(p) == NS_MOUNTED;
}

bool testbed_routed(const char *name)
{
	char p[256];

	testbed_netns_path(name, TESTBED_RTR, p, sizeof(p));
	return ns_entry_kind(p) == NS_MOUNTED;
}

bool testbed_name_taken(const char *name)
{
	for (int side = TESTBED_CLI; side <= TESTBED_RTR; side++) {
		char p[256];
		testbed_netns_path(name, (enum testbed_side)side, p, sizeof(p));
		if (ns_entry_kind(p) != NS_ABSENT)
			return true;
	}
	return false;
}

void testbed_unique_name(const char *prefix, char *buf, size_t len)
{
	for (unsigned int i = 0;; i++) {
		snprintf(buf, len, "%s%d_%u", prefix, (int)getpid(), i);
		if (!testbed_name_taken(buf))
			return;
	}
}

int netnsfs_prepare(void)
{
	bool made = mkdir(TESTBED_NETNS_DIR, 0755) == 0;

	if (!made && errno != EEXIST)
		return -1;
	if (made) /* 0755 whatever the umask */
		chmod(TESTBED_NETNS_DIR, 0755);
	/* A shared mount lets the bind mounts below show up in every mount
	 * namespace; iproute2 does the same, so we stay interoperable. */
	if (mount("", TESTBED_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (mount(TESTBED_NETNS_DIR, TESTBED_NETNS_DIR, "none", MS_BIND | MS_REC, NULL))
		return -1;
	return mount("", TESTBED_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL);
}

int netnsfs_create(const char *path)
{
	int fd, saved, err = 0;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	close(fd);
	saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		goto fail;
	if (unshare(CLONE_NEWNET)) {
		close(saved);
		goto fail;
	}
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL))
		err = errno;
	netns_leave(saved);
	if (!err)
		return 0;
	errno = err;
fail:
	err = errno;
	unlink(path);
	errno = err;
	return -1;
}

/* Only for an entry ns_entry_open found NS_MOUNTED. Should it have become
 * a symlink since, UMOUNT_NOFOLLOW unmounts nothing behind it and unlink
 * removes the link itself. */
int netnsfs_remove(const char *path)
{
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) && errno != EINVAL && errno != ENOENT)
		return -1;
	if (unlink(path) && errno != ENOENT)
		return -1;
	return 0;
}

/* /proc/sys/net belongs to the namespace of the task that opens it, so the
 * host's setting stays. */
int netnsfs_enable_forwarding(const char *path)
{
	int saved, fd, ret = -1, e;

	if (netns_enter(path, &saved))
		return -1;
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	e = errno;
	netns_leave(saved);
	if (fd < 0) {
		errno = e;
		return -1;
	}
	if (write(fd, "1\n", 2) == 2)
		ret = 0;
	e = errno;
	close(fd);
	errno = e;
	return ret;
}
