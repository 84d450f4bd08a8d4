/* cmd_record.c - the CPU profiler: ties preflight, attach, snapshot, unwind,
 * symbolize and the pprof writer together.
 *
 * Each tick, a thread is sampled only if it is on CPU now (state R) and has
 * used CPU since we last looked (its schedstat run time grew).  The sample's
 * value is the CPU time the thread used since its previous sample, so CPU
 * is attributed in proportion to where it was spent, and a thread that
 * sleeps costs nothing: it is never stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pprobe/cli.h"
#include "pprobe/cmd_record.h"
#include "pprobe/error.h"
#include "pprobe/fmt_text.h"
#include "pprobe/outfile.h"
#include "pprobe/pprof.h"
#include "pprobe/procfs.h"
#include "pprobe/ptrace.h"
#include "pprobe/profile.h"
#include "pprobe/session.h"
#include "pprobe/snapshot.h"
#include "pprobe/stacks.h"
#include "pprobe/syscalls.h"
#include "pprobe/timeutil.h"
#include "pprobe/unwind.h"

/* How long to wait for an interrupted thread to stop before giving up on
 * this sample (a thread in uninterruptible sleep does not stop). */
#define RECORD_STOP_TIMEOUT_MS 100
#define RECORD_NAME_REFRESH_NS 1000000000LL
#define RECORD_STATUS_INTERVAL_NS 250000000LL

struct record_stats {
	int64_t *stop_ns;
	size_t n, cap;
	uint64_t samples, lost_blocked, lost_timeout, lost_gone, late_ticks;
	int64_t total_stop_ns;
};

struct record {
	const struct options *o;
	struct session s;
	struct profile *prof;
	struct stacks st;
	struct snapshot snap;
	uint64_t *pcs;
	struct record_stats stats;
	uint64_t rng;
	int64_t start_ns, end_ns, wall_start_ns;
	int64_t last_status_ns;
	bool status_shown;
	bool tty;
};

static uint64_t record_rand(struct record *r)
{
	/* xorshift64: jitter only, no need for more. */
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static void record_note_stop(struct record *r, int64_t ns)
{
	struct record_stats *s = &r->stats;

	s->total_stop_ns += ns;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		int64_t *nv = realloc(s->stop_ns, ncap * sizeof(*nv));

		if (!nv)
			return;
		s->stop_ns = nv;
		s->cap = ncap;
	}
	s->stop_ns[s->n++] = ns;
}

/* Open the per-thread /proc files once; kept for cheap pread()s. */
static int record_open_thread_files(struct record *r, struct attach_thread *t)
{
	char path[80];

	if (t->sched_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)r->o->pid, (int)t->tid);
	t->sched_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)r->o->pid, (int)t->tid);
	t->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->sched_fd < 0 || t->stat_fd < 0)
		return -errno;
	return 0;
}

static bool record_wants_tid(const struct record *r, pid_t tid)
{
	if (r->o->ntids == 0)
		return true;
	for (size_t i = 0; i < r->o->ntids; i++)
		if (r->o->tids[i] == tid)
			return true;
	return false;
}

/* Did the thread use CPU since the last look, and is it on CPU now? */
static bool record_thread_running(struct record *r, struct attach_thread *t)
{
	char buf[512];
	uint64_t run_ns;
	char state;

	if (record_open_thread_files(r, t) != 0)
		return false;
	if (procfs_pread_fd(t->sched_fd, buf, sizeof(buf)) <= 0 ||
	    procfs_parse_schedstat(buf, &run_ns, NULL) != 0)
		return false;
	if (!t->cpu_seen) {
		t->cpu_seen = true;
		t->last_cpu_ns = run_ns;
		return false;
	}
	if (run_ns <= t->last_cpu_ns)
		return false;
	t->pending_cpu_ns += run_ns - t->last_cpu_ns;
	t->last_cpu_ns = run_ns;
	if (procfs_pread_fd(t->stat_fd, buf, sizeof(buf)) <= 0 ||
	    procfs_parse_stat(buf, &state, NULL) != 0)
		return false;
	return state == 'R';
}

/* A stop that found the thread in a waiting system call: it was not on CPU
 * after all.  It blocked between our look and our interrupt, or it had just
 * been woken and was still waiting for a CPU to return to user space (state
 * R covers both running and runnable).  Stops of a thread running user code
 * have orig_rax -1; a stop inside a system call has its number there. */
static bool record_caught_waiting(const struct snapshot *snap)
{
	long nr = (long)snap->regs.orig_rax;

	return nr >= 0 && syscalls_is_waiting(nr);
}

static void record_refresh_name(struct record *r, struct attach_thread *t, int64_t now)
{
	if (t->name[0] && now - t->name_time_ns < RECORD_NAME_REFRESH_NS)
		return;
	procfs_read_comm(r->o->pid, t->tid, t->name, sizeof(t->name));
	t->name_time_ns = now;
}

/* Stop, copy, resume: the only part of a sample the target waits for. */
static int record_capture(struct record *r, struct attach_thread *t)
{
	int64_t t0 = timeutil_mono_ns();
	int err = attach_stop_thread(&r->s.att, t, RECORD_STOP_TIMEOUT_MS);

	if (err)
		return err;
	err = snapshot_capture(&r->snap, r->o->pid, t->tid, &r->s.maps);
	if (!err)
		ptrace_restart_interrupted_call(t->tid, &r->snap.regs);
	attach_resume_thread(&r->s.att, t);
	r->snap.stop_ns = timeutil_mono_ns() - t0;
	record_note_stop(r, r->snap.stop_ns);
	return err;
}

static int record_sample_thread(struct record *r, struct attach_thread *t, int64_t now)
{
	struct unwind_result ur;
	struct profile_label_in labels[2];
	int64_t values[2];
	int err;

	err = record_capture(r, t);
	if (err) {
		if (err == -ETIMEDOUT)
			r->stats.lost_timeout++;
		else
			r->stats.lost_gone++;
		return 0;
	}
	if (record_caught_waiting(&r->snap)) {
		r->stats.lost_blocked++;
		return 0;
	}
	/* From here on the thread runs again; the rest reads the copy. */
	unwind_stack(r->s.unw, &r->snap, r->pcs, (size_t)r->o->max_depth, &ur);
	if (ur.end == UNWIND_END_UNMAPPED && session_refresh_maps(&r->s, false))
		unwind_stack(r->s.unw, &r->snap, r->pcs, (size_t)r->o->max_depth, &ur);
	record_refresh_name(r, t, now);
	values[0] = 1;
	values[1] = (int64_t)t->pending_cpu_ns;
	t->pending_cpu_ns = 0;
	labels[0] = (struct profile_label_in){ .key = "thread", .str = t->name };
	labels[1] = (struct profile_label_in){ .key = "tid", .num = t->tid };
	t->samples++;
	r->stats.samples++;
	return stacks_add(&r->st, r->pcs, ur.n, ur.end != UNWIND_END_OK, values, labels, 2);
}

static int record_tick(struct record *r, int64_t now)
{
	struct attach *a = &r->s.att;
	int err;

	/* Index loop: sampling may add threads (clone events) to the table. */
	for (size_t i = 0; i < a->n; i++) {
		struct attach_thread *t = a->threads[i];

		if (t->state != ATTACH_RUNNING || !record_wants_tid(r, t->tid))
			continue;
		if (!record_thread_running(r, t))
			continue;
		err = record_sample_thread(r, t, now);
		if (err)
			return err;
	}
	attach_compact(a);
	if (a->exec_seen)
		session_refresh_maps(&r->s, true);
	return 0;
}

static void record_status(struct record *r, int64_t now, bool final)
{
	size_t live = 0;

	if (!r->tty || r->o->quiet)
		return;
	if (!final && now - r->last_status_ns < RECORD_STATUS_INTERVAL_NS)
		return;
	r->last_status_ns = now;
	for (size_t i = 0; i < r->s.att.n; i++)
		live += r->s.att.threads[i]->state != ATTACH_GONE;
	if (final) {
		if (r->status_shown)
			fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\r\033[Kpprobe: %.1f/%.0fs  %" PRIu64 " samples  %zu threads",
		(double)(now - r->start_ns) / 1e9, r->o->seconds, r->stats.samples, live);
	r->status_shown = true;
}

/* The sampling window: ticks at absolute deadlines with random jitter of
 * up to +-25% of the period, so periodic work does not alias with us. */
static int record_loop(struct record *r)
{
	int64_t period = 1000000000LL / r->o->hz;
	int64_t next = r->start_ns + period;
	struct attach *a = &r->s.att;
	int err;

	for (;;) {
		int64_t now = timeutil_mono_ns();

		if (a->stop_signal || a->target_exited || now >= r->end_ns)
			break;
		if (now < next) {
			int64_t until = next < r->end_ns ? next : r->end_ns;

			attach_poll(a, until - now);
			continue;
		}
		err = record_tick(r, now);
		if (err)
			return err;
		record_status(r, now, false);
		next += period + (int64_t)(record_rand(r) % (uint64_t)(period / 2 + 1)) - period / 4;
		if (next < now) {
			/* Fell behind (a slow tick): skip, do not burst. */
			r->stats.late_ticks++;
			next = now + period;
		}
	}
	record_status(r, timeutil_mono_ns(), true);
	return 0;
}

static char *record_default_output(const struct record *r)
{
	char stamp[32], *path = NULL, comm[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(comm, sizeof(comm), "%s", r->s.pf.comm[0] ? r->s.pf.comm : "unknown");
	for (char *c = comm; *c; c++)
		if (*c == '/' || *c == ' ')
			*c = '_';
	if (asprintf(&path, "pprobe.%s.%d.%s.cpu.pb.gz", comm, (int)r->o->pid, stamp) < 0)
		return NULL;
	return path;
}

static int record_setup_profile(struct record *r)
{
	int err;
	char period_comment[64];

	r->prof = profile_new();
	if (!r->prof)
		return -ENOMEM;
	err = profile_add_sample_type(r->prof, "samples", "count");
	if (!err)
		err = profile_add_sample_type(r->prof, "cpu", "nanoseconds");
	if (!err)
		err = profile_set_period(r->prof, "cpu", "nanoseconds", 1000000000LL / r->o->hz);
	if (!err)
		err = profile_set_default_sample_type(r->prof, "cpu");
	snprintf(period_comment, sizeof(period_comment), "pprobe %s", PPROBE_VERSION);
	if (!err)
		err = profile_add_comment(r->prof, period_comment);
	if (!err && r->o->argv_line)
		err = profile_add_comment(r->prof, r->o->argv_line);
	return err;
}

static int record_write(struct record *r, struct outfile *of)
{
	int err;

	profile_set_time(r->prof, r->wall_start_ns, timeutil_mono_ns() - r->start_ns);
	err = pprof_write_fd(r->prof, of->fd);
	if (err)
		return err;
	return outfile_commit(of);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void record_report(struct record *r, const char *path)
{
	const struct record_stats *s = &r->stats;
	char med[32], p99[32], tot[32];

	fprintf(stderr, "Saved profile in %s\n", path);
	if (s->n && r->o->verbose) {
		qsort(s->stop_ns, s->n, sizeof(*s->stop_ns), cmp_i64);
		timeutil_format_duration(s->stop_ns[s->n / 2], med, sizeof(med));
		timeutil_format_duration(s->stop_ns[(s->n * 99) / 100], p99, sizeof(p99));
		timeutil_format_duration(s->total_stop_ns, tot, sizeof(tot));
		fprintf(stderr,
			"pprobe: stopped threads %zu times: median %s, p99 %s, total %s; "
			"%" PRIu64 " samples, %" PRIu64 " lost (blocked %" PRIu64 ", not stopping %" PRIu64
			", exited %" PRIu64 "), %" PRIu64 " late ticks\n",
			s->n, med, p99, tot, s->samples,
			s->lost_blocked + s->lost_timeout + s->lost_gone, s->lost_blocked,
			s->lost_timeout, s->lost_gone, s->late_ticks);
	}
	if (r->st.samples_truncated || r->st.frames_unsymbolized)
		fprintf(stderr, "pprobe: %" PRIu64 " stacks truncated, %" PRIu64
			" addresses without symbols\n", r->st.samples_truncated,
			r->st.frames_unsymbolized);
	if (!r->o->quiet && profile_sample_count(r->prof) > 0)
		fmt_text_top(r->prof, 1, 10, stderr);
}

int cmd_record_run(const struct options *o)
{
	struct record r;
	struct outfile of = { .fd = -1 };
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
	path = o->output;
	if (!path) {
		default_path = record_default_output(&r);
		path = default_path;
	}
	err = path ? outfile_open(&of, path) : -ENOMEM;
	if (err) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", path ? path : "output", error_str(err));
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	r.pcs = calloc((size_t)o->max_depth, sizeof(*r.pcs));
	err = r.pcs ? snapshot_init(&r.snap, o->stack_bytes) : -ENOMEM;
	if (!err)
		err = record_setup_profile(&r);
	if (err) {
		snprintf(msg, sizeof(msg), "%s", error_str(err));
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	code = session_attach(&r.s, msg, sizeof(msg));
	if (code)
		goto out_msg;
	stacks_init(&r.st, r.prof, &r.s.maps, r.s.sym);
	r.start_ns = timeutil_mono_ns();
	r.wall_start_ns = timeutil_wall_ns();
	r.end_ns = r.start_ns + (int64_t)llround(o->seconds * 1e9);
	/* Take a first look at every thread's CPU time now, so the first tick
	 * measures CPU used during the window only. */
	for (size_t i = 0; i < r.s.att.n; i++)
		record_thread_running(&r, r.s.att.threads[i]);
	err = record_loop(&r);
	session_release(&r.s);
	if (r.s.att.target_exited && !o->quiet)
		fprintf(stderr, "pprobe: process %d exited after %.1fs; writing what was collected\n",
			(int)o->pid, (double)(timeutil_mono_ns() - r.start_ns) / 1e9);
	if (r.s.att.stuck_threads)
		fprintf(stderr, "pprobe: %u threads could not be stopped to detach (uninterruptible sleep); "
			"the kernel detaches them as pprobe exits\n", r.s.att.stuck_threads);
	if (!err)
		err = record_write(&r, &of);
	if (err) {
		snprintf(msg, sizeof(msg), "cannot write profile %s: %s", path, error_str(err));
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	record_report(&r, path);
	goto out;
out_msg:
	fprintf(stderr, "pprobe: %s\n", msg);
out:
	outfile_abort(&of);
	stacks_fini(&r.st);
	session_close(&r.s);
	snapshot_fini(&r.snap);
	profile_free(r.prof);
	free(r.pcs);
	free(r.stats.stop_ns);
	free(default_path);
	return code;
}
