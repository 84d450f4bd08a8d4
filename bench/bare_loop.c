/* bare_loop.c - the floor: the least a ptrace sampler can stop a thread for.
 *
 *   bare_loop -p PID [-t TID] [-hz N] [-seconds S] [-spin]
 *
 * PTRACE_SEIZEs one thread (default: the main thread, TID = PID) and, at N
 * samples per second for S seconds, does only what any ptrace sampler must:
 * PTRACE_INTERRUPT, wait for the stop, PTRACE_GETREGSET (NT_PRSTATUS),
 * process_vm_readv of 8 KiB from the stack pointer down (minus the red
 * zone), PTRACE_CONT.  No /proc reads, no unwinding, no bookkeeping.  The
 * stop time is timed as pprobe times it: from before the interrupt to after
 * the resume returns.
 *
 * The wait for the stop either blocks in waitpid() (default: the tracer
 * sleeps and is woken by the kernel when the tracee stops, so the CPU's
 * wake-up latency is part of the stop) or, with -spin, polls
 * waitpid(WNOHANG) (pprobe spins briefly before it sleeps).
 *
 * Prints one line on stdout:
 *   bare_loop: stops N median_ns M p99_ns P wait_ns W regs_ns R copy_ns C cont_ns T late L
 * where wait/regs/copy/cont are the medians of each step.
 */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BARE_COPY_BYTES 8192
#define BARE_RED_ZONE 128

enum { BARE_T_TOTAL, BARE_T_WAIT, BARE_T_REGS, BARE_T_COPY, BARE_T_CONT, BARE_T_N };

/* The only mutable global: set by SIGINT/SIGTERM. */
static volatile sig_atomic_t bare_stop;

static void bare_on_signal(int sig)
{
	(void)sig;
	bare_stop = 1;
}

static int64_t bare_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bare_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Wait until TID is in the group-stop-like PTRACE_EVENT_STOP that
 * PTRACE_INTERRUPT asks for.  A signal-delivery-stop on the way is resumed
 * with its signal (the tracee must not lose it) and we keep waiting.
 * Returns 0 when stopped, -1 when the thread is gone. */
static int bare_wait_stop(pid_t tid, int spin)
{
	for (;;) {
		int status;
		pid_t got = waitpid(tid, &status, __WALL | (spin ? WNOHANG : 0));

		if (got == 0)
			continue;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -1;
		if (!WIFSTOPPED(status))
			continue;
		if ((status >> 16) == PTRACE_EVENT_STOP)
			return 0;
		if ((status >> 16) == 0) {
			/* Signal-delivery-stop: pass the signal on. */
			if (ptrace(PTRACE_CONT, tid, 0, (void *)(long)WSTOPSIG(status)) != 0)
				return -1;
		} else if (ptrace(PTRACE_CONT, tid, 0, 0) != 0) {
			return -1;
		}
	}
}

static void bare_usage(void)
{
	fprintf(stderr, "usage: bare_loop -p PID [-t TID] [-hz N] [-seconds S] [-spin]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pid_t pid = 0, tid = 0;
	double hz = 100, seconds = 5;
	int spin = 0, late = 0;
	int64_t *t[BARE_T_N] = { NULL };
	size_t n = 0, cap;
	struct sigaction sa;
	static char stack[BARE_COPY_BYTES];
	int64_t period, next, end;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < argc)
			pid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			tid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-hz") && i + 1 < argc)
			hz = atof(argv[++i]);
		else if (!strcmp(argv[i], "-seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "-spin"))
			spin = 1;
		else
			bare_usage();
	}
	if (pid <= 0 || hz <= 0 || hz > 100000 || seconds <= 0)
		bare_usage();
	if (!tid)
		tid = pid;
	cap = (size_t)(hz * seconds) + 16;
	for (int k = 0; k < BARE_T_N; k++) {
		t[k] = calloc(cap, sizeof(int64_t));
		if (!t[k]) {
			fprintf(stderr, "bare_loop: out of memory\n");
			goto out;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bare_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
		fprintf(stderr, "bare_loop: PTRACE_SEIZE %d: %s\n", (int)tid, strerror(errno));
		goto out;
	}
	period = (int64_t)(1e9 / hz);
	next = bare_now() + period;
	end = bare_now() + (int64_t)(seconds * 1e9);
	while (!bare_stop && n < cap) {
		struct timespec ts = { .tv_sec = next / 1000000000, .tv_nsec = next % 1000000000 };
		struct user_regs_struct regs;
		struct iovec io = { .iov_base = &regs, .iov_len = sizeof(regs) };
		struct iovec local = { .iov_base = stack, .iov_len = sizeof(stack) };
		struct iovec remote;
		int64_t t0, t1, t2, t3, t4;

		if (next >= end)
			break;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !bare_stop)
			;
		if (bare_stop)
			break;
		t0 = bare_now();
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0 || bare_wait_stop(tid, spin) != 0) {
			fprintf(stderr, "bare_loop: thread %d is gone\n", (int)tid);
			goto out;
		}
		t1 = bare_now();
		if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io) != 0) {
			fprintf(stderr, "bare_loop: PTRACE_GETREGSET: %s\n", strerror(errno));
			ptrace(PTRACE_DETACH, tid, 0, 0);
			goto out;
		}
		t2 = bare_now();
		remote.iov_base = (void *)(uintptr_t)(regs.rsp - BARE_RED_ZONE);
		remote.iov_len = sizeof(stack);
		/* A short or failed read (the stack's top is near) is fine. */
		(void)process_vm_readv(pid, &local, 1, &remote, 1, 0);
		t3 = bare_now();
		if (ptrace(PTRACE_CONT, tid, 0, 0) != 0) {
			fprintf(stderr, "bare_loop: PTRACE_CONT: %s\n", strerror(errno));
			goto out;
		}
		t4 = bare_now();
		t[BARE_T_TOTAL][n] = t4 - t0;
		t[BARE_T_WAIT][n] = t1 - t0;
		t[BARE_T_REGS][n] = t2 - t1;
		t[BARE_T_COPY][n] = t3 - t2;
		t[BARE_T_CONT][n] = t4 - t3;
		n++;
		next += period;
		if (next < t4) {
			late++;
			next = t4 + period;
		}
	}
	/* PTRACE_DETACH needs a stopped tracee. */
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0 && bare_wait_stop(tid, 0) == 0)
		ptrace(PTRACE_DETACH, tid, 0, 0);
	if (n == 0) {
		fprintf(stderr, "bare_loop: no samples\n");
		goto out;
	}
	for (int k = 0; k < BARE_T_N; k++)
		qsort(t[k], n, sizeof(int64_t), bare_cmp);
	printf("bare_loop: stops %zu median_ns %lld p99_ns %lld wait_ns %lld regs_ns %lld "
	       "copy_ns %lld cont_ns %lld late %d\n",
	       n, (long long)t[BARE_T_TOTAL][n / 2], (long long)t[BARE_T_TOTAL][n * 99 / 100],
	       (long long)t[BARE_T_WAIT][n / 2], (long long)t[BARE_T_REGS][n / 2],
	       (long long)t[BARE_T_COPY][n / 2], (long long)t[BARE_T_CONT][n / 2], late);
	rc = 0;
out:
	for (int k = 0; k < BARE_T_N; k++)
		free(t[k]);
	return rc;
}
