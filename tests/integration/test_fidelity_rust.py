#!/usr/bin/env python3
"""Fidelity, case 4b: Rust, both symbol manglings (fixtures/fidelity/rust).

fid_rust_v0 and fid_rust_legacy are the same program built with rustc's
v0 and legacy manglings.  Its thread "rs-hot" runs, on CPU:

  v0:      fid::hot_leaf; <fid::Engine<u64>>::spin;
           <fid::Sq as fid::Work>::work; fid::drive::<fid::Sq>::{closure#0};
           fid::drive::<fid::Sq>; fid::worker; (std's thread start);
           start_thread
  legacy:  fid::hot_leaf; fid::Engine<T>::spin; <fid::Sq as fid::Work>::work;
           fid::drive::{{closure}}; fid::drive; fid::worker; ...

Expected, for each: that chain in >= 85% of rs-hot's samples (below the
standard library's functions inlined into hot_leaf, frames of their own), >= 90%
reaching start_thread; each name of a frame whose system_name is a Rust
symbol is what `nm --demangle` (binutils 2.40 decodes both schemes) prints
for that symbol in the binary, and the system_name stays mangled ("_R..."
or "_ZN...17h<hash>E").
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
CHAINS = {
    "v0": ["fid::hot_leaf", "<fid::Engine<u64>>::spin", "<fid::Sq as fid::Work>::work",
           "fid::drive::<fid::Sq>::{closure#0}", "fid::drive::<fid::Sq>", "fid::worker"],
    "legacy": ["fid::hot_leaf", "fid::Engine<T>::spin", "<fid::Sq as fid::Work>::work",
               "fid::drive::{{closure}}", "fid::drive", "fid::worker"],
}


def nm_demangled(ctx, path):
    """{mangled: nm --demangle's name} for the symbols of path."""
    raw = fid.run_tool(ctx, ["nm", path]).stdout.splitlines()
    dem = fid.run_tool(ctx, ["nm", "--demangle", path]).stdout.splitlines()
    if len(raw) != len(dem):
        raise harness.Failure("nm and nm --demangle of %s list %d and %d symbols"
                              % (path, len(raw), len(dem)))
    out = {}
    for a, b in zip(raw, dem):
        pa, pb = a.split(None, 2), b.split(None, 2)
        if len(pa) == 3 and len(pb) == 3:
            out[pa[2]] = pb[2]
    return out


def below_inlined_std(names):
    """names without the leading frames of the standard library's functions
    inlined into the leaf (core::hint::black_box, <u64>::wrapping_add,
    Range's next), which pprobe shows as frames of their own."""
    i = 0
    while i < len(names) - 1 and re.match(r"<?(core|std|alloc)::|<u64[ >]", names[i]):
        i += 1
    return names[i:]


def is_rust_symbol(s):
    return s.startswith("_R") or (s.startswith("_ZN") and "17h" in s)


def check(ctx, mangling):
    name = "fid_rust_" + mangling
    fixture = fid.start(ctx, name, tool="rustc")
    what = "%s: pprobe -seconds %d" % (name, SECONDS)
    prof = fid.record(ctx, fixture, SECONDS, what)
    samples = prof.of_thread("rs-hot")
    chain = CHAINS[mangling]
    fid.check_share(ctx, prof, samples, lambda s: [n for n in s.names() if n in chain] == chain
                    and below_inlined_std(s.names())[0] == chain[0], 0.85, what,
                    "stack " + ";".join(chain))
    fid.check_share(ctx, prof, samples, lambda s: fid.reaches_entry(s.names()), 0.90, what,
                    "a stack reaching start_thread")
    nm = nm_demangled(ctx, fixture.path)
    seen, wrong, unknown = 0, [], set()
    for s in prof.samples:
        for f in s.frames:
            if not is_rust_symbol(f.system_name):
                continue
            if f.system_name not in nm:
                unknown.add(f.system_name)   # an inlined function: no symbol of its own
                continue
            seen += 1
            if f.name != nm[f.system_name]:
                wrong.append((f.system_name, f.name, nm[f.system_name]))
    ctx.note("%s: %d Rust frames checked against nm --demangle (%d inlined ones without a "
             "symbol)" % (what, seen, len(unknown)))
    ctx.check(seen and not wrong, "%s: expected Rust names as nm --demangle prints them, got "
              "(system_name, name, nm) %s" % (what, sorted(set(wrong))[:5]))
    prefix = "_R" if mangling == "v0" else "_ZN"
    for fn in chain:
        sysnames = {f.system_name for s in samples for f in s.frames if f.name == fn}
        ctx.check(sysnames and all(x.startswith(prefix) for x in sysnames),
                  "%s: expected %s's system_name to be its mangled %s name, got %s"
                  % (what, fn, mangling, sysnames))
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    fid.fixture_path(ctx, "fid_rust_v0", tool="rustc")
    check(ctx, "legacy")
    check(ctx, "v0")


if __name__ == "__main__":
    harness.run(main)
