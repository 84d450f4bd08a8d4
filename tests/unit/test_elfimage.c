/* test_elfimage.c - ELF program headers as pprobe parses them, from
 * crafted bytes written to a temporary file.
 *
 * The file is hostile input.  A file with more than 16 PT_LOAD segments
 * had the rest dropped without a word (their code unreadable to the
 * unwinder), and a PT_LOAD whose p_offset + p_filesz reaches past the end
 * of the file was accepted at parse time.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/elfimage.h"
#include "pprobe/error.h"

#define IMG_MAX 8192
#define SEG_BYTES 64 /* each load's file bytes, after the headers */

struct image {
	uint8_t b[IMG_MAX];
	size_t len;
	unsigned phnum;
};

/* An ELF header followed by phnum program headers (filled by the caller)
 * and then data; len covers the headers. */
static void image_start(struct image *im, unsigned phnum)
{
	Elf64_Ehdr eh;

	memset(im, 0, sizeof(*im));
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)phnum;
	memcpy(im->b, &eh, sizeof(eh));
	im->phnum = phnum;
	im->len = sizeof(eh) + phnum * sizeof(Elf64_Phdr);
}

static void image_phdr(struct image *im, unsigned i, const Elf64_Phdr *ph)
{
	memcpy(im->b + sizeof(Elf64_Ehdr) + i * sizeof(*ph), ph, sizeof(*ph));
}

/* Append n bytes of data; their file offset. */
static uint64_t image_append(struct image *im, const void *data, size_t n)
{
	uint64_t off = im->len;

	memcpy(im->b + im->len, data, n);
	im->len += n;
	return off;
}

/* Write the image to dir/name and open it; the elfimage_open_file result. */
static int image_open(const struct image *im, const char *dir, const char *name,
		      struct elfimage **img)
{
	char path[256];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, im->b, im->len) != (ssize_t)im->len) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	*img = NULL;
	rc = elfimage_open_file(path, name, img);
	return rc;
}

/* nloads PT_LOADs, the i-th mapping SEG_BYTES bytes of value i at vaddr
 * 0x10000 * (i + 1). */
static void image_many_loads(struct image *im, unsigned nloads)
{
	image_start(im, nloads);
	for (unsigned i = 0; i < nloads; i++) {
		uint8_t seg[SEG_BYTES];
		Elf64_Phdr ph = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_align = 0x1000 };

		memset(seg, (int)i, sizeof(seg));
		ph.p_offset = image_append(im, seg, sizeof(seg));
		ph.p_vaddr = 0x10000ull * (i + 1);
		ph.p_filesz = ph.p_memsz = sizeof(seg);
		image_phdr(im, i, &ph);
	}
}

static void test_many_loads(const char *dir)
{
	struct image im;
	struct elfimage *img = NULL;
	uint8_t buf[8];

	image_many_loads(&im, 40);
	CHECK_EQ_INT(image_open(&im, dir, "many", &img), 0);
	if (!img)
		return;
	CHECK_EQ_INT(img->nloads, 40);
	/* The code of the last segment can be read (it was dropped). */
	for (unsigned i = 0; i < 40; i += 13) {
		memset(buf, 0xff, sizeof(buf));
		CHECK_EQ_INT(elfimage_read(img, 0x10000ull * (i + 1) + 8, buf, sizeof(buf)), 0);
		CHECK_EQ_INT(buf[0], i);
		CHECK_EQ_INT(buf[7], i);
	}
	CHECK_EQ_INT(elfimage_read(img, 0x10000ull * 40 + SEG_BYTES - 4, buf, 8), -EFAULT);
	elfimage_free(img);

	/* The same from memory (the vDSO's path). */
	img = NULL;
	CHECK_EQ_INT(elfimage_open_memory(im.b, im.len, "[mem]", &img), 0);
	if (img) {
		CHECK_EQ_INT(img->nloads, 40);
		CHECK_EQ_INT(elfimage_read(img, 0x10000ull * 40, buf, 1), 0);
		CHECK_EQ_INT(buf[0], 39);
		elfimage_free(img);
	}
}

/* A PT_LOAD whose file bytes reach past the end of the file. */
static void test_load_past_end(const char *dir)
{
	static const struct {
		const char *what;
		uint64_t offset, filesz;
	} bad[] = {
		{ "one byte past", 0, 0 /* set below: the file's size + 1 */ },
		{ "offset past the end", 1u << 20, 16 },
		{ "offset + filesz wraps", 0x100, UINT64_MAX - 0x80 },
		{ "filesz huge", 0, UINT64_MAX },
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct image im;
		struct elfimage *img = NULL;
		Elf64_Phdr ph = { .p_type = PT_LOAD, .p_flags = PF_R, .p_vaddr = 0x400000 };
		uint8_t pad[SEG_BYTES] = { 0 };
		int rc;

		image_start(&im, 1);
		image_append(&im, pad, sizeof(pad));
		ph.p_offset = bad[k].offset;
		ph.p_filesz = k == 0 ? im.len + 1 : bad[k].filesz;
		ph.p_memsz = ph.p_filesz;
		image_phdr(&im, 0, &ph);
		rc = image_open(&im, dir, "past", &img);
		if (rc != -PPROBE_E_NOELF)
			fprintf(stderr, "case '%s':\n", bad[k].what);
		CHECK_EQ_INT(rc, -PPROBE_E_NOELF);
		CHECK(img == NULL);
		elfimage_free(img);
		img = NULL;
		CHECK_EQ_INT(elfimage_open_memory(im.b, im.len, "[mem]", &img), -PPROBE_E_NOELF);
		elfimage_free(img);
	}
}

/* The build-id note, and notes whose sizes lie. */
static void test_notes(const char *dir)
{
	static const uint8_t id[20] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6,
					7, 8, 9, 10, 11, 12, 13, 14, 15, 0x10 };
	struct image im;
	struct elfimage *img = NULL;
	Elf64_Phdr load = { .p_type = PT_LOAD, .p_flags = PF_R, .p_vaddr = 0 };
	Elf64_Phdr note = { .p_type = PT_NOTE, .p_flags = PF_R };
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = sizeof(id), .n_type = NT_GNU_BUILD_ID };

	image_start(&im, 2);
	note.p_offset = image_append(&im, &nh, sizeof(nh));
	image_append(&im, "GNU", 4);
	image_append(&im, id, sizeof(id));
	note.p_filesz = im.len - note.p_offset;
	load.p_filesz = load.p_memsz = im.len;
	image_phdr(&im, 0, &load);
	image_phdr(&im, 1, &note);
	CHECK_EQ_INT(image_open(&im, dir, "note", &img), 0);
	if (img)
		CHECK_EQ_STR(img->build_id, "deadbeef0102030405060708090a0b0c0d0e0f10");
	elfimage_free(img);

	/* A descriptor size past the note segment: no build id, no read
	 * past it. */
	nh.n_descsz = 0xfffffff0u;
	memcpy(im.b + note.p_offset, &nh, sizeof(nh));
	img = NULL;
	CHECK_EQ_INT(image_open(&im, dir, "note2", &img), 0);
	if (img)
		CHECK_EQ_STR(img->build_id, "");
	elfimage_free(img);
}

static void test_bias(const char *dir)
{
	struct image im;
	struct elfimage *img = NULL;
	uint64_t bias = 0;

	image_many_loads(&im, 3);
	CHECK_EQ_INT(image_open(&im, dir, "bias", &img), 0);
	if (!img)
		return;
	/* Segment 0 starts at file page 0, vaddr 0x10000. */
	CHECK_EQ_INT(elfimage_bias(img, 0x7f0000010000ull, 0, &bias), 0);
	CHECK_EQ_INT(bias, 0x7f0000000000ull);
	CHECK_EQ_INT(elfimage_bias(img, 0x7f0000010000ull, 0x100000, &bias), -PPROBE_E_NOELF);
	elfimage_free(img);
}

int main(void)
{
	char dir[] = "/tmp/pprobe-test-elfimage-XXXXXX";

	if (check_tmpdir_make(dir) != 0)
		return 1;
	test_many_loads(dir);
	test_load_past_end(dir);
	test_notes(dir);
	test_bias(dir);
	check_tmpdir_remove(dir);
	return check_done();
}
