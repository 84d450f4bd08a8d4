/* unwind.c - libunwind over a snapshot (see unwind.h).
 *
 * The accessors follow the model of perf's libunwind support: find_proc_info
 * locates .eh_frame_hdr of the module holding the pc and hands libunwind a
 * UNW_INFO_FORMAT_REMOTE_TABLE, whose binary-search table and FDEs libunwind
 * then reads through access_mem, which we serve from the file's bytes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libunwind.h>

#include "pprobe/ehframe.h"
#include "pprobe/elfimage.h"
#include "pprobe/funcsyms.h"
#include "pprobe/gopclntab.h"
#include "pprobe/maps.h"
#include "pprobe/snapshot.h"
#include "pprobe/unwind.h"

/* Not in libunwind's public headers, but exported; perf declares it too. */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip,
					     unw_dyn_info_t *di, unw_proc_info_t *pi,
					     int need_unwind_info, void *arg);

#define DW_EH_PE_omit 0xff
#define DW_EH_PE_absptr 0x00
#define DW_EH_PE_udata2 0x02
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_sdata2 0x0a
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_datarel 0x30
#define EH_TABLE_ENC (DW_EH_PE_datarel | DW_EH_PE_sdata4)

/* What we build ourselves for an image, each part on first need: the
 * .eh_frame index of an image without .eh_frame_hdr (ehframe.h), and its
 * function starts for the stack scan (funcsyms.h). */
struct unwind_image {
	const struct elfimage *img;
	uint64_t eh_frame; /* ELF vaddr of .eh_frame */
	struct ehframe_index idx;
	int idx_err;
	bool idx_built;
	struct funcsyms syms;
	int syms_err;
	bool syms_built;
	struct gopclntab go; /* Go's table, for Go code without CFI */
	int go_state;        /* 0: not looked for; 1: go holds it; -1: none */
};

struct unwind {
	struct maps *maps;
	unw_addr_space_t as;
	struct unwind_image *images;
	size_t nimages;
};

/* Where libunwind is told the one-entry search table for an FDE we found
 * ourselves lives; access_mem serves it from unwind_call.one_entry.  No
 * user-space mapping can be there. */
#define UNWIND_PSEUDO_TABLE 0xfffffffffff00000ull

/* How far above sp the stack scan looks for a return address: frames of
 * code without CFI (musl's -Os wrappers) are small; 4 KiB also covers one
 * with a local buffer. */
#define UNWIND_SCAN_BYTES 4096
/* Without symbols, a direct call's target counts as this function's start
 * if it lies at most this far below the pc. */
#define UNWIND_SCAN_FUNC_MAX (64u << 10)
/* How much of a function's start is searched for its frame-pointer setup:
 * GCC and Go set it up in the first few instructions; V8's builtins
 * (Builtins_InterpreterEntryTrampoline: at +0x6e) after checks of their
 * arguments.  Only the bytes before the pc count: a setup further on has
 * not run yet. */
#define UNWIND_PROLOGUE_BYTES 256

/* How far above sp a frame record (saved rbp, then return address) is
 * looked for when rbp is unknown: a frame with a few KiB of locals, or an
 * alloca, still has its record in reach. */
#define UNWIND_RBP_SCAN_BYTES (16u << 10)

#define UNWIND_BIT(reg) (1u << (reg))
/* What a thread captured without a stop has: pc, sp, the system call's
 * arguments. */
#define UNWIND_KNOWN_PARTIAL                                                           \
	(UNWIND_BIT(UNW_X86_64_RIP) | UNWIND_BIT(UNW_X86_64_RSP) |                     \
	 UNWIND_BIT(UNW_X86_64_RDI) | UNWIND_BIT(UNW_X86_64_RSI) |                     \
	 UNWIND_BIT(UNW_X86_64_RDX) | UNWIND_BIT(UNW_X86_64_R10) |                     \
	 UNWIND_BIT(UNW_X86_64_R8) | UNWIND_BIT(UNW_X86_64_R9))

/* Per-call state handed to the accessors as libunwind's "arg". */
struct unwind_call {
	struct unwind *u;
	const struct snapshot *s;
	struct user_regs_struct regs; /* where the cursor starts: the snapshot's,
					 or a frame found by our frame-pointer step */
	int32_t one_entry[2]; /* start_ip_offset, fde_offset */
	uint32_t known; /* of a partial snapshot: the registers (bits by
			   libunwind's number) known in c->regs */
	int unmapped; /* a pc was outside every mapping */
	int stack_miss; /* stack memory beyond the copy was needed */
};

static int unwind_enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
		return 8;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		return 2;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		return 8;
	default:
		return -1;
	}
}

/* Range of executable PT_LOADs of img, in runtime addresses. */
static void unwind_exec_range(const struct elfimage *img, uint64_t bias, uint64_t *lo,
			      uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elfimage_load *l = &img->loads[i];

		if (!(l->flags & 1 /* PF_X */))
			continue;
		if (l->vaddr + bias < *lo)
			*lo = l->vaddr + bias;
		if (l->vaddr + l->memsz + bias > *hi)
			*hi = l->vaddr + l->memsz + bias;
	}
}

static struct unwind_image *unwind_image_get(struct unwind *u, const struct elfimage *img)
{
	struct unwind_image *nv, *x;

	for (size_t i = 0; i < u->nimages; i++)
		if (u->images[i].img == img)
			return &u->images[i];
	nv = realloc(u->images, (u->nimages + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	u->images = nv;
	x = &u->images[u->nimages++];
	memset(x, 0, sizeof(*x));
	x->img = img;
	return x;
}

static const struct ehframe_index *unwind_image_index(struct unwind *u,
						      const struct elfimage *img,
						      uint64_t *eh_frame)
{
	struct unwind_image *x = unwind_image_get(u, img);
	uint64_t size;

	if (!x)
		return NULL;
	if (!x->idx_built) {
		x->idx_built = true;
		x->idx_err = ehframe_find_section(img, &x->eh_frame, &size);
		if (!x->idx_err)
			x->idx_err = ehframe_index_build(img, x->eh_frame, size, &x->idx);
	}
	*eh_frame = x->eh_frame;
	return x->idx_err ? NULL : &x->idx;
}

static const struct funcsyms *unwind_image_syms(struct unwind *u, const struct elfimage *img)
{
	struct unwind_image *x = unwind_image_get(u, img);

	if (!x)
		return NULL;
	if (!x->syms_built) {
		x->syms_built = true;
		x->syms_err = funcsyms_build(img, &x->syms);
	}
	return x->syms_err ? NULL : &x->syms;
}

static const struct gopclntab *unwind_image_go(struct unwind *u, const struct elfimage *img)
{
	struct unwind_image *x = unwind_image_get(u, img);

	if (!x)
		return NULL;
	if (x->go_state == 0)
		x->go_state = gopclntab_open(img, &x->go) == 0 ? 1 : -1;
	return x->go_state > 0 ? &x->go : NULL;
}

void unwind_warm(struct unwind *u, const struct elfimage *img)
{
	uint64_t eh_frame;

	/* With a search table libunwind binary-searches the mapped file:
	 * nothing to build. */
	if (img->eh_frame_hdr)
		return;
	unwind_image_index(u, img, &eh_frame);
	unwind_image_syms(u, img);
}

/* An image whose .eh_frame has no search table (static executables): find
 * the FDE in our own index and hand libunwind a table of that one entry. */
static int uw_find_proc_info_unindexed(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
				       int need_unwind_info, struct unwind_call *c,
				       const struct elfimage *img, uint64_t bias)
{
	uint64_t eh_frame = 0;
	const struct ehframe_index *idx = unwind_image_index(c->u, img, &eh_frame);
	const struct ehframe_entry *e;
	unw_dyn_info_t di;
	uint64_t segbase;

	if (!idx || !(e = ehframe_index_find(idx, ip - bias)))
		return -UNW_ENOINFO;
	segbase = eh_frame + bias;
	c->one_entry[0] = (int32_t)(int64_t)(e->start + bias - segbase);
	c->one_entry[1] = (int32_t)(int64_t)(e->fde + bias - segbase);
	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = e->start + bias;
	di.end_ip = e->end + bias;
	di.u.rti.segbase = segbase;
	di.u.rti.table_data = UNWIND_PSEUDO_TABLE;
	di.u.rti.table_len = 1; /* in words: the one 8-byte entry */
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need_unwind_info, c);
}

static int uw_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			     int need_unwind_info, void *arg)
{
	struct unwind_call *c = arg;
	struct maps_entry *e = maps_find(c->u->maps, ip);
	struct elfimage *img;
	uint64_t bias, lo, hi, fde_count = 0;
	uint8_t hdr[4 + 8 + 8];
	unw_dyn_info_t di;
	int ptr_size, count_size;

	if (!e) {
		c->unmapped = 1;
		return -UNW_ENOINFO;
	}
	if (maps_resolve(c->u->maps, e, &img, &bias))
		return -UNW_ENOINFO;
	if (!img->eh_frame_hdr)
		return uw_find_proc_info_unindexed(as, ip, pi, need_unwind_info, c, img, bias);
	if (elfimage_read(img, img->eh_frame_hdr, hdr, 4) || hdr[0] != 1 || hdr[3] != EH_TABLE_ENC)
		return -UNW_ENOINFO;
	ptr_size = unwind_enc_size(hdr[1]);
	count_size = unwind_enc_size(hdr[2]);
	if (ptr_size < 0 || count_size < 0 || hdr[2] == DW_EH_PE_omit ||
	    elfimage_read(img, img->eh_frame_hdr + 4, hdr + 4, (size_t)(ptr_size + count_size)))
		return -UNW_ENOINFO;
	memcpy(&fde_count, hdr + 4 + ptr_size, (size_t)count_size);
	if (fde_count == 0 || fde_count > (1u << 26))
		return -UNW_ENOINFO;
	unwind_exec_range(img, bias, &lo, &hi);
	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = lo;
	di.end_ip = hi;
	di.u.rti.segbase = img->eh_frame_hdr + bias;
	di.u.rti.table_data = img->eh_frame_hdr + bias + 4 + (uint64_t)(ptr_size + count_size);
	di.u.rti.table_len = fde_count * 8 / sizeof(unw_word_t);
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need_unwind_info, arg);
}

static void uw_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
}

static int uw_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil, void *arg)
{
	return -UNW_ENOINFO;
}

/* Memory: the stack from the copy, everything else from the mapped file. */
static int uw_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *valp, int write,
			 void *arg)
{
	struct unwind_call *c = arg;
	const struct snapshot *s = c->s;
	struct maps_entry *e;
	struct elfimage *img;
	uint64_t bias;
	size_t n;

	if (write)
		return -UNW_EINVAL;
	if (addr == UNWIND_PSEUDO_TABLE) {
		memcpy(valp, c->one_entry, sizeof(*valp));
		return 0;
	}
	if (addr >= s->stack_start && s->stack_len >= sizeof(*valp) &&
	    addr - s->stack_start <= s->stack_len - sizeof(*valp)) {
		memcpy(valp, s->stack + (addr - s->stack_start), sizeof(*valp));
		return 0;
	}
	e = maps_find(c->u->maps, addr);
	if (!e || maps_resolve(c->u->maps, e, &img, &bias)) {
		if (addr >= s->stack_start - 65536 && addr < s->stack_start + (16u << 20))
			c->stack_miss = 1;
		return -UNW_EINVAL;
	}
	/* A word read may straddle the end of a file-backed segment: take
	 * what there is and zero the rest. */
	*valp = 0;
	for (n = sizeof(*valp); n > 0; n--)
		if (elfimage_read(img, addr - bias, valp, n) == 0)
			return 0;
	return -UNW_EINVAL;
}

static int uw_reg_value(const struct user_regs_struct *r, unw_regnum_t reg, unw_word_t *v)
{
	switch (reg) {
	case UNW_X86_64_RAX: *v = r->rax; return 0;
	case UNW_X86_64_RDX: *v = r->rdx; return 0;
	case UNW_X86_64_RCX: *v = r->rcx; return 0;
	case UNW_X86_64_RBX: *v = r->rbx; return 0;
	case UNW_X86_64_RSI: *v = r->rsi; return 0;
	case UNW_X86_64_RDI: *v = r->rdi; return 0;
	case UNW_X86_64_RBP: *v = r->rbp; return 0;
	case UNW_X86_64_RSP: *v = r->rsp; return 0;
	case UNW_X86_64_R8: *v = r->r8; return 0;
	case UNW_X86_64_R9: *v = r->r9; return 0;
	case UNW_X86_64_R10: *v = r->r10; return 0;
	case UNW_X86_64_R11: *v = r->r11; return 0;
	case UNW_X86_64_R12: *v = r->r12; return 0;
	case UNW_X86_64_R13: *v = r->r13; return 0;
	case UNW_X86_64_R14: *v = r->r14; return 0;
	case UNW_X86_64_R15: *v = r->r15; return 0;
	case UNW_X86_64_RIP: *v = r->rip; return 0;
	default: return -UNW_EBADREG;
	}
}

static int uw_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *valp, int write,
			 void *arg)
{
	struct unwind_call *c = arg;

	if (write)
		return -UNW_EREADONLYREG;
	/* A thread captured without stopping has only pc, sp and the system
	 * call arguments, and what was recovered from its stack since; a
	 * guess of the others would mislead. */
	if (c->s->regs_partial && (reg < 0 || reg > 31 || !(c->known & UNWIND_BIT(reg))))
		return -UNW_EBADREG;
	return uw_reg_value(&c->regs, reg, valp);
}

static int uw_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			   void *arg)
{
	return -UNW_EBADREG;
}

static int uw_resume(unw_addr_space_t as, unw_cursor_t *cu, void *arg)
{
	return -UNW_EINVAL;
}

static int uw_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
			    unw_word_t *offp, void *arg)
{
	return -UNW_ENOINFO;
}

static unw_accessors_t unwind_accessors = {
	.find_proc_info = uw_find_proc_info,
	.put_unwind_info = uw_put_unwind_info,
	.get_dyn_info_list_addr = uw_get_dyn_info_list_addr,
	.access_mem = uw_access_mem,
	.access_reg = uw_access_reg,
	.access_fpreg = uw_access_fpreg,
	.resume = uw_resume,
	.get_proc_name = uw_get_proc_name,
};

int unwind_new(struct maps *maps, struct unwind **out)
{
	struct unwind *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->maps = maps;
	u->as = unw_create_addr_space(&unwind_accessors, 0);
	if (!u->as) {
		free(u);
		return -ENOMEM;
	}
	/* pprobe unwinds from one thread: a per-thread cache needs none of the
	 * signal masking the global cache's lock costs on every step. */
	unw_set_caching_policy(u->as, UNW_CACHE_PER_THREAD);
	*out = u;
	return 0;
}

void unwind_free(struct unwind *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nimages; i++) {
		ehframe_index_fini(&u->images[i].idx);
		funcsyms_fini(&u->images[i].syms);
	}
	free(u->images);
	unw_destroy_addr_space(u->as);
	free(u);
}

void unwind_forget_image(struct unwind *u, const struct elfimage *img)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nimages; i++) {
		if (u->images[i].img != img)
			continue;
		ehframe_index_fini(&u->images[i].idx);
		funcsyms_fini(&u->images[i].syms);
		u->images[i] = u->images[--u->nimages];
		return;
	}
}

void unwind_flush(struct unwind *u)
{
	unw_flush_cache(u->as, 0, 0);
}

/* Is ip the start of the rt_sigreturn trampoline (glibc's __restore_rt,
 * musl's __restore_rt: "mov $15, %rax; syscall")?  A signal handler returns
 * there, so the frame above a handler has exactly this ip.  libunwind's own
 * signal-frame test marks the frame after it instead, so we look at the
 * code ourselves, in the mapped file. */
static bool unwind_is_sigreturn(struct unwind *u, uint64_t ip)
{
	static const unsigned char restore_rt[9] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00,
						     0x00, 0x00, 0x0f, 0x05 };
	unsigned char code[9];

	return maps_read_code(u->maps, ip, code, sizeof(code)) == 0 &&
	       !memcmp(code, restore_rt, sizeof(code));
}

/* Read a word of the copied stack. */
static bool unwind_stack_word(const struct snapshot *s, uint64_t addr, uint64_t *v)
{
	if (addr < s->stack_start || s->stack_len < 8 || addr - s->stack_start > s->stack_len - 8)
		return false;
	memcpy(v, s->stack + (addr - s->stack_start), 8);
	return true;
}

enum unwind_call_kind {
	UNWIND_CALL_NONE,     /* not after a call instruction */
	UNWIND_CALL_DIRECT,   /* after "call rel32": the target is known */
	UNWIND_CALL_INDIRECT, /* after a call through a register or memory */
};

/* What call instruction, if any, ends right before ret (read from the
 * mapped file)?  For a direct call, *target is where it went. */
static enum unwind_call_kind unwind_call_before(struct unwind *u, uint64_t ret,
						uint64_t *target)
{
	unsigned char code[7];
	int32_t rel;

	if (ret < 7 || maps_read_code(u->maps, ret - 7, code, sizeof(code)) != 0)
		return UNWIND_CALL_NONE;
	if (code[2] == 0xe8) {
		memcpy(&rel, code + 3, sizeof(rel));
		if (target)
			*target = ret + (uint64_t)(int64_t)rel;
		return UNWIND_CALL_DIRECT;
	}
	if ((code[5] == 0xff && (code[6] & 0x38) == 0x10) ||     /* call *%reg */
	    (code[4] == 0xff && (code[5] & 0x38) == 0x10) ||     /* call *disp8(%reg) */
	    (code[1] == 0xff && (code[2] & 0x38) == 0x10))       /* call *disp32(...) */
		return UNWIND_CALL_INDIRECT;
	return UNWIND_CALL_NONE;
}

/* Start a fresh cursor in the caller: pc ret, stack pointer sp, the
 * callee-saved registers the cursor knows (rbp too, unless set_rbp). */
static bool unwind_restart(struct unwind_call *c, unw_cursor_t *cur, uint64_t ret, uint64_t sp,
			   bool set_rbp, uint64_t rbp)
{
	static const int keep[] = { UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12,
				    UNW_X86_64_R13, UNW_X86_64_R14, UNW_X86_64_R15 };
	struct user_regs_struct next;
	unw_word_t v;

	uint32_t known = UNWIND_BIT(UNW_X86_64_RIP) | UNWIND_BIT(UNW_X86_64_RSP);

	memset(&next, 0, sizeof(next));
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		if (unw_get_reg(cur, keep[i], &v) < 0)
			continue;
		known |= UNWIND_BIT(keep[i]);
		switch (keep[i]) {
		case UNW_X86_64_RBX: next.rbx = v; break;
		case UNW_X86_64_RBP: next.rbp = v; break;
		case UNW_X86_64_R12: next.r12 = v; break;
		case UNW_X86_64_R13: next.r13 = v; break;
		case UNW_X86_64_R14: next.r14 = v; break;
		default: next.r15 = v; break;
		}
	}
	next.rip = ret;
	next.rsp = sp;
	if (set_rbp) {
		next.rbp = rbp;
		known |= UNWIND_BIT(UNW_X86_64_RBP);
	}
	c->regs = next;
	c->known = known;
	return unw_init_remote(cur, c->u->as, c) >= 0;
}

/* Code without unwind tables (built with -fno-asynchronous-unwind-tables,
 * or hand-written) that keeps a frame pointer: the caller's pc is at
 * rbp+8, its rbp at rbp, its sp is rbp+16.  libunwind's own guess for such
 * frames leaves a wrong CFA for the next frame that has CFI, so we take
 * the step ourselves and start a fresh cursor at the caller, carrying the
 * callee-saved registers the cursor knows.  Returns false if rbp does not
 * point into the copied stack above sp. */
static bool unwind_fp_step(struct unwind_call *c, unw_cursor_t *cur, uint64_t sp)
{
	const struct maps_entry *e;
	unw_word_t rbp;
	uint64_t ret, saved_rbp;

	if (unw_get_reg(cur, UNW_X86_64_RBP, &rbp) < 0 || rbp < sp || (rbp & 7) ||
	    !unwind_stack_word(c->s, rbp, &saved_rbp) || !unwind_stack_word(c->s, rbp + 8, &ret))
		return false;
	/* rbp may be some other frame's or data: the return address must be
	 * code, else the caller tries the scan. */
	e = maps_find(c->u->maps, ret);
	if (!e || !maps_is_exec(e))
		return false;
	return unwind_restart(c, cur, ret, rbp + 16, true, saved_rbp);
}

/* Has the frame at ip unwind info?  A return address is looked up one
 * byte back, in its call, as unw_step does (a call can be the last
 * instruction of its function).  Only the FDE is found: unw_get_proc_info
 * would also parse its CFI program, which unw_step does again. */
static bool unwind_has_cfi(struct unwind_call *c, unw_word_t ip, bool return_address)
{
	unw_proc_info_t pi;

	return unw_get_proc_info_by_ip(c->u->as, return_address ? ip - 1 : ip, &pi, c) >= 0;
}


/* The interrupted function has no CFI and we cannot trust its rbp (a leaf
 * rarely sets one up): hand-written code such as musl's __syscall_cp_asm
 * keeps its return address at the top of the stack.  Take it if it is
 * code right after a call, and restart the cursor in the caller. */
static bool unwind_leaf_step(struct unwind_call *c, unw_cursor_t *cur)
{
	uint64_t ret;
	struct user_regs_struct next = c->regs;

	if (!unwind_stack_word(c->s, c->regs.rsp, &ret) ||
	    unwind_call_before(c->u, ret, NULL) == UNWIND_CALL_NONE)
		return false;
	next.rip = ret;
	next.rsp = c->regs.rsp + 8;
	c->regs = next;
	return unw_init_remote(cur, c->u->as, c) >= 0;
}

/* The start of the function holding ip, from its file's symbol table. */
static bool unwind_function_start(struct unwind *u, uint64_t ip, uint64_t *start)
{
	struct maps_entry *e = maps_find(u->maps, ip);
	const struct funcsyms *syms;
	struct elfimage *img;
	uint64_t bias, vstart;

	if (!e || maps_resolve(u->maps, e, &img, &bias) ||
	    !(syms = unwind_image_syms(u, img)) || funcsyms_find(syms, ip - bias, &vstart))
		return false;
	*start = vstart + bias;
	return true;
}

/* Has the function at start set up a frame pointer before ip: rbp made
 * from rsp, by "mov %rsp,%rbp" (GCC: after push %rbp; V8's builtins and
 * JIT code: after checks) or "lea disp(%rsp),%rbp" (Go: after sub and a
 * store of rbp)?  Go and V8 put it after checks, so the first bytes up to
 * ip are searched. */
static bool unwind_sets_frame_pointer(struct unwind *u, uint64_t start, uint64_t ip)
{
	static const unsigned char mov[3] = { 0x48, 0x89, 0xe5 };
	static const unsigned char lea8[4] = { 0x48, 0x8d, 0x6c, 0x24 };
	static const unsigned char lea32[4] = { 0x48, 0x8d, 0xac, 0x24 };
	unsigned char code[UNWIND_PROLOGUE_BYTES];
	size_t len = ip > start && ip - start < sizeof(code) ? (size_t)(ip - start) : sizeof(code);

	if (ip <= start || maps_read_code(u->maps, start, code, len) != 0)
		return false;
	return memmem(code, len, mov, sizeof(mov)) || memmem(code, len, lea8, sizeof(lea8)) ||
	       memmem(code, len, lea32, sizeof(lea32));
}

/* Is the code at addr a jump through memory, as a PLT entry is ("jmp
 * *GOT(%rip)", with endbr64 or bnd prefixes)?  A call to it reaches some
 * function we cannot name without the live GOT. */
static bool unwind_is_stub(struct unwind *u, uint64_t addr)
{
	static const unsigned char endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	unsigned char code[7];
	const unsigned char *p = code;

	if (maps_read_code(u->maps, addr, code, sizeof(code)) != 0)
		return false;
	if (!memcmp(p, endbr64, 4))
		p += 4;
	if (*p == 0xf2) /* bnd */
		p++;
	return p + 1 < code + sizeof(code) && p[0] == 0xff && p[1] == 0x25;
}

/* The last resort for a frame without CFI and without a frame pointer
 * (musl is built so): look up the copied stack for a return address, as
 * breakpad's stack scan does.  A word is taken if it is code right after a
 * call whose target is the start of the function the frame is in (or a
 * PLT stub, or, when the file has no symbols, a start at or below ip),
 * or after an indirect call, whose target cannot be checked.  A tail call
 * into this function fails the check and ends the stack there rather than
 * at a stale return address further up. */
static bool unwind_scan_step(struct unwind_call *c, unw_cursor_t *cur, uint64_t ip,
			     uint64_t sp, bool have_start, uint64_t start)
{
	for (uint64_t addr = sp; addr - sp < UNWIND_SCAN_BYTES; addr += 8) {
		const struct maps_entry *e;
		uint64_t ret, target = 0;
		enum unwind_call_kind kind;

		if (!unwind_stack_word(c->s, addr, &ret))
			break;
		e = maps_find(c->u->maps, ret);
		if (!e || !maps_is_exec(e))
			continue;
		kind = unwind_call_before(c->u, ret, &target);
		if (kind == UNWIND_CALL_NONE)
			continue;
		if (kind == UNWIND_CALL_DIRECT && target != start && !unwind_is_stub(c->u, target) &&
		    (have_start || target > ip || ip - target > UNWIND_SCAN_FUNC_MAX))
			continue;
		return unwind_restart(c, cur, ret, addr + 8, false, 0);
	}
	return false;
}

/* Go code without CFI: a stripped Go binary (-ldflags='-s -w' also
 * removes the .debug_frame that describes Go's frames).  Go's own table
 * says how far sp is below the function's entry at every pc (pcsp), so the
 * return address is at sp + delta and the caller's sp 8 above it: exact
 * for leaves and frameless functions too, where a frame-pointer step skips
 * the caller.  rbp is the caller's unless this frame saved it: Go stores
 * the caller's rbp at 16 below the caller's sp and points rbp there.  pc
 * is looked up one byte back when it is a return address.  1: stepped; 0:
 * the frame is where Go's own traceback ends (runtime.goexit...: what is
 * above it is no frame); -1: not Go code with a table, or the frame is not
 * in the copy. */
static int unwind_go_step(struct unwind_call *c, unw_cursor_t *cur, uint64_t ip, uint64_t sp,
			  bool return_address)
{
	struct maps_entry *e = maps_find(c->u->maps, ip);
	const struct gopclntab *go;
	struct elfimage *img;
	uint64_t bias, ret, cfa, saved = 0;
	int32_t delta;
	int top;
	unw_word_t rbp;
	bool set_rbp = false;

	if (!e || maps_resolve(c->u->maps, e, &img, &bias) || !(go = unwind_image_go(c->u, img)) ||
	    gopclntab_frame(go, ip - (return_address ? 1 : 0) - bias, &delta, &top) != 0)
		return -1;
	if (top)
		return 0;
	cfa = sp + (uint64_t)delta + 8;
	if (!unwind_stack_word(c->s, cfa - 8, &ret))
		return -1;
	if (delta >= 8 && !c->s->regs_partial && unw_get_reg(cur, UNW_X86_64_RBP, &rbp) >= 0 &&
	    rbp == cfa - 16 && unwind_stack_word(c->s, rbp, &saved))
		set_rbp = true;
	return unwind_restart(c, cur, ret, cfa, set_rbp, saved) ? 1 : -1;
}

/* A frame without CFI.  The leaf: its return address on top of the stack,
 * else the scan.  Above it: the frame pointer first, unless the symbol
 * table says the function does not set one up (then rbp belongs to some
 * other frame, and following it would skip frames); the scan after.
 * Returns how the caller was found, or UNWIND_HOW_REGS when it was not. */
static enum unwind_how unwind_nocfi_step(struct unwind_call *c, unw_cursor_t *cur, uint64_t ip,
					 uint64_t sp, bool leaf)
{
	uint64_t start = 0;
	bool have_start = unwind_function_start(c->u, ip, &start);
	bool fp_ok = !c->s->regs_partial;

	if (leaf)
		return unwind_leaf_step(c, cur) ? UNWIND_HOW_LEAF :
		       unwind_scan_step(c, cur, ip, sp, have_start, start) ? UNWIND_HOW_SCAN :
		       UNWIND_HOW_REGS;
	if (have_start && !unwind_sets_frame_pointer(c->u, start, ip))
		return unwind_scan_step(c, cur, ip, sp, have_start, start) ? UNWIND_HOW_SCAN :
		       fp_ok && unwind_fp_step(c, cur, sp) ? UNWIND_HOW_FP : UNWIND_HOW_REGS;
	return fp_ok && unwind_fp_step(c, cur, sp) ? UNWIND_HOW_FP :
	       unwind_scan_step(c, cur, ip, sp, have_start, start) ? UNWIND_HOW_SCAN :
	       UNWIND_HOW_REGS;
}

/* Try rbp = rec at frame (ip, sp) of a partial snapshot: restart the
 * cursor there and step it by CFI.  The candidate holds if CFI puts the
 * caller exactly where the frame record says: return address ret (the
 * word at rec + 8), caller's sp rec + 16, caller's rbp the word at rec.
 * *deep tells whether the caller's frame steps too (or is the outermost).
 * On success cur is left in the caller. */
static bool unwind_try_rbp(struct unwind_call *c, unw_cursor_t *cur, uint64_t ip, uint64_t sp,
			   uint64_t rec, uint64_t saved, uint64_t ret, bool *deep)
{
	unw_cursor_t next, after;
	unw_word_t nip, nsp, nrbp;
	int r;

	if (!unwind_restart(c, cur, ip, sp, true, rec))
		return false;
	next = *cur;
	if (unw_step(&next) <= 0 || unw_get_reg(&next, UNW_REG_IP, &nip) < 0 ||
	    unw_get_reg(&next, UNW_REG_SP, &nsp) < 0 || nip != ret || nsp != rec + 16 ||
	    unw_get_reg(&next, UNW_X86_64_RBP, &nrbp) < 0 || nrbp != saved)
		return false;
	after = next;
	r = unw_step(&after);
	*deep = r == 0 || (r > 0 && unw_get_reg(&after, UNW_REG_SP, &nsp) >= 0 && nsp >= rec + 16);
	*cur = next;
	return true;
}

/* A thread captured without a stop (regs_partial) has no rbp, and a frame
 * whose CFA is rbp-based (CFI "rbp+16": -O0 code, frame pointers, an
 * alloca; PostgreSQL's WaitEventSetWait) cannot be stepped by CFI alone.
 * The frames below it kept rbp in its register (libc's system call
 * wrappers are sp-based), so rbp still is what this frame set up: the
 * address of its frame record, saved rbp then return address, somewhere
 * above sp.  Candidates are words of the copied stack followed by code
 * right after a call to this function (a direct call to its start, a PLT
 * stub or an indirect call) that is not inside this function (a callee's
 * stale record); each is checked by stepping with CFI (unwind_try_rbp).
 * The first whose caller steps on too wins, else the first that steps at
 * all.  On success cur is in the caller. */
static bool unwind_rbp_step(struct unwind_call *c, unw_cursor_t *cur, uint64_t ip, uint64_t sp,
			    bool leaf)
{
	unw_cursor_t start = *cur, fallback;
	struct user_regs_struct regs = c->regs;
	uint32_t known = c->known;
	unw_proc_info_t pi;
	bool have_fallback = false;
	unw_word_t v;

	/* The cursor has rbp (from the stack, by CFI): it is not what the
	 * failed step lacked. */
	if (unw_get_reg(cur, UNW_X86_64_RBP, &v) >= 0)
		return false;
	if (unw_get_proc_info_by_ip(c->u->as, leaf ? ip : ip - 1, &pi, c) < 0)
		return false;
	for (uint64_t rec = sp; rec - sp < UNWIND_RBP_SCAN_BYTES; rec += 8) {
		const struct maps_entry *e;
		uint64_t saved, ret, target = 0;
		enum unwind_call_kind kind;
		bool deep = false;

		if (!unwind_stack_word(c->s, rec, &saved) ||
		    !unwind_stack_word(c->s, rec + 8, &ret))
			break;
		if (ret >= pi.start_ip && ret <= pi.end_ip)
			continue;
		e = maps_find(c->u->maps, ret);
		if (!e || !maps_is_exec(e))
			continue;
		kind = unwind_call_before(c->u, ret, &target);
		if (kind == UNWIND_CALL_NONE ||
		    (kind == UNWIND_CALL_DIRECT && target != pi.start_ip &&
		     !unwind_is_stub(c->u, target)))
			continue;
		*cur = start;
		c->regs = regs;
		c->known = known;
		if (!unwind_try_rbp(c, cur, ip, sp, rec, saved, ret, &deep))
			continue;
		if (deep)
			return true;
		if (!have_fallback) {
			fallback = *cur;
			have_fallback = true;
		}
	}
	if (have_fallback)
		*cur = fallback;
	return have_fallback;
}

int unwind_stack(struct unwind *u, const struct snapshot *s, uint64_t *pcs, size_t max,
		 struct unwind_result *res)
{
	return unwind_stack_how(u, s, pcs, NULL, max, res);
}

int unwind_stack_how(struct unwind *u, const struct snapshot *s, uint64_t *pcs, uint8_t *how,
		     size_t max, struct unwind_result *res)
{
	struct unwind_call c = { .u = u, .s = s, .regs = s->regs, .known = UNWIND_KNOWN_PARTIAL };
	unw_cursor_t cur;
	unw_word_t ip, sp, prev_sp;
	bool after_sigreturn = false, exact = true;
	int r;

	res->n = 0;
	res->end = UNWIND_END_OK;
	if (max == 0)
		return 0;
	if (how)
		how[0] = UNWIND_HOW_REGS;
	pcs[res->n++] = s->regs.rip;
	if (!maps_find(u->maps, s->regs.rip)) {
		res->end = UNWIND_END_UNMAPPED;
		return 0;
	}
	if (unw_init_remote(&cur, u->as, &c) < 0) {
		res->end = UNWIND_END_NOINFO;
		return 0;
	}
	prev_sp = s->regs.rsp;
	for (;;) {
		const struct maps_entry *e;
		enum unwind_how step;
		bool sigreturn, nocfi;

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || unw_get_reg(&cur, UNW_REG_SP, &sp) < 0)
			break;
		/* Not for the first frame: a leaf without CFI usually has no
		 * frame of its own either, and libunwind's guess does better. */
		nocfi = !after_sigreturn && !c.unmapped && !unwind_has_cfi(&c, ip, res->n > 1);
		r = nocfi ? unwind_go_step(&c, &cur, ip, sp, !exact) : -1;
		step = r >= 0 ? UNWIND_HOW_GO :
		       nocfi ? unwind_nocfi_step(&c, &cur, ip, sp, res->n == 1) : UNWIND_HOW_REGS;
		if (r >= 0 || step != UNWIND_HOW_REGS) {
			r = r >= 0 ? r : 1;
		} else if (s->regs_partial && !(c.known & UNWIND_BIT(UNW_X86_64_RBP))) {
			/* rbp unknown: a step that needs it fails; then
			 * recover it from the stack (unwind_rbp_step). */
			unw_cursor_t before = cur;

			r = unw_step(&cur);
			step = after_sigreturn ? UNWIND_HOW_SIGNAL :
			       nocfi ? UNWIND_HOW_GUESS : UNWIND_HOW_CFI;
			if (r < 0 && !c.unmapped && !c.stack_miss) {
				cur = before;
				if (unwind_rbp_step(&c, &cur, ip, sp, res->n == 1)) {
					r = 1;
					step = UNWIND_HOW_RBP;
				}
			}
		} else {
			r = unw_step(&cur);
			step = after_sigreturn ? UNWIND_HOW_SIGNAL :
			       nocfi ? UNWIND_HOW_GUESS : UNWIND_HOW_CFI;
		}
		if (r == 0)
			break;
		if (r < 0) {
			res->end = c.unmapped ? UNWIND_END_UNMAPPED :
				   c.stack_miss ? UNWIND_END_STACK : UNWIND_END_NOINFO;
			break;
		}
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || unw_get_reg(&cur, UNW_REG_SP, &sp) < 0 ||
		    ip == 0)
			break;
		/* A caller's pc must be code: anything else is a guess gone
		 * wrong (a stack address, a data pointer). */
		e = maps_find(u->maps, ip);
		if (!e || !maps_is_exec(e)) {
			res->end = UNWIND_END_UNMAPPED;
			break;
		}
		/* The stack grows down: an outer frame never has a lower sp
		 * (equal only across a signal frame). */
		if (sp < prev_sp || (sp == prev_sp && !after_sigreturn)) {
			res->end = UNWIND_END_BAD;
			break;
		}
		if (res->n == max) {
			res->end = UNWIND_END_DEPTH;
			break;
		}
		/* Return addresses point after the call: step back into it.  Not
		 * for the trampoline (a handler "returns" to its first byte) nor
		 * for the interrupted pc above it, which is exact. */
		sigreturn = unwind_is_sigreturn(u, ip);
		exact = sigreturn || after_sigreturn;
		if (how)
			how[res->n] = (uint8_t)step;
		pcs[res->n++] = exact ? ip : ip - 1;
		after_sigreturn = sigreturn;
		prev_sp = sp;
	}
	return 0;
}

const char *unwind_end_str(enum unwind_end e)
{
	switch (e) {
	case UNWIND_END_OK: return "complete";
	case UNWIND_END_DEPTH: return "depth limit";
	case UNWIND_END_STACK: return "stack copy too short";
	case UNWIND_END_NOINFO: return "no unwind info";
	case UNWIND_END_UNMAPPED: return "pc outside any mapping";
	case UNWIND_END_BAD: return "bad frame";
	}
	return "?";
}

const char *unwind_how_str(enum unwind_how h)
{
	switch (h) {
	case UNWIND_HOW_REGS: return "regs";
	case UNWIND_HOW_CFI: return "cfi";
	case UNWIND_HOW_SIGNAL: return "signal";
	case UNWIND_HOW_FP: return "fp";
	case UNWIND_HOW_LEAF: return "leaf";
	case UNWIND_HOW_SCAN: return "scan";
	case UNWIND_HOW_GO: return "go";
	case UNWIND_HOW_RBP: return "rbp";
	case UNWIND_HOW_GUESS: return "guess";
	}
	return "?";
}
