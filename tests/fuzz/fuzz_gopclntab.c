/* fuzz_gopclntab.c - Go's function table (.gopclntab) on hostile bytes.
 *
 * A libFuzzer target, also built into the replay driver that runs
 * tests/corpus/gopclntab/.  The input is the section by itself, taken to
 * be at virtual address 0x500000 with the text at 0x401000 (the header's
 * own text start wins when it has one), and go:func.* at the table's own
 * start, so a 1.18+ inline tree is read from the input too
 * (make_gopclntab_seeds.py writes seeds so).  Every function of the
 * functab (up to 256) is looked up at its entry, entry+1, middle and last
 * byte, and a pc taken from the input.  Beyond "no crash, no sanitizer
 * report": a lookup gives 1..max frames, each name a non-empty
 * NUL-terminated string inside the input, each file NULL or inside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/gopclntab.h"

#define FUZZ_VADDR 0x500000u
#define FUZZ_TEXT 0x401000u
#define FUZZ_MAX_FRAMES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_gopclntab_inside(const uint8_t *data, size_t size, const char *s,
				  const char *what)
{
	const uint8_t *p = (const uint8_t *)s;

	if (p < data || p >= data + size || !memchr(p, 0, size - (size_t)(p - data)) || !*s) {
		fprintf(stderr, "fuzz_gopclntab: %s outside the table or empty\n", what);
		abort();
	}
}

static void fuzz_gopclntab_probe(const struct gopclntab *t, const uint8_t *data, size_t size,
				 uint64_t pc)
{
	struct gopclntab_frame fr[FUZZ_MAX_FRAMES];
	int n = gopclntab_lookup(t, pc, fr, FUZZ_MAX_FRAMES);

	if (n < 0)
		return;
	if (n == 0 || n > FUZZ_MAX_FRAMES) {
		fprintf(stderr, "fuzz_gopclntab: %d frames\n", n);
		abort();
	}
	for (int i = 0; i < n; i++) {
		fuzz_gopclntab_inside(data, size, fr[i].name, "name");
		if (fr[i].file)
			fuzz_gopclntab_inside(data, size, fr[i].file, "file");
		if (fr[i].line < 0)
			abort();
	}
}

/* Entry i of the functab, read as gopclntab.c does (the test knows the
 * layout: it must not trust the module to say where to probe). */
static uint64_t fuzz_gopclntab_entry(const struct gopclntab *t, uint64_t i)
{
	uint64_t v = 0;

	if (t->version == GOPCLNTAB_V116) {
		memcpy(&v, t->data + t->pclntable + i * 16, 8);
		return v;
	}
	memcpy(&v, t->data + t->pclntable + i * 8, 4);
	return t->text + v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gopclntab t;
	uint64_t n, pc = 0;

	if (gopclntab_parse(data, size, FUZZ_VADDR, FUZZ_TEXT, &t) != 0)
		return 0;
	t.gofunc = FUZZ_VADDR;
	n = t.nfunc < 256 ? t.nfunc : 256;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t lo = fuzz_gopclntab_entry(&t, i), hi = fuzz_gopclntab_entry(&t, i + 1);
		uint64_t pcs[4] = { lo, lo + 1, lo + (hi - lo) / 2, hi - 1 };

		for (int k = 0; k < 4; k++)
			fuzz_gopclntab_probe(&t, data, size, pcs[k]);
	}
	memcpy(&pc, data + size - 8, 8);
	fuzz_gopclntab_probe(&t, data, size, pc);
	return 0;
}
