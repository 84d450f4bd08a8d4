/* test_snapfile.c - the snapshot file format (snapfile.c) and maps replayed
 * from a saved copy (maps_load_saved): a round trip keeps every field, a
 * malformed file is refused with its line, saved maps open the files and
 * the vDSO as the live ones do, with no process behind them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/elfimage.h"
#include "pprobe/error.h"
#include "pprobe/maps.h"
#include "pprobe/snapfile.h"

static const char MAPS_TEXT[] =
	"55d0c0a00000-55d0c0a01000 r-xp 00001000 fe:00 1234     /usr/bin/x y\n"
	"7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0                  [vdso]\n";

static void round_trip(void)
{
	struct snapfile f, g;
	struct snapshot s;
	uint8_t vdso[100];
	size_t line = 0;
	FILE *tmp = tmpfile();

	snapfile_init(&f);
	f.pid = 4242;
	f.maps = strdup(MAPS_TEXT);
	f.maps_len = strlen(MAPS_TEXT);
	for (size_t i = 0; i < sizeof(vdso); i++)
		vdso[i] = (uint8_t)(i * 7);
	f.vdso = malloc(sizeof(vdso));
	memcpy(f.vdso, vdso, sizeof(vdso));
	f.vdso_len = sizeof(vdso);
	f.vdso_start = 0x7ffc00000000ull;
	CHECK_EQ_INT(snapfile_add_file(&f, "/usr/bin/x y", "abcdef01"), 0);
	CHECK_EQ_INT(snapfile_add_file(&f, "/lib/nobuildid.so", NULL), 0);
	CHECK_EQ_INT(snapshot_init(&s, 300), 0);
	s.tid = 4243;
	s.regs.rip = 0x55d0c0a00123ull;
	s.regs.rsp = 0x7ffd00001000ull;
	s.regs.orig_rax = (unsigned long long)-1;
	s.regs.gs = 0xffffffffffffffffull;
	s.stack_start = 0x7ffd00000f80ull;
	s.stack_len = 300;
	for (size_t i = 0; i < 300; i++)
		s.stack[i] = (uint8_t)(255 - i);
	CHECK_EQ_INT(snapfile_add_thread(&f, "a b\nc\001", &s), 0);
	s.tid = 4244;
	s.stack_len = 0;
	s.regs_partial = true;
	CHECK_EQ_INT(snapfile_add_thread(&f, "", &s), 0);
	snapshot_fini(&s);

	CHECK(tmp != NULL);
	CHECK_EQ_INT(snapfile_write(&f, tmp), 0);
	rewind(tmp);
	CHECK_EQ_INT(snapfile_read(tmp, &g, &line), 0);
	fclose(tmp);
	CHECK_EQ_INT(g.pid, 4242);
	CHECK_EQ_INT(g.maps_len, f.maps_len);
	CHECK_EQ_STR(g.maps, MAPS_TEXT);
	CHECK_EQ_INT(g.nfiles, 2);
	if (g.nfiles == 2) {
		CHECK_EQ_STR(g.files[0].path, "/usr/bin/x y");
		CHECK_EQ_STR(g.files[0].build_id, "abcdef01");
		CHECK_EQ_STR(g.files[1].build_id, "");
	}
	CHECK_EQ_INT(g.vdso_len, sizeof(vdso));
	CHECK_EQ_INT(g.vdso_start, 0x7ffc00000000ull);
	CHECK(g.vdso && !memcmp(g.vdso, vdso, sizeof(vdso)));
	CHECK_EQ_INT(g.nthreads, 2);
	if (g.nthreads == 2) {
		const struct snapshot *a = &g.threads[0].snap, *b = &g.threads[1].snap;

		CHECK_EQ_STR(g.threads[0].name, "a b"); /* cut at the newline */
		CHECK_EQ_STR(g.threads[1].name, "");
		CHECK_EQ_INT(a->tid, 4243);
		CHECK(!memcmp(&a->regs, &f.threads[0].snap.regs, sizeof(a->regs)));
		CHECK_EQ_INT(a->stack_start, 0x7ffd00000f80ull);
		CHECK_EQ_INT(a->stack_len, 300);
		CHECK(!memcmp(a->stack, f.threads[0].snap.stack, 300));
		CHECK(!a->regs_partial);
		CHECK_EQ_INT(b->tid, 4244);
		CHECK_EQ_INT(b->stack_len, 0);
		CHECK(b->regs_partial);
	}
	snapfile_fini(&g);
	snapfile_fini(&f);
}

/* text read as a snapshot: the error, and the line it stopped at. */
static int read_text(const char *text, size_t *line)
{
	struct snapfile f;
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int err;

	err = snapfile_read(in, &f, line);
	fclose(in);
	snapfile_fini(&f);
	return err;
}

static void malformed(void)
{
	static const char *bad[] = {
		"",
		"pprobe-snapshot 2\npid 1\nmaps 0\nend\n",
		"pprobe-snapshot 1\npid -1\nmaps 0\nend\n",
		"pprobe-snapshot 1\npid 1\nmaps 2\nx\n",
		"pprobe-snapshot 1\npid 1\nmaps 0\n",                       /* no end */
		"pprobe-snapshot 1\npid 1\nmaps 0\nwhat 1\nend\n",
		"pprobe-snapshot 1\npid 1\nmaps 0\nvdso 1000 3\n00ff\nend\n", /* 2 of 3 bytes */
		"pprobe-snapshot 1\npid 1\nmaps 0\nvdso 1000 1\n0g\nend\n",
		"pprobe-snapshot 1\npid 1\nmaps 0\nvdso 1000 99999999\nend\n",
		"pprobe-snapshot 1\npid 1\nmaps 0\nthread 5 x\nreg r14 0x0\nend\n", /* r15 first */
		"pprobe-snapshot 1\npid 1\nmaps 0\nfile nobuildid\nend\n",
	};
	size_t line;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = read_text(bad[i], &line);

		if (err != -PPROBE_E_BADSNAP)
			fprintf(stderr, "case %zu: %s\n", i, error_str(err));
		CHECK_EQ_INT(err, -PPROBE_E_BADSNAP);
	}
	/* The line of the error is reported. */
	read_text("pprobe-snapshot 1\npid 1\nmaps 1\nx\nbogus\nend\n", &line);
	CHECK_EQ_INT(line, 5);
	CHECK_EQ_INT(read_text("pprobe-snapshot 1\npid 1\nmaps 0\nend\n", &line), 0);
}

/* Saved maps of this very process: the executable and the vDSO open from
 * the file and the copy, as the live maps open them. */
static void saved_maps(void)
{
	struct maps live, saved;
	struct maps_entry *le, *se, *sv;
	struct elfimage *li = NULL, *si = NULL, *vi = NULL;
	uint64_t lb = 0, sb = 1, vb, code = (uint64_t)(uintptr_t)&saved_maps;
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	unsigned gen;
	size_t vlen = 0;

	maps_init(&live, getpid());
	maps_init(&saved, 0);
	CHECK_EQ_INT(maps_read(&live), 0);
	le = maps_find(&live, code);
	CHECK(le && maps_resolve(&live, le, &li, &lb) == 0);
	sv = vdso ? maps_find(&live, vdso) : NULL;
	if (sv)
		vlen = sv->end - sv->start;
	CHECK_EQ_INT(maps_load_saved(&saved, live.last, live.last_len, NULL,
				     vdso ? (const void *)(uintptr_t)vdso : NULL, vlen), 0);
	gen = saved.generation;
	CHECK_EQ_INT(maps_read(&saved), 0);
	CHECK_EQ_INT(saved.generation, gen);
	CHECK(maps_find_main(&saved) == NULL);
	se = maps_find(&saved, code);
	CHECK(se && maps_resolve(&saved, se, &si, &sb) == 0);
	if (li && si) {
		CHECK_EQ_STR(si->build_id, li->build_id);
		CHECK_EQ_INT(sb, lb);
	}
	if (sv) {
		se = maps_find(&saved, vdso);
		CHECK(se && maps_resolve(&saved, se, &vi, &vb) == 0);
		CHECK(vi && vi->size == vlen);
	}
	maps_fini(&saved);

	/* Below a root: a root without the files opens nothing. */
	maps_init(&saved, 0);
	CHECK_EQ_INT(maps_load_saved(&saved, live.last, live.last_len, "/nonexistent-root", NULL,
				     0), 0);
	se = maps_find(&saved, code);
	CHECK(se && maps_resolve(&saved, se, &si, &sb) == -ENOENT);
	if (sv) {
		se = maps_find(&saved, vdso);
		CHECK(se && maps_resolve(&saved, se, &vi, &vb) != 0);
	}
	maps_fini(&saved);
	maps_fini(&live);
}

int main(void)
{
	round_trip();
	malformed();
	saved_maps();
	return check_done();
}
