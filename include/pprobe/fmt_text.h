/* fmt_text.h - `go tool pprof -top`-like report of a profile.
 *
 * Flat is the value of samples whose leaf frame (innermost inlined
 * function of the first location) is the function; cum is the value of
 * samples with the function anywhere on the stack, counted once per sample.
 * Pure: reads the profile model only.
 */
#ifndef PPROBE_FMT_TEXT_H
#define PPROBE_FMT_TEXT_H

#include <stddef.h>
#include <stdio.h>

struct profile;

/* Print the nodecount hottest functions by sample type index vi:
 * a header line with the total, then "flat flat% sum% cum cum% name" rows.
 * Values of type nanoseconds are printed as durations (1.23s, 45ms). */
int fmt_text_top(const struct profile *p, int vi, size_t nodecount, FILE *out);

/* Print the profile as folded lines "root;...;leaf value" (Brendan Gregg's
 * collapsed format; inlined frames expanded) using value index vi: one line
 * per distinct stack, values summed, sorted.  With labels non-zero, the
 * label set is part of what makes a line distinct and " [key=value ...]"
 * follows the value (for tests). */
int fmt_text_folded(const struct profile *p, int vi, int labels, FILE *out);

#endif
