/* test_rootpath.c - paths of a target resolved inside its root (rootpath.c),
 * by openat2 and by the walk, against a tree built here whose links lead
 * out of the root when resolved on the host. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/rootpath.h"

static char base[128];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* What the file opened by path (in root) holds, or the error as "-N". */
static const char *content(int (*open_fn)(int, const char *, int), int rootfd, const char *path,
			   int flags)
{
	static char buf[64];
	int fd = open_fn(rootfd, path, O_RDONLY | flags);
	ssize_t n;

	if (fd < 0) {
		snprintf(buf, sizeof(buf), "%d", fd);
		return buf;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

int main(void)
{
	int (*fns[2])(int, const char *, int) = { rootpath_open, rootpath_open_walk };
	char p[1024], q[1024], eloop[16];
	int rootfd;

	snprintf(base, sizeof(base), "/var/tmp/pprobe-rootpath.XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	/* BASE/outside/secret: the host's file.  BASE/root: the target's
	 * root, whose /tmp links to BASE/outside as an absolute path. */
	snprintf(p, sizeof(p), "%s/outside", base);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/outside/secret", base);
	put(p, "HOST");
	snprintf(p, sizeof(p), "%s/root%s/outside", base, base);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/root%s/outside/secret", base, base);
	put(p, "ROOT");
	snprintf(p, sizeof(p), "%s/root/tmp", base);
	snprintf(q, sizeof(q), "%s/outside", base);
	CHECK_EQ_INT(symlink(q, p), 0);
	/* A relative link that climbs further than the root. */
	snprintf(p, sizeof(p), "%s/root/up", base);
	snprintf(q, sizeof(q), "../../../../../../../..%s/outside", base);
	CHECK_EQ_INT(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/root/loop", base);
	CHECK_EQ_INT(symlink("loop", p), 0);
	snprintf(p, sizeof(p), "%s/root/direct", base);
	CHECK_EQ_INT(symlink("tmp/secret", p), 0);
	snprintf(p, sizeof(p), "%s/root", base);
	rootfd = open(p, O_PATH | O_DIRECTORY);
	CHECK(rootfd >= 0);
	snprintf(eloop, sizeof(eloop), "%d", -ELOOP);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_STR(content(fns[i], rootfd, "/tmp/secret", 0), "ROOT");
		CHECK_EQ_STR(content(fns[i], rootfd, "tmp/secret", O_NOFOLLOW), "ROOT");
		CHECK_EQ_STR(content(fns[i], rootfd, "/up/secret", 0), "ROOT");
		CHECK_EQ_STR(content(fns[i], rootfd, "/../../../tmp/./secret", 0), "ROOT");
		CHECK_EQ_STR(content(fns[i], rootfd, "/direct", 0), "ROOT");
		CHECK_EQ_STR(content(fns[i], rootfd, "/direct", O_NOFOLLOW), eloop);
		CHECK_EQ_STR(content(fns[i], rootfd, "/loop", 0), eloop);
	}
	close(rootfd);
	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	if (system(p) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	return check_done();
}
