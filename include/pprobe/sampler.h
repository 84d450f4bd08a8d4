/* sampler.h - one tick of sampling: which threads, how, with what labels.
 *
 * CPU mode: a thread is sampled only if it is on CPU now (state R) and used
 * CPU since the last look (its schedstat run time grew); the value is the
 * CPU time it used since its previous sample.  Threads that ran recently
 * are looked at every tick, the others in turn, a slice a tick, so a tick
 * costs O(running + a bounded slice), not a read of every thread.
 *
 * Wall mode: every thread is sampled every tick, running or not, value the
 * tick period (times the ticks it stands for: ticks due but not taken, and
 * ticks lost for the thread, go to its next sample), with labels state,
 * syscall and wait.  A thread whose CPU time
 * did not change since its last sample has not run: its previous stack and
 * labels are reused without stopping it, so a thousand sleeping threads
 * are not woken a thousand times a tick; a thread idle for n looks in a row
 * is looked at again only after n ticks (at most 7).  A thread in a call that a stop
 * would break, or in uninterruptible sleep, is captured without stopping.
 *
 * The sampler is shared by the commands that sample over time (record,
 * top); it adds samples to a stacks/profile pair the command owns.
 */
#ifndef PPROBE_SAMPLER_H
#define PPROBE_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pprobe/snapshot.h"

struct options;
struct session;
struct stacks;
struct profile;

struct sampler_stats {
	int64_t *stop_ns; /* every stop's length, for the median and p99 */
	size_t n, cap;
	int64_t total_stop_ns;
	int64_t max_stop_ns; /* the longest: no thread waited longer for a sample */
	uint64_t samples, reused, passive;
	uint64_t lost_blocked, lost_timeout, lost_gone, lost_late;
	uint64_t primed;  /* wall mode: threads captured before the window */
	int64_t prime_ns; /* ... in this long */
};

struct sampler {
	const struct options *o;
	struct session *s;   /* borrowed */
	struct stacks *st;   /* borrowed */
	struct snapshot snap;
	uint64_t *pcs;
	int64_t period_ns;
	struct sampler_stats stats;
	bool over_budget; /* this tick has used its time: no more stops */
	size_t fd_limit;  /* RLIMIT_NOFILE when the sampler started */
	size_t first; /* where the next tick starts in the thread table: where
			 the last one ran out of time, so every thread gets
			 its turn to be stopped */
	size_t cold_next; /* CPU mode: where the next slice of idle threads starts */
	uint64_t ticks;   /* ticks so far */
	uint64_t span;    /* wall mode: ticks due the next tick stands for, 1 and
			     those due before it that were not taken (the
			     caller sets it; 1 unless it does) */
};

int sampler_init(struct sampler *sp, const struct options *o, struct session *s,
		 struct stacks *st);
void sampler_fini(struct sampler *sp);

/* Sample types, period and default type of the profile for o's mode. */
int sampler_setup_profile(struct profile *p, const struct options *o);

/* Take a first look at every thread's CPU time (the window starts now);
 * in wall mode also capture every thread's stack (for at most 30 s), so the
 * window's ticks find most threads captured and unchanged. */
void sampler_prime(struct sampler *sp);

/* One tick: sample the threads the mode asks for. */
int sampler_tick(struct sampler *sp, int64_t now);

/* "stopped threads N times: median X, p99 Y, total Z" and losses, one line. */
void sampler_format_stats(struct sampler *sp, char *buf, size_t len);

#endif
