/* fmt_dump.h - write a thread dump: text, JSON, or a pprof threads profile. */
#ifndef PPROBE_FMT_DUMP_H
#define PPROBE_FMT_DUMP_H

#include <stdbool.h>
#include <stdio.h>

struct dump;
struct profile;

/* Human text: a header (process, thread count, how long it was frozen),
 * every deadlock first with the stacks of its threads, wait chains, then
 * each thread (header line with state, wait, cpu; then frames).  group
 * folds threads with identical stacks and states into one entry listing
 * their ids, largest group first. */
int fmt_dump_text(const struct dump *d, bool group, FILE *out);

/* One JSON object: {"pid", "comm", "time_ns", "frozen_ns", "threads": [...],
 * "deadlocks": [[tid, ...], ...]} (see README for the fields). */
int fmt_dump_json(const struct dump *d, FILE *out);

/* A pprof profile like Go's goroutine profile: one sample per thread,
 * type threads/count, value 1, labels tid (number), thread, state, wait.
 * Caller frees with profile_free. */
int fmt_dump_profile(const struct dump *d, struct profile **out);

#endif
