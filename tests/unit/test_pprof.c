/* test_pprof.c - pprof encode/decode round trip, hostile input, text reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#include "profile.pb-c.h"
#include "pprobe/error.h"
#include "pprobe/fmt_text.h"
#include "pprobe/pprof.h"
#include "pprobe/profile.h"

/* A profile using every feature of the model: several value types,
 * period, comments, symbolized and unsymbolized mappings, inlined lines,
 * a location without lines and one without mapping, raw ids with a start
 * line, string and numeric labels (with and without unit). */
static struct profile *build_full(void)
{
	struct profile *p = profile_new();
	struct profile_frame inl[] = {
		{ .name = "inlined", .file = "a.c", .line = 10 },
		{ .name = "caller", .system_name = "_Z6callerv", .file = "a.c", .line = 20 },
	};
	struct profile_frame top = { .name = "main", .file = "main.c", .line = 3 };
	struct profile_frame nofile = { .name = "stripped" };
	struct profile_line raw_line = { .function_id = 500, .line = 77 };
	struct profile_label_in l1[] = {
		{ .key = "thread", .str = "worker-1" },
		{ .key = "tid", .num = 4242 },
		{ .key = "bytes", .num = 64, .num_unit = "bytes" },
	};
	struct profile_label_in l2[] = { { .key = "thread", .str = "main" } };
	uint64_t m1 = 0, m2 = 0, a = 0, b = 0, c = 0, d = 0, stack[4];
	int64_t v1[] = { 1, 10000000, -3 }, v2[] = { 7, 70000000, 0 };
	int rc;

	if (!p)
		return NULL;
	rc = profile_add_sample_type(p, "samples", "count");
	rc = rc ? rc : profile_add_sample_type(p, "cpu", "nanoseconds");
	rc = rc ? rc : profile_add_sample_type(p, "delta", "count");
	rc = rc ? rc : profile_set_period(p, "cpu", "nanoseconds", 10000000);
	rc = rc ? rc : profile_set_default_sample_type(p, "cpu");
	rc = rc ? rc : profile_add_comment(p, "first comment");
	rc = rc ? rc : profile_add_comment(p, "main"); /* shares a string with a function */
	rc = rc ? rc : profile_add_mapping(p, 0x400000, 0x401000, 0x2000, "/bin/prog", "0badc0de",
					   true, &m1);
	rc = rc ? rc : profile_add_mapping(p, 0x7000, 0x8000, 0, "/lib/libz.so", NULL, false, &m2);
	rc = rc ? rc : profile_add_location(p, m1, 0x400010, inl, 2, &a);
	rc = rc ? rc : profile_add_location(p, m1, 0x400020, &top, 1, &b);
	rc = rc ? rc : profile_add_location(p, m2, 0x7123, NULL, 0, &c);
	rc = rc ? rc : profile_add_location(p, 0, 0xdead, &nofile, 1, &d);
	rc = rc ? rc : profile_put_function(p, 500, "raw_fn", "raw_sys", "raw.c", 70);
	rc = rc ? rc : profile_put_location(p, 900, m1, 0x400030, &raw_line, 1);
	profile_set_time(p, 1700000000123456789, 2500000000);
	stack[0] = a;
	stack[1] = 900;
	stack[2] = b;
	rc = rc ? rc : profile_add_sample(p, stack, 3, v1, l1, 3);
	stack[0] = c;
	stack[1] = d;
	stack[2] = b;
	rc = rc ? rc : profile_add_sample(p, stack, 3, v2, l2, 1);
	rc = rc ? rc : profile_add_sample(p, stack, 3, v2, l2, 1);
	rc = rc ? rc : profile_add_sample(p, stack, 3, v2, NULL, 0);
	rc = rc ? rc : profile_add_sample(p, NULL, 0, v1, NULL, 0);
	if (rc) {
		fprintf(stderr, "build_full: %s\n", error_str(rc));
		profile_free(p);
		return NULL;
	}
	return p;
}

/* Every field of a and b, in order. */
static void check_same_profile(const struct profile *a, const struct profile *b)
{
	size_t i, j, n;

	CHECK_EQ_INT(profile_sample_type_count(a), profile_sample_type_count(b));
	n = profile_sample_type_count(a) < profile_sample_type_count(b) ?
		    profile_sample_type_count(a) :
		    profile_sample_type_count(b);
	for (i = 0; i < n; i++) {
		CHECK_EQ_STR(profile_sample_type(a, i)->type, profile_sample_type(b, i)->type);
		CHECK_EQ_STR(profile_sample_type(a, i)->unit, profile_sample_type(b, i)->unit);
	}
	CHECK_EQ_INT(!profile_period_type(a), !profile_period_type(b));
	if (profile_period_type(a) && profile_period_type(b)) {
		CHECK_EQ_STR(profile_period_type(a)->type, profile_period_type(b)->type);
		CHECK_EQ_STR(profile_period_type(a)->unit, profile_period_type(b)->unit);
	}
	CHECK_EQ_INT(profile_period(a), profile_period(b));
	CHECK_EQ_INT(profile_time_nanos(a), profile_time_nanos(b));
	CHECK_EQ_INT(profile_duration_nanos(a), profile_duration_nanos(b));
	CHECK_EQ_STR(profile_default_sample_type(a), profile_default_sample_type(b));
	CHECK_EQ_INT(profile_comment_count(a), profile_comment_count(b));
	for (i = 0; i < profile_comment_count(a) && i < profile_comment_count(b); i++)
		CHECK_EQ_STR(profile_comment(a, i), profile_comment(b, i));

	CHECK_EQ_INT(profile_mapping_count(a), profile_mapping_count(b));
	for (i = 0; i < profile_mapping_count(a) && i < profile_mapping_count(b); i++) {
		const struct profile_mapping *x = profile_mapping_at(a, i), *y = profile_mapping_at(b, i);

		CHECK_EQ_INT(x->id, y->id);
		CHECK_EQ_INT(x->start, y->start);
		CHECK_EQ_INT(x->limit, y->limit);
		CHECK_EQ_INT(x->offset, y->offset);
		CHECK_EQ_STR(x->file, y->file);
		CHECK_EQ_STR(x->build_id, y->build_id);
		CHECK_EQ_INT(x->has_functions, y->has_functions);
		CHECK_EQ_INT(x->has_filenames, y->has_filenames);
		CHECK_EQ_INT(x->has_line_numbers, y->has_line_numbers);
		CHECK_EQ_INT(x->has_inline_frames, y->has_inline_frames);
	}

	CHECK_EQ_INT(profile_function_count(a), profile_function_count(b));
	for (i = 0; i < profile_function_count(a) && i < profile_function_count(b); i++) {
		const struct profile_function *x = profile_function_at(a, i);
		const struct profile_function *y = profile_function_at(b, i);

		CHECK_EQ_INT(x->id, y->id);
		CHECK_EQ_STR(x->name, y->name);
		CHECK_EQ_STR(x->system_name, y->system_name);
		CHECK_EQ_STR(x->file, y->file);
		CHECK_EQ_INT(x->start_line, y->start_line);
	}

	CHECK_EQ_INT(profile_location_count(a), profile_location_count(b));
	for (i = 0; i < profile_location_count(a) && i < profile_location_count(b); i++) {
		const struct profile_location *x = profile_location_at(a, i);
		const struct profile_location *y = profile_location_at(b, i);

		CHECK_EQ_INT(x->id, y->id);
		CHECK_EQ_INT(x->mapping_id, y->mapping_id);
		CHECK_EQ_INT(x->address, y->address);
		CHECK_EQ_INT(x->nlines, y->nlines);
		for (j = 0; j < x->nlines && j < y->nlines; j++) {
			CHECK_EQ_INT(x->lines[j].function_id, y->lines[j].function_id);
			CHECK_EQ_INT(x->lines[j].line, y->lines[j].line);
		}
	}

	CHECK_EQ_INT(profile_sample_count(a), profile_sample_count(b));
	for (i = 0; i < profile_sample_count(a) && i < profile_sample_count(b); i++) {
		const struct profile_sample *x = profile_sample_at(a, i), *y = profile_sample_at(b, i);

		CHECK_EQ_INT(x->nlocations, y->nlocations);
		for (j = 0; j < x->nlocations && j < y->nlocations; j++)
			CHECK_EQ_INT(x->location_ids[j], y->location_ids[j]);
		for (j = 0; j < PROFILE_MAX_VALUES; j++)
			CHECK_EQ_INT(x->values[j], y->values[j]);
		CHECK_EQ_INT(x->nlabels, y->nlabels);
		for (j = 0; j < x->nlabels && j < y->nlabels; j++) {
			CHECK_EQ_STR(x->labels[j].key, y->labels[j].key);
			CHECK_EQ_STR(x->labels[j].str, y->labels[j].str);
			CHECK_EQ_INT(x->labels[j].num, y->labels[j].num);
			CHECK_EQ_STR(x->labels[j].num_unit, y->labels[j].num_unit);
		}
	}
}

/* Inflate a gzip buffer with zlib directly (independent of pprof_read.c). */
static int test_gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	size_t cap = len * 20 + 1024;
	uint8_t *buf = malloc(cap);
	z_stream zs;
	int zrc;

	memset(&zs, 0, sizeof(zs));
	if (!buf || inflateInit2(&zs, 15 + 16) != Z_OK) {
		free(buf);
		return -1;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	zrc = inflate(&zs, Z_FINISH);
	*outlen = zs.total_out;
	inflateEnd(&zs);
	if (zrc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

static void test_round_trip(void)
{
	struct profile *p = build_full(), *q = NULL, *r = NULL, *f = NULL;
	uint8_t *buf = NULL, *raw = NULL;
	size_t len = 0, rawlen = 0;
	char path[] = "/tmp/test_pprof.XXXXXX";
	int fd;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(profile_sample_count(p), 4); /* two adds merged */
	CHECK_EQ_INT(pprof_encode(p, &buf, &len), 0);
	CHECK(len > 20 && buf[0] == 0x1f && buf[1] == 0x8b);

	CHECK_EQ_INT(pprof_decode(buf, len, &q), 0);
	CHECK(q != NULL);
	if (q)
		check_same_profile(p, q);

	/* Plain (uncompressed) protobuf decodes the same. */
	CHECK_EQ_INT(test_gunzip(buf, len, &raw, &rawlen), 0);
	if (raw) {
		Perftools__Profiles__Profile *m;
		size_t i, empties = 0;

		CHECK_EQ_INT(pprof_decode(raw, rawlen, &r), 0);
		if (r)
			check_same_profile(p, r);
		/* The string table: "" first, no duplicates ("main" is shared). */
		m = perftools__profiles__profile__unpack(NULL, rawlen, raw);
		CHECK(m != NULL);
		if (m) {
			CHECK(m->n_string_table > 0 && m->string_table[0][0] == '\0');
			for (i = 0; i < m->n_string_table; i++) {
				size_t j;

				empties += m->string_table[i][0] == '\0';
				for (j = i + 1; j < m->n_string_table; j++)
					CHECK(strcmp(m->string_table[i], m->string_table[j]) != 0);
			}
			CHECK_EQ_INT(empties, 1);
			CHECK_EQ_INT(m->n_mapping, 2);
			if (m->n_mapping == 2) {
				CHECK(m->mapping[0]->has_functions && m->mapping[0]->has_filenames &&
				      m->mapping[0]->has_line_numbers &&
				      m->mapping[0]->has_inline_frames);
				CHECK(!m->mapping[1]->has_functions && !m->mapping[1]->has_inline_frames);
			}
			perftools__profiles__profile__free_unpacked(m, NULL);
		}
	}

	/* Through a file descriptor and back. */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ_INT(pprof_write_fd(p, fd), 0);
		close(fd);
		CHECK_EQ_INT(pprof_read_file(path, &f), 0);
		if (f)
			check_same_profile(p, f);
		unlink(path);
	}
	{
		struct profile *none = (struct profile *)&none; /* must be reset */

		CHECK_EQ_INT(pprof_read_file("/nonexistent/pprobe.pb.gz", &none), -ENOENT);
		CHECK(none == NULL);
	}

	/* Re-encoding a decoded profile gives the same bytes. */
	if (q) {
		uint8_t *buf2 = NULL;
		size_t len2 = 0;

		CHECK_EQ_INT(pprof_encode(q, &buf2, &len2), 0);
		CHECK(len2 == len && buf2 && memcmp(buf, buf2, len) == 0);
		free(buf2);
	}

	/* An empty profile round-trips too. */
	{
		struct profile *e = profile_new(), *e2 = NULL;
		uint8_t *eb = NULL;
		size_t el = 0;

		CHECK_EQ_INT(pprof_encode(e, &eb, &el), 0);
		CHECK_EQ_INT(pprof_decode(eb, el, &e2), 0);
		if (e2)
			check_same_profile(e, e2);
		profile_free(e);
		profile_free(e2);
		free(eb);
	}
	profile_free(f);
	profile_free(p);
	profile_free(q);
	profile_free(r);
	free(buf);
	free(raw);
}

/* ---- hostile input ---- */

/* A small valid message that each case below breaks in one place. */
struct mini {
	Perftools__Profiles__Profile prof;
	Perftools__Profiles__ValueType vt[5], *vtp[5];
	Perftools__Profiles__Mapping map, *mapp[1];
	Perftools__Profiles__Function fn, *fnp[1];
	Perftools__Profiles__Line line, *linep[1];
	Perftools__Profiles__Location loc[2], *locp[2];
	Perftools__Profiles__Label lab, *labp[1];
	Perftools__Profiles__Sample smp, *smpp[1];
	uint64_t locids[1];
	int64_t values[2];
	int64_t comments[1];
	char *strings[6];
};

static void mini_init(struct mini *m)
{
	static char s0[] = "", s1[] = "samples", s2[] = "count", s3[] = "f", s4[] = "thread",
		    s5[] = "/bin/x";
	int i;

	memset(m, 0, sizeof(*m));
	perftools__profiles__profile__init(&m->prof);
	m->strings[0] = s0;
	m->strings[1] = s1;
	m->strings[2] = s2;
	m->strings[3] = s3;
	m->strings[4] = s4;
	m->strings[5] = s5;
	m->prof.n_string_table = 6;
	m->prof.string_table = m->strings;
	for (i = 0; i < 5; i++) {
		perftools__profiles__value_type__init(&m->vt[i]);
		m->vt[i].type = 1;
		m->vt[i].unit = 2;
		m->vtp[i] = &m->vt[i];
	}
	m->prof.n_sample_type = 1;
	m->prof.sample_type = m->vtp;
	perftools__profiles__mapping__init(&m->map);
	m->map.id = 1;
	m->map.filename = 5;
	m->mapp[0] = &m->map;
	m->prof.n_mapping = 1;
	m->prof.mapping = m->mapp;
	perftools__profiles__function__init(&m->fn);
	m->fn.id = 1;
	m->fn.name = 3;
	m->fnp[0] = &m->fn;
	m->prof.n_function = 1;
	m->prof.function = m->fnp;
	perftools__profiles__line__init(&m->line);
	m->line.function_id = 1;
	m->linep[0] = &m->line;
	for (i = 0; i < 2; i++) {
		perftools__profiles__location__init(&m->loc[i]);
		m->loc[i].id = (uint64_t)i + 1;
		m->loc[i].mapping_id = 1;
		m->loc[i].n_line = 1;
		m->loc[i].line = m->linep;
		m->locp[i] = &m->loc[i];
	}
	m->prof.n_location = 2;
	m->prof.location = m->locp;
	perftools__profiles__label__init(&m->lab);
	m->lab.key = 4;
	m->lab.str = 3;
	m->labp[0] = &m->lab;
	perftools__profiles__sample__init(&m->smp);
	m->locids[0] = 1;
	m->smp.n_location_id = 1;
	m->smp.location_id = m->locids;
	m->values[0] = 5;
	m->smp.n_value = 1;
	m->smp.value = m->values;
	m->smp.n_label = 1;
	m->smp.label = m->labp;
	m->smpp[0] = &m->smp;
	m->prof.n_sample = 1;
	m->prof.sample = m->smpp;
	m->prof.comment = m->comments;
}

/* Pack m, decode it, free what was decoded; the decoder's return code. */
static int mini_decode(struct mini *m)
{
	size_t len = protobuf_c_message_get_packed_size(&m->prof.base);
	uint8_t *buf = malloc(len + 1);
	struct profile *p = NULL;
	int rc;

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(&m->prof.base, buf);
	rc = pprof_decode(buf, len, &p);
	CHECK(rc ? p == NULL : p != NULL);
	profile_free(p);
	free(buf);
	return rc;
}

static void test_bad_indices(void)
{
	static char bad0[] = "x";
	struct mini m;

#define MINI_CASE(expect, mutation)                                            \
	do {                                                                   \
		mini_init(&m);                                                 \
		mutation;                                                      \
		CHECK_EQ_INT(mini_decode(&m), expect);                         \
	} while (0)

	MINI_CASE(0, (void)0);
	MINI_CASE(-PPROBE_E_BADPROTO, m.vt[0].type = 6);
	MINI_CASE(-PPROBE_E_BADPROTO, m.vt[0].unit = -1);
	MINI_CASE(-PPROBE_E_BADPROTO, m.fn.name = 99);
	MINI_CASE(-PPROBE_E_BADPROTO, m.fn.filename = INT64_MIN);
	MINI_CASE(-PPROBE_E_BADPROTO, m.fn.system_name = 6);
	MINI_CASE(-PPROBE_E_BADPROTO, m.fn.id = 0);
	MINI_CASE(-PPROBE_E_BADPROTO, m.line.function_id = 2);
	MINI_CASE(-PPROBE_E_BADPROTO, m.line.function_id = 0);
	MINI_CASE(-PPROBE_E_BADPROTO, m.locids[0] = 9);
	MINI_CASE(-PPROBE_E_BADPROTO, m.loc[1].id = 1);
	MINI_CASE(-PPROBE_E_BADPROTO, m.loc[0].mapping_id = 3);
	MINI_CASE(-PPROBE_E_BADPROTO, m.map.filename = 6);
	MINI_CASE(-PPROBE_E_BADPROTO, m.map.build_id = 100);
	MINI_CASE(-PPROBE_E_BADPROTO, m.map.id = 0);
	MINI_CASE(-PPROBE_E_BADPROTO, m.smp.n_value = 2);
	MINI_CASE(-PPROBE_E_BADPROTO, m.lab.key = 6);
	MINI_CASE(-PPROBE_E_BADPROTO, m.lab.str = -2);
	MINI_CASE(-PPROBE_E_BADPROTO, m.lab.num_unit = 7);
	MINI_CASE(-PPROBE_E_BADPROTO, (m.prof.n_comment = 1, m.comments[0] = 6));
	MINI_CASE(-PPROBE_E_BADPROTO, m.prof.default_sample_type = 6);
	MINI_CASE(-PPROBE_E_BADPROTO, m.prof.drop_frames = 6);
	MINI_CASE(-PPROBE_E_BADPROTO, m.strings[0] = bad0);
	MINI_CASE(-PPROBE_E_BADPROTO, m.prof.n_string_table = 0);
	MINI_CASE(-PPROBE_E_BADPROTO, m.prof.n_string_table = 3); /* "f" (3) now out of range */
	MINI_CASE(-PPROBE_E_TOOBIG, (m.prof.n_sample_type = 5, m.smp.n_value = 0));
#undef MINI_CASE
}

/* Tiny deterministic generator, so a failure reproduces. */
static uint32_t test_rand(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

static void test_corrupt_input(void)
{
	struct profile *p = build_full(), *q = NULL;
	uint8_t *buf = NULL, *raw = NULL, *copy;
	size_t len = 0, rawlen = 0, i;
	uint32_t seed = 12345;
	int rc, bad = 0;

	if (!p || pprof_encode(p, &buf, &len) != 0 || test_gunzip(buf, len, &raw, &rawlen) != 0) {
		CHECK(!"cannot build the corpus");
		goto out;
	}
	copy = malloc(len > rawlen ? len : rawlen);
	if (!copy)
		goto out;

	/* Every truncation of the gzip stream is an error. */
	for (i = 0; i < len; i++) {
		rc = pprof_decode(buf, i, &q);
		if (rc == 0 || q != NULL)
			bad++;
		if (i >= 2 && rc != -PPROBE_E_GZIP)
			bad++;
		profile_free(q);
		q = NULL;
	}
	CHECK_EQ_INT(bad, 0);

	/* Truncated or bit-flipped protobuf and gzip: an error or a valid
	 * profile, never a crash (run under ASan/UBSan to mean it). */
	for (i = 0; i < rawlen; i++) {
		rc = pprof_decode(raw, i, &q);
		CHECK(rc <= 0 && (rc == 0) == (q != NULL));
		profile_free(q);
		q = NULL;
		memcpy(copy, raw, rawlen);
		copy[i] ^= (uint8_t)(1u << (test_rand(&seed) % 8));
		rc = pprof_decode(copy, rawlen, &q);
		CHECK(rc <= 0 && (rc == 0) == (q != NULL));
		profile_free(q);
		q = NULL;
		copy[i] = (uint8_t)test_rand(&seed);
		rc = pprof_decode(copy, rawlen, &q);
		CHECK(rc <= 0 && (rc == 0) == (q != NULL));
		profile_free(q);
		q = NULL;
	}
	for (i = 0; i < len; i++) {
		memcpy(copy, buf, len);
		copy[i] ^= 0x5a;
		rc = pprof_decode(copy, len, &q);
		CHECK(rc <= 0 && (rc == 0) == (q != NULL));
		profile_free(q);
		q = NULL;
	}

	/* Garbage, with and without a gzip header in front. */
	for (i = 0; i < 2000; i++) {
		size_t n = test_rand(&seed) % (len + 1), k;

		for (k = 0; k < n; k++)
			copy[k] = (uint8_t)test_rand(&seed);
		if (i % 2 && n >= 2) {
			copy[0] = 0x1f;
			copy[1] = 0x8b;
		}
		rc = pprof_decode(copy, n, &q);
		CHECK(rc < 0 && q == NULL);
		profile_free(q);
		q = NULL;
	}
	free(copy);
out:
	profile_free(p);
	free(buf);
	free(raw);
}

/* ---- text reports ---- */

/* The stacks of tests/tools/pprof_sample.c, in miniature. */
static struct profile *build_report(void)
{
	struct profile *p = profile_new();
	struct profile_frame wc[] = { { .name = "compute" }, { .name = "work" } };
	struct profile_frame w = { .name = "work" }, mn = { .name = "main" },
			     h = { .name = "lib_hash" }, r = { .name = "recurse" };
	struct profile_label_in lw[] = { { .key = "thread", .str = "worker" },
					 { .key = "tid", .num = 101 } };
	struct profile_label_in lm[] = { { .key = "thread", .str = "main" },
					 { .key = "tid", .num = 100 } };
	uint64_t lc = 0, lwk = 0, lmn = 0, lml = 0, lh = 0, lr = 0;
	int64_t v[] = { 1, 10000000 };
	int rc, i;

	rc = profile_add_sample_type(p, "samples", "count");
	rc = rc ? rc : profile_add_sample_type(p, "cpu", "nanoseconds");
	rc = rc ? rc : profile_add_location(p, 0, 0x10, wc, 2, &lc);
	rc = rc ? rc : profile_add_location(p, 0, 0x20, &w, 1, &lwk);
	rc = rc ? rc : profile_add_location(p, 0, 0x30, &mn, 1, &lmn);
	rc = rc ? rc : profile_add_location(p, 0, 0x38, &mn, 1, &lml);
	rc = rc ? rc : profile_add_location(p, 0, 0x40, &h, 1, &lh);
	rc = rc ? rc : profile_add_location(p, 0, 0x50, &r, 1, &lr);
	for (i = 0; i < 30 && !rc; i++)
		rc = profile_add_sample(p, (uint64_t[]){ lc, lmn }, 2, v, lw, 2);
	for (i = 0; i < 20 && !rc; i++)
		rc = profile_add_sample(p, (uint64_t[]){ lh, lwk, lmn }, 3, v, lw, 2);
	for (i = 0; i < 10 && !rc; i++)
		rc = profile_add_sample(p, (uint64_t[]){ lml }, 1, v, lm, 2);
	for (i = 0; i < 5 && !rc; i++)
		rc = profile_add_sample(p, (uint64_t[]){ lr, lr, lmn }, 3, v, lm, 2);
	if (rc) {
		profile_free(p);
		return NULL;
	}
	return p;
}

/* fmt_text_top's report as a string (caller frees); its code in *rc. */
static char *report_top(const struct profile *p, int vi, size_t n, int *rc)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	*rc = fmt_text_top(p, vi, n, f);
	fclose(f);
	return text;
}

static void test_fmt_text(void)
{
	struct profile *p = build_report();
	char *text, *folded = NULL;
	size_t size = 0;
	FILE *f;
	int rc = -1;

	CHECK(p != NULL);
	if (!p)
		return;
	/* The numbers `go tool pprof -top` prints for the same profile. */
	text = report_top(p, 1, 0, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(text, "Showing top 5 functions, total 650ms\n"
			   "      flat  flat%   sum%        cum   cum%\n"
			   "     300ms 46.15% 46.15%      300ms 46.15%  compute\n"
			   "     200ms 30.77% 76.92%      200ms 30.77%  lib_hash\n"
			   "     100ms 15.38% 92.31%      650ms   100%  main\n"
			   "      50ms  7.69%   100%       50ms  7.69%  recurse\n"
			   "         0     0%   100%      500ms 76.92%  work\n");
	free(text);
	text = report_top(p, 0, 2, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(text, "Showing top 2 functions, total 65\n"
			   "      flat  flat%   sum%        cum   cum%\n"
			   "        30 46.15% 46.15%         30 46.15%  compute\n"
			   "        20 30.77% 76.92%         20 30.77%  lib_hash\n");
	free(text);
	text = report_top(p, 2, 0, &rc);
	CHECK_EQ_INT(rc, -EINVAL);
	free(text);

	f = open_memstream(&folded, &size);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(fmt_text_folded(p, 1, 1, f), 0);
		CHECK_EQ_INT(fmt_text_folded(p, 0, 0, f), 0);
		CHECK_EQ_INT(fmt_text_folded(p, -1, 0, f), -EINVAL);
		fclose(f);
		CHECK_EQ_STR(folded, "main 100000000 [thread=main tid=100]\n"
				     "main;recurse;recurse 50000000 [thread=main tid=100]\n"
				     "main;work;compute 300000000 [thread=worker tid=101]\n"
				     "main;work;lib_hash 200000000 [thread=worker tid=101]\n"
				     "main 10\n"
				     "main;recurse;recurse 5\n"
				     "main;work;compute 30\n"
				     "main;work;lib_hash 20\n");
		free(folded);
	}
	profile_free(p);
}

/* Folded stacks: samples that differ only in what the format drops (the
 * address within a function, labels when not asked for) are one line. */
static void test_fmt_folded_merge(void)
{
	struct profile *p = profile_new();
	struct profile_frame a = { .name = "a" }, b = { .name = "b;c" };
	struct profile_label_in l1 = { .key = "tid", .num = 1 }, l2 = { .key = "tid", .num = 2 };
	uint64_t la1 = 0, la2 = 0, lb = 0;
	int64_t v[] = { 7 };
	char *text = NULL;
	size_t size = 0;
	FILE *f;
	int rc;

	CHECK(p != NULL);
	if (!p)
		return;
	rc = profile_add_sample_type(p, "samples", "count");
	rc = rc ? rc : profile_add_location(p, 0, 0x10, &a, 1, &la1);
	rc = rc ? rc : profile_add_location(p, 0, 0x18, &a, 1, &la2);
	rc = rc ? rc : profile_add_location(p, 0, 0x20, &b, 1, &lb);
	rc = rc ? rc : profile_add_sample(p, (uint64_t[]){ lb, la1 }, 2, v, &l1, 1);
	rc = rc ? rc : profile_add_sample(p, (uint64_t[]){ la2 }, 1, v, &l2, 1);
	rc = rc ? rc : profile_add_sample(p, (uint64_t[]){ lb, la2 }, 2, v, &l2, 1);
	rc = rc ? rc : profile_add_sample(p, (uint64_t[]){ la1 }, 1, v, &l1, 1);
	CHECK_EQ_INT(rc, 0);
	f = open_memstream(&text, &size);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(fmt_text_folded(p, 0, 0, f), 0);
		CHECK_EQ_INT(fmt_text_folded(p, 0, 1, f), 0);
		fclose(f);
		CHECK_EQ_STR(text, "a 14\n"
				   "a;b_c 14\n"
				   "a 7 [tid=1]\n"
				   "a 7 [tid=2]\n"
				   "a;b_c 7 [tid=1]\n"
				   "a;b_c 7 [tid=2]\n");
		free(text);
	}
	profile_free(p);
}

/* Durations scale as pprof's do; other units stay integers. */
static void test_fmt_values(void)
{
	static const struct {
		int64_t v;
		const char *unit, *want;
	} cases[] = {
		{ 1230000000, "nanoseconds", "1.23s" }, { 1500000000, "nanoseconds", "1.50s" },
		{ 450000000, "nanoseconds", "450ms" },  { 80000, "nanoseconds", "80us" },
		{ 999, "nanoseconds", "999ns" },        { 7200000000000, "nanoseconds", "2hrs" },
		{ 3, "seconds", "3s" },                 { 12345, "count", "12345" },
		{ -20000000, "nanoseconds", "-20ms" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct profile *p = profile_new();
		struct profile_frame fr = { .name = "only" };
		char want[128], *text;
		uint64_t id;
		int rc = -1;

		profile_add_sample_type(p, "v", cases[i].unit);
		profile_add_location(p, 0, 1, &fr, 1, &id);
		profile_add_sample(p, &id, 1, &cases[i].v, NULL, 0);
		text = report_top(p, 0, 0, &rc);
		snprintf(want, sizeof(want), "total %s\n", cases[i].want);
		CHECK_EQ_INT(rc, 0);
		CHECK(text && strstr(text, want));
		if (text && !strstr(text, want))
			fprintf(stderr, "  want \"%s\" in:\n%s", want, text);
		free(text);
		profile_free(p);
	}
}

int main(void)
{
	test_round_trip();
	test_bad_indices();
	test_corrupt_input();
	test_fmt_text();
	test_fmt_folded_merge();
	test_fmt_values();
	return check_done();
}
