/* perfsample.h - CPU samples taken by the kernel (perf events), not by stops.
 *
 * Each traced thread gets its own software clock event (task-clock,
 * pid = tid, cpu = -1) that fires every -hz period of the thread's own CPU
 * time.  At each firing the kernel writes the thread's user registers and
 * the top of its user stack into a ring buffer of that event (one ring per
 * thread: the kernel lets per-thread events share a ring only within one
 * thread).  perfsample_drain() turns each record into the same struct
 * snapshot that snapshot_capture() makes and hands it to the same unwinder,
 * stacks and profile, so nothing after the snapshot knows the difference.
 *
 * The target is never stopped for a sample, and the sample is taken by the
 * timer interrupt on the thread's own CPU, so there is no skid to the next
 * system-call exit (the ptrace sampler's bias, README).  Time in the kernel
 * counts: a tick that lands in a system call records the user registers
 * and stack the call was made from, so kernel time is folded into the
 * calling user frame (as `perf record --call-graph dwarf` reports it).
 *
 * Ptrace still attaches, follows and names the threads: events are opened
 * for the threads attach.c knows, as it learns of them (perfsample_sync),
 * and each thread's event lives in its attach_thread.user, freed with it.
 * The value of a sample is the thread's task-clock count since its
 * previous sample (CPU nanoseconds), read by the kernel in the sample.
 */
#ifndef PPROBE_PERFSAMPLE_H
#define PPROBE_PERFSAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pprobe/snapshot.h"

/* At most this many threads have an event (a ring each, up to
 * PERFSAMPLE_RING_BUDGET in all); -sampler auto uses ptrace for a process
 * with more threads than this when it starts. */
#define PERFSAMPLE_MAX_THREADS 1024

struct options;
struct session;
struct stacks;

struct perfsample_stats {
	uint64_t samples;     /* records turned into profile samples */
	uint64_t lost;        /* samples the kernel dropped: a ring was full */
	uint64_t throttled;   /* times the kernel throttled an event */
	uint64_t stack_full;  /* stack copies that filled the size asked */
	uint64_t bad;         /* records that made no sense (dropped) */
	uint64_t unsampled;   /* threads whose event could not be opened */
	uint64_t unknown_tid; /* samples of a thread attach no longer knows */
	uint64_t exec_dropped; /* pc no longer mapped when read (exec, unload) */
};

struct perfsample {
	const struct options *o;
	struct session *s;   /* borrowed */
	struct stacks *st;   /* borrowed */
	struct snapshot snap;
	uint64_t *pcs;
	uint8_t *scratch;    /* a record that wraps around its ring, copied */
	int64_t period_ns;
	int64_t poll_ns;     /* how often the command loops read the rings */
	uint32_t stack_user; /* bytes of stack the kernel copies per sample */
	size_t ring_pages;   /* data pages of each thread's ring (a power of 2) */
	bool exclude_kernel; /* ticks in the kernel not sampled (not allowed) */
	int open_err;        /* the last failure to open a thread's event */
	size_t nevents;      /* events open now */
	size_t fd_limit;     /* RLIMIT_NOFILE when sampling started */
	struct perfsample_stats stats;
};

/* Can this process sample thread tid with perf events?  Opens and closes
 * one event as perfsample_sync() would.  0, or -errno: -EACCES/-EPERM
 * (perf_event_paranoid, no CAP_PERFMON, seccomp), -ENOSYS (no such call),
 * -ENOENT/-EOPNOTSUPP (no such event).  *exclude_kernel is set when only
 * user-mode ticks are allowed (see perfsample.c). */
int perfsample_probe(pid_t tid, bool *exclude_kernel);

/* Which sampler a cpu-mode run of o uses: *use_perf true for perf events
 * (-sampler perf, or auto where perfsample_probe() allows them for o->pid),
 * false for ptrace (wall mode, -sampler ptrace, auto where refused).
 * Touches no thread of the target.  0, or the probe's -errno when
 * -sampler perf was asked and is refused; -EINVAL for -sampler perf with
 * wall mode (a wall sample needs the stop). */
int perfsample_choose(const struct options *o, bool *use_perf, bool *exclude_kernel);

/* perfsample_choose() for a command: 0, or an exit code (cli.h) with msg
 * filled: 4 (permission) when perf events are refused, 2 for -sampler perf
 * with -mode wall, 1 for a kernel without them. */
int perfsample_choose_code(const struct options *o, bool *use_perf, bool *exclude_kernel,
			   char *msg, size_t len);

/* How long the command loops wait for attach events between two reads of
 * the rings, at most: perfsample.poll_ns is shorter at high rates (four
 * periods, at least 1 ms). */
#define PERFSAMPLE_POLL_NS 10000000LL

/* A short reason for a probe error, for "-sampler perf" to report. */
const char *perfsample_strerror(int err);

int perfsample_init(struct perfsample *ps, const struct options *o, struct session *s,
		    struct stacks *st, bool exclude_kernel);
/* Closes every thread's event (their rings are dropped unread). */
void perfsample_fini(struct perfsample *ps);

/* Open an event for each thread attach knows and has none yet (new
 * threads); threads asked for by -t only.  A thread whose event cannot be
 * opened is counted (stats.unsampled) and not sampled. */
int perfsample_sync(struct perfsample *ps);

/* Read every ring: add each sample to the profile; close the events of
 * threads that are gone once their ring is read.  Call before
 * attach_compact() and before session_release(), so that the last samples
 * of exited threads are kept. */
int perfsample_drain(struct perfsample *ps);

/* "perf events: N samples, L lost, ..." one line. */
void perfsample_format_stats(const struct perfsample *ps, char *buf, size_t len);

#endif
