/* cmd_dump.c - the thread dump: freeze, capture, resume, then explain.
 *
 * Every thread that can be stopped safely is asked to stop first, then all
 * are captured (registers, stack bytes, the words around a futex they wait
 * on), then all are resumed; only then are stacks unwound and symbolized.
 * A thread that a stop would harm -- blocked in a call that returns EINTR
 * after a ptrace stop (epoll_wait, socket calls...) -- or that cannot be
 * stopped (uninterruptible sleep) is captured without stopping it, from the
 * pc and sp the kernel saved, and marked partial.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprobe/cli.h"
#include "pprobe/cmd_dump.h"
#include "pprobe/dump.h"
#include "pprobe/elfimage.h"
#include "pprobe/error.h"
#include "pprobe/fmt_dump.h"
#include "pprobe/hashutil.h"
#include "pprobe/locks.h"
#include "pprobe/outfile.h"
#include "pprobe/textesc.h"
#include "pprobe/pprof.h"
#include "pprobe/procfs.h"
#include "pprobe/profile.h"
#include "pprobe/ptrace.h"
#include "pprobe/session.h"
#include "pprobe/snapshot.h"
#include "pprobe/stacks.h"
#include "pprobe/symbolize.h"
#include "pprobe/syscalls.h"
#include "pprobe/threadstate.h"
#include "pprobe/timeutil.h"
#include "pprobe/unwind.h"
#include "pprobe/waitgraph.h"

#define DUMP_STOP_TIMEOUT_MS 200
/* A thread still runnable after DUMP_STOP_TIMEOUT_MS is only waiting for a
 * CPU (on a busy machine, for hundreds of ms): it stops as soon as it runs,
 * so it is waited for this long in all (integration.dump_repeat). */
#define DUMP_RUNNABLE_TIMEOUT_MS 5000
#define DUMP_GROUP_THRESHOLD 64
#define DUMP_STACK_BYTES (32 * 1024)
#define SYS_FUTEX_NR 202

enum dump_how { DUMP_HOW_NONE = 0, DUMP_HOW_STOP, DUMP_HOW_PASSIVE };

/* One thread while the snapshot is taken. */
struct dump_capture {
	struct attach_thread *t; /* valid until the session is released */
	pid_t tid;
	struct threadstate ts;
	enum dump_how how;      /* how it was captured */
	bool asked;             /* a stop was asked of it */
	bool moving;            /* not stopped, but seen running since */
	struct threadstate ts_asked; /* /proc's word when the stop was asked */
	struct snapshot snap;
	bool captured;
	struct locks_futex futex;
	bool has_futex;
	const char *missing; /* why there is no stack, when !captured */
};

enum dump_format { DUMP_FMT_TEXT, DUMP_FMT_JSON, DUMP_FMT_PPROF };

static bool dump_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static enum dump_format dump_pick_format(const struct options *o)
{
	if (o->format)
		return !strcmp(o->format, "json") ? DUMP_FMT_JSON :
		       !strcmp(o->format, "pprof") ? DUMP_FMT_PPROF : DUMP_FMT_TEXT;
	if (o->output && dump_has_suffix(o->output, ".json"))
		return DUMP_FMT_JSON;
	if (o->output && (dump_has_suffix(o->output, ".pb.gz") || dump_has_suffix(o->output, ".pb")))
		return DUMP_FMT_PPROF;
	return DUMP_FMT_TEXT;
}

/* Decide how to capture a thread from what /proc says before any stop. */
static enum dump_how dump_choose_how(pid_t tid, const struct threadstate *ts)
{
	bool socket;

	if (ts->state == 'Z' || ts->state == 'X' || ts->state == '?')
		return DUMP_HOW_NONE;
	/* In uninterruptible sleep: copied as it sleeps, from what the kernel
	 * saved.  Without that (the kernel says "running" for a thread that
	 * changes state while /proc/.../syscall is read: it was waking up),
	 * it is asked to stop: a sleep that takes no signal is not broken by
	 * the request, and the stop comes as it returns to user space. */
	if (ts->state == 'D')
		return ts->blocked_known ? DUMP_HOW_PASSIVE : DUMP_HOW_STOP;
	if (ts->blocked_known && ts->syscall_nr >= 0) {
		socket = (long long)ts->args[0] >= 0 && ts->args[0] < 65536 &&
			 threadstate_fd_is_socket(tid, (int)ts->args[0]);
		if (syscalls_eintr_on_stop(ts->syscall_nr, socket))
			return DUMP_HOW_PASSIVE;
	}
	return DUMP_HOW_STOP;
}

static void dump_read_futex(struct dump_capture *c)
{
	const struct user_regs_struct *r = &c->snap.regs;

	if ((long long)r->orig_rax != SYS_FUTEX_NR)
		return;
	c->has_futex = true;
	c->futex.uaddr = r->rdi;
	c->futex.op = (int)r->rsi;
	c->futex.val = (uint32_t)r->rdx;
	c->futex.window_ok = snapshot_read_word_window(c->tid, r->rdi - LOCKS_WINDOW_BEFORE,
						       c->futex.window, LOCKS_WINDOW_SIZE) == 0;
}

/* Capture a thread that is not stopped; valid only if it stayed blocked at
 * the same place while its stack was copied. */
static void dump_capture_passive(pid_t pid, struct maps *maps, struct dump_capture *c)
{
	struct threadstate again;

	if (snapshot_capture_blocked(&c->snap, c->tid, maps, c->ts.syscall_nr, c->ts.args,
				     c->ts.sp, c->ts.pc) != 0) {
		c->missing = "its stack could not be read";
		return;
	}
	if (threadstate_read(pid, c->tid, &again) != 0 || !again.blocked_known ||
	    again.sp != c->ts.sp || again.pc != c->ts.pc) {
		c->missing = "it moved while its stack was copied without stopping it";
		c->moving = true;
		return;
	}
	c->captured = true;
	dump_read_futex(c);
}

/* The state letter of a task, '?' if unreadable. */
static char dump_task_state(pid_t pid, pid_t tid)
{
	char path[64], text[512], state = '?';
	uint64_t ticks;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	len = procfs_read_file(path, text, sizeof(text));
	if (len <= 0 || procfs_parse_stat(text, &state, &ticks) != 0)
		return '?';
	return state;
}

/* Is a stop asked of this thread still to come? */
static bool dump_stop_pending(const struct dump_capture *c)
{
	return c->asked && c->t && c->t->interrupt_pending;
}

/* Wait, in rounds of 10 ms up to a total of DUMP_RUNNABLE_TIMEOUT_MS from
 * t0, while some thread whose stop is still to come is runnable ('R', or
 * 't': stopped, its report not read yet).  Each round reaps each thread by
 * id: thousands of them stay cheap. */
static void dump_wait_runnable(struct session *s, struct dump_capture *caps, size_t n,
			       int64_t t0)
{
	while (timeutil_mono_ns() - t0 < (int64_t)DUMP_RUNNABLE_TIMEOUT_MS * 1000000) {
		bool runnable = false;

		for (size_t i = 0; i < n && !runnable; i++)
			if (dump_stop_pending(&caps[i]))
				runnable = strchr("Rt", dump_task_state(s->o->pid, caps[i].t->tid)) != NULL;
		if (!runnable || attach_wait_stopped_for(&s->att, 10))
			break;
	}
}

/* Wait for the stops asked for.  A stop that has not come after
 * DUMP_STOP_TIMEOUT_MS is given up for a thread in uninterruptible sleep
 * (it is captured from what the kernel saved instead), but not for one that
 * is runnable: PTRACE_INTERRUPT woke it, and it stops the moment the
 * scheduler gives it a CPU, which on a loaded machine takes longer than
 * any fixed short bound.  Giving up on it would leave it with no stack at
 * all, since a running thread has no saved pc and sp to copy.  The stops
 * still to come are not given up here (dump_freeze_and_capture does). */
static void dump_wait_stopped(struct session *s, struct dump_capture *caps, size_t n)
{
	int64_t t0 = timeutil_mono_ns();

	if (!attach_wait_stopped_for(&s->att, DUMP_STOP_TIMEOUT_MS))
		dump_wait_runnable(s, caps, n, t0);
}

/* Capture one thread after the wait: from its stop, or without one. */
static void dump_capture_one(struct session *s, struct dump_capture *c)
{
	if (c->how == DUMP_HOW_STOP && c->t->state == ATTACH_STOPPED) {
		/* A call our stop broke was set to restart when the stop was
		 * seen (attach.c). */
		if (snapshot_capture(&c->snap, c->tid, &s->maps) == 0) {
			c->captured = true;
			dump_read_futex(c);
		} else {
			c->missing = "its registers could not be read (it exited)";
		}
		return;
	}
	if (c->how == DUMP_HOW_STOP && c->t->state == ATTACH_GONE) {
		c->missing = "it exited before it stopped";
		return;
	}
	if (c->how == DUMP_HOW_STOP) {
		/* It did not stop in time (it is in uninterruptible sleep):
		 * take what the kernel saved. */
		c->how = DUMP_HOW_PASSIVE;
		if (threadstate_read(s->o->pid, c->t->tid, &c->ts) == 0 && !c->ts.blocked_known) {
			c->moving = c->ts.state == 'R';
			c->missing = c->ts.state == 'R' ?
				     "it did not stop in time and was still running" :
				     c->ts.state == 'D' && c->ts.said_running ?
				     "it did not stop in time, in uninterruptible sleep, and "
				     "/proc/PID/task/TID/syscall said \"running\" (it was "
				     "changing state), so there was no pc and sp to copy" :
				     "it did not stop in time and the kernel gave no pc and sp";
			return;
		}
	}
	if (c->how == DUMP_HOW_PASSIVE && c->ts.blocked_known) {
		dump_capture_passive(s->o->pid, &s->maps, c);
		/* Out of uninterruptible sleep while copied (a page read in,
		 * a lock taken): it is asked to stop now, and if the stop
		 * comes in time it is captured from it (dump_capture_late);
		 * the request breaks no sleep it may be back in (it takes no
		 * signal), and a call it breaks later is restarted
		 * (attach.c). */
		if (!c->captured && c->ts.state == 'D' && !c->asked && c->t &&
		    c->t->state != ATTACH_GONE && attach_request_stop(&s->att, c->t) == 0) {
			c->asked = true;
			c->ts_asked = c->ts;
		}
		return;
	}
	if (c->missing)
		return;
	c->missing = c->ts.state == 'Z' || c->ts.state == 'X' ? "it exited (zombie)" :
		     c->ts.state == 'D' ? "in uninterruptible sleep, and the kernel "
					  "gave no pc and sp" :
		     "its state could not be read";
}

/* A thread asked to stop that was still not stopped when the others were
 * copied was in uninterruptible sleep when the wait ended, often only for a
 * moment (a file written, a page read in); if it has moved since, whether
 * seen running or while its stack was copied without a stop, its stop is
 * on the way.  Such threads are waited for, even through more moments in
 * 'D' (having moved, they are not stuck there), up to the runnable bound
 * from t0, and captured from their stop.  A thread that never moved is not
 * waited for: one stuck in 'D' must not hold the others frozen.  Seen under
 * a file-writing load: 1 dump in 3 of 20 lost dump_waits' worker's stack. */
static void dump_capture_late(struct session *s, struct dump_capture *caps, size_t n,
			      int64_t t0)
{
	/* While one is runnable or in a moment of uninterruptible sleep
	 * ('D' again: the next write of the same file), its stop comes. */
	while (timeutil_mono_ns() - t0 < (int64_t)DUMP_RUNNABLE_TIMEOUT_MS * 1000000) {
		bool waiting = false;

		for (size_t i = 0; i < n && !waiting; i++) {
			const struct dump_capture *c = &caps[i];

			if (!c->captured && c->moving && dump_stop_pending(c))
				waiting = strchr("RtD", dump_task_state(s->o->pid, c->tid)) != NULL;
		}
		if (!waiting || attach_wait_stopped_for(&s->att, 10))
			break;
	}
	for (size_t i = 0; i < n; i++) {
		struct dump_capture *c = &caps[i];

		if (c->captured || !c->asked || c->t->state != ATTACH_STOPPED)
			continue;
		c->how = DUMP_HOW_STOP;
		c->ts = c->ts_asked;
		c->missing = NULL;
		dump_capture_one(s, c);
	}
}

/* The frozen part: ask, wait, capture, let go.  Returns how long the
 * process was frozen. */
static int64_t dump_freeze_and_capture(struct session *s, struct dump_capture *caps, size_t n)
{
	struct attach *a = &s->att;
	int64_t t0 = timeutil_mono_ns();

	for (size_t i = 0; i < n; i++)
		if (caps[i].how == DUMP_HOW_STOP) {
			if (attach_request_stop(a, caps[i].t) != 0) {
				caps[i].how = DUMP_HOW_NONE;
				caps[i].missing = "it could not be asked to stop (it exited)";
				continue;
			}
			caps[i].asked = true;
			caps[i].ts_asked = caps[i].ts;
		}
	dump_wait_stopped(s, caps, n);
	for (size_t i = 0; i < n; i++)
		dump_capture_one(s, &caps[i]);
	dump_capture_late(s, caps, n, t0);
	/* Give up the stops still to come: as in attach_wait_stopped, a stop
	 * that comes later lets the thread run on at once. */
	attach_wait_stopped(a, 0);
	/* Detach rather than resume: the release that follows then has no
	 * need to stop these threads a second time. */
	for (size_t i = 0; i < n; i++)
		if (caps[i].t)
			attach_detach_thread(a, caps[i].t);
	return timeutil_mono_ns() - t0;
}

/* A stop inside a system call that the kernel will restart (-ERESTARTSYS
 * .. -ERESTART_RESTARTBLOCK in rax) found the thread blocked in it. */
static bool dump_stop_was_blocked(const struct user_regs_struct *r)
{
	long long rax = (long long)r->rax;

	return (long long)r->orig_rax >= 0 && rax <= -512 && rax >= -516;
}

/* Symbolized pcs: a thousand threads parked in the same place share their
 * pcs, and each is looked up once.  Results are owned here. */
struct dump_symcache_slot {
	uint64_t pc;
	bool used;
	struct symbolize_result res;
	char *module; /* owned: the maps entry it came from goes when the maps
			 are read again (a thread's pc outside them) */
};

struct dump_symcache {
	struct dump_symcache_slot *v;
	size_t n, cap;
};

static void dump_symcache_fini(struct dump_symcache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		if (c->v[i].used) {
			symbolize_result_fini(&c->v[i].res);
			free(c->v[i].module);
		}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static struct dump_symcache_slot *dump_symcache_slot(struct dump_symcache_slot *v, size_t cap,
						     uint64_t pc)
{
	size_t h = hashutil_mix(pc) & (cap - 1);

	while (v[h].used && v[h].pc != pc)
		h = (h + 1) & (cap - 1);
	return &v[h];
}

static int dump_symcache_get(struct session *s, struct dump_symcache *c, uint64_t pc,
			     const struct dump_symcache_slot **out)
{
	struct dump_symcache_slot *slot;
	int err;

	if ((c->n + 1) * 2 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct dump_symcache_slot *nv = calloc(ncap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		for (size_t i = 0; i < c->cap; i++)
			if (c->v[i].used)
				*dump_symcache_slot(nv, ncap, c->v[i].pc) = c->v[i];
		free(c->v);
		c->v = nv;
		c->cap = ncap;
	}
	slot = dump_symcache_slot(c->v, c->cap, pc);
	if (!slot->used) {
		const char *module = NULL;

		err = stacks_symbolize(&s->maps, s->sym, pc, &slot->res, &module);
		if (err)
			return err;
		slot->module = module ? strdup(module) : NULL;
		if (module && !slot->module) {
			symbolize_result_fini(&slot->res);
			return -ENOMEM;
		}
		slot->pc = pc;
		slot->used = true;
		c->n++;
	}
	*out = slot;
	return 0;
}

static int dump_add_frames(struct session *s, struct dump_symcache *cache, struct dump_thread *dt,
			   const uint64_t *pcs, size_t npcs)
{
	for (size_t k = 0; k < npcs; k++) {
		const struct dump_symcache_slot *sym;
		const struct symbolize_result *res;
		struct dump_frame *nv;
		int err = dump_symcache_get(s, cache, pcs[k], &sym);

		if (err)
			return err;
		res = &sym->res;
		nv = realloc(dt->frames, (dt->nframes + res->n) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		dt->frames = nv;
		for (size_t j = 0; j < res->n; j++) {
			struct dump_frame *f = &dt->frames[dt->nframes++];

			memset(f, 0, sizeof(*f));
			f->pc = pcs[k];
			f->function = strdup(res->frames[j].name);
			f->file = res->frames[j].file ? strdup(res->frames[j].file) : NULL;
			f->line = res->frames[j].line;
			f->module = sym->module ? strdup(sym->module) : NULL;
			f->inlined = j + 1 < res->n;
			if (!f->function)
				return -ENOMEM;
		}
	}
	return 0;
}

/* The process's executable mappings, for the pprof form (main first). */
static int dump_list_mappings(struct maps *maps, struct dump *d)
{
	struct maps_entry **v = NULL;
	size_t n = 0;
	int err = maps_list_exec(maps, &v, &n);

	for (size_t i = 0; i < n && !err; i++) {
		struct elfimage *img = NULL;
		uint64_t bias;

		if (maps_resolve(maps, v[i], &img, &bias))
			img = NULL;
		err = dump_add_mapping(d, v[i]->start, v[i]->end, v[i]->offset, v[i]->path,
				       img ? img->build_id : NULL);
	}
	free(v);
	return err;
}

/* After the process runs again: unwind, symbolize, name the waits. */
static int dump_explain(struct session *s, struct dump_capture *caps, size_t n, struct dump *d)
{
	uint64_t *pcs = calloc((size_t)s->o->max_depth, sizeof(*pcs));
	struct dump_symcache cache = { 0 };
	int err = 0;

	if (!pcs)
		return -ENOMEM;
	d->threads = calloc(n ? n : 1, sizeof(*d->threads));
	if (!d->threads) {
		free(pcs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !err; i++) {
		struct dump_capture *c = &caps[i];
		struct dump_thread *dt = &d->threads[d->n++];
		struct unwind_result ur = { 0 };

		dt->tid = c->tid;
		memcpy(dt->name, c->ts.name, sizeof(dt->name));
		dt->state = c->ts.state;
		dt->cpu_ns = c->ts.cpu_ns;
		memcpy(dt->wchan, c->ts.wchan, sizeof(dt->wchan));
		dt->syscall_nr = c->captured ? (long)(long long)c->snap.regs.orig_rax : c->ts.syscall_nr;
		if (dt->syscall_nr == 219) {
			uint64_t pc = c->captured ? c->snap.regs.rip : c->ts.pc;
			unsigned char code[7];

			if (maps_read_code(&s->maps, pc - 7, code, sizeof(code)) == 0)
				dt->syscall_nr = syscalls_resolve_restart(dt->syscall_nr, code);
		}
		/* /proc said running, but the stop found it asleep in a call
		 * (it blocked in between): the stop is the later truth. */
		if (c->captured && c->how == DUMP_HOW_STOP && dt->state == 'R' &&
		    dump_stop_was_blocked(&c->snap.regs))
			dt->state = 'S';
		if (dt->syscall_nr >= 0) {
			const struct user_regs_struct *r = &c->snap.regs;
			uint64_t args[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };

			memcpy(dt->syscall_args, c->captured ? args : c->ts.args, sizeof(args));
		}
		dt->partial = c->how == DUMP_HOW_PASSIVE;
		dt->captured = c->captured;
		dt->stack_missing = c->captured ? NULL : c->missing;
		dt->unwind_end = "complete";
		if (c->ts.state == 'D')
			dt->kernel_stack = threadstate_kernel_stack(s->o->pid, dt->tid);
		if (!c->captured)
			continue;
		unwind_stack(s->unw, &c->snap, pcs, (size_t)s->o->max_depth, &ur);
		if (ur.end == UNWIND_END_UNMAPPED && session_refresh_maps(s, false))
			unwind_stack(s->unw, &c->snap, pcs, (size_t)s->o->max_depth, &ur);
		dt->unwind_end = unwind_end_str(ur.end);
		err = dump_add_frames(s, &cache, dt, pcs, ur.n);
		if (!err && c->has_futex) {
			const char *names[16];
			size_t k;

			for (k = 0; k < dt->nframes && k < 16; k++)
				names[k] = dt->frames[k].function;
			locks_identify(&c->futex, names, k, &dt->wait);
		}
	}
	dump_symcache_fini(&cache);
	free(pcs);
	if (!err)
		err = dump_list_mappings(&s->maps, d);
	return err;
}

static int dump_write(const struct dump *d, enum dump_format fmt, bool group, int fd)
{
	struct profile *p = NULL;
	FILE *f;
	int err;

	if (fmt == DUMP_FMT_PPROF) {
		err = fmt_dump_profile(d, &p);
		if (!err)
			err = pprof_write_fd(p, fd);
		profile_free(p);
		return err;
	}
	f = fdopen(dup(fd), "w");
	if (!f)
		return -errno;
	err = fmt == DUMP_FMT_JSON ? fmt_dump_json(d, f) : fmt_dump_text(d, group, f);
	if (fclose(f) != 0 && !err)
		err = -errno;
	return err;
}

/* -v: how the snapshot went. */
static void dump_report_capture(const struct dump *d, const struct dump_capture *caps, size_t n)
{
	size_t stopped = 0, passive = 0, none = 0;
	char frozen[32];

	for (size_t i = 0; i < n; i++) {
		if (!caps[i].captured)
			none++;
		else if (caps[i].how == DUMP_HOW_PASSIVE)
			passive++;
		else
			stopped++;
	}
	timeutil_format_duration(d->frozen_ns, frozen, sizeof(frozen));
	fprintf(stderr,
		"pprobe: process frozen %s; %zu threads stopped and copied, %zu copied without stopping, "
		"%zu without a user stack\n", frozen, stopped, passive, none);
}

int cmd_dump_run(const struct options *o)
{
	struct session s;
	struct dump d;
	struct outfile of = { .fd = -1 };
	struct dump_capture *caps = NULL;
	enum dump_format fmt = dump_pick_format(o);
	char msg[512];
	size_t n = 0;
	int code, err;

	memset(&d, 0, sizeof(d));
	code = session_preflight(&s, o, msg, sizeof(msg));
	if (code)
		goto out_msg;
	err = outfile_open(&of, o->output ? o->output : "-");
	if (err) {
		outfile_format_error(msg, sizeof(msg), o->output, err);
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	code = session_attach(&s, msg, sizeof(msg));
	if (code)
		goto out_msg;
	/* Everything that can be read without stopping is read first, to keep
	 * the frozen window short. */
	caps = calloc(s.att.n + 1, sizeof(*caps));
	if (!caps) {
		err = -ENOMEM;
		goto out_err;
	}
	for (size_t i = 0; i < s.att.n; i++) {
		struct dump_capture *c = &caps[n];

		c->t = s.att.threads[i];
		c->tid = c->t->tid;
		if (c->t->state == ATTACH_GONE ||
		    threadstate_read(o->pid, c->t->tid, &c->ts) != 0)
			continue;
		if (c->ts.state == 'T' || c->t->state == ATTACH_GROUP_STOPPED)
			d.was_stopped = true;
		/* Our seize turned its job-control stop into a ptrace stop ('t');
		 * what the process is in is the job-control stop. */
		if (c->t->state == ATTACH_GROUP_STOPPED && c->ts.state == 't')
			c->ts.state = 'T';
		c->how = dump_choose_how(c->tid, &c->ts);
		err = snapshot_init(&c->snap, DUMP_STACK_BYTES);
		if (err)
			goto out_err;
		n++;
	}
	/* A main thread that called pthread_exit stays a zombie, untraceable,
	 * while the others run; it is still one of the process's threads. */
	if (!attach_find(&s.att, o->pid) && threadstate_read(o->pid, o->pid, &caps[n].ts) == 0 &&
	    (caps[n].ts.state == 'Z' || caps[n].ts.state == 'X')) {
		caps[n].tid = o->pid;
		caps[n].how = DUMP_HOW_NONE; /* nothing to copy: no stack buffer */
		n++;
	}
	d.pid = o->pid;
	snprintf(d.comm, sizeof(d.comm), "%s", s.pf.comm);
	d.time_ns = timeutil_wall_ns();
	d.frozen_ns = dump_freeze_and_capture(&s, caps, n);
	session_release(&s);
	/* Symbols are looked up only now, with every thread let go, so they
	 * may come from debuginfod (-debuginfod): a tracer waiting on the
	 * network would answer no ptrace stop meanwhile. */
	err = session_fetch_begin(&s, o->quiet ? NULL : stderr);
	if (!err)
		err = dump_explain(&s, caps, n, &d);
	session_fetch_end(&s);
	session_service(&s); /* threads left traced: answer their stops */
	if (!err)
		err = waitgraph_find_cycles(&d);
	if (!err)
		err = dump_write(&d, fmt, o->group || d.n > DUMP_GROUP_THRESHOLD, of.fd);
	if (!err)
		err = outfile_commit(&of);
	if (err)
		goto out_err;
	if (o->output && !o->quiet) {
		fputs("Saved thread dump in ", stderr);
		textesc_put(stderr, o->output, SIZE_MAX, false);
		fputc('\n', stderr);
		if (fmt == DUMP_FMT_PPROF) {
			fputs("View it with: go tool pprof -traces ", stderr);
			textesc_put_shell(stderr, o->output);
			fputc('\n', stderr);
		}
	}
	if (o->verbose)
		dump_report_capture(&d, caps, n);
	goto out;
out_err:
	snprintf(msg, sizeof(msg), "%s", error_str(err));
	code = CLI_EXIT_FAILURE;
out_msg:
	/* Names the target or the user chose may be in it. */
	fputs("pprobe: ", stderr);
	textesc_put(stderr, msg, sizeof(msg), false);
	fputc('\n', stderr);
out:
	outfile_abort(&of);
	for (size_t i = 0; caps && i < n; i++)
		snapshot_fini(&caps[i].snap);
	free(caps);
	dump_free(&d);
	session_close(&s);
	return code;
}
