/* elfimage.c - parse the parts of an ELF file the unwinder needs.
 *
 * Only 64-bit little-endian ELF (the x86_64 targets pprobe supports).  We
 * read program headers, PT_GNU_EH_FRAME and the GNU build-id note directly:
 * that is all the unwinder needs, and doing it by hand keeps every bound
 * check in view; section headers only on request (elfimage_find_section).
 * Symbols and DWARF for names are libdwfl's job (symbolize.c).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pprobe/elfimage.h"
#include "pprobe/error.h"

#define ELFIMAGE_MAX_FILE (4ull << 30)

static int elfimage_in_bounds(const struct elfimage *img, uint64_t off, uint64_t len)
{
	return off <= img->size && len <= img->size - off;
}

static void elfimage_parse_build_id(struct elfimage *img, uint64_t off, uint64_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t end;

	if (!elfimage_in_bounds(img, off, len))
		return;
	end = off + len;
	while (off + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;

		memcpy(&nh, img->data + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + (((uint64_t)nh.n_namesz + 3) & ~3ull);
		next = desc_off + (((uint64_t)nh.n_descsz + 3) & ~3ull);
		if (next > end || next <= off)
			return;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(img->data + name_off, "GNU", 4) && nh.n_descsz > 0 &&
		    nh.n_descsz <= 64) {
			for (uint32_t i = 0; i < nh.n_descsz; i++) {
				img->build_id[2 * i] = hex[img->data[desc_off + i] >> 4];
				img->build_id[2 * i + 1] = hex[img->data[desc_off + i] & 15];
			}
			img->build_id[2 * nh.n_descsz] = '\0';
			return;
		}
		off = next;
	}
}

static int elfimage_parse(struct elfimage *img)
{
	Elf64_Ehdr eh;

	if (img->size < sizeof(eh))
		return -PPROBE_E_NOELF;
	memcpy(&eh, img->data, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_phentsize != sizeof(Elf64_Phdr))
		return -PPROBE_E_NOELF;
	if (!elfimage_in_bounds(img, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return -PPROBE_E_NOELF;
	img->type = eh.e_type;
	/* As many loads as there are program headers (at most 65535, all
	 * inside the file): none is dropped, as a fixed array dropped those
	 * past the 16th. */
	if (eh.e_phnum) {
		img->loads = calloc(eh.e_phnum, sizeof(*img->loads));
		if (!img->loads)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img->data + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		switch (ph.p_type) {
		case PT_LOAD: {
			struct elfimage_load *l = &img->loads[img->nloads++];

			/* The bytes the segment maps from the file must be in
			 * it: elfimage_read and elfimage_bias rely on it. */
			if (!elfimage_in_bounds(img, ph.p_offset, ph.p_filesz))
				return -PPROBE_E_NOELF;
			l->vaddr = ph.p_vaddr;
			l->memsz = ph.p_memsz;
			l->offset = ph.p_offset;
			l->filesz = ph.p_filesz;
			l->flags = ph.p_flags;
			break;
		}
		case PT_GNU_EH_FRAME:
			img->eh_frame_hdr = ph.p_vaddr;
			img->eh_frame_hdr_size = ph.p_memsz;
			break;
		case PT_NOTE:
			if (!img->build_id[0])
				elfimage_parse_build_id(img, ph.p_offset, ph.p_filesz);
			break;
		default:
			break;
		}
	}
	return img->nloads ? 0 : -PPROBE_E_NOELF;
}

int elfimage_open_file(const char *open_path, const char *name, struct elfimage **out)
{
	struct elfimage *img = NULL;
	struct stat st;
	void *data;
	int fd, err;

	/* The path is the target's: O_NONBLOCK so that a FIFO or device
	 * planted in place of a library opens at once (and is refused below,
	 * not being a regular file). */
	fd = open(open_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > ELFIMAGE_MAX_FILE) {
		err = -PPROBE_E_NOELF;
		goto out;
	}
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	img = calloc(1, sizeof(*img));
	if (!img) {
		munmap(data, (size_t)st.st_size);
		err = -ENOMEM;
		goto out;
	}
	img->data = data;
	img->size = (size_t)st.st_size;
	img->is_mmapped = 1;
	img->fd = fd;
	fd = -1;
	img->name = strdup(name);
	img->open_path = strdup(open_path);
	err = (!img->name || !img->open_path) ? -ENOMEM : elfimage_parse(img);
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		elfimage_free(img);
		return err;
	}
	*out = img;
	return 0;
}

int elfimage_open_memory(const void *buf, size_t len, const char *name, struct elfimage **out)
{
	struct elfimage *img = calloc(1, sizeof(*img));
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	if (!img || !copy) {
		free(img);
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	img->fd = -1;
	img->data = copy;
	img->size = len;
	img->name = strdup(name);
	err = img->name ? elfimage_parse(img) : -ENOMEM;
	if (err) {
		elfimage_free(img);
		return err;
	}
	*out = img;
	return 0;
}

void elfimage_free(struct elfimage *img)
{
	if (!img)
		return;
	if (img->is_mmapped)
		munmap((void *)img->data, img->size);
	else
		free((void *)img->data);
	if (img->fd >= 0)
		close(img->fd);
	free(img->loads);
	free(img->name);
	free(img->open_path);
	free(img);
}

int elfimage_find_section(const struct elfimage *img, uint32_t type, const char *name,
			  struct elfimage_section *out)
{
	Elf64_Ehdr eh;
	Elf64_Shdr strsh;
	size_t name_len = name ? strlen(name) + 1 : 0;

	if (img->size < sizeof(eh))
		return -ENOENT;
	memcpy(&eh, img->data, sizeof(eh));
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum ||
	    !elfimage_in_bounds(img, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)))
		return -ENOENT;
	memcpy(&strsh, img->data + eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(strsh),
	       sizeof(strsh));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, img->data + eh.e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != type)
			continue;
		if (name && (sh.sh_name > UINT64_MAX - strsh.sh_offset ||
			     !elfimage_in_bounds(img, strsh.sh_offset + sh.sh_name, name_len) ||
			     memcmp(img->data + strsh.sh_offset + sh.sh_name, name, name_len)))
			continue;
		out->vaddr = sh.sh_addr;
		out->offset = sh.sh_offset;
		out->size = sh.sh_size;
		out->entsize = sh.sh_entsize;
		return 0;
	}
	return -ENOENT;
}

int elfimage_read(const struct elfimage *img, uint64_t vaddr, void *buf, size_t len)
{
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elfimage_load *l = &img->loads[i];
		uint64_t off;

		if (vaddr < l->vaddr || vaddr - l->vaddr >= l->filesz)
			continue;
		if (len > l->filesz - (vaddr - l->vaddr))
			return -EFAULT;
		off = l->offset + (vaddr - l->vaddr);
		if (!elfimage_in_bounds(img, off, len))
			return -EFAULT;
		memcpy(buf, img->data + off, len);
		return 0;
	}
	return -EFAULT;
}

int elfimage_bias(const struct elfimage *img, uint64_t map_start, uint64_t map_offset,
		  uint64_t *bias)
{
	const uint64_t page = 4096;

	/* The segment that starts at this page of the file, if one does: when
	 * two segments share a file page (lld's layout), the containment test
	 * below would pick the first. */
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elfimage_load *l = &img->loads[i];

		if ((l->offset & ~(page - 1)) == map_offset) {
			*bias = map_start - (l->vaddr & ~(page - 1));
			return 0;
		}
	}
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elfimage_load *l = &img->loads[i];
		uint64_t seg_off = l->offset & ~(page - 1);

		if (map_offset < seg_off || map_offset >= l->offset + (l->filesz ? l->filesz : 1))
			continue;
		/* map_start holds file offset map_offset, which the file's own
		 * layout puts at vaddr l->vaddr + (map_offset - l->offset). */
		*bias = map_start - (l->vaddr + map_offset - l->offset);
		return 0;
	}
	return -PPROBE_E_NOELF;
}
