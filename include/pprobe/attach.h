/* attach.h - the one owner of every traced thread.
 *
 * attach_seize_all() seizes every thread of a process; the kernel then
 * seizes the threads it creates (PTRACE_O_TRACECLONE).  Every waitpid()
 * status goes through one handler, which keeps the target's behaviour
 * unchanged: signals are passed on as they were (signal-delivery-stop ->
 * PTRACE_CONT with the same signal), job-control stops are honoured
 * (group-stop -> PTRACE_LISTEN, so the thread stays stopped), new threads
 * are added and run on, exits are recorded.  attach_release_all() is the
 * single release path, reached from every way a run ends.
 *
 * Signals for pprobe itself (SIGCHLD, SIGINT, SIGTERM, SIGHUP) arrive on a
 * signalfd the caller creates with those signals blocked.
 */
#ifndef PPROBE_ATTACH_H
#define PPROBE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum attach_tstate {
	ATTACH_RUNNING = 0,
	ATTACH_STOPPED,       /* in the interrupt stop we asked for */
	ATTACH_GROUP_STOPPED, /* job-control stop, left stopped with PTRACE_LISTEN */
	ATTACH_GONE,          /* exited, or detached */
};

struct attach_thread {
	pid_t tid;
	enum attach_tstate state;
	bool interrupt_pending; /* PTRACE_INTERRUPT sent, its stop not seen yet */
	bool in_group_stop;     /* job-control stopped: resume with LISTEN, not CONT */
	bool eintr_kept;        /* its call's EINTR is a signal's or a job-control
				 * stop's: not to be undone at a stop of ours
				 * until its next system call (attach.c) */
	int sched_fd;           /* /proc/PID/task/TID/schedstat, -1 until opened */
	int stat_fd;            /* /proc/PID/task/TID/stat, -1 until (or unless) kept */
	uint64_t last_cpu_ns;   /* on-CPU time at the last look */
	uint64_t pending_cpu_ns; /* CPU time not yet given to a sample */
	bool cpu_seen;
	char name[16];
	int64_t name_time_ns;
	uint64_t samples;
	void *user; /* the driver's per-thread state, freed with attach.user_free */
};

struct attach {
	pid_t pid;
	int sigfd;
	struct attach_thread **threads; /* each heap-allocated: pointers stay valid */
	size_t n, cap;
	int *index; /* open-addressing hash tid -> threads[] index, -1 empty */
	size_t index_cap;
	bool releasing;
	bool target_exited;
	int exit_status;       /* waitpid status of the leader, when it exited */
	bool exec_seen;        /* maps and images must be re-read */
	int64_t exec_ns;       /* CLOCK_MONOTONIC when the last exec was reported */
	int stop_signal;       /* SIGINT/SIGTERM/SIGHUP received, or 0 */
	unsigned threads_exited;
	unsigned signals_passed;
	unsigned calls_restarted; /* blocked calls our stop broke, restarted */
	unsigned stuck_threads; /* asked to stop at release, did not in time */
	unsigned left_traced;   /* not asked (a stop would break its call): the
				 * kernel detaches it when pprobe exits */
	unsigned index_rebuilds; /* times the tid index was rebuilt (grown) */
	int64_t release_ns;     /* how long attach_release_all took: no thread
				   stopped for the release stayed stopped longer */
	void (*user_free)(void *user); /* frees attach_thread.user; may be NULL */
};

/* Diagnosis of a failed seize, filled for the command layer to report. */
struct attach_diag {
	int err;           /* -EPERM, -ESRCH, -PPROBE_E_TRACED ... */
	pid_t tracer_pid;  /* for -PPROBE_E_TRACED */
	char why[256];
};

void attach_init(struct attach *a, pid_t pid, int sigfd);
/* Seize every thread; on failure nothing stays traced and diag says why. */
int attach_seize_all(struct attach *a, struct attach_diag *diag);

/* Handle pending events and pprobe's own signals, waiting at most
 * timeout_ns for the first (0: only what is pending now). */
int attach_poll(struct attach *a, int64_t timeout_ns);

/* Stop t with PTRACE_INTERRUPT and wait for the stop, at most timeout_ms.
 * 0: stopped (state ATTACH_STOPPED; in_group_stop tells a job-control
 * stopped thread, which resume puts back in its stop); -ESRCH: gone;
 * -ETIMEDOUT: it did not stop (uninterruptible sleep) and will be let go
 * when its stop comes. */
int attach_stop_thread(struct attach *a, struct attach_thread *t, int timeout_ms);

/* Ask t to stop (PTRACE_INTERRUPT) without waiting; a job-control-stopped
 * thread is asked too, so its registers can be read (it reports a ptrace
 * stop and is put back into its job-control stop on resume).  Then
 * attach_wait_stopped() waits, at most timeout_ms in all, until every thread
 * asked has stopped, gone, or the time is up. */
int attach_request_stop(struct attach *a, struct attach_thread *t);
void attach_wait_stopped(struct attach *a, int timeout_ms);
/* The same wait, but threads that did not stop in time stay asked (a
 * caller may wait again, or give up with attach_wait_stopped(a, 0)).
 * true: none is left to stop. */
bool attach_wait_stopped_for(struct attach *a, int timeout_ms);

/* Detach a thread we stopped, letting it run (or return to its job-control
 * stop): for a one-shot snapshot this saves stopping it again to detach. */
int attach_detach_thread(struct attach *a, struct attach_thread *t);

/* Let a thread we stopped run again (or return to its job-control stop). */
int attach_resume_thread(struct attach *a, struct attach_thread *t);

struct attach_thread *attach_find(struct attach *a, pid_t tid);

/* Free the entries of threads that are gone.  Invalidates pointers to
 * those entries only; call between ticks. */
void attach_compact(struct attach *a);

/* Detach every thread that can be detached without breaking its call
 * (waiting at most timeout_ms for the stops it asks for).  Threads blocked
 * in calls a stop would break are not stopped: they stay seized, running,
 * until pprobe exits (left_traced); so do threads that did not stop in time
 * (stuck_threads).  Until then call attach_service() often and exit soon
 * after attach_fini().  When nothing is left traced the table is freed
 * here.  A second call only services. */
void attach_release_all(struct attach *a, int timeout_ms);

/* After the release: answer the stops of threads still traced (each is
 * detached at its first stop, its signal passed on). */
void attach_service(struct attach *a);

/* Service once more and free the table.  Threads still traced are
 * detached by the kernel when pprobe exits, which must follow at once. */
void attach_fini(struct attach *a);

#endif
