/* outfile.c - atomic output files (see outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pprobe/outfile.h"

int outfile_open(struct outfile *of, const char *path)
{
	const char *slash;
	size_t dirlen;
	int fd;

	memset(of, 0, sizeof(*of));
	of->fd = -1;
	if (!strcmp(path, "-")) {
		of->is_stdout = true;
		of->fd = STDOUT_FILENO;
		return 0;
	}
	of->path = strdup(path);
	if (!of->path)
		return -ENOMEM;
	slash = strrchr(path, '/');
	dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	if (asprintf(&of->tmp_path, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path,
		     path + dirlen) < 0) {
		of->tmp_path = NULL;
		outfile_abort(of);
		return -ENOMEM;
	}
	fd = mkostemp(of->tmp_path, O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		free(of->tmp_path);
		of->tmp_path = NULL;
		outfile_abort(of);
		return err;
	}
	of->fd = fd;
	return 0;
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
