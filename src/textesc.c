/* textesc.c - strings the target controls, made safe to show (see textesc.h). */
#include <stdint.h>
#include <string.h>

#include "pprobe/textesc.h"

size_t textesc_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The next piece of u (n > 0 bytes left): either an escape written into
 * esc (returns 1 input byte consumed, *raw = false), or k bytes to copy as
 * they are (*raw = true). */
static size_t textesc_next(const unsigned char *u, size_t n, bool quoted, char esc[8], bool *raw)
{
	unsigned char c = u[0];
	size_t k = textesc_utf8_len(u, n);

	/* C1 controls (U+0080..U+009F) are valid UTF-8 but act as controls
	 * on terminals that honour them: escaped byte by byte. */
	if (k == 2 && c == 0xc2 && u[1] < 0xa0)
		k = 0;
	*raw = false;
	if (c == '\n') {
		memcpy(esc, "\\n", 3);
	} else if (c == '\t') {
		memcpy(esc, "\\t", 3);
	} else if (c < 0x20 || c == 0x7f || k == 0) {
		static const char hex[] = "0123456789abcdef";

		esc[0] = '\\', esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15], esc[4] = 0;
	} else if (quoted && (c == '"' || c == '\\')) {
		esc[0] = '\\', esc[1] = (char)c, esc[2] = 0;
	} else {
		*raw = true;
		return k;
	}
	return 1;
}

void textesc_put(FILE *out, const char *s, size_t max, bool quoted)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strnlen((const char *)u, max), i = 0, k;
	char esc[8];
	bool raw;

	while (i < n) {
		k = textesc_next(u + i, n - i, quoted, esc, &raw);
		if (raw)
			fwrite(u + i, 1, k, out);
		else
			fputs(esc, out);
		i += k;
	}
}

void textesc_put_shell(FILE *out, const char *s)
{
	const char *p = s ? s : "";

	if (*p && strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "._/+:@,=-") == strlen(p)) {
		fputs(p, out);
		return;
	}
	fputc('\'', out);
	for (const char *q; (q = strchr(p, '\'')); p = q + 1) {
		textesc_put(out, p, (size_t)(q - p), false);
		fputs("'\\''", out);
	}
	textesc_put(out, p, SIZE_MAX, false);
	fputc('\'', out);
}

char *textesc_str(char *buf, size_t size, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)u), i = 0, o = 0, k, m;
	char esc[8];
	bool raw;

	while (i < n) {
		k = textesc_next(u + i, n - i, false, esc, &raw);
		m = raw ? k : strlen(esc);
		if (o + m >= size)
			break;
		memcpy(buf + o, raw ? (const char *)u + i : esc, m);
		o += m;
		i += k;
	}
	buf[o] = '\0';
	return buf;
}

char *textesc_filename(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 1 < size; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';

		buf[o++] = ok ? c : '_';
	}
	buf[o] = '\0';
	return buf;
}
