/* snapshot.h - what is copied from a stopped thread: registers and stack.
 *
 * snapshot_capture() is the only code that runs while a target thread is
 * stopped for a sample: one PTRACE_GETREGSET and one process_vm_readv.
 * Everything after (unwinding, symbolizing) reads the copy.  The snapshot
 * is plain data, so recorded snapshots can be replayed in tests.
 */
#ifndef PPROBE_SNAPSHOT_H
#define PPROBE_SNAPSHOT_H

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
};

int snapshot_init(struct snapshot *s, size_t stack_cap);
void snapshot_fini(struct snapshot *s);

struct maps;

/* Copy registers and stack of stopped thread tid of process pid: from the
 * stack pointer (less the red zone) up to stack_cap bytes, and no further
 * than the end of the mapping holding the stack pointer when maps (may be
 * NULL) knows it.  A read that ends early at an unmapped page is not an
 * error.  maps is only looked up, never re-read: this runs while the
 * thread is stopped. */
int snapshot_capture(struct snapshot *s, pid_t pid, pid_t tid, const struct maps *maps);

#endif
