/* demangle_rust.c - Rust v0 and legacy symbol demangling (see demangle_rust.h).
 *
 * The v0 decoder follows the grammar published in RFC 2603 ("Rust Symbol
 * Mangling (v0)"), summarised here for the reader:
 *
 *   symbol    = "_R" [decimal] path [instantiating-crate] [vendor-suffix]
 *   path      = "C" ident                      crate root
 *             | "M" impl-path type             <T>
 *             | "X" impl-path type path        <T as Trait>
 *             | "Y" type path                  <T as Trait>
 *             | "N" namespace path ident       ...::name, ...::{closure#N}
 *             | "I" path {generic-arg} "E"     ...::<T, U>
 *             | backref
 *   impl-path = [disambiguator] path           (not printed)
 *   ident     = [disambiguator] ["u"] decimal ["_"] bytes   ("u": Punycode)
 *   disambiguator = "s" base62;  backref = "B" base62;  lifetime = "L" base62
 *   generic-arg = lifetime | type | "K" const
 *   type      = basic-type (one lower-case letter) | path | "A" type const
 *             | "S" type | "R" [lifetime] type | "Q" [lifetime] type
 *             | "P" type | "O" type | "F" fn-sig | "D" dyn-bounds lifetime
 *             | "T" {type} "E" | backref
 *   fn-sig    = [binder] ["U"] ["K" abi] {type} "E" type;  binder = "G" base62
 *   dyn-bounds = [binder] {path {"p" ident type}} "E"
 *   const     = type-tag hex-digits "_" (with "n" for negative) | "p" | backref
 *   base62    = "_" (0) | digits "_" (value + 1), digits 0-9 a-z A-Z
 *
 * A back-reference is a byte offset into the symbol after "_R", always to
 * an earlier position; it is printed by parsing again from there.  Printing
 * is suppressed (but parsing done) for the parts the short form omits.
 *
 * The legacy decoder splits the Itanium nested name into its elements,
 * drops the trailing hash element and undoes Rust's escapes in each.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/demangle_rust.h"

/* Longest symbol read, longest result, deepest nesting, longest Punycode
 * identifier (in code points): past any of them the symbol is refused. */
#define RDM_MAX_SYMBOL (64 * 1024)
#define RDM_MAX_OUT (64 * 1024)
#define RDM_MAX_DEPTH 300
#define RDM_MAX_PUNY 1024
#define RDM_MAX_BINDER 1024

struct rdm {
	const char *s; /* the symbol after "_R" */
	size_t n;      /* its length, without a vendor suffix */
	size_t pos;
	char *out;
	size_t len, cap;
	unsigned depth;
	unsigned skip;       /* > 0: parse, print nothing */
	uint64_t bound_lts;  /* lifetimes bound by enclosing binders */
	bool err;
};

struct rdm_ident {
	const char *ascii, *puny;
	size_t ascii_len, puny_len;
};

static bool rdm_fail(struct rdm *r)
{
	r->err = true;
	return false;
}

static char rdm_peek(const struct rdm *r)
{
	return r->pos < r->n ? r->s[r->pos] : '\0';
}

static bool rdm_eat(struct rdm *r, char c)
{
	if (r->err || rdm_peek(r) != c)
		return false;
	r->pos++;
	return true;
}

static char rdm_next(struct rdm *r)
{
	if (r->err || r->pos >= r->n) {
		r->err = true;
		return '\0';
	}
	return r->s[r->pos++];
}

static bool rdm_emit(struct rdm *r, const char *p, size_t len)
{
	if (r->err)
		return false;
	if (r->skip || len == 0)
		return true;
	if (len > RDM_MAX_OUT - r->len)
		return rdm_fail(r);
	if (r->len + len + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap : 128;
		char *nb;

		while (ncap < r->len + len + 1)
			ncap *= 2;
		nb = realloc(r->out, ncap);
		if (!nb)
			return rdm_fail(r);
		r->out = nb;
		r->cap = ncap;
	}
	memcpy(r->out + r->len, p, len);
	r->len += len;
	return true;
}

static bool rdm_puts(struct rdm *r, const char *p)
{
	return rdm_emit(r, p, strlen(p));
}

static bool rdm_put_u64(struct rdm *r, uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return rdm_emit(r, buf + i, sizeof(buf) - i);
}

/* One code point as UTF-8. */
static bool rdm_put_utf8(struct rdm *r, uint32_t c)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | (c >> 12 & 0x3f));
		b[2] = (char)(0x80 | (c >> 6 & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return rdm_emit(r, b, n);
}

static bool rdm_valid_char(uint64_t c)
{
	return c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff);
}

static int rdm_digit62(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 36;
	return -1;
}

/* base62 = "_" | {digit62} "_": 0 for "_", else the digits' value + 1. */
static bool rdm_base62(struct rdm *r, uint64_t *v)
{
	uint64_t x = 0;

	if (rdm_eat(r, '_')) {
		*v = 0;
		return true;
	}
	for (;;) {
		char c = rdm_next(r);
		int d;

		if (r->err)
			return false;
		if (c == '_')
			break;
		d = rdm_digit62(c);
		if (d < 0 || x > (UINT64_MAX - (uint64_t)d) / 62)
			return rdm_fail(r);
		x = x * 62 + (uint64_t)d;
	}
	if (x == UINT64_MAX)
		return rdm_fail(r);
	*v = x + 1;
	return true;
}

/* An optional tag + base62 (disambiguators, binders): 0 when absent,
 * else the number + 1. */
static bool rdm_opt_base62(struct rdm *r, char tag, uint64_t *v)
{
	*v = 0;
	if (!rdm_eat(r, tag))
		return !r->err;
	if (!rdm_base62(r, v))
		return false;
	if (*v == UINT64_MAX)
		return rdm_fail(r);
	(*v)++;
	return true;
}

static bool rdm_decimal(struct rdm *r, uint64_t *v)
{
	char c = rdm_peek(r);
	uint64_t x = 0;

	if (c < '0' || c > '9')
		return rdm_fail(r);
	if (c == '0') {
		r->pos++;
		*v = 0;
		return true;
	}
	while ((c = rdm_peek(r)) >= '0' && c <= '9') {
		if (x > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return rdm_fail(r);
		x = x * 10 + (uint64_t)(c - '0');
		r->pos++;
	}
	*v = x;
	return true;
}

/* ident = [disambiguator] ["u"] decimal ["_"] bytes.  The disambiguator is
 * returned in *dis (0 when absent). */
static bool rdm_ident(struct rdm *r, struct rdm_ident *id, uint64_t *dis)
{
	uint64_t len;
	bool puny;
	const char *p;

	memset(id, 0, sizeof(*id));
	if (!rdm_opt_base62(r, 's', dis))
		return false;
	puny = rdm_eat(r, 'u');
	if (!rdm_decimal(r, &len))
		return false;
	rdm_eat(r, '_');
	if (len > r->n - r->pos)
		return rdm_fail(r);
	p = r->s + r->pos;
	r->pos += (size_t)len;
	if (!puny) {
		id->ascii = p;
		id->ascii_len = (size_t)len;
		return true;
	}
	/* Punycode: the basic code points, '_' (v0's delimiter, '-' in RFC
	 * 3492), then the encoded insertions. */
	id->puny = p;
	id->puny_len = (size_t)len;
	for (size_t i = (size_t)len; i > 0; i--) {
		if (p[i - 1] == '_') {
			id->ascii = p;
			id->ascii_len = i - 1;
			id->puny = p + i;
			id->puny_len = (size_t)len - i;
			break;
		}
	}
	if (id->puny_len == 0)
		return rdm_fail(r);
	return true;
}

static bool rdm_ident_empty(const struct rdm_ident *id)
{
	return id->ascii_len == 0 && id->puny_len == 0;
}

/* RFC 3492's bias adaptation, with Punycode's parameters. */
static uint64_t rdm_puny_adapt(uint64_t delta, uint64_t npoints, bool first)
{
	uint64_t k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / npoints;
	while (delta > (36 - 1) * 26 / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

/* Decode id's Punycode (RFC 3492) into code points and print them. */
static bool rdm_print_puny(struct rdm *r, const struct rdm_ident *id)
{
	uint32_t cps[RDM_MAX_PUNY];
	size_t ncp = 0, at = 0;
	uint64_t n = 128, i = 0, bias = 72;

	if (id->ascii_len > RDM_MAX_PUNY)
		return rdm_fail(r);
	for (size_t k = 0; k < id->ascii_len; k++)
		cps[ncp++] = (unsigned char)id->ascii[k];
	while (at < id->puny_len) {
		uint64_t oldi = i, w = 1;

		for (uint64_t k = 36;; k += 36) {
			char c;
			uint64_t digit, t;

			if (at >= id->puny_len)
				return rdm_fail(r);
			c = id->puny[at++];
			if (c >= 'a' && c <= 'z')
				digit = (uint64_t)(c - 'a');
			else if (c >= '0' && c <= '9')
				digit = (uint64_t)(c - '0') + 26;
			else
				return rdm_fail(r);
			if (w && digit > (UINT32_MAX - i) / w)
				return rdm_fail(r);
			i += digit * w;
			t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
			if (digit < t)
				break;
			if (w > UINT32_MAX / (36 - t))
				return rdm_fail(r);
			w *= 36 - t;
		}
		if (ncp >= RDM_MAX_PUNY)
			return rdm_fail(r);
		bias = rdm_puny_adapt(i - oldi, ncp + 1, oldi == 0);
		n += i / (ncp + 1);
		i %= ncp + 1;
		if (!rdm_valid_char(n) || n < 0x80)
			return rdm_fail(r);
		memmove(&cps[i + 1], &cps[i], (ncp - i) * sizeof(cps[0]));
		cps[i] = (uint32_t)n;
		ncp++;
		i++;
	}
	for (size_t k = 0; k < ncp; k++)
		if (!rdm_put_utf8(r, cps[k]))
			return false;
	return true;
}

static bool rdm_print_ident(struct rdm *r, const struct rdm_ident *id)
{
	if (r->skip)
		return !r->err;
	if (id->puny)
		return rdm_print_puny(r, id);
	return rdm_emit(r, id->ascii, id->ascii_len);
}

/* 'a, 'b, ... for lifetimes bound by the binders around; '_ for erased. */
static bool rdm_print_lifetime(struct rdm *r, uint64_t lt)
{
	uint64_t d;

	if (!rdm_puts(r, "'"))
		return false;
	if (lt == 0)
		return rdm_puts(r, "_");
	if (lt > r->bound_lts)
		return rdm_fail(r);
	d = r->bound_lts - lt;
	if (d < 26) {
		char c = (char)('a' + d);

		return rdm_emit(r, &c, 1);
	}
	return rdm_puts(r, "_") && rdm_put_u64(r, d);
}

static bool rdm_path(struct rdm *r, bool in_value);
static bool rdm_type(struct rdm *r);
static bool rdm_const(struct rdm *r);

static bool rdm_enter(struct rdm *r)
{
	if (r->err || ++r->depth > RDM_MAX_DEPTH)
		return rdm_fail(r);
	return true;
}

static bool rdm_leave(struct rdm *r)
{
	r->depth--;
	return !r->err;
}

typedef bool (*rdm_fn)(struct rdm *r, bool flag, bool *ret);

/* A back-reference (its "B" already read): parse the earlier part again
 * at its position.  Nothing to do while printing is suppressed. */
static bool rdm_backref(struct rdm *r, rdm_fn fn, bool flag, bool *ret)
{
	size_t at = r->pos - 1, saved;
	uint64_t target;
	bool ok;

	if (!rdm_base62(r, &target))
		return false;
	if (target >= at)
		return rdm_fail(r);
	if (r->skip)
		return true;
	if (!rdm_enter(r))
		return false;
	saved = r->pos;
	r->pos = (size_t)target;
	ok = fn(r, flag, ret);
	r->pos = saved;
	return ok && rdm_leave(r);
}

static bool rdm_path_fn(struct rdm *r, bool in_value, bool *ret)
{
	return rdm_path(r, in_value);
}

static bool rdm_type_fn(struct rdm *r, bool unused, bool *ret)
{
	return rdm_type(r);
}

static bool rdm_const_fn(struct rdm *r, bool unused, bool *ret)
{
	return rdm_const(r);
}

static bool rdm_generic_args(struct rdm *r)
{
	for (size_t i = 0; !rdm_eat(r, 'E'); i++) {
		if (r->err || (i && !rdm_puts(r, ", ")))
			return false;
		if (rdm_eat(r, 'L')) {
			uint64_t lt;

			if (!rdm_base62(r, &lt) || !rdm_print_lifetime(r, lt))
				return false;
		} else if (rdm_eat(r, 'K')) {
			if (!rdm_const(r))
				return false;
		} else if (!rdm_type(r)) {
			return false;
		}
	}
	return !r->err;
}

static bool rdm_path(struct rdm *r, bool in_value)
{
	struct rdm_ident id;
	uint64_t dis;
	char tag, ns;
	bool unused;

	if (!rdm_enter(r))
		return false;
	tag = rdm_next(r);
	switch (tag) {
	case 'C':
		if (!rdm_ident(r, &id, &dis) || !rdm_print_ident(r, &id))
			return false;
		break;
	case 'N':
		ns = rdm_next(r);
		if (!((ns >= 'a' && ns <= 'z') || (ns >= 'A' && ns <= 'Z')))
			return rdm_fail(r);
		if (!rdm_path(r, in_value) || !rdm_ident(r, &id, &dis))
			return false;
		if (ns >= 'A' && ns <= 'Z') {
			/* Special namespaces: closures and shims print as
			 * {closure#N} or {closure:name#N}. */
			if (!rdm_puts(r, "::{"))
				return false;
			if (ns == 'C')
				rdm_puts(r, "closure");
			else if (ns == 'S')
				rdm_puts(r, "shim");
			else
				rdm_emit(r, &ns, 1);
			if (!rdm_ident_empty(&id) && (!rdm_puts(r, ":") || !rdm_print_ident(r, &id)))
				return false;
			if (!rdm_puts(r, "#") || !rdm_put_u64(r, dis) || !rdm_puts(r, "}"))
				return false;
		} else if (!rdm_ident_empty(&id)) {
			if (!rdm_puts(r, "::") || !rdm_print_ident(r, &id))
				return false;
		}
		break;
	case 'M':
	case 'X':
	case 'Y':
		if (tag != 'Y') {
			/* The impl's own path is not printed. */
			if (!rdm_opt_base62(r, 's', &dis))
				return false;
			r->skip++;
			rdm_path(r, false);
			r->skip--;
		}
		if (!rdm_puts(r, "<") || !rdm_type(r))
			return false;
		if (tag != 'M' && (!rdm_puts(r, " as ") || !rdm_path(r, false)))
			return false;
		if (!rdm_puts(r, ">"))
			return false;
		break;
	case 'I':
		if (!rdm_path(r, in_value))
			return false;
		if (in_value && !rdm_puts(r, "::"))
			return false;
		if (!rdm_puts(r, "<") || !rdm_generic_args(r) || !rdm_puts(r, ">"))
			return false;
		break;
	case 'B':
		if (!rdm_backref(r, rdm_path_fn, in_value, &unused))
			return false;
		break;
	default:
		return rdm_fail(r);
	}
	return rdm_leave(r);
}

static const char *rdm_basic_type(char c)
{
	switch (c) {
	case 'a': return "i8";
	case 'b': return "bool";
	case 'c': return "char";
	case 'd': return "f64";
	case 'e': return "str";
	case 'f': return "f32";
	case 'h': return "u8";
	case 'i': return "isize";
	case 'j': return "usize";
	case 'l': return "i32";
	case 'm': return "u32";
	case 'n': return "i128";
	case 'o': return "u128";
	case 'p': return "_";
	case 's': return "i16";
	case 't': return "u16";
	case 'u': return "()";
	case 'v': return "...";
	case 'x': return "i64";
	case 'y': return "u64";
	case 'z': return "!";
	default: return NULL;
	}
}

/* binder = "G" base62: that many lifetimes, printed "for<'a, 'b> ".  The
 * caller parses what the binder scopes, then calls rdm_binder_end. */
static bool rdm_binder_begin(struct rdm *r, uint64_t *nb)
{
	if (!rdm_opt_base62(r, 'G', nb))
		return false;
	if (*nb == 0)
		return true;
	if (*nb > RDM_MAX_BINDER || !rdm_puts(r, "for<"))
		return rdm_fail(r);
	for (uint64_t i = 0; i < *nb; i++) {
		if (i && !rdm_puts(r, ", "))
			return false;
		r->bound_lts++;
		if (!rdm_print_lifetime(r, 1))
			return false;
	}
	return rdm_puts(r, "> ");
}

static void rdm_binder_end(struct rdm *r, uint64_t nb)
{
	r->bound_lts -= nb;
}

static bool rdm_fn_sig(struct rdm *r)
{
	struct rdm_ident abi;
	uint64_t nb, dis;
	bool is_unsafe, ok = true;

	if (!rdm_binder_begin(r, &nb))
		return false;
	is_unsafe = rdm_eat(r, 'U');
	if (is_unsafe && !rdm_puts(r, "unsafe "))
		goto out;
	if (rdm_eat(r, 'K')) {
		if (!rdm_puts(r, "extern \""))
			goto out;
		if (rdm_eat(r, 'C')) {
			rdm_puts(r, "C");
		} else {
			if (!rdm_ident(r, &abi, &dis) || abi.puny)
				goto bad;
			/* ABI names are written with '_' for '-'. */
			for (size_t i = 0; i < abi.ascii_len; i++) {
				char c = abi.ascii[i] == '_' ? '-' : abi.ascii[i];

				rdm_emit(r, &c, 1);
			}
		}
		if (!rdm_puts(r, "\" "))
			goto out;
	}
	if (!rdm_puts(r, "fn("))
		goto out;
	for (size_t i = 0; !rdm_eat(r, 'E'); i++)
		if (r->err || (i && !rdm_puts(r, ", ")) || !rdm_type(r))
			goto out;
	if (!rdm_puts(r, ")"))
		goto out;
	if (!rdm_eat(r, 'u') && (!rdm_puts(r, " -> ") || !rdm_type(r)))
		goto out;
	goto out;
bad:
	rdm_fail(r);
out:
	ok = !r->err;
	rdm_binder_end(r, nb);
	return ok;
}

/* A trait path, its generic list left open ("Trait<T") when it has one, so
 * associated-type bindings can join it; *open says whether it is. */
static bool rdm_path_open_generics(struct rdm *r, bool unused, bool *open)
{
	*open = false;
	if (rdm_eat(r, 'B'))
		return rdm_backref(r, rdm_path_open_generics, false, open);
	if (rdm_eat(r, 'I')) {
		if (!rdm_enter(r))
			return false;
		if (!rdm_path(r, false) || !rdm_puts(r, "<") || !rdm_generic_args(r))
			return false;
		*open = true;
		return rdm_leave(r);
	}
	return rdm_path(r, false);
}

static bool rdm_dyn_bounds(struct rdm *r)
{
	struct rdm_ident id;
	uint64_t nb, dis;
	bool ok = true;

	if (!rdm_binder_begin(r, &nb))
		return false;
	for (size_t i = 0; ok && !rdm_eat(r, 'E'); i++) {
		bool open = false;

		if (r->err || (i && !rdm_puts(r, " + ")) || !rdm_path_open_generics(r, false, &open)) {
			ok = false;
			break;
		}
		/* Associated type bindings: Trait<Item = T>. */
		while (ok && rdm_eat(r, 'p')) {
			ok = rdm_puts(r, open ? ", " : "<") && rdm_ident(r, &id, &dis) &&
			     rdm_print_ident(r, &id) && rdm_puts(r, " = ") && rdm_type(r);
			open = true;
		}
		if (ok && open)
			ok = rdm_puts(r, ">");
	}
	rdm_binder_end(r, nb);
	return ok && !r->err;
}

static bool rdm_type(struct rdm *r)
{
	const char *basic;
	uint64_t lt;
	bool unused;
	char tag;

	if (!rdm_enter(r))
		return false;
	tag = rdm_next(r);
	if (r->err)
		return false;
	basic = rdm_basic_type(tag);
	if (basic) {
		rdm_puts(r, basic);
		return rdm_leave(r);
	}
	switch (tag) {
	case 'R':
	case 'Q':
		rdm_puts(r, "&");
		if (rdm_eat(r, 'L')) {
			if (!rdm_base62(r, &lt))
				return false;
			if (lt && (!rdm_print_lifetime(r, lt) || !rdm_puts(r, " ")))
				return false;
		}
		if (tag == 'Q')
			rdm_puts(r, "mut ");
		rdm_type(r);
		break;
	case 'P':
		rdm_puts(r, "*const ");
		rdm_type(r);
		break;
	case 'O':
		rdm_puts(r, "*mut ");
		rdm_type(r);
		break;
	case 'A':
		rdm_puts(r, "[");
		if (rdm_type(r) && rdm_puts(r, "; ") && rdm_const(r))
			rdm_puts(r, "]");
		break;
	case 'S':
		rdm_puts(r, "[");
		if (rdm_type(r))
			rdm_puts(r, "]");
		break;
	case 'T': {
		size_t i;

		rdm_puts(r, "(");
		for (i = 0; !rdm_eat(r, 'E'); i++)
			if (r->err || (i && !rdm_puts(r, ", ")) || !rdm_type(r))
				return false;
		rdm_puts(r, i == 1 ? ",)" : ")");
		break;
	}
	case 'F':
		rdm_fn_sig(r);
		break;
	case 'D':
		rdm_puts(r, "dyn ");
		if (!rdm_dyn_bounds(r))
			return false;
		if (!rdm_eat(r, 'L') || !rdm_base62(r, &lt))
			return rdm_fail(r);
		if (lt && (!rdm_puts(r, " + ") || !rdm_print_lifetime(r, lt)))
			return false;
		break;
	case 'B':
		rdm_backref(r, rdm_type_fn, false, &unused);
		break;
	default:
		r->pos--;
		rdm_path(r, false);
		break;
	}
	return rdm_leave(r);
}

/* const-data = ["n"] {hex} "_" (the "n" read by the caller): the value in
 * decimal, or as 0x... when it does not fit 64 bits. */
static bool rdm_const_uint(struct rdm *r, uint64_t *value, bool print)
{
	size_t start = r->pos, nd;
	uint64_t v = 0;

	while (rdm_peek(r) != '_') {
		char c = rdm_next(r);

		if (r->err)
			return false;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return rdm_fail(r);
		v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	nd = r->pos - start;
	r->pos++; /* the '_' */
	if (nd > 16) {
		if (value)
			return rdm_fail(r);
		return !print || (rdm_puts(r, "0x") && rdm_emit(r, r->s + start, nd));
	}
	if (value)
		*value = v;
	return !print || rdm_put_u64(r, v);
}

static bool rdm_const(struct rdm *r)
{
	uint64_t v;
	bool unused;
	char tag;

	if (!rdm_enter(r))
		return false;
	tag = rdm_next(r);
	switch (tag) {
	case 'B':
		rdm_backref(r, rdm_const_fn, false, &unused);
		break;
	case 'p':
		rdm_puts(r, "_");
		break;
	case 'h': case 't': case 'm': case 'y': case 'o': case 'j':
		rdm_const_uint(r, NULL, true);
		break;
	case 'a': case 's': case 'l': case 'x': case 'n': case 'i':
		if (rdm_eat(r, 'n'))
			rdm_puts(r, "-");
		rdm_const_uint(r, NULL, true);
		break;
	case 'b':
		if (rdm_const_uint(r, &v, false)) {
			if (v > 1)
				return rdm_fail(r);
			rdm_puts(r, v ? "true" : "false");
		}
		break;
	case 'c':
		if (rdm_const_uint(r, &v, false)) {
			if (!rdm_valid_char(v))
				return rdm_fail(r);
			rdm_puts(r, "'");
			if (v == '\'' || v == '\\') {
				char e[2] = { '\\', (char)v };

				rdm_emit(r, e, 2);
			} else if (v == '\n') {
				rdm_puts(r, "\\n");
			} else if (v == '\t') {
				rdm_puts(r, "\\t");
			} else if (v == '\r') {
				rdm_puts(r, "\\r");
			} else if (v < 0x20 || v == 0x7f) {
				char e[16];
				static const char hex[] = "0123456789abcdef";

				memcpy(e, "\\u{", 3);
				e[3] = hex[v >> 4 & 0xf];
				e[4] = hex[v & 0xf];
				e[5] = '}';
				rdm_emit(r, e, 6);
			} else {
				rdm_put_utf8(r, (uint32_t)v);
			}
			rdm_puts(r, "'");
		}
		break;
	default:
		/* Constants of other types (str, arrays, structs) are unstable
		 * Rust; not decoded. */
		return rdm_fail(r);
	}
	return rdm_leave(r);
}

char *demangle_rust_v0(const char *sym)
{
	struct rdm r;
	size_t n;

	if (!sym || strncmp(sym, "_R", 2) != 0)
		return NULL;
	memset(&r, 0, sizeof(r));
	r.s = sym + 2;
	n = strnlen(r.s, RDM_MAX_SYMBOL + 1);
	if (n > RDM_MAX_SYMBOL)
		return NULL;
	/* v0 symbols are [A-Za-z0-9_]; a '.' or '$' starts a vendor suffix
	 * (".llvm.1234"), which is dropped; anything else is not v0. */
	for (r.n = 0; r.n < n; r.n++) {
		char c = r.s[r.n];

		if (c == '.' || c == '$')
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return NULL;
	}
	/* A leading decimal would be an encoding version; none is defined. */
	if (r.n == 0 || (r.s[0] >= '0' && r.s[0] <= '9'))
		return NULL;
	if (rdm_path(&r, true) && r.pos < r.n && rdm_peek(&r) >= 'A' && rdm_peek(&r) <= 'Z') {
		/* The instantiating crate: parsed, not printed. */
		r.skip++;
		rdm_path(&r, false);
		r.skip--;
	}
	if (r.err || r.pos != r.n || !rdm_emit(&r, "", 0) || r.len == 0) {
		free(r.out);
		return NULL;
	}
	r.out[r.len] = '\0';
	return r.out;
}

/* ------------------------------------------------------------------ */
/* Legacy: _ZN {decimal bytes} E, the last element "h" + 16 hex digits. */

#define RDM_LEGACY_MAX_ELEMS 256

struct rdm_elem {
	const char *p;
	size_t len;
};

static bool rdm_is_hash(const struct rdm_elem *e)
{
	if (e->len != 17 || e->p[0] != 'h')
		return false;
	for (size_t i = 1; i < 17; i++) {
		char c = e->p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static int rdm_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One element with Rust's escapes undone: "$LT$" -> "<", "$u7b$" -> "{",
 * ".." -> "::", and a leading "_$" -> "$". */
static bool rdm_legacy_elem(struct rdm *r, const struct rdm_elem *e)
{
	static const struct {
		const char *code, *text;
	} esc[] = {
		{ "SP", "@" }, { "BP", "*" }, { "RF", "&" }, { "LT", "<" }, { "GT", ">" },
		{ "LP", "(" }, { "RP", ")" }, { "C", "," },
	};
	const char *p = e->p, *end = e->p + e->len;

	if (e->len >= 2 && p[0] == '_' && p[1] == '$')
		p++;
	while (p < end) {
		if (*p == '.') {
			bool two = p + 1 < end && p[1] == '.';

			if (!rdm_puts(r, two ? "::" : "."))
				return false;
			p += two ? 2 : 1;
		} else if (*p == '$') {
			const char *close = memchr(p + 1, '$', (size_t)(end - p - 1));
			size_t clen;
			size_t i;

			if (!close)
				return rdm_fail(r);
			clen = (size_t)(close - p - 1);
			for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++)
				if (strlen(esc[i].code) == clen && !memcmp(p + 1, esc[i].code, clen))
					break;
			if (i < sizeof(esc) / sizeof(esc[0])) {
				if (!rdm_puts(r, esc[i].text))
					return false;
			} else if (clen >= 2 && clen <= 7 && p[1] == 'u') {
				uint32_t c = 0;

				for (const char *h = p + 2; h < close; h++) {
					int d = rdm_hexval(*h);

					if (d < 0)
						return rdm_fail(r);
					c = c << 4 | (uint32_t)d;
				}
				if (!rdm_valid_char(c) || !rdm_put_utf8(r, c))
					return rdm_fail(r);
			} else {
				return rdm_fail(r);
			}
			p = close + 1;
		} else {
			const char *q = p;

			while (q < end && *q != '$' && *q != '.')
				q++;
			if (!rdm_emit(r, p, (size_t)(q - p)))
				return false;
			p = q;
		}
	}
	return true;
}

char *demangle_rust_legacy(const char *sym)
{
	struct rdm_elem el[RDM_LEGACY_MAX_ELEMS];
	size_t nel = 0, n;
	const char *p, *end;
	struct rdm r;

	if (!sym || strncmp(sym, "_ZN", 3) != 0)
		return NULL;
	n = strnlen(sym, RDM_MAX_SYMBOL + 1);
	if (n > RDM_MAX_SYMBOL)
		return NULL;
	p = sym + 3;
	end = sym + n;
	while (p < end && *p != 'E') {
		uint64_t len = 0;

		if (*p < '1' || *p > '9' || nel == RDM_LEGACY_MAX_ELEMS)
			return NULL;
		while (p < end && *p >= '0' && *p <= '9') {
			len = len * 10 + (uint64_t)(*p++ - '0');
			if (len > RDM_MAX_SYMBOL)
				return NULL;
		}
		if (len > (uint64_t)(end - p))
			return NULL;
		el[nel].p = p;
		el[nel].len = (size_t)len;
		nel++;
		p += len;
	}
	/* After the 'E' only a vendor suffix (".llvm.1234") may follow. */
	if (p >= end || (p + 1 < end && p[1] != '.'))
		return NULL;
	if (nel < 2 || !rdm_is_hash(&el[nel - 1]))
		return NULL;
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i + 1 < nel; i++)
		if ((i && !rdm_puts(&r, "::")) || !rdm_legacy_elem(&r, &el[i]))
			break;
	if (r.err || !rdm_emit(&r, "", 0) || r.len == 0) {
		free(r.out);
		return NULL;
	}
	r.out[r.len] = '\0';
	return r.out;
}

char *demangle_rust(const char *sym)
{
	if (!sym)
		return NULL;
	if (!strncmp(sym, "_R", 2))
		return demangle_rust_v0(sym);
	return demangle_rust_legacy(sym);
}
