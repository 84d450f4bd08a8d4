/* fmt_dump.c - write a thread dump as text, JSON, or a pprof profile.
 *
 * The text is read by a person at 3 a.m. looking at a hung service, so it
 * leads with the answer: deadlocks (with the stacks of the threads in
 * them), then chains of threads waiting for a lock whose holder is itself
 * doing something else, then every thread.  JSON carries the same facts
 * for scripts; the pprof form is shaped like Go's goroutine profile so two
 * dumps compare with `go tool pprof -base`.
 *
 * Everything printed that came from the target (thread and process names,
 * symbol and file names, wchan, kernel stacks) is hostile input: text
 * output escapes control bytes and invalid UTF-8 (textesc.h), JSON escapes per RFC 8259
 * and writes each invalid UTF-8 byte as \u00XX.  Fixed-size name fields
 * are read with strnlen, never trusted to be terminated.
 *
 * The deadlocks are d->cycles as waitgraph_find_cycles left them; a dump
 * whose cycles were never computed is shown with none.  Pure: reads the
 * dump, never the target.  Library code: returns 0, -ENOMEM, or -EIO when
 * the stream reports an error; prints nothing else anywhere.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pprobe/dump.h"
#include "pprobe/fmt_dump.h"
#include "pprobe/profile.h"
#include "pprobe/syscalls.h"
#include "pprobe/textesc.h"
#include "pprobe/threadstate.h"
#include "pprobe/timeutil.h"
#include "pprobe/waitgraph.h"

/* Runs of consecutive tids at least this long print as "first-last". */
#define FMT_TID_RANGE_MIN 3

/* The wait graph, computed once per text dump. */
struct fmt_ctx {
	const struct dump *d;
	FILE *out;
	long *next;     /* index of the thread each one waits for, or -1 */
	long *cycle_of; /* index of the deadlock a thread is in, or -1 */
	bool *waited_on;
	size_t *chain;  /* scratch for waitgraph_chain, d->n entries */
};

/* What differs between the threads shown as one group entry; a field that
 * differs is summarized instead of shown as the first thread's value. */
struct fmt_vary {
	bool addr, owner, arg, wchan, name;
	uint64_t cpu_ns; /* sum over the group */
};

/* A run of entries in a sorted index array. */
struct fmt_run {
	size_t first, n;
	long cycle; /* for chains: the deadlock the chain runs into, or -1 */
};

/* Print at most max bytes of s as a JSON string, quotes included. */
static void fmt_put_json_str(FILE *out, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strnlen((const char *)u, max), i = 0, k;

	fputc('"', out);
	while (i < n) {
		unsigned char c = u[i];

		k = textesc_utf8_len(u + i, n - i);
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c == '\r') {
			fputs("\\r", out);
		} else if (c < 0x20 || c == 0x7f || k == 0) {
			/* An invalid byte becomes the code point of the same
			 * value: lossy, but the document stays valid. */
			fprintf(out, "\\u%04x", c);
		} else {
			fwrite(u + i, 1, k, out);
			i += k;
			continue;
		}
		i++;
	}
	fputc('"', out);
}

static void fmt_put_json_str_or_null(FILE *out, const char *s, size_t max)
{
	if (s)
		fmt_put_json_str(out, s, max);
	else
		fputs("null", out);
}

/* Which argument names the object a call waits on: "fd", "epfd", "pid",
 * "addr" (printed in hex), or NULL for calls best named alone (poll,
 * select, the sleeps: their arguments are pointers that say nothing). */
static const char *fmt_syscall_arg(const char *name)
{
	static const char *const fd_calls[] = {
		"read", "write", "pread64", "pwrite64", "readv", "writev", "recvfrom",
		"recvmsg", "recvmmsg", "sendto", "sendmsg", "sendmmsg", "accept",
		"accept4", "connect", "fsync", "fdatasync", "flock", "ioctl", "fcntl",
		"close", "sendfile", "io_uring_enter",
	};
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < sizeof(fd_calls) / sizeof(fd_calls[0]); i++)
		if (strcmp(name, fd_calls[i]) == 0)
			return "fd";
	if (strncmp(name, "epoll_", 6) == 0)
		return "epfd";
	if (strcmp(name, "futex") == 0 || strcmp(name, "futex_wait") == 0)
		return "addr";
	if (strcmp(name, "wait4") == 0)
		return "pid";
	return NULL;
}

/* The call a thread is in: "read(fd 3)", "futex(0x7f..)", "nanosleep",
 * "syscall 999" when the number is not in our table; without with_arg,
 * the name alone. */
static void fmt_syscall_desc(const struct dump_thread *t, bool with_arg, char *buf, size_t len)
{
	const char *name = syscalls_name(t->syscall_nr);
	const char *arg = with_arg ? fmt_syscall_arg(name) : NULL;

	if (!name)
		snprintf(buf, len, "syscall %ld", t->syscall_nr);
	else if (!arg)
		snprintf(buf, len, "%s", name);
	else if (strcmp(arg, "addr") == 0)
		snprintf(buf, len, "%s(0x%" PRIx64 ")", name, t->syscall_args[0]);
	else
		snprintf(buf, len, "%s(%s %d)", name, arg, (int)t->syscall_args[0]);
}

/* thread 11 "worker-a" */
static void fmt_put_thread_ref(struct fmt_ctx *c, size_t i)
{
	const struct dump_thread *t = &c->d->threads[i];

	fprintf(c->out, "thread %d \"", (int)t->tid);
	textesc_put(c->out, t->name, sizeof(t->name), true);
	fputc('"', c->out);
}

/* The thread i waits for: a reference when it is in the dump, else its
 * bare tid (it exited, or belongs to another process sharing the lock). */
static void fmt_put_owner(struct fmt_ctx *c, size_t i)
{
	if (c->next[i] >= 0)
		fmt_put_thread_ref(c, (size_t)c->next[i]);
	else
		fprintf(c->out, "thread %d (not in this process)", (int)c->d->threads[i].wait.owner);
}

/* Tids of the threads idx[0..n) (ascending), runs as "first-last". */
static void fmt_put_tids(struct fmt_ctx *c, const size_t *idx, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i = j) {
		long long first = c->d->threads[idx[i]].tid;

		for (j = i + 1; j < n && c->d->threads[idx[j]].tid == first + (long long)(j - i); j++)
			;
		if (j - i >= FMT_TID_RANGE_MIN) {
			fprintf(c->out, "%s%lld-%d", i ? " " : "", first,
				(int)c->d->threads[idx[j - 1]].tid);
		} else {
			fprintf(c->out, "%s%lld", i ? " " : "", first);
			j = i + 1;
		}
	}
}

/* The bracket of a thread's header line, by case: a lock wait names the
 * call, the lock and its holder; a join names the thread waited for;
 * otherwise the state and the call it is in.  A lock wait in a state
 * other than sleeping (the whole process SIGSTOPped, say) says so. */
static void fmt_put_bracket(struct fmt_ctx *c, size_t i, const struct fmt_vary *v)
{
	const struct dump_thread *t = &c->d->threads[i];
	char sys[96];
	bool in_call = t->syscall_nr >= 0 && t->state != 'Z' && t->state != 'X';

	fputc('[', c->out);
	if (t->wait.kind == DUMP_LOCK_JOIN) {
		if (v->owner) {
			fputs("waiting for threads to exit", c->out);
		} else if (t->wait.owner > 0) {
			fputs("waiting for ", c->out);
			fmt_put_owner(c, i);
			fputs(" to exit", c->out);
		} else {
			fputs("waiting for a thread to exit", c->out);
		}
	} else if (t->wait.kind != DUMP_LOCK_NONE) {
		if (t->syscall_nr >= 0) {
			fmt_syscall_desc(t, false, sys, sizeof(sys));
			fprintf(c->out, "%s wait on %s", sys, dump_lock_kind_str(t->wait.kind));
		} else {
			fprintf(c->out, "waiting on %s", dump_lock_kind_str(t->wait.kind));
		}
		if (v->addr)
			fputs(" (various addresses)", c->out);
		else
			fprintf(c->out, " 0x%" PRIx64, t->wait.addr);
		if (v->owner) {
			fputs(" held by various threads", c->out);
		} else if (t->wait.owner > 0) {
			fputs(" held by ", c->out);
			fmt_put_owner(c, i);
		}
	} else {
		fputs(dump_state_str(t->state), c->out);
		if (in_call) {
			fmt_syscall_desc(t, !v->arg, sys, sizeof(sys));
			fprintf(c->out, " in %s", sys);
		}
	}
	if (t->wait.kind != DUMP_LOCK_NONE && t->state != 'S')
		fprintf(c->out, ", %s", dump_state_str(t->state));
	fputc(']', c->out);
}

/* "waits for mutex 0x.. held by thread 12 "b"", "waits for thread 12 "b"
 * to exit", "waits for condition variable 0x.." (no holder known); the
 * verb plural when a group of threads is the subject. */
static void fmt_put_hop(struct fmt_ctx *c, size_t i, bool plural)
{
	const struct dump_thread *t = &c->d->threads[i];

	fputs(plural ? "wait for " : "waits for ", c->out);
	if (t->wait.kind == DUMP_LOCK_JOIN) {
		if (t->wait.owner > 0)
			fmt_put_owner(c, i);
		else
			fputs("a thread", c->out);
		fputs(" to exit", c->out);
		return;
	}
	if (t->wait.kind == DUMP_LOCK_NONE) {
		fmt_put_owner(c, i);
		return;
	}
	fprintf(c->out, "%s 0x%" PRIx64, dump_lock_kind_str(t->wait.kind), t->wait.addr);
	if (t->wait.owner > 0) {
		fputs(" held by ", c->out);
		fmt_put_owner(c, i);
	}
}

/* How a chain ends, at thread i which waits for nobody in the dump:
 * "which is blocked in read(fd 3)", "which is running"... */
static void fmt_put_chain_end(struct fmt_ctx *c, size_t i)
{
	const struct dump_thread *t = &c->d->threads[i];
	char sys[96] = "";
	bool in_call = t->syscall_nr >= 0;

	fputs("which ", c->out);
	if (t->wait.kind != DUMP_LOCK_NONE || t->wait.owner > 0) {
		fmt_put_hop(c, i, false);
		return;
	}
	if (in_call)
		fmt_syscall_desc(t, true, sys, sizeof(sys));
	switch (t->state) {
	case 'S':
		if (in_call)
			fprintf(c->out, "is blocked in %s", sys);
		else
			fputs("is sleeping", c->out);
		return;
	case 'Z':
		fputs("is a zombie", c->out);
		return;
	case 'X':
		fputs("is dead", c->out);
		return;
	case 'D':
	case 't':
		fprintf(c->out, "is in %s", dump_state_str(t->state));
		break;
	case 'R':
	case 'T':
	case 'I':
		fprintf(c->out, "is %s", dump_state_str(t->state));
		break;
	default:
		fprintf(c->out, "is in state '%c'", t->state > ' ' && t->state < 0x7f ? t->state : '?');
		break;
	}
	if (in_call)
		fprintf(c->out, " in %s", sys);
}

/* A thread's stack (or a group's, shown once): notes on how it was taken,
 * the frames innermost first, why it ends, and the kernel stack. */
static void fmt_put_stack(struct fmt_ctx *c, const struct dump_thread *t, bool partial)
{
	const char *p, *nl;
	size_t i;

	if (!t->captured) {
		fputs("  (no user stack", c->out);
		if (t->stack_missing) {
			fputs(": ", c->out);
			textesc_put(c->out, t->stack_missing, SIZE_MAX, false);
		}
		fputs(")\n", c->out);
	} else {
		if (partial)
			fputs("  (stack from the kernel's saved pc/sp: registers incomplete, "
			      "may be cut short)\n",
			      c->out);
		for (i = 0; t->frames && i < t->nframes; i++) {
			const struct dump_frame *f = &t->frames[i];

			fprintf(c->out, "  #%-2zu ", i);
			textesc_put(c->out, f->function, SIZE_MAX, false);
			if (f->inlined)
				fputs(" [inlined]", c->out);
			if (f->file) {
				const char *base = strrchr(f->file, '/');

				fputs("  (", c->out);
				textesc_put(c->out, base ? base + 1 : f->file, SIZE_MAX, false);
				if (f->line > 0)
					fprintf(c->out, ":%d", f->line);
				fputc(')', c->out);
			}
			if (f->module) {
				fputs("  ", c->out);
				textesc_put(c->out, f->module, SIZE_MAX, false);
			}
			fputc('\n', c->out);
		}
		if (t->unwind_end && strcmp(t->unwind_end, "complete") != 0) {
			fputs("  ... (stack ends: ", c->out);
			textesc_put(c->out, t->unwind_end, SIZE_MAX, false);
			fputs(")\n", c->out);
		}
	}
	if (t->kernel_stack) {
		fputs("  kernel stack:\n", c->out);
		for (p = t->kernel_stack; *p; p = nl ? nl + 1 : p + strlen(p)) {
			size_t len;

			nl = strchr(p, '\n');
			len = nl ? (size_t)(nl - p) : strlen(p);
			if (!len)
				continue;
			fputs("    ", c->out);
			textesc_put(c->out, p, len, false);
			fputc('\n', c->out);
		}
	}
}

/* cpu=12.30s[ total] wchan=futex_wait_queue */
static void fmt_put_cpu_wchan(struct fmt_ctx *c, const struct dump_thread *t, uint64_t cpu_ns,
			      bool total, bool wchan_varies)
{
	char dur[32];

	timeutil_format_duration(cpu_ns > INT64_MAX ? INT64_MAX : (int64_t)cpu_ns, dur,
				 sizeof(dur));
	fprintf(c->out, " cpu=%s%s", dur, total ? " total" : "");
	if (!wchan_varies && strnlen(t->wchan, sizeof(t->wchan)) &&
	    strncmp(t->wchan, "0", sizeof(t->wchan)) != 0) {
		fputs(" wchan=", c->out);
		textesc_put(c->out, t->wchan, sizeof(t->wchan), false);
	}
}

/* One thread: its header line and its stack. */
static void fmt_put_thread(struct fmt_ctx *c, size_t i)
{
	const struct dump_thread *t = &c->d->threads[i];
	struct fmt_vary none = { 0 };

	fmt_put_thread_ref(c, i);
	fputc(' ', c->out);
	fmt_put_bracket(c, i, &none);
	fmt_put_cpu_wchan(c, t, t->cpu_ns, false, false);
	fputc('\n', c->out);
	fmt_put_stack(c, t, t->partial);
}

/* pprobe dump of process 4519 (db): 12 threads, frozen 1.23ms,
 * 2026-11-22 03:00:00 UTC[; the process is stopped (SIGSTOP) and was left
 * stopped] */
static void fmt_put_header(struct fmt_ctx *c)
{
	const struct dump *d = c->d;
	char dur[32], when[64] = "unknown time";
	time_t secs = (time_t)(d->time_ns / 1000000000);
	struct tm tm;

	timeutil_format_duration(d->frozen_ns, dur, sizeof(dur));
	if (d->time_ns > 0 && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(c->out, "pprobe dump of process %d (", (int)d->pid);
	textesc_put(c->out, d->comm, sizeof(d->comm), false);
	fprintf(c->out, "): %zu thread%s, frozen %s, %s", d->n, d->n == 1 ? "" : "s", dur, when);
	if (d->was_stopped)
		fputs("; the process is stopped (SIGSTOP) and was left stopped", c->out);
	fputs("\n\n", c->out);
}


/* Chain heads print as one line when they wait for the same lock of the
 * same thread: then the rest of their chains is the same too. */
static int fmt_cmp_head_key(const struct fmt_ctx *c, size_t ia, size_t ib)
{
	const struct dump_thread *ta = &c->d->threads[ia], *tb = &c->d->threads[ib];

	if (c->next[ia] != c->next[ib])
		return c->next[ia] < c->next[ib] ? -1 : 1;
	if (ta->wait.kind != tb->wait.kind)
		return ta->wait.kind < tb->wait.kind ? -1 : 1;
	if (ta->wait.addr != tb->wait.addr)
		return ta->wait.addr < tb->wait.addr ? -1 : 1;
	return 0;
}

/* qsort_r order of chain heads: by key, then by tid. */
static int fmt_cmp_heads(const void *a, const void *b, void *arg)
{
	const struct fmt_ctx *c = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	pid_t ta = c->d->threads[ia].tid, tb = c->d->threads[ib].tid;
	int r = fmt_cmp_head_key(c, ia, ib);

	return r ? r : (ta > tb) - (ta < tb);
}

/* Chain heads: threads waiting for a thread of the dump, in no deadlock,
 * for which nobody waits (every longer chain starts at one).  They are
 * sorted and cut into runs that share the rest of the chain; each run is
 * tagged with the deadlock its chain runs into, or -1.  The caller frees
 * *heads_out and *runs_out, also on failure. */
static int fmt_find_chain_runs(struct fmt_ctx *c, size_t **heads_out, struct fmt_run **runs_out,
			       size_t *nruns_out)
{
	const struct dump *d = c->d;
	size_t *heads, nheads = 0, nruns = 0, i, j, k, len;
	struct fmt_run *runs;

	*heads_out = heads = malloc((d->n + 1) * sizeof(*heads));
	*runs_out = runs = malloc((d->n + 1) * sizeof(*runs));
	*nruns_out = 0;
	if (!heads || !runs)
		return -ENOMEM;
	for (i = 0; i < d->n; i++)
		if (c->next[i] >= 0 && c->cycle_of[i] < 0 && !c->waited_on[i])
			heads[nheads++] = i;
	qsort_r(heads, nheads, sizeof(*heads), fmt_cmp_heads, c);
	for (i = 0; i < nheads; i = k) {
		for (k = i + 1; k < nheads && fmt_cmp_head_key(c, heads[i], heads[k]) == 0; k++)
			;
		runs[nruns].first = i;
		runs[nruns].n = k - i;
		runs[nruns].cycle = -1;
		len = waitgraph_chain(d, heads[i], c->chain);
		for (j = 0; j < len; j++) {
			if (c->cycle_of[c->chain[j]] >= 0) {
				runs[nruns].cycle = c->cycle_of[c->chain[j]];
				break;
			}
		}
		nruns++;
	}
	*nruns_out = nruns;
	return 0;
}

/* One chain line's body: its subject (one thread, or a run of threads
 * waiting for the same lock of the same thread), each hop, and how it
 * ends (a running or blocked thread, or a thread in a deadlock). */
static void fmt_put_chain(struct fmt_ctx *c, const size_t *heads, const struct fmt_run *r)
{
	size_t head = heads[r->first], len, k;

	if (r->n == 1) {
		fmt_put_thread_ref(c, head);
		fputc(' ', c->out);
	} else {
		fprintf(c->out, "%zu threads (", r->n);
		fmt_put_tids(c, heads + r->first, r->n);
		fputs(") ", c->out);
	}
	fmt_put_hop(c, head, r->n > 1);
	len = waitgraph_chain(c->d, head, c->chain);
	for (k = 0; k < len; k++) {
		size_t e = c->chain[k];

		if (c->cycle_of[e] >= 0) {
			fputs(" (deadlocked)", c->out);
			break;
		}
		fputs(", ", c->out);
		if (c->next[e] >= 0) {
			fputs("which ", c->out);
			fmt_put_hop(c, e, false);
		} else {
			fmt_put_chain_end(c, e);
		}
	}
	fputc('\n', c->out);
}

/* Is the cycle well formed (its members are threads of the dump)? */
static bool fmt_cycle_valid(const struct dump *d, const struct dump_cycle *cy)
{
	size_t m;

	if (!cy->members || !cy->n)
		return false;
	for (m = 0; m < cy->n; m++)
		if (cy->members[m] >= d->n)
			return false;
	return true;
}

/* Every deadlock: the cycle in one line, the chains stuck behind it, then
 * the full entry of each thread in it, each followed by a blank line. */
static void fmt_put_deadlocks(struct fmt_ctx *c, const size_t *heads, const struct fmt_run *runs,
			      size_t nruns)
{
	const struct dump *d = c->d;
	size_t k, m, r;

	for (k = 0; k < d->ncycles; k++) {
		const struct dump_cycle *cy = &d->cycles[k];

		if (!fmt_cycle_valid(d, cy))
			continue;
		fputs("DEADLOCK: ", c->out);
		for (m = 0; m < cy->n; m++) {
			if (m == 0) {
				fmt_put_thread_ref(c, cy->members[m]);
				fputc(' ', c->out);
			} else {
				fputs(", which ", c->out);
			}
			fmt_put_hop(c, cy->members[m], false);
		}
		if (cy->n == 1)
			fputs(" (itself)", c->out);
		fputc('\n', c->out);
		for (r = 0; r < nruns; r++) {
			if (runs[r].cycle != (long)k)
				continue;
			fputs("  also stuck: ", c->out);
			fmt_put_chain(c, heads, &runs[r]);
		}
		fputc('\n', c->out);
		for (m = 0; m < cy->n; m++) {
			fmt_put_thread(c, cy->members[m]);
			fputc('\n', c->out);
		}
	}
}

/* The group key: state, wait kind, call, whether there is a stack, and
 * the function names of all frames. */
static int fmt_cmp_group_key(const struct dump *d, size_t a, size_t b)
{
	const struct dump_thread *ta = &d->threads[a], *tb = &d->threads[b];
	size_t i, na = ta->frames ? ta->nframes : 0, nb = tb->frames ? tb->nframes : 0;
	int r;

	if (ta->state != tb->state)
		return ta->state < tb->state ? -1 : 1;
	if (ta->wait.kind != tb->wait.kind)
		return ta->wait.kind < tb->wait.kind ? -1 : 1;
	if (ta->syscall_nr != tb->syscall_nr)
		return ta->syscall_nr < tb->syscall_nr ? -1 : 1;
	if (ta->captured != tb->captured)
		return ta->captured ? 1 : -1;
	if (!ta->captured && (r = strcmp(ta->stack_missing ? ta->stack_missing : "",
					 tb->stack_missing ? tb->stack_missing : "")) != 0)
		return r;
	if (na != nb)
		return na < nb ? -1 : 1;
	for (i = 0; i < na; i++) {
		r = strcmp(ta->frames[i].function ? ta->frames[i].function : "",
			   tb->frames[i].function ? tb->frames[i].function : "");
		if (r)
			return r;
	}
	return 0;
}

/* qsort_r order of thread indices for grouping: by key, then by tid. */
static int fmt_cmp_group_sort(const void *a, const void *b, void *arg)
{
	const struct dump *d = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	pid_t ta = d->threads[ia].tid, tb = d->threads[ib].tid;
	int r = fmt_cmp_group_key(d, ia, ib);

	return r ? r : (ta > tb) - (ta < tb);
}

/* Context for ordering groups: the dump and the sorted index array. */
struct fmt_group_order {
	const struct dump *d;
	const size_t *idx;
};

/* qsort_r order of groups: largest first, ties by lowest tid (a group's
 * first member, as members are sorted by tid). */
static int fmt_cmp_groups(const void *a, const void *b, void *arg)
{
	const struct fmt_group_order *o = arg;
	const struct fmt_run *ra = a, *rb = b;
	pid_t ta = o->d->threads[o->idx[ra->first]].tid, tb = o->d->threads[o->idx[rb->first]].tid;

	if (ra->n != rb->n)
		return ra->n > rb->n ? -1 : 1;
	return (ta > tb) - (ta < tb);
}

/* One group entry: "12 threads["name"]: 101-112 [...] cpu=... total",
 * then the stack once.  A single thread prints as itself. */
static void fmt_put_group(struct fmt_ctx *c, const size_t *members, size_t n)
{
	const struct dump_thread *rep = &c->d->threads[members[0]];
	struct fmt_vary v = { 0 };
	bool partial = false;
	size_t k;

	if (n == 1) {
		fmt_put_thread(c, members[0]);
		return;
	}
	for (k = 0; k < n; k++) {
		const struct dump_thread *t = &c->d->threads[members[k]];

		v.addr |= t->wait.addr != rep->wait.addr;
		v.owner |= t->wait.owner != rep->wait.owner;
		v.arg |= t->syscall_args[0] != rep->syscall_args[0];
		v.wchan |= strncmp(t->wchan, rep->wchan, sizeof(t->wchan)) != 0;
		v.name |= strncmp(t->name, rep->name, sizeof(t->name)) != 0;
		v.cpu_ns += t->cpu_ns;
		partial |= t->partial;
	}
	fprintf(c->out, "%zu threads", n);
	if (!v.name) {
		fputs(" \"", c->out);
		textesc_put(c->out, rep->name, sizeof(rep->name), true);
		fputc('"', c->out);
	}
	fputs(": ", c->out);
	fmt_put_tids(c, members, n);
	fputc(' ', c->out);
	fmt_put_bracket(c, members[0], &v);
	fmt_put_cpu_wchan(c, rep, v.cpu_ns, true, v.wchan);
	fputc('\n', c->out);
	fmt_put_stack(c, rep, partial);
}

/* The list of every thread, blank lines between entries; with group,
 * threads with the same key folded into one entry. */
static int fmt_put_threads(struct fmt_ctx *c, bool group)
{
	const struct dump *d = c->d;
	struct fmt_group_order order = { d, NULL };
	struct fmt_run *runs = NULL;
	size_t *idx = NULL, nruns = 0, i, k;
	int rc = 0;

	if (!group) {
		for (i = 0; i < d->n; i++) {
			if (i)
				fputc('\n', c->out);
			fmt_put_thread(c, i);
		}
		return 0;
	}
	idx = malloc((d->n + 1) * sizeof(*idx));
	runs = malloc((d->n + 1) * sizeof(*runs));
	if (!idx || !runs) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->n; i++)
		idx[i] = i;
	qsort_r(idx, d->n, sizeof(*idx), fmt_cmp_group_sort, (void *)d);
	for (i = 0; i < d->n; i = k) {
		for (k = i + 1; k < d->n && fmt_cmp_group_key(d, idx[i], idx[k]) == 0; k++)
			;
		runs[nruns].first = i;
		runs[nruns].n = k - i;
		runs[nruns].cycle = -1;
		nruns++;
	}
	order.idx = idx;
	qsort_r(runs, nruns, sizeof(*runs), fmt_cmp_groups, &order);
	for (i = 0; i < nruns; i++) {
		if (i)
			fputc('\n', c->out);
		fmt_put_group(c, idx + runs[i].first, runs[i].n);
	}
out:
	free(idx);
	free(runs);
	return rc;
}

static void fmt_ctx_fini(struct fmt_ctx *c)
{
	free(c->next);
	free(c->cycle_of);
	free(c->waited_on);
	free(c->chain);
}

/* The wait graph's edges, who is waited on, and which deadlock each
 * thread is in.  fmt_ctx_fini undoes it, also after a failure. */
static int fmt_ctx_init(struct fmt_ctx *c, const struct dump *d, FILE *out)
{
	size_t i, k, m, n1 = d->n + 1;

	memset(c, 0, sizeof(*c));
	c->d = d;
	c->out = out;
	c->next = malloc(n1 * sizeof(*c->next));
	c->cycle_of = malloc(n1 * sizeof(*c->cycle_of));
	c->waited_on = calloc(n1, sizeof(*c->waited_on));
	c->chain = malloc(n1 * sizeof(*c->chain));
	if (!c->next || !c->cycle_of || !c->waited_on || !c->chain)
		return -ENOMEM;
	for (i = 0; i < d->n; i++) {
		pid_t owner = d->threads[i].wait.owner;

		c->next[i] = owner > 0 ? dump_find_tid(d, owner) : -1;
		c->cycle_of[i] = -1;
	}
	for (i = 0; i < d->n; i++)
		if (c->next[i] >= 0)
			c->waited_on[c->next[i]] = true;
	for (k = 0; k < d->ncycles; k++)
		if (fmt_cycle_valid(d, &d->cycles[k]))
			for (m = 0; m < d->cycles[k].n; m++)
				c->cycle_of[d->cycles[k].members[m]] = (long)k;
	return 0;
}

/* Header; deadlocks with the chains stuck behind them and their threads'
 * stacks; chains that end in a thread not in a deadlock; every thread (or
 * group).  Returns 0, -ENOMEM, or -EIO if the stream failed. */
int fmt_dump_text(const struct dump *d, bool group, FILE *out)
{
	struct fmt_ctx c;
	struct fmt_run *runs = NULL;
	size_t *heads = NULL, nruns = 0, r;
	bool chains = false;
	int rc;

	rc = fmt_ctx_init(&c, d, out);
	if (!rc)
		rc = fmt_find_chain_runs(&c, &heads, &runs, &nruns);
	if (rc)
		goto out;
	fmt_put_header(&c);
	fmt_put_deadlocks(&c, heads, runs, nruns);
	for (r = 0; r < nruns; r++) {
		if (runs[r].cycle >= 0)
			continue;
		fputs("CHAIN: ", out);
		fmt_put_chain(&c, heads, &runs[r]);
		chains = true;
	}
	if (chains)
		fputc('\n', out);
	rc = fmt_put_threads(&c, group);
	if (!rc && ferror(out))
		rc = -EIO;
out:
	free(heads);
	free(runs);
	fmt_ctx_fini(&c);
	return rc;
}

/* Machine names of the lock kinds, for JSON. */
static const char *fmt_json_lock_kind(enum dump_lock_kind k)
{
	switch (k) {
	case DUMP_LOCK_NONE: return "none";
	case DUMP_LOCK_MUTEX: return "mutex";
	case DUMP_LOCK_MUTEX_PI: return "pi_mutex";
	case DUMP_LOCK_CONDVAR: return "condvar";
	case DUMP_LOCK_RWLOCK: return "rwlock";
	case DUMP_LOCK_SEMAPHORE: return "semaphore";
	case DUMP_LOCK_JOIN: return "join";
	case DUMP_LOCK_FUTEX: return "futex";
	}
	return "unknown";
}

static void fmt_put_json_frame(FILE *out, const struct dump_frame *f)
{
	fprintf(out, "{\"pc\": \"0x%" PRIx64 "\", \"function\": ", f->pc);
	fmt_put_json_str(out, f->function, SIZE_MAX);
	fputs(", \"file\": ", out);
	fmt_put_json_str_or_null(out, f->file, SIZE_MAX);
	if (f->line > 0)
		fprintf(out, ", \"line\": %d", f->line);
	else
		fputs(", \"line\": null", out);
	fputs(", \"module\": ", out);
	fmt_put_json_str_or_null(out, f->module, SIZE_MAX);
	fprintf(out, ", \"inlined\": %s}", f->inlined ? "true" : "false");
}

/* A blocked thread's kernel stack, one string a line of
 * /proc/PID/task/TID/stack ("[<0>] " dropped), or null if unread. */
static void fmt_put_json_kernel_stack(FILE *out, const char *text)
{
	const char *p, *nl;
	bool first = true;

	if (!text) {
		fputs("null", out);
		return;
	}
	fputc('[', out);
	for (p = text; *p; p = nl ? nl + 1 : p + strlen(p)) {
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= 6 && !strncmp(p, "[<0>] ", 6)) {
			p += 6;
			len -= 6;
		}
		if (!len)
			continue;
		fputs(first ? "" : ", ", out);
		fmt_put_json_str(out, p, len);
		first = false;
	}
	fputc(']', out);
}


static void fmt_put_json_thread(FILE *out, const struct dump_thread *t)
{
	char sys[96];
	size_t i;

	fprintf(out, "{\"tid\": %d, \"name\": ", (int)t->tid);
	fmt_put_json_str(out, t->name, sizeof(t->name));
	fputs(", \"state\": ", out);
	fmt_put_json_str(out, dump_state_str(t->state), SIZE_MAX);
	fputs(", \"syscall\": ", out);
	if (t->syscall_nr >= 0) {
		fmt_syscall_desc(t, false, sys, sizeof(sys));
		fmt_put_json_str(out, sys, sizeof(sys));
	} else {
		fputs("null", out);
	}
	fputs(", \"wait\": ", out);
	if (t->wait.kind != DUMP_LOCK_NONE || t->wait.owner > 0) {
		fprintf(out, "{\"kind\": \"%s\", \"addr\": \"0x%" PRIx64 "\", \"owner\": ",
			fmt_json_lock_kind(t->wait.kind), t->wait.addr);
		if (t->wait.owner > 0)
			fprintf(out, "%d}", (int)t->wait.owner);
		else
			fputs("null}", out);
	} else {
		fputs("null", out);
	}
	fputs(", \"wchan\": ", out);
	fmt_put_json_str(out, t->wchan, sizeof(t->wchan));
	fprintf(out, ", \"cpu_ns\": %" PRIu64 ", \"partial\": %s, \"stack_missing\": ", t->cpu_ns,
		t->partial ? "true" : "false");
	if (!t->captured)
		fmt_put_json_str(out, t->stack_missing ? t->stack_missing : "unknown", SIZE_MAX);
	else
		fputs("null", out);
	fputs(", \"kernel_stack\": ", out);
	fmt_put_json_kernel_stack(out, t->kernel_stack);
	fputs(", \"frames\": [", out);
	for (i = 0; t->frames && i < t->nframes; i++) {
		if (i)
			fputs(", ", out);
		fmt_put_json_frame(out, &t->frames[i]);
	}
	fputs("]}", out);
}

/* The dump as one JSON object, one thread per line; "deadlocks" lists each
 * cycle's tids in wait order.  Returns 0 or -EIO. */
int fmt_dump_json(const struct dump *d, FILE *out)
{
	size_t i, m, nc = 0;

	fprintf(out, "{\"pid\": %d, \"comm\": ", (int)d->pid);
	fmt_put_json_str(out, d->comm, sizeof(d->comm));
	fprintf(out, ", \"time_ns\": %" PRId64 ", \"frozen_ns\": %" PRId64 ", \"threads\": [",
		d->time_ns, d->frozen_ns);
	for (i = 0; i < d->n; i++) {
		fputs(i ? ",\n  " : "\n  ", out);
		fmt_put_json_thread(out, &d->threads[i]);
	}
	fputs(d->n ? "\n], \"deadlocks\": [" : "], \"deadlocks\": [", out);
	for (i = 0; i < d->ncycles; i++) {
		const struct dump_cycle *cy = &d->cycles[i];

		if (!fmt_cycle_valid(d, cy))
			continue;
		fputs(nc++ ? ", [" : "[", out);
		for (m = 0; m < cy->n; m++)
			fprintf(out, "%s%d", m ? ", " : "", (int)d->threads[cy->members[m]].tid);
		fputc(']', out);
	}
	fputs("]}\n", out);
	return ferror(out) ? -EIO : 0;
}

/* The labels mean the same in every profile pprobe writes (README,
 * "Labels"): "syscall" is the call a thread is blocked in, by name;
 * "wait" is the lock it waits for ("mutex 0x55d0c0a4e2a0").  "" when
 * there is none (then the label is left out). */
static void fmt_wait_label(const struct dump_thread *t, char *buf, size_t len)
{
	if (t->wait.kind != DUMP_LOCK_NONE)
		snprintf(buf, len, "%s 0x%" PRIx64, dump_lock_kind_str(t->wait.kind), t->wait.addr);
	else
		buf[0] = '\0';
}

static void fmt_syscall_label(const struct dump_thread *t, char *buf, size_t len)
{
	const char *name = t->syscall_nr >= 0 ? syscalls_name(t->syscall_nr) : NULL;

	if (t->syscall_nr < 0)
		buf[0] = '\0';
	else if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "syscall_%ld", t->syscall_nr);
}

/* The profile mapping id of pc: the dump's mapping that holds it (ids[i]
 * for d->mappings[i]), 0 if none. */
static uint64_t fmt_mapping_of(const struct dump *d, const uint64_t *ids, uint64_t pc)
{
	for (size_t i = 0; i < d->nmappings; i++)
		if (pc >= d->mappings[i].start && pc < d->mappings[i].limit)
			return ids[i];
	return 0;
}

/* Add thread t as one sample of value 1.  Frames become locations, one
 * per pc: a run of frames marked inlined that share the pc of the frame
 * they end at is one location with all its lines, innermost first.  locs
 * and pf hold at least t->nframes entries. */
static int fmt_add_thread_sample(struct profile *p, const struct dump *d, const uint64_t *map_ids,
				 const struct dump_thread *t, uint64_t *locs, struct profile_frame *pf)
{
	struct profile_label_in labels[5];
	char name[sizeof(t->name) + 1], wait[128], sys[32];
	size_t k, e, j, nloc = 0, nl = 0, nframes = t->frames ? t->nframes : 0;
	int64_t one = 1;
	int rc;

	for (k = 0; k < nframes; k = e + 1) {
		for (e = k; e + 1 < nframes && t->frames[e].inlined &&
			    t->frames[e + 1].pc == t->frames[k].pc;
		     e++)
			;
		for (j = k; j <= e; j++) {
			const struct dump_frame *f = &t->frames[j];

			pf[j - k] = (struct profile_frame){
				.name = f->function ? f->function : "",
				.file = f->file,
				.line = f->line > 0 ? f->line : 0,
			};
		}
		rc = profile_add_location(p, fmt_mapping_of(d, map_ids, t->frames[k].pc),
					  t->frames[k].pc, pf, e - k + 1, &locs[nloc]);
		if (rc)
			return rc;
		nloc++;
	}
	memcpy(name, t->name, sizeof(t->name));
	name[sizeof(t->name)] = '\0';
	fmt_wait_label(t, wait, sizeof(wait));
	fmt_syscall_label(t, sys, sizeof(sys));
	labels[nl++] = (struct profile_label_in){ .key = "tid", .num = t->tid };
	labels[nl++] = (struct profile_label_in){ .key = "thread", .str = name };
	labels[nl++] = (struct profile_label_in){ .key = "state", .str = threadstate_label(t->state) };
	if (sys[0])
		labels[nl++] = (struct profile_label_in){ .key = "syscall", .str = sys };
	if (wait[0])
		labels[nl++] = (struct profile_label_in){ .key = "wait", .str = wait };
	return profile_add_sample(p, locs, nloc, &one, labels, nl);
}

/* A goroutine-profile-like pprof profile: sample type threads/count,
 * period threads/count 1, one sample of value 1 per thread, labelled tid,
 * thread, state, syscall and wait; the process's executable mappings, the
 * main executable's first, claiming what the dump's frames carry (every
 * location is named by the symbolizer, from DWARF where there is some). */
/* Set each mapping's claims from the dump's frames in it: functions when
 * no frame is a bare "module+0xoffset", lines when DWARF gave some frame a
 * line (see stacks_finish for why a claim must not cover a bare frame). */
static int fmt_claim_mappings(struct profile *p, const struct dump *d, const uint64_t *ids)
{
	int rc = 0;

	for (size_t i = 0; i < d->nmappings && !rc; i++) {
		bool seen = false, bare = false, lines = false;

		for (size_t k = 0; k < d->n; k++) {
			const struct dump_thread *t = &d->threads[k];

			for (size_t j = 0; t->frames && j < t->nframes; j++) {
				const struct dump_frame *f = &t->frames[j];
				size_t ml = f->module ? strlen(f->module) : 0;

				if (f->pc < d->mappings[i].start || f->pc >= d->mappings[i].limit)
					continue;
				seen = true;
				lines |= f->line > 0;
				bare |= ml && !strncmp(f->function, f->module, ml) &&
					!strncmp(f->function + ml, "+0x", 3);
			}
		}
		rc = profile_set_mapping_symbolized(p, ids[i], seen && !bare, seen && !bare && lines);
	}
	return rc;
}

static int fmt_add_mappings(struct profile *p, const struct dump *d, uint64_t *ids)
{
	int rc = 0;

	for (size_t i = 0; i < d->nmappings && !rc; i++) {
		const struct dump_mapping *m = &d->mappings[i];

		rc = profile_add_mapping(p, m->start, m->limit, m->offset, m->file, m->build_id,
					 false, &ids[i]);
	}
	return rc;
}


int fmt_dump_profile(const struct dump *d, struct profile **out)
{
	struct profile *p = NULL;
	struct profile_frame *pf = NULL;
	uint64_t *locs = NULL, *map_ids = NULL;
	size_t i, maxf = 1;
	char comment[128];
	int rc;

	*out = NULL;
	for (i = 0; i < d->n; i++)
		if (d->threads[i].frames && d->threads[i].nframes > maxf)
			maxf = d->threads[i].nframes;
	p = profile_new();
	locs = malloc(maxf * sizeof(*locs));
	pf = malloc(maxf * sizeof(*pf));
	map_ids = calloc(d->nmappings + 1, sizeof(*map_ids));
	if (!p || !locs || !pf || !map_ids) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(comment, sizeof(comment), "pprobe dump of process %d (%.*s)", (int)d->pid,
		 (int)strnlen(d->comm, sizeof(d->comm)), d->comm);
	rc = profile_add_sample_type(p, "threads", "count");
	if (!rc)
		rc = profile_set_period(p, "threads", "count", 1);
	if (!rc)
		rc = profile_set_default_sample_type(p, "threads");
	if (!rc)
		rc = profile_add_comment(p, comment);
	profile_set_time(p, d->time_ns, 0);
	if (!rc)
		rc = fmt_add_mappings(p, d, map_ids);
	for (i = 0; !rc && i < d->n; i++)
		rc = fmt_add_thread_sample(p, d, map_ids, &d->threads[i], locs, pf);
	if (!rc)
		rc = fmt_claim_mappings(p, d, map_ids);
	if (!rc) {
		*out = p;
		p = NULL;
	}
out:
	profile_free(p);
	free(locs);
	free(pf);
	free(map_ids);
	return rc;
}
