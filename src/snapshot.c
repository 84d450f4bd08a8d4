/* snapshot.c - copy a stopped thread's registers and stack (see snapshot.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "pprobe/maps.h"
#include "pprobe/ptrace.h"
#include "pprobe/snapshot.h"

#define SNAPSHOT_PAGE 4096
#define SNAPSHOT_MAX_IOV 64

int snapshot_init(struct snapshot *s, size_t stack_cap)
{
	memset(s, 0, sizeof(*s));
	if (stack_cap > (size_t)SNAPSHOT_MAX_IOV * SNAPSHOT_PAGE - SNAPSHOT_PAGE)
		stack_cap = (size_t)SNAPSHOT_MAX_IOV * SNAPSHOT_PAGE - SNAPSHOT_PAGE;
	s->stack = malloc(stack_cap);
	if (!s->stack)
		return -ENOMEM;
	s->stack_cap = stack_cap;
	return 0;
}

void snapshot_fini(struct snapshot *s)
{
	free(s->stack);
	s->stack = NULL;
}

int snapshot_capture(struct snapshot *s, pid_t pid, pid_t tid, const struct maps *maps)
{
	const struct maps_entry *e;
	struct iovec local, remote[SNAPSHOT_MAX_IOV];
	uint64_t start, addr, end;
	size_t nrem = 0;
	ssize_t got;
	int err;

	s->tid = tid;
	s->stack_len = 0;
	err = ptrace_get_regs(tid, &s->regs);
	if (err)
		return err;
	start = s->regs.rsp >= SNAPSHOT_RED_ZONE ? s->regs.rsp - SNAPSHOT_RED_ZONE : 0;
	s->stack_start = start;
	end = start + s->stack_cap;
	if (end < start)
		return 0;
	/* Copy no further than the end of the stack's mapping: most threads
	 * use a few KiB of stack, and every byte copied is stop time. */
	e = maps ? maps_find(maps, s->regs.rsp) : NULL;
	if (e && e->end > start && e->end < end)
		end = e->end;
	/* One remote iovec per page: the kernel stops at the first page that
	 * is not mapped, and we keep everything before it, so the top of the
	 * stack is found without reading /proc/PID/maps. */
	for (addr = start; addr < end && nrem < SNAPSHOT_MAX_IOV; nrem++) {
		uint64_t next = (addr & ~(uint64_t)(SNAPSHOT_PAGE - 1)) + SNAPSHOT_PAGE;

		if (next > end)
			next = end;
		remote[nrem].iov_base = (void *)(uintptr_t)addr;
		remote[nrem].iov_len = next - addr;
		addr = next;
	}
	local.iov_base = s->stack;
	local.iov_len = addr - start;
	got = process_vm_readv(pid, &local, 1, remote, nrem, 0);

	if (got < 0)
		return errno == EFAULT ? 0 : -errno;
	s->stack_len = (size_t)got;
	return 0;
}
