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

/* Copy the stack from s->regs.rsp (less the red zone) up, as documented
 * for snapshot_capture(). */
static int snapshot_copy_stack(struct snapshot *s, const struct maps *maps)
{
	const struct maps_entry *e;
	struct iovec local, remote[SNAPSHOT_MAX_IOV];
	uint64_t start, addr, end;
	size_t nrem = 0;
	ssize_t got;

	s->stack_len = 0;
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
	got = process_vm_readv(s->tid, &local, 1, remote, nrem, 0);
	if (got < 0)
		return errno == EFAULT ? 0 : -errno;
	s->stack_len = (size_t)got;
	return 0;
}

int snapshot_capture(struct snapshot *s, pid_t tid, const struct maps *maps)
{
	int err;

	s->tid = tid;
	s->regs_partial = false;
	s->stack_len = 0;
	err = ptrace_get_regs(tid, &s->regs);
	if (err)
		return err;
	return snapshot_copy_stack(s, maps);
}

int snapshot_capture_blocked(struct snapshot *s, pid_t tid, const struct maps *maps,
			     long nr, const uint64_t args[6], uint64_t sp, uint64_t pc)
{
	memset(&s->regs, 0, sizeof(s->regs));
	s->tid = tid;
	s->regs_partial = true;
	s->regs.orig_rax = (unsigned long long)nr;
	s->regs.rdi = args[0];
	s->regs.rsi = args[1];
	s->regs.rdx = args[2];
	s->regs.r10 = args[3];
	s->regs.r8 = args[4];
	s->regs.r9 = args[5];
	s->regs.rsp = sp;
	s->regs.rip = pc;
	return snapshot_copy_stack(s, maps);
}

int snapshot_read_word_window(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t got = process_vm_readv(tid, &local, 1, &remote, 1, 0);

	if (got < 0)
		return -errno;
	return (size_t)got == len ? 0 : -EFAULT;
}
