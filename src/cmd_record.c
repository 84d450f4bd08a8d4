/* cmd_record.c - `pprobe [record]`: the sampling window and its output.
 *
 * Ties preflight, attach (session.c), the sampler (sampler.c: which threads
 * each tick and how) and the writers together.  The window ends at
 * -seconds, on SIGINT/SIGTERM/SIGHUP, or when the target exits; in every
 * case what was collected is written.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pprobe/cli.h"
#include "pprobe/cmd_record.h"
#include "pprobe/error.h"
#include "pprobe/fmt_svg.h"
#include "pprobe/fmt_text.h"
#include "pprobe/outfile.h"
#include "pprobe/perfsample.h"
#include "pprobe/pprof.h"
#include "pprobe/procfs.h"
#include "pprobe/profile.h"
#include "pprobe/sampler.h"
#include "pprobe/session.h"
#include "pprobe/stacks.h"
#include "pprobe/termout.h"
#include "pprobe/textesc.h"
#include "pprobe/threadstate.h"
#include "pprobe/timeutil.h"
#include "pprobe/trust.h"

#define RECORD_STATUS_INTERVAL_NS 250000000LL

enum record_format { RECORD_FMT_PPROF, RECORD_FMT_FOLDED, RECORD_FMT_TEXT, RECORD_FMT_SVG };

struct record {
	const struct options *o;
	struct session s;
	struct profile *prof;
	struct stacks st;
	struct sampler sp;
	struct perfsample ps; /* the sampler when use_perf */
	bool use_perf;
	bool perf_exclude_kernel;
	uint64_t rng;
	uint64_t late_ticks;          /* ticks due in the window but not taken */
	int64_t cpu_start_ns, cpu_ns; /* the process's CPU time; cpu_ns: in
					 the window, -1 unknown (trust.h) */
	size_t threads_start;         /* threads traced as the window began */
	int64_t start_ns, end_ns, wall_start_ns;
	int64_t window_ns; /* how long the window lasted */
	int64_t last_status_ns;
	bool status_shown;
	bool tty;
	/* The status line on a terminal: written while every thread is
	 * traced, so it never waits (termout.h; Ctrl-S drops lines). */
	struct termout status_out;
	bool status_open;
};

static uint64_t record_rand(struct record *r)
{
	/* xorshift64: jitter only, no need for more. */
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static bool record_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* -format, else the -o extension, by the one rule record and dump share
 * (README, "Output formats"): .txt the text report, .folded folded stacks,
 * .svg a flame graph, anything else pprof. */
static enum record_format record_pick_format(const struct options *o)
{
	const char *f = o->format;

	if (f)
		return !strcmp(f, "folded") ? RECORD_FMT_FOLDED : !strcmp(f, "text") ? RECORD_FMT_TEXT :
		       !strcmp(f, "svg") ? RECORD_FMT_SVG : RECORD_FMT_PPROF;
	if (o->output && record_has_suffix(o->output, ".txt"))
		return RECORD_FMT_TEXT;
	if (o->output && record_has_suffix(o->output, ".folded"))
		return RECORD_FMT_FOLDED;
	if (o->output && record_has_suffix(o->output, ".svg"))
		return RECORD_FMT_SVG;
	return RECORD_FMT_PPROF;
}

static void record_status(struct record *r, int64_t now, bool final)
{
	size_t live = 0;

	char line[160];
	int len;

	if (!r->status_open)
		return;
	if (!final && now - r->last_status_ns < RECORD_STATUS_INTERVAL_NS)
		return;
	r->last_status_ns = now;
	for (size_t i = 0; i < r->s.att.n; i++)
		live += r->s.att.threads[i]->state != ATTACH_GONE;
	if (final) {
		if (r->status_shown)
			termout_frame(&r->status_out, "\r\033[K", 4);
		return;
	}
	len = snprintf(line, sizeof(line), "\r\033[Kpprobe: %.1f/%.0fs  %" PRIu64 " samples  %zu threads",
		       (double)(now - r->start_ns) / 1e9, r->o->seconds,
		       r->use_perf ? r->ps.stats.samples : r->sp.stats.samples, live);
	if (len > 0 && (size_t)len < sizeof(line))
		termout_frame(&r->status_out, line, (size_t)len);
	r->status_shown = true;
}

/* The window with perf events: the kernel takes the samples; here the
 * rings are read every few milliseconds, threads the kernel reports as
 * created get their event, and exited threads' rings are read before
 * their entries go. */
static int record_loop_perf(struct record *r)
{
	struct attach *a = &r->s.att;
	int err;

	for (;;) {
		int64_t now = timeutil_mono_ns();

		if (a->stop_signal || a->target_exited || now >= r->end_ns) {
			r->window_ns = (now < r->end_ns ? now : r->end_ns) - r->start_ns;
			break;
		}
		attach_poll(a, r->end_ns - now < r->ps.poll_ns ? r->end_ns - now : r->ps.poll_ns);
		err = perfsample_sync(&r->ps);
		if (!err)
			err = perfsample_drain(&r->ps);
		if (err)
			return err;
		attach_compact(a);
		record_status(r, now, false);
	}
	record_status(r, timeutil_mono_ns(), true);
	return perfsample_drain(&r->ps);
}

/* The deadline of the tick due at base: up to +-25% of the period of
 * random jitter, so periodic work does not alias with us. */
static int64_t record_jitter(struct record *r, int64_t base, int64_t period)
{
	return base + (int64_t)(record_rand(r) % (uint64_t)(period / 2 + 1)) - period / 4;
}

/* The sampling window: one tick due every period, at base deadlines
 * start + k * period (each jittered on its own, so the jitter does not add
 * up).  A tick whose deadline passed while the previous one ran, or while
 * pprobe waited for a CPU, is skipped, not bunched, and counted: every tick
 * due in the window is either taken or in late_ticks, which the summary
 * reports.  In wall mode the next tick taken stands for the ones skipped
 * (sampler.span): a thread's samples add up to the window. */
static int record_loop(struct record *r)
{
	int64_t period = 1000000000LL / r->o->hz;
	int64_t base = r->start_ns + period;
	int64_t next = record_jitter(r, base, period);
	struct attach *a = &r->s.att;
	uint64_t late_seen = 0;
	int64_t now;
	int err;

	for (;;) {
		now = timeutil_mono_ns();
		if (a->stop_signal || a->target_exited || now >= r->end_ns)
			break;
		if (now < next) {
			int64_t until = next < r->end_ns ? next : r->end_ns;

			attach_poll(a, until - now);
			continue;
		}
		r->sp.span = 1 + r->late_ticks - late_seen;
		late_seen = r->late_ticks;
		err = sampler_tick(&r->sp, now);
		if (err)
			return err;
		record_status(r, now, false);
		base += period;
		next = record_jitter(r, base, period);
		now = timeutil_mono_ns();
		while (next < now && next < r->end_ns) {
			r->late_ticks++;
			base += period;
			next = record_jitter(r, base, period);
		}
	}
	/* Due before the window ended but not taken: the loop was late. */
	r->window_ns = (now < r->end_ns ? now : r->end_ns) - r->start_ns;
	while (next < r->start_ns + r->window_ns) {
		r->late_ticks++;
		base += period;
		next = record_jitter(r, base, period);
	}
	record_status(r, timeutil_mono_ns(), true);
	return 0;
}

/* Wall mode: what the window holds and what it misses, one line for the
 * summary and the profile's comments.  Each tick due either was taken or
 * was late; each thread at each tick taken either has a sample or is
 * lost, for the reason given, so a thread present all window has (ticks
 * taken - its lost) samples, whose wall time adds up to the ticks due:
 * the late and lost ones go to its next sample. */
static void record_format_wall(struct record *r, char *buf, size_t len)
{
	const struct sampler_stats *s = &r->sp.stats;

	snprintf(buf, len, "wall: %" PRIu64 " of %" PRIu64 " ticks taken in %.2f s (%" PRIu64
		 " late: pprobe fell behind); %" PRIu64 " thread samples, %" PRIu64
		 " lost (tick out of time %" PRIu64 ", not stopping %" PRIu64 ", exited %" PRIu64
		 "); a late or lost tick's time is given to the thread's next sample",
		 r->sp.ticks, r->sp.ticks + r->late_ticks, (double)r->window_ns / 1e9,
		 r->late_ticks, s->samples, s->lost_late + s->lost_timeout + s->lost_gone,
		 s->lost_late, s->lost_timeout, s->lost_gone);
}

/* After the window, every thread let go: fetch the debug info that the
 * profile's images lack (-debuginfod) and name their locations again.
 * Never during the window.  The samples are symbolized as they come,
 * after each thread runs again, but pprobe still traces every thread then:
 * while it waited on a server it would answer no ptrace stop, and a thread
 * stopping meanwhile -- for a signal, a clone, its exit -- would stay
 * stopped as long.  Unwinding reads only .eh_frame from the mapped files
 * (unwind.c), never debug info, so nothing else can fetch either. */
static int record_fetch_debuginfo(struct record *r)
{
	int err;

	if (!r->o->debuginfod_urls)
		return 0;
	err = session_fetch_begin(&r->s, r->o->quiet ? NULL : stderr);
	if (!err)
		err = stacks_fetch_debuginfo(&r->st);
	session_fetch_end(&r->s);
	return err;
}

static const char *record_extension(enum record_format fmt)
{
	switch (fmt) {
	case RECORD_FMT_FOLDED: return "folded";
	case RECORD_FMT_TEXT: return "top.txt";
	case RECORD_FMT_SVG: return "svg";
	case RECORD_FMT_PPROF: break;
	}
	return "pb.gz";
}

static char *record_default_output(const struct record *r)
{
	char stamp[32], *path = NULL, comm[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	/* The target names itself: only a safe set of bytes reaches the name. */
	textesc_filename(comm, sizeof(comm), r->s.pf.comm[0] ? r->s.pf.comm : "unknown");
	if (asprintf(&path, "pprobe.%s.%d.%s.%s.%s", comm, (int)r->o->pid, stamp,
		     r->o->wall ? "wall" : "cpu", record_extension(record_pick_format(r->o))) < 0)
		return NULL;
	return path;
}

static int record_setup_profile(struct record *r)
{
	char version[64];
	int err;

	r->prof = profile_new();
	if (!r->prof)
		return -ENOMEM;
	err = sampler_setup_profile(r->prof, r->o);
	snprintf(version, sizeof(version), "pprobe %s", PPROBE_VERSION);
	if (!err)
		err = profile_add_comment(r->prof, version);
	if (!err && r->o->argv_line)
		err = profile_add_comment(r->prof, r->o->argv_line);
	if (!err)
		err = profile_add_comment(r->prof, r->use_perf ? "sampler: perf (task-clock events)"
							       : "sampler: ptrace");
	return err;
}

static int record_write_text(struct record *r, enum record_format fmt, int fd)
{
	FILE *f = fdopen(dup(fd), "w");
	char title[128];
	int err;

	if (!f)
		return -errno;
	snprintf(title, sizeof(title), "pprobe %s profile of %s (pid %d)", r->o->wall ? "wall" : "CPU",
		 r->s.pf.comm, (int)r->o->pid);
	/* Value 0 is the count of samples, 1 the CPU or wall nanoseconds. */
	err = fmt == RECORD_FMT_FOLDED ? fmt_text_folded(r->prof, r->o->folded_samples ? 0 : 1, 0, f) :
	      fmt == RECORD_FMT_TEXT ? fmt_text_top(r->prof, 1, (size_t)r->o->nodecount, f) :
	      fmt_svg_flamegraph(r->prof, 1, title, f);
	if (fclose(f) != 0 && !err)
		err = -errno;
	return err;
}

static int record_write(struct record *r, enum record_format fmt, struct outfile *of)
{
	int err;

	/* The window's length, not the time until now: the release and a
	 * debuginfod fetch came after it. */
	profile_set_time(r->prof, r->wall_start_ns,
			 r->window_ns ? r->window_ns : timeutil_mono_ns() - r->start_ns);
	if (r->o->wall && !r->use_perf) {
		char line[384];

		record_format_wall(r, line, sizeof(line));
		err = profile_add_comment(r->prof, line);
		if (err)
			return err;
	}
	err = fmt == RECORD_FMT_PPROF ? pprof_write_fd(r->prof, of->fd) :
					record_write_text(r, fmt, of->fd);
	if (err)
		return err;
	return outfile_commit(of);
}

/* The process's CPU time (utime + stime), -1 if it cannot be read. */
static int64_t record_process_cpu_ns(pid_t pid)
{
	char path[64], text[1024];
	uint64_t ticks;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (hz <= 0 || procfs_read_file(path, text, sizeof(text)) <= 0 ||
	    procfs_parse_stat(text, NULL, &ticks))
		return -1;
	return (int64_t)(ticks * (1000000000ull / (uint64_t)hz));
}

/* Warnings when the profile is not to be trusted (trust.h), with the
 * figures; printed without -v, since the user who most needs them is the
 * one who does not know to ask. */
static void record_warn(struct record *r)
{
	struct trust_figures f = {
		.wall = r->o->wall, .hz = r->o->hz, .window_ns = r->end_ns - r->start_ns,
		.target_cpu_ns = r->cpu_ns,
		.late_ticks = r->late_ticks, .ticks = r->use_perf ? 0 : r->sp.ticks,
	};
	char buf[1024];
	size_t live = 0;

	/* The profile's samples are stacks, each with its count. */
	for (size_t i = 0; i < profile_sample_count(r->prof); i++) {
		const struct profile_sample *ps = profile_sample_at(r->prof, i);

		f.samples += (uint64_t)ps->values[0];
		f.wall_ns += ps->values[1];
	}
	for (size_t i = 0; i < r->s.att.n; i++)
		live += r->s.att.threads[i]->state != ATTACH_GONE;
	/* Threads x window is their time only if none came or went. */
	if (r->o->wall && !r->o->ntids && live == r->threads_start && r->s.att.n == live)
		f.thread_ns = (int64_t)live * f.window_ns;
	if (trust_format_warnings(&f, buf, sizeof(buf)))
		fputs(buf, stderr);
}

static void record_report(struct record *r, const char *path, enum record_format fmt)
{
	char line[512];

	/* -q: errors only.  What follows is news of a run that worked. */
	if (strcmp(path, "-") && !r->o->quiet) {
		fprintf(stderr, "Saved %s in ", fmt == RECORD_FMT_PPROF ? "profile" :
			fmt == RECORD_FMT_SVG ? "flame graph" : "report");
		textesc_put(stderr, path, SIZE_MAX, false);
		fputc('\n', stderr);
	}
	if (r->o->verbose) {
		char longest[32], release[32];

		if (r->use_perf) {
			perfsample_format_stats(&r->ps, line, sizeof(line));
			/* Perf samples stop no thread: only the release does. */
			timeutil_format_duration(0, longest, sizeof(longest));
		} else {
			sampler_format_stats(&r->sp, line, sizeof(line));
			timeutil_format_duration(r->sp.stats.max_stop_ns, longest, sizeof(longest));
		}
		timeutil_format_duration(r->s.att.release_ns, release, sizeof(release));
		/* The longest stop and the release bound how long any thread
		 * waited on pprobe (test_safety_eintr.py allows for them). */
		if (r->use_perf)
			fprintf(stderr, "pprobe: sampler perf; %s; longest stop %s, release %s\n",
				line, longest, release);
		else
			fprintf(stderr, "pprobe: sampler ptrace; %s; %" PRIu64
				" late ticks; longest stop %s, release %s\n",
				line, r->late_ticks, longest, release);
	}
	if (!r->o->quiet && r->use_perf && (r->ps.stats.lost || r->ps.stats.throttled || r->ps.stats.unsampled))
		fprintf(stderr, "pprobe: perf events: %" PRIu64 " samples lost, %" PRIu64
			" throttled, %" PRIu64 " threads not sampled\n", r->ps.stats.lost,
			r->ps.stats.throttled, r->ps.stats.unsampled);
	if (!r->o->quiet && (r->st.samples_truncated || r->st.frames_unsymbolized))
		fprintf(stderr, "pprobe: %" PRIu64 " stacks truncated, %" PRIu64
			" addresses without symbols\n", r->st.samples_truncated,
			r->st.frames_unsymbolized);
	if (!r->o->quiet && r->o->wall) {
		record_format_wall(r, line, sizeof(line));
		fprintf(stderr, "pprobe: %s\n", line);
	}
	if (!r->o->quiet && !r->o->wall)
		fprintf(stderr, "pprobe: CPU samples from %s\n",
			r->use_perf ? "perf events (kernel timer, threads not stopped)"
				    : "ptrace stops");
	if (!r->o->quiet && profile_sample_count(r->prof) > 0 &&
	    !(fmt == RECORD_FMT_TEXT && !strcmp(path, "-")))
		fmt_text_top(r->prof, 1, (size_t)r->o->nodecount, stderr);
	if (!r->o->quiet)
		record_warn(r);
	/* What to run next, as perf record and pprof do. */
	if (!r->o->quiet && fmt == RECORD_FMT_PPROF && strcmp(path, "-")) {
		fputs("View it with: go tool pprof -http=: ", stderr);
		textesc_put_shell(stderr, path);
		fputc('\n', stderr);
	}
}

int cmd_record_run(const struct options *o)
{
	struct record r;
	struct outfile of = { .fd = -1 };
	enum record_format fmt = record_pick_format(o);
	char msg[512];
	char *default_path = NULL;
	const char *path;
	int code, err;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.rng = (uint64_t)timeutil_mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	r.tty = isatty(STDERR_FILENO);
	code = session_preflight(&r.s, o, msg, sizeof(msg));
	if (code)
		goto out_msg;
	code = perfsample_choose_code(o, &r.use_perf, &r.perf_exclude_kernel, msg, sizeof(msg));
	if (code)
		goto out_msg;
	path = o->output;
	if (!path) {
		default_path = record_default_output(&r);
		path = default_path;
	}
	err = path ? outfile_open(&of, path) : -ENOMEM;
	if (err) {
		outfile_format_error(msg, sizeof(msg), path ? path : "output", err);
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	err = record_setup_profile(&r);
	if (err) {
		snprintf(msg, sizeof(msg), "%s", error_str(err));
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	r.status_out.fd = -1;
	if (r.tty && !o->quiet && termout_open(&r.status_out, STDERR_FILENO) == 0)
		r.status_open = true;
	/* Symbols load now, while no thread is traced, not on the first
	 * samples, which they would hold up (the window would be blind for
	 * as long).  What fails here is loaded on first use. */
	session_warm_mapped(&r.s, o->verbose ? stderr : NULL);
	if (o->kernel && !o->quiet && (err = threadstate_kernel_stack_access(o->pid)) < 0)
		fprintf(stderr, "pprobe: warning: -kernel: cannot read /proc/%d/task/*/stack (%s%s): "
			"no [kernel] frames\n", (int)o->pid, strerror(-err),
			err == -EACCES || err == -EPERM ? "; the kernel shows it to root only, "
			"CAP_SYS_ADMIN" : "");
	code = session_attach(&r.s, msg, sizeof(msg));
	if (code)
		goto out_msg;
	stacks_init(&r.st, r.prof, &r.s.maps, r.s.sym);
	err = stacks_add_mappings(&r.st);
	if (!err)
		err = r.use_perf ? perfsample_init(&r.ps, o, &r.s, &r.st, r.perf_exclude_kernel)
				 : sampler_init(&r.sp, o, &r.s, &r.st);
	/* The first look at every thread (a read each: long for 10,000
	 * threads) comes before the window, not out of it. */
	if (!err && !r.use_perf)
		sampler_prime(&r.sp);
	r.start_ns = timeutil_mono_ns();
	r.wall_start_ns = timeutil_wall_ns();
	r.end_ns = r.start_ns + (int64_t)llround(o->seconds * 1e9);
	r.cpu_start_ns = record_process_cpu_ns(o->pid);
	r.threads_start = r.s.att.n;
	if (!err && r.use_perf) {
		err = perfsample_sync(&r.ps);
		if (!err)
			err = record_loop_perf(&r);
	} else if (!err) {
		err = record_loop(&r);
	}
	r.end_ns = timeutil_mono_ns();
	r.cpu_ns = r.s.att.target_exited ? -1 : record_process_cpu_ns(o->pid);
	r.cpu_ns = r.cpu_ns < 0 || r.cpu_start_ns < 0 ? -1 : r.cpu_ns - r.cpu_start_ns;
	session_release(&r.s);
	/* No thread is traced now: the status line may take a moment to
	 * clear before anything else is printed. */
	if (r.status_open)
		termout_drain(&r.status_out, 1000);
	if (r.s.att.target_exited && !o->quiet)
		fprintf(stderr, "pprobe: process %d exited after %.1fs; writing what was collected\n",
			(int)o->pid, (double)(timeutil_mono_ns() - r.start_ns) / 1e9);
	if (r.s.att.stop_signal && !r.s.att.target_exited && !o->quiet)
		fprintf(stderr, "pprobe: window cut short by SIG%s after %.1fs of %gs; writing what "
			"was collected\n", sigabbrev_np(r.s.att.stop_signal) ?: "?",
			(double)(r.end_ns - r.start_ns) / 1e9, o->seconds);
	if (r.s.att.stuck_threads)
		fprintf(stderr, "pprobe: %u threads did not stop in time to be detached (busy, or in "
			"uninterruptible sleep); the kernel detaches them as pprobe exits\n",
			r.s.att.stuck_threads);
	if (!err)
		err = record_fetch_debuginfo(&r);
	session_service(&r.s); /* threads left traced: answer their stops */
	if (!err)
		err = stacks_finish(&r.st);
	if (!err)
		err = record_write(&r, fmt, &of);
	if (err) {
		snprintf(msg, sizeof(msg), "cannot write profile %s: %s", path, error_str(err));
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	record_report(&r, path, fmt);
	goto out;
out_msg:
	/* Names the target or the user chose may be in it. */
	fputs("pprobe: ", stderr);
	textesc_put(stderr, msg, sizeof(msg), false);
	fputc('\n', stderr);
out:
	outfile_abort(&of);
	if (r.status_open)
		termout_close(&r.status_out);
	sampler_fini(&r.sp);
	perfsample_fini(&r.ps);
	stacks_fini(&r.st);
	session_close(&r.s);
	profile_free(r.prof);
	free(default_path);
	return code;
}
