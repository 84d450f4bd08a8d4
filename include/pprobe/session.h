/* session.h - what every command needs around a traced target.
 *
 * A session checks the target (preflight), blocks pprobe's own signals onto
 * a signalfd (so Ctrl-C is an event like any other and every exit path goes
 * through session_close), seizes the threads, and owns the maps, unwinder and
 * symbolizer.  session_close() is the release path for every way a run ends.
 */
#ifndef PPROBE_SESSION_H
#define PPROBE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pprobe/attach.h"
#include "pprobe/debugfetch.h"
#include "pprobe/maps.h"
#include "pprobe/options.h"
#include "pprobe/preflight.h"

struct unwind;
struct symbolize;

struct session {
	const struct options *o;
	struct preflight pf;
	int sigfd;
	sigset_t oldmask;
	bool mask_set;
	struct attach att;
	bool attached;
	struct maps maps;
	struct unwind *unw;
	struct symbolize *sym;
	struct perfmap *perfmap; /* JIT code names, /tmp/perf-PID.map */
	int64_t maps_read_ns; /* when maps were last read */
	int64_t maps_read_cost_ns; /* how long that took */
	bool maps_changed; /* that read found the mappings changed */
	bool maps_open;
	struct debugfetch fetch; /* the debuginfod servers and time limit, if any */
	bool fetch_ready;
	FILE *fetch_log;     /* where fetches are reported, or NULL */
	bool stop_requested; /* SIGINT/SIGTERM/SIGHUP seen by session_stop_requested */
	unsigned warm_images; /* images whose symbols session_warm_mapped loaded */
};

/* Check the target.  Returns 0, or an exit code with msg filled. */
int session_preflight(struct session *s, const struct options *o, char *msg, size_t len);

/* Seize every thread and set up maps, unwinder, symbolizer.  Returns 0,
 * or an exit code with msg filled (nothing stays traced then). */
int session_attach(struct session *s, char *msg, size_t len);

/* Re-read the maps if they may have changed (exec, or a pc outside every
 * known mapping) and the last read is older than a few milliseconds (or
 * force).  Returns true when they changed (unwind caches are flushed). */
bool session_refresh_maps(struct session *s, bool force);

/* Re-read the maps if the last read is old (10 ms, or 50 times as long as
 * a read takes); cheap to call every tick. */
void session_poll_maps(struct session *s, int64_t now);

/* Let symbol lookups fetch missing debug info from the debuginfod servers
 * of the run (o->debuginfod_urls; nothing happens without) until
 * session_fetch_end.  What is fetched, and what did not come, is written
 * to log a line each (NULL: nothing is written); SIGINT, SIGTERM or SIGHUP
 * stop the fetching (and set stop_requested).  -EBUSY while threads are
 * traced: a tracer waiting on the network answers no ptrace stop, so a
 * thread stopping for a signal, a clone or an exit would wait as long
 * (symbolize_set_fetch).  Commands call it after session_release, or
 * before session_attach.  After a release that left threads traced
 * (att.stuck_threads, att.left_traced), fetching stays off, and log says
 * so. */
int session_fetch_begin(struct session *s, FILE *log);
void session_fetch_end(struct session *s);

/* Before session_attach (for top, which never lets go until it ends):
 * fetch the debug info that the ELF files the target maps now lack.
 * Between session_fetch_begin and _end. */
int session_fetch_mapped(struct session *s);

/* Before session_attach (record, top): load the symbols and unwind tables
 * of the ELF files the target maps now (symbolize_warm, unwind_warm), the
 * main executable's first, then in the order of the maps, for at most 2 s
 * in all: the first lookup in an image loads its debug info, which took
 * over a second for libc under load, and no thread was sampled meanwhile.
 * Before attaching that costs the target nothing.  What is not loaded in
 * time is loaded on first use.  Each image loaded is written to log a
 * line each (NULL: nothing is written); a stop signal ends the walk and
 * stays pending for the sampling loop.  -EBUSY once attached. */
int session_warm_mapped(struct session *s, FILE *log);

/* Has pprobe been asked to stop (SIGINT, SIGTERM, SIGHUP) since the last
 * look?  Reads the signalfd without waiting: for the times no attach_poll
 * runs (before seizing, after letting go).  Also sets stop_requested. */
bool session_stop_requested(struct session *s);

/* session_release: detach every thread that can be detached without
 * breaking its call (attach_release_all; if not yet).  Threads left
 * traced (att.left_traced, att.stuck_threads) are detached by the kernel
 * when pprobe exits: after a release, call session_service between steps
 * (it answers their stops), and exit right after session_close, which
 * frees everything.  Both idempotent. */
void session_release(struct session *s);
void session_service(struct session *s);
void session_close(struct session *s);

#endif
