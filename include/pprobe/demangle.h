/* demangle.h - readable names for C++ and Rust symbols. */
#ifndef PPROBE_DEMANGLE_H
#define PPROBE_DEMANGLE_H

/* A malloc'd demangled copy of name (Itanium C++, Rust v0 and Rust's legacy
 * scheme, whose trailing ::h<hash> is dropped), or NULL when name is not
 * mangled. */
char *demangle_name(const char *name);

#endif
