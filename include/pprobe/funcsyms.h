/* funcsyms.h - where functions start, from an ELF file's symbol table.
 *
 * The unwinder's last resort for code without CFI or a frame pointer (musl
 * is built that way) scans the stack for a return address; it trusts one
 * only if the call before it went to the start of the function the frame
 * is in, which this table tells.  Built from .symtab, else .dynsym, only
 * for images that need it.  Hostile input: bounds-checked, capped.
 */
#ifndef PPROBE_FUNCSYMS_H
#define PPROBE_FUNCSYMS_H

#include <stddef.h>
#include <stdint.h>

struct elfimage;

struct funcsyms_entry {
	uint64_t start, size; /* ELF virtual addresses; size 0: unknown */
};

struct funcsyms {
	struct funcsyms_entry *v;
	size_t n;
};

/* Read img's function symbols; -ENOENT if it has none. */
int funcsyms_build(const struct elfimage *img, struct funcsyms *out);
void funcsyms_fini(struct funcsyms *f);

/* The start of the function holding vaddr (ELF virtual address): the
 * nearest symbol at or below it whose size, if known, covers it. */
int funcsyms_find(const struct funcsyms *f, uint64_t vaddr, uint64_t *start);

#endif
