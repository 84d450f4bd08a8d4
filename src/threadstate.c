/* threadstate.c - per-thread facts from /proc (see threadstate.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprobe/procfs.h"
#include "pprobe/threadstate.h"

int threadstate_parse_syscall(const char *text, struct threadstate *ts)
{
	unsigned long long v[9];
	long long nr;
	int n;

	ts->blocked_known = false;
	ts->said_running = false;
	ts->syscall_nr = -1;
	if (!strncmp(text, "running", 7)) {
		ts->said_running = true;
		return 0;
	}
	if (sscanf(text, "%lld", &nr) != 1)
		return -EINVAL;
	if (nr < 0) {
		if (sscanf(text, "%lld %llx %llx", &nr, &v[0], &v[1]) != 3)
			return -EINVAL;
		ts->sp = v[0];
		ts->pc = v[1];
		ts->blocked_known = true;
		return 0;
	}
	n = sscanf(text, "%lld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]);
	if (n != 9)
		return -EINVAL;
	ts->syscall_nr = (long)nr;
	for (int i = 0; i < 6; i++)
		ts->args[i] = v[i];
	ts->sp = v[6];
	ts->pc = v[7];
	ts->blocked_known = true;
	return 0;
}

int threadstate_read(pid_t pid, pid_t tid, struct threadstate *ts)
{
	char path[96], buf[1024];
	ssize_t r;

	memset(ts, 0, sizeof(*ts));
	ts->state = '?';
	ts->syscall_nr = -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	r = procfs_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	procfs_parse_stat(buf, &ts->state, NULL);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	if (procfs_read_file(path, buf, sizeof(buf)) > 0)
		procfs_parse_schedstat(buf, &ts->cpu_ns, NULL);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	if (procfs_read_file(path, buf, sizeof(buf)) > 0)
		threadstate_parse_syscall(buf, ts);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid, (int)tid);
	if (procfs_read_file(path, ts->wchan, sizeof(ts->wchan)) < 0 || !strcmp(ts->wchan, "0"))
		ts->wchan[0] = '\0';
	procfs_read_comm(pid, tid, ts->name, sizeof(ts->name));
	return 0;
}

bool threadstate_fd_is_socket(pid_t tid, int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return !strncmp(link, "socket:", 7);
}

char *threadstate_kernel_stack(pid_t pid, pid_t tid)
{
	char path[96], *buf = malloc(8192);
	ssize_t r;

	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", (int)pid, (int)tid);
	r = procfs_read_file(path, buf, 8192);
	if (r <= 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int threadstate_kernel_stack_access(pid_t pid)
{
	char path[96], buf[4096];
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", (int)pid, (int)pid);
	r = procfs_read_file(path, buf, sizeof(buf));
	return r < 0 ? (int)r : 0;
}

/* One word per state for the "state" label, the same in wall profiles and
 * dumps (README, "Labels"): a tracing stop is "stopped" there, since the
 * thread is stopped whoever stopped it. */
const char *threadstate_label(char letter)
{
	switch (letter) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk";
	case 'T': case 't': return "stopped";
	case 'Z': case 'X': return "zombie";
	case 'I': return "idle";
	default: return "unknown";
	}
}
