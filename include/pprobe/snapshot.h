/* snapshot.h - what is copied from a stopped thread: registers and stack.
 *
 * snapshot_capture() is the only code that runs while a target thread is
 * stopped for a sample: one PTRACE_GETREGSET and one process_vm_readv.
 * Everything after (unwinding, symbolizing) reads the copy.  The snapshot
 * is plain data, so recorded snapshots can be replayed in tests.
 */
#ifndef PPROBE_SNAPSHOT_H
#define PPROBE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* Below the stack pointer lies the x86_64 red zone a leaf function may use. */
#define SNAPSHOT_RED_ZONE 128

struct snapshot {
	pid_t tid;
	struct user_regs_struct regs;
	uint64_t stack_start; /* target address of stack[0] */
	size_t stack_len;     /* bytes copied */
	size_t stack_cap;
	uint8_t *stack;       /* owned */
	int64_t stop_ns;      /* how long the thread was stopped for this */
	bool regs_partial;    /* only pc, sp and system call arguments are known */
};

int snapshot_init(struct snapshot *s, size_t stack_cap);
void snapshot_fini(struct snapshot *s);

struct maps;

/* Copy registers and stack of stopped thread tid: from the
 * stack pointer (less the red zone) up to stack_cap bytes, and no further
 * than the end of the mapping holding the stack pointer when maps (may be
 * NULL) knows it.  A read that ends early at an unmapped page is not an
 * error.  maps is only looked up, never re-read: this runs while the
 * thread is stopped.
 * Memory is read through the thread itself, never through the process id:
 * a main thread that called pthread_exit has no memory left to read. */
int snapshot_capture(struct snapshot *s, pid_t tid, const struct maps *maps);

/* Capture a thread that is blocked in the kernel, without stopping it: the
 * pc, sp and system call arguments the kernel saved (from
 * /proc/PID/task/TID/syscall) and its stack.  The other registers are
 * unknown (regs_partial), so unwinding may end early.  Used where a stop
 * would harm the thread (a call that fails with EINTR after a ptrace stop)
 * or cannot happen (uninterruptible sleep). */
int snapshot_capture_blocked(struct snapshot *s, pid_t tid, const struct maps *maps,
			     long nr, const uint64_t args[6], uint64_t sp, uint64_t pc);

/* Read len bytes of the target's memory at addr (a lock word, for the
 * dump), through live thread tid. */
int snapshot_read_word_window(pid_t tid, uint64_t addr, void *buf, size_t len);

#endif
