/* trust.h - is a recorded profile worth trusting?  The warnings printed at
 * the end of `record` when it is not (issue 12: an idle target gave an
 * empty profile and only "Saved profile in X"; a 1 s window gave 1 sample
 * while the target used 390 ms of CPU).
 *
 * Pure: reads the figures the command gathered, writes text.  Never touches
 * the target.
 */
#ifndef PPROBE_TRUST_H
#define PPROBE_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fewer samples than this in a window that had any: shares are noise. */
#define TRUST_FEW_SAMPLES 20
/* CPU mode: fewer than this share of the samples the target's CPU time
 * asks for at -hz (and at least TRUST_FEW_SAMPLES asked): under-counted. */
#define TRUST_MIN_SAMPLE_SHARE 0.5
/* Ptrace ticks: more than this share came late (skipped). */
#define TRUST_MAX_LATE_SHARE 0.25
/* Wall mode: the samples' wall time below this share of the threads'
 * time in the window. */
#define TRUST_MIN_WALL_SHARE 0.70

struct trust_figures {
	bool wall;               /* -mode wall */
	int hz;
	int64_t window_ns;       /* how long the window lasted */
	uint64_t samples;        /* samples in the profile */
	int64_t target_cpu_ns;   /* CPU the process used in the window; < 0 unknown */
	uint64_t ticks;          /* ptrace ticks taken (0: perf, or none) */
	uint64_t late_ticks;     /* ptrace ticks skipped for being late */
	int64_t wall_ns;         /* wall mode: sum of the samples' wall values */
	int64_t thread_ns;       /* wall mode: the threads' time in the window
				    (threads x window when no thread came or
				    went), 0 unknown */
};

/* Writes one "pprobe: warning: ..." line per reason the profile is not to
 * be trusted into buf (NUL-terminated, each line ending in '\n'; cut at
 * len).  Returns how many lines were written: 0 when all is well. */
int trust_format_warnings(const struct trust_figures *f, char *buf, size_t len);

#endif
