/* check.h - the unit tests' assertions.
 *
 * Each CHECK* evaluates its arguments once, prints file:line and both
 * sides on failure, counts the failure and carries on, so one run shows
 * every broken expectation.  A test's main ends with `return check_done();`
 * which prints a summary and returns non-zero if anything failed.
 * Header-only: every test is a single translation unit.
 */
#ifndef PPROBE_TEST_CHECK_H
#define PPROBE_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

static inline int check_fail_head(const char *file, int line)
{
	check_failures++;
	fprintf(stderr, "%s:%d: FAIL: ", file, line);
	return 0;
}

#define CHECK(cond)                                                            \
	do {                                                                   \
		check_count++;                                                 \
		if (!(cond)) {                                                 \
			check_fail_head(__FILE__, __LINE__);                   \
			fprintf(stderr, "%s\n", #cond);                        \
		}                                                              \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                     \
	do {                                                                   \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		check_count++;                                                 \
		if (check_a_ != check_b_) {                                    \
			check_fail_head(__FILE__, __LINE__);                   \
			fprintf(stderr, "%s == %s: %lld != %lld\n", #a, #b,    \
				check_a_, check_b_);                           \
		}                                                              \
	} while (0)

/* NULL equals only NULL. */
#define CHECK_EQ_STR(a, b)                                                     \
	do {                                                                   \
		const char *check_a_ = (a), *check_b_ = (b);                   \
		check_count++;                                                 \
		if (!check_a_ || !check_b_ ? check_a_ != check_b_              \
					   : strcmp(check_a_, check_b_) != 0) { \
			check_fail_head(__FILE__, __LINE__);                   \
			fprintf(stderr, "%s == %s:\n  \"%s\"\n  \"%s\"\n", #a, \
				#b, check_a_ ? check_a_ : "(null)",            \
				check_b_ ? check_b_ : "(null)");               \
		}                                                              \
	} while (0)

/* A scratch directory for a test's files: make it from a mkdtemp template
 * (0 or -1), and remove it with everything in it when the test is done. */
static inline int check_tmpdir_make(char *tmpl)
{
	if (mkdtemp(tmpl))
		return 0;
	perror("mkdtemp");
	return -1;
}

static inline void check_tmpdir_remove(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Print the summary; the exit status for main. */
static inline int check_done(void)
{
	fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
