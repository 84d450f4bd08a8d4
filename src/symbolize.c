/* symbolize.c - libdwfl lookups with inline frames (see symbolize.h).
 *
 * For an address: the DWARF scopes that contain it (dwarf_getscopes) give
 * the chain of inlined subroutines up to the enclosing subprogram.  The
 * innermost frame's line comes from the line table; each outer frame's line
 * is the call site recorded on the inlined subroutine it contains
 * (DW_AT_call_file / DW_AT_call_line), which is how eu-stack -i and gdb
 * report inlined frames.  Without DWARF: the ELF symbol table; without a
 * symbol: "module+0xoffset".
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pprobe/debugfetch.h"
#include "pprobe/demangle.h"
#include "pprobe/elfimage.h"
#include "pprobe/gopclntab.h"
#include "pprobe/perfmap.h"
#include "pprobe/rootpath.h"
#include "pprobe/symbolize.h"

#define SYMBOLIZE_MAX_INLINE 64

struct symbolize_module {
	const struct elfimage *img;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	int memfd; /* backing file for images copied from memory (vDSO) */
	bool fetch_tried; /* debug info was asked of the servers once */
	bool fetched;     /* ... and came */
	bool warmed;      /* symbolize_warm ran */
	struct symbolize_cu_index *cus; /* per CU, built on first use */
	size_t ncus;
	struct gopclntab go; /* Go's own table, read on first need */
	int go_state;        /* 0: not looked for; 1: go holds it; -1: none */
};

struct symbolize {
	struct symbolize_module *mods;
	size_t n, cap;
	struct perfmap *perfmap; /* borrowed, may be NULL */
	struct debugfetch *fetch; /* borrowed; NULL: debug info of this machine only */
};

/* A function's pc range (DWARF addresses) and its DIE. */
struct symbolize_func_range {
	Dwarf_Addr lo, hi;
	Dwarf_Die die;
};

/* The functions of one compilation unit, sorted by lo. */
struct symbolize_cu_index {
	Dwarf_Off cu_off;
	struct symbolize_func_range *v;
	size_t n, cap;
	int err;
};

static void symbolize_cu_indexes_free(struct symbolize_module *m)
{
	for (size_t i = 0; i < m->ncus; i++)
		free(m->cus[i].v);
	free(m->cus);
	m->cus = NULL;
	m->ncus = 0;
}

/* End m's session and free what was built on it. */
static void symbolize_module_close(struct symbolize_module *m)
{
	symbolize_cu_indexes_free(m);
	if (m->dwfl)
		dwfl_end(m->dwfl);
	if (m->memfd >= 0)
		close(m->memfd);
}

static char *debuginfo_path;

/* The length of path's "/proc/PID/root" or "/proc/PID/task/TID/root"
 * prefix (maps.c opens the target's files so), or 0. */
static size_t symbolize_root_prefix(const char *path)
{
	const char *p = path + 6;

	if (strncmp(path, "/proc/", 6) != 0)
		return 0;
	while ((*p >= '0' && *p <= '9') || *p == '/' || !strncmp(p, "task/", 5))
		p += !strncmp(p, "task/", 5) ? 5 : 1;
	if (p > path + 6 && p[-1] == '/' && !strncmp(p, "root/", 5))
		return (size_t)(p - path) + 4;
	return 0;
}

/* Open path for reading without ever blocking: O_NONBLOCK (a FIFO or a
 * device the target planted opens at once), then only a regular file is
 * kept.  A path inside the target's root (/proc/PID/root/...) is resolved
 * there (rootpath_open): a debug link the target planted as an absolute
 * symbolic link must not lead pprobe to a host file
 * (tests/integration/test_safety_chroot.py).  The descriptor is left
 * non-blocking; for a regular file that changes nothing.  -1 if it is not
 * one. */
static int symbolize_open_regular(const char *path, struct stat *st)
{
	int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	size_t root_len = symbolize_root_prefix(path);
	int fd;

	if (root_len) {
		char root[64];

		if (root_len >= sizeof(root))
			return -1;
		memcpy(root, path, root_len);
		root[root_len] = '\0';
		fd = rootpath_open_under(root, path + root_len, flags);
	} else {
		fd = open(path, flags);
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Is the file open on fd the debug file mod asks for?  By build ID when
 * the module has one, else by the .gnu_debuglink CRC (zlib's CRC-32, the
 * one the link records), reading at most the size fstat gave. */
static bool symbolize_debug_file_matches(Dwfl_Module *mod, int fd, const struct stat *st,
					 GElf_Word crc)
{
	const unsigned char *want;
	GElf_Addr vaddr;
	int want_len = dwfl_module_build_id(mod, &want, &vaddr);

	if (want_len > 0) {
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		const void *got = NULL;
		ssize_t got_len = elf ? dwelf_elf_gnu_build_id(elf, &got) : -1;
		bool same = got_len == want_len && !memcmp(got, want, (size_t)want_len);

		elf_end(elf);
		return same;
	}
	if (crc != 0) {
		unsigned char buf[65536];
		uLong sum = crc32(0L, Z_NULL, 0);
		off_t off = 0;

		while (off < st->st_size) {
			ssize_t r = pread(fd, buf, sizeof(buf), off);

			if (r <= 0)
				return false;
			sum = crc32(sum, buf, (uInt)r);
			off += r;
		}
		return (GElf_Word)sum == crc;
	}
	return false;
}

/* libdwfl's find_debuginfo callback.  The standard one opens the
 * .gnu_debuglink candidates beside the library with a plain open(): a
 * FIFO planted there by the target blocks pprobe in open() while every
 * thread is traced (tests/integration/test_safety_fifo.py).  Here: the
 * build-ID directories (this machine's, under /usr/lib/debug) as libdwfl
 * looks there; then the debuglink name in the library's directory, its
 * .debug/ and /usr/lib/debug/DIR, each opened with O_NONBLOCK, kept only
 * if it is a regular file whose build ID (or CRC) matches; last, the
 * standard search with no file name or link, which is the debuginfod
 * query alone when a fetch is on (session_fetch_begin). */
static int symbolize_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				    Dwarf_Addr base, const char *file_name,
				    const char *debuglink_file, GElf_Word debuglink_crc,
				    char **debuginfo_file_name)
{
	char *copy, *dir;
	const char *fmts[] = { "%s/%s", "%s/.debug/%s", "/usr/lib/debug%s/%s" };
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, NULL, NULL, 0,
					      debuginfo_file_name);

	if (fd >= 0)
		return fd;
	if (file_name && debuglink_file && !strchr(debuglink_file, '/') &&
	    (copy = strdup(file_name)) != NULL) {
		dir = dirname(copy);
		for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]) && fd < 0; i++) {
			char *path = NULL;
			struct stat st;

			if (asprintf(&path, fmts[i], dir, debuglink_file) < 0)
				break;
			fd = strcmp(path, file_name) ? symbolize_open_regular(path, &st) : -1;
			if (fd >= 0 && !symbolize_debug_file_matches(mod, fd, &st, debuglink_crc)) {
				close(fd);
				fd = -1;
			}
			if (fd >= 0)
				*debuginfo_file_name = path;
			else
				free(path);
		}
		free(copy);
		if (fd >= 0)
			return fd;
	}
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, NULL, NULL, 0,
					    debuginfo_file_name);
}

static const Dwfl_Callbacks symbolize_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = symbolize_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

int symbolize_new(struct symbolize **out)
{
	struct symbolize *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

void symbolize_set_perfmap(struct symbolize *s, struct perfmap *pm)
{
	s->perfmap = pm;
}

void symbolize_set_fetch(struct symbolize *s, struct debugfetch *f)
{
	s->fetch = f;
}

void symbolize_free(struct symbolize *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		symbolize_module_close(&s->mods[i]);
	free(s->mods);
	free(s);
}

void symbolize_forget_image(struct symbolize *s, const struct elfimage *img)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->mods[i].img != img)
			continue;
		symbolize_module_close(&s->mods[i]);
		s->mods[i] = s->mods[--s->n];
		return;
	}
}

/* Open a libdwfl session for img, or a fresh one in place of the last
 * (libdwfl remembers a failed debug-info search for the life of a
 * session).  Images held only in memory are given a memfd so libdwfl can
 * open them by name like any file. */
static void symbolize_module_open(struct symbolize_module *m)
{
	char path[64];
	const char *file = m->img->open_path;
	int fd;

	/* The indexes hold DIEs of the session that ends here. */
	symbolize_cu_indexes_free(m);
	if (m->dwfl)
		dwfl_end(m->dwfl);
	m->dwfl = NULL;
	m->mod = NULL;
	if (m->img->fd >= 0) {
		/* Our own descriptor: the path that opened it may be gone. */
		fd = dup(m->img->fd);
	} else {
		if (m->memfd < 0) {
			m->memfd = memfd_create("pprobe-image", MFD_CLOEXEC);
			if (m->memfd >= 0 &&
			    write(m->memfd, m->img->data, m->img->size) != (ssize_t)m->img->size) {
				close(m->memfd);
				m->memfd = -1;
			}
			if (m->memfd < 0)
				return;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", m->memfd);
		file = path;
		fd = dup(m->memfd);
	}
	if (fd < 0)
		return;
	m->dwfl = dwfl_begin(&symbolize_callbacks);
	if (!m->dwfl) {
		close(fd);
		return;
	}
	dwfl_report_begin(m->dwfl);
	/* On success the fd belongs to libdwfl; file still names it for the
	 * debug-info search (.gnu_debuglink beside it). */
	m->mod = dwfl_report_elf(m->dwfl, m->img->name, file, fd, 0, true);
	if (!m->mod)
		close(fd);
	dwfl_report_end(m->dwfl, NULL, NULL);
}

static struct symbolize_module *symbolize_module_get(struct symbolize *s,
						      const struct elfimage *img)
{
	struct symbolize_module *m;

	for (size_t i = 0; i < s->n; i++)
		if (s->mods[i].img == img)
			return &s->mods[i];
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct symbolize_module *nv = realloc(s->mods, ncap * sizeof(*nv));

		if (!nv)
			return NULL;
		s->mods = nv;
		s->cap = ncap;
	}
	m = &s->mods[s->n++];
	memset(m, 0, sizeof(*m));
	m->img = img;
	m->memfd = -1;
	symbolize_module_open(m);
	return m;
}

/* Ask the servers for m's debug info, once, if this machine has none (and
 * the image has a build ID to ask by).  libdwfl does the asking: its
 * standard search ends with a query to DEBUGINFOD_URLS, which debugfetch
 * sets only for this one lookup, and fetches the debug file's DWZ
 * supplement (.gnu_debugaltlink) the same way. */
static void symbolize_module_fetch(struct symbolize *s, struct symbolize_module *m)
{
	struct debuginfod_client *client;
	Dwarf_Addr bias;

	if (m->fetch_tried || !s->fetch)
		return;
	m->fetch_tried = true;
	/* Looked up without the servers: the search is local. */
	if (!m->mod || !m->img->build_id[0] || dwfl_module_getdwarf(m->mod, &bias))
		return;
	symbolize_module_open(m);
	if (!m->mod)
		return;
	client = dwfl_get_debuginfod_client(m->dwfl);
	if (debugfetch_begin(s->fetch, client, m->img->name, m->img->build_id) != 0)
		return;
	m->fetched = dwfl_module_getdwarf(m->mod, &bias) != NULL;
	debugfetch_end(s->fetch, client, m->fetched);
}

int symbolize_fetch(struct symbolize *s, const struct elfimage *img)
{
	struct symbolize_module *m = symbolize_module_get(s, img);

	if (!m)
		return -ENOMEM;
	symbolize_module_fetch(s, m);
	return m->fetched;
}

/* What the first lookup in an image loads, without a lookup: libdwfl
 * reads the debug info (a separate debug file: libc's is tens of MB of
 * DWARF), the symbol table (symbolize_symname_get), and the address
 * ranges of the CUs (dwfl_module_addrdie, for any address).  The indexes
 * of single CUs stay lazy: each costs one CU's walk. */
int symbolize_warm(struct symbolize *s, const struct elfimage *img)
{
	struct symbolize_module *m = symbolize_module_get(s, img);
	Dwarf_Addr bias = 0;
	uint64_t vaddr = 0;

	if (!m)
		return -ENOMEM;
	if (m->warmed || !m->mod)
		return 0;
	m->warmed = true;
	if (s->fetch)
		symbolize_module_fetch(s, m);
	if (!m->mod)
		return 0;
	for (size_t i = 0; i < img->nloads; i++)
		if (img->loads[i].flags & 1 /* PF_X */) {
			vaddr = img->loads[i].vaddr;
			break;
		}
	if (dwfl_module_getdwarf(m->mod, &bias))
		dwfl_module_addrdie(m->mod, vaddr, &bias);
	dwfl_module_getsymtab(m->mod);
	return 1;
}

static int symbolize_push(struct symbolize_result *res, const char *sysname, const char *file,
			  int line)
{
	struct symbolize_frame *nv = realloc(res->frames, (res->n + 1) * sizeof(*nv));
	struct symbolize_frame *f;
	char *dem;

	if (!nv)
		return -ENOMEM;
	res->frames = nv;
	f = &res->frames[res->n];
	memset(f, 0, sizeof(*f));
	dem = demangle_name(sysname);
	f->system_name = strdup(sysname);
	f->name = dem ? dem : strdup(sysname);
	f->file = file ? strdup(file) : NULL;
	f->line = line;
	if (!f->name || !f->system_name || (file && !f->file)) {
		free(f->name);
		free(f->system_name);
		free(f->file);
		return -ENOMEM;
	}
	res->n++;
	return 0;
}

/* The symbol table's name for a pc, looked up only when needed: libdwfl
 * 0.188 scans the whole symbol table for each lookup, which on a large C++
 * program cost more than all the DWARF. */
struct symbolize_symname {
	Dwfl_Module *mod;
	uint64_t vaddr;
	const char *name;
	bool looked;
};

static const char *symbolize_symname_get(struct symbolize_symname *sn)
{
	GElf_Off off = 0;
	GElf_Sym sym;

	if (!sn->looked) {
		sn->looked = true;
		sn->name = dwfl_module_addrinfo(sn->mod, sn->vaddr, &off, &sym, NULL, NULL, NULL);
		if (sn->name && !*sn->name)
			sn->name = NULL;
	}
	return sn->name;
}

/* The name a DIE is known by in the binary: its linkage (mangled) name
 * where it has one, following abstract origins and specifications; else,
 * for the function holding the pc, the symbol table's name for it when
 * that is mangled (GCC gives a lambda's operator() no linkage name, only
 * "operator()"; a C function's plain name beats a versioned alias such as
 * __libc_start_main@@GLIBC_2.34); else its plain name. */
static const char *symbolize_die_name(Dwarf_Die *die, struct symbolize_symname *sn)
{
	Dwarf_Attribute attr;
	const char *name, *symname;

	if ((dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	     dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) &&
	    (name = dwarf_formstring(&attr)))
		return name;
	if (dwarf_tag(die) == DW_TAG_subprogram && (symname = symbolize_symname_get(sn)) &&
	    (!strncmp(symname, "_Z", 2) || !strncmp(symname, "_R", 2)))
		return symname;
	if (dwarf_attr_integrate(die, DW_AT_name, &attr) && (name = dwarf_formstring(&attr)))
		return name;
	return NULL;
}

static const char *symbolize_call_file(Dwarf_Die *cu, Dwarf_Die *inl, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word idx = 0, ln = 0;
	size_t nfiles;

	*line = 0;
	if (dwarf_attr(inl, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &ln) == 0)
		*line = (int)ln;
	if (!dwarf_attr(inl, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &idx) != 0)
		return NULL;
	if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static int symbolize_index_func(Dwarf_Die *die, void *arg)
{
	struct symbolize_cu_index *x = arg;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (lo >= hi)
			continue;
		if (x->n == x->cap) {
			size_t ncap = x->cap ? x->cap * 2 : 64;
			struct symbolize_func_range *nv = realloc(x->v, ncap * sizeof(*nv));

			if (!nv) {
				x->err = -ENOMEM;
				return DWARF_CB_ABORT;
			}
			x->v = nv;
			x->cap = ncap;
		}
		x->v[x->n++] = (struct symbolize_func_range){ .lo = lo, .hi = hi, .die = *die };
	}
	return DWARF_CB_OK;
}

static int symbolize_range_cmp(const void *a, const void *b)
{
	const struct symbolize_func_range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* The index of cu's functions, built on first use: one walk of the CU
 * (dwarf_getfuncs finds subprograms wherever they are nested, such as a
 * lambda's operator() inside its enclosing function, which
 * dwarf_getscopes, pruning scopes whose ranges miss the pc, never
 * reaches).  Walking the CU again for every pc (dwarf_getscopes_die)
 * cost a core at 1000 Hz on a large C++ program. */
static const struct symbolize_cu_index *symbolize_cu_index_get(struct symbolize_module *m,
							       Dwarf_Die *cu)
{
	Dwarf_Off off = dwarf_dieoffset(cu);
	struct symbolize_cu_index *nv, *x;

	for (size_t i = 0; i < m->ncus; i++)
		if (m->cus[i].cu_off == off)
			return m->cus[i].err ? NULL : &m->cus[i];
	nv = realloc(m->cus, (m->ncus + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	m->cus = nv;
	x = &m->cus[m->ncus++];
	memset(x, 0, sizeof(*x));
	x->cu_off = off;
	dwarf_getfuncs(cu, symbolize_index_func, x, 0);
	if (x->err)
		return NULL;
	/* A CU with no function (assembler output, or corrupt debug info)
	 * leaves v NULL, which qsort must not be given even with 0 items. */
	if (x->n > 1)
		qsort(x->v, x->n, sizeof(*x->v), symbolize_range_cmp);
	return x;
}

/* The function whose range holds pc, or NULL. */
static const Dwarf_Die *symbolize_cu_index_find(const struct symbolize_cu_index *x,
						Dwarf_Addr pc)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->v[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || pc >= x->v[lo - 1].hi)
		return NULL;
	return &x->v[lo - 1].die;
}

/* The child of parent (inlined subroutine, lexical block) whose ranges
 * hold pc. */
static bool symbolize_scope_child(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *child)
{
	if (dwarf_child(parent, child) != 0)
		return false;
	do {
		int tag = dwarf_tag(child);

		if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
		    dwarf_haspc(child, pc) > 0)
			return true;
	} while (dwarf_siblingof(child, child) == 0);
	return false;
}

/* The scopes holding pc from the innermost out to its function, into
 * scopes (at most SYMBOLIZE_MAX_INLINE); how many, or 0. */
static int symbolize_scopes(struct symbolize_module *m, Dwarf_Die *cu, Dwarf_Addr pc,
			    Dwarf_Die *scopes)
{
	const struct symbolize_cu_index *x = symbolize_cu_index_get(m, cu);
	const Dwarf_Die *func = x ? symbolize_cu_index_find(x, pc) : NULL;
	Dwarf_Die path[SYMBOLIZE_MAX_INLINE];
	int n = 0;

	if (!func)
		return 0;
	path[n++] = *func;
	while (n < SYMBOLIZE_MAX_INLINE && symbolize_scope_child(&path[n - 1], pc, &path[n]))
		n++;
	for (int i = 0; i < n; i++)
		scopes[i] = path[n - 1 - i];
	return n;
}

/* DWARF frames for vaddr: innermost inlined callee first. */
static int symbolize_dwarf(struct symbolize_module *m, uint64_t vaddr, struct symbolize_symname *sn,
			   struct symbolize_result *res)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(m->mod, vaddr, &bias);
	Dwarf_Die scopes[SYMBOLIZE_MAX_INLINE];
	Dwfl_Line *dl;
	const char *file = NULL;
	int line = 0, nscopes, err = 0;

	if (!cu)
		return -ENOENT;
	dl = dwfl_module_getsrc(m->mod, vaddr);
	if (dl)
		file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	/* The concrete chain of inlined callers, as eu-addr2line -i gives:
	 * each inlined subroutine is named after its abstract origin, and its
	 * caller's line is its call site. */
	nscopes = symbolize_scopes(m, cu, vaddr - bias, scopes);
	for (int i = 0; i < nscopes && res->n < SYMBOLIZE_MAX_INLINE; i++) {
		int tag = dwarf_tag(&scopes[i]);
		const char *name;

		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		name = symbolize_die_name(&scopes[i], sn);
		if (!name)
			name = "??";
		err = symbolize_push(res, name, file, line);
		if (err || tag == DW_TAG_subprogram)
			break;
		file = symbolize_call_file(cu, &scopes[i], &line);
	}
	if (!err && res->n == 0)
		return -ENOENT;
	return err;
}

static int symbolize_push_symbol(Dwfl_Module *mod, uint64_t vaddr, const char *symname,
				 struct symbolize_result *res)
{
	Dwfl_Line *dl = dwfl_module_getsrc(mod, vaddr);
	const char *file = NULL;
	int line = 0;

	if (dl)
		file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	return symbolize_push(res, symname, file, line);
}

/* Frames from Go's own table (.gopclntab), for a Go binary stripped of
 * its symbol table and DWARF (go build -ldflags='-s -w'): the names `go
 * tool pprof` shows for a Go profile, with file:line and inlined calls.
 * They count as DWARF-quality when they carry a line, as the pprof
 * mapping's has_line_numbers then tells the truth. */
static int symbolize_go(struct symbolize_module *m, uint64_t vaddr, struct symbolize_result *res)
{
	struct gopclntab_frame frames[SYMBOLIZE_MAX_INLINE];
	int n, err = 0;

	if (m->go_state == 0)
		m->go_state = gopclntab_open(m->img, &m->go) == 0 ? 1 : -1;
	if (m->go_state < 0)
		return -ENOENT;
	n = gopclntab_lookup(&m->go, vaddr, frames, SYMBOLIZE_MAX_INLINE);
	if (n < 0)
		return n;
	res->quality = SYMBOLIZE_SYMTAB;
	for (int i = 0; i < n && !err; i++) {
		err = symbolize_push(res, frames[i].name, frames[i].file, frames[i].line);
		if (frames[i].line > 0)
			res->quality = SYMBOLIZE_DWARF;
	}
	return err;
}

static int symbolize_fallback(const char *module, uint64_t off, uint64_t raw_pc,
			      struct symbolize_result *res)
{
	char buf[512];

	if (module && *module) {
		const char *base = strrchr(module, '/');

		snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, base ? base + 1 : module, off);
	} else {
		snprintf(buf, sizeof(buf), "[unknown] 0x%" PRIx64, raw_pc);
	}
	return symbolize_push(res, buf, NULL, 0);
}

int symbolize_lookup(struct symbolize *s, const struct elfimage *img, const char *module,
		     uint64_t vaddr, uint64_t raw_pc, struct symbolize_result *res)
{
	struct symbolize_module *m = img ? symbolize_module_get(s, img) : NULL;
	memset(res, 0, sizeof(*res));
	if (m && s->fetch)
		symbolize_module_fetch(s, m);
	if (m && m->mod) {
		struct symbolize_symname sn = { .mod = m->mod, .vaddr = vaddr };
		const char *symname;

		if (symbolize_dwarf(m, vaddr, &sn, res) == 0) {
			res->quality = SYMBOLIZE_DWARF;
			return 0;
		}
		symbolize_result_fini(res);
		/* No DWARF scope covers it (code from assembly): the symbol's
		 * name, with the line table's line. */
		symname = symbolize_symname_get(&sn);
		if (symname && symbolize_push_symbol(m->mod, vaddr, symname, res) == 0) {
			res->quality = SYMBOLIZE_SYMTAB;
			return 0;
		}
		symbolize_result_fini(res);
	}
	if (m) {
		if (symbolize_go(m, vaddr, res) == 0)
			return 0;
		symbolize_result_fini(res);
	}
	if (!img && s->perfmap) {
		const char *jit;

		if (perfmap_lookup(s->perfmap, raw_pc, &jit, NULL) == 0 &&
		    symbolize_push(res, jit, NULL, 0) == 0) {
			res->quality = SYMBOLIZE_SYMTAB;
			return 0;
		}
	}
	res->quality = SYMBOLIZE_NONE;
	return symbolize_fallback(img ? img->name : module, vaddr, raw_pc, res);
}

void symbolize_result_fini(struct symbolize_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->frames[i].name);
		free(res->frames[i].system_name);
		free(res->frames[i].file);
	}
	free(res->frames);
	res->frames = NULL;
	res->n = 0;
}
