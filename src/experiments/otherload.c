#include "experiments/otherload.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

struct otherload_proc {
	int pid, ppid;
	unsigned long long start;  /* starttime: tells a reused pid apart */
	unsigned long long ticks;  /* utime + stime */
	bool kthread;
};

/* One /proc/PID/stat; false when the process is gone or unreadable. The
 * fields after the command name, which may hold spaces and ')'. */
static bool read_proc(int pid, struct otherload_proc *p)
{
	char path[64], text[1024];
	unsigned long long flags, ut, st, start;
	const char *q;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small_file(path, text, sizeof(text)) < 0 || !(q = strrchr(text, ')')))
		return false;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice threads itrealvalue starttime */
	if (sscanf(q + 2, "%*c %d %*d %*d %*d %*d %llu %*u %*u %*u %*u %llu %llu %*d %*d "
			  "%*d %*d %*d %*d %llu", &p->ppid, &flags, &ut, &st, &start) != 5)
		return false;
	p->pid = pid;
	p->start = start;
	p->ticks = ut + st;
	p->kthread = (flags & PF_KTHREAD) != 0;
	return true;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct otherload_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process now, sorted by pid; NULL when /proc cannot be read. */
static struct otherload_proc *snapshot(size_t *n)
{
	size_t cap = 512;
	struct otherload_proc *v = malloc(cap * sizeof(*v));
	DIR *d = opendir("/proc");
	struct dirent *e;

	*n = 0;
	if (!v || !d) {
		free(v);
		if (d)
			closedir(d);
		return NULL;
	}
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (*n == cap) {
			struct otherload_proc *w = realloc(v, 2 * cap * sizeof(*v));
			if (!w)
				break;
			v = w;
			cap *= 2;
		}
		if (read_proc(atoi(e->d_name), &v[*n]))
			(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_pid);
	return v;
}

static const struct otherload_proc *find(const struct otherload_proc *v, size_t n, int pid)
{
	struct otherload_proc key = { .pid = pid };

	return bsearch(&key, v, n, sizeof(*v), cmp_pid);
}

/* Is p this process or one of its descendants? */
static bool ours(const struct otherload_proc *v, size_t n, const struct otherload_proc *p)
{
	int self = getpid();

	for (int depth = 0; p && depth < 64; depth++) {
		if (p->pid == self)
			return true;
		if (p->ppid <= 1)
			return false;
		p = find(v, n, p->ppid);
	}
	return false;
}

void otherload_begin(struct otherload *o)
{
	o->t = now_monotonic();
	o->procs = snapshot(&o->n);
	o->ok = o->procs != NULL;
}

double otherload_end(struct otherload *o)
{
	size_t n;
	struct otherload_proc *now = o->ok ? snapshot(&n) : NULL;
	double wall = now_monotonic() - o->t, tick_s = 1.0 / (double)sysconf(_SC_CLK_TCK);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long ticks = 0;

	if (!now || wall <= 0 || cpus < 1) {
		free(now);
		free(o->procs);
		o->procs = NULL;
		return NAN;
	}
	for (size_t i = 0; i < n; i++) {
		const struct otherload_proc *p = &now[i], *was;
		if (p->kthread || ours(now, n, p))
			continue;
		/* A process that started during the step: all of its time. */
		was = find(o->procs, o->n, p->pid);
		if (!was || was->start != p->start)
			ticks += p->ticks;
		else if (p->ticks > was->ticks)
			ticks += p->ticks - was->ticks;
	}
	free(now);
	free(o->procs);
	o->procs = NULL;
	/* Tick rounding can carry a step a little over every CPU. */
	return fmin(100.0, 100.0 * (double)ticks * tick_s / (wall * (double)cpus));
}
