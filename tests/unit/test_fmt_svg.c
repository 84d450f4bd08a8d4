/* test_fmt_svg.c - the SVG flame graph: well-formed XML (checked by
 * python3's parser), merged and inlined frames, layout, escaping of hostile
 * names, module colours, durations, pruning of tiny frames, the depth cap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/error.h"
#include "pprobe/fmt_svg.h"
#include "pprobe/profile.h"

#define PERIOD 10000000 /* ns per sample */
#define HOSTILE "a<b>&\"c'"
#define HOSTILE_XML "a&lt;b&gt;&amp;&quot;c&#39;"
#define CONTROL "ctl\001x\377"
#define CONTROL_XML "ctl\xef\xbf\xbdx\xef\xbf\xbd"

/* What the SVG says about one frame (found by its escaped name). */
struct frame_info {
	int count; /* <g> elements with this name */
	char module[64];
	long long v, x;
	int d;
	int r, g, b;
	char title[256];
	char text[256];
};

/* Add count samples (values count and count * PERIOD) of a stack. */
static int add(struct profile *p, const uint64_t *leaf_first, size_t n, int64_t count)
{
	int64_t v[] = { count, count * PERIOD };

	return profile_add_sample(p, leaf_first, n, v, NULL, 0);
}

static int add_types(struct profile *p)
{
	int rc = profile_add_sample_type(p, "samples", "count");

	return rc ? rc : profile_add_sample_type(p, "cpu", "nanoseconds");
}

/* Root first, with value in samples (x, in cpu ns, in brackets):
 *   main;caller;inlined_fn     800  one location: inlined_fn inlined into caller
 *   main;caller;a<b>&"c'       600  [0]  in libfoo.so
 *   main                       200  a second location of main: merges
 *   main;libfoo.so+0x2f00      200  a location without lines
 *   main;nomap_fn              100  no mapping: grey
 *   main;ctl\1x\377             99  a control byte and bad UTF-8
 *   main;tiny                    1  0.05% of 2000: not written */
static struct profile *build(void)
{
	struct profile *p = profile_new();
	struct profile_frame inl[] = {
		{ .name = "inlined_fn", .file = "a.c", .line = 10 },
		{ .name = "caller", .file = "a.c", .line = 20 },
	};
	struct profile_frame caller = { .name = "caller" }, main_ = { .name = "main" };
	struct profile_frame hostile = { .name = HOSTILE }, control = { .name = CONTROL };
	struct profile_frame nomap = { .name = "nomap_fn" }, tiny = { .name = "tiny" };
	uint64_t prog, lib, l_inl, l_caller, l_main, l_main2, l_hostile, l_control, l_raw, l_nomap,
		l_tiny;
	int rc;

	if (!p)
		return NULL;
	rc = add_types(p);
	rc = rc ? rc : profile_add_mapping(p, 0x400000, 0x500000, 0, "/usr/bin/prog", NULL, true,
					   &prog);
	rc = rc ? rc : profile_add_mapping(p, 0x7000, 0x9000, 0x2000, "/usr/lib/libfoo.so", NULL,
					   true, &lib);
	rc = rc ? rc : profile_add_location(p, prog, 0x401000, inl, 2, &l_inl);
	rc = rc ? rc : profile_add_location(p, prog, 0x401100, &caller, 1, &l_caller);
	rc = rc ? rc : profile_add_location(p, prog, 0x401200, &main_, 1, &l_main);
	rc = rc ? rc : profile_add_location(p, prog, 0x401300, &main_, 1, &l_main2);
	rc = rc ? rc : profile_add_location(p, lib, 0x7100, &hostile, 1, &l_hostile);
	rc = rc ? rc : profile_add_location(p, lib, 0x7200, &control, 1, &l_control);
	rc = rc ? rc : profile_add_location(p, lib, 0x7f00, NULL, 0, &l_raw);
	rc = rc ? rc : profile_add_location(p, 0, 0xdead, &nomap, 1, &l_nomap);
	rc = rc ? rc : profile_add_location(p, prog, 0x401400, &tiny, 1, &l_tiny);
	rc = rc ? rc : add(p, (uint64_t[]){ l_inl, l_main }, 2, 800);
	rc = rc ? rc : add(p, (uint64_t[]){ l_hostile, l_caller, l_main }, 3, 600);
	rc = rc ? rc : add(p, (uint64_t[]){ l_main2 }, 1, 200);
	rc = rc ? rc : add(p, (uint64_t[]){ l_raw, l_main }, 2, 200);
	rc = rc ? rc : add(p, (uint64_t[]){ l_nomap, l_main }, 2, 100);
	rc = rc ? rc : add(p, (uint64_t[]){ l_control, l_main }, 2, 99);
	rc = rc ? rc : add(p, (uint64_t[]){ l_tiny, l_main }, 2, 1);
	if (rc) {
		fprintf(stderr, "build: %s\n", error_str(rc));
		profile_free(p);
		return NULL;
	}
	return p;
}

/* Write the flame graph of p (value vi) to a new temporary file; returns
 * its contents (caller frees) and the path in path, or NULL. */
static char *render(const struct profile *p, int vi, const char *title, char *path, size_t size,
		    int *rc)
{
	const char *tmp = getenv("TMPDIR");
	char *buf = NULL;
	long len;
	FILE *f;
	int fd;

	snprintf(path, size, "%s/test_fmt_svg.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w+"))) {
		perror("render: temporary file");
		*rc = -errno;
		return NULL;
	}
	*rc = fmt_svg_flamegraph(p, vi, title, f);
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len + 1)) != NULL) {
		if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else {
			buf[len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* Is the file well-formed XML?  Asks python3's parser, as a reader would. */
static int xml_well_formed(const char *path)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' '%s'",
		 path);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Copy the text between from and the next stop character into out. */
static void copy_until(const char *from, const char *stop, char *out, size_t size)
{
	size_t n = strcspn(from, stop);

	if (n >= size)
		n = size - 1;
	memcpy(out, from, n);
	out[n] = '\0';
}

/* Find the frames named xml_name (as escaped in the file) and read the
 * first one's attributes, fill colour, tooltip and label. */
static struct frame_info frame(const char *svg, const char *xml_name)
{
	struct frame_info fi;
	char key[300];
	const char *s, *first = NULL, *q;

	memset(&fi, 0, sizeof(fi));
	fi.d = -1;
	snprintf(key, sizeof(key), "<g class=\"frame\" data-name=\"%s\" ", xml_name);
	for (s = strstr(svg, key); s; s = strstr(s + 1, key)) {
		if (!first)
			first = s;
		fi.count++;
	}
	if (!first)
		return fi;
	s = first + strlen(key);
	if (sscanf(s, "data-module=\"%63[^\"]\"", fi.module) != 1)
		fi.module[0] = '\0';
	q = strstr(s, "data-v=\"");
	if (q)
		sscanf(q, "data-v=\"%lld\" data-x=\"%lld\" data-d=\"%d\"", &fi.v, &fi.x, &fi.d);
	q = strstr(s, "<title>");
	if (q)
		copy_until(q + 7, "<", fi.title, sizeof(fi.title));
	q = strstr(s, "fill=\"rgb(");
	if (q)
		sscanf(q, "fill=\"rgb(%d,%d,%d)", &fi.r, &fi.g, &fi.b);
	q = strstr(s, "<text ");
	if (q && (q = strchr(q, '>')))
		copy_until(q + 1, "<", fi.text, sizeof(fi.text));
	return fi;
}

static void test_graph(void)
{
	struct profile *p = build();
	struct frame_info fi, main_, caller, inl, host, raw, nomap, ctl, root;
	char path[512];
	char *svg;
	int rc;

	CHECK(p != NULL);
	if (!p)
		return;
	svg = render(p, 1, "test <title> & \"more\"", path, sizeof(path), &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK(svg != NULL);
	if (!svg)
		goto out;
	CHECK(xml_well_formed(path));
	CHECK(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36) == 0);
	CHECK(strstr(svg, "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\"") != NULL);
	CHECK(strstr(svg, "data-total=\"20000000000\"") != NULL);
	CHECK(strstr(svg, "test &lt;title&gt; &amp; &quot;more&quot; \xe2\x80\x94 cpu</text>") !=
	      NULL);

	/* Self-contained and interactive: inline style and script, no links. */
	CHECK(strstr(svg, "<style type=\"text/css\"><![CDATA[") != NULL);
	CHECK(strstr(svg, "<script type=\"text/ecmascript\"><![CDATA[") != NULL);
	CHECK(strstr(svg, "window.pprobeSearch = search;") != NULL);
	CHECK(strstr(svg, "window.pprobeZoom = zoom;") != NULL);
	CHECK(strstr(svg, "id=\"search\" class=\"ctl\"") != NULL);
	CHECK(strstr(svg, ">Reset zoom</text>") != NULL);
	CHECK(strstr(svg, "id=\"details\"") != NULL);
	CHECK(strstr(svg, "href") == NULL);
	CHECK(strstr(svg, "http://") == strstr(svg, "http://www.w3.org/2000/svg\""));
	CHECK(strstr(svg, "@import") == NULL);

	root = frame(svg, "all");
	CHECK_EQ_INT(root.count, 1);
	CHECK_EQ_INT(root.d, 0);
	CHECK_EQ_INT(root.v, 2000LL * PERIOD);
	CHECK_EQ_STR(root.title, "all \xe2\x80\x94 20.00s, 100.00%");

	/* Two locations of main merge into one frame. */
	main_ = frame(svg, "main");
	CHECK_EQ_INT(main_.count, 1);
	CHECK_EQ_INT(main_.d, 1);
	CHECK_EQ_INT(main_.x, 0);
	CHECK_EQ_INT(main_.v, 2000LL * PERIOD);
	CHECK_EQ_STR(main_.module, "prog");
	CHECK_EQ_STR(main_.title, "main (prog) \xe2\x80\x94 20.00s, 100.00%");
	CHECK_EQ_STR(main_.text, "main");

	/* caller from the inlined location and from its own merge; the
	 * inlined function is a box of its own above it. */
	caller = frame(svg, "caller");
	CHECK_EQ_INT(caller.count, 1);
	CHECK_EQ_INT(caller.d, 2);
	CHECK_EQ_INT(caller.x, 0);
	CHECK_EQ_INT(caller.v, 1400LL * PERIOD);
	inl = frame(svg, "inlined_fn");
	CHECK_EQ_INT(inl.count, 1);
	CHECK_EQ_INT(inl.d, 3);
	CHECK_EQ_INT(inl.v, 800LL * PERIOD);
	CHECK_EQ_INT(inl.x, 600LL * PERIOD); /* after "a<b>..." by name */
	CHECK_EQ_STR(inl.title, "inlined_fn (prog) \xe2\x80\x94 8.00s, 40.00%");

	/* The hostile name, escaped everywhere it appears. */
	host = frame(svg, HOSTILE_XML);
	CHECK_EQ_INT(host.count, 1);
	CHECK_EQ_INT(host.d, 3);
	CHECK_EQ_INT(host.x, 0);
	CHECK_EQ_STR(host.module, "libfoo.so");
	CHECK_EQ_STR(host.title, HOSTILE_XML " (libfoo.so) \xe2\x80\x94 6.00s, 30.00%");
	CHECK_EQ_STR(host.text, HOSTILE_XML);
	CHECK(strstr(svg, HOSTILE) == NULL);
	CHECK(strstr(svg, "a<b>") == NULL);

	/* Control bytes and invalid UTF-8 become U+FFFD. */
	ctl = frame(svg, CONTROL_XML);
	CHECK_EQ_INT(ctl.count, 1);
	CHECK(strchr(svg, '\001') == NULL);
	CHECK(strchr(svg, '\377') == NULL);

	/* Siblings sorted by name: caller, ctl..., libfoo.so+0x2f00, nomap_fn. */
	CHECK_EQ_INT(ctl.x, 1400LL * PERIOD);
	raw = frame(svg, "libfoo.so+0x2f00");
	CHECK_EQ_INT(raw.count, 1);
	CHECK_EQ_INT(raw.x, 1499LL * PERIOD);
	CHECK_EQ_STR(raw.module, "libfoo.so");
	nomap = frame(svg, "nomap_fn");
	CHECK_EQ_INT(nomap.count, 1);
	CHECK_EQ_INT(nomap.x, 1699LL * PERIOD);
	CHECK_EQ_STR(nomap.module, "");
	CHECK_EQ_STR(nomap.title, "nomap_fn \xe2\x80\x94 1.00s, 5.00%");

	/* Colours: grey without a mapping, one hue per module. */
	CHECK(nomap.r == nomap.g && nomap.g == nomap.b);
	CHECK(main_.r != main_.g || main_.g != main_.b);
	CHECK(host.r != main_.r || host.g != main_.g || host.b != main_.b);

	/* 0.05% of the total is below the cut. */
	fi = frame(svg, "tiny");
	CHECK_EQ_INT(fi.count, 0);
	CHECK(strstr(svg, "data-pruned=\"1\"") != NULL);
	CHECK(strstr(svg, "data-frames=\"8\"") != NULL);
	free(svg);
	unlink(path);

	/* Counts print as "N samples". */
	svg = render(p, 0, NULL, path, sizeof(path), &rc);
	CHECK_EQ_INT(rc, 0);
	if (svg) {
		CHECK(xml_well_formed(path));
		CHECK_EQ_STR(frame(svg, "inlined_fn").title,
			     "inlined_fn (prog) \xe2\x80\x94 800 samples, 40.00%");
		CHECK(strstr(svg, ">Flame Graph \xe2\x80\x94 samples</text>") != NULL);
		CHECK(strstr(svg, "data-unit-ns=\"0\" data-unit-label=\"samples\"") != NULL);
	}
	free(svg);
	unlink(path);
out:
	profile_free(p);
}

/* A narrow frame's label is cut with "..." (or left out) to fit its box. */
static void test_truncation(void)
{
	struct profile *p = profile_new();
	struct profile_frame wide = { .name = "a_function_with_a_rather_long_name_indeed" };
	struct profile_frame narrow = { .name = "another_function_with_a_long_name" };
	struct profile_frame tiny = { .name = "tiny_but_visible" };
	uint64_t m, lw, ln, lt;
	char path[512];
	struct frame_info fi;
	char *svg;
	int rc;

	rc = p ? add_types(p) : -ENOMEM;
	rc = rc ? rc : profile_add_mapping(p, 0x1000, 0x2000, 0, "prog", NULL, true, &m);
	rc = rc ? rc : profile_add_location(p, m, 0x1100, &wide, 1, &lw);
	rc = rc ? rc : profile_add_location(p, m, 0x1200, &narrow, 1, &ln);
	rc = rc ? rc : profile_add_location(p, m, 0x1300, &tiny, 1, &lt);
	rc = rc ? rc : add(p, &lw, 1, 9000);
	rc = rc ? rc : add(p, &ln, 1, 900);  /* 106 px */
	rc = rc ? rc : add(p, &lt, 1, 20);   /* 2.4 px */
	CHECK_EQ_INT(rc, 0);
	svg = rc ? NULL : render(p, 1, "t", path, sizeof(path), &rc);
	CHECK_EQ_INT(rc, 0);
	if (svg) {
		CHECK_EQ_STR(frame(svg, wide.name).text, wide.name);
		fi = frame(svg, narrow.name);
		CHECK(strlen(fi.text) > 3 && strlen(fi.text) < strlen(narrow.name));
		CHECK(strcmp(fi.text + strlen(fi.text) - 3, "...") == 0);
		CHECK(strncmp(fi.text, narrow.name, strlen(fi.text) - 3) == 0);
		fi = frame(svg, tiny.name);
		CHECK_EQ_INT(fi.count, 1);
		CHECK_EQ_STR(fi.text, "");
		unlink(path);
	}
	free(svg);
	profile_free(p);
}

/* Deeper stacks end in one "[truncated]" frame at the depth cap; a stack
 * exactly as deep as the cap keeps its leaf. */
static void test_depth_cap(void)
{
	struct profile *p = profile_new();
	struct profile_frame f = { .name = "recurse" }, last = { .name = "last" };
	uint64_t m, l, ll, *stack = calloc(1500, sizeof(*stack));
	char path[512], key[64];
	char *svg = NULL;
	size_t i;
	int rc;

	rc = p && stack ? add_types(p) : -ENOMEM;
	rc = rc ? rc : profile_add_mapping(p, 0x1000, 0x2000, 0, "/bin/deep", NULL, true, &m);
	rc = rc ? rc : profile_add_location(p, m, 0x1100, &f, 1, &l);
	for (i = 0; i < 1500 && stack; i++)
		stack[i] = l;
	rc = rc ? rc : add(p, stack, 1500, 3);
	rc = rc ? rc : profile_add_location(p, m, 0x1200, &last, 1, &ll);
	if (stack)
		stack[0] = ll;
	rc = rc ? rc : add(p, stack, 1024, 2);
	CHECK_EQ_INT(rc, 0);
	if (!rc)
		svg = render(p, 1, "deep", path, sizeof(path), &rc);
	CHECK_EQ_INT(rc, 0);
	if (svg) {
		CHECK(xml_well_formed(path));
		CHECK_EQ_INT(frame(svg, "[truncated]").count, 1);
		CHECK_EQ_INT(frame(svg, "[truncated]").d, 1024);
		CHECK_EQ_INT(frame(svg, "[truncated]").v, 3LL * PERIOD);
		CHECK_EQ_INT(frame(svg, "last").d, 1024);
		CHECK_EQ_INT(frame(svg, "recurse").count, 1023);
		snprintf(key, sizeof(key), "data-d=\"%d\"", 1025);
		CHECK(strstr(svg, key) == NULL);
		unlink(path);
	}
	free(svg);
	free(stack);
	profile_free(p);
}

/* No samples: a valid document with the root alone; bad arguments. */
static void test_edges(void)
{
	struct profile *p = profile_new();
	char path[512];
	char *svg;
	int rc;

	CHECK_EQ_INT(p ? add_types(p) : -ENOMEM, 0);
	svg = render(p, 1, "empty", path, sizeof(path), &rc);
	CHECK_EQ_INT(rc, 0);
	if (svg) {
		CHECK(xml_well_formed(path));
		CHECK_EQ_INT(frame(svg, "all").count, 1);
		CHECK_EQ_STR(frame(svg, "all").title, "all \xe2\x80\x94 0ns, 0.00%");
		unlink(path);
	}
	free(svg);
	CHECK_EQ_INT(fmt_svg_flamegraph(p, 2, "x", stdout), -EINVAL);
	CHECK_EQ_INT(fmt_svg_flamegraph(p, -1, "x", stdout), -EINVAL);
	CHECK_EQ_INT(fmt_svg_flamegraph(NULL, 0, "x", stdout), -EINVAL);
	profile_free(p);
}

int main(void)
{
	test_graph();
	test_truncation();
	test_depth_cap();
	test_edges();
	return check_done();
}
