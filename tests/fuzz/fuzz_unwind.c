/* fuzz_unwind.c - the unwinder and symbolizer on hostile snapshots.
 *
 * A libFuzzer target (LLVMFuzzerTestOneInput), also built into a plain
 * replay driver (replay_main.c) that runs tests/corpus/unwind/.  The input
 * becomes a struct snapshot -- registers and stack bytes, as
 * snapshot_capture() would have copied them from a stopped thread -- and
 * goes through the same path as a real sample: unwind_stack() over a
 * struct maps read from this process's own /proc/self/maps (real ELF
 * files, opened through maps_resolve() as pprobe opens a target's), then
 * symbolize_lookup() and stacks_add() into a profile.  Nothing here reads
 * the memory the addresses point at: the unwinder never touches a live
 * process, so wild pointers are harmless by design, and a crash is a bug.
 *
 * Input layout (little-endian; a short input is padded with zeros):
 *   byte 0        flags: bit 0 regs_partial (captured without a stop);
 *                 bit 1 symbolize the pcs; bit 2 add the stack to a
 *                 profile (stacks_add); bits 4-5 the depth bound:
 *                 256 (pprobe's default), 16, 1024, 4096
 *   bytes 1-136   17 registers: rip rsp rbp rbx r12 r13 r14 r15 rax rcx
 *                 rdx rsi rdi r8 r9 r10 r11
 *   bytes 137-144 stack_start
 *   the rest      stack bytes (at most FUZZ_MAX_STACK)
 * So that the fuzzer can build frame chains that lead somewhere, a
 * register, stack_start or aligned stack word whose top 16 bits are a tag
 * is relocated (the low 48 bits say where):
 *   0xC0DE  into an executable mapping: bits 32-47 pick it (modulo the
 *           number of them), bits 0-31 the offset (modulo its size)
 *   0xDA7A  likewise into any mapping
 *   0x57AC  stack_start plus the signed 32-bit offset in bits 0-31 (for
 *           stack_start itself: the middle of this process's [stack])
 * Anything else is used as it is: unmapped, non-canonical, wrapping.
 * Mapping indexes are this process's, so a corpus file means the same in
 * every run of the same binary and something similar in another build.
 *
 * Checked beyond "no crash, no sanitizer report": the unwinder returns 0,
 * at most the bound of pcs and at least one, the first being rip, and a
 * known end; every symbolized pc has a non-empty name.  With
 * FUZZ_UNWIND_VERBOSE set, each input's frame count and end are printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprobe/elfimage.h"
#include "pprobe/maps.h"
#include "pprobe/profile.h"
#include "pprobe/snapshot.h"
#include "pprobe/stacks.h"
#include "pprobe/symbolize.h"
#include "pprobe/unwind.h"

#define FUZZ_MAX_STACK (64 * 1024)
#define FUZZ_NREGS 17
#define FUZZ_HEADER (1 + 8 * FUZZ_NREGS + 8)
#define FUZZ_MAX_SYMBOLIZE 16

#define TAG_CODE 0xC0DEu
#define TAG_DATA 0xDA7Au
#define TAG_STACK 0x57ACu

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct maps fuzz_maps;
static struct unwind *fuzz_unw;
static struct symbolize *fuzz_sym;
static struct maps_entry **fuzz_exec, **fuzz_all;
static size_t fuzz_nexec, fuzz_nall;
static uint64_t fuzz_stack_base;

static void fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz_unwind: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	maps_init(&fuzz_maps, getpid());
	if (maps_read(&fuzz_maps) != 0 || unwind_new(&fuzz_maps, &fuzz_unw) != 0 ||
	    symbolize_new(&fuzz_sym) != 0)
		fuzz_die("cannot read /proc/self/maps or set up the unwinder");
	fuzz_exec = calloc(fuzz_maps.n + 1, sizeof(*fuzz_exec));
	fuzz_all = calloc(fuzz_maps.n + 1, sizeof(*fuzz_all));
	if (!fuzz_exec || !fuzz_all)
		fuzz_die("out of memory");
	for (size_t i = 0; i < fuzz_maps.n; i++) {
		struct maps_entry *e = &fuzz_maps.v[i];

		fuzz_all[fuzz_nall++] = e;
		if (maps_is_exec(e) && e->path[0] == '/')
			fuzz_exec[fuzz_nexec++] = e;
		if (!strcmp(e->path, "[stack]"))
			fuzz_stack_base = e->start + (e->end - e->start) / 2;
	}
	if (!fuzz_nexec)
		fuzz_die("no executable file mapping in /proc/self/maps");
	if (!fuzz_stack_base)
		fuzz_stack_base = 0x7ffd00000000ull;
	return 0;
}

static uint64_t fuzz_word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static uint64_t fuzz_pick(struct maps_entry **v, size_t n, uint64_t w)
{
	const struct maps_entry *e = v[((w >> 32) & 0xffff) % n];

	return e->start + (uint32_t)w % (e->end - e->start);
}

static uint64_t fuzz_reloc(uint64_t w, uint64_t stack_start)
{
	switch (w >> 48) {
	case TAG_CODE:
		return fuzz_pick(fuzz_exec, fuzz_nexec, w);
	case TAG_DATA:
		return fuzz_pick(fuzz_all, fuzz_nall, w);
	case TAG_STACK:
		return stack_start + (uint64_t)(int64_t)(int32_t)(uint32_t)w;
	default:
		return w;
	}
}

static void fuzz_set_regs(struct user_regs_struct *r, const uint64_t *v)
{
	unsigned long long *const slots[FUZZ_NREGS] = {
		&r->rip, &r->rsp, &r->rbp, &r->rbx, &r->r12, &r->r13, &r->r14, &r->r15,
		&r->rax, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11,
	};

	for (int i = 0; i < FUZZ_NREGS; i++)
		*slots[i] = v[i];
	r->orig_rax = (unsigned long long)-1;
}

/* What pprobe does with pcs after unwinding: symbolize each (dump) and
 * add the stack to a profile (record). */
static void fuzz_symbolize(const uint64_t *pcs, size_t n)
{
	for (size_t i = 0; i < n && i < FUZZ_MAX_SYMBOLIZE; i++) {
		struct maps_entry *e = maps_find(&fuzz_maps, pcs[i]);
		struct elfimage *img = NULL;
		uint64_t bias = 0;
		struct symbolize_result res;

		if (e && maps_resolve(&fuzz_maps, e, &img, &bias) != 0)
			img = NULL, bias = 0;
		if (symbolize_lookup(fuzz_sym, img, NULL, pcs[i] - bias, pcs[i], &res) != 0)
			continue; /* out of memory */
		if (res.n == 0 || !res.frames[0].name || !res.frames[0].name[0])
			fuzz_die("symbolize_lookup gave no name");
		symbolize_result_fini(&res);
	}
}

static void fuzz_profile(const uint64_t *pcs, size_t n, int truncated)
{
	struct profile *p = profile_new();
	struct stacks st;
	const int64_t values[2] = { 1, 1000000 };
	struct profile_label_in labels[2] = {
		{ .key = "thread", .str = "fuzz" },
		{ .key = "tid", .num = 1 },
	};

	if (!p)
		return;
	if (profile_add_sample_type(p, "samples", "count") == 0 &&
	    profile_add_sample_type(p, "cpu", "nanoseconds") == 0) {
		stacks_init(&st, p, &fuzz_maps, fuzz_sym);
		(void)stacks_add(&st, NULL, 0, pcs, n, truncated, values, labels, 2, NULL);
		stacks_fini(&st);
	}
	profile_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t depths[4] = { 256, 16, 1024, 4096 };
	static uint64_t pcs[4096];
	uint8_t header[FUZZ_HEADER];
	uint64_t regs[FUZZ_NREGS];
	struct snapshot s;
	struct unwind_result res;
	size_t max, n;
	uint8_t flags;

	if (!fuzz_unw)
		LLVMFuzzerInitialize(NULL, NULL);
	memset(header, 0, sizeof(header));
	memcpy(header, data, size < sizeof(header) ? size : sizeof(header));
	flags = header[0];
	max = depths[(flags >> 4) & 3];

	memset(&s, 0, sizeof(s));
	s.tid = getpid();
	s.regs_partial = flags & 1;
	s.stack_start = fuzz_word(header + 1 + 8 * FUZZ_NREGS);
	s.stack_start = s.stack_start >> 48 == TAG_STACK ?
			fuzz_stack_base + (uint64_t)(int64_t)(int32_t)(uint32_t)s.stack_start :
			fuzz_reloc(s.stack_start, fuzz_stack_base);
	for (int i = 0; i < FUZZ_NREGS; i++)
		regs[i] = fuzz_reloc(fuzz_word(header + 1 + 8 * i), s.stack_start);
	fuzz_set_regs(&s.regs, regs);

	n = size > sizeof(header) ? size - sizeof(header) : 0;
	if (n > FUZZ_MAX_STACK)
		n = FUZZ_MAX_STACK;
	/* Exactly n bytes, so a read past the copy is a sanitizer report. */
	s.stack = malloc(n ? n : 1);
	if (!s.stack)
		return 0;
	memcpy(s.stack, data + sizeof(header), n);
	for (size_t off = 0; off + 8 <= n; off += 8) {
		uint64_t w = fuzz_reloc(fuzz_word(s.stack + off), s.stack_start);

		memcpy(s.stack + off, &w, 8);
	}
	s.stack_len = n;
	s.stack_cap = n;

	if (unwind_stack(fuzz_unw, &s, pcs, max, &res) != 0)
		fuzz_die("unwind_stack failed");
	if (res.n < 1 || res.n > max || pcs[0] != s.regs.rip || (unsigned)res.end > UNWIND_END_BAD)
		fuzz_die("unwind_stack broke its contract");
	if (getenv("FUZZ_UNWIND_VERBOSE"))
		printf("fuzz_unwind: %zu bytes of stack: %zu frames, end: %s\n", n, res.n,
		       unwind_end_str(res.end));
	if (flags & 2)
		fuzz_symbolize(pcs, res.n);
	if (flags & 4)
		fuzz_profile(pcs, res.n, res.end != UNWIND_END_OK);
	free(s.stack);
	return 0;
}
