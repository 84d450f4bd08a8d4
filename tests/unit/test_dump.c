/* test_dump.c - thread dumps built in memory: the wait graph (deadlocks,
 * chains), and the text, JSON and pprof forms written from them. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/dump.h"
#include "pprobe/error.h"
#include "pprobe/fmt_dump.h"
#include "pprobe/pprof.h"
#include "pprobe/profile.h"
#include "pprobe/waitgraph.h"

/* x86_64 system call numbers used below. */
#define NR_READ 0
#define NR_NANOSLEEP 35
#define NR_FUTEX 202

#define ADDR_A UINT64_C(0x55d0c0a4e2a0)
#define ADDR_B UINT64_C(0x55d0c0a4e2c8)
#define ADDR_C UINT64_C(0x5000)
#define T_2026_11_22_03 INT64_C(1795316400)

/* ---- building dumps ---- */

static char *xstrdup(const char *s)
{
	char *r = s ? strdup(s) : NULL;

	if (s && !r)
		abort();
	return r;
}

/* Append a thread; returns its index.  Sleeping in syscall sys (-1: none). */
static size_t add_thread(struct dump *d, pid_t tid, const char *name, char state, long sys)
{
	struct dump_thread *t;

	d->threads = realloc(d->threads, (d->n + 1) * sizeof(*d->threads));
	if (!d->threads)
		abort();
	t = &d->threads[d->n];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->state = state;
	t->syscall_nr = sys;
	t->unwind_end = "complete";
	t->captured = true;
	return d->n++;
}

static void set_wait(struct dump *d, size_t i, enum dump_lock_kind kind, uint64_t addr, pid_t owner)
{
	d->threads[i].wait.kind = kind;
	d->threads[i].wait.addr = addr;
	d->threads[i].wait.owner = owner;
	if (kind != DUMP_LOCK_JOIN) {
		d->threads[i].syscall_args[0] = addr;
	}
}

static void add_frame(struct dump *d, size_t i, uint64_t pc, const char *fn, const char *file,
		      int line, const char *module, bool inlined)
{
	struct dump_thread *t = &d->threads[i];
	struct dump_frame *f;

	t->frames = realloc(t->frames, (t->nframes + 1) * sizeof(*t->frames));
	if (!t->frames)
		abort();
	f = &t->frames[t->nframes++];
	f->pc = pc;
	f->function = xstrdup(fn);
	f->file = xstrdup(file);
	f->line = line;
	f->module = xstrdup(module);
	f->inlined = inlined;
}

/* The stack of a thread blocked in pthread_mutex_lock, called from fn. */
static void add_lock_stack(struct dump *d, size_t i, const char *fn, uint64_t pc)
{
	add_frame(d, i, 0x7f0000001000, "__lll_lock_wait", "/build/glibc/nptl/lowlevellock.c", 52,
		  "libc.so.6", false);
	add_frame(d, i, 0x7f0000002000, "___pthread_mutex_lock", "pthread_mutex_lock.c", 93,
		  "libc.so.6", false);
	add_frame(d, i, pc, fn, "/src/app.c", 20, "app", false);
	add_frame(d, i, 0x7f0000003000, "start_thread", NULL, 0, "libc.so.6", false);
}

/* Index of tid in d (asserting it exists). */
static size_t idx_of(const struct dump *d, pid_t tid)
{
	long i = dump_find_tid(d, tid);

	if (i < 0) {
		fprintf(stderr, "tid %d not in dump\n", (int)tid);
		abort();
	}
	return (size_t)i;
}

/* The main scenario:
 *   11 -> 12 -> 11          ABBA deadlock on mutexes A and B
 *   13 -> 11                waits for A behind the deadlock (not in it)
 *   14 -> 15 (nanosleep)    pthread_join on a sleeping thread
 *   16 -> 17 (read fd 3)    mutex C held by a thread blocked in read
 *   18                      running, name with a quote and a newline
 *   23, 21, 22: 21 -> 22 -> 23 -> 21, listed out of tid order
 *   30 -> 30                relocks its own mutex
 *   31 -> 9999              owner not in the process
 *   32                      no user stack, partial, kernel stack */
static void build_main(struct dump *d)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->pid = 4242;
	snprintf(d->comm, sizeof(d->comm), "myserver");
	d->time_ns = T_2026_11_22_03 * 1000000000;
	d->frozen_ns = 1230000;

	i = add_thread(d, 11, "worker-a", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, ADDR_A, 12);
	snprintf(d->threads[i].wchan, sizeof(d->threads[i].wchan), "futex_wait_queue");
	d->threads[i].cpu_ns = UINT64_C(12300000000);
	add_lock_stack(d, i, "worker_a", 0x401000);

	i = add_thread(d, 12, "worker-b", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, ADDR_B, 11);
	snprintf(d->threads[i].wchan, sizeof(d->threads[i].wchan), "0");
	add_lock_stack(d, i, "worker_b", 0x402000);

	i = add_thread(d, 13, "main", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, ADDR_A, 11);
	add_lock_stack(d, i, "main", 0x403000);

	i = add_thread(d, 14, "joiner", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_JOIN, 0x7f00aaaa0000, 15);
	add_frame(d, i, 0x7f0000004000, "__pthread_clockjoin_ex", NULL, 0, "libc.so.6", false);
	add_frame(d, i, 0x404000, "joiner", "app.c", 40, "app", false);

	i = add_thread(d, 15, "sleeper", 'S', NR_NANOSLEEP);
	add_frame(d, i, 0x7f0000005000, "clock_nanosleep", NULL, 0, "libc.so.6", false);
	/* inner() inlined into outer() at one pc: one location, two lines */
	add_frame(d, i, 0x405000, "inner", "/src/app.c", 7, "app", true);
	add_frame(d, i, 0x405000, "outer", "/src/app.c", 70, "app", false);
	add_frame(d, i, 0x405100, "sleeper_main", "/src/app.c", 80, "app", false);

	i = add_thread(d, 16, "reader-wait", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, ADDR_C, 17);
	add_lock_stack(d, i, "wait_reader", 0x406000);

	i = add_thread(d, 17, "reader", 'S', NR_READ);
	d->threads[i].syscall_args[0] = 3;
	add_frame(d, i, 0x7f0000006000, "read", NULL, 0, "libc.so.6", false);
	add_frame(d, i, 0x407000, "reader_main", "app.c", 90, "app", false);
	d->threads[i].unwind_end = "depth limit";

	i = add_thread(d, 18, "q\"uote\nname", 'R', -1);
	add_frame(d, i, 0x408000, "spin", "app.c", 100, "app", false);

	i = add_thread(d, 23, "ring-c", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, 0x6003, 21);
	add_lock_stack(d, i, "ring", 0x409000);
	i = add_thread(d, 21, "ring-a", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, 0x6001, 22);
	add_lock_stack(d, i, "ring", 0x409000);
	i = add_thread(d, 22, "ring-b", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_RWLOCK, 0x6002, 23);
	add_lock_stack(d, i, "ring", 0x409000);

	i = add_thread(d, 30, "selfish", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, 0x7000, 30);
	add_lock_stack(d, i, "relock", 0x40a000);

	i = add_thread(d, 31, "orphan", 'S', NR_FUTEX);
	set_wait(d, i, DUMP_LOCK_MUTEX, 0x7100, 9999);
	add_lock_stack(d, i, "orphan", 0x40b000);

	i = add_thread(d, 32, "\xff\x01raw", 'D', NR_READ);
	d->threads[i].captured = false;
	d->threads[i].stack_missing = "in uninterruptible sleep, and the kernel gave no pc and sp";
	d->threads[i].partial = true;
	d->threads[i].kernel_stack = xstrdup("[<0>] folio_wait_bit+0x1/0x2\n[<0>] filemap_read\n");
}

/* Run fmt into a malloc'd string. */
static char *capture(int (*fn)(const struct dump *, bool, FILE *), const struct dump *d, bool group,
		     int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	*rc = fn(d, group, f);
	fclose(f);
	return buf;
}

static int json_adapter(const struct dump *d, bool group, FILE *out)
{
	(void)group;
	return fmt_dump_json(d, out);
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Does text contain line (a whole line)? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

#define CHECK_LINE(text, line)                                                 \
	do {                                                                   \
		check_count++;                                                 \
		if (!has_line((text), (line))) {                               \
			check_fail_head(__FILE__, __LINE__);                   \
			fprintf(stderr, "no line:\n  %s\nin:\n%s\n", (line),   \
				(text));                                       \
		}                                                              \
	} while (0)

/* ---- the wait graph ---- */

static void test_cycles(void)
{
	struct dump d;
	size_t chain[64], len;

	build_main(&d);
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	/* Again: the old cycles are replaced, not leaked or duplicated. */
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	CHECK_EQ_INT(d.ncycles, 3);
	if (d.ncycles == 3) {
		CHECK_EQ_INT(d.cycles[0].n, 2);
		CHECK_EQ_INT(d.threads[d.cycles[0].members[0]].tid, 11);
		CHECK_EQ_INT(d.threads[d.cycles[0].members[1]].tid, 12);
		/* found from 23 (first in the array), rotated to 21 */
		CHECK_EQ_INT(d.cycles[1].n, 3);
		CHECK_EQ_INT(d.threads[d.cycles[1].members[0]].tid, 21);
		CHECK_EQ_INT(d.threads[d.cycles[1].members[1]].tid, 22);
		CHECK_EQ_INT(d.threads[d.cycles[1].members[2]].tid, 23);
		CHECK_EQ_INT(d.cycles[2].n, 1);
		CHECK_EQ_INT(d.threads[d.cycles[2].members[0]].tid, 30);
	}

	/* 13 waits for 11, which is in the cycle: chain 11, 12 (then 11 again). */
	len = waitgraph_chain(&d, idx_of(&d, 13), chain);
	CHECK_EQ_INT(len, 2);
	if (len == 2) {
		CHECK_EQ_INT(d.threads[chain[0]].tid, 11);
		CHECK_EQ_INT(d.threads[chain[1]].tid, 12);
	}
	len = waitgraph_chain(&d, idx_of(&d, 11), chain);
	CHECK_EQ_INT(len, 1);
	CHECK_EQ_INT(d.threads[chain[0]].tid, 12);
	len = waitgraph_chain(&d, idx_of(&d, 22), chain);
	CHECK_EQ_INT(len, 2);
	CHECK_EQ_INT(waitgraph_chain(&d, idx_of(&d, 14), chain), 1);
	CHECK_EQ_INT(d.threads[chain[0]].tid, 15);
	CHECK_EQ_INT(waitgraph_chain(&d, idx_of(&d, 16), chain), 1);
	CHECK_EQ_INT(waitgraph_chain(&d, idx_of(&d, 15), chain), 0);
	CHECK_EQ_INT(waitgraph_chain(&d, idx_of(&d, 30), chain), 0); /* itself */
	CHECK_EQ_INT(waitgraph_chain(&d, idx_of(&d, 31), chain), 0); /* owner gone */
	CHECK_EQ_INT(waitgraph_chain(&d, d.n, chain), 0);

	CHECK_EQ_INT(dump_find_tid(&d, 9999), -1);
	CHECK_EQ_INT(dump_find_tid(&d, 0), -1);
	CHECK_EQ_INT(dump_find_tid(&d, 22), 10);

	dump_free(&d);
	CHECK(d.threads == NULL && d.n == 0 && d.cycles == NULL && d.ncycles == 0);
	dump_free(&d);
	dump_free(NULL);
}

/* No waits: no cycles; an empty dump is fine everywhere. */
static void test_empty(void)
{
	struct dump d;
	char *text;
	int rc;
	struct profile *p = NULL;

	memset(&d, 0, sizeof(d));
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	CHECK_EQ_INT(d.ncycles, 0);
	text = capture(fmt_dump_text, &d, false, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(text, ": 0 threads, frozen 0ns, unknown time") != NULL);
	free(text);
	text = capture(json_adapter, &d, false, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(text, "{\"pid\": 0, \"comm\": \"\", \"time_ns\": 0, \"frozen_ns\": 0, "
			   "\"threads\": [], \"deadlocks\": []}\n");
	free(text);
	CHECK_EQ_INT(fmt_dump_profile(&d, &p), 0);
	CHECK(p != NULL && profile_sample_count(p) == 0);
	profile_free(p);
	dump_free(&d);
}

static void test_strings(void)
{
	CHECK_EQ_STR(dump_state_str('R'), "running");
	CHECK_EQ_STR(dump_state_str('S'), "sleeping");
	CHECK_EQ_STR(dump_state_str('D'), "disk sleep (uninterruptible)");
	CHECK_EQ_STR(dump_state_str('T'), "stopped");
	CHECK_EQ_STR(dump_state_str('t'), "tracing stop");
	CHECK_EQ_STR(dump_state_str('Z'), "zombie");
	CHECK_EQ_STR(dump_state_str('X'), "dead");
	CHECK_EQ_STR(dump_state_str('I'), "idle");
	CHECK_EQ_STR(dump_state_str('?'), "unknown");
	CHECK_EQ_STR(dump_lock_kind_str(DUMP_LOCK_MUTEX), "mutex");
	CHECK_EQ_STR(dump_lock_kind_str(DUMP_LOCK_CONDVAR), "condition variable");
	CHECK_EQ_STR(dump_lock_kind_str(DUMP_LOCK_JOIN), "join");
}

/* ---- text ---- */

static void test_text(void)
{
	struct dump d;
	char *text, *p_dead, *p_chain, *p_list;
	int rc;

	build_main(&d);
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	text = capture(fmt_dump_text, &d, false, &rc);
	CHECK_EQ_INT(rc, 0);

	CHECK(starts_with(text, "pprobe dump of process 4242 (myserver): 14 threads, frozen 1.23ms, "
				"2026-11-22 03:00:00 UTC\n\n"));
	CHECK_LINE(text, "DEADLOCK: thread 11 \"worker-a\" waits for mutex 0x55d0c0a4e2a0 held by "
			 "thread 12 \"worker-b\", which waits for mutex 0x55d0c0a4e2c8 held by thread "
			 "11 \"worker-a\"");
	CHECK_LINE(text, "  also stuck: thread 13 \"main\" waits for mutex 0x55d0c0a4e2a0 held by "
			 "thread 11 \"worker-a\" (deadlocked)");
	CHECK_LINE(text, "DEADLOCK: thread 21 \"ring-a\" waits for mutex 0x6001 held by thread 22 "
			 "\"ring-b\", which waits for rwlock 0x6002 held by thread 23 \"ring-c\", "
			 "which waits for mutex 0x6003 held by thread 21 \"ring-a\"");
	CHECK_LINE(text, "DEADLOCK: thread 30 \"selfish\" waits for mutex 0x7000 held by thread 30 "
			 "\"selfish\" (itself)");
	CHECK_LINE(text, "CHAIN: thread 14 \"joiner\" waits for thread 15 \"sleeper\" to exit, "
			 "which is blocked in nanosleep");
	CHECK_LINE(text, "CHAIN: thread 16 \"reader-wait\" waits for mutex 0x5000 held by thread 17 "
			 "\"reader\", which is blocked in read(fd 3)");
	/* 13 leads into a deadlock: no CHAIN line of its own */
	CHECK(strstr(text, "CHAIN: thread 13") == NULL);

	CHECK_LINE(text, "thread 11 \"worker-a\" [futex wait on mutex 0x55d0c0a4e2a0 held by thread "
			 "12 \"worker-b\"] cpu=12.30s wchan=futex_wait_queue");
	CHECK_LINE(text, "thread 12 \"worker-b\" [futex wait on mutex 0x55d0c0a4e2c8 held by thread "
			 "11 \"worker-a\"] cpu=0ns");
	CHECK_LINE(text, "  #0  __lll_lock_wait  (lowlevellock.c:52)  libc.so.6");
	CHECK_LINE(text, "  #3  start_thread  libc.so.6");
	CHECK_LINE(text, "thread 14 \"joiner\" [waiting for thread 15 \"sleeper\" to exit] cpu=0ns");
	CHECK_LINE(text, "thread 15 \"sleeper\" [sleeping in nanosleep] cpu=0ns");
	CHECK_LINE(text, "  #1  inner [inlined]  (app.c:7)  app");
	CHECK_LINE(text, "  #2  outer  (app.c:70)  app");
	CHECK_LINE(text, "thread 17 \"reader\" [sleeping in read(fd 3)] cpu=0ns");
	CHECK_LINE(text, "  ... (stack ends: depth limit)");
	CHECK_LINE(text, "thread 18 \"q\\\"uote\\nname\" [running] cpu=0ns");
	CHECK_LINE(text, "thread 31 \"orphan\" [futex wait on mutex 0x7100 held by thread 9999 (not "
			 "in this process)] cpu=0ns");
	CHECK_LINE(text, "thread 32 \"\\xff\\x01raw\" [disk sleep (uninterruptible) in read(fd 0)] "
			 "cpu=0ns");
	CHECK_LINE(text, "  (no user stack: in uninterruptible sleep, and the kernel gave no pc "
			 "and sp)");
	CHECK_LINE(text, "  kernel stack:");
	CHECK_LINE(text, "    [<0>] folio_wait_bit+0x1/0x2");
	CHECK_LINE(text, "    [<0>] filemap_read");

	/* Deadlocks first, then chains, then the list of every thread. */
	p_dead = strstr(text, "DEADLOCK: thread 11");
	p_chain = strstr(text, "CHAIN: ");
	p_list = strstr(text, "\nthread 18 ");
	CHECK(p_dead && p_chain && p_list && p_dead < p_chain && p_chain < p_list);
	/* Blank line between threads, none at the end. */
	CHECK(strstr(text, "libc.so.6\n\nthread 12 \"worker-b\"") != NULL);
	CHECK(text[strlen(text) - 1] == '\n' && text[strlen(text) - 2] != '\n');
	free(text);

	/* A process left in a job-control stop says so; partial stacks say so. */
	d.was_stopped = true;
	d.threads[idx_of(&d, 11)].partial = true;
	d.threads[idx_of(&d, 11)].state = 'T';
	text = capture(fmt_dump_text, &d, false, &rc);
	CHECK(strstr(text, "UTC; the process is stopped (SIGSTOP) and was left stopped\n") != NULL);
	CHECK_LINE(text, "  (stack from the kernel's saved pc/sp: registers incomplete, may be cut "
			 "short)");
	CHECK_LINE(text, "thread 11 \"worker-a\" [futex wait on mutex 0x55d0c0a4e2a0 held by thread "
			 "12 \"worker-b\", stopped] cpu=12.30s wchan=futex_wait_queue");
	free(text);
	dump_free(&d);
}

/* 70 threads: 40 identical pool threads on one condition variable, 20
 * readers on different fds, two groups of 3 (the lower tid first), and
 * 4 singles. */
static void test_group(void)
{
	struct dump d;
	char *text, *p40, *p20, *p3a, *p3b;
	size_t i;
	int rc;
	pid_t tid;

	memset(&d, 0, sizeof(d));
	d.pid = 100;
	snprintf(d.comm, sizeof(d.comm), "pooled");
	for (tid = 101; tid <= 140; tid++) {
		i = add_thread(&d, tid, "pool", 'S', NR_FUTEX);
		set_wait(&d, i, DUMP_LOCK_CONDVAR, 0x7000, 0);
		d.threads[i].cpu_ns = 1000000000;
		add_frame(&d, i, 0x7f0000001000, "futex_wait", NULL, 0, "libc.so.6", false);
		add_frame(&d, i, 0x7f0000002000, "pthread_cond_wait", NULL, 0, "libc.so.6", false);
		add_frame(&d, i, 0x401000, "pool_worker", "pool.c", 10, "app", false);
	}
	for (tid = 201; tid <= 220; tid++) {
		char name[16];

		snprintf(name, sizeof(name), "io-%d", (int)tid);
		i = add_thread(&d, tid, name, 'S', NR_READ);
		d.threads[i].syscall_args[0] = (uint64_t)tid;
		/* pcs differ, functions do not: still one group */
		add_frame(&d, i, 0x7f0000006000 + (uint64_t)tid, "read", NULL, 0, "libc.so.6", false);
		add_frame(&d, i, 0x402000, "io_loop", "io.c", 5, "app", false);
	}
	for (tid = 301; tid <= 303; tid++) {
		i = add_thread(&d, tid, "b", 'R', -1);
		add_frame(&d, i, 0x403000, "spin_b", NULL, 0, "app", false);
	}
	for (tid = 250; tid <= 252; tid++) {
		i = add_thread(&d, tid, "a", 'R', -1);
		add_frame(&d, i, 0x404000, "spin_a", NULL, 0, "app", false);
	}
	for (tid = 400; tid < 404; tid++) {
		i = add_thread(&d, tid, "single", 'S', NR_NANOSLEEP);
		add_frame(&d, i, 0x405000 + (uint64_t)tid, tid % 2 ? "odd" : "even",
			  NULL, 0, "app", false);
		/* 400 and 402 differ only in cpu: same group */
	}
	CHECK_EQ_INT(d.n, 70);
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	text = capture(fmt_dump_text, &d, true, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_LINE(text, "40 threads \"pool\": 101-140 [futex wait on condition variable 0x7000] "
			 "cpu=40.00s total");
	CHECK_LINE(text, "20 threads: 201-220 [sleeping in read] cpu=0ns total");
	CHECK_LINE(text, "3 threads \"a\": 250-252 [running] cpu=0ns total");
	CHECK_LINE(text, "3 threads \"b\": 301-303 [running] cpu=0ns total");
	CHECK_LINE(text, "2 threads \"single\": 400 402 [sleeping in nanosleep] cpu=0ns total");
	CHECK_LINE(text, "2 threads \"single\": 401 403 [sleeping in nanosleep] cpu=0ns total");
	CHECK_LINE(text, "  #2  pool_worker  (pool.c:10)  app");
	p40 = strstr(text, "40 threads");
	p20 = strstr(text, "20 threads");
	p3a = strstr(text, "3 threads \"a\"");
	p3b = strstr(text, "3 threads \"b\"");
	CHECK(p40 && p20 && p3a && p3b && p40 < p20 && p20 < p3a && p3a < p3b);
	/* The frames appear once per group. */
	p40 = strstr(text, "pool_worker");
	CHECK(p40 && !strstr(p40 + 1, "pool_worker"));
	free(text);
	dump_free(&d);
}

/* Threads waiting for the same lock of the same holder share one CHAIN
 * line; a longer chain names every hop. */
static void test_chain_runs(void)
{
	struct dump d;
	char *text;
	size_t i, chain[16];
	int rc;
	pid_t tid;

	memset(&d, 0, sizeof(d));
	d.pid = 4;
	for (tid = 5; tid <= 7; tid++) {
		i = add_thread(&d, tid, "w", 'S', NR_FUTEX);
		set_wait(&d, i, DUMP_LOCK_MUTEX, 0x9000, 8);
	}
	i = add_thread(&d, 8, "holder", 'S', NR_FUTEX);
	set_wait(&d, i, DUMP_LOCK_MUTEX_PI, 0x9100, 9);
	i = add_thread(&d, 9, "busy", 'R', -1);
	i = add_thread(&d, 10, "other", 'S', NR_FUTEX);
	set_wait(&d, i, DUMP_LOCK_SEMAPHORE, 0x9200, 0);
	i = add_thread(&d, 11, "late", 'S', NR_FUTEX);
	set_wait(&d, i, DUMP_LOCK_MUTEX, 0x9300, 10);
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	CHECK_EQ_INT(d.ncycles, 0);
	CHECK_EQ_INT(waitgraph_chain(&d, 0, chain), 2);
	text = capture(fmt_dump_text, &d, false, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_LINE(text, "CHAIN: 3 threads (5-7) wait for mutex 0x9000 held by thread 8 \"holder\", "
			 "which waits for PI mutex 0x9100 held by thread 9 \"busy\", which is running");
	CHECK_LINE(text, "CHAIN: thread 11 \"late\" waits for mutex 0x9300 held by thread 10 "
			 "\"other\", which waits for semaphore 0x9200");
	CHECK(strstr(text, "CHAIN: thread 8") == NULL);
	CHECK(strstr(text, "DEADLOCK") == NULL);
	free(text);
	dump_free(&d);
}

/* ---- JSON ---- */

/* A strict JSON validator (RFC 8259), enough to prove the writer's output
 * parses: returns the end of the value at p, or NULL. */
static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	int i, k;

	if (*u++ != '"')
		return NULL;
	while (*u != '"') {
		if (*u < 0x20)
			return NULL;
		if (*u == '\\') {
			u++;
			if (*u == 'u') {
				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", u[i]) || !u[i])
						return NULL;
				u += 5;
			} else if (*u && strchr("\"\\/bfnrt", *u)) {
				u++;
			} else {
				return NULL;
			}
			continue;
		}
		k = *u < 0x80 ? 0 : (*u & 0xe0) == 0xc0 ? 1 : (*u & 0xf0) == 0xe0 ? 2 : (*u & 0xf8) == 0xf0 ? 3 : -1;
		if (k < 0)
			return NULL;
		for (u++; k > 0; k--, u++)
			if ((*u & 0xc0) != 0x80)
				return NULL;
	}
	return (const char *)u + 1;
}

static const char *json_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

static const char *json_value(const char *p, int depth)
{
	char close;

	if (depth > 64)
		return NULL;
	p = json_ws(p);
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (*p != '{' && *p != '[')
		return json_number(p);
	close = *p == '{' ? '}' : ']';
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = json_string(json_ws(p));
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(p, depth + 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static bool json_valid(const char *s)
{
	const char *e = json_value(s, 0);

	return e && *json_ws(e) == '\0';
}

/* Python's json module as a second opinion, and the exact field sets.
 * Skips (saying so) when python3 is not installed. */
static const char py_check[] =
	"import json,sys\n"
	"d=json.load(open(sys.argv[1]))\n"
	"assert set(d)=={\"pid\",\"comm\",\"time_ns\",\"frozen_ns\",\"threads\",\"deadlocks\"}\n"
	"for t in d[\"threads\"]:\n"
	" assert set(t)=={\"tid\",\"name\",\"state\",\"syscall\",\"wait\",\"wchan\",\"cpu_ns\","
	"\"partial\",\"stack_missing\",\"kernel_stack\",\"frames\"},t\n"
	" assert t[\"kernel_stack\"] is None or all(isinstance(x,str) for x in t[\"kernel_stack\"])\n"
	" assert (t[\"stack_missing\"] is None)==bool(t[\"frames\"]),t\n"
	" assert t[\"wait\"] is None or set(t[\"wait\"])=={\"kind\",\"addr\",\"owner\"}\n"
	" for f in t[\"frames\"]:\n"
	"  assert set(f)=={\"pc\",\"function\",\"file\",\"line\",\"module\",\"inlined\"}\n"
	"print(json.dumps(d[\"deadlocks\"]))\n"
	"for t in d[\"threads\"]:\n"
	" print(t[\"tid\"],json.dumps(t[\"name\"]),t[\"state\"],t[\"syscall\"],json.dumps(t[\"wait\"]))\n";

static void check_json_python(const char *json)
{
	char path[] = "/tmp/test_dump_XXXXXX", script[] = "/tmp/test_dump_py_XXXXXX";
	char cmd[256], out[8192];
	size_t len = 0, n;
	FILE *p;
	int fd, sfd, status;

	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		fprintf(stderr, "python3 not found: second JSON check skipped\n");
		return;
	}
	fd = mkstemp(path);
	sfd = mkstemp(script);
	CHECK(fd >= 0 && sfd >= 0);
	if (fd < 0 || sfd < 0)
		goto out;
	CHECK(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
	CHECK(write(sfd, py_check, strlen(py_check)) == (ssize_t)strlen(py_check));
	snprintf(cmd, sizeof(cmd), "python3 %s %s", script, path);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!p)
		goto out;
	while (len < sizeof(out) - 1 && (n = fread(out + len, 1, sizeof(out) - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	status = pclose(p);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(starts_with(out, "[[11, 12], [21, 22, 23], [30]]\n"));
	CHECK(strstr(out, "\n11 \"worker-a\" sleeping futex {\"kind\": \"mutex\", \"addr\": "
			  "\"0x55d0c0a4e2a0\", \"owner\": 12}\n") != NULL);
	CHECK(strstr(out, "\n14 \"joiner\" sleeping futex {\"kind\": \"join\", \"addr\": "
			  "\"0x7f00aaaa0000\", \"owner\": 15}\n") != NULL);
	CHECK(strstr(out, "\n18 \"q\\\"uote\\nname\" running None null\n") != NULL);
	CHECK(strstr(out, "\n32 \"\\u00ff\\u0001raw\" disk sleep (uninterruptible) read null\n") !=
	      NULL);
	if (check_failures)
		fprintf(stderr, "python said:\n%s\n", out);
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	if (sfd >= 0) {
		close(sfd);
		unlink(script);
	}
}

static void test_json(void)
{
	struct dump d;
	char *json;
	int rc;

	CHECK(json_valid("{\"a\": [1, -2.5e3, true, null, \"x\\u00ff\"]}"));
	CHECK(!json_valid("{\"a\": \"\x01\"}"));
	CHECK(!json_valid("{\"a\": \"\xff\"}"));
	CHECK(!json_valid("[1,]"));

	build_main(&d);
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	json = capture(json_adapter, &d, false, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK(json_valid(json));
	if (!json_valid(json))
		fprintf(stderr, "invalid JSON:\n%s\n", json);
	CHECK(starts_with(json, "{\"pid\": 4242, \"comm\": \"myserver\", \"time_ns\": "
				"1795316400000000000, \"frozen_ns\": 1230000, \"threads\": ["));
	CHECK(strstr(json, "{\"tid\": 11, \"name\": \"worker-a\", \"state\": \"sleeping\", "
			   "\"syscall\": \"futex\", \"wait\": {\"kind\": \"mutex\", \"addr\": "
			   "\"0x55d0c0a4e2a0\", \"owner\": 12}, \"wchan\": \"futex_wait_queue\", "
			   "\"cpu_ns\": 12300000000, \"partial\": false, \"stack_missing\": null, "
			   "\"kernel_stack\": null, \"frames\": [{\"pc\": "
			   "\"0x7f0000001000\", \"function\": \"__lll_lock_wait\", \"file\": "
			   "\"/build/glibc/nptl/lowlevellock.c\", \"line\": 52, \"module\": "
			   "\"libc.so.6\", \"inlined\": false}, ") != NULL);
	CHECK(strstr(json, "{\"pc\": \"0x7f0000003000\", \"function\": \"start_thread\", "
			   "\"file\": null, \"line\": null, \"module\": \"libc.so.6\", "
			   "\"inlined\": false}]}") != NULL);
	CHECK(strstr(json, "\"name\": \"q\\\"uote\\nname\"") != NULL);
	CHECK(strstr(json, "\"name\": \"\\u00ff\\u0001raw\"") != NULL);
	CHECK(strstr(json, "\"function\": \"inner\", \"file\": \"/src/app.c\", \"line\": 7, "
			   "\"module\": \"app\", \"inlined\": true}") != NULL);
	CHECK(strstr(json, "\"partial\": true, \"stack_missing\": \"in uninterruptible sleep, "
			   "and the kernel gave no pc and sp\", \"kernel_stack\": "
			   "[\"folio_wait_bit+0x1/0x2\", \"filemap_read\"], \"frames\": []}") != NULL);
	CHECK(strstr(json, "\"deadlocks\": [[11, 12], [21, 22, 23], [30]]}\n") != NULL);
	check_json_python(json);
	free(json);
	dump_free(&d);
}

/* ---- pprof ---- */

static int64_t num_label(const struct profile_sample *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].key, key) == 0 && !s->labels[i].str)
			return s->labels[i].num;
	return -1;
}

static void test_profile(void)
{
	struct dump d;
	struct profile *p = NULL, *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, i, seen = 0;

	build_main(&d);
	CHECK_EQ_INT(waitgraph_find_cycles(&d), 0);
	CHECK_EQ_INT(fmt_dump_profile(&d, &p), 0);
	CHECK(p != NULL);
	if (!p)
		goto out;
	CHECK_EQ_INT(pprof_encode(p, &buf, &len), 0);
	CHECK_EQ_INT(pprof_decode(buf, len, &back), 0);
	CHECK(back != NULL);
	if (!back)
		goto out;
	CHECK_EQ_INT(profile_sample_type_count(back), 1);
	CHECK_EQ_STR(profile_sample_type(back, 0)->type, "threads");
	CHECK_EQ_STR(profile_sample_type(back, 0)->unit, "count");
	CHECK_EQ_STR(profile_period_type(back)->type, "threads");
	CHECK_EQ_INT(profile_period(back), 1);
	CHECK_EQ_STR(profile_default_sample_type(back), "threads");
	CHECK_EQ_INT(profile_time_nanos(back), d.time_ns);
	CHECK_EQ_INT(profile_sample_count(back), d.n);
	for (i = 0; i < profile_sample_count(back); i++) {
		const struct profile_sample *s = profile_sample_at(back, i);
		int64_t tid = num_label(s, "tid");

		CHECK_EQ_INT(s->values[0], 1);
		if (tid == 11) {
			seen++;
			CHECK_EQ_STR(profile_sample_label(s, "thread"), "worker-a");
			CHECK_EQ_STR(profile_sample_label(s, "state"), "sleeping");
			CHECK_EQ_STR(profile_sample_label(s, "wait"), "mutex 0x55d0c0a4e2a0");
			CHECK_EQ_INT(s->nlocations, 4);
		} else if (tid == 15) {
			/* clock_nanosleep, inner+outer (one location), sleeper_main */
			const struct profile_location *l;
			const struct profile_function *f0, *f1;

			seen++;
			CHECK_EQ_STR(profile_sample_label(s, "syscall"), "nanosleep");
			CHECK_EQ_STR(profile_sample_label(s, "wait"), NULL);
			CHECK_EQ_INT(s->nlocations, 3);
			if (s->nlocations != 3)
				continue;
			l = profile_location_by_id(back, s->location_ids[1]);
			CHECK(l != NULL);
			if (!l)
				continue;
			CHECK_EQ_INT(l->address, 0x405000);
			CHECK_EQ_INT(l->nlines, 2);
			if (l->nlines != 2)
				continue;
			f0 = profile_function_by_id(back, l->lines[0].function_id);
			f1 = profile_function_by_id(back, l->lines[1].function_id);
			CHECK(f0 && f1);
			if (f0 && f1) {
				CHECK_EQ_STR(f0->name, "inner");
				CHECK_EQ_STR(f1->name, "outer");
				CHECK_EQ_STR(f0->file, "/src/app.c");
			}
			CHECK_EQ_INT(l->lines[0].line, 7);
			CHECK_EQ_INT(l->lines[1].line, 70);
		} else if (tid == 18) {
			seen++;
			CHECK_EQ_STR(profile_sample_label(s, "thread"), "q\"uote\nname");
			CHECK_EQ_STR(profile_sample_label(s, "state"), "running");
			CHECK_EQ_STR(profile_sample_label(s, "wait"), NULL);
		} else if (tid == 14) {
			seen++;
			CHECK_EQ_STR(profile_sample_label(s, "wait"), "join 0x7f00aaaa0000");
		} else if (tid == 32) {
			seen++;
			CHECK_EQ_INT(s->nlocations, 0);
			CHECK_EQ_STR(profile_sample_label(s, "state"), "disk");
			CHECK_EQ_STR(profile_sample_label(s, "syscall"), "read");
			CHECK_EQ_STR(profile_sample_label(s, "wait"), NULL);
		}
	}
	CHECK_EQ_INT(seen, 5);
out:
	free(buf);
	profile_free(p);
	profile_free(back);
	dump_free(&d);
}

int main(void)
{
	test_strings();
	test_cycles();
	test_empty();
	test_text();
	test_group();
	test_chain_runs();
	test_json();
	test_profile();
	return check_done();
}
