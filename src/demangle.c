/* demangle.c - symbol demangling (see demangle.h).
 *
 * Rust names (v0 "_R..." and legacy "_ZN...17h<hash>E") go through our own
 * demangler (demangle_rust.c); C++ names through the C++ runtime's
 * (libstdc++'s __cxa_demangle), which is what c++filt and gdb agree with.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/demangle.h"
#include "pprobe/demangle_rust.h"

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Rust's legacy mangling is Itanium with a last path element "h" + 16 hex
 * digits; the demangled form ends in "::h0123456789abcdef". */
static void demangle_strip_rust_hash(char *s)
{
	size_t n = strlen(s);

	if (n < 19 || strncmp(s + n - 19, "::h", 3))
		return;
	for (size_t i = n - 16; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return;
	s[n - 19] = '\0';
}

char *demangle_name(const char *name)
{
	int status = 0;
	char *out;

	if (!name)
		return NULL;
	/* Rust first: legacy Rust symbols are also valid Itanium names, but
	 * only the Rust demangler decodes their $LT$-style escapes. */
	out = demangle_rust(name);
	if (out || !strncmp(name, "_R", 2))
		return out;
	if (strncmp(name, "_Z", 2))
		return NULL;
	out = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0 || !out) {
		free(out);
		return NULL;
	}
	demangle_strip_rust_hash(out);
	return out;
}
