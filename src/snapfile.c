/* snapfile.c - snapshots of a process on disk (see snapfile.h). */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/error.h"
#include "pprobe/snapfile.h"

#define SNAPFILE_HEX_PER_LINE 64
#define SNAPFILE_MAX_LINE 8192

/* The fields of struct user_regs_struct, by the names the file uses. */
static const struct {
	const char *name;
	size_t off;
} snapfile_regs[] = {
#define SNAPFILE_REG(r) { #r, offsetof(struct user_regs_struct, r) }
	SNAPFILE_REG(r15), SNAPFILE_REG(r14), SNAPFILE_REG(r13), SNAPFILE_REG(r12),
	SNAPFILE_REG(rbp), SNAPFILE_REG(rbx), SNAPFILE_REG(r11), SNAPFILE_REG(r10),
	SNAPFILE_REG(r9), SNAPFILE_REG(r8), SNAPFILE_REG(rax), SNAPFILE_REG(rcx),
	SNAPFILE_REG(rdx), SNAPFILE_REG(rsi), SNAPFILE_REG(rdi), SNAPFILE_REG(orig_rax),
	SNAPFILE_REG(rip), SNAPFILE_REG(cs), SNAPFILE_REG(eflags), SNAPFILE_REG(rsp),
	SNAPFILE_REG(ss), SNAPFILE_REG(fs_base), SNAPFILE_REG(gs_base), SNAPFILE_REG(ds),
	SNAPFILE_REG(es), SNAPFILE_REG(fs), SNAPFILE_REG(gs),
#undef SNAPFILE_REG
};
#define SNAPFILE_NREGS (sizeof(snapfile_regs) / sizeof(snapfile_regs[0]))

void snapfile_init(struct snapfile *f)
{
	memset(f, 0, sizeof(*f));
}

void snapfile_fini(struct snapfile *f)
{
	free(f->maps);
	for (size_t i = 0; i < f->nfiles; i++) {
		free(f->files[i].path);
		free(f->files[i].build_id);
	}
	free(f->files);
	free(f->vdso);
	for (size_t i = 0; i < f->nthreads; i++)
		snapshot_fini(&f->threads[i].snap);
	free(f->threads);
	snapfile_init(f);
}

int snapfile_add_file(struct snapfile *f, const char *path, const char *build_id)
{
	struct snapfile_file *nv = realloc(f->files, (f->nfiles + 1) * sizeof(*nv));
	struct snapfile_file *x;

	if (!nv)
		return -ENOMEM;
	f->files = nv;
	x = &f->files[f->nfiles];
	x->path = strdup(path);
	x->build_id = strdup(build_id ? build_id : "");
	if (!x->path || !x->build_id) {
		free(x->path);
		free(x->build_id);
		return -ENOMEM;
	}
	f->nfiles++;
	return 0;
}

/* A thread name as the file holds it: printable, no blank (the rest of
 * the line is the name, so a space is kept but a newline is not). */
static void snapfile_copy_name(char dst[16], const char *src)
{
	size_t i;

	for (i = 0; i < 15 && src[i] && src[i] != '\n'; i++)
		dst[i] = isprint((unsigned char)src[i]) ? src[i] : '?';
	dst[i] = '\0';
}

static struct snapfile_thread *snapfile_new_thread(struct snapfile *f, size_t stack_len)
{
	struct snapfile_thread *nv, *t;

	if (f->nthreads >= SNAPFILE_MAX_THREADS || stack_len > SNAPFILE_MAX_STACK)
		return NULL;
	nv = realloc(f->threads, (f->nthreads + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	f->threads = nv;
	t = &f->threads[f->nthreads];
	memset(t, 0, sizeof(*t));
	/* Not snapshot_init: its cap is the capture's limit, not a file's. */
	t->snap.stack = malloc(stack_len ? stack_len : 1);
	if (!t->snap.stack)
		return NULL;
	t->snap.stack_cap = stack_len;
	f->nthreads++;
	return t;
}

int snapfile_add_thread(struct snapfile *f, const char *name, const struct snapshot *s)
{
	struct snapfile_thread *t;
	uint8_t *stack;
	size_t cap;

	if (s->stack_len > SNAPFILE_MAX_STACK)
		return -PPROBE_E_TOOBIG;
	t = snapfile_new_thread(f, s->stack_len);
	if (!t)
		return -ENOMEM;
	stack = t->snap.stack;
	cap = t->snap.stack_cap;
	t->snap = *s;
	t->snap.stack = stack;
	t->snap.stack_cap = cap;
	memcpy(stack, s->stack, s->stack_len);
	snapfile_copy_name(t->name, name ? name : "");
	return 0;
}

static void snapfile_write_hex(const uint8_t *p, size_t len, FILE *out)
{
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x%s", p[i],
			(i + 1) % SNAPFILE_HEX_PER_LINE == 0 || i + 1 == len ? "\n" : "");
}

int snapfile_write(const struct snapfile *f, FILE *out)
{
	size_t nlines = 0;

	for (size_t i = 0; i < f->maps_len; i++)
		nlines += f->maps[i] == '\n';
	if (f->maps_len && f->maps[f->maps_len - 1] != '\n')
		nlines++;
	fprintf(out, "pprobe-snapshot %d\npid %d\nmaps %zu\n", SNAPFILE_VERSION, (int)f->pid, nlines);
	fwrite(f->maps, 1, f->maps_len, out);
	if (f->maps_len && f->maps[f->maps_len - 1] != '\n')
		fputc('\n', out);
	for (size_t i = 0; i < f->nfiles; i++)
		fprintf(out, "file %s %s\n", f->files[i].path,
			f->files[i].build_id[0] ? f->files[i].build_id : "-");
	if (f->vdso) {
		fprintf(out, "vdso %" PRIx64 " %zu\n", f->vdso_start, f->vdso_len);
		snapfile_write_hex(f->vdso, f->vdso_len, out);
	}
	for (size_t i = 0; i < f->nthreads; i++) {
		const struct snapfile_thread *t = &f->threads[i];

		fprintf(out, "thread %d %s\n", (int)t->snap.tid, t->name);
		for (size_t r = 0; r < SNAPFILE_NREGS; r++) {
			unsigned long long v;

			memcpy(&v, (const char *)&t->snap.regs + snapfile_regs[r].off, sizeof(v));
			fprintf(out, "reg %s 0x%llx\n", snapfile_regs[r].name, v);
		}
		fprintf(out, "partial %d\nstack %" PRIx64 " %zu\n", t->snap.regs_partial ? 1 : 0,
			t->snap.stack_start, t->snap.stack_len);
		snapfile_write_hex(t->snap.stack, t->snap.stack_len, out);
	}
	fputs("end\n", out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -(errno ? errno : EIO);
}

/* The reader's state: one line at a time, numbered for the error. */
struct snapfile_reader {
	FILE *in;
	char *buf;
	size_t cap;
	size_t lineno;
};

/* The next line without its newline, or NULL at the end (or on a line
 * longer than SNAPFILE_MAX_LINE, which no valid file has). */
static char *snapfile_line(struct snapfile_reader *r, size_t *len)
{
	ssize_t n = getline(&r->buf, &r->cap, r->in);

	if (n < 0)
		return NULL;
	r->lineno++;
	if (n > SNAPFILE_MAX_LINE)
		return NULL;
	if (n > 0 && r->buf[n - 1] == '\n')
		r->buf[--n] = '\0';
	if (len)
		*len = (size_t)n;
	return r->buf;
}

static int snapfile_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* len bytes in lines of hex, as snapfile_write_hex writes them. */
static int snapfile_read_hex(struct snapfile_reader *r, uint8_t *dst, size_t len)
{
	size_t got = 0;

	while (got < len) {
		size_t n;
		char *line = snapfile_line(r, &n);

		if (!line || n == 0 || n % 2 || n / 2 > len - got || n / 2 > SNAPFILE_HEX_PER_LINE)
			return -PPROBE_E_BADSNAP;
		for (size_t i = 0; i < n; i += 2) {
			int hi = snapfile_hexval(line[i]), lo = snapfile_hexval(line[i + 1]);

			if (hi < 0 || lo < 0)
				return -PPROBE_E_BADSNAP;
			dst[got++] = (uint8_t)(hi << 4 | lo);
		}
	}
	return 0;
}

/* "KEY rest": rest, or NULL when the line starts otherwise. */
static const char *snapfile_key(const char *line, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(line, key, n) && line[n] == ' ' ? line + n + 1 : NULL;
}

/* A decimal count or length (no sign, no junk after it), at most max. */
static int snapfile_count(const char *s, size_t max, size_t *out, const char **end)
{
	char *e;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -PPROBE_E_BADSNAP;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || v > max || (!end && *e))
		return -PPROBE_E_BADSNAP;
	*out = (size_t)v;
	if (end)
		*end = e;
	return 0;
}

static int snapfile_hex64(const char *s, uint64_t *out, const char **end)
{
	char *e;

	if (!isxdigit((unsigned char)*s))
		return -PPROBE_E_BADSNAP;
	errno = 0;
	*out = strtoull(s, &e, 16);
	if (errno || (!end && *e))
		return -PPROBE_E_BADSNAP;
	if (end)
		*end = e;
	return 0;
}

static int snapfile_read_maps(struct snapfile_reader *r, struct snapfile *f, size_t n)
{
	size_t cap = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *line = snapfile_line(r, &len);

		if (!line)
			return -PPROBE_E_BADSNAP;
		if (f->maps_len + len + 2 > cap) {
			size_t ncap = (f->maps_len + len + 2) * 2;
			char *nm = realloc(f->maps, ncap);

			if (!nm)
				return -ENOMEM;
			f->maps = nm;
			cap = ncap;
		}
		memcpy(f->maps + f->maps_len, line, len);
		f->maps_len += len;
		f->maps[f->maps_len++] = '\n';
		f->maps[f->maps_len] = '\0';
	}
	return 0;
}

static int snapfile_read_file_line(struct snapfile *f, const char *rest)
{
	const char *sp = strrchr(rest, ' ');
	char *path;
	int err;

	if (!sp || sp == rest || f->nfiles >= SNAPFILE_MAX_MAPS)
		return -PPROBE_E_BADSNAP;
	path = strndup(rest, (size_t)(sp - rest));
	if (!path)
		return -ENOMEM;
	err = snapfile_add_file(f, path, strcmp(sp + 1, "-") ? sp + 1 : "");
	free(path);
	return err;
}

/* After "thread TID NAME": the registers, partial, the stack. */
static int snapfile_read_thread(struct snapfile_reader *r, struct snapfile *f, const char *rest)
{
	struct snapfile_thread *t;
	struct user_regs_struct regs;
	char name[16];
	size_t tid, len, i;
	uint64_t start;
	const char *p, *line;
	bool partial;

	if (snapfile_count(rest, INT32_MAX, &tid, &p) || (*p != ' ' && *p))
		return -PPROBE_E_BADSNAP;
	snapfile_copy_name(name, *p ? p + 1 : "");
	memset(&regs, 0, sizeof(regs));
	for (i = 0; i < SNAPFILE_NREGS; i++) {
		char want[32];
		uint64_t v;

		snprintf(want, sizeof(want), "reg %s", snapfile_regs[i].name);
		line = snapfile_line(r, NULL);
		if (!line || !(p = snapfile_key(line, want)) || strncmp(p, "0x", 2) ||
		    snapfile_hex64(p + 2, &v, NULL))
			return -PPROBE_E_BADSNAP;
		memcpy((char *)&regs + snapfile_regs[i].off, &v, sizeof(v));
	}
	line = snapfile_line(r, NULL);
	if (!line || !(p = snapfile_key(line, "partial")) || (strcmp(p, "0") && strcmp(p, "1")))
		return -PPROBE_E_BADSNAP;
	partial = p[0] == '1';
	line = snapfile_line(r, NULL);
	if (!line || !(p = snapfile_key(line, "stack")) || snapfile_hex64(p, &start, &p) ||
	    *p != ' ' || snapfile_count(p + 1, SNAPFILE_MAX_STACK, &len, NULL) ||
	    f->nthreads >= SNAPFILE_MAX_THREADS)
		return -PPROBE_E_BADSNAP;
	t = snapfile_new_thread(f, len);
	if (!t)
		return -ENOMEM;
	memcpy(t->name, name, sizeof(name));
	t->snap.tid = (pid_t)tid;
	t->snap.regs = regs;
	t->snap.regs_partial = partial;
	t->snap.stack_start = start;
	t->snap.stack_len = len;
	return snapfile_read_hex(r, t->snap.stack, len);
}

static int snapfile_read_body(struct snapfile_reader *r, struct snapfile *f)
{
	const char *line, *p;
	size_t n;
	int err;

	line = snapfile_line(r, NULL);
	if (!line || strcmp(line, "pprobe-snapshot 1"))
		return -PPROBE_E_BADSNAP;
	line = snapfile_line(r, NULL);
	if (!line || !(p = snapfile_key(line, "pid")) || snapfile_count(p, INT32_MAX, &n, NULL))
		return -PPROBE_E_BADSNAP;
	f->pid = (pid_t)n;
	line = snapfile_line(r, NULL);
	if (!line || !(p = snapfile_key(line, "maps")) ||
	    snapfile_count(p, SNAPFILE_MAX_MAPS, &n, NULL))
		return -PPROBE_E_BADSNAP;
	err = snapfile_read_maps(r, f, n);
	if (err)
		return err;
	while ((line = snapfile_line(r, NULL))) {
		if (!strcmp(line, "end"))
			return 0;
		if ((p = snapfile_key(line, "file"))) {
			err = snapfile_read_file_line(f, p);
		} else if ((p = snapfile_key(line, "vdso"))) {
			if (f->vdso || snapfile_hex64(p, &f->vdso_start, &p) || *p != ' ' ||
			    snapfile_count(p + 1, SNAPFILE_MAX_VDSO, &n, NULL) || n == 0)
				return -PPROBE_E_BADSNAP;
			f->vdso = malloc(n);
			if (!f->vdso)
				return -ENOMEM;
			f->vdso_len = n;
			err = snapfile_read_hex(r, f->vdso, n);
		} else if ((p = snapfile_key(line, "thread"))) {
			err = snapfile_read_thread(r, f, p);
		} else {
			err = -PPROBE_E_BADSNAP;
		}
		if (err)
			return err;
	}
	return ferror(r->in) ? -EIO : -PPROBE_E_BADSNAP; /* no "end": cut short */
}

int snapfile_read(FILE *in, struct snapfile *f, size_t *line)
{
	struct snapfile_reader r = { .in = in };
	int err;

	snapfile_init(f);
	err = snapfile_read_body(&r, f);
	if (line)
		*line = r.lineno;
	free(r.buf);
	return err;
}
