#include "testbed/testbed.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/magic.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testbed/iperf_server.h"
#include "util/util.h"

#define CLI_IFNAME "nfcost-cli"
#define SRV_IFNAME "nfcost-srv"
/* The router's two ends (at most 15 characters, IFNAMSIZ). */
#define RTR_CLI_IFNAME "nfcost-rtr-c"
#define RTR_SRV_IFNAME "nfcost-rtr-s"

/* Sets one offload of ifname in the current namespace (legacy ethtool
 * commands: every driver with ethtool ops takes them, veth included). */
static int ethtool_set(int fd, const char *ifname, uint32_t cmd, bool on)
{
	struct ethtool_value v = { .cmd = cmd, .data = on };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&v;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

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

/* What a /run/netns entry is, looked at without following a symlink. Only
 * a namespace bind mount (nsfs) is ever entered, unmounted or counted as
 * ours; an empty mode-0 file is what netns_create leaves when it dies before
 * its mount (and what `ip netns add` makes), removed by unlinking alone;
 * anything else (a symlink, a directory, a file with content) is somebody
 * else's and left alone. */
enum ns_entry { NS_ABSENT, NS_MOUNTED, NS_LEFTOVER, NS_FOREIGN };

/* *ino (when not NULL) gets the namespace's inode for NS_MOUNTED, and *fd
 * (when not NULL) an O_PATH fd on it (else -1): entering the namespace
 * through "/proc/self/fd/N" cannot be diverted by a symlink put at path
 * after this look. */
static enum ns_entry ns_entry_open(const char *path, uint64_t *ino, int *fd_out)
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
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && !fstatfs(fd, &sf)) {
		if (sf.f_type == NSFS_MAGIC)
			kind = NS_MOUNTED;
		else if (st.st_size == 0 && (st.st_mode & 07777) == 0)
			kind = NS_LEFTOVER;
	}
	if (ino && kind == NS_MOUNTED)
		*ino = (uint64_t)st.st_ino;
	if (fd_out && kind == NS_MOUNTED)
		*fd_out = fd;
	else
		close(fd);
	return kind;
}

static enum ns_entry ns_entry_kind(const char *path)
{
	return ns_entry_open(path, NULL, NULL);
}

/* The inode of the namespace mounted at path; 0 when none is (a symlink
 * there counts as none). */
static uint64_t ns_mounted_inode(const char *path)
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

/* Is any of the testbed's /run/netns entries there, of whatever kind? */
static bool testbed_name_taken(const char *name)
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

/* --- who owns a testbed, and the lock that makes creation atomic --- */

/* The state lives in TESTBED_STATE_DIR/NAME: owner and server.pid. Every
 * access goes through directory fds opened with O_NOFOLLOW, so a symlink
 * planted at TESTBED_STATE_DIR or at NAME is never followed: root writes,
 * reads and deletes only inside directories nfcost made. Modes are set
 * explicitly (0755 directories, 0644 files), whatever the umask. */
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

/* The fd of NAME's state directory under root; -1 with errno: ENOENT when
 * there is none, ELOOP or ENOTDIR when NAME is a symlink or no directory.
 * create: makes it (*made says whether it did). */
static int state_dir_at(int root, const char *name, bool create, bool *made)
{
	int fd;

	if (made)
		*made = false;
	if (create) {
		if (mkdirat(root, name, STATE_DIR_MODE) == 0) {
			if (made)
				*made = true;
		} else if (errno != EEXIST) {
			return -1;
		}
	}
	fd = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && made && *made)
		fchmod(fd, STATE_DIR_MODE);
	return fd;
}

/* NAME's state directory opened for reading (no creation); -1 with errno. */
static int state_dir_open(const char *name)
{
	int root = state_root_open(false), fd;

	if (root < 0)
		return -1;
	fd = state_dir_at(root, name, false, NULL);
	int e = errno;
	close(root);
	errno = e;
	return fd;
}

/* Reads file of NAME's state directory into buf (NUL-terminated); its
 * length, or -1. */
static long state_read(const char *name, const char *file, char *buf, size_t size)
{
	int dir = state_dir_open(name), fd;
	ssize_t n;

	if (dir < 0)
		return -1;
	fd = openat(dir, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dir);
	if (fd < 0 || size == 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
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
		goto fail;
	}
	if (close(fd)) {
		fd = -1;
		e = errno;
		goto fail;
	}
	if (renameat(dir, tmp, dir, file) == 0)
		return 0;
	e = errno;
	fd = -1;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dir, tmp, 0);
	errno = e;
	return -1;
}

/* The same in NAME's state directory, which must exist already. */
static int state_write(const char *name, const char *file, const char *text)
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

/* Removes NAME's state directory and what nfcost keeps in it; a symlink
 * there is left alone (1 is returned), and so is anything not nfcost's. */
static int state_remove(const char *name)
{
	static const char *const files[] = { "server.pid", "owner", "owner.tmp",
					     "server.pid.tmp" };
	int root = state_root_open(false), dir;

	if (root < 0)
		return 0;
	dir = state_dir_at(root, name, false, NULL);
	if (dir < 0) {
		int e = errno;
		close(root);
		return e == ENOENT ? 0 : 1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlinkat(dir, files[i], 0);
	close(dir);
	/* Not a directory any more (swapped for a symlink meanwhile): ENOTDIR. */
	unlinkat(root, name, AT_REMOVEDIR);
	close(root);
	return 0;
}

/* Locks TESTBED_STATE_DIR itself (flock on the directory: no lock file to
 * leave behind). Held while a testbed's name is claimed and its owner
 * recorded, and while cleanup decides what to remove, so cleanup never sees
 * a half-claimed testbed and two creators never both pass the check. The
 * fd is also the directory's, for state_dir_at. */
static int state_lock(void)
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

static void state_unlock(int fd)
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
static int owner_write(int dir)
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

static pid_t read_server_pid(const char *name);

/* Is the process that made testbed name still running? Its pid and command
 * into *pid and cmd when so. */
static bool owner_alive(const char *name, pid_t *pid, char *cmd, size_t cmdlen)
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
	pid_t srv = read_server_pid(name);
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

/* --- namespaces, the way iproute2 makes them visible to `ip netns` --- */

static int prepare_netns_dir(void)
{
	if (mkdir(TESTBED_NETNS_DIR, 0755) && errno != EEXIST)
		return -1;
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

static int netns_create(const char *path)
{
	int fd, saved, err = 0;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
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

/* Only for an entry ns_entry_open found NS_MOUNTED or NS_LEFTOVER; should
 * it have become a symlink since, UMOUNT_NOFOLLOW unmounts nothing behind
 * it and unlink removes the link itself. */
static int netns_remove(const char *path)
{
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) && errno != EINVAL && errno != ENOENT)
		return -1;
	if (unlink(path) && errno != ENOENT)
		return -1;
	return 0;
}

/* --- rtnetlink through libmnl, in whatever namespace we are in now --- */

static int nl_talk(struct nlmsghdr *nlh)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = (unsigned int)time(NULL), portid;
	int ret = -1;

	if (!nl)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		goto out;
	ret = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0 ? -1 : 0;
out:
	if (ret) {
		int e = errno;
		mnl_socket_close(nl);
		errno = e;
	} else {
		mnl_socket_close(nl);
	}
	return ret;
}

/* Creates the veth pair ifname/peer_ifname in the current namespace, the
 * peer end moved to peer_ns_fd. */
static int nl_veth_create(const char *ifname, const char *peer_ifname, int peer_ns_fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm, *peer;
	struct nlattr *linkinfo, *data, *peer_nest;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	peer = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer));
	peer->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_ifname);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nlh);
}

/* An RTM_* link message about ifname in buf: the header, the ifinfomsg
 * (returned, for flags), the name; the caller adds what it changes. */
static struct ifinfomsg *link_msg(char *buf, uint16_t type, const char *ifname,
				  struct nlmsghdr **nlh)
{
	struct ifinfomsg *ifm;

	*nlh = mnl_nlmsg_put_header(buf);
	(*nlh)->nlmsg_type = type;
	(*nlh)->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(*nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(*nlh, IFLA_IFNAME, ifname);
	return ifm;
}

static int nl_link_up(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm = link_msg(buf, RTM_NEWLINK, ifname, &nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	return nl_talk(nlh);
}

/* TCP builds GSO skbs whatever the device's offloads (segmenting them only
 * after the hooks); a device that takes one segment per skb makes it send
 * one wire packet per skb. */
static int nl_link_gso_max_segs(const char *ifname, uint32_t segs)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	link_msg(buf, RTM_NEWLINK, ifname, &nlh);
	mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SEGS, segs);
	return nl_talk(nlh);
}

static int nl_link_delete(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	link_msg(buf, RTM_DELLINK, ifname, &nlh);
	return nl_talk(nlh);
}

static int nl_addr_add(const char *ifname, const char *addr, int prefixlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	struct in_addr in;
	unsigned int idx = if_nametoindex(ifname);

	if (!idx || inet_pton(AF_INET, addr, &in) != 1)
		return -1;
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_index = idx;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(in), &in);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(in), &in);
	return nl_talk(nlh);
}

/* Adds a route in the main table: to dst/prefixlen (NULL: the default route)
 * via the gateway gw, as `ip route add` would (protocol boot, scope universe);
 * src, when not NULL, is the source address it gives new connections. */
static int nl_route_add(const char *dst, int prefixlen, const char *gw, const char *src)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct in_addr d, g, sa;

	if (inet_pton(AF_INET, gw, &g) != 1 || (dst && inet_pton(AF_INET, dst, &d) != 1) ||
	    (src && inet_pton(AF_INET, src, &sa) != 1)) {
		errno = EINVAL;
		return -1;
	}
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = dst ? (unsigned char)prefixlen : 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	if (dst)
		mnl_attr_put(nlh, RTA_DST, sizeof(d), &d);
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(g), &g);
	if (src)
		mnl_attr_put(nlh, RTA_PREFSRC, sizeof(sa), &sa);
	return nl_talk(nlh);
}

/* Runs nl_route_add inside the namespace nspath. */
static int route_add_in(const char *nspath, const char *dst, int prefixlen, const char *gw,
			const char *src)
{
	int saved, ret;

	if (netns_enter(nspath, &saved))
		return -1;
	ret = nl_route_add(dst, prefixlen, gw, src);
	int e = errno;
	netns_leave(saved);
	errno = e;
	return ret;
}

/* Creates a veth pair from namespace nspath to peer_nspath. */
static int veth_between(const char *nspath, const char *ifname, const char *peer_nspath,
			const char *peer_ifname)
{
	int peer_fd, saved, ret = -1, e;

	peer_fd = open(peer_nspath, O_RDONLY | O_CLOEXEC);
	if (peer_fd < 0)
		return -1;
	if (netns_enter(nspath, &saved) == 0) {
		ret = nl_veth_create(ifname, peer_ifname, peer_fd);
		e = errno;
		netns_leave(saved);
		errno = e;
	}
	e = errno;
	close(peer_fd);
	errno = e;
	return ret;
}

/* Turns IPv4 forwarding on in nspath only: /proc/sys/net belongs to the
 * namespace of the task that opens it, so the host's setting stays. */
static int enable_forwarding_in(const char *nspath)
{
	int saved, fd, ret = -1, e;

	if (netns_enter(nspath, &saved))
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

static int configure_side(const char *nspath, const char *ifname, const char *addr)
{
	int saved, ret = -1;

	if (netns_enter(nspath, &saved))
		return -1;
	if (!nl_link_up("lo") && !nl_addr_add(ifname, addr, TESTBED_PREFIXLEN) &&
	    !nl_link_up(ifname))
		ret = 0;
	int e = errno;
	netns_leave(saved);
	errno = e;
	return ret;
}

/* --- reachability: a real TCP handshake from cli to srv --- */

static int socket_in(const char *nspath, int type)
{
	int saved, fd;

	if (netns_enter(nspath, &saved))
		return -1;
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	netns_leave(saved);
	return fd;
}

/* 0 when a TCP handshake cli->srv completes within 3 s; else -1 with what
 * went wrong in why (errno would only tell the last non-blocking step). */
static int check_tcp_connect(const char *name, char *why, size_t whylen)
{
	char cli[256], srv[256];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int lfd, cfd = -1, ret = -1, last_err = 0;

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	lfd = socket_in(srv, SOCK_STREAM);
	if (lfd < 0) {
		snprintf(why, whylen, "no socket in %s: %s", srv, strerror(errno));
		return -1;
	}
	inet_pton(AF_INET, TESTBED_SRV_ADDR, &sa.sin_addr);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen)) {
		snprintf(why, whylen, "cannot listen on " TESTBED_SRV_ADDR " in %s: %s", srv,
			 strerror(errno));
		goto out;
	}
	/* The link may need a moment after coming up; retry for up to 3 s. */
	for (int attempt = 0; attempt < 30 && ret; attempt++) {
		cfd = socket_in(cli, SOCK_STREAM | SOCK_NONBLOCK);
		if (cfd < 0) {
			snprintf(why, whylen, "no socket in %s: %s", cli, strerror(errno));
			goto out;
		}
		if (connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS) {
			struct pollfd p = { cfd, POLLOUT, 0 };
			int soerr = 0;
			socklen_t l = sizeof(soerr);
			if (poll(&p, 1, 100) == 1 && !getsockopt(cfd, SOL_SOCKET, SO_ERROR, &soerr, &l)) {
				if (soerr == 0)
					ret = 0;
				else
					last_err = soerr;
			}
		} else {
			last_err = errno;
		}
		close(cfd);
		if (ret)
			usleep(100 * 1000);
	}
	if (ret)
		snprintf(why, whylen, "no TCP handshake within 3 s (%s)",
			 last_err ? strerror(last_err) : "no answer: the SYN got no reply");
out:
	close(lfd);
	return ret;
}

/* --- processes inside our namespaces --- */

/* Signals every process whose network namespace is one of inodes; returns
 * how many it found. */
static int signal_procs_in(const uint64_t *inodes, int n_inodes, int sig, FILE *report)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], comm[64] = "?";
		long pid;
		if (!parse_long(de->d_name, 1, 1L << 30, &pid) || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		uint64_t ino = netns_inode(path);
		for (int i = 0; i < n_inodes; i++) {
			if (!ino || ino != inodes[i])
				continue;
			found++;
			if (report) {
				snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
				if (read_small_file(path, comm, sizeof(comm)) > 0)
					comm[strcspn(comm, "\n")] = '\0';
				fprintf(report, "  process %ld (%s)\n", pid, comm);
			}
			kill((pid_t)pid, sig);
		}
	}
	closedir(d);
	return found;
}

static void stop_procs(const uint64_t *inodes, int n, FILE *report)
{
	if (!signal_procs_in(inodes, n, SIGTERM, report))
		return;
	for (int i = 0; i < 20; i++) { /* up to 1 s for a clean exit */
		usleep(50 * 1000);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!signal_procs_in(inodes, n, 0, NULL))
			return;
	}
	signal_procs_in(inodes, n, SIGKILL, NULL);
	usleep(50 * 1000);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* --- the iperf3 server --- */

static pid_t read_server_pid(const char *name)
{
	char txt[32];
	long pid;

	if (state_read(name, "server.pid", txt, sizeof(txt)) <= 0)
		return -1;
	txt[strcspn(txt, "\n")] = '\0';
	return parse_long(txt, 1, 1L << 30, &pid) ? (pid_t)pid : -1;
}

static bool server_alive(const char *name, pid_t pid)
{
	char srv[256], p[64];

	if (pid <= 0)
		return false;
	/* Reap it if it is our own child that died. */
	if (waitpid(pid, NULL, WNOHANG) == pid)
		return false;
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	/* Same netns as the testbed's srv side: it is our server, not a reused pid. */
	return netns_inode(p) && netns_inode(p) == ns_mounted_inode(srv);
}

/* Forks an iperf3 server on addr:port inside the srv namespace. */
static pid_t server_spawn(const char *name, const char *addr, int port)
{
	char srv[256];
	pid_t pid;

	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int ns = open(srv, O_RDONLY | O_CLOEXEC), null = open("/dev/null", O_RDWR);
		if (ns < 0 || setns(ns, CLONE_NEWNET))
			_exit(1);
		/* Its own session, so a Ctrl-C on the terminal reaches only us, and
		 * we stop the server ourselves, in order. */
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* Inherit nothing else: a BPF link fd held here would outlive its owner. */
		close_range(3, ~0U, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		_exit(testbed_iperf_server_run(addr, port));
	}
	return pid;
}

static pid_t server_start(const char *name)
{
	char txt[32];
	pid_t pid = server_spawn(name, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT);

	if (pid < 0)
		return -1;
	snprintf(txt, sizeof(txt), "%d\n", (int)pid);
	state_write(name, "server.pid", txt);
	return pid;
}

static int wait_listening_at(const char *name, const char *addr, int port)
{
	char srv[256];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;

	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	inet_pton(AF_INET, addr, &sa.sin_addr);
	/* Probe by bind: EADDRINUSE means a socket listens on the port. A connect
	 * would be taken by iperf3 as a client and disturb it. SO_REUSEADDR makes
	 * Linux ignore the closed tests' TIME_WAIT sockets on the port (they
	 * would fake a listener); only a LISTEN socket still conflicts. */
	for (int i = 0; i < 50; i++) {
		int fd = socket_in(srv, SOCK_STREAM);
		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		int in_use = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno == EADDRINUSE;
		close(fd);
		if (in_use)
			return 0;
		usleep(20 * 1000);
	}
	return -1;
}

static int wait_server_listening(const char *name)
{
	return wait_listening_at(name, TESTBED_SRV_ADDR, TESTBED_IPERF_PORT);
}

static void server_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	/* Our child: reap it. Not ours (started by an earlier `testbed up`):
	 * wait until it is gone. Either way for at most 2 s. */
	for (int i = 0; i < 200; i++) {
		pid_t w = waitpid(pid, NULL, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD && kill(pid, 0) != 0))
			return;
		usleep(10 * 1000);
	}
}

pid_t testbed_server_ensure(const char *name)
{
	pid_t pid = read_server_pid(name);

	/* Alive is not enough: a server between two tests has no listener for a
	 * moment, and a killed one still looks alive while it exits. Wait for the
	 * listener; a server that never shows one is replaced. */
	if (server_alive(name, pid)) {
		if (!wait_server_listening(name))
			return pid;
		server_kill(pid);
	}
	pid = server_start(name);
	if (pid > 0 && wait_server_listening(name)) {
		server_kill(pid);
		return -1;
	}
	return pid;
}

/* --- up / down / status / cleanup --- */

/* Claims the name under the state lock: the check, the state directory and
 * the cli namespace (O_EXCL) are one step for every other nfcost, and the
 * owner is on record before cleanup can look. A loser has made nothing, so
 * it removes nothing (-1 with *made_ns false). */
static int testbed_claim(const char *name, bool *made_ns, struct nf_error *err)
{
	char cli[256];
	bool made_dir = false;
	int lock, dir = -1, e;
	const char *step;

	*made_ns = false;
	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	if ((lock = state_lock()) < 0)
		return nf_fail(err, EXIT_RUNTIME, "testbed up: cannot lock " TESTBED_STATE_DIR
			       " (a directory, never a symlink): %s", strerror(errno));
	if (testbed_name_taken(name))
		goto exists;
	step = "create " TESTBED_STATE_DIR "/NAME";
	if ((dir = state_dir_at(lock, name, true, &made_dir)) < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			goto foreign;
		goto fail;
	}
	step = "prepare " TESTBED_NETNS_DIR;
	if (prepare_netns_dir())
		goto fail;
	step = "create the client namespace";
	if (netns_create(cli)) {
		if (errno == EEXIST) /* made by someone outside our lock (ip netns add) */
			goto exists;
		goto fail;
	}
	*made_ns = true;
	step = "record the testbed's owner";
	if (owner_write(dir))
		goto fail;
	close(dir);
	state_unlock(lock);
	return 0;
exists:
	nf_fail(err, EXIT_USAGE, "testbed '%s' already exists: use it, or remove it with "
		"'nfcost testbed down --name %s'", name, name);
	goto out;
foreign:
	nf_fail(err, EXIT_USAGE, "testbed up: " TESTBED_STATE_DIR "/%s is a symlink or not a "
		"directory, so not nfcost's: nothing was written through it; remove it if it "
		"is yours, or choose another --name", name);
	goto out;
fail:
	e = errno;
	nf_fail(err, EXIT_RUNTIME, "testbed up: cannot %s: %s", step, strerror(e));
out:
	if (dir >= 0)
		close(dir);
	if (made_dir && !*made_ns)
		unlinkat(lock, name, AT_REMOVEDIR);
	state_unlock(lock);
	return -1;
}

/* The namespaces after cli, their links, addresses and routes. */
static int testbed_wire(const char *name, bool routed, const char **step)
{
	char cli[256], srv[256], rtr[256];
	const char *cli_addr = routed ? TESTBED_ROUTED_CLI_ADDR : TESTBED_CLI_ADDR;

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	testbed_netns_path(name, TESTBED_RTR, rtr, sizeof(rtr));
	*step = "create the server namespace";
	if (netns_create(srv))
		return -1;
	if (routed) {
		*step = "create the router namespace";
		if (netns_create(rtr))
			return -1;
		*step = "turn on IPv4 forwarding in the router namespace";
		if (enable_forwarding_in(rtr))
			return -1;
		*step = "create the veth pair client-router";
		if (veth_between(cli, CLI_IFNAME, rtr, RTR_CLI_IFNAME))
			return -1;
		*step = "create the veth pair router-server";
		if (veth_between(rtr, RTR_SRV_IFNAME, srv, SRV_IFNAME))
			return -1;
	} else {
		*step = "create the veth pair";
		if (veth_between(cli, CLI_IFNAME, srv, SRV_IFNAME))
			return -1;
	}
	*step = "configure the client side";
	if (configure_side(cli, CLI_IFNAME, cli_addr))
		return -1;
	*step = "configure the server side";
	if (configure_side(srv, SRV_IFNAME, TESTBED_SRV_ADDR))
		return -1;
	if (!routed)
		return 0;
	*step = "configure the router";
	if (configure_side(rtr, RTR_CLI_IFNAME, TESTBED_RTR_CLI_ADDR) ||
	    configure_side(rtr, RTR_SRV_IFNAME, TESTBED_RTR_SRV_ADDR))
		return -1;
	*step = "route the client side through the router";
	if (route_add_in(cli, NULL, 0, TESTBED_RTR_CLI_ADDR, NULL))
		return -1;
	*step = "route the server side back through the router";
	return route_add_in(srv, TESTBED_ROUTED_CLI_NET, TESTBED_PREFIXLEN, TESTBED_RTR_SRV_ADDR,
			    NULL);
}

static int testbed_make(const char *name, bool routed, struct nf_error *err)
{
	char why[256] = "";
	const char *step;
	bool made;

	if (testbed_claim(name, &made, err))
		return -1;
	if (testbed_wire(name, routed, &step)) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto fail;
	}
	step = routed ? "connect over TCP from " TESTBED_ROUTED_CLI_ADDR " through the router to "
			TESTBED_SRV_ADDR
		      : "connect over TCP from " TESTBED_CLI_ADDR " to " TESTBED_SRV_ADDR;
	if (check_tcp_connect(name, why, sizeof(why)))
		goto fail;
	step = "start the iperf3 server";
	if (testbed_server_ensure(name) < 0) {
		snprintf(why, sizeof(why), "it did not listen on " TESTBED_SRV_ADDR ":%d within 1 s",
			 TESTBED_IPERF_PORT);
		goto fail;
	}
	return 0;
fail:
	nf_fail(err, EXIT_RUNTIME, "testbed up: cannot %s: %s", step, why);
	testbed_down(name, true);
	return -1;
}

/* The old convention's face, until callers pass an nf_error. */
static int testbed_make_print(const char *name, bool routed, bool quiet)
{
	struct nf_error err = { 0 };
	const char *cli_addr = routed ? TESTBED_ROUTED_CLI_ADDR : TESTBED_CLI_ADDR;

	if (testbed_make(name, routed, &err)) {
		nf_err("%s", err.msg);
		return err.status;
	}
	if (!quiet && routed)
		printf("testbed %s up: nfcost-%s-cli (%s) <-> nfcost-%s-rtr (%s, %s, forwarding) "
		       "<-> nfcost-%s-srv (%s), iperf3 server pid %d\n", name, name, cli_addr, name,
		       TESTBED_RTR_CLI_ADDR, TESTBED_RTR_SRV_ADDR, name, TESTBED_SRV_ADDR,
		       (int)read_server_pid(name));
	else if (!quiet)
		printf("testbed %s up: nfcost-%s-cli (%s) <-> nfcost-%s-srv (%s), "
		       "iperf3 server pid %d\n", name, name, TESTBED_CLI_ADDR, name,
		       TESTBED_SRV_ADDR, (int)read_server_pid(name));
	return EXIT_OK;
}

int testbed_up(const char *name, bool quiet)
{
	return testbed_make_print(name, false, quiet);
}

int testbed_up_routed(const char *name, bool quiet)
{
	return testbed_make_print(name, true, quiet);
}

/* What remove_testbed found that is not nfcost's and left alone. */
struct leftalone {
	int n;
	char first[300];
};

static void left_alone(struct leftalone *la, FILE *report, const char *path, const char *what)
{
	if (report)
		fprintf(report, "skipped %s: %s, so not nfcost's: left alone\n", path, what);
	if (!la->n++)
		snprintf(la->first, sizeof(la->first), "%s (%s)", path, what);
}

/* Deletes the testbed's veth pairs from inside the namespaces held by fds
 * (O_PATH fds of ns_entry_open, -1 for none). Deleting one end removes the
 * pair; it also frees the namespace at once instead of when the kernel's
 * cleanup work gets to it. */
static void remove_links(const int fds[3], FILE *report)
{
	static const char *const ifs[3][2] = {
		[TESTBED_CLI] = { CLI_IFNAME, NULL },
		[TESTBED_SRV] = { NULL, NULL },
		/* A routed testbed's second pair; the first is gone already,
		 * unless the cli namespace was (a crash between making them). */
		[TESTBED_RTR] = { RTR_CLI_IFNAME, RTR_SRV_IFNAME },
	};
	char p[64];
	int saved;

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fds[i]);
		if (fds[i] < 0 || !ifs[i][0] || netns_enter(p, &saved))
			continue;
		for (int k = 0; k < 2 && ifs[i][k]; k++)
			if (nl_link_delete(ifs[i][k]) == 0 && report)
				fprintf(report, "  link %s (veth)\n", ifs[i][k]);
		netns_leave(saved);
	}
}

/* Removes what of testbed name is nfcost's: the processes in its
 * namespaces, its links, the namespaces (only nsfs bind mounts, and the
 * empty files a crash leaves), its state. Anything else there (a symlink,
 * a file nfcost did not make) is never entered, unmounted or deleted
 * through: it is named in report as skipped and counted in la. With
 * report, says "removed testbed NAME:" and each thing it removed, when it
 * removed anything. *removed: whether anything was ours. */
static int remove_testbed(const char *name, FILE *report, struct leftalone *la, bool *removed)
{
	char paths[3][256], st[300];
	enum ns_entry kind[3];
	uint64_t inodes[3], self = netns_inode("/proc/self/ns/net");
	int fds[3], n = 0, failed = 0, state;

	*removed = false;
	for (int i = 0; i < 3; i++) {
		testbed_netns_path(name, (enum testbed_side)i, paths[i], sizeof(paths[i]));
		kind[i] = ns_entry_open(paths[i], &inodes[n], &fds[i]);
		if (kind[i] == NS_FOREIGN)
			left_alone(la, report, paths[i], "a symlink or no namespace nfcost made");
		/* never our own namespace, whatever its file says */
		if (kind[i] == NS_MOUNTED && inodes[n] != self)
			n++;
		*removed |= kind[i] == NS_MOUNTED || kind[i] == NS_LEFTOVER;
	}
	snprintf(st, sizeof(st), TESTBED_STATE_DIR "/%s", name);
	if ((state = state_dir_open(name)) >= 0) {
		close(state);
		*removed = true;
	} else if (errno != ENOENT) {
		left_alone(la, report, st, "a symlink or not a directory");
	}
	if (*removed && report)
		fprintf(report, "removed testbed %s:\n", name);
	stop_procs(inodes, n, report);
	remove_links(fds, report);
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (kind[i] != NS_MOUNTED && kind[i] != NS_LEFTOVER)
			continue;
		if (netns_remove(paths[i])) {
			nf_err("cannot remove %s: %s", paths[i], strerror(errno));
			failed = 1;
		} else if (report) {
			fprintf(report, "  namespace %s\n", paths[i] + strlen(TESTBED_NETNS_DIR) + 1);
		}
	}
	state_remove(name);
	return failed ? -1 : 0;
}


int testbed_down(const char *name, bool quiet)
{
	struct leftalone la = { 0 };
	bool removed;
	int rc = remove_testbed(name, NULL, &la, &removed);

	if (la.n) {
		if (!quiet)
			nf_err("testbed '%s': %s left alone: remove it yourself if it is yours", name,
			       la.first);
		return removed ? EXIT_RUNTIME : EXIT_USAGE;
	}
	if (!removed) {
		if (!quiet)
			nf_err("testbed '%s' does not exist: 'nfcost testbed status' lists "
			       "the testbeds there are", name);
		return EXIT_USAGE;
	}
	if (rc)
		return EXIT_RUNTIME;
	if (!quiet)
		printf("testbed %s down\n", name);
	return EXIT_OK;
}

/* Collects the names of testbeds that have a namespace or a state dir. */
static int list_testbeds(char names[][TESTBED_NAME_MAX + 1], int max)
{
	const char *dirs[] = { TESTBED_NETNS_DIR, TESTBED_STATE_DIR };
	int n = 0;

	for (int d = 0; d < 2; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;
		if (!dir)
			continue;
		while ((de = readdir(dir)) && n < max) {
			char cand[TESTBED_NAME_MAX + 1];
			size_t len = strlen(de->d_name);
			if (d == 0) {
				if (strncmp(de->d_name, "nfcost-", 7) || len < 12 ||
				    (strcmp(de->d_name + len - 4, "-cli") &&
				     strcmp(de->d_name + len - 4, "-srv") &&
				     strcmp(de->d_name + len - 4, "-rtr")))
					continue;
				len -= 11;
				if (len > TESTBED_NAME_MAX)
					continue;
				memcpy(cand, de->d_name + 7, len);
				cand[len] = '\0';
			} else {
				if (len > TESTBED_NAME_MAX || de->d_name[0] == '.')
					continue;
				memcpy(cand, de->d_name, len + 1);
			}
			if (!testbed_name_valid(cand))
				continue;
			int dup = 0;
			for (int i = 0; i < n; i++)
				dup |= !strcmp(names[i], cand);
			if (!dup)
				strcpy(names[n++], cand);
		}
		closedir(dir);
	}
	return n;
}

int testbed_status(const char *name, FILE *out)
{
	char names[256][TESTBED_NAME_MAX + 1];
	int n = list_testbeds(names, 256), shown = 0;

	for (int i = 0; i < n; i++) {
		char cli[256], srv[256];
		if (name && strcmp(name, names[i]))
			continue;
		testbed_netns_path(names[i], TESTBED_CLI, cli, sizeof(cli));
		testbed_netns_path(names[i], TESTBED_SRV, srv, sizeof(srv));
		pid_t pid = read_server_pid(names[i]);
		bool routed = testbed_routed(names[i]);
		fprintf(out, "testbed %s: nfcost-%s-cli %s, ", names[i], names[i],
			ns_entry_kind(cli) != NS_MOUNTED ? "missing"
			: routed ? TESTBED_ROUTED_CLI_ADDR : TESTBED_CLI_ADDR);
		if (routed)
			fprintf(out, "nfcost-%s-rtr %s %s (routing), ", names[i],
				TESTBED_RTR_CLI_ADDR, TESTBED_RTR_SRV_ADDR);
		fprintf(out, "nfcost-%s-srv %s, iperf3 server %s",
			names[i], ns_entry_kind(srv) != NS_MOUNTED ? "missing" : TESTBED_SRV_ADDR,
			server_alive(names[i], pid) ? "running" : "not running");
		if (server_alive(names[i], pid))
			fprintf(out, " (pid %d)", (int)pid);
		fputc('\n', out);
		shown++;
	}
	if (name && !shown) {
		nf_err("testbed '%s' does not exist: create it with 'nfcost testbed up --name %s'",
		       name, name);
		return EXIT_USAGE;
	}
	if (!shown)
		fprintf(out, "no testbeds\n");
	return EXIT_OK;
}

int testbed_cleanup(FILE *out, bool force)
{
	char names[256][TESTBED_NAME_MAX + 1];
	int n, rc = EXIT_OK, lock = state_lock();

	/* Without the lock a testbed being made could be taken for a leftover;
	 * with no state dir there is no owner to respect either, so go on. */
	n = list_testbeds(names, 256);
	for (int i = 0; i < n; i++) {
		pid_t pid;
		char cmd[64];
		if (!force && owner_alive(names[i], &pid, cmd, sizeof(cmd))) {
			fprintf(out, "skipped nfcost-%s-cli%s: in use by nfcost pid %d (%s); "
				"--force removes it\n", names[i],
				testbed_routed(names[i]) ? ", -rtr, -srv" : " and -srv", (int)pid, cmd);
			continue;
		}
		struct leftalone la = { 0 };
		bool removed;
		if (remove_testbed(names[i], out, &la, &removed))
			rc = EXIT_RUNTIME;
	}
	if (!n)
		fprintf(out, "nothing to clean up\n");
	state_unlock(lock);
	return rc;
}

int testbed_set_offload(const char *name, bool on)
{
	static const struct {
		enum testbed_side side;
		const char *ifname;
	} ends[] = {
		{ TESTBED_CLI, CLI_IFNAME }, { TESTBED_SRV, SRV_IFNAME },
		{ TESTBED_RTR, RTR_CLI_IFNAME }, { TESTBED_RTR, RTR_SRV_IFNAME },
	};
	static const uint32_t cmds[] = { ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO };
	bool routed = testbed_routed(name);
	char path[256];

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		int saved, fd, err = 0;
		if (ends[i].side == TESTBED_RTR && !routed)
			continue;
		testbed_netns_path(name, ends[i].side, path, sizeof(path));
		if (netns_enter(path, &saved)) {
			nf_err("cannot enter %s: %s", path, strerror(errno));
			return -1;
		}
		if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
			err = errno;
		for (size_t c = 0; fd >= 0 && !err && c < sizeof(cmds) / sizeof(cmds[0]); c++)
			if (ethtool_set(fd, ends[i].ifname, cmds[c], on))
				err = errno;
		/* 65535: the kernel's GSO_MAX_SEGS, what a veth starts with. */
		if (!err && nl_link_gso_max_segs(ends[i].ifname, on ? 65535 : 1))
			err = errno ? errno : EIO;
		if (fd >= 0)
			close(fd);
		netns_leave(saved);
		if (err) {
			nf_err("cannot turn offloads %s on %s in %s: %s", on ? "on" : "off",
			       ends[i].ifname, path, strerror(err));
			return -1;
		}
	}
	return 0;
}

/* --- a user's flow inside the testbed (nfcost profile) --- */

const char *testbed_ifname(enum testbed_side side, bool toward_srv)
{
	if (side == TESTBED_RTR)
		return toward_srv ? RTR_SRV_IFNAME : RTR_CLI_IFNAME;
	return side == TESTBED_CLI ? CLI_IFNAME : SRV_IFNAME;
}

/* Adds addr/32 to ifname in nspath (already there: fine). */
static int addr_add_in(const char *nspath, const char *ifname, const char *addr)
{
	int saved, ret;

	if (netns_enter(nspath, &saved))
		return -1;
	ret = nl_addr_add(ifname, addr, 32);
	int e = errno;
	netns_leave(saved);
	errno = e;
	return ret && e == EEXIST ? 0 : ret;
}

int testbed_add_flow_addresses(const char *name, const char *src, const char *dst, char *why,
			       size_t whylen)
{
	char cli[256], srv[256], rtr[256];
	bool routed = testbed_routed(name);
	const char *cli_addr = routed ? TESTBED_ROUTED_CLI_ADDR : TESTBED_CLI_ADDR;
	const char *step;

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	testbed_netns_path(name, TESTBED_RTR, rtr, sizeof(rtr));
	if (!src)
		src = cli_addr;
	/* The addresses become the hosts' own; the host routes make each side
	 * reach the other's through the testbed's links, and the client's
	 * route names src so connections start from it. */
	/* On loopback: a host owns an address whatever interface holds it,
	 * and lo keeps its name when --iface renames the veth. */
	step = "give the server side the flow's destination address";
	if (strcmp(dst, TESTBED_SRV_ADDR) && addr_add_in(srv, "lo", dst))
		goto fail;
	step = "give the client side the flow's source address";
	if (strcmp(src, cli_addr) && addr_add_in(cli, "lo", src))
		goto fail;
	step = "route the destination from the client side";
	if (strcmp(dst, TESTBED_SRV_ADDR) || strcmp(src, cli_addr)) {
		if (route_add_in(cli, dst, 32, routed ? TESTBED_RTR_CLI_ADDR : TESTBED_SRV_ADDR, src) &&
		    errno != EEXIST)
			goto fail;
	}
	step = "route the source from the server side";
	if (strcmp(src, cli_addr) &&
	    route_add_in(srv, src, 32, routed ? TESTBED_RTR_SRV_ADDR : TESTBED_CLI_ADDR, NULL) &&
	    errno != EEXIST)
		goto fail;
	if (routed) {
		step = "route the flow through the router";
		if ((strcmp(dst, TESTBED_SRV_ADDR) &&
		     route_add_in(rtr, dst, 32, TESTBED_SRV_ADDR, NULL) && errno != EEXIST) ||
		    (strcmp(src, cli_addr) &&
		     route_add_in(rtr, src, 32, TESTBED_ROUTED_CLI_ADDR, NULL) && errno != EEXIST))
			goto fail;
	}
	return 0;
fail:
	snprintf(why, whylen, "cannot %s (%s -> %s): %s", step, src, dst, strerror(errno));
	return -1;
}

pid_t testbed_server_start_at(const char *name, const char *addr, int port)
{
	pid_t pid;

	if (!strcmp(addr, TESTBED_SRV_ADDR) && port == TESTBED_IPERF_PORT)
		return testbed_server_ensure(name);
	pid = server_spawn(name, addr, port);
	if (pid > 0 && wait_listening_at(name, addr, port)) {
		server_kill(pid);
		return -1;
	}
	return pid;
}

void testbed_server_stop(pid_t pid)
{
	if (pid > 0)
		server_kill(pid);
}

int testbed_rename_iface(const char *name, enum testbed_side side, bool toward_srv,
			 const char *newname, char *why, size_t whylen)
{
	char ns[256], buf[MNL_SOCKET_BUFFER_SIZE];
	const char *old = testbed_ifname(side, toward_srv);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int saved, ret = -1, e;
	unsigned int idx;

	testbed_netns_path(name, side, ns, sizeof(ns));
	if (netns_enter(ns, &saved)) {
		snprintf(why, whylen, "cannot enter %s: %s", ns, strerror(errno));
		return -1;
	}
	/* The kernel renames only a link that is down; IPv4 drops the routes
	 * through it meanwhile, so rename before the flow's routes are added. */
	idx = if_nametoindex(old);
	ifm = link_msg(buf, RTM_NEWLINK, old, &nlh);
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = 0;
	if (idx && nl_talk(nlh) == 0) {
		ifm = link_msg(buf, RTM_NEWLINK, newname, &nlh);
		ifm->ifi_index = (int)idx;
		if (nl_talk(nlh) == 0)
			ret = 0;
	}
	e = errno;
	/* Up again, whatever its name is now. */
	if (idx) {
		char cur[IF_NAMESIZE];
		if (if_indextoname(idx, cur))
			nl_link_up(cur);
	}
	netns_leave(saved);
	if (ret)
		snprintf(why, whylen, "cannot rename %s to %s in %s: %s", old, newname, ns,
			 strerror(e));
	return ret;
}

int testbed_route_any(const char *name, char *why, size_t whylen)
{
	char cli[256], srv[256], rtr[256];
	bool routed = testbed_routed(name);

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	testbed_netns_path(name, TESTBED_RTR, rtr, sizeof(rtr));
	/* Default routes toward the other side: the client's through the
	 * router already exists in a routed testbed. */
	if ((!routed && route_add_in(cli, NULL, 0, TESTBED_SRV_ADDR, NULL) && errno != EEXIST) ||
	    (routed && route_add_in(rtr, NULL, 0, TESTBED_SRV_ADDR, NULL) && errno != EEXIST) ||
	    (route_add_in(srv, NULL, 0, TESTBED_CLI_ADDR, NULL) && errno != EEXIST)) {
		snprintf(why, whylen, "cannot add the testbed's default routes: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int testbed_add_local_address(const char *name, enum testbed_side side, const char *addr,
			      char *why, size_t whylen)
{
	char ns[256];

	testbed_netns_path(name, side, ns, sizeof(ns));
	if (addr_add_in(ns, "lo", addr)) {
		snprintf(why, whylen, "cannot add %s to %s: %s", addr, ns, strerror(errno));
		return -1;
	}
	return 0;
}
