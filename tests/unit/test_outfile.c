/* outfile: output directories and files that are never written through a
 * symlink, never half there under their names, 0644/0755 whatever the
 * umask, and an earlier run's files removed exactly (issue 20). No root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/outfile.h"
#include "util/util.h"

static char base[] = "/tmp/nfcost-outfile-XXXXXX";

static const char *at(const char *rel)
{
	static char p[2][PATH_MAX];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", base, rel);
	return p[k];
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	static char buf[4096];
	FILE *f = fopen(at(rel), "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int mode_of(const char *rel)
{
	struct stat st;

	return lstat(at(rel), &st) ? -1 : (int)(st.st_mode & 07777);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* Symlinks planted at a file's name and at a subdirectory's: the victim
 * keeps its content, and the files land in the directory itself. */
static void test_planted_symlinks(void **state)
{
	struct nf_error err = { 0 };
	struct outdir d;

	(void)state;
	put("victim", "V\n");
	assert_int_equal(mkdir(at("o1"), 0755), 0);
	assert_int_equal(symlink(at("victim"), at("o1/sweep.csv")), 0);
	/* an unmarked, non-empty directory is refused, naming what it holds */
	assert_int_equal(outdir_open(&d, at("o1"), "sweep", &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "not empty and nfcost did not make it"));
	assert_non_null(strstr(err.msg, "sweep.csv"));
	/* a link planted after the directory was opened is replaced, not followed */
	unlink(at("o1/sweep.csv"));
	assert_int_equal(outdir_open(&d, at("o1"), "sweep", &err), 0);
	assert_int_equal(symlink(at("victim"), at("o1/sweep.csv")), 0);
	assert_int_equal(outfile_write(&d, "sweep.csv", "rows\n", 5, &err), 0);
	assert_int_equal(mkdir(at("elsewhere"), 0755), 0);
	assert_int_equal(symlink(at("elsewhere"), at("o1/iperf")), 0);
	assert_int_equal(outdir_mkdir(&d, "iperf", &err), -1);
	assert_int_equal(outfile_write(&d, "iperf/rules-0000000-r1.json", "{}", 2, &err), -1);
	outdir_close(&d);
	assert_string_equal(get("victim"), "V\n");
	assert_string_equal(get("o1/sweep.csv"), "rows\n");
	assert_int_equal(mode_of("elsewhere/rules-0000000-r1.json"), -1);
	/* --out itself a symlink: refused */
	assert_int_equal(symlink(at("elsewhere"), at("o2")), 0);
	assert_int_equal(outdir_open(&d, at("o2"), "sweep", &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "symbolic link"));
}

/* Modes are 0644 and 0755 whatever the umask; nothing is under the final
 * name until the file is complete, and a discarded one leaves nothing. */
static void test_modes_and_atomic(void **state)
{
	struct nf_error err = { 0 };
	struct outdir d;
	struct outfile o;
	mode_t old = umask(0);

	(void)state;
	assert_int_equal(outdir_open(&d, at("m/deep/out"), "sweep", &err), 0);
	assert_int_equal(outdir_mkdir(&d, "iperf", &err), 0);
	assert_int_equal(outfile_open(&o, &d, "iperf/x.json", &err), 0);
	fputs("{}\n", o.f);
	assert_int_equal(outfile_flush(&o, &err), 0);
	assert_int_equal(mode_of("m/deep/out/iperf/x.json"), -1);
	assert_int_equal(outfile_commit(&o, &err), 0);
	assert_int_equal(outfile_open(&o, &d, "gone.csv", &err), 0);
	fputs("half", o.f);
	outfile_discard(&o);
	outdir_close(&d);
	umask(old);
	assert_int_equal(mode_of("m"), 0755);
	assert_int_equal(mode_of("m/deep/out"), 0755);
	assert_int_equal(mode_of("m/deep/out/iperf"), 0755);
	assert_int_equal(mode_of("m/deep/out/iperf/x.json"), 0644);
	assert_int_equal(mode_of("m/deep/out/.nfcost"), 0644);
	assert_int_equal(mode_of("m/deep/out/gone.csv"), -1);
	assert_int_equal(system("test -z \"$(ls -A /tmp/nfcost-outfile-*/m/deep/out/iperf | "
				"grep -v '^x.json$')\""), 0);
}

/* A second run into the same directory removes exactly the first run's
 * files (and says how many); anything else there is refused untouched. */
static void test_reuse(void **state)
{
	struct nf_error err = { 0 };
	struct outdir d;

	(void)state;
	assert_int_equal(outdir_open(&d, at("r"), "sweep", &err), 0);
	assert_int_equal(outdir_mkdir(&d, "iperf", &err), 0);
	assert_int_equal(outfile_write(&d, "sweep.csv", "a\n", 2, &err), 0);
	assert_int_equal(outfile_write(&d, "iperf/rules-0000500-r1.json", "{}", 2, &err), 0);
	assert_int_equal(outdir_claim(&d, "sweep.png", &err), 0);
	outdir_close(&d);
	assert_int_equal(outdir_open(&d, at("r"), "sweep", &err), 0);
	assert_int_equal(d.cleared, 2);
	outdir_close(&d);
	assert_int_equal(mode_of("r/sweep.csv"), -1);
	assert_int_equal(mode_of("r/iperf"), -1);
	/* a file of someone else's beside nfcost's: refused, nothing removed */
	assert_int_equal(outdir_open(&d, at("r"), "sweep", &err), 0);
	assert_int_equal(outfile_write(&d, "sweep.csv", "b\n", 2, &err), 0);
	outdir_close(&d);
	put("r/notes.txt", "mine\n");
	assert_int_equal(outdir_open(&d, at("r"), "sweep", &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "notes.txt, which nfcost did not write"));
	assert_string_equal(get("r/sweep.csv"), "b\n");
	assert_string_equal(get("r/notes.txt"), "mine\n");
	/* a marker that names a path outside the directory is refused */
	unlink(at("r/notes.txt"));
	put("r/.nfcost", "../victim\n");
	assert_int_equal(outdir_open(&d, at("r"), "sweep", &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_string_equal(get("victim"), "V\n");
}

/* Over PATH_MAX, or a component over NAME_MAX: refused before anything is
 * created. */
static void test_long_paths(void **state)
{
	static char path[PATH_MAX + 64];
	struct nf_error err = { 0 };
	struct outdir d;
	size_t n;

	(void)state;
	n = (size_t)snprintf(path, sizeof(path), "%s/long", base);
	while (n < PATH_MAX + 8)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/%s", "abcdefghijklmnopqrstuvwxyz");
	assert_int_equal(outdir_open(&d, path, "sweep", &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_non_null(strstr(err.msg, "choose a shorter path"));
	assert_int_equal(mode_of("long"), -1);
	snprintf(path, sizeof(path), "%s/n/%0300d", base, 0);
	assert_int_equal(outdir_open(&d, path, "sweep", &err), -1);
	assert_int_equal(err.status, EXIT_USAGE);
	assert_int_equal(mode_of("n"), -1);
}

/* A file at a path of its own (trace's ready file): replaced whole. */
static void test_write_path(void **state)
{
	struct nf_error err = { 0 };

	(void)state;
	assert_int_equal(symlink(at("victim"), at("ready")), 0);
	assert_int_equal(outfile_write_path(at("ready"), "1 nfhook\n", 9, &err), 0);
	assert_string_equal(get("ready"), "1 nfhook\n");
	assert_string_equal(get("victim"), "V\n");
	assert_int_equal(outfile_write_path(at("no/such/ready"), "x", 1, &err), -1);
	assert_int_equal(err.status, EXIT_RUNTIME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_planted_symlinks),
		cmocka_unit_test(test_modes_and_atomic),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_long_paths),
		cmocka_unit_test(test_write_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
