/* attach.c - seize, track and release the target's threads (see attach.h).
 *
 * Kernel behaviour relied on here (each exercised by tests/integration):
 * - PTRACE_SEIZE does not stop the thread; PTRACE_INTERRUPT makes it report
 *   PTRACE_EVENT_STOP with SIGTRAP.  A thread blocked in a restartable
 *   system call has the call restarted when it runs again.
 * - A signal for the target produces a signal-delivery-stop; passing the
 *   same number to PTRACE_CONT delivers it as if we were not there.
 * - A job-control stop (SIGSTOP...) produces PTRACE_EVENT_STOP with that
 *   signal; PTRACE_LISTEN leaves the thread stopped yet lets it report
 *   SIGCONT.  PTRACE_DETACH from such a stop puts it back in group-stop.
 * - SIGCONT makes every seized thread report PTRACE_EVENT_STOP (SIGTRAP),
 *   waking it from an interruptible sleep even if the process was not
 *   stopped; a thread ending its group-stop reports the same stop with the
 *   stop's EINTR in its registers, and keeps it until it is back in user
 *   space.  PTRACE_SYSCALL from any stop makes the thread stop at the entry
 *   of its next system call (reported as SIGTRAP|0x80 with TRACESYSGOOD).
 * - PTRACE_DETACH needs the thread in a ptrace-stop; a thread that cannot
 *   be stopped (uninterruptible sleep), or that release must not stop (a
 *   stop would break its call), is detached by the kernel when pprobe
 *   exits: exit_ptrace() unlinks a tracee that is not in a stop without
 *   stopping or waking it, and drops a PTRACE_INTERRUPT not yet answered.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pprobe/attach.h"
#include "pprobe/error.h"
#include "pprobe/procfs.h"
#include "pprobe/ptrace.h"
#include "pprobe/syscalls.h"
#include "pprobe/threadstate.h"
#include "pprobe/timeutil.h"

#define ATTACH_MAX_PASSES 100
#define ATTACH_SPIN_NS 30000
#define ATTACH_EPERM_RETRIES 10
/* A PTRACE_SEIZE blocked this long is interrupted, and tried again after
 * reaping (attach_seize_bounded), at most ATTACH_SEIZE_TRIES times. */
#define ATTACH_SEIZE_SLICE_US 20000
#define ATTACH_SEIZE_TRIES 250
/* The kernel's internal "restart unless a handler runs" return value. */
#define ATTACH_ERESTARTNOHAND 514

void attach_init(struct attach *a, pid_t pid, int sigfd)
{
	memset(a, 0, sizeof(*a));
	a->pid = pid;
	a->sigfd = sigfd;
}

static size_t attach_hash(pid_t tid, size_t cap)
{
	return ((uint32_t)tid * 2654435761u) & (cap - 1);
}

/* Put threads[i] into an index of capacity cap (a power of two with a
 * free slot: the load is kept at one half at most). */
static void attach_index_put(int *idx, size_t cap, pid_t tid, size_t i)
{
	size_t h = attach_hash(tid, cap);

	while (idx[h] >= 0)
		h = (h + 1) & (cap - 1);
	idx[h] = (int)i;
}

/* Build a new index of capacity cap over threads[0..n).  On failure the
 * old index is kept as it was: it still maps every thread it held. */
static int attach_index_rebuild(struct attach *a, size_t cap)
{
	int *idx = malloc(cap * sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		idx[i] = -1;
	for (size_t i = 0; i < a->n; i++)
		attach_index_put(idx, cap, a->threads[i]->tid, i);
	free(a->index);
	a->index = idx;
	a->index_cap = cap;
	a->index_rebuilds++;
	return 0;
}

struct attach_thread *attach_find(struct attach *a, pid_t tid)
{
	if (!a->index_cap)
		return NULL;
	for (size_t h = attach_hash(tid, a->index_cap); a->index[h] >= 0;
	     h = (h + 1) & (a->index_cap - 1))
		if (a->threads[a->index[h]]->tid == tid)
			return a->threads[a->index[h]];
	return NULL;
}

/* Add a thread: one slot of the index, so adding is O(1); the index is
 * rebuilt only when it doubles (amortized O(1) too).  If doubling fails,
 * the thread still goes in while the old index has room below a
 * three-quarter load (probing stays short and a free slot remains);
 * beyond that the add fails, and nothing has changed. */
static struct attach_thread *attach_add(struct attach *a, pid_t tid)
{
	struct attach_thread *t = attach_find(a, tid);

	if (t)
		return t;
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 64;
		struct attach_thread **nv = realloc(a->threads, ncap * sizeof(*nv));

		if (!nv)
			return NULL;
		a->threads = nv;
		a->cap = ncap;
	}
	if ((a->n + 1) * 2 > a->index_cap &&
	    attach_index_rebuild(a, a->index_cap ? a->index_cap * 2 : 128) != 0 &&
	    (a->n + 1) * 4 > a->index_cap * 3)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tid = tid;
	t->sched_fd = -1;
	t->stat_fd = -1;
	attach_index_put(a->index, a->index_cap, tid, a->n);
	a->threads[a->n++] = t;
	return t;
}

/* The /proc files the sampler keeps open for a thread. */
static void attach_close_thread_files(struct attach_thread *t)
{
	if (t->sched_fd >= 0)
		close(t->sched_fd);
	if (t->stat_fd >= 0)
		close(t->stat_fd);
	t->sched_fd = -1;
	t->stat_fd = -1;
}

static void attach_mark_gone(struct attach *a, struct attach_thread *t)
{
	if (t->state == ATTACH_GONE)
		return;
	t->state = ATTACH_GONE;
	t->interrupt_pending = false;
	attach_close_thread_files(t);
}

static void attach_thread_free(struct attach *a, struct attach_thread *t)
{
	if (t->user && a->user_free)
		a->user_free(t->user);
	free(t);
}

void attach_compact(struct attach *a)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		if (a->threads[i]->state == ATTACH_GONE)
			attach_thread_free(a, a->threads[i]);
		else
			a->threads[j++] = a->threads[i];
	}
	if (j != a->n) {
		/* Entries moved: re-index them in place, which needs no
		 * memory and so cannot fail half-way. */
		a->n = j;
		for (size_t h = 0; h < a->index_cap; h++)
			a->index[h] = -1;
		for (size_t i = 0; i < a->n; i++)
			attach_index_put(a->index, a->index_cap, a->threads[i]->tid, i);
	}
}

/* While releasing, every stop is a chance to detach: the signal of a
 * signal-delivery-stop goes with the detach, so it is still delivered.
 * A call our interrupt broke was set to restart when the stop was first
 * seen (attach_fix_interrupted_call). */
static void attach_detach_now(struct attach *a, struct attach_thread *t, int sig)
{
	ptrace_detach(t->tid, sig);
	attach_mark_gone(a, t);
}

/* Let t run on from a stop, passing sig.  A thread that carries a kept
 * EINTR (eintr_kept) is on its way back to user space with it: it is
 * continued with PTRACE_SYSCALL, so that its next system call stops at
 * the entry and tells us it got there (PTRACE_KIND_SYSCALL).  Until then
 * every stop it reports still finds that EINTR in its registers, and a
 * stop of ours must not take it for one it caused
 * (tests/integration/test_safety_stopcont.py). */
static int attach_cont(struct attach_thread *t, int sig)
{
	return t->eintr_kept ? ptrace_syscall(t->tid, sig) : ptrace_cont(t->tid, sig);
}

/* A stop of ours (PTRACE_INTERRUPT) broke t's blocked call with EINTR:
 * make the kernel restart it (ptrace.h), at once, the moment the stop is
 * seen and before anything else is done with the thread.  Should pprobe
 * be killed while t is held in the stop, t then runs on as if never
 * stopped: the time a thread carries our EINTR is the few microseconds
 * between its stop and this call (tests/integration/test_safety_release.py). */
static bool attach_fix_interrupted_call(struct attach *a, struct attach_thread *t,
					struct user_regs_struct *regs)
{
	if (t->eintr_kept)
		return false; /* a signal's or a job-control stop's, still on its
			       * way to user space (attach_cont): it stays */
	if (ptrace_get_regs(t->tid, regs) == 0 &&
	    ptrace_restart_interrupted_call(t->tid, regs) > 0) {
		a->calls_restarted++;
		return true;
	}
	return false;
}

/* Is a signal that stops the process (SIGSTOP, or SIGTSTP, SIGTTIN,
 * SIGTTOU neither caught nor ignored) pending for thread tid?  From
 * /proc/PID/task/TID/status: SigPnd, ShdPnd, SigCgt, SigIgn. */
static bool attach_stop_signal_pending(pid_t pid, pid_t tid)
{
	static const char *const keys[] = { "\nSigPnd:", "\nShdPnd:", "\nSigIgn:", "\nSigCgt:" };
	unsigned long long v[4] = { 0 }, stops;
	char path[96], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (procfs_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	for (size_t i = 0; i < 4; i++) {
		const char *p = strstr(buf, keys[i]);

		if (!p || sscanf(p + strlen(keys[i]), "%llx", &v[i]) != 1)
			return false;
	}
	stops = (1ULL << (SIGTSTP - 1)) | (1ULL << (SIGTTIN - 1)) | (1ULL << (SIGTTOU - 1));
	stops = (stops & ~(v[2] | v[3])) | (1ULL << (SIGSTOP - 1));
	return ((v[0] | v[1]) & stops) != 0;
}

/* Is signal sig of process pid discarded, with no handler and no
 * default action (SIG_IGN, or SIG_DFL of a signal whose default is to
 * ignore it)?  From /proc/PID/status's SigIgn and SigCgt masks. */
static bool attach_signal_ignored(pid_t pid, int sig)
{
	char path[64], buf[4096], *p;
	unsigned long long ign = 0, cgt = 0, bit;

	if (sig < 1 || sig > 64)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (procfs_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strstr(buf, "\nSigIgn:");
	if (!p || sscanf(p + 8, "%llx", &ign) != 1)
		return false;
	p = strstr(buf, "\nSigCgt:");
	if (!p || sscanf(p + 8, "%llx", &cgt) != 1)
		return false;
	bit = 1ULL << (sig - 1);
	if (ign & bit)
		return true;
	return !(cgt & bit) &&
	       (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT);
}

/* t is in a stop that is not ours -- a signal-delivery-stop for sig, or
 * a group-stop (sig 0) -- and its blocked call may have returned EINTR
 * because of it.  Without a tracer:
 * - a stop signal, or a group-stop, ends epoll_wait, sigtimedwait, semop,
 *   io_getevents and socket calls with timeouts in EINTR once the process
 *   is continued (signal(7), "Interruption of system calls ... by stop
 *   signals"); so does a signal that has a handler;
 * - a signal that is ignored is discarded when it is sent and wakes no
 *   one; only a tracer makes the kernel queue it (sig_ignored() lets
 *   traced tasks see every signal), and then the call returns EINTR.
 * So an ignored signal's EINTR is turned into a restart at once, and any
 * other is kept: eintr_kept tells every later stop, until the thread has
 * been back in user space (its next system call's entry, attach_cont),
 * that the EINTR it sees is not ours (attach_fix_interrupted_call) nor an
 * ignored signal's (the SIGCONT that ends a job-control stop is reported
 * after the stop's EINTR).  Exactly as without pprobe, in both directions
 * (tests/integration/test_safety_release.py, test_safety_stopcont.py). */
static void attach_settle_foreign_stop(struct attach *a, struct attach_thread *t, int sig)
{
	struct user_regs_struct regs;
	long nr;

	if (ptrace_get_regs(t->tid, &regs) != 0)
		return;
	nr = (long)(long long)regs.orig_rax;
	if (nr < 0 || !syscalls_eintr_on_stop(nr, true))
		return;
	if ((long long)regs.rax == -ATTACH_ERESTARTNOHAND &&
	    (sig == 0 || !attach_signal_ignored(a->pid, sig))) {
		/* Our own stop broke the call and we set it to restart; this
		 * stop came before it did.  Without us the call would have
		 * been asleep when this stop came, and ended in EINTR. */
		regs.rax = (unsigned long long)-EINTR;
		if (ptrace_set_regs(t->tid, &regs) == 0)
			t->eintr_kept = true;
		return;
	}
	if ((long long)regs.rax != -EINTR || t->eintr_kept)
		return;
	if (sig > 0 && sig != SIGSTOP && attach_signal_ignored(a->pid, sig)) {
		if (ptrace_restart_interrupted_call(t->tid, &regs) > 0)
			a->calls_restarted++;
		return;
	}
	t->eintr_kept = true;
}

/* Any ptrace stop clears a pending PTRACE_INTERRUPT (kernel/signal.c,
 * ptrace_stop: "any trap clears pending STOP trap"); after passing on a
 * signal or an event stop of a thread we are waiting for, ask again. */
static void attach_reinterrupt(struct attach_thread *t)
{
	if (t->interrupt_pending && ptrace_interrupt(t->tid) != 0)
		t->interrupt_pending = false;
}

/* Forget what we knew of a thread: after an exec it runs another program. */
static void attach_thread_reset(struct attach *a, struct attach_thread *t)
{
	attach_close_thread_files(t);
	if (t->user && a->user_free)
		a->user_free(t->user);
	t->user = NULL;
	t->state = ATTACH_RUNNING;
	t->interrupt_pending = false;
	t->in_group_stop = false;
	t->eintr_kept = false;
	t->cpu_seen = false;
	t->pending_cpu_ns = 0;
	t->name[0] = '\0';
}

/* One waitpid() status of thread tid.  Every path leaves the thread either
 * running, or stopped because the target or we want it so. */
static void attach_handle_status(struct attach *a, pid_t tid, int status)
{
	struct attach_thread *t = attach_find(a, tid);
	struct user_regs_struct regs;
	struct ptrace_stop st;

	ptrace_classify(status, &st);
	if (!t) {
		if (st.kind == PTRACE_KIND_EXITED)
			return; /* not ours (or already forgotten) */
		/* A new thread can report its first stop before its creator
		 * reports PTRACE_EVENT_CLONE. */
		t = attach_add(a, tid);
		if (!t) {
			ptrace_detach(tid, st.kind == PTRACE_KIND_SIGNAL ? st.sig : 0);
			return;
		}
	}
	switch (st.kind) {
	case PTRACE_KIND_EXITED:
		attach_mark_gone(a, t);
		a->threads_exited++;
		if (tid == a->pid) {
			/* The leader is reported last, once the group is empty. */
			a->target_exited = true;
			a->exit_status = status;
		}
		return;
	case PTRACE_KIND_INTERRUPT:
		t->in_group_stop = false;
		/* Ours (asked for now, or late), or a new thread's first stop,
		 * or the end of a group-stop (whose EINTR was settled when it
		 * began, and is kept until the thread is back in user space),
		 * or a SIGCONT that found the process running (it wakes every
		 * seized thread): only those last two and our interrupt leave
		 * a bare -EINTR here, and for both it is not the target's. */
		if (attach_fix_interrupted_call(a, t, &regs) && a->releasing &&
		    attach_stop_signal_pending(a->pid, tid)) {
			/* A stop signal came with our interrupt and waits to
			 * be taken after this stop: without us it would have
			 * ended the call with EINTR, and once detached, the
			 * stop it makes would not tell us to put it back
			 * (attach_settle_foreign_stop does, while we trace). */
			regs.rax = (unsigned long long)-EINTR;
			ptrace_set_regs(tid, &regs);
		}
		if (a->releasing) {
			attach_detach_now(a, t, 0);
		} else if (t->interrupt_pending) {
			t->interrupt_pending = false;
			t->state = ATTACH_STOPPED;
		} else {
			/* A new thread's first stop, the end of a group-stop
			 * (SIGCONT while listening), or the late stop of an
			 * interrupt we gave up on: run on. */
			t->state = ATTACH_RUNNING;
			attach_cont(t, 0);
		}
		return;
	case PTRACE_KIND_GROUP:
		/* Someone stopped the process: stay stopped, as without us. */
		t->in_group_stop = true;
		attach_settle_foreign_stop(a, t, 0);
		if (a->releasing) {
			attach_detach_now(a, t, 0);
			return;
		}
		if (t->interrupt_pending) {
			/* We asked (to read its registers): hold it in this
			 * ptrace-stop; resume puts it back with LISTEN. */
			t->interrupt_pending = false;
			t->state = ATTACH_STOPPED;
			return;
		}
		t->state = ATTACH_GROUP_STOPPED;
		ptrace_listen(tid);
		return;
	case PTRACE_KIND_SIGNAL:
		a->signals_passed++;
		attach_settle_foreign_stop(a, t, st.sig);
		if (a->releasing) {
			attach_detach_now(a, t, st.sig);
			return;
		}
		attach_cont(t, st.sig);
		attach_reinterrupt(t);
		return;
	case PTRACE_KIND_SYSCALL:
		/* The entry of its first system call since it was continued
		 * with a kept EINTR (attach_cont): it has been back in user
		 * space, the EINTR delivered.  The call has not started: a
		 * stop here breaks nothing.  But a PTRACE_INTERRUPT of ours
		 * sent before this trap was cleared by it, while the signal
		 * wake-up it made stays pending: the call would fail with EINTR
		 * at once.  So the interrupt is asked again before the thread
		 * goes on (not after: it could be back in user space first),
		 * and the stop it makes as the call fails undoes that EINTR
		 * (attach_fix_interrupted_call). */
		t->eintr_kept = false;
		if (a->releasing) {
			/* A wake-up only a tracer gets (our interrupt, which
			 * this trap cleared, or a SIGCONT's notice, which the
			 * detach drops) may have left a signal pending: the call
			 * would fail with EINTR at once.  So the call is taken
			 * back (skipped, and the thread put back on its syscall
			 * instruction with the number in rax): detached, the
			 * thread issues it afresh from user space, after the
			 * kernel has found that nothing is pending. */
			if (ptrace_get_regs(tid, &regs) == 0) {
				regs.rax = regs.orig_rax;
				regs.orig_rax = (unsigned long long)-1;
				regs.rip -= 2;
				ptrace_set_regs(tid, &regs);
			}
			attach_detach_now(a, t, 0);
		} else if (t->interrupt_pending) {
			if (ptrace_interrupt(tid) != 0)
				t->interrupt_pending = false;
			ptrace_cont(tid, 0);
		} else {
			ptrace_cont(tid, 0);
		}
		return;
	case PTRACE_KIND_CLONE: {
		unsigned long msg = 0;

		if (ptrace_get_event_msg(tid, &msg) == 0 && msg)
			attach_add(a, (pid_t)msg);
		/* attach_add may have moved nothing: threads are separate
		 * allocations, t stays valid. */
		if (a->releasing) {
			attach_detach_now(a, t, 0);
		} else {
			attach_cont(t, 0);
			attach_reinterrupt(t);
		}
		return;
	}
	case PTRACE_KIND_EXEC:
		/* The exec'ing thread now has the leader's id; every other
		 * thread is gone without an exit report, and what we knew of
		 * the leader belongs to the old program. */
		for (size_t i = 0; i < a->n; i++)
			if (a->threads[i]->tid != a->pid)
				attach_mark_gone(a, a->threads[i]);
		t = attach_add(a, a->pid);
		a->exec_seen = true;
		a->exec_ns = timeutil_mono_ns();
		if (!t)
			return;
		attach_thread_reset(a, t);
		if (a->releasing)
			attach_detach_now(a, t, 0);
		else
			ptrace_cont(a->pid, 0);
		return;
	case PTRACE_KIND_OTHER:
		if (a->releasing) {
			attach_detach_now(a, t, 0);
		} else {
			attach_cont(t, 0);
			attach_reinterrupt(t);
		}
		return;
	}
}

/* Handle every status that is ready now.  Returns how many. */
static int attach_drain(struct attach *a)
{
	int handled = 0;

	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, WNOHANG | __WALL);

		if (tid <= 0)
			return handled;
		attach_handle_status(a, tid, status);
		handled++;
	}
}

/* Collect the stops of threads we asked to stop, one waitpid() per thread.
 * waitpid(-1) walks every tracee on each call; with thousands of threads
 * stopping at once (a dump, the release) draining it that way is
 * quadratic, asking each thread by id is not. */
static int attach_reap_each(struct attach *a)
{
	int handled = 0;

	for (size_t i = 0; i < a->n; i++) {
		struct attach_thread *t = a->threads[i];
		int status;

		if (t->state == ATTACH_GONE || !t->interrupt_pending)
			continue;
		if (waitpid(t->tid, &status, WNOHANG | __WALL) == t->tid) {
			attach_handle_status(a, t->tid, status);
			handled++;
		}
	}
	return handled + attach_drain(a);
}

/* Read pprobe's own signals off the signalfd. */
static void attach_read_signals(struct attach *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
			a->stop_signal = (int)si.ssi_signo;
	}
}

int attach_poll(struct attach *a, int64_t timeout_ns)
{
	struct pollfd pfd = { .fd = a->sigfd, .events = POLLIN };
	struct timespec ts;

	if (attach_drain(a) > 0 || timeout_ns < 0)
		timeout_ns = 0;
	ts.tv_sec = timeout_ns / 1000000000;
	ts.tv_nsec = timeout_ns % 1000000000;
	if (ppoll(&pfd, 1, &ts, NULL) > 0)
		attach_read_signals(a);
	attach_drain(a);
	return 0;
}

int attach_stop_thread(struct attach *a, struct attach_thread *t, int timeout_ms)
{
	int64_t start = timeutil_mono_ns();
	int64_t deadline = start + (int64_t)timeout_ms * 1000000;
	struct pollfd pfd = { .fd = a->sigfd, .events = POLLIN };
	int err = attach_request_stop(a, t);

	if (err)
		return err;
	for (;;) {
		int64_t left, now;

		attach_drain(a);
		if (t->state == ATTACH_STOPPED)
			return 0;
		if (t->state == ATTACH_GONE)
			return -ESRCH;
		now = timeutil_mono_ns();
		left = deadline - now;
		if (left <= 0) {
			/* Give up on this stop.  When it comes after all, the
			 * handler sees a stop nobody waits for and lets the
			 * thread run on at once (not held until release). */
			t->interrupt_pending = false;
			return -ETIMEDOUT;
		}
		/* A running thread stops within microseconds.  Sleeping in
		 * poll() until SIGCHLD wakes us adds the CPU's wake-up latency
		 * to the time the target is stopped, so spin on waitpid()
		 * briefly first (ATTACH_SPIN_NS at most per sample). */
		if (now - start < ATTACH_SPIN_NS)
			continue;
		/* Round up so a sub-millisecond remainder still waits. */
		if (poll(&pfd, 1, (int)((left + 999999) / 1000000)) > 0)
			attach_read_signals(a);
	}
}

int attach_request_stop(struct attach *a, struct attach_thread *t)
{
	int err;

	if (t->state == ATTACH_GONE)
		return -ESRCH;
	if (t->state == ATTACH_STOPPED || t->interrupt_pending)
		return 0;
	err = ptrace_interrupt(t->tid);
	if (err) {
		if (err == -ESRCH)
			attach_mark_gone(a, t);
		return err;
	}
	t->interrupt_pending = true;
	return 0;
}

bool attach_wait_stopped_for(struct attach *a, int timeout_ms)
{
	int64_t deadline = timeutil_mono_ns() + (int64_t)timeout_ms * 1000000;

	for (;;) {
		bool waiting = false;
		int64_t left;

		attach_reap_each(a);
		for (size_t i = 0; i < a->n && !waiting; i++)
			waiting = a->threads[i]->interrupt_pending;
		left = deadline - timeutil_mono_ns();
		if (!waiting)
			return true;
		if (left <= 0)
			return false;
		attach_poll(a, left < 1000000 ? left : 1000000);
	}
}

void attach_wait_stopped(struct attach *a, int timeout_ms)
{
	if (attach_wait_stopped_for(a, timeout_ms))
		return;
	/* As in attach_stop_thread: late stops run on. */
	for (size_t i = 0; i < a->n; i++)
		a->threads[i]->interrupt_pending = false;
}

int attach_detach_thread(struct attach *a, struct attach_thread *t)
{
	if (t->state != ATTACH_STOPPED)
		return -EINVAL;
	attach_detach_now(a, t, 0);
	return 0;
}

int attach_resume_thread(struct attach *a, struct attach_thread *t)
{
	int err;

	if (t->state != ATTACH_STOPPED)
		return 0;
	if (t->in_group_stop) {
		t->state = ATTACH_GROUP_STOPPED;
		return ptrace_listen(t->tid);
	}
	t->state = ATTACH_RUNNING;
	err = attach_cont(t, 0);
	if (err == -ESRCH)
		attach_mark_gone(a, t);
	return err;
}

/* Explain a failed PTRACE_SEIZE of the process the way strace does: who
 * else traces it, or which privilege is missing. */
static void attach_diagnose(struct attach *a, int err, struct attach_diag *diag)
{
	struct procfs_status st;
	char scope[16] = "";

	diag->err = err;
	if (err == -ESRCH) {
		snprintf(diag->why, sizeof(diag->why), "no such process");
		return;
	}
	if (err != -EPERM) {
		snprintf(diag->why, sizeof(diag->why), "cannot attach: %s", error_str(err));
		return;
	}
	if (procfs_read_status(a->pid, &st) == 0 && st.tracer_pid != 0) {
		diag->err = -PPROBE_E_TRACED;
		diag->tracer_pid = st.tracer_pid;
		snprintf(diag->why, sizeof(diag->why), "process is already traced by process %d",
			 (int)st.tracer_pid);
		return;
	}
	procfs_read_file("/proc/sys/kernel/yama/ptrace_scope", scope, sizeof(scope));
	if (geteuid() != 0 && scope[0] && scope[0] != '0')
		snprintf(diag->why, sizeof(diag->why),
			 "permission denied: kernel.yama.ptrace_scope is %c; run as root or with CAP_SYS_PTRACE",
			 scope[0]);
	else if (geteuid() != 0)
		snprintf(diag->why, sizeof(diag->why),
			 "permission denied: run as root or with CAP_SYS_PTRACE, or as the process's owner");
	else
		snprintf(diag->why, sizeof(diag->why),
			 "permission denied even as root (a security module or a dumpable=0 process in another user namespace)");
}

/* The jump out of a PTRACE_SEIZE that blocks (attach_seize_bounded): set
 * only while one is in progress.  Signal plumbing, like the signalfd. */
static sigjmp_buf *attach_seize_jump;
static volatile sig_atomic_t attach_in_seize;

static void attach_on_alarm(int sig)
{
	(void)sig;
	if (attach_in_seize && attach_seize_jump)
		siglongjmp(*attach_seize_jump, 1);
}

/* PTRACE_SEIZE that cannot block for ever.  The kernel's ptrace_attach
 * waits (interruptibly) for the target's cred_guard_mutex, which an execve
 * holds while it kills the process's other threads (de_thread) and waits
 * until they are reaped -- by their tracer, when they are traced: by us,
 * blocked in this very call.  Neither would ever go on, and Ctrl-C, being
 * blocked for the signalfd, could not help.  So a SIGALRM comes after
 * ATTACH_SEIZE_SLICE_US; since the kernel restarts the call after any
 * handler (-ERESTARTNOINTR), the handler jumps out of it instead.  Then the
 * threads that exited are reaped (which lets the exec finish), pprobe's
 * own signals are read (SIGINT or SIGTERM: -EINTR), and the seize is tried
 * again, ATTACH_SEIZE_TRIES times at most (-ETIMEDOUT).  Should the alarm
 * land just after a seize succeeded, the retry finds the thread ours
 * (-EPERM with our TracerPid, which the caller accepts).
 * tests/integration/test_safety_execloop.py. */
static int attach_seize_bounded(struct attach *a, pid_t tid)
{
	static const struct itimerval off;
	const struct itimerval slice = { .it_value = { 0, ATTACH_SEIZE_SLICE_US } };
	sigjmp_buf jump;
	volatile int tries = 0;
	int err;

	if (sigsetjmp(jump, 1)) {
		attach_in_seize = 0;
		attach_seize_jump = NULL;
		setitimer(ITIMER_REAL, &off, NULL);
		attach_drain(a);
		attach_read_signals(a);
		if (a->stop_signal)
			return -EINTR;
		if (++tries >= ATTACH_SEIZE_TRIES)
			return -ETIMEDOUT;
	}
	attach_seize_jump = &jump;
	setitimer(ITIMER_REAL, &slice, NULL);
	attach_in_seize = 1;
	err = ptrace_seize(tid);
	attach_in_seize = 0;
	setitimer(ITIMER_REAL, &off, NULL);
	attach_seize_jump = NULL;
	return err;
}

/* PTRACE_SEIZE, tried again for a short while when refused: a process in
 * the middle of an execve is briefly not traceable (its new credentials and
 * dumpable flag are being installed), and a refusal then is not the
 * user's problem.  A refusal that lasts is. */
static int attach_seize_retrying(struct attach *a, pid_t tid)
{
	struct timespec pause = { 0, 2 * 1000000 };
	int err = attach_seize_bounded(a, tid);

	for (int i = 0; i < ATTACH_EPERM_RETRIES && err == -EPERM; i++) {
		struct procfs_status st;

		if (procfs_read_status(tid, &st) != 0)
			return -ESRCH;
		if (st.tracer_pid != 0)
			break; /* traced by someone (maybe us): no use waiting */
		if (st.state == 'Z' || st.state == 'X')
			return -ESRCH; /* an exited thread cannot be traced; nor need it be */
		nanosleep(&pause, NULL);
		err = attach_seize_bounded(a, tid);
	}
	return err;
}

/* One pass over /proc/PID/task: seize every thread not yet ours.  Returns
 * how many were new, or -errno. */
static int attach_seize_pass(struct attach *a, struct attach_diag *diag)
{
	pid_t *tids = NULL;
	size_t n = 0;
	int added = 0, err;

	err = procfs_list_tasks(a->pid, &tids, &n);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	for (size_t i = 0; i < n; i++) {
		struct procfs_status st;
		struct attach_thread *t;

		if (attach_find(a, tids[i]))
			continue;
		err = attach_seize_retrying(a, tids[i]);
		if (err == -ESRCH || (err == -ETIMEDOUT && a->n > 0 && tids[i] != a->pid))
			continue; /* it exited meanwhile, or is a zombie (the main
				   * thread after pthread_exit), or is still
				   * going away in an exec */
		if (err == -EINTR) {
			snprintf(diag->why, sizeof(diag->why), "stopped by %s while attaching",
				 strsignal(a->stop_signal));
			diag->err = err;
			free(tids);
			return err;
		}
		if (err == -EPERM && procfs_read_status(tids[i], &st) == 0 &&
		    st.tracer_pid == getpid())
			err = 0; /* seized by the kernel as a clone of a thread of ours */
		if (err == -EPERM && procfs_read_status(tids[i], &st) == 0 && st.tracer_pid != 0) {
			/* Another tracer holds this thread: perhaps a pprobe that
			 * is exiting and leaves its last threads to the kernel.
			 * A profile without them would look whole: refuse, as
			 * for a traced process. */
			diag->err = -PPROBE_E_TRACED;
			diag->tracer_pid = st.tracer_pid;
			snprintf(diag->why, sizeof(diag->why),
				 "process is already traced by process %d (thread %d)",
				 (int)st.tracer_pid, (int)tids[i]);
			free(tids);
			return -PPROBE_E_TRACED;
		}
		if (err) {
			if (a->n == 0 || tids[i] == a->pid)
				attach_diagnose(a, err, diag);
			else
				continue; /* a thread we cannot take: leave it */
			free(tids);
			return err;
		}
		t = attach_add(a, tids[i]);
		if (!t) {
			ptrace_detach(tids[i], 0);
			free(tids);
			return -ENOMEM;
		}
		added++;
	}
	free(tids);
	return added;
}

int attach_seize_all(struct attach *a, struct attach_diag *diag)
{
	struct sigaction alarm = { .sa_handler = attach_on_alarm }, old_alarm;
	int r = 0;

	memset(diag, 0, sizeof(*diag));
	sigemptyset(&alarm.sa_mask);
	sigaction(SIGALRM, &alarm, &old_alarm);
	for (int pass = 0; pass < ATTACH_MAX_PASSES; pass++) {
		r = attach_seize_pass(a, diag);
		if (r < 0)
			break;
		attach_drain(a);
		if (r == 0)
			break;
	}
	sigaction(SIGALRM, &old_alarm, NULL);
	if (r < 0) {
		attach_release_all(a, 100);
		attach_fini(a);
		if (!diag->err) {
			diag->err = r;
			snprintf(diag->why, sizeof(diag->why), "%s", error_str(r));
		}
		return diag->err;
	}
	if (a->n == 0) {
		diag->err = -ESRCH;
		snprintf(diag->why, sizeof(diag->why), "no such process");
		return -ESRCH;
	}
	return 0;
}

/* Would a stop break t's call?  It is blocked, by /proc/PID/task/TID/
 * syscall, in one of the calls that fail with EINTR when stopped
 * (syscalls_eintr_on_stop). */
static bool attach_stop_would_break(const struct attach *a, const struct attach_thread *t)
{
	char path[96], buf[512];
	struct threadstate ts;
	bool socket;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)a->pid, (int)t->tid);
	if (procfs_read_file(path, buf, sizeof(buf)) <= 0 ||
	    threadstate_parse_syscall(buf, &ts) != 0 || !ts.blocked_known || ts.syscall_nr < 0)
		return false;
	socket = ts.args[0] < 65536 && threadstate_fd_is_socket(t->tid, (int)ts.args[0]);
	return syscalls_eintr_on_stop(ts.syscall_nr, socket);
}

static size_t attach_count_traced(const struct attach *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		if (a->threads[i]->state != ATTACH_GONE)
			n++;
	return n;
}

/* Does any thread still owe us a stop we asked for? */
static bool attach_any_pending(const struct attach *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->threads[i]->state != ATTACH_GONE && a->threads[i]->interrupt_pending)
			return true;
	return false;
}

/* Release, in the order that keeps every promise to the target:
 * - a thread held in a stop of ours is detached at once;
 * - a thread blocked in a call a stop would break (epoll_wait, semop,
 *   sigtimedwait, io_getevents, socket calls: attach_stop_would_break) is
 *   not asked to stop at all.  It stays seized, running undisturbed, and
 *   the kernel detaches it when pprobe exits (exit_ptrace() unlinks a
 *   tracee that is not in a stop without stopping or waking it).  Until
 *   then any stop it reports (a signal for it, a job-control stop, a new
 *   thread) is answered with a detach (attach_service, attach_fini);
 * - every other thread is asked to stop (PTRACE_INTERRUPT) and detached
 *   at its stop.  Its call, if any, is one the kernel restarts, so a stop
 *   that comes too late to be seen (a thread that cannot run: a frozen or
 *   throttled cgroup, uninterruptible sleep) costs it nothing: when pprobe
 *   exits, the kernel drops the request it had not yet answered.
 * A thread whose stop is still owed after timeout_ms is counted in
 * stuck_threads, one left alone in left_traced; both stay in the table. */
void attach_release_all(struct attach *a, int timeout_ms)
{
	/* Thousands of sleeping threads take a while to wake and stop on a
	 * couple of CPUs: allow 100 us more per thread. */
	int64_t start = timeutil_mono_ns();
	int64_t deadline = start + (int64_t)timeout_ms * 1000000 + (int64_t)a->n * 100000;

	if (a->releasing) {
		attach_service(a);
		return;
	}
	a->releasing = true;
	attach_drain(a);
	for (size_t i = 0; i < a->n; i++) {
		struct attach_thread *t = a->threads[i];

		if (t->state == ATTACH_GONE)
			continue;
		if (t->state == ATTACH_STOPPED) {
			attach_detach_now(a, t, 0);
			continue;
		}
		if (t->interrupt_pending)
			continue; /* asked already: its stop is on its way */
		if (t->state == ATTACH_RUNNING && attach_stop_would_break(a, t))
			continue; /* left to the kernel, undisturbed */
		/* Running, or listening in a job-control stop: it must report
		 * a stop before it can be detached.  The handler detaches it
		 * when it does. */
		if (ptrace_interrupt(t->tid) == -ESRCH)
			attach_mark_gone(a, t);
		else
			t->interrupt_pending = true;
	}
	while (attach_any_pending(a)) {
		int64_t left = deadline - timeutil_mono_ns();
		struct pollfd pfd = { .fd = a->sigfd, .events = POLLIN };

		if (attach_reap_each(a) > 0)
			continue;
		if (left <= 0)
			break;
		/* Short naps: stops are collected by polling each thread. */
		if (poll(&pfd, 1, 1) > 0)
			attach_read_signals(a);
	}
	a->release_ns = timeutil_mono_ns() - start;
	a->stuck_threads = 0;
	a->left_traced = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct attach_thread *t = a->threads[i];

		if (t->state == ATTACH_GONE)
			continue;
		if (t->interrupt_pending)
			a->stuck_threads++;
		else
			a->left_traced++;
	}
	if (!attach_count_traced(a))
		attach_fini(a);
}

void attach_service(struct attach *a)
{
	if (a->releasing && a->n)
		attach_drain(a);
}

void attach_fini(struct attach *a)
{
	attach_service(a);
	for (size_t i = 0; i < a->n; i++) {
		attach_mark_gone(a, a->threads[i]);
		attach_thread_free(a, a->threads[i]);
	}
	free(a->threads);
	free(a->index);
	a->threads = NULL;
	a->index = NULL;
	a->n = a->cap = a->index_cap = 0;
}
