/* profile.h - the in-memory profile model every writer reads.
 *
 * It mirrors pprof's profile.proto closely enough that encoding is a walk
 * over it (pprof_write.c) and decoding fills it back in (pprof_read.c), but
 * it owns plain C strings instead of string-table indices.  Samples with the
 * same location list and the same labels are merged (values added), so the
 * samplers can add one sample per tick without growing the model.
 *
 * Ownership: the profile owns everything it holds; every string passed in is
 * copied.  Pointers returned by the accessors live as long as the profile.
 * Pure data: nothing here touches a target process.
 */
#ifndef PPROBE_PROFILE_H
#define PPROBE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROFILE_MAX_VALUES 4

/* The one overflow policy for sample values, everywhere they are summed
 * (merging samples, the text and folded reports, flame graph totals):
 * sums saturate at INT64_MAX and INT64_MIN.  Values can come from a pprof
 * file anyone wrote, so a sum must never overflow (undefined behaviour),
 * and a saturated one at least stays on the right side and the largest. */
static inline int64_t profile_value_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

struct profile_value_type {
	char *type; /* "samples", "cpu", "threads" */
	char *unit; /* "count", "nanoseconds" */
};

/* One executable mapping of the target; ids start at 1 (pprof's rule). */
struct profile_mapping {
	uint64_t id;
	uint64_t start, limit, offset;
	char *file;
	char *build_id; /* hex, or NULL */
	bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
};

struct profile_function {
	uint64_t id;
	char *name;        /* demangled */
	char *system_name; /* as in the symbol table (mangled), or same as name */
	char *file;        /* may be NULL */
	int64_t start_line;
};

/* One source line of a location: function id and line, innermost first. */
struct profile_line {
	uint64_t function_id;
	int64_t line;
};

struct profile_location {
	uint64_t id;
	uint64_t mapping_id; /* 0: none */
	uint64_t address;
	struct profile_line *lines;
	size_t nlines;
};

/* A label: either str (non-NULL) or num (with optional num_unit). */
struct profile_label {
	char *key;
	char *str;
	int64_t num;
	char *num_unit;
};

struct profile_sample {
	uint64_t *location_ids; /* leaf first, as pprof stores them */
	size_t nlocations;
	int64_t values[PROFILE_MAX_VALUES];
	struct profile_label *labels;
	size_t nlabels;
};

/* A source line as callers describe it, before interning. */
struct profile_frame {
	const char *name;        /* demangled function name */
	const char *system_name; /* mangled name or NULL (then = name) */
	const char *file;        /* NULL if unknown */
	int64_t line;            /* 0 if unknown */
};

/* Label as callers pass it: str NULL means a numeric label. */
struct profile_label_in {
	const char *key;
	const char *str;
	int64_t num;
	const char *num_unit;
};

struct profile; /* opaque */

struct profile *profile_new(void);
void profile_free(struct profile *p);

/* Sample value types, in order; at most PROFILE_MAX_VALUES. */
int profile_add_sample_type(struct profile *p, const char *type, const char *unit);
int profile_set_period(struct profile *p, const char *type, const char *unit, int64_t period);
void profile_set_time(struct profile *p, int64_t time_nanos, int64_t duration_nanos);
int profile_add_comment(struct profile *p, const char *comment);
/* Which sample type pprof shows by default (a type name such as "cpu"). */
int profile_set_default_sample_type(struct profile *p, const char *type);

/* Add a mapping; returns its id (>= 1) in *id.  build_id may be NULL. */
int profile_add_mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset,
			const char *file, const char *build_id, bool symbolized, uint64_t *id);

/* Say what the locations of mapping id carry: function names (functions),
 * and file names, line numbers and inline frames (lines).  -ENOENT if
 * there is no such mapping. */
int profile_set_mapping_symbolized(struct profile *p, uint64_t id, bool functions, bool lines);

/* Intern a location: the same (mapping_id, address) returns the same id.
 * frames are innermost first (inlined callees before their caller); nframes
 * may be 0 for an address that could not be symbolized. */
int profile_add_location(struct profile *p, uint64_t mapping_id, uint64_t address,
			 const struct profile_frame *frames, size_t nframes, uint64_t *id);

/* Replace the frames of the location with this id (a pc symbolized again
 * once its debug info came); -ENOENT if there is none. */
int profile_set_location_frames(struct profile *p, uint64_t id, const struct profile_frame *frames,
				size_t nframes);

/* Add values to the sample with these locations (leaf first) and labels,
 * creating it if new.  values has one entry per sample type. */
int profile_add_sample(struct profile *p, const uint64_t *location_ids, size_t nlocations,
		       const int64_t *values, const struct profile_label_in *labels, size_t nlabels);

/* The same, also giving the sample's index (stable for the profile's life),
 * so that a sampler adding the same sample again can use
 * profile_add_sample_at() and skip the lookup. */
int profile_add_sample_index(struct profile *p, const uint64_t *location_ids, size_t nlocations,
			     const int64_t *values, const struct profile_label_in *labels,
			     size_t nlabels, size_t *index);
int profile_add_sample_at(struct profile *p, size_t index, const int64_t *values);

/* Read access, for writers and tests. */
size_t profile_sample_type_count(const struct profile *p);
const struct profile_value_type *profile_sample_type(const struct profile *p, size_t i);
const struct profile_value_type *profile_period_type(const struct profile *p);
int64_t profile_period(const struct profile *p);
int64_t profile_time_nanos(const struct profile *p);
int64_t profile_duration_nanos(const struct profile *p);
const char *profile_default_sample_type(const struct profile *p); /* may be NULL */
size_t profile_comment_count(const struct profile *p);
const char *profile_comment(const struct profile *p, size_t i);
size_t profile_mapping_count(const struct profile *p);
const struct profile_mapping *profile_mapping_at(const struct profile *p, size_t i);
size_t profile_function_count(const struct profile *p);
const struct profile_function *profile_function_at(const struct profile *p, size_t i);
/* By id; NULL if unknown. */
const struct profile_function *profile_function_by_id(const struct profile *p, uint64_t id);
size_t profile_location_count(const struct profile *p);
const struct profile_location *profile_location_at(const struct profile *p, size_t i);
const struct profile_location *profile_location_by_id(const struct profile *p, uint64_t id);
/* Frames over all locations: each line, or 1 for a location without lines. */
size_t profile_frame_count(const struct profile *p);
/* Index (for profile_location_at) of the location with this id, or SIZE_MAX. */
size_t profile_location_index(const struct profile *p, uint64_t id);
size_t profile_sample_count(const struct profile *p);
const struct profile_sample *profile_sample_at(const struct profile *p, size_t i);
/* Value of label key on a sample: string (NULL if absent or numeric). */
const char *profile_sample_label(const struct profile_sample *s, const char *key);

/* Index of the sample type named type, or -1. */
int profile_find_sample_type(const struct profile *p, const char *type);

/* Raw-form helpers used by pprof_read.c to rebuild a profile as it was
 * stored (ids kept as in the file). */
int profile_put_function(struct profile *p, uint64_t id, const char *name,
			 const char *system_name, const char *file, int64_t start_line);
int profile_put_location(struct profile *p, uint64_t id, uint64_t mapping_id, uint64_t address,
			 const struct profile_line *lines, size_t nlines);
int profile_put_mapping(struct profile *p, const struct profile_mapping *m);

#endif
