/* fmt_text.c - `go tool pprof -top`-like and folded text reports.
 *
 * The top report aggregates by function name, as pprof's default
 * "functions" granularity does (file and line are dropped), and prints
 * values and percentages the way pprof's measurement package does, so the
 * two can be compared by eye.  Pure: reads the profile model only.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pprobe/hashutil.h"
#include "pprobe/fmt_text.h"
#include "pprobe/profile.h"
#include "pprobe/textesc.h"

/* One row of the top report. */
struct top_node {
	const char *name; /* the model's string, or owned (address nodes) */
	char *owned;
	int64_t flat, cum;
	size_t last_sample; /* sample index + 1 that last added to cum */
};

/* Rows by name, and for every location of the model the rows of its
 * frames (innermost first), found by location id. */
struct top_table {
	struct top_node *nodes;
	size_t nnodes, nodes_cap;
	size_t *name_slots; /* node index + 1, open addressing */
	size_t nname_slots;
	size_t *loc_first, *loc_count; /* per model location index */
	size_t *loc_nodes;             /* node indices of all locations' frames */
};

/* Index of the node named name (copied into owned storage if copy),
 * adding it if new.  The name table is sized for the worst case up front. */
static int top_intern(struct top_table *t, const char *name, int copy, size_t *idx)
{
	size_t mask = t->nname_slots - 1, j;
	struct top_node *n;

	for (j = hashutil_str(name) & mask; t->name_slots[j]; j = (j + 1) & mask) {
		if (strcmp(t->nodes[t->name_slots[j] - 1].name, name) == 0) {
			*idx = t->name_slots[j] - 1;
			return 0;
		}
	}
	n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof(*n));
	if (copy) {
		n->owned = strdup(name);
		if (!n->owned)
			return -ENOMEM;
		n->name = n->owned;
	} else {
		n->name = name;
	}
	t->name_slots[j] = t->nnodes + 1;
	*idx = t->nnodes++;
	return 0;
}

static void top_fini(struct top_table *t)
{
	size_t i;

	for (i = 0; i < t->nnodes; i++)
		free(t->nodes[i].owned);
	free(t->nodes);
	free(t->name_slots);
	free(t->loc_first);
	free(t->loc_count);
	free(t->loc_nodes);
}

/* Build the rows and the per-location frame lists.  At most one row per
 * frame exists, so all tables are sized once from the frame count. */
static int top_build(struct top_table *t, const struct profile *p)
{
	size_t i, j, k = 0, nloc = profile_location_count(p), nframes = profile_frame_count(p);
	char addr[32];
	int rc;

	t->nodes = calloc(nframes + 1, sizeof(*t->nodes));
	t->nname_slots = hashutil_slots_for(nframes);
	t->name_slots = calloc(t->nname_slots, sizeof(*t->name_slots));
	t->loc_first = calloc(nloc + 1, sizeof(*t->loc_first));
	t->loc_count = calloc(nloc + 1, sizeof(*t->loc_count));
	t->loc_nodes = calloc(nframes + 1, sizeof(*t->loc_nodes));
	if (!t->nodes || !t->name_slots || !t->loc_first || !t->loc_count || !t->loc_nodes)
		return -ENOMEM;
	for (i = 0; i < nloc; i++) {
		const struct profile_location *l = profile_location_at(p, i);

		t->loc_first[i] = k;
		if (l->nlines == 0) {
			snprintf(addr, sizeof(addr), "0x%" PRIx64, l->address);
			rc = top_intern(t, addr, 1, &t->loc_nodes[k++]);
			if (rc)
				return rc;
		}
		for (j = 0; j < l->nlines; j++) {
			const struct profile_function *f =
				profile_function_by_id(p, l->lines[j].function_id);

			rc = top_intern(t, f ? f->name : "?", 0, &t->loc_nodes[k++]);
			if (rc)
				return rc;
		}
		t->loc_count[i] = k - t->loc_first[i];
	}
	return 0;
}

/* Add every sample's value vi: flat to its leaf frame, cum once per
 * sample to every distinct function on its stack.  Returns the total. */
static int64_t top_accumulate(struct top_table *t, const struct profile *p, int vi)
{
	size_t i, j, f, nsamples = profile_sample_count(p);
	int64_t total = 0;

	for (i = 0; i < nsamples; i++) {
		const struct profile_sample *s = profile_sample_at(p, i);
		int64_t v = s->values[vi];
		int leaf = 1;

		total = profile_value_add(total, v);
		for (j = 0; j < s->nlocations; j++) {
			size_t li = profile_location_index(p, s->location_ids[j]);

			if (li == SIZE_MAX)
				continue;
			for (f = 0; f < t->loc_count[li]; f++) {
				struct top_node *n = &t->nodes[t->loc_nodes[t->loc_first[li] + f]];

				if (leaf)
					n->flat = profile_value_add(n->flat, v);
				leaf = 0;
				if (n->last_sample != i + 1) {
					n->cum = profile_value_add(n->cum, v);
					n->last_sample = i + 1;
				}
			}
		}
	}
	return total;
}

/* |v|, also for INT64_MIN (whose llabs overflows). */
static uint64_t text_magnitude(int64_t v)
{
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* pprof's FlatNameOrder: |flat| descending, name, |cum| descending. */
static int top_compare(const void *a, const void *b)
{
	const struct top_node *x = a, *y = b;
	uint64_t fx = text_magnitude(x->flat), fy = text_magnitude(y->flat);
	uint64_t cx = text_magnitude(x->cum), cy = text_magnitude(y->cum);
	int c;

	if (fx != fy)
		return fx > fy ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return 0;
}

/* Nanoseconds per unit for a time unit name (pprof's aliases, plural
 * 's' dropped), or 0 if unit is not a time unit. */
static double time_unit_ns(const char *unit)
{
	static const struct {
		const char *alias;
		double ns;
	} aliases[] = {
		{ "ns", 1 }, { "nanosecond", 1 }, { "us", 1e3 }, { "microsecond", 1e3 },
		{ "ms", 1e6 }, { "millisecond", 1e6 }, { "s", 1e9 }, { "sec", 1e9 },
		{ "second", 1e9 }, { "hr", 3.6e12 }, { "hour", 3.6e12 },
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

/* Format v as pprof does: time units scaled to the largest of ns, us,
 * ms, s, hrs that keeps the value >= 1, two decimals with ".00"
 * dropped; anything else a plain integer. */
static void text_format_value(char *buf, size_t size, int64_t v, const char *unit)
{
	static const struct {
		const char *name;
		double ns;
	} scales[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "hrs", 3.6e12 } };
	double per = time_unit_ns(unit), x, f = 0;
	const char *name = "s";
	size_t i, len;

	if (per == 0) {
		snprintf(buf, size, "%" PRId64, v);
		return;
	}
	x = fabs((double)v) * per;
	for (i = 0; i < sizeof(scales) / sizeof(scales[0]); i++) {
		if (scales[i].ns >= f && x / scales[i].ns >= 1.0) {
			f = scales[i].ns;
			name = scales[i].name;
		}
	}
	x /= f ? f : 1e9;
	snprintf(buf, size, "%s%.2f", v < 0 ? "-" : "", x);
	len = strlen(buf);
	if (len > 3 && strcmp(buf + len - 3, ".00") == 0)
		buf[len - 3] = '\0';
	if (strcmp(buf, "0") == 0 || strcmp(buf, "-0") == 0) {
		snprintf(buf, size, "0");
		return;
	}
	strncat(buf, name, size - strlen(buf) - 1);
}

/* pprof's percentage: "  100%" near 100, two decimals from 1%, else two
 * significant digits. */
static void text_format_percent(char *buf, size_t size, int64_t v, int64_t total)
{
	double r = total ? fabs((double)v / (double)total) * 100 : 0;

	if (r >= 99.95 && r <= 100.05)
		snprintf(buf, size, "  100%%");
	else if (r >= 1.0)
		snprintf(buf, size, "%5.2f%%", r);
	else
		snprintf(buf, size, "%5.2g%%", r);
}

/* Print the nodecount (0: all) functions with the largest flat value of
 * sample type vi.  -EINVAL for a bad vi, -EIO if out fails. */
int fmt_text_top(const struct profile *p, int vi, size_t nodecount, FILE *out)
{
	struct top_table t;
	const char *unit;
	char flat[32], cum[32], fp[16], sp[16], cp[16];
	int64_t total, sum = 0;
	size_t i, shown = 0;
	int rc;

	if (vi < 0 || (size_t)vi >= profile_sample_type_count(p))
		return -EINVAL;
	unit = profile_sample_type(p, (size_t)vi)->unit;
	memset(&t, 0, sizeof(t));
	rc = top_build(&t, p);
	if (rc)
		goto out;
	total = top_accumulate(&t, p, vi);
	qsort(t.nodes, t.nnodes, sizeof(*t.nodes), top_compare);
	for (i = 0; i < t.nnodes; i++)
		if (t.nodes[i].flat || t.nodes[i].cum)
			shown++;
	if (nodecount && shown > nodecount)
		shown = nodecount;
	text_format_value(flat, sizeof(flat), total, unit);
	fprintf(out, "Showing top %zu functions, total %s\n", shown, flat);
	fprintf(out, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
	for (i = 0; i < t.nnodes && shown; i++) {
		const struct top_node *n = &t.nodes[i];

		if (!n->flat && !n->cum)
			continue;
		shown--;
		sum = profile_value_add(sum, n->flat);
		text_format_value(flat, sizeof(flat), n->flat, unit);
		text_format_value(cum, sizeof(cum), n->cum, unit);
		text_format_percent(fp, sizeof(fp), n->flat, total);
		text_format_percent(sp, sizeof(sp), sum, total);
		text_format_percent(cp, sizeof(cp), n->cum, total);
		fprintf(out, "%10s %s %s %10s %s  ", flat, fp, sp, cum, cp);
		textesc_put(out, n->name, SIZE_MAX, false); /* the target's names */
		fputc('\n', out);
	}
	if (ferror(out))
		rc = -EIO;
out:
	top_fini(&t);
	return rc;
}

/* Write a frame name, with the folded format's frame separator ';'
 * replaced so a line stays parseable, and control bytes escaped
 * (textesc.h; a newline among them). */
static void folded_put_name(const char *name, FILE *out)
{
	for (;;) {
		size_t run = strcspn(name, ";");

		textesc_put(out, name, run, false);
		if (!name[run])
			return;
		fputc('_', out);
		name += run + 1;
	}
}

/* One folded line before merging: its stack and label text, and value. */
struct folded_line {
	char *stack, *labels;
	int64_t value;
};

/* Frames root first (each location's inlined frames expanded,
 * unsymbolized ones as 0xADDR), separated by ';'. */
static void folded_put_stack(const struct profile *p, const struct profile_sample *s, FILE *out)
{
	int first = 1;

	for (size_t j = s->nlocations; j-- > 0;) {
		const struct profile_location *l = profile_location_by_id(p, s->location_ids[j]);

		if (!l)
			continue;
		if (l->nlines == 0) {
			fprintf(out, "%s0x%" PRIx64, first ? "" : ";", l->address);
			first = 0;
		}
		for (size_t k = l->nlines; k-- > 0;) {
			const struct profile_function *f =
				profile_function_by_id(p, l->lines[k].function_id);

			if (!first)
				fputc(';', out);
			folded_put_name(f ? f->name : "?", out);
			first = 0;
		}
	}
}

static void folded_put_labels(const struct profile_sample *s, FILE *out)
{
	for (size_t k = 0; k < s->nlabels; k++) {
		const struct profile_label *l = &s->labels[k];

		if (l->str)
			fprintf(out, "%s%s=%s", k ? " " : "", l->key, l->str);
		else
			fprintf(out, "%s%s=%" PRId64 "%s", k ? " " : "", l->key, l->num,
				l->num_unit ? l->num_unit : "");
	}
}

/* A sample's stack, or its labels, as a new string (NULL when out of memory). */
static char *folded_render(const struct profile *p, const struct profile_sample *s, bool stack)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (stack)
		folded_put_stack(p, s, f);
	else
		folded_put_labels(s, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int folded_line_cmp(const void *a, const void *b)
{
	const struct folded_line *x = a, *y = b;
	int c = strcmp(x->stack, y->stack);

	return c ? c : strcmp(x->labels, y->labels);
}

/* One line per distinct stack (and, with labels, label set) with a
 * non-zero value vi, as stackcollapse-perf.pl writes them: frames root
 * first, a space, the summed value, and with labels " [key=value ...]".
 * Samples that differ only in what the format drops (addresses within a
 * function, lines) are one line. Sorted by stack. */
int fmt_text_folded(const struct profile *p, int vi, int labels, FILE *out)
{
	size_t nsamples = profile_sample_count(p), n = 0;
	struct folded_line *v;
	int rc = 0;

	if (vi < 0 || (size_t)vi >= profile_sample_type_count(p))
		return -EINVAL;
	v = calloc(nsamples ? nsamples : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nsamples && !rc; i++) {
		const struct profile_sample *s = profile_sample_at(p, i);

		if (s->values[vi] == 0)
			continue;
		v[n].value = s->values[vi];
		v[n].stack = folded_render(p, s, true);
		v[n].labels = labels ? folded_render(p, s, false) : strdup("");
		if (!v[n].stack || !v[n].labels)
			rc = -ENOMEM;
		n++;
	}
	if (!rc)
		qsort(v, n, sizeof(*v), folded_line_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t sum = v[i].value;

		while (i + 1 < n && !folded_line_cmp(&v[i], &v[i + 1]))
			sum = profile_value_add(sum, v[++i].value);
		fprintf(out, "%s %" PRId64, v[i].stack, sum);
		if (v[i].labels[0])
			fprintf(out, " [%s]", v[i].labels);
		fputc('\n', out);
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].stack);
		free(v[i].labels);
	}
	free(v);
	if (rc)
		return rc;
	return ferror(out) ? -EIO : 0;
}
