/* sampler.c - per-tick sampling in CPU and wall mode (see sampler.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pprobe/attach.h"
#include "pprobe/locks.h"
#include "pprobe/options.h"
#include "pprobe/procfs.h"
#include "pprobe/profile.h"
#include "pprobe/ptrace.h"
#include "pprobe/sampler.h"
#include "pprobe/session.h"
#include "pprobe/stacks.h"
#include "pprobe/syscalls.h"
#include "pprobe/threadstate.h"
#include "pprobe/timeutil.h"
#include "pprobe/unwind.h"

/* How long to wait for an interrupted thread to stop before giving up on
 * this sample (a thread in uninterruptible sleep does not stop). */
#define SAMPLER_STOP_TIMEOUT_MS 100
#define SAMPLER_MAX_KFRAMES 32
#define SAMPLER_MAX_SKIP 7
/* Descriptors left for everything but the kept per-thread files. */
#define SAMPLER_FD_MARGIN 256
#define SYS_FUTEX_NR 202
/* CPU mode: a thread stays hot (looked at every tick) until this many
 * looks in a row found it had not run. */
#define SAMPLER_HOT_IDLE 4
/* CPU mode: looks at cold threads per tick, at least, and the share of the
 * period (1/SAMPLER_COLD_SHARE) they may take beyond the least. */
#define SAMPLER_COLD_MIN 16
#define SAMPLER_COLD_SHARE 4
/* CPU mode: every cold thread is looked at within this many ticks. */
#define SAMPLER_COLD_ROUNDS 64
/* Wall mode: the first capture of every thread, before the window, may take
 * this long; stops and signals are answered this often meanwhile. */
#define SAMPLER_PRIME_NS 30000000000LL
#define SAMPLER_PRIME_POLL_NS 5000000LL

/* What wall mode remembers of a thread between ticks (attach_thread.user). */
struct sampler_thread {
	uint64_t *pcs;
	size_t n;
	bool truncated;
	bool valid;
	char state[16];
	char syscall[24];
	char wait[64];
	char *kframes[SAMPLER_MAX_KFRAMES];
	size_t nk;
	unsigned idle;    /* looks in a row that found it had not run */
	unsigned skip;    /* ticks left before its CPU time is read again */
	uint64_t owed;    /* ticks its next sample stands for */
	size_t sample;    /* profile sample of the last capture, when sample_ok */
	bool sample_ok;
	bool blocked;     /* captured asleep in a system call ... */
	long nr;          /* ... this one, */
	uint64_t sp, pc;  /* ... at this stack pointer and pc */
	bool hot;         /* CPU mode: ran at a recent look, looked at every tick */
	uint64_t looked;  /* CPU mode: the tick of its last look */
};

static void sampler_thread_clear_kframes(struct sampler_thread *st)
{
	for (size_t i = 0; i < st->nk; i++)
		free(st->kframes[i]);
	st->nk = 0;
}

static void sampler_thread_free(void *p)
{
	struct sampler_thread *st = p;

	if (!st)
		return;
	sampler_thread_clear_kframes(st);
	free(st->pcs);
	free(st);
}

int sampler_init(struct sampler *sp, const struct options *o, struct session *s,
		 struct stacks *st)
{
	struct rlimit rl;

	memset(sp, 0, sizeof(*sp));
	sp->o = o;
	sp->s = s;
	sp->st = st;
	sp->period_ns = 1000000000LL / o->hz;
	sp->span = 1;
	sp->fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (size_t)rl.rlim_cur : 1024;
	s->att.user_free = sampler_thread_free;
	sp->pcs = calloc((size_t)o->max_depth, sizeof(*sp->pcs));
	if (!sp->pcs)
		return -ENOMEM;
	return snapshot_init(&sp->snap, o->stack_bytes);
}

void sampler_fini(struct sampler *sp)
{
	snapshot_fini(&sp->snap);
	free(sp->pcs);
	free(sp->stats.stop_ns);
	sp->pcs = NULL;
	sp->stats.stop_ns = NULL;
}

int sampler_setup_profile(struct profile *p, const struct options *o)
{
	const char *type = o->wall ? "wall" : "cpu";
	int err;

	err = profile_add_sample_type(p, "samples", "count");
	if (!err)
		err = profile_add_sample_type(p, type, "nanoseconds");
	if (!err)
		err = profile_set_period(p, type, "nanoseconds", 1000000000LL / o->hz);
	if (!err)
		err = profile_set_default_sample_type(p, type);
	return err;
}

static void sampler_note_stop(struct sampler *sp, int64_t ns)
{
	struct sampler_stats *s = &sp->stats;

	s->total_stop_ns += ns;
	if (ns > s->max_stop_ns)
		s->max_stop_ns = ns;
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

/* Open the thread's schedstat once, kept for a cheap pread() every look. */
static int sampler_open_sched(struct sampler *sp, struct attach_thread *t)
{
	char path[80];

	if (t->sched_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)sp->o->pid, (int)t->tid);
	t->sched_fd = open(path, O_RDONLY | O_CLOEXEC);
	return t->sched_fd < 0 ? -errno : 0;
}

/* Read /proc/PID/task/TID/NAME into buf; length or -errno. */
static ssize_t sampler_read_task_file(struct sampler *sp, struct attach_thread *t,
				      const char *name, char *buf, size_t len)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)sp->o->pid, (int)t->tid, name);
	return procfs_read_file(path, buf, len);
}

/* Read the thread's on-CPU time; returns true if it ran since the last look
 * (always true at the first look of wall mode, false in CPU mode, which
 * only takes its baseline then). */
static bool sampler_look_cpu(struct sampler *sp, struct attach_thread *t)
{
	char buf[256];
	uint64_t run_ns;

	if (sampler_open_sched(sp, t) != 0 || procfs_pread_fd(t->sched_fd, buf, sizeof(buf)) <= 0 ||
	    procfs_parse_schedstat(buf, &run_ns, NULL) != 0)
		return false;
	if (!t->cpu_seen) {
		t->cpu_seen = true;
		t->last_cpu_ns = run_ns;
		return sp->o->wall;
	}
	if (run_ns == t->last_cpu_ns)
		return false;
	t->pending_cpu_ns += run_ns - t->last_cpu_ns;
	t->last_cpu_ns = run_ns;
	return true;
}

/* The thread's stat, read only for threads that ran (and in wall mode):
 * through a descriptor kept open while descriptors are plentiful (two per
 * thread and a margin within RLIMIT_NOFILE, so that a process with 10,000
 * threads stays within the limit), else opened for the read. */
static ssize_t sampler_read_stat(struct sampler *sp, struct attach_thread *t, char *buf,
				 size_t len)
{
	if (t->stat_fd < 0 && sp->s->att.n * 2 + SAMPLER_FD_MARGIN <= sp->fd_limit) {
		char path[80];

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)sp->o->pid, (int)t->tid);
		t->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return t->stat_fd >= 0 ? procfs_pread_fd(t->stat_fd, buf, len)
			       : sampler_read_task_file(sp, t, "stat", buf, len);
}

static char sampler_state_letter(struct sampler *sp, struct attach_thread *t)
{
	char buf[512], state = '?';

	if (sampler_read_stat(sp, t, buf, sizeof(buf)) <= 0 ||
	    procfs_parse_stat(buf, &state, NULL) != 0)
		return '?';
	return state;
}

/* The thread's name, read after its stack was copied: a thread pool names
 * its threads as they start, so a name from before the copy (or cached)
 * could be the creator's while the stack is already the new thread's.
 * stat's comm field, so a kept descriptor serves. */
static void sampler_refresh_name(struct sampler *sp, struct attach_thread *t, int64_t now)
{
	char buf[512];

	if (sampler_read_stat(sp, t, buf, sizeof(buf)) > 0 &&
	    procfs_parse_stat_comm(buf, t->name, sizeof(t->name)) == 0)
		t->name_time_ns = now;
}

static bool sampler_wants_tid(const struct sampler *sp, pid_t tid)
{
	if (sp->o->ntids == 0)
		return true;
	for (size_t i = 0; i < sp->o->ntids; i++)
		if (sp->o->tids[i] == tid)
			return true;
	return false;
}

/* Stop, copy, resume: the only part of a sample the target waits for. */
static int sampler_capture_stopped(struct sampler *sp, struct attach_thread *t)
{
	int64_t t0 = timeutil_mono_ns();
	int err = attach_stop_thread(&sp->s->att, t, SAMPLER_STOP_TIMEOUT_MS);

	if (err)
		return err;
	/* A call our stop broke was set to restart when the stop was seen
	 * (attach.c). */
	err = snapshot_capture(&sp->snap, t->tid, &sp->s->maps);
	attach_resume_thread(&sp->s->att, t);
	sp->snap.stop_ns = timeutil_mono_ns() - t0;
	sampler_note_stop(sp, sp->snap.stop_ns);
	return err;
}

/* A stop inside a system call that the kernel will restart (-ERESTARTSYS ..
 * -ERESTART_RESTARTBLOCK in rax) found the thread blocked in it. */
static bool sampler_stop_was_blocked(const struct user_regs_struct *r)
{
	long long rax = (long long)r->rax;

	return (long long)r->orig_rax >= 0 && rax <= -512 && rax >= -516;
}

static void sampler_unwind(struct sampler *sp, struct unwind_result *ur)
{
	/* An exec reported during this tick: the old program's maps are of no
	 * use for this stack. */
	if (sp->s->att.exec_seen)
		session_refresh_maps(sp->s, true);
	unwind_stack(sp->s->unw, &sp->snap, sp->pcs, (size_t)sp->o->max_depth, ur);
	if (ur->end == UNWIND_END_UNMAPPED && session_refresh_maps(sp->s, false))
		unwind_stack(sp->s->unw, &sp->snap, sp->pcs, (size_t)sp->o->max_depth, ur);
}

/* CPU mode: after a look at t, is it hot (it ran) or cold (idle for
 * SAMPLER_HOT_IDLE looks)?  Only threads that ran get state. */
static void sampler_cpu_note(struct sampler *sp, struct attach_thread *t, bool first, bool ran)
{
	struct sampler_thread *st = t->user;

	if ((ran || first) && !st)
		st = t->user = calloc(1, sizeof(*st)); /* without: it stays cold */
	if (!st)
		return;
	st->looked = sp->ticks;
	if (ran) {
		st->hot = true;
		st->idle = 0;
	} else if (first) {
		/* A new thread: its first look only took its CPU time; the
		 * next tick tells whether it runs (one idle look and it is
		 * cold). */
		st->hot = true;
		st->idle = SAMPLER_HOT_IDLE - 1;
	} else if (st->hot && ++st->idle >= SAMPLER_HOT_IDLE) {
		st->hot = false;
	}
}

static bool sampler_cpu_is_hot(const struct attach_thread *t)
{
	const struct sampler_thread *st = t->user;

	return !t->cpu_seen || (st && st->hot);
}

/* CPU mode: sample t if it is on CPU now. */
static int sampler_cpu_thread(struct sampler *sp, struct attach_thread *t, int64_t now)
{
	struct unwind_result ur;
	struct profile_label_in labels[2];
	int64_t values[2];
	int err;

	bool ran, first = !t->cpu_seen;

	if (t->state != ATTACH_RUNNING)
		return 0;
	ran = sampler_look_cpu(sp, t);
	sampler_cpu_note(sp, t, first, ran);
	if (!ran || sampler_state_letter(sp, t) != 'R')
		return 0;
	if (sp->over_budget) {
		/* Out of time this tick; its CPU time goes to its next sample. */
		sp->stats.lost_late++;
		return 0;
	}
	err = sampler_capture_stopped(sp, t);
	if (err) {
		if (err == -ETIMEDOUT)
			sp->stats.lost_timeout++;
		else
			sp->stats.lost_gone++;
		return 0;
	}
	/* Found asleep in a waiting call after all: it blocked between our
	 * look and our interrupt, or was woken and still waited for a CPU
	 * (state R covers runnable).  Its CPU time goes to the next sample:
	 * dropping it instead (so that it does not pile onto the system call
	 * the next stop lands at) lost 80% of a duty-cycled thread's CPU
	 * under load (test_record_threads.py); perf events avoid both. */
	if (((long long)sp->snap.regs.orig_rax >= 0 &&
	     syscalls_is_waiting((long)sp->snap.regs.orig_rax)) || t->in_group_stop) {
		sp->stats.lost_blocked++;
		return 0;
	}
	/* From here on the thread runs again; the rest reads the copy. */
	sampler_unwind(sp, &ur);
	sampler_refresh_name(sp, t, now);
	values[0] = 1;
	values[1] = (int64_t)t->pending_cpu_ns;
	t->pending_cpu_ns = 0;
	labels[0] = (struct profile_label_in){ .key = "thread", .str = t->name };
	labels[1] = (struct profile_label_in){ .key = "tid", .num = t->tid };
	t->samples++;
	sp->stats.samples++;
	return stacks_add(sp->st, NULL, 0, sp->pcs, ur.n, ur.end != UNWIND_END_OK, values, labels, 2,
			  NULL);
}

/* Names of the innermost frames of the stack just unwound, through the
 * stacks cache (each pc is symbolized once). */
static size_t sampler_frame_names(struct sampler *sp, size_t n, const char **names, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		const struct profile_location *loc;
		uint64_t id;

		if (stacks_location(sp->st, sp->pcs[i], &id) != 0 ||
		    !(loc = profile_location_by_id(sp->st->prof, id)))
			continue;
		for (size_t j = 0; j < loc->nlines && k < max; j++) {
			const struct profile_function *f =
				profile_function_by_id(sp->st->prof, loc->lines[j].function_id);

			if (f)
				names[k++] = f->name;
		}
	}
	return k;
}

/* The wait label of a thread blocked in futex: "mutex 0x...", ... */
static void sampler_wait_label(struct sampler *sp, size_t n, char *buf, size_t len)
{
	const struct user_regs_struct *r = &sp->snap.regs;
	struct locks_futex f = { 0 };
	struct dump_wait w;
	const char *names[16];
	size_t k;

	buf[0] = '\0';
	if ((long long)r->orig_rax != SYS_FUTEX_NR)
		return;
	f.uaddr = r->rdi;
	f.op = (int)r->rsi;
	f.val = (uint32_t)r->rdx;
	f.window_ok = snapshot_read_word_window(sp->snap.tid, r->rdi - LOCKS_WINDOW_BEFORE, f.window,
						LOCKS_WINDOW_SIZE) == 0;
	k = sampler_frame_names(sp, n, names, 16);
	locks_identify(&f, names, k, &w);
	snprintf(buf, len, "%s 0x%" PRIx64, dump_lock_kind_str(w.kind), w.addr);
}

/* "[<0>] futex_wait_queue+0x60/0x90" lines to function names. */
static void sampler_kernel_frames(struct sampler *sp, struct attach_thread *t,
				  struct sampler_thread *st)
{
	char *text = threadstate_kernel_stack(sp->o->pid, t->tid);
	char *line, *save = NULL;

	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line && st->nk < SAMPLER_MAX_KFRAMES;
	     line = strtok_r(NULL, "\n", &save)) {
		char *name = strchr(line, ']');
		char *plus;

		if (!name)
			continue;
		name++;
		while (*name == ' ')
			name++;
		plus = strchr(name, '+');
		if (plus)
			*plus = '\0';
		if (!*name)
			continue;
		if (asprintf(&st->kframes[st->nk], "%s [kernel]", name) >= 0)
			st->nk++;
	}
	free(text);
}

static int sampler_read_syscall(struct sampler *sp, struct attach_thread *t,
				struct threadstate *ts)
{
	char buf[512];

	memset(ts, 0, sizeof(*ts));
	ts->syscall_nr = -1;
	if (sampler_read_task_file(sp, t, "syscall", buf, sizeof(buf)) <= 0)
		return -ENOENT;
	return threadstate_parse_syscall(buf, ts);
}

/* Wall mode: capture t's stack anew (it ran since its last sample). */
static int sampler_wall_capture(struct sampler *sp, struct attach_thread *t,
				struct sampler_thread *st)
{
	struct threadstate ts = { 0 }, again = { 0 };
	struct unwind_result ur;
	char letter = sampler_state_letter(sp, t);
	bool must_passive = false, captured = false;
	int err = 0;
	uint64_t *nv;

	if ((letter == 'D' || letter == 'S') && sampler_read_syscall(sp, t, &ts) == 0 &&
	    ts.blocked_known)
		must_passive = letter == 'D' ||
			       (ts.syscall_nr >= 0 &&
				syscalls_eintr_on_stop(ts.syscall_nr,
						       ts.args[0] < 65536 &&
						       threadstate_fd_is_socket(t->tid, (int)ts.args[0])));
	/* The kernel stack is read before any stop of ours shows on it. */
	sampler_thread_clear_kframes(st);
	if (sp->o->kernel && letter != 'R')
		sampler_kernel_frames(sp, t, st);
	/* A thread asleep in a call is first taken as the kernel saved it,
	 * without a stop; kept if its stack unwinds to the end and it was
	 * still asleep at the same place after the copy.  Only if not is it
	 * stopped (when a stop is safe for it). */
	if (ts.blocked_known && ts.syscall_nr >= 0 &&
	    snapshot_capture_blocked(&sp->snap, t->tid, &sp->s->maps, ts.syscall_nr,
				     ts.args, ts.sp, ts.pc) == 0) {
		sampler_unwind(sp, &ur);
		captured = must_passive ||
			   (ur.end == UNWIND_END_OK && sampler_read_syscall(sp, t, &again) == 0 &&
			    again.blocked_known && again.syscall_nr == ts.syscall_nr &&
			    again.sp == ts.sp && again.pc == ts.pc);
		if (captured)
			sp->stats.passive++;
	}
	if (!captured && must_passive)
		return -ESRCH; /* it vanished between the reads */
	if (!captured) {
		err = sampler_capture_stopped(sp, t);
		if (err)
			return err;
		if (letter == 'R' && sampler_stop_was_blocked(&sp->snap.regs))
			letter = 'S';
		sampler_unwind(sp, &ur);
	}
	if (t->in_group_stop)
		letter = 'T';
	nv = realloc(st->pcs, (ur.n ? ur.n : 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	st->pcs = nv;
	memcpy(st->pcs, sp->pcs, ur.n * sizeof(*nv));
	st->n = ur.n;
	st->truncated = ur.end != UNWIND_END_OK;
	snprintf(st->state, sizeof(st->state), "%s", threadstate_label(letter));
	st->syscall[0] = st->wait[0] = '\0';
	if (letter != 'R' && (long long)sp->snap.regs.orig_rax >= 0) {
		long nr = (long)sp->snap.regs.orig_rax;
		unsigned char code[7];
		const char *name;

		if (nr == 219 && maps_read_code(&sp->s->maps, sp->snap.regs.rip - 7, code, 7) == 0)
			nr = syscalls_resolve_restart(nr, code);
		name = syscalls_name(nr);

		if (name)
			snprintf(st->syscall, sizeof(st->syscall), "%s", name);
		else
			snprintf(st->syscall, sizeof(st->syscall), "syscall_%ld", nr);
		sampler_wait_label(sp, ur.n, st->wait, sizeof(st->wait));
	}
	st->blocked = letter != 'R' && (long long)sp->snap.regs.orig_rax >= 0;
	st->nr = (long)(long long)sp->snap.regs.orig_rax;
	st->sp = sp->snap.regs.rsp;
	st->pc = sp->snap.regs.rip;
	st->valid = true;
	return 0;
}

/* A thread captured asleep in a call used some CPU since: is it asleep in
 * the same call at the same place?  Then its user stack is the same (the
 * CPU time may even be ours: a stop wakes a sleeping thread briefly).  The
 * kernel tells without a stop. */
static bool sampler_still_blocked(struct sampler *sp, struct attach_thread *t,
				  const struct sampler_thread *st)
{
	struct threadstate ts;

	if (sampler_read_syscall(sp, t, &ts) != 0)
		return false;
	return ts.blocked_known && ts.syscall_nr == st->nr && ts.sp == st->sp && ts.pc == st->pc;
}

/* Wall mode: one sample of t, reusing its last stack if it has not run. */
static int sampler_wall_thread(struct sampler *sp, struct attach_thread *t, int64_t now)
{
	struct sampler_thread *st = t->user;
	struct profile_label_in labels[5];
	size_t nl = 0;
	int64_t values[2];
	bool ran;
	int err;

	if (!st) {
		st = t->user = calloc(1, sizeof(*st));
		if (!st)
			return -ENOMEM;
	}
	/* A thread long asleep is looked at less often: after n looks in a
	 * row that found it idle, the next n ticks reuse its stack without a
	 * look (at most SAMPLER_MAX_SKIP).  A thousand sleeping threads then
	 * cost a few hundred reads a second instead of a hundred thousand; a
	 * thread that wakes is seen within that many ticks. */
	/* The ticks this thread's next sample stands for: this one, the
	 * ones due before it that pprobe was too late to take (sp->span),
	 * and the ones lost for it (below), so its wall time adds up to the
	 * window, as perf weights a sample by the period it closes. */
	st->owed += sp->span;
	if (st->valid && st->skip > 0) {
		st->skip--;
		ran = false;
	} else {
		ran = sampler_look_cpu(sp, t);
		if (ran && st->valid && st->blocked && sampler_still_blocked(sp, t, st))
			ran = false;
		st->idle = ran ? 0 : st->idle + 1;
		st->skip = st->idle < SAMPLER_MAX_SKIP ? st->idle : SAMPLER_MAX_SKIP;
	}
	if ((ran || !st->valid) && sp->over_budget) {
		/* This tick is out of time: no new captures, or the ticks fall
		 * behind for every thread.  The thread ran since its stack was
		 * taken, so that stack is no sample of this tick: the tick is
		 * lost for it, and counted (the summary says how many).  It
		 * is among the first of the next tick. */
		sp->stats.lost_late++;
		return 0;
	}
	if (ran || !st->valid) {
		err = sampler_wall_capture(sp, t, st);
		if (err) {
			if (err == -ETIMEDOUT)
				sp->stats.lost_timeout++;
			else
				sp->stats.lost_gone++;
			return err == -ENOMEM ? err : 0;
		}
		sampler_refresh_name(sp, t, now);
		st->sample_ok = false;
	} else {
		sp->stats.reused++;
	}
	values[0] = 1;
	values[1] = sp->period_ns * (int64_t)st->owed;
	st->owed = 0;
	labels[nl++] = (struct profile_label_in){ .key = "thread", .str = t->name };
	labels[nl++] = (struct profile_label_in){ .key = "tid", .num = t->tid };
	labels[nl++] = (struct profile_label_in){ .key = "state", .str = st->state };
	if (st->syscall[0])
		labels[nl++] = (struct profile_label_in){ .key = "syscall", .str = st->syscall };
	if (st->wait[0])
		labels[nl++] = (struct profile_label_in){ .key = "wait", .str = st->wait };
	t->samples++;
	sp->stats.samples++;
	/* Same stack, same labels: add to the sample directly, no lookups. */
	if (st->sample_ok)
		return profile_add_sample_at(sp->st->prof, st->sample, values);
	err = stacks_add(sp->st, (const char *const *)st->kframes, st->nk, st->pcs, st->n,
			 st->truncated, values, labels, nl, &st->sample);
	st->sample_ok = err == 0;
	return err;
}

/* One thread's turn in a tick.  A tick may spend one period stopping
 * threads; past that, the threads still to come are sampled without a
 * stop or not at all this tick, and the next tick starts with them. */
static int sampler_visit(struct sampler *sp, struct attach_thread *t, size_t i, int64_t now)
{
	if (!sp->over_budget && timeutil_mono_ns() - now > sp->period_ns) {
		sp->over_budget = true;
		sp->first = i;
	}
	return sp->o->wall ? sampler_wall_thread(sp, t, now) : sampler_cpu_thread(sp, t, now);
}

static bool sampler_skips(const struct sampler *sp, const struct attach_thread *t)
{
	return t->state == ATTACH_GONE || !sampler_wants_tid(sp, t->tid);
}

/* Thread i of the table, read afresh at each use: a visit may add threads
 * (clone events read while a stop is awaited), and the array then moves
 * (attach_add's realloc); a copy of its address crashed safety_churn. */
static struct attach_thread *sampler_at(const struct sampler *sp, size_t i)
{
	return sp->s->att.threads[i];
}

/* CPU mode: the hot threads (and new ones) every tick -- every thread at
 * the first tick, which finds the ones that ran since sampler_prime --;
 * then cold threads in turn, from where the last tick left off: one in
 * SAMPLER_COLD_ROUNDS of them (SAMPLER_COLD_MIN at least), and more while
 * the tick has used less than 1/SAMPLER_COLD_SHARE of the period.  So a
 * tick costs a read per running thread plus a slice of the sleepers, not a
 * read per thread: with 10,000 sleeping threads the ticks keep their
 * rate.  A sleeper that starts to run is found within SAMPLER_COLD_ROUNDS
 * ticks (fewer when reads are quick); its CPU time since its last look
 * still goes to its first sample, as schedstat is cumulative. */
static int sampler_cpu_pass(struct sampler *sp, int64_t now, size_t n, size_t start)
{
	size_t looked = 0, k, i = 0, first_hot = n, first_late;
	size_t min_looks = n / SAMPLER_COLD_ROUNDS > SAMPLER_COLD_MIN ? n / SAMPLER_COLD_ROUNDS
								     : SAMPLER_COLD_MIN;
	bool late;
	int err;

	for (k = 0; k < n; k++) {
		struct attach_thread *t;

		i = (start + k) % n;
		t = sampler_at(sp, i);
		if (sampler_skips(sp, t) || (sp->ticks > 1 && !sampler_cpu_is_hot(t)))
			continue;
		if (first_hot == n)
			first_hot = i;
		err = sampler_visit(sp, t, i, now);
		if (err)
			return err;
	}
	/* The next tick starts with the hot thread this one ran out of time
	 * for, else with the one after this tick's first: each hot thread
	 * takes its turn at the head, should one stop take a whole period (a
	 * loaded machine), rather than the same one always going first. */
	late = sp->over_budget;
	first_late = sp->first;
	for (k = 0; k < n; k++) {
		struct attach_thread *t;
		const struct sampler_thread *st;

		i = (sp->cold_next + k) % n;
		t = sampler_at(sp, i);
		st = t->user;
		if (sampler_skips(sp, t) || sampler_cpu_is_hot(t) ||
		    (st && st->looked == sp->ticks))
			continue;
		if (looked >= min_looks && (looked % 8 == 0) &&
		    (timeutil_mono_ns() - now) * SAMPLER_COLD_SHARE > sp->period_ns)
			break;
		err = sampler_visit(sp, t, i, now);
		if (err)
			return err;
		looked++;
		i = (i + 1) % n; /* past the end: the next tick starts after it */
	}
	sp->cold_next = n ? i : 0;
	sp->first = late ? first_late : first_hot < n ? (first_hot + 1) % n : 0;
	return 0;
}

/* Wall mode: every thread's first capture, before the window.  In the
 * window a tick may spend one period on captures, so a process with 10,000
 * threads had a third of them sampled at all in a 2 s window under load
 * (each first capture reads /proc, the stack and the lock word); here they
 * cost the window nothing, and its ticks only check that each thread has
 * not run since (its CPU time) and reuse the stack.  Stops and signals are
 * answered between captures (attach_poll every SAMPLER_PRIME_POLL_NS), and
 * the pass ends at SAMPLER_PRIME_NS, on a stop signal or the target's exit:
 * threads not reached are captured by the ticks, as before. */
static void sampler_prime_wall(struct sampler *sp)
{
	struct attach *a = &sp->s->att;
	int64_t start = timeutil_mono_ns(), polled = start;
	size_t n = a->n;

	for (size_t i = 0; i < n; i++) {
		struct attach_thread *t = a->threads[i];
		struct sampler_thread *st = t->user;
		int64_t now = timeutil_mono_ns();

		if (now - polled > SAMPLER_PRIME_POLL_NS) {
			attach_poll(a, 0);
			polled = now;
		}
		if (a->stop_signal || a->target_exited || now - start > SAMPLER_PRIME_NS)
			break;
		if (sampler_skips(sp, t))
			continue;
		if (!st && !(st = t->user = calloc(1, sizeof(*st))))
			break;
		/* The CPU time first: a thread that runs after it is captured
		 * again at the first tick. */
		sampler_look_cpu(sp, t);
		if (sampler_wall_capture(sp, t, st) == 0) {
			sampler_refresh_name(sp, t, now);
			sp->stats.primed++;
		}
	}
	attach_poll(a, 0);
	sp->stats.prime_ns = timeutil_mono_ns() - start;
}

void sampler_prime(struct sampler *sp)
{
	struct attach *a = &sp->s->att;

	if (sp->o->wall) {
		sampler_prime_wall(sp);
		return;
	}
	for (size_t i = 0; i < a->n; i++)
		sampler_look_cpu(sp, a->threads[i]);
}

int sampler_tick(struct sampler *sp, int64_t now)
{
	struct attach *a = &sp->s->att;
	int err = 0;
	size_t n = a->n, start = sp->first < n ? sp->first : 0;

	session_poll_maps(sp->s, now);
	/* Index loops over the threads known at the start: sampling may add
	 * threads (clone events) to the table; they come next tick. */
	sp->over_budget = false;
	sp->ticks++;
	if (!sp->o->wall) {
		err = sampler_cpu_pass(sp, now, n, start);
	} else {
		for (size_t k = 0; k < n && !err; k++) {
			size_t i = (start + k) % n;

			if (!sampler_skips(sp, a->threads[i]))
				err = sampler_visit(sp, a->threads[i], i, now);
		}
	}
	if (err)
		return err;
	if (sp->o->wall && !sp->over_budget)
		sp->first = 0;
	attach_compact(a);
	if (a->exec_seen)
		session_refresh_maps(sp->s, true);
	return 0;
}

static int sampler_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void sampler_format_stats(struct sampler *sp, char *buf, size_t len)
{
	struct sampler_stats *s = &sp->stats;
	char med[32] = "-", p99[32] = "-", tot[32], prime[32];

	if (s->n) {
		qsort(s->stop_ns, s->n, sizeof(*s->stop_ns), sampler_cmp_i64);
		timeutil_format_duration(s->stop_ns[s->n / 2], med, sizeof(med));
		timeutil_format_duration(s->stop_ns[(s->n * 99) / 100], p99, sizeof(p99));
	}
	timeutil_format_duration(s->total_stop_ns, tot, sizeof(tot));
	timeutil_format_duration(s->prime_ns, prime, sizeof(prime));
	snprintf(buf, len,
		 "stopped threads %zu times: median %s, p99 %s, total %s; %" PRIu64 " samples (%" PRIu64
		 " reused, %" PRIu64 " captured without stopping), %" PRIu64 " lost (blocked %" PRIu64
		 ", not stopping %" PRIu64 ", exited %" PRIu64 ", tick out of time %" PRIu64
		 "); %" PRIu64 " ticks%s%" PRIu64 "%s%s",
		 s->n, med, p99, tot, s->samples, s->reused, s->passive,
		 s->lost_blocked + s->lost_timeout + s->lost_gone + s->lost_late, s->lost_blocked,
		 s->lost_timeout, s->lost_gone, s->lost_late, sp->ticks,
		 sp->o->wall ? "; " : "", sp->o->wall ? s->primed : 0,
		 sp->o->wall ? " threads captured before the window in " : "",
		 sp->o->wall ? prime : "");
}
