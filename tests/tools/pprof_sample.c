/* pprof_sample - write a small, known pprof profile, for tests.
 *
 * usage: pprof_sample FILE
 *
 * The profile has sample types samples/count and cpu/nanoseconds (period
 * 10ms, default cpu), two symbolized mappings (a program and a library),
 * and four stacks, leaf first:
 *   compute (inlined into work);work;main     thread=worker tid=101  30 samples
 *   lib_hash;work;main                         thread=worker tid=101  20 samples
 *   main                                       thread=main   tid=100  10 samples
 *   recurse;recurse;main                       thread=main   tid=100   5 samples
 * so the expected report is known exactly: cum(work) = 500ms,
 * flat(compute) = 300ms, cum(recurse) = 50ms (counted once per sample).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "pprobe/error.h"
#include "pprobe/pprof.h"
#include "pprobe/profile.h"

#define SAMPLE_PERIOD 10000000 /* ns */

static int sample_add(struct profile *p, const uint64_t *locs, size_t nlocs, const char *thread,
		      int64_t tid, int64_t count)
{
	struct profile_label_in labels[] = {
		{ .key = "thread", .str = thread },
		{ .key = "tid", .num = tid },
	};
	int64_t one[] = { 1, SAMPLE_PERIOD };
	int64_t i;
	int rc = 0;

	/* One add per tick, as the sampler does: exercises merging. */
	for (i = 0; i < count && !rc; i++)
		rc = profile_add_sample(p, locs, nlocs, one, labels, 2);
	return rc;
}

static int sample_build(struct profile *p)
{
	static const struct profile_frame f_work_compute[] = {
		{ .name = "compute", .file = "demo/compute.c", .line = 12 },
		{ .name = "work", .file = "demo/work.c", .line = 40 },
	};
	static const struct profile_frame f_work_call[] = {
		{ .name = "work", .file = "demo/work.c", .line = 44 },
	};
	static const struct profile_frame f_main_call[] = {
		{ .name = "main", .file = "demo/main.c", .line = 7 },
	};
	static const struct profile_frame f_main_leaf[] = {
		{ .name = "main", .file = "demo/main.c", .line = 9 },
	};
	static const struct profile_frame f_lib_hash[] = {
		{ .name = "lib_hash", .system_name = "_Z8lib_hashv", .file = "lib/hash.c", .line = 3 },
	};
	static const struct profile_frame f_recurse[] = {
		{ .name = "recurse", .file = "demo/main.c", .line = 20 },
	};
	uint64_t exe, lib, l_compute, l_work, l_main, l_main_leaf, l_hash, l_rec;
	int rc;

	rc = profile_add_sample_type(p, "samples", "count");
	if (!rc)
		rc = profile_add_sample_type(p, "cpu", "nanoseconds");
	if (!rc)
		rc = profile_set_period(p, "cpu", "nanoseconds", SAMPLE_PERIOD);
	if (!rc)
		rc = profile_set_default_sample_type(p, "cpu");
	if (!rc)
		rc = profile_add_comment(p, "pprof_sample test profile");
	if (!rc)
		rc = profile_add_mapping(p, 0x400000, 0x500000, 0, "/usr/bin/demo", "abcdef0123",
					 true, &exe);
	if (!rc)
		rc = profile_add_mapping(p, 0x7f0000000000, 0x7f0000100000, 0x1000,
					 "/usr/lib/libdemo.so", NULL, true, &lib);
	if (rc)
		return rc;
	profile_set_time(p, 1700000000000000000, 650000000);
	rc = profile_add_location(p, exe, 0x401000, f_work_compute, 2, &l_compute);
	if (!rc)
		rc = profile_add_location(p, exe, 0x401100, f_work_call, 1, &l_work);
	if (!rc)
		rc = profile_add_location(p, exe, 0x400500, f_main_call, 1, &l_main);
	if (!rc)
		rc = profile_add_location(p, exe, 0x400520, f_main_leaf, 1, &l_main_leaf);
	if (!rc)
		rc = profile_add_location(p, lib, 0x7f0000001234, f_lib_hash, 1, &l_hash);
	if (!rc)
		rc = profile_add_location(p, exe, 0x400800, f_recurse, 1, &l_rec);
	if (rc)
		return rc;
	rc = sample_add(p, (uint64_t[]){ l_compute, l_main }, 2, "worker", 101, 30);
	if (!rc)
		rc = sample_add(p, (uint64_t[]){ l_hash, l_work, l_main }, 3, "worker", 101, 20);
	if (!rc)
		rc = sample_add(p, (uint64_t[]){ l_main_leaf }, 1, "main", 100, 10);
	if (!rc)
		rc = sample_add(p, (uint64_t[]){ l_rec, l_rec, l_main }, 3, "main", 100, 5);
	return rc;
}

int main(int argc, char **argv)
{
	struct profile *p = NULL;
	int fd = -1, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pprof_sample FILE\n");
		return 2;
	}
	p = profile_new();
	if (!p) {
		fprintf(stderr, "pprof_sample: out of memory\n");
		return 1;
	}
	rc = sample_build(p);
	if (rc)
		goto out;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = pprof_write_fd(p, fd);
	if (close(fd) != 0 && !rc)
		rc = -errno;
out:
	profile_free(p);
	if (rc) {
		fprintf(stderr, "pprof_sample: %s: %s\n", argv[1], error_str(rc));
		return 1;
	}
	return 0;
}
