/* locks.h - what a thread blocked on a futex waits for.
 *
 * The kind of lock is told by the stack (pthread_mutex_lock,
 * pthread_cond_wait, pthread_join...), the object's address and owner by
 * the futex address and the words around it, read while the process was
 * stopped.  Layouts are glibc's on x86_64 (see locks.c).
 */
#ifndef PPROBE_LOCKS_H
#define PPROBE_LOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "pprobe/dump.h"

/* Bytes read around a futex word: LOCKS_WINDOW_BEFORE before it, and the
 * rest from it on. */
#define LOCKS_WINDOW_BEFORE 48
#define LOCKS_WINDOW_SIZE 96

struct locks_futex {
	uint64_t uaddr;   /* futex word address (first argument) */
	int op;           /* futex operation (second argument) */
	uint32_t val;     /* expected value (third argument) */
	uint8_t window[LOCKS_WINDOW_SIZE]; /* memory from uaddr - LOCKS_WINDOW_BEFORE */
	int window_ok;    /* window was read */
};

/* Fill w for a thread in futex(2) with these arguments; functions are the
 * symbolized frame names, innermost first. */
void locks_identify(const struct locks_futex *f, const char *const *functions, size_t n,
		    struct dump_wait *w);

#endif
