/* elfimage.h - an ELF file the target mapped, read from our own copy.
 *
 * The unwinder reads code and unwind tables (.eh_frame_hdr, .eh_frame)
 * through this, never from the live target.  A file is mapped read-only
 * (or, for the vDSO, copied once from the target's memory).  The file is
 * hostile input: every offset is bounds-checked, nothing is asserted.
 */
#ifndef PPROBE_ELFIMAGE_H
#define PPROBE_ELFIMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elfimage_load {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags; /* PF_X, PF_W, PF_R */
};

struct elfimage {
	char *name;      /* path as the target sees it (owned) */
	char *open_path; /* path we opened, usable by libdwfl (owned), or NULL for memory images */
	const uint8_t *data;
	size_t size;
	int is_mmapped;
	int fd;          /* the open file (owned), -1 for memory images: the
			    symbolizer reads it later, when the path that
			    opened it (a map_files link) may be gone */
	int type; /* ET_EXEC, ET_DYN */
	struct elfimage_load *loads; /* every PT_LOAD, in file order (owned) */
	size_t nloads;
	uint64_t eh_frame_hdr;      /* vaddr of .eh_frame_hdr, 0 if none */
	uint64_t eh_frame_hdr_size;
	char build_id[129];         /* hex, "" if none */
	uint64_t serial; /* given by the maps cache, never reused in a run:
			    caches above key by it, as the address of an
			    image freed by eviction can be a new image's */
};

/* Map path read-only and parse it.  name is what the target calls it.
 * -PPROBE_E_NOELF if it is not a 64-bit little-endian ELF file, has no
 * PT_LOAD, or a PT_LOAD's file bytes (p_offset + p_filesz) reach past the
 * end of the file (truncated or corrupt: its code cannot be read). */
int elfimage_open_file(const char *open_path, const char *name, struct elfimage **out);
/* Parse a copy of len bytes of an ELF image held in memory (the vDSO). */
int elfimage_open_memory(const void *buf, size_t len, const char *name, struct elfimage **out);
void elfimage_free(struct elfimage *img);

/* A section found by type and name (name NULL: the first of that type). */
struct elfimage_section {
	uint64_t vaddr, offset, size, entsize;
};

/* Look a section up in the section headers; -ENOENT if there is none or
 * the headers are out of bounds. */
int elfimage_find_section(const struct elfimage *img, uint32_t type, const char *name,
			  struct elfimage_section *out);

/* Copy len bytes at ELF virtual address vaddr (file-backed part of a PT_LOAD). */
int elfimage_read(const struct elfimage *img, uint64_t vaddr, void *buf, size_t len);

/* Load bias of a mapping of this file at map_start with file offset map_offset:
 * runtime address = ELF vaddr + bias. */
int elfimage_bias(const struct elfimage *img, uint64_t map_start, uint64_t map_offset,
		  uint64_t *bias);

#endif
