/* svg_sample - write a flame graph of a known profile, for tests.
 *
 * usage: svg_sample FILE         the known profile below
 *        svg_sample -large FILE  50000 samples of pseudo-random deep stacks
 *
 * Both write fmt_svg_flamegraph of sample type cpu/nanoseconds (period
 * 10ms) titled "svg_sample".  The known profile has three mappings
 * (/usr/bin/demo, /usr/lib/libdemo.so, /lib/libc.so.6) and these stacks,
 * root first (one sample = 10ms; total 1340 samples = 13.40s):
 *   main;work;compute        300  compute is inlined into work (one location)
 *   main;work;lib_hash       200  lib_hash in libdemo.so
 *   main;work;lib_hash;libc.so.6+0x1234   30  a location without lines
 *   main                     100
 *   main;recurse;recurse;recurse   50
 *   main;a<b>&"c'             30  a hostile name (SVG_SAMPLE_HOSTILE)
 *   main;bad\a\xff]]>name     10  control byte, bad UTF-8 (SVG_SAMPLE_HOSTILE2)
 *   main;jit_stub             20  a location without a mapping (grey)
 *   worker_loop;handle_K;stage_J;...  400  deterministic pseudo-random, 2..9 stages
 *   main;tiny_parent;tiny_N  200  200 leaves of one sample each: each is
 *                                 below 0.1% and must not be written
 * so work is 530 samples (5.30s, 39.55%) and lib_hash 230 (2.30s, 17.16%).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pprobe/error.h"
#include "pprobe/fmt_svg.h"
#include "pprobe/profile.h"

#define SAMPLE_PERIOD 10000000 /* ns */
#define SVG_SAMPLE_HOSTILE "a<b>&\"c'"
#define SVG_SAMPLE_HOSTILE2 "bad\a\xff]]>name"

struct sample_maps {
	uint64_t exe, lib, libc;
};

/* Deterministic pseudo-random numbers (a 64-bit LCG's high bits). */
static uint32_t sample_rand(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return (uint32_t)(*state >> 33);
}

/* A location of one function (address unique per name). */
static int sample_loc(struct profile *p, uint64_t mapping, const char *name, uint64_t *id)
{
	struct profile_frame f = { .name = name, .file = "demo.c", .line = 1 };
	uint64_t addr = 0x401000;
	const char *c;

	for (c = name; *c; c++)
		addr = addr * 31 + (unsigned char)*c;
	return profile_add_location(p, mapping, addr & 0xffffff, &f, 1, id);
}

/* Add count samples of the stack ids (root first). */
static int sample_add(struct profile *p, const uint64_t *root_first, size_t n, int64_t count)
{
	uint64_t leaf_first[512];
	int64_t v[] = { count, count * SAMPLE_PERIOD };
	size_t i;

	if (n > sizeof(leaf_first) / sizeof(leaf_first[0]))
		return -EINVAL;
	for (i = 0; i < n; i++)
		leaf_first[i] = root_first[n - 1 - i];
	return profile_add_sample(p, leaf_first, n, v, NULL, 0);
}

static int sample_setup(struct profile *p, struct sample_maps *m)
{
	int rc;

	rc = profile_add_sample_type(p, "samples", "count");
	if (!rc)
		rc = profile_add_sample_type(p, "cpu", "nanoseconds");
	if (!rc)
		rc = profile_set_period(p, "cpu", "nanoseconds", SAMPLE_PERIOD);
	if (!rc)
		rc = profile_add_mapping(p, 0x400000, 0x1400000, 0, "/usr/bin/demo", NULL, true,
					 &m->exe);
	if (!rc)
		rc = profile_add_mapping(p, 0x7f0000000000, 0x7f0001000000, 0,
					 "/usr/lib/libdemo.so", NULL, true, &m->lib);
	if (!rc)
		rc = profile_add_mapping(p, 0x7f1000000000, 0x7f1001000000, 0x1000,
					 "/lib/libc.so.6", NULL, false, &m->libc);
	return rc;
}

static int sample_known(struct profile *p)
{
	static const struct profile_frame inl[] = {
		{ .name = "compute", .file = "compute.c", .line = 12 },
		{ .name = "work", .file = "work.c", .line = 40 },
	};
	struct sample_maps m;
	uint64_t main_, work, compute, hash, libc, rec, hostile, hostile2, jit, tiny_parent, worker;
	uint64_t s[16], state = 42;
	char name[32];
	int i, j, rc;

	rc = sample_setup(p, &m);
	rc = rc ? rc : sample_loc(p, m.exe, "main", &main_);
	rc = rc ? rc : sample_loc(p, m.exe, "work", &work);
	rc = rc ? rc : profile_add_location(p, m.exe, 0x401234, inl, 2, &compute);
	rc = rc ? rc : sample_loc(p, m.lib, "lib_hash", &hash);
	rc = rc ? rc : profile_add_location(p, m.libc, 0x7f1000000234, NULL, 0, &libc);
	rc = rc ? rc : sample_loc(p, m.exe, "recurse", &rec);
	rc = rc ? rc : sample_loc(p, m.exe, SVG_SAMPLE_HOSTILE, &hostile);
	rc = rc ? rc : sample_loc(p, m.exe, SVG_SAMPLE_HOSTILE2, &hostile2);
	rc = rc ? rc : sample_loc(p, 0, "jit_stub", &jit);
	rc = rc ? rc : sample_loc(p, m.exe, "tiny_parent", &tiny_parent);
	rc = rc ? rc : sample_loc(p, m.exe, "worker_loop", &worker);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_, compute }, 2, 300);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_, work, hash }, 3, 200);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_, work, hash, libc }, 4, 30);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_ }, 1, 100);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_, rec, rec, rec }, 4, 50);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_, hostile }, 2, 30);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_, hostile2 }, 2, 10);
	rc = rc ? rc : sample_add(p, (uint64_t[]){ main_, jit }, 2, 20);
	for (i = 0; i < 400 && !rc; i++) {
		int depth = 2 + (int)(sample_rand(&state) % 8);
		uint64_t maps[] = { m.exe, m.lib, m.libc };

		s[0] = worker;
		snprintf(name, sizeof(name), "handle_%u", sample_rand(&state) % 6);
		rc = sample_loc(p, m.exe, name, &s[1]);
		for (j = 0; j < depth && !rc; j++) {
			snprintf(name, sizeof(name), "stage_%u", sample_rand(&state) % 4);
			rc = sample_loc(p, maps[j % 3], name, &s[2 + j]);
		}
		rc = rc ? rc : sample_add(p, s, (size_t)(2 + depth), 1);
	}
	for (i = 0; i < 200 && !rc; i++) {
		snprintf(name, sizeof(name), "tiny_%d", i);
		s[0] = main_;
		s[1] = tiny_parent;
		rc = sample_loc(p, m.exe, name, &s[2]);
		rc = rc ? rc : sample_add(p, s, 3, 1);
	}
	return rc;
}

/* 50000 samples, stacks 20..220 deep over 300 functions in 3 modules:
 * a deep hot path that branches now and then (one frame in 16 picks one
 * of three callees), and random tails that all fall below the cut. */
static int sample_large(struct profile *p)
{
	struct sample_maps m;
	uint64_t s[256], ids[300], state = 7;
	char name[32];
	int i, j, rc;

	rc = sample_setup(p, &m);
	for (i = 0; i < 300 && !rc; i++) {
		uint64_t maps[] = { m.exe, m.lib, m.libc };

		snprintf(name, sizeof(name), "fn_%03d_%s", i, i % 7 ? "compute" : "io");
		rc = sample_loc(p, maps[i % 3], name, &ids[i]);
	}
	for (i = 0; i < 50000 && !rc; i++) {
		int depth = 20 + (int)(sample_rand(&state) % 200);
		int hot = depth - (int)(sample_rand(&state) % 20);

		for (j = 0; j < depth; j++) {
			uint32_t r = sample_rand(&state);
			uint32_t pick = j < hot ? (uint32_t)j * 7 + (r % 16 == 0 ? r / 16 % 3 : 0) : r;

			s[j] = ids[pick % 300];
		}
		rc = sample_add(p, s, (size_t)depth, 1);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct profile *p = NULL;
	const char *path;
	FILE *out = NULL;
	int large = argc == 3 && strcmp(argv[1], "-large") == 0, rc;

	if (argc != 2 && !large) {
		fprintf(stderr, "usage: svg_sample [-large] FILE\n");
		return 2;
	}
	path = argv[argc - 1];
	p = profile_new();
	if (!p) {
		fprintf(stderr, "svg_sample: out of memory\n");
		return 1;
	}
	rc = large ? sample_large(p) : sample_known(p);
	if (rc)
		goto out;
	out = fopen(path, "we");
	if (!out) {
		rc = -errno;
		goto out;
	}
	rc = fmt_svg_flamegraph(p, profile_find_sample_type(p, "cpu"), "svg_sample", out);
	if (fclose(out) != 0 && !rc)
		rc = -errno;
out:
	profile_free(p);
	if (rc) {
		fprintf(stderr, "svg_sample: %s: %s\n", path, error_str(rc));
		return 1;
	}
	return 0;
}
