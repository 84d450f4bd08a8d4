/* unwind.h - walk a copied stack with DWARF CFI (libunwind, our accessors).
 *
 * Registers come from the snapshot, stack memory from the snapshot's copy,
 * and code and unwind tables (.eh_frame_hdr, .eh_frame) from the ELF files
 * the target mapped (maps.h / elfimage.h).  This module never reads the live
 * target: unwinding the same snapshot twice gives the same answer.
 */
#ifndef PPROBE_UNWIND_H
#define PPROBE_UNWIND_H

#include <stddef.h>
#include <stdint.h>

struct maps;
struct snapshot;
struct unwind;

enum unwind_end {
	UNWIND_END_OK = 0,     /* reached the outermost frame */
	UNWIND_END_DEPTH,      /* hit the depth bound: truncated */
	UNWIND_END_STACK,      /* needed memory beyond the copied stack */
	UNWIND_END_NOINFO,     /* no unwind information, no usable frame pointer */
	UNWIND_END_UNMAPPED,   /* a pc outside every known mapping */
	UNWIND_END_BAD,        /* garbage: a loop or the stack going backwards */
};

struct unwind_result {
	size_t n;
	enum unwind_end end;
};

/* The unwinder borrows maps; maps must outlive it. */
int unwind_new(struct maps *maps, struct unwind **out);
void unwind_free(struct unwind *u);

struct elfimage;

/* Drop what was built for img (its .eh_frame index, its function starts):
 * the maps cache is about to free it (maps_evict_unmapped). */
void unwind_forget_image(struct unwind *u, const struct elfimage *img);

/* Build now what the first unwind through img would build for it: for an
 * image without .eh_frame_hdr (static executables), the index of its
 * .eh_frame and its function starts (for the stack scan of code without
 * CFI, which such builds often have); nothing for others. */
void unwind_warm(struct unwind *u, const struct elfimage *img);

/* Forget cached unwind info (call after the maps were re-read). */
void unwind_flush(struct unwind *u);

/* Unwind s into pcs (at most max).  pcs[0] is the interrupted pc; callers'
 * entries are return addresses minus one (inside the call instruction),
 * except after a signal frame, where the pc is exact. */
int unwind_stack(struct unwind *u, const struct snapshot *s, uint64_t *pcs, size_t max,
		 struct unwind_result *res);

/* How a frame's pc was found, for tests and diagnostics. */
enum unwind_how {
	UNWIND_HOW_REGS = 0, /* the interrupted pc, from the registers */
	UNWIND_HOW_CFI,      /* the callee's DWARF CFI (.eh_frame) */
	UNWIND_HOW_SIGNAL,   /* the signal frame the handler returned to */
	UNWIND_HOW_FP,       /* the callee's frame pointer (no CFI) */
	UNWIND_HOW_LEAF,     /* the return address on top of a leaf's stack (no CFI) */
	UNWIND_HOW_SCAN,     /* a return address found by scanning the stack (no CFI) */
	UNWIND_HOW_GUESS,    /* libunwind's own guess for a callee without CFI */
	UNWIND_HOW_GO,       /* Go's own pcsp table (a stripped Go binary, no CFI) */
	UNWIND_HOW_RBP,      /* CFI, with rbp found from a frame record on the stack
				(a thread copied without a stop) */
};

/* unwind_stack, also saying in how[i] (max entries, may be NULL) how
 * pcs[i] was found: the replay tests check it frame by frame, so a stack
 * that comes out right by the wrong road (a scan where CFI should have
 * done) is caught. */
int unwind_stack_how(struct unwind *u, const struct snapshot *s, uint64_t *pcs, uint8_t *how,
		     size_t max, struct unwind_result *res);

const char *unwind_end_str(enum unwind_end e);
const char *unwind_how_str(enum unwind_how h);

#endif
