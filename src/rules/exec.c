/* rules/exec: see exec.h. */
#include "rules/exec.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int rules_exec(const char *netns_path, char *const argv[], const char *input, size_t input_len,
	       struct buf *out, int fail_status, struct nf_error *err)
{
	struct buf msgs = { 0 };
	char line[NF_ERROR_LEN - 64];
	int rc = netns_run(netns_path, argv, input, input_len, NETNS_RUN_TIMEOUT_S, out, &msgs);

	if (rc < 0 && errno == ENOENT)
		nf_fail(err, EXIT_RUNTIME, "%s is not installed: run scripts/install-deps.sh",
			argv[0]);
	else if (rc < 0 && errno == ETIMEDOUT)
		nf_fail(err, EXIT_RUNTIME, "%s did not finish within %.0f s and was killed", argv[0],
			NETNS_RUN_TIMEOUT_S);
	else if (rc < 0)
		nf_fail(err, EXIT_RUNTIME, "cannot run %s: %s%s", argv[0], strerror(errno),
			errno_limit_hint(errno));
	else if (rc > 0) {
		netns_one_line(msgs.data, line, sizeof(line));
		/* iptables-restore names itself ("iptables-restore v1.8.9 (legacy): ...") */
		bool named = !strncmp(line, argv[0], strlen(argv[0])) ||
			     !strncmp(line, "iptables-restore", 16) || !strncmp(line, "ipset v", 7);
		if (!line[0])
			snprintf(line, sizeof(line), "failed (exit %d) with no message", rc);
		nf_fail(err, fail_status, "%s%s%s", named ? "" : argv[0], named ? "" : ": ", line);
	}
	buf_free(&msgs);
	return rc == 0 ? 0 : -1;
}

int rules_exec_restore(const char *netns_path, char *const argv[], const char *input,
		       size_t input_len, struct buf *out, int fail_status, struct nf_error *err)
{
	/* Not close-on-exec: the program opens it as /proc/self/fd/N. */
	int fd = memfd_create("nfcost-rules", 0);
	char path[64], *args[16];
	size_t n = 0, w = 0;
	int rc;

	while (argv[n] && n < 14)
		n++;
	if (fd < 0 || argv[n])
		return rules_exec(netns_path, argv, input, input_len, out, fail_status, err);
	while (w < input_len) {
		ssize_t k = write(fd, input + w, input_len - w);
		if (k <= 0 && errno != EINTR) {
			close(fd);
			return nf_fail(err, EXIT_RUNTIME, "cannot hold %s's input in memory: %s%s",
				       argv[0], strerror(errno), errno_limit_hint(errno));
		}
		w += k > 0 ? (size_t)k : 0;
	}
	/* The file first: iptables' --wait would take a word after it for its
	 * seconds; getopt moves the file behind the options. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	args[0] = argv[0];
	args[1] = path;
	memcpy(args + 2, argv + 1, n * sizeof(*args)); /* with argv's NULL */
	rc = rules_exec(netns_path, args, NULL, 0, out, fail_status, err);
	close(fd);
	return rc;
}

int rules_legacy_tables(const char *netns_path, char *names, size_t len, struct nf_error *err)
{
	names[0] = '\0';
	/* No file: ip_tables is not loaded there, so there is no table. */
	if (netns_read_file(netns_path, "/proc/self/net/ip_tables_names", names, len) < 0) {
		names[0] = '\0';
		if (errno != ENOENT)
			return nf_fail(err, EXIT_RUNTIME, "cannot read the legacy tables of %s: %s%s",
				       netns_path ? netns_path : "this namespace", strerror(errno),
				       errno_limit_hint(errno));
	}
	return 0;
}

bool rules_legacy_table_exists(const char *netns_path, const char *table)
{
	char names[512];
	size_t n = strlen(table);

	if (rules_legacy_tables(netns_path, names, sizeof(names), NULL))
		return false;
	for (const char *l = names; *l; l += strcspn(l, "\n"), l += *l == '\n')
		if (!strncmp(l, table, n) && (l[n] == '\n' || !l[n]))
			return true;
	return false;
}
