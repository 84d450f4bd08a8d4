/* ehframe.h - find the FDE for a pc in an .eh_frame that has no
 * .eh_frame_hdr search table.
 *
 * Statically linked programs (glibc -static, musl) are often linked
 * without --eh-frame-hdr: their .eh_frame is complete but unindexed.  We
 * index it once per image (pc range start -> FDE address, sorted) by
 * walking the CIEs and FDEs of the file's bytes.  Hostile input: every
 * length and offset is bounds-checked; the index is capped.
 */
#ifndef PPROBE_EHFRAME_H
#define PPROBE_EHFRAME_H

#include <stddef.h>
#include <stdint.h>

struct elfimage;

struct ehframe_entry {
	uint64_t start, end; /* pc range, ELF virtual addresses */
	uint64_t fde;        /* ELF virtual address of the FDE */
};

struct ehframe_index {
	struct ehframe_entry *v;
	size_t n;
};

/* Locate .eh_frame by its section header (vaddr and size); -ENOENT if none. */
int ehframe_find_section(const struct elfimage *img, uint64_t *vaddr, uint64_t *size);

/* Build the index of the .eh_frame at vaddr/size of img. */
int ehframe_index_build(const struct elfimage *img, uint64_t vaddr, uint64_t size,
			struct ehframe_index *idx);
void ehframe_index_fini(struct ehframe_index *idx);

/* The entry whose range holds pc (ELF vaddr), or NULL. */
const struct ehframe_entry *ehframe_index_find(const struct ehframe_index *idx, uint64_t pc);

#endif
