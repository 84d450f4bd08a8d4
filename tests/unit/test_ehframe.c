/* test_ehframe.c - indexing an .eh_frame that has no .eh_frame_hdr.
 *
 * The library is tests/corpus/elf/seed-noehhdr.so (also a seed of the
 * ELF fuzz target): two functions, f1 (3 bytes, push/pop/ret) and f2 (1
 * byte), linked with --no-eh-frame-hdr, so its .eh_frame is one "zR" CIE
 * (pc-relative sdata4 pointers) and two FDEs.  Its bytes are then broken
 * in memory the ways a hostile file can: the index must skip what it
 * cannot trust and never read outside the section.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pprobe/ehframe.h"
#include "pprobe/elfimage.h"
#include "pprobe/funcsyms.h"

/* Index the image held in bytes (modified by the caller); the
 * ehframe_index_build result. */
static int index_bytes(const uint8_t *bytes, size_t len, struct ehframe_index *idx)
{
	struct elfimage *img = NULL;
	uint64_t vaddr, size;
	int rc;

	memset(idx, 0, sizeof(*idx));
	rc = elfimage_open_memory(bytes, len, "seed", &img);
	if (rc)
		return rc;
	rc = ehframe_find_section(img, &vaddr, &size);
	if (!rc)
		rc = ehframe_index_build(img, vaddr, size, idx);
	elfimage_free(img);
	return rc;
}

int main(void)
{
	struct elfimage *img = NULL;
	struct elfimage_section sec;
	struct ehframe_index idx;
	struct funcsyms fs;
	uint64_t vaddr = 0, size = 0, f1 = 0, f2 = 0;
	uint8_t *bytes;
	size_t len;

	CHECK_EQ_INT(elfimage_open_file(SEED_NOEHHDR, "seed-noehhdr.so", &img), 0);
	if (!img)
		return check_done();
	CHECK_EQ_INT(img->eh_frame_hdr, 0);
	CHECK_EQ_INT(ehframe_find_section(img, &vaddr, &size), 0);
	CHECK_EQ_INT(elfimage_find_section(img, SHT_PROGBITS, ".eh_frame", &sec), 0);

	/* The two FDEs, sorted, exactly the functions' ranges (from the
	 * symbol table). */
	CHECK_EQ_INT(funcsyms_build(img, &fs), 0);
	CHECK_EQ_INT(fs.n, 2);
	if (fs.n == 2) {
		f1 = fs.v[0].start;
		f2 = fs.v[1].start;
		CHECK_EQ_INT(fs.v[0].size, 3);
		CHECK_EQ_INT(fs.v[1].size, 1);
	}
	funcsyms_fini(&fs);
	CHECK_EQ_INT(ehframe_index_build(img, vaddr, size, &idx), 0);
	CHECK_EQ_INT(idx.n, 2);
	if (idx.n == 2) {
		CHECK_EQ_INT(idx.v[0].start, f1);
		CHECK_EQ_INT(idx.v[0].end, f1 + 3);
		CHECK_EQ_INT(idx.v[1].start, f2);
		CHECK_EQ_INT(idx.v[1].end, f2 + 1);
		/* Each FDE lies inside the section. */
		CHECK(idx.v[0].fde >= vaddr && idx.v[0].fde < vaddr + size);
		CHECK(idx.v[1].fde > idx.v[0].fde && idx.v[1].fde < vaddr + size);
	}
	CHECK(ehframe_index_find(&idx, f1) == &idx.v[0]);
	CHECK(ehframe_index_find(&idx, f1 + 2) == &idx.v[0]);
	CHECK(ehframe_index_find(&idx, f2) == &idx.v[1]);
	CHECK(ehframe_index_find(&idx, f2 + 1) == NULL);
	CHECK(ehframe_index_find(&idx, f1 - 1) == NULL);
	ehframe_index_fini(&idx);

	/* A range past the section, or an empty one: nothing to index. */
	CHECK_EQ_INT(ehframe_index_build(img, vaddr, 0, &idx), -ENOENT);
	CHECK_EQ_INT(ehframe_index_build(img, vaddr + size - 4, 1u << 20, &idx), -ENOENT);

	/* Broken copies of the file. */
	len = img->size;
	bytes = malloc(len);
	CHECK(bytes != NULL);
	if (bytes) {
		uint8_t *eh = bytes + sec.offset;
		uint32_t v;

		/* The CIE's augmentation "zR" -> "zQ": an augmentation this
		 * reader does not know gives the default (absolute) pointer
		 * encoding, so the FDEs come out at wrong places but in
		 * bounds; no crash either way. */
		memcpy(bytes, img->data, len);
		CHECK_EQ_INT(eh[9], 'z');
		eh[10] = 'Q';
		if (index_bytes(bytes, len, &idx) == 0)
			ehframe_index_fini(&idx);

		/* The CIE's augmentation string runs to the section's end:
		 * no NUL inside the record. */
		memcpy(bytes, img->data, len);
		memset(eh + 9, 'z', (size_t)size - 9);
		CHECK_EQ_INT(index_bytes(bytes, len, &idx), -ENOENT);

		/* The first FDE's CIE pointer points before the section. */
		memcpy(bytes, img->data, len);
		v = 0x1000;
		memcpy(eh + 0x18 + 4, &v, 4);
		CHECK_EQ_INT(index_bytes(bytes, len, &idx), 0);
		CHECK_EQ_INT(idx.n, 1);
		ehframe_index_fini(&idx);

		/* A record length past the section's end: the walk stops
		 * there. */
		memcpy(bytes, img->data, len);
		v = 0x7ffffff0;
		memcpy(eh + 0x18, &v, 4);
		CHECK_EQ_INT(index_bytes(bytes, len, &idx), -ENOENT);

		/* A 64-bit length (0xffffffff then 8 bytes) that is huge. */
		memcpy(bytes, img->data, len);
		v = 0xffffffffu;
		memcpy(eh + 0x18, &v, 4);
		CHECK_EQ_INT(index_bytes(bytes, len, &idx), -ENOENT);

		/* An FDE whose range is 0 is skipped. */
		memcpy(bytes, img->data, len);
		memset(eh + 0x30 + 12, 0, 4);
		CHECK_EQ_INT(index_bytes(bytes, len, &idx), 0);
		CHECK_EQ_INT(idx.n, 1);
		if (idx.n == 1)
			CHECK_EQ_INT(idx.v[0].start, f1);
		ehframe_index_fini(&idx);
		free(bytes);
	}
	elfimage_free(img);
	return check_done();
}
