/* waitgraph.c - deadlocks and wait chains in a thread dump.
 *
 * Each thread waits for at most one other (the owner its wait names), so
 * the graph is functional: every node has at most one out-edge, every
 * weakly connected part holds at most one cycle, and one walk per start
 * with a per-walk stamp finds every cycle in linear time.  A thread whose
 * owner is 0 (unknown) or not in the dump (exited, or another process's
 * thread on a shared mutex) has no edge.  A thread may name itself (a
 * normal mutex locked twice): that is a cycle of one, a real self-deadlock.
 * Pure: reads the dump, never the target.
 */
#include <errno.h>
#include <stdlib.h>

#include "pprobe/dump.h"
#include "pprobe/waitgraph.h"

/* Index of the thread t waits for, or -1. */
static long waitgraph_next(const struct dump *d, size_t t)
{
	pid_t owner = d->threads[t].wait.owner;

	return owner > 0 ? dump_find_tid(d, owner) : -1;
}

static void waitgraph_free_cycles(struct dump *d)
{
	size_t i;

	for (i = 0; d->cycles && i < d->ncycles; i++)
		free(d->cycles[i].members);
	free(d->cycles);
	d->cycles = NULL;
	d->ncycles = 0;
}

/* qsort_r order of cycles: by the tid of their first (lowest) member. */
static int waitgraph_cmp_cycles(const void *a, const void *b, void *arg)
{
	const struct dump *d = arg;
	pid_t ta = d->threads[((const struct dump_cycle *)a)->members[0]].tid;
	pid_t tb = d->threads[((const struct dump_cycle *)b)->members[0]].tid;

	return (ta > tb) - (ta < tb);
}

/* Store the cycle through node start (following next[]) in c, rotated so
 * that it begins at its lowest tid. */
static int waitgraph_take_cycle(const struct dump *d, const long *next, size_t start,
				struct dump_cycle *c)
{
	size_t n = 1, low = start, j, k;

	for (j = (size_t)next[start]; j != start; j = (size_t)next[j]) {
		if (d->threads[j].tid < d->threads[low].tid)
			low = j;
		n++;
	}
	c->members = malloc(n * sizeof(*c->members));
	if (!c->members)
		return -ENOMEM;
	for (j = low, k = 0; k < n; j = (size_t)next[j], k++)
		c->members[k] = j;
	c->n = n;
	return 0;
}

/* Replaces d->cycles with every cycle of the wait graph, each once, in
 * wait order starting at its lowest tid, the cycles ordered by that tid.
 * Returns 0 or -ENOMEM (then d->cycles is empty). */
int waitgraph_find_cycles(struct dump *d)
{
	long *next = NULL;
	size_t *mark = NULL, i, cap = 0;
	int rc = 0;

	waitgraph_free_cycles(d);
	if (!d->n)
		return 0;
	next = malloc(d->n * sizeof(*next));
	mark = calloc(d->n, sizeof(*mark));
	if (!next || !mark) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->n; i++)
		next[i] = waitgraph_next(d, i);
	/* Walk from every unvisited node, stamping nodes with the walk's
	 * number.  Meeting a node of the same walk closes a new cycle; meeting
	 * an older walk's node (or the end of the path) finds nothing new. */
	for (i = 0; i < d->n; i++) {
		long at = (long)i;

		while (at >= 0 && !mark[at]) {
			mark[at] = i + 1;
			at = next[at];
		}
		if (at < 0 || mark[at] != i + 1)
			continue;
		if (d->ncycles == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct dump_cycle *nc = realloc(d->cycles, ncap * sizeof(*nc));

			if (!nc) {
				rc = -ENOMEM;
				goto out;
			}
			d->cycles = nc;
			cap = ncap;
		}
		rc = waitgraph_take_cycle(d, next, (size_t)at, &d->cycles[d->ncycles]);
		if (rc)
			goto out;
		d->ncycles++;
	}
	if (d->ncycles > 1)
		qsort_r(d->cycles, d->ncycles, sizeof(*d->cycles), waitgraph_cmp_cycles, d);
out:
	if (rc)
		waitgraph_free_cycles(d);
	free(next);
	free(mark);
	return rc;
}

/* Follow the edges from i, storing each thread reached until the next one
 * is i itself or already stored (a cycle) or there is none.  At most
 * d->n - 1 entries are written, as every stored index is distinct and not
 * i.  Chains are short in practice; the repeat check is linear in the
 * chain so far. */
size_t waitgraph_chain(const struct dump *d, size_t i, size_t *chain)
{
	size_t len = 0, k;
	long at;

	if (!d || i >= d->n)
		return 0;
	for (at = waitgraph_next(d, i); at >= 0; at = waitgraph_next(d, (size_t)at)) {
		if ((size_t)at == i)
			break;
		for (k = 0; k < len && chain[k] != (size_t)at; k++)
			;
		if (k < len)
			break;
		chain[len++] = (size_t)at;
	}
	return len;
}
