/* pprof_write.c - encode the profile model as gzip-compressed profile.proto.
 *
 * The model is walked once into protoc-c message structs that borrow the
 * model's arrays where the layouts agree (sample location ids and values),
 * every string is given an index in a deduplicated string table whose
 * entry 0 is "", the message is packed and then gzip-compressed, which is
 * what `go tool pprof` expects.  Reads the model only; touches no target.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "profile.pb-c.h"
#include "pprobe/error.h"
#include "pprobe/hashutil.h"
#include "pprobe/pprof.h"
#include "pprobe/profile.h"

/* Largest packed message written; pprof_read.c refuses to inflate more
 * than this, so nothing we write is unreadable by ourselves. */
#define PPROF_WRITE_MAX_RAW ((size_t)1 << 30)

/* Deduplicating string table: strs[i] is string index i; slots is an
 * open-addressing set of index + 1 keyed by content. */
struct strtab {
	const char **strs;
	size_t n, cap;
	size_t *slots;
	size_t nslots; /* power of two */
};

/* Everything the message borrows or owns while it is being packed. */
struct encoder {
	Perftools__Profiles__Profile msg;
	struct strtab st;
	Perftools__Profiles__ValueType sample_types[PROFILE_MAX_VALUES];
	Perftools__Profiles__ValueType *sample_type_ptrs[PROFILE_MAX_VALUES];
	Perftools__Profiles__ValueType period_type;
	int64_t *comments;
	Perftools__Profiles__Mapping *mappings, **mapping_ptrs;
	Perftools__Profiles__Function *functions, **function_ptrs;
	Perftools__Profiles__Location *locations, **location_ptrs;
	Perftools__Profiles__Line *lines, **line_ptrs;
	Perftools__Profiles__Sample *samples, **sample_ptrs;
	Perftools__Profiles__Label *labels, **label_ptrs;
};

/* Double the slot array and re-insert every string. */
static int strtab_grow(struct strtab *st)
{
	size_t nslots = st->nslots ? st->nslots * 2 : 1024, i;
	size_t *slots;

	if (nslots > SIZE_MAX / 2 / sizeof(*slots))
		return -ENOMEM;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < st->n; i++) {
		size_t j = hashutil_str(st->strs[i]) & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = i + 1;
	}
	free(st->slots);
	st->slots = slots;
	st->nslots = nslots;
	return 0;
}

/* The string index of s in *idx, adding s if new; NULL and "" are 0.
 * s is borrowed: it must outlive the table (the model's strings do). */
static int strtab_index(struct strtab *st, const char *s, int64_t *idx)
{
	size_t j;
	int rc;

	if (!s)
		s = "";
	if ((st->n + 1) * 2 > st->nslots) {
		rc = strtab_grow(st);
		if (rc)
			return rc;
	}
	for (j = hashutil_str(s) & (st->nslots - 1); st->slots[j]; j = (j + 1) & (st->nslots - 1)) {
		if (strcmp(st->strs[st->slots[j] - 1], s) == 0) {
			*idx = (int64_t)(st->slots[j] - 1);
			return 0;
		}
	}
	if (st->n == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 1024;
		const char **a;

		if (ncap > SIZE_MAX / sizeof(*a))
			return -ENOMEM;
		a = realloc(st->strs, ncap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		st->strs = a;
		st->cap = ncap;
	}
	st->strs[st->n] = s;
	st->slots[j] = st->n + 1;
	*idx = (int64_t)st->n++;
	return 0;
}

static void strtab_fini(struct strtab *st)
{
	free(st->strs);
	free(st->slots);
}

/* calloc that never returns NULL for zero elements. */
static void *encoder_alloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static void encoder_fini(struct encoder *e)
{
	strtab_fini(&e->st);
	free(e->comments);
	free(e->mappings);
	free(e->mapping_ptrs);
	free(e->functions);
	free(e->function_ptrs);
	free(e->locations);
	free(e->location_ptrs);
	free(e->lines);
	free(e->line_ptrs);
	free(e->samples);
	free(e->sample_ptrs);
	free(e->labels);
	free(e->label_ptrs);
}

static int encode_value_type(struct encoder *e, const struct profile_value_type *vt,
			     Perftools__Profiles__ValueType *m)
{
	int rc;

	perftools__profiles__value_type__init(m);
	rc = strtab_index(&e->st, vt->type, &m->type);
	if (!rc)
		rc = strtab_index(&e->st, vt->unit, &m->unit);
	return rc;
}

/* Sample types, period, times, comments and the default type. */
static int encode_header(struct encoder *e, const struct profile *p)
{
	const struct profile_value_type *pt = profile_period_type(p);
	size_t i, n = profile_sample_type_count(p);
	int rc;

	for (i = 0; i < n; i++) {
		rc = encode_value_type(e, profile_sample_type(p, i), &e->sample_types[i]);
		if (rc)
			return rc;
		e->sample_type_ptrs[i] = &e->sample_types[i];
	}
	e->msg.n_sample_type = n;
	e->msg.sample_type = e->sample_type_ptrs;
	if (pt) {
		rc = encode_value_type(e, pt, &e->period_type);
		if (rc)
			return rc;
		e->msg.period_type = &e->period_type;
	}
	e->msg.period = profile_period(p);
	e->msg.time_nanos = profile_time_nanos(p);
	e->msg.duration_nanos = profile_duration_nanos(p);
	rc = strtab_index(&e->st, profile_default_sample_type(p), &e->msg.default_sample_type);
	if (rc)
		return rc;
	n = profile_comment_count(p);
	e->comments = encoder_alloc(n, sizeof(*e->comments));
	if (!e->comments)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = strtab_index(&e->st, profile_comment(p, i), &e->comments[i]);
		if (rc)
			return rc;
	}
	e->msg.n_comment = n;
	e->msg.comment = e->comments;
	return 0;
}

static int encode_mappings(struct encoder *e, const struct profile *p)
{
	size_t i, n = profile_mapping_count(p);
	int rc;

	e->mappings = encoder_alloc(n, sizeof(*e->mappings));
	e->mapping_ptrs = encoder_alloc(n, sizeof(*e->mapping_ptrs));
	if (!e->mappings || !e->mapping_ptrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct profile_mapping *pm = profile_mapping_at(p, i);
		Perftools__Profiles__Mapping *m = &e->mappings[i];

		perftools__profiles__mapping__init(m);
		m->id = pm->id;
		m->memory_start = pm->start;
		m->memory_limit = pm->limit;
		m->file_offset = pm->offset;
		rc = strtab_index(&e->st, pm->file, &m->filename);
		if (!rc)
			rc = strtab_index(&e->st, pm->build_id, &m->build_id);
		if (rc)
			return rc;
		m->has_functions = pm->has_functions;
		m->has_filenames = pm->has_filenames;
		m->has_line_numbers = pm->has_line_numbers;
		m->has_inline_frames = pm->has_inline_frames;
		e->mapping_ptrs[i] = m;
	}
	e->msg.n_mapping = n;
	e->msg.mapping = e->mapping_ptrs;
	return 0;
}

static int encode_functions(struct encoder *e, const struct profile *p)
{
	size_t i, n = profile_function_count(p);
	int rc;

	e->functions = encoder_alloc(n, sizeof(*e->functions));
	e->function_ptrs = encoder_alloc(n, sizeof(*e->function_ptrs));
	if (!e->functions || !e->function_ptrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct profile_function *pf = profile_function_at(p, i);
		Perftools__Profiles__Function *f = &e->functions[i];

		perftools__profiles__function__init(f);
		f->id = pf->id;
		f->start_line = pf->start_line;
		rc = strtab_index(&e->st, pf->name, &f->name);
		if (!rc)
			rc = strtab_index(&e->st, pf->system_name, &f->system_name);
		if (!rc)
			rc = strtab_index(&e->st, pf->file, &f->filename);
		if (rc)
			return rc;
		e->function_ptrs[i] = f;
	}
	e->msg.n_function = n;
	e->msg.function = e->function_ptrs;
	return 0;
}

/* Locations, with all their lines in one array. */
static int encode_locations(struct encoder *e, const struct profile *p)
{
	size_t i, j, n = profile_location_count(p), nlines = 0, k = 0;

	for (i = 0; i < n; i++)
		nlines += profile_location_at(p, i)->nlines;
	e->locations = encoder_alloc(n, sizeof(*e->locations));
	e->location_ptrs = encoder_alloc(n, sizeof(*e->location_ptrs));
	e->lines = encoder_alloc(nlines, sizeof(*e->lines));
	e->line_ptrs = encoder_alloc(nlines, sizeof(*e->line_ptrs));
	if (!e->locations || !e->location_ptrs || !e->lines || !e->line_ptrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct profile_location *pl = profile_location_at(p, i);
		Perftools__Profiles__Location *l = &e->locations[i];

		perftools__profiles__location__init(l);
		l->id = pl->id;
		l->mapping_id = pl->mapping_id;
		l->address = pl->address;
		l->n_line = pl->nlines;
		l->line = &e->line_ptrs[k];
		for (j = 0; j < pl->nlines; j++, k++) {
			perftools__profiles__line__init(&e->lines[k]);
			e->lines[k].function_id = pl->lines[j].function_id;
			e->lines[k].line = pl->lines[j].line;
			e->line_ptrs[k] = &e->lines[k];
		}
		e->location_ptrs[i] = l;
	}
	e->msg.n_location = n;
	e->msg.location = e->location_ptrs;
	return 0;
}

/* Samples; location ids and values are borrowed from the model (the
 * packer only reads them), labels go into one array. */
static int encode_samples(struct encoder *e, const struct profile *p)
{
	size_t i, j, n = profile_sample_count(p), nlabels = 0, k = 0;
	size_t nvalues = profile_sample_type_count(p);
	int rc;

	for (i = 0; i < n; i++)
		nlabels += profile_sample_at(p, i)->nlabels;
	e->samples = encoder_alloc(n, sizeof(*e->samples));
	e->sample_ptrs = encoder_alloc(n, sizeof(*e->sample_ptrs));
	e->labels = encoder_alloc(nlabels, sizeof(*e->labels));
	e->label_ptrs = encoder_alloc(nlabels, sizeof(*e->label_ptrs));
	if (!e->samples || !e->sample_ptrs || !e->labels || !e->label_ptrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct profile_sample *ps = profile_sample_at(p, i);
		Perftools__Profiles__Sample *s = &e->samples[i];

		perftools__profiles__sample__init(s);
		s->n_location_id = ps->nlocations;
		s->location_id = (uint64_t *)ps->location_ids;
		s->n_value = nvalues;
		s->value = (int64_t *)ps->values;
		s->n_label = ps->nlabels;
		s->label = &e->label_ptrs[k];
		for (j = 0; j < ps->nlabels; j++, k++) {
			const struct profile_label *pl = &ps->labels[j];
			Perftools__Profiles__Label *l = &e->labels[k];

			perftools__profiles__label__init(l);
			rc = strtab_index(&e->st, pl->key, &l->key);
			if (rc)
				return rc;
			if (pl->str) {
				rc = strtab_index(&e->st, pl->str, &l->str);
			} else {
				l->num = pl->num;
				rc = strtab_index(&e->st, pl->num_unit, &l->num_unit);
			}
			if (rc)
				return rc;
			e->label_ptrs[k] = l;
		}
		e->sample_ptrs[i] = s;
	}
	e->msg.n_sample = n;
	e->msg.sample = e->sample_ptrs;
	return 0;
}

/* gzip in[0..inlen) into a new buffer; deflateBound makes one
 * Z_FINISH call sufficient.  inlen must fit zlib's uInt. */
static int gzip_buffer(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	z_stream zs;
	uint8_t *buf = NULL;
	uLong bound;
	int rc = 0, zrc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, (uLong)inlen);
	buf = malloc(bound);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	zrc = deflate(&zs, Z_FINISH);
	if (zrc != Z_STREAM_END) {
		rc = -PPROBE_E_INTERNAL;
		goto out;
	}
	*out = buf;
	*outlen = zs.total_out;
	buf = NULL;
out:
	deflateEnd(&zs);
	free(buf);
	return rc;
}

/* Encode p as gzip-compressed protobuf into *buf (malloc'd, caller frees).
 * -PPROBE_E_TOOBIG if the packed message would exceed what we read back. */
int pprof_encode(const struct profile *p, uint8_t **buf, size_t *len)
{
	struct encoder e;
	uint8_t *packed = NULL;
	size_t plen;
	int rc;

	memset(&e, 0, sizeof(e));
	perftools__profiles__profile__init(&e.msg);
	rc = strtab_index(&e.st, "", &(int64_t){ 0 });
	if (!rc)
		rc = encode_header(&e, p);
	if (!rc)
		rc = encode_mappings(&e, p);
	if (!rc)
		rc = encode_functions(&e, p);
	if (!rc)
		rc = encode_locations(&e, p);
	if (!rc)
		rc = encode_samples(&e, p);
	if (rc)
		goto out;
	e.msg.n_string_table = e.st.n;
	e.msg.string_table = (char **)e.st.strs;
	plen = protobuf_c_message_get_packed_size(&e.msg.base);
	if (plen > PPROF_WRITE_MAX_RAW) {
		rc = -PPROBE_E_TOOBIG;
		goto out;
	}
	packed = malloc(plen ? plen : 1);
	if (!packed) {
		rc = -ENOMEM;
		goto out;
	}
	if (protobuf_c_message_pack(&e.msg.base, packed) != plen) {
		rc = -PPROBE_E_INTERNAL;
		goto out;
	}
	rc = gzip_buffer(packed, plen, buf, len);
out:
	free(packed);
	encoder_fini(&e);
	return rc;
}

/* Encode and write all of it to fd, retrying short writes and EINTR. */
int pprof_write_fd(const struct profile *p, int fd)
{
	uint8_t *buf = NULL;
	size_t len = 0, off = 0;
	int rc;

	rc = pprof_encode(p, &buf, &len);
	if (rc)
		goto out;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		off += (size_t)w;
	}
out:
	free(buf);
	return rc;
}
