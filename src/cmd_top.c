/* cmd_top.c - `pprobe top`: sample like record, and every second redraw a
 * table of the hottest functions, over the last few seconds and in total,
 * like `top` for functions (py-spy top is the model).
 *
 * The sampler feeds one profile for the whole run.  Each redraw computes
 * every function's flat and cumulative value from it; the "recent" columns
 * are the difference from the totals of TOP_RECENT_SECONDS redraws ago.
 *
 * Every thread is traced while the table is drawn, so drawing never waits
 * on the terminal (termout.h: a frame that does not fit is dropped), and
 * names from the target are escaped (textesc.h).  An output nobody reads
 * any more (`top | head`) ends the run like Ctrl-C.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "pprobe/cli.h"
#include "pprobe/cmd_top.h"
#include "pprobe/error.h"
#include "pprobe/profile.h"
#include "pprobe/perfsample.h"
#include "pprobe/sampler.h"
#include "pprobe/session.h"
#include "pprobe/stacks.h"
#include "pprobe/termout.h"
#include "pprobe/textesc.h"
#include "pprobe/threadstate.h"
#include "pprobe/timeutil.h"

#define TOP_REDRAW_NS 1000000000LL
#define TOP_RECENT_SECONDS 5

/* Per-function totals at one redraw, indexed by function id. */
struct top_totals {
	int64_t *flat, *cum;
	size_t n;
};

struct top {
	const struct options *o;
	struct session s;
	struct profile *prof;
	struct stacks st;
	struct sampler sp;
	struct perfsample ps; /* the sampler when use_perf */
	bool use_perf;
	bool perf_exclude_kernel;
	bool batch; /* standard output is not a terminal: plain frames (top -b) */
	unsigned long frames; /* frames drawn so far */
	struct top_totals ring[TOP_RECENT_SECONDS + 1];
	size_t ring_pos, ring_count;
	struct termios saved_tty;
	bool tty_raw;
	struct termout out;
	int out_err; /* the output is gone: -EPIPE, -EIO... */
	int64_t start_ns;
};

static void top_totals_free(struct top_totals *t)
{
	free(t->flat);
	free(t->cum);
	memset(t, 0, sizeof(*t));
}

/* Flat and cum of every function in the profile (value index 1).  Cum
 * counts a function once per sample even when it recurses. */
static int top_totals_compute(const struct profile *p, struct top_totals *t)
{
	size_t nf = profile_function_count(p) + 1;
	uint32_t *seen;
	uint32_t stamp = 0;

	top_totals_free(t);
	t->flat = calloc(nf, sizeof(*t->flat));
	t->cum = calloc(nf, sizeof(*t->cum));
	seen = calloc(nf, sizeof(*seen));
	if (!t->flat || !t->cum || !seen) {
		free(seen);
		top_totals_free(t);
		return -ENOMEM;
	}
	t->n = nf;
	for (size_t i = 0; i < profile_sample_count(p); i++) {
		const struct profile_sample *s = profile_sample_at(p, i);
		bool leaf = true;

		stamp++;
		for (size_t j = 0; j < s->nlocations; j++) {
			const struct profile_location *loc = profile_location_by_id(p, s->location_ids[j]);

			for (size_t k = 0; loc && k < loc->nlines; k++) {
				uint64_t fid = loc->lines[k].function_id;

				if (fid >= nf)
					continue;
				if (leaf) {
					t->flat[fid] += s->values[1];
					leaf = false;
				}
				if (seen[fid] != stamp) {
					seen[fid] = stamp;
					t->cum[fid] += s->values[1];
				}
			}
		}
	}
	free(seen);
	return 0;
}

static int64_t top_at(const struct top_totals *t, const int64_t *v, uint64_t fid)
{
	return fid < t->n ? v[fid] : 0;
}

struct top_row {
	uint64_t fid;
	int64_t rflat, rcum, tflat, tcum;
};

static int top_row_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->rflat != y->rflat)
		return x->rflat < y->rflat ? 1 : -1;
	if (x->tflat != y->tflat)
		return x->tflat < y->tflat ? 1 : -1;
	return x->tcum < y->tcum ? 1 : x->tcum > y->tcum ? -1 : 0;
}

/* Send a frame: never waits; a gone output is remembered in out_err. */
static void top_send(struct top *t, const char *buf, size_t len)
{
	int err = termout_frame(&t->out, buf, len);

	if (err && !t->out_err)
		t->out_err = err;
}

static void top_draw(struct top *t, int64_t now)
{
	const struct top_totals *cur = &t->ring[t->ring_pos];
	const struct top_totals *old = t->ring_count > TOP_RECENT_SECONDS ?
		&t->ring[(t->ring_pos + 1) % (TOP_RECENT_SECONDS + 1)] : NULL;
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	struct top_row *rows;
	size_t nrows = 0, live = 0;
	int64_t rtotal = 0, ttotal = 0;
	char a[32], b[32], name[1024], comm[80];
	char *frame = NULL;
	size_t frame_len = 0;
	const char *eol = t->batch ? "\n" : "\r\n"; /* raw terminal: \n alone does not return */
	FILE *f;

	/* Not a terminal (batch, as top -b), or a terminal that reports no
	 * size: 24x80, not zero rows. */
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) {
		ws.ws_row = 24;
		ws.ws_col = 80;
	}
	rows = calloc(cur->n ? cur->n : 1, sizeof(*rows));
	if (!rows)
		return;
	f = open_memstream(&frame, &frame_len);
	if (!f) {
		free(rows);
		return;
	}
	for (uint64_t fid = 1; fid < cur->n; fid++) {
		struct top_row *r = &rows[nrows];

		r->fid = fid;
		r->tflat = cur->flat[fid];
		r->tcum = cur->cum[fid];
		r->rflat = r->tflat - (old ? top_at(old, old->flat, fid) : 0);
		r->rcum = r->tcum - (old ? top_at(old, old->cum, fid) : 0);
		rtotal += r->rflat;
		ttotal += r->tflat;
		if (r->tcum > 0)
			nrows++;
	}
	qsort(rows, nrows, sizeof(*rows), top_row_cmp);
	/* The header counts the threads shown: with -t, those chosen. */
	for (size_t i = 0; i < t->s.att.n; i++) {
		const struct attach_thread *th = t->s.att.threads[i];
		bool chosen = !t->o->ntids;

		for (size_t k = 0; k < t->o->ntids && !chosen; k++)
			chosen = t->o->tids[k] == th->tid;
		live += chosen && th->state != ATTACH_GONE;
	}
	/* Batch mode (standard output not a terminal): frames one after
	 * the other, a blank line between two, no screen-clearing codes, as
	 * top -b; the first line is the header (top | head -1). */
	if (t->batch && t->frames++ > 0)
		fprintf(f, "\n");
	else if (!t->batch)
		fprintf(f, "\033[H\033[2J");
	fprintf(f, "pprobe top: process %d (%s), %zu threads, %s mode, %.0fs, %llu samples  (q or Ctrl-C quits)%s",
		(int)t->o->pid, textesc_str(comm, sizeof(comm), t->s.pf.comm), live,
		t->o->wall ? "wall" : t->use_perf ? "cpu (perf events)" : "cpu (ptrace)",
		(double)(now - t->start_ns) / 1e9,
		(unsigned long long)(t->use_perf ? t->ps.stats.samples : t->sp.stats.samples), eol);
	fprintf(f, "last %ds: columns 1-2; whole run: columns 3-4%s%s", TOP_RECENT_SECONDS, eol, eol);
	fprintf(f, "  %%Own  %%Total   OwnTime TotalTime  Function%s", eol);
	for (size_t i = 0; i < nrows && i + 6 < (size_t)ws.ws_row; i++) {
		const struct top_row *r = &rows[i];
		const struct profile_function *fn = profile_function_by_id(t->prof, r->fid);
		size_t width = ws.ws_col > 40 ? ws.ws_col - 38u : 20u;

		timeutil_format_duration(r->tflat, a, sizeof(a));
		timeutil_format_duration(r->tcum, b, sizeof(b));
		/* Cut to the column's width, never inside a character or an escape. */
		textesc_str(name, width + 1 < sizeof(name) ? width + 1 : sizeof(name),
			    fn && fn->name ? fn->name : "?");
		fprintf(f, "%6.1f%% %6.1f%% %9s %9s  %s%s",
			rtotal ? 100.0 * (double)r->rflat / (double)rtotal : 0.0,
			rtotal ? 100.0 * (double)r->rcum / (double)rtotal : 0.0, a, b, name, eol);
	}
	(void)ttotal;
	if (fclose(f) == 0)
		top_send(t, frame, frame_len);
	free(frame);
	free(rows);
}

static void top_tty_raw(struct top *t)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved_tty) != 0)
		return;
	raw = t->saved_tty;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		t->tty_raw = true;
	top_send(t, "\033[?25l", 6); /* hide the cursor while drawing */
}

static void top_tty_restore(struct top *t)
{
	if (!t->tty_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &t->saved_tty);
	/* Show the cursor again; called once no thread is traced, so it may
	 * wait a little for a terminal that is slow to take it. */
	top_send(t, "\033[?25h\r\n", 8);
	termout_drain(&t->out, 1000);
	t->tty_raw = false;
}

static bool top_quit_key(void)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	while (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
		if (read(STDIN_FILENO, &c, 1) != 1)
			return false;
		if (c == 'q' || c == 'Q')
			return true;
	}
	return false;
}

/* top traces the target until it ends, so debug info (-debuginfod) is
 * fetched before it attaches, for the files mapped then; files mapped
 * later are named from what this machine has.  Never while attached: a
 * tracer waiting on the network answers no ptrace stop, and a thread
 * stopping for a signal, a clone or its exit would wait as long. */
static int top_fetch_debuginfo(struct top *t)
{
	int err;

	if (!t->o->debuginfod_urls)
		return 0;
	err = session_fetch_begin(&t->s, t->o->quiet ? NULL : stderr);
	if (!err)
		err = session_fetch_mapped(&t->s);
	session_fetch_end(&t->s);
	return err;
}

/* One turn of sampling: a tick of the ptrace sampler, or with perf events
 * a read of the rings (the kernel took the samples). */
static int top_sample(struct top *t, int64_t now)
{
	int err;

	if (!t->use_perf)
		return sampler_tick(&t->sp, now);
	err = perfsample_sync(&t->ps);
	if (!err)
		err = perfsample_drain(&t->ps);
	attach_compact(&t->s.att);
	return err;
}

static int top_loop(struct top *t)
{
	int64_t period = t->use_perf ? t->ps.poll_ns : 1000000000LL / t->o->hz;
	int64_t next = t->start_ns + period, next_draw = t->start_ns + TOP_REDRAW_NS;
	struct attach *a = &t->s.att;
	int err;

	for (;;) {
		int64_t now = timeutil_mono_ns();

		if (a->stop_signal || a->target_exited || t->out_err || top_quit_key())
			return 0;
		if (termout_pending(&t->out) && !t->out_err)
			t->out_err = termout_flush(&t->out);
		if (now < next) {
			attach_poll(a, next - now);
			continue;
		}
		err = top_sample(t, now);
		if (err)
			return err;
		next += period;
		if (next < now)
			next = now + period;
		if (now >= next_draw) {
			t->ring_pos = (t->ring_pos + 1) % (TOP_RECENT_SECONDS + 1);
			t->ring_count++;
			err = top_totals_compute(t->prof, &t->ring[t->ring_pos]);
			if (err)
				return err;
			top_draw(t, now);
			next_draw += TOP_REDRAW_NS;
		}
	}
}

int cmd_top_run(const struct options *o)
{
	struct top t;
	char msg[512];
	int code, err;

	memset(&t, 0, sizeof(t));
	t.o = o;
	t.out.fd = -1;
	code = session_preflight(&t.s, o, msg, sizeof(msg));
	if (code)
		goto out_msg;
	code = perfsample_choose_code(o, &t.use_perf, &t.perf_exclude_kernel, msg, sizeof(msg));
	if (code)
		goto out_msg;
	t.prof = profile_new();
	err = t.prof ? sampler_setup_profile(t.prof, o) : -ENOMEM;
	if (!err)
		err = top_fetch_debuginfo(&t);
	if (err)
		goto out_err;
	if (t.s.stop_requested)
		goto out;
	/* Before attaching: a pipe nobody reads is known now. */
	err = termout_open(&t.out, STDOUT_FILENO);
	if (err == -EPIPE)
		goto out;
	/* After the fetch, before attaching: see cmd_record_run. */
	session_warm_mapped(&t.s, o->verbose ? stderr : NULL);
	if (o->kernel && !o->quiet && (err = threadstate_kernel_stack_access(o->pid)) < 0)
		fprintf(stderr, "pprobe: warning: -kernel: cannot read /proc/%d/task/*/stack (%s%s): "
			"no [kernel] frames\n", (int)o->pid, strerror(-err),
			err == -EACCES || err == -EPERM ? "; the kernel shows it to root only, "
			"CAP_SYS_ADMIN" : "");
	code = session_attach(&t.s, msg, sizeof(msg));
	if (code)
		goto out_msg;
	stacks_init(&t.st, t.prof, &t.s.maps, t.s.sym);
	err = t.use_perf ? perfsample_init(&t.ps, o, &t.s, &t.st, t.perf_exclude_kernel)
			 : sampler_init(&t.sp, o, &t.s, &t.st);
	if (!err && t.use_perf)
		err = perfsample_sync(&t.ps);
	if (err)
		goto out_err;
	t.start_ns = timeutil_mono_ns();
	t.batch = !isatty(STDOUT_FILENO);
	top_tty_raw(&t);
	if (!t.use_perf)
		sampler_prime(&t.sp);
	err = top_loop(&t);
	session_release(&t.s);
	top_tty_restore(&t);
	if (t.s.att.target_exited && !o->quiet)
		fprintf(stderr, "pprobe: process %d exited\n", (int)o->pid);
	if (err)
		goto out_err;
	/* Nobody reads the output any more (`top | head`): the end a user
	 * asked for.  A terminal that failed otherwise is an error. */
	if (t.out_err && t.out_err != -EPIPE) {
		snprintf(msg, sizeof(msg), "cannot write the table: %s", error_str(t.out_err));
		code = CLI_EXIT_FAILURE;
		goto out_msg;
	}
	goto out;
out_err:
	snprintf(msg, sizeof(msg), "%s", error_str(err));
	code = CLI_EXIT_FAILURE;
out_msg:
	fputs("pprobe: ", stderr);
	textesc_put(stderr, msg, sizeof(msg), false);
	fputc('\n', stderr);
out:
	top_tty_restore(&t);
	termout_close(&t.out);
	for (size_t i = 0; i <= TOP_RECENT_SECONDS; i++)
		top_totals_free(&t.ring[i]);
	sampler_fini(&t.sp);
	perfsample_fini(&t.ps);
	stacks_fini(&t.st);
	session_close(&t.s);
	profile_free(t.prof);
	return code;
}
