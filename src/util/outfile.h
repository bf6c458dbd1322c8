/* outfile: output files that cannot be redirected and are never left half
 * written. An output directory is opened once (struct outdir) and every
 * file goes through its descriptor, never through its path again: a symlink
 * planted at a file's name, at a subdirectory's or at the directory itself
 * is never followed. A file is written under a temporary name of its own
 * (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0644 whatever the umask) and renamed into
 * place only once it is completely written and flushed; a failed write
 * (a full disk) removes it, so no empty or truncated file ever carries the
 * final name. Directories nfcost creates are 0755 whatever the umask.
 *
 * A directory nfcost writes into holds a marker file, .nfcost, listing every
 * file nfcost put there. Writing into it again first removes exactly those
 * (and nothing else); a non-empty directory without the marker, or one that
 * holds anything the marker does not list, is refused.
 *
 * Errors follow util/error.h: 0, or -1 with err filled (one line naming the
 * file). Nothing here prints. */
#ifndef NFCOST_OUTFILE_H
#define NFCOST_OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

#define OUTDIR_MARKER ".nfcost"
/* The longest output directory accepted: the files inside must still have
 * paths under PATH_MAX for the plot script and for messages. */
#define OUTDIR_PATH_MAX (PATH_MAX - 128)

struct outdir {
	int fd;                 /* the directory; -1 when not open */
	int marker_fd;          /* .nfcost, appended to before each rename */
	char path[PATH_MAX];    /* as given or made: for messages and the plot script */
	int cleared;            /* files of an earlier nfcost run removed at open */
	/* The topmost directory this run created on the way to path ("" when
	 * path existed): what outdir_discard may take back. */
	char made_top[PATH_MAX];
};

/* Opens the output directory of a run. given: --out, or NULL for a fresh
 * results/<command>-<UTC second> (a suffix -2, -3, ... when that exists;
 * never an existing one). A given path is refused (EXIT_USAGE) when it is
 * too long or has a component over NAME_MAX, is a symlink or no directory,
 * or is a non-empty directory nfcost did not make; a missing one is created
 * with its parents. A directory of an earlier run has its files removed
 * (d->cleared says how many). */
int outdir_open(struct outdir *d, const char *given, const char *command, struct nf_error *err);
/* Creates the subdirectory sub (one name, mode 0755) unless it exists as a
 * directory; refuses a symlink there. */
int outdir_mkdir(struct outdir *d, const char *sub, struct nf_error *err);
/* Records name (a file some other program writes there, such as the plot
 * script's PNG) as nfcost's, so the next run into d removes it too. */
int outdir_claim(struct outdir *d, const char *name, struct nf_error *err);
void outdir_close(struct outdir *d);
/* Takes a run's outputs back (a run that produced nothing worth keeping,
 * such as a profile whose rule set does not load): every file the marker
 * lists, the marker, and the directories this run created, when empty.
 * Closes d. */
void outdir_discard(struct outdir *d);

/* One output file being written. f is an ordinary stream: write with
 * fprintf; the name is the final one only after outfile_commit. */
struct outfile {
	FILE *f;                /* NULL when not open */
	struct outdir *d;
	int dirfd;              /* the directory it goes in: d->fd or a subdirectory's */
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	char rel[256];          /* relative to d: "sweep.csv", "iperf/rules-..." */
	char shown[PATH_MAX + 256]; /* d->path/rel, for messages */
	int error;              /* errno of the first failed write, 0 if none */
};

/* rel: a name in d, or "sub/name" in a subdirectory made by outdir_mkdir. */
int outfile_open(struct outfile *o, struct outdir *d, const char *rel, struct nf_error *err);
/* Pushes what was written to the kernel (a row survives an interrupt);
 * -1 with err filled when the write failed (the file is then useless). */
int outfile_flush(struct outfile *o, struct nf_error *err);
/* Flushes, checks, sets mode 0644 and renames into place; on any failure
 * removes the temporary file instead. Closes o either way. A file that is
 * not open commits as a no-op (0). */
int outfile_commit(struct outfile *o, struct nf_error *err);
/* Closes and removes o's temporary file (nothing under the final name). */
void outfile_discard(struct outfile *o);
/* outfile_open, the bytes, outfile_commit. */
int outfile_write(struct outdir *d, const char *rel, const char *data, size_t len,
		  struct nf_error *err);
/* One file at a path of its own (not in an output directory), written the
 * same way in its parent directory: e.g. trace's ready file. */
int outfile_write_path(const char *path, const char *data, size_t len, struct nf_error *err);

/* Is the path acceptable as an output directory (length, components)? 0 or
 * -1 with err (EXIT_USAGE). */
int outdir_check_path(const char *path, struct nf_error *err);

#endif
