/* perfmap.c - JIT symbols from /tmp/perf-PID.map (see perfmap.h).
 *
 * Entries are kept in file order in one array (their sequence number is
 * their line's order) with the names in one string arena, and sorted by
 * start address on the first lookup after a read.  A lookup takes the
 * entries that start at or below the address, walking down from the
 * nearest while the running maximum of their ends (computed once per
 * sort) says an earlier entry could still contain it, and picks the one
 * written last.  That walk is bounded, so a file of nested ranges cannot
 * make a lookup slow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pprobe/perfmap.h"
#include "pprobe/procfs.h"
#include "pprobe/rootpath.h"

#define PERFMAP_CHUNK (64 * 1024)
/* A longer line is skipped whole. */
#define PERFMAP_MAX_LINE (PERFMAP_MAX_NAME + 128)
/* Entries a lookup may walk past. */
#define PERFMAP_MAX_WALK 4096

struct perfmap_entry {
	uint64_t start, end;
	uint32_t seq;
	uint32_t name; /* offset in names */
};

struct perfmap {
	char *paths[2]; /* candidate files, the target's own pid first */
	size_t npaths;
	int rootfd;     /* the target's root: paths are resolved inside it; -1: none */
	bool check_owner;
	uid_t owner; /* the target's user: the file must be its or root's */

	/* What was read: which file, and up to where (a whole line). */
	bool have_file;
	dev_t dev;
	ino_t ino;
	off_t offset;
	uint64_t bytes_read; /* over every (re)read, against PERFMAP_MAX_BYTES */

	struct perfmap_entry *v;
	uint64_t *maxend; /* after sorting: max end over v[0..i] */
	size_t n, cap;
	bool sorted;
	uint32_t seq;

	char *names;
	size_t names_len, names_cap;

	int64_t last_check_ns;
};

static int64_t perfmap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void perfmap_clear(struct perfmap *pm)
{
	pm->n = 0;
	pm->names_len = 0;
	pm->seq = 0;
	pm->sorted = false;
	pm->have_file = false;
	pm->offset = 0;
}

void perfmap_free(struct perfmap *pm)
{
	if (!pm)
		return;
	for (size_t i = 0; i < pm->npaths; i++)
		free(pm->paths[i]);
	if (pm->rootfd >= 0)
		close(pm->rootfd);
	free(pm->v);
	free(pm->maxend);
	free(pm->names);
	free(pm);
}

/* Parse a hex number ("0x" optional, 1-16 digits); *p is left after it. */
static bool perfmap_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int nd = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (;; s++, nd++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (nd == 16)
			return false;
		x = x << 4 | (uint64_t)d;
	}
	if (nd == 0)
		return false;
	*p = s;
	*v = x;
	return true;
}

static int perfmap_add(struct perfmap *pm, uint64_t start, uint64_t size, const char *name,
		       size_t len)
{
	struct perfmap_entry *e;

	if (pm->n >= PERFMAP_MAX_ENTRIES)
		return 0; /* capped: the rest is ignored */
	if (pm->n == pm->cap) {
		size_t ncap = pm->cap ? pm->cap * 2 : 256;
		struct perfmap_entry *nv = realloc(pm->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		pm->v = nv;
		pm->cap = ncap;
	}
	if (pm->names_len + len + 1 > pm->names_cap) {
		size_t ncap = pm->names_cap ? pm->names_cap : 4096;
		char *nb;

		while (ncap < pm->names_len + len + 1)
			ncap *= 2;
		nb = realloc(pm->names, ncap);
		if (!nb)
			return -ENOMEM;
		pm->names = nb;
		pm->names_cap = ncap;
	}
	e = &pm->v[pm->n++];
	e->start = start;
	e->end = start + size;
	e->seq = pm->seq++;
	e->name = (uint32_t)pm->names_len;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		pm->names[pm->names_len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	pm->names[pm->names_len++] = '\0';
	pm->sorted = false;
	return 0;
}

/* One line, without its '\n': "START SIZE name".  Malformed: skipped. */
static int perfmap_parse_line(struct perfmap *pm, const char *line, size_t len)
{
	const char *p = line, *name, *end = line + len;
	uint64_t start, size;
	size_t nlen;

	if (!perfmap_hex(&p, &start) || (*p != ' ' && *p != '\t'))
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!perfmap_hex(&p, &size) || (*p != ' ' && *p != '\t'))
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	name = p;
	while (end > name && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	nlen = (size_t)(end - name);
	if (nlen == 0 || size == 0 || start + size < start)
		return 0;
	if (nlen > PERFMAP_MAX_NAME) {
		nlen = PERFMAP_MAX_NAME;
		/* Do not cut a UTF-8 sequence in two. */
		while (nlen > 0 && ((unsigned char)name[nlen] & 0xc0) == 0x80)
			nlen--;
	}
	return perfmap_add(pm, start, size, name, nlen);
}

/* Open the first candidate that is a regular file we may trust. */
static int perfmap_open(struct perfmap *pm, struct stat *st)
{
	for (size_t i = 0; i < pm->npaths; i++) {
		int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
		int fd = pm->rootfd >= 0 ? rootpath_open(pm->rootfd, pm->paths[i], flags) :
					   open(pm->paths[i], flags);

		if (fd < 0)
			continue;
		if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
		    (!pm->check_owner || st->st_uid == pm->owner || st->st_uid == 0))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int perfmap_refresh(struct perfmap *pm)
{
	char *buf = NULL;
	struct stat st;
	size_t have = 0;
	bool skipping = false;
	int fd, err = 0;

	pm->last_check_ns = perfmap_now_ns();
	fd = perfmap_open(pm, &st);
	if (fd < 0)
		return 0; /* no file (yet): nothing to name */
	if (!pm->have_file || st.st_dev != pm->dev || st.st_ino != pm->ino ||
	    st.st_size < pm->offset) {
		perfmap_clear(pm);
		pm->have_file = true;
		pm->dev = st.st_dev;
		pm->ino = st.st_ino;
	}
	if (st.st_size == pm->offset || pm->bytes_read >= PERFMAP_MAX_BYTES)
		goto out;
	buf = malloc(PERFMAP_CHUNK + PERFMAP_MAX_LINE + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	/* buf holds [have] bytes of an unfinished line, then the next chunk;
	 * pm->offset is the file offset of buf[0] once lines are consumed. */
	for (;;) {
		ssize_t r;
		size_t want = PERFMAP_CHUNK, at = 0;
		char *nl;

		if (pm->bytes_read >= PERFMAP_MAX_BYTES)
			break;
		if (want > PERFMAP_MAX_BYTES - pm->bytes_read)
			want = (size_t)(PERFMAP_MAX_BYTES - pm->bytes_read);
		r = pread(fd, buf + have, want, pm->offset + (off_t)have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break; /* an unfinished last line waits for the next read */
		pm->bytes_read += (uint64_t)r;
		have += (size_t)r;
		while ((nl = memchr(buf + at, '\n', have - at))) {
			size_t len = (size_t)(nl - (buf + at));

			if (!skipping && len <= PERFMAP_MAX_LINE) {
				*nl = '\0';
				err = perfmap_parse_line(pm, buf + at, len);
				if (err)
					goto out;
			}
			skipping = false;
			at += len + 1;
		}
		pm->offset += (off_t)at;
		memmove(buf, buf + at, have - at);
		have -= at;
		if (have > PERFMAP_MAX_LINE) {
			/* A line too long to keep: drop what we have of it
			 * and skip to its end. */
			pm->offset += (off_t)have;
			have = 0;
			skipping = true;
		}
	}
out:
	free(buf);
	close(fd);
	return err;
}

static int perfmap_new(struct perfmap **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->rootfd = -1;
	return 0;
}

int perfmap_load_path(const char *path, struct perfmap **out)
{
	struct perfmap *pm;
	int err = perfmap_new(&pm);

	if (err)
		return err;
	pm->paths[0] = strdup(path);
	if (!pm->paths[0]) {
		perfmap_free(pm);
		return -ENOMEM;
	}
	pm->npaths = 1;
	err = perfmap_refresh(pm);
	if (err == -ENOMEM) {
		perfmap_free(pm);
		return err;
	}
	*out = pm;
	return 0;
}

/* The pid of pid in its own (innermost) pid namespace: the last number of
 * the NSpid line of /proc/PID/status; pid itself when there is none. */
static pid_t perfmap_ns_pid(pid_t pid)
{
	char path[64], line[256];
	pid_t ns = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "NSpid:", 6)) {
			char *p = line + 6, *end;

			for (;;) {
				long v = strtol(p, &end, 10);

				if (end == p)
					break;
				if (v > 0)
					ns = (pid_t)v;
				p = end;
			}
			break;
		}
	}
	fclose(f);
	return ns;
}

int perfmap_load(pid_t pid, struct perfmap **out)
{
	char path[96];
	struct stat st;
	struct perfmap *pm;
	pid_t ns = perfmap_ns_pid(pid), live = pid;
	char root[64];
	int err;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) != 0)
		return -errno;
	err = perfmap_new(&pm);
	if (err)
		return err;
	pm->check_owner = true;
	pm->owner = st.st_uid;
	/* The target's root, through a live thread: a main thread that called
	 * pthread_exit has none. */
	if (procfs_find_live_task(pid, &live) > 0 && live != pid)
		snprintf(root, sizeof(root), "/proc/%d/task/%d/root", (int)pid, (int)live);
	else
		snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	/* Kept open: the paths are the target's, resolved inside its root
	 * (rootpath.h), never through a link of its tree out to the host. */
	pm->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pm->rootfd < 0) {
		/* No root to resolve in (the process is gone): no map. */
		*out = pm;
		return 0;
	}
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)ns);
	pm->paths[pm->npaths++] = strdup(path);
	if (ns != pid) {
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)pid);
		pm->paths[pm->npaths++] = strdup(path);
	}
	for (size_t i = 0; i < pm->npaths; i++) {
		if (!pm->paths[i]) {
			perfmap_free(pm);
			return -ENOMEM;
		}
	}
	err = perfmap_refresh(pm);
	if (err == -ENOMEM) {
		perfmap_free(pm);
		return err;
	}
	*out = pm;
	return 0;
}

static int perfmap_cmp(const void *a, const void *b)
{
	const struct perfmap_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int perfmap_sort(struct perfmap *pm)
{
	uint64_t *me;
	uint64_t m = 0;

	if (pm->sorted)
		return 0;
	me = realloc(pm->maxend, (pm->n ? pm->n : 1) * sizeof(*me));
	if (!me)
		return -ENOMEM;
	pm->maxend = me;
	if (pm->n)
		qsort(pm->v, pm->n, sizeof(*pm->v), perfmap_cmp);
	for (size_t i = 0; i < pm->n; i++) {
		if (pm->v[i].end > m)
			m = pm->v[i].end;
		me[i] = m;
	}
	pm->sorted = true;
	return 0;
}

static const struct perfmap_entry *perfmap_find(struct perfmap *pm, uint64_t addr)
{
	const struct perfmap_entry *best = NULL;
	size_t lo = 0, hi = pm->n, walked = 0;

	if (perfmap_sort(pm))
		return NULL;
	/* lo = number of entries starting at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j > 0 && walked < PERFMAP_MAX_WALK; j--, walked++) {
		const struct perfmap_entry *e = &pm->v[j - 1];

		if (pm->maxend[j - 1] <= addr)
			break; /* nothing at or before j-1 reaches addr */
		if (e->end > addr && (!best || e->seq > best->seq))
			best = e;
	}
	return best;
}

int perfmap_lookup(struct perfmap *pm, uint64_t addr, const char **name, uint64_t *start)
{
	const struct perfmap_entry *e = perfmap_find(pm, addr);

	if (!e && perfmap_now_ns() - pm->last_check_ns >= (int64_t)PERFMAP_RECHECK_MS * 1000000 &&
	    perfmap_refresh(pm) == 0)
		e = perfmap_find(pm, addr);
	if (!e)
		return -ENOENT;
	*name = pm->names + e->name;
	if (start)
		*start = e->start;
	return 0;
}

size_t perfmap_count(const struct perfmap *pm)
{
	return pm ? pm->n : 0;
}
