/* outfile.h - where an output goes, settled before anything is touched.
 *
 * outfile_open() decides at once what the path is, so a path that cannot
 * be written fails before any thread of the target is touched:
 *   - "-": standard output.
 *   - nothing there, or a regular file: a temporary file .pprobe-XXXXXX is
 *     created in the same directory (a short name, so any valid final name
 *     fits), and outfile_commit() gives it the final name with rename(2): a
 *     reader never sees a half-written file, and a hard link at the final
 *     name is replaced, never written through.  Run under sudo, the file is
 *     given to the invoking user (SUDO_UID/SUDO_GID).
 *   - a character device or a FIFO (-o /dev/null, a named pipe with a
 *     reader): written in place, as standard output is; never renamed over,
 *     never chmod'ed or chown'ed.  A FIFO without a reader is refused rather
 *     than waited for.
 *   - a symbolic link: followed only to a character device, a FIFO, or
 *     pprobe's own standard output (-o /dev/stdout); one to a file, to a
 *     directory or to nothing is refused (-PPROBE_E_OUTLINK): following it
 *     as root would write wherever whoever planted it chose, and replacing
 *     it would destroy a link someone relies on.
 *   - a directory (-EISDIR), a block device or a socket (-PPROBE_E_OUTKIND):
 *     refused.
 */
#ifndef PPROBE_OUTFILE_H
#define PPROBE_OUTFILE_H

#include <stdbool.h>

struct outfile {
	char *path;     /* final name (owned); NULL for stdout */
	char *tmp_path; /* temporary name (owned); NULL unless renamed into place */
	int fd;         /* where to write; -1 when closed */
	bool is_stdout;
	bool direct;    /* a device or FIFO written in place (fd is ours) */
};

/* Settle where path's output goes (above) and open it.  Returns 0,
 * -errno, or -PPROBE_E_OUTLINK / -PPROBE_E_OUTKIND / -PPROBE_E_NOREADER. */
int outfile_open(struct outfile *of, const char *path);
/* "cannot write PATH: why" for outfile_open's err into buf.  A regular
 * file is written as a temporary file beside it and renamed into place, so
 * a file that exists in a directory where no file can be created (/proc,
 * a read-only mount) is refused for its directory: say so, rather than a
 * bare "No such file or directory" about a file that is there. */
void outfile_format_error(char *buf, size_t len, const char *path, int err);
/* Finish: for a new file fsync, chown to the sudo user, rename into place,
 * close; for a device or FIFO just close.  Returns 0 or -errno; on failure
 * the temporary file is removed. */
int outfile_commit(struct outfile *of);
/* Remove the temporary file and release everything (safe after commit and on
 * a zeroed struct with fd -1). */
void outfile_abort(struct outfile *of);

#endif
