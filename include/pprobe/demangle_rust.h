/* demangle_rust.h - readable names for Rust symbols, both manglings.
 *
 * Rust's v0 scheme ("_R...", RFC 2603) is its own grammar, which the C++
 * runtime's demangler does not know; the legacy scheme is an Itanium
 * nested name ("_ZN...17h<16 hex digits>E") whose elements carry Rust's
 * own escapes ($LT$, $u7b$, "..") that __cxa_demangle leaves as they are.
 * Both are decoded here, into the form `nm --demangle` (binutils) and
 * rustc-demangle's alternate form ("{:#}") print: no crate disambiguator
 * hashes, no legacy "::h<hash>", no integer type suffix on const generics,
 * no vendor suffix (".llvm.1234").
 *
 * Symbol names are hostile input (they come from the target's files):
 * lengths, numbers and back-references are bounds-checked, recursion is
 * capped and so is the size of the result, which back-references could
 * otherwise make exponential; anything malformed gives NULL.
 */
#ifndef PPROBE_DEMANGLE_RUST_H
#define PPROBE_DEMANGLE_RUST_H

/* The demangled form of a v0 symbol ("_R..."), malloc'd (the caller frees
 * it), or NULL if sym is not a well-formed v0 symbol or is too large. */
char *demangle_rust_v0(const char *sym);

/* The demangled form of a legacy Rust symbol (an Itanium "_ZN...E" nested
 * name whose last element is the "h" + 16 hex digit hash), without the
 * hash, malloc'd; NULL if sym is not one (C++ names included) or uses an
 * escape this decoder does not know. */
char *demangle_rust_legacy(const char *sym);

/* Either of the above, by the symbol's prefix; NULL when sym is not Rust. */
char *demangle_rust(const char *sym);

#endif
