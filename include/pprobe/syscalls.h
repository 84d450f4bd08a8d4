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

/* Would a ptrace stop make this blocked call fail with EINTR instead of
 * being restarted?  epoll_wait, sigtimedwait, semop, io_getevents and
 * io_uring waits return EINTR when interrupted even without a signal
 * handler (signal(7)); socket calls do too when the socket has a timeout,
 * which cannot be seen from outside, so any socket call counts (on_socket:
 * the call's first argument is a socket, for read/write and friends). */
bool syscalls_eintr_on_stop(long nr, bool on_socket);

/* A thread whose blocked call was interrupted once (by a stop, ours or
 * anyone's) sleeps on in restart_syscall.  The call it restarts is the one
 * its code made: glibc's wrappers load the number right before the syscall
 * instruction ("mov $NR, %eax; syscall": b8 imm32 0f 05), so given the 7
 * code bytes that end at the pc after the syscall, return that number; any
 * other nr, or other bytes, come back unchanged. */
long syscalls_resolve_restart(long nr, const unsigned char code[7]);

#endif
