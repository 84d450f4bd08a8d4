/* test_profile.c - the profile model: interning, merging, raw ids, scale. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "pprobe/error.h"
#include "pprobe/profile.h"

/* Locations intern by (mapping, address); functions by name, system
 * name and file; the profile keeps copies of every string. */
static void test_intern_locations(void)
{
	struct profile *p = profile_new();
	char name[16], file[16];
	struct profile_frame fr[2] = {
		{ .name = name, .file = file, .line = 5 },
		{ .name = "outer", .file = "o.c", .line = 9 },
	};
	struct profile_frame other = { .name = "other" };
	uint64_t m1 = 0, m2 = 0, a = 0, b = 0, c = 0, d = 0, e = 0;
	const struct profile_location *l;
	const struct profile_function *f;

	CHECK(p != NULL);
	strcpy(name, "inner");
	strcpy(file, "i.c");
	CHECK_EQ_INT(profile_add_mapping(p, 0x1000, 0x2000, 0, "/bin/x", NULL, true, &m1), 0);
	CHECK_EQ_INT(profile_add_mapping(p, 0x3000, 0x4000, 0x10, "/lib/y", "ff", false, &m2), 0);
	CHECK_EQ_INT(m1, 1);
	CHECK_EQ_INT(m2, 2);
	CHECK(profile_mapping_at(p, 0)->has_functions && profile_mapping_at(p, 0)->has_inline_frames);
	CHECK(!profile_mapping_at(p, 1)->has_functions && !profile_mapping_at(p, 1)->has_filenames);
	CHECK(profile_mapping_at(p, 0)->build_id == NULL);
	CHECK_EQ_STR(profile_mapping_at(p, 1)->build_id, "ff");

	CHECK_EQ_INT(profile_add_location(p, m1, 0x1100, fr, 2, &a), 0);
	/* The caller's buffers may change: the profile has its own copies. */
	strcpy(name, "XXXXX");
	strcpy(file, "Y");
	CHECK_EQ_INT(profile_add_location(p, m1, 0x1100, &other, 1, &b), 0);
	CHECK_EQ_INT(a, b);
	CHECK_EQ_INT(profile_add_location(p, m2, 0x1100, &other, 1, &c), 0);
	CHECK(c != a);
	CHECK_EQ_INT(profile_add_location(p, m1, 0x1200, NULL, 0, &d), 0);
	/* "outer" at another address reuses the function. */
	CHECK_EQ_INT(profile_add_location(p, 0, 0x99, &fr[1], 1, &e), 0);
	CHECK_EQ_INT(profile_location_count(p), 4);
	CHECK_EQ_INT(profile_function_count(p), 3); /* inner, outer, other */

	l = profile_location_by_id(p, a);
	CHECK(l != NULL);
	if (l) {
		CHECK_EQ_INT(l->mapping_id, m1);
		CHECK_EQ_INT(l->address, 0x1100);
		CHECK_EQ_INT(l->nlines, 2);
		f = profile_function_by_id(p, l->lines[0].function_id);
		CHECK(f != NULL);
		if (f) {
			CHECK_EQ_STR(f->name, "inner");
			CHECK_EQ_STR(f->system_name, "inner"); /* defaults to name */
			CHECK_EQ_STR(f->file, "i.c");
		}
		CHECK_EQ_INT(l->lines[0].line, 5);
		CHECK_EQ_INT(l->lines[1].line, 9);
		CHECK_EQ_INT(profile_location_by_id(p, e)->lines[0].function_id,
			     l->lines[1].function_id);
	}
	CHECK_EQ_INT(profile_location_by_id(p, d)->nlines, 0);
	CHECK(profile_location_by_id(p, 12345) == NULL);
	CHECK(profile_function_by_id(p, 0) == NULL);

	/* Same name, other file: another function (pprof keys on all three). */
	{
		struct profile_frame g = { .name = "inner", .file = "elsewhere.c" };
		struct profile_frame h = { .name = "inner", .system_name = "_Z5innerv", .file = "i.c" };
		uint64_t id;

		CHECK_EQ_INT(profile_add_location(p, m1, 0x1300, &g, 1, &id), 0);
		CHECK_EQ_INT(profile_add_location(p, m1, 0x1400, &h, 1, &id), 0);
		CHECK_EQ_INT(profile_function_count(p), 5);
	}

	/* Unknown mapping, missing name. */
	{
		struct profile_frame noname = { .name = NULL };
		uint64_t id;

		CHECK_EQ_INT(profile_add_location(p, 77, 0x1, NULL, 0, &id), -EINVAL);
		CHECK_EQ_INT(profile_add_location(p, m1, 0x1500, &noname, 1, &id), -EINVAL);
	}
	profile_free(p);
}

/* A location named again (its debug info came later) keeps its id, so the
 * samples that use it show the new frames; the frames are interned like
 * new ones. */
static void test_set_location_frames(void)
{
	struct profile *p = profile_new();
	struct profile_frame raw = { .name = "app+0x1234" };
	struct profile_frame named[2] = {
		{ .name = "inlined_leaf", .file = "leaf.h", .line = 3 },
		{ .name = "caller", .file = "app.c", .line = 42 },
	};
	const struct profile_location *l;
	const struct profile_function *f;
	uint64_t m = 0, id = 0, other = 0;
	int64_t v[1] = { 1 };

	CHECK(p != NULL);
	CHECK_EQ_INT(profile_add_sample_type(p, "samples", "count"), 0);
	CHECK_EQ_INT(profile_add_mapping(p, 0x1000, 0x2000, 0, "/bin/app", "ab", true, &m), 0);
	CHECK_EQ_INT(profile_add_location(p, m, 0x1234, &raw, 1, &id), 0);
	CHECK_EQ_INT(profile_add_location(p, m, 0x1300, &named[1], 1, &other), 0);
	CHECK_EQ_INT(profile_add_sample(p, &id, 1, v, NULL, 0), 0);

	CHECK_EQ_INT(profile_set_location_frames(p, id, named, 2), 0);
	l = profile_location_by_id(p, id);
	CHECK(l != NULL);
	if (l) {
		CHECK_EQ_INT(l->address, 0x1234);
		CHECK_EQ_INT(l->mapping_id, m);
		CHECK_EQ_INT(l->nlines, 2);
		f = profile_function_by_id(p, l->lines[0].function_id);
		CHECK(f != NULL);
		if (f)
			CHECK_EQ_STR(f->name, "inlined_leaf");
		CHECK_EQ_INT(l->lines[0].line, 3);
		CHECK_EQ_INT(l->lines[1].line, 42);
		/* "caller" was already a function: the same one. */
		CHECK_EQ_INT(l->lines[1].function_id,
			     profile_location_by_id(p, other)->lines[0].function_id);
	}
	CHECK_EQ_INT(profile_sample_at(p, 0)->location_ids[0], id);
	/* The same (mapping, address) still finds it. */
	CHECK_EQ_INT(profile_add_location(p, m, 0x1234, &raw, 1, &other), 0);
	CHECK_EQ_INT(other, id);
	CHECK_EQ_INT(profile_set_location_frames(p, id, NULL, 0), 0);
	CHECK_EQ_INT(profile_location_by_id(p, id)->nlines, 0);
	CHECK_EQ_INT(profile_set_location_frames(p, 9999, named, 1), -ENOENT);
	profile_free(p);
}

static void test_merge_samples(void)
{
	struct profile *p = profile_new();
	struct profile_label_in la[] = { { .key = "thread", .str = "a" }, { .key = "tid", .num = 1 } };
	struct profile_label_in lb[] = { { .key = "thread", .str = "b" }, { .key = "tid", .num = 1 } };
	struct profile_label_in lu[] = { { .key = "thread", .str = "a" },
					 { .key = "tid", .num = 1, .num_unit = "id" } };
	struct profile_frame f = { .name = "f" };
	int64_t v[] = { 1, 10 };
	uint64_t x, y, stack[2];
	const struct profile_sample *s;

	CHECK_EQ_INT(profile_add_sample_type(p, "samples", "count"), 0);
	CHECK_EQ_INT(profile_add_sample_type(p, "cpu", "nanoseconds"), 0);
	CHECK_EQ_INT(profile_find_sample_type(p, "cpu"), 1);
	CHECK_EQ_INT(profile_find_sample_type(p, "wall"), -1);
	CHECK_EQ_INT(profile_add_location(p, 0, 0x10, &f, 1, &x), 0);
	CHECK_EQ_INT(profile_add_location(p, 0, 0x20, &f, 1, &y), 0);
	stack[0] = x;
	stack[1] = y;

	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, la, 2), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, la, 2), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, lb, 2), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, lu, 2), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack, 1, v, la, 2), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, NULL, 0), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, la, 1), 0);
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, la, 2), 0);
	CHECK_EQ_INT(profile_sample_count(p), 6);
	s = profile_sample_at(p, 0);
	CHECK_EQ_INT(s->values[0], 3);
	CHECK_EQ_INT(s->values[1], 30);
	CHECK_EQ_INT(s->nlocations, 2);
	CHECK_EQ_INT(s->location_ids[0], x);
	CHECK_EQ_STR(profile_sample_label(s, "thread"), "a");
	CHECK(profile_sample_label(s, "tid") == NULL); /* numeric */
	CHECK(profile_sample_label(s, "nope") == NULL);
	CHECK_EQ_INT(s->labels[1].num, 1);
	CHECK_EQ_STR(profile_sample_label(profile_sample_at(p, 1), "thread"), "b");
	CHECK_EQ_STR(profile_sample_at(p, 2)->labels[1].num_unit, "id");
	CHECK_EQ_INT(profile_sample_at(p, 3)->values[0], 1);

	/* Unknown location ids are refused, the model is unchanged. */
	stack[1] = 999;
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, NULL, 0), -EINVAL);
	stack[1] = 0;
	CHECK_EQ_INT(profile_add_sample(p, stack, 2, v, NULL, 0), -EINVAL);
	CHECK_EQ_INT(profile_sample_count(p), 6);
	profile_free(p);
}

static void test_header(void)
{
	struct profile *p = profile_new();
	int i;

	CHECK(profile_period_type(p) == NULL);
	CHECK(profile_default_sample_type(p) == NULL);
	for (i = 0; i < PROFILE_MAX_VALUES; i++)
		CHECK_EQ_INT(profile_add_sample_type(p, "t", "u"), 0);
	CHECK_EQ_INT(profile_add_sample_type(p, "t", "u"), -PPROBE_E_TOOBIG);
	CHECK_EQ_INT(profile_sample_type_count(p), PROFILE_MAX_VALUES);
	CHECK(profile_sample_type(p, PROFILE_MAX_VALUES) == NULL);
	CHECK_EQ_INT(profile_set_period(p, "cpu", "nanoseconds", 1000), 0);
	CHECK_EQ_STR(profile_period_type(p)->unit, "nanoseconds");
	CHECK_EQ_INT(profile_period(p), 1000);
	profile_set_time(p, 5, 6);
	CHECK_EQ_INT(profile_time_nanos(p), 5);
	CHECK_EQ_INT(profile_duration_nanos(p), 6);
	CHECK_EQ_INT(profile_add_comment(p, "one"), 0);
	CHECK_EQ_INT(profile_add_comment(p, "two"), 0);
	CHECK_EQ_INT(profile_comment_count(p), 2);
	CHECK_EQ_STR(profile_comment(p, 1), "two");
	CHECK(profile_comment(p, 2) == NULL);
	CHECK_EQ_INT(profile_set_default_sample_type(p, "cpu"), 0);
	CHECK_EQ_STR(profile_default_sample_type(p), "cpu");
	profile_free(p);
	profile_free(NULL);
}

/* Raw ids as a decoder stores them; fresh ids continue after the largest. */
static void test_put_raw(void)
{
	struct profile *p = profile_new();
	struct profile_mapping m = { .id = 40, .start = 1, .limit = 2, .file = "/x", .build_id = "" };
	struct profile_line ln[] = { { .function_id = 7, .line = 3 } };
	struct profile_line bad[] = { { .function_id = 8, .line = 3 } };
	struct profile_frame fr = { .name = "g" };
	uint64_t id;

	CHECK_EQ_INT(profile_put_mapping(p, &m), 0);
	CHECK_EQ_INT(profile_put_mapping(p, &m), -EEXIST);
	m.id = 0;
	CHECK_EQ_INT(profile_put_mapping(p, &m), -EINVAL);
	CHECK(profile_mapping_at(p, 0)->build_id == NULL); /* "" is none */
	CHECK_EQ_INT(profile_put_function(p, 7, "f", "_Zf", "f.c", 12), 0);
	CHECK_EQ_INT(profile_put_function(p, 7, "f2", NULL, NULL, 0), -EEXIST);
	CHECK_EQ_INT(profile_put_function(p, 0, "f2", NULL, NULL, 0), -EINVAL);
	CHECK_EQ_INT(profile_function_by_id(p, 7)->start_line, 12);
	CHECK_EQ_STR(profile_function_by_id(p, 7)->system_name, "_Zf");
	CHECK_EQ_INT(profile_put_location(p, 100, 40, 0x10, ln, 1), 0);
	CHECK_EQ_INT(profile_put_location(p, 100, 40, 0x20, ln, 1), -EEXIST);
	CHECK_EQ_INT(profile_put_location(p, 101, 41, 0x20, ln, 1), -EINVAL);
	CHECK_EQ_INT(profile_put_location(p, 102, 40, 0x20, bad, 1), -EINVAL);
	CHECK_EQ_INT(profile_put_location(p, 0, 40, 0x20, ln, 1), -EINVAL);
	CHECK_EQ_INT(profile_location_count(p), 1);

	CHECK_EQ_INT(profile_add_mapping(p, 5, 6, 0, "/y", NULL, false, &id), 0);
	CHECK_EQ_INT(id, 41);
	CHECK_EQ_INT(profile_add_location(p, 40, 0x10, &fr, 1, &id), 0);
	CHECK_EQ_INT(id, 100); /* interned with the raw one */
	CHECK_EQ_INT(profile_add_location(p, 40, 0x30, &fr, 1, &id), 0);
	CHECK_EQ_INT(id, 101);
	CHECK_EQ_INT(profile_location_by_id(p, 101)->lines[0].function_id, 8);
	profile_free(p);
}

/* The sizes a long recording reaches: 50k locations, 100k samples, each
 * added several times.  Hash tables keep this well under a second. */
static void test_scale(void)
{
	enum { NLOC = 50000, NSAMPLES = 100000, DEPTH = 16 };
	struct profile *p = profile_new();
	uint64_t *ids = calloc(NLOC, sizeof(*ids));
	struct timespec t0, t1;
	char name[32];
	size_t i, j;
	int rc = 0;
	double secs;

	CHECK(ids != NULL);
	if (!ids)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ_INT(profile_add_sample_type(p, "samples", "count"), 0);
	for (i = 0; i < NLOC && !rc; i++) {
		struct profile_frame f = { .name = name, .file = "big.c", .line = (int64_t)i };

		snprintf(name, sizeof(name), "fn%zu", i / 2);
		rc = profile_add_location(p, 0, 0x1000 + i * 4, &f, 1, &ids[i]);
	}
	CHECK_EQ_INT(rc, 0);
	for (j = 0; j < 3 && !rc; j++) {
		for (i = 0; i < NSAMPLES && !rc; i++) {
			uint64_t stack[DEPTH];
			struct profile_label_in l = { .key = "thread", .str = i % 2 ? "a" : "b" };
			int64_t one = 1;
			size_t k;

			for (k = 0; k < DEPTH; k++)
				stack[k] = ids[(i + k * 131 + (i / NLOC) * 7) % NLOC];
			rc = profile_add_sample(p, stack, DEPTH, &one, &l, 1);
		}
	}
	CHECK_EQ_INT(rc, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK_EQ_INT(profile_location_count(p), NLOC);
	CHECK_EQ_INT(profile_function_count(p), NLOC / 2);
	CHECK_EQ_INT(profile_sample_count(p), NSAMPLES);
	CHECK(profile_sample_at(p, NSAMPLES - 1) && profile_sample_at(p, NSAMPLES - 1)->values[0] == 3);
	fprintf(stderr, "scale: %d locations, %d samples x3 in %.3fs\n", NLOC, NSAMPLES, secs);
	/* Generous: sanitizer builds are several times slower. */
	CHECK(secs < 20.0);
out:
	free(ids);
	profile_free(p);
}

int main(void)
{
	test_intern_locations();
	test_set_location_frames();
	test_merge_samples();
	test_header();
	test_put_raw();
	test_scale();
	return check_done();
}
