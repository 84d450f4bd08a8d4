/* outfile.h - write an output file atomically.
 *
 * outfile_open() creates a temporary file beside the final name at once, so
 * an unwritable path fails before any thread of the target is touched.
 * outfile_commit() gives it the final name with rename(2): a reader never
 * sees a half-written file, and a symlink planted at the final name is
 * replaced, never followed.  Run under sudo, the file is given to the
 * invoking user (SUDO_UID/SUDO_GID).  "-" means standard output.
 */
#ifndef PPROBE_OUTFILE_H
#define PPROBE_OUTFILE_H

#include <stdbool.h>

struct outfile {
	char *path;     /* final name (owned) */
	char *tmp_path; /* temporary name (owned), NULL for stdout */
	int fd;         /* where to write; -1 when closed */
	bool is_stdout;
};

/* Create the temporary file for path.  Returns 0 or -errno. */
int outfile_open(struct outfile *of, const char *path);
/* fsync, chown to the sudo user, rename into place, close.  Returns 0 or -errno;
 * on failure the temporary file is removed. */
int outfile_commit(struct outfile *of);
/* Remove the temporary file and release everything (safe after commit and on
 * a zeroed struct with fd -1). */
void outfile_abort(struct outfile *of);

#endif
