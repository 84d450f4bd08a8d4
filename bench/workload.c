/* workload.c - the CPU burner the benchmark profiles.
 *
 *   workload [-t THREADS] [-s SECONDS] [-c COUNTER_FILE]
 *
 * Runs THREADS (default 1) threads, each spinning through a few noinline
 * call levels (bench_thread -> bench_run -> bench_outer -> bench_middle ->
 * bench_hot), so a profiler has a real stack to stop, copy and unwind.  The
 * main thread is thread 0: a tracer that samples "the main thread" samples
 * a running thread, as the bare loop does.
 *
 * Throughput: every thread counts the rounds it finished.  With -c the
 * counters live in a shared file (one 64-byte slot per thread, a 64-bit
 * count at the start of each slot, native byte order), so the driver can
 * read them at the start and end of any window without stopping anyone.
 * At exit (after SECONDS, default 0 = until SIGINT/SIGTERM) the total
 * rounds per second are printed on stdout.
 *
 * Prints "ready PID" (and flushes) once every thread is running.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define WORKLOAD_MAX_THREADS 256
#define WORKLOAD_SLOT 64
#define WORKLOAD_HOT_STEPS 64

#if defined(__GNUC__) && !defined(__clang__)
#define WORKLOAD_NOINLINE __attribute__((noinline, noclone))
#else
#define WORKLOAD_NOINLINE __attribute__((noinline))
#endif

/* The only mutable global: set from SIGINT, SIGTERM and SIGALRM. */
static volatile sig_atomic_t workload_stop;

struct workload_thread {
	pthread_t handle;
	unsigned index;
	uint64_t *counter; /* in the shared counter file, or in rounds_local */
	uint64_t rounds_local;
	uint64_t sink;     /* keeps the computation alive */
};

static void workload_on_signal(int sig)
{
	(void)sig;
	workload_stop = 1;
}

/* A true leaf, called once per bench_hot call.  It is there so bench_hot
 * is not a leaf: GCC (12, x86-64) sets up no frame pointer in a leaf
 * function even with -fno-omit-frame-pointer, and a frame-pointer walk
 * (perf -g) from inside such a leaf skips the leaf's caller. */
static WORKLOAD_NOINLINE uint64_t bench_seed(uint64_t x)
{
	return x ^ (x >> 31);
}

/* The hot function: a few dozen rounds of 64-bit mixing. */
static WORKLOAD_NOINLINE uint64_t bench_hot(uint64_t x)
{
	x = bench_seed(x);
	for (int i = 0; i < WORKLOAD_HOT_STEPS; i++) {
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdull;
		x ^= x >> 29;
	}
	return x;
}

/* A level with a small local array, so each frame holds some stack. */
static WORKLOAD_NOINLINE uint64_t bench_middle(uint64_t x)
{
	volatile uint64_t scratch[16];

	for (int i = 0; i < 16; i++)
		scratch[i] = bench_hot(x + (uint64_t)i);
	for (int i = 0; i < 16; i++)
		x += scratch[i];
	return x;
}

static WORKLOAD_NOINLINE uint64_t bench_outer(uint64_t x)
{
	x = bench_middle(x);
	x = bench_middle(x ^ 0x9e3779b97f4a7c15ull);
	return x + 1; /* not a tail call: bench_outer stays on the stack */
}

/* One thread's loop: a round is one bench_outer call, about 2K mixing
 * steps (a couple of microseconds), so the counter store is noise. */
static WORKLOAD_NOINLINE void bench_run(struct workload_thread *t)
{
	uint64_t x = 0x1234567 + t->index, rounds = 0;

	while (!workload_stop) {
		x = bench_outer(x);
		__atomic_store_n(t->counter, ++rounds, __ATOMIC_RELAXED);
	}
	t->sink = x;
}

static WORKLOAD_NOINLINE void *bench_thread(void *arg)
{
	bench_run(arg);
	return NULL;
}

static uint64_t *workload_map_counters(const char *path, unsigned n)
{
	size_t len = (size_t)n * WORKLOAD_SLOT;
	void *p;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)len) != 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static double workload_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void workload_usage(void)
{
	fprintf(stderr, "usage: workload [-t THREADS] [-s SECONDS] [-c COUNTER_FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct workload_thread threads[WORKLOAD_MAX_THREADS];
	const char *counter_path = NULL;
	unsigned nthreads = 1, seconds = 0;
	uint64_t *counters = NULL, total = 0;
	struct sigaction sa;
	double t0, elapsed;
	int opt;

	while ((opt = getopt(argc, argv, "t:s:c:")) != -1) {
		switch (opt) {
		case 't':
			nthreads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			counter_path = optarg;
			break;
		default:
			workload_usage();
		}
	}
	if (optind != argc || nthreads < 1 || nthreads > WORKLOAD_MAX_THREADS)
		workload_usage();

	/* Any process of ours may trace us (Yama ptrace_scope 1). */
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = workload_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	if (counter_path) {
		counters = workload_map_counters(counter_path, nthreads);
		if (!counters) {
			fprintf(stderr, "workload: %s: %s\n", counter_path, strerror(errno));
			return 1;
		}
	}
	for (unsigned i = 0; i < nthreads; i++) {
		threads[i].index = i;
		threads[i].counter = counters ? counters + i * (WORKLOAD_SLOT / sizeof(uint64_t))
					      : &threads[i].rounds_local;
	}
	t0 = workload_now();
	for (unsigned i = 1; i < nthreads; i++) {
		if (pthread_create(&threads[i].handle, NULL, bench_thread, &threads[i]) != 0) {
			fprintf(stderr, "workload: cannot start thread %u\n", i);
			workload_stop = 1;
			nthreads = i;
			break;
		}
	}
	if (seconds)
		alarm(seconds);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	bench_thread(&threads[0]);
	for (unsigned i = 1; i < nthreads; i++)
		pthread_join(threads[i].handle, NULL);
	elapsed = workload_now() - t0;
	for (unsigned i = 0; i < nthreads; i++)
		total += __atomic_load_n(threads[i].counter, __ATOMIC_RELAXED);
	printf("rounds %llu seconds %.3f rounds_per_second %.1f\n", (unsigned long long)total,
	       elapsed, (double)total / elapsed);
	return 0;
}
