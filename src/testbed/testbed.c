/* testbed: up, down, status and cleanup of the isolated test network (see
 * testbed.h): claiming a name, wiring the namespaces together, checking
 * them, and removing what is nfcost's, processes included, also after a
 * crashed run; the offload settings of its links. The parts it is built
 * from are listed in testbed_internal.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testbed/testbed_internal.h"
#include "util/util.h"

/* --- making one --- */

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
	if ((dir = state_claim_dir(lock, name, &made_dir)) < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			goto foreign;
		goto fail;
	}
	step = "prepare " TESTBED_NETNS_DIR;
	if (netnsfs_prepare())
		goto fail;
	step = "create the client namespace";
	if (netnsfs_create(cli)) {
		if (errno == EEXIST) /* made by someone outside our lock (ip netns add) */
			goto exists;
		goto fail;
	}
	*made_ns = true;
	step = "record the testbed's owner";
	if (state_owner_write(dir))
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
	nf_fail(err, EXIT_RUNTIME, "testbed up: cannot %s: %s%s", step, strerror(e),
		errno_limit_hint(e));
out:
	if (dir >= 0)
		close(dir);
	if (made_dir && !*made_ns)
		unlinkat(lock, name, AT_REMOVEDIR);
	state_unlock(lock);
	return -1;
}

/* A veth pair from the namespace at nspath to the one at peer_nspath. */
static int veth_between(const char *nspath, const char *ifname, const char *peer_nspath,
			const char *peer_ifname)
{
	int peer_fd = open(peer_nspath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ret = -1, e;
	struct rtnl r;

	if (peer_fd < 0)
		return -1;
	if (rtnl_open(&r, nspath) == 0) {
		ret = rtnl_veth_create(&r, ifname, peer_ifname, peer_fd);
		rtnl_close(&r);
	}
	e = errno;
	close(peer_fd);
	errno = e;
	return ret;
}

/* Loopback up, addr on ifname, ifname up. */
static int configure_side(const char *nspath, const char *ifname, const char *addr)
{
	struct rtnl r;
	int ret = -1;

	if (rtnl_open(&r, nspath))
		return -1;
	if (!rtnl_link_up(&r, "lo") && !rtnl_addr_add(&r, ifname, addr, TESTBED_PREFIXLEN) &&
	    !rtnl_link_up(&r, ifname))
		ret = 0;
	rtnl_close(&r);
	return ret;
}

/* The router namespace between cli and srv, with its links and routes. */
static int wire_routed(const char *cli, const char *srv, const char *rtr, const char **step)
{
	*step = "create the router namespace";
	if (netnsfs_create(rtr))
		return -1;
	*step = "turn on IPv4 forwarding in the router namespace";
	if (netnsfs_enable_forwarding(rtr))
		return -1;
	*step = "create the veth pair client-router";
	if (veth_between(cli, CLI_IFNAME, rtr, RTR_CLI_IFNAME))
		return -1;
	*step = "create the veth pair router-server";
	if (veth_between(rtr, RTR_SRV_IFNAME, srv, SRV_IFNAME))
		return -1;
	*step = "configure the client side";
	if (configure_side(cli, CLI_IFNAME, TESTBED_ROUTED_CLI_ADDR))
		return -1;
	*step = "configure the server side";
	if (configure_side(srv, SRV_IFNAME, TESTBED_SRV_ADDR))
		return -1;
	*step = "configure the router";
	if (configure_side(rtr, RTR_CLI_IFNAME, TESTBED_RTR_CLI_ADDR) ||
	    configure_side(rtr, RTR_SRV_IFNAME, TESTBED_RTR_SRV_ADDR))
		return -1;
	*step = "route the client side through the router";
	if (rtnl_route_add_in(cli, NULL, 0, TESTBED_RTR_CLI_ADDR, NULL))
		return -1;
	*step = "route the server side back through the router";
	return rtnl_route_add_in(srv, TESTBED_ROUTED_CLI_NET, TESTBED_PREFIXLEN,
				 TESTBED_RTR_SRV_ADDR, NULL);
}

/* The namespaces after cli and their links, addresses and routes; *step
 * says what failed (errno set). */
static int testbed_wire(const char *name, bool routed, const char **step)
{
	char cli[256], srv[256], rtr[256];

	testbed_netns_path(name, TESTBED_CLI, cli, sizeof(cli));
	testbed_netns_path(name, TESTBED_SRV, srv, sizeof(srv));
	testbed_netns_path(name, TESTBED_RTR, rtr, sizeof(rtr));
	*step = "create the server namespace";
	if (netnsfs_create(srv))
		return -1;
	if (routed)
		return wire_routed(cli, srv, rtr, step);
	*step = "create the veth pair";
	if (veth_between(cli, CLI_IFNAME, srv, SRV_IFNAME))
		return -1;
	*step = "configure the client side";
	if (configure_side(cli, CLI_IFNAME, TESTBED_CLI_ADDR))
		return -1;
	*step = "configure the server side";
	return configure_side(srv, SRV_IFNAME, TESTBED_SRV_ADDR);
}

static int testbed_make(const char *name, bool routed, struct nf_error *err)
{
	struct nf_error server_err = { 0 };
	char why[NF_ERROR_LEN / 2] = "";
	const char *step;
	bool made;

	if (testbed_claim(name, &made, err))
		return -1;
	if (testbed_wire(name, routed, &step)) {
		int e = errno;
		snprintf(why, sizeof(why), "%s%s", strerror(e), errno_limit_hint(e));
		goto fail;
	}
	step = routed ? "connect over TCP from " TESTBED_ROUTED_CLI_ADDR " through the router to "
			TESTBED_SRV_ADDR
		      : "connect over TCP from " TESTBED_CLI_ADDR " to " TESTBED_SRV_ADDR;
	if (reach_check(name, why, sizeof(why)))
		goto fail;
	step = "start the iperf3 server";
	if (testbed_server_ensure(name, &server_err)) {
		snprintf(why, sizeof(why), "%s", server_err.msg);
		goto fail;
	}
	return 0;
fail:
	nf_fail(err, EXIT_RUNTIME, "testbed up: cannot %s: %s", step, why);
	testbed_down(name, true, NULL);
	return -1;
}

int testbed_up(const char *name, struct nf_error *err)
{
	return testbed_make(name, false, err);
}

int testbed_up_routed(const char *name, struct nf_error *err)
{
	return testbed_make(name, true, err);
}

/* --- removing one: the processes in it, then the rest --- */

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
	struct rtnl r;

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fds[i]);
		if (fds[i] < 0 || !ifs[i][0] || rtnl_open(&r, p))
			continue;
		for (int k = 0; k < 2 && ifs[i][k]; k++)
			if (rtnl_link_delete(&r, ifs[i][k]) == 0 && report)
				fprintf(report, "  link %s (veth)\n", ifs[i][k]);
		rtnl_close(&r);
	}
}

/* Looks at the testbed's three /run/netns entries: kind, fd and inode of
 * each (inode 0 unless a namespace other than ours is mounted there). */
static bool look_at_entries(const char *name, char paths[3][256], enum ns_entry kind[3],
			    int fds[3], uint64_t inodes[3], FILE *report, struct leftalone *la)
{
	uint64_t self = netns_inode("/proc/self/ns/net");
	bool ours = false;

	for (int i = 0; i < 3; i++) {
		testbed_netns_path(name, (enum testbed_side)i, paths[i], sizeof(paths[i]));
		kind[i] = ns_entry_open(paths[i], &inodes[i], &fds[i]);
		if (kind[i] == NS_MOUNTED && inodes[i] == self) {
			/* the namespace nfcost runs in: never stopped or unmounted */
			close(fds[i]);
			fds[i] = -1;
			kind[i] = NS_FOREIGN;
		}
		if (kind[i] == NS_FOREIGN)
			left_alone(la, report, paths[i], "a symlink or no mounted namespace");
		ours |= kind[i] == NS_MOUNTED;
	}
	return ours;
}

/* Removes what of testbed name is nfcost's: the processes in its
 * namespaces, its links, the namespaces (nsfs bind mounts only), its
 * state. Anything else there (a symlink,
 * a file nfcost did not make) is never entered, unmounted or deleted
 * through: it is named in report as skipped and counted in la. With
 * report, says "removed testbed NAME:" and each thing it removed, when it
 * removed anything. *removed: whether anything was ours. */
static int remove_testbed(const char *name, FILE *report, struct leftalone *la, bool *removed,
			  struct nf_error *err)
{
	char paths[3][256], st[300];
	enum ns_entry kind[3];
	uint64_t inodes[3];
	int fds[3], failed = 0;

	*removed = look_at_entries(name, paths, kind, fds, inodes, report, la);
	snprintf(st, sizeof(st), TESTBED_STATE_DIR "/%s", name);
	if (state_dir_check(name) == 0)
		*removed = true;
	else if (errno != ENOENT)
		left_alone(la, report, st, "a symlink or not a directory");
	if (*removed && report)
		fprintf(report, "removed testbed %s:\n", name);
	stop_procs(inodes, 3, report);
	remove_links(fds, report);
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (kind[i] != NS_MOUNTED)
			continue;
		if (netnsfs_remove(paths[i])) {
			if (!failed++)
				nf_fail(err, EXIT_RUNTIME, "cannot remove %s: %s", paths[i],
					strerror(errno));
		} else if (report) {
			fprintf(report, "  namespace %s\n", paths[i] + strlen(TESTBED_NETNS_DIR) + 1);
		}
	}
	state_remove(name);
	return failed ? -1 : 0;
}

int testbed_down(const char *name, bool missing_ok, struct nf_error *err)
{
	struct leftalone la = { 0 };
	bool removed;

	if (remove_testbed(name, NULL, &la, &removed, err))
		return -1;
	if (la.n)
		return nf_fail(err, removed ? EXIT_RUNTIME : EXIT_USAGE,
			       "testbed '%s': %s left alone: remove it yourself if it is yours",
			       name, la.first);
	if (!removed && !missing_ok)
		return nf_fail(err, EXIT_USAGE, "testbed '%s' does not exist: 'nfcost testbed "
			       "status' lists the testbeds there are", name);
	return 0;
}

/* --- what there is --- */

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

int testbed_status(const char *name, FILE *out, struct nf_error *err)
{
	char names[256][TESTBED_NAME_MAX + 1];
	int n = list_testbeds(names, 256), shown = 0;

	for (int i = 0; i < n; i++) {
		char cli[256], srv[256];
		if (name && strcmp(name, names[i]))
			continue;
		testbed_netns_path(names[i], TESTBED_CLI, cli, sizeof(cli));
		testbed_netns_path(names[i], TESTBED_SRV, srv, sizeof(srv));
		pid_t pid = testbed_server_pid(names[i]);
		bool routed = testbed_routed(names[i]);
		fprintf(out, "testbed %s: nfcost-%s-cli %s, ", names[i], names[i],
			ns_entry_kind(cli) != NS_MOUNTED ? "missing"
			: routed ? TESTBED_ROUTED_CLI_ADDR : TESTBED_CLI_ADDR);
		if (routed)
			fprintf(out, "nfcost-%s-rtr %s %s (routing), ", names[i],
				TESTBED_RTR_CLI_ADDR, TESTBED_RTR_SRV_ADDR);
		fprintf(out, "nfcost-%s-srv %s, iperf3 server %s",
			names[i], ns_entry_kind(srv) != NS_MOUNTED ? "missing" : TESTBED_SRV_ADDR,
			pid > 0 ? "running" : "not running");
		if (pid > 0)
			fprintf(out, " (pid %d)", (int)pid);
		fputc('\n', out);
		shown++;
	}
	if (name && !shown)
		return nf_fail(err, EXIT_USAGE, "testbed '%s' does not exist: create it with "
			       "'nfcost testbed up --name %s'", name, name);
	if (!shown)
		fprintf(out, "no testbeds\n");
	return 0;
}

int testbed_cleanup(FILE *out, bool force, struct nf_error *err)
{
	char names[256][TESTBED_NAME_MAX + 1];
	int n, failed = 0, lock = state_lock();

	/* Without the lock a testbed being made could be taken for a leftover;
	 * with no state dir there is no owner to respect either, so go on. */
	n = list_testbeds(names, 256);
	for (int i = 0; i < n; i++) {
		struct leftalone la = { 0 };
		bool removed;
		pid_t pid;
		char cmd[64];
		if (!force && state_owner_alive(names[i], &pid, cmd, sizeof(cmd))) {
			fprintf(out, "skipped nfcost-%s-cli%s: in use by nfcost pid %d (%s); "
				"--force removes it\n", names[i],
				testbed_routed(names[i]) ? ", -rtr, -srv" : " and -srv", (int)pid, cmd);
			continue;
		}
		/* The first failure is the one told; the others are still tried. */
		if (remove_testbed(names[i], out, &la, &removed, failed ? NULL : err))
			failed++;
	}
	if (!n)
		fprintf(out, "nothing to clean up\n");
	state_unlock(lock);
	return failed ? -1 : 0;
}

/* --- offloads --- */

int testbed_set_offload(const char *name, bool on, struct nf_error *err)
{
	static const struct {
		enum testbed_side side;
		const char *ifname;
	} ends[] = {
		{ TESTBED_CLI, CLI_IFNAME }, { TESTBED_SRV, SRV_IFNAME },
		{ TESTBED_RTR, RTR_CLI_IFNAME }, { TESTBED_RTR, RTR_SRV_IFNAME },
	};
	bool routed = testbed_routed(name);
	char path[256];

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		struct rtnl r;
		int rc;
		if (ends[i].side == TESTBED_RTR && !routed)
			continue;
		testbed_netns_path(name, ends[i].side, path, sizeof(path));
		if (rtnl_open(&r, path))
			return nf_fail(err, EXIT_RUNTIME, "cannot enter %s: %s", path,
				       strerror(errno));
		rc = rtnl_set_offload(&r, ends[i].ifname, on);
		rtnl_close(&r);
		if (rc)
			return nf_fail(err, EXIT_RUNTIME, "cannot turn offloads %s on %s in %s: %s",
				       on ? "on" : "off", ends[i].ifname, path, strerror(errno));
	}
	return 0;
}
