/* debugfetch.h - debug info from debuginfod servers, fetched only when asked.
 *
 * libdwfl asks the servers named in DEBUGINFOD_URLS whenever a lookup finds
 * no debug info on this machine (libdebuginfod reads the variable at each
 * query).  A fetch can take seconds.  If pprobe waited on the network while
 * it traced the target, every ptrace stop it has to answer -- a signal for
 * the target (signal-delivery stop), a new thread, an exit -- would wait as
 * long, and with it the thread that stopped.  So the variable is taken out
 * of pprobe's environment at start-up (debugfetch_take_env), and put back
 * only around the queries the commands make while no thread is traced
 * (debugfetch_begin .. debugfetch_end, called by symbolize.c).
 *
 * Which servers (debugfetch_servers): DEBUGINFOD_URLS when set and not
 * blank, with or without -debuginfod, as every elfutils tool does; with
 * -debuginfod and no variable, the words of the *.urls files in
 * /etc/debuginfod (libdebuginfod-common's convention, which its profile.d
 * script reads for login shells).  DEBUGINFOD_URLS set empty turns fetching off.
 *
 * The time limit is one budget for all the queries of a run, counted from
 * the first.  Each query gets DEBUGINFOD_MAXTIME set to what is left (minus
 * libdebuginfod's whole-second rounding), so libdebuginfod gives up by
 * itself with ETIME -- which it does not remember as a miss -- and no
 * retries (DEBUGINFOD_RETRY_LIMIT 0) unless the user set that variable: a
 * retry would start the clock again.  No query starts once the budget is
 * spent.  The progress callback cancels a query still running after the
 * budget (a server that trickles, the user's own retries); libdebuginfod
 * 0.188 remembers a cancelled file as missing for cache_miss_s (10
 * minutes), which is why that is only the backstop.
 *
 * What happens is reported to a callback of the command layer as it happens
 * (a query went out, a file did not come, the budget is spent); the callback
 * prints, and may ask to stop (Ctrl-C).  Nothing here prints.
 */
#ifndef PPROBE_DEBUGFETCH_H
#define PPROBE_DEBUGFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct debuginfod_client;

/* Where libdebuginfod-common keeps the lists of servers. */
#define DEBUGFETCH_URLS_DIR "/etc/debuginfod"
/* The default of -debuginfod-timeout, in seconds. */
#define DEBUGFETCH_DEFAULT_TIMEOUT 30.0

enum debugfetch_event_kind {
	DEBUGFETCH_FETCHING, /* a query for file went to the servers (not the cache) */
	DEBUGFETCH_MISSING,  /* ... and no debug info came: not found, or an error */
	DEBUGFETCH_TIMEDOUT, /* ... and it did not come within the time left */
	DEBUGFETCH_SPENT,    /* the time limit is spent: no more queries (once) */
	DEBUGFETCH_WAITING,  /* a query is under way (often): nothing to print, but
				the reporter's answer can stop it */
};

struct debugfetch_event {
	enum debugfetch_event_kind kind;
	const char *file;     /* the file as the target names it; NULL for SPENT */
	const char *build_id; /* its GNU build ID, hex; NULL for SPENT */
	double limit_s;       /* the run's time limit */
};

/* The command layer's reporter; returns true to stop fetching (no query
 * starts after, the one running is cancelled). */
typedef bool (*debugfetch_report_fn)(void *ctx, const struct debugfetch_event *ev);

struct debugfetch {
	char *urls;          /* the servers, space separated (owned) */
	int64_t limit_ns;
	int64_t deadline_ns; /* monotonic; 0 until the first query */
	char *user_maxtime;  /* the user's DEBUGINFOD_MAXTIME, or NULL (owned) */
	char *user_retry;    /* the user's DEBUGINFOD_RETRY_LIMIT, or NULL (owned) */
	int null_fd;         /* /dev/null, libdebuginfod's verbose fd, or -1 */
	debugfetch_report_fn report;
	void *report_ctx;
	bool stopped;        /* the reporter asked to stop */
	bool spent;          /* DEBUGFETCH_SPENT was reported */
	/* The query under way, between debugfetch_begin and _end. */
	const char *file, *build_id;
	int64_t query_start_ns;
	long maxtime_s;
	bool announced;      /* DEBUGFETCH_FETCHING was reported for it */
	bool cancelled;      /* the progress callback cancelled it (time) */
};

/* A copy of DEBUGINFOD_URLS (NULL if unset), removed from the environment.
 * Call first thing in main, before anything can reach libdwfl. */
char *debugfetch_take_env(void);

/* The servers to use: env_urls (the variable as taken by
 * debugfetch_take_env) if it holds a word; else, when asked (-debuginfod),
 * the words of the *.urls files in dir, lines starting with '#' left out.
 * *urls gets a malloc'd space-separated list, or NULL when fetching is off.
 * -ENOENT: asked, and no server anywhere. */
int debugfetch_servers(bool asked, const char *env_urls, const char *dir, char **urls);

/* Prepare to fetch from urls (copied) within limit_s seconds in all; the
 * user's DEBUGINFOD_MAXTIME and DEBUGINFOD_RETRY_LIMIT are read now.
 * report (with ctx) is called as things happen. */
int debugfetch_init(struct debugfetch *f, const char *urls, double limit_s,
		    debugfetch_report_fn report, void *ctx);
void debugfetch_fini(struct debugfetch *f);

/* Around one lookup that may query the servers, with client the one
 * libdwfl will use (dwfl_get_debuginfod_client; may be NULL).  Sets the
 * environment and the client's progress callback for file (its name and
 * build ID are borrowed until _end).  0: go ahead; -ETIMEDOUT: the time is
 * spent, -ECANCELED: asked to stop, -ENOSYS: no client -- then do not look
 * up, and do not call _end.  Only while no thread of the target is traced. */
int debugfetch_begin(struct debugfetch *f, struct debuginfod_client *client,
		     const char *file, const char *build_id);
/* After the lookup: found tells whether debug info came.  Takes the servers
 * out of the environment again and reports a file that did not come. */
void debugfetch_end(struct debugfetch *f, struct debuginfod_client *client, bool found);

/* One line for ev, without "pprobe: " or a newline ("" for WAITING). */
void debugfetch_format(const struct debugfetch_event *ev, char *buf, size_t len);

#endif
