/* fuzz_perfmap.c - the perf map reader on hostile files.
 *
 * A libFuzzer target, also built into the replay driver that runs
 * tests/corpus/perfmap/.  /tmp/perf-PID.map is written by the target (or
 * by anyone who can write its /tmp), so perfmap.c must take any bytes.
 * The input is the file: it is written to a temporary file and loaded,
 * then appended to itself and refreshed (the incremental read), with
 * lookups at the addresses its lines start with.  Beyond "no crash, no
 * sanitizer report": a hit starts at or below the address looked up, and
 * its name holds no control character (they are replaced by '?').
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprobe/perfmap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[64];
static int fuzz_fd = -1;

static void fuzz_perfmap_cleanup(void)
{
	if (fuzz_fd >= 0)
		unlink(fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* tmpfs when there is one: truncating a file on a disk file system
	 * can wait for its journal, which made this target 40 times slower. */
	snprintf(fuzz_path, sizeof(fuzz_path), "/dev/shm/pprobe-fuzz-perfmap-XXXXXX");
	fuzz_fd = mkstemp(fuzz_path);
	if (fuzz_fd < 0) {
		snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/pprobe-fuzz-perfmap-XXXXXX");
		fuzz_fd = mkstemp(fuzz_path);
	}
	if (fuzz_fd < 0) {
		perror("mkstemp");
		abort();
	}
	atexit(fuzz_perfmap_cleanup);
	return 0;
}

static void fuzz_perfmap_append(const uint8_t *data, size_t size)
{
	if (size && write(fuzz_fd, data, size) != (ssize_t)size) {
		perror(fuzz_path);
		abort();
	}
}

static void fuzz_perfmap_check(struct perfmap *pm, uint64_t addr)
{
	const char *name;
	uint64_t start;

	if (perfmap_lookup(pm, addr, &name, &start) != 0)
		return;
	if (start > addr) {
		fprintf(stderr, "fuzz_perfmap: entry at %#llx found for %#llx\n",
			(unsigned long long)start, (unsigned long long)addr);
		abort();
	}
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f) {
			fprintf(stderr, "fuzz_perfmap: control byte %#x in a name\n", *c);
			abort();
		}
}

/* Look up the address each line starts with, and its neighbours. */
static void fuzz_perfmap_probe(struct perfmap *pm, const uint8_t *data, size_t size)
{
	char buf[32];
	size_t i = 0;
	int probes = 0;

	fuzz_perfmap_check(pm, 0);
	fuzz_perfmap_check(pm, UINT64_MAX);
	while (i < size && probes < 64) {
		size_t n = 0;
		uint64_t addr;

		while (i < size && data[i] != '\n' && n + 1 < sizeof(buf))
			buf[n++] = (char)data[i++];
		buf[n] = '\0';
		while (i < size && data[i++] != '\n')
			;
		addr = strtoull(buf, NULL, 16);
		fuzz_perfmap_check(pm, addr);
		fuzz_perfmap_check(pm, addr + 1);
		fuzz_perfmap_check(pm, addr - 1);
		probes++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfmap *pm = NULL;

	if (fuzz_fd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (ftruncate(fuzz_fd, 0) != 0 || lseek(fuzz_fd, 0, SEEK_SET) != 0) {
		perror(fuzz_path);
		abort();
	}
	fuzz_perfmap_append(data, size);
	if (perfmap_load_path(fuzz_path, &pm) != 0)
		return 0;
	fuzz_perfmap_probe(pm, data, size);
	fuzz_perfmap_append(data, size);
	(void)perfmap_refresh(pm);
	fuzz_perfmap_probe(pm, data, size);
	(void)perfmap_count(pm);
	perfmap_free(pm);
	return 0;
}
