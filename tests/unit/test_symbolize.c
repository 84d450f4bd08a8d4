/* test_symbolize.c - the symbolizer on debug info with nothing to index.
 *
 * A compile unit whose ranges hold the pc but which has no functions
 * (what the assembler writes for code without .type, and what a corrupt
 * .debug_info or .debug_abbrev reads as) left the CU's function index
 * empty, and symbolize.c sorted it with qsort(NULL, 0, ...): undefined (the
 * ASan+UBSan build aborted mid-window on such a library).  The library is
 * nofunc.s, assembled with -g by the build (NOFUNC_SO); the pc must still
 * be named, from the symbol table.
 */
#include <errno.h>

#include "check.h"
#include "pprobe/elfimage.h"
#include "pprobe/symbolize.h"

int main(void)
{
	struct symbolize *s = NULL;
	struct elfimage *img = NULL;
	struct elfimage_section text;
	struct symbolize_result res = { 0 };

	CHECK_EQ_INT(symbolize_new(&s), 0);
	CHECK_EQ_INT(elfimage_open_file(NOFUNC_SO, "nofunc.so", &img), 0);
	if (!s || !img)
		return check_done();
	/* nofunc_code is the whole of .text. */
	CHECK_EQ_INT(elfimage_find_section(img, 1 /* SHT_PROGBITS */, ".text", &text), 0);
	/* Twice: the second lookup finds the CU's (empty) index cached. */
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(symbolize_lookup(s, img, NULL, text.vaddr + 1, text.vaddr + 1, &res), 0);
		CHECK(res.n >= 1);
		if (res.n >= 1)
			CHECK_EQ_STR(res.frames[0].name, "nofunc_code");
		symbolize_result_fini(&res);
	}
	elfimage_free(img);
	symbolize_free(s);
	return check_done();
}
