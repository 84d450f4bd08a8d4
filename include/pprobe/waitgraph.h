/* waitgraph.h - who waits for whom: deadlocks and wait chains.
 *
 * Edges go from a thread to the thread its wait names as owner (a mutex's
 * holder, a joined thread).  A cycle is a deadlock.  Pure: reads the dump.
 */
#ifndef PPROBE_WAITGRAPH_H
#define PPROBE_WAITGRAPH_H

#include <stddef.h>

struct dump;

/* Find every cycle (each reported once, starting at its lowest tid) and
 * store them in d->cycles / d->ncycles. */
int waitgraph_find_cycles(struct dump *d);

/* The chain that starts at thread index i: indices of the threads it waits
 * for, transitively, stopping before a repeat.  Returns the length (0 when
 * i waits for nobody); chain must hold d->n entries. */
size_t waitgraph_chain(const struct dump *d, size_t i, size_t *chain);

#endif
