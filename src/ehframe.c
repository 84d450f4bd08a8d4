/* ehframe.c - index an .eh_frame without .eh_frame_hdr (see ehframe.h).
 *
 * Format (LSB 5.0 "Exception Frames"): a sequence of records, each a
 * 4-byte length (0xffffffff: an 8-byte length follows; 0: terminator) and
 * a 4-byte id: 0 for a CIE, else the distance back to the FDE's CIE.  A
 * CIE's augmentation string says how its FDEs encode addresses ('R'); an
 * FDE starts with pc_begin and pc_range in that encoding.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/ehframe.h"
#include "pprobe/elfimage.h"

#define EHFRAME_MAX_ENTRIES (1u << 22)

#define PE_ABSPTR 0x00
#define PE_ULEB128 0x01
#define PE_UDATA2 0x02
#define PE_UDATA4 0x03
#define PE_UDATA8 0x04
#define PE_SLEB128 0x09
#define PE_SDATA2 0x0a
#define PE_SDATA4 0x0b
#define PE_SDATA8 0x0c
#define PE_PCREL 0x10
#define PE_OMIT 0xff

/* A cursor over the section's bytes, with the vaddr of p for pcrel. */
struct ehframe_cur {
	const uint8_t *p, *end;
	uint64_t vaddr; /* vaddr of p */
	bool bad;
};

static void ehframe_skip(struct ehframe_cur *c, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return;
	}
	c->p += n;
	c->vaddr += n;
}

static uint64_t ehframe_read_fixed(struct ehframe_cur *c, size_t n, bool sign)
{
	uint64_t v = 0;

	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	memcpy(&v, c->p, n);
	if (sign && n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ull << (8 * n);
	ehframe_skip(c, n);
	return v;
}

static uint64_t ehframe_read_leb(struct ehframe_cur *c, bool sign)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (c->p >= c->end || shift > 63) {
			c->bad = true;
			return 0;
		}
		b = *c->p;
		ehframe_skip(c, 1);
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (sign && shift < 64 && (b & 0x40))
		v |= ~0ull << shift;
	return v;
}

/* Read a pointer in encoding enc (only the forms compilers emit here). */
static uint64_t ehframe_read_ptr(struct ehframe_cur *c, uint8_t enc)
{
	uint64_t at = c->vaddr, v;

	switch (enc & 0x0f) {
	case PE_ABSPTR: v = ehframe_read_fixed(c, 8, false); break;
	case PE_ULEB128: v = ehframe_read_leb(c, false); break;
	case PE_UDATA2: v = ehframe_read_fixed(c, 2, false); break;
	case PE_UDATA4: v = ehframe_read_fixed(c, 4, false); break;
	case PE_UDATA8: v = ehframe_read_fixed(c, 8, false); break;
	case PE_SLEB128: v = ehframe_read_leb(c, true); break;
	case PE_SDATA2: v = ehframe_read_fixed(c, 2, true); break;
	case PE_SDATA4: v = ehframe_read_fixed(c, 4, true); break;
	case PE_SDATA8: v = ehframe_read_fixed(c, 8, true); break;
	default: c->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0: return v;
	case PE_PCREL: return at + v;
	default: c->bad = true; return 0; /* textrel/datarel/funcrel: not in executables */
	}
}

/* The FDE pointer encoding of the CIE whose body (after the id) is at c. */
static uint8_t ehframe_cie_encoding(struct ehframe_cur c)
{
	const char *aug;
	uint8_t version, enc = PE_ABSPTR;
	size_t auglen;

	version = (uint8_t)ehframe_read_fixed(&c, 1, false);
	aug = (const char *)c.p;
	auglen = strnlen(aug, (size_t)(c.end - c.p));
	if (c.bad || auglen == (size_t)(c.end - c.p))
		return PE_OMIT;
	ehframe_skip(&c, auglen + 1);
	if (aug[0] != 'z')
		return PE_ABSPTR;
	ehframe_read_leb(&c, false); /* code alignment */
	ehframe_read_leb(&c, true);  /* data alignment */
	if (version == 1)
		ehframe_skip(&c, 1); /* return address register */
	else
		ehframe_read_leb(&c, false);
	ehframe_read_leb(&c, false); /* augmentation data length */
	for (size_t i = 1; i < auglen && !c.bad; i++) {
		switch (aug[i]) {
		case 'R':
			enc = (uint8_t)ehframe_read_fixed(&c, 1, false);
			break;
		case 'P': {
			uint8_t penc = (uint8_t)ehframe_read_fixed(&c, 1, false);

			ehframe_read_ptr(&c, penc & 0x7f);
			break;
		}
		case 'L':
			ehframe_skip(&c, 1);
			break;
		case 'S':
		case 'B':
			break;
		default:
			return c.bad ? PE_OMIT : enc;
		}
	}
	return c.bad ? PE_OMIT : enc;
}

static int ehframe_cmp(const void *a, const void *b)
{
	const struct ehframe_entry *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

int ehframe_find_section(const struct elfimage *img, uint64_t *vaddr, uint64_t *size)
{
	struct elfimage_section sec;
	int err = elfimage_find_section(img, SHT_PROGBITS, ".eh_frame", &sec);

	if (err)
		return err;
	*vaddr = sec.vaddr;
	*size = sec.size;
	return 0;
}

int ehframe_index_build(const struct elfimage *img, uint64_t vaddr, uint64_t size,
			struct ehframe_index *idx)
{
	uint8_t *buf;
	struct ehframe_cur c;
	size_t cap = 0;
	int err = 0;

	memset(idx, 0, sizeof(*idx));
	if (size == 0 || size > (256u << 20))
		return -ENOENT;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	if (elfimage_read(img, vaddr, buf, size) != 0) {
		free(buf);
		return -ENOENT;
	}
	c = (struct ehframe_cur){ .p = buf, .end = buf + size, .vaddr = vaddr };
	while (c.p + 4 <= c.end && !c.bad) {
		struct ehframe_cur rec;
		const uint8_t *record = c.p;
		uint64_t len = ehframe_read_fixed(&c, 4, false), id, cie_at;
		const uint8_t *body;

		if (len == 0)
			break;
		if (len == 0xffffffffu)
			len = ehframe_read_fixed(&c, 8, false);
		if (c.bad || len > (uint64_t)(c.end - c.p) || len < 4)
			break;
		rec = c;
		rec.end = c.p + len;
		ehframe_skip(&c, (size_t)len);
		body = rec.p;
		id = ehframe_read_fixed(&rec, 4, false);
		if (id == 0)
			continue; /* a CIE */
		/* The CIE pointer is relative to the id field itself. */
		if (id > (uint64_t)(body - buf))
			continue;
		cie_at = (uint64_t)(body - buf) - id;
		{
			struct ehframe_cur cie = { .p = buf + cie_at, .end = c.end, .vaddr = vaddr + cie_at };
			uint64_t cie_len = ehframe_read_fixed(&cie, 4, false);
			uint8_t enc;
			uint64_t start, range;

			if (cie_len == 0xffffffffu)
				cie_len = ehframe_read_fixed(&cie, 8, false);
			if (cie.bad || cie_len > (uint64_t)(cie.end - cie.p))
				continue;
			cie.end = cie.p + cie_len;
			if (ehframe_read_fixed(&cie, 4, false) != 0)
				continue;
			enc = ehframe_cie_encoding(cie);
			if (enc == PE_OMIT)
				continue;
			start = ehframe_read_ptr(&rec, enc);
			range = ehframe_read_ptr(&rec, enc & 0x0f);
			if (rec.bad || range == 0)
				continue;
			if (idx->n == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct ehframe_entry *nv;

				if (ncap > EHFRAME_MAX_ENTRIES) {
					err = -E2BIG;
					break;
				}
				nv = realloc(idx->v, ncap * sizeof(*nv));
				if (!nv) {
					err = -ENOMEM;
					break;
				}
				idx->v = nv;
				cap = ncap;
			}
			idx->v[idx->n++] = (struct ehframe_entry){ start, start + range,
								   vaddr + (uint64_t)(record - buf) };
		}
	}
	free(buf);
	if (err && err != -E2BIG) {
		ehframe_index_fini(idx);
		return err;
	}
	if (idx->n == 0)
		return -ENOENT;
	qsort(idx->v, idx->n, sizeof(*idx->v), ehframe_cmp);
	return 0;
}

void ehframe_index_fini(struct ehframe_index *idx)
{
	free(idx->v);
	memset(idx, 0, sizeof(*idx));
}

const struct ehframe_entry *ehframe_index_find(const struct ehframe_index *idx, uint64_t pc)
{
	size_t lo = 0, hi = idx->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (idx->v[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	/* Ranges do not nest; the last start <= pc is the candidate. */
	return pc < idx->v[lo - 1].end ? &idx->v[lo - 1] : NULL;
}
