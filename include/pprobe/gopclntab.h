/* gopclntab.h - function names, files and lines from Go's own table.
 *
 * Every Go binary carries .gopclntab, the table the Go runtime itself uses
 * for tracebacks and profiles: the start of each function, its name, and
 * per-pc tables ("pcvalue" tables) of its file, line, stack-pointer delta
 * and inlining.  `go build -ldflags='-s -w'` (most distributions' Go
 * programs) removes the ELF symbol table and DWARF but must keep this, so
 * it is how a stripped Go program's frames get the names `go tool pprof`
 * shows for a Go CPU profile of it (main.worker, runtime.goexit), with
 * file:line and inlined calls.
 *
 * Layouts read: Go 1.16-1.17 (magic 0xfffffffa), 1.18-1.19 (0xfffffff0)
 * and 1.20 and later (0xfffffff1), 64-bit little-endian only.  The inline
 * tree of 1.18+ lives in go:func.*, whose address is found in the
 * runtime's moduledata (a scan of the writable data for the word that
 * points at the table): a binary whose moduledata is relocated at load
 * time (PIE) is named without inlined frames.
 *
 * The file is hostile input: every offset, index and string is checked
 * against the bounds of the table, pcvalue walks end at the table's end
 * and inline chains are capped (tests/fuzz/fuzz_gopclntab.c).  Never
 * touches the target: it reads the files the target mapped.
 */
#ifndef PPROBE_GOPCLNTAB_H
#define PPROBE_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

struct elfimage;

enum { GOPCLNTAB_V116 = 1, GOPCLNTAB_V118, GOPCLNTAB_V120 };

struct gopclntab {
	const uint8_t *data; /* the table (borrowed from the image, or the caller's) */
	size_t size;
	uint64_t vaddr;      /* ELF virtual address of data[0] */
	const struct elfimage *img; /* for the inline tree outside the table; may be NULL */
	int version;         /* GOPCLNTAB_V1xx */
	uint32_t quantum;    /* pc quantum (1 on amd64) */
	uint64_t nfunc;
	uint64_t text;       /* 1.18+: the vaddr functab entries count from */
	uint64_t gofunc;     /* 1.18+: vaddr of go:func.* (inline trees); 0: unknown */
	/* Offsets of the sub-tables from data[0], each checked to be inside. */
	uint64_t funcnametab, cutab, filetab, pctab, pclntable;
};

/* One frame: pointers into the table (NUL-terminated, valid while the
 * table is); file NULL and line 0 when unknown. */
struct gopclntab_frame {
	const char *name;
	const char *file;
	int line;
};

/* Find and check img's .gopclntab; img is borrowed and must outlive t.
 * -ENOENT if there is none, -EINVAL if it is malformed or a layout not
 * read here. */
int gopclntab_open(const struct elfimage *img, struct gopclntab *t);

/* Check a table held at data (size bytes, ELF virtual address vaddr),
 * with no image around it: text_fallback is the start of .text (used when
 * the header's own is 0, as in a PIE), gofunc is left 0 (the caller may
 * set it when go:func.* is inside data).  For gopclntab_open and the fuzz
 * target. */
int gopclntab_parse(const uint8_t *data, size_t size, uint64_t vaddr, uint64_t text_fallback,
		    struct gopclntab *t);

/* The frames of ELF virtual address vaddr, innermost (inlined callee)
 * first, into frames (at most max): how many (>= 1), or -ENOENT if no
 * function of the table holds vaddr. */
int gopclntab_lookup(const struct gopclntab *t, uint64_t vaddr, struct gopclntab_frame *frames,
		     size_t max);

/* How the function holding vaddr uses the stack there, for the unwinder:
 * *spdelta is how far the stack pointer is below where it was at the
 * function's entry (its pcsp table: the return address is at sp +
 * *spdelta, the caller's sp is 8 above that), *top is 1 for the functions
 * Go's own traceback ends at (runtime.goexit, runtime.mstart,
 * runtime.rt0_go, and the g0 side of runtime.systemstack, mcall and
 * morestack: nothing above them is a frame).  -ENOENT if no function
 * holds vaddr or its table has no value there. */
int gopclntab_frame(const struct gopclntab *t, uint64_t vaddr, int32_t *spdelta, int *top);

#endif
