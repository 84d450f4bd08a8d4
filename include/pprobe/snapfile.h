/* snapfile.h - snapshots of a process on disk, for replay.
 *
 * What snapshot_capture() copies from stopped threads (registers, stack
 * bytes), with what unwinding and symbolizing them needs besides: the
 * process's maps as /proc/PID/maps printed them, the GNU build ID of each
 * mapped file (so a replay can refuse a file that changed since), and a
 * copy of the vDSO.  Replayed through maps_load_saved(), unwind_stack() and
 * the symbolizer, with no process at all: the same file always gives the
 * same stacks (tests/tools/snapshot_replay.c, README "Testing").
 *
 * The format is line-oriented text, version 1 (every number in hex but
 * counts and lengths, which are decimal):
 *
 *   pprobe-snapshot 1
 *   pid PID
 *   maps N                 then N lines of /proc/PID/maps, verbatim
 *   file PATH BUILDID      for each mapped file: its build ID in hex, or -
 *   vdso START LEN         (optional) then LEN bytes as hex, 64 a line
 *   thread TID NAME        for each thread, then:
 *   reg NAME 0xVALUE       each field of struct user_regs_struct, by name
 *   partial 0|1            registers captured without a stop (pc, sp and
 *                          the system call arguments only)
 *   stack START LEN        then LEN bytes from address START as hex, 64 a line
 *   end
 *
 * A file is input from anywhere: every count and length is bounded, and a
 * malformed file is -PPROBE_E_BADSNAP, never a crash.
 */
#ifndef PPROBE_SNAPFILE_H
#define PPROBE_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pprobe/snapshot.h"

#define SNAPFILE_VERSION 1
#define SNAPFILE_MAX_THREADS 65536
#define SNAPFILE_MAX_STACK (1024 * 1024)
#define SNAPFILE_MAX_VDSO (64 * 1024)
#define SNAPFILE_MAX_MAPS 1000000

struct snapfile_file {
	char *path;     /* owned */
	char *build_id; /* hex, "" if the file has none; owned */
};

struct snapfile_thread {
	char name[16];         /* /proc/PID/task/TID/comm, printable */
	struct snapshot snap;  /* its stack owned here */
};

struct snapfile {
	pid_t pid;
	char *maps;            /* the text of /proc/PID/maps; owned */
	size_t maps_len;
	struct snapfile_file *files;
	size_t nfiles;
	uint64_t vdso_start;
	uint8_t *vdso;         /* NULL if none; owned */
	size_t vdso_len;
	struct snapfile_thread *threads;
	size_t nthreads;
};

void snapfile_init(struct snapfile *f);
void snapfile_fini(struct snapfile *f);

/* Append a file's identity (path and build_id are copied; build_id may
 * be NULL or "") and a thread (its name and snapshot copied, the stack
 * bytes too). */
int snapfile_add_file(struct snapfile *f, const char *path, const char *build_id);
int snapfile_add_thread(struct snapfile *f, const char *name, const struct snapshot *s);

/* Write f to out in the format above; 0 or -errno. */
int snapfile_write(const struct snapfile *f, FILE *out);

/* Read a file written by snapfile_write into f (initialised here; free it
 * with snapfile_fini, also after a failure).  0, -ENOMEM, -errno of the
 * read, or -PPROBE_E_BADSNAP; *line (may be NULL) gets the line number of
 * a malformed line. */
int snapfile_read(FILE *in, struct snapfile *f, size_t *line);

#endif
