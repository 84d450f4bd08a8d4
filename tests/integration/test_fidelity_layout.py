#!/usr/bin/env python3
"""Fidelity, case 2: how the program was linked and loaded.

The chain of fixtures/fidelity/chain (main -> chain_outer -> chain_middle ->
chain_hot on CPU; "parked" in read(2)) built as
  fid_chain          PIE
  fid_chain_nopie    -no-pie (ET_EXEC at a fixed address)
  fid_chain_static   glibc -static (no .eh_frame_hdr: GCC links static
                     executables without --eh-frame-hdr)
  fid_chain_musl     musl-gcc -static (Debian's musl-tools)
  fid_chain_musl_dyn musl-gcc, dynamic (musl's libc.so, its own loader)
and fid_dlopen, which dlopen()s libfid_plug_a.so and libfid_plug_b.so in
turn, runs plug_X_run -> plug_X_hot in each for ~20 ms and dlclose()s it,
all through the sampling window.

Each chain variant: >= 90% of the main thread's samples have the stack
chain_hot;chain_middle;chain_outer;main and >= 95% reach the entry point; a
dump shows the parked thread's stack down to its start (through musl's
read(), which has neither CFI nor a frame pointer: the unwinder's stack scan;
for the dynamic one into musl's libc.so, whose thread start has no symbol).  fid_dlopen: both
plugins' hot functions are named (each >= 25% of samples), >= 85% of all
samples have a full plug_X_hot;plug_X_run;dl_cycle;main stack, and every
plug_X frame is in libfid_plug_X.so's mapping (no name from a library that
was unloaded from the same addresses).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
CHAIN = ["chain_hot", "chain_middle", "chain_outer", "main"]
PARK = ["fid_block_read", "chain_park_wait", "chain_park_thread"]
KNOWN = set(CHAIN) | set(PARK)


def check_chain(ctx, name, tool=None, start_module=None):
    """start_module: the parked thread's start lives in that library and has
    no name there (musl's libc.so keeps only its dynamic symbols); its stack
    must go on into it past chain_park_thread instead of naming an entry."""
    fixture = fid.start(ctx, name, tool=tool)
    what = "%s: pprobe -seconds %d" % (name, SECONDS)
    prof = fid.record(ctx, fixture, SECONDS, what)
    samples = [s for s in prof.samples if s.labels.get("tid") == str(fixture.pid)]
    fid.check_share(ctx, prof, samples, lambda s: fid.reduce(s.names(), KNOWN) ==
                    ";".join(CHAIN), 0.90, what, "stack " + ";".join(CHAIN))
    fid.check_share(ctx, prof, samples, lambda s: fid.reaches_entry(s.names()), 0.95, what,
                    "a stack reaching the entry point")
    dwhat = "%s: pprobe dump" % name
    doc, _ = fid.dump(ctx, fixture, dwhat)
    t = fid.dump_thread(doc, fixture.tid("parked"))
    names = fid.frame_names(t) if t else []
    ctx.check(fid.reduce(names, KNOWN) == ";".join(PARK),
              "%s: parked thread: expected %s, got %s" % (dwhat, ";".join(PARK), names))
    if start_module:
        frames = t["frames"] if t else []
        outer = [f for f in frames[names.index(PARK[-1]) + 1:]] if PARK[-1] in names else []
        ctx.check(outer and names[-1] != fid.TRUNCATED
                  and all(f.get("module") == start_module for f in outer),
                  "%s: parked thread's stack does not go on into %s after %s: %s"
                  % (dwhat, start_module, PARK[-1],
                     [(f.get("function"), f.get("module")) for f in frames]))
    else:
        ctx.check(fid.reaches_entry(names), "%s: parked thread's stack does not reach its "
                  "start: %s" % (dwhat, names))
    fixture.kill()


PLUGS = ("a", "b")


def plug_chain(p):
    return "plug_%s_hot;plug_%s_run;dl_cycle;main" % (p, p)


def maps_text(pid):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return f.read()
    except OSError:
        return ""


def check_dlopen(ctx):
    fixture = fid.start(ctx, "fid_dlopen")
    # The fixture really loads and unloads: each library is seen mapped and
    # seen gone.
    seen = {(p, present): False for p in PLUGS for present in (True, False)}

    def cycled():
        text = maps_text(fixture.pid)
        for p in PLUGS:
            seen[(p, "libfid_plug_%s.so" % p in text)] = True
        return all(seen.values())
    if not harness.wait_for(cycled, 10, interval=0.001):
        raise harness.Failure("fid_dlopen: did not see both libraries loaded and unloaded "
                              "within 10 s: %s" % seen)
    what = "fid_dlopen: pprobe -seconds 3"
    prof = fid.record(ctx, fixture, 3, what)
    known = {"dl_cycle", "main"} | {"plug_%s_%s" % (p, f) for p in PLUGS for f in ("hot", "run")}
    for p in PLUGS:
        fid.check_share(ctx, prof, prof.samples,
                        lambda s, p=p: s.frames and s.frames[0].name == "plug_%s_hot" % p,
                        0.25, what, "leaf plug_%s_hot" % p)
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: fid.reduce(s.names(), known) in (plug_chain("a"), plug_chain("b"))
                    and fid.reaches_entry(s.names()), 0.85, what,
                    "stack plug_X_hot;plug_X_run;dl_cycle;main reaching the entry point")
    wrong = set()
    for s in prof.samples:
        for f in s.frames:
            m = re.fullmatch(r"plug_([ab])_(hot|run)", f.name)
            if m and f.module != "libfid_plug_%s.so" % m.group(1):
                wrong.add((f.name, f.module))
    ctx.check(not wrong, "%s: expected each plug_X frame in libfid_plug_X.so, got "
              "(name, module) %s" % (what, sorted(wrong)))
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    check_chain(ctx, "fid_chain")
    check_chain(ctx, "fid_chain_nopie")
    check_chain(ctx, "fid_chain_static")
    check_dlopen(ctx)
    # Last: the only part that may be skipped.
    check_chain(ctx, "fid_chain_musl", tool="musl-gcc (Debian's musl-tools)")
    check_chain(ctx, "fid_chain_musl_dyn", tool="musl-gcc (Debian's musl-tools)",
                start_module="libc.so")


if __name__ == "__main__":
    harness.run(main)
