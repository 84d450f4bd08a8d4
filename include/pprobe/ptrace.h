/* ptrace.h - thin wrappers over ptrace(2), and the classification of stops.
 *
 * pprobe only ever uses PTRACE_SEIZE (never PTRACE_ATTACH, which sends
 * SIGSTOP, and never PTRACE_O_EXITKILL, so a killed pprobe leaves the
 * target running: the kernel detaches a dead tracer's tracees).
 */
#ifndef PPROBE_PTRACE_H
#define PPROBE_PTRACE_H

#include <sys/types.h>
#include <sys/user.h>

enum ptrace_stop_kind {
	PTRACE_KIND_EXITED,    /* the thread exited or was killed */
	PTRACE_KIND_INTERRUPT, /* PTRACE_EVENT_STOP, SIGTRAP: our interrupt or a new thread's first stop */
	PTRACE_KIND_GROUP,     /* PTRACE_EVENT_STOP with a stop signal: group-stop (job control) */
	PTRACE_KIND_SIGNAL,    /* signal-delivery-stop: the signal must be passed on */
	PTRACE_KIND_CLONE,     /* PTRACE_EVENT_CLONE: a new thread */
	PTRACE_KIND_EXEC,      /* PTRACE_EVENT_EXEC */
	PTRACE_KIND_OTHER,     /* another event stop: just continue */
	PTRACE_KIND_SYSCALL,   /* syscall-entry-stop (SIGTRAP|0x80), asked for with ptrace_syscall */
};

struct ptrace_stop {
	enum ptrace_stop_kind kind;
	int sig; /* the signal for SIGNAL and GROUP stops */
};

/* Classify a waitpid() status of a seized thread. */
void ptrace_classify(int status, struct ptrace_stop *out);

/* Each returns 0 or -errno. */
int ptrace_seize(pid_t tid);
int ptrace_interrupt(pid_t tid);
int ptrace_cont(pid_t tid, int sig);
/* PTRACE_SYSCALL: like ptrace_cont, and the thread stops once more at the
 * entry of its next system call (PTRACE_KIND_SYSCALL), which tells that it
 * has been back in user space since. */
int ptrace_syscall(pid_t tid, int sig);
int ptrace_listen(pid_t tid);
int ptrace_detach(pid_t tid, int sig);
int ptrace_get_regs(pid_t tid, struct user_regs_struct *regs);
int ptrace_get_event_msg(pid_t tid, unsigned long *msg);
int ptrace_set_regs(pid_t tid, const struct user_regs_struct *regs);

/* Undo the EINTR our stop caused.  Some blocked calls (epoll_wait,
 * sigtimedwait, socket calls with timeouts...) fail with EINTR when the
 * thread is stopped by PTRACE_INTERRUPT, even with no signal for it.  If
 * regs (the registers of tid, in an interrupt stop we caused) show such a
 * call returning -EINTR, set its return value to the kernel's internal
 * -ERESTARTNOHAND: when the thread runs on, the kernel restarts the call
 * as if nothing happened -- or, if a signal handler runs first, reports
 * EINTR exactly as it would have without us.  Returns 1 if it rewrote the
 * registers, 0 if there was nothing to do, or -errno. */
int ptrace_restart_interrupted_call(pid_t tid, struct user_regs_struct *regs);

#endif
