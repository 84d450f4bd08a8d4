/* test_textesc.c - target strings made safe to show (textesc.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pprobe/textesc.h"

static const char *put(const char *s, size_t max, bool quoted)
{
	static char out[256];
	FILE *f;

	memset(out, 0, sizeof(out));
	f = fmemopen(out, sizeof(out), "w");

	textesc_put(f, s, max, quoted);
	fclose(f);
	return out;
}

static const char *put_shell(const char *s)
{
	static char out[256];
	FILE *f;

	memset(out, 0, sizeof(out));
	f = fmemopen(out, sizeof(out), "w");
	textesc_put_shell(f, s);
	fclose(f);
	return out;
}

int main(void)
{
	char buf[32];

	/* OSC 0 (window title) ended by BEL, CSI, a C1 CSI, a lone byte. */
	CHECK_EQ_STR(put("a\033]0;x\007b", 100, false), "a\\x1b]0;x\\x07b");
	CHECK_EQ_STR(put("\xc2\x9b" "31m\x9b\x7f", 100, false), "\\xc2\\x9b31m\\x9b\\x7f");
	CHECK_EQ_STR(put("l\xc3\xa9o \xe2\x82\xac\n\t", 100, false), "l\xc3\xa9o \xe2\x82\xac\\n\\t");
	CHECK_EQ_STR(put("\"q\\", 100, true), "\\\"q\\\\");
	CHECK_EQ_STR(put("abcdef", 3, false), "abc");
	CHECK_EQ_STR(put(NULL, 3, false), "");
	/* Cut before an escape or a character that does not fit whole. */
	CHECK_EQ_STR(textesc_str(buf, 6, "ab\033cd"), "ab");
	CHECK_EQ_STR(textesc_str(buf, 7, "ab\033cd"), "ab\\x1b");
	CHECK_EQ_STR(textesc_str(buf, 4, "a\xe2\x82\xac"), "a");
	CHECK_EQ_STR(textesc_str(buf, 5, "a\xe2\x82\xac"), "a\xe2\x82\xac");
	CHECK_EQ_STR(textesc_filename(buf, sizeof(buf), "b\033]0;x/y z.-_\xc3\xa9"), "b__0_x_y_z.-___");
	CHECK_EQ_STR(textesc_filename(buf, 4, "abcdef"), "abc");
	CHECK_EQ_STR(put_shell("/tmp/pprobe.x.1.cpu.pb.gz"), "/tmp/pprobe.x.1.cpu.pb.gz");
	CHECK_EQ_STR(put_shell("a b"), "'a b'");
	CHECK_EQ_STR(put_shell("it's"), "'it'\\''s'");
	CHECK_EQ_STR(put_shell("$x\033"), "'$x\\x1b'");
	CHECK_EQ_STR(put_shell(""), "''");
	return check_done();
}
