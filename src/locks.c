/* locks.c - name the lock a futex waiter waits for (see locks.h).
 *
 * glibc (2.36, x86_64) layouts relied on, each checked by a dump test:
 * - pthread_mutex_t: int __lock at 0, unsigned __count at 4, int __owner at
 *   8 (the holder's tid), int __kind at 16.  A waiter sleeps in
 *   futex(&__lock, FUTEX_WAIT_PRIVATE, 2) from __lll_lock_wait.  A PI mutex
 *   waiter calls FUTEX_LOCK_PI and __lock holds the owner's tid.
 * - pthread_cond_t: unsigned __g_signals[2] at 40; a waiter sleeps on
 *   __g_signals[g], so the condvar is at uaddr - 40 - 4g (8-aligned).
 * - pthread_join: sleeps on the joined thread's tid word, whose value (the
 *   futex's expected value) is that thread's id.
 */
#include <string.h>

#include "pprobe/locks.h"

#define FUTEX_CMD_MASK 0x7f
#define FUTEX_LOCK_PI 6
#define FUTEX_LOCK_PI2 13
#define FUTEX_TID_MASK 0x3fffffffu

struct locks_pattern {
	const char *needle;
	enum dump_lock_kind kind;
};

/* Matched against frames innermost first: the first frame that names a
 * known primitive decides (a condvar waiter re-taking its mutex shows
 * __lll_lock_wait innermost: it waits for the mutex). */
static const struct locks_pattern locks_patterns[] = {
	{ "__lll_lock_wait", DUMP_LOCK_MUTEX },
	{ "pthread_mutex_", DUMP_LOCK_MUTEX },
	{ "__pthread_mutex_lock", DUMP_LOCK_MUTEX },
	{ "pthread_cond_", DUMP_LOCK_CONDVAR },
	{ "__condvar", DUMP_LOCK_CONDVAR },
	{ "pthread_rwlock_", DUMP_LOCK_RWLOCK },
	{ "__pthread_rwlock", DUMP_LOCK_RWLOCK },
	{ "sem_wait", DUMP_LOCK_SEMAPHORE },
	{ "sem_timedwait", DUMP_LOCK_SEMAPHORE },
	{ "sem_clockwait", DUMP_LOCK_SEMAPHORE },
	{ "__new_sem_wait", DUMP_LOCK_SEMAPHORE },
	{ "pthread_join", DUMP_LOCK_JOIN },
	{ "pthread_clockjoin", DUMP_LOCK_JOIN },
	{ "pthread_timedjoin", DUMP_LOCK_JOIN },
	{ "__pthread_clockjoin", DUMP_LOCK_JOIN },
};

static enum dump_lock_kind locks_kind_from_stack(const char *const *functions, size_t n)
{
	for (size_t i = 0; i < n && i < 12; i++) {
		if (!functions[i])
			continue;
		for (size_t j = 0; j < sizeof(locks_patterns) / sizeof(locks_patterns[0]); j++)
			if (strstr(functions[i], locks_patterns[j].needle))
				return locks_patterns[j].kind;
	}
	return DUMP_LOCK_FUTEX;
}

static int32_t locks_word(const struct locks_futex *f, long off)
{
	int32_t v;
	long at = LOCKS_WINDOW_BEFORE + off;

	if (!f->window_ok || at < 0 || at + 4 > LOCKS_WINDOW_SIZE)
		return 0;
	memcpy(&v, f->window + at, sizeof(v));
	return v;
}

void locks_identify(const struct locks_futex *f, const char *const *functions, size_t n,
		    struct dump_wait *w)
{
	int cmd = f->op & FUTEX_CMD_MASK;

	memset(w, 0, sizeof(*w));
	w->kind = locks_kind_from_stack(functions, n);
	w->addr = f->uaddr;
	switch (w->kind) {
	case DUMP_LOCK_MUTEX:
		if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2) {
			w->kind = DUMP_LOCK_MUTEX_PI;
			w->owner = (pid_t)((uint32_t)locks_word(f, 0) & FUTEX_TID_MASK);
		} else {
			w->owner = (pid_t)locks_word(f, 8);
		}
		if (w->owner < 0)
			w->owner = 0;
		break;
	case DUMP_LOCK_CONDVAR:
		w->addr = (f->uaddr - 40) % 8 == 0 ? f->uaddr - 40 : f->uaddr - 44;
		break;
	case DUMP_LOCK_JOIN:
		w->owner = (pid_t)f->val;
		if (w->owner <= 0)
			w->owner = 0;
		break;
	default:
		break;
	}
}
