/* gopclntab.c - Go's function table read from the binary (see gopclntab.h).
 *
 * The layout is the Go runtime's (runtime/symtab.go, runtime/runtime2.go,
 * cmd/link/internal/ld/pcln.go of each release):
 *
 *   header     magic, 0, 0, pc quantum, pointer size, nfunc, nfiles,
 *              [1.18+: textStart], then the offsets (from the header) of
 *              funcnametab, cutab, filetab, pctab and pclntable
 *   pclntable  starts with functab: nfunc+1 pairs (entry, funcoff) sorted
 *              by entry, the last one the end of the text; 1.18+: two
 *              uint32, entry an offset from textStart; 1.16: two uint64,
 *              entry an address.  funcoff is the offset of the function's
 *              _func record from pclntable.
 *   _func      entry, nameoff (into funcnametab), args, deferreturn, pcsp,
 *              pcfile, pcln (offsets into pctab), npcdata, cuOffset,
 *              [1.20+: startLine], funcID, flag/pad, nfuncdata; then
 *              npcdata uint32 pctab offsets (PCDATA_InlTreeIndex is #2)
 *              and nfuncdata funcdata (FUNCDATA_InlTree is #3): 1.18+
 *              uint32 offsets from go:func.* (~0: none), 1.16 pointers
 *              (8-aligned, 0: none).
 *   pcvalue    pairs of varints (zigzag value delta, pc delta / quantum)
 *              from value -1 at the entry; a 0 value delta after the
 *              first pair ends the table.
 *   file       pcfile's value indexes cutab from the function's cuOffset;
 *              the uint32 there is an offset into filetab (~0: none).
 *   inlining   PCDATA_InlTreeIndex at a pc indexes the inline tree: the
 *              call's function name (nameoff) and parentPc, a pc of the
 *              caller's body whose file, line and inline index are those
 *              of the call site (the runtime's own traceback walks it so).
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pprobe/elfimage.h"
#include "pprobe/gopclntab.h"

#define GOPCLNTAB_MAGIC_116 0xfffffffau
#define GOPCLNTAB_MAGIC_118 0xfffffff0u
#define GOPCLNTAB_MAGIC_120 0xfffffff1u

#define GOPCLNTAB_PCDATA_INLTREE 2
#define GOPCLNTAB_FUNCDATA_INLTREE 3
/* A longer name is not one the Go toolchain wrote. */
#define GOPCLNTAB_MAX_NAME 4096
/* Beyond any real table (the largest Go programs have ~10^5 functions). */
#define GOPCLNTAB_MAX_FUNCS (1u << 24)

static bool gopclntab_in(const struct gopclntab *t, uint64_t off, uint64_t len)
{
	return off <= t->size && len <= t->size - off;
}

static uint32_t gopclntab_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t gopclntab_u64(const uint8_t *p)
{
	return (uint64_t)gopclntab_u32(p) | (uint64_t)gopclntab_u32(p + 4) << 32;
}

/* A NUL-terminated string at off inside the table, or NULL. */
static const char *gopclntab_str(const struct gopclntab *t, uint64_t off)
{
	const uint8_t *s, *nul;
	uint64_t room;

	if (off >= t->size)
		return NULL;
	s = t->data + off;
	room = t->size - off;
	nul = memchr(s, 0, room < GOPCLNTAB_MAX_NAME ? room : GOPCLNTAB_MAX_NAME);
	if (!nul || nul == s)
		return NULL;
	return (const char *)s;
}

int gopclntab_parse(const uint8_t *data, size_t size, uint64_t vaddr, uint64_t text_fallback,
		    struct gopclntab *t)
{
	const uint8_t *h = data;
	uint64_t hdr, *offs[5];
	uint32_t magic;

	memset(t, 0, sizeof(*t));
	t->data = data;
	t->size = size;
	t->vaddr = vaddr;
	if (size < 72)
		return -EINVAL;
	magic = gopclntab_u32(h);
	if (magic == GOPCLNTAB_MAGIC_116)
		t->version = GOPCLNTAB_V116;
	else if (magic == GOPCLNTAB_MAGIC_118)
		t->version = GOPCLNTAB_V118;
	else if (magic == GOPCLNTAB_MAGIC_120)
		t->version = GOPCLNTAB_V120;
	else
		return -EINVAL;
	/* Pointer size 8 only: pprobe reads x86-64 targets. */
	if (h[4] != 0 || h[5] != 0 || (h[6] != 1 && h[6] != 2 && h[6] != 4) || h[7] != 8)
		return -EINVAL;
	t->quantum = h[6];
	t->nfunc = gopclntab_u64(h + 8);
	if (t->nfunc == 0 || t->nfunc > GOPCLNTAB_MAX_FUNCS)
		return -EINVAL;
	hdr = 24;
	if (t->version != GOPCLNTAB_V116) {
		t->text = gopclntab_u64(h + 24);
		if (t->text == 0)
			t->text = text_fallback;
		hdr = 32;
	}
	offs[0] = &t->funcnametab;
	offs[1] = &t->cutab;
	offs[2] = &t->filetab;
	offs[3] = &t->pctab;
	offs[4] = &t->pclntable;
	for (int i = 0; i < 5; i++) {
		*offs[i] = gopclntab_u64(h + hdr + 8 * i);
		if (*offs[i] >= size)
			return -EINVAL;
	}
	/* The functab must be there in full. */
	if (!gopclntab_in(t, t->pclntable,
			  (t->nfunc + 1) * (t->version == GOPCLNTAB_V116 ? 16 : 8)))
		return -EINVAL;
	return 0;
}

/* Entry i of the functab: the function's entry address and the offset of
 * its _func from pclntable.  i <= nfunc (bounds checked at parse). */
static void gopclntab_functab(const struct gopclntab *t, uint64_t i, uint64_t *entry,
			      uint64_t *funcoff)
{
	const uint8_t *p;

	if (t->version == GOPCLNTAB_V116) {
		p = t->data + t->pclntable + i * 16;
		*entry = gopclntab_u64(p);
		*funcoff = gopclntab_u64(p + 8);
	} else {
		p = t->data + t->pclntable + i * 8;
		*entry = t->text + gopclntab_u32(p);
		*funcoff = gopclntab_u32(p + 4);
	}
}

/* The fields of one _func a lookup uses. */
struct gopclntab_func {
	uint64_t entry;
	uint64_t off; /* of the _func, from data[0] */
	uint32_t nameoff, pcsp, pcfile, pcln, npcdata, cuoff;
	uint8_t nfuncdata;
	uint64_t pcdata_off; /* of the pcdata array, from data[0] */
};

static int gopclntab_func_at(const struct gopclntab *t, uint64_t vaddr, struct gopclntab_func *f)
{
	uint64_t lo = 0, hi = t->nfunc, entry, next, funcoff, size;
	const uint8_t *p;

	gopclntab_functab(t, t->nfunc, &next, &funcoff);
	gopclntab_functab(t, 0, &entry, &funcoff);
	if (vaddr < entry || vaddr >= next)
		return -ENOENT;
	/* The last entry at or below vaddr; a table not sorted as it should
	 * be just fails the check that follows. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		gopclntab_functab(t, mid, &entry, &funcoff);
		if (entry <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	gopclntab_functab(t, lo, &entry, &funcoff);
	gopclntab_functab(t, lo + 1, &next, &size);
	if (vaddr < entry || vaddr >= next)
		return -ENOENT;
	size = t->version == GOPCLNTAB_V116 ? 44 : t->version == GOPCLNTAB_V118 ? 40 : 44;
	if (funcoff > t->size - t->pclntable || !gopclntab_in(t, t->pclntable + funcoff, size))
		return -ENOENT;
	f->off = t->pclntable + funcoff;
	p = t->data + f->off;
	f->entry = entry;
	if (t->version == GOPCLNTAB_V116) {
		/* The _func's own entry must be the functab's. */
		if (gopclntab_u64(p) != entry)
			return -ENOENT;
		p += 8;
	} else if (t->text + gopclntab_u32(p) != entry) {
		return -ENOENT;
	} else {
		p += 4;
	}
	f->nameoff = gopclntab_u32(p);
	f->pcsp = gopclntab_u32(p + 12);
	f->pcfile = gopclntab_u32(p + 16);
	f->pcln = gopclntab_u32(p + 20);
	f->npcdata = gopclntab_u32(p + 24);
	f->cuoff = gopclntab_u32(p + 28);
	f->nfuncdata = t->data[f->off + size - 1];
	f->pcdata_off = f->off + size;
	if (!gopclntab_in(t, f->pcdata_off, (uint64_t)f->npcdata * 4))
		f->npcdata = 0;
	return 0;
}

/* A varint (LEB128, at most 32 bits) at *off, below end. */
static bool gopclntab_varint(const struct gopclntab *t, uint64_t *off, uint64_t end,
			     uint32_t *out)
{
	uint32_t v = 0;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t b;

		if (*off >= end)
			return false;
		b = t->data[(*off)++];
		v |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* The value of pcvalue table tab (an offset into pctab) at vaddr of the
 * function f; -1 where the table has none (the runtime's answer too). */
static int32_t gopclntab_pcvalue(const struct gopclntab *t, const struct gopclntab_func *f,
				 uint32_t tab, uint64_t vaddr)
{
	uint64_t off, pc = f->entry;
	int32_t val = -1;
	bool first = true;

	if (tab == 0 || tab >= t->size - t->pctab)
		return -1;
	off = t->pctab + tab;
	/* Each step reads at least two bytes: the walk ends by the table's
	 * end whatever the bytes say. */
	for (;;) {
		uint32_t uv, pcd;

		if (!gopclntab_varint(t, &off, t->size, &uv) || (uv == 0 && !first))
			return -1;
		first = false;
		/* Unsigned: a hostile delta must wrap, not overflow. */
		val = (int32_t)((uint32_t)val + ((uv >> 1) ^ (0u - (uv & 1))));
		if (!gopclntab_varint(t, &off, t->size, &pcd))
			return -1;
		pc += (uint64_t)pcd * t->quantum;
		if (vaddr < pc)
			return val;
	}
}

/* pcdata table i of f at vaddr; -1 if f has none. */
static int32_t gopclntab_pcdata(const struct gopclntab *t, const struct gopclntab_func *f,
				uint32_t i, uint64_t vaddr)
{
	if (i >= f->npcdata)
		return -1;
	return gopclntab_pcvalue(t, f, gopclntab_u32(t->data + f->pcdata_off + 4 * i), vaddr);
}

/* Read len bytes at ELF virtual address a: from the table itself, else
 * from the image. */
static bool gopclntab_read(const struct gopclntab *t, uint64_t a, void *buf, size_t len)
{
	if (a >= t->vaddr && gopclntab_in(t, a - t->vaddr, len)) {
		memcpy(buf, t->data + (a - t->vaddr), len);
		return true;
	}
	return t->img && elfimage_read(t->img, a, buf, len) == 0;
}

/* The address of f's inline tree, or 0. */
static uint64_t gopclntab_inltree(const struct gopclntab *t, const struct gopclntab_func *f)
{
	uint64_t off = f->pcdata_off + (uint64_t)f->npcdata * 4;
	uint8_t buf[8];

	if (f->nfuncdata <= GOPCLNTAB_FUNCDATA_INLTREE)
		return 0;
	if (t->version == GOPCLNTAB_V116) {
		/* Pointers, aligned to 8 in memory. */
		if ((t->vaddr + off) & 4)
			off += 4;
		off += 8 * GOPCLNTAB_FUNCDATA_INLTREE;
		if (!gopclntab_in(t, off, 8))
			return 0;
		return gopclntab_u64(t->data + off);
	}
	off += 4 * GOPCLNTAB_FUNCDATA_INLTREE;
	if (!t->gofunc || !gopclntab_in(t, off, 4))
		return 0;
	memcpy(buf, t->data + off, 4);
	if (gopclntab_u32(buf) == 0xffffffffu)
		return 0;
	return t->gofunc + gopclntab_u32(buf);
}

/* Entry ix of the inline tree at tree: the called function's nameoff and
 * the parentPc (from the entry of the function holding the tree). */
static bool gopclntab_inlined(const struct gopclntab *t, uint64_t tree, int32_t ix,
			      uint32_t *nameoff, uint32_t *parent_pc)
{
	uint8_t e[20];
	size_t esize = t->version == GOPCLNTAB_V120 ? 16 : 20;

	if (ix < 0 || !gopclntab_read(t, tree + (uint64_t)ix * esize, e, esize))
		return false;
	if (t->version == GOPCLNTAB_V120) {
		*nameoff = gopclntab_u32(e + 4);
		*parent_pc = gopclntab_u32(e + 8);
	} else {
		*nameoff = gopclntab_u32(e + 12);
		*parent_pc = gopclntab_u32(e + 16);
	}
	return true;
}

/* File and line of f at vaddr. */
static void gopclntab_position(const struct gopclntab *t, const struct gopclntab_func *f,
			       uint64_t vaddr, struct gopclntab_frame *fr)
{
	int32_t fileno = gopclntab_pcvalue(t, f, f->pcfile, vaddr);
	int32_t line = gopclntab_pcvalue(t, f, f->pcln, vaddr);
	uint64_t idx;

	fr->file = NULL;
	fr->line = line > 0 ? line : 0;
	if (fileno < 0)
		return;
	idx = t->cutab + ((uint64_t)f->cuoff + (uint64_t)fileno) * 4;
	if (gopclntab_in(t, idx, 4)) {
		uint32_t fileoff = gopclntab_u32(t->data + idx);

		if (fileoff != 0xffffffffu)
			fr->file = gopclntab_str(t, t->filetab + fileoff);
	}
}

int gopclntab_lookup(const struct gopclntab *t, uint64_t vaddr, struct gopclntab_frame *frames,
		     size_t max)
{
	struct gopclntab_func f;
	uint64_t tree, pc = vaddr;
	size_t n = 0;

	if (max == 0 || gopclntab_func_at(t, vaddr, &f) != 0)
		return -ENOENT;
	tree = gopclntab_inltree(t, &f);
	/* Each inlined call, innermost first: the position at pc is the
	 * callee's; its caller is at parentPc, where the tree is asked again.
	 * The chain is capped by max, so a cycle in a hostile tree ends. */
	while (tree && n + 1 < max) {
		int32_t ix = gopclntab_pcdata(t, &f, GOPCLNTAB_PCDATA_INLTREE, pc);
		uint32_t nameoff, parent_pc;
		const char *name;

		if (ix < 0 || !gopclntab_inlined(t, tree, ix, &nameoff, &parent_pc))
			break;
		name = gopclntab_str(t, t->funcnametab + nameoff);
		if (!name)
			break;
		frames[n].name = name;
		gopclntab_position(t, &f, pc, &frames[n]);
		n++;
		pc = f.entry + parent_pc;
	}
	frames[n].name = gopclntab_str(t, t->funcnametab + f.nameoff);
	if (!frames[n].name)
		return n ? (int)n : -ENOENT;
	gopclntab_position(t, &f, pc, &frames[n]);
	return (int)n + 1;
}

int gopclntab_frame(const struct gopclntab *t, uint64_t vaddr, int32_t *spdelta, int *top)
{
	/* runtime/traceback.go's tops; systemstack, mcall and morestack are
	 * on the stack only where they switched to g0, whose frame above
	 * them is made to stop tracebacks (asm_amd64.s). */
	static const char *const tops[] = { "runtime.goexit", "runtime.mstart", "runtime.rt0_go",
					    "runtime.systemstack", "runtime.mcall",
					    "runtime.morestack" };
	struct gopclntab_func f;
	const char *name;
	int32_t d;

	if (gopclntab_func_at(t, vaddr, &f) != 0)
		return -ENOENT;
	/* -1 is the walk's "no value"; a frame is never that large or
	 * negative. */
	d = gopclntab_pcvalue(t, &f, f.pcsp, vaddr);
	if (d < 0 || d > (1 << 24) || (d & 7))
		return -ENOENT;
	*spdelta = d;
	*top = 0;
	name = gopclntab_str(t, t->funcnametab + f.nameoff);
	for (size_t i = 0; name && i < sizeof(tops) / sizeof(tops[0]); i++)
		if (!strcmp(name, tops[i]))
			*top = 1;
	return 0;
}

/* go:func.* of a 1.18+ binary, from the runtime's moduledata: the one word
 * in the writable data equal to the table's address, followed by the
 * funcnametab slice's pointer (to confirm), gofunc 38 words on (40 from
 * 1.20, which added the coverage counters' bounds).  0 if not found: in a
 * PIE those words are filled by relocations and are 0 in the file. */
static uint64_t gopclntab_find_gofunc(const struct elfimage *img, const struct gopclntab *t)
{
	size_t at = t->version == GOPCLNTAB_V120 ? 40 : 38;

	for (size_t i = 0; i < img->nloads; i++) {
		const struct elfimage_load *l = &img->loads[i];
		uint64_t filesz = l->filesz;

		if (!(l->flags & PF_W) || l->offset > img->size)
			continue;
		if (filesz > img->size - l->offset)
			filesz = img->size - l->offset;
		for (uint64_t o = 0; o + (at + 1) * 8 <= filesz; o += 8) {
			const uint8_t *w = img->data + l->offset + o;
			uint64_t gofunc;
			uint8_t probe;

			if (gopclntab_u64(w) != t->vaddr ||
			    gopclntab_u64(w + 8) != t->vaddr + t->funcnametab)
				continue;
			gofunc = gopclntab_u64(w + 8 * at);
			return elfimage_read(img, gofunc, &probe, 1) == 0 ? gofunc : 0;
		}
	}
	return 0;
}

int gopclntab_open(const struct elfimage *img, struct gopclntab *t)
{
	struct elfimage_section sec, text;
	uint64_t text_vaddr = 0;
	int err;

	memset(t, 0, sizeof(*t));
	if (elfimage_find_section(img, SHT_PROGBITS, ".gopclntab", &sec) != 0 &&
	    elfimage_find_section(img, SHT_PROGBITS, ".data.rel.ro.gopclntab", &sec) != 0)
		return -ENOENT;
	if (sec.offset > img->size || sec.size > img->size - sec.offset)
		return -EINVAL;
	if (elfimage_find_section(img, SHT_PROGBITS, ".text", &text) == 0)
		text_vaddr = text.vaddr;
	err = gopclntab_parse(img->data + sec.offset, sec.size, sec.vaddr, text_vaddr, t);
	if (err)
		return err;
	t->img = img;
	if (t->version != GOPCLNTAB_V116)
		t->gofunc = gopclntab_find_gofunc(img, t);
	return 0;
}
