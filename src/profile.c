/* profile.c - the profile model: interning tables and accessors.
 *
 * Everything a profile holds is found through open-addressing hash tables
 * (linear probing, power-of-two capacity, at most half full), so adding a
 * sample per tick costs a few hash probes however large the profile grows:
 *
 *   strings      content           -> one shared copy (the string pool)
 *   functions    (name, system_name, file) and id -> index
 *   locations    (mapping_id, address) and id     -> index
 *   mappings     id                               -> index
 *   samples      (location ids, labels)           -> index
 *
 * Every string the profile keeps is interned in the pool first, so two
 * equal strings are one pointer and keys compare by pointer.  Empty file,
 * build id and unit strings are stored as NULL (pprof cannot tell "" from
 * absent either).  Pure data: nothing here touches a target process.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/error.h"
#include "pprobe/hashutil.h"
#include "pprobe/profile.h"

/* One slot: the key's full hash and the entry's array index + 1 (0: empty). */
struct htab_slot {
	uint64_t hash;
	size_t val;
};

struct htab {
	struct htab_slot *slots;
	size_t cap; /* 0 or a power of two */
	size_t used;
};

/* Does entry idx of owner's array equal key? */
typedef int (*htab_eq_fn)(const void *owner, size_t idx, const void *key);

struct strpool {
	char **strs;
	size_t n, cap;
	struct htab tab;
};

struct profile {
	struct profile_value_type sample_types[PROFILE_MAX_VALUES];
	size_t nsample_types;
	struct profile_value_type period_type;
	int has_period_type;
	int64_t period, time_nanos, duration_nanos;
	char *default_sample_type;

	struct strpool strings;

	char **comments;
	size_t ncomments, comments_cap;

	struct profile_mapping *mappings;
	size_t nmappings, mappings_cap;
	struct htab mapping_ids;
	uint64_t next_mapping_id; /* 0 once ids are exhausted */

	struct profile_function *functions;
	size_t nfunctions, functions_cap;
	struct htab function_ids, function_keys;
	uint64_t next_function_id;

	struct profile_location *locations;
	size_t nlocations, locations_cap;
	struct htab location_ids, location_keys;
	uint64_t next_location_id;

	struct profile_sample *samples;
	size_t nsamples, samples_cap;
	struct htab sample_keys;

	struct profile_label *scratch_labels; /* interned labels of the sample being added */
	size_t scratch_cap;
};

/* ---- hashing ---- */

static uint64_t hash_ptr(const void *ptr)
{
	return hashutil_mix((uint64_t)(uintptr_t)ptr);
}

/* ---- open-addressing table ---- */

/* Find the slot holding key, or the empty slot where it belongs.
 * NULL only when the table has no slots yet. */
static struct htab_slot *htab_probe(const struct htab *t, uint64_t hash, htab_eq_fn eq,
				    const void *owner, const void *key)
{
	size_t mask, i;

	if (t->cap == 0)
		return NULL;
	mask = t->cap - 1;
	for (i = hash & mask;; i = (i + 1) & mask) {
		struct htab_slot *s = &t->slots[i];

		if (s->val == 0)
			return s;
		if (s->hash == hash && eq(owner, s->val - 1, key))
			return s;
	}
}

/* Index of key, or SIZE_MAX if absent. */
static size_t htab_find(const struct htab *t, uint64_t hash, htab_eq_fn eq, const void *owner,
			const void *key)
{
	struct htab_slot *s = htab_probe(t, hash, eq, owner, key);

	return s && s->val ? s->val - 1 : SIZE_MAX;
}

/* Make room for one more entry, so that a probe-then-fill that follows
 * cannot fail.  Growth keeps the load at or below one half. */
static int htab_reserve(struct htab *t)
{
	struct htab_slot *slots;
	size_t cap, i;

	if ((t->used + 1) * 2 <= t->cap)
		return 0;
	cap = t->cap ? t->cap * 2 : 16;
	if (cap > SIZE_MAX / 2 / sizeof(*slots))
		return -ENOMEM;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		size_t j;

		if (t->slots[i].val == 0)
			continue;
		for (j = t->slots[i].hash & (cap - 1); slots[j].val; j = (j + 1) & (cap - 1))
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* Fill the empty slot s (from htab_probe after htab_reserve) with idx. */
static void htab_fill(struct htab *t, struct htab_slot *s, uint64_t hash, size_t idx)
{
	s->hash = hash;
	s->val = idx + 1;
	t->used++;
}

static void htab_fini(struct htab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
}

/* Ensure *arr (of *cap elements of size elsize) can hold n + 1 elements. */
static int array_reserve(void **arr, size_t *cap, size_t n, size_t elsize)
{
	size_t ncap;
	void *a;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / elsize)
		return -ENOMEM;
	a = realloc(*arr, ncap * elsize);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = ncap;
	return 0;
}

/* ---- string pool ---- */

static int strpool_eq(const void *owner, size_t idx, const void *key)
{
	const struct strpool *pool = owner;

	return strcmp(pool->strs[idx], key) == 0;
}

/* The pool's copy of s (NULL for NULL) in *out. */
static int strpool_intern(struct strpool *pool, const char *s, char **out)
{
	struct htab_slot *slot;
	uint64_t h;
	char *copy;
	int rc;

	*out = NULL;
	if (!s)
		return 0;
	rc = htab_reserve(&pool->tab);
	if (rc)
		return rc;
	h = hashutil_str(s);
	slot = htab_probe(&pool->tab, h, strpool_eq, pool, s);
	if (slot->val) {
		*out = pool->strs[slot->val - 1];
		return 0;
	}
	rc = array_reserve((void **)&pool->strs, &pool->cap, pool->n, sizeof(*pool->strs));
	if (rc)
		return rc;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	pool->strs[pool->n] = copy;
	htab_fill(&pool->tab, slot, h, pool->n);
	pool->n++;
	*out = copy;
	return 0;
}

/* As strpool_intern, but "" becomes NULL (optional strings). */
static int strpool_intern_opt(struct strpool *pool, const char *s, char **out)
{
	return strpool_intern(pool, s && *s ? s : NULL, out);
}

static void strpool_fini(struct strpool *pool)
{
	size_t i;

	for (i = 0; i < pool->n; i++)
		free(pool->strs[i]);
	free(pool->strs);
	htab_fini(&pool->tab);
}

/* ---- lifetime ---- */

struct profile *profile_new(void)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->next_mapping_id = 1;
	p->next_function_id = 1;
	p->next_location_id = 1;
	return p;
}

void profile_free(struct profile *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nlocations; i++)
		free(p->locations[i].lines);
	for (i = 0; i < p->nsamples; i++) {
		free(p->samples[i].location_ids);
		free(p->samples[i].labels);
	}
	free(p->comments);
	free(p->mappings);
	free(p->functions);
	free(p->locations);
	free(p->samples);
	free(p->scratch_labels);
	htab_fini(&p->mapping_ids);
	htab_fini(&p->function_ids);
	htab_fini(&p->function_keys);
	htab_fini(&p->location_ids);
	htab_fini(&p->location_keys);
	htab_fini(&p->sample_keys);
	strpool_fini(&p->strings);
	free(p);
}

/* ---- header data ---- */

/* Append a sample type.  -PPROBE_E_TOOBIG beyond PROFILE_MAX_VALUES. */
int profile_add_sample_type(struct profile *p, const char *type, const char *unit)
{
	struct profile_value_type vt;
	int rc;

	if (!type || !unit)
		return -EINVAL;
	if (p->nsample_types >= PROFILE_MAX_VALUES)
		return -PPROBE_E_TOOBIG;
	rc = strpool_intern(&p->strings, type, &vt.type);
	if (!rc)
		rc = strpool_intern(&p->strings, unit, &vt.unit);
	if (rc)
		return rc;
	p->sample_types[p->nsample_types++] = vt;
	return 0;
}

/* Set what one period counts and how many of it lie between samples;
 * after this profile_period_type() is non-NULL. */
int profile_set_period(struct profile *p, const char *type, const char *unit, int64_t period)
{
	struct profile_value_type vt;
	int rc;

	rc = strpool_intern(&p->strings, type ? type : "", &vt.type);
	if (!rc)
		rc = strpool_intern(&p->strings, unit ? unit : "", &vt.unit);
	if (rc)
		return rc;
	p->period_type = vt;
	p->has_period_type = 1;
	p->period = period;
	return 0;
}

void profile_set_time(struct profile *p, int64_t time_nanos, int64_t duration_nanos)
{
	p->time_nanos = time_nanos;
	p->duration_nanos = duration_nanos;
}

int profile_add_comment(struct profile *p, const char *comment)
{
	char *s;
	int rc;

	if (!comment)
		return -EINVAL;
	rc = array_reserve((void **)&p->comments, &p->comments_cap, p->ncomments,
			   sizeof(*p->comments));
	if (!rc)
		rc = strpool_intern(&p->strings, comment, &s);
	if (rc)
		return rc;
	p->comments[p->ncomments++] = s;
	return 0;
}

/* type NULL or "" clears the default. */
int profile_set_default_sample_type(struct profile *p, const char *type)
{
	return strpool_intern_opt(&p->strings, type, &p->default_sample_type);
}

/* ---- mappings ---- */

static int mapping_id_eq(const void *owner, size_t idx, const void *key)
{
	const struct profile *p = owner;

	return p->mappings[idx].id == *(const uint64_t *)key;
}

static const struct profile_mapping *mapping_by_id(const struct profile *p, uint64_t id)
{
	size_t i = htab_find(&p->mapping_ids, hashutil_mix(id), mapping_id_eq, p, &id);

	return i == SIZE_MAX ? NULL : &p->mappings[i];
}

/* Store a copy of *m under m->id: -EINVAL for id 0, -EEXIST for a taken id. */
int profile_put_mapping(struct profile *p, const struct profile_mapping *m)
{
	struct profile_mapping copy = *m;
	struct htab_slot *slot;
	uint64_t h = hashutil_mix(m->id);
	int rc;

	if (m->id == 0)
		return -EINVAL;
	rc = array_reserve((void **)&p->mappings, &p->mappings_cap, p->nmappings,
			   sizeof(*p->mappings));
	if (!rc)
		rc = htab_reserve(&p->mapping_ids);
	if (!rc)
		rc = strpool_intern_opt(&p->strings, m->file, &copy.file);
	if (!rc)
		rc = strpool_intern_opt(&p->strings, m->build_id, &copy.build_id);
	if (rc)
		return rc;
	slot = htab_probe(&p->mapping_ids, h, mapping_id_eq, p, &m->id);
	if (slot->val)
		return -EEXIST;
	p->mappings[p->nmappings] = copy;
	htab_fill(&p->mapping_ids, slot, h, p->nmappings);
	p->nmappings++;
	if (m->id >= p->next_mapping_id)
		p->next_mapping_id = m->id + 1; /* 0 after UINT64_MAX: exhausted */
	return 0;
}

/* Add a mapping under the next free id.  symbolized says the locations in
 * it carry functions, file names, line numbers and inline frames, so pprof
 * must not try to symbolize them again. */
int profile_add_mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset,
			const char *file, const char *build_id, bool symbolized, uint64_t *id)
{
	struct profile_mapping m = {
		.id = p->next_mapping_id,
		.start = start,
		.limit = limit,
		.offset = offset,
		.file = (char *)file,
		.build_id = (char *)build_id,
		.has_functions = symbolized,
		.has_filenames = symbolized,
		.has_line_numbers = symbolized,
		.has_inline_frames = symbolized,
	};
	int rc;

	if (m.id == 0)
		return -PPROBE_E_TOOBIG;
	rc = profile_put_mapping(p, &m);
	if (rc)
		return rc;
	*id = m.id;
	return 0;
}

int profile_set_mapping_symbolized(struct profile *p, uint64_t id, bool functions, bool lines)
{
	size_t i = htab_find(&p->mapping_ids, hashutil_mix(id), mapping_id_eq, p, &id);
	struct profile_mapping *m;

	if (i == SIZE_MAX)
		return -ENOENT;
	m = &p->mappings[i];
	m->has_functions = functions;
	m->has_filenames = m->has_line_numbers = m->has_inline_frames = lines;
	return 0;
}

/* ---- functions ---- */

static int function_id_eq(const void *owner, size_t idx, const void *key)
{
	const struct profile *p = owner;

	return p->functions[idx].id == *(const uint64_t *)key;
}

/* Key strings are interned, so they compare by pointer. */
static int function_key_eq(const void *owner, size_t idx, const void *key)
{
	const struct profile *p = owner;
	const struct profile_function *a = &p->functions[idx], *b = key;

	return a->name == b->name && a->system_name == b->system_name && a->file == b->file;
}

static uint64_t function_key_hash(const struct profile_function *f)
{
	uint64_t h = hash_ptr(f->name);

	h = hashutil_combine(h, hash_ptr(f->system_name));
	return hashutil_combine(h, hash_ptr(f->file));
}

static const struct profile_function *function_by_id(const struct profile *p, uint64_t id)
{
	size_t i = htab_find(&p->function_ids, hashutil_mix(id), function_id_eq, p, &id);

	return i == SIZE_MAX ? NULL : &p->functions[i];
}

/* Intern the strings of a function into *f (system_name NULL means name). */
static int function_intern_strings(struct profile *p, const char *name, const char *system_name,
				   const char *file, struct profile_function *f)
{
	int rc;

	if (!name)
		return -EINVAL;
	rc = strpool_intern(&p->strings, name, &f->name);
	if (!rc)
		rc = strpool_intern(&p->strings, system_name ? system_name : name, &f->system_name);
	if (!rc)
		rc = strpool_intern_opt(&p->strings, file, &f->file);
	return rc;
}

/* Append *f (strings already interned, id set): registers its id (-EEXIST
 * if taken) and its key unless an equal function is already known. */
static int function_append(struct profile *p, const struct profile_function *f)
{
	struct htab_slot *idslot, *keyslot;
	uint64_t idh = hashutil_mix(f->id), keyh = function_key_hash(f);
	int rc;

	rc = array_reserve((void **)&p->functions, &p->functions_cap, p->nfunctions,
			   sizeof(*p->functions));
	if (!rc)
		rc = htab_reserve(&p->function_ids);
	if (!rc)
		rc = htab_reserve(&p->function_keys);
	if (rc)
		return rc;
	idslot = htab_probe(&p->function_ids, idh, function_id_eq, p, &f->id);
	if (idslot->val)
		return -EEXIST;
	keyslot = htab_probe(&p->function_keys, keyh, function_key_eq, p, f);
	p->functions[p->nfunctions] = *f;
	htab_fill(&p->function_ids, idslot, idh, p->nfunctions);
	if (!keyslot->val)
		htab_fill(&p->function_keys, keyslot, keyh, p->nfunctions);
	p->nfunctions++;
	if (f->id >= p->next_function_id)
		p->next_function_id = f->id + 1;
	return 0;
}

/* Store a function under id as given: -EINVAL for id 0 or no name,
 * -EEXIST for a taken id. */
int profile_put_function(struct profile *p, uint64_t id, const char *name,
			 const char *system_name, const char *file, int64_t start_line)
{
	struct profile_function f = { .id = id, .start_line = start_line };
	int rc;

	if (id == 0)
		return -EINVAL;
	rc = function_intern_strings(p, name, system_name, file, &f);
	if (rc)
		return rc;
	return function_append(p, &f);
}

/* Id of the function for frame fr, added under a fresh id if new. */
static int function_intern(struct profile *p, const struct profile_frame *fr, uint64_t *id)
{
	struct profile_function f = { 0 };
	size_t i;
	int rc;

	rc = function_intern_strings(p, fr->name, fr->system_name, fr->file, &f);
	if (rc)
		return rc;
	i = htab_find(&p->function_keys, function_key_hash(&f), function_key_eq, p, &f);
	if (i != SIZE_MAX) {
		*id = p->functions[i].id;
		return 0;
	}
	f.id = p->next_function_id;
	if (f.id == 0)
		return -PPROBE_E_TOOBIG;
	rc = function_append(p, &f);
	if (rc)
		return rc;
	*id = f.id;
	return 0;
}

/* ---- locations ---- */

struct location_key {
	uint64_t mapping_id, address;
};

static int location_id_eq(const void *owner, size_t idx, const void *key)
{
	const struct profile *p = owner;

	return p->locations[idx].id == *(const uint64_t *)key;
}

static int location_key_eq(const void *owner, size_t idx, const void *key)
{
	const struct profile *p = owner;
	const struct location_key *k = key;

	return p->locations[idx].mapping_id == k->mapping_id &&
	       p->locations[idx].address == k->address;
}

static uint64_t location_key_hash(uint64_t mapping_id, uint64_t address)
{
	return hashutil_combine(hashutil_mix(mapping_id), address);
}

static const struct profile_location *location_by_id(const struct profile *p, uint64_t id)
{
	size_t i = htab_find(&p->location_ids, hashutil_mix(id), location_id_eq, p, &id);

	return i == SIZE_MAX ? NULL : &p->locations[i];
}

/* Append a location taking ownership of lines (freed here on failure):
 * -EEXIST if the id is taken.  The (mapping, address) key is registered
 * unless another location already has it. */
static int location_append(struct profile *p, uint64_t id, uint64_t mapping_id,
			   uint64_t address, struct profile_line *lines, size_t nlines)
{
	struct location_key k = { mapping_id, address };
	struct htab_slot *idslot, *keyslot;
	uint64_t idh = hashutil_mix(id), keyh = location_key_hash(mapping_id, address);
	int rc;

	rc = array_reserve((void **)&p->locations, &p->locations_cap, p->nlocations,
			   sizeof(*p->locations));
	if (!rc)
		rc = htab_reserve(&p->location_ids);
	if (!rc)
		rc = htab_reserve(&p->location_keys);
	if (rc)
		goto out;
	idslot = htab_probe(&p->location_ids, idh, location_id_eq, p, &id);
	if (idslot->val) {
		rc = -EEXIST;
		goto out;
	}
	keyslot = htab_probe(&p->location_keys, keyh, location_key_eq, p, &k);
	p->locations[p->nlocations] = (struct profile_location){
		.id = id,
		.mapping_id = mapping_id,
		.address = address,
		.lines = lines,
		.nlines = nlines,
	};
	lines = NULL;
	htab_fill(&p->location_ids, idslot, idh, p->nlocations);
	if (!keyslot->val)
		htab_fill(&p->location_keys, keyslot, keyh, p->nlocations);
	p->nlocations++;
	if (id >= p->next_location_id)
		p->next_location_id = id + 1;
out:
	free(lines);
	return rc;
}

/* Store a location under id as given.  mapping_id must be 0 or a known
 * mapping and every line must name a known function (-EINVAL otherwise);
 * -EEXIST for a taken id. */
int profile_put_location(struct profile *p, uint64_t id, uint64_t mapping_id, uint64_t address,
			 const struct profile_line *lines, size_t nlines)
{
	struct profile_line *copy = NULL;
	size_t i;

	if (id == 0 || (mapping_id && !mapping_by_id(p, mapping_id)))
		return -EINVAL;
	for (i = 0; i < nlines; i++)
		if (lines[i].function_id == 0 || !function_by_id(p, lines[i].function_id))
			return -EINVAL;
	if (nlines) {
		copy = calloc(nlines, sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, lines, nlines * sizeof(*copy));
	}
	return location_append(p, id, mapping_id, address, copy, nlines);
}

/* Intern a location by (mapping_id, address); the frames of the first
 * call for an address are the ones kept.  Functions are interned by
 * (name, system_name, file). */
int profile_add_location(struct profile *p, uint64_t mapping_id, uint64_t address,
			 const struct profile_frame *frames, size_t nframes, uint64_t *id)
{
	struct location_key k = { mapping_id, address };
	struct profile_line *lines = NULL;
	uint64_t newid;
	size_t i;
	int rc = 0;

	if (mapping_id && !mapping_by_id(p, mapping_id))
		return -EINVAL;
	i = htab_find(&p->location_keys, location_key_hash(mapping_id, address), location_key_eq,
		      p, &k);
	if (i != SIZE_MAX) {
		*id = p->locations[i].id;
		return 0;
	}
	newid = p->next_location_id;
	if (newid == 0)
		return -PPROBE_E_TOOBIG;
	if (nframes) {
		lines = calloc(nframes, sizeof(*lines));
		if (!lines)
			return -ENOMEM;
	}
	for (i = 0; i < nframes; i++) {
		rc = function_intern(p, &frames[i], &lines[i].function_id);
		if (rc)
			goto out;
		lines[i].line = frames[i].line;
	}
	rc = location_append(p, newid, mapping_id, address, lines, nframes);
	lines = NULL; /* location_append owns it now, even on failure */
	if (!rc)
		*id = newid;
out:
	free(lines);
	return rc;
}

/* Replace the lines of location id with frames (innermost first): the
 * same address named again with better debug info.  Functions no line
 * names any more stay in the table (pprof allows unused functions). */
int profile_set_location_frames(struct profile *p, uint64_t id, const struct profile_frame *frames,
				size_t nframes)
{
	size_t i = htab_find(&p->location_ids, hashutil_mix(id), location_id_eq, p, &id);
	struct profile_line *lines = NULL;
	struct profile_location *loc;
	int rc;

	if (i == SIZE_MAX)
		return -ENOENT;
	loc = &p->locations[i];
	if (nframes) {
		lines = calloc(nframes, sizeof(*lines));
		if (!lines)
			return -ENOMEM;
	}
	for (size_t k = 0; k < nframes; k++) {
		rc = function_intern(p, &frames[k], &lines[k].function_id);
		if (rc) {
			free(lines);
			return rc;
		}
		lines[k].line = frames[k].line;
	}
	free(loc->lines);
	loc->lines = lines;
	loc->nlines = nframes;
	return 0;
}

/* ---- samples ---- */

/* What a sample is looked up by: location ids plus interned labels. */
struct sample_key {
	const uint64_t *location_ids;
	size_t nlocations;
	const struct profile_label *labels;
	size_t nlabels;
};

static int sample_key_eq(const void *owner, size_t idx, const void *key)
{
	const struct profile_sample *s = &((const struct profile *)owner)->samples[idx];
	const struct sample_key *k = key;
	size_t i;

	if (s->nlocations != k->nlocations || s->nlabels != k->nlabels)
		return 0;
	if (k->nlocations &&
	    memcmp(s->location_ids, k->location_ids, k->nlocations * sizeof(*k->location_ids)))
		return 0;
	for (i = 0; i < k->nlabels; i++) {
		const struct profile_label *a = &s->labels[i], *b = &k->labels[i];

		if (a->key != b->key || a->str != b->str || a->num != b->num ||
		    a->num_unit != b->num_unit)
			return 0;
	}
	return 1;
}

static uint64_t sample_key_hash(const struct sample_key *k)
{
	uint64_t h = hashutil_mix(k->nlocations);
	size_t i;

	for (i = 0; i < k->nlocations; i++)
		h = hashutil_combine(h, k->location_ids[i]);
	for (i = 0; i < k->nlabels; i++) {
		h = hashutil_combine(h, hash_ptr(k->labels[i].key));
		h = hashutil_combine(h, hash_ptr(k->labels[i].str));
		h = hashutil_combine(h, (uint64_t)k->labels[i].num);
		h = hashutil_combine(h, hash_ptr(k->labels[i].num_unit));
	}
	return h;
}

/* Intern labels into p->scratch_labels (valid until the next call). */
static int sample_intern_labels(struct profile *p, const struct profile_label_in *labels,
				size_t nlabels)
{
	size_t i;
	int rc;

	if (nlabels > p->scratch_cap) {
		struct profile_label *a;

		if (nlabels > SIZE_MAX / sizeof(*a))
			return -ENOMEM;
		a = realloc(p->scratch_labels, nlabels * sizeof(*a));
		if (!a)
			return -ENOMEM;
		p->scratch_labels = a;
		p->scratch_cap = nlabels;
	}
	for (i = 0; i < nlabels; i++) {
		struct profile_label *l = &p->scratch_labels[i];

		if (!labels[i].key)
			return -EINVAL;
		memset(l, 0, sizeof(*l));
		rc = strpool_intern(&p->strings, labels[i].key, &l->key);
		if (rc)
			return rc;
		if (labels[i].str) {
			rc = strpool_intern(&p->strings, labels[i].str, &l->str);
		} else {
			l->num = labels[i].num;
			rc = strpool_intern_opt(&p->strings, labels[i].num_unit, &l->num_unit);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Add values (one per sample type; NULL adds nothing) to the sample with
 * these locations and labels, creating it if new.  Every location id must
 * be known (-EINVAL otherwise).  Sums saturate (profile_value_add). */
int profile_add_sample(struct profile *p, const uint64_t *location_ids, size_t nlocations,
		       const int64_t *values, const struct profile_label_in *labels, size_t nlabels)
{
	return profile_add_sample_index(p, location_ids, nlocations, values, labels, nlabels, NULL);
}

int profile_add_sample_at(struct profile *p, size_t index, const int64_t *values)
{
	struct profile_sample *old;

	if (index >= p->nsamples)
		return -EINVAL;
	old = &p->samples[index];
	for (size_t i = 0; i < p->nsample_types; i++)
		old->values[i] = profile_value_add(old->values[i], values[i]);
	return 0;
}

int profile_add_sample_index(struct profile *p, const uint64_t *location_ids, size_t nlocations,
			     const int64_t *values, const struct profile_label_in *labels,
			     size_t nlabels, size_t *index)
{
	struct sample_key k = { location_ids, nlocations, NULL, nlabels };
	struct profile_sample s = { 0 };
	struct htab_slot *slot;
	uint64_t h;
	size_t i;
	int rc;

	for (i = 0; i < nlocations; i++)
		if (!location_by_id(p, location_ids[i]))
			return -EINVAL;
	rc = sample_intern_labels(p, labels, nlabels);
	if (!rc)
		rc = htab_reserve(&p->sample_keys);
	if (!rc)
		rc = array_reserve((void **)&p->samples, &p->samples_cap, p->nsamples,
				   sizeof(*p->samples));
	if (rc)
		return rc;
	k.labels = p->scratch_labels;
	h = sample_key_hash(&k);
	slot = htab_probe(&p->sample_keys, h, sample_key_eq, p, &k);
	if (slot->val) {
		struct profile_sample *old = &p->samples[slot->val - 1];

		for (i = 0; values && i < p->nsample_types; i++)
			old->values[i] = profile_value_add(old->values[i], values[i]);
		if (index)
			*index = slot->val - 1;
		return 0;
	}
	if (nlocations) {
		s.location_ids = malloc(nlocations * sizeof(*s.location_ids));
		if (!s.location_ids) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(s.location_ids, location_ids, nlocations * sizeof(*s.location_ids));
	}
	if (nlabels) {
		s.labels = malloc(nlabels * sizeof(*s.labels));
		if (!s.labels) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(s.labels, p->scratch_labels, nlabels * sizeof(*s.labels));
	}
	s.nlocations = nlocations;
	s.nlabels = nlabels;
	for (i = 0; values && i < p->nsample_types; i++)
		s.values[i] = values[i];
	p->samples[p->nsamples] = s;
	htab_fill(&p->sample_keys, slot, h, p->nsamples);
	if (index)
		*index = p->nsamples;
	p->nsamples++;
	return 0;
out:
	free(s.location_ids);
	free(s.labels);
	return rc;
}

/* ---- read access ---- */

size_t profile_sample_type_count(const struct profile *p)
{
	return p->nsample_types;
}

const struct profile_value_type *profile_sample_type(const struct profile *p, size_t i)
{
	return i < p->nsample_types ? &p->sample_types[i] : NULL;
}

/* NULL until profile_set_period() was called. */
const struct profile_value_type *profile_period_type(const struct profile *p)
{
	return p->has_period_type ? &p->period_type : NULL;
}

int64_t profile_period(const struct profile *p)
{
	return p->period;
}

int64_t profile_time_nanos(const struct profile *p)
{
	return p->time_nanos;
}

int64_t profile_duration_nanos(const struct profile *p)
{
	return p->duration_nanos;
}

const char *profile_default_sample_type(const struct profile *p)
{
	return p->default_sample_type;
}

size_t profile_comment_count(const struct profile *p)
{
	return p->ncomments;
}

const char *profile_comment(const struct profile *p, size_t i)
{
	return i < p->ncomments ? p->comments[i] : NULL;
}

size_t profile_mapping_count(const struct profile *p)
{
	return p->nmappings;
}

const struct profile_mapping *profile_mapping_at(const struct profile *p, size_t i)
{
	return i < p->nmappings ? &p->mappings[i] : NULL;
}

size_t profile_function_count(const struct profile *p)
{
	return p->nfunctions;
}

const struct profile_function *profile_function_at(const struct profile *p, size_t i)
{
	return i < p->nfunctions ? &p->functions[i] : NULL;
}

const struct profile_function *profile_function_by_id(const struct profile *p, uint64_t id)
{
	return function_by_id(p, id);
}

size_t profile_location_count(const struct profile *p)
{
	return p->nlocations;
}

const struct profile_location *profile_location_at(const struct profile *p, size_t i)
{
	return i < p->nlocations ? &p->locations[i] : NULL;
}

const struct profile_location *profile_location_by_id(const struct profile *p, uint64_t id)
{
	return location_by_id(p, id);
}

size_t profile_frame_count(const struct profile *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nlocations; i++)
		n += p->locations[i].nlines ? p->locations[i].nlines : 1;
	return n;
}

size_t profile_location_index(const struct profile *p, uint64_t id)
{
	return htab_find(&p->location_ids, hashutil_mix(id), location_id_eq, p, &id);
}

size_t profile_sample_count(const struct profile *p)
{
	return p->nsamples;
}

const struct profile_sample *profile_sample_at(const struct profile *p, size_t i)
{
	return i < p->nsamples ? &p->samples[i] : NULL;
}

const char *profile_sample_label(const struct profile_sample *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		if (s->labels[i].str && strcmp(s->labels[i].key, key) == 0)
			return s->labels[i].str;
	return NULL;
}

int profile_find_sample_type(const struct profile *p, const char *type)
{
	size_t i;

	for (i = 0; i < p->nsample_types; i++)
		if (strcmp(p->sample_types[i].type, type) == 0)
			return (int)i;
	return -1;
}
