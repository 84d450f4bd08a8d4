/* fuzz_elf.c - the ELF parsers on hostile files.
 *
 * A libFuzzer target, also built into the replay driver that runs
 * tests/corpus/elf/.  Every file the target maps is read by pprobe's own
 * ELF code: program headers, PT_LOAD segments and the build-id note
 * (elfimage.c), section headers (elfimage_find_section), the function
 * symbols (funcsyms.c), an unindexed .eh_frame (ehframe.c) and Go's
 * .gopclntab (gopclntab.c, with its search of the data for moduledata).  The input
 * is the whole file, parsed from memory as the vDSO is (the same parser as
 * for files).  Beyond "no crash, no sanitizer report": a found FDE's range
 * holds the pc it was found for, and a found symbol starts at or below it.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pprobe/ehframe.h"
#include "pprobe/elfimage.h"
#include "pprobe/funcsyms.h"
#include "pprobe/gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Addresses worth asking about: each load's first, middle and last byte. */
static void fuzz_elf_probe(const struct elfimage *img, const struct funcsyms *fs,
			   const struct ehframe_index *eh)
{
	for (size_t i = 0; i < img->nloads && i < 64; i++) {
		const struct elfimage_load *l = &img->loads[i];
		uint64_t pcs[3] = { l->vaddr, l->vaddr + l->memsz / 2, l->vaddr + l->memsz - 1 };
		uint8_t buf[16];
		uint64_t bias, start;

		(void)elfimage_bias(img, 0x7f0000000000ull, l->offset & ~0xfffull, &bias);
		for (int k = 0; k < 3; k++) {
			const struct ehframe_entry *e;

			(void)elfimage_read(img, pcs[k], buf, sizeof(buf));
			if (fs && funcsyms_find(fs, pcs[k], &start) == 0 && start > pcs[k]) {
				fprintf(stderr, "fuzz_elf: symbol at %#llx above pc %#llx\n",
					(unsigned long long)start, (unsigned long long)pcs[k]);
				abort();
			}
			e = eh ? ehframe_index_find(eh, pcs[k]) : NULL;
			if (e && (pcs[k] < e->start || pcs[k] >= e->end)) {
				fprintf(stderr, "fuzz_elf: FDE [%#llx, %#llx) found for pc %#llx\n",
					(unsigned long long)e->start, (unsigned long long)e->end,
					(unsigned long long)pcs[k]);
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfimage *img = NULL;
	struct elfimage_section sec;
	struct funcsyms fs;
	struct ehframe_index eh = { 0 };
	struct gopclntab go;
	uint64_t eh_vaddr, eh_size;
	int have_fs, have_eh = 0;

	if (elfimage_open_memory(data, size, "fuzz", &img) != 0)
		return 0;
	(void)elfimage_find_section(img, SHT_NOTE, ".note.gnu.build-id", &sec);
	(void)elfimage_find_section(img, SHT_DYNSYM, NULL, &sec);
	have_fs = funcsyms_build(img, &fs) == 0;
	if (ehframe_find_section(img, &eh_vaddr, &eh_size) == 0)
		have_eh = ehframe_index_build(img, eh_vaddr, eh_size, &eh) == 0;
	fuzz_elf_probe(img, have_fs ? &fs : NULL, have_eh ? &eh : NULL);
	if (gopclntab_open(img, &go) == 0)
		for (size_t i = 0; i < img->nloads && i < 64; i++) {
			struct gopclntab_frame fr[4];

			(void)gopclntab_lookup(&go, img->loads[i].vaddr, fr, 4);
			(void)gopclntab_lookup(&go, img->loads[i].vaddr + img->loads[i].memsz / 2,
					       fr, 4);
		}
	if (have_eh)
		ehframe_index_fini(&eh);
	if (have_fs)
		funcsyms_fini(&fs);
	elfimage_free(img);
	return 0;
}
