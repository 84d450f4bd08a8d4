/* pprof_read.c - decode a pprof profile into the profile model.
 *
 * Input is untrusted (a file named on the command line, maybe written by
 * another tool): the inflated size is capped, protobuf-c checks the wire
 * format, and every string index and id is checked here before it is used,
 * so a bad file yields -PPROBE_E_BADPROTO / -PPROBE_E_GZIP /
 * -PPROBE_E_TOOBIG, never a crash.  Ids are kept as stored; samples with
 * equal locations and labels are merged as profile_add_sample does.
 * Touches no target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "profile.pb-c.h"
#include "pprobe/error.h"
#include "pprobe/pprof.h"
#include "pprobe/profile.h"

/* Caps on what we accept: the inflated message (as pprof_write.c's cap)
 * and the file as read from disk. */
#define PPROF_READ_MAX_RAW ((size_t)1 << 30)
#define PPROF_READ_MAX_FILE ((size_t)1 << 30)

/* Inflate one or more concatenated gzip members into a new buffer of at
 * most PPROF_READ_MAX_RAW bytes.  -PPROBE_E_GZIP for a corrupt or
 * truncated stream, -PPROBE_E_TOOBIG past the cap. */
static int gunzip_buffer(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	z_stream zs;
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	int rc = 0, zrc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	for (;;) {
		size_t chunk_in, chunk_out;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : (inlen < 4096 ? 16384 : inlen * 4);
			uint8_t *nbuf;

			if (cap >= PPROF_READ_MAX_RAW) {
				rc = -PPROBE_E_TOOBIG;
				goto out;
			}
			if (ncap > PPROF_READ_MAX_RAW)
				ncap = PPROF_READ_MAX_RAW;
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		/* zlib counts in uInt; feed it at most 1 GiB at a time. */
		chunk_in = inlen - (size_t)(zs.next_in - in);
		if (chunk_in > ((size_t)1 << 30))
			chunk_in = (size_t)1 << 30;
		chunk_out = cap - len;
		if (chunk_out > ((size_t)1 << 30))
			chunk_out = (size_t)1 << 30;
		zs.avail_in = (uInt)chunk_in;
		zs.next_out = buf + len;
		zs.avail_out = (uInt)chunk_out;
		zrc = inflate(&zs, Z_NO_FLUSH);
		len += chunk_out - zs.avail_out;
		if (zrc == Z_STREAM_END) {
			size_t left = inlen - (size_t)(zs.next_in - in);

			/* Another member follows only if it starts with the magic. */
			if (left < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b)
				break;
			if (inflateReset(&zs) != Z_OK) {
				rc = -PPROBE_E_GZIP;
				goto out;
			}
			continue;
		}
		if (zrc == Z_BUF_ERROR && zs.avail_out > 0) {
			/* No progress with output room left: input ran out early. */
			rc = -PPROBE_E_GZIP;
			goto out;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = zrc == Z_MEM_ERROR ? -ENOMEM : -PPROBE_E_GZIP;
			goto out;
		}
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	inflateEnd(&zs);
	free(buf);
	return rc;
}

/* String idx of the table, or NULL if out of range. */
static const char *msg_str(const Perftools__Profiles__Profile *m, int64_t idx)
{
	if (idx < 0 || (uint64_t)idx >= m->n_string_table)
		return NULL;
	return m->string_table[idx];
}

/* Map a model error from untrusted data (unknown or repeated id) to ours. */
static int bad_input(int rc)
{
	return rc == -EINVAL || rc == -EEXIST ? -PPROBE_E_BADPROTO : rc;
}

/* Sample types, period, times, comments and the default sample type. */
static int read_header(const Perftools__Profiles__Profile *m, struct profile *p)
{
	size_t i;
	int rc;

	if (m->n_sample_type > PROFILE_MAX_VALUES)
		return -PPROBE_E_TOOBIG;
	for (i = 0; i < m->n_sample_type; i++) {
		const char *type = msg_str(m, m->sample_type[i]->type);
		const char *unit = msg_str(m, m->sample_type[i]->unit);

		if (!type || !unit)
			return -PPROBE_E_BADPROTO;
		rc = profile_add_sample_type(p, type, unit);
		if (rc)
			return bad_input(rc);
	}
	if (m->period_type) {
		const char *type = msg_str(m, m->period_type->type);
		const char *unit = msg_str(m, m->period_type->unit);

		if (!type || !unit)
			return -PPROBE_E_BADPROTO;
		rc = profile_set_period(p, type, unit, m->period);
		if (rc)
			return rc;
	} else if (m->period) {
		rc = profile_set_period(p, "", "", m->period);
		if (rc)
			return rc;
	}
	profile_set_time(p, m->time_nanos, m->duration_nanos);
	for (i = 0; i < m->n_comment; i++) {
		const char *c = msg_str(m, m->comment[i]);

		if (!c)
			return -PPROBE_E_BADPROTO;
		rc = profile_add_comment(p, c);
		if (rc)
			return rc;
	}
	if (!msg_str(m, m->default_sample_type) || !msg_str(m, m->drop_frames) ||
	    !msg_str(m, m->keep_frames))
		return -PPROBE_E_BADPROTO;
	if (m->default_sample_type) {
		rc = profile_set_default_sample_type(p, msg_str(m, m->default_sample_type));
		if (rc)
			return rc;
	}
	return 0;
}

static int read_mappings(const Perftools__Profiles__Profile *m, struct profile *p)
{
	size_t i;
	int rc;

	for (i = 0; i < m->n_mapping; i++) {
		const Perftools__Profiles__Mapping *mm = m->mapping[i];
		struct profile_mapping pm = {
			.id = mm->id,
			.start = mm->memory_start,
			.limit = mm->memory_limit,
			.offset = mm->file_offset,
			.file = (char *)msg_str(m, mm->filename),
			.build_id = (char *)msg_str(m, mm->build_id),
			.has_functions = mm->has_functions,
			.has_filenames = mm->has_filenames,
			.has_line_numbers = mm->has_line_numbers,
			.has_inline_frames = mm->has_inline_frames,
		};

		if (!pm.file || !pm.build_id)
			return -PPROBE_E_BADPROTO;
		rc = profile_put_mapping(p, &pm);
		if (rc)
			return bad_input(rc);
	}
	return 0;
}

static int read_functions(const Perftools__Profiles__Profile *m, struct profile *p)
{
	size_t i;
	int rc;

	for (i = 0; i < m->n_function; i++) {
		const Perftools__Profiles__Function *f = m->function[i];
		const char *name = msg_str(m, f->name);
		const char *system_name = msg_str(m, f->system_name);
		const char *file = msg_str(m, f->filename);

		if (!name || !system_name || !file)
			return -PPROBE_E_BADPROTO;
		/* An absent system name means "same as name" in the model. */
		rc = profile_put_function(p, f->id, name, *system_name ? system_name : NULL, file,
					  f->start_line);
		if (rc)
			return bad_input(rc);
	}
	return 0;
}

/* Locations; mappings and functions must be in already, since
 * profile_put_location checks the ids its lines name. */
static int read_locations(const Perftools__Profiles__Profile *m, struct profile *p)
{
	struct profile_line *lines = NULL;
	size_t i, j, cap = 0;
	int rc = 0;

	for (i = 0; i < m->n_location; i++) {
		const Perftools__Profiles__Location *l = m->location[i];

		if (l->n_line > cap) {
			struct profile_line *a = realloc(lines, l->n_line * sizeof(*a));

			if (!a) {
				rc = -ENOMEM;
				goto out;
			}
			lines = a;
			cap = l->n_line;
		}
		for (j = 0; j < l->n_line; j++) {
			lines[j].function_id = l->line[j]->function_id;
			lines[j].line = l->line[j]->line;
		}
		rc = bad_input(profile_put_location(p, l->id, l->mapping_id, l->address, lines,
						    l->n_line));
		if (rc)
			goto out;
	}
out:
	free(lines);
	return rc;
}

static int read_samples(const Perftools__Profiles__Profile *m, struct profile *p)
{
	struct profile_label_in *labels = NULL;
	size_t i, j, cap = 0;
	int rc = 0;

	for (i = 0; i < m->n_sample; i++) {
		const Perftools__Profiles__Sample *s = m->sample[i];

		if (s->n_value != m->n_sample_type) {
			rc = -PPROBE_E_BADPROTO;
			goto out;
		}
		if (s->n_label > cap) {
			struct profile_label_in *a = realloc(labels, s->n_label * sizeof(*a));

			if (!a) {
				rc = -ENOMEM;
				goto out;
			}
			labels = a;
			cap = s->n_label;
		}
		for (j = 0; j < s->n_label; j++) {
			const Perftools__Profiles__Label *l = s->label[j];
			const char *str = msg_str(m, l->str);
			const char *unit = msg_str(m, l->num_unit);

			labels[j].key = msg_str(m, l->key);
			if (!labels[j].key || !str || !unit) {
				rc = -PPROBE_E_BADPROTO;
				goto out;
			}
			/* pprof's rule: a label is a string label iff str is set. */
			labels[j].str = l->str ? str : NULL;
			labels[j].num = l->num;
			labels[j].num_unit = unit;
		}
		rc = bad_input(profile_add_sample(p, s->location_id, s->n_location_id, s->value,
						  labels, s->n_label));
		if (rc)
			goto out;
	}
out:
	free(labels);
	return rc;
}

/* Decode len bytes (gzip-compressed or plain protobuf) into a new profile
 * in *out (caller frees).  The string table must start with "". */
int pprof_decode(const uint8_t *buf, size_t len, struct profile **out)
{
	Perftools__Profiles__Profile *m = NULL;
	struct profile *p = NULL;
	uint8_t *raw = NULL;
	size_t rawlen = len;
	const uint8_t *data = buf;
	int rc;

	*out = NULL;
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
		rc = gunzip_buffer(buf, len, &raw, &rawlen);
		if (rc)
			goto out;
		data = raw;
	} else if (len > PPROF_READ_MAX_RAW) {
		rc = -PPROBE_E_TOOBIG;
		goto out;
	}
	m = perftools__profiles__profile__unpack(NULL, rawlen, data);
	if (!m || m->n_string_table == 0 || m->string_table[0][0] != '\0') {
		rc = -PPROBE_E_BADPROTO;
		goto out;
	}
	p = profile_new();
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	rc = read_header(m, p);
	if (!rc)
		rc = read_mappings(m, p);
	if (!rc)
		rc = read_functions(m, p);
	if (!rc)
		rc = read_locations(m, p);
	if (!rc)
		rc = read_samples(m, p);
	if (rc)
		goto out;
	*out = p;
	p = NULL;
out:
	profile_free(p);
	if (m)
		perftools__profiles__profile__free_unpacked(m, NULL);
	free(raw);
	return rc;
}

/* Read all of fd (a file or a pipe) into a new buffer, at most
 * PPROF_READ_MAX_FILE bytes. */
static int read_all(int fd, uint8_t **out, size_t *outlen)
{
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	struct stat st;
	int rc = 0;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > PPROF_READ_MAX_FILE)
			return -PPROBE_E_TOOBIG;
		cap = (size_t)st.st_size + 1; /* +1: see EOF without growing */
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nbuf;

			if (cap > PPROF_READ_MAX_FILE) {
				rc = -PPROBE_E_TOOBIG;
				goto out;
			}
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		} else if (!buf) {
			buf = malloc(cap);
			if (!buf) {
				rc = -ENOMEM;
				goto out;
			}
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	return rc;
}

/* Read and decode the file at path; errors as pprof_decode, or -errno. */
int pprof_read_file(const char *path, struct profile **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = read_all(fd, &buf, &len);
	close(fd);
	if (!rc)
		rc = pprof_decode(buf, len, out);
	free(buf);
	return rc;
}
