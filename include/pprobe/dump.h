/* dump.h - the facts of a thread dump, as plain data.
 *
 * cmd_dump.c fills a struct dump from one consistent snapshot of every
 * thread; waitgraph.c finds who waits for whom; fmt_dump.c writes it as
 * text, JSON or a pprof "threads" profile.  Nothing here touches the target.
 */
#ifndef PPROBE_DUMP_H
#define PPROBE_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum dump_lock_kind {
	DUMP_LOCK_NONE = 0,
	DUMP_LOCK_MUTEX,     /* pthread_mutex_t (normal, recursive, error-checking) */
	DUMP_LOCK_MUTEX_PI,  /* priority-inheritance pthread_mutex_t */
	DUMP_LOCK_CONDVAR,   /* pthread_cond_t */
	DUMP_LOCK_RWLOCK,    /* pthread_rwlock_t */
	DUMP_LOCK_SEMAPHORE, /* sem_t */
	DUMP_LOCK_JOIN,      /* pthread_join: waits for a thread to exit */
	DUMP_LOCK_FUTEX,     /* a futex of unknown kind */
};

/* What a blocked thread waits for.  addr is the lock object's address
 * (for a futex of unknown kind, the futex word's); owner is the thread
 * holding it (or, for a join, the thread waited for), 0 if unknown. */
struct dump_wait {
	enum dump_lock_kind kind;
	uint64_t addr;
	pid_t owner;
};

struct dump_frame {
	uint64_t pc;
	char *function; /* demangled, never NULL */
	char *file;     /* NULL if unknown */
	int line;
	char *module;   /* basename of the ELF file, NULL if unknown */
	bool inlined;   /* inlined into the next (outer) frame */
};

struct dump_thread {
	pid_t tid;
	char name[16];
	char state;            /* /proc state letter: R S D T t Z X I */
	long syscall_nr;       /* system call it is in, -1 if none or running */
	uint64_t syscall_args[6];
	char wchan[64];        /* kernel wait channel, "" if unknown */
	uint64_t cpu_ns;       /* CPU time used (user + system) */
	struct dump_wait wait;
	struct dump_frame *frames; /* innermost first */
	size_t nframes;
	const char *unwind_end;    /* why the stack ends: "complete", "depth limit"... */
	bool partial;          /* not stopped (uninterruptible, or a call that would see EINTR):
				  stack from the kernel's saved pc and sp only */
	bool captured;         /* has a user stack at all */
	const char *stack_missing; /* static text: why !captured (never NULL then) */
	char *kernel_stack;    /* /proc/.../stack text for blocked threads, NULL if unreadable */
};

struct dump_cycle {
	size_t *members; /* indices into dump.threads, in wait order: each waits for the next */
	size_t n;
};

/* An executable mapping of the process, for the pprof form's Mapping table. */
struct dump_mapping {
	uint64_t start, limit, offset;
	char *file;
	char *build_id; /* hex, NULL if none */
};

struct dump {
	pid_t pid;
	char comm[64];
	int64_t time_ns;    /* wall clock when the snapshot was taken */
	int64_t frozen_ns;  /* how long the process was stopped */
	bool was_stopped;   /* the process was in a job-control stop (left so) */
	struct dump_thread *threads;
	size_t n;
	struct dump_cycle *cycles; /* deadlocks, filled by waitgraph_find_cycles */
	size_t ncycles;
	struct dump_mapping *mappings; /* executable mappings, the main executable's first */
	size_t nmappings;
};

void dump_free(struct dump *d); /* frees everything inside d, not d itself */

/* Append a mapping (file and build_id are copied; build_id may be NULL or ""). */
int dump_add_mapping(struct dump *d, uint64_t start, uint64_t limit, uint64_t offset,
		     const char *file, const char *build_id);

/* Words for a state letter: "running", "sleeping", "disk sleep (uninterruptible)"... */
const char *dump_state_str(char state);
/* "mutex", "condition variable"... */
const char *dump_lock_kind_str(enum dump_lock_kind k);
/* Index of the thread with this tid, or -1. */
long dump_find_tid(const struct dump *d, pid_t tid);

#endif
