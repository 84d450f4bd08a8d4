/* funcsyms.c - function starts from .symtab/.dynsym (see funcsyms.h). */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/elfimage.h"
#include "pprobe/funcsyms.h"

/* A symbol table this large is corrupt or hostile; a real one (a big C++
 * program) has a few hundred thousand functions. */
#define FUNCSYMS_MAX (1u << 22)

static int funcsyms_cmp(const void *a, const void *b)
{
	const struct funcsyms_entry *x = a, *y = b;

	if (x->start != y->start)
		return (x->start > y->start) - (x->start < y->start);
	/* Aliases: the sized one last, so the dedup below keeps it. */
	return (x->size > y->size) - (x->size < y->size);
}

static int funcsyms_read_table(const struct elfimage *img, const struct elfimage_section *sec,
			       struct funcsyms *out)
{
	uint64_t count;

	if (sec->entsize != sizeof(Elf64_Sym) || sec->offset > img->size ||
	    sec->size > img->size - sec->offset)
		return -ENOENT;
	count = sec->size / sizeof(Elf64_Sym);
	if (count > FUNCSYMS_MAX)
		count = FUNCSYMS_MAX;
	out->v = calloc(count ? count : 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (uint64_t i = 0; i < count; i++) {
		Elf64_Sym sym;
		int type;

		memcpy(&sym, img->data + sec->offset + i * sizeof(sym), sizeof(sym));
		type = ELF64_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_value == 0)
			continue;
		out->v[out->n].start = sym.st_value;
		out->v[out->n].size = sym.st_size;
		out->n++;
	}
	return out->n ? 0 : -ENOENT;
}

int funcsyms_build(const struct elfimage *img, struct funcsyms *out)
{
	struct elfimage_section sec;
	size_t kept = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = elfimage_find_section(img, SHT_SYMTAB, NULL, &sec);
	if (err)
		err = elfimage_find_section(img, SHT_DYNSYM, NULL, &sec);
	if (!err)
		err = funcsyms_read_table(img, &sec, out);
	if (err) {
		funcsyms_fini(out);
		return err;
	}
	qsort(out->v, out->n, sizeof(*out->v), funcsyms_cmp);
	for (size_t i = 0; i < out->n; i++) {
		if (kept && out->v[kept - 1].start == out->v[i].start)
			kept--;
		out->v[kept++] = out->v[i];
	}
	out->n = kept;
	return 0;
}

void funcsyms_fini(struct funcsyms *f)
{
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

int funcsyms_find(const struct funcsyms *f, uint64_t vaddr, uint64_t *start)
{
	size_t lo = 0, hi = f->n;
	const struct funcsyms_entry *e;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->v[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	e = &f->v[lo - 1];
	if (e->size && vaddr - e->start >= e->size)
		return -ENOENT;
	*start = e->start;
	return 0;
}
