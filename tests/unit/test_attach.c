/* test_attach.c - the tid index of attach.c on a real process: a child
 * with THREADS threads is seized whole (attach_seize_all), every thread is
 * found by attach_find, and adding them cost a rebuild of the index only
 * each time it doubled -- not one per thread, which made seizing 30,000
 * threads take 1.5 s -- then everything is released. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/attach.h"
#include "pprobe/procfs.h"

#define THREADS 3000

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* The child: THREADS - 1 idle threads, then "ready" on the pipe. */
static void child(int fd)
{
	pthread_attr_t attr;
	pthread_t id;
	char c = 'r';

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < THREADS - 1; i++)
		if (pthread_create(&id, &attr, idle, NULL) != 0)
			_exit(1);
	if (write(fd, &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

int main(void)
{
	struct attach a;
	struct attach_diag diag;
	int p[2], sigfd;
	pid_t pid, *tids = NULL;
	size_t n = 0, found = 0;
	unsigned bound = 0;
	sigset_t set;
	char c;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (pipe(p) != 0 || sigfd < 0)
		return 1;
	pid = fork();
	if (pid == 0)
		child(p[1]);
	close(p[1]);
	CHECK_EQ_INT(read(p[0], &c, 1), 1);
	attach_init(&a, pid, sigfd);
	CHECK_EQ_INT(attach_seize_all(&a, &diag), 0);
	CHECK_EQ_INT(procfs_list_tasks(pid, &tids, &n), 0);
	CHECK_EQ_INT(n, THREADS);
	CHECK_EQ_INT(a.n, THREADS);
	for (size_t i = 0; i < n; i++)
		found += attach_find(&a, tids[i]) != NULL;
	CHECK_EQ_INT(found, THREADS);
	CHECK(attach_find(&a, 1) == NULL);
	/* 128, 256, ... until the load is at most one half. */
	for (size_t cap = 128; cap < 2 * (size_t)THREADS; cap *= 2)
		bound++;
	bound++;
	if (a.index_rebuilds > bound)
		fprintf(stderr, "index rebuilt %u times for %d threads, expected at most %u\n",
			a.index_rebuilds, THREADS, bound);
	CHECK(a.index_rebuilds <= bound);
	attach_release_all(&a, 500);
	attach_fini(&a);
	free(tids);
	kill(pid, SIGKILL);
	/* A thread the release could not stop in time (a loaded machine: 3000
	 * threads to wake) is still traced by this process: its exit must be
	 * reaped here (__WALL) before the child's can be, or waiting for the
	 * child alone never returns. */
	for (;;) {
		pid_t w = waitpid(-1, NULL, __WALL);

		if (w == pid || (w < 0 && errno != EINTR))
			break;
	}
	return check_done();
}
