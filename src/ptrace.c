/* ptrace.c - ptrace(2) wrappers and stop classification (see ptrace.h). */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "pprobe/ptrace.h"
#include "pprobe/syscalls.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

static int ptrace_ret(long r)
{
	return r < 0 ? -errno : 0;
}

void ptrace_classify(int status, struct ptrace_stop *out)
{
	int event = (unsigned)status >> 16;
	int sig;

	out->sig = 0;
	if (!WIFSTOPPED(status)) {
		out->kind = PTRACE_KIND_EXITED;
		return;
	}
	sig = WSTOPSIG(status);
	switch (event) {
	case 0:
		/* PTRACE_O_TRACESYSGOOD marks a syscall stop with 0x80, which
		 * no signal number has. */
		if (sig == (SIGTRAP | 0x80)) {
			out->kind = PTRACE_KIND_SYSCALL;
			return;
		}
		/* With PTRACE_SEIZE a plain stop is otherwise always signal-
		 * delivery: group-stops are reported as PTRACE_EVENT_STOP. */
		out->kind = PTRACE_KIND_SIGNAL;
		out->sig = sig;
		return;
	case PTRACE_EVENT_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			out->kind = PTRACE_KIND_GROUP;
			out->sig = sig;
		} else {
			out->kind = PTRACE_KIND_INTERRUPT;
		}
		return;
	case PTRACE_EVENT_CLONE:
		out->kind = PTRACE_KIND_CLONE;
		return;
	case PTRACE_EVENT_EXEC:
		out->kind = PTRACE_KIND_EXEC;
		return;
	default:
		out->kind = PTRACE_KIND_OTHER;
		return;
	}
}

int ptrace_seize(pid_t tid)
{
	/* TRACECLONE: the kernel seizes new threads for us, so none escapes
	 * between two reads of /proc/PID/task.  TRACEEXEC: an exec is reported
	 * (maps and per-thread state must be renewed).  Not TRACEFORK:
	 * children are other processes and are left alone.  TRACESYSGOOD:
	 * the syscall stops ptrace_syscall asks for are told from a SIGTRAP
	 * for the target. */
	return ptrace_ret(ptrace(PTRACE_SEIZE, tid, 0L,
				 (long)(PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
					PTRACE_O_TRACESYSGOOD)));
}

int ptrace_interrupt(pid_t tid)
{
	return ptrace_ret(ptrace(PTRACE_INTERRUPT, tid, 0L, 0L));
}

int ptrace_cont(pid_t tid, int sig)
{
	return ptrace_ret(ptrace(PTRACE_CONT, tid, 0L, (long)sig));
}

int ptrace_syscall(pid_t tid, int sig)
{
	return ptrace_ret(ptrace(PTRACE_SYSCALL, tid, 0L, (long)sig));
}

int ptrace_listen(pid_t tid)
{
	return ptrace_ret(ptrace(PTRACE_LISTEN, tid, 0L, 0L));
}

int ptrace_detach(pid_t tid, int sig)
{
	return ptrace_ret(ptrace(PTRACE_DETACH, tid, 0L, (long)sig));
}

int ptrace_get_regs(pid_t tid, struct user_regs_struct *regs)
{
	struct iovec iov = { regs, sizeof(*regs) };

	return ptrace_ret(ptrace(PTRACE_GETREGSET, tid, (long)NT_PRSTATUS, &iov));
}

int ptrace_get_event_msg(pid_t tid, unsigned long *msg)
{
	return ptrace_ret(ptrace(PTRACE_GETEVENTMSG, tid, 0L, msg));
}

int ptrace_set_regs(pid_t tid, const struct user_regs_struct *regs)
{
	struct iovec iov = { (void *)regs, sizeof(*regs) };

	return ptrace_ret(ptrace(PTRACE_SETREGSET, tid, (long)NT_PRSTATUS, &iov));
}

#define PTRACE_EINTR 4
#define PTRACE_ERESTARTNOHAND 514

int ptrace_restart_interrupted_call(pid_t tid, struct user_regs_struct *regs)
{
	long nr = (long)(long long)regs->orig_rax;
	int err;

	if (nr < 0 || (long long)regs->rax != -PTRACE_EINTR || !syscalls_eintr_on_stop(nr, true))
		return 0;
	regs->rax = (unsigned long long)-PTRACE_ERESTARTNOHAND;
	err = ptrace_set_regs(tid, regs);
	return err ? err : 1;
}
