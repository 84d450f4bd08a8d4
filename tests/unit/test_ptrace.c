/* test_ptrace.c - classifying a seized thread's waitpid status
 * (ptrace_classify), with the status words the kernel builds: for a stop,
 * 0x7f | sig << 8 | event << 16 (ptrace(2), "Stopped tracees").
 */
#include <signal.h>
#include <sys/ptrace.h>

#include "check.h"
#include "pprobe/ptrace.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

static int stopped(int sig, int event)
{
	return 0x7f | sig << 8 | event << 16;
}

static struct ptrace_stop classify(int status)
{
	struct ptrace_stop s = { .kind = -1, .sig = -1 };

	ptrace_classify(status, &s);
	return s;
}

int main(void)
{
	struct ptrace_stop s;

	/* Exited (status 0 / 1 << 8) and killed (the signal in the low
	 * bits): gone either way. */
	CHECK_EQ_INT(classify(0).kind, PTRACE_KIND_EXITED);
	CHECK_EQ_INT(classify(1 << 8).kind, PTRACE_KIND_EXITED);
	s = classify(SIGKILL);
	CHECK_EQ_INT(s.kind, PTRACE_KIND_EXITED);
	CHECK_EQ_INT(s.sig, 0);

	/* Signal-delivery-stop: the signal must be passed on. */
	s = classify(stopped(SIGUSR1, 0));
	CHECK_EQ_INT(s.kind, PTRACE_KIND_SIGNAL);
	CHECK_EQ_INT(s.sig, SIGUSR1);
	/* Under PTRACE_SEIZE a plain SIGSTOP stop is its delivery, not a
	 * group-stop. */
	s = classify(stopped(SIGSTOP, 0));
	CHECK_EQ_INT(s.kind, PTRACE_KIND_SIGNAL);
	CHECK_EQ_INT(s.sig, SIGSTOP);
	/* A syscall-entry-stop (PTRACE_O_TRACESYSGOOD) is not a SIGTRAP for
	 * the target; a plain SIGTRAP is. */
	CHECK_EQ_INT(classify(stopped(SIGTRAP | 0x80, 0)).kind, PTRACE_KIND_SYSCALL);
	s = classify(stopped(SIGTRAP, 0));
	CHECK_EQ_INT(s.kind, PTRACE_KIND_SIGNAL);
	CHECK_EQ_INT(s.sig, SIGTRAP);

	/* PTRACE_EVENT_STOP: with SIGTRAP, our interrupt (or a new thread's
	 * first stop); with a stop signal, a group-stop. */
	s = classify(stopped(SIGTRAP, PTRACE_EVENT_STOP));
	CHECK_EQ_INT(s.kind, PTRACE_KIND_INTERRUPT);
	CHECK_EQ_INT(s.sig, 0);
	{
		static const int stops[] = { SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU };

		for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
			s = classify(stopped(stops[i], PTRACE_EVENT_STOP));
			CHECK_EQ_INT(s.kind, PTRACE_KIND_GROUP);
			CHECK_EQ_INT(s.sig, stops[i]);
		}
	}

	/* The other events. */
	s = classify(stopped(SIGTRAP, PTRACE_EVENT_CLONE));
	CHECK_EQ_INT(s.kind, PTRACE_KIND_CLONE);
	CHECK_EQ_INT(s.sig, 0);
	CHECK_EQ_INT(classify(stopped(SIGTRAP, PTRACE_EVENT_EXEC)).kind, PTRACE_KIND_EXEC);
	CHECK_EQ_INT(classify(stopped(SIGTRAP, PTRACE_EVENT_EXIT)).kind, PTRACE_KIND_OTHER);
	CHECK_EQ_INT(classify(stopped(SIGTRAP, PTRACE_EVENT_FORK)).kind, PTRACE_KIND_OTHER);
	return check_done();
}
