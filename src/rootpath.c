/* rootpath.c - open a file of the target the way the target sees it (see rootpath.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pprobe/rootpath.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#endif

/* struct open_how of linux/openat2.h (glibc 2.36 has no wrapper). */
struct rootpath_how {
	unsigned long long flags, mode, resolve;
};

/* Directories open from the root down to where the walk is; [0] is the root. */
#define ROOTPATH_MAX_DEPTH 256

struct rootpath_walk {
	int dirs[ROOTPATH_MAX_DEPTH];
	int depth;     /* dirs[depth - 1] is the current directory */
	int links;
};

static void rootpath_pop_to(struct rootpath_walk *w, int depth)
{
	while (w->depth > depth) {
		w->depth--;
		if (w->depth > 0)
			close(w->dirs[w->depth]);
	}
}

/* Walk rest (modified in place) from the current directory; on the last
 * component, open with flags.  Returns a descriptor or -errno. */
static int rootpath_walk_from(struct rootpath_walk *w, char *rest, int flags)
{
	while (*rest == '/')
		rest++;
	for (;;) {
		char *comp = rest, *slash = strchr(rest, '/');
		bool last;
		struct stat st;
		int cur = w->dirs[w->depth - 1], fd;

		if (slash) {
			*slash = '\0';
			rest = slash + 1;
			while (*rest == '/')
				rest++;
		} else {
			rest = comp + strlen(comp);
		}
		last = *rest == '\0';
		if (!*comp || !strcmp(comp, ".") || !strcmp(comp, "..")) {
			/* ".." climbs, but never above the root. */
			if (!strcmp(comp, "..") && w->depth > 1)
				rootpath_pop_to(w, w->depth - 1);
			if (last) {
				fd = openat(w->dirs[w->depth - 1], ".", flags | O_CLOEXEC);
				return fd < 0 ? -errno : fd;
			}
			continue;
		}
		fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(cur, comp, target, sizeof(target) - 1);
			char *next;
			int r;

			close(fd);
			if (n < 0)
				return -errno;
			if (++w->links > ROOTPATH_MAX_LINKS)
				return -ELOOP;
			target[n] = '\0';
			if (asprintf(&next, "%s/%s", target, rest) < 0)
				return -ENOMEM;
			if (target[0] == '/')
				rootpath_pop_to(w, 1);
			r = rootpath_walk_from(w, next, flags);
			free(next);
			return r;
		}
		if (last) {
			/* The object examined, opened as asked (no path lookup again). */
			char proc[64];
			int r;

			if (S_ISLNK(st.st_mode)) {
				close(fd);
				return -ELOOP; /* O_NOFOLLOW */
			}
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			r = open(proc, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
			r = r < 0 ? -errno : r;
			close(fd);
			return r;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			return -ENOTDIR;
		}
		if (w->depth == ROOTPATH_MAX_DEPTH) {
			close(fd);
			return -ENAMETOOLONG;
		}
		w->dirs[w->depth++] = fd;
	}
}

int rootpath_open_walk(int rootfd, const char *path, int flags)
{
	struct rootpath_walk w = { .depth = 1 };
	char *copy = strdup(path);
	int r;

	if (!copy)
		return -ENOMEM;
	w.dirs[0] = rootfd;
	r = rootpath_walk_from(&w, copy, flags);
	rootpath_pop_to(&w, 0);
	free(copy);
	return r;
}

int rootpath_open(int rootfd, const char *path, int flags)
{
	struct rootpath_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		/* /proc/self/... links inside the target's tree would lead to
		 * pprobe's own files. */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	while (*path == '/')
		path++;
	fd = syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS)
		return -errno;
	return rootpath_open_walk(rootfd, path, flags);
}

int rootpath_open_under(const char *rootdir, const char *path, int flags)
{
	int rootfd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (rootfd < 0)
		return -errno;
	fd = rootpath_open(rootfd, path, flags);
	close(rootfd);
	return fd;
}
