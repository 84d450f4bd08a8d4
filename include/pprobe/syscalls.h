/* syscalls.h - x86_64 system call names, and which ones wait.
 *
 * Used to tell a thread that is blocked (asleep in a waiting system call)
 * from one that is running, and to name the call a blocked thread is in.
 */
#ifndef PPROBE_SYSCALLS_H
#define PPROBE_SYSCALLS_H

#include <stdbool.h>

/* Name of system call nr ("read", "futex"...); NULL if unknown. */
const char *syscalls_name(long nr);

/* Does nr put the caller to sleep until something happens (sleeps, waits
 * on futexes, polls, accept, waiting for children or signals)? */
bool syscalls_is_waiting(long nr);

#endif
