/* outfile: see outfile.h. */
#include "util/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

#define MARKER_HEADER "# nfcost output directory: the files listed below are nfcost's; " \
		      "a run that writes here again removes them first\n"
#define MARKER_MAX (16 << 20)   /* a marker larger than this is nobody's run */
#define TEMP_TAG ".nfcost-"

/* --- names --- */

int outdir_check_path(const char *path, struct nf_error *err)
{
	size_t n = strlen(path);

	if (n == 0)
		return nf_fail(err, EXIT_USAGE, "--out is empty: give a directory");
	if (n > OUTDIR_PATH_MAX)
		return nf_fail(err, EXIT_USAGE, "--out is %zu characters long; at most %d are "
			       "accepted (the files inside need room): choose a shorter path",
			       n, OUTDIR_PATH_MAX);
	for (const char *p = path; *p;) {
		size_t c = strcspn(p, "/");
		if (c > NAME_MAX)
			return nf_fail(err, EXIT_USAGE, "--out has a component of %zu characters "
				       "(\"%.20s...\"); a name may have at most %d: choose a "
				       "shorter one", c, p, NAME_MAX);
		p += c;
		p += strspn(p, "/");
	}
	return 0;
}

/* A temporary name of ours: ".NAME.nfcost-XXXXXXXX". */
static bool is_temp(const char *name)
{
	return name[0] == '.' && strstr(name, TEMP_TAG) != NULL;
}

/* A name a marker may list: "name" or "sub/name" or "sub/", with no
 * absolute path, no "." or ".." and nothing deeper. */
static bool valid_listed(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t a = slash ? (size_t)(slash - s) : strlen(s);

	if (a == 0 || a > NAME_MAX || (a == 1 && s[0] == '.') || (a == 2 && !strncmp(s, "..", 2)))
		return false;
	if (!slash || !slash[1])
		return true;
	return valid_listed(slash + 1) && !strchr(slash + 1, '/');
}

/* --- directories --- */

/* Creates each missing parent of path (not path itself), mode 0755. */
static int make_parents(const char *path, struct nf_error *err)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == 0)
			chmod(tmp, 0755); /* whatever the umask */
		else if (errno != EEXIST)
			return nf_fail(err, EXIT_RUNTIME, "cannot create %s: %s", tmp,
				       strerror(errno));
		*p = '/';
	}
	return 0;
}

/* Opens the directory nfcost has just created at path (mkdir succeeded):
 * still a directory of ours, not something swapped in since. */
static int open_made(struct outdir *d, int parent, const char *name, struct nf_error *err)
{
	struct stat st;

	d->fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0 || fstat(d->fd, &st) || st.st_uid != geteuid())
		return nf_fail(err, EXIT_RUNTIME, "%s changed while nfcost created it: "
			       "another program is writing there; choose another --out", d->path);
	fchmod(d->fd, 0755); /* whatever the umask */
	return 0;
}

/* results/<command>-<UTC second>[-N]: always a new directory. */
static int open_fresh(struct outdir *d, const char *command, struct nf_error *err)
{
	char stamp[32], name[NAME_MAX + 1];
	time_t now = time(NULL);
	int parent, rc = 1;

	if (mkdir("results", 0755) == 0)
		chmod("results", 0755);
	else if (errno != EEXIST)
		return nf_fail(err, EXIT_RUNTIME, "cannot create results: %s", strerror(errno));
	if ((parent = open("results", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot open results: %s", strerror(errno));
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	for (int k = 1; k <= 100; k++) {
		if (k == 1)
			snprintf(name, sizeof(name), "%s-%s", command, stamp);
		else
			snprintf(name, sizeof(name), "%s-%s-%d", command, stamp, k);
		snprintf(d->path, sizeof(d->path), "results/%s", name);
		if (mkdirat(parent, name, 0755) == 0) {
			snprintf(d->made_top, sizeof(d->made_top), "%s", d->path);
			rc = open_made(d, parent, name, err);
			break;
		}
		if (errno != EEXIST) {
			rc = nf_fail(err, EXIT_RUNTIME, "cannot create %s: %s", d->path,
				     strerror(errno));
			break;
		}
	}
	close(parent);
	if (rc > 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot create a new directory under results/: "
			       "100 names of this second exist; give --out");
	return rc;
}

/* The names a marker lists, sorted for bsearch. */
struct listing {
	char *text;
	char **names;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool listed(const struct listing *l, const char *name)
{
	return l->n && bsearch(&name, l->names, l->n, sizeof(char *), cmp_str);
}

/* Reads fd's marker into l. 0; 1 when there is none; -1 with err. */
static int read_marker(struct outdir *d, struct listing *l, struct nf_error *err)
{
	int fd = openat(d->fd, OUTDIR_MARKER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	ssize_t got = 0, r;

	memset(l, 0, sizeof(*l));
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MARKER_MAX) {
		if (fd >= 0)
			close(fd);
		return nf_fail(err, EXIT_USAGE, "%s/%s is not nfcost's marker file: remove it, "
			       "or give another --out", d->path, OUTDIR_MARKER);
	}
	l->text = malloc((size_t)st.st_size + 1);
	l->names = calloc((size_t)st.st_size / 2 + 1, sizeof(char *));
	while (l->text && l->names && got < st.st_size &&
	       (r = read(fd, l->text + got, (size_t)(st.st_size - got))) > 0)
		got += r;
	close(fd);
	if (!l->text || !l->names)
		return nf_fail(err, EXIT_RUNTIME, "out of memory reading %s/%s", d->path,
			       OUTDIR_MARKER);
	l->text[got] = '\0';
	for (char *save = NULL, *t = strtok_r(l->text, "\n", &save); t;
	     t = strtok_r(NULL, "\n", &save)) {
		if (t[0] == '#')
			continue;
		if (!valid_listed(t))
			return nf_fail(err, EXIT_USAGE, "%s/%s lists \"%s\", which nfcost never "
				       "writes: remove the directory's contents or give another "
				       "--out", d->path, OUTDIR_MARKER, t);
		l->names[l->n++] = t;
	}
	qsort(l->names, l->n, sizeof(char *), cmp_str);
	return 0;
}

static void free_listing(struct listing *l)
{
	free(l->text);
	free(l->names);
}

/* Calls fn(entry) for every entry of dirfd but "." and ".."; stops at the
 * first that returns non-zero and returns that. */
static int each_entry(int dirfd, int (*fn)(int, const char *, void *), void *arg)
{
	int dup_fd = dup(dirfd), rc = 0;
	DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *e;

	if (!dir) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	rewinddir(dir);
	while (rc == 0 && (e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = fn(dirfd, e->d_name, arg);
	closedir(dir);
	return rc;
}

/* Checking an earlier run's directory: the first name nfcost did not write. */
struct scan {
	const struct listing *l;
	bool marked;            /* the directory has a marker: an earlier run's */
	const char *sub;        /* the subdirectory being scanned, or NULL */
	char foreign[PATH_MAX];
	int removed;
	bool remove;            /* second pass: remove what is ours */
};

static int scan_entry(int dirfd, const char *name, void *arg);

static int scan_sub(int dirfd, const char *name, struct scan *s)
{
	int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (sub < 0) {
		snprintf(s->foreign, sizeof(s->foreign), "%s", name);
		return 1;
	}
	s->sub = name;
	rc = each_entry(sub, scan_entry, s);
	s->sub = NULL;
	close(sub);
	if (rc == 0 && s->remove && unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT) {
		snprintf(s->foreign, sizeof(s->foreign), "%s", name);
		return 1;
	}
	return rc;
}

static int scan_entry(int dirfd, const char *name, void *arg)
{
	struct scan *s = arg;
	char rel[PATH_MAX];

	if (!s->sub && !strcmp(name, OUTDIR_MARKER))
		return 0;
	snprintf(rel, sizeof(rel), "%s%s%s", s->sub ? s->sub : "", s->sub ? "/" : "", name);
	if ((s->marked && is_temp(name)) || listed(s->l, rel)) {
		if (s->remove && unlinkat(dirfd, name, 0) == 0 && !is_temp(name))
			s->removed++;
		return 0;
	}
	snprintf(rel, sizeof(rel), "%s/", name);
	if (!s->sub && listed(s->l, rel))
		return scan_sub(dirfd, name, s);
	snprintf(s->foreign, sizeof(s->foreign), "%s%s%s", s->sub ? s->sub : "",
		 s->sub ? "/" : "", name);
	return 1;
}

/* An existing directory: empty, or an earlier run's whose files are all
 * listed in its marker (then removed). Anything else is refused. */
static int prepare_existing(struct outdir *d, struct nf_error *err)
{
	struct listing l;
	struct scan s = { .l = &l };
	int rc = read_marker(d, &l, err);

	if (rc < 0)
		goto out;
	s.marked = rc == 0;
	rc = each_entry(d->fd, scan_entry, &s);
	if (rc < 0) {
		rc = nf_fail(err, EXIT_RUNTIME, "cannot read %s: %s", d->path, strerror(errno));
	} else if (rc > 0) {
		rc = nf_fail(err, EXIT_USAGE, s.marked
			     ? "--out %s holds %s, which nfcost did not write there: give a new or "
			       "empty directory, or remove what is in it"
			     : "--out %s is not empty and nfcost did not make it (it holds %s): give "
			       "a new or empty directory, or remove what is in it", d->path, s.foreign);
	} else {
		s.remove = true;
		rc = each_entry(d->fd, scan_entry, &s);
		d->cleared = s.removed;
		if (rc)
			rc = nf_fail(err, EXIT_RUNTIME, "cannot remove %s/%s of an earlier run: %s",
				     d->path, s.foreign, strerror(errno));
	}
out:
	free_listing(&l);
	return rc ? -1 : 0;
}

/* The topmost directory of path that does not exist yet (what creating it
 * makes), into top; "" when path exists. */
static void first_missing_dir(const char *path, char *top, size_t len)
{
	char p[PATH_MAX];
	struct stat st;

	top[0] = '\0';
	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		size_t n = strlen(p);
		while (n > 1 && p[n - 1] == '/')
			p[--n] = '\0';
		if (lstat(p, &st) == 0 || errno != ENOENT)
			return;
		snprintf(top, len, "%s", p);
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			return;
		*slash = '\0';
	}
}

static int open_given(struct outdir *d, const char *given, struct nf_error *err)
{
	bool made;

	if (outdir_check_path(given, err))
		return -1;
	first_missing_dir(given, d->made_top, sizeof(d->made_top));
	if (make_parents(given, err))
		return -1;
	snprintf(d->path, sizeof(d->path), "%s", given);
	made = mkdir(given, 0755) == 0;
	if (!made && errno != EEXIST)
		return nf_fail(err, EXIT_RUNTIME, "cannot create %s: %s", given, strerror(errno));
	if (made)
		return open_made(d, AT_FDCWD, given, err);
	d->fd = open(given, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		struct stat st;
		bool link = lstat(given, &st) == 0 && S_ISLNK(st.st_mode);
		return nf_fail(err, EXIT_USAGE, "--out %s is %s: give a directory (a new name "
			       "is created)", given, link ? "a symbolic link" : "not a directory");
	}
	if (d->fd < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot open %s: %s", given, strerror(errno));
	return prepare_existing(d, err);
}

int outdir_open(struct outdir *d, const char *given, const char *command, struct nf_error *err)
{
	memset(d, 0, sizeof(*d));
	d->fd = d->marker_fd = -1;
	if (given ? open_given(d, given, err) : open_fresh(d, command, err))
		goto fail;
	d->marker_fd = openat(d->fd, OUTDIR_MARKER, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
			      O_NOFOLLOW | O_CLOEXEC, 0644);
	if (d->marker_fd < 0 || fchmod(d->marker_fd, 0644) ||
	    write(d->marker_fd, MARKER_HEADER, strlen(MARKER_HEADER)) < 0) {
		nf_fail(err, EXIT_RUNTIME, "cannot write %s/%s: %s", d->path, OUTDIR_MARKER,
			strerror(errno));
		goto fail;
	}
	return 0;
fail:
	outdir_close(d);
	return -1;
}

int outdir_claim(struct outdir *d, const char *name, struct nf_error *err)
{
	char line[300];
	int n = snprintf(line, sizeof(line), "%s\n", name);

	if (write(d->marker_fd, line, (size_t)n) != n)
		return nf_fail(err, EXIT_RUNTIME, "cannot write %s/%s: %s", d->path,
			       OUTDIR_MARKER, errno ? strerror(errno) : "short write");
	return 0;
}

int outdir_mkdir(struct outdir *d, const char *sub, struct nf_error *err)
{
	char line[NAME_MAX + 2];
	struct stat st;
	int fd;

	snprintf(line, sizeof(line), "%s/", sub);
	if (outdir_claim(d, line, err))
		return -1;
	if (mkdirat(d->fd, sub, 0755) && errno != EEXIST)
		return nf_fail(err, EXIT_RUNTIME, "cannot create %s/%s: %s", d->path, sub,
			       strerror(errno));
	fd = openat(d->fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nf_fail(err, EXIT_RUNTIME, "%s/%s is not a directory nfcost can use: %s",
			       d->path, sub, strerror(errno));
	if (fstat(fd, &st) == 0 && st.st_uid == geteuid())
		fchmod(fd, 0755);
	close(fd);
	return 0;
}

void outdir_discard(struct outdir *d)
{
	struct listing l;
	struct scan s = { .l = &l, .marked = true, .remove = true };
	char p[PATH_MAX];

	if (d->fd >= 0) {
		if (read_marker(d, &l, NULL) == 0)
			each_entry(d->fd, scan_entry, &s);
		free_listing(&l);
		unlinkat(d->fd, OUTDIR_MARKER, 0);
	}
	outdir_close(d);
	if (!d->made_top[0])
		return;
	/* rmdir: only empty directories go, so nothing of anyone else's. */
	snprintf(p, sizeof(p), "%s", d->path);
	while (rmdir(p) == 0 && strcmp(p, d->made_top)) {
		char *slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
}

void outdir_close(struct outdir *d)
{
	if (d->marker_fd >= 0)
		close(d->marker_fd);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = d->marker_fd = -1;
}

/* --- files --- */

/* Creates o's temporary file in o->dirfd. */
static int open_temp(struct outfile *o, struct nf_error *err)
{
	int fd = -1;

	for (int tries = 0; tries < 100 && fd < 0; tries++) {
		unsigned int r;
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (unsigned int)getpid() * 2654435761u + (unsigned int)tries;
		snprintf(o->tmp, sizeof(o->tmp), ".%.200s" TEMP_TAG "%08x", o->name, r);
		fd = openat(o->dirfd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s", o->shown, strerror(errno));
	if (fchmod(fd, 0644) || !(o->f = fdopen(fd, "w"))) { /* 0644 whatever the umask */
		int e = errno;
		close(fd);
		unlinkat(o->dirfd, o->tmp, 0);
		return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s", o->shown, strerror(e));
	}
	return 0;
}

int outfile_open(struct outfile *o, struct outdir *d, const char *rel, struct nf_error *err)
{
	const char *slash = strchr(rel, '/');

	memset(o, 0, sizeof(*o));
	o->d = d;
	o->dirfd = d->fd;
	snprintf(o->rel, sizeof(o->rel), "%s", rel);
	snprintf(o->shown, sizeof(o->shown), "%s/%s", d->path, rel);
	snprintf(o->name, sizeof(o->name), "%s", slash ? slash + 1 : rel);
	if (slash) {
		char sub[NAME_MAX + 1];
		snprintf(sub, sizeof(sub), "%.*s", (int)(slash - rel), rel);
		o->dirfd = openat(d->fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (o->dirfd < 0)
			return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s/%s: %s", o->shown,
				       d->path, sub, strerror(errno));
	}
	if (open_temp(o, err)) {
		if (o->dirfd != d->fd)
			close(o->dirfd);
		o->dirfd = -1;
		return -1;
	}
	return 0;
}

int outfile_flush(struct outfile *o, struct nf_error *err)
{
	if (!o->f)
		return 0;
	if (fflush(o->f) == 0 && !ferror(o->f))
		return 0;
	if (!o->error)
		o->error = errno ? errno : EIO;
	return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s", o->shown, strerror(o->error));
}

static void release(struct outfile *o)
{
	if (o->d && o->dirfd >= 0 && o->dirfd != o->d->fd)
		close(o->dirfd);
	o->dirfd = -1;
	o->f = NULL;
}

void outfile_discard(struct outfile *o)
{
	if (!o->f)
		return;
	fclose(o->f);
	unlinkat(o->dirfd, o->tmp, 0);
	release(o);
}

int outfile_commit(struct outfile *o, struct nf_error *err)
{
	int e = 0;

	if (!o->f)
		return 0;
	errno = 0;
	if (fflush(o->f))
		e = errno ? errno : EIO;
	else if (ferror(o->f))
		e = o->error ? o->error : EIO;
	if (fclose(o->f) && !e)
		e = errno ? errno : EIO;
	o->f = NULL;
	if (!e && o->d && outdir_claim(o->d, o->rel, NULL))
		e = errno ? errno : EIO;
	if (!e && renameat(o->dirfd, o->tmp, o->dirfd, o->name))
		e = errno;
	if (e) {
		unlinkat(o->dirfd, o->tmp, 0);
		release(o);
		return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s", o->shown, strerror(e));
	}
	release(o);
	return 0;
}

int outfile_write(struct outdir *d, const char *rel, const char *data, size_t len,
		  struct nf_error *err)
{
	struct outfile o;

	if (outfile_open(&o, d, rel, err))
		return -1;
	if (len && fwrite(data, 1, len, o.f) != len && !o.error)
		o.error = errno ? errno : EIO;
	return outfile_commit(&o, err);
}

int outfile_write_path(const char *path, const char *data, size_t len, struct nf_error *err)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	struct outfile o = { 0 };

	if (strlen(path) >= PATH_MAX)
		return nf_fail(err, EXIT_USAGE, "%.40s...: the path is too long", path);
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path + (slash == path))
						      : 1, slash ? path : ".");
	snprintf(o.name, sizeof(o.name), "%s", slash ? slash + 1 : path);
	snprintf(o.shown, sizeof(o.shown), "%s", path);
	if ((o.dirfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nf_fail(err, EXIT_RUNTIME, "cannot write %s: %s", path, strerror(errno));
	if (open_temp(&o, err)) {
		close(o.dirfd);
		return -1;
	}
	if (len && fwrite(data, 1, len, o.f) != len)
		o.error = errno ? errno : EIO;
	int dirfd = o.dirfd, rc = outfile_commit(&o, err);
	close(dirfd);
	return rc;
}
