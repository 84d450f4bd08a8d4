/* symbolize.h - addresses to functions, files and lines (libdwfl).
 *
 * One libdwfl session per ELF image, reported at bias 0, so lookups take
 * the image's own virtual addresses and the session serves every process
 * and every load address of that file.  Separate debug info is found the
 * standard way (build-id under /usr/lib/debug/.build-id, .gnu_debuglink).
 * Never touches the target: it reads the files the target mapped.
 */
#ifndef PPROBE_SYMBOLIZE_H
#define PPROBE_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct elfimage;
struct symbolize;

struct symbolize_frame {
	char *name;        /* demangled; never NULL or empty */
	char *system_name; /* as in the binary (mangled) */
	char *file;        /* NULL if unknown */
	int line;          /* 0 if unknown */
};

/* Frames of one address, innermost (inlined callee) first. */
struct symbolize_result {
	struct symbolize_frame *frames;
	size_t n;
	int quality; /* SYMBOLIZE_DWARF, _SYMTAB or _NONE */
};

enum { SYMBOLIZE_NONE = 0, SYMBOLIZE_SYMTAB, SYMBOLIZE_DWARF };

struct perfmap;
struct debugfetch;

int symbolize_new(struct symbolize **out);

/* Name code outside any ELF file (JIT code) from the target's perf map;
 * pm is borrowed and must outlive s. */
void symbolize_set_perfmap(struct symbolize *s, struct perfmap *pm);
void symbolize_free(struct symbolize *s);

/* Drop img's libdwfl session and everything built on it (descriptors,
 * DWARF indexes): the maps cache is about to free the image
 * (maps_evict_unmapped).  A later lookup of another image at the same
 * address opens a session of its own. */
void symbolize_forget_image(struct symbolize *s, const struct elfimage *img);

/* From now on, an image without debug info on this machine is looked up on
 * the debuginfod servers of f (borrowed) once, the first time it is used
 * or symbolize_fetch is called; NULL turns that off.  Only while no thread
 * of the target is traced: a fetch can take seconds, and a tracer waiting
 * on the network answers no ptrace stop meanwhile, so a thread that stops
 * (for a signal, a clone, an exit) would wait as long. */
void symbolize_set_fetch(struct symbolize *s, struct debugfetch *f);

/* Fetch img's debug info now if it lacks it (and fetching is on).  1: its
 * debug info came from the servers (lookups of img now give more than
 * before); 0: not; -ENOMEM. */
int symbolize_fetch(struct symbolize *s, const struct elfimage *img);

/* Load now what the first lookup in img would (its debug info, symbol
 * table and the address ranges of its CUs), so that lookup costs no more
 * than the others: for the time before attaching, when it costs the
 * target nothing.  1: img's module was opened and loaded; 0: there is
 * nothing to load, or it was loaded before; -ENOMEM. */
int symbolize_warm(struct symbolize *s, const struct elfimage *img);

/* Symbolize ELF virtual address vaddr of img.  Without an image (img
 * NULL), module (the mapped file's path, may be NULL) and vaddr (then the
 * file offset) name the frame "module+0xoffset"; with neither, raw_pc
 * names it.  Always yields at least one frame.  res is filled; free with
 * symbolize_result_fini. */
int symbolize_lookup(struct symbolize *s, const struct elfimage *img, const char *module,
		     uint64_t vaddr, uint64_t raw_pc, struct symbolize_result *res);
void symbolize_result_fini(struct symbolize_result *res);

#endif
