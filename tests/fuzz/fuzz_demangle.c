/* fuzz_demangle.c - the Rust demangler on hostile symbol names.
 *
 * A libFuzzer target, also built into the replay driver that runs
 * tests/corpus/demangle/.  Symbol names come from the target's files, so
 * demangle_rust.c (v0 with its back-references, and legacy) must take any
 * bytes.  The input is one name (cut at its first NUL).  Beyond "no crash,
 * no sanitizer report": what comes back is a non-empty string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/demangle_rust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_demangle_check(const char *what, char *out)
{
	if (out && !out[0]) {
		fprintf(stderr, "fuzz_demangle: %s gave an empty name\n", what);
		abort();
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sym = malloc(size + 1);

	if (!sym)
		return 0;
	memcpy(sym, data, size);
	sym[size] = '\0';
	fuzz_demangle_check("demangle_rust_v0", demangle_rust_v0(sym));
	fuzz_demangle_check("demangle_rust_legacy", demangle_rust_legacy(sym));
	fuzz_demangle_check("demangle_rust", demangle_rust(sym));
	free(sym);
	return 0;
}
