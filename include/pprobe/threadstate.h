/* threadstate.h - what the kernel says about one thread, read from /proc
 * without stopping it: state, CPU time, the system call it is blocked in
 * (with arguments, stack pointer and pc), wait channel, name. */
#ifndef PPROBE_THREADSTATE_H
#define PPROBE_THREADSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct threadstate {
	char state;          /* /proc state letter, '?' if unreadable */
	uint64_t cpu_ns;     /* on-CPU time from schedstat */
	bool blocked_known;  /* /proc/.../syscall gave a blocked thread's registers */
	bool said_running;   /* /proc/.../syscall said "running": on a CPU, or
				changing state while it was read */
	long syscall_nr;     /* -1: blocked outside a system call, or unknown */
	uint64_t args[6];
	uint64_t sp, pc;
	char wchan[64];
	char name[16];
};

/* Read everything above for thread tid of pid.  -ENOENT when it is gone. */
int threadstate_read(pid_t pid, pid_t tid, struct threadstate *ts);

/* Parse /proc/.../syscall text: "running", "-1 SP PC", or
 * "NR A1 A2 A3 A4 A5 A6 SP PC" (hex). */
int threadstate_parse_syscall(const char *text, struct threadstate *ts);

/* Is file descriptor fd of live thread tid (its process's table) a socket? */
bool threadstate_fd_is_socket(pid_t tid, int fd);

/* The "state" label's word for a /proc state letter: running, sleeping,
 * disk, stopped, zombie, idle (unknown for any other letter). */
const char *threadstate_label(char letter);

/* /proc/PID/task/TID/stack as malloc'd text (root only), or NULL. */
char *threadstate_kernel_stack(pid_t pid, pid_t tid);

/* Can pprobe read the kernel stacks of pid's threads?  0, or a negative
 * errno: -EACCES without CAP_SYS_ADMIN (the kernel restricts the file to
 * root), -ENOENT on a kernel built without it.  For -kernel's warning. */
int threadstate_kernel_stack_access(pid_t pid);

#endif
