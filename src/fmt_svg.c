/* fmt_svg.c - a self-contained interactive flame graph (one SVG file).
 *
 * The layout is Brendan Gregg's flamegraph.pl: the root ("all") at the
 * bottom, callees stacked above their callers, siblings sorted by name,
 * widths proportional to the value of sample type vi.  The call tree is
 * built from the root up: each sample's location list (leaf first) is
 * walked backwards and every location's lines outermost first, so inlined
 * functions get boxes of their own; at each level frames merge by function
 * name (a merged frame keeps the module it was first seen in).  A frame's
 * module is the basename of its location's mapping; it picks the hue, the
 * function name a small change of lightness; frames without a mapping are
 * grey.  Callees sit side by side from their caller's left edge; the
 * caller's own value and its pruned callees are the gap on the right.
 *
 * Every frame is written as
 *   <g class="frame" data-name=N data-module=M data-v=VALUE data-x=X data-d=DEPTH>
 *     <title>N (M) — value, share</title><rect .../><text ...>N, truncated</text></g>
 * where X is the value of everything left of the frame at its depth, so the
 * embedded script (SVG_SCRIPT) can re-lay out any subtree for a zoom from
 * these attributes alone.  The file works without the script (static
 * layout, tooltips); with it, hover fills the info bar, a click zooms, and
 * "Search" highlights frames by regular expression.  The script's entry
 * points window.pprobeSearch, pprobeZoom and pprobeReset are kept stable
 * for tests/integration/test_svg_browser.py.
 *
 * Names come from the target process and are hostile: every string is
 * written through svg_put_text, which replaces bytes that are not valid
 * UTF-8 and characters XML forbids (controls) by U+FFFD and escapes
 * & < > " '.  Stacks deeper than SVG_MAX_DEPTH end in a "[truncated]"
 * frame.  Frames narrower than SVG_MIN_SHARE of the total are not written
 * (nor, therefore, their callees, which a zoom cannot bring back).  The
 * tree is built a level at a time and cut as it grows (svg_build), so a
 * 50k-sample profile of deep, mostly distinct stacks costs a few thousand
 * nodes and boxes, not millions.  Samples with a value <= 0 are skipped.
 * Pure: reads the profile model only.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pprobe/error.h"
#include "pprobe/hashutil.h"
#include "pprobe/fmt_svg.h"
#include "pprobe/profile.h"
#include "pprobe/timeutil.h"

/* Geometry, in px (flamegraph.pl's defaults). */
#define SVG_WIDTH 1200
#define SVG_XPAD 10
#define SVG_FRAME_W (SVG_WIDTH - 2 * SVG_XPAD)
#define SVG_FRAME_H 16
#define SVG_FONT_SIZE 12
#define SVG_FONT_WIDTH 0.59 /* average glyph width / font size, for truncation */
#define SVG_YPAD_TOP (SVG_FONT_SIZE * 3)
#define SVG_YPAD_BOTTOM (SVG_FONT_SIZE * 2 + 10)
/* Frames below this share of the total (0.1% of the width) are dropped. */
#define SVG_MIN_SHARE 0.001
/* Deepest frame written; a stack that goes deeper has "[truncated]" here. */
#define SVG_MAX_DEPTH 1024
/* Node indices are uint32_t; 0 is the root. */
#define SVG_MAX_NODES (UINT32_MAX / 2)

#define SVG_ROOT_NAME "all"
#define SVG_TRUNCATED_NAME "[truncated]"

/* One distinct frame name; s is the model's string or owned. */
struct svg_name {
	const char *s;
	char *owned;
};

/* One box of the flame graph: a path from the root, merged by name. */
struct svg_node {
	uint32_t name;      /* index into graph names */
	uint32_t parent;    /* root: 0 */
	uint32_t depth;     /* root: 0 */
	const char *module; /* basename of the mapping's file (model string), or NULL */
	int64_t value;      /* sum of the samples through this path */
	int64_t x;          /* value of the frames left of it at its depth */
};

/* A node as sorted for layout: children grouped by parent, then by name. */
struct svg_order {
	uint32_t parent;
	uint32_t node;
	const char *name;
};

struct svg_graph {
	struct svg_name *names;
	size_t nnames, names_cap;
	uint32_t *name_slots; /* name index + 1, open addressing by content */
	size_t nname_slots;

	/* Per model location (by index): its frames' name indices, outermost
	 * first, in loc_names[loc_first[i] .. + loc_count[i]). */
	size_t *loc_first, *loc_count;
	uint32_t *loc_names;
	const char **loc_module;

	struct svg_node *nodes; /* parents before their children */
	size_t nnodes, nodes_cap;

	uint32_t truncated_name;
	int64_t total;
	size_t pruned; /* frames below SVG_MIN_SHARE (with their callees) */
};

/* Where one sample's walk from the root has got to. */
struct svg_cursor {
	size_t sample;  /* model sample index */
	int64_t value;  /* its value vi */
	size_t loc;     /* location_ids[loc - 1] is the next location */
	size_t li;      /* model index of the current location, or SIZE_MAX */
	size_t frame;   /* next frame of the current location */
	uint32_t node;  /* node of the frames taken so far */
	uint32_t cand;  /* this level's candidate, UINT32_MAX: stack ended */
};

/* A frame of the level being built, before the cut. */
struct svg_candidate {
	uint32_t parent, name;
	const char *module;
	int64_t value;
	uint32_t node; /* its node if kept, else 0 */
};

/* The candidates of one level, found by (parent, name). */
struct svg_level {
	struct svg_candidate *cands;
	size_t ncands;
	uint32_t *slots; /* candidate index + 1 */
	size_t nslots;
};

/* How values of the chosen sample type are printed. */
struct svg_unit {
	double ns;         /* nanoseconds per unit; 0: not a time unit */
	const char *label; /* "samples", "bytes": after a plain number */
};

/* Grow *arr (of *cap elements of size) to hold n + 1; -ENOMEM. */
static int svg_reserve(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Index of the name s in *idx, adding it if new (copied if copy).  The
 * table grows by rehashing so it stays at most half full. */
static int svg_intern_name(struct svg_graph *g, const char *s, int copy, uint32_t *idx)
{
	size_t mask, j, i;
	int rc;

	if (g->nnames * 2 >= g->nname_slots) {
		size_t n = hashutil_slots_for(g->nnames + 1);
		uint32_t *slots = calloc(n, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (i = 0; i < g->nnames; i++) {
			for (j = hashutil_str(g->names[i].s) & (n - 1); slots[j]; j = (j + 1) & (n - 1))
				;
			slots[j] = (uint32_t)i + 1;
		}
		free(g->name_slots);
		g->name_slots = slots;
		g->nname_slots = n;
	}
	mask = g->nname_slots - 1;
	for (j = hashutil_str(s) & mask; g->name_slots[j]; j = (j + 1) & mask) {
		if (strcmp(g->names[g->name_slots[j] - 1].s, s) == 0) {
			*idx = g->name_slots[j] - 1;
			return 0;
		}
	}
	if (g->nnames >= SVG_MAX_NODES)
		return -PPROBE_E_TOOBIG;
	rc = svg_reserve((void **)&g->names, &g->names_cap, g->nnames, sizeof(*g->names));
	if (rc)
		return rc;
	g->names[g->nnames].owned = NULL;
	g->names[g->nnames].s = s;
	if (copy) {
		g->names[g->nnames].owned = strdup(s);
		if (!g->names[g->nnames].owned)
			return -ENOMEM;
		g->names[g->nnames].s = g->names[g->nnames].owned;
	}
	g->name_slots[j] = (uint32_t)g->nnames + 1;
	*idx = (uint32_t)g->nnames++;
	return 0;
}

/* The part of a mapping's file name after the last '/' (the model's
 * string, so it lives as long as the profile); NULL for no mapping. */
static const char *svg_module_of(const struct profile_mapping *m)
{
	const char *slash;

	if (!m || !m->file || !m->file[0])
		return NULL;
	slash = strrchr(m->file, '/');
	return slash && slash[1] ? slash + 1 : m->file;
}

/* Find the mapping with id, or NULL.  Ids are usually 1..n in order
 * (profile_add_mapping hands them out so); otherwise mappings are few
 * enough for a scan. */
static const struct profile_mapping *svg_mapping(const struct profile *p, uint64_t id)
{
	size_t i, n = profile_mapping_count(p);

	if (id == 0)
		return NULL;
	if (id <= n && profile_mapping_at(p, (size_t)id - 1)->id == id)
		return profile_mapping_at(p, (size_t)id - 1);
	for (i = 0; i < n; i++)
		if (profile_mapping_at(p, i)->id == id)
			return profile_mapping_at(p, i);
	return NULL;
}

/* Intern the frames of every location once, so the per-sample walk is a
 * few array reads per frame.  A location without lines is one frame named
 * "module+0xOFFSET" (file offset), or "0xADDRESS" without a mapping; a
 * line whose function is unknown is "?". */
static int svg_build_locations(struct svg_graph *g, const struct profile *p)
{
	size_t i, j, k = 0, nloc = profile_location_count(p), nframes = profile_frame_count(p);
	char buf[64];
	int rc;

	g->loc_first = calloc(nloc + 1, sizeof(*g->loc_first));
	g->loc_count = calloc(nloc + 1, sizeof(*g->loc_count));
	g->loc_module = calloc(nloc + 1, sizeof(*g->loc_module));
	g->loc_names = calloc(nframes + 1, sizeof(*g->loc_names));
	if (!g->loc_first || !g->loc_count || !g->loc_module || !g->loc_names)
		return -ENOMEM;
	for (i = 0; i < nloc; i++) {
		const struct profile_location *l = profile_location_at(p, i);
		const struct profile_mapping *m = svg_mapping(p, l->mapping_id);

		g->loc_first[i] = k;
		g->loc_module[i] = svg_module_of(m);
		if (l->nlines == 0) {
			if (m && l->address >= m->start)
				snprintf(buf, sizeof(buf), "%.32s+0x%" PRIx64,
					 g->loc_module[i] ? g->loc_module[i] : "?",
					 l->address - m->start + m->offset);
			else
				snprintf(buf, sizeof(buf), "0x%" PRIx64, l->address);
			rc = svg_intern_name(g, buf, 1, &g->loc_names[k++]);
			if (rc)
				return rc;
		}
		for (j = l->nlines; j-- > 0;) {
			const struct profile_function *f =
				profile_function_by_id(p, l->lines[j].function_id);

			rc = svg_intern_name(g, f && f->name ? f->name : "?", 0, &g->loc_names[k++]);
			if (rc)
				return rc;
		}
		g->loc_count[i] = k - g->loc_first[i];
	}
	return 0;
}

static uint64_t svg_child_hash(uint32_t parent, uint32_t name)
{
	return hashutil_mix(((uint64_t)parent << 32) | name);
}

/* The next frame of cursor c, root first: its name and module; 0 at the
 * end of the stack.  Locations the model does not know are skipped. */
static int svg_cursor_next(const struct svg_graph *g, const struct profile *p,
			   struct svg_cursor *c, uint32_t *name, const char **module)
{
	const struct profile_sample *s = profile_sample_at(p, c->sample);

	while (c->li == SIZE_MAX || c->frame >= g->loc_count[c->li]) {
		if (c->loc == 0)
			return 0;
		c->loc--;
		c->li = profile_location_index(p, s->location_ids[c->loc]);
		c->frame = 0;
	}
	*name = g->loc_names[g->loc_first[c->li] + c->frame++];
	*module = g->loc_module[c->li];
	return 1;
}

/* The candidate of this level for (parent, name), added if new.  The
 * level has room for one candidate per live cursor, its table for twice
 * that, so this cannot fail. */
static uint32_t svg_candidate(struct svg_level *lv, uint32_t parent, uint32_t name,
			      const char *module)
{
	size_t mask = lv->nslots - 1, j;
	struct svg_candidate *c;

	for (j = svg_child_hash(parent, name) & mask; lv->slots[j]; j = (j + 1) & mask) {
		c = &lv->cands[lv->slots[j] - 1];
		if (c->parent == parent && c->name == name)
			return lv->slots[j] - 1;
	}
	c = &lv->cands[lv->ncands];
	memset(c, 0, sizeof(*c));
	c->parent = parent;
	c->name = name;
	c->module = module;
	lv->slots[j] = (uint32_t)lv->ncands + 1;
	return (uint32_t)lv->ncands++;
}

/* Add the node of candidate c at depth; its index in *idx. */
static int svg_add_node(struct svg_graph *g, const struct svg_candidate *c, uint32_t depth,
			uint32_t *idx)
{
	struct svg_node *n;
	int rc;

	if (g->nnodes >= SVG_MAX_NODES)
		return -PPROBE_E_TOOBIG;
	rc = svg_reserve((void **)&g->nodes, &g->nodes_cap, g->nnodes, sizeof(*g->nodes));
	if (rc)
		return rc;
	n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof(*n));
	n->name = c->name;
	n->parent = c->parent;
	n->depth = depth;
	n->module = c->module;
	n->value = c->value;
	*idx = (uint32_t)g->nnodes++;
	return 0;
}

/* Build one level (depth) of the tree from the live cursors: every cursor
 * takes its next frame, frames with the same parent and name add up, and
 * those worth at least min become nodes.  Cursors whose frame did not
 * (or whose stack ended) drop out: nothing above a pruned frame can be
 * wider than it.  Returns the number of cursors left in *nlive. */
static int svg_build_level(struct svg_graph *g, const struct profile *p, struct svg_cursor *cur,
			   size_t *nlive, struct svg_level *lv, uint32_t depth, double min)
{
	size_t i, k = 0, n = *nlive;
	uint32_t name;
	const char *module;
	int rc;

	lv->nslots = hashutil_slots_for(n);
	memset(lv->slots, 0, lv->nslots * sizeof(*lv->slots));
	lv->ncands = 0;
	for (i = 0; i < n; i++) {
		struct svg_cursor *c = &cur[i];

		if (!svg_cursor_next(g, p, c, &name, &module)) {
			c->cand = UINT32_MAX;
			continue;
		}
		if (depth >= SVG_MAX_DEPTH) {
			struct svg_cursor peek = *c;
			uint32_t more;
			const char *ignored;

			if (svg_cursor_next(g, p, &peek, &more, &ignored)) {
				name = g->truncated_name;
				module = NULL;
			}
			c->loc = 0;
			c->li = SIZE_MAX;
		}
		c->cand = svg_candidate(lv, c->node, name, module);
		lv->cands[c->cand].value = profile_value_add(lv->cands[c->cand].value, c->value);
	}
	for (i = 0; i < lv->ncands; i++) {
		struct svg_candidate *c = &lv->cands[i];

		c->node = 0;
		if ((double)c->value >= min) {
			rc = svg_add_node(g, c, depth, &c->node);
			if (rc)
				return rc;
		} else {
			g->pruned++;
		}
	}
	for (i = 0; i < n; i++) {
		if (cur[i].cand == UINT32_MAX || lv->cands[cur[i].cand].node == 0)
			continue;
		cur[k] = cur[i];
		cur[k++].node = lv->cands[cur[i].cand].node;
	}
	*nlive = k;
	return 0;
}

/* Build the tree of value vi (its total in g->total), level by level from
 * the root, keeping only frames worth at least SVG_MIN_SHARE of the total:
 * the work is the frames of the stacks below the cut, and the memory the
 * kept nodes, however many distinct deep stacks the profile holds. */
static int svg_build(struct svg_graph *g, const struct profile *p, int vi)
{
	size_t i, n = profile_sample_count(p), nlive = 0;
	struct svg_cursor *cur = NULL;
	struct svg_level lv;
	uint32_t root_name, depth;
	double min;
	int rc;

	memset(&lv, 0, sizeof(lv));
	if (n >= SVG_MAX_NODES)
		return -PPROBE_E_TOOBIG;
	rc = svg_intern_name(g, SVG_ROOT_NAME, 0, &root_name);
	if (!rc)
		rc = svg_intern_name(g, SVG_TRUNCATED_NAME, 0, &g->truncated_name);
	if (!rc)
		rc = svg_build_locations(g, p);
	if (!rc)
		rc = svg_reserve((void **)&g->nodes, &g->nodes_cap, 0, sizeof(*g->nodes));
	if (rc)
		goto out;
	memset(&g->nodes[0], 0, sizeof(g->nodes[0]));
	g->nodes[0].name = root_name;
	g->nnodes = 1;
	cur = calloc(n + 1, sizeof(*cur));
	lv.cands = calloc(n + 1, sizeof(*lv.cands));
	lv.slots = calloc(hashutil_slots_for(n), sizeof(*lv.slots));
	if (!cur || !lv.cands || !lv.slots) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct profile_sample *s = profile_sample_at(p, i);
		int64_t v = s->values[vi];

		if (v <= 0)
			continue;
		g->total = profile_value_add(g->total, v);
		cur[nlive].sample = i;
		cur[nlive].value = v;
		cur[nlive].loc = s->nlocations;
		cur[nlive].li = SIZE_MAX;
		nlive++;
	}
	g->nodes[0].value = g->total;
	min = (double)g->total * SVG_MIN_SHARE;
	for (depth = 1; nlive && !rc; depth++)
		rc = svg_build_level(g, p, cur, &nlive, &lv, depth, min);
out:
	free(cur);
	free(lv.cands);
	free(lv.slots);
	return rc;
}

static void svg_graph_fini(struct svg_graph *g)
{
	size_t i;

	for (i = 0; i < g->nnames; i++)
		free(g->names[i].owned);
	free(g->names);
	free(g->name_slots);
	free(g->loc_first);
	free(g->loc_count);
	free(g->loc_names);
	free(g->loc_module);
	free(g->nodes);
}

static int svg_order_compare(const void *a, const void *b)
{
	const struct svg_order *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sort the non-root nodes by (parent, name) into *order and set every
 * node's x: children sit side by side from their parent's left edge, so
 * the parent's own value and its pruned callees leave a gap on the right.
 * A parent is always created before its children, so its index is smaller
 * and its group comes first: its x is known when its children are placed,
 * one pass after the sort. */
static int svg_layout(struct svg_graph *g, struct svg_order **order)
{
	size_t i, n = g->nnodes - 1;
	struct svg_order *o = calloc(n + 1, sizeof(*o));
	int64_t run = 0;

	if (!o)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		o[i].node = (uint32_t)(i + 1);
		o[i].parent = g->nodes[i + 1].parent;
		o[i].name = g->names[g->nodes[i + 1].name].s;
	}
	qsort(o, n, sizeof(*o), svg_order_compare);
	for (i = 0; i < n; i++) {
		struct svg_node *c = &g->nodes[o[i].node];

		if (i == 0 || o[i].parent != o[i - 1].parent)
			run = 0;
		c->x = profile_value_add(g->nodes[c->parent].x, run);
		run = profile_value_add(run, c->value);
	}
	*order = o;
	return 0;
}

/* Decode one character of s (NUL-terminated): its length in bytes (>= 1)
 * and in *cp the code point, or U+FFFD for a byte that does not start a
 * valid, shortest-form UTF-8 sequence and for characters XML 1.0 does not
 * allow (controls, U+FFFE, U+FFFF; surrogates are invalid UTF-8). */
static size_t svg_utf8_next(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c < 0x20 || c == 0x7f ? 0xfffd : c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = v == 0xfffe || v == 0xffff ? 0xfffd : v;
	return len;
}

/* Number of characters of s as svg_put_text counts them. */
static size_t svg_text_chars(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0;
	uint32_t cp;

	while (*u) {
		u += svg_utf8_next(u, &cp);
		n++;
	}
	return n;
}

/* Write at most max characters of s as XML character data or attribute
 * text: & < > " ' escaped, invalid bytes and forbidden characters as
 * U+FFFD, everything else as UTF-8. */
static void svg_put_text(FILE *out, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t k;
	uint32_t cp;

	for (; *u && max; max--) {
		k = svg_utf8_next(u, &cp);
		switch (cp) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		case 0xfffd:
			fputs("\xef\xbf\xbd", out);
			break;
		default:
			fwrite(u, 1, k, out);
		}
		u += k;
	}
}

/* Nanoseconds per unit for a time unit name (plural 's' dropped), or 0. */
static double svg_time_unit_ns(const char *unit)
{
	static const struct {
		const char *alias;
		double ns;
	} aliases[] = {
		{ "ns", 1 }, { "nanosecond", 1 }, { "us", 1e3 }, { "microsecond", 1e3 },
		{ "ms", 1e6 }, { "millisecond", 1e6 }, { "s", 1e9 }, { "sec", 1e9 },
		{ "second", 1e9 },
	};
	size_t i, len;

	if (!unit)
		return 0;
	len = strlen(unit);
	if (len > 2 && (unit[len - 1] == 's' || unit[len - 1] == 'S'))
		len--;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].alias) == len && strncasecmp(unit, aliases[i].alias, len) == 0)
			return aliases[i].ns;
	return 0;
}

/* How sample type vi is printed: a duration for time units; otherwise a
 * number and the type's name for counts ("30 samples"), its unit else. */
static void svg_unit_of(const struct profile *p, int vi, struct svg_unit *u)
{
	const struct profile_value_type *t = profile_sample_type(p, (size_t)vi);

	u->ns = svg_time_unit_ns(t->unit);
	if (!t->unit || !t->unit[0] || strcmp(t->unit, "count") == 0)
		u->label = t->type && t->type[0] ? t->type : "samples";
	else
		u->label = t->unit;
}

/* A colour for a frame: hue from the module's name, lightness varied a
 * little by the function's name so neighbours stand apart; grey without
 * a module.  Saturation stays below the search highlight's (full). */
static void svg_color(const char *module, const char *name, int *r, int *g, int *b)
{
	uint64_t hn = hashutil_str(name);
	double h, s = 0.62, l = 0.60 + (double)(hn % 13) / 100.0, c, x, m, rr, gg, bb;

	if (!module) {
		*r = *g = *b = (int)(255 * (0.66 + (double)(hn % 9) / 100.0));
		return;
	}
	h = (double)(hashutil_str(module) % 360);
	c = (1 - fabs(2 * l - 1)) * s;
	x = c * (1 - fabs(fmod(h / 60.0, 2) - 1));
	m = l - c / 2;
	if (h < 60)
		rr = c, gg = x, bb = 0;
	else if (h < 120)
		rr = x, gg = c, bb = 0;
	else if (h < 180)
		rr = 0, gg = c, bb = x;
	else if (h < 240)
		rr = 0, gg = x, bb = c;
	else if (h < 300)
		rr = x, gg = 0, bb = c;
	else
		rr = c, gg = 0, bb = x;
	*r = (int)lround((rr + m) * 255);
	*g = (int)lround((gg + m) * 255);
	*b = (int)lround((bb + m) * 255);
}

/* The text shown in a box w px wide: how many characters of a name of
 * nchars fit (all of it, or some followed by "...", or none). */
static size_t svg_fit_chars(double w, size_t nchars, int *ellipsis)
{
	double room = (w - 6) / (SVG_FONT_SIZE * SVG_FONT_WIDTH);
	size_t fit = room > 0 ? (size_t)room : 0;

	*ellipsis = 0;
	if (nchars <= fit)
		return nchars;
	if (fit < 4)
		return 0;
	*ellipsis = 1;
	return fit - 3;
}

/* Write "value, share" for the tooltip: the value as the script's fmt()
 * writes it (a duration, or a number and the label), the share of the
 * total with two decimals. */
static void svg_put_amount(FILE *out, int64_t v, int64_t total, const struct svg_unit *u)
{
	char buf[48];

	if (u->ns > 0) {
		double ns = (double)v * u->ns;

		if (fabs(ns) >= 9e18)
			snprintf(buf, sizeof(buf), "%.2fs", ns / 1e9);
		else
			timeutil_format_duration((int64_t)ns, buf, sizeof(buf));
		fputs(buf, out);
	} else {
		fprintf(out, "%" PRId64 " ", v);
		svg_put_text(out, u->label, SIZE_MAX);
	}
	fprintf(out, ", %.2f%%", total > 0 ? (double)v * 100.0 / (double)total : 0.0);
}

/* One frame: its group, tooltip, box and (truncated) label. */
static void svg_put_frame(FILE *out, const struct svg_graph *g, const struct svg_node *n,
			  int height, const struct svg_unit *u)
{
	const char *name = g->names[n->name].s;
	double scale = g->total > 0 ? (double)SVG_FRAME_W / (double)g->total : 0;
	double x = SVG_XPAD + (double)n->x * scale;
	double w = g->total > 0 ? (double)n->value * scale : SVG_FRAME_W;
	double y = height - SVG_YPAD_BOTTOM - (double)(n->depth + 1) * SVG_FRAME_H;
	size_t nchars = svg_text_chars(name), shown;
	int r, gr, b, ellipsis;

	svg_color(n->module, name, &r, &gr, &b);
	fputs("<g class=\"frame\" data-name=\"", out);
	svg_put_text(out, name, SIZE_MAX);
	fputs("\" data-module=\"", out);
	svg_put_text(out, n->module, SIZE_MAX);
	fprintf(out, "\" data-v=\"%" PRId64 "\" data-x=\"%" PRId64 "\" data-d=\"%" PRIu32 "\"><title>",
		n->value, n->x, n->depth);
	svg_put_text(out, name, SIZE_MAX);
	if (n->module) {
		fputs(" (", out);
		svg_put_text(out, n->module, SIZE_MAX);
		fputc(')', out);
	}
	fputs(" \xe2\x80\x94 ", out);
	svg_put_amount(out, n->value, g->total, u);
	fprintf(out,
		"</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
		"fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\">",
		x, y, w, SVG_FRAME_H - 1, r, gr, b, x + 3, y + 10.5);
	shown = svg_fit_chars(w, nchars, &ellipsis);
	svg_put_text(out, name, shown);
	if (ellipsis)
		fputs("...", out);
	fputs("</text></g>\n", out);
}

static const char SVG_STYLE[] =
	"<style type=\"text/css\"><![CDATA[\n"
	"text { font-family: Verdana, \"DejaVu Sans\", sans-serif; font-size: 12px; fill: #000; }\n"
	"#title { font-size: 17px; text-anchor: middle; }\n"
	
	"#search, #clear, #matched { text-anchor: end; }\n"
	".ctl { cursor: pointer; fill: #203080; }\n"
	".ctl:hover { text-decoration: underline; }\n"
	"g.frame { cursor: pointer; }\n"
	"g.frame text { pointer-events: none; }\n"
	"g.frame:hover > rect { stroke: #000; stroke-width: 0.5; }\n"
	"g.frame.match > rect { fill: rgb(230,0,230); }\n"
	"g.frame.parent > rect { opacity: 0.5; }\n"
	".hide { display: none; }\n"
	"]]></style>\n";

/* The interactive part.  Layout is recomputed from each frame's data-x,
 * data-v and data-d (value units), so zoom and reset are one function. */
static const char SVG_SCRIPT[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"(function () {\n"
	"\"use strict\";\n"
	"var svg = document.documentElement;\n"
	"function num(e, k) { return +e.getAttribute(\"data-\" + k); }\n"
	"var total = num(svg, \"total\"), unitNs = num(svg, \"unit-ns\");\n"
	"var unitLabel = svg.getAttribute(\"data-unit-label\");\n"
	"var fw = num(svg, \"frame-width\"), xpad = num(svg, \"xpad\");\n"
	"var charW = num(svg, \"font-size\") * num(svg, \"font-width\");\n"
	"var box = document.getElementById(\"frames\");\n"
	"var frames = Array.prototype.slice.call(box.getElementsByClassName(\"frame\"));\n"
	"var info = frames.map(function (g) {\n"
	"  var t = g.firstElementChild, r = t.nextElementSibling;\n"
	"  return { g: g, name: g.getAttribute(\"data-name\"), x: num(g, \"x\"), v: num(g, \"v\"),\n"
	"           d: num(g, \"d\"), title: t, rect: r, text: r.nextElementSibling };\n"
	"});\n"
	"var details = document.getElementById(\"details\");\n"
	"var matched = document.getElementById(\"matched\");\n"
	"var unzoom = document.getElementById(\"unzoom\");\n"
	"var clearBtn = document.getElementById(\"clear\");\n"
	"var pattern = null;\n"
	"\n"
	"/* Same text as the C side's svg_put_amount. */\n"
	"function fmt(v) {\n"
	"  if (unitNs > 0) {\n"
	"    var ns = v * unitNs, a = Math.abs(ns);\n"
	"    if (a >= 1e9) return (ns / 1e9).toFixed(2) + \"s\";\n"
	"    if (a >= 1e6) return (ns / 1e6).toFixed(2) + \"ms\";\n"
	"    if (a >= 1e3) return (ns / 1e3).toFixed(2) + \"us\";\n"
	"    return Math.round(ns) + \"ns\";\n"
	"  }\n"
	"  return v + \" \" + unitLabel;\n"
	"}\n"
	"function pct(v) { return (total > 0 ? v * 100 / total : 0).toFixed(2) + \"%\"; }\n"
	"\n"
	"/* Fit f's label into w px: estimate, then measure down. */\n"
	"function fit(f, w) {\n"
	"  var n = Math.floor((w - 6) / charW), s = f.name;\n"
	"  if (s.length > n) s = n >= 4 ? s.substring(0, n - 3) + \"...\" : \"\";\n"
	"  f.text.textContent = s;\n"
	"  while (s && f.text.getComputedTextLength() > w - 6) {\n"
	"    n--;\n"
	"    s = n >= 4 ? f.name.substring(0, n - 3) + \"...\" : \"\";\n"
	"    f.text.textContent = s;\n"
	"  }\n"
	"}\n"
	"function place(f, x, w) {\n"
	"  f.rect.setAttribute(\"x\", (xpad + x).toFixed(2));\n"
	"  f.rect.setAttribute(\"width\", w.toFixed(2));\n"
	"  f.text.setAttribute(\"x\", (xpad + x + 3).toFixed(2));\n"
	"  fit(f, w);\n"
	"}\n"
	"\n"
	"/* Show the subtree of the frame at (x0, v0, d0) full width, its\n"
	" * ancestors full width and faded, everything else hidden. */\n"
	"function layout(x0, v0, d0) {\n"
	"  if (!(v0 > 0)) return;\n"
	"  var scale = fw / v0;\n"
	"  info.forEach(function (f) {\n"
	"    var c = f.g.classList;\n"
	"    c.remove(\"parent\");\n"
	"    if (f.d >= d0 && f.x >= x0 && f.x + f.v <= x0 + v0) {\n"
	"      var w = f.v * scale;\n"
	"      if (w < 0.1) { c.add(\"hide\"); return; }\n"
	"      c.remove(\"hide\");\n"
	"      place(f, (f.x - x0) * scale, w);\n"
	"    } else if (f.d < d0 && f.x <= x0 && f.x + f.v >= x0 + v0) {\n"
	"      c.remove(\"hide\");\n"
	"      c.add(\"parent\");\n"
	"      place(f, 0, fw);\n"
	"    } else {\n"
	"      c.add(\"hide\");\n"
	"    }\n"
	"  });\n"
	"}\n"
	"function find(g) {\n"
	"  for (var i = 0; i < info.length; i++) if (info[i].g === g) return info[i];\n"
	"  return null;\n"
	"}\n"
	"function zoom(g) {\n"
	"  var f = find(g);\n"
	"  if (!f) return false;\n"
	"  if (f.d === 0) { reset(); return true; }\n"
	
	"  layout(f.x, f.v, f.d);\n"
	"  unzoom.classList.remove(\"hide\");\n"
	"  return true;\n"
	"}\n"
	"function reset() {\n"
	
	"  layout(0, total, 0);\n"
	"  unzoom.classList.add(\"hide\");\n"
	"}\n"
	"\n"
	"/* Highlight frames whose name matches pattern (a regular expression,\n"
	" * or plain text if it is not one); \"\" or null clears.  The matched\n"
	" * share counts nested matches once. */\n"
	"function search(p) {\n"
	"  info.forEach(function (f) { f.g.classList.remove(\"match\"); });\n"
	"  pattern = p ? String(p) : null;\n"
	"  if (!pattern) {\n"
	"    matched.classList.add(\"hide\");\n"
	"    clearBtn.classList.add(\"hide\");\n"
	"    return { matches: 0, value: 0, percent: 0 };\n"
	"  }\n"
	"  var re;\n"
	"  try { re = new RegExp(pattern); }\n"
	"  catch (e) { re = new RegExp(pattern.replace(/[.*+?^${}()|[\\]\\\\]/g, \"\\\\$&\")); }\n"
	"  var hits = [];\n"
	"  info.forEach(function (f) {\n"
	"    if (f.d > 0 && re.test(f.name)) { f.g.classList.add(\"match\"); hits.push(f); }\n"
	"  });\n"
	"  hits.sort(function (a, b) { return a.x - b.x || b.v - a.v; });\n"
	"  var value = 0, end = -1;\n"
	"  hits.forEach(function (f) {\n"
	"    var s = Math.max(f.x, end), e = f.x + f.v;\n"
	"    if (e > s) { value += e - s; end = e; }\n"
	"  });\n"
	"  matched.textContent = \"Matched: \" + pct(value) + \" (\" + fmt(value) + \")\";\n"
	"  matched.classList.remove(\"hide\");\n"
	"  clearBtn.classList.remove(\"hide\");\n"
	"  return { matches: hits.length, value: value,\n"
	"           percent: total > 0 ? value * 100 / total : 0 };\n"
	"}\n"
	"function ask() {\n"
	"  var p = window.prompt(\"Search frames (regular expression)\", pattern || \"\");\n"
	"  if (p !== null) search(p);\n"
	"}\n"
	"\n"
	"function frameOf(e) { return e.target.closest ? e.target.closest(\"g.frame\") : null; }\n"
	"box.addEventListener(\"click\", function (e) { var g = frameOf(e); if (g) zoom(g); });\n"
	"box.addEventListener(\"mouseover\", function (e) {\n"
	"  var g = frameOf(e);\n"
	"  if (g) details.textContent = g.firstElementChild.textContent;\n"
	"});\n"
	"box.addEventListener(\"mouseout\", function () { details.textContent = \" \"; });\n"
	"unzoom.addEventListener(\"click\", reset);\n"
	"document.getElementById(\"search\").addEventListener(\"click\", ask);\n"
	"clearBtn.addEventListener(\"click\", function () { search(null); });\n"
	"window.addEventListener(\"keydown\", function (e) {\n"
	"  if (((e.ctrlKey || e.metaKey) && (e.key === \"f\" || e.key === \"F\")) || e.key === \"/\") {\n"
	"    e.preventDefault();\n"
	"    ask();\n"
	"  } else if (e.key === \"Escape\") {\n"
	"    reset();\n"
	"    search(null);\n"
	"  }\n"
	"});\n"
	"\n"
	"/* Stable entry points (tests/integration/test_svg_browser.py). */\n"
	"window.pprobeSearch = search;\n"
	"window.pprobeZoom = zoom;\n"
	"window.pprobeReset = reset;\n"
	"window.pprobeFormat = fmt;\n"
	"window.pprobeReady = true;\n"
	"})();\n"
	"]]></script>\n";

/* Write the document: header, controls, the frames in layout order
 * (root first), script. */
static void svg_put_document(FILE *out, const struct svg_graph *g, const struct svg_order *order,
			     const char *title, const struct profile *p, int vi)
{
	const struct profile_value_type *t = profile_sample_type(p, (size_t)vi);
	size_t i, n = g->nnodes - 1;
	uint32_t maxdepth = 0;
	struct svg_unit u;
	int height;

	svg_unit_of(p, vi, &u);
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].depth > maxdepth)
			maxdepth = g->nodes[i].depth;
	height = SVG_YPAD_TOP + (int)(maxdepth + 1) * SVG_FRAME_H + SVG_YPAD_BOTTOM;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
	fprintf(out,
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" data-total=\"%" PRId64 "\" "
		"data-unit-ns=\"%g\" data-unit-label=\"",
		SVG_WIDTH, height, SVG_WIDTH, height, g->total, u.ns);
	svg_put_text(out, u.label, SIZE_MAX);
	fprintf(out,
		"\" data-frame-width=\"%d\" data-xpad=\"%d\" data-font-size=\"%d\" "
		"data-font-width=\"%g\" data-frames=\"%zu\" data-pruned=\"%zu\">\n",
		SVG_FRAME_W, SVG_XPAD, SVG_FONT_SIZE, SVG_FONT_WIDTH, g->nnodes, g->pruned);
	fputs(SVG_STYLE, out);
	fputs("<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
	      "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" "
	      "offset=\"95%\"/></linearGradient></defs>\n",
	      out);
	fputs("<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"url(#background)\"/>\n",
	      out);
	fprintf(out, "<text id=\"title\" x=\"%d\" y=\"24\">", SVG_WIDTH / 2);
	svg_put_text(out, title && title[0] ? title : "Flame Graph", SIZE_MAX);
	fputs(" \xe2\x80\x94 ", out);
	svg_put_text(out, t->type, SIZE_MAX);
	fputs("</text>\n", out);
	fprintf(out, "<text id=\"unzoom\" class=\"ctl hide\" x=\"%d\" y=\"24\">Reset zoom</text>\n",
		SVG_XPAD);
	fprintf(out, "<text id=\"search\" class=\"ctl\" x=\"%d\" y=\"24\">Search</text>\n",
		SVG_WIDTH - SVG_XPAD);
	fprintf(out, "<text id=\"clear\" class=\"ctl hide\" x=\"%d\" y=\"24\">Clear</text>\n",
		SVG_WIDTH - SVG_XPAD - 60);
	fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", SVG_XPAD,
		height - SVG_YPAD_BOTTOM / 2);
	fprintf(out, "<text id=\"matched\" class=\"hide\" x=\"%d\" y=\"%d\"> </text>\n",
		SVG_WIDTH - SVG_XPAD, height - SVG_YPAD_BOTTOM / 2);
	fputs("<g id=\"frames\">\n", out);
	svg_put_frame(out, g, &g->nodes[0], height, &u);
	for (i = 0; i < n; i++)
		svg_put_frame(out, g, &g->nodes[order[i].node], height, &u);
	fputs("</g>\n", out);
	fputs(SVG_SCRIPT, out);
	fputs("</svg>\n", out);
}

/* Write the flame graph of sample type vi.  -EINVAL for a bad argument,
 * -ENOMEM, -PPROBE_E_TOOBIG if the values or the tree overflow, -EIO if
 * out fails.  Nothing is written unless the tree was built. */
int fmt_svg_flamegraph(const struct profile *p, int vi, const char *title, FILE *out)
{
	struct svg_graph g;
	struct svg_order *order = NULL;
	int rc;

	if (!p || !out || vi < 0 || (size_t)vi >= profile_sample_type_count(p))
		return -EINVAL;
	memset(&g, 0, sizeof(g));
	rc = svg_build(&g, p, vi);
	if (!rc)
		rc = svg_layout(&g, &order);
	if (rc)
		goto out;
	svg_put_document(out, &g, order, title, p, vi);
	if (fflush(out) != 0 || ferror(out))
		rc = -EIO;
out:
	free(order);
	svg_graph_fini(&g);
	return rc;
}
