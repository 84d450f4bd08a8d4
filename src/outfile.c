/* outfile.c - where an output goes (see outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pprobe/error.h"
#include "pprobe/outfile.h"

/* Open the object behind an O_PATH descriptor for writing, through
 * /proc/self/fd: the very inode that was examined, whatever the path names
 * by now.  O_NONBLOCK so a FIFO without a reader fails (ENXIO) instead of
 * waiting for one; it is cleared afterwards on this description, which is
 * ours alone, so later writes wait for a slow reader as a shell's would
 * (they happen after every thread is let go).  O_NOCTTY: a terminal named
 * here must not become pprobe's controlling terminal. */
static int outfile_reopen(int pathfd, bool fifo)
{
	char proc[64];
	int fd, fl;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO && fifo ? -PPROBE_E_NOREADER : -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* A device or FIFO is written into directly, never renamed over. */
static int outfile_open_direct(struct outfile *of, int pathfd, bool fifo)
{
	int fd = outfile_reopen(pathfd, fifo);

	if (fd < 0)
		return fd;
	of->fd = fd;
	of->direct = true;
	return 0;
}

/* The temporary file in path's directory.  Its name is short and fixed in
 * length, so a final name of up to NAME_MAX bytes has a temporary one. */
static int outfile_open_tmp(struct outfile *of, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	int fd;

	of->path = strdup(path);
	if (!of->path)
		return -ENOMEM;
	if (asprintf(&of->tmp_path, "%.*s.pprobe-XXXXXX", (int)dirlen, path) < 0) {
		of->tmp_path = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(of->tmp_path, O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		free(of->tmp_path);
		of->tmp_path = NULL;
		return err;
	}
	of->fd = fd;
	return 0;
}

/* Is st the object standard output is? (-o /dev/stdout, /proc/self/fd/1.) */
static bool outfile_is_stdout(const struct stat *st)
{
	struct stat out;

	return fstat(STDOUT_FILENO, &out) == 0 && out.st_dev == st->st_dev &&
	       out.st_ino == st->st_ino && (out.st_mode & S_IFMT) == (st->st_mode & S_IFMT);
}

/* A symbolic link at the path: where it leads decides (outfile.h). */
static int outfile_open_link(struct outfile *of, const char *path)
{
	struct stat st;
	int pfd, err;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT || errno == ELOOP ? -PPROBE_E_OUTLINK : -errno;
	if (fstat(pfd, &st) < 0) {
		err = -errno;
	} else if (outfile_is_stdout(&st)) {
		of->is_stdout = true;
		of->fd = STDOUT_FILENO;
		err = 0;
	} else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
		err = outfile_open_direct(of, pfd, S_ISFIFO(st.st_mode));
	} else {
		err = -PPROBE_E_OUTLINK;
	}
	close(pfd);
	return err;
}

int outfile_open(struct outfile *of, const char *path)
{
	struct stat st;
	int pfd, err;

	memset(of, 0, sizeof(*of));
	of->fd = -1;
	if (!strcmp(path, "-")) {
		of->is_stdout = true;
		of->fd = STDOUT_FILENO;
		return 0;
	}
	/* What is at the path itself, without following a link or opening a
	 * device (an open can have effects: a tape rewinds). */
	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0) {
		err = errno == ENOENT ? outfile_open_tmp(of, path) : -errno;
		goto out;
	}
	if (fstat(pfd, &st) < 0) {
		err = -errno;
	} else if (S_ISREG(st.st_mode)) {
		err = outfile_open_tmp(of, path);
	} else if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
	} else if (S_ISLNK(st.st_mode)) {
		err = outfile_open_link(of, path);
	} else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
		err = outfile_open_direct(of, pfd, S_ISFIFO(st.st_mode));
	} else {
		err = -PPROBE_E_OUTKIND;
	}
	close(pfd);
out:
	if (err)
		outfile_abort(of);
	return err;
}

void outfile_format_error(char *buf, size_t len, const char *path, int err)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && err > -PPROBE_E_BASE)
		snprintf(buf, len, "cannot write %s: cannot create a file in its directory (%s); "
			 "pprobe writes a new file beside it and renames it into place", path,
			 error_str(err));
	else
		snprintf(buf, len, "cannot write %s: %s", path, error_str(err));
}

/* Hand the file to the user who ran sudo, so a profile taken as root can be
 * opened and removed by the engineer who asked for it. */
static void outfile_chown_sudo_user(int fd)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");

	if (geteuid() != 0 || !u || !g)
		return;
	if (fchown(fd, (uid_t)strtoul(u, NULL, 10), (gid_t)strtoul(g, NULL, 10)) < 0) {
		/* Best effort: the file stays root's, which still works. */
	}
}

int outfile_commit(struct outfile *of)
{
	mode_t mask;
	int err = 0;

	if (of->is_stdout) {
		of->fd = -1;
		return 0;
	}
	if (of->fd < 0)
		return -EBADF;
	if (of->direct) {
		/* A device or FIFO: its mode and owner are not ours to change. */
		err = close(of->fd) < 0 ? -errno : 0;
		of->fd = -1;
		outfile_abort(of);
		return err;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(of->fd, 0666 & ~mask) < 0 || fsync(of->fd) < 0)
		err = -errno;
	outfile_chown_sudo_user(of->fd);
	if (close(of->fd) < 0 && !err)
		err = -errno;
	of->fd = -1;
	if (!err && rename(of->tmp_path, of->path) < 0)
		err = -errno;
	if (err) {
		outfile_abort(of);
		return err;
	}
	free(of->tmp_path);
	of->tmp_path = NULL;
	outfile_abort(of);
	return 0;
}

void outfile_abort(struct outfile *of)
{
	if (of->fd >= 0 && !of->is_stdout)
		close(of->fd);
	of->fd = -1;
	if (of->tmp_path)
		unlink(of->tmp_path);
	free(of->tmp_path);
	free(of->path);
	of->tmp_path = NULL;
	of->path = NULL;
}
