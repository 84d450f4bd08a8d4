/* stacks.h - turn unwound pcs into profile samples.
 *
 * Each pc is resolved to the mapping that holds it and symbolized the first
 * time it is seen (cached by pc, image and load bias, so each address is
 * symbolized once even when the maps are re-read; the image by its
 * serial, which outlives its eviction from the maps cache); samples are then added
 * to the profile model, which merges identical stacks.  Runs while the
 * target runs: nothing here touches a stopped thread.
 */
#ifndef PPROBE_STACKS_H
#define PPROBE_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;
struct profile_label_in;
struct maps;
struct symbolize;

struct stacks_key3 {
	uint64_t a, b, c;
	uint64_t value;
	bool used;
	int quality; /* locs: the SYMBOLIZE_* quality the location was named with */
};

struct stacks_table {
	struct stacks_key3 *v;
	size_t n, cap;
};

struct stacks {
	struct profile *prof;  /* borrowed */
	struct maps *maps;     /* borrowed */
	struct symbolize *sym; /* borrowed */
	struct stacks_table locs;     /* (pc, image serial, bias) -> location id */
	struct stacks_table mappings; /* (start, end, offset ^ file) -> mapping id */
	struct stacks_table names;    /* (name hash) -> location id of a named frame */
	uint64_t *loc_buf;
	size_t loc_cap;
	uint64_t frames, frames_unsymbolized, samples_truncated;
	/* The hash of named frames' names; NULL: FNV-1a.  Set only by a test
	 * that makes names collide (test_stacks). */
	uint64_t (*name_hash)(const char *name);
};

void stacks_init(struct stacks *st, struct profile *prof, struct maps *maps,
		 struct symbolize *sym);
void stacks_fini(struct stacks *st);

/* Add one sample: pcs leaf first as unwind_stack() gives them; truncated
 * adds a "[truncated]" root frame.  leaf_names (may be NULL) are frames
 * below the user stack known only by name -- the kernel stack of a blocked
 * thread -- innermost first; each gets a location of its own.  index (may
 * be NULL) gets the profile sample's index (profile_add_sample_at). */
int stacks_add(struct stacks *st, const char *const *leaf_names, size_t nleaf,
	       const uint64_t *pcs, size_t n, bool truncated, const int64_t *values,
	       const struct profile_label_in *labels, size_t nlabels, size_t *index);

/* Register every executable mapping of the target as the maps show it
 * now, the main executable's first (pprof takes mapping 1 for the main
 * binary).  Call once before the first sample and again (stacks_finish)
 * at the end for what was mapped meanwhile. */
int stacks_add_mappings(struct stacks *st);

/* Before writing: add the mappings made during the window and set each
 * mapping's has_functions/has_filenames/has_line_numbers/has_inline_frames
 * to what its locations truly carry. */
int stacks_finish(struct stacks *st);

struct symbolize_result;

/* Symbolize one pc of the target as its current maps place it (uncached;
 * for the dump).  *module (may be NULL) gets the mapped file's basename,
 * borrowed from maps, or NULL. */
int stacks_symbolize(struct maps *maps, struct symbolize *sym, uint64_t pc,
		     struct symbolize_result *res, const char **module);

/* The profile location id of one pc (resolved and symbolized on first use). */
int stacks_location(struct stacks *st, uint64_t pc, uint64_t *id);

/* Fetch the debug info that the images of the profile's locations lack
 * (symbolize_fetch: only if the symbolizer has fetching on), the image of
 * the first location made first, and name again, in place, every location
 * of an image whose debug info came.  For record, after the window, when
 * no thread is traced. */
int stacks_fetch_debuginfo(struct stacks *st);

#endif
