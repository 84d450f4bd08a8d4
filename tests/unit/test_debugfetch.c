/* test_debugfetch.c - which debuginfod servers, and the environment each
 * query runs with (debugfetch.c).  No network: the queries themselves are
 * tests/integration/test_fidelity_debuginfod.py's. */
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/debugfetch.h"

static char dir[] = "/tmp/pprobe-test-debugfetch.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* DEBUGINFOD_URLS goes from the environment into the caller's hands. */
static void test_take_env(void)
{
	char *v;

	setenv("DEBUGINFOD_URLS", "http://a:1 http://b:2", 1);
	v = debugfetch_take_env();
	CHECK_EQ_STR(v, "http://a:1 http://b:2");
	CHECK(getenv("DEBUGINFOD_URLS") == NULL);
	free(v);
	CHECK(debugfetch_take_env() == NULL);
}

static void test_servers(void)
{
	char empty[300], missing[300];
	char *urls = (char *)"untouched";

	/* The variable wins, flag or not; blank is unset. */
	CHECK_EQ_INT(debugfetch_servers(false, "http://x", dir, &urls), 0);
	CHECK_EQ_STR(urls, "http://x");
	free(urls);
	CHECK_EQ_INT(debugfetch_servers(false, NULL, dir, &urls), 0);
	CHECK(urls == NULL);
	CHECK_EQ_INT(debugfetch_servers(false, " \t\n", dir, &urls), 0);
	CHECK(urls == NULL);

	/* -debuginfod without the variable: the *.urls files, in name order,
	 * words of any spacing, comment lines left out, other files not read. */
	write_file("b.urls", "https://d\n");
	write_file("a.urls", "http://a\n# a comment http://not\n  http://b\thttp://c  \n\n");
	write_file("c.txt", "http://ignored\n");
	write_file("d.urls", "");
	CHECK_EQ_INT(debugfetch_servers(true, "  ", dir, &urls), 0);
	CHECK_EQ_STR(urls, "http://a http://b http://c https://d");
	free(urls);
	CHECK_EQ_INT(debugfetch_servers(true, "http://env", dir, &urls), 0);
	CHECK_EQ_STR(urls, "http://env");
	free(urls);

	/* Nothing anywhere: -ENOENT when asked, off when not. */
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	if (mkdir(empty, 0700) != 0)
		perror(empty);
	write_file("empty/only-comments.urls", "# nothing here\n");
	CHECK_EQ_INT(debugfetch_servers(true, NULL, empty, &urls), -ENOENT);
	CHECK(urls == NULL);
	CHECK_EQ_INT(debugfetch_servers(true, NULL, missing, &urls), -ENOENT);
	CHECK(urls == NULL);
	CHECK_EQ_INT(debugfetch_servers(false, NULL, missing, &urls), 0);
	CHECK(urls == NULL);
}

struct reports {
	int n[DEBUGFETCH_WAITING + 1];
};

static bool count_report(void *ctx, const struct debugfetch_event *ev)
{
	((struct reports *)ctx)->n[ev->kind]++;
	return false;
}

/* Each query runs with the servers, a MAXTIME within what is left of the
 * limit and no retries; after it, the environment is the user's again. */
static void test_query_env(void)
{
	debuginfod_client *c = debuginfod_begin();
	struct debugfetch f;
	struct reports r = { { 0 } };

	CHECK(c != NULL);
	if (!c)
		return;
	unsetenv("DEBUGINFOD_MAXTIME");
	unsetenv("DEBUGINFOD_RETRY_LIMIT");
	CHECK_EQ_INT(debugfetch_init(&f, "http://127.0.0.1:9", 30, count_report, &r), 0);
	CHECK_EQ_INT(debugfetch_begin(&f, NULL, "/bin/x", "ab"), -ENOSYS);
	CHECK_EQ_INT(debugfetch_begin(&f, c, "/bin/x", "ab"), 0);
	CHECK_EQ_STR(getenv("DEBUGINFOD_URLS"), "http://127.0.0.1:9");
	/* 30 s less libdebuginfod's rounding (up to two seconds late). */
	CHECK_EQ_STR(getenv("DEBUGINFOD_MAXTIME"), "28");
	CHECK_EQ_STR(getenv("DEBUGINFOD_RETRY_LIMIT"), "0");
	debugfetch_end(&f, c, false);
	CHECK(getenv("DEBUGINFOD_URLS") == NULL);
	CHECK(getenv("DEBUGINFOD_MAXTIME") == NULL);
	CHECK(getenv("DEBUGINFOD_RETRY_LIMIT") == NULL);
	/* Nothing went to the network (no progress call): nothing reported. */
	CHECK_EQ_INT(r.n[DEBUGFETCH_MISSING] + r.n[DEBUGFETCH_TIMEDOUT], 0);
	debugfetch_fini(&f);

	/* The user's own settings: a shorter MAXTIME is kept, and so are
	 * retries, and both come back after the query. */
	setenv("DEBUGINFOD_MAXTIME", "5", 1);
	setenv("DEBUGINFOD_RETRY_LIMIT", "3", 1);
	CHECK_EQ_INT(debugfetch_init(&f, "http://s", 60, count_report, &r), 0);
	CHECK_EQ_INT(debugfetch_begin(&f, c, "/bin/x", "ab"), 0);
	CHECK_EQ_STR(getenv("DEBUGINFOD_MAXTIME"), "5");
	CHECK_EQ_STR(getenv("DEBUGINFOD_RETRY_LIMIT"), "3");
	debugfetch_end(&f, c, true);
	CHECK_EQ_STR(getenv("DEBUGINFOD_MAXTIME"), "5");
	CHECK_EQ_STR(getenv("DEBUGINFOD_RETRY_LIMIT"), "3");
	debugfetch_fini(&f);
	setenv("DEBUGINFOD_MAXTIME", "500", 1);
	CHECK_EQ_INT(debugfetch_init(&f, "http://s", 60, count_report, &r), 0);
	CHECK_EQ_INT(debugfetch_begin(&f, c, "/bin/x", "ab"), 0);
	CHECK_EQ_STR(getenv("DEBUGINFOD_MAXTIME"), "58");
	debugfetch_end(&f, c, true);
	CHECK_EQ_STR(getenv("DEBUGINFOD_MAXTIME"), "500");
	debugfetch_fini(&f);
	unsetenv("DEBUGINFOD_MAXTIME");
	unsetenv("DEBUGINFOD_RETRY_LIMIT");

	/* Less than a second left: no query, and the limit is reported once. */
	CHECK_EQ_INT(debugfetch_init(&f, "http://s", 0.5, count_report, &r), 0);
	CHECK_EQ_INT(debugfetch_begin(&f, c, "/bin/x", "ab"), -ETIMEDOUT);
	CHECK_EQ_INT(debugfetch_begin(&f, c, "/bin/y", "cd"), -ETIMEDOUT);
	CHECK_EQ_INT(r.n[DEBUGFETCH_SPENT], 1);
	CHECK(getenv("DEBUGINFOD_URLS") == NULL);
	debugfetch_fini(&f);
	debuginfod_end(c);
}

static void test_format(void)
{
	struct debugfetch_event ev = { .file = "/usr/lib/libx.so", .build_id = "abc123",
				       .limit_s = 30 };
	char buf[512];

	ev.kind = DEBUGFETCH_FETCHING;
	debugfetch_format(&ev, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "fetching debug info for /usr/lib/libx.so (build ID abc123) from "
		     "debuginfod");
	ev.kind = DEBUGFETCH_MISSING;
	debugfetch_format(&ev, buf, sizeof(buf));
	CHECK(strstr(buf, "no debug info for /usr/lib/libx.so") == buf);
	ev.kind = DEBUGFETCH_TIMEDOUT;
	debugfetch_format(&ev, buf, sizeof(buf));
	CHECK(strstr(buf, "within the time limit (-debuginfod-timeout 30)") != NULL);
	ev.kind = DEBUGFETCH_SPENT;
	ev.file = ev.build_id = NULL;
	debugfetch_format(&ev, buf, sizeof(buf));
	CHECK(strstr(buf, "-debuginfod-timeout 30") != NULL);
	ev.kind = DEBUGFETCH_WAITING;
	debugfetch_format(&ev, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "");
}

int main(void)
{
	int rc;

	if (check_tmpdir_make(dir) != 0)
		return 1;
	test_take_env();
	test_servers();
	test_query_env();
	test_format();
	rc = check_done();
	check_tmpdir_remove(dir);
	return rc;
}
