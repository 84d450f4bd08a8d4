/* snapshot_replay - unwind and symbolize a recorded snapshot, offline.
 *
 * usage: snapshot_replay [-root DIR] [-depth N] FILE
 *
 * FILE was written by snapshot_record (format: include/pprobe/snapfile.h).
 * No process is looked at: the maps come from the file (maps_load_saved),
 * the ELF files from their paths (below DIR with -root), the stacks from
 * the copies; then each thread goes through what `pprobe dump` does with a
 * capture: unwind_stack() (unwind_stack_how) at pprobe's default depth (256) and
 * stacks_symbolize() for each pc, inlined frames first.  A mapped file
 * whose build ID differs from the recorded one is refused (exit 1): a
 * replay must read the files the snapshot was taken over.
 *
 * Output, the same for the same input on any machine with those files:
 *
 *   thread NAME
 *   tid TID
 *   end WHY                   (unwind_end_str: "complete", "bad frame"...)
 *   frame FUNCTION\tFILE\tLINE\tMODULE\tVADDR\tINLINED\tHOW
 *   ...
 *
 * frames innermost first; FILE "-" and LINE 0 when unknown, MODULE the
 * mapped file's basename ("-" if none), VADDR the pc as an address of the
 * module's ELF file (so it is the same whatever the load address), INLINED
 * 1 for a frame inlined into the next, HOW how the unwinder found the pc
 * (unwind_how_str: "regs" for the interrupted pc, then "cfi", "signal",
 * "fp", "leaf", "scan", "guess", "go" or "rbp").  Exit 0, 1 on an error, 2 on usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/elfimage.h"
#include "pprobe/error.h"
#include "pprobe/maps.h"
#include "pprobe/snapfile.h"
#include "pprobe/stacks.h"
#include "pprobe/symbolize.h"
#include "pprobe/unwind.h"

#define REPLAY_DEPTH 256 /* options.c's default max_depth */

static int replay_fail(const char *what, int err)
{
	fprintf(stderr, "snapshot_replay: %s: %s\n", what, error_str(err));
	return 1;
}

/* Every recorded file must be the file opened now. */
static int replay_check_files(const struct snapfile *f, struct maps *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct maps_entry *e = &m->v[i];
		struct elfimage *img;
		uint64_t bias;
		int err;

		if (e->path[0] != '/' || e->inode == 0)
			continue;
		for (size_t k = 0; k < f->nfiles; k++) {
			if (strcmp(f->files[k].path, e->path))
				continue;
			err = maps_resolve(m, e, &img, &bias);
			if (err) {
				fprintf(stderr, "snapshot_replay: %s: %s\n", e->path, error_str(err));
				return 1;
			}
			if (strcmp(img->build_id, f->files[k].build_id)) {
				fprintf(stderr, "snapshot_replay: %s has build ID '%s', the snapshot was "
					"taken over '%s'\n", e->path, img->build_id,
					f->files[k].build_id);
				return 1;
			}
		}
	}
	return 0;
}

static void replay_print_frames(struct maps *m, struct symbolize *sym, const uint64_t *pcs,
				const uint8_t *how, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct symbolize_result res;
		struct maps_entry *e = maps_find(m, pcs[k]);
		struct elfimage *img = NULL;
		uint64_t bias = 0;
		const char *module = NULL;

		if (e && maps_resolve(m, e, &img, &bias))
			bias = 0;
		if (stacks_symbolize(m, sym, pcs[k], &res, &module) != 0) {
			printf("frame ?\t-\t0\t-\t0\t0\t%s\n", unwind_how_str(how[k]));
			continue;
		}
		for (size_t j = 0; j < res.n; j++) {
			const struct symbolize_frame *fr = &res.frames[j];

			printf("frame %s\t%s\t%d\t%s\t0x%" PRIx64 "\t%d\t%s\n", fr->name,
			       fr->file ? fr->file : "-", fr->line, module ? module : "-",
			       pcs[k] - bias, j + 1 < res.n ? 1 : 0, unwind_how_str(how[k]));
		}
		symbolize_result_fini(&res);
	}
}

int main(int argc, char **argv)
{
	const char *root = NULL, *path = NULL;
	struct snapfile f;
	struct maps m;
	struct unwind *unw = NULL;
	struct symbolize *sym = NULL;
	uint64_t *pcs = NULL;
	uint8_t *how = NULL;
	size_t depth = REPLAY_DEPTH, line = 0;
	FILE *in;
	int err, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-root") && i + 1 < argc)
			root = argv[++i];
		else if (!strcmp(argv[i], "-depth") && i + 1 < argc)
			depth = strtoul(argv[++i], NULL, 10);
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path || depth == 0 || depth > 65536) {
		fprintf(stderr, "usage: snapshot_replay [-root DIR] [-depth N] FILE\n");
		return 2;
	}
	snapfile_init(&f);
	maps_init(&m, 0);
	in = fopen(path, "r");
	if (!in)
		return replay_fail(path, -errno);
	err = snapfile_read(in, &f, &line);
	fclose(in);
	if (err) {
		fprintf(stderr, "snapshot_replay: %s:%zu: %s\n", path, line, error_str(err));
		goto out;
	}
	m.pid = f.pid;
	err = maps_load_saved(&m, f.maps ? f.maps : "", f.maps_len, root, f.vdso, f.vdso_len);
	if (err) {
		rc = replay_fail("the saved maps", err);
		goto out;
	}
	if (replay_check_files(&f, &m))
		goto out;
	pcs = calloc(depth, sizeof(*pcs));
	how = calloc(depth, sizeof(*how));
	if (!pcs || !how || (err = unwind_new(&m, &unw)) || (err = symbolize_new(&sym))) {
		rc = replay_fail("setting up", pcs && how ? err : -ENOMEM);
		goto out;
	}
	for (size_t i = 0; i < f.nthreads; i++) {
		const struct snapfile_thread *t = &f.threads[i];
		struct unwind_result ur;

		unwind_stack_how(unw, &t->snap, pcs, how, depth, &ur);
		printf("thread %s\ntid %d\nend %s\n", t->name, (int)t->snap.tid,
		       unwind_end_str(ur.end));
		replay_print_frames(&m, sym, pcs, how, ur.n);
	}
	rc = fflush(stdout) == 0 ? 0 : replay_fail("stdout", -errno);
out:
	free(pcs);
	free(how);
	symbolize_free(sym);
	unwind_free(unw);
	maps_fini(&m);
	snapfile_fini(&f);
	return rc;
}
