/* debugfetch.c - which debuginfod servers, and the time limit of the
 * queries libdwfl makes to them (see debugfetch.h). */
#include <ctype.h>
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprobe/debugfetch.h"
#include "pprobe/timeutil.h"

#define DEBUGFETCH_ENV_URLS "DEBUGINFOD_URLS"
#define DEBUGFETCH_ENV_MAXTIME "DEBUGINFOD_MAXTIME"
#define DEBUGFETCH_ENV_RETRY "DEBUGINFOD_RETRY_LIMIT"
/* A *.urls file is a few lines; anything longer is not one. */
#define DEBUGFETCH_URLS_FILE_MAX (64 * 1024)
#define DEBUGFETCH_NS 1000000000LL
/* libdebuginfod 0.188 looks at the clock about once a second and gives up
 * when more than DEBUGINFOD_MAXTIME whole seconds have passed: up to two
 * seconds after MAXTIME.  The queries are given that much less, and the
 * backstop waits that much past the deadline. */
#define DEBUGFETCH_SLACK_S 2

char *debugfetch_take_env(void)
{
	const char *v = getenv(DEBUGFETCH_ENV_URLS);
	char *copy = v ? strdup(v) : NULL;

	unsetenv(DEBUGFETCH_ENV_URLS);
	return copy;
}

static bool debugfetch_has_word(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return true;
	return false;
}

/* Append the words of text to the space-separated *list; a line whose
 * first word starts with '#' is a comment. */
static int debugfetch_add_words(char **list, const char *text)
{
	size_t have = *list ? strlen(*list) : 0;
	const char *p = text;

	while (*p) {
		const char *w, *eol = strchr(p, '\n');
		size_t n;
		char *nv;

		if (!eol)
			eol = p + strlen(p);
		while (p < eol && isspace((unsigned char)*p))
			p++;
		if (p < eol && *p == '#')
			p = eol;
		while (p < eol) {
			w = p;
			while (p < eol && !isspace((unsigned char)*p))
				p++;
			n = (size_t)(p - w);
			nv = realloc(*list, have + n + 2);
			if (!nv)
				return -ENOMEM;
			*list = nv;
			if (have)
				nv[have++] = ' ';
			memcpy(nv + have, w, n);
			have += n;
			nv[have] = '\0';
			while (p < eol && isspace((unsigned char)*p))
				p++;
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

static int debugfetch_read_file(const char *path, char **text)
{
	FILE *fp = fopen(path, "re");
	size_t n;
	char *buf;

	*text = NULL;
	if (!fp)
		return -errno;
	buf = malloc(DEBUGFETCH_URLS_FILE_MAX + 1);
	if (!buf) {
		fclose(fp);
		return -ENOMEM;
	}
	n = fread(buf, 1, DEBUGFETCH_URLS_FILE_MAX, fp);
	fclose(fp);
	buf[n] = '\0';
	*text = buf;
	return 0;
}

int debugfetch_servers(bool asked, const char *env_urls, const char *dir, char **urls)
{
	char pattern[4096];
	glob_t g;
	int err = 0;

	*urls = NULL;
	if (debugfetch_has_word(env_urls)) {
		*urls = strdup(env_urls);
		return *urls ? 0 : -ENOMEM;
	}
	if (!asked)
		return 0;
	snprintf(pattern, sizeof(pattern), "%s/*.urls", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return -ENOENT;
	/* In glob's order, which is the shell's (the profile.d script). */
	for (size_t i = 0; i < g.gl_pathc && !err; i++) {
		char *text;

		/* An unreadable file is one list fewer, as for the shell. */
		if (debugfetch_read_file(g.gl_pathv[i], &text) != 0)
			continue;
		err = debugfetch_add_words(urls, text);
		free(text);
	}
	globfree(&g);
	if (!err && !*urls)
		err = -ENOENT;
	if (err) {
		free(*urls);
		*urls = NULL;
	}
	return err;
}

static char *debugfetch_getenv_copy(const char *name)
{
	const char *v = getenv(name);

	return v ? strdup(v) : NULL;
}

int debugfetch_init(struct debugfetch *f, const char *urls, double limit_s,
		    debugfetch_report_fn report, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->urls = strdup(urls);
	f->limit_ns = (int64_t)(limit_s * DEBUGFETCH_NS);
	f->user_maxtime = debugfetch_getenv_copy(DEBUGFETCH_ENV_MAXTIME);
	f->user_retry = debugfetch_getenv_copy(DEBUGFETCH_ENV_RETRY);
	f->report = report;
	f->report_ctx = ctx;
	/* libdebuginfod 0.188 writes its MAXTIME message with dprintf to the
	 * verbose fd even when there is none (-1), a path on which glibc
	 * leaks a stdio buffer: give it /dev/null, unless the user asked for
	 * its messages (DEBUGINFOD_VERBOSE: then it writes to stderr). */
	f->null_fd = getenv("DEBUGINFOD_VERBOSE") ? -1 : open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!f->urls) {
		debugfetch_fini(f);
		return -ENOMEM;
	}
	return 0;
}

void debugfetch_fini(struct debugfetch *f)
{
	if (f->null_fd >= 0)
		close(f->null_fd);
	free(f->urls);
	free(f->user_maxtime);
	free(f->user_retry);
	memset(f, 0, sizeof(*f));
	f->null_fd = -1;
}

/* Report ev; the reporter's true stops all fetching. */
static void debugfetch_report(struct debugfetch *f, enum debugfetch_event_kind kind)
{
	struct debugfetch_event ev = {
		.kind = kind,
		.file = kind == DEBUGFETCH_SPENT ? NULL : f->file,
		.build_id = kind == DEBUGFETCH_SPENT ? NULL : f->build_id,
		.limit_s = (double)f->limit_ns / DEBUGFETCH_NS,
	};

	if (f->report && f->report(f->report_ctx, &ev))
		f->stopped = true;
}

/* libdebuginfod calls this about once a second while a query runs (and
 * for each piece of a transfer), and not at all for an answer from its
 * cache: the first call is when pprobe goes to the network.  Non-zero
 * cancels the query. */
static int debugfetch_progress(debuginfod_client *c, long a, long b)
{
	struct debugfetch *f = debuginfod_get_user_data(c);

	(void)a;
	(void)b;
	if (!f || !f->file)
		return 0;
	if (f->stopped)
		return 1;
	if (!f->announced) {
		f->announced = true;
		debugfetch_report(f, DEBUGFETCH_FETCHING);
	} else {
		debugfetch_report(f, DEBUGFETCH_WAITING);
	}
	if (f->stopped)
		return 1;
	if (timeutil_mono_ns() > f->deadline_ns + DEBUGFETCH_SLACK_S * DEBUGFETCH_NS) {
		f->cancelled = true;
		return 1;
	}
	return 0;
}

static void debugfetch_restore(const char *name, const char *user)
{
	if (user)
		setenv(name, user, 1);
	else
		unsetenv(name);
}

int debugfetch_begin(struct debugfetch *f, struct debuginfod_client *client,
		     const char *file, const char *build_id)
{
	int64_t now = timeutil_mono_ns(), left;
	long maxtime, user;
	char buf[32];

	if (f->stopped)
		return -ECANCELED;
	if (!client)
		return -ENOSYS;
	if (!f->deadline_ns)
		f->deadline_ns = now + f->limit_ns;
	left = f->deadline_ns - now;
	if (left < DEBUGFETCH_NS) {
		if (!f->spent) {
			f->spent = true;
			debugfetch_report(f, DEBUGFETCH_SPENT);
		}
		return -ETIMEDOUT;
	}
	maxtime = (long)(left / DEBUGFETCH_NS) - DEBUGFETCH_SLACK_S;
	if (maxtime < 1)
		maxtime = 1;
	user = f->user_maxtime ? strtol(f->user_maxtime, NULL, 10) : 0;
	if (user > 0 && user < maxtime)
		maxtime = user;
	snprintf(buf, sizeof(buf), "%ld", maxtime);
	if (setenv(DEBUGFETCH_ENV_URLS, f->urls, 1) != 0 ||
	    setenv(DEBUGFETCH_ENV_MAXTIME, buf, 1) != 0 ||
	    (!f->user_retry && setenv(DEBUGFETCH_ENV_RETRY, "0", 1) != 0)) {
		int err = -errno;

		unsetenv(DEBUGFETCH_ENV_URLS);
		debugfetch_restore(DEBUGFETCH_ENV_MAXTIME, f->user_maxtime);
		return err;
	}
	f->file = file;
	f->build_id = build_id;
	f->query_start_ns = now;
	f->maxtime_s = maxtime;
	f->announced = false;
	f->cancelled = false;
	debuginfod_set_user_data(client, f);
	debuginfod_set_progressfn(client, debugfetch_progress);
	if (f->null_fd >= 0)
		debuginfod_set_verbose_fd(client, f->null_fd);
	return 0;
}

void debugfetch_end(struct debugfetch *f, struct debuginfod_client *client, bool found)
{
	int64_t took = timeutil_mono_ns() - f->query_start_ns;

	debuginfod_set_progressfn(client, NULL);
	debuginfod_set_user_data(client, NULL);
	if (f->null_fd >= 0)
		debuginfod_set_verbose_fd(client, -1);
	unsetenv(DEBUGFETCH_ENV_URLS);
	debugfetch_restore(DEBUGFETCH_ENV_MAXTIME, f->user_maxtime);
	debugfetch_restore(DEBUGFETCH_ENV_RETRY, f->user_retry);
	/* libdwfl does not pass on libdebuginfod's error; a query that lasted
	 * its MAXTIME ended on it. */
	if (!found && f->announced && !f->stopped)
		debugfetch_report(f, f->cancelled || took >= f->maxtime_s * DEBUGFETCH_NS ?
					     DEBUGFETCH_TIMEDOUT : DEBUGFETCH_MISSING);
	f->file = NULL;
	f->build_id = NULL;
}

void debugfetch_format(const struct debugfetch_event *ev, char *buf, size_t len)
{
	switch (ev->kind) {
	case DEBUGFETCH_FETCHING:
		snprintf(buf, len, "fetching debug info for %s (build ID %s) from debuginfod",
			 ev->file, ev->build_id);
		return;
	case DEBUGFETCH_MISSING:
		snprintf(buf, len, "no debug info for %s from debuginfod (not found, or the "
			 "servers failed)", ev->file);
		return;
	case DEBUGFETCH_TIMEDOUT:
		snprintf(buf, len, "no debug info for %s from debuginfod within the time limit "
			 "(-debuginfod-timeout %g)", ev->file, ev->limit_s);
		return;
	case DEBUGFETCH_SPENT:
		snprintf(buf, len, "the time limit for debuginfod is spent (-debuginfod-timeout %g): "
			 "other files keep the debug info found on this machine", ev->limit_s);
		return;
	case DEBUGFETCH_WAITING:
		break;
	}
	if (len)
		buf[0] = '\0';
}
