/* procfs.c - readers of /proc files (see procfs.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprobe/procfs.h"

#define PF_KTHREAD_FLAG 0x00200000u

ssize_t procfs_pread_fd(int fd, char *buf, size_t len)
{
	size_t got = 0;

	if (len == 0)
		return -EINVAL;
	while (got < len - 1) {
		ssize_t r = pread(fd, buf + got, len - 1 - got, (off_t)got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		/* A small /proc file comes whole in one read: a short read is
		 * its end, and a second pread() to see EOF is a wasted call on
		 * the sampler's per-tick path. */
		if ((size_t)r < len - 1 - (got - (size_t)r))
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

ssize_t procfs_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = procfs_pread_fd(fd, buf, len);
	close(fd);
	return r;
}

static long status_field_long(const char *text, const char *key, long dflt)
{
	const char *p = strstr(text, key);

	if (!p)
		return dflt;
	return strtol(p + strlen(key), NULL, 10);
}

int procfs_read_status(pid_t pid, struct procfs_status *st)
{
	char path[64], buf[4096];
	const char *p;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = procfs_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	memset(st, 0, sizeof(*st));
	p = strstr(buf, "Name:\t");
	if (p) {
		size_t i = 0;

		for (p += 6; *p && *p != '\n' && i < sizeof(st->name) - 1; p++)
			st->name[i++] = *p;
		st->name[i] = '\0';
	}
	p = strstr(buf, "\nState:\t");
	st->state = p ? p[8] : '?';
	st->tgid = (pid_t)status_field_long(buf, "\nTgid:\t", pid);
	st->ppid = (pid_t)status_field_long(buf, "\nPPid:\t", 0);
	st->tracer_pid = (pid_t)status_field_long(buf, "\nTracerPid:\t", 0);
	st->threads = (int)status_field_long(buf, "\nThreads:\t", 0);
	p = strstr(buf, "\nUid:\t");
	if (p) {
		char *end;

		st->uid_real = (uid_t)strtoul(p + 6, &end, 10);
		st->uid_effective = (uid_t)strtoul(end, NULL, 10);
	}
	return 0;
}

int procfs_parse_stat(const char *text, char *state, uint64_t *cpu_ticks)
{
	const char *p = strrchr(text, ')');
	unsigned long long utime = 0, stime = 0;
	int field;

	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	p += 2;
	if (state)
		*state = *p;
	/* Fields after the state: ppid(4) ... utime(14) stime(15). */
	for (field = 3; *p && field < 14; p++)
		if (*p == ' ')
			field++;
	if (field != 14)
		return -EINVAL;
	if (sscanf(p, "%llu %llu", &utime, &stime) != 2)
		return -EINVAL;
	if (cpu_ticks)
		*cpu_ticks = utime + stime;
	return 0;
}

int procfs_parse_stat_comm(const char *text, char *buf, size_t len)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	size_t n;

	if (!open || !close || close < open || len == 0)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= len)
		n = len - 1;
	memcpy(buf, open + 1, n);
	buf[n] = '\0';
	return 0;
}

int procfs_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns)
{
	unsigned long long run = 0, wait = 0;

	if (sscanf(text, "%llu %llu", &run, &wait) != 2)
		return -EINVAL;
	if (run_ns)
		*run_ns = run;
	if (wait_ns)
		*wait_ns = wait;
	return 0;
}

int procfs_is_kthread(pid_t pid)
{
	char path[64], buf[1024];
	const char *p;
	unsigned long flags = 0;
	int field;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = procfs_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* flags is field 9; the state (field 3) follows ") ". */
	for (p += 2, field = 3; *p && field < 9; p++)
		if (*p == ' ')
			field++;
	if (field != 9)
		return -EINVAL;
	flags = strtoul(p, NULL, 10);
	return (flags & PF_KTHREAD_FLAG) ? 1 : 0;
}

int procfs_list_tasks(pid_t pid, pid_t **tids, size_t *n)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			pid_t *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = (pid_t)atoi(de->d_name);
	}
out:
	closedir(d);
	if (err) {
		free(v);
		return err;
	}
	*tids = v;
	*n = cnt;
	return 0;
}

int procfs_read_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[80];
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	r = procfs_read_file(path, buf, len);
	if (r < 0) {
		buf[0] = '\0';
		return (int)r;
	}
	if (r > 0 && buf[r - 1] == '\n')
		buf[r - 1] = '\0';
	return 0;
}

static bool procfs_task_alive(pid_t pid, pid_t tid)
{
	char path[64], text[512], state;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	return procfs_read_file(path, text, sizeof(text)) > 0 &&
	       procfs_parse_stat(text, &state, NULL) == 0 && state != 'Z' && state != 'X';
}

int procfs_find_live_task(pid_t pid, pid_t *tid)
{
	pid_t *tids = NULL;
	size_t n = 0;
	int err;

	if (procfs_task_alive(pid, pid)) {
		*tid = pid;
		return 1;
	}
	err = procfs_list_tasks(pid, &tids, &n);
	if (err < 0)
		return err;
	err = 0;
	for (size_t i = 0; i < n && !err; i++)
		if (tids[i] != pid && procfs_task_alive(pid, tids[i])) {
			*tid = tids[i];
			err = 1;
		}
	free(tids);
	return err;
}
