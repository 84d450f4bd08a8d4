/* dump.c - the thread dump's data: freeing it, naming its states and
 * lock kinds, finding a thread by id.  Pure data; nothing here touches
 * the target (see dump.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/dump.h"

/* Frees every string and array the dump owns (frames and their strings,
 * kernel stacks, cycles) and leaves d empty, so a second call is harmless.
 * unwind_end is a static string and is not freed. */
void dump_free(struct dump *d)
{
	size_t i, j;

	if (!d)
		return;
	for (i = 0; d->threads && i < d->n; i++) {
		struct dump_thread *t = &d->threads[i];

		for (j = 0; t->frames && j < t->nframes; j++) {
			free(t->frames[j].function);
			free(t->frames[j].file);
			free(t->frames[j].module);
		}
		free(t->frames);
		free(t->kernel_stack);
	}
	free(d->threads);
	for (i = 0; d->cycles && i < d->ncycles; i++)
		free(d->cycles[i].members);
	free(d->cycles);
	for (i = 0; d->mappings && i < d->nmappings; i++) {
		free(d->mappings[i].file);
		free(d->mappings[i].build_id);
	}
	free(d->mappings);
	d->threads = NULL;
	d->n = 0;
	d->cycles = NULL;
	d->ncycles = 0;
}

/* The words /proc/PID/status uses for each state letter (fs/proc/array.c's
 * task_state_array), so the dump reads like the kernel's own view. */
const char *dump_state_str(char state)
{
	switch (state) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk sleep (uninterruptible)";
	case 'T': return "stopped";
	case 't': return "tracing stop";
	case 'Z': return "zombie";
	case 'X': return "dead";
	case 'I': return "idle";
	default: return "unknown";
	}
}

/* Human words for a lock kind, used in text output and pprof labels. */
const char *dump_lock_kind_str(enum dump_lock_kind k)
{
	switch (k) {
	case DUMP_LOCK_NONE: return "none";
	case DUMP_LOCK_MUTEX: return "mutex";
	case DUMP_LOCK_MUTEX_PI: return "PI mutex";
	case DUMP_LOCK_CONDVAR: return "condition variable";
	case DUMP_LOCK_RWLOCK: return "rwlock";
	case DUMP_LOCK_SEMAPHORE: return "semaphore";
	case DUMP_LOCK_JOIN: return "join";
	case DUMP_LOCK_FUTEX: return "futex";
	}
	return "unknown";
}

/* Index of the thread with this tid, or -1.  Threads are usually listed
 * in /proc/PID/task order, which is ascending tid unless the pid space
 * wrapped, so try a binary search first and confirm the hit; fall back to
 * a linear scan, which is always right whatever the order. */
long dump_find_tid(const struct dump *d, pid_t tid)
{
	size_t lo = 0, hi, i;

	if (!d || !d->threads || tid <= 0)
		return -1;
	hi = d->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->threads[mid].tid == tid)
			return (long)mid;
		if (d->threads[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = 0; i < d->n; i++)
		if (d->threads[i].tid == tid)
			return (long)i;
	return -1;
}

int dump_add_mapping(struct dump *d, uint64_t start, uint64_t limit, uint64_t offset,
		     const char *file, const char *build_id)
{
	struct dump_mapping *nv = realloc(d->mappings, (d->nmappings + 1) * sizeof(*nv));
	struct dump_mapping *m;

	if (!nv)
		return -ENOMEM;
	d->mappings = nv;
	m = &nv[d->nmappings];
	*m = (struct dump_mapping){ .start = start, .limit = limit, .offset = offset };
	m->file = strdup(file);
	m->build_id = build_id && build_id[0] ? strdup(build_id) : NULL;
	if (!m->file || (build_id && build_id[0] && !m->build_id)) {
		free(m->file);
		free(m->build_id);
		return -ENOMEM;
	}
	d->nmappings++;
	return 0;
}
