/* test_values.c - sums of sample values never overflow.
 *
 * Values can come from a pprof file anyone wrote (pprobe reads them back
 * for the text, folded and svg writers), so every sum saturates at
 * INT64_MAX / INT64_MIN (profile_value_add), in the model's sample merge as
 * in the writers.  fmt_text summed with a plain +=, which overflowed
 * (undefined; the ASan+UBSan build aborts on it) and printed a negative
 * total; the model wrapped.  This test gives both INT64_MAX-sized values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pprobe/fmt_svg.h"
#include "pprobe/fmt_text.h"
#include "pprobe/profile.h"

/* What fn wrote for value type 0 of p. */
static char *render(int (*fn)(const struct profile *, int, FILE *), const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	CHECK_EQ_INT(fn(p, 0, f), 0);
	fclose(f);
	return buf;
}

static int top_all(const struct profile *p, int vi, FILE *f)
{
	return fmt_text_top(p, vi, 0, f);
}

static int folded(const struct profile *p, int vi, FILE *f)
{
	return fmt_text_folded(p, vi, 0, f);
}

static int svg(const struct profile *p, int vi, FILE *f)
{
	return fmt_svg_flamegraph(p, vi, "t", f);
}

int main(void)
{
	struct profile *p = profile_new();
	struct profile_frame fa = { .name = "a" }, fb = { .name = "b" }, fm = { .name = "main" };
	uint64_t la, lb, lm, stack_a[2], stack_b[2];
	int64_t big = INT64_MAX, neg = INT64_MIN;
	char *out;

	/* The helper itself. */
	CHECK_EQ_INT(profile_value_add(1, 2), 3);
	CHECK_EQ_INT(profile_value_add(INT64_MAX, 1), INT64_MAX);
	CHECK_EQ_INT(profile_value_add(INT64_MAX, INT64_MAX), INT64_MAX);
	CHECK_EQ_INT(profile_value_add(INT64_MIN, -1), INT64_MIN);
	CHECK_EQ_INT(profile_value_add(INT64_MIN, INT64_MAX), -1);
	CHECK_EQ_INT(profile_value_add(INT64_MAX, -5), INT64_MAX - 5);

	CHECK(p != NULL);
	if (!p)
		return check_done();
	CHECK_EQ_INT(profile_add_sample_type(p, "samples", "count"), 0);
	CHECK_EQ_INT(profile_add_location(p, 0, 0x10, &fa, 1, &la), 0);
	CHECK_EQ_INT(profile_add_location(p, 0, 0x20, &fb, 1, &lb), 0);
	CHECK_EQ_INT(profile_add_location(p, 0, 0x30, &fm, 1, &lm), 0);
	stack_a[0] = la;
	stack_a[1] = lm;
	stack_b[0] = lb;
	stack_b[1] = lm;

	/* Merging into one sample: the model saturates (it wrapped to -2). */
	CHECK_EQ_INT(profile_add_sample(p, stack_a, 2, &big, NULL, 0), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack_a, 2, &big, NULL, 0), 0);
	CHECK_EQ_INT(profile_sample_count(p), 1);
	CHECK_EQ_INT(profile_sample_at(p, 0)->values[0], INT64_MAX);
	/* Two samples of INT64_MAX through one frame: the writers' sums. */
	CHECK_EQ_INT(profile_add_sample(p, stack_b, 2, &big, NULL, 0), 0);

	out = render(top_all, p);
	CHECK(out && strstr(out, "total 9223372036854775807\n"));
	/* main's cum is both samples: saturated, not negative. */
	CHECK(out && strstr(out, "9223372036854775807   100%  main\n"));
	CHECK(out && !strstr(out, "-"));
	if (out)
		fputs(out, stderr);
	free(out);

	out = render(folded, p);
	CHECK_EQ_STR(out, "main;a 9223372036854775807\nmain;b 9223372036854775807\n");
	free(out);

	out = render(svg, p);
	CHECK(out && strstr(out, "</svg>"));
	free(out);

	/* Downwards too: INT64_MIN values (a diff profile's negatives). */
	profile_free(p);
	p = profile_new();
	CHECK(p != NULL);
	if (!p)
		return check_done();
	CHECK_EQ_INT(profile_add_sample_type(p, "samples", "count"), 0);
	CHECK_EQ_INT(profile_add_location(p, 0, 0x10, &fa, 1, &la), 0);
	CHECK_EQ_INT(profile_add_location(p, 0, 0x20, &fb, 1, &lb), 0);
	stack_a[0] = la;
	stack_b[0] = lb;
	CHECK_EQ_INT(profile_add_sample(p, stack_a, 1, &neg, NULL, 0), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack_a, 1, &neg, NULL, 0), 0);
	CHECK_EQ_INT(profile_sample_at(p, 0)->values[0], INT64_MIN);
	CHECK_EQ_INT(profile_add_sample(p, stack_b, 1, &neg, NULL, 0), 0);
	out = render(top_all, p);
	CHECK(out && strstr(out, "total -9223372036854775808\n"));
	free(out);
	out = render(folded, p);
	CHECK_EQ_STR(out, "a -9223372036854775808\nb -9223372036854775808\n");
	free(out);
	out = render(svg, p);
	CHECK(out && strstr(out, "</svg>"));
	free(out);
	profile_free(p);
	return check_done();
}
