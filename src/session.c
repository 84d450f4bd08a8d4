/* session.c - set-up and release around a traced target (see session.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "pprobe/cli.h"
#include "pprobe/elfimage.h"
#include "pprobe/error.h"
#include "pprobe/perfmap.h"
#include "pprobe/session.h"
#include "pprobe/symbolize.h"
#include "pprobe/textesc.h"
#include "pprobe/timeutil.h"
#include "pprobe/unwind.h"

#define SESSION_MAPS_MIN_INTERVAL_NS (1000000LL)
#define SESSION_MAPS_POLL_NS (10 * 1000000LL)
#define SESSION_RELEASE_TIMEOUT_MS 500
/* How long loading symbols before attaching may take in all: what is not
 * loaded by then is loaded on first use, as the samples come. */
#define SESSION_WARM_BUDGET_NS (2000000000LL)

/* From here on Ctrl-C, SIGTERM and SIGHUP are events read from a signalfd,
 * not a sudden death: set up before the output's temporary file exists, so
 * no signal can leave it behind. */
static int session_block_signals(struct session *s, char *msg, size_t len)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &s->oldmask) < 0) {
		snprintf(msg, len, "sigprocmask: %s", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	s->mask_set = true;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0) {
		snprintf(msg, len, "signalfd: %s", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

int session_preflight(struct session *s, const struct options *o, char *msg, size_t len)
{
	/* Every resource starts released, so session_close is right after
	 * any failure from here on: descriptors -1, not the 0 of memset
	 * (a maps descriptor of 0 made an early failure close stdin). */
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->sigfd = -1;
	maps_init(&s->maps, o->pid);
	if (preflight_check(o, &s->pf) != 0) {
		snprintf(msg, len, "%s", s->pf.msg);
		return s->pf.exit_code;
	}
	return session_block_signals(s, msg, len);
}

/* One descriptor per thread is kept open for CPU-time reads: allow as many
 * as the hard limit permits. */
static void session_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int session_attach_exit_code(int err)
{
	if (err == -ESRCH)
		return CLI_EXIT_NOPROC;
	if (err == -EPERM)
		return CLI_EXIT_PERM;
	if (err == -PPROBE_E_TRACED)
		return CLI_EXIT_TRACED;
	return CLI_EXIT_FAILURE;
}

/* The maps (read again on every call), the symbolizer and the unwinder,
 * made on the first call: before seizing when the symbols are loaded
 * first (session_warm_mapped) or top fetches debug info, else after. */
static int session_open_symbols(struct session *s)
{
	int err;

	if (!s->maps_open) {
		maps_init(&s->maps, s->o->pid);
		s->maps_open = true;
	}
	err = maps_read(&s->maps);
	if (!err && !s->sym)
		err = symbolize_new(&s->sym);
	if (!err && !s->unw)
		err = unwind_new(&s->maps, &s->unw);
	return err;
}

int session_attach(struct session *s, char *msg, size_t len)
{
	struct attach_diag diag;
	int err;

	session_raise_nofile();
	attach_init(&s->att, s->o->pid, s->sigfd);
	err = attach_seize_all(&s->att, &diag);
	if (err) {
		snprintf(msg, len, "cannot attach to process %d: %s", (int)s->o->pid, diag.why);
		return session_attach_exit_code(err);
	}
	s->attached = true;
	err = session_open_symbols(s);
	if (!err)
		err = perfmap_load(s->o->pid, &s->perfmap);
	if (!err)
		symbolize_set_perfmap(s->sym, s->perfmap);
	if (err) {
		snprintf(msg, len, "cannot read the memory map of process %d: %s", (int)s->o->pid,
			 error_str(err));
		session_release(s);
		return err == -ENOENT || err == -ESRCH ? CLI_EXIT_NOPROC : CLI_EXIT_FAILURE;
	}
	s->maps_read_ns = timeutil_mono_ns();
	return 0;
}

/* maps_evict_unmapped's callback: what the unwinder and the symbolizer
 * built on an image goes with it. */
static void session_forget_image(void *arg, const struct elfimage *img)
{
	struct session *s = arg;

	unwind_forget_image(s->unw, img);
	symbolize_forget_image(s->sym, img);
}

bool session_refresh_maps(struct session *s, bool force)
{
	int64_t now = timeutil_mono_ns(), took;
	unsigned gen = s->maps.generation;

	if (s->att.exec_seen) {
		force = true;
		s->att.exec_seen = false;
	}
	/* A pc outside the maps asks for a read at most every millisecond,
	 * unless the last read found the maps changing (a program just exec'd
	 * loads its libraries one after another). */
	if (!force && !s->maps_changed && now - s->maps_read_ns < SESSION_MAPS_MIN_INTERVAL_NS)
		return false;
	if (maps_read(&s->maps) != 0)
		return false;
	took = timeutil_mono_ns() - now;
	s->maps_read_ns = now;
	s->maps_read_cost_ns = took;
	s->maps_changed = s->maps.generation != gen;
	if (!s->maps_changed)
		return false;
	/* Libraries unloaded for good (a plugin loader, a JIT writing .so
	 * files) are let go, or their files and sessions pile up.  Every
	 * sample taken so far is symbolized already (stacks_add). */
	maps_evict_unmapped(&s->maps, session_forget_image, s);
	unwind_flush(s->unw);
	return true;
}

void session_poll_maps(struct session *s, int64_t now)
{
	/* A library unloaded and another loaded at its addresses leaves no
	 * pc outside the maps to tell us: look again every 10 ms, or less
	 * often when reading the maps is costly (a process with 100,000
	 * mappings), so this stays within 2% of pprobe's own time. */
	int64_t interval = SESSION_MAPS_POLL_NS;

	if (s->maps_read_cost_ns * 50 > interval)
		interval = s->maps_read_cost_ns * 50;
	if (now - s->maps_read_ns >= interval)
		session_refresh_maps(s, true);
}

/* debugfetch's reporter: a line for each event on fetch_log; a stop signal
 * ends the fetching. */
static bool session_fetch_report(void *ctx, const struct debugfetch_event *ev)
{
	struct session *s = ctx;
	bool stopped_before = s->stop_requested;
	char line[512];

	debugfetch_format(ev, line, sizeof(line));
	if (line[0] && s->fetch_log) {
		/* It names the target's files. */
		fputs("pprobe: ", s->fetch_log);
		textesc_put(s->fetch_log, line, sizeof(line), false);
		fputc('\n', s->fetch_log);
	}
	if (!session_stop_requested(s))
		return false;
	if (!stopped_before && s->fetch_log)
		fprintf(s->fetch_log, "pprobe: stopped fetching debug info from debuginfod\n");
	return true;
}

int session_fetch_begin(struct session *s, FILE *log)
{
	int err;

	if (!s->o->debuginfod_urls)
		return 0;
	if (s->attached)
		return -EBUSY;
	s->fetch_log = log;
	/* Threads that could not be detached (uninterruptible sleep) are
	 * still traced, and stop as soon as they wake until pprobe exits:
	 * then pprobe has no time to spend on the network. */
	if (s->att.stuck_threads || s->att.left_traced) {
		if (log)
			fprintf(log, "pprobe: not fetching debug info from debuginfod: %u threads are "
				"still traced until pprobe exits\n",
				s->att.stuck_threads + s->att.left_traced);
		return 0;
	}
	if (!s->fetch_ready) {
		err = debugfetch_init(&s->fetch, s->o->debuginfod_urls, s->o->debuginfod_timeout,
				      session_fetch_report, s);
		if (err)
			return err;
		s->fetch_ready = true;
	}
	if (s->sym)
		symbolize_set_fetch(s->sym, &s->fetch);
	return 0;
}

void session_fetch_end(struct session *s)
{
	if (s->sym)
		symbolize_set_fetch(s->sym, NULL);
}

/* Call fn for each ELF image the target maps executable now, once each:
 * the main executable's first, then in the order of the maps (read by
 * session_open_symbols).  Stops at the first negative return, or when fn
 * returns 1. */
static int session_each_image(struct session *s,
			      int (*fn)(struct session *s, struct elfimage *img, void *ctx),
			      void *ctx)
{
	struct maps_entry **v = NULL;
	size_t n = 0;
	int err = maps_list_exec(&s->maps, &v, &n);

	for (size_t i = 0; i < n && !err; i++) {
		struct elfimage *img;
		uint64_t bias;
		bool seen = false;

		if (maps_resolve(&s->maps, v[i], &img, &bias) != 0)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = v[j]->img == img;
		if (!seen)
			err = fn(s, img, ctx);
	}
	free(v);
	return err < 0 ? err : 0;
}

static int session_fetch_image(struct session *s, struct elfimage *img, void *ctx)
{
	int err = symbolize_fetch(s->sym, img);

	(void)ctx;
	if (err < 0)
		return err;
	return s->fetch.stopped ? 1 : 0;
}

int session_fetch_mapped(struct session *s)
{
	int err;

	if (!s->fetch_ready)
		return 0;
	if (s->attached)
		return -EBUSY;
	err = session_open_symbols(s);
	if (err)
		return err;
	symbolize_set_fetch(s->sym, &s->fetch);
	return session_each_image(s, session_fetch_image, NULL);
}

/* A stop signal waits on the signalfd, left there for the sampling loop
 * to end the run as it always does (writing what it has). */
static bool session_stop_pending(void)
{
	sigset_t set;

	return sigpending(&set) == 0 && (sigismember(&set, SIGINT) == 1 ||
					  sigismember(&set, SIGTERM) == 1 ||
					  sigismember(&set, SIGHUP) == 1);
}

struct session_warm {
	int64_t deadline_ns;
	FILE *log;
};

/* One image's symbols and unwind tables, if time is left (1 ends the
 * walk when it is not, or on a stop signal). */
static int session_warm_image(struct session *s, struct elfimage *img, void *ctx)
{
	struct session_warm *w = ctx;
	int64_t t0 = timeutil_mono_ns();
	int got;

	if (t0 >= w->deadline_ns || session_stop_pending())
		return 1;
	got = symbolize_warm(s->sym, img);
	if (got < 0)
		return got;
	unwind_warm(s->unw, img);
	s->warm_images++;
	if (w->log) {
		char line[512];

		/* It names the target's files. */
		snprintf(line, sizeof(line), "loaded symbols of %s before attaching (%.1f ms)",
			 img->name, (double)(timeutil_mono_ns() - t0) / 1e6);
		fputs("pprobe: ", w->log);
		textesc_put(w->log, line, sizeof(line), false);
		fputc('\n', w->log);
	}
	return 0;
}

int session_warm_mapped(struct session *s, FILE *log)
{
	struct session_warm w = {
		.deadline_ns = timeutil_mono_ns() + SESSION_WARM_BUDGET_NS,
		.log = log,
	};
	int err;

	if (s->attached)
		return -EBUSY;
	err = session_open_symbols(s);
	if (err)
		return err;
	return session_each_image(s, session_warm_image, &w);
}

bool session_stop_requested(struct session *s)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (s->sigfd >= 0 && read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
			stop = true;
	if (stop)
		s->stop_requested = true;
	return stop;
}

void session_release(struct session *s)
{
	if (s->attached) {
		attach_release_all(&s->att, SESSION_RELEASE_TIMEOUT_MS);
		s->attached = false;
	}
}

void session_service(struct session *s)
{
	attach_service(&s->att);
}

void session_close(struct session *s)
{
	session_release(s);
	/* Threads left traced by the release are detached by the kernel as
	 * pprobe exits, which the commands do right after this. */
	attach_fini(&s->att);
	unwind_free(s->unw);
	s->unw = NULL;
	symbolize_free(s->sym);
	s->sym = NULL;
	perfmap_free(s->perfmap);
	s->perfmap = NULL;
	maps_fini(&s->maps);
	s->maps_open = false;
	if (s->fetch_ready)
		debugfetch_fini(&s->fetch);
	s->fetch_ready = false;
	if (s->sigfd >= 0)
		close(s->sigfd);
	s->sigfd = -1;
	/* The signal mask stays as it is: a second Ctrl-C arriving now would
	 * otherwise kill pprobe before it reports and exits. */
}
