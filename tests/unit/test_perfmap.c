/* test_perfmap.c - JIT symbols from perf map files (perfmap.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/perfmap.h"

static char dir[] = "/tmp/pprobe-test-perfmap.XXXXXX";

static void write_file(const char *path, const char *mode, const char *text)
{
	FILE *f = fopen(path, mode);

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* The name at addr, or NULL. */
static const char *name_at(struct perfmap *pm, uint64_t addr)
{
	const char *name = NULL;

	return perfmap_lookup(pm, addr, &name, NULL) == 0 ? name : NULL;
}

static void test_parse(void)
{
	char path[256], longline[4096];
	struct perfmap *pm = NULL;
	uint64_t start = 0;
	const char *name = NULL;
	size_t i;

	snprintf(path, sizeof(path), "%s/parse.map", dir);
	/* Lines of every kind: good ones, "0x" prefixes, CRLF, spaces in the
	 * name (V8's "LazyCompile:*f file.js:1"), and garbage. */
	write_file(path, "w",
		   "1000 10 first\n"
		   "0x2000 0x20 second one\r\n"
		   "3000\t8\ttabbed\n"
		   "4000 0 zero_size\n"
		   "5000 10\n"
		   "xyz 10 not_hex\n"
		   "ffffffffffffff00 200 wraps\n"
		   "11112222333344445 10 seventeen_digits\n"
		   "6000 10 ctl\x01name\x7f\n"
		   "\n"
		   "7000 10 LazyCompile:*hot /srv/app.js:3:10\n");
	CHECK_EQ_INT(perfmap_load_path(path, &pm), 0);
	if (!pm)
		return;
	CHECK_EQ_INT(perfmap_count(pm), 5);
	CHECK_EQ_STR(name_at(pm, 0x1000), "first");
	CHECK_EQ_STR(name_at(pm, 0x100f), "first");
	CHECK_EQ_STR(name_at(pm, 0x1010), NULL);
	CHECK_EQ_STR(name_at(pm, 0xfff), NULL);
	CHECK_EQ_INT(perfmap_lookup(pm, 0x2010, &name, &start), 0);
	CHECK_EQ_STR(name, "second one");
	CHECK_EQ_INT(start, 0x2000);
	CHECK_EQ_STR(name_at(pm, 0x3004), "tabbed");
	CHECK_EQ_STR(name_at(pm, 0x4000), NULL);
	CHECK_EQ_STR(name_at(pm, 0x5000), NULL);
	CHECK_EQ_STR(name_at(pm, 0xffffffffffffff80ull), NULL);
	CHECK_EQ_STR(name_at(pm, 0x6000), "ctl?name?");
	CHECK_EQ_STR(name_at(pm, 0x7000), "LazyCompile:*hot /srv/app.js:3:10");
	perfmap_free(pm);

	/* A name past the cap is cut; a line far past it is skipped whole
	 * and the next line still read. */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "8000 10 ", 8);
	longline[8 + PERFMAP_MAX_NAME + 5] = '\n';
	longline[8 + PERFMAP_MAX_NAME + 6] = '\0';
	write_file(path, "w", longline);
	longline[8 + PERFMAP_MAX_NAME + 5] = 'a';
	longline[8 + PERFMAP_MAX_NAME + 6] = 'a';
	memcpy(longline, "9000 10 ", 8);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	write_file(path, "a", longline);
	write_file(path, "a", "a000 10 after_long\n");
	CHECK_EQ_INT(perfmap_load_path(path, &pm), 0);
	if (!pm)
		return;
	name = name_at(pm, 0x8000);
	CHECK(name && strlen(name) == PERFMAP_MAX_NAME);
	CHECK_EQ_STR(name_at(pm, 0x9000), NULL);
	CHECK_EQ_STR(name_at(pm, 0xa000), "after_long");
	for (i = 0; name && i < strlen(name); i++)
		if (name[i] != 'a')
			break;
	CHECK(name && i == strlen(name));
	perfmap_free(pm);
}

/* Overlapping entries: the one written last wins, also when an earlier,
 * larger entry still covers the address. */
static void test_overlap(void)
{
	char path[256];
	struct perfmap *pm = NULL;

	snprintf(path, sizeof(path), "%s/overlap.map", dir);
	write_file(path, "w",
		   "1000 1000 big_old\n"
		   "1800 100 small_new\n"
		   "1800 100 small_newer\n"
		   "3000 100 lone\n");
	CHECK_EQ_INT(perfmap_load_path(path, &pm), 0);
	if (!pm)
		return;
	CHECK_EQ_STR(name_at(pm, 0x1000), "big_old");
	CHECK_EQ_STR(name_at(pm, 0x1850), "small_newer");
	CHECK_EQ_STR(name_at(pm, 0x1950), "big_old");
	CHECK_EQ_STR(name_at(pm, 0x2500), NULL);
	CHECK_EQ_STR(name_at(pm, 0x3000), "lone");
	perfmap_free(pm);
}

/* The file grows while the JIT runs: a refresh reads the new lines only,
 * an unfinished last line waits, and a replaced file is read anew. */
static void test_growth(void)
{
	char path[256], tmp[256];
	struct perfmap *pm = NULL;

	snprintf(path, sizeof(path), "%s/grow.map", dir);
	snprintf(tmp, sizeof(tmp), "%s/grow.map.new", dir);
	write_file(path, "w", "1000 10 one\n2000 10 tw");
	CHECK_EQ_INT(perfmap_load_path(path, &pm), 0);
	if (!pm)
		return;
	CHECK_EQ_INT(perfmap_count(pm), 1);
	CHECK_EQ_STR(name_at(pm, 0x2000), NULL);
	write_file(path, "a", "o\n3000 10 three\n");
	CHECK_EQ_INT(perfmap_refresh(pm), 0);
	CHECK_EQ_INT(perfmap_count(pm), 3);
	CHECK_EQ_STR(name_at(pm, 0x2000), "two");
	CHECK_EQ_STR(name_at(pm, 0x3000), "three");
	CHECK_EQ_STR(name_at(pm, 0x1000), "one");
	/* Replaced (a new inode), fewer lines. */
	write_file(tmp, "w", "5000 10 five\n");
	CHECK_EQ_INT(rename(tmp, path), 0);
	CHECK_EQ_INT(perfmap_refresh(pm), 0);
	CHECK_EQ_INT(perfmap_count(pm), 1);
	CHECK_EQ_STR(name_at(pm, 0x1000), NULL);
	CHECK_EQ_STR(name_at(pm, 0x5000), "five");
	/* Truncated in place and rewritten. */
	write_file(path, "w", "6000 10 six\n");
	CHECK_EQ_INT(perfmap_refresh(pm), 0);
	CHECK_EQ_STR(name_at(pm, 0x6000), "six");
	CHECK_EQ_STR(name_at(pm, 0x5000), NULL);
	perfmap_free(pm);
}

/* By pid: the file is looked for under /proc/PID/root/tmp; missing is an
 * empty map, picked up once written; a symbolic link is not followed. */
static void test_by_pid(void)
{
	char path[256], target[256];
	struct perfmap *pm = NULL;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	unlink(path);
	CHECK_EQ_INT(perfmap_load(getpid(), &pm), 0);
	if (!pm)
		return;
	CHECK_EQ_INT(perfmap_count(pm), 0);
	write_file(path, "w", "7000 10 jitted\n");
	CHECK_EQ_INT(perfmap_refresh(pm), 0);
	CHECK_EQ_STR(name_at(pm, 0x7008), "jitted");
	perfmap_free(pm);
	unlink(path);

	snprintf(target, sizeof(target), "%s/elsewhere.map", dir);
	write_file(target, "w", "7000 10 via_symlink\n");
	CHECK_EQ_INT(symlink(target, path), 0);
	CHECK_EQ_INT(perfmap_load(getpid(), &pm), 0);
	if (pm)
		CHECK_EQ_INT(perfmap_count(pm), 0);
	perfmap_free(pm);
	unlink(path);

	CHECK_EQ_INT(perfmap_load(-1, &pm), -ENOENT);
	perfmap_free(NULL);
}

int main(void)
{
	int rc;

	if (check_tmpdir_make(dir) != 0)
		return 1;
	test_parse();
	test_overlap();
	test_growth();
	test_by_pid();
	rc = check_done();
	check_tmpdir_remove(dir);
	return rc;
}
