#!/usr/bin/env python3
"""Fidelity, case 4a: C++ (fixtures/fidelity/cxx/cxx.hpp).

fid_cxx's threads, each on CPU:
  "tmpl":  fid::detail::kernel(double) (always_inline: a frame of its own,
           marked inlined), the lambda of fid::Grid<double, 4>::sweep<
           fid::Twice>(int), void fid::apply<...>(...), that sweep,
           tmpl_run(), tmpl_thread
  "dtor":  fid::Guard::~Guard() running while an exception unwinds through
           dtor_scope(): ~Guard; dtor_scope(); dtor_thread
  "catch": catch_spin(fid::Oops const&) inside catch_scope()'s handler:
           catch_spin; catch_scope(); catch_thread

Expected: each thread's chain in >= 85% of its samples (tmpl: >= 50% with
the inlined kernel frame on top, the rest in the lambda's own code), >= 95%
reaching start_thread; every name is what c++filt makes of the frame's
system_name, which stays the mangled name (pprof's Function.system_name).
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 3
LAMBDA = "fid::Grid<double, 4>::sweep<fid::Twice>(int)::{lambda(double)#1}::operator()(double) const"
SWEEP = "void fid::Grid<double, 4>::sweep<fid::Twice>(int)"
KERNEL = "fid::detail::kernel(double)"
CHAINS = {
    "tmpl": [LAMBDA, None, SWEEP, "tmpl_run()", "tmpl_thread"],
    "dtor": ["fid::Guard::~Guard()", "dtor_scope()", "dtor_thread"],
    "catch": ["catch_spin(fid::Oops const&)", "catch_scope()", "catch_thread"],
}


def chain_ok(names, chain):
    """names (leaf first, the inlined kernel dropped) start with chain; None
    in chain matches one frame whose name starts with "void fid::apply<"."""
    if names and names[0] == KERNEL:
        names = names[1:]
    if len(names) < len(chain):
        return False
    for n, c in zip(names, chain):
        if c is None:
            if not n.startswith("void fid::apply<"):
                return False
        elif n != c:
            return False
    return True


def main(ctx):
    ctx.require_pprobe()
    fixture = fid.start(ctx, "fid_cxx")
    what = "fid_cxx: pprobe -seconds %d" % SECONDS
    prof = fid.record(ctx, fixture, SECONDS, what)
    for thread, chain in CHAINS.items():
        samples = prof.of_thread(thread)
        tag = "%s, thread %s" % (what, thread)
        fid.check_share(ctx, prof, samples, lambda s, c=chain: chain_ok(s.names(), c), 0.85,
                        tag, "stack " + ";".join(c or "fid::apply<...>" for c in chain))
        fid.check_share(ctx, prof, samples, lambda s: fid.reaches_entry(s.names()), 0.95, tag,
                        "a stack reaching start_thread")
    tmpl = prof.of_thread("tmpl")
    fid.check_share(ctx, prof, tmpl, lambda s: len(s.frames) > 1 and s.frames[0].name == KERNEL
                    and s.frames[0].inlined and s.frames[1].name == LAMBDA, 0.50,
                    what + ", thread tmpl", "the inlined %s above the lambda" % KERNEL)

    # Names are c++filt's reading of the kept mangled names.
    pairs = {}
    for s in prof.samples:
        for f in s.frames:
            if f.system_name.startswith("_Z"):
                pairs[f.system_name] = f.name
    if not ctx.check(pairs, "%s: expected frames with mangled system names" % what):
        return
    mangled = sorted(pairs)
    out = subprocess.run(["c++filt"], input="\n".join(mangled) + "\n", capture_output=True,
                         text=True, timeout=30).stdout.splitlines()
    wrong = [(m, pairs[m], d) for m, d in zip(mangled, out) if pairs[m] != d]
    ctx.check(not wrong, "%s: expected names as c++filt demangles the system names, got "
              "(system_name, name, c++filt) %s" % (what, wrong[:5]))
    ctx.note("%s: %d mangled system names checked against c++filt" % (what, len(mangled)))
    for name in ("fid::Guard::~Guard()", SWEEP, LAMBDA):
        sysnames = {f.system_name for s in prof.samples for f in s.frames if f.name == name}
        ctx.check(sysnames and all(x.startswith("_Z") for x in sysnames),
                  "%s: expected %s's system_name to be its mangled name, got %s"
                  % (what, name, sysnames))


if __name__ == "__main__":
    harness.run(main)
