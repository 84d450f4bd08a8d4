/* textesc.h - strings the target controls, made safe to show.
 *
 * Thread and process names, symbol and file names, perf-map names: a
 * hostile target chooses every byte of them, and an escape sequence that
 * reaches a terminal can retitle a window, move the cursor, rewrite what
 * was printed, or (on some terminals) answer with input.  Every
 * human-facing output passes such strings through here: control
 * characters (C0, DEL, C1) and bytes that are not valid UTF-8 become \n,
 * \t or \xNN; other valid UTF-8 text is kept as it is.  File names made
 * from them keep [A-Za-z0-9._-] only.
 *
 * Pure: no state, no allocation.
 */
#ifndef PPROBE_TEXTESC_H
#define PPROBE_TEXTESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (n bytes available, n > 0), or 0
 * when the bytes there are not one: overlong forms, surrogates and code
 * points above U+10FFFF are invalid (RFC 3629). */
size_t textesc_utf8_len(const unsigned char *s, size_t n);

/* Print at most max bytes of s (NULL: nothing) escaped as above; with
 * quoted, '"' and '\' are escaped too, so the text can sit between double
 * quotes. */
void textesc_put(FILE *out, const char *s, size_t max, bool quoted);

/* s escaped as above into buf (size > 0; always terminated), cut before
 * the first character or escape that does not fit whole.  Returns buf. */
char *textesc_str(char *buf, size_t size, const char *s);

/* s for a file name into buf (size > 0; always terminated, cut to fit):
 * every byte outside [A-Za-z0-9._-] becomes '_'. Returns buf. */
char *textesc_filename(char *buf, size_t size, const char *s);

/* s as one word a user can paste into a shell: as is when every byte is in
 * [A-Za-z0-9._/+:@,=-], else between single quotes (a ' as '\'') with
 * control bytes escaped as textesc_put does (safe on a terminal, though no
 * longer the same name). */
void textesc_put_shell(FILE *out, const char *s);

#endif
