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
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pprobe/debugfetch.h"
#include "pprobe/demangle.h"
#include "pprobe/elfimage.h"
#include "pprobe/perfmap.h"
#include "pprobe/symbolize.h"

#define SYMBOLIZE_MAX_INLINE 64

struct symbolize_module {
	const struct elfimage *img;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	int memfd; /* backing file for images copied from memory (vDSO) */
	bool fetch_tried; /* debug info was asked of the servers once */
	bool fetched;     /* ... and came */
};

struct symbolize {
	struct symbolize_module *mods;
	size_t n, cap;
	struct perfmap *perfmap; /* borrowed, may be NULL */
	struct debugfetch *fetch; /* borrowed; NULL: debug info of this machine only */
};

static char *debuginfo_path;

static const Dwfl_Callbacks symbolize_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
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
	for (size_t i = 0; i < s->n; i++) {
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
		if (s->mods[i].memfd >= 0)
			close(s->mods[i].memfd);
	}
	free(s->mods);
	free(s);
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

/* The name a DIE is known by in the binary: its linkage (mangled) name
 * where it has one, following abstract origins and specifications; else,
 * for the function holding the pc, the symbol table's name for it when
 * that is mangled (GCC gives a lambda's operator() no linkage name, only
 * "operator()"; a C function's plain name beats a versioned alias such as
 * __libc_start_main@@GLIBC_2.34); else its plain name. */
static const char *symbolize_die_name(Dwarf_Die *die, const char *symname)
{
	Dwarf_Attribute attr;
	const char *name;

	if ((dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	     dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) &&
	    (name = dwarf_formstring(&attr)))
		return name;
	if (dwarf_tag(die) == DW_TAG_subprogram && symname &&
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

struct symbolize_find_func {
	Dwarf_Addr pc;
	Dwarf_Die die;
	int found;
};

static int symbolize_func_cb(Dwarf_Die *die, void *arg)
{
	struct symbolize_find_func *f = arg;

	if (dwarf_haspc(die, f->pc) <= 0)
		return DWARF_CB_OK;
	f->die = *die;
	f->found = 1;
	return DWARF_CB_ABORT;
}

/* The innermost scope below parent (inlined subroutine, lexical block)
 * whose ranges hold pc, or parent itself. */
static Dwarf_Die symbolize_scope_descend(Dwarf_Die parent, Dwarf_Addr pc)
{
	for (int depth = 0; depth < SYMBOLIZE_MAX_INLINE; depth++) {
		Dwarf_Die child;
		int found = 0;

		if (dwarf_child(&parent, &child) != 0)
			break;
		do {
			int tag = dwarf_tag(&child);

			if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
			    dwarf_haspc(&child, pc) > 0) {
				found = 1;
				break;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
		if (!found)
			break;
		parent = child;
	}
	return parent;
}

/* The innermost DWARF scope holding pc, or -ENOENT.  dwarf_getscopes()
 * prunes every scope whose ranges miss pc, so it never finds code nested
 * in another function's DIE (GCC puts a lambda's operator() inside its
 * enclosing function); then the CU's subprograms are searched wherever
 * they are nested, and their scopes walked down from there. */
static int symbolize_innermost_scope(Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die *out)
{
	struct symbolize_find_func f = { .pc = pc };
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cu, pc, &scopes);

	if (n > 0) {
		*out = scopes[0];
		free(scopes);
		return 0;
	}
	free(scopes);
	dwarf_getfuncs(cu, symbolize_func_cb, &f, 0);
	if (!f.found)
		return -ENOENT;
	*out = symbolize_scope_descend(f.die, pc);
	return 0;
}

/* DWARF frames for vaddr: innermost inlined callee first. */
static int symbolize_dwarf(Dwfl_Module *mod, uint64_t vaddr, const char *symname,
			   struct symbolize_result *res)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, vaddr, &bias);
	Dwarf_Die *scopes = NULL, inner;
	Dwfl_Line *dl;
	const char *file = NULL;
	int line = 0, nscopes, err = 0;

	if (!cu)
		return -ENOENT;
	dl = dwfl_module_getsrc(mod, vaddr);
	if (dl)
		file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	/* dwarf_getscopes() continues into the abstract definition's scopes
	 * after an inlined instance; dwarf_getscopes_die() on the innermost
	 * scope gives the concrete chain of callers instead (as eu-addr2line -i
	 * does). */
	nscopes = 0;
	if (symbolize_innermost_scope(cu, vaddr - bias, &inner) == 0)
		nscopes = dwarf_getscopes_die(&inner, &scopes);
	for (int i = 0; i < nscopes && res->n < SYMBOLIZE_MAX_INLINE; i++) {
		int tag = dwarf_tag(&scopes[i]);
		const char *name;

		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		name = symbolize_die_name(&scopes[i], symname);
		if (!name)
			name = "??";
		err = symbolize_push(res, name, file, line);
		if (err || tag == DW_TAG_subprogram)
			break;
		file = symbolize_call_file(cu, &scopes[i], &line);
	}
	free(scopes);
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
	const char *symname = NULL;
	GElf_Off off = 0;
	GElf_Sym sym;

	memset(res, 0, sizeof(*res));
	if (m && s->fetch)
		symbolize_module_fetch(s, m);
	if (m && m->mod) {
		symname = dwfl_module_addrinfo(m->mod, vaddr, &off, &sym, NULL, NULL, NULL);
		if (symbolize_dwarf(m->mod, vaddr, symname, res) == 0) {
			res->quality = SYMBOLIZE_DWARF;
			return 0;
		}
		symbolize_result_fini(res);
		/* No DWARF scope covers it (some compilers' lambdas, code from
		 * assembly): the symbol's name, with the line table's line. */
		if (symname && *symname && symbolize_push_symbol(m->mod, vaddr, symname, res) == 0) {
			res->quality = SYMBOLIZE_SYMTAB;
			return 0;
		}
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
