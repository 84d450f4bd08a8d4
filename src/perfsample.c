/* perfsample.c - CPU samples from per-thread perf events (see perfsample.h). */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pprobe/attach.h"
#include "pprobe/cli.h"
#include "pprobe/options.h"
#include "pprobe/perfsample.h"
#include "pprobe/procfs.h"
#include "pprobe/profile.h"
#include "pprobe/session.h"
#include "pprobe/stacks.h"
#include "pprobe/timeutil.h"
#include "pprobe/unwind.h"

/* x86_64 user registers the unwinder reads (enum perf_event_x86_regs):
 * ax bx cx dx si di bp sp ip (bits 0-8) and r8-r15 (bits 16-23).  The
 * segment registers ds es fs gs are refused on x86_64 (EINVAL). */
#define PERFSAMPLE_REGS_MASK 0xff01ffull
#define PERFSAMPLE_NREGS 17
/* A record's size is a u16: a sample with a larger stack copy would not
 * fit, and the kernel would shrink it anyway.  What is left after the
 * header, tid, time, count, registers and the two stack sizes. */
#define PERFSAMPLE_MAX_STACK 65024u
#define PERFSAMPLE_MAX_RECORD 65536u
/* The command loops read the rings every PERFSAMPLE_POLL_NS, but pprobe
 * itself may wait for a CPU on a busy host: a ring holds what a thread on
 * CPU all the time writes in PERFSAMPLE_DRAIN_NS, twice over, at most
 * PERFSAMPLE_MAX_PAGES pages; and all rings together at most
 * PERFSAMPLE_RING_BUDGET (halved per thread as threads grow, down to two
 * records), since ring pages are locked memory. */
#define PERFSAMPLE_DRAIN_NS 50000000LL
#define PERFSAMPLE_MAX_PAGES 256u
#define PERFSAMPLE_RING_BUDGET (256u << 20)
/* Descriptors left for everything but the events (ELF files, /proc). */
#define PERFSAMPLE_FD_MARGIN 256

/* One thread's event: attach_thread.user while the run samples with perf. */
struct perfsample_thread {
	int fd;
	void *ring;          /* the header page, then the data pages */
	size_t ring_len;
	uint64_t last_count; /* task-clock at the previous sample */
	bool gap;            /* samples were lost or throttled since the last one */
};

static long perfsample_open_event(struct perf_event_attr *attr, pid_t tid)
{
	return syscall(SYS_perf_event_open, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static void perfsample_fill_attr(struct perf_event_attr *attr, int64_t period_ns,
				 uint32_t stack_user, bool exclude_kernel)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = PERF_TYPE_SOFTWARE;
	/* task-clock: counts only while the thread runs, so one sample per
	 * period of the thread's own CPU time, like the ptrace sampler's
	 * value; cpu-clock would count wall time on any CPU. */
	attr->config = PERF_COUNT_SW_TASK_CLOCK;
	attr->sample_period = (uint64_t)period_ns;
	attr->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_READ |
			    PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	attr->read_format = 0;
	attr->sample_regs_user = PERFSAMPLE_REGS_MASK;
	attr->sample_stack_user = stack_user;
	/* Ticks in the kernel are kept (the user registers of a thread in a
	 * system call are those it entered with), unless only user-mode
	 * counting is allowed: then they are lost, and the profile says so. */
	attr->exclude_kernel = exclude_kernel;
	attr->exclude_hv = 1;
	attr->use_clockid = 1;
	attr->clockid = CLOCK_MONOTONIC;
	/* A PERF_RECORD_COMM in the ring, in order with the samples, when the
	 * thread renames itself: a new thread starts with its creator's name
	 * and takes its own a moment later (pools do), so a name read from
	 * /proc when its samples are read can be from before or after them. */
	attr->comm = 1;
}

int perfsample_probe(pid_t tid, bool *exclude_kernel)
{
	struct perf_event_attr attr;
	long fd;

	*exclude_kernel = false;
	perfsample_fill_attr(&attr, 10000000, 8192, false);
	attr.disabled = 1;
	fd = perfsample_open_event(&attr, tid);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		/* perf_event_paranoid 2 allows user-mode counting only. */
		attr.exclude_kernel = 1;
		fd = perfsample_open_event(&attr, tid);
		if (fd >= 0)
			*exclude_kernel = true;
	}
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

/* Entries of /proc/PID/task, or 0 if it cannot be read. */
static size_t perfsample_count_threads(pid_t pid)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

int perfsample_choose(const struct options *o, bool *use_perf, bool *exclude_kernel)
{
	int err;

	*use_perf = false;
	*exclude_kernel = false;
	if (o->wall)
		return o->sampler == OPTIONS_SAMPLER_PERF ? -EINVAL : 0;
	if (o->sampler == OPTIONS_SAMPLER_PTRACE)
		return 0;
	/* A ring per thread: past PERFSAMPLE_MAX_THREADS the rings would not
	 * fit their memory budget, and auto stops threads instead. */
	if (o->sampler == OPTIONS_SAMPLER_AUTO && o->ntids == 0 &&
	    perfsample_count_threads(o->pid) > PERFSAMPLE_MAX_THREADS)
		return 0;
	err = perfsample_probe(o->pid, exclude_kernel);
	if (err)
		return o->sampler == OPTIONS_SAMPLER_PERF ? err : 0;
	*use_perf = true;
	return 0;
}

int perfsample_choose_code(const struct options *o, bool *use_perf, bool *exclude_kernel,
			   char *msg, size_t len)
{
	int err = perfsample_choose(o, use_perf, exclude_kernel);

	if (!err)
		return CLI_EXIT_OK;
	if (err == -EINVAL) {
		snprintf(msg, len, "-sampler perf: wall mode samples with ptrace stops; "
			 "try 'pprobe --help'");
		return CLI_EXIT_USAGE;
	}
	snprintf(msg, len, "-sampler perf: cannot sample process %d: %s (-sampler auto falls back "
		 "to ptrace)", (int)o->pid, perfsample_strerror(err));
	return err == -EACCES || err == -EPERM ? CLI_EXIT_PERM :
	       err == -ESRCH ? CLI_EXIT_NOPROC : CLI_EXIT_FAILURE;
}

const char *perfsample_strerror(int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		return "perf events not allowed (kernel.perf_event_paranoid, no CAP_PERFMON, or a "
		       "seccomp filter)";
	case ENOSYS:
		return "this kernel has no perf_event_open";
	case ENOENT:
	case EOPNOTSUPP:
	case ENODEV:
		return "this kernel has no task-clock event with user stack samples";
	default:
		return strerror(-err);
	}
}

static void perfsample_thread_free(void *p)
{
	struct perfsample_thread *pt = p;

	if (!pt)
		return;
	if (pt->ring)
		munmap(pt->ring, pt->ring_len);
	if (pt->fd >= 0)
		close(pt->fd);
	free(pt);
}

int perfsample_init(struct perfsample *ps, const struct options *o, struct session *s,
		    struct stacks *st, bool exclude_kernel)
{
	size_t need, pages;
	uint64_t per_drain;

	memset(ps, 0, sizeof(*ps));
	ps->o = o;
	ps->s = s;
	ps->st = st;
	ps->exclude_kernel = exclude_kernel;
	ps->period_ns = 1000000000LL / o->hz;
	ps->stack_user = (uint32_t)(o->stack_bytes < PERFSAMPLE_MAX_STACK ? o->stack_bytes
									   : PERFSAMPLE_MAX_STACK);
	/* The kernel writes the whole size asked into the ring at every
	 * sample, however little of it is stack: above 250 Hz the copy
	 * shrinks with the rate (at least 16 KiB), so that the rings of a
	 * thread on CPU fill no faster than at 250 Hz. */
	if (o->hz > 250 && ps->stack_user > PERFSAMPLE_MAX_STACK / (uint32_t)o->hz * 250u)
		ps->stack_user = PERFSAMPLE_MAX_STACK / (uint32_t)o->hz * 250u;
	if (ps->stack_user < 16384 && o->stack_bytes >= 16384)
		ps->stack_user = 16384;
	ps->stack_user &= ~7u;
	/* Samples one thread writes between two reads, plus one of slack. */
	ps->poll_ns = ps->period_ns * 4 < PERFSAMPLE_POLL_NS ? ps->period_ns * 4 : PERFSAMPLE_POLL_NS;
	if (ps->poll_ns < 1000000)
		ps->poll_ns = 1000000;
	per_drain = (uint64_t)(PERFSAMPLE_DRAIN_NS / ps->period_ns) + 2;
	need = (size_t)per_drain * 2 * (ps->stack_user + 512);
	pages = 1;
	while (pages * (size_t)getpagesize() < need && pages < PERFSAMPLE_MAX_PAGES)
		pages *= 2;
	ps->ring_pages = pages;
	{
		struct rlimit rl;

		ps->fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (size_t)rl.rlim_cur : 1024;
	}
	s->att.user_free = perfsample_thread_free;
	ps->pcs = calloc((size_t)o->max_depth, sizeof(*ps->pcs));
	ps->scratch = malloc(PERFSAMPLE_MAX_RECORD);
	if (!ps->pcs || !ps->scratch)
		return -ENOMEM;
	return snapshot_init(&ps->snap, ps->stack_user);
}

void perfsample_fini(struct perfsample *ps)
{
	struct attach *a;

	if (!ps->s)
		return;
	a = &ps->s->att;
	for (size_t i = 0; i < a->n; i++) {
		perfsample_thread_free(a->threads[i]->user);
		a->threads[i]->user = NULL;
	}
	snapshot_fini(&ps->snap);
	free(ps->pcs);
	free(ps->scratch);
	ps->pcs = NULL;
	ps->scratch = NULL;
	ps->s = NULL;
}

static bool perfsample_wants_tid(const struct perfsample *ps, pid_t tid)
{
	if (ps->o->ntids == 0)
		return true;
	for (size_t i = 0; i < ps->o->ntids; i++)
		if (ps->o->tids[i] == tid)
			return true;
	return false;
}

/* The thread's name as its stat says now; from here on its ring's
 * PERF_RECORD_COMMs keep it (perfsample_comm). */
static void perfsample_read_name(struct perfsample *ps, struct attach_thread *t)
{
	char path[96], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)ps->o->pid, (int)t->tid);
	if (procfs_read_file(path, buf, sizeof(buf)) > 0)
		procfs_parse_stat_comm(buf, t->name, sizeof(t->name));
}

/* Open t's event and map its ring.  A ring that cannot be mapped at the
 * size wanted (locked-memory limits) is tried at half, down to two records. */
static int perfsample_open_thread(struct perfsample *ps, struct attach_thread *t)
{
	struct perf_event_attr attr;
	struct perfsample_thread *pt;
	size_t page = (size_t)getpagesize(), pages = ps->ring_pages;
	long fd;

	while (pages * page * (ps->s->att.n + 1) > PERFSAMPLE_RING_BUDGET &&
	       pages * page > 2 * PERFSAMPLE_MAX_RECORD)
		pages /= 2;
	perfsample_fill_attr(&attr, ps->period_ns, ps->stack_user, ps->exclude_kernel);
	fd = perfsample_open_event(&attr, t->tid);
	if (fd < 0)
		return -errno;
	pt = calloc(1, sizeof(*pt));
	if (!pt) {
		close((int)fd);
		return -ENOMEM;
	}
	pt->fd = (int)fd;
	for (;;) {
		pt->ring_len = (pages + 1) * page;
		pt->ring = mmap(NULL, pt->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, pt->fd, 0);
		if (pt->ring != MAP_FAILED)
			break;
		pt->ring = NULL;
		if (pages * page <= 2 * PERFSAMPLE_MAX_RECORD) {
			int err = -errno;

			perfsample_thread_free(pt);
			return err;
		}
		pages /= 2;
	}
	t->user = pt;
	/* Named now, while it surely lives (a short-lived thread may be gone
	 * when its samples are read), after the event is open: a rename from
	 * here on comes as a PERF_RECORD_COMM. */
	perfsample_read_name(ps, t);
	return 0;
}

int perfsample_sync(struct perfsample *ps)
{
	struct attach *a = &ps->s->att;

	/* Counted afresh: attach frees entries (an exec resets the leader's)
	 * without telling us. */
	ps->nevents = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct perfsample_thread *pt = a->threads[i]->user;

		ps->nevents += pt && pt->ring;
	}

	for (size_t i = 0; i < a->n; i++) {
		struct attach_thread *t = a->threads[i];
		int err;

		if (t->user || t->state == ATTACH_GONE || !perfsample_wants_tid(ps, t->tid))
			continue;
		/* Past the thread budget or the descriptors pprobe needs for
		 * the rest, a thread is not sampled (counted, reported). */
		err = ps->nevents >= PERFSAMPLE_MAX_THREADS ||
		      ps->nevents + PERFSAMPLE_FD_MARGIN >= ps->fd_limit ? -EMFILE
									  : perfsample_open_thread(ps, t);
		if (!err)
			ps->nevents++;
		if (err == -ENOMEM)
			return err;
		if (err && err != -ESRCH) {
			ps->stats.unsampled++;
			ps->open_err = err;
		}
		if (err) {
			/* One try per thread: an entry without an event. */
			struct perfsample_thread *none = calloc(1, sizeof(*none));

			if (!none)
				return -ENOMEM;
			none->fd = -1;
			t->user = none;
		}
	}
	return 0;
}

/* A cursor over one record's bytes: every field read is bounded. */
struct perfsample_cur {
	const uint8_t *p;
	size_t left;
};

static bool perfsample_take(struct perfsample_cur *c, void *out, size_t n)
{
	if (c->left < n)
		return false;
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

/* A PERF_RECORD_COMM (u32 pid, u32 tid, char comm[], padded): the name t
 * has from here on in its ring. */
static void perfsample_comm(struct attach_thread *t, const uint8_t *rec, size_t size)
{
	size_t at = sizeof(struct perf_event_header) + 8, n = 0;
	uint32_t tid;

	if (size < at)
		return;
	memcpy(&tid, rec + sizeof(struct perf_event_header) + 4, sizeof(tid));
	if ((pid_t)tid != t->tid)
		return;
	while (at + n < size && rec[at + n] && n + 1 < sizeof(t->name))
		n++;
	memcpy(t->name, rec + at, n);
	t->name[n] = '\0';
}

/* One PERF_RECORD_SAMPLE of thread t (whose ring it came from) into the
 * snapshot, then unwound and added like a ptrace sample. */
static int perfsample_sample(struct perfsample *ps, struct attach_thread *t,
			     struct perfsample_thread *pt, const uint8_t *rec, size_t len,
			     int64_t now)
{
	struct perfsample_cur c = { rec + sizeof(struct perf_event_header),
				    len - sizeof(struct perf_event_header) };
	struct user_regs_struct *r = &ps->snap.regs;
	uint64_t regs[PERFSAMPLE_NREGS], abi, size, dyn, count, stime, delta;
	uint32_t pidtid[2];
	const uint8_t *stack;
	struct unwind_result ur;
	struct profile_label_in labels[2];
	int64_t values[2];

	if (!perfsample_take(&c, pidtid, sizeof(pidtid)) || !perfsample_take(&c, &stime, 8) ||
	    !perfsample_take(&c, &count, 8) || !perfsample_take(&c, &abi, 8))
		goto bad;
	if (abi == PERF_SAMPLE_REGS_ABI_NONE) {
		/* No user registers: a kernel thread, or a tick during exit. */
		ps->stats.bad++;
		return 0;
	}
	if (!perfsample_take(&c, regs, sizeof(regs)) || !perfsample_take(&c, &size, 8))
		goto bad;
	stack = c.p;
	if (size > c.left || size > ps->snap.stack_cap)
		goto bad;
	c.p += size;
	c.left -= size;
	dyn = 0;
	if (size && !perfsample_take(&c, &dyn, 8))
		goto bad;
	if (dyn > size)
		goto bad;
	/* The sample's thread is the ring's (one event per thread); a
	 * different tid would be a thread that exec'd and took the leader's. */
	if ((pid_t)pidtid[1] != t->tid) {
		struct attach_thread *o = attach_find(&ps->s->att, (pid_t)pidtid[1]);

		if (!o) {
			ps->stats.unknown_tid++;
			return 0;
		}
		t = o;
	}
	/* Across an exec (attach notes when; the exec'ing thread stays
	 * stopped until then, its other threads are gone): a sample from
	 * before it cannot be unwound once the maps are the new program's,
	 * and one from after needs them. */
	if (ps->s->att.exec_ns) {
		if ((int64_t)stime < ps->s->att.exec_ns && ps->s->maps_read_ns >= ps->s->att.exec_ns) {
			ps->stats.exec_dropped++;
			return 0;
		}
		if ((int64_t)stime >= ps->s->att.exec_ns && ps->s->maps_read_ns < ps->s->att.exec_ns)
			session_refresh_maps(ps->s, true);
	}
	delta = count - pt->last_count;
	pt->last_count = count;
	/* Time the kernel did not sample (a full ring, throttling) is not
	 * handed to this stack: that would be the skid this sampler avoids. */
	if (pt->gap || delta > (uint64_t)ps->period_ns * 4) {
		delta = (uint64_t)ps->period_ns;
		pt->gap = false;
	}
	memset(r, 0, sizeof(*r));
	r->rax = regs[0];
	r->rbx = regs[1];
	r->rcx = regs[2];
	r->rdx = regs[3];
	r->rsi = regs[4];
	r->rdi = regs[5];
	r->rbp = regs[6];
	r->rsp = regs[7];
	r->rip = regs[8];
	r->r8 = regs[9];
	r->r9 = regs[10];
	r->r10 = regs[11];
	r->r11 = regs[12];
	r->r12 = regs[13];
	r->r13 = regs[14];
	r->r14 = regs[15];
	r->r15 = regs[16];
	r->orig_rax = (unsigned long long)-1;
	ps->snap.tid = t->tid;
	ps->snap.regs_partial = false;
	ps->snap.stop_ns = 0;
	/* The kernel copies from the stack pointer up (no red zone below). */
	ps->snap.stack_start = r->rsp;
	ps->snap.stack_len = (size_t)dyn;
	memcpy(ps->snap.stack, stack, (size_t)dyn);
	if (size && dyn == size)
		ps->stats.stack_full++;
	unwind_stack(ps->s->unw, &ps->snap, ps->pcs, (size_t)ps->o->max_depth, &ur);
	if (ur.end == UNWIND_END_UNMAPPED && session_refresh_maps(ps->s, false))
		unwind_stack(ps->s->unw, &ps->snap, ps->pcs, (size_t)ps->o->max_depth, &ur);
	/* The pc itself is in no mapping, even re-read: unlike a stopped
	 * thread's, this sample is from the past, and its code has gone since
	 * (an exec the maps were re-read after before attach reported it, an
	 * unloaded library).  Not a stack to show. */
	if (ur.end == UNWIND_END_UNMAPPED && ur.n <= 1) {
		ps->stats.exec_dropped++;
		return 0;
	}
	values[0] = 1;
	values[1] = (int64_t)delta;
	labels[0] = (struct profile_label_in){ .key = "thread", .str = t->name };
	labels[1] = (struct profile_label_in){ .key = "tid", .num = t->tid };
	t->samples++;
	ps->stats.samples++;
	return stacks_add(ps->st, NULL, 0, ps->pcs, ur.n, ur.end != UNWIND_END_OK, values, labels, 2,
			  NULL);
bad:
	ps->stats.bad++;
	return 0;
}

/* Read t's ring from data_tail to data_head.  The kernel writes records
 * 8-byte aligned into a power-of-2 ring, so a header never wraps, but a
 * record may: it is copied out then.  Sizes come from the kernel, and are
 * still checked against what the ring holds. */
static int perfsample_read_ring(struct perfsample *ps, struct attach_thread *t,
				struct perfsample_thread *pt, int64_t now)
{
	struct perf_event_mmap_page *mp = pt->ring;
	size_t page = (size_t)getpagesize();
	uint64_t off = mp->data_offset ? mp->data_offset : page;
	uint64_t size = mp->data_size ? mp->data_size : pt->ring_len - page;
	const uint8_t *data = (const uint8_t *)pt->ring + off;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	int err = 0;

	if (off + size > pt->ring_len || size == 0 || (size & (size - 1)))
		return 0;
	while (tail < head && !err) {
		struct perf_event_header h;
		uint64_t at = tail % size;
		const uint8_t *rec;

		memcpy(&h, data + at, sizeof(h));
		if (h.size < sizeof(h) || h.size > head - tail || (h.size & 7)) {
			ps->stats.bad++;
			tail = head;
			break;
		}
		if (at + h.size <= size) {
			rec = data + at;
		} else {
			memcpy(ps->scratch, data + at, size - at);
			memcpy(ps->scratch + (size - at), data, h.size - (size - at));
			rec = ps->scratch;
		}
		switch (h.type) {
		case PERF_RECORD_SAMPLE:
			err = perfsample_sample(ps, t, pt, rec, h.size, now);
			break;
		case PERF_RECORD_LOST:
			if (h.size >= sizeof(h) + 16) {
				uint64_t lost;

				memcpy(&lost, rec + sizeof(h) + 8, 8);
				ps->stats.lost += lost;
			}
			pt->gap = true;
			break;
		case PERF_RECORD_THROTTLE:
			ps->stats.throttled++;
			pt->gap = true;
			break;
		case PERF_RECORD_COMM:
			perfsample_comm(t, rec, h.size);
			break;
		default:
			break;
		}
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
	return err;
}

int perfsample_drain(struct perfsample *ps)
{
	struct attach *a = &ps->s->att;
	int64_t now = timeutil_mono_ns();
	bool exec = a->exec_seen;
	int err = 0;

	session_poll_maps(ps->s, now);
	for (size_t i = 0; i < a->n && !err; i++) {
		struct attach_thread *t = a->threads[i];
		struct perfsample_thread *pt = t->user;

		if (!pt)
			continue;
		if (pt->ring)
			err = perfsample_read_ring(ps, t, pt, now);
		/* After an exec every event is closed once read and opened
		 * again by the next sync: the old threads are gone, and a
		 * non-leader that exec'd took the leader's tid, so the leader's
		 * entry must follow that task, not the dead one. */
		if (t->state == ATTACH_GONE || exec) {
			perfsample_thread_free(pt);
			t->user = NULL;
		}
	}
	/* The rings were read with the old program's maps (a sample after
	 * the exec names a pc outside them, and unwinding re-reads them);
	 * new stacks need the new maps. */
	if (exec)
		session_refresh_maps(ps->s, true);
	return err;
}

void perfsample_format_stats(const struct perfsample *ps, char *buf, size_t len)
{
	const struct perfsample_stats *s = &ps->stats;

	snprintf(buf, len,
		 "perf events: %" PRIu64 " samples, %" PRIu64 " lost (ring full), %" PRIu64
		 " throttled, %" PRIu64 " stack copies filled the %" PRIu32 " bytes asked, %" PRIu64
		 " threads not sampled%s%s%s, %" PRIu64 " dropped: their code was gone when read (exec)",
		 s->samples, s->lost, s->throttled, s->stack_full, ps->stack_user, s->unsampled,
		 s->unsampled ? " (" : "", s->unsampled ? strerror(-ps->open_err) : "",
		 s->unsampled ? ")" : "", s->exec_dropped);
	if (ps->exclude_kernel) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "; ticks in the kernel not sampled (perf_event_paranoid)");
	}
}
