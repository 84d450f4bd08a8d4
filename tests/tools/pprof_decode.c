/* pprof_decode - print a pprof file as plain lines, for tests.
 *
 * usage: pprof_decode [--lines] [--folded VI] FILE
 *
 * Default output, one record per line:
 *   types T/U ...                 every sample type
 *   default_type T                if set
 *   period T/U N                  if a period type is set
 *   time_nanos N
 *   duration_nanos N
 *   comment TEXT                  each
 *   mapping ID 0xSTART 0xLIMIT 0xOFFSET FILE BUILDID   (- for none)
 *   sample V0 V1 ...<TAB>FRAMES<TAB>LABELS             each sample
 * FRAMES is leaf first, ';'-separated, each location expanded to its
 * lines innermost first; a frame is the function name (name@file:line
 * with --lines, '?' for an unknown file) or 0xADDR for a location
 * without lines.  LABELS is space-separated key=value in stored order,
 * numeric ones key=NUM or key=NUMunit.
 * --folded VI prints fmt_text_folded()'s output for value index VI instead.
 * Exit 0 on success, 1 on bad input, 2 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/error.h"
#include "pprobe/fmt_text.h"
#include "pprobe/pprof.h"
#include "pprobe/profile.h"

static void decode_print_header(const struct profile *p)
{
	const struct profile_value_type *pt = profile_period_type(p);
	size_t i;

	fputs("types", stdout);
	for (i = 0; i < profile_sample_type_count(p); i++) {
		const struct profile_value_type *vt = profile_sample_type(p, i);

		printf(" %s/%s", vt->type, vt->unit);
	}
	putchar('\n');
	if (profile_default_sample_type(p))
		printf("default_type %s\n", profile_default_sample_type(p));
	if (pt)
		printf("period %s/%s %" PRId64 "\n", pt->type, pt->unit, profile_period(p));
	printf("time_nanos %" PRId64 "\n", profile_time_nanos(p));
	printf("duration_nanos %" PRId64 "\n", profile_duration_nanos(p));
	for (i = 0; i < profile_comment_count(p); i++)
		printf("comment %s\n", profile_comment(p, i));
	for (i = 0; i < profile_mapping_count(p); i++) {
		const struct profile_mapping *m = profile_mapping_at(p, i);

		printf("mapping %" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " %s %s\n", m->id,
		       m->start, m->limit, m->offset, m->file ? m->file : "-",
		       m->build_id ? m->build_id : "-");
	}
}

static void decode_print_sample(const struct profile *p, const struct profile_sample *s,
				int lines)
{
	const char *sep = "";
	size_t i, j;

	fputs("sample", stdout);
	for (i = 0; i < profile_sample_type_count(p); i++)
		printf(" %" PRId64, s->values[i]);
	putchar('\t');
	for (i = 0; i < s->nlocations; i++) {
		const struct profile_location *l = profile_location_by_id(p, s->location_ids[i]);

		if (!l)
			continue;
		if (l->nlines == 0) {
			printf("%s0x%" PRIx64, sep, l->address);
			sep = ";";
		}
		for (j = 0; j < l->nlines; j++) {
			const struct profile_function *f =
				profile_function_by_id(p, l->lines[j].function_id);

			printf("%s%s", sep, f ? f->name : "?");
			if (lines)
				printf("@%s:%" PRId64, f && f->file ? f->file : "?", l->lines[j].line);
			sep = ";";
		}
	}
	putchar('\t');
	for (i = 0; i < s->nlabels; i++) {
		const struct profile_label *l = &s->labels[i];

		if (l->str)
			printf("%s%s=%s", i ? " " : "", l->key, l->str);
		else
			printf("%s%s=%" PRId64 "%s", i ? " " : "", l->key, l->num,
			       l->num_unit ? l->num_unit : "");
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	struct profile *p = NULL;
	const char *path = NULL;
	int lines = 0, folded = -1, rc, i;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--lines") == 0) {
			lines = 1;
		} else if (strcmp(argv[i], "--folded") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || end == argv[i] || v < 0 || v >= PROFILE_MAX_VALUES)
				goto usage;
			folded = (int)v;
		} else if (argv[i][0] == '-' || path) {
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (!path)
		goto usage;
	rc = pprof_read_file(path, &p);
	if (rc) {
		fprintf(stderr, "pprof_decode: %s: %s\n", path, error_str(rc));
		return 1;
	}
	if (folded >= 0) {
		rc = fmt_text_folded(p, folded, 0, stdout);
		if (rc) {
			fprintf(stderr, "pprof_decode: --folded %d: %s\n", folded, error_str(rc));
			profile_free(p);
			return 1;
		}
	} else {
		decode_print_header(p);
		for (k = 0; k < profile_sample_count(p); k++)
			decode_print_sample(p, profile_sample_at(p, k), lines);
	}
	profile_free(p);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "pprof_decode: write error\n");
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: pprof_decode [--lines] [--folded VI] FILE\n");
	return 2;
}
