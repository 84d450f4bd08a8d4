/* test_locks.c - naming the lock a futex waiter waits for (locks.c), from
 * the stack and the words around the futex, with glibc's x86_64 layouts
 * written out here by hand.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "pprobe/dump.h"
#include "pprobe/locks.h"

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAIT_BITSET_PRIVATE (9 | 128)
#define FUTEX_LOCK_PI_PRIVATE (6 | 128)
#define FUTEX_LOCK_PI2 13

/* A futex at uaddr whose surroundings are zero but for the 32-bit word
 * at byte offset off (relative to uaddr) set to v. */
static struct locks_futex futex_at(uint64_t uaddr, int op, uint32_t val, long off, int32_t v)
{
	struct locks_futex f;

	memset(&f, 0, sizeof(f));
	f.uaddr = uaddr;
	f.op = op;
	f.val = val;
	f.window_ok = 1;
	memcpy(f.window + LOCKS_WINDOW_BEFORE + off, &v, sizeof(v));
	return f;
}

int main(void)
{
	struct dump_wait w;
	struct locks_futex f;

	/* A mutex waiter: the owner's tid is __owner, 8 bytes in. */
	{
		const char *stack[] = { "__lll_lock_wait", "pthread_mutex_lock", "worker" };

		f = futex_at(0x601040, FUTEX_WAIT_PRIVATE, 2, 8, 4242);
		locks_identify(&f, stack, 3, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_MUTEX);
		CHECK_EQ_INT(w.addr, 0x601040);
		CHECK_EQ_INT(w.owner, 4242);

		/* The window could not be read: no owner rather than a guess. */
		f.window_ok = 0;
		locks_identify(&f, stack, 3, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_MUTEX);
		CHECK_EQ_INT(w.owner, 0);

		/* A negative __owner (hostile or torn memory) is no owner. */
		f = futex_at(0x601040, FUTEX_WAIT_PRIVATE, 2, 8, -5);
		locks_identify(&f, stack, 3, &w);
		CHECK_EQ_INT(w.owner, 0);
	}
	/* A PI mutex: the futex word itself holds the owner, with the
	 * FUTEX_WAITERS / OWNER_DIED bits above the tid. */
	{
		const char *stack[] = { "__pthread_mutex_lock_full", "worker" };

		f = futex_at(0x601080, FUTEX_LOCK_PI_PRIVATE, 0, 0, (int32_t)(0x80000000u | 777));
		locks_identify(&f, stack, 2, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_MUTEX_PI);
		CHECK_EQ_INT(w.owner, 777);
		f.op = FUTEX_LOCK_PI2;
		locks_identify(&f, stack, 2, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_MUTEX_PI);
	}
	/* A condvar waiter sleeps on __g_signals[g], 40 + 4g bytes in: the
	 * condvar (8-aligned) is 40 or 44 bytes below the futex. */
	{
		const char *stack[] = { "__futex_abstimed_wait_common", "__pthread_cond_wait_common",
					"pthread_cond_wait", "consumer" };

		f = futex_at(0x602028, FUTEX_WAIT_BITSET_PRIVATE, 0, 0, 0);
		locks_identify(&f, stack, 4, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_CONDVAR);
		CHECK_EQ_INT(w.addr, 0x602000);
		f.uaddr = 0x60202c;
		locks_identify(&f, stack, 4, &w);
		CHECK_EQ_INT(w.addr, 0x602000);
	}
	/* Re-taking the mutex inside pthread_cond_wait: the innermost known
	 * frame decides, so it is the mutex that is waited for. */
	{
		const char *stack[] = { "__lll_lock_wait", "pthread_cond_wait", "consumer" };

		f = futex_at(0x601040, FUTEX_WAIT_PRIVATE, 2, 8, 99);
		locks_identify(&f, stack, 3, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_MUTEX);
		CHECK_EQ_INT(w.owner, 99);
	}
	/* pthread_join waits on the joined thread's tid word: the expected
	 * value is that tid. */
	{
		const char *stack[] = { "__futex_abstimed_wait_common", "__pthread_clockjoin_ex",
					"pthread_join", "main" };

		f = futex_at(0x7f00000009d0, FUTEX_WAIT_BITSET_PRIVATE, 3131, 0, 3131);
		locks_identify(&f, stack, 4, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_JOIN);
		CHECK_EQ_INT(w.owner, 3131);
		f.val = 0x80000000u; /* not a tid */
		locks_identify(&f, stack, 4, &w);
		CHECK_EQ_INT(w.owner, 0);
	}
	/* Semaphores, rwlocks; and a futex nobody names is a plain futex. */
	{
		const char *sem[] = { "do_futex_wait", "__new_sem_wait_slow64", "sem_wait" };
		const char *rw[] = { "__pthread_rwlock_rdlock_full64", "pthread_rwlock_rdlock" };
		const char *plain[] = { "syscall", "my_own_futex_lock", NULL, "main" };

		f = futex_at(0x603000, FUTEX_WAIT_PRIVATE, 0, 0, 0);
		locks_identify(&f, sem, 3, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_SEMAPHORE);
		locks_identify(&f, rw, 2, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_RWLOCK);
		locks_identify(&f, plain, 4, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_FUTEX);
		CHECK_EQ_INT(w.addr, 0x603000);
		CHECK_EQ_INT(w.owner, 0);
		locks_identify(&f, NULL, 0, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_FUTEX);
	}
	/* Only the innermost 12 frames are looked at: a lock name far down
	 * the stack (main called pthread_join long ago) does not count. */
	{
		const char *deep[14];

		for (int i = 0; i < 13; i++)
			deep[i] = "busy";
		deep[13] = "pthread_join";
		f = futex_at(0x603000, FUTEX_WAIT_PRIVATE, 5, 0, 0);
		locks_identify(&f, deep, 14, &w);
		CHECK_EQ_INT(w.kind, DUMP_LOCK_FUTEX);
	}
	return check_done();
}
