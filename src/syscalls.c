/* syscalls.c - the x86_64 system call table pprobe needs (see syscalls.h).
 *
 * Not every call: the ones a thread is commonly found in.  Numbers are the
 * x86_64 ABI's (asm/unistd_64.h), written out so that pprobe names calls
 * the same whatever kernel headers it was built with.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pprobe/syscalls.h"

struct syscalls_entry {
	long nr;
	const char *name;
	bool waits;
};

/* Calls that fail with EINTR after any stop (see syscalls.h). */
static const long syscalls_eintr[] = {
	232 /* epoll_wait */, 281 /* epoll_pwait */, 441 /* epoll_pwait2 */,
	128 /* rt_sigtimedwait */, 65 /* semop */, 220 /* semtimedop */,
	208 /* io_getevents */, 426 /* io_uring_enter */,
	43 /* accept */, 288 /* accept4 */, 42 /* connect */, 44 /* sendto */,
	45 /* recvfrom */, 46 /* sendmsg */, 47 /* recvmsg */, 299 /* recvmmsg */,
	307 /* sendmmsg */,
};

/* Calls on a file descriptor that behave like the socket calls above when
 * the descriptor is a socket. */
static const long syscalls_fd_io[] = { 0 /* read */, 1 /* write */, 19 /* readv */,
				       20 /* writev */ };

static const struct syscalls_entry syscalls_table[] = {
	{ 0, "read", false },       { 1, "write", false },       { 2, "open", false },
	{ 3, "close", false },      { 7, "poll", true },         { 9, "mmap", false },
	{ 10, "mprotect", false },  { 11, "munmap", false },     { 13, "rt_sigaction", false },
	{ 14, "rt_sigprocmask", false }, { 16, "ioctl", false }, { 17, "pread64", false },
	{ 18, "pwrite64", false },  { 19, "readv", false },      { 20, "writev", false },
	{ 23, "select", true },     { 24, "sched_yield", false }, { 34, "pause", true },
	{ 35, "nanosleep", true },  { 39, "getpid", false },     { 40, "sendfile", false },
	{ 41, "socket", false },    { 42, "connect", true },     { 43, "accept", true },
	{ 44, "sendto", false },    { 45, "recvfrom", false },   { 46, "sendmsg", false },
	{ 47, "recvmsg", false },   { 56, "clone", false },      { 57, "fork", false },
	{ 59, "execve", false },    { 60, "exit", false },       { 61, "wait4", true },
	{ 62, "kill", false },      { 64, "semget", false },     { 65, "semop", true },
	{ 69, "msgsnd", true },     { 70, "msgrcv", true },      { 72, "fcntl", false },
	{ 73, "flock", true },      { 74, "fsync", false },      { 75, "fdatasync", false },
	{ 130, "rt_sigsuspend", true }, { 128, "rt_sigtimedwait", true },
	{ 202, "futex", true },     { 208, "io_getevents", true }, { 219, "restart_syscall", true }, { 220, "semtimedop", true },
	{ 230, "clock_nanosleep", true }, { 231, "exit_group", false },
	{ 232, "epoll_wait", true }, { 247, "waitid", true },    { 257, "openat", false },
	{ 270, "pselect6", true },  { 271, "ppoll", true },      { 281, "epoll_pwait", true },
	{ 288, "accept4", true },   { 299, "recvmmsg", false },  { 307, "sendmmsg", false },
	{ 310, "process_vm_readv", false }, { 311, "process_vm_writev", false },
	{ 426, "io_uring_enter", true }, { 435, "clone3", false }, { 441, "epoll_pwait2", true },
	{ 449, "futex_waitv", true }, { 455, "futex_wait", true },
};

static const struct syscalls_entry *syscalls_find(long nr)
{
	for (size_t i = 0; i < sizeof(syscalls_table) / sizeof(syscalls_table[0]); i++)
		if (syscalls_table[i].nr == nr)
			return &syscalls_table[i];
	return NULL;
}

const char *syscalls_name(long nr)
{
	const struct syscalls_entry *e = syscalls_find(nr);

	return e ? e->name : NULL;
}

bool syscalls_is_waiting(long nr)
{
	const struct syscalls_entry *e = syscalls_find(nr);

	return e && e->waits;
}

bool syscalls_eintr_on_stop(long nr, bool on_socket)
{
	for (size_t i = 0; i < sizeof(syscalls_eintr) / sizeof(syscalls_eintr[0]); i++)
		if (syscalls_eintr[i] == nr)
			return true;
	if (on_socket)
		for (size_t i = 0; i < sizeof(syscalls_fd_io) / sizeof(syscalls_fd_io[0]); i++)
			if (syscalls_fd_io[i] == nr)
				return true;
	return false;
}

long syscalls_resolve_restart(long nr, const unsigned char code[7])
{
	uint32_t orig;

	if (nr != 219 /* restart_syscall */ || code[0] != 0xb8 || code[5] != 0x0f || code[6] != 0x05)
		return nr;
	memcpy(&orig, code + 1, sizeof(orig));
	return orig < 1024 ? (long)orig : nr;
}
