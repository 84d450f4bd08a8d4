/* stacks.c - pcs to profile locations and samples (see stacks.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/elfimage.h"
#include "pprobe/hashutil.h"
#include "pprobe/maps.h"
#include "pprobe/profile.h"
#include "pprobe/stacks.h"
#include "pprobe/symbolize.h"

void stacks_init(struct stacks *st, struct profile *prof, struct maps *maps,
		 struct symbolize *sym)
{
	memset(st, 0, sizeof(*st));
	st->prof = prof;
	st->maps = maps;
	st->sym = sym;
}

void stacks_fini(struct stacks *st)
{
	free(st->locs.v);
	free(st->mappings.v);
	free(st->names.v);
	free(st->loc_buf);
	memset(st, 0, sizeof(*st));
}

static size_t stacks_hash(uint64_t a, uint64_t b, uint64_t c, size_t cap)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull ^
		     c * 0x94d049bb133111ebull;

	h ^= h >> 31;
	return (size_t)h & (cap - 1);
}

static struct stacks_key3 *stacks_table_slot(struct stacks_table *t, uint64_t a, uint64_t b,
					     uint64_t c)
{
	size_t h = stacks_hash(a, b, c, t->cap);

	while (t->v[h].used && !(t->v[h].a == a && t->v[h].b == b && t->v[h].c == c))
		h = (h + 1) & (t->cap - 1);
	return &t->v[h];
}

static int stacks_table_grow(struct stacks_table *t)
{
	struct stacks_table nt = { .cap = t->cap ? t->cap * 2 : 1024 };

	nt.v = calloc(nt.cap, sizeof(*nt.v));
	if (!nt.v)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].used)
			*stacks_table_slot(&nt, t->v[i].a, t->v[i].b, t->v[i].c) = t->v[i];
	nt.n = t->n;
	free(t->v);
	*t = nt;
	return 0;
}

/* Find (a,b,c); returns the slot, used or not, after making room. */
static struct stacks_key3 *stacks_table_find(struct stacks_table *t, uint64_t a, uint64_t b,
					     uint64_t c)
{
	if ((t->n + 1) * 2 > t->cap && stacks_table_grow(t))
		return NULL;
	return stacks_table_slot(t, a, b, c);
}

static int stacks_mapping_id(struct stacks *st, const struct maps_entry *e,
			     const struct elfimage *img, uint64_t *id)
{
	/* The file is part of the key: after a dlclose, another library can
	 * be mapped at the same addresses. */
	uint64_t file_key = e->offset ^ hashutil_str(e->path);
	struct stacks_key3 *k = stacks_table_find(&st->mappings, e->start, e->end, file_key);
	int err;

	if (!k)
		return -ENOMEM;
	if (k->used) {
		*id = k->value;
		return 0;
	}
	err = profile_add_mapping(st->prof, e->start, e->end, e->offset, e->path,
				  img && img->build_id[0] ? img->build_id : NULL, true, id);
	if (err)
		return err;
	k->a = e->start;
	k->b = e->end;
	k->c = file_key;
	k->value = *id;
	k->used = true;
	st->mappings.n++;
	return 0;
}

int stacks_add_mappings(struct stacks *st)
{
	struct maps_entry **v = NULL;
	size_t n = 0;
	int err = maps_list_exec(st->maps, &v, &n);

	for (size_t i = 0; i < n && !err; i++) {
		struct elfimage *img = NULL;
		uint64_t bias, id;

		if (maps_resolve(st->maps, v[i], &img, &bias))
			img = NULL;
		err = stacks_mapping_id(st, v[i], img, &id);
	}
	free(v);
	return err;
}

/* What the locations of one mapping were named from. */
struct stacks_claim {
	bool seen;       /* has a location */
	bool all_named;  /* every one from a symbol table or DWARF */
	bool any_dwarf;  /* some from DWARF */
};

/* pprof symbolizes again only a mapping that claims none of functions,
 * file names and lines, so a mapping with one bare module+0xoffset frame
 * claims nothing (pprof may then do better from a binary it finds), one
 * whose every frame is named claims functions, and lines too only if
 * DWARF named some of them: a stripped file never claims lines. */
int stacks_finish(struct stacks *st)
{
	struct stacks_claim *claim;
	size_t nm;
	int err = stacks_add_mappings(st);

	if (err)
		return err;
	nm = profile_mapping_count(st->prof);
	claim = calloc(nm ? nm : 1, sizeof(*claim));
	if (!claim)
		return -ENOMEM;
	for (size_t i = 0; i < st->locs.cap; i++) {
		const struct stacks_key3 *k = &st->locs.v[i];
		const struct profile_location *loc;
		struct stacks_claim *c;

		if (!k->used)
			continue;
		loc = profile_location_by_id(st->prof, k->value);
		if (!loc || loc->mapping_id == 0 || loc->mapping_id > nm)
			continue;
		c = &claim[loc->mapping_id - 1];
		c->all_named = (c->all_named || !c->seen) && k->quality != SYMBOLIZE_NONE;
		c->any_dwarf |= k->quality == SYMBOLIZE_DWARF;
		c->seen = true;
	}
	for (size_t i = 0; i < nm && !err; i++) {
		const struct profile_mapping *m = profile_mapping_at(st->prof, i);
		const struct stacks_claim *c = &claim[i];

		/* Ids are handed out in order from 1 by profile_add_mapping. */
		if (m && m->id == i + 1)
			err = profile_set_mapping_symbolized(st->prof, m->id, c->all_named,
							     c->all_named && c->any_dwarf);
	}
	free(claim);
	return err;
}

/* Symbolize pc of mapping e (may be NULL) resolved to img/bias (img may be
 * NULL).  A file that is not ELF we can use (corrupt, truncated) is still
 * named, with the offset in the file. */
static int stacks_symbolize_entry(struct symbolize *sym, const struct maps_entry *e,
				  const struct elfimage *img, uint64_t bias, uint64_t pc,
				  struct symbolize_result *res)
{
	if (img)
		return symbolize_lookup(sym, img, NULL, pc - bias, pc, res);
	return symbolize_lookup(sym, NULL, e && e->path[0] == '/' ? e->path : NULL,
				e ? pc - e->start + e->offset : 0, pc, res);
}

int stacks_symbolize(struct maps *maps, struct symbolize *sym, uint64_t pc,
		     struct symbolize_result *res, const char **module)
{
	struct maps_entry *e = maps_find(maps, pc);
	struct elfimage *img = NULL;
	uint64_t bias = 0;

	if (e && maps_resolve(maps, e, &img, &bias) != 0)
		img = NULL, bias = 0;
	if (module) {
		*module = NULL;
		if (e && e->path[0]) {
			const char *slash = strrchr(e->path, '/');

			*module = slash ? slash + 1 : e->path;
		}
	}
	return stacks_symbolize_entry(sym, e, img, bias, pc, res);
}

/* The frames of res as the profile takes them, at most max. */
static size_t stacks_frames(const struct symbolize_result *res, struct profile_frame *frames,
			    size_t max)
{
	size_t n = res->n < max ? res->n : max;

	for (size_t i = 0; i < n; i++) {
		frames[i].name = res->frames[i].name;
		frames[i].system_name = res->frames[i].system_name;
		frames[i].file = res->frames[i].file;
		frames[i].line = res->frames[i].line;
	}
	return n;
}

static int stacks_new_location(struct stacks *st, uint64_t pc, struct maps_entry *e,
			       struct elfimage *img, uint64_t bias, uint64_t *id, int *quality)
{
	struct symbolize_result res;
	struct profile_frame frames[64];
	uint64_t mapping_id = 0;
	int err;

	if (e && maps_is_exec(e)) {
		err = stacks_mapping_id(st, e, img, &mapping_id);
		if (err)
			return err;
	}
	err = stacks_symbolize_entry(st->sym, e, img, bias, pc, &res);
	if (err)
		return err;
	if (res.quality == SYMBOLIZE_NONE)
		st->frames_unsymbolized++;
	*quality = res.quality;
	err = profile_add_location(st->prof, mapping_id, pc, frames,
				   stacks_frames(&res, frames, 64), id);
	symbolize_result_fini(&res);
	return err;
}

int stacks_location(struct stacks *st, uint64_t pc, uint64_t *id)
{
	struct maps_entry *e = maps_find(st->maps, pc);
	struct elfimage *img = NULL;
	uint64_t bias = 0;
	struct stacks_key3 *k;
	int err, quality = SYMBOLIZE_NONE;

	if (e && maps_resolve(st->maps, e, &img, &bias))
		img = NULL, bias = 0;
	/* By the image's serial, not its address: an image evicted from the
	 * maps cache (maps_evict_unmapped) may leave its address to another. */
	k = stacks_table_find(&st->locs, pc, img ? img->serial : 0, bias);
	if (!k)
		return -ENOMEM;
	if (k->used) {
		*id = k->value;
		return 0;
	}
	err = stacks_new_location(st, pc, e, img, bias, id, &quality);
	if (err)
		return err;
	/* The table may not have moved: stacks_new_location does not touch it. */
	k->a = pc;
	k->b = img ? img->serial : 0;
	k->c = bias;
	k->value = *id;
	k->used = true;
	k->quality = quality;
	st->locs.n++;
	return 0;
}

static int stacks_cmp_location(const void *a, const void *b)
{
	const struct stacks_key3 *x = *(const struct stacks_key3 *const *)a;
	const struct stacks_key3 *y = *(const struct stacks_key3 *const *)b;

	return (x->value > y->value) - (x->value < y->value);
}

/* Name location k (of img, whose debug info just came) again. */
static int stacks_rename_location(struct stacks *st, struct stacks_key3 *k,
				  const struct elfimage *img)
{
	struct symbolize_result res;
	struct profile_frame frames[64];
	int err;

	err = symbolize_lookup(st->sym, img, NULL, k->a - k->c, k->a, &res);
	if (err)
		return err;
	err = profile_set_location_frames(st->prof, k->value, frames,
					  stacks_frames(&res, frames, 64));
	if (!err && k->quality == SYMBOLIZE_NONE && res.quality != SYMBOLIZE_NONE)
		st->frames_unsymbolized--;
	if (!err)
		k->quality = res.quality;
	symbolize_result_fini(&res);
	return err;
}

int stacks_fetch_debuginfo(struct stacks *st)
{
	struct stacks_key3 **order;
	size_t n = 0;
	int err = 0;

	order = calloc(st->locs.n ? st->locs.n : 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < st->locs.cap; i++)
		if (st->locs.v[i].used && st->locs.v[i].b && st->locs.v[i].quality != SYMBOLIZE_DWARF)
			order[n++] = &st->locs.v[i];
	/* Location ids grow as pcs are first seen: the image of the earliest
	 * is asked for first, should the time limit cut the list short. */
	qsort(order, n, sizeof(*order), stacks_cmp_location);
	for (size_t i = 0; i < n && !err; i++) {
		/* An image evicted from the maps cache (no longer mapped) keeps
		 * the names it was given. */
		const struct elfimage *img = maps_image_by_serial(st->maps, order[i]->b);
		int got = img ? symbolize_fetch(st->sym, img) : 0;

		if (got < 0)
			err = got;
		else if (got)
			err = stacks_rename_location(st, order[i], img);
	}
	free(order);
	return err;
}

static int stacks_truncated_location(struct stacks *st, uint64_t *id)
{
	static const struct profile_frame trunc = { .name = "[truncated]" };

	return profile_add_location(st->prof, 0, 0, &trunc, 1, id);
}

/* FNV-1a, the names table's hash unless a test sets another. */
static uint64_t stacks_name_hash_fnv(const char *name)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	return h;
}

/* The name of the named-frame location id. */
static const char *stacks_named_location_name(const struct stacks *st, uint64_t id)
{
	const struct profile_location *l = profile_location_by_id(st->prof, id);
	const struct profile_function *f;

	if (!l || l->nlines == 0)
		return NULL;
	f = profile_function_by_id(st->prof, l->lines[0].function_id);
	return f ? f->name : NULL;
}

/* A frame known only by name (a kernel function): one location per name,
 * at a made-up address outside user space so it cannot meet a real pc.
 * The table is keyed by (hash of the name, 0, n): names whose hashes
 * collide are told apart by comparing the names, the n-th of them under
 * key n (a hash alone merged two such names into one frame). */
static int stacks_named_location(struct stacks *st, const char *name, uint64_t *id)
{
	struct profile_frame f = { .name = name };
	uint64_t h = (st->name_hash ? st->name_hash : stacks_name_hash_fnv)(name);
	struct stacks_key3 *k;
	uint64_t n = 0;
	int err;

	for (;; n++) {
		const char *known;

		k = stacks_table_find(&st->names, h, 0, n);
		if (!k)
			return -ENOMEM;
		if (!k->used)
			break;
		known = stacks_named_location_name(st, k->value);
		if (known && strcmp(known, name) == 0) {
			*id = k->value;
			return 0;
		}
	}
	err = profile_add_location(st->prof, 0, 0xffff000000000000ull | (st->names.n + 1), &f, 1, id);
	if (err)
		return err;
	k->a = h;
	k->b = 0;
	k->c = n;
	k->value = *id;
	k->used = true;
	st->names.n++;
	return 0;
}

int stacks_add(struct stacks *st, const char *const *leaf_names, size_t nleaf,
	       const uint64_t *pcs, size_t n, bool truncated, const int64_t *values,
	       const struct profile_label_in *labels, size_t nlabels, size_t *index)
{
	size_t need = nleaf + n + 1, at = 0;
	int err;

	if (need > st->loc_cap) {
		uint64_t *nb = realloc(st->loc_buf, need * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		st->loc_buf = nb;
		st->loc_cap = need;
	}
	for (size_t i = 0; i < nleaf; i++) {
		err = stacks_named_location(st, leaf_names[i], &st->loc_buf[at++]);
		if (err)
			return err;
	}
	for (size_t i = 0; i < n; i++) {
		err = stacks_location(st, pcs[i], &st->loc_buf[at++]);
		if (err)
			return err;
	}
	st->frames += n;
	if (truncated) {
		err = stacks_truncated_location(st, &st->loc_buf[at++]);
		if (err)
			return err;
		st->samples_truncated++;
	}
	return profile_add_sample_index(st->prof, st->loc_buf, at, values, labels, nlabels, index);
}
