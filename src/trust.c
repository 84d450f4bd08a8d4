/* trust.c - warnings for a profile not to be trusted (see trust.h).
 *
 * Each rule names its figures, so the user can judge: a warning that only
 * said "unreliable" would be ignored, and one that needed -v would not be
 * seen by the on-call user who most needs it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "pprobe/trust.h"

struct trust_out {
	char *buf;
	size_t len, used;
	int lines;
};

static void trust_line(struct trust_out *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void trust_line(struct trust_out *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	t->lines++;
	if (t->used >= t->len)
		return;
	n = snprintf(t->buf + t->used, t->len - t->used, "pprobe: warning: ");
	if (n > 0)
		t->used += (size_t)n < t->len - t->used ? (size_t)n : t->len - t->used - 1;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n < t->len - t->used ? (size_t)n : t->len - t->used - 1;
	if (t->used + 1 < t->len) {
		t->buf[t->used++] = '\n';
		t->buf[t->used] = '\0';
	}
}

int trust_format_warnings(const struct trust_figures *f, char *buf, size_t len)
{
	struct trust_out t = { .buf = buf, .len = len };
	double secs = (double)f->window_ns / 1e9;
	double cpu_ms = (double)f->target_cpu_ns / 1e6;

	if (len)
		buf[0] = '\0';
	if (f->samples == 0) {
		if (f->wall)
			trust_line(&t, "no samples in the %.1fs window: no thread could be sampled", secs);
		else if (f->target_cpu_ns >= 0)
			trust_line(&t, "no samples: no thread was on CPU in the %.1fs window (the process "
				   "used %.0f ms of CPU): it is idle or blocked; try -mode wall to see "
				   "where its threads wait, or pprobe dump", secs, cpu_ms);
		else
			trust_line(&t, "no samples: no thread was on CPU in the %.1fs window; try -mode "
				   "wall to see where its threads wait, or pprobe dump", secs);
		return t.lines;
	}
	if (!f->wall && f->target_cpu_ns >= 0) {
		double want = (double)f->target_cpu_ns * f->hz / 1e9;

		if (want >= TRUST_FEW_SAMPLES && (double)f->samples < want * TRUST_MIN_SAMPLE_SHARE)
			trust_line(&t, "%" PRIu64 " samples for %.0f ms of CPU the process used "
				   "(%.0f expected at %d Hz): the profile under-counts; a loaded "
				   "machine delays the samples, -sampler perf does not",
				   f->samples, cpu_ms, want, f->hz);
		else if (f->samples < TRUST_FEW_SAMPLES)
			trust_line(&t, "only %" PRIu64 " samples (the process used %.0f ms of CPU in "
				   "%.1fs): too few for shares to mean much; record longer (-seconds) "
				   "or at a higher -hz", f->samples, cpu_ms, secs);
	} else if (f->samples < TRUST_FEW_SAMPLES) {
		trust_line(&t, "only %" PRIu64 " samples in %.1fs: too few for shares to mean "
			   "much; record longer (-seconds) or at a higher -hz", f->samples, secs);
	}
	if (f->ticks + f->late_ticks > 0 &&
	    (double)f->late_ticks > TRUST_MAX_LATE_SHARE * (double)(f->ticks + f->late_ticks))
		trust_line(&t, "%" PRIu64 " of %" PRIu64 " ticks came late and were skipped "
			   "(pprobe fell behind: a loaded machine, or many threads): fewer samples "
			   "than -hz asks", f->late_ticks, f->ticks + f->late_ticks);
	if (f->wall && f->thread_ns > 0 &&
	    (double)f->wall_ns < TRUST_MIN_WALL_SHARE * (double)f->thread_ns)
		trust_line(&t, "wall samples cover %.0f%% of the threads' time in the window (%.2fs "
			   "of %.2fs): stops were late or missed; shares may be skewed",
			   100.0 * (double)f->wall_ns / (double)f->thread_ns,
			   (double)f->wall_ns / 1e9, (double)f->thread_ns / 1e9);
	return t.lines;
}
