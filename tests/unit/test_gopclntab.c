/* test_gopclntab.c - lookups in Go's function table, each layout.
 *
 * The tables are the hand-made seeds of the fuzz corpus
 * (tests/fuzz/make_gopclntab_seeds.py says what they hold): Go 1.16, 1.18
 * and 1.20 layouts, three functions, one inlined call.  The Go 1.19
 * layout of a real binary is tested end to end by
 * tests/integration/test_fidelity_gostrip.py.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "pprobe/gopclntab.h"

#define SEED_VADDR 0x500000u
#define SEED_TEXT 0x401000u

static uint8_t *read_seed(const char *name, size_t *size)
{
	char path[4096];
	uint8_t *buf;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/%s", GOPCLNTAB_SEEDS, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)len;
	return buf;
}

static void test_layout(const char *seed, int version)
{
	struct gopclntab t;
	struct gopclntab_frame fr[8];
	size_t size = 0;
	uint8_t *data = read_seed(seed, &size);
	int n;

	fprintf(stderr, "%s\n", seed);
	CHECK(data != NULL);
	if (!data)
		return;
	CHECK_EQ_INT(gopclntab_parse(data, size, SEED_VADDR, SEED_TEXT, &t), 0);
	CHECK_EQ_INT(t.version, version);
	t.gofunc = SEED_VADDR;

	/* Outside every function. */
	CHECK_EQ_INT(gopclntab_lookup(&t, SEED_TEXT - 1, fr, 8), -ENOENT);
	CHECK_EQ_INT(gopclntab_lookup(&t, SEED_TEXT + 0x70, fr, 8), -ENOENT);

	/* main.outer: line 5, then 6 from 0x10. */
	n = gopclntab_lookup(&t, SEED_TEXT + 0x0f, fr, 8);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(fr[0].name, "main.outer");
	CHECK_EQ_STR(fr[0].file, "a.go");
	CHECK_EQ_INT(fr[0].line, 5);
	n = gopclntab_lookup(&t, SEED_TEXT + 0x10, fr, 8);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(fr[0].line, 6);

	/* main.leaf with main.inner inlined at 0x48..0x50, called from
	 * parentPc 0x4 (a.go:10). */
	n = gopclntab_lookup(&t, SEED_TEXT + 0x4c, fr, 8);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_EQ_STR(fr[0].name, "main.inner");
		CHECK_EQ_STR(fr[0].file, "b.go");
		CHECK_EQ_INT(fr[0].line, 20);
		CHECK_EQ_STR(fr[1].name, "main.leaf");
		CHECK_EQ_STR(fr[1].file, "a.go");
		CHECK_EQ_INT(fr[1].line, 10);
	}
	/* Room for one frame: the function itself, not the inlined callee. */
	n = gopclntab_lookup(&t, SEED_TEXT + 0x4c, fr, 1);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(fr[0].name, "main.leaf");
	n = gopclntab_lookup(&t, SEED_TEXT + 0x50, fr, 8);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(fr[0].name, "main.leaf");
	CHECK_EQ_INT(fr[0].line, 10);

	/* main.tail has no file or line table. */
	n = gopclntab_lookup(&t, SEED_TEXT + 0x6f, fr, 8);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(fr[0].name, "main.tail");
	CHECK(fr[0].file == NULL);
	CHECK_EQ_INT(fr[0].line, 0);

	/* Without go:func.* (a PIE), 1.18+ names without inlined frames. */
	if (version != GOPCLNTAB_V116) {
		t.gofunc = 0;
		n = gopclntab_lookup(&t, SEED_TEXT + 0x4c, fr, 8);
		CHECK_EQ_INT(n, 1);
		CHECK_EQ_STR(fr[0].name, "main.leaf");
	}
	free(data);
}

static void test_broken(void)
{
	struct gopclntab t;
	struct gopclntab_frame fr[8];
	size_t size = 0;
	uint8_t *data = read_seed("seed-v118-cycle", &size);

	CHECK(data != NULL);
	if (!data)
		return;
	/* An inline tree whose caller is itself: the chain ends at max. */
	CHECK_EQ_INT(gopclntab_parse(data, size, SEED_VADDR, SEED_TEXT, &t), 0);
	t.gofunc = SEED_VADDR;
	CHECK_EQ_INT(gopclntab_lookup(&t, SEED_TEXT + 0x4c, fr, 8), 8);
	free(data);
	data = read_seed("seed-v118-magic", &size);
	CHECK(data && gopclntab_parse(data, size, SEED_VADDR, SEED_TEXT, &t) == -EINVAL);
	free(data);
	data = read_seed("seed-v118-hdr", &size);
	CHECK(data && gopclntab_parse(data, size, SEED_VADDR, SEED_TEXT, &t) == -EINVAL);
	free(data);
}

int main(void)
{
	test_layout("seed-v116", GOPCLNTAB_V116);
	test_layout("seed-v118", GOPCLNTAB_V118);
	test_layout("seed-v120", GOPCLNTAB_V120);
	test_broken();
	return check_done();
}
