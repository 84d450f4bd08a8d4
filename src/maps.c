/* maps.c - /proc/PID/maps and the image cache (see maps.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pprobe/elfimage.h"
#include "pprobe/error.h"
#include "pprobe/hashutil.h"
#include "pprobe/maps.h"
#include "pprobe/procfs.h"
#include "pprobe/rootpath.h"

/* Bound what a hostile or huge target can make us hold. */
#define MAPS_MAX_ENTRIES 1000000
#define MAPS_VDSO_MAX (64 * 1024)
#define MAPS_MAX_TEXT (256u * 1024 * 1024)

struct maps_image_key {
	unsigned dev_major, dev_minor;
	uint64_t inode;
	char *path;
	uint64_t vdso_start; /* for memory images: where it was copied from */
	struct elfimage *img;
	int err;
	unsigned seen_gen; /* the last maps generation that mapped it */
};

/* The images, and an open-addressing index over them by key (slot: the
 * image's position + 1, 0 for empty), so that finding the images the maps
 * still hold costs one probe per mapping, not a scan of the cache. */
struct maps_image_cache {
	struct maps_image_key *v;
	size_t n, cap;
	size_t *slots;
	size_t nslots; /* a power of two, at least twice n; 0 before the first */
	uint64_t serial; /* the last serial given to an image */
};

static void maps_cache_mark_mapped(struct maps *m);

void maps_init(struct maps *m, pid_t pid)
{
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	m->view = pid;
	m->fd = -1;
}

static void maps_free_entries(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static void maps_close_fd(struct maps *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

void maps_fini(struct maps *m)
{
	maps_free_entries(m);
	maps_close_fd(m);
	free(m->text);
	free(m->last);
	m->text = m->last = NULL;
	m->text_cap = m->last_cap = m->last_len = 0;
	free(m->saved_root);
	free(m->saved_vdso);
	m->saved_root = NULL;
	m->saved_vdso = NULL;
	if (m->cache) {
		for (size_t i = 0; i < m->cache->n; i++) {
			elfimage_free(m->cache->v[i].img);
			free(m->cache->v[i].path);
		}
		free(m->cache->v);
		free(m->cache->slots);
		free(m->cache);
		m->cache = NULL;
	}
}

static int maps_parse_line(const char *line, struct maps_entry *e)
{
	unsigned long long start, end, off, ino;
	int pathpos = 0;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, e->perms, &off,
		   &e->dev_major, &e->dev_minor, &ino, &pathpos) < 7)
		return -EINVAL;
	e->start = start;
	e->end = end;
	e->offset = off;
	e->inode = ino;
	e->path = strdup(pathpos ? line + pathpos : "");
	if (!e->path)
		return -ENOMEM;
	e->path[strcspn(e->path, "\n")] = '\0';
	return 0;
}

/* /proc/PID/WHAT, or through the viewing thread: /proc/PID/task/VIEW/WHAT
 * (which cannot name a thread of another process if VIEW's id is reused). */
static void maps_view_path(const struct maps *m, pid_t view, const char *what, char *buf,
			   size_t len)
{
	if (view == m->pid)
		snprintf(buf, len, "/proc/%d/%s", (int)m->pid, what);
	else
		snprintf(buf, len, "/proc/%d/task/%d/%s", (int)m->pid, (int)view, what);
}

/* Read the whole of the kept maps descriptor (opened on the view's maps
 * if need be) into m->text; its length, 0 for a view without memory (a
 * zombie; the memory of an exec'd-away image), or -errno.  pread from 0:
 * the kernel writes the file anew, and no open is paid per read. */
static ssize_t maps_load_text(struct maps *m)
{
	size_t len = 0;

	if (m->fd < 0) {
		char path[64];

		maps_view_path(m, m->view, "maps", path, sizeof(path));
		m->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (m->fd < 0)
			return -errno;
	}
	for (;;) {
		ssize_t r;

		if (m->text_cap - len < 4096) {
			size_t ncap = m->text_cap ? m->text_cap * 2 : 64 * 1024;
			char *nt;

			if (ncap > MAPS_MAX_TEXT)
				return -PPROBE_E_TOOBIG;
			nt = realloc(m->text, ncap);
			if (!nt)
				return -ENOMEM;
			m->text = nt;
			m->text_cap = ncap;
		}
		r = pread(m->fd, m->text + len, m->text_cap - len - 1, (off_t)len);
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	m->text[len] = '\0';
	return (ssize_t)len;
}

/* m->text into the entries, replacing them; text is cut into lines. */
static int maps_parse_text(struct maps *m, size_t len)
{
	struct maps_entry *v = NULL;
	size_t n = 0, cap = 0;
	char *line = m->text, *end = m->text + len;
	int err = 0;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));

		if (nl)
			*nl = '\0';
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct maps_entry *nv;

			if (ncap > MAPS_MAX_ENTRIES) {
				err = -PPROBE_E_TOOBIG;
				break;
			}
			nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		if (maps_parse_line(line, &v[n]) == 0)
			n++;
		line = nl ? nl + 1 : end;
	}
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(v[i].path);
		free(v);
		return err;
	}
	maps_free_entries(m);
	m->v = v;
	m->n = n;
	return 0;
}

int maps_load_saved(struct maps *m, const char *text, size_t len, const char *root,
		    const void *vdso, size_t vdso_len)
{
	int err;

	if (len >= MAPS_MAX_TEXT)
		return -PPROBE_E_TOOBIG;
	if (len + 1 > m->text_cap) {
		char *nt = realloc(m->text, len + 1);

		if (!nt)
			return -ENOMEM;
		m->text = nt;
		m->text_cap = len + 1;
	}
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	m->saved = true;
	free(m->saved_root);
	free(m->saved_vdso);
	m->saved_root = root ? strdup(root) : NULL;
	m->saved_vdso = vdso && vdso_len ? malloc(vdso_len) : NULL;
	m->saved_vdso_len = m->saved_vdso ? vdso_len : 0;
	if ((root && !m->saved_root) || (vdso && vdso_len && !m->saved_vdso))
		return -ENOMEM;
	if (m->saved_vdso)
		memcpy(m->saved_vdso, vdso, vdso_len);
	err = maps_parse_text(m, len);
	if (err)
		return err;
	m->generation++;
	return 0;
}

int maps_read(struct maps *m)
{
	ssize_t len;
	pid_t live;
	int err;

	if (m->saved)
		return 0; /* no process: what was loaded is all there is */
	len = maps_load_text(m);
	if (len <= 0 && len != -ENOMEM && len != -PPROBE_E_TOOBIG) {
		/* A descriptor opened before an exec reads the old, empty
		 * memory: open anew.  Still nothing: the view is a zombie
		 * (the main thread after pthread_exit) or gone, and a live
		 * thread takes over. */
		maps_close_fd(m);
		len = maps_load_text(m);
		if (len <= 0 && len != -ENOMEM && len != -PPROBE_E_TOOBIG) {
			maps_close_fd(m);
			err = procfs_find_live_task(m->pid, &live);
			if (err <= 0)
				return err < 0 && err != -ENOENT ? err : -ESRCH;
			m->view = live;
			len = maps_load_text(m);
			if (len == 0)
				len = -ESRCH;
		}
	}
	if (len < 0)
		return (int)len;
	/* Unchanged text, unchanged maps: most reads end here, unparsed. */
	if ((size_t)len == m->last_len && m->last && !memcmp(m->last, m->text, (size_t)len))
		return 0;
	if ((size_t)len > m->last_cap) {
		char *nl = realloc(m->last, (size_t)len);

		if (!nl)
			return -ENOMEM;
		m->last = nl;
		m->last_cap = (size_t)len;
	}
	/* Kept before the parse cuts the text into lines. */
	memcpy(m->last, m->text, (size_t)len);
	m->last_len = (size_t)len;
	err = maps_parse_text(m, (size_t)len);
	if (err) {
		m->last_len = 0;
		return err;
	}
	m->generation++;
	maps_cache_mark_mapped(m);
	return 0;
}

struct maps_entry *maps_find(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

bool maps_is_exec(const struct maps_entry *e)
{
	return e->perms[2] == 'x';
}

static bool maps_is_file(const struct maps_entry *e)
{
	return e->path[0] == '/' && e->inode != 0;
}

int maps_list_exec(const struct maps *m, struct maps_entry ***out, size_t *n)
{
	struct maps_entry *main_e = maps_find_main(m);
	struct maps_entry **v = malloc((m->n + 1) * sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	if (main_e)
		v[k++] = main_e;
	for (size_t i = 0; i < m->n; i++) {
		struct maps_entry *e = &m->v[i];

		if (e != main_e && maps_is_exec(e) && (maps_is_file(e) || !strcmp(e->path, "[vdso]")))
			v[k++] = e;
	}
	*out = v;
	*n = k;
	return 0;
}

/* The main executable is the file /proc/PID/exe names: matched by device
 * and inode (a replaced or deleted binary keeps both), else by path (on
 * overlayfs the maps show the layer's inode while exe stats the overlay's),
 * the lowest executable mapping of that file. */
struct maps_entry *maps_find_main(const struct maps *m)
{
	char path[64], link[4200];
	struct stat st;
	bool have_st;
	ssize_t n;

	if (m->saved)
		return NULL;
	maps_view_path(m, m->view, "exe", path, sizeof(path));
	have_st = stat(path, &st) == 0;
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	for (size_t i = 0; i < m->n; i++) {
		struct maps_entry *e = &m->v[i];

		if (!maps_is_exec(e) || !maps_is_file(e))
			continue;
		if (have_st && e->inode == st.st_ino && e->dev_major == major(st.st_dev) &&
		    e->dev_minor == minor(st.st_dev))
			return e;
		if (link[0] && !strcmp(e->path, link))
			return e;
	}
	return NULL;
}

/* Copy the vDSO out of the target.  It is immutable for the life of the
 * process, so reading it while the target runs is safe. */
static int maps_open_vdso(const struct maps *m, const struct maps_entry *e, struct elfimage **img)
{
	size_t len = e->end - e->start;
	struct iovec local, remote;
	void *buf;
	ssize_t r;
	int err;

	if (len > MAPS_VDSO_MAX)
		return -PPROBE_E_TOOBIG;
	if (m->saved)
		return m->saved_vdso_len != len ? -PPROBE_E_NOELF :
		       elfimage_open_memory(m->saved_vdso, len, "[vdso]", img);
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)e->start;
	remote.iov_len = len;
	r = process_vm_readv(m->view, &local, 1, &remote, 1, 0);
	err = r < 0 ? -errno : (size_t)r != len ? -EFAULT : elfimage_open_memory(buf, len, "[vdso]", img);
	free(buf);
	return err;
}

/* Open e's file by its path below the target's root rootdir, every link
 * resolved inside that root (rootpath.h), never out to the host's files.
 * *same is set when the path, resolved as the kernel does for us through
 * rootdir, is this very file too (so naming it for libdwfl's search
 * beside it finds the target's files). */
static int maps_open_in_root(const char *rootdir, const char *root, const struct maps_entry *e,
			     struct elfimage **img, bool *same)
{
	char proc[64];
	struct stat in, host;
	int fd, err;

	*same = false;
	fd = rootpath_open_under(rootdir, e->path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	/* Only a regular file is reopened (through our descriptor, the same
	 * inode): opening a FIFO planted there would wait for a writer. */
	if (fstat(fd, &in) < 0 || !S_ISREG(in.st_mode)) {
		close(fd);
		return -PPROBE_E_NOELF;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	err = elfimage_open_file(proc, e->path, img);
	if (!err && stat(root, &host) == 0 && in.st_dev == host.st_dev && in.st_ino == host.st_ino)
		*same = true;
	close(fd);
	return err;
}

/* Name img by root (the path through /proc/PID/root) for libdwfl's
 * debug-info search beside it. */
static void maps_name_by_root(struct elfimage *img, const char *root)
{
	char *p = strdup(root);

	if (p) {
		free(img->open_path);
		img->open_path = p;
	}
}

/* Saved maps: the file at its path, or below the root the caller named
 * (its own copy of the files, not a target's root: resolved plainly). */
static int maps_open_saved(const struct maps *m, const struct maps_entry *e,
			   struct elfimage **img)
{
	char path[8192];

	if ((size_t)snprintf(path, sizeof(path), "%s%s", m->saved_root ? m->saved_root : "",
			     e->path) >= sizeof(path))
		return -ENAMETOOLONG;
	return elfimage_open_file(path, e->path, img);
}

/* Open a mapped file the way the target sees it: map_files first (it is the
 * very file mapped, even when deleted, replaced or in another mount
 * namespace), else its path inside the target's root.  libdwfl later looks
 * for separate debug info beside open_path, so when the file at the
 * target's root is the same inode we name that path instead of the
 * map_files link. */
static int maps_open_file(const struct maps *m, const struct maps_entry *e, struct elfimage **img)
{
	char mf[128], root[4200], rootdir[64], link[4200];
	struct stat st, in;
	bool same;
	ssize_t n;
	int err, fd;

	if (m->saved)
		return maps_open_saved(m, e, img);
	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)m->view, e->start,
		 e->end);
	/* map_files is in no task directory: /proc/VIEW/ it is. */
	maps_view_path(m, m->view, "root", rootdir, sizeof(rootdir));
	snprintf(root, sizeof(root), "%s%s", rootdir, e->path);
	/* map_files shows what is mapped there now, which is not what e says
	 * if a library was unloaded and another loaded at its addresses since
	 * the maps were read (the link and the maps line print the same path
	 * for the same file).  The image is cached under e's file: open that
	 * file by its path then, or the cache would give the other library's
	 * image for this one from now on. */
	n = readlink(mf, link, sizeof(link) - 1);
	if (n >= 0) {
		link[n] = '\0';
		if (strcmp(link, e->path)) {
			err = maps_open_in_root(rootdir, root, e, img, &same);
			if (!err && same)
				maps_name_by_root(*img, root);
			return err;
		}
	}
	err = elfimage_open_file(mf, e->path, img);
	if (err) {
		err = maps_open_in_root(rootdir, root, e, img, &same);
		if (!err && same)
			maps_name_by_root(*img, root);
		return err;
	}
	/* Named by root only if the path resolved inside the target's root
	 * and the path resolved through /proc/PID/root are both this file: a
	 * link of the target's leading out to the host makes them differ. */
	if (stat(root, &st) == 0 && st.st_ino == e->inode && major(st.st_dev) == e->dev_major &&
	    minor(st.st_dev) == e->dev_minor) {
		fd = rootpath_open_under(rootdir, e->path, O_PATH);
		if (fd >= 0 && fstat(fd, &in) == 0 && in.st_ino == st.st_ino && in.st_dev == st.st_dev)
			maps_name_by_root(*img, root);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static bool maps_is_vdso(const struct maps_entry *e)
{
	return !strcmp(e->path, "[vdso]");
}

/* The vDSO is keyed by where it was copied from; a file by device, inode
 * and the path the target names it by. */
static uint64_t maps_key_hash(const struct maps_entry *e, bool vdso)
{
	if (vdso)
		return hashutil_combine(hashutil_str("[vdso]"), e->start);
	return hashutil_combine(hashutil_combine(hashutil_str(e->path), e->inode),
				((uint64_t)e->dev_major << 32) | e->dev_minor);
}

static bool maps_key_matches(const struct maps_image_key *k, const struct maps_entry *e,
			     bool vdso)
{
	return vdso ? k->vdso_start == e->start && !strcmp(k->path, "[vdso]")
		    : (k->inode == e->inode && k->dev_major == e->dev_major &&
		       k->dev_minor == e->dev_minor && !strcmp(k->path, e->path));
}

static uint64_t maps_key_rehash(const struct maps_image_key *k)
{
	struct maps_entry e = { .start = k->vdso_start, .inode = k->inode,
				.dev_major = k->dev_major, .dev_minor = k->dev_minor,
				.path = k->path };

	return maps_key_hash(&e, k->vdso_start && !strcmp(k->path, "[vdso]"));
}

/* Rebuild the index for at least want images: in place when it is big
 * enough (so eviction, which only shrinks the cache, cannot fail), else
 * in a larger one. */
static int maps_cache_reindex(struct maps_image_cache *c, size_t want)
{
	size_t ns = c->nslots ? c->nslots : 64, *slots = c->slots;

	while (ns < want * 2)
		ns *= 2;
	if (ns != c->nslots) {
		slots = calloc(ns, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		free(c->slots);
		c->slots = slots;
		c->nslots = ns;
	} else {
		memset(slots, 0, ns * sizeof(*slots));
	}
	for (size_t i = 0; i < c->n; i++) {
		size_t h = (size_t)maps_key_rehash(&c->v[i]) & (ns - 1);

		while (slots[h])
			h = (h + 1) & (ns - 1);
		slots[h] = i + 1;
	}
	return 0;
}

static struct maps_image_key *maps_cache_lookup(struct maps *m, const struct maps_entry *e,
						bool vdso)
{
	struct maps_image_cache *c = m->cache;
	size_t h;

	if (!c || !c->nslots)
		return NULL;
	for (h = (size_t)maps_key_hash(e, vdso) & (c->nslots - 1); c->slots[h];
	     h = (h + 1) & (c->nslots - 1)) {
		struct maps_image_key *k = &c->v[c->slots[h] - 1];

		if (maps_key_matches(k, e, vdso))
			return k;
	}
	return NULL;
}

static struct maps_image_key *maps_cache_insert(struct maps *m, const struct maps_entry *e,
						bool vdso)
{
	struct maps_image_cache *c = m->cache;
	struct maps_image_key *k;
	size_t h;

	if (!c) {
		c = m->cache = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		struct maps_image_key *nv = realloc(c->v, ncap * sizeof(*nv));

		if (!nv)
			return NULL;
		c->v = nv;
		c->cap = ncap;
	}
	if ((c->n + 1) * 2 > c->nslots && maps_cache_reindex(c, c->n + 1) != 0)
		return NULL;
	k = &c->v[c->n];
	memset(k, 0, sizeof(*k));
	k->path = strdup(e->path);
	if (!k->path)
		return NULL;
	k->dev_major = e->dev_major;
	k->dev_minor = e->dev_minor;
	k->inode = e->inode;
	k->vdso_start = vdso ? e->start : 0;
	k->seen_gen = m->generation;
	k->err = vdso ? maps_open_vdso(m, e, &k->img) : maps_open_file(m, e, &k->img);
	if (k->img)
		k->img->serial = ++c->serial;
	for (h = (size_t)maps_key_hash(e, vdso) & (c->nslots - 1); c->slots[h];
	     h = (h + 1) & (c->nslots - 1))
		;
	c->slots[h] = ++c->n;
	return k;
}

/* After a read that changed the maps: stamp every cached image that a
 * mapping still holds with this generation. */
static void maps_cache_mark_mapped(struct maps *m)
{
	for (size_t i = 0; m->cache && i < m->n; i++) {
		struct maps_entry *e = &m->v[i];
		bool vdso = maps_is_vdso(e);
		struct maps_image_key *k;

		if ((vdso || maps_is_file(e)) && (k = maps_cache_lookup(m, e, vdso)))
			k->seen_gen = m->generation;
	}
}

/* Wrapping compare of generations: the older first. */
static int maps_cmp_seen(const void *a, const void *b)
{
	const struct maps_image_key *x = *(const struct maps_image_key *const *)a;
	const struct maps_image_key *y = *(const struct maps_image_key *const *)b;
	int d = (int)(x->seen_gen - y->seen_gen);

	return (d > 0) - (d < 0);
}

size_t maps_evict_unmapped(struct maps *m, maps_evict_fn fn, void *arg)
{
	struct maps_image_cache *c = m->cache;
	struct maps_image_key **old;
	size_t nold = 0, nevict, kept = 0;

	if (!c)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		nold += c->v[i].seen_gen != m->generation;
	if (nold <= MAPS_KEEP_UNMAPPED)
		return 0;
	old = malloc(nold * sizeof(*old));
	if (!old)
		return 0; /* tried again after the next change */
	nold = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].seen_gen != m->generation)
			old[nold++] = &c->v[i];
	qsort(old, nold, sizeof(*old), maps_cmp_seen);
	nevict = nold - MAPS_KEEP_UNMAPPED;
	for (size_t i = 0; i < nevict; i++) {
		if (old[i]->img && fn)
			fn(arg, old[i]->img);
		elfimage_free(old[i]->img);
		free(old[i]->path);
		old[i]->path = NULL; /* marks it for the compaction below */
	}
	free(old);
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].path)
			c->v[kept++] = c->v[i];
	c->n = kept;
	/* Same number of slots or fewer needed: rebuilt in place. */
	maps_cache_reindex(c, c->n);
	return nevict;
}

struct elfimage *maps_image_by_serial(const struct maps *m, uint64_t serial)
{
	for (size_t i = 0; serial && m->cache && i < m->cache->n; i++)
		if (m->cache->v[i].img && m->cache->v[i].img->serial == serial)
			return m->cache->v[i].img;
	return NULL;
}

int maps_resolve(struct maps *m, struct maps_entry *e, struct elfimage **img, uint64_t *bias)
{
	bool vdso = maps_is_vdso(e);
	struct maps_image_key *k;

	if (!e->img_tried) {
		e->img_tried = true;
		if (!vdso && !maps_is_file(e)) {
			e->img_err = -PPROBE_E_NOELF;
		} else {
			k = maps_cache_lookup(m, e, vdso);
			if (!k)
				k = maps_cache_insert(m, e, vdso);
			if (!k)
				e->img_err = -ENOMEM;
			else if (k->err)
				e->img_err = k->err;
			else {
				e->img = k->img;
				e->img_err = elfimage_bias(k->img, e->start, e->offset, &e->bias);
			}
		}
	}
	if (e->img_err)
		return e->img_err;
	*img = e->img;
	*bias = e->bias;
	return 0;
}

int maps_read_code(struct maps *m, uint64_t addr, void *buf, size_t len)
{
	struct maps_entry *e = maps_find(m, addr);
	struct elfimage *img;
	uint64_t bias;

	if (!e || maps_resolve(m, e, &img, &bias) != 0)
		return -EFAULT;
	return elfimage_read(img, addr - bias, buf, len);
}
